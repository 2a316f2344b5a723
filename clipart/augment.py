"""The augmentation pipeline: each step, the render becomes N random views (kornia), as CLIPDraw does."""

from __future__ import annotations

import kornia.augmentation as K
import torch
from torch import Tensor, nn


class Augment(nn.Module):
    """``views`` independent random views of one render: a random perspective warp (areas it uncovers take the
    background colour) followed by a random resized crop to ``out_size`` px."""

    def __init__(
        self,
        views: int,
        out_size: int,
        *,
        perspective: float = 0.5,
        crop_scale: tuple[float, float] = (0.7, 0.9),
        background: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> None:
        super().__init__()
        self.views = views
        self.register_buffer("background", torch.tensor(background).view(1, 3, 1, 1), persistent=False)
        steps: list[nn.Module] = []
        if perspective > 0:
            steps.append(K.RandomPerspective(distortion_scale=perspective, p=1.0))
        steps.append(K.RandomResizedCrop((out_size, out_size), scale=crop_scale))
        self.pipeline = K.AugmentationSequential(*steps)

    def forward(self, image: Tensor) -> Tensor:
        """``[3, H, W]`` or ``[B, 3, H, W]`` in [0, 1] → ``[B * views, 3, out, out]``."""
        if image.dim() == 3:
            image = image.unsqueeze(0)
        batch = image.repeat_interleave(self.views, dim=0)
        # kornia fills uncovered areas with 0, so warp the difference to the background and add it back.
        bg = self.background.to(image.device, image.dtype)
        return self.pipeline(batch - bg) + bg
