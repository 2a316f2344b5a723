"""Flattening of the strokes' cubic Bézier segments into polylines."""

from __future__ import annotations

import torch
from torch import Tensor

from clipart.scene import MAX_SEGMENTS, POINTS_PER_STROKE

PIECES_PER_CUBIC = 8


def _bernstein(pieces: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """The cubic Bernstein basis at t = k / pieces for k in 0..pieces-1: ``[pieces, 4]``."""
    t = torch.arange(pieces, dtype=dtype, device=device) / pieces
    s = 1 - t
    return torch.stack([s**3, 3 * s * s * t, 3 * s * t * t, t**3], dim=1)


def flatten(points: Tensor, pieces: int = PIECES_PER_CUBIC) -> Tensor:
    """Polyline vertices of every stroke: ``[N, MAX_SEGMENTS * pieces + 1, 2]`` from points ``[N, 10, 2]``.

    Vertex ``j * pieces + k`` is cubic ``j`` at ``t = k / pieces``, so vertex ``segments * pieces`` is exactly the
    stroke's last used control point and a stroke with ``segments`` cubics uses the first ``segments * pieces``
    line pieces. Those vertices give the unused padded points a weight of exactly zero.
    """
    n = points.shape[0]
    idx = torch.arange(3 * MAX_SEGMENTS, device=points.device).view(MAX_SEGMENTS, 3)
    idx = torch.cat([idx, idx[:, :1] + 3], dim=1)  # control points 3j .. 3j+3 of cubic j
    ctrl = points[:, idx]  # [N, MAX_SEGMENTS, 4, 2]
    basis = _bernstein(pieces, points.dtype, points.device)
    verts = torch.einsum("pk,nckd->ncpd", basis, ctrl).reshape(n, MAX_SEGMENTS * pieces, 2)
    return torch.cat([verts, points[:, POINTS_PER_STROKE - 1 :]], dim=1)
