"""Does the optimisation make a drawing better where a person looks? Start against end, shown blind to readers.

    python benchmarks/bench_pairs.py draw --out DIR [--prompts benchmarks/pair_prompts.txt] [--model M] [--preset P]
    # give DIR/READERS.md to two or more readers (people, or helper models) who never saw the prompts' drawings
    python benchmarks/bench_pairs.py score DIR

``draw`` makes each prompt's drawing (seed 0 unless ``--seed``) and saves its start (after the first step) and its end
side by side in an order drawn afresh each run (``pairNN.png``: A on the left, B on the right), the prompts by number
(``prompts.json``) and the readers' task (``READERS.md``) in DIR, and which side is the end in ``DIR-key.json``
beside DIR, outside what readers are given. Each reader writes ``answers-NAME.json``: ``{"1": {"choice": "A" | "B" | "same", "why": "..."}}``.
``score`` counts, per reader, the pairs whose end was preferred, whose start was, and the ties: the optimisation's
own contribution as people see it, beside the judges' start and end figures of bench_scenes.py and
bench_rprecision.py. The default prompt list (``pair_prompts.txt``: 30 scene prompts of counts, colours, relations
and settings) was written for readers and chooses nothing: keep it so.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROMPTS = HERE / "pair_prompts.txt"
READERS = """# Which drawing shows the prompt better?

Each picture `pairNN.png` here shows two drawings made for the same prompt: A on the left, B on the right.
`prompts.json` gives each pair's prompt by its number. Look at nothing else.

For each pair, say which drawing shows its prompt better, as a person would judge it: every thing named, its
count, colour and place, and the setting; then how clearly each thing reads (clean rather than wobbly). Answer "A",
"B", or "same" when you honestly cannot tell them apart or they are equally good. Look closely before answering
"same", but do not invent a difference.

Write `answers-NAME.json` in this folder (NAME: yours): {"1": {"choice": "A", "why": "a few words"}, ...} for
every pair.
"""


def read_prompts(path: Path) -> list[str]:
    """The non-empty lines of a prompt file."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def key_file(out: Path) -> Path:
    """Where ``draw`` keeps the key of the pairs in ``out``: beside the folder, not in it."""
    return out.with_name(out.name + "-key.json")


def draw(prompts: list[str], out: Path, seed: int, options: dict, order_seed: int | None = None) -> None:
    """Draw each prompt, then write the shuffled pair sheets, prompts.json and READERS.md into ``out`` and the key
    (the order's seed, drawn afresh unless given, and which side is the end) to :func:`key_file`."""
    from PIL import Image, ImageDraw

    import clipart
    from clipart.drawing import to_image
    from clipart.render import render

    pictures = []
    for k, prompt in enumerate(prompts, 1):
        first = last = None
        for event in clipart.steps(prompt, seed=seed, **options):
            if first is None:
                first = event.scene
            last = event
        assert first is not None and last is not None
        pictures.append((to_image(render(first, 224)), last.drawing().png(224)))
        print(f"{k}/{len(prompts)} {prompt}", flush=True)
    if order_seed is None:
        order_seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(order_seed)
    numbers = list(range(len(prompts)))
    rng.shuffle(numbers)
    key, shown = {}, {}
    # written here and renamed to ``out`` when whole: no half folder on a failure
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for k, i in enumerate(numbers, 1):
        start, end = pictures[i]
        end_left = rng.random() < 0.5
        key[str(k)] = {"prompt": prompts[i], "A": "end" if end_left else "start"}
        shown[str(k)] = prompts[i]
        sheet = Image.new("RGB", (470, 262), "white")
        pen = ImageDraw.Draw(sheet)
        for x, image in ((6, end if end_left else start), (240, start if end_left else end)):
            sheet.paste(image.convert("RGB"), (x, 30))
        pen.text((6, 4), f"{k}. A (left) | B (right)", fill="black")
        sheet.save(partial / f"pair{k:02d}.png")
    about = {"seed": seed, "order_seed": order_seed, **{k: v for k, v in options.items() if v is not None}}
    (partial / "prompts.json").write_text(json.dumps(shown, indent=1), encoding="utf-8")
    (partial / "READERS.md").write_text(READERS, encoding="utf-8")
    key_file(out).write_text(json.dumps({"drawn": about, "pairs": key}, indent=1), encoding="utf-8")
    partial.replace(out)


