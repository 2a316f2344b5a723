"""Rebuild the gallery: draw every prompt below with the embedded model, write SVG + PNG, and an index page.

Run from the repository root: ``python gallery/make_gallery.py [--steps N]``. Each entry's command is written
beside it in ``gallery/README.md``, so any drawing can be reproduced on its own.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import clipart
from clipart.output import slug

HERE = Path(__file__).parent
PROMPTS: list[tuple[str, dict[str, object]]] = [
    ("a horse eating a cupcake", {}),
    ("a lighthouse", {}),
    ("a sailboat", {}),
    ("a teapot", {}),
    ("an owl", {}),
    ("a cat", {}),
    ("a violin", {}),
    ("a volcano", {}),
    ("a penguin", {}),
    ("an elephant", {}),
    ("a butterfly", {}),
    ("a snowman", {}),
    ("a red apple", {"preset": "sketch"}),
    ("a rocket", {"preset": "sketch"}),
    ("a castle", {"preset": "painting"}),
    # from random strokes, as CLIPDraw draws: the freehand preset and its guide, clipart-mini-draw
    ("a watermelon", {"preset": "freehand"}),
    ("a rainbow", {"preset": "freehand"}),
    # scenes: a colour word recolours its thing, counts, relations and settings lay the icons out
    ("a blue star", {}),
    ("three red balloons", {}),
    ("a cat on a chair at night", {}),
    ("a monkey riding a horse", {}),
    ("two dogs next to a green tent in the snow", {}),
    ("a penguin in the snow", {"background": "none"}),
]


# Contact sheets that benchmarks write here (bench_image_prompt.py, bench_style.py), with their README sections.
SHEETS = {"image-prompts", "style"}


def command(prompt: str, opts: dict[str, object], seed: int) -> str:
    """The CLI command that reproduces one gallery entry."""
    parts = ["clipart", "draw", prompt, "--seed", str(seed)]
    for key, value in opts.items():
        parts += [f"--{key.replace('_', '-')}", str(value)]
    return shlex.join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="override every preset's steps (for a quick look)")
    args = parser.parse_args()
    rows = []
    keep = {slug(prompt) for prompt, _ in PROMPTS} | SHEETS
    for old in [*HERE.glob("*.svg"), *HERE.glob("*.png")]:  # entries no longer listed
        if old.stem not in keep:
            old.unlink()
    for prompt, opts in PROMPTS:
        if args.steps:
            opts = {**opts, "steps": args.steps}
        drawing = clipart.draw(prompt, seed=args.seed, **opts)
        stem = slug(prompt)
        drawing.save(HERE / f"{stem}.svg", force=True)
        drawing.save(HERE / f"{stem}.png", size=224, force=True)
        rows.append((prompt, stem, command(prompt, opts, args.seed)))
        print(prompt, flush=True)
    lines = [
        "# Gallery",
        "",
        "Drawings by the embedded models (clipart-mini; the freehand preset's clipart-mini-draw) on a CPU, made by",
        "`python gallery/make_gallery.py`.",
        "Each SVG is the real output; the PNG beside it is the same SVG rasterised by clipart (a transparent",
        "drawing's PNG has an alpha channel). How long drawings take: BENCHMARKS.md.",
        "",
        "| drawing | prompt and command |",
        "|---|---|",
    ]
    for prompt, stem, cmd in rows:
        lines.append(f"| ![{prompt}]({stem}.png) | **{prompt}**<br>`{cmd}` |")
    readme = HERE / "README.md"
    old = readme.read_text(encoding="utf-8") if readme.exists() else ""
    sections = old[old.index("\n## ") :] if "\n## " in old else ""  # the sheets' sections, kept as they are
    readme.write_text("\n".join(lines) + "\n" + sections, encoding="utf-8")


if __name__ == "__main__":
    main()
