"""The text term (CLIPDraw's loss): pull the views towards the prompts and push them from the negative prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from clipart.objective.base import SimilarityTerm

if TYPE_CHECKING:
    from clipart.config import DrawConfig
    from clipart.models import Guide


class TextTerm(SimilarityTerm):
    """``−Σ_views Σ_prompts w·cos(view, prompt)``, negative prompts entering with −w; averaged over the guides,
    each with its own text features, encoded once per drawing."""

    name = "text"

    def __init__(self, guides: Sequence[Guide], texts: list[str], weights: list[float]) -> None:
        super().__init__(guides, [g.encode_text(texts) for g in guides], weights)

    @classmethod
    def from_config(cls, config: DrawConfig, guides: Sequence[Guide]) -> TextTerm | None:
        """The prompts and negative prompts of ``config`` (None when there are none)."""
        texts = config.prompts + config.negatives
        if not texts:
            return None
        weights = config.prompt_weights + [-w for w in config.negative_weights]
        return cls(guides, texts, weights)
