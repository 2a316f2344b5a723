"""Names and caption templates for the clipart-mini data set (stdlib only).

Every function that picks a template takes a ``random.Random``-like object with ``choice`` and ``random``
(the builder passes a seeded numpy-backed adapter), so captions are reproducible.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol


class Chooser(Protocol):
    """The part of a random generator that caption templates need."""

    def choice(self, seq: list[str]) -> str: ...

    def random(self) -> float: ...


COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 35),
    "orange": (245, 135, 20),
    "yellow": (245, 215, 25),
    "green": (40, 165, 55),
    "blue": (35, 85, 225),
    "purple": (135, 55, 185),
    "pink": (245, 120, 185),
    "brown": (125, 78, 38),
    "black": (20, 20, 20),
    "gray": (135, 135, 135),
}

SHAPES: tuple[str, ...] = (
    "circle",
    "square",
    "triangle",
    "star",
    "heart",
    "line",
    "spiral",
    "cross",
    "arrow",
    "hexagon",
    "ring",
    "crescent",
)

DIGIT_WORDS: tuple[str, ...] = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)

# Zero-shot prompt templates (article-free, matching the training captions), suggested in manifest.json.
EVAL_TEMPLATES: dict[str, list[str]] = {
    "emoji": ["{}", "a colourful {}", "a simple {} icon", "a cartoon {}"],
    "emoji_sketch": ["{}", "a simple {} icon", "a cartoon {}"],
    "colours": ["something {}", "{}"],
    "shapes": ["{}", "a drawing of a {}"],
    "digits": ["the digit {}", "the number {}", "a handwritten {}"],
}

# "{n}" is the noun, "{an}" the noun with its indefinite article.
_EMOJI_TEMPLATES: dict[str, list[str]] = {
    "colour": [
        "{n}",
        "{an}",
        "an emoji of {an}",
        "a picture of {an}",
        "{an} icon",
        "a colourful {n}",
        "a drawing of {an}",
    ],
    "flat": [
        "{n}",
        "{an}",
        "a flat drawing of {an}",
        "a simple {n} icon",
        "a drawing of {an}",
        "a cartoon {n}",
    ],
    "outline": ["{n}", "{an}", "an outline drawing of {an}", "a line drawing of {an}", "a sketch of {an}"],
    "pen": [
        "{n}",
        "{an}",
        "a pen drawing of {an}",
        "a sketch of {an}",
        "a drawing of {an}",
        "a doodle of {an}",
    ],
    "strokes": [
        "{n}",
        "{an}",
        "a drawing of {an}",
        "a painting of {an}",
        "a scribble of {an}",
        "a sketch of {an}",
    ],
}

_PAIR_TEMPLATES_H: list[str] = [
    "{a} next to {b}",
    "{a} on the left and {b} on the right",
    "{a} to the left of {b}",
    "{b} to the right of {a}",
    "{a} and {b}",
    "{a} beside {b}",
]
_PAIR_TEMPLATES_V: list[str] = [
    "{a} above {b}",
    "{b} below {a}",
    "{a} and {b}",
    "{b} under {a}",
    "{a} over {b}",
]

_DIGIT_TEMPLATES: list[str] = [
    "{d}",
    "the digit {d}",
    "the number {d}",
    "a handwritten {d}",
    "a handwritten digit {d}",
    "a drawing of the number {d}",
    "the number {w}",
    "a {w}",
]


def emoji_label(cldr: str) -> str:
    """Turn an ``emoji`` package name such as ``':horse_face:'`` into plain words (``'horse face'``)."""
    text = (
        cldr.strip(":").replace("_", " ").replace("\u2019", "'").replace("\u201c", "").replace("\u201d", "")
    )
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", text).strip().lower()


_A_BEFORE = ("one", "uni", "use", "eu", "ewe", "ufo")
_AN_BEFORE = ("hour", "honest", "ok ", "sos ", "ng ", "x-ray")


def article(phrase: str) -> str:
    """``'a horse'`` / ``'an apple'`` / ``'a one'``: the indefinite article that fits the phrase's first sound."""
    lower = phrase.lower()
    vowel = lower[:1] in "aeiou" and not lower.startswith(_A_BEFORE)
    return ("an " if vowel or lower.startswith(_AN_BEFORE) else "a ") + phrase


def emoji_caption(label: str, variant: str, rng: Chooser) -> str:
    """A caption for one emoji render in the given variant (colour, flat, outline, pen, strokes)."""
    return rng.choice(_EMOJI_TEMPLATES[variant]).format(n=label, an=article(label))


def pair_caption(first: str, second: str, horizontal: bool, rng: Chooser) -> str:
    """A relational caption for two objects; ``first`` is on the left (horizontal) or on top (vertical)."""
    template = rng.choice(_PAIR_TEMPLATES_H if horizontal else _PAIR_TEMPLATES_V)
    return template.format(a=article(first), b=article(second))


def position_words(cx: float, cy: float) -> str:
    """Where a centre (canvas fractions, y down) lies: ``'on the left'``, ``'at the top right'``, ``'in the middle'``."""
    horiz = "left" if cx < 0.38 else "right" if cx > 0.62 else ""
    vert = "top" if cy < 0.38 else "bottom" if cy > 0.62 else ""
    if horiz and vert:
        return f"at the {vert} {horiz}"
    if vert:
        return f"at the {vert}"
    if horiz:
        return f"on the {horiz}"
    return "in the middle"


def shape_caption(colour: str, shape: str, size: str, where: str, outline: bool, rng: Chooser) -> str:
    """A caption for one drawn shape; ``size`` is 'small', 'large' or '' and ``where`` a :func:`position_words`."""
    coloured = f"{colour} {shape}"
    sized = f"{size} {coloured}" if size else coloured
    options = [
        f"{article(sized)} {where}",
        article(sized),
        article(coloured),
        article(coloured),
        article(shape),
        f"a drawing of {article(coloured)}",
        f"{article(colour)} shape",
        f"something {colour}",
        colour,
        shape,
    ]
    if outline:
        options += [f"an outline of {article(coloured)}", f"{article(coloured)} outline"]
    return rng.choice(options)


def two_shape_caption(first: tuple[str, str], second: tuple[str, str], horizontal: bool, rng: Chooser) -> str:
    """A relational caption for two (colour, shape) pairs; ``first`` is on the left or on top."""
    return pair_caption(f"{first[0]} {first[1]}", f"{second[0]} {second[1]}", horizontal, rng)


def digit_caption(digit: int, ink: str, rng: Chooser) -> str:
    """A caption for a handwritten digit; ``ink`` is a colour name or '' when the ink is dark."""
    template = rng.choice(_DIGIT_TEMPLATES)
    text = template.format(d=digit, w=DIGIT_WORDS[digit])
    if template == "a {w}":
        text = article(DIGIT_WORDS[digit])
    if ink and rng.random() < 0.5:
        text = f"{article(ink)} {digit}"
    return text
