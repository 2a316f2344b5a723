"""Are drawings recognisable, or only adversarial? Draw a fixed list of prompts in clipart-mini's domain with
several seeds, and ask the independent judge (``judge.py``: a CNN classifier that never guides) what it sees.

Baseline, measured in the same run: the judge on the same drawings after their first step (random strokes).
A drawing counts as recognised when the judge's top-1 class over all its concepts is the prompt's concept and,
for coloured shapes, the ink's median colour is the prompt's colour.

Run: ``python benchmarks/bench_judge.py [--seeds 3] [--preset quick] [--steps N] [--set views=8 ...]``
(``--set`` overrides any drawing option, as ``clipart.draw`` takes it, for tuning the defaults).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import judge
from bench_rprecision import parse_sets

import clipart

PROMPTS: list[tuple[str, str, str | None]] = [
    ("the digit three", "digit three", None),
    ("the digit seven", "digit seven", None),
    ("the digit zero", "digit zero", None),
    ("a red circle", "circle", "red"),
    ("a blue square", "square", "blue"),
    ("a green triangle", "triangle", "green"),
    ("a yellow star", "star", "yellow"),
    ("a pink heart", "heart", "pink"),
    ("a horse face", "horse face", None),
    ("a cat face", "cat face", None),
    ("a cupcake", "cupcake", None),
    ("a slice of pizza", "pizza", None),
    ("a red apple", "red apple", None),
    ("a rocket", "rocket", None),
    ("a ghost", "ghost", None),
    ("a banana", "banana", None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--model", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a drawing option")
    args = parser.parse_args()
    options = parse_sets(args.set, parser)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    net = judge.load()
    hits = base_hits = total = 0
    t0 = time.perf_counter()
    print(f"{'prompt':<20} {'seed':>4}  {'judge sees (step 1)':<22} {'judge sees (final)':<26} ok")
    for (prompt, concept, colour), seed in itertools.product(PROMPTS, range(args.seeds)):
        first = last = None
        for event in clipart.steps(
            prompt, preset=args.preset, seed=seed, steps=args.steps, model=args.model, **options
        ):
            if first is None:
                first = event.scene
            last = event
        drawing = last.drawing()
        start = clipart.Drawing(first, drawing.config, 0.0, 0).png(224)
        seen0, _ = judge.classify(net, start)
        seen, prob = judge.classify(net, drawing.png(224))
        ok = seen == concept and (colour is None or judge.ink_colour(drawing.png(224)) == colour)
        ok0 = seen0 == concept and (colour is None or judge.ink_colour(start) == colour)
        hits += ok
        base_hits += ok0
        total += 1
        print(f"{prompt:<20} {seed:>4}  {seen0:<22} {seen + f' ({prob:.2f})':<26} {'yes' if ok else 'no'}")
    rate, base = hits / total, base_hits / total
    print(
        f"\nrecognised by the judge: {hits}/{total} = {rate:.0%} (after step 1: {base_hits}/{total} = "
        f"{base:.0%}; chance {1 / len(judge.CONCEPTS):.0%}); ratio {rate / max(base, 1 / total):.1f}x; "
        f"preset {args.preset} {' '.join(args.set)}; {time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
