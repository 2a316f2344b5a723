"""Whole-thing moves: the things of an icon start shift, grow or shrink, and turn as wholes, so that the guide
rearranges a drawing without bending an icon's lines.

Each instance of a layout's things (its stroke range) gets three parameters, all in canvas units of movement at
its edge: a shift (x, y), a growth ``g`` (its scale is ``exp(g / r)``, ``r`` its half-size) and a turn ``t`` (its
angle is ``t / r``), about its box's centre. One Adam rate in px then means the same visible move for each of them.
Strokes in no instance (a setting's stars, rain) stay where they are. The loop renders ``scene.points`` as a leaf;
:meth:`ThingMoves.pull` carries its gradient to the parameters and :meth:`ThingMoves.push` writes the moved points.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from clipart.scene import Scene

MIN_RADIUS = 0.02  # canvas units: a tiny thing's half-size, so that its growth and turn stay gentle
# how far the moves may take a thing from where the composer put it, so that its relations hold
MAX_SHIFT = 0.08  # canvas units
MAX_SCALE = 1.25  # times larger or smaller
MAX_TURN = 0.2  # radians


class ThingMoves:
    """The shift, growth and turn of every instance of ``layout``'s things in ``scene`` (one candidate)."""

    def __init__(self, scene: Scene, layout: dict[str, Any]) -> None:
        n = scene.num_strokes
        ranges = [(a, b) for thing in layout.get("things", []) for a, b in thing.get("strokes", []) if b > a]
        if not ranges:  # no layout: the drawing moves as one thing
            ranges = [(0, n)]
        owner = torch.full((n,), -1, dtype=torch.long)
        for i, (a, b) in enumerate(ranges):
            owner[a:b] = i
        base = scene.points.detach().clone()
        centres, radii = [], []
        for a, b in ranges:
            pts = base[a:b].reshape(-1, 2)
            low, high = pts.amin(0), pts.amax(0)
            centres.append((low + high) / 2)
            radii.append(max(float((high - low).max()) / 2, MIN_RADIUS))
        device = scene.device
        self.base = base
        self.moved = (owner >= 0).to(device)
        self.owner = owner.clamp(min=0).to(device)
        self.centre = torch.stack(centres).to(device)  # [G, 2]
        self.radius = torch.tensor(radii, device=device)  # [G]
        groups = len(ranges)
        self.shift = torch.zeros(groups, 2, device=device, requires_grad=True)
        self.grow = torch.zeros(groups, device=device, requires_grad=True)
        self.turn = torch.zeros(groups, device=device, requires_grad=True)

    @property
    def params(self) -> list[Tensor]:
        """What Adam moves."""
        return [self.shift, self.grow, self.turn]

    def points(self) -> Tensor:
        """The scene's points after the moves, ``[N, POINTS_PER_STROKE, 2]`` (differentiable in the params)."""
        o = self.owner
        centre = self.centre[o].unsqueeze(1)
        scale = torch.exp(self.grow / self.radius)[o].view(-1, 1, 1)
        angle = (self.turn / self.radius)[o]
        cos, sin = torch.cos(angle).view(-1, 1), torch.sin(angle).view(-1, 1)
        d = self.base - centre
        turned = torch.stack((cos * d[..., 0] - sin * d[..., 1], sin * d[..., 0] + cos * d[..., 1]), dim=-1)
        moved = centre + scale * turned + self.shift[o].unsqueeze(1)
        return torch.where(self.moved.view(-1, 1, 1), moved, self.base)

    def pull(self, scene: Scene) -> None:
        """Carry the gradient of ``scene.points`` (after a backward pass) to the parameters."""
        if scene.points.grad is not None:
            self.points().backward(scene.points.grad)

    @torch.no_grad()
    def push(self, scene: Scene) -> None:
        """Keep the moves within their bounds and write the moved points into ``scene``."""
        self.shift.clamp_(-MAX_SHIFT, MAX_SHIFT)
        growth = math.log(MAX_SCALE) * self.radius
        self.grow.copy_(torch.maximum(torch.minimum(self.grow, growth), -growth))
        self.turn.copy_(
            torch.maximum(torch.minimum(self.turn, MAX_TURN * self.radius), -MAX_TURN * self.radius)
        )
        scene.points.copy_(self.points())
