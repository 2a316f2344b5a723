"""Rebuild the gallery: draw every prompt below with the embedded model, write SVG + PNG, and an index page.

Run from the repository root: ``python gallery/make_gallery.py [--steps N]``. Each entry's command is written
beside it in ``gallery/README.md``, so any drawing can be reproduced on its own.
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path

import clipart
from clipart.output import slug

HERE = Path(__file__).parent
PROMPTS: list[tuple[str, dict[str, object]]] = [
    ("the digit 3", {"preset": "sketch"}),
    ("the digit 7", {"preset": "sketch"}),
    ("a red circle", {}),
    ("a blue square", {}),
    ("a yellow star", {}),
    ("a green triangle", {}),
    ("a horse face", {}),
    ("a cat face", {}),
    ("a cupcake", {}),
    ("a slice of pizza", {}),
    ("a red apple", {}),
    ("a rocket", {}),
    ("a house", {"preset": "painting"}),
    ("a horse eating a cupcake", {}),
    ("a cat next to a pizza", {}),
    ("a dog face next to a bone", {}),
]


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
    for prompt, opts in PROMPTS:
        if args.steps:
            opts = {**opts, "steps": args.steps}
        t0 = time.perf_counter()
        drawing = clipart.draw(prompt, seed=args.seed, **opts)
        took = time.perf_counter() - t0
        stem = slug(prompt)
        drawing.save(HERE / f"{stem}.svg", force=True)
        drawing.save(HERE / f"{stem}.png", size=224, force=True)
        rows.append((prompt, stem, command(prompt, opts, args.seed), took))
        print(f"{prompt:<32} {took:6.1f} s")
    lines = [
        "# Gallery",
        "",
        "Drawings by the embedded model (clipart-mini) on a CPU, made by `python gallery/make_gallery.py`.",
        "Each SVG is the real output; the PNG beside it is the same SVG rasterised by clipart.",
        "",
        "| drawing | prompt and command | time |",
        "|---|---|---|",
    ]
    for prompt, stem, cmd, took in rows:
        lines.append(f"| ![{prompt}]({stem}.png) | **{prompt}**<br>`{cmd}` | {took:.0f} s |")
    (HERE / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
