"""Build the clipart-mini data set: emoji, shapes and handwritten digits, with captions and zero-shot eval sets.

``python recipes/minidata.py --out DIR`` writes, under DIR::

    images/...                 PNG pictures (--size px square, RGB)
    train.csv, val.csv         filepath,caption (paths relative to DIR)
    eval_emoji.csv, eval_emoji_sketch.csv, eval_colours.csv, eval_shapes.csv, eval_digits.csv
                               filepath,label: held-out pictures for zero-shot classification
    manifest.json              settings, counts, class lists and suggested prompt templates

The build is deterministic given its settings (same seed → byte-identical files) and is written to a temporary
folder beside DIR that replaces DIR only when complete. Only stdlib imports here: the heavy ones load on use.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from clipart.errors import ClipartError

FONT_HELP = (
    "the Noto Color Emoji font was not found: install it with `apt-get install fonts-noto-color-emoji` "
    "(Debian/Ubuntu; `dnf install google-noto-emoji-color-fonts` on Fedora) or pass --font PATH/NotoColorEmoji.ttf"
)
FONT_PATHS = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/google-noto-emoji/NotoColorEmoji.ttf",
    "/usr/share/fonts/noto-emoji/NotoColorEmoji.ttf",
    "/usr/local/share/fonts/NotoColorEmoji.ttf",
    "~/.local/share/fonts/NotoColorEmoji.ttf",
    "~/.fonts/NotoColorEmoji.ttf",
    "~/Library/Fonts/NotoColorEmoji.ttf",
)
DIGITS_SPLIT_SEED = 20240601  # the held-out digits are the same for every --seed
DIGITS_HELD_OUT = 0.2
TABLES = ("train", "val")
EVAL_SETS = ("emoji", "emoji_sketch", "colours", "shapes", "digits")
_CHUNKS = {"emoji": 24, "shapes": 1000, "digits": 120, "pairs": 500}


def find_font(path: str | os.PathLike[str] | None = None) -> Path:
    """The emoji font: ``path`` if given, else ``$CLIPART_EMOJI_FONT``, else the usual system locations."""
    if path is not None:
        found = Path(path).expanduser()
        if not found.is_file():
            raise ClipartError(f"font file {found} does not exist; {FONT_HELP}")
        return found
    candidates = [os.environ.get("CLIPART_EMOJI_FONT", ""), *FONT_PATHS]
    for candidate in candidates:
        if candidate and Path(candidate).expanduser().is_file():
            return Path(candidate).expanduser()
    raise ClipartError(FONT_HELP)


def _require_extras() -> None:
    try:
        import emoji  # noqa: F401
        import numpy  # noqa: F401
        import PIL  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise ClipartError(
            f"{exc.name} is missing: install the training extras with pip install 'clipart[train]'"
        ) from exc


def list_emoji(font: Path, limit: int | None = None) -> list[tuple[str, str]]:
    """(character, label) of every single-code-point emoji the font can draw, in code-point order."""
    import emoji
    import minidata_draw as draw
    import minidata_text as text

    try:
        draw.render_glyph("\U0001f600", str(font))
    except OSError as exc:
        raise ClipartError(f"cannot use {font} as the emoji font ({exc}); {FONT_HELP}") from exc
    found: list[tuple[str, str]] = []
    for char in sorted(c for c in emoji.EMOJI_DATA if len(c) == 1):
        if emoji.EMOJI_DATA[char].get("status") == emoji.STATUS["component"]:
            continue
        if draw.render_glyph(char, str(font)) is not None:
            found.append((char, text.emoji_label(emoji.EMOJI_DATA[char]["en"])))
        if limit is not None and len(found) >= limit:
            break
    if not found:
        raise ClipartError(f"{font} drew no emoji (is it a colour emoji font?); {FONT_HELP}")
    return found


def digit_split() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Indices of load_digits for training and held out: a fixed, stratified 80/20 split."""
    import numpy as np
    from sklearn.datasets import load_digits

    targets = load_digits().target
    rng = np.random.default_rng(DIGITS_SPLIT_SEED)
    held: list[int] = []
    for digit in range(10):
        members = np.flatnonzero(targets == digit)
        held += rng.choice(members, size=round(len(members) * DIGITS_HELD_OUT), replace=False).tolist()
    held_set = set(held)
    return tuple(i for i in range(len(targets)) if i not in held_set), tuple(sorted(held_set))


