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

import sys
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

    def frame(self) -> Tensor:
        """``[5, M]``: start x, start y, unit direction x, y (``(1, 0)`` for a zero-length piece), length."""
        d = self.b - self.a
        length = torch.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
        x_axis = torch.tensor([1.0, 0.0], dtype=d.dtype, device=d.device)
        unit = torch.where(length[:, None] > 0, d / length.clamp(min=1e-30)[:, None], x_axis)
        return torch.cat([self.a, unit, length[:, None]], dim=1).T.contiguous()


@dataclass
class Pairs:
    """(stroke, pixel) pairs within reach, in stroke order (and row-major within a stroke)."""

    stroke: Tensor  # [P]
    piece: Tensor  # [P] the nearest piece
    x: Tensor  # [P] pixel column
    y: Tensor  # [P] pixel row
    pix: Tensor  # [P] flat pixel index, ``offset[stroke] + y * size + x``
    d2: Tensor  # [P] squared distance from the pixel centre to the nearest piece


def _take(t: Tensor, idx: Tensor) -> Tensor:
    """``t[idx]`` along dim 0 (``index_select`` is several times faster than advanced indexing on CPU)."""
    return torch.index_select(t, 0, idx)


def take_columns(table: Tensor, idx: Tensor) -> Tensor:
    """``table[:, idx]`` for a ``[k, N]`` table (a gather: faster than row gathers of an ``[N, k]`` one)."""
    return torch.gather(table, 1, idx[None].expand(table.shape[0], -1))


def make_pieces(verts: Tensor, num_pieces: Tensor) -> Pieces:
    """The used line pieces of polylines ``verts`` ``[N, V, 2]``; stroke ``i`` uses its first ``num_pieces[i]``."""
    n, v, _ = verts.shape
    used = torch.arange(v - 1, device=verts.device)[None, :] < num_pieces[:, None]
    stroke, k = used.nonzero(as_tuple=True)
    vert = stroke * v + k
    flat = verts.reshape(-1, 2)
    return Pieces(_take(flat, vert), _take(flat, vert + 1), stroke, vert)


