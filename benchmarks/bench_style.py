"""Does the style term draw in the style of an image? Styled against plain drawings of the same prompts.

For each prompt, two drawings with the same seed and preset: one plain, one with ``--style`` (a style image made
here: navy with yellow strokes, or ``--style-image FILE``). Each clean render is measured with the guide:
the style distance (the style term's own measure: Gram matrices of the guide's stages), the cosine similarity
of the render to the style image, and to the prompt's text (what the style costs the content). The plain
drawings are the baseline of the same run.

    python benchmarks/bench_style.py [--style-weight 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

PROMPTS = ("a lighthouse", "a cat", "a sailboat", "a tree", "a house", "a fish")


def make_style(path: Path) -> Path:
    """Navy with 60 short yellow strokes (fixed seed)."""
    from PIL import Image, ImageDraw

    rng = random.Random(0)
    image = Image.new("RGB", (224, 224), "navy")
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(224), rng.randrange(224)
        draw.line((x, y, x + rng.randrange(-50, 50), y + rng.randrange(-50, 50)), fill=(255, 220, 0), width=5)
    image.save(path)
    return path


def main() -> int:
    """Draw both ways, print the table and the means."""
    import clipart
    from clipart.imagefile import as_tensor, open_image
    from clipart.objective import Views
    from clipart.objective.style import StyleTerm
    from clipart.render import render

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style-image", type=Path)
    parser.add_argument("--style-weight", type=float, default=2.0)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--out", type=Path, help="save a sheet: style image, then plain and styled rows")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    style = args.style_image or make_style(Path(tempfile.mkdtemp()) / "style.png")
    guide = clipart.load_model(clipart.make_config("x", preset=args.preset).models[0])
    term = StyleTerm([guide], str(style), 1.0)
    with torch.no_grad():
        style_feat = guide.encode_image(as_tensor(open_image(style), guide.image_size)[None])
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; preset {args.preset}; "
          f"style weight {args.style_weight}; guide {guide.name}")  # fmt: skip
    print(f"{'prompt':<14} {'style distance':>22} {'cos to style image':>22} {'cos to prompt':>22}")
    print(f"{'':<14} {'plain → styled':>22} {'plain → styled':>22} {'plain → styled':>22}")
    sums = torch.zeros(3, 2)
    rows = []
    t0 = time.perf_counter()
    for prompt in PROMPTS:
        pair = [
            clipart.draw(prompt, preset=args.preset, seed=0),
            clipart.draw(
                prompt, preset=args.preset, seed=0, style=str(style), style_weight=args.style_weight
            ),
        ]
        measures = []
        for d in pair:
            clean = render(d.scene, d.config.size)[None]
            with torch.no_grad():
                feat = guide.encode_image(clean)
                text = guide.encode_text([prompt])
                measures.append((float(term.distances(Views(clean, 1))), float(feat @ style_feat.T),
                                 float(feat @ text.T)))  # fmt: skip
        for k in range(3):
            sums[k] += torch.tensor([measures[0][k], measures[1][k]])
        cells = [f"{measures[0][k]:.3f} → {measures[1][k]:.3f}" for k in range(3)]
        print(f"{prompt:<14} {cells[0]:>22} {cells[1]:>22} {cells[2]:>22}", flush=True)
        rows.append([d.png(160) for d in pair])
    n = len(PROMPTS)
    means = [f"{sums[k, 0] / n:.3f} → {sums[k, 1] / n:.3f}" for k in range(3)]
    print(f"{'mean':<14} {means[0]:>22} {means[1]:>22} {means[2]:>22}")
    print(f"{time.perf_counter() - t0:.0f} s; load {os.getloadavg()[0]:.1f}")
    if args.out:
        from PIL import Image

        args.out.mkdir(parents=True, exist_ok=True)
        sheet = Image.new("RGB", (160 * (n + 1), 320), "white")
        sheet.paste(open_image(style).resize((160, 160)), (0, 80))
        for k, (plain, styled) in enumerate(rows, start=1):
            sheet.paste(plain, (160 * k, 0))
            sheet.paste(styled, (160 * k, 160))
        sheet.save(args.out / "style.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
