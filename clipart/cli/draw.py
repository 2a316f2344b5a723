"""``clipart draw``, ``clipart presets`` and ``clipart models``: argparse over the public drawing API.

Settings are checked once, by :func:`clipart.make_config` (argparse only turns the words into numbers).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import sys
import textwrap
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import clipart
from clipart.batch import read_prompts_file, shard_prompts
from clipart.config import CLIPDRAW_NEGATIVES, DEFAULT_NEGATIVE_WEIGHT
from clipart.drawing import DEFAULT_KINDS, check_png_size, free_seed, plan_outputs

GROUPS = {  # the parts of ``clipart draw --help``: a setting's declared group → its title
    "prompts": "prompts and guides",
    "start": "where a drawing starts (the preset's values unless given)",
    "optimisation": "optimisation (the preset's values unless given)",
    "rates": "learning rates (the preset's values unless given)",
    "machine": "machine",
}
SET_HELP = (
    "set a drawing setting (repeatable), e.g. --set crop_scale=0.5,1 --set color_jitter=0.1: lists and pairs "
    "comma-separated, true or false; the settings without a flag of their own are listed below"
)


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
        epilog='examples: clipart draw "a red apple" --preset quick --seed 3 --out out/\n'
        "          clipart draw --image photo.jpg --preset sketch\n"
        '          clipart draw "a cat" --image cat.png::0.5\n'
        '          clipart draw "a lighthouse" --style starry.png --style-weight 2\n'
        '          clipart draw "a cat" --set crop_scale=0.5,1 --set color_jitter=0.1\n\n' + _set_only_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups = {key: p.add_argument_group(title) for key, title in GROUPS.items()}
    g = groups["prompts"]
    g.add_argument("prompt", nargs="*", help="text(s) to draw; weight one with 'text::2' (or give --image)")
    g.add_argument("--image", action="append", metavar="FILE",
                   help="an image prompt: draw towards this picture (repeatable; weight with 'cat.png::0.5')")  # fmt: skip
    g.add_argument(
        "--negative", action="append", metavar="TEXT", help="a prompt to move away from (repeatable)"
    )
    g.add_argument("--negative-weight", type=float, metavar="W",
                   help=f"weight of negative prompts (a preset's own, else {DEFAULT_NEGATIVE_WEIGHT})")  # fmt: skip
    g.add_argument("--default-negatives", action="store_true",
                   help="add CLIPDraw's two negative prompts at --negative-weight")  # fmt: skip
    g.add_argument("--preset", default=clipart.DEFAULT_PRESET,
                   help=f"named settings, or a .toml file (default: {clipart.DEFAULT_PRESET})")  # fmt: skip
    g.add_argument(
        "--model",
        action="append",
        metavar="SPEC",
        help="guide model; repeat for an ensemble (default: clipart-mini)",
    )
    g.add_argument(
        "--pretrained",
        action="append",
        metavar="TAG",
        help="pretrained tag or file for the --model in the same place",
    )
    _add_setting_flags(p, groups)
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help=SET_HELP)
    g = p.add_argument_group("output")
    g.add_argument("--prompts-file", metavar="FILE",
                   help="draw every prompt of FILE (one a line, '#' comments, 'text::2' weights) into the --out folder, "
                   "loading the guide once; shared by rank under torchrun; prompts whose files exist are skipped "
                   "unless --force")  # fmt: skip
    g.add_argument("--out",
                   help="output file (.svg/.png/.json/.gif), refused if it exists unless --force, or folder (a path "
                   "ending in / always is), where a drawing takes a free name: <prompt>-s<seed>, or -2 when that "
                   "of a --seed is taken; default ./clipart-out/")  # fmt: skip
    g.add_argument("--png-size", type=int, metavar="PX", help="PNG size in px (default: the canvas size)")
    g.add_argument("--gif", action="store_true", help="also write an animation of the optimisation")
    g.add_argument("--force", action="store_true",
                   help="overwrite the files the drawing names (the --out file, or <prompt>-s<seed> in the folder, "
                   "seed 0 unless given) instead of refusing or taking a free name")  # fmt: skip
    mode = g.add_mutually_exclusive_group()
    mode.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    mode.add_argument("--jsonl", action="store_true", help="progress as JSON lines on stdout")
    p.set_defaults(func=_cmd_draw)


def _flagged() -> dict[str, Any]:
    """The settings with a flag of their own: name → its declaration."""
    settings = clipart.DrawConfig.settings().items()
    return {name: about for name, about in settings if about.flag is not None and not about.given_by}


def _flag(name: str, about: Any) -> str:
    return about.flag or f"--{name.replace('_', '-')}"


def _add_setting_flags(parser: argparse.ArgumentParser, groups: dict[str, Any]) -> None:
    """A flag for each setting declared with one (:class:`clipart.DrawConfig`), in its group's part of the help
    (``groups``: group → argument group; a group not there gets a part of its own). Not given: None."""
    hints, quick = clipart.DrawConfig.hints(), clipart.load_preset(clipart.DEFAULT_PRESET)
    for name, about in _flagged().items():
        if about.group not in groups:
            groups[about.group] = parser.add_argument_group(about.group)
        groups[about.group].add_argument(
            _flag(name, about),
            dest=name,
            type=_reader(hints[name]),
            choices=about.choices or None,
            metavar=about.metavar or None,
            help=_describe(name, about, hints[name], quick).replace("%", "%%"),
        )


def _describe(name: str, about: Any, hint: Any, quick: dict[str, Any]) -> str:
    """A setting's help: what it does, its unit and values (choices only where no flag lists them), and its
    default (the ``quick`` preset's value, or the setting's own)."""
    unit = f", {about.unit}" if about.unit else ""
    values = "" if about.choices and about.flag is not None else about.values(_reader(hint) is int)
    values = f"; {values}" if values else ""
    return f"{about.help}{unit}{values} {_default(name, about, quick)}".replace("`", "")  # no Markdown marks


def _default(name: str, about: Any, quick: dict[str, Any]) -> str:
    """The help's "(default: ...)": the ``quick`` preset's value, or the setting's own."""
    if name in quick:
        return f"(default: the preset's; {clipart.DEFAULT_PRESET}: {_text(quick[name])})"
    field = next(f for f in dataclasses.fields(clipart.DrawConfig) if f.name == name)
    own = about.cli_default or about.default_words or _text(field.default)
    return f"(default: the preset's, else {own})" if about.in_presets else f"(default: {own})"


