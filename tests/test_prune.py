"""Pruning: strokes go only where the drawing's score holds; invisible ones always go; order is kept."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import torch

import clipart
from clipart.augment import Augment
from clipart.models import load_model
from clipart.objective import build_objective
from clipart.prune import prune, view_score
from clipart.render import render
from clipart.scene import POINTS_PER_STROKE, Scene


def _line(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    """An open cubic from (x0, y0) to (x1, y1), padded to the scene's point count."""
    pts = [[x0 + (x1 - x0) * t / 3, y0 + (y1 - y0) * t / 3] for t in range(4)]
    return pts + [pts[-1]] * (POINTS_PER_STROKE - 4)


def _scene() -> Scene:
    """Strokes 0 and 2 red on the left half, 1 and 3 blue on the right half, 4 red but invisible."""
    lines = [_line(0.1, 0.2, 0.4, 0.3), _line(0.6, 0.2, 0.9, 0.8), _line(0.15, 0.7, 0.35, 0.9),
             _line(0.7, 0.3, 0.8, 0.9), _line(0.1, 0.5, 0.4, 0.5)]  # fmt: skip
    red, blue = [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]
    colors = [red + [1.0], blue + [0.8], red + [0.9], blue + [1.0], red + [0.01]]
    return Scene(
        torch.tensor(lines), torch.ones(5, dtype=torch.long), torch.full((5,), 0.05), torch.tensor(colors)
    )


def _left_red(images: torch.Tensor) -> torch.Tensor:
    """A score that sees only how much red the left half holds."""
    left = images[:, :, :, : images.shape[-1] // 2]
    return (left[:, 0] - left[:, 1]).mean(dim=(1, 2))


def test_prune_drops_what_the_score_does_not_see_and_keeps_what_it_needs() -> None:
    scene = _scene()
    pruned = prune(scene, _left_red, 64, 0.01)
    kept = [[round(v, 4) for v in row] for row in pruned.colors.tolist()]
    assert kept == [[round(v, 4) for v in row] for row in scene.colors[[0, 2]].tolist()]  # in order
    assert torch.equal(pruned.points, scene.points[[0, 2]])
    full = _left_red(render(scene, 64)[None])
    assert _left_red(render(pruned, 64)[None]) >= full - 0.01 * full.abs()


def test_prune_with_a_looser_tolerance_drops_more_and_zero_drops_only_invisible() -> None:
    scene = _scene()
    assert prune(scene, _left_red, 64, 0.0).num_strokes == 4  # the invisible stroke only
    assert prune(scene, _left_red, 64, 1.0).num_strokes == 1  # always at least one stroke
    assert prune(scene, _left_red, 64, 0.01).num_strokes == 2


def test_draw_prunes_its_result_and_records_the_setting(tiny_model: str, tmp_path: Path, device: str) -> None:
    opts = {"model": tiny_model, "strokes": 24, "size": 64, "views": 2, "steps": 8, "seed": 3, "device": device}  # fmt: skip
    plain = clipart.draw("a cat", **opts)
    pruned = clipart.draw("a cat", prune=0.05, **opts)
    assert pruned.scene.num_strokes < plain.scene.visible().num_strokes
    assert pruned.config.prune == 0.05
    paths = ET.fromstring(pruned.svg()).iter("{http://www.w3.org/2000/svg}path")
    assert len(list(paths)) == pruned.scene.num_strokes
    out = tmp_path / "cat.svg"
    cmd = [sys.executable, "-m", "clipart", "draw", "a cat", "--model", tiny_model, "--strokes", "24", "--size",
           "64", "--views", "2", "--steps", "8", "--seed", "3", "--device", device, "--prune", "0.05", "--quiet",
           "--out", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    assert out.read_text() == pruned.svg()
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["config"]["prune"] == 0.05 and sidecar["timings"]["prune_s"] > 0


def test_a_bad_prune_value_is_one_line_and_exit_2(tiny_model: str, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "clipart", "draw", "a cat", "--model", tiny_model, "--prune", "2",
           "--out", str(tmp_path / "x.svg")]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["clipart: error: prune must be in [0, 1] (0: off), got 2.0"]
    assert not list(tmp_path.iterdir())


def test_view_score_sees_every_render_through_the_same_views(tiny_model: str) -> None:
    cfg = clipart.make_config("a cat", model=tiny_model, views=3, device="cpu")
    guide = load_model(cfg.models[0])
    score = view_score(build_objective(cfg, [guide]), Augment(3, guide.image_size), 64, seed=1)
    scenes = [Scene.random(6, generator=torch.Generator().manual_seed(s)) for s in range(3)]
    renders = torch.stack([render(s, 64) for s in scenes])
    together = score(renders)
    assert torch.allclose(score(renders[[2, 0]]), together[[2, 0]], atol=1e-5)  # any batch, any place
    assert torch.allclose(score(renders), together) and len(set(together.tolist())) == 3
    other_views = view_score(build_objective(cfg, [guide]), Augment(3, guide.image_size), 64, seed=2)
    assert not torch.allclose(other_views(renders), together)
