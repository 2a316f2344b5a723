"""Scene: the stroke parameters of a drawing as tensors.

Coordinates are resolution-independent: a point (x, y) in canvas units, where (0, 0) is the top-left corner and
(1, 1) the bottom-right one, so a scene renders at 224 px for optimisation and at any size for export. Widths are
in canvas units too (``width_px / canvas_px``).

Each stroke is one open cubic Bézier path of 1 to ``MAX_SEGMENTS`` segments. Points are stored padded to
``3 * MAX_SEGMENTS + 1`` per stroke; stroke ``i`` uses ``points[i, : 3 * segments[i] + 1]`` and ignores the rest.
Colours are straight-alpha RGBA in [0, 1]; strokes composite "over" in order onto ``background``, or onto nothing
when it is None (a transparent drawing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

MAX_SEGMENTS = 3
POINTS_PER_STROKE = 3 * MAX_SEGMENTS + 1
INVISIBLE_ALPHA = 0.02  # a stroke fainter than this changes a pixel over white by at most 5/255


@dataclass
class Scene:
    """All strokes of a drawing plus its background colour (None: no background, a transparent drawing)."""

    points: Tensor  # [N, POINTS_PER_STROKE, 2], canvas units
    segments: Tensor  # [N] int64, 1..MAX_SEGMENTS
    widths: Tensor  # [N], canvas units
    colors: Tensor  # [N, 4], straight RGBA in [0, 1]
    background: tuple[float, float, float] | None = field(default=(1.0, 1.0, 1.0))

    def __post_init__(self) -> None:
        n = self.points.shape[0]
        if self.points.shape != (n, POINTS_PER_STROKE, 2):
            raise ValueError(f"points must be [N, {POINTS_PER_STROKE}, 2], got {tuple(self.points.shape)}")
        if self.segments.shape != (n,) or self.widths.shape != (n,) or self.colors.shape != (n, 4):
            raise ValueError("segments, widths and colors must have one entry per stroke")

    @property
    def num_strokes(self) -> int:
        """Number of strokes."""
        return int(self.points.shape[0])

    @property
    def device(self) -> torch.device:
        """Device of the stroke tensors."""
        return self.points.device

    @classmethod
    def random(
        cls,
        num_strokes: int,
        *,
        generator: torch.Generator,
        canvas_px: int = 224,
        segments: tuple[int, int] = (1, MAX_SEGMENTS),
        radius: float = 0.1,
        width_px: float = 1.0,
        alpha: tuple[float, float] = (0.0, 1.0),
        gray: bool = False,
        background: tuple[float, float, float] | None = (1.0, 1.0, 1.0),
        device: torch.device | str = "cpu",
    ) -> Scene:
        """CLIPDraw's initialisation: a uniform start point, then each control point a random step of
        ``radius`` (canvas units) from the previous one; width ``width_px``; random RGBA.

        Random numbers come from ``generator`` (a CPU generator), so the scene is the same on every device.
        """
        lo, hi = segments
        if not 1 <= lo <= hi <= MAX_SEGMENTS:
            raise ValueError(f"segments must satisfy 1 <= min <= max <= {MAX_SEGMENTS}")
        n = num_strokes
        segs = torch.randint(lo, hi + 1, (n,), generator=generator)
        start = torch.rand(n, 1, 2, generator=generator)
        steps = radius * (torch.rand(n, POINTS_PER_STROKE - 1, 2, generator=generator) - 0.5)
        points = torch.cat([start, start + torch.cumsum(steps, dim=1)], dim=1)
        if gray:
            rgb = torch.rand(n, 1, generator=generator).expand(n, 3)
        else:
            rgb = torch.rand(n, 3, generator=generator)
        a = alpha[0] + (alpha[1] - alpha[0]) * torch.rand(n, 1, generator=generator)
        colors = torch.cat([rgb, a], dim=1)
        widths = torch.full((n,), width_px / canvas_px)
        return cls(points, segs, widths, colors, background).to(device)

    def to(self, device: torch.device | str) -> Scene:
        """A copy on ``device``."""
        return Scene(
            self.points.to(device),
            self.segments.to(device),
            self.widths.to(device),
            self.colors.to(device),
            self.background,
        )

    def snapshot(self) -> Scene:
        """A detached CPU copy, safe to keep while optimisation goes on."""
        return Scene(
            self.points.detach().cpu().clone(),
            self.segments.detach().cpu().clone(),
            self.widths.detach().cpu().clone(),
            self.colors.detach().cpu().clone(),
            self.background,
        )

    def requires_grad_(self, flag: bool = True) -> Scene:
        """Mark points, widths and colours as optimisable (in place)."""
        for t in (self.points, self.widths, self.colors):
            t.requires_grad_(flag)
        return self

    @torch.no_grad()
    def clamp_(self, min_width: float, max_width: float) -> None:
        """Keep widths in ``[min_width, max_width]`` (canvas units) and colours in [0, 1], in place."""
        self.widths.clamp_(min_width, max_width)
        self.colors.clamp_(0.0, 1.0)

    def subset(self, keep: Tensor) -> Scene:
        """A detached copy of the strokes where the bool mask ``keep`` ``[N]`` is true, in order."""
        return Scene(
            self.points.detach()[keep],
            self.segments.detach()[keep],
            self.widths.detach()[keep],
            self.colors.detach()[keep],
            self.background,
        )

    def visible(self, min_alpha: float = INVISIBLE_ALPHA) -> Scene:
        """A detached copy without the strokes whose opacity is under ``min_alpha`` (what the outputs hold)."""
        return self.subset(self.colors.detach()[:, 3] >= min_alpha)

    @torch.no_grad()
    def respawn_(
        self, min_alpha: float, generator: torch.Generator, **init: float | tuple[int, int]
    ) -> Tensor:
        """Give every stroke whose opacity fell under ``min_alpha`` a fresh random start (in place), drawn as
        :meth:`random` draws (``init``: its keyword arguments). Returns the mask of the strokes respawned."""
        faded = self.colors[:, 3] < min_alpha
        count = int(faded.sum())
        if count:
            fresh = Scene.random(count, generator=generator, background=self.background, **init)  # type: ignore[arg-type]
            idx = faded.nonzero().squeeze(1)
            self.points[idx] = fresh.points.to(self.points)
            self.segments[idx] = fresh.segments.to(self.segments)
            self.widths[idx] = fresh.widths.to(self.widths)
            self.colors[idx] = fresh.colors.to(self.colors)
        return faded
