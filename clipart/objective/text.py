"""The text term (CLIPDraw's loss): pull the views towards the prompts and push them from the negative prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from clipart.objective.base import Term, Views

if TYPE_CHECKING:
    from clipart.config import DrawConfig
    from clipart.models import Guide


class TextTerm(Term):
    """``−Σ_views Σ_prompts w·cos(view, prompt)``, negative prompts entering with −w; averaged over the guides
    (an ensemble), each with its own text features, encoded once per drawing."""

    name = "text"

    def __init__(self, guides: Sequence[Guide], texts: list[str], weights: list[float]) -> None:
        self.guides = list(guides)
        self.text_features = [g.encode_text(texts) for g in self.guides]  # [T, D] each
        self.weights = [torch.tensor(weights, dtype=torch.float32, device=g.device) for g in self.guides]

    @classmethod
    def from_config(cls, config: DrawConfig, guides: Sequence[Guide]) -> TextTerm | None:
        """The prompts and negative prompts of ``config`` (None when there are none)."""
        texts = config.prompts + config.negatives
        if not texts:
            return None
        weights = config.prompt_weights + [-w for w in config.negative_weights]
        return cls(guides, texts, weights)

    def loss(self, views: Views) -> Tensor:
        """Loss per drawing ``[views.groups]``."""
        per_guide = []
        for guide, text, weights in zip(self.guides, self.text_features, self.weights, strict=True):
            sims = views.features(guide) @ text.T  # [G*V, T]
            per_guide.append(views.per_drawing(-(sims * weights).sum(dim=1)))
        return torch.stack(per_guide).mean(dim=0)
