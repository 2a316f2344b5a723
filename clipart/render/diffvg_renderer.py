"""Optional renderer backed by diffvg (``pydiffvg``), for comparison; used only when pydiffvg is installed.

The background is drawn as a filled rectangle under the strokes, so antialiased edges blend with it as in an
SVG renderer. diffvg samples 2 × 2 points per pixel.
"""

from __future__ import annotations

import pydiffvg  # type: ignore[import-not-found]
import torch
from torch import Tensor

from clipart.scene import Scene


def render_diffvg(scene: Scene, size: int) -> Tensor:
    """Render ``scene`` with diffvg: ``[3, size, size]`` on ``scene.device``."""
    dev = scene.device
    pydiffvg.set_device(dev)
    pydiffvg.set_use_gpu(dev.type == "cuda")
    bg = torch.tensor([*scene.background, 1.0], dtype=torch.float32, device=dev)
    shapes = [
        pydiffvg.Rect(p_min=torch.zeros(2, device=dev), p_max=torch.full((2,), float(size), device=dev))
    ]
    groups = [pydiffvg.ShapeGroup(shape_ids=torch.tensor([0]), fill_color=bg)]
    for i, k in enumerate(scene.segments.tolist()):
        shapes.append(
            pydiffvg.Path(
                num_control_points=torch.full((k,), 2, dtype=torch.int32),
                points=scene.points[i, : 3 * k + 1] * size,
                stroke_width=scene.widths[i] * size,
                is_closed=False,
            )
        )
        groups.append(
            pydiffvg.ShapeGroup(
                shape_ids=torch.tensor([i + 1]), fill_color=None, stroke_color=scene.colors[i]
            )
        )
    args = pydiffvg.RenderFunction.serialize_scene(size, size, shapes, groups)
    img = pydiffvg.RenderFunction.apply(size, size, 2, 2, 0, None, *args)  # [H, W, 4]
    return img[:, :, :3].permute(2, 0, 1).contiguous()
