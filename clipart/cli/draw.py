"""``clipart draw``, ``clipart presets`` and ``clipart models``: argparse over the public drawing API.

Settings are checked once, by :func:`clipart.make_config` (argparse only turns the words into numbers).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import clipart
from clipart.batch import read_prompts_file, shard_prompts
from clipart.config import CLIPDRAW_NEGATIVES, DEFAULT_NEGATIVE_WEIGHT
from clipart.drawing import DEFAULT_KINDS, check_png_size, free_seed, plan_outputs


def _config_defaults() -> dict[str, Any]:
    """Every DrawConfig field's default (the dataclass, without importing torch)."""
    fields = dataclasses.fields(clipart.DrawConfig)
    return {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}


def register(sub: Any) -> None:
    """Add ``draw``, ``presets`` and ``models`` to the ``clipart`` command line."""
    _add_draw(sub)
    p = sub.add_parser("presets", help="list the named settings")
    p.set_defaults(func=_cmd_presets)
    p = sub.add_parser("models", help="list guide models usable offline (embedded, cached)")
    p.add_argument("--all", action="store_true", help="also list every open_clip architecture and tag")
    p.set_defaults(func=_cmd_models)


def _add_draw(sub: Any) -> None:
    p = sub.add_parser(
        "draw",
        help="make a drawing from text",
        description="Make an SVG drawing from text by CLIP-guided Bézier strokes.",
        epilog='Examples: clipart draw "a red circle" --preset quick --seed 3 --out out/\n'
        "          clipart draw --image photo.jpg --preset sketch\n"
        '          clipart draw "a cat" --image cat.png::0.5\n'
        '          clipart draw "a lighthouse" --style starry.png --style-weight 2',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("prompt", nargs="*", help="text(s) to draw; weight one with 'text::2' (or give --image)")
    p.add_argument("--image", action="append", metavar="FILE",
                   help="an image prompt: draw towards this picture (repeatable; weight with 'cat.png::0.5')")  # fmt: skip
    p.add_argument("--style", metavar="FILE", help="a style image: draw with its colours and textures")
    p.add_argument("--style-weight", type=float, metavar="W", help="weight of the style image (1.0)")
    p.add_argument(
        "--negative", action="append", metavar="TEXT", help="a prompt to move away from (repeatable)"
    )
    p.add_argument("--negative-weight", type=float,
                   help=f"weight of negative prompts (a preset's own, else {DEFAULT_NEGATIVE_WEIGHT})")  # fmt: skip
    p.add_argument(
        "--default-negatives",
        action="store_true",
        help="add CLIPDraw's two negative prompts at --negative-weight",
    )
    p.add_argument("--preset", default=clipart.DEFAULT_PRESET,
                   help=f"named settings, or a .toml file (default: {clipart.DEFAULT_PRESET})")  # fmt: skip
    p.add_argument(
        "--model", action="append", help="guide model; repeat for an ensemble (default: clipart-mini)"
    )
    p.add_argument(
        "--pretrained", action="append", help="pretrained tag or file for the --model in the same place"
    )
    q = {**_config_defaults(), **clipart.load_preset(clipart.DEFAULT_PRESET)}

    def dflt(key: str) -> str:
        return f"(default: the preset's; {clipart.DEFAULT_PRESET}: {q[key]})"

    p.add_argument(
        "--strokes", type=int, metavar="N", help=f"Bézier strokes of a random start {dflt('strokes')}"
    )
    p.add_argument("--steps", type=int, metavar="N", help=f"optimisation steps {dflt('steps')}")
    p.add_argument("--size", type=int, help=f"canvas size in px during optimisation {dflt('size')}")
    p.add_argument("--views", type=int, help=f"augmented views per step {dflt('views')}")
    p.add_argument("--candidates", type=int, help="optimise K drawings together, keep the best (1)")
    p.add_argument("--seed", type=int,
                   help="random seed: same seed and settings, same SVG (default: 0, or the next seed whose files "
                   "are not yet in the output folder, so that a second run makes a new drawing)")  # fmt: skip
    p.add_argument("--prune", type=float, metavar="TOL",
                   help="at the end, drop the strokes the guide can spare while its score of the drawing stays "
                   f"within this fraction of the full drawing's; 0: off {dflt('prune')}")  # fmt: skip
    p.add_argument("--init", dest="init_svg", metavar="SVG", help="start from the strokes of an SVG file")
    p.add_argument("--start", choices=("random", "icon"),
                   help="start from random strokes, or from the open icon whose name the guide finds nearest to the "
                   f"prompt {dflt('start')}")  # fmt: skip
    p.add_argument("--icon-pen", metavar="COLOUR",
                   help="redraw an icon start's strokes (--start icon) in this colour at the preset's init width, e.g. #000000; "
                   "'' keeps the icon's own (default: the preset's; sketch: #000000, quick: '')")  # fmt: skip
    p.add_argument("--background", help="canvas colour, e.g. #ffffff (default: white, or the colour of the setting an icon "
                   "start's prompt names: 'at night' is dark blue)")  # fmt: skip
    p.add_argument(
        "--lr-points",
        type=float,
        metavar="LR",
        help=f"Adam rate of the points from random strokes, px {dflt('lr_points')}",
    )
    p.add_argument(
        "--lr-widths",
        type=float,
        metavar="LR",
        help=f"Adam rate of the widths from random strokes, px {dflt('lr_widths')}",
    )
    p.add_argument(
        "--lr-colors",
        type=float,
        metavar="LR",
        help=f"Adam rate of the colours from random strokes {dflt('lr_colors')}",
    )
    for part, what in (("points", "points, px"), ("widths", "widths, px"), ("colors", "colours")):
        p.add_argument(f"--icon-lr-{part}", type=float, metavar="LR",
                       help=f"Adam rate of the {what}, from an icon {dflt(f'icon_lr_{part}')}")  # fmt: skip
    p.add_argument("--device", help="auto (CUDA, then MPS, then CPU; the default), cpu, cuda[:N], mps; under torchrun "
                   "auto and cuda mean cuda:LOCAL_RANK")  # fmt: skip
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads (default: the cores other work leaves free; the sidecar records the count)")  # fmt: skip
    p.add_argument("--prompts-file", metavar="FILE",
                   help="draw every prompt of FILE (one a line, '#' comments, 'text::2' weights) into the --out folder, "
                   "loading the guide once; shared by rank under torchrun; prompts whose files exist are skipped "
                   "unless --force")  # fmt: skip
    p.add_argument("--out",
                   help="output file (.svg/.png/.json/.gif), refused if it exists unless --force, or folder (a path "
                   "ending in / always is), where a drawing takes a free name: <prompt>-s<seed>, or -2 when that "
                   "of a --seed is taken; default ./clipart-out/")  # fmt: skip
    p.add_argument("--png-size", type=int, help="PNG size in px (default: the canvas size)")
    p.add_argument("--gif", action="store_true", help="also write an animation of the optimisation")
    p.add_argument("--force", action="store_true",
                   help="overwrite the files the drawing names (the --out file, or <prompt>-s<seed> in the folder, "
                   "seed 0 unless given) instead of refusing or taking a free name")  # fmt: skip
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    mode.add_argument("--jsonl", action="store_true", help="progress as JSON lines on stdout")
    p.set_defaults(func=_cmd_draw)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The drawing settings of the command line, for :func:`clipart.make_config` (None: not given)."""
    negatives = list(args.negative or [])
    if args.default_negatives:
        negatives += list(CLIPDRAW_NEGATIVES)
    return dict(
        image=args.image,
        style=args.style,
        style_weight=args.style_weight,
        preset=args.preset,
        negatives=negatives or None,
        negative_weight=args.negative_weight,
        model=args.model,
        pretrained=args.pretrained,
        strokes=args.strokes,
        steps=args.steps,
        size=args.size,
        views=args.views,
        candidates=args.candidates,
        seed=args.seed,
        prune=args.prune,
        init_svg=args.init_svg,
        start=args.start,
        icon_pen=args.icon_pen,
        background=args.background,
        lr_points=args.lr_points,
        lr_widths=args.lr_widths,
        lr_colors=args.lr_colors,
        icon_lr_points=args.icon_lr_points,
        icon_lr_widths=args.icon_lr_widths,
        icon_lr_colors=args.icon_lr_colors,
        device=args.device,
        threads=args.threads,
    )


def _cmd_draw(args: argparse.Namespace) -> int:
    if args.prompts_file:
        return _cmd_batch(args)
    cfg = clipart.make_config(list(args.prompt), **_settings(args), animate=True if args.gif else None)
    if args.png_size is not None:
        check_png_size(args.png_size)  # before the drawing, not after it
    kinds = [*DEFAULT_KINDS, *(["gif"] if args.gif else [])]
    name = cfg.prompts[0] if cfg.prompts else Path(cfg.images[0]).stem
    if args.seed is None and not args.force:  # a second run makes a new drawing beside the first
        cfg = dataclasses.replace(cfg, seed=free_seed(args.out, name, cfg.seed))
    inputs = [*cfg.images, cfg.style, cfg.init_svg]
    paths = plan_outputs(args.out, name, cfg.seed, kinds, args.force, inputs=inputs)
    if (
        not args.quiet
        and not args.jsonl
        and args.model is None
        and [m.kind for m in cfg.models] == ["embedded"]
    ):
        print(f"clipart: using the embedded model {cfg.models[0]} (--model picks another)", file=sys.stderr)

    bar = None
    event = None
    try:
        for event in clipart.steps(config=cfg):
            if args.jsonl:
                _jsonl(step=event.step, total=event.total, loss=_number(event.loss, 5),
                       elapsed=round(event.elapsed, 3))  # fmt: skip
            elif not args.quiet:
                if bar is None:
                    from tqdm import tqdm

                    bar = tqdm(total=event.total, unit="step", desc="drawing", file=sys.stderr)
                bar.set_postfix(loss=f"{event.loss:.4f}", refresh=False)  # shown by the update: one 100% line
                bar.update(1)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        if event is None:
            print("clipart: interrupted before the first step; nothing written", file=sys.stderr)
            return 130
        written = event.drawing().save_all(paths, png_size=args.png_size, force=args.force)
        print(
            f"clipart: interrupted at step {event.step}; saved the drawing so far to {written['svg']} "
            f"(seed {cfg.seed})",
            file=sys.stderr,
        )
        return 130
    finally:
        if bar is not None:
            bar.close()
    assert event is not None
    drawing = event.drawing()
    written = drawing.save_all(paths, png_size=args.png_size, force=args.force)
    if args.jsonl:
        _jsonl(done=True, files={k: str(v) for k, v in written.items()}, seed=cfg.seed, credit=drawing.credit)
    elif not args.quiet:
        print(f"wrote {', '.join(str(v) for v in written.values())} (seed {cfg.seed})", file=sys.stderr)
        if drawing.credit:
            print(drawing.credit, file=sys.stderr)
    return 0


def _number(value: float, digits: int) -> float | None:
    """A number for a JSON line: rounded, and null when it is not finite (JSON has no NaN)."""
    return round(value, digits) if math.isfinite(value) else None


def _jsonl(**record: Any) -> None:
    """One JSON line on stdout; once stdout is gone (a reader that stopped), the drawing goes on without it."""
    try:
        print(json.dumps(record, allow_nan=False), flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _cmd_batch(args: argparse.Namespace) -> int:
    """``clipart draw --prompts-file FILE``: this process's share of the prompts, then a summary table."""
    if args.prompt or args.image:
        raise clipart.ConfigError("give prompts on the command line or in --prompts-file, not both")
    if args.png_size is not None:
        check_png_size(args.png_size)
    prompts = read_prompts_file(args.prompts_file)
    mine, rank, world = shard_prompts(prompts)
    rows = []
    batch = clipart.draw_batch(
        prompts,
        args.out,
        force=args.force,
        gif=args.gif,
        png_size=args.png_size,
        **_settings(args),
    )
    where = f" (process {rank + 1} of {world})" if world > 1 else ""
    say = not args.quiet and not args.jsonl
    if say:
        print(f"clipart: {len(mine)} of {len(prompts)} prompts to draw{where}", file=sys.stderr)
    try:
        for k, result in enumerate(batch, start=1):
            rows.append(result)
            if args.jsonl:
                _jsonl(line=result.prompt.line, prompt=result.prompt.text, status=result.status,
                       seconds=round(result.seconds, 2), error=result.error, note=result.note,
                       files={kind: str(path) for kind, path in result.files.items()})  # fmt: skip
            if say:
                detail = result.error or result.note or str(result.files.get("svg", ""))
                print(f"[{k}/{len(mine)}] line {result.prompt.line} {_short(result.prompt.words)!r}: {result.status} "
                      f"{detail}", file=sys.stderr, flush=True)  # fmt: skip
            elif result.status == "failed":  # --quiet and --jsonl still say what failed
                print(f"clipart: error: line {result.prompt.line} {_short(result.prompt.words)!r}: {result.error}",
                      file=sys.stderr, flush=True)  # fmt: skip
    except (clipart.OutputError, KeyboardInterrupt) as e:
        if say:
            _summary(rows, where)
        drawn = sum(r.status == "drawn" for r in rows)
        stop = f"error: {e}" if isinstance(e, clipart.OutputError) else "interrupted"
        print(
            f"clipart: {stop}; the batch stopped after {drawn} drawn (run it again to go on)", file=sys.stderr
        )
        return 1 if isinstance(e, clipart.OutputError) else 130
    if say:
        _summary(rows, where)
    failed = sum(r.status == "failed" for r in rows)
    return 1 if failed else 0


def _short(text: str, most: int = 40) -> str:
    return text if len(text) <= most else f"{text[: most - 1]}…"


def _summary(rows: list[Any], where: str) -> None:
    """The batch's table on stderr: one row a prompt, then the counts."""
    width = max([len(_short(r.prompt.words)) for r in rows] + [6])
    print(f"\n{'line':>5}  {'prompt':<{width}}  {'status':<8} {'seconds':>8}  {'loss':>8}", file=sys.stderr)
    for r in rows:
        loss = f"{r.loss:8.4f}" if r.loss is not None else f"{'':>8}"
        print(
            f"{r.prompt.line:>5}  {_short(r.prompt.words):<{width}}  {r.status:<8} {r.seconds:8.1f}  {loss}",
            file=sys.stderr,
        )
    counts = {s: sum(r.status == s for r in rows) for s in ("drawn", "skipped", "failed")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()) + where, file=sys.stderr)


def _cmd_presets(args: argparse.Namespace) -> int:
    presets = clipart.list_presets()
    width = max(map(len, presets))
    for name, description in presets.items():
        print(f"{name:<{width}}  {description}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    for spec, description in clipart.list_models():
        print(f"{spec}  —  {description}")
    if args.all:
        print("\nopen_clip architectures and pretrained tags (downloaded on first use):")
        for name, tag in clipart.list_architectures():
            print(f"  --model {name} --pretrained {tag}")
    return 0
