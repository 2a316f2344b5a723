"""Straight-alpha "over" compositing of (stroke, pixel) pairs, with an analytic backward.

Pairs are grouped by pixel and ranked by stroke order within a pixel: rank ``r`` is the ``r``-th stroke from the
bottom that covers the pixel. Pixels are sorted by how many strokes cover them, so the pixels with more than ``r``
strokes are a prefix and layer ``r`` (every pair of rank ``r``) is one contiguous slice: compositing is one
``lerp`` per layer over all pixels at once, however many strokes there are. The layer count is the deepest pile of
strokes on any pixel. The forward saves the colour under each pair; the backward walks the layers from the top
down with the transmittance ``T`` of the strokes above:

    dF/dc_i = a_i T_i,    dF/da_i = T_i (c_i - B_i),    T_i = prod over strokes j above i of (1 - a_j)

so no full-canvas intermediates are stored per stroke. The image may have any number of channels: a transparent
render is premultiplied RGB plus alpha, whose strokes have the "colour" 1 in the alpha channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class OverState:
    """What the backward needs; pair arrays are in layer order."""

    active: Tensor  # [A] pixels covered by at least one pair, most covered first
    src: Tensor  # [P] input index of each pair
    col: Tensor  # [P] position of each pair's pixel in ``active``
    stroke: Tensor  # [P]
    alpha: Tensor  # [P]
    rgb: Tensor  # [C, P] colour of each pair's stroke
    under: Tensor  # [C, P] colour under each pair before it was painted
    layers: list[tuple[int, int]]  # (offset, length) of each layer, bottom first


def _take(t: Tensor, idx: Tensor, dim: int = 0) -> Tensor:
    return torch.index_select(t, dim, idx)


def _put(t: Tensor, idx: Tensor, values: Tensor, dim: int = 0) -> Tensor:
    return t.index_copy_(dim, idx, values)


def over(pix: Tensor, stroke: Tensor, alpha: Tensor, rgb: Tensor, under: Tensor) -> tuple[Tensor, OverState]:
    """Composite pairs ``(pix, stroke, alpha)`` (listed in stroke order) with stroke colours ``rgb`` ``[C, N]``
    over the flat image ``under`` ``[C, Q]``. Returns the new image and the state for :func:`over_backward`.
    Apart from copying the image, work and memory grow with the number of pairs, not with the canvas."""
    p, dev = pix.shape[0], pix.device
    key = pix.int() if under.shape[1] < 2**31 else pix  # int32 sorts faster
    sorted_pix, order = torch.sort(key, stable=True)  # by pixel, then by stroke
    pixel, counts = torch.unique_consecutive(sorted_pix.long(), return_counts=True)
    group = torch.repeat_interleave(torch.arange(pixel.shape[0], device=dev), counts)  # of each sorted pair
    rank = torch.arange(p, device=dev) - _take(torch.cumsum(counts, 0) - counts, group)
    # layer r holds the pixels covered more than r times: a prefix of the pixels sorted by count, descending
    count_desc, by_count = torch.sort(counts, descending=True)
    depth = int(count_desc[0]) if p else 0
    hist = torch.bincount(count_desc, minlength=depth + 1)
    length = pixel.shape[0] - torch.cumsum(hist, 0)[:depth]
    offset = torch.cumsum(length, 0) - length
    active = _take(pixel, by_count)
    pos = _put(torch.empty_like(by_count), by_count, torch.arange(by_count.shape[0], device=dev))
    col_sorted = _take(pos, group)
    dest = _take(offset, rank) + col_sorted
    src = _put(torch.empty_like(order), dest, order)
    col = _put(torch.empty_like(order), dest, col_sorted)
    a = _take(alpha, src)
    s = _take(stroke, src)
    c = torch.gather(rgb, 1, s[None].expand(rgb.shape[0], -1))
    x = _take(under, active, 1)
    below = torch.empty_like(c)
    layers = list(zip(offset.tolist(), length.tolist(), strict=True))
    for o, n in layers:
        xs = x[:, :n]
        below[:, o : o + n] = xs
        xs.lerp_(c[:, o : o + n], a[o : o + n])
    return _put(under.clone(), active, x, 1), OverState(active, src, col, s, a, c, below, layers)


def over_backward(
    st: OverState, grad: Tensor, num_strokes: int, *, under_grad: bool
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Given dL/d(image) ``[C, Q]``, return dL/d(alpha) per pair (input order), dL/d(rgb) ``[C, N]`` and, if
    ``under_grad``, dL/d(under) ``[C, Q]`` (the gradient times the transmittance of the pairs on each pixel)."""
    g_active = _take(grad, st.active, 1)
    g = _take(g_active, st.col, 1)  # [C, P] image gradient at each pair's pixel
    keep = 1 - st.alpha
    t = torch.ones(st.active.shape[0], dtype=grad.dtype, device=grad.device)
    t_pair = torch.empty_like(st.alpha)
    for o, n in reversed(st.layers):
        t_pair[o : o + n] = t[:n]
        t[:n].mul_(keep[o : o + n])
    diff = g * (st.rgb - st.under)
    g_alpha_layered = t_pair * sum(diff[1:], diff[0])  # channel by channel, in order
    g_rgb = torch.zeros(diff.shape[0], num_strokes, dtype=grad.dtype, device=grad.device)
    g_rgb.index_add_(1, st.stroke, g * (st.alpha * t_pair))
    g_alpha = _put(torch.empty_like(g_alpha_layered), st.src, g_alpha_layered)
    g_under = _put(grad.clone(), st.active, g_active * t, 1) if under_grad else None
    return g_alpha, g_rgb, g_under