def _text(value: Any) -> str:
    """A value as it is typed on the command line."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(_text, value))
    if isinstance(value, bool):
        return str(value).lower()
    return "''" if value == "" else str(value)


def _set_only_help() -> str:
    """The epilog's list of the settings that only ``--set`` reaches, each with its help."""
    hints, quick = clipart.DrawConfig.hints(), clipart.load_preset(clipart.DEFAULT_PRESET)
    width = max(60, shutil.get_terminal_size().columns - 2)  # as argparse's own
    lines = ["settings without a flag of their own (--set NAME=VALUE):"]
    for name, about in clipart.DrawConfig.settings().items():
        if about.flag is None and not about.given_by:
            text = _describe(name, about, hints[name], quick)
            lines += textwrap.wrap(text, width, initial_indent=f"  {name:<14} ", subsequent_indent=" " * 17)
    return "\n".join(lines)


def _defaults() -> dict[str, Any]:
    """Each drawing setting's default value."""
    return {f.name: f.default for f in dataclasses.fields(clipart.DrawConfig)}


def _reader(hint: Any) -> Callable[[str], Any]:
    """What turns a word of the command line into a value of the type ``hint``: ``int``, ``float``, ``str``, a
    boolean (true/false), or a list or pair of them written comma-separated (``0.7,0.9``)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return _reader(args[0])
    if typing.get_origin(hint) in (list, tuple):
        each = _reader(args[0])
        kind = list if typing.get_origin(hint) is list else tuple

        def several(text: str) -> Any:
            value = kind(each(word.strip()) for word in text.split(",")) if text.strip() else kind()
            if kind is tuple and len(value) != len(args):
                raise ValueError(text)
            return value

        several.__name__ = f"comma-separated {each.__name__}"
        if kind is tuple:
            several.__name__ = f"{len(args)} comma-separated {each.__name__}s"
        return several
    if hint is bool:
        return _boolean
    return hint if hint in (int, float) else str


def _boolean(text: str) -> bool:
    words = {"true": True, "false": False}
    if text.strip().lower() not in words:
        raise ValueError(text)
    return words[text.strip().lower()]


_boolean.__name__ = "true/false"


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The drawing settings of the command line, for :func:`clipart.make_config` (None: not given); a bad
    ``--set`` is a ConfigError in one line."""
    negatives = list(args.negative or [])
    if args.default_negatives:
        negatives += list(CLIPDRAW_NEGATIVES)
    settings = {name: getattr(args, name) for name in _flagged()}
    settings.update(_set_values(args.set or [], settings))
    return dict(
        image=args.image,
        preset=args.preset,
        negatives=negatives or None,
        negative_weight=args.negative_weight,
        model=args.model,
        pretrained=args.pretrained,
        **settings,
    )


def _set_values(items: list[str], flags: dict[str, Any]) -> dict[str, Any]:
    """``--set NAME=VALUE`` words as settings, each VALUE read by its setting's type."""
    declared, hints = clipart.DrawConfig.settings(), clipart.DrawConfig.hints()
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise clipart.ConfigError(
                f"--set takes NAME=VALUE, e.g. --set color_jitter=0.1, got {_short(item)!r}"
            )
        if name not in declared:
            raise clipart.ConfigError(
                f"--set: unknown setting {_short(name)!r} (clipart draw --help lists the settings)"
            )
        if declared[name].given_by:
            raise clipart.ConfigError(f"--set: {name} is set by {declared[name].given_by}, not --set")
        if flags.get(name) is not None or name in values:
            own = f"{_flag(name, declared[name])} or " if name in flags else ""
            raise clipart.ConfigError(f"{name} is given twice: give it once ({own}--set {name}=...)")
        reader = _reader(hints[name])
        try:
            values[name] = reader(text)
        except ValueError:
            if typing.get_origin(hints[name]) is tuple:  # a pair: say how it is written
                example = ",".join(f"{v:g}" for v in _defaults()[name])
                raise clipart.ConfigError(
                    f"--set {name} takes {reader.__name__}, e.g. --set {name}={example}, got {_short(text)!r}"
                ) from None
            raise clipart.ConfigError(
                f"--set {name}: invalid {reader.__name__} value: {_short(text)!r}"
            ) from None
    return values


def _cmd_draw(args: argparse.Namespace) -> int:
    if args.prompts_file:
        return _cmd_batch(args)
    settings = _settings(args)
    cfg = clipart.make_config(list(args.prompt), **settings, animate=True if args.gif else None)
    if args.png_size is not None:
        check_png_size(args.png_size)  # before the drawing, not after it
    kinds = [*DEFAULT_KINDS, *(["gif"] if args.gif else [])]
    name = cfg.prompts[0] if cfg.prompts else Path(cfg.images[0]).stem
    if settings["seed"] is None and not args.force:  # a second run makes a new drawing beside the first
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
