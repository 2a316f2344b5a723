"""Prompts for the scene benchmark (benchmarks/bench_scenes.py): minimal pairs and groups, the same things with
another count, colour, relation or setting, each with what a drawing of it should hold.

Every prompt names things the icon bank holds by their whole names, so that the figures measure the composer and
the drawing, not the guide's choice of a concept. Category ``plain`` holds the controls that start as before the
composer (one thing, or a thing beside a smaller one it eats or holds).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScenePrompt:
    """A prompt, its category and group, and what a drawing of it should hold: each thing as (concept, count,
    colour word or None), the relations as (subject, relation, object) indices into ``things``, the setting."""

    text: str
    category: str  # count, colour, relation, setting, mixed, plain
    group: str  # prompts of one group differ in one way
    things: tuple[tuple[str, int, str | None], ...]
    relations: tuple[tuple[int, str, int], ...] = ()
    setting: str | None = None


def _p(text: str, category: str, group: str, *things: tuple[str, int, str | None], relations: tuple = (),
       setting: str | None = None) -> ScenePrompt:  # fmt: skip
    return ScenePrompt(text, category, group, things, relations, setting)


PROMPTS: tuple[ScenePrompt, ...] = (
    # counts: the same thing, another number (and the ways to say one)
    _p("a cat", "plain", "cat-count", ("cat", 1, None)),
    _p("two cats", "count", "cat-count", ("cat", 2, None)),
    _p("three cats", "count", "cat-count", ("cat", 3, None)),
    _p("five cats", "count", "cat-count", ("cat", 5, None)),
    _p("a dozen cats", "count", "cat-count", ("cat", 12, None)),
    _p("cats", "count", "cat-count", ("cat", 3, None)),
    _p("a lemon", "plain", "lemon-count", ("lemon", 1, None)),
    _p("4 lemons", "count", "lemon-count", ("lemon", 4, None)),
    _p("seven lemons", "count", "lemon-count", ("lemon", 7, None)),
    _p("ten lemons", "count", "lemon-count", ("lemon", 10, None)),
    _p("two dogs", "count", "dog-count", ("dog", 2, None)),
    _p("six dogs", "count", "dog-count", ("dog", 6, None)),
    _p("several balloons", "count", "count-words", ("balloons", 3, None)),
    _p("nine stars", "count", "count-words", ("star", 9, None)),
    _p("a pair of socks", "count", "count-words", ("socks", 2, None)),
    _p("a million fish", "count", "count-words", ("fish", 12, None)),
    # colours: the same thing, another colour
    _p("a red cat", "colour", "cat-colour", ("cat", 1, "red")),
    _p("a blue cat", "colour", "cat-colour", ("cat", 1, "blue")),
    _p("a green cat", "colour", "cat-colour", ("cat", 1, "green")),
    _p("a black cat", "colour", "cat-colour", ("black cat", 1, "black")),
    _p("a white cat", "colour", "cat-colour", ("cat", 1, "white")),
    _p("a purple cat", "colour", "cat-colour", ("cat", 1, "purple")),
    _p("a yellow car", "colour", "car-colour", ("car", 1, "yellow")),
    _p("a red car", "colour", "car-colour", ("car", 1, "red")),
    _p("a pink car", "colour", "car-colour", ("car", 1, "pink")),
    _p("a blue horse", "colour", "horse-colour", ("horse", 1, "blue")),
    _p("a brown horse", "colour", "horse-colour", ("horse", 1, "brown")),
    _p("an orange fish", "colour", "fish-colour", ("fish", 1, "orange")),
    _p("a purple fish", "colour", "fish-colour", ("fish", 1, "purple")),
    _p("a grey mouse", "colour", "mouse-colour", ("mouse", 1, "grey")),
    _p("a green mouse", "colour", "mouse-colour", ("mouse", 1, "green")),
    _p("a gold star", "colour", "star-colour", ("star", 1, "gold")),
    _p("a silver star", "colour", "star-colour", ("star", 1, "silver")),
    # relations: the same two things, another relation
    _p("a cat on a chair", "relation", "cat-chair", ("cat", 1, None), ("chair", 1, None), relations=((0, "on", 1),)),
    _p("a cat under a chair", "relation", "cat-chair", ("cat", 1, None), ("chair", 1, None),
       relations=((0, "under", 1),)),
    _p("a cat next to a chair", "relation", "cat-chair", ("cat", 1, None), ("chair", 1, None),
       relations=((0, "beside", 1),)),
    _p("a cat behind a chair", "relation", "cat-chair", ("cat", 1, None), ("chair", 1, None),
       relations=((0, "behind", 1),)),
    _p("a cat in front of a chair", "relation", "cat-chair", ("cat", 1, None), ("chair", 1, None),
       relations=((0, "front", 1),)),
    _p("a bird in a cage", "relation", "bird-cage", ("bird", 1, None), ("cage", 1, None), relations=((0, "in", 1),)),
    _p("a bird on a cage", "relation", "bird-cage", ("bird", 1, None), ("cage", 1, None), relations=((0, "on", 1),)),
    _p("a bird above a cage", "relation", "bird-cage", ("bird", 1, None), ("cage", 1, None),
       relations=((0, "above", 1),)),
    _p("a dog under an umbrella", "relation", "dog-umbrella", ("dog", 1, None), ("umbrella", 1, None),
       relations=((0, "under", 1),)),
    _p("a dog holding an umbrella", "plain", "dog-umbrella", ("dog", 1, None), ("umbrella", 1, None),
       relations=((0, "holding", 1),)),
    _p("a cat wearing a party hat", "relation", "wearing", ("cat", 1, None), ("party hat", 1, None),
       relations=((0, "wearing", 1),)),
    _p("a dog wearing a party hat", "relation", "wearing", ("dog", 1, None), ("party hat", 1, None),
       relations=((0, "wearing", 1),)),
    _p("a monkey riding a horse", "relation", "riding", ("monkey", 1, None), ("horse", 1, None),
       relations=((0, "riding", 1),)),
    _p("a frog riding a turtle", "relation", "riding", ("frog", 1, None), ("turtle", 1, None),
       relations=((0, "riding", 1),)),
    _p("a dog eating a bone", "plain", "eating", ("dog", 1, None), ("bone", 1, None), relations=((0, "eating", 1),)),
    _p("a dog next to a bone", "relation", "eating", ("dog", 1, None), ("bone", 1, None),
       relations=((0, "beside", 1),)),
    _p("a cat and a dog", "relation", "cat-dog", ("cat", 1, None), ("dog", 1, None), relations=((0, "and", 1),)),
    _p("a cat with a dog", "relation", "cat-dog", ("cat", 1, None), ("dog", 1, None), relations=((0, "with", 1),)),
    _p("a bird on a cat on a chair", "relation", "chain", ("bird", 1, None), ("cat", 1, None), ("chair", 1, None),
       relations=((0, "on", 1), (1, "on", 2))),
    _p("a cat wearing a party hat and holding a balloon", "relation", "chain", ("cat", 1, None),
       ("party hat", 1, None), ("balloon", 1, None), relations=((0, "wearing", 1), (0, "holding", 2))),
    # settings: the same thing, another setting
    _p("a cat at night", "setting", "cat-setting", ("cat", 1, None), setting="night"),
    _p("a cat in the rain", "setting", "cat-setting", ("cat", 1, None), setting="rain"),
    _p("a cat in the snow", "setting", "cat-setting", ("cat", 1, None), setting="snow"),
    _p("a cat at sunset", "setting", "cat-setting", ("cat", 1, None), setting="sunset"),
    _p("a cat on the beach", "setting", "cat-setting", ("cat", 1, None), setting="beach"),
    _p("a cat in the forest", "setting", "cat-setting", ("cat", 1, None), setting="forest"),
    _p("a cat in autumn", "setting", "cat-setting", ("cat", 1, None), setting="autumn"),
    _p("a cat in space", "setting", "cat-setting", ("cat", 1, None), setting="space"),
    _p("a cat underwater", "setting", "cat-setting", ("cat", 1, None), setting="underwater"),
    _p("a rocket in space", "setting", "thing-setting", ("rocket", 1, None), setting="space"),
    _p("a whale underwater", "setting", "thing-setting", ("whale", 1, None), setting="underwater"),
    _p("a tent at night", "setting", "thing-setting", ("tent", 1, None), setting="night"),
    _p("a pumpkin in autumn", "setting", "thing-setting", ("pumpkin", 1, None), setting="autumn"),
    # all at once
    _p("three red cats at night", "mixed", "mixed", ("cat", 3, "red"), setting="night"),
    _p("4 red apples", "mixed", "mixed", ("red apple", 4, "red")),
    _p("two blue birds in a cage", "mixed", "mixed", ("bird", 2, "blue"), ("cage", 1, None),
       relations=((0, "in", 1),)),
    _p("a red cat on a blue chair", "mixed", "mixed", ("cat", 1, "red"), ("chair", 1, "blue"),
       relations=((0, "on", 1),)),
    _p("five yellow ducks in the rain", "mixed", "mixed", ("duck", 5, "yellow"), setting="rain"),
    _p("two dogs next to a green tent in the snow", "mixed", "mixed", ("dog", 2, None), ("tent", 1, "green"),
       relations=((0, "beside", 1),), setting="snow"),
)  # fmt: skip
