"""The drawing loop: the loss falls, runs are reproducible, stopping keeps the result, candidates, ensembles."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import clipart

SMALL = {"strokes": 12, "size": 64, "views": 2, "preset": "freehand", "device": "cpu"}


def test_loss_falls_for_a_fixed_seed(tiny_model: str, device: str) -> None:
    small = {**SMALL, "device": device}
    losses = [e.loss for e in clipart.steps("a red circle", model=tiny_model, steps=40, seed=0, **small)]
    assert len(losses) == 40
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.01


def test_same_seed_same_svg_other_seed_other_svg(tiny_model: str, device: str) -> None:
    small = {**SMALL, "device": device}
    a = clipart.draw("a cat", model=tiny_model, steps=6, seed=1, **small).svg()
    b = clipart.draw("a cat", model=tiny_model, steps=6, seed=1, **small).svg()
    c = clipart.draw("a cat", model=tiny_model, steps=6, seed=2, **small).svg()
    assert a == b and a != c
    assert len([e for e in ET.fromstring(a).iter() if e.tag.endswith("path")]) == 12


def test_events_carry_previews_and_stopping_keeps_the_result(
    tiny_model: str, tmp_path: Path, device: str
) -> None:
    events = clipart.steps(
        "a cat", model=tiny_model, steps=50, preview_every=3, **{**SMALL, "device": device}
    )
    seen = list(itertools.islice(events, 7))
    assert [e.step for e in seen] == list(range(1, 8)) and all(e.total == 50 for e in seen)
    assert [e.image is not None for e in seen] == [s % 3 == 0 for s in range(1, 8)]
    assert seen[2].image.size == (64, 64) and not seen[-1].done
    drawing = seen[-1].drawing()
    assert drawing.steps_done == 7
    path = drawing.save(tmp_path / "stopped.svg")
    assert ET.parse(path).getroot().tag.endswith("svg")
    with pytest.raises(clipart.ClipartError, match="already exists"):
        drawing.save(path)


def test_candidates_are_ranked_and_ensembles_average(
    tiny_model: str, tiny_model_dir: Path, device: str
) -> None:
    second = f"{tiny_model_dir}/open_clip_model.safetensors"
    d = clipart.draw(
        "a cat", model=[tiny_model, second], steps=3, candidates=3, **{**SMALL, "device": device}
    )
    assert len(d.scores) == 3 and len(d.models) == 2 and len(set(d.scores)) == 3
    # the drawing returned is the best candidate: its own score, recomputed from its strokes, is the highest
    from clipart.models import load_model
    from clipart.render import render

    image = render(d.scene.to(device), d.config.size)[None]
    guides = [load_model(m, device=device) for m in d.config.models]
    texts = [g.encode_text(["a cat"]) for g in guides]
    own = sum(float(g.encode_image(image) @ t.T) for g, t in zip(guides, texts, strict=True)) / len(guides)
    assert own == pytest.approx(max(d.scores), abs=1e-4)


def test_sketch_preset_keeps_dark_fixed_width_strokes(tiny_model: str) -> None:
    d = clipart.draw("a cat", preset="sketch", model=tiny_model, steps=5, size=64, strokes=6, views=2)
    assert float(d.scene.colors[:, :3].max()) == 0.0 and float(d.scene.colors[:, 3].min()) == 1.0
    assert float(d.scene.widths.std()) == 0.0


def test_bad_input_raises_before_any_work() -> None:
    with pytest.raises(clipart.ConfigError, match="prompt is empty"):
        clipart.steps("  ")
    with pytest.raises(clipart.ConfigError, match="strokes"):
        clipart.steps("a cat", strokes=0)


def test_drawings_running_at_once_stay_reproducible(tiny_model: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def one(seed: int) -> str:  # the same thread count: results depend on it (the sidecar records it)
        return clipart.draw("a cat", model=tiny_model, steps=8, seed=seed, threads=1, **SMALL).svg()

    alone = one(4)
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(one, [4, 4, 5]))
    assert together[0] == together[1] == alone and together[2] != alone


def test_respawn_restarts_only_faded_strokes_and_outputs_drop_invisible_ones(
    tiny_model: str, device: str
) -> None:
    still = {"model": tiny_model, "preset": "freehand", "strokes": 40, "size": 32, "views": 1, "device": device, "seed": 5,
             "lr_points": 0.0, "lr_widths": 0.0, "lr_colors": 0.0}  # fmt: skip
    first = next(iter(clipart.steps("a cat", steps=2, **still))).scene
    plain = list(clipart.steps("a cat", steps=2, **still))[-1].scene
    respawned = list(clipart.steps("a cat", steps=2, respawn_every=1, **still))[-1].scene
    faded = first.colors[:, 3] < 0.05
    assert 0 < int(faded.sum()) < 40
    assert (plain.points == first.points).all()  # nothing moves without respawn (all rates 0)
    assert (respawned.points[~faded] == first.points[~faded]).all()
    assert (respawned.points[faded] != first.points[faded]).any(dim=-1).any(dim=-1).all()
    drawing = list(clipart.steps("a cat", steps=1, **still))[-1].drawing()
    visible = int((drawing.scene.colors[:, 3] >= 0.02).sum())
    paths = ET.fromstring(drawing.svg()).iter("{http://www.w3.org/2000/svg}path")
    assert len(list(paths)) == visible < 40


@pytest.mark.parametrize(
    ("free", "drawings", "limit", "threads"),
    [
        (2, 1, 2, 2),
        (1.4, 1, 2, 1),
        (0.2, 1, 2, 1),
        (2, 2, 2, 1),
        (16, 3, 16, 5),
        (16, 1, 4, 4),
        (7.6, 2, 8, 4),
    ],
)
def test_threads_share_the_free_cores(free: float, drawings: int, limit: int, threads: int) -> None:
    from clipart.threads import share

    assert share(free, drawings, limit) == threads


@pytest.mark.parametrize("elsewhere", ["idle", "busy"])
def test_a_drawing_uses_the_free_cores_and_gives_the_count_back(
    tiny_model: str, monkeypatch: pytest.MonkeyPatch, elsewhere: str
) -> None:
    import torch

    from clipart import threads

    monkeypatch.setattr(threads, "cores", lambda: 4)
    busy = {"idle": 0.0, "busy": 3.3}[elsewhere]  # cores other processes keep busy
    monkeypatch.setattr(threads, "cores_busy_elsewhere", lambda: busy)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        d = clipart.draw("a cat", model=tiny_model, steps=2, **SMALL)
        assert d.sidecar()["cpu_threads"] == d.threads == {"idle": 3, "busy": 1}[elsewhere]
        assert torch.get_num_threads() == 3  # the caller's setting is back
        fixed = clipart.draw("a cat", model=tiny_model, steps=2, threads=2, **SMALL)
        assert fixed.threads == 2 and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_a_config_comes_without_other_options(tiny_model: str) -> None:
    cfg = clipart.make_config("a cat", model=tiny_model, steps=2, **SMALL)
    with pytest.raises(clipart.ConfigError, match="not both .got config= and steps"):
        clipart.steps(config=cfg, steps=5)
    with pytest.raises(clipart.ConfigError, match="not both .got config= and a prompt"):
        clipart.steps("a dog", config=cfg)  # the prompt would be ignored: refused instead
    assert clipart.draw(config=cfg).steps_done == 2


def _rects(svg: str) -> list[ET.Element]:
    return [e for e in ET.fromstring(svg).iter() if e.tag.endswith("rect")]


def _paths(svg: str) -> list[str | None]:
    return [e.get("d") for e in ET.fromstring(svg).iter() if e.tag.endswith("path")]


def test_transparent_views_differ_in_background_and_runs_stay_reproducible(
    tiny_model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from clipart import loop

    corners: list[torch.Tensor] = []

    class Recording(loop.Augment):
        def forward(self, image: torch.Tensor, homographies: torch.Tensor | None = None) -> torch.Tensor:
            views = super().forward(image, homographies)
            if image.shape[1] == 4:  # the steps' views (ranking and pruning score RGB renders on white)
                corners.append(views.detach()[:, :, 0, 0].clone())
            return views

    monkeypatch.setattr(loop, "Augment", Recording)
    opts = {**SMALL, "views": 4, "model": tiny_model, "steps": 3, "seed": 3, "candidates": 2, "prune": 0.05}
    d = clipart.draw("a cat", background="Transparent", **opts)
    first, corners[:] = list(corners), []
    assert len(first) == 3 and all(c.shape == (8, 3) for c in first)
    assert len({tuple(c) for c in torch.cat(first).tolist()}) > 12  # every view its own canvas
    again = clipart.draw("a cat", background="none", **opts)
    assert again.svg() == d.svg() and again.scores == d.scores
    assert all(torch.equal(a, b) for a, b in zip(first, corners, strict=True))
    assert not _rects(d.svg()) and d.sidecar()["config"]["background"] == "none"
    white = clipart.draw("a cat", **opts).svg()  # the same start, guided over white only: other strokes
    assert len(_rects(white)) == 1 and _paths(white) != _paths(d.svg())


def test_transparent_sketch_png_has_alpha_and_image_prompts_draw_transparent(
    tiny_model: str, tmp_path: Path
) -> None:
    import numpy as np
    from PIL import Image

    d = clipart.draw("a cat", preset="sketch", model=tiny_model, steps=2, size=64, views=2, background="none")
    assert not _rects(d.svg())
    png = d.png()
    pixels = np.asarray(png)
    assert png.mode == "RGBA" and pixels.shape == (64, 64, 4)
    assert (pixels[[0, 0, -1, -1], [0, -1, 0, -1]] == 0).all()  # the corners: nothing, fully transparent
    opaque = pixels[..., 3] == 255
    assert opaque.sum() > 20 and (pixels[opaque][:, :3] == 0).all()  # the black pen's strokes stay opaque
    d.save(tmp_path / "cat.png")
    assert Image.open(tmp_path / "cat.png").mode == "RGBA"
    picture = tmp_path / "ball.png"
    Image.new("RGB", (32, 32), "red").save(picture)
    by_image = clipart.draw(image=str(picture), model=tiny_model, steps=2, background="none", **SMALL)
    assert not _rects(by_image.svg()) and by_image.png().mode == "RGBA"


def test_a_transparent_scene_keeps_its_settings_strokes_but_not_its_colour(tiny_model: str) -> None:
    opts = {"preset": "quick", "model": tiny_model, "steps": 1, "size": 64, "views": 2, "device": "cpu"}
    night = clipart.draw("a cat at night", **opts)
    clear = clipart.draw("a cat at night", background="none", **opts)
    assert [r.get("fill") for r in _rects(night.svg())] == ["#141c45"] and not _rects(clear.svg())
    assert clear.layout["settings"] == ["night"] and clear.layout["extras"] == night.layout["extras"]
    assert clear.scene.num_strokes == night.scene.num_strokes
    # the sidecar's layout says the drawing is transparent, not the white it was composed on
    assert (
        clear.sidecar()["layout"]["background"] == "none"
        and clear.sidecar()["config"]["background"] == "none"
    )
    assert night.sidecar()["layout"]["background"] == "#141c45"


def test_a_bad_background_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from clipart.cli import main

    assert main(["draw", "a cat", "--background", "clear", "--out", f"{tmp_path}/"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "clipart: error: background must be a colour such as #ffffff, #fff, rgb(255, 255, 255) or white, "
        "or none (transparent), got 'clear'\n"
    )
    assert not list(tmp_path.iterdir())


def test_init_keeps_the_files_canvas_unless_a_background_is_set(tiny_model: str, tmp_path: Path) -> None:
    opts = {**SMALL, "model": tiny_model, "steps": 1}
    path = clipart.draw("a cat", background="none", **opts).save(tmp_path / "clear.svg")
    assert not _rects(clipart.draw("a cat", init_svg=str(path), **opts).svg())  # it stays transparent
    red = clipart.draw("a cat", init_svg=str(path), background="red", **opts).svg()
    assert [r.get("fill") for r in _rects(red)] == ["#ff0000"]
    white = clipart.draw("a cat", **opts).save(tmp_path / "white.svg")
    assert not _rects(clipart.draw("a cat", init_svg=str(white), background="none", **opts).svg())


def test_the_points_rate_follows_clipdraws_step_schedule() -> None:
    """Step s runs at the factor of (s - 1) / steps: full, then x0.4 from half way, x0.1 from three quarters;
    the other groups keep their rate."""
    import torch

    from clipart.loop import _schedule

    groups = [
        {"params": [torch.zeros(1, requires_grad=True)], "lr": lr, "name": name}
        for name, lr in (("points", 0.5), ("colors", 0.02))
    ]
    optimizer = torch.optim.Adam(groups)
    schedule = _schedule(optimizer, 8)
    seen = []
    for _ in range(8):
        seen.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        schedule.step()
    assert seen == [[0.5, 0.02]] * 4 + [[0.5 * 0.4, 0.02]] * 2 + [[0.5 * 0.1, 0.02]] * 2
