"""The augmentation pipeline: each step, the render becomes N random views, as CLIPDraw does.

CLIPDraw warps each view with a random perspective at full resolution and then takes a random resized crop. Both
are projective maps, so clipart draws the same random parameters with kornia's generators, multiplies the two
homographies, and samples each view once, directly at the guide's input size: the same views, several times
faster forward+backward than warping at 224 px first (docs/benchmark-history.md, "Augmentation"), which matters
most for small guides and ``--candidates``.

The sampling itself is one ``grid_sample`` per render with its views stacked along the grid's height, rather than
kornia's ``warp_perspective`` over a batch with each render copied once per view: the copies, and the backward
pass's scatter into them and sum over them, were most of the augmentation's cost (BENCHMARKS.md, "Engine").

A transparent drawing comes as premultiplied RGBA: each of its views is composited over a random flat colour of its
own (as DreamFusion puts its objects over random backgrounds), so that the guide sees the strokes over many canvases
and the drawing does not lean on one.
"""

from __future__ import annotations

import kornia.augmentation as K
import torch
import torch.nn.functional as F
from kornia.geometry import create_meshgrid
from kornia.geometry.conversions import normalize_homography
from kornia.geometry.transform import get_perspective_transform
from torch import Tensor, nn

from clipart.render import composite


class Augment(nn.Module):
    """``views`` independent random views of one render: a random perspective warp (areas it uncovers take the
    background colour, white when it is None) followed by a random resized crop to ``out_size`` px, sampled in one
    pass (each view pixel the mean of ``samples`` × ``samples`` points, so that a stroke thinner than a view pixel
    still reaches it), and, with ``color_jitter`` s > 0, each view's brightness, contrast and saturation scaled by random
    factors in [1 - s, 1 + s]. A premultiplied RGBA render's views are each composited over a random colour."""

    def __init__(
        self,
        views: int,
        out_size: int,
        *,
        perspective: float = 0.5,
        crop_scale: tuple[float, float] = (0.7, 0.9),
        background: tuple[float, float, float] | None = (1.0, 1.0, 1.0),
        color_jitter: float = 0.0,
        samples: int = 1,
    ) -> None:
        super().__init__()
        self.views = views
        self.out_size = out_size
        self.samples = samples
        canvas = torch.tensor(background or (1.0, 1.0, 1.0)).view(1, 3, 1, 1)
        self.register_buffer("background", canvas, persistent=False)
        self.perspective = (
            K.RandomPerspective(distortion_scale=perspective, p=1.0) if perspective > 0 else None
        )
        self.crop = K.RandomResizedCrop((out_size, out_size), scale=crop_scale)
        # Hue stays: a prompt's colour words must stay true of every view.
        self.jitter = (
            K.ColorJitter(brightness=color_jitter, contrast=color_jitter, saturation=color_jitter, p=1.0)
            if color_jitter > 0
            else None
        )

    def homographies(self, shape: tuple[int, int, int, int], like: Tensor) -> Tensor:
        """Random pixel-space maps from a render of ``shape`` ``[B, 3, H, W]`` to the views:
        ``[B * views, 3, 3]``, each render's views consecutive."""
        shape = (shape[0] * self.views, *shape[1:])
        matrix = None
        if self.perspective is not None:
            p = self.perspective.forward_parameters(shape)
            matrix = get_perspective_transform(p["start_points"].to(like), p["end_points"].to(like))
        c = self.crop.forward_parameters(shape)
        crop = get_perspective_transform(c["src"].to(like), c["dst"].to(like))
        return crop if matrix is None else crop @ matrix

    def forward(self, image: Tensor, homographies: Tensor | None = None) -> Tensor:
        """``[3, H, W]`` or ``[B, 3, H, W]`` in [0, 1] → ``[B * views, 3, out, out]``; ``homographies`` (as
        :meth:`homographies` returns them) fixes the views instead of drawing them. A ``[B, 4, H, W]`` render
        (premultiplied RGB and alpha) is transparent outside and each of its views goes over a random colour drawn
        from torch's generator, after the views' warps."""
        if image.dim() == 3:
            image = image.unsqueeze(0)
        b, c, h, w = image.shape
        n, out = self.views, self.out_size
        if homographies is None:
            homographies = self.homographies(image.shape, image)
        to_view = normalize_homography(homographies, (h, w), (out, out))
        m = torch.linalg.inv(to_view).view(b, n, 1, 1, 3, 3)  # view → render, normalised coordinates
        k = self.samples  # each view pixel averages a k × k block of points of the render
        grid = create_meshgrid(out * k, out * k, device=image.device, dtype=image.dtype)  # out·k a side
        gx, gy = grid[..., 0], grid[..., 1]
        den = m[..., 2, 0] * gx + m[..., 2, 1] * gy + m[..., 2, 2]
        sx = (m[..., 0, 0] * gx + m[..., 0, 1] * gy + m[..., 0, 2]) / den
        sy = (m[..., 1, 0] * gx + m[..., 1, 1] * gy + m[..., 1, 2]) / den
        # the views stacked along the height
        grid = torch.stack([sx, sy], dim=-1).view(b, n * out * k, out * k, 2)
        # Sampling outside the render gives 0: transparent for RGBA; for RGB, sample the difference to the
        # background and add it back.
        bg = self.background.to(image.device, image.dtype) if c == 3 else 0.0
        views = F.grid_sample(image - bg, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        if k > 1:
            views = F.avg_pool2d(views, k)
        views = views.view(b, c, n, out, out).transpose(1, 2).reshape(b * n, c, out, out) + bg
        if c == 4:
            views = composite(views, torch.rand(b * n, 3, 1, 1).to(views))
        return views if self.jitter is None else self.jitter(views)
