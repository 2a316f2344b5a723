"""Helpers shared by the training tests (no tests here): coloured-shape data sets drawn with PIL, a tiny model
config, and a CLI runner."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

COLOURS = {"red": (220, 30, 35), "green": (40, 165, 55), "blue": (35, 85, 225), "yellow": (235, 200, 20)}
SHAPES = ("circle", "square", "triangle", "cross")
CLASSES = [f"{c} {s}" for c in COLOURS for s in SHAPES]

TINY_MODEL = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def draw_shape(colour: str, shape: str, rng: random.Random, size: int = 40):
    """An RGB PIL image of one coloured shape at a random place and size on white."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(im)
    r = rng.uniform(0.25, 0.4) * size
    cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
    fill = tuple(min(255, max(0, v + rng.randint(-20, 20))) for v in COLOURS[colour])
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "triangle":
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    else:
        w = r / 3
        d.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fill)
        d.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fill)
    return im


def make_pairs(folder: Path, n: int, seed: int = 0) -> list[tuple[Path, str, str]]:
    """Draw ``n`` images into ``folder``; returns (path, caption, class name) triples."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        colour, shape = rng.choice(list(COLOURS)), rng.choice(SHAPES)
        path = folder / f"{i:05d}.png"
        draw_shape(colour, shape, rng).save(path)
        out.append((path, f"a {colour} {shape}", f"{colour} {shape}"))
    return out


def write_csv(path: Path, rows: list[tuple], header: tuple[str, ...], delimiter: str = ",") -> Path:
    """Write rows under a header; paths relative to the file's folder where possible."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        for row in rows:
            w.writerow([os.path.relpath(v, path.parent) if isinstance(v, Path) else v for v in row])
    return path


def shapes_csv(root: Path, n: int, seed: int = 0) -> Path:
    """A pairs.csv (filepath, caption) of ``n`` shape images under ``root``."""
    pairs = make_pairs(root / "images", n, seed)
    return write_csv(root / "pairs.csv", [(p, c) for p, c, _ in pairs], ("filepath", "caption"))


def labelled_folder(root: Path, per_class: int, seed: int = 1) -> Path:
    """``root/<colour>_<shape>/*.png``: a zero-shot evaluation set."""
    rng = random.Random(seed)
    for name in CLASSES:
        colour, shape = name.split()
        d = root / f"{colour}_{shape}"
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            draw_shape(colour, shape, rng).save(d / f"{i}.png")
    return root


def tiny_model_json(path: Path) -> Path:
    """Write the tiny ViT config (32 px, width 64, 2 layers, context 16)."""
    path.write_text(json.dumps(TINY_MODEL))
    return path


def run_cli(*args: str, env: dict | None = None, timeout: float = 300, module: str = "clipart"):
    """Run ``python -m clipart ARGS`` with one thread; returns the CompletedProcess.

    On a timeout the whole process group (torchrun's workers, loader workers) is killed before failing.
    """
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **(env or {})}
    cmd = [sys.executable, "-m", module, *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
