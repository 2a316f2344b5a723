"""The pure-PyTorch differentiable rasterizer (the default renderer).

Strokes are flattened to polylines (see :mod:`.bezier`), each pixel within reach of a stroke gets coverage
``clamp(hw - d + 0.5, 0, 1)`` from its distance ``d`` to the nearest piece (see :mod:`.coverage`), and strokes are
composited "over" in order onto the background (see :mod:`.composite`). One autograd Function holds both steps
with an analytic backward, so memory grows with the pixels the strokes touch, not with strokes × canvas.

Colours are clamped to [0, 1] for drawing but the gradient passes straight through the clamp, so a stroke whose
alpha was clamped to 0 (or a channel to 1) can still move back.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from clipart.render.bezier import flatten
from clipart.render.composite import over, over_backward
from clipart.render.coverage import distance_grad, make_pieces, nearest_pieces, take_columns
from clipart.scene import Scene


class _Rasterize(torch.autograd.Function):
    """Polylines → image ``[K, 3, size, size]``; differentiable w.r.t. vertices, half widths and colours."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        verts: Tensor,
        half_width: Tensor,
        colors: Tensor,
        num_pieces: Tensor,
        scene_index: Tensor,
        background: Tensor,
        size: int,
    ) -> Tensor:
        colors = colors.clamp(0, 1)  # straight through: clamped values, unclamped gradient
        pieces = make_pieces(verts, num_pieces)
        offset = scene_index * (size * size)
        pc, frame, pairs = nearest_pieces(pieces, half_width + 0.5, size, offset)
        hw, opacity = take_columns(torch.stack([half_width, colors[:, 3]]), pairs.stroke)
        cov = (hw + 0.5 - pairs.d2.sqrt()).clamp_(0, 1)
        rgb = colors[:, :3].T.contiguous()
        image, state = over(pairs.pix, pairs.stroke, opacity * cov, rgb, background, size * size)
        ctx.state = (pc, frame, pairs, cov, opacity, state, verts.shape)
        return image.view(3, background.shape[1], size, size).transpose(0, 1).contiguous()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        pc, frame, pairs, cov, opacity, state, vshape = ctx.state
        n = vshape[0]
        g_alpha, g_rgb = over_backward(state, grad.transpose(0, 1).reshape(3, -1), n)
        g_cov = g_alpha * opacity * ((cov > 0) & (cov < 1))
        g_stroke = torch.zeros(n, 2, dtype=grad.dtype, device=grad.device)
        g_stroke.index_add_(0, pairs.stroke, torch.stack([g_cov, g_alpha * cov], dim=1))
        g_verts = distance_grad(pc, frame, pairs, -g_cov, vshape[0] * vshape[1]).view(vshape)
        g_colors = torch.cat([g_rgb, g_stroke[:, 1:]], dim=1)
        return g_verts, g_stroke[:, 0], g_colors, None, None, None, None


def render_scenes(scenes: list[Scene], size: int, *, pieces: int | None = None) -> Tensor:
    """Render ``scenes`` (all on one device) at ``size`` px in one batched pass: ``[K, 3, size, size]``.

    ``pieces`` fixes the line pieces per cubic; by default each cubic gets enough for 0.1 px accuracy.
    """
    dev = scenes[0].device
    points = torch.cat([s.points for s in scenes])
    dtype = points.dtype
    verts, num_pieces = flatten(points * size, torch.cat([s.segments for s in scenes]), pieces=pieces)
    half_width = torch.cat([s.widths for s in scenes]) * (size / 2)
    colors = torch.cat([s.colors for s in scenes])
    counts = torch.tensor([s.num_strokes for s in scenes], device=dev)
    scene_index = torch.repeat_interleave(torch.arange(len(scenes), device=dev), counts)
    background = torch.tensor(
        [s.background for s in scenes], dtype=dtype, device=dev
    ).T.contiguous()  # [3, K]
    return _Rasterize.apply(verts, half_width, colors, num_pieces, scene_index, background, size)
