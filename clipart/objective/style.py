"""The style term: match the texture statistics of a style image, as seen by the guide's own image tower.

There are no VGG weights offline, so the Gram matrices come from the guide that ships (or the one chosen): the
outputs of the first three quarters of its image tower's stages (a ResNet's first three layers, a ViT's first
blocks), where colour and texture live rather than the object. Each layer's loss is the squared Frobenius
distance between the Gram matrices of a view and of the style image, relative to the style image's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from clipart.imagefile import as_tensor, open_image
from clipart.objective.base import Term, Views

if TYPE_CHECKING:
    from clipart.config import DrawConfig
    from clipart.models import Guide


def gram(stage: Tensor) -> Tensor:
    """``[B, C, C]`` Gram matrices of ``[B, C, H, W]`` feature maps or ``[B, tokens, C]`` token features."""
    flat = stage.flatten(2) if stage.ndim == 4 else stage.transpose(1, 2)  # [B, C, N]
    return flat @ flat.transpose(1, 2) / flat.shape[-1]


def style_stages(stages: list[Tensor]) -> list[Tensor]:
    """The stages the style is read from: the first three quarters (at least one)."""
    return stages[: max(1, (3 * len(stages)) // 4)]


class StyleTerm(Term):
    """``Σ_views Σ_layers ‖G(view) − G(style)‖² / ‖G(style)‖²``, averaged over the guides; weight ``style_weight``."""

    name = "style"

    def __init__(self, guides: Sequence[Guide], path: str, weight: float) -> None:
        self.guides = list(guides)
        self.weight = weight
        picture = open_image(path, "style image")
        self.targets = []
        for guide in self.guides:
            taps: list[Tensor] = []
            with torch.no_grad():
                guide.encode_image(as_tensor(picture, guide.image_size)[None].to(guide.device), taps=taps)
            if not taps:
                raise ValueError(f"{guide.name}: no image-tower stages to read a style from")
            self.targets.append([gram(t)[0] for t in style_stages(taps)])

    @classmethod
    def from_config(cls, config: DrawConfig, guides: Sequence[Guide]) -> StyleTerm | None:
        """The style image of ``config`` (None when there is none)."""
        if not config.style:
            return None
        return cls(guides, config.style, config.style_weight)

    def distances(self, views: Views) -> Tensor:
        """Each view's style distance ``[groups * V]`` (mean over the guides)."""
        per_guide = []
        for guide, targets in zip(self.guides, self.targets, strict=True):
            layers = [
                ((gram(t) - target) ** 2).sum(dim=(1, 2)) / (target**2).sum()
                for t, target in zip(style_stages(views.stages(guide)), targets, strict=True)
            ]
            per_guide.append(torch.stack(layers).sum(dim=0))
        return torch.stack(per_guide).mean(dim=0)

    def loss(self, views: Views) -> Tensor:
        """Loss per drawing ``[views.groups]``."""
        return views.per_drawing(self.distances(views))
