"""Prompts → text features; image features → loss (weighted negative cosine similarity over views)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from clipart.models import Guide


@dataclass
class PromptSet:
    """Positive prompts (pulled towards) and negative prompts (pushed away from), each with a weight."""

    texts: list[str]
    weights: list[float]
    negatives: list[str]
    negative_weights: list[float]

    def signed(self) -> tuple[list[str], Tensor]:
        """All texts and their signed weights: positive prompts +w, negative prompts −w."""
        texts = self.texts + self.negatives
        w = torch.tensor(self.weights + [-x for x in self.negative_weights], dtype=torch.float32)
        return texts, w


class Objective:
    """The drawing loss for one guide: ``−Σ_views Σ_prompts w·cos(image, text)`` (negatives enter with −w)."""

    def __init__(self, guide: Guide, prompts: PromptSet) -> None:
        texts, weights = prompts.signed()
        self.guide = guide
        self.text_features = guide.encode_text(texts)  # [T, D], once per drawing
        self.weights = weights.to(guide.device)

    def similarity(self, image_features: Tensor) -> Tensor:
        """Cosine similarities ``[B, T]`` of image features with every prompt."""
        return image_features @ self.text_features.T

    def loss(self, views: Tensor, groups: int = 1) -> Tensor:
        """Loss per drawing ``[groups]`` for views ``[groups * V, 3, H, W]`` (views of one drawing adjacent)."""
        sims = self.similarity(self.guide.encode_image(views))  # [G*V, T]
        per_view = -(sims * self.weights).sum(dim=1)
        return per_view.view(groups, -1).sum(dim=1)

    def score(self, images: Tensor) -> Tensor:
        """Weighted similarity of whole renders ``[B, 3, H, W]`` (higher is better), for ranking candidates."""
        with torch.no_grad():
            return (self.similarity(self.guide.encode_image(images)) * self.weights).sum(dim=1)
