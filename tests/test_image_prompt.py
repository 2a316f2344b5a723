"""Image prompts (the image term): the API, the CLI, and every bad image file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

import clipart
from clipart.imagefile import as_tensor, open_image
from clipart.models import load_model
from clipart.objective.image import ImageTerm
from clipart.render import render

SMALL = {"strokes": 16, "size": 64, "views": 2, "preset": "freehand", "device": "cpu", "threads": 1}


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pictures")
    ball = Image.new("RGB", (96, 64), "white")  # not square: the term takes the centre square
    ImageDraw.Draw(ball).ellipse((28, 12, 68, 52), fill="red")
    ball.save(root / "ball.png")
    bars = Image.new("RGBA", (64, 64), (0, 0, 0, 0))  # transparent: composited onto white
    ImageDraw.Draw(bars).rectangle((0, 40, 63, 63), fill=(0, 0, 255, 255))
    bars.save(root / "bars.png")
    (root / "text.png").write_text("not an image")
    Image.new("RGB", (8, 8)).save(root / "cut.png")
    (root / "cut.png").write_bytes((root / "cut.png").read_bytes()[:30])
    return {p.stem: p for p in root.iterdir()}


def _similarity(drawing: clipart.Drawing, guide, picture: Path) -> float:  # noqa: ANN001
    target = guide.encode_image(as_tensor(open_image(picture), guide.image_size)[None].to(guide.device))
    return float(
        guide.encode_image(render(drawing.scene.to(guide.device), drawing.config.size)[None]) @ target.T
    )


def test_a_drawing_from_an_image_moves_towards_it(pictures, tiny_model: str, device: str) -> None:
    guide = load_model(tiny_model, device=device)
    seen = []
    small = {**SMALL, "device": device}
    for event in clipart.steps(image=str(pictures["ball"]), model=tiny_model, steps=40, seed=2, **small):
        if event.step in (1, 40):
            seen.append(event.drawing())
    first, last = (_similarity(d, guide, pictures["ball"]) for d in seen)
    assert 1 - last < 0.5 * (1 - first), (first, last)  # the cosine distance to the picture at least halves
    assert last > _similarity(seen[1], guide, pictures["bars"])  # closer to its own picture than to another
    assert seen[1].title == "ball.png" and seen[1].sidecar()["images"] == [str(pictures["ball"])]


def test_text_and_images_together_weighted(pictures, tiny_model: str) -> None:
    cfg = clipart.make_config(
        "a cat", image=[f"{pictures['ball']}::0.5", pictures["bars"]], model=tiny_model, **SMALL
    )
    assert cfg.images == [str(pictures["ball"]), str(pictures["bars"])] and cfg.image_weights == [0.5, 1.0]
    guide = load_model(tiny_model, device="cpu")
    from clipart.objective import build_objective

    terms = build_objective(cfg, [guide]).terms
    assert [t.name for t in terms] == ["image", "text"]
    image_term = next(t for t in terms if isinstance(t, ImageTerm))
    assert image_term.targets[0].shape[0] == 2 and torch.equal(
        image_term.weights[0], torch.tensor([0.5, 1.0])
    )


@pytest.mark.parametrize(
    "name, words",
    [("missing", "does not exist"), ("text", "not an image PIL can read"), ("cut", "cannot be read")],
)
def test_bad_image_files_are_one_line_exit_2_and_nothing_written(
    pictures, name: str, words: str, tmp_path: Path
) -> None:
    path = pictures.get(name, pictures["ball"].parent / "missing.png")
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "clipart", "draw", "--image", str(path), "--steps", "2", "--out", str(tmp_path / "o/")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr
    assert proc.stderr.startswith("clipart: error: the image prompt ") and not (tmp_path / "o").exists()


def test_the_cli_draws_an_image_alone(pictures, tiny_model: str, tmp_path: Path) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    argv = ["draw", "--image", f"{pictures['ball']}::2", "--model", tiny_model, "--steps", "3", "--strokes", "8",
            "--size", "32", "--views", "2", "-q", "--out", f"{tmp_path}/"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "clipart", *argv], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    sidecar = json.loads((tmp_path / "ball-s0.json").read_text())
    assert sidecar["prompts"] == [] and sidecar["image_weights"] == [2.0]
    assert "<title>ball.png</title>" in (tmp_path / "ball-s0.svg").read_text()
