"""Scene: CLIPDraw initialisation and clamping."""

from __future__ import annotations

import torch

from clipart.scene import POINTS_PER_STROKE, Scene


def test_random_init_follows_clipdraw() -> None:
    s = Scene.random(500, generator=torch.Generator().manual_seed(0), canvas_px=224, radius=0.1)
    assert s.points.shape == (500, POINTS_PER_STROKE, 2)
    assert set(s.segments.tolist()) == {1, 2, 3}
    assert ((s.points[:, 0] >= 0) & (s.points[:, 0] <= 1)).all()
    steps = (s.points[:, 1:] - s.points[:, :-1]).abs()
    assert steps.max() <= 0.05 + 1e-6  # each control point within 0.1·(U − 0.5) of the previous
    assert torch.allclose(s.widths, torch.full((500,), 1 / 224))
    assert s.colors.min() >= 0 and s.colors.max() <= 1 and s.colors[:, 3].std() > 0.2


def test_same_seed_same_scene_and_snapshot_is_detached() -> None:
    a = Scene.random(10, generator=torch.Generator().manual_seed(3))
    b = Scene.random(10, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.points, b.points) and torch.equal(a.colors, b.colors)
    a.requires_grad_()
    snap = a.snapshot()
    assert not snap.points.requires_grad
    with torch.no_grad():
        a.points += 1
    assert not torch.equal(snap.points, a.points)


def test_clamp_keeps_widths_and_colours_in_range() -> None:
    s = Scene.random(4, generator=torch.Generator().manual_seed(1))
    s.widths[:] = torch.tensor([-1.0, 0.001, 0.1, 5.0])
    s.colors[0] = torch.tensor([-0.5, 1.5, 0.5, 2.0])
    s.clamp_(1 / 224, 50 / 224)
    assert s.widths.min() >= 1 / 224 - 1e-9 and s.widths.max() <= 50 / 224 + 1e-9
    assert s.colors.min() >= 0 and s.colors.max() <= 1


def test_visible_drops_only_faint_strokes() -> None:
    s = Scene.random(5, generator=torch.Generator().manual_seed(2))
    s.colors[:, 3] = torch.tensor([0.0, 0.019, 0.02, 0.5, 1.0])
    kept = s.visible()
    assert kept.num_strokes == 3 and torch.equal(kept.colors, s.colors[2:])
    assert torch.equal(kept.points, s.points[2:]) and torch.equal(kept.segments, s.segments[2:])


def test_respawn_restarts_faded_strokes_only() -> None:
    s = Scene.random(6, generator=torch.Generator().manual_seed(4), canvas_px=224, width_px=3.0)
    s.colors[:, 3] = torch.tensor([0.01, 0.9, 0.04, 0.9, 0.9, 0.0])
    before = s.snapshot()
    faded = s.respawn_(0.05, torch.Generator().manual_seed(9), canvas_px=224, width_px=3.0)
    assert faded.tolist() == [True, False, True, False, False, True]
    assert torch.equal(s.points[~faded], before.points[~faded]) and torch.equal(s.colors[1], before.colors[1])
    assert not torch.equal(s.points[faded], before.points[faded])
    assert torch.allclose(s.widths[faded], torch.full((3,), 3.0 / 224))


def test_a_transparent_scene_stays_transparent_through_its_copies() -> None:
    s = Scene.random(6, generator=torch.Generator().manual_seed(1), background=None)
    s.colors[:2, 3] = 0.0
    copies = [s.to("cpu"), s.snapshot(), s.subset(torch.ones(6, dtype=torch.bool)), s.visible()]
    assert all(c.background is None for c in copies)
    assert bool(s.respawn_(0.05, torch.Generator().manual_seed(2))[:2].all()) and s.background is None
