"""The pure-PyTorch differentiable rasterizer (the default renderer).

Strokes are flattened to polylines (see :mod:`.bezier`), each pixel within reach of a stroke gets coverage
``clamp(hw - d + 0.5, 0, 1)`` from its distance ``d`` to the nearest piece (see :mod:`.coverage`), and strokes are
composited "over" in order onto the background (see :mod:`.composite`), or, for a render with alpha, onto nothing:
premultiplied RGB plus the strokes' alpha, as if each stroke had a fourth colour channel equal to 1. One autograd Function holds both steps
for a group of strokes, with an analytic backward, so memory grows with the pixels the strokes touch, not with
strokes × canvas; large scenes are drawn as a chain of such groups.

Colours are clamped to [0, 1] for drawing but the gradient passes straight through the clamp, so a stroke whose
alpha was clamped to 0 (or a channel to 1) can still move back.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from clipart.render.bezier import flatten
from clipart.render.composite import over, over_backward
from clipart.render.coverage import distance_grad, make_pieces, nearest_pieces, take_columns
from clipart.scene import Scene

# Strokes are rendered in groups whose boxes cover at most this many pixels in all (more when one stroke does),
# each group composited onto the image of the groups below; without gradients each group's state is freed before
# the next, so memory stays bounded however large the canvas.
_GROUP_PIXELS = 1 << 22


class _Rasterize(torch.autograd.Function):
    """Polylines over a flat image ``[3, Q]`` (or ``[4, Q]``: premultiplied RGB and alpha) → the new image;
    differentiable w.r.t. the vertices, half widths, colours and the image under the strokes."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        verts: Tensor,
        half_width: Tensor,
        colors: Tensor,
        num_pieces: Tensor,
        offset: Tensor,
        under: Tensor,
        size: int,
    ) -> Tensor:
        colors = colors.clamp(0, 1)  # straight through: clamped values, unclamped gradient
        pieces = make_pieces(verts, num_pieces)
        pc, frame, pairs = nearest_pieces(pieces, half_width + 0.5, size, offset)
        hw, opacity = take_columns(torch.stack([half_width, colors[:, 3]]), pairs.stroke)
        cov = (hw + 0.5 - pairs.d2.sqrt()).clamp_(0, 1)
        paint = colors[:, :3] if under.shape[0] == 3 else F.pad(colors[:, :3], (0, 1), value=1.0)  # alpha: 1
        image, state = over(pairs.pix, pairs.stroke, opacity * cov, paint.T.contiguous(), under)
        ctx.state = (pc, frame, pairs, cov, opacity, state, verts.shape)
        return image

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        pc, frame, pairs, cov, opacity, state, vshape = ctx.state
        n = vshape[0]
        g_alpha, g_rgb, g_under = over_backward(state, grad, n, under_grad=ctx.needs_input_grad[5])
        g_cov = g_alpha * opacity * ((cov > 0) & (cov < 1))
        g_stroke = torch.zeros(2, n, dtype=grad.dtype, device=grad.device)
        g_stroke.index_add_(1, pairs.stroke, torch.stack([g_cov, g_alpha * cov]))
        g_verts = distance_grad(pc, frame, pairs, -g_cov, vshape[0] * vshape[1]).view(vshape)
        g_colors = torch.cat([g_rgb[:3], g_stroke[1:]]).T
        return g_verts, g_stroke[0], g_colors, None, None, g_under, None


def _stroke_groups(points: Tensor, segments: Tensor, reach: Tensor, size: int) -> list[int]:
    """Sizes of consecutive stroke groups whose boxes (an upper bound of the pixels they reach: a cubic lies in
    the hull of its control points) cover at most ``_GROUP_PIXELS`` pixels each, or one stroke."""
    if points.shape[0] * size * size <= _GROUP_PIXELS:
        return [points.shape[0]]
    p = points.detach()
    used = (torch.arange(p.shape[1], device=p.device) <= 3 * segments.to(p.device)[:, None])[..., None]
    lo = torch.where(used, p, float("inf")).amin(dim=1) - reach[:, None]
    hi = torch.where(used, p, float("-inf")).amax(dim=1) + reach[:, None]
    side = (hi.clamp(0, size) - lo.clamp(0, size) + 1).clamp(min=0)
    area = side[:, 0] * side[:, 1]
    start = torch.div(torch.cumsum(area, 0) - area, _GROUP_PIXELS, rounding_mode="floor")
    return torch.unique_consecutive(start, return_counts=True)[1].tolist()


def render_scenes(
    scenes: list[Scene], size: int, *, pieces: int | None = None, alpha: bool = False
) -> Tensor:
    """Render ``scenes`` (all on one device) at ``size`` px in one batched pass: ``[K, 3, size, size]`` over
    each scene's background (white for a scene without one), or with ``alpha`` ``[K, 4, size, size]``: the
    strokes alone, premultiplied RGB and alpha, whatever the backgrounds.

    ``pieces`` fixes the line pieces per cubic; by default each cubic gets enough for 0.1 px accuracy.
    """
    dev = scenes[0].device
    points = torch.cat([s.points for s in scenes])
    dtype = points.dtype
    points = points * size
    segments = torch.cat([s.segments for s in scenes])
    verts, num_pieces = flatten(points, segments, pieces=pieces)
    half_width = torch.cat([s.widths for s in scenes]) * (size / 2)
    colors = torch.cat([s.colors for s in scenes])
    counts = torch.tensor([s.num_strokes for s in scenes], device=dev)
    offset = torch.repeat_interleave(torch.arange(len(scenes), device=dev) * (size * size), counts)
    if alpha:
        background = torch.zeros(len(scenes), 4, dtype=dtype, device=dev)
    else:
        canvas = [s.background or (1.0, 1.0, 1.0) for s in scenes]
        background = torch.tensor(canvas, dtype=dtype, device=dev)  # [K, 3]
    channels = background.shape[1]
    image = background.T[:, :, None].expand(channels, -1, size * size).contiguous().view(channels, -1)
    if verts.shape[0]:
        groups = _stroke_groups(points, segments, half_width.detach() + 0.5, size)
        for args in zip(
            *(t.split(groups) for t in (verts, half_width, colors, num_pieces, offset)), strict=True
        ):
            image = _Rasterize.apply(*args, image, size)
    return image.view(channels, len(scenes), size, size).transpose(0, 1).contiguous()
