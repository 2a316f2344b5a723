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


def test_an_svg_is_read_as_search_reads_it(tiny_model: str, tmp_path: Path) -> None:
    """--image (and --style) take an SVG of strokes, rendered as `clipart search` renders the SVGs it indexes."""
    folder = tmp_path / "drawings"
    folder.mkdir()
    drawing = clipart.draw("a cat", model=tiny_model, strokes=6, steps=2, size=32, views=2, device="cpu")
    svg = drawing.save(folder / "cat.svg")
    cfg = clipart.make_config(image=str(svg), style=str(svg), model=tiny_model, **SMALL)
    guide = load_model(tiny_model, device="cpu")
    target = ImageTerm([guide], cfg.images, cfg.image_weights).targets[0][0]
    index = clipart.build_index(folder, tiny_model, device="cpu")
    assert index.files == ["cat.svg"] and torch.allclose(target, index.embeddings[0], atol=1e-5)
    hits = clipart.search(image=svg, folder=folder, model=tiny_model, device="cpu")
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_the_cli_draws_from_an_svg_and_refuses_one_without_strokes(tiny_model: str, tmp_path: Path) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    drawing = clipart.draw("a cat", model=tiny_model, strokes=6, steps=2, size=32, views=2, device="cpu")
    svg = drawing.save(tmp_path / "cat.svg")
    empty = tmp_path / "empty.svg"
    empty.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><rect/></svg>')
    argv = [
        "draw",
        "--model",
        tiny_model,
        "--steps",
        "2",
        "--strokes",
        "8",
        "--size",
        "32",
        "--views",
        "2",
        "-q",
    ]
    ok = subprocess.run([sys.executable, "-m", "clipart", *argv, "--image", str(svg), "--out", f"{tmp_path}/o/"],
                        capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert ok.returncode == 0 and ok.stderr == "", ok.stderr
    assert "<title>cat.svg</title>" in (tmp_path / "o" / "cat-s0.svg").read_text()
    bad = subprocess.run([sys.executable, "-m", "clipart", *argv, "--image", str(empty), "--out", f"{tmp_path}/n/"],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.splitlines() == [
        f"clipart: error: the image prompt {empty} cannot be read: the SVG holds no <path> strokes clipart can read"
    ]
    assert not (tmp_path / "n").exists()


def test_a_partly_read_svg_warns_only_when_the_drawing_uses_it(tiny_model: str, tmp_path: Path) -> None:
    """Checked quietly before the work: a command refused for another reason prints only its refusal."""
    drawing = clipart.draw("a cat", model=tiny_model, strokes=6, steps=2, size=32, views=2, device="cpu")
    text = drawing.svg().replace('stroke-width="', 'stroke-width="x', 1)
    partial = tmp_path / "partial.svg"
    partial.write_text(text, encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    base = [
        sys.executable,
        "-m",
        "clipart",
        "draw",
        "--model",
        tiny_model,
        "--size",
        "32",
        "--views",
        "2",
        "-q",
    ]
    for option in ("--image", "--style", "--init"):
        refused = subprocess.run([*base, "a cat", option, str(partial), "--steps", "0", "--out", f"{tmp_path}/r/"],
                                 capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
        assert refused.returncode == 2 and refused.stderr.splitlines() == [
            "clipart: error: steps must be a whole number from 1 to 100000, got 0"
        ], refused.stderr
    drawn = subprocess.run([*base, "--image", str(partial), "--steps", "1", "--out", f"{tmp_path}/d/"],
                           capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert (
        drawn.returncode == 0 and "clipart: warning: skipped 1 unreadable part(s) of the SVG" in drawn.stderr
    )
