"""The differentiable rasterizer (pure PyTorch, CPU and GPU) behind two functions.

    img = render(scene, 224)                        # [3, 224, 224] float in [0, 1], on scene.device
    imgs = render_batch(scenes, 224)                # [K, 3, 224, 224]
    rgba = render_batch(scenes, 224, alpha=True)    # [K, 4, 224, 224]: premultiplied RGB and alpha
    imgs = composite(rgba, colours)                 # [K, 3, 224, 224]: over a colour per image

Pixel (i, j) covers [j, j+1) × [i, i+1) in pixels; a point p (canvas units) sits at p * size pixels. Strokes are
drawn like SVG strokes with round caps and joins and composited "over" in order onto the scene's background (white
for a transparent scene, one whose background is None), or with ``alpha`` onto nothing.
"""

from __future__ import annotations

import operator

import torch
from torch import Tensor

from clipart.errors import ClipartError
from clipart.render.torch_renderer import render_scenes
from clipart.scene import Scene

__all__ = ["composite", "render", "render_batch"]


def _check_size(size: int) -> int:
    try:
        pixels = operator.index(size)
    except TypeError:
        pixels = 0
    if pixels < 1:
        raise ClipartError(f"render size must be a positive whole number of pixels, got {size!r}")
    return pixels


def render(scene: Scene, size: int, *, alpha: bool = False) -> Tensor:
    """Render ``scene`` at ``size`` × ``size`` pixels: ``[3, size, size]`` in [0, 1] on ``scene.device``, with
    the dtype of ``scene.points`` (float32 normally); with ``alpha``, ``[4, size, size]``: the strokes without the
    background, premultiplied RGB then alpha (0 where no stroke reaches).

    Differentiable w.r.t. ``scene.points``, ``scene.widths`` and ``scene.colors``.
    """
    return render_batch([scene], size, alpha=alpha)[0]


def render_batch(scenes: list[Scene], size: int, *, alpha: bool = False) -> Tensor:
    """Render several scenes (on one device) at once: ``[K, 3, size, size]`` (``[K, 4, size, size]`` with
    ``alpha``, as :func:`render`)."""
    size = _check_size(size)
    if not scenes:
        raise ClipartError("render_batch needs at least one scene")
    kinds = {(s.points.device, s.points.dtype) for s in scenes}
    if len(kinds) > 1:
        raise ClipartError(
            "render_batch needs all scenes on one device with one dtype; move them with Scene.to"
        )
    return render_scenes(list(scenes), size, alpha=alpha)


def composite(images: Tensor, background: Tensor | tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Tensor:
    """Premultiplied RGBA renders ``[K, 4, H, W]`` over ``background`` (an RGB colour, or a tensor that
    broadcasts to ``[K, 3, H, W]``, e.g. one colour per image ``[K, 3, 1, 1]``): ``[K, 3, H, W]``. RGB renders
    ``[K, 3, H, W]`` are returned as they are."""
    if images.shape[1] == 3:
        return images
    bg = torch.as_tensor(background, dtype=images.dtype, device=images.device)
    if bg.dim() == 1:
        bg = bg.view(1, 3, 1, 1)
    return images[:, :3] + (1 - images[:, 3:]) * bg
