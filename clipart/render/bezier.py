"""Flattening of the strokes' cubic Bézier segments into polylines.

Each cubic gets just enough line pieces for the polyline to stay within ``tolerance`` pixels of the curve: for a
cubic with control points P0..P3 and ``n`` equal steps in t, the chord error is at most ``0.75 M / n**2`` with
``M = max |P(i+2) - 2 P(i+1) + P(i)|`` (from ``|B''| <= 6 M``), so ``n = ceil(sqrt(0.75 M / tolerance))``.
Counts are computed in pixels, so a scene rendered larger gets more pieces.
"""

from __future__ import annotations

import torch
from torch import Tensor

from clipart.scene import MAX_SEGMENTS

# Largest chord error of the polyline, in pixels.
TOLERANCE_PX = 0.1
MAX_PIECES_PER_CUBIC = 64


def pieces_per_cubic(ctrl: Tensor, tolerance: float) -> Tensor:
    """Line pieces needed by each cubic of ``ctrl`` ``[..., 4, 2]`` (pixels) for a chord error <= tolerance."""
    c = ctrl.detach().float()  # the same counts whatever the dtype
    m = (c[..., 2:, :] - 2 * c[..., 1:3, :] + c[..., :2, :]).norm(dim=-1).amax(dim=-1)
    return torch.ceil(torch.sqrt(0.75 * m / tolerance)).clamp_(1, MAX_PIECES_PER_CUBIC).long()


def flatten(
    points: Tensor, segments: Tensor, tolerance: float = TOLERANCE_PX, pieces: int | None = None
) -> tuple[Tensor, Tensor]:
    """Polyline vertices ``[N, V, 2]`` of strokes with control points ``points`` ``[N, 10, 2]`` (pixels) and
    ``segments`` ``[N]`` cubics, and the number of line pieces of each stroke (it uses vertices 0..count).

    ``pieces`` fixes the number of pieces per cubic instead of deriving it from ``tolerance``. Vertices are
    evaluated on the used cubics only, so the unused padded points get no gradient.
    """
    n = points.shape[0]
    dev = points.device
    idx = torch.arange(3 * MAX_SEGMENTS, device=dev).view(MAX_SEGMENTS, 3)
    ctrl = points[:, torch.cat([idx, idx[:, :1] + 3], dim=1)]  # [N, MAX_SEGMENTS, 4, 2]
    if pieces is None:
        per_cubic = pieces_per_cubic(ctrl, tolerance)
    else:
        per_cubic = torch.full((n, MAX_SEGMENTS), pieces, device=dev)
    segs = segments.to(dev).clamp(1, MAX_SEGMENTS)
    per_cubic = torch.where(torch.arange(MAX_SEGMENTS, device=dev) < segs[:, None], per_cubic, 0)
    count = per_cubic.sum(dim=1)
    num_verts = int(count.max()) + 1 if n else 1
    end = torch.cumsum(per_cubic, dim=1)
    slot = torch.arange(num_verts, device=dev).expand(n, num_verts)
    cubic = torch.minimum(torch.searchsorted(end, slot.contiguous(), right=True), segs[:, None] - 1)
    k = slot - (end - per_cubic).gather(1, cubic)
    t = (k / per_cubic.gather(1, cubic)).clamp(max=1).to(points.dtype)[..., None]  # vertex `count` is t = 1
    s = 1 - t
    basis = torch.stack([s**3, 3 * s * s * t, 3 * s * t * t, t**3], dim=-1)  # [N, V, 1, 4]
    c = ctrl[torch.arange(n, device=dev)[:, None], cubic]  # [N, V, 4, 2]
    return (basis @ c).squeeze(-2), count