def _bucket_sizes(size: int, device: torch.device) -> Tensor:
    """Patch sizes 1, 2, 3, 4, 6, 8, 12, … (powers of two and 1.5 times them) up to at least ``size``."""
    sizes, k = [1], 2
    while sizes[-1] < size:
        sizes += [k, k * 3 // 2]
        k *= 2
    return torch.tensor(sizes, device=device)


class _Blocks:
    """The rectangular block of the flat buffer that each stroke owns (its box clipped to the canvas), as a
    ``[6, N]`` table of x0, y0, x1, y1, width and offset in the buffer."""

    X0, Y0, X1, Y1, W, BASE = range(6)

    def __init__(self, lo: Tensor, hi: Tensor, stroke: Tensor, num_strokes: int, size: int) -> None:
        dev = lo.device
        start = torch.full((num_strokes, 2), size, device=dev)
        start.scatter_reduce_(0, stroke[:, None].expand(-1, 2), lo, "amin")
        stop = torch.full((num_strokes, 2), -1, device=dev)
        stop.scatter_reduce_(0, stroke[:, None].expand(-1, 2), hi, "amax")
        wh = (stop - start + 1).clamp_(min=0)
        area = wh[:, 0] * wh[:, 1]
        base = torch.cumsum(area, 0) - area
        self.table = torch.cat([start, stop, wh[:, :1], base[:, None]], dim=1).T.contiguous()
        self.total = int(area.sum())


def _patch_d2(
    frame: Tensor, stroke: Tensor, lo: Tensor, idx: Tensor, k: int, bl: _Blocks, reach2: Tensor
) -> tuple[Tensor, Tensor]:
    """Squared distances ``[m, k, k]`` (``inf`` beyond reach) from the pixels of the patches of pieces ``idx``
    to those pieces, and the buffer index of each pixel."""
    ar = torch.arange(k, device=idx.device)
    s = _take(stroke, idx)
    blk = take_columns(bl.table, s)[:, :, None]  # [6, m, 1]
    start = _take(lo, idx)
    kx = start[:, :1] + ar  # [m, k] pixel columns
    ky = start[:, 1:] + ar  # [m, k] pixel rows
    okx = kx <= blk[bl.X1]
    oky = ky <= blk[bl.Y1]
    ax, ay, ux, uy, length = take_columns(frame, idx)[:, :, None]  # each [m, 1]
    qx = torch.where(okx, kx + 0.5 - ax, _FAR)
    qy = torch.where(oky, ky + 0.5 - ay, _FAR)
    along = (qx * ux)[:, None, :] + (qy * uy)[:, :, None]
    perp = (qy * ux)[:, :, None] - (qx * uy)[:, None, :]
    excess = along - along.clamp(min=0).minimum(length[:, :, None])
    d2 = perp.mul_(perp).addcmul_(excess, excess)
    d2.masked_fill_(d2 >= _take(reach2, s)[:, None, None], float("inf"))
    row = torch.where(oky, ky - blk[bl.Y0], 0) * blk[bl.W] + blk[bl.BASE]
    col = torch.where(okx, kx - blk[bl.X0], 0)
    return d2, row[:, :, None] + col[:, None, :]


def _chunks(lo: Tensor, hi: Tensor):
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


def _pack(d2: Tensor, idx: Tensor) -> Tensor:
    """int64 keys ``bits(d2) << 32 | piece`` that order by distance (non-negative floats order like their bits)
    and name the piece."""
    if sys.byteorder == "little":  # one pass: the int32 pair (piece, bits) read as one int64
        piece = idx.int()[:, None, None].expand(d2.shape)
        return torch.stack([piece, d2.view(torch.int32)], dim=-1).view(torch.int64)
    return (d2.view(torch.int32).long() << 32) | idx[:, None, None]


def nearest_pieces(pieces: Pieces, reach: Tensor, size: int, offset: Tensor) -> tuple[Pieces, Tensor, Pairs]:
    """All (stroke, pixel) pairs with a pixel centre within ``reach[stroke]`` of the stroke on a ``size``-pixel
    canvas, with the nearest piece and its squared distance; ``offset[stroke]`` is added to the flat pixel
    index. Also returns the pieces that reach the canvas (which ``Pairs.piece`` indexes) and their frames."""
    r = _take(reach, pieces.stroke)[:, None]
    lim = (-2.0, size + 2.0)
    # pixel k (centre k + 0.5) can be within reach only if lo < k + 0.5 < hi
    lo = (torch.floor((torch.minimum(pieces.a, pieces.b) - r).clamp(*lim) - 0.5) + 1).long().clamp_(min=0)
    hi = (
        torch.ceil((torch.maximum(pieces.a, pieces.b) + r).clamp(*lim) - 0.5)
        .long()
        .sub_(1)
        .clamp_(max=size - 1)
    )
    on = (lo <= hi).all(dim=1).nonzero().squeeze(1)
    pc = Pieces(_take(pieces.a, on), _take(pieces.b, on), _take(pieces.stroke, on), _take(pieces.vert, on))
    lo, hi = _take(lo, on), _take(hi, on)
    frame = pc.frame()
    dev = lo.device
    bl = _Blocks(lo, hi, pc.stroke, reach.shape[0], size)
    if len(on) == 0:
        empty = torch.zeros(0, dtype=torch.long, device=dev)
        return (
            pc,
            frame,
            Pairs(empty, empty, empty, empty, empty, torch.zeros(0, dtype=reach.dtype, device=dev)),
        )
    reach2 = reach * reach
    if reach.dtype == torch.float32:
        # One pass: a scatter-min of packed (distance, piece) keys.
        inf_key = _INF_BITS << 32
        buf = torch.full((bl.total,), inf_key | 0x7FFFFFFF, dtype=torch.long, device=dev)
        for idx, k in _chunks(lo, hi):
            d2, e = _patch_d2(frame, pc.stroke, lo, idx, k, bl, reach2)
            buf.scatter_reduce_(0, e.reshape(-1), _pack(d2, idx).reshape(-1), "amin")
        e = (buf < inf_key).nonzero().squeeze(1)
        key = _take(buf, e)
        piece = key & 0xFFFFFFFF
        d2 = (key >> 32).int().view(torch.float32)
    else:
        # Any dtype: the minimum distance first, then the lowest piece index that attains it.
        parts = [(idx, *_patch_d2(frame, pc.stroke, lo, idx, k, bl, reach2)) for idx, k in _chunks(lo, hi)]
        dmin = torch.full((bl.total,), float("inf"), dtype=reach.dtype, device=dev)
        for _, d2, e in parts:
            dmin.scatter_reduce_(0, e.reshape(-1), d2.reshape(-1), "amin")
        best = torch.full((bl.total,), len(on), device=dev)
        for idx, d2, e in parts:
            win = (d2 == dmin[e]) & (d2 < float("inf"))
            best.scatter_reduce_(0, e[win], idx[:, None, None].expand_as(e)[win], "amin")
        e = (dmin < float("inf")).nonzero().squeeze(1)
        piece, d2 = _take(best, e), _take(dmin, e)
    s = _take(pc.stroke, piece)
    blk = take_columns(bl.table, s)
    local = e - blk[bl.BASE]
    row = torch.div(local, blk[bl.W], rounding_mode="floor")
    x = blk[bl.X0] + local - row * blk[bl.W]
    y = blk[bl.Y0] + row
    return pc, frame, Pairs(s, piece, x, y, _take(offset, s) + y * size + x, d2)


def distance_grad(pc: Pieces, frame: Tensor, pairs: Pairs, g_d: Tensor, num_verts: int) -> Tensor:
    """Gradient ``[num_verts, 2]`` w.r.t. the flat polyline vertices, given ``g_d`` = dL/d(distance) per pair."""
    ax, ay, ux, uy, length = take_columns(frame, pairs.piece)
    qx = pairs.x.to(ax.dtype) + 0.5 - ax
    qy = pairs.y.to(ax.dtype) + 0.5 - ay
    along = (qx * ux + qy * uy).clamp_(min=0).minimum(length)
    dx = qx - along * ux
    dy = qy - along * uy
    # dd/da = -(1 - tau) n and dd/db = -tau n, with n the unit vector from the nearest point to the pixel
    # (0 when the distance is 0) and tau the nearest point's position along the piece
    scale = -g_d / torch.sqrt(dx * dx + dy * dy).clamp_(min=1e-12)
    g = torch.stack([dx * scale, dy * scale], dim=1)
    tau = (along / length.clamp(min=1e-30))[:, None]
    grad = torch.zeros(num_verts, 2, dtype=g.dtype, device=g.device)
    vert = _take(pc.vert, pairs.piece)
    grad.index_add_(0, vert, g - g * tau)
    grad.index_add_(0, vert + 1, g * tau)
    return grad
