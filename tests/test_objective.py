"""The composable objective: terms found in clipart/objective/, the text term's formula, and a new term that
changes a drawing without any change to the loop or the faces."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

import clipart
from clipart.objective import Objective, Term, Views, build_objective, term_classes
from clipart.objective.text import TextTerm


class _FakeGuide:
    """Features are fixed per input: enough to check the formula without a CLIP."""

    def __init__(self, seed: int) -> None:
        self.device = torch.device("cpu")
        self.seed = seed

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed)
        return torch.nn.functional.normalize(torch.randn(len(texts), 8, generator=g), dim=-1)

    def encode_image(self, images: torch.Tensor, taps: list | None = None) -> torch.Tensor:
        flat = images.flatten(1)[:, :8] + self.seed
        return torch.nn.functional.normalize(flat, dim=-1)


def test_the_text_term_is_found_and_is_clipdraws_loss() -> None:
    assert TextTerm in term_classes()
    cfg = clipart.make_config(["a cat::2", "a hat"], negatives=["a blur::0.5"])
    guides = [_FakeGuide(0), _FakeGuide(1)]
    objective = build_objective(cfg, guides)
    assert [type(t) for t in objective.terms] == [TextTerm]
    images = torch.rand(2 * 3, 3, 4, 4)  # 2 drawings, 3 views each
    weights = torch.tensor([2.0, 1.0, -0.5])
    expected = torch.stack(
        [
            -(g.encode_image(images) @ g.encode_text(["a cat", "a hat", "a blur"]).T * weights)
            .sum(1)
            .view(2, 3)
            .sum(1)
            for g in guides
        ]  # fmt: skip
    ).mean(0)
    assert torch.allclose(objective(Views(images, 2)), expected)
    renders = images[:2]
    assert torch.allclose(objective.score(renders), -objective(Views(renders, 2)))


def test_views_encode_once_per_guide_however_many_terms_ask() -> None:
    calls = []
    guide = _FakeGuide(0)
    encode = guide.encode_image
    guide.encode_image = lambda x, taps=None: calls.append(1) or encode(x, taps)  # type: ignore[method-assign]
    views = Views(torch.rand(4, 3, 4, 4), 2)
    assert views.features(guide) is views.features(guide) and len(calls) == 1


@pytest.fixture
def light_term() -> Iterator[type[Term]]:
    """A term defined as a contributor would (one class, found without touching the loop or the faces),
    registered only for one test: the mean darkness of each drawing's clean render, which pushes it to white."""

    class Light(Term):
        name = "light"
        weight = 50.0

        @classmethod
        def from_config(cls, config, guides):  # noqa: ANN001, ANN206
            return cls() if config.prompts == ["a light cat"] else None

        def loss(self, views: Views) -> torch.Tensor:
            return (1 - views.renders).mean(dim=(1, 2, 3))

    yield Light
    Term._registry.remove(Light)


def test_a_new_term_changes_the_drawing_and_nothing_else_changes(
    light_term, tiny_model: str, device: str
) -> None:
    small = dict(
        model=tiny_model, strokes=24, steps=30, size=32, views=2, seed=4, init_width=4.0, device=device
    )
    cfg = clipart.make_config("a light cat", **small)
    assert [type(t) for t in build_objective(cfg, [_FakeGuide(0)]).terms] == [TextTerm, light_term]
    plain = clipart.draw("a cat", **small).png()
    light = clipart.draw("a light cat", **small).png()
    darkness = [1 - float(np.asarray(im, dtype=np.float32).mean()) / 255 for im in (plain, light)]
    assert darkness[1] < 0.5 * darkness[0], darkness  # the term pulled the strokes towards the background


def test_an_objective_needs_a_term() -> None:
    with pytest.raises(ValueError, match="at least one term"):
        Objective([])
