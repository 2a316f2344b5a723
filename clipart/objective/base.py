"""Terms, the views they score, and the objective that adds them up."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import torch
from torch import Tensor

if TYPE_CHECKING:
    from clipart.config import DrawConfig
    from clipart.models import Guide


class Views:
    """What a term scores: ``images`` (``[groups * V, 3, H, W]``, the views of one drawing adjacent) of
    ``groups`` drawings, their clean ``renders`` (``[groups, 3, S, S]``), and each guide's image features of the
    views, computed once however many terms ask."""

    def __init__(self, images: Tensor, groups: int, renders: Tensor | None = None) -> None:
        self.images = images
        self.groups = groups
        self.renders = images if renders is None else renders
        self._features: dict[int, tuple[Tensor, list[Tensor]]] = {}

    def _encode(self, guide: Guide) -> tuple[Tensor, list[Tensor]]:
        key = id(guide)
        if key not in self._features:
            taps: list[Tensor] = []
            self._features[key] = guide.encode_image(self.images, taps=taps), taps
        return self._features[key]

    def features(self, guide: Guide) -> Tensor:
        """L2-normalised image features ``[groups * V, D]`` of the views under ``guide``."""
        return self._encode(guide)[0]

    def stages(self, guide: Guide) -> list[Tensor]:
        """What each stage of ``guide``'s image tower made of the views (see ``Guide.encode_image``), from the
        same forward pass as :meth:`features`."""
        return self._encode(guide)[1]

    def per_drawing(self, per_view: Tensor) -> Tensor:
        """Sum a per-view quantity ``[groups * V]`` over each drawing's views: ``[groups]``."""
        return per_view.view(self.groups, -1).sum(dim=1)


class Term:
    """One weighted part of the drawing loss. Subclasses set ``name`` and implement :meth:`from_config` (None when
    the config asks for no such term) and :meth:`loss` (lower is better, one value per drawing)."""

    name: ClassVar[str]
    weight: float = 1.0  # of the term in the sum; a term may take it from its config field
    _registry: ClassVar[list[type[Term]]] = []

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:  # a concrete term; shared bases such as SimilarityTerm name none
            Term._registry.append(cls)

    @classmethod
    def from_config(cls, config: DrawConfig, guides: Sequence[Guide]) -> Term | None:
        """The term the settings ask for, set up for these guides (e.g. text features encoded once), or None."""
        raise NotImplementedError

    def loss(self, views: Views) -> Tensor:
        """Loss per drawing ``[views.groups]``."""
        raise NotImplementedError


class SimilarityTerm(Term):
    """A term that pulls every view towards target embeddings, one ``[T, D]`` set per guide:
    ``−Σ_views Σ_targets w·cos(view, target)``, averaged over the guides (an ensemble)."""

    def __init__(self, guides: Sequence[Guide], targets: list[Tensor], weights: list[float]) -> None:
        self.guides = list(guides)
        self.targets = targets
        self.weights = [torch.tensor(weights, dtype=torch.float32, device=g.device) for g in self.guides]

    def loss(self, views: Views) -> Tensor:
        """Loss per drawing ``[views.groups]``."""
        per_guide = []
        for guide, targets, weights in zip(self.guides, self.targets, self.weights, strict=True):
            sims = views.features(guide) @ targets.T  # [G*V, T]
            per_guide.append(views.per_drawing(-(sims * weights).sum(dim=1)))
        return torch.stack(per_guide).mean(dim=0)


def term_classes() -> list[type[Term]]:
    """Every Term subclass of this package's modules, in module-name order (so the sum's order is fixed)."""
    package = importlib.import_module("clipart.objective")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        importlib.import_module(f"clipart.objective.{info.name}")
    return sorted(Term._registry, key=lambda cls: (cls.__module__, cls.__qualname__))


class Objective:
    """The drawing loss: ``Σ weight · term.loss(views)`` over the terms the config asks for."""

    def __init__(self, terms: Sequence[Term]) -> None:
        if not terms:
            raise ValueError("an objective needs at least one term")
        self.terms = list(terms)

    def __call__(self, views: Views) -> Tensor:
        """Loss per drawing ``[views.groups]`` (what the optimiser lowers)."""
        total = self.terms[0].weight * self.terms[0].loss(views)
        for term in self.terms[1:]:
            total = total + term.weight * term.loss(views)
        return total

    def score(self, renders: Tensor) -> Tensor:
        """How well each clean render ``[K, 3, S, S]`` meets the objective (higher is better), for ranking
        candidate drawings."""
        with torch.no_grad():
            return -self(Views(renders, renders.shape[0], renders))


def build_objective(config: DrawConfig, guides: Sequence[Guide]) -> Objective:
    """The objective of a drawing: every term the config asks for, set up for ``guides``."""
    terms = [term for cls in term_classes() if (term := cls.from_config(config, guides)) is not None]
    return Objective(terms)
