"""The image-prompt term: pull the views towards reference images, as the text term pulls them towards prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from clipart.imagefile import as_tensor, open_image
from clipart.objective.base import SimilarityTerm

if TYPE_CHECKING:
    from clipart.config import DrawConfig
    from clipart.models import Guide


class ImageTerm(SimilarityTerm):
    """``−Σ_views Σ_images w·cos(view, image)``: each reference image is centre-cropped to a square and embedded
    once per guide at the guide's input size; averaged over the guides."""

    name = "image"

    def __init__(self, guides: Sequence[Guide], paths: list[str], weights: list[float]) -> None:
        pictures = [open_image(p) for p in paths]
        targets = []
        for guide in guides:
            batch = torch.stack([as_tensor(p, guide.image_size) for p in pictures]).to(guide.device)
            with torch.no_grad():
                targets.append(guide.encode_image(batch))  # [I, D]
        super().__init__(guides, targets, weights)

    @classmethod
    def from_config(cls, config: DrawConfig, guides: Sequence[Guide]) -> ImageTerm | None:
        """The image prompts of ``config`` (None when there are none)."""
        if not config.images:
            return None
        return cls(guides, config.images, config.image_weights)
