"""Hard negatives for the embedded guide: drawings that a guide made for icon concepts, captioned as scribbles.

    python recipes/negatives.py --model DIR --captions DATA/icons/train.csv --out NEG [--drawings 400]

A small guide rewards tangles of strokes that no person would name: its gradients find patterns it has never
been taught to reject. This stage draws, with that very guide and clipart's own loop, pictures of random concepts
of its training captions and keeps snapshots along the way (after 40, 80 and 120 steps); a `clipart train` run
from the guide's weights on its data plus these pictures, captioned "a messy scribble", then teaches it to reject
them, so that the next drawings must find something more like the thing itself (REFERENCES.md: hard negatives, a
cheap form of adversarial training). ``clipart_mini.py`` runs it as its ``negatives`` stage, then ``harden``.

The benchmark's 60 prompts (benchmarks/bench_rprecision.py) are never drawn here, so that the benchmark measures
what hardening does for concepts it did not see. Deterministic for a seed; an interrupted run resumes (every
drawing's snapshots are written once, atomically, and skipped when present); ``negatives.csv`` is written last.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from clipart.output import atomic_write

ROOT = Path(__file__).resolve().parent.parent
CAPTION = "a messy scribble"
SNAPSHOTS = (40, 80, 120)
SIZE = 64  # the saved snapshots' size: the embedded guide's input
# The quick preset as it was when the shipped guide was hardened (random strokes, now the freehand preset; its
# views cropped 70-90 % of the render until 2026-12-05), so that the recipe rebuilds those exact drawings.
DRAW_OPTIONS = {
    "preset": "freehand",
    "views": 4,
    "crop_scale": (0.7, 0.9),
    "threads": 1,
    "preview_every": 1000,
}


def benchmark_nouns() -> set[str]:
    """The nouns of the R-precision benchmark's prompts (kept out of the negatives)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_rprecision import PROMPTS, noun

    return {noun(p) for p in PROMPTS}


def pick_prompts(captions: Path, count: int, seed: int) -> list[str]:
    """``count`` distinct training captions, none naming a benchmark noun (ValueError when there are fewer)."""
    banned = benchmark_nouns()
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(n) for n in sorted(banned, key=len, reverse=True)) + r")s?\b"
    )
    with open(captions, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if "caption" not in (reader.fieldnames or []):
            raise ValueError(f"{captions} has no 'caption' column")
        found = sorted({row["caption"] for row in reader})
    usable = [c for c in found if not pattern.search(c) and c != CAPTION]
    if len(usable) < count:
        raise ValueError(f"only {len(usable)} usable captions in {captions}, asked for {count}")
    return random.Random(seed).sample(usable, count)


def _draw_one(job: tuple[int, str, str, Path, int, tuple[int, ...], int]) -> list[str]:
    """Draw one prompt; write its snapshots (64 px PNG, rendered at ``render`` px) and return their file names."""
    from PIL import Image

    import clipart

    index, prompt, model, out, seed, snapshots, render = job
    names = [f"{index:05d}-{s}.png" for s in snapshots]
    if all((out / n).is_file() for n in names):
        return names
    shots = {}
    options = dict(DRAW_OPTIONS, steps=snapshots[-1])
    for event in clipart.steps(prompt, model=model, seed=seed + index, **options):
        if event.step in snapshots:
            shot = event.drawing().png(render).convert("RGB")
            shots[event.step] = (
                shot if render == SIZE else shot.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
            )
    for step, name in zip(snapshots, names, strict=True):
        atomic_write(out / name, lambda f, image=shots[step]: image.save(f, format="PNG"))
    return names


def build(
    model: Path,
    captions: Path,
    out: Path,
    drawings: int,
    seed: int = 0,
    workers: int = 2,
    snapshots: tuple[int, ...] = SNAPSHOTS,
    render: int = SIZE,
) -> Path:
    """Draw the negatives into ``out/images`` and write ``out/negatives.csv`` (filepath,caption); returns it.
    ``snapshots``: the steps whose drawings are kept (the last one ends the drawing); ``render``: the size they
    are rendered at before a Lanczos downsampling to 64 px (SIZE, no resampling, by default)."""
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    prompts = pick_prompts(captions, drawings, seed)
    jobs = [(i, p, f"local-dir:{model}", images, seed, snapshots, render) for i, p in enumerate(prompts)]
    rows: list[tuple[str, str]] = []
    with ProcessPoolExecutor(workers) as pool:
        for done, names in enumerate(pool.map(_draw_one, jobs), 1):
            rows += [(f"images/{n}", CAPTION) for n in names]
            print(f"\rdrew {done}/{len(jobs)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["filepath", "caption"])
    writer.writerows(rows)
    table = out / "negatives.csv"
    atomic_write(table, text.getvalue().encode("utf-8"))
    return table


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="open_clip folder of the guide to harden")
    parser.add_argument("--captions", type=Path, required=True, help="CSV with a caption column")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--drawings", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--render", type=int, default=SIZE, help=f"render at this size, then downsample to {SIZE} px"
    )
    args = parser.parse_args(argv)
    if not (args.model / "open_clip_config.json").is_file():
        parser.error(f"{args.model} holds no open_clip_config.json")
    if not args.captions.is_file():
        parser.error(f"no such file: {args.captions}")
    if args.drawings < 1 or args.workers < 1:
        parser.error("--drawings and --workers must be at least 1")
    if args.render < SIZE:
        parser.error(f"--render must be at least {SIZE}")
    try:
        print(
            build(
                args.model,
                args.captions,
                args.out,
                args.drawings,
                args.seed,
                args.workers,
                render=args.render,
            )
        )
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
