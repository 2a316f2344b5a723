"""Whole-thing moves (clipart/moves.py): things shift, scale and turn as wholes, within bounds, and the drawing
loop moves an icon start that way when ``icon_moves = "things"``."""

from __future__ import annotations

import math

import pytest
import torch

import clipart
from clipart import moves as moves_module
from clipart.moves import ThingMoves
from clipart.scene import POINTS_PER_STROKE, Scene


def _scene(n: int = 5) -> Scene:
    g = torch.Generator().manual_seed(0)
    return Scene(
        points=0.3 + 0.4 * torch.rand(n, POINTS_PER_STROKE, 2, generator=g),
        segments=torch.full((n,), 3),
        widths=torch.full((n,), 0.01),
        colors=torch.rand(n, 4, generator=g),
    )


LAYOUT = {"things": [{"strokes": [[0, 2]]}, {"strokes": [[2, 4]]}]}  # stroke 4: an extra (a star, rain)


def _similar(before: torch.Tensor, after: torch.Tensor) -> float:
    """The largest distance of ``after``'s points from the best shift, scale and turn of ``before``'s."""
    z = torch.complex(*(before - before.mean(0)).double().unbind(-1))
    w = torch.complex(*(after - after.mean(0)).double().unbind(-1))
    a = (z.conj() * w).sum() / (z.abs() ** 2).sum()
    return float((w - a * z).abs().max())


def test_each_thing_moves_as_a_whole_and_the_extras_stay() -> None:
    scene = _scene()
    start = scene.points.clone()
    moves = ThingMoves(scene, LAYOUT)
    with torch.no_grad():
        moves.shift.copy_(torch.tensor([[0.03, -0.02], [0.0, 0.01]]))
        moves.grow.copy_(torch.tensor([0.02, -0.01]))
        moves.turn.copy_(torch.tensor([0.01, 0.015]))
    moves.push(scene)
    for a, b in ((0, 2), (2, 4)):
        assert float((scene.points[a:b] - start[a:b]).abs().max()) > 0.005  # it moved
        assert _similar(start[a:b].reshape(-1, 2), scene.points[a:b].reshape(-1, 2)) < 1e-5  # as a whole
    assert torch.equal(scene.points[4], start[4])


def test_the_moves_stay_within_their_bounds() -> None:
    scene = _scene()
    moves = ThingMoves(scene, LAYOUT)
    with torch.no_grad():
        moves.shift.fill_(1.0)
        moves.grow.fill_(5.0)
        moves.turn.fill_(-5.0)
    moves.push(scene)
    assert float(moves.shift.detach().max()) == pytest.approx(moves_module.MAX_SHIFT)
    scale = torch.exp(moves.grow.detach() / moves.radius)
    assert torch.allclose(scale, torch.full_like(scale, moves_module.MAX_SCALE))
    assert torch.allclose(moves.turn.detach() / moves.radius, torch.full((2,), -moves_module.MAX_TURN))
    assert math.isfinite(float(scene.points.sum()))


def test_the_points_gradient_reaches_each_things_shift() -> None:
    scene = _scene()
    scene.points.requires_grad_(True)
    moves = ThingMoves(scene, LAYOUT)
    scene.points[..., 0].sum().backward()  # moving right costs: every point's x counts once
    moves.pull(scene)
    per_thing = 2 * POINTS_PER_STROKE
    assert torch.allclose(moves.shift.grad, torch.tensor([[per_thing, 0.0], [per_thing, 0.0]]))
    assert moves.grow.grad is not None and moves.turn.grad is not None


def test_a_drawing_moving_things_keeps_their_shapes_and_its_stars() -> None:
    events = list(
        clipart.steps(
            "a cat on a chair at night", steps=4, views=1, threads=1, icon_moves="things", icon_lr_things=3.0
        )  # fmt: skip
    )
    first, last, layout = events[0].scene, events[-1].scene, events[-1].drawing().layout
    things = [r for t in layout["things"] for r in t["strokes"]]
    assert len(things) == 2
    for a, b in things:
        used = torch.arange(POINTS_PER_STROKE).view(1, -1) < (3 * first.segments[a:b] + 1).view(-1, 1)
        before, after = first.points[a:b][used], last.points[a:b][used]
        assert float((after - before).abs().max()) > 1e-3
        assert _similar(before, after) < 1e-4
    (a, b), *_ = layout["extras"]
    assert torch.equal(first.points[a:b], last.points[a:b])


def test_the_default_moves_points_and_a_bad_choice_is_one_line() -> None:
    assert clipart.DrawConfig(prompts=["a cat"]).icon_moves == "points"
    with pytest.raises(clipart.ConfigError, match="icon_moves"):
        clipart.DrawConfig(prompts=["a cat"], icon_moves="wiggle").validate()
