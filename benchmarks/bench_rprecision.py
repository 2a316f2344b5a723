"""Do drawings show what was asked for? R-precision of the default drawings, scored by a judge that never guides.

Draws every prompt of :data:`PROMPTS` (60 everyday things) with several seeds and the given preset, then asks
the judge (``benchmarks/rprecision-judge/``: a CLIP with a ConvNeXt image tower, trained by ``clipart train`` apart from the
guide, with its own seed and renders, on icon sets that neither the icon bank ships nor the guide learns: see
``recipes/judge.py --cycles 0``) to rank all 60 prompts for each drawing. A drawing counts when its own prompt ranks first
(R-precision, the protocol VectorFusion used with a CLIP not used for optimisation). Baseline in the same run:
the same drawings after their first step (the icon start, or random strokes). Chance is 1/60.

    python benchmarks/bench_rprecision.py [--seeds 3] [--preset quick] [--set views=8 ...] [--out DIR]

``--out`` saves every drawing as PNG and a contact sheet (``sheet.png``, prompts hidden in ``sheet.txt``) to
show a person. ``--rescore DIR`` judges the drawings that an earlier ``--out DIR`` saved again, without drawing
(seconds; no step-1 baseline): figures from another judge for the same drawings. ``--prompt-list FILE`` draws
and ranks another list instead: tune settings on ``benchmarks/tune_prompts.txt`` (30 other everyday things), never
on the 60, which then measure the chosen settings once.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path
from types import ModuleType

import torch
from PIL import Image, ImageDraw

JUDGE = Path(__file__).resolve().parent / "rprecision-judge"
PROMPTS: tuple[str, ...] = (
    "a horse", "a cupcake", "a cat", "a dog", "a lighthouse", "a sailboat", "a teapot", "an owl", "a violin",
    "a volcano", "an apple", "a rocket", "a penguin", "a house", "a tree", "a car", "a bicycle", "a guitar",
    "a fish", "a bird", "an umbrella", "a banana", "a pizza", "a snowman", "a butterfly", "an elephant", "a lion",
    "a rabbit", "a frog", "a turtle", "a snail", "an octopus", "a whale", "a spider", "a crab", "a strawberry",
    "a watermelon", "a pineapple", "a carrot", "a mushroom", "a key", "a pair of scissors", "a hammer",
    "a camera", "a book", "a pencil", "an airplane", "a bus", "a train", "an anchor", "a castle", "a tent",
    "the moon", "the sun", "a rainbow", "a cactus", "a crown", "a ghost", "a robot", "an ice cream",
)  # fmt: skip


def noun(prompt: str) -> str:
    """'a pair of scissors' -> 'scissors', 'an owl' -> 'owl', 'the moon' -> 'moon'."""
    return re.sub(r"^(a pair of|an|a|the) ", "", prompt)


class Judge:
    """The judge CLIP and the text features of the prompts it ranks (the benchmark's 60 unless given)."""

    def __init__(self, folder: Path = JUDGE, prompts: tuple[str, ...] = PROMPTS):
        import open_clip

        self.model, _, self.preprocess = open_clip.create_model_and_transforms(f"local-dir:{folder}")
        self.model.eval()
        tokenizer = open_clip.get_tokenizer(f"local-dir:{folder}")
        with torch.no_grad():
            text = self.model.encode_text(tokenizer(list(prompts)))
        self.text = text / text.norm(dim=-1, keepdim=True)

    def ranks(self, image: Image.Image) -> torch.Tensor:
        """Each prompt's rank (0 = first) for ``image``."""
        with torch.no_grad():
            feats = self.model.encode_image(self.preprocess(image.convert("RGB"))[None])
            scores = (feats / feats.norm(dim=-1, keepdim=True) @ self.text.T)[0]
        return scores.argsort(descending=True).argsort()


def contact_sheet(images: list[Image.Image], columns: int = 10, size: int = 128) -> Image.Image:
    """The drawings in a grid, numbered, without their prompts."""
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * size, rows * (size + 14)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, image in enumerate(images):
        x, y = (k % columns) * size, (k // columns) * (size + 14)
        sheet.paste(image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS), (x, y + 14))
        draw.text((x + 2, y + 1), str(k + 1), fill="black")
    return sheet


def parse_sets(items: list[str], parser: argparse.ArgumentParser) -> dict:
    """``--set KEY=VALUE`` options (JSON values) as drawing options; a usage error for a bad one."""
    options = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            parser.error(
                f"--set {item!r}: give KEY=VALUE with a JSON value, e.g. views=8 or 'crop_scale=[0.5,0.9]'"
            )
    return options


def read_prompt_list(path: Path, parser: argparse.ArgumentParser) -> tuple[str, ...]:
    """The prompts of ``path``, one a line (blank lines and ``#`` comments skipped); a usage error unless there
    are at least two, all different."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"--prompt-list {path}: cannot read it ({exc.__class__.__name__})")
    prompts = tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
    if len(prompts) < 2 or len(set(prompts)) < len(prompts):
        parser.error(f"--prompt-list {path}: give at least two prompts, each once")
    return prompts


def _file_name(prompt: str, seed: int) -> str:
    return f"{prompt.replace(' ', '-')}-s{seed}.png"


def _draw(
    clipart: ModuleType, prompt: str, seed: int, preset: str, options: dict
) -> tuple[Image.Image, Image.Image]:
    """The drawing after its last step and after its first (random strokes), as 224 px images."""
    first = last = None
    for event in clipart.steps(prompt, preset=preset, seed=seed, **options):
        if first is None:
            first = event.scene
        last = event
    drawing = last.drawing()
    return drawing.png(224), clipart.Drawing(first, drawing.config, 0.0, 0).png(224)


def main() -> int:
    """Draw, judge, print the table and the R-precision against the step-1 baseline."""
    import clipart

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per prompt (3)")
    parser.add_argument(
        "--first-seed", type=int, default=0, help="first seed (0): more seeds for a run that has some"
    )
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--model", action="append", help="guide model(s) (default: the preset's)")
    parser.add_argument("--prompts", type=int, help="only the first N prompts (quick tries)")
    parser.add_argument(
        "--start", type=int, default=0, help="skip the first K prompts (to split a run over processes)"
    )
    parser.add_argument("--judge", type=Path, default=JUDGE, help="the judge's open_clip folder")
    parser.add_argument(
        "--prompt-list",
        type=Path,
        metavar="FILE",
        help="draw these prompts instead (one a line; the judge ranks among them): tune on such a set, e.g. "
        "benchmarks/tune_prompts.txt, so that the 60 benchmark prompts choose nothing",
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a drawing option")
    parser.add_argument("--out", type=Path, help="save the drawings and a contact sheet here")
    parser.add_argument(
        "--rescore", type=Path, metavar="DIR", help="judge the drawings saved by --out DIR again"
    )
    args = parser.parse_args()
    options = parse_sets(args.set, parser)
    prompts = read_prompt_list(args.prompt_list, parser) if args.prompt_list else PROMPTS
    args.prompts = len(prompts) if args.prompts is None else args.prompts
    if not 1 <= args.prompts <= len(prompts) or not 0 <= args.start < args.prompts or args.seeds < 1:
        parser.error(f"--prompts must be 1..{len(prompts)}, --start 0..prompts-1 and --seeds at least 1")
    if args.first_seed < 0:
        parser.error("--first-seed must be 0 or more")
    if not (args.judge / "open_clip_config.json").is_file():
        parser.error(f"no judge in {args.judge}: train it with `python recipes/judge.py`")
    if args.model:
        options["model"] = args.model
    # Bad settings or guides: one usage line before the judge loads and anything is drawn.
    if not args.rescore:
        try:
            config = clipart.make_config(prompts[0], preset=args.preset, **options)
            for spec in config.models:
                clipart.load_model(spec, device=config.device)
        except clipart.ClipartError as exc:
            parser.error(str(exc))
    todo = list(
        itertools.product(
            prompts[args.start : args.prompts], range(args.first_seed, args.first_seed + args.seeds)
        )
    )
    if args.rescore:
        if args.model or args.set:
            parser.error("--rescore judges drawings already made: --model and --set do not apply to it")
        missing = [f for p, seed in todo if not (args.rescore / (f := _file_name(p, seed))).is_file()]
        if missing:
            parser.error(
                f"{args.rescore} lacks {missing[0]} ({len(missing)} drawings missing): match its --seeds/--prompts"
            )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    judge = Judge(args.judge, prompts)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    hits = base_hits = top5 = total = 0
    rank_sum = 0
    finals: list[Image.Image] = []
    names: list[str] = []
    t0 = time.perf_counter()
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; preset {args.preset} {' '.join(args.set)}"
    )
    print(f"{'prompt':<20} {'seed':>4}  {'rank (step 1)':>13} {'rank':>5}  judge's first choice")
    for prompt, seed in todo:
        k = prompts.index(prompt)
        if args.rescore:
            image, ranks0 = Image.open(args.rescore / _file_name(prompt, seed)), None
        else:
            image, start = _draw(clipart, prompt, seed, args.preset, options)
            ranks0 = judge.ranks(start)
        ranks = judge.ranks(image)
        best = prompts[int(ranks.argmin())]
        hits += int(ranks[k] == 0)
        base_hits += int(ranks0 is not None and ranks0[k] == 0)
        rank_sum += int(ranks[k])
        top5 += int(ranks[k] < 5)
        total += 1
        finals.append(image)
        names.append(f"{len(names) + 1}: {prompt} (seed {seed})")
        if args.out:
            image.save(args.out / _file_name(prompt, seed))
        rank0 = "-" if ranks0 is None else int(ranks0[k]) + 1
        print(f"{prompt:<20} {seed:>4}  {rank0:>13} {int(ranks[k]) + 1:>5}  {best}", flush=True)
    if args.out:
        contact_sheet(finals).save(args.out / "sheet.png")
        (args.out / "sheet.txt").write_text("\n".join(names) + "\n")
    rate, base = hits / total, base_hits / total
    baseline = (
        f"after step 1: not saved, rescored; chance {1 / len(prompts):.1%})"
        if args.rescore
        else f"after step 1: {base_hits}/{total} = {base:.1%}; chance {1 / len(prompts):.1%}); ratio "
        f"{rate / max(base, 1 / total):.1f}x"
    )
    print(
        f"\nR-precision: {hits}/{total} = {rate:.1%} ({baseline}; mean rank {rank_sum / total + 1:.1f} "
        f"of {len(prompts)}; own prompt in the judge's top 5: {top5}/{total}; {time.perf_counter() - t0:.0f} s; load "
        f"{os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