def read_answers(folder: Path, numbers: list[str], what: str) -> dict[str, dict]:
    """Each reader's ``answers-NAME.json`` in ``folder``, by NAME; a ValueError names the first of ``numbers`` (the
    ``what``, e.g. "pair") that a reader left unanswered."""
    readers = {}
    for answers in sorted(folder.glob("answers-*.json")):
        try:
            given = json.loads(answers.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{answers.name} is not readable JSON: {exc}") from None
        if not isinstance(given, dict):
            raise ValueError(f'{answers.name} must hold one object: {{"1": ..., "2": ...}}')
        missing = sorted(set(numbers) - set(given), key=int)
        if missing:
            raise ValueError(f"{answers.name} has no answer for {what} {missing[0]} ({len(missing)} missing)")
        readers[answers.name.removeprefix("answers-").removesuffix(".json")] = given
    return readers


def score(folder: Path) -> dict[str, dict[str, int]]:
    """Per reader (``answers-NAME.json``): pairs whose end was preferred, whose start was, the ties."""
    key = json.loads(key_file(folder).read_text(encoding="utf-8"))["pairs"]
    results = {}
    for reader, given in read_answers(folder, list(key), "pair").items():
        tally = {"end": 0, "start": 0, "same": 0}
        for number, pair in key.items():
            choice = str(given[number].get("choice", "")).strip().upper()
            if choice not in ("A", "B", "SAME"):
                raise ValueError(
                    f"answers-{reader}.json, pair {number}: choice {choice!r} is not A, B or same"
                )
            other = "start" if pair["A"] == "end" else "end"
            tally["same" if choice == "SAME" else pair["A"] if choice == "A" else other] += 1
        results[reader] = tally
    return results


def main() -> int:
    """draw or score, as the module docstring says."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("draw", help="draw the prompts and write the blind pair sheets")
    make.add_argument("--out", type=Path, required=True)
    make.add_argument("--prompts", type=Path, default=PROMPTS)
    make.add_argument("--model", help="the guide (default: the preset's)")
    make.add_argument("--preset")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--threads", type=int)
    tally = sub.add_parser("score", help="count the readers' answers in a folder that draw wrote")
    tally.add_argument("folder", type=Path)
    args = parser.parse_args()
    if args.command == "score":
        if not key_file(args.folder).is_file():
            parser.error(f"{key_file(args.folder)} is missing: run draw first")
        try:
            results = score(args.folder)
        except (ValueError, KeyError, AttributeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not results:
            parser.error(f"{args.folder} has no answers-NAME.json yet")
        print(f"{'reader':<12} {'end better':>10} {'start better':>12} {'same':>5}")
        for name, t in results.items():
            print(f"{name:<12} {t['end']:>10} {t['start']:>12} {t['same']:>5}")
        return 0
    if not args.prompts.is_file():
        parser.error(f"no prompt file {args.prompts}")
    try:
        prompts = read_prompts(args.prompts)
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"cannot read {args.prompts}: {exc}")
    if not prompts:
        parser.error(f"{args.prompts} holds no prompt (one a line)")
    if (args.out.exists() and any(args.out.iterdir())) or key_file(args.out).exists():
        parser.error(f"{args.out} is not empty or has a key already: give a new folder")
    options = {"model": args.model, "preset": args.preset, "threads": args.threads}
    draw(prompts, args.out, args.seed, {k: v for k, v in options.items() if v is not None})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