def _chunks(kind: str, total: int, step: int) -> Iterator[tuple[str, int, int]]:
    for start in range(0, total, step):
        yield kind, start, min(total, start + step)


def _prepare_out(out: Path, overwrite: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ClipartError(f"{out} exists and is not empty: pick another --out or pass --overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished build into place; an old DIR is removed only after the new one is there."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / "data")
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old)


def _write_csv(path: Path, header: tuple[str, str], rows: Iterable[tuple[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def build_mini(
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    size: int = 64,
    per_emoji: int = 24,
    shapes: int = 20000,
    per_digit: int = 8,
    pairs: int = 6000,
    eval_per_class: int = 50,
    emoji_limit: int | None = None,
    font: str | os.PathLike[str] | None = None,
    workers: int = 1,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Build the data set into ``out`` and return the manifest (counts, settings, eval classes).

    Held-out data: one colour and one sketch-like render of every emoji (``eval_emoji*``), ``eval_per_class``
    shapes on white per colour and per shape, and 20% of load_digits (a fixed split); val.csv captions all of
    them plus held-out pictures of shapes and pairs.
    """
    if not 32 <= size <= 256:
        raise ClipartError(f"--size {size} is out of range: use 32 to 256 pixels")
    if (
        min(per_emoji, shapes, per_digit, pairs, eval_per_class) < 0
        or workers < 1
        or (emoji_limit is not None and emoji_limit < 2)
    ):
        raise ClipartError("counts must be >= 0, --emoji-limit >= 2 and --workers >= 1")
    _require_extras()
    font_path = find_font(font)
    out = Path(out).expanduser().resolve()
    _prepare_out(out, overwrite)

    import minidata_jobs as jobs
    import minidata_text as text

    started = time.monotonic()
    emoji = list_emoji(font_path, emoji_limit)
    digits_train, digits_eval = digit_split()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    plan = jobs.Plan(
        str(tmp), seed, size, str(font_path), tuple(emoji), per_emoji, digits_train, digits_eval, per_digit
    )
    per_class = eval_per_class
    units = [
        *_chunks("emoji", len(emoji), _CHUNKS["emoji"]),
        *_chunks("shapes", shapes, _CHUNKS["shapes"]),
        *_chunks("shapes_val", max(shapes // 20, 1) if shapes else 0, _CHUNKS["shapes"]),
        *_chunks("colours_eval", per_class * len(text.COLOURS), _CHUNKS["shapes"]),
        *_chunks("shapes_eval", per_class * len(text.SHAPES), _CHUNKS["shapes"]),
        *_chunks("digits", len(digits_train) if per_digit else 0, _CHUNKS["digits"]),
        *_chunks("digits_eval", len(digits_eval), _CHUNKS["digits"]),
        *_chunks("pairs", pairs, _CHUNKS["pairs"]),
        *_chunks("pairs_val", max(pairs // 20, 1) if pairs else 0, _CHUNKS["pairs"]),
    ]
    tables: dict[str, list[tuple[str, str]]] = {}
    try:
        for done, rows in enumerate(_run(jobs.run_unit, [(plan, *unit) for unit in units], workers), 1):
            for table, path, value in rows:
                tables.setdefault(table, []).append((path, value))
            if progress is not None:
                progress(done, len(units))
        for table in TABLES:
            _write_csv(tmp / f"{table}.csv", ("filepath", "caption"), tables.get(table, []))
        for name in EVAL_SETS:
            _write_csv(tmp / f"eval_{name}.csv", ("filepath", "label"), tables.get(f"eval_{name}", []))
        manifest = _manifest(plan, font_path, tables)
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        _publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest["seconds"] = round(time.monotonic() - started, 1)
    return manifest


def _run(func: Callable[[Any], Any], items: list[Any], workers: int) -> Iterator[Any]:
    if workers == 1 or len(items) < 2:
        yield from map(func, items)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(func, items)


def _manifest(plan: Any, font: Path, tables: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    import minidata_text as text

    classes = {
        "emoji": [label for _, label in plan.emoji],
        "emoji_sketch": [label for _, label in plan.emoji],
        "colours": list(text.COLOURS),
        "shapes": list(text.SHAPES),
        "digits": [str(d) for d in range(10)],
    }
    return {
        "name": "clipart-mini data",
        "seed": plan.seed,
        "size": plan.size,
        "font": font.name,
        "per_emoji": plan.per_emoji,
        "per_digit": plan.per_digit,
        "counts": {table: len(rows) for table, rows in sorted(tables.items())},
        "eval": {
            name: {
                "csv": f"eval_{name}.csv",
                "classes": classes[name],
                "templates": text.EVAL_TEMPLATES[name],
            }
            for name in EVAL_SETS
        },
        "licences": {
            "Noto Color Emoji": "Apache-2.0 / SIL OFL 1.1",
            "emoji (names)": "BSD-3-Clause",
            "scikit-learn load_digits": "BSD-3-Clause",
        },
    }


def _handle(args: argparse.Namespace) -> int:
    def report(done: int, total: int) -> None:
        print(f"\rbuilding clipart-mini data: {done}/{total} parts", end="", file=sys.stderr, flush=True)

    manifest = build_mini(
        args.out,
        seed=args.seed,
        size=args.size,
        per_emoji=args.per_emoji,
        shapes=args.shapes,
        per_digit=args.per_digit,
        pairs=args.pairs,
        eval_per_class=args.eval_per_class,
        emoji_limit=args.emoji_limit,
        font=args.font,
        workers=args.workers,
        overwrite=args.overwrite,
        progress=None if args.quiet else report,
    )
    counts = manifest["counts"]
    if not args.quiet:
        print(file=sys.stderr)
    print(
        f"wrote {args.out}: {counts.get('train', 0)} train, {counts.get('val', 0)} val pictures, "
        f"{len(manifest['eval']['emoji']['classes'])} emoji, in {manifest['seconds']} s"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python recipes/minidata.py --out DIR ...``: build the data set; errors are one line and exit code 2."""
    mini = argparse.ArgumentParser(
        prog="minidata.py",
        description="Build clipart-mini 1's data set: Noto emoji, shapes in named colours, handwritten digits "
        "(needs the Noto Color Emoji font and clipart[train]).",
    )
    mini.add_argument("--out", required=True, help="output folder (created; replaced only with --overwrite)")
    mini.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    mini.add_argument("--size", type=int, default=64, help="picture size in pixels (default 64)")
    mini.add_argument("--per-emoji", type=int, default=24, help="training renders per emoji (default 24)")
    mini.add_argument("--shapes", type=int, default=20000, help="training pictures of shapes (default 20000)")
    mini.add_argument("--per-digit", type=int, default=8, help="training renders per digit (default 8)")
    mini.add_argument("--pairs", type=int, default=6000, help="training pictures of two emoji (default 6000)")
    mini.add_argument(
        "--eval-per-class",
        type=int,
        default=50,
        help="held-out pictures per colour and per shape (default 50)",
    )
    mini.add_argument(
        "--emoji-limit", type=int, default=None, help="use only the first N emoji (for quick tries)"
    )
    mini.add_argument("--font", default=None, help="path to NotoColorEmoji.ttf (default: system fonts)")
    mini.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    mini.add_argument("--overwrite", action="store_true", help="replace an existing, non-empty --out folder")
    mini.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = mini.parse_args(argv)
    try:
        return _handle(args)
    except ClipartError as exc:
        print(f"minidata.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
