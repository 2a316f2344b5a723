"""The image-prompt term: pull the views towards reference images, as the text term pulls them towards prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from clipart.imagefile import open_image, square
from clipart.objective.base import Term, Views

if TYPE_CHECKING:
    from clipart.config import DrawConfig
    from clipart.models import Guide


class ImageTerm(Term):
    """``−Σ_views Σ_images w·cos(view, image)``: each reference image is centre-cropped to a square, embedded once
    per guide at the guide's input size, and compared with every view; averaged over the guides."""

    name = "image"

    def __init__(self, guides: Sequence[Guide], paths: list[str], weights: list[float]) -> None:
        self.guides = list(guides)
        pictures = [open_image(p) for p in paths]
        self.image_features = []
        for guide in self.guides:
            batch = torch.stack([_tensor(square(p, guide.image_size)) for p in pictures]).to(guide.device)
            with torch.no_grad():
                self.image_features.append(guide.encode_image(batch))  # [I, D]
        self.weights = [torch.tensor(weights, dtype=torch.float32, device=g.device) for g in self.guides]

    @classmethod
    def from_config(cls, config: DrawConfig, guides: Sequence[Guide]) -> ImageTerm | None:
        """The image prompts of ``config`` (None when there are none)."""
        if not config.images:
            return None
        return cls(guides, config.images, config.image_weights)

    def loss(self, views: Views) -> Tensor:
        """Loss per drawing ``[views.groups]``."""
        per_guide = []
        for guide, feats, weights in zip(self.guides, self.image_features, self.weights, strict=True):
            sims = views.features(guide) @ feats.T  # [G*V, I]
            per_guide.append(views.per_drawing(-(sims * weights).sum(dim=1)))
        return torch.stack(per_guide).mean(dim=0)


def _tensor(image) -> Tensor:  # noqa: ANN001 - a PIL image
    """RGB PIL image → ``[3, H, W]`` float in [0, 1]."""
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
