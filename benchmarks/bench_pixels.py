"""What can a guide draw at all? Each prompt drawn in pixels, not strokes, through the drawing's own views.

A guide whose gradients are perceptually aligned (CLIPAG, Ganz & Elad, WACV 2024) turns a grey canvas into the thing
it is asked for when the pixels themselves are optimised; one whose gradients are not makes adversarial textures.
This shows it without the strokes' own limits: a 56 × 56 grid of colours (upsampled to the 224-px canvas, so the
picture stays smooth) is optimised with Adam against ``1 − cos(view, prompt)`` over the freehand preset's views.
Each guide's pictures go to ``OUT/LABEL/`` named as ``bench_rprecision.py --rescore`` reads them (judge them with
``python benchmarks/bench_rprecision.py --seeds 1 --prompt-list FILE --rescore OUT/LABEL``), and ``OUT/sheet.png``
holds one row of pictures per guide (prompts in ``OUT/sheet.txt``).

    python benchmarks/bench_pixels.py --out DIR [mini=clipart-mini draw=clipart-mini-draw local=local-dir:FOLDER ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from bench_rprecision import _file_name, read_prompt_list
from PIL import Image

TUNE = Path(__file__).resolve().parent / "tune_prompts.txt"
GRID = 56  # the optimised colours a side; bilinear upsampling to the canvas keeps the picture smooth


def draw_pixels(
    guide: object, prompt: str, steps: int, seed: int, size: int = 224
) -> tuple[Image.Image, float]:
    """``prompt`` drawn in pixels by ``guide``: the picture and its final mean cosine to the prompt over the views."""
    from clipart.augment import Augment
    from clipart.config import make_config

    preset = make_config(prompt, preset="freehand")
    torch.manual_seed(seed)
    views = Augment(
        preset.views, guide.image_size, perspective=preset.perspective, crop_scale=preset.crop_scale
    )
    text = guide.encode_text([prompt])
    logits = (2.0 + 0.5 * torch.randn(1, 3, GRID, GRID)).requires_grad_(True)  # near white, a little noise
    optimizer = torch.optim.Adam([logits], lr=0.05)
    for _ in range(steps):
        picture = torch.sigmoid(F.interpolate(logits, size=size, mode="bilinear", align_corners=False))
        cosine = (guide.encode_image(views(picture)) @ text.T).mean()
        optimizer.zero_grad()
        (1 - cosine).backward()
        optimizer.step()
    array = (picture[0].detach().clamp(0, 1).permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    return Image.fromarray(array), float(cosine.detach())


def main() -> int:
    """Draw every prompt with every guide, save the pictures and a sheet, print each guide's mean cosine."""
    import clipart

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "guides", nargs="*", default=["mini=clipart-mini", "draw=clipart-mini-draw"], metavar="LABEL=MODEL"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the pictures and the sheet")
    parser.add_argument(
        "--prompt-list", type=Path, default=TUNE, metavar="FILE", help="prompts (tuning list)"
    )
    parser.add_argument("--prompts", type=int, help="only the first N prompts")
    parser.add_argument("--steps", type=int, default=300, help="Adam steps a picture (300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    pairs = [g.split("=", 1) for g in args.guides]
    if any(len(p) != 2 or not p[0] or not p[1] for p in pairs):
        parser.error(f"guides are LABEL=MODEL, got {args.guides}")
    if args.steps < 1 or args.threads < 1 or (args.prompts is not None and args.prompts < 1):
        parser.error("--steps, --threads and --prompts must be at least 1")
    if len({label for label, _ in pairs}) < len(pairs):
        parser.error(f"give each guide a label of its own, got {args.guides}")
    prompts = read_prompt_list(args.prompt_list, parser)[: args.prompts]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    try:
        guides = {label: clipart.load_model(spec, device="cpu") for label, spec in pairs}
    except clipart.ClipartError as exc:
        parser.error(str(exc))
    tile = 112
    sheet = Image.new("RGB", (tile * len(prompts), tile * len(guides)), "white")
    t0 = time.perf_counter()
    for row, (label, guide) in enumerate(guides.items()):
        (args.out / label).mkdir(parents=True, exist_ok=True)
        cosines = []
        for col, prompt in enumerate(prompts):
            picture, cosine = draw_pixels(guide, prompt, args.steps, args.seed)
            picture.save(args.out / label / _file_name(prompt, args.seed))
            sheet.paste(picture.resize((tile, tile)), (col * tile, row * tile))
            cosines.append(cosine)
            print(f"{label:<12} {prompt:<20} cosine {cosine:.3f}", flush=True)
        print(
            f"{label}: mean cosine {sum(cosines) / len(cosines):.3f} over {len(prompts)} prompts", flush=True
        )
    sheet.save(args.out / "sheet.png")
    (args.out / "sheet.txt").write_text(
        "rows: " + ", ".join(guides) + "\ncolumns: " + ", ".join(prompts) + "\n", encoding="utf-8"
    )
    print(f"{time.perf_counter() - t0:.0f} s; load {os.getloadavg()[0]:.1f}; sheet: {args.out / 'sheet.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
