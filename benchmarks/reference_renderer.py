"""A naive differentiable renderer, used only as a baseline by the benchmark and as an oracle by the tests.

Dense: every stroke is evaluated at every pixel. Each cubic is cut into 8 line pieces, coverage is
``clamp(half_width - distance + 0.5, 0, 1)`` with the distance to the nearest piece, and strokes are composited
"over" in order onto the background with plain autograd. Strokes are processed in chunks under activation
checkpointing so that memory stays bounded (autograd would otherwise keep strokes × pixels × pieces tensors).
"""

from __future__ import annotations

import ctypes

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from clipart.scene import Scene

try:
    _MALLOC_TRIM = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):
    _MALLOC_TRIM = None

PIECES = 8
CHUNK_ELEMENTS = 1 << 22  # strokes × pieces × pixels per checkpointed chunk


def _polyline(ctrl: Tensor) -> Tensor:
    """Vertices ``[S, 3 * PIECES + 1, 2]`` of the polylines through ``[S, 3, 4, 2]`` cubics (all three)."""
    t = torch.linspace(0, 1, PIECES + 1, dtype=ctrl.dtype, device=ctrl.device)[:-1, None]
    p0, p1, p2, p3 = (ctrl[:, :, None, k] for k in range(4))  # [S, 3, 1, 2]
    v = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
    return torch.cat([v.flatten(1, 2), ctrl[:, -1, 3:4]], dim=1)


def _release_freed_memory() -> None:
    """Give freed heap memory back to the OS (glibc only). Without it glibc keeps every chunk's freed buffers
    and the process grows with every chunk although little is alive (BENCHMARKS.md, "Rasterizer": Memory)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _chunk(img: Tensor, ctrl: Tensor, used: Tensor, half: Tensor, colors: Tensor, grid: Tensor) -> Tensor:
    _release_freed_memory()
    verts = _polyline(ctrl)
    a, d = verts[:, :-1, None], verts[:, 1:, None] - verts[:, :-1, None]  # [S, L, 1, 2]
    px, py = grid[:, 0] - a[..., 0], grid[:, 1] - a[..., 1]  # [S, L, H*W]
    dx, dy = d[..., 0], d[..., 1]
    t = ((px * dx + py * dy) / (dx * dx + dy * dy).clamp(min=1e-12)).clamp(0, 1)
    ex, ey = px - t * dx, py - t * dy
    d2 = (ex * ex + ey * ey).masked_fill(~used[:, :, None], float("inf")).amin(dim=1)  # [S, H*W]
    alpha = colors[:, 3:] * (half[:, None] - d2.sqrt() + 0.5).clamp(0, 1)
    for i in range(ctrl.shape[0]):
        img = img + alpha[i] * (colors[i, :3, None] - img)
    return img


def render_reference(scene: Scene, size: int) -> Tensor:
    """Render ``scene`` at ``size`` px: ``[3, size, size]``, differentiable by autograd."""
    dev, dtype = scene.device, scene.points.dtype
    px = (torch.arange(size, dtype=dtype, device=dev) + 0.5).tolist()
    yy, xx = torch.meshgrid(torch.tensor(px, dtype=dtype), torch.tensor(px, dtype=dtype), indexing="ij")
    grid = torch.stack([xx, yy], dim=-1).reshape(-1, 2).to(dev)
    img = torch.tensor(scene.background, dtype=dtype, device=dev)[:, None].expand(3, size * size)
    ctrl = torch.stack([scene.points[:, 3 * j : 3 * j + 4] for j in range(3)], dim=1) * size  # [N, 3, 4, 2]
    used = torch.arange(3 * PIECES, device=dev)[None, :] < scene.segments[:, None] * PIECES
    half = scene.widths * size / 2
    colors = scene.colors
    chunk = max(1, CHUNK_ELEMENTS // (3 * PIECES * size * size))
    for s in range(0, scene.num_strokes, chunk):
        sl = slice(s, s + chunk)
        img = checkpoint(_chunk, img, ctrl[sl], used[sl], half[sl], colors[sl], grid, use_reentrant=False)
    return img.reshape(3, size, size)
