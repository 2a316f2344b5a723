"""Which pixels each stroke reaches, and how far they are from it.

A stroke is a polyline of line pieces with a half width ``hw``; a pixel centre at distance ``d`` from the nearest
piece is covered ``clamp(hw - d + 0.5, 0, 1)``, so only pixels with ``d < hw + 0.5`` (the stroke's *reach*) matter.

Every piece gets a small square patch of pixels around it (its box grown by the reach), and pieces are bucketed by
patch size so each bucket is one batched computation. Each stroke owns a rectangular block of a flat buffer
(its box clipped to the canvas); every piece writes its squared distances into its stroke's block with a
``scatter_reduce`` min, keyed so that the minimum also names the nearest piece. A stroke that crosses itself thus
covers a pixel once, by its nearest piece. Work is proportional to the pixels near the pieces, not to the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

# Pixels outside a stroke's block are moved this far away so that they are never within reach.
_FAR = 1e18
# Most elements one batched patch computation may hold (bounds the memory of a bucket).
_CHUNK = 1 << 20
# The bits of float32 +inf.
_INF_BITS = 0x7F800000


@dataclass
class Pieces:
    """Line pieces (in pixels) of all strokes that reach the canvas."""

    a: Tensor  # [M, 2] start points
    b: Tensor  # [M, 2] end points
    stroke: Tensor  # [M] stroke index
    vert: Tensor  # [M] index of the start vertex in ``verts.reshape(-1, 2)``


@dataclass
class Pairs:
    """(stroke, pixel) pairs within reach, in stroke order (and row-major within a stroke)."""

    stroke: Tensor  # [P]
    piece: Tensor  # [P] the nearest piece
    x: Tensor  # [P] pixel column
    y: Tensor  # [P] pixel row
    d2: Tensor  # [P] squared distance from the pixel centre to the nearest piece


def make_pieces(verts: Tensor, num_pieces: Tensor) -> Pieces:
    """The used line pieces of polylines ``verts`` ``[N, V, 2]``; stroke ``i`` uses its first ``num_pieces[i]``."""
    n, v, _ = verts.shape
    used = torch.arange(v - 1, device=verts.device)[None, :] < num_pieces[:, None]
    stroke, k = used.nonzero(as_tuple=True)
    vert = stroke * v + k
    flat = verts.reshape(-1, 2)
    return Pieces(flat[vert], flat[vert + 1], stroke, vert)


def _bucket_sizes(size: int, device: torch.device) -> Tensor:
    """Patch sizes 1, 2, 3, 4, 6, 8, 12, … (powers of two and 1.5 times them) up to at least ``size``."""
    sizes, k = [1], 2
    while sizes[-1] < size:
        sizes += [k, k * 3 // 2]
        k *= 2
    return torch.tensor(sizes, device=device)


def _segment_frame(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Unit direction (``(1, 0)`` for a zero-length piece) and length of pieces ``a → b``."""
    d = b - a
    length = d.norm(dim=-1)
    x_axis = torch.tensor([1.0, 0.0], dtype=d.dtype, device=d.device)
    unit = torch.where(length[..., None] > 0, d / length.clamp(min=1e-30)[..., None], x_axis)
    return unit, length


class _Blocks:
    """The rectangular block of the flat buffer that each stroke owns (its box clipped to the canvas)."""

    def __init__(self, lo: Tensor, hi: Tensor, stroke: Tensor, num_strokes: int, size: int) -> None:
        dev = lo.device
        self.x0 = torch.full((num_strokes,), size, device=dev).scatter_reduce_(0, stroke, lo[:, 0], "amin")
        self.y0 = torch.full((num_strokes,), size, device=dev).scatter_reduce_(0, stroke, lo[:, 1], "amin")
        self.x1 = torch.full((num_strokes,), -1, device=dev).scatter_reduce_(0, stroke, hi[:, 0], "amax")
        self.y1 = torch.full((num_strokes,), -1, device=dev).scatter_reduce_(0, stroke, hi[:, 1], "amax")
        self.w = (self.x1 - self.x0 + 1).clamp_(min=0)
        area = self.w * (self.y1 - self.y0 + 1).clamp_(min=0)
        self.base = torch.cumsum(area, 0) - area
        self.total = int(area.sum())


def _patch_d2(
    pc: Pieces, idx: Tensor, lo: Tensor, k: int, bl: _Blocks, reach: Tensor
) -> tuple[Tensor, Tensor]:
    """Squared distances ``[m, k, k]`` (``inf`` beyond reach) from the pixels of the patches of pieces ``idx``
    to those pieces, and the buffer index of each pixel."""
    ar = torch.arange(k, device=idx.device)
    s = pc.stroke[idx]
    kx = lo[idx, 0, None] + ar  # [m, k] pixel columns
    ky = lo[idx, 1, None] + ar  # [m, k] pixel rows
    okx = kx <= bl.x1[s, None]
    oky = ky <= bl.y1[s, None]
    a = pc.a[idx]
    unit, length = _segment_frame(a, pc.b[idx])
    qx = torch.where(okx, kx + 0.5 - a[:, :1], _FAR)
    qy = torch.where(oky, ky + 0.5 - a[:, 1:], _FAR)
    ux, uy = unit[:, :1], unit[:, 1:]
    along = (qx * ux)[:, None, :] + (qy * uy)[:, :, None]
    perp = (qy * ux)[:, :, None] - (qx * uy)[:, None, :]
    excess = along - along.clamp(min=0).minimum(length[:, None, None])
    d2 = perp.mul_(perp).addcmul_(excess, excess)
    r = reach[s]
    d2.masked_fill_(d2 >= (r * r)[:, None, None], float("inf"))
    row = torch.where(oky, ky - bl.y0[s, None], 0) * bl.w[s, None] + bl.base[s, None]
    col = torch.where(okx, kx - bl.x0[s, None], 0)
    return d2, row[:, :, None] + col[:, None, :]


