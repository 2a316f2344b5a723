"""The ``clipart`` command line: a thin face over the public API.

Heavy modules (torch, open_clip) are imported inside the handlers so that ``clipart --help`` is instant.
Errors a user can cause print one line (``clipart: error: ...``) and exit with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from clipart import __version__
from clipart.config import DEFAULT_NEGATIVE_WEIGHT
from clipart.errors import ClipartError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _config_defaults() -> dict[str, Any]:
    """Every DrawConfig field's default (the dataclass, without importing torch)."""
    import dataclasses

    from clipart.config import DrawConfig

    return {f.name: f.default for f in dataclasses.fields(DrawConfig) if f.default is not dataclasses.MISSING}


def _add_draw(sub: Any) -> None:
    p = sub.add_parser(
        "draw",
        help="make a drawing from text",
        description="Make an SVG drawing from text by CLIP-guided Bézier strokes.",
        epilog='Example: clipart draw "a red circle" --preset quick --seed 3 --out out/',
    )
    p.add_argument("prompt", nargs="+", help="text(s) to draw; weight one with 'text::2'")
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
    p.add_argument("--preset", default="quick", help="named settings, or a .toml file (default: quick)")
    p.add_argument(
        "--model", action="append", help="guide model; repeat for an ensemble (default: clipart-mini)"
    )
    p.add_argument(
        "--pretrained", action="append", help="pretrained tag or file for the --model in the same place"
    )
    from clipart.config import DEFAULT_PRESET, load_preset

    q = {**_config_defaults(), **load_preset(DEFAULT_PRESET)}

    def dflt(key: str) -> str:
        return f"(default: the preset's; {DEFAULT_PRESET}: {q[key]})"

    p.add_argument("--strokes", type=_positive_int, metavar="N", help=f"Bézier strokes {dflt('strokes')}")
    p.add_argument("--steps", type=_positive_int, metavar="N", help=f"optimisation steps {dflt('steps')}")
    p.add_argument("--size", type=_positive_int, help=f"canvas size in px during optimisation {dflt('size')}")
    p.add_argument("--views", type=_positive_int, help=f"augmented views per step {dflt('views')}")
    p.add_argument("--candidates", type=_positive_int, help="optimise K drawings together, keep the best (1)")
    p.add_argument("--seed", type=int, default=0, help="random seed: same seed and settings, same SVG (0)")
    p.add_argument("--init", dest="init_svg", metavar="SVG", help="start from the strokes of an SVG file")
    p.add_argument("--background", help="canvas colour, e.g. #ffffff")
    p.add_argument(
        "--lr-points", type=float, metavar="LR", help=f"Adam rate of the points, px {dflt('lr_points')}"
    )
    p.add_argument(
        "--lr-widths", type=float, metavar="LR", help=f"Adam rate of the widths, px {dflt('lr_widths')}"
    )
    p.add_argument(
        "--lr-colors", type=float, metavar="LR", help=f"Adam rate of the colours {dflt('lr_colors')}"
    )
    p.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, mps")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads (default: the cores other work leaves free; the sidecar records the count)")  # fmt: skip
    p.add_argument("--out", help="output folder or file name (.svg/.png/.json/.gif); default ./clipart-out/")
    p.add_argument("--png-size", type=_positive_int, help="PNG size in px (default: the canvas size)")
    p.add_argument("--gif", action="store_true", help="also write an animation of the optimisation")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    mode.add_argument("--jsonl", action="store_true", help="progress as JSON lines on stdout")
    p.set_defaults(func=_cmd_draw)


def _cmd_draw(args: argparse.Namespace) -> int:
    from clipart.config import CLIPDRAW_NEGATIVES, make_config
    from clipart.loop import check_png_size, steps
    from clipart.output import plan_outputs

    negatives = list(args.negative or [])
    if args.default_negatives:
        negatives += list(CLIPDRAW_NEGATIVES)
    cfg = make_config(
        list(args.prompt),
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
        init_svg=args.init_svg,
        background=args.background,
        lr_points=args.lr_points,
        lr_widths=args.lr_widths,
        lr_colors=args.lr_colors,
        device=args.device,
        threads=args.threads,
        animate=True if args.gif else None,
    )
    if args.png_size is not None:
        check_png_size(args.png_size)  # before the drawing, not after it
    kinds = ["svg", "png", "json"] + (["gif"] if args.gif else [])
    paths = plan_outputs(args.out, cfg.prompts[0], cfg.seed, kinds, args.force)
    if not args.quiet and not args.jsonl and cfg.models == ["clipart-mini"] and args.model is None:
        print("clipart: using the embedded model clipart-mini (--model picks another)", file=sys.stderr)

    bar = None
    event = None
    try:
        for event in steps(cfg.prompts, config=cfg):
            if args.jsonl:
                print(
                    json.dumps(
                        {
                            "step": event.step,
                            "total": event.total,
                            "loss": round(event.loss, 5),
                            "elapsed": round(event.elapsed, 3),
                        }
                    ),
                    flush=True,
                )
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
        event.drawing().save_all(paths, png_size=args.png_size)
        print(
            f"clipart: interrupted at step {event.step}; saved the drawing so far to {paths['svg']}",
            file=sys.stderr,
        )
        return 130
    finally:
        if bar is not None:
            bar.close()
    assert event is not None
    drawing = event.drawing()
    drawing.save_all(paths, png_size=args.png_size)
    if args.jsonl:
        print(json.dumps({"done": True, "files": {k: str(v) for k, v in paths.items()}}), flush=True)
    elif not args.quiet:
        print(f"wrote {', '.join(str(v) for v in paths.values())}", file=sys.stderr)
    return 0


def _cmd_presets(args: argparse.Namespace) -> int:
    from clipart.config import list_presets

    presets = list_presets()
    width = max(map(len, presets))
    for name, description in presets.items():
        print(f"{name:<{width}}  {description}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from clipart.models import list_models

    for spec, description in list_models():
        print(f"{spec}  —  {description}")
    if args.all:
        import open_clip

        print("\nopen_clip architectures and pretrained tags (downloaded on first use):")
        for name, tag in open_clip.list_pretrained():
            print(f"  --model {name} --pretrained {tag}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="clipart",
        description="Vector art from text: CLIP-guided Bézier strokes, a CLIP trainer, a web app.",
    )
    parser.add_argument("--version", action="version", version=f"clipart {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_draw(sub)
    p = sub.add_parser("presets", help="list the named settings")
    p.set_defaults(func=_cmd_presets)
    p = sub.add_parser("models", help="list guide models usable offline (embedded, cached)")
    p.add_argument("--all", action="store_true", help="also list every open_clip architecture and tag")
    p.set_defaults(func=_cmd_models)
    from clipart import app
    from clipart.train import commands

    commands.register(sub)
    app.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clipart`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("always", module="clipart")
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except ClipartError as e:
            print(f"clipart: error: {e}", file=sys.stderr)
            return 2


def _show_warning(message: Warning | str, *_: object, **__: object) -> None:
    print(f"clipart: warning: {message}", file=sys.stderr)
