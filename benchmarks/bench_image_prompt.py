"""Do image prompts work? Retrieval accuracy of drawings made from reference images (issue 13, part 1).

Renders the first N colour icons of ``tests/fixtures/heldout_icons.json`` (twemoji: a style clipart-mini never
trained on) at 224 px, draws each one with ``clipart draw --image`` (the given preset, no text), and asks the
guide which of the N references each drawing is closest to. A drawing counts when it is its own reference.
Baseline in the same run: the same drawings after their first step. Chance is 1/N.

    python benchmarks/bench_image_prompt.py [--images 20] [--preset quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "recipes"))


def references(folder: Path, count: int) -> list[tuple[str, Path]]:
    """(concept, PNG path) of the first ``count`` colour icons of the held-out fixture, rendered into ``folder``."""
    import icondata

    fixture = json.loads((ROOT / "tests" / "fixtures" / "heldout_icons.json").read_text())
    out = []
    for prefix, spec in fixture["sets"].items():
        for name, item in spec["icons"].items():
            if item["mono"] or len(out) == count:
                continue
            icon = icondata.Icon(prefix, name, item["concept"], (), False, "eval", item["body"], item["width"],
                                 item["height"])  # fmt: skip
            path = folder / f"{prefix}-{name}.png"
            icondata.render_icon(icon, (0, 0, 0), 224, random.Random(name)).save(path)
            out.append((item["concept"], path))
    return out


def main() -> int:
    """Draw from every reference, rank the references for each drawing, print the table and the accuracy."""
    import clipart
    from clipart.imagefile import as_tensor, open_image
    from clipart.render import render

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--out", type=Path, help="save the references and drawings side by side here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = Path(tempfile.mkdtemp(prefix="bench-image-"))
    refs = references(tmp, args.images)
    if len(refs) < args.images:
        parser.error(f"the fixture holds only {len(refs)} colour icons")
    guide = clipart.load_model(clipart.make_config(image=str(refs[0][1]), preset=args.preset).models[0])
    with torch.no_grad():
        targets = guide.encode_image(
            torch.stack([as_tensor(open_image(p), guide.image_size) for _, p in refs])
        )
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; preset {args.preset}; guide {guide.name}"
    )
    print(f"{'reference':<28} {'rank (step 1)':>13} {'rank':>5}  closest reference")
    hits = base = 0
    pairs = []
    t0 = time.perf_counter()
    for k, (concept, path) in enumerate(refs):
        first = last = None
        for event in clipart.steps(image=str(path), preset=args.preset, seed=0):
            first = first or event.drawing()
            last = event
        drawing = last.drawing()
        ranks = []
        for d in (first, drawing):
            with torch.no_grad():
                sims = (guide.encode_image(render(d.scene, d.config.size)[None]) @ targets.T)[0]
            ranks.append(int((sims > sims[k]).sum()))
        base += int(ranks[0] == 0)
        hits += int(ranks[1] == 0)
        closest = refs[int(sims.argmax())][0]
        print(f"{concept:<28} {ranks[0] + 1:>13} {ranks[1] + 1:>5}  {closest}", flush=True)
        pairs.append((open_image(path), drawing.png(224)))
    n = len(refs)
    print(
        f"\nretrieval accuracy: {hits}/{n} = {hits / n:.0%} (after step 1: {base}/{n} = {base / n:.0%}; chance "
        f"{1 / n:.0%}); {time.perf_counter() - t0:.0f} s; load {os.getloadavg()[0]:.1f}"
    )
    if args.out:
        from PIL import Image

        args.out.mkdir(parents=True, exist_ok=True)
        sheet = Image.new("RGB", (10 * 112, ((n + 9) // 10) * 224), "white")
        for k, (ref, drawn) in enumerate(pairs):
            x, y = (k % 10) * 112, (k // 10) * 224
            sheet.paste(ref.resize((112, 112)), (x, y))
            sheet.paste(drawn.resize((112, 112)), (x, y + 112))
        sheet.save(args.out / "image-prompts.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