def _chunks(pc: Pieces, lo: Tensor, hi: Tensor):
    """Yield ``(piece indices, patch size)`` batches: pieces bucketed by patch size, at most ``_CHUNK`` pixels."""
    ext = (hi - lo + 1).amax(dim=1)
    sizes = _bucket_sizes(int(ext.max()), ext.device)
    bucket = torch.searchsorted(sizes, ext)
    order = torch.argsort(bucket, stable=True)
    counts = torch.bincount(bucket, minlength=len(sizes)).tolist()
    start = 0
    for k, count in zip(sizes.tolist(), counts, strict=True):
        step = max(1, _CHUNK // (k * k))
        for s in range(start, start + count, step):
            yield order[s : min(s + step, start + count)], k
        start += count


def nearest_pieces(pieces: Pieces, reach: Tensor, size: int) -> tuple[Pieces, Pairs]:
    """All (stroke, pixel) pairs with a pixel centre within ``reach[stroke]`` of the stroke on a ``size``-pixel
    canvas, with the nearest piece and its squared distance. Also returns the pieces that reach the canvas,
    which ``Pairs.piece`` indexes."""
    r = reach[pieces.stroke][:, None]
    lim = (-2.0, size + 2.0)
    # pixel k (centre k + 0.5) can be within reach only if lo < k + 0.5 < hi
    lo = (torch.floor((torch.minimum(pieces.a, pieces.b) - r).clamp(*lim) - 0.5) + 1).long().clamp_(min=0)
    hi = (
        (torch.ceil((torch.maximum(pieces.a, pieces.b) + r).clamp(*lim) - 0.5) - 1)
        .long()
        .clamp_(max=size - 1)
    )
    on = (lo <= hi).all(dim=1).nonzero().squeeze(1)
    pc = Pieces(pieces.a[on], pieces.b[on], pieces.stroke[on], pieces.vert[on])
    lo, hi = lo[on], hi[on]
    dev = lo.device
    bl = _Blocks(lo, hi, pc.stroke, reach.shape[0], size)
    if len(on) == 0:
        empty = torch.zeros(0, dtype=torch.long, device=dev)
        return pc, Pairs(empty, empty, empty, empty, torch.zeros(0, dtype=reach.dtype, device=dev))
    if reach.dtype == torch.float32:
        # One pass: the key (d2 bits << 32 | piece) orders by distance (non-negative floats order like their
        # bits) and names the nearest piece.
        inf_key = _INF_BITS << 32
        buf = torch.full((bl.total,), inf_key | 0xFFFFFFFF, dtype=torch.long, device=dev)
        for idx, k in _chunks(pc, lo, hi):
            d2, e = _patch_d2(pc, idx, lo, k, bl, reach)
            key = (d2.view(torch.int32).long() << 32) | idx[:, None, None]
            buf.scatter_reduce_(0, e.reshape(-1), key.reshape(-1), "amin")
        e = (buf < inf_key).nonzero().squeeze(1)
        key = buf[e]
        piece = key & 0xFFFFFFFF
        d2 = (key >> 32).int().view(torch.float32)
    else:
        # Any dtype: the minimum distance first, then the lowest piece index that attains it.
        parts = [(idx, *_patch_d2(pc, idx, lo, k, bl, reach)) for idx, k in _chunks(pc, lo, hi)]
        dmin = torch.full((bl.total,), float("inf"), dtype=reach.dtype, device=dev)
        for _, d2, e in parts:
            dmin.scatter_reduce_(0, e.reshape(-1), d2.reshape(-1), "amin")
        best = torch.full((bl.total,), len(on), device=dev)
        for idx, d2, e in parts:
            win = (d2 == dmin[e]) & (d2 < float("inf"))
            best.scatter_reduce_(0, e[win], idx[:, None, None].expand_as(e)[win], "amin")
        e = (dmin < float("inf")).nonzero().squeeze(1)
        piece, d2 = best[e], dmin[e]
    s = pc.stroke[piece]
    local = e - bl.base[s]
    row = torch.div(local, bl.w[s], rounding_mode="floor")
    return pc, Pairs(s, piece, bl.x0[s] + local - row * bl.w[s], bl.y0[s] + row, d2)


def distance_grad(pc: Pieces, pairs: Pairs, g_d: Tensor, num_verts: int) -> Tensor:
    """Gradient ``[num_verts, 2]`` w.r.t. the flat polyline vertices, given ``g_d`` = dL/d(distance) per pair."""
    a, b = pc.a[pairs.piece], pc.b[pairs.piece]
    unit, length = _segment_frame(a, b)
    q = torch.stack([pairs.x, pairs.y], dim=1).to(a.dtype) + 0.5 - a
    along = (q * unit).sum(dim=1).clamp(min=0).minimum(length)
    diff = q - along[:, None] * unit
    d = diff.norm(dim=1)
    n = diff / d.clamp(min=1e-12)[:, None]  # unit vector from the nearest point to the pixel (0 when d is 0)
    tau = along / length.clamp(min=1e-30)  # position of the nearest point along the piece, 0..1
    g = -g_d[:, None] * n
    grad = torch.zeros(num_verts, 2, dtype=a.dtype, device=a.device)
    vert = pc.vert[pairs.piece]
    grad.index_add_(0, vert, g * (1 - tau)[:, None])
    grad.index_add_(0, vert + 1, g * tau[:, None])
    return grad
