"""The differentiable rasterizer (pure PyTorch, CPU and GPU) behind two functions.

    img = render(scene, 224)            # [3, 224, 224] float in [0, 1], on scene.device
    imgs = render_batch(scenes, 224)    # [K, 3, 224, 224]

Pixel (i, j) covers [j, j+1) × [i, i+1) in pixels; a point p (canvas units) sits at p * size pixels. Strokes are
drawn like SVG strokes with round caps and joins and composited "over" in order onto the scene's background.
"""

from __future__ import annotations

import operator

from torch import Tensor

from clipart.errors import ClipartError
from clipart.render.torch_renderer import render_scenes
from clipart.scene import Scene

__all__ = ["render", "render_batch"]


def _check_size(size: int) -> int:
    try:
        pixels = operator.index(size)
    except TypeError:
        pixels = 0
    if pixels < 1:
        raise ClipartError(f"render size must be a positive whole number of pixels, got {size!r}")
    return pixels


def render(scene: Scene, size: int) -> Tensor:
    """Render ``scene`` at ``size`` × ``size`` pixels: ``[3, size, size]`` in [0, 1] on ``scene.device``, with
    the dtype of ``scene.points`` (float32 normally).

    Differentiable w.r.t. ``scene.points``, ``scene.widths`` and ``scene.colors``.
    """
    return render_batch([scene], size)[0]


def render_batch(scenes: list[Scene], size: int) -> Tensor:
    """Render several scenes (on one device) at once: ``[K, 3, size, size]``."""
    size = _check_size(size)
    if not scenes:
        raise ClipartError("render_batch needs at least one scene")
    kinds = {(s.points.device, s.points.dtype) for s in scenes}
    if len(kinds) > 1:
        raise ClipartError(
            "render_batch needs all scenes on one device with one dtype; move them with Scene.to"
        )
    return render_scenes(list(scenes), size)
