"""Scenes from whole prompts: the things a prompt names (how many, which colour), how they stand to each other,
and where it happens, laid out as the icon bank's strokes.

:func:`parse` reads a prompt by small rules into a :class:`Plan`: things (a count, a colour word, a noun matched to
the bank's concepts as :class:`~clipart.start.IconBank` matches names), the relation between each thing and the
next ("a cat on a chair", "a man riding a horse and wearing a hat": the verb after "and" belongs to the first
thing) and settings ("at night", "in the rain"). Counts are number words (one to twenty, a dozen, a pair of,
hundreds and more, which the caps then cut), digits, or 3 for "several", "many", "some", "a few" and for a
plural without a number ("cats"); none, or zero, is one. Commas list things as "and" does. :func:`cap` keeps
a plan within :data:`MAX_COUNT` of a thing, :data:`MAX_THINGS` things and :data:`STROKE_BUDGET` strokes, with one
warning. :func:`compose` lays a plan out: each thing's instances in a row, a ring or a grid, the things by one
geometric rule a relation (:data:`RULES`), placed by each icon's real stroke box and drawn in an order that puts
what is behind first; a colour word recolours its thing's strokes; a setting sets the canvas colour and adds what
belongs there (a moon and stars, rain, sand).

Strokes and data only: no CLIP here. Where a noun fits several concepts ("a hat": top hat, cowboy hat, ...)
:mod:`clipart.start` lets the guide choose before composing.
"""

from __future__ import annotations

import colorsys
import math
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import torch
from PIL import ImageColor
from torch import Tensor

from clipart.scene import POINTS_PER_STROKE, Scene

if TYPE_CHECKING:
    from clipart.start import IconBank

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in canvas units
RGB = tuple[float, float, float]

MAX_COUNT = 12  # instances of one thing
MAX_THINGS = 6  # things of one scene
STROKE_BUDGET = 1024  # strokes of one scene, the setting's included
SOME = 3  # "several", "many", "some", or a plural without a number
STAGE: Box = (0.1, 0.1, 0.9, 0.9)  # where the things go on a canvas without a setting
LINE_SCALE = 0.8  # the scale at which an icon's lines keep the bank's widths × this (a one-icon start's)
WHITE: RGB = (1.0, 1.0, 1.0)
PALE: RGB = (0.85, 0.87, 0.9)  # the canvas under a white or silver thing when none is given

NUMBERS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
           "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
           "forty": 40, "fifty": 50, "single": 1, "pair": 2, "couple": 2, "both": 2, "dozen": 12}  # fmt: skip
MULTIPLIERS = {"dozen": 12, "dozens": 12, "hundred": 100, "hundreds": 100, "thousand": 1000, "thousands": 1000,
               "million": 10**6, "millions": 10**6, "billion": 10**9, "billions": 10**9}  # fmt: skip
VAGUE = frozenset({"several", "many", "some", "few", "lots", "lot", "multiple", "numerous", "bunch", "group",
                   "flock", "herd", "pile", "crowd", "various", "plenty"})  # fmt: skip
ARTICLES = frozenset({"a", "an", "the", "of", "his", "her", "its", "their", "my", "your", "our", "this", "that",
                      "these", "those", "another"})  # fmt: skip

# colour word -> RGB: PIL.ImageColor's value, except pink, brown and violet, whose CSS values read as other
# colours (pink is pale, brown red, violet pink)
_OWN = {"pink": (255, 105, 180), "brown": (139, 90, 43), "violet": (143, 0, 255), "golden": (255, 215, 0),
        "grey": (128, 128, 128), "silver": (168, 169, 173)}  # fmt: skip
COLOUR_WORDS = ("red", "orange", "yellow", "green", "blue", "purple", "violet", "pink", "brown", "black", "white",
                "grey", "gray", "gold", "golden", "silver", "cyan", "turquoise", "teal", "navy", "magenta",
                "crimson", "indigo", "maroon")  # fmt: skip
COLOURS: dict[str, RGB] = {
    w: tuple(c / 255 for c in (_OWN[w] if w in _OWN else ImageColor.getrgb(w)))  # type: ignore[misc]
    for w in COLOUR_WORDS
}
# the hue bins a colour is measured by (name, from degrees; in order, red wrapping round 0), and the lightness
# classes of colours without hue
HUES = (("orange", 15), ("yellow", 45), ("green", 70), ("cyan", 165), ("blue", 195), ("purple", 255),
        ("pink", 315), ("red", 345))  # fmt: skip
GREYS = ("black", "grey", "white")

# relation -> its words; a longer phrase wins over a shorter one at the same word
RELATION_WORDS = {
    "on": ("on", "onto", "atop", "on top of", "upon"),
    "in": ("in", "inside", "inside of", "into", "within"),
    "under": ("under", "underneath", "beneath"),
    "below": ("below",),
    "above": ("above", "over"),
    "beside": ("next to", "beside", "near", "besides", "alongside"),
    "behind": ("behind",),
    "front": ("in front of",),
    "holding": ("holding", "carrying", "holds", "carries"),
    "wearing": ("wearing", "wears"),
    "eating": ("eating", "eats", "biting", "nibbling"),
    "riding": ("riding", "rides", "riding on"),
    "with": ("with",),
    "and": ("and",),
}
_PHRASES = sorted(((tuple(p.split()), kind) for kind, ps in RELATION_WORDS.items() for p in ps),
                  key=lambda pk: -len(pk[0]))  # fmt: skip
VERBS = frozenset({"holding", "wearing", "eating", "riding"})


@dataclass(frozen=True)
class Setting:
    """Where a scene happens: the canvas colour, where its things go, and what else belongs there."""

    background: RGB
    stage: Box  # where the things go
    # the bank's icons it adds: (concept, centre x, centre y, size), canvas units
    icons: tuple[tuple[str, float, float, float], ...] = ()
    strokes: str = ""  # generated strokes: rain, snow, sand, grass, stars, bubbles
    ground: bool = False  # the things stand on the stage's bottom


SETTINGS: dict[str, Setting] = {
    "night": Setting((0.08, 0.11, 0.27), (0.1, 0.3, 0.9, 0.95),
                     (("crescent moon", 0.8, 0.16, 0.22), ("star", 0.12, 0.1, 0.08), ("star", 0.36, 0.18, 0.06),
                      ("star", 0.57, 0.07, 0.07), ("star", 0.93, 0.4, 0.06), ("star", 0.07, 0.45, 0.05))),
    "sunset": Setting((0.98, 0.74, 0.52), (0.1, 0.3, 0.9, 0.95), (("sun", 0.2, 0.18, 0.26),), "horizon"),
    "rain": Setting((0.8, 0.84, 0.89), (0.12, 0.3, 0.88, 0.95),
                    (("cloud", 0.27, 0.12, 0.34), ("cloud", 0.74, 0.1, 0.3)), "rain"),
    "snow": Setting((0.76, 0.84, 0.93), (0.12, 0.22, 0.88, 0.92),
                    (("snowflake", 0.1, 0.1, 0.1), ("snowflake", 0.4, 0.08, 0.07), ("snowflake", 0.7, 0.14, 0.09),
                     ("snowflake", 0.92, 0.35, 0.07), ("snowflake", 0.07, 0.5, 0.06)), "snow", True),
    "underwater": Setting((0.12, 0.42, 0.7), (0.15, 0.22, 0.85, 0.92),
                          (("tropical fish", 0.15, 0.14, 0.16), ("fish", 0.86, 0.3, 0.13)), "bubbles"),
    "space": Setting((0.03, 0.03, 0.08), (0.1, 0.25, 0.9, 0.92), (("ringed planet", 0.84, 0.15, 0.22),), "stars"),
    "autumn": Setting((0.99, 0.95, 0.86), (0.15, 0.15, 0.85, 0.9),
                      (("maple leaf", 0.1, 0.12, 0.12), ("fallen leaf", 0.88, 0.1, 0.11),
                       ("maple leaf", 0.9, 0.88, 0.1), ("fallen leaf", 0.1, 0.9, 0.1))),
    "beach": Setting((0.8, 0.92, 0.98), (0.12, 0.2, 0.88, 0.9), (("sun", 0.85, 0.14, 0.2),), "sand", True),
    "forest": Setting((0.89, 0.95, 0.87), (0.22, 0.2, 0.78, 0.93),
                      (("evergreen tree", 0.1, 0.55, 0.34), ("deciduous tree", 0.9, 0.52, 0.36),
                       ("evergreen tree", 0.75, 0.3, 0.24)), "grass", True),
}  # fmt: skip
SETTING_WORDS = {
    "night": ("at night", "in the night", "at midnight", "by night", "at nighttime", "under the stars",
              "on a starry night", "at night time"),
    "sunset": ("at sunset", "at dusk", "at sundown", "at twilight", "at dawn", "at sunrise", "during sunset"),
    "rain": ("in the rain", "in rain", "in a rainstorm", "in the rainstorm", "on a rainy day", "in a storm"),
    "snow": ("in the snow", "in snow", "in winter", "in the winter", "on a snowy day", "in a snowstorm"),
    "underwater": ("underwater", "under water", "under the sea", "in the sea", "in the ocean", "under the ocean"),
    "space": ("in space", "in outer space", "in the space", "in the cosmos"),
    "autumn": ("in autumn", "in the autumn", "in fall", "in the fall"),
    "beach": ("on the beach", "on a beach", "at the beach", "at a beach", "by the beach"),
    "forest": ("in the forest", "in a forest", "in the woods", "in a wood", "in the wood"),
}  # fmt: skip
_SETTING_PHRASES = sorted(((tuple(p.split()), s) for s, ps in SETTING_WORDS.items() for p in ps),
                          key=lambda ps: -len(ps[0]))  # fmt: skip
_SETTING_FIRST = frozenset(p[0] for p, _ in _SETTING_PHRASES)


def words_of(text: str) -> list[str]:
    """Lower-case words with accents dropped: "Crème brûlée!" -> ["creme", "brulee"]."""
    plain = unicodedata.normalize("NFKD", text.lower())
    return re.findall(r"[^\W_]+", "".join(ch for ch in plain if not unicodedata.combining(ch)))


# words that end a thing's head noun when they follow it ("a kitten of ...", "a kitten sitting down"), with a
# participle ("-ing", "-ed")
AFTER_HEAD = ARTICLES | {"from", "by", "at", "for", "to", "like", "as", "without", "near", "up", "down",
                         "out"}  # fmt: skip


class StandIn(NamedTuple):
    """What drew a thing whose words the bank does not name: the word the stand-in map holds ("kitten"), the
    bank's name for its stand-in ("cat") and how it stands in (``recipes/wordmap.py``: "synonym", "kind",
    "young", "is a", "plural", "plural, ...")."""

    word: str
    name: str
    how: str


@dataclass(frozen=True)
class Thing:
    """One thing a prompt names: its words, the bank concepts they may mean (the first is used), how many, the
    colour word that qualifies it, and what stood in for its head noun when the bank names none of its words."""

    words: str
    concepts: tuple[int, ...]
    count: int = 1
    colour: str | None = None
    plural: bool = False
    stand_in: StandIn | None = None


@dataclass(frozen=True)
class Relation:
    """``things[subject] kind things[object]``: a cat (subject) on a chair (object)."""

    subject: int
    kind: str
    object: int


@dataclass(frozen=True)
class Plan:
    """What a prompt asks to draw."""

    things: tuple[Thing, ...]
    relations: tuple[Relation, ...] = ()
    settings: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # the words of things left out because nothing in the bank draws them

    @property
    def plain(self) -> bool:
        """True when the icon start of one thing, or of a thing beside a smaller one ("a horse eating a
        cupcake"), draws all that is asked: no count, colour, setting, third thing or other relation."""
        return (
            len(self.things) <= 2
            and all(t.count == 1 and t.colour is None for t in self.things)
            and not self.settings
            and all(r.kind in ("eating", "holding") for r in self.relations)
        )

    def known(self) -> Plan:
        """The plan without the things whose words name no concept, and without their relations."""
        index = {old: new for new, old in enumerate(i for i, t in enumerate(self.things) if t.concepts)}
        relations = tuple(
            Relation(index[r.subject], r.kind, index[r.object])
            for r in self.relations
            if r.subject in index and r.object in index
        )
        missing = self.missing + tuple(t.words for t in self.things if not t.concepts)
        return Plan(tuple(t for t in self.things if t.concepts), relations, self.settings, missing)


@dataclass
class Composition:
    """A composed start: its scene, its credit line and the bookkeeping of what went where (:func:`compose`)."""

    scene: Scene
    credit: str
    layout: dict[str, Any]
    # each stroke's share of the drawing's point rate: an icon drawn at scale k moves at k / LINE_SCALE (at most 1),
    # so that a small icon keeps its shape as a large one does; the settings' generated strokes stay put (0)
    rates: Tensor


# ---------------------------------------------------------------- parsing


def _count_of(words: list[str]) -> tuple[int | None, int]:
    """The count at the start of a thing's words and how many words it took (None: none given)."""
    value: int | None = None
    i = 0
    while i < len(words):
        w = words[i]
        if w.isdigit():
            n = int(w) if len(w) <= 9 else 10**9
            value = n if value is None else value * n
        elif w in MULTIPLIERS:
            value = MULTIPLIERS[w] * (value or 1)
        elif w in NUMBERS:
            value = NUMBERS[w] if value is None else value * NUMBERS[w]
        elif w in VAGUE:
            value = value or SOME
        elif w not in ARTICLES:
            break
        i += 1
    return value, i


def _thing(words: list[str], bank: IconBank) -> Thing | None:
    """A thing from its words ("three red apples"), or None when they hold no word that may name one."""
    count, start = _count_of(words)
    rest = words[start:]
    colour = next((w for w in rest if w in COLOURS), None)
    found: tuple[list[int], int, bool] = ([], 0, False)
    for whole in (True, False):
        for i, w in enumerate(rest):
            hit = bank.name_at(rest, i, whole)
            if hit[0] and (w not in COLOURS or hit[1] >= 2):  # "red apple" is a thing, "orange cat" a colour
                found = hit
                break
        if found[0]:
            break
    if not found[0] and colour is not None and rest == [colour]:  # "an orange": the fruit
        found, colour = bank.name_at(rest, 0, True), None
    stand_in = None
    if not found[0]:  # the last tier: what stands in for the head noun ("a kitten": a cat)
        head = _head_stand_in(rest, bank)
        if head is not None:
            concepts_in, _, plural_in, stand_in = head
            found = (concepts_in, 0, plural_in)
    concepts, _, plural = found
    text = " ".join(rest)
    if not text.strip() or all(w in COLOURS for w in rest) and not concepts:
        return None
    if count is None:
        count = SOME if plural else 1
    return Thing(text, tuple(concepts), max(count, 1), colour, plural, stand_in)


def _head_stand_in(words: list[str], bank: IconBank) -> tuple[list[int], int, bool, StandIn] | None:
    """:meth:`~clipart.start.IconBank.stand_in_at` for the head noun of a thing's words that name no concept:
    the last word (or words) the stand-in map holds, not a colour word, before anything that follows the head
    (:data:`AFTER_HEAD`, or a participle: "a jet black kitten sitting down" is a kitten); None if none."""
    head = None
    i = 0
    while i < len(words):
        hit = None if words[i] in COLOURS else bank.stand_in_at(words, i)
        if hit is not None:
            head = hit
            i += hit[1]
            continue
        if head is not None and (words[i] in AFTER_HEAD or words[i].endswith(("ing", "ed"))):
            break
        i += 1
    return head


def parse(prompt: str, bank: IconBank) -> Plan | None:
    """The plan of ``prompt``: its things, the relation between each and the next, its settings; None when no
    words of it may name a thing. A thing whose words name no concept of the bank or stand-in ("three zorblaxes")
    has none: :func:`cap` leaves it out (:func:`clipart.start.nothing_fits` says when that leaves nothing to start
    from).

    A plural without a number asks for :data:`SOME` (3) of the thing.
    """
    words: list[str] = []
    for chunk in re.split(r"[,;]", prompt.replace("&", " and ")):  # a comma lists things: "a cat, a dog"
        words += [","] * bool(words) + words_of(chunk)
    n = len(words)
    locked = [False] * n  # inside a name that holds a relation word ("cloud with rain", "bridge at night")
    i = 0
    while i < n:
        _, span, _ = bank.name_at(words, i, True)
        inside = words[i : i + span]
        if span >= 2 and any(_relation_at(inside, k) or w in _SETTING_FIRST for k, w in enumerate(inside)):
            locked[i : i + span] = [True] * span
            i += span
        else:
            i += 1
    settings: list[str] = []
    used = [False] * n
    for i in range(n):
        if used[i] or locked[i]:
            continue
        for phrase, setting in _SETTING_PHRASES:
            if tuple(words[i : i + len(phrase)]) == phrase and not any(locked[i : i + len(phrase)]):
                used[i : i + len(phrase)] = [True] * len(phrase)
                if setting not in settings:
                    settings.append(setting)
                break
    # split the rest into thing phrases at relation words
    phrases: list[list[str]] = [[]]
    kinds: list[tuple[str, bool]] = []  # (relation, after "and")
    commas: list[bool] = [False]  # each phrase follows a comma
    i = 0
    while i < n:
        if used[i]:
            i += 1
            continue
        hit = ("and", 1) if words[i] == "," else None if locked[i] else _relation_at(words, i)
        if hit and hit[0] == "and" and _colour_pair(words, i):
            hit = None  # "a black and white cat"
        if hit is None:
            phrases[-1].append(words[i])
            i += 1
            continue
        kind, length = hit
        if not phrases[-1] and kinds and kinds[-1][0] == "and" and kind in VERBS:
            kinds[-1] = (kind, True)  # "... and holding an umbrella": the verb belongs to the first thing
        elif not phrases[-1]:
            pass  # a relation with nothing before it: a word of the scene, not a relation
        else:
            kinds.append((kind, False))
            phrases.append([])
            commas.append(words[i] == ",")
        i += length
    things: list[Thing] = []
    relations: list[Relation] = []
    pending: tuple[str, bool] | None = None
    for k, phrase in enumerate(phrases):
        thing = _thing(phrase, bank)
        if thing is not None and (thing.concepts or not commas[k]):  # "a cat, sitting on a chair": no thing
            if things and pending is not None:
                kind, after_and = pending
                subject = 0 if after_and else len(things) - 1
                relations.append(Relation(subject, kind, len(things)))
            things.append(thing)
            pending = None
        if k < len(kinds) and things:
            pending = kinds[k]
    if not things:
        return None
    return Plan(tuple(things), tuple(relations), tuple(settings))


def _relation_at(words: list[str], i: int) -> tuple[str, int] | None:
    for phrase, kind in _PHRASES:
        if tuple(words[i : i + len(phrase)]) == phrase:
            return kind, len(phrase)
    return None


def _colour_pair(words: list[str], i: int) -> bool:
    return 0 < i < len(words) - 1 and words[i - 1] in COLOURS and words[i + 1] in COLOURS


# ---------------------------------------------------------------- caps


def _most_strokes(bank: IconBank, concept: int) -> int:
    sizes = [int(bank.first[i + 1] - bank.first[i]) for i in bank.icons_of(concept)]
    return max(sizes or [0])


def cap(plan: Plan, bank: IconBank) -> Plan:
    """``plan`` within :data:`MAX_THINGS` things, :data:`MAX_COUNT` of each and :data:`STROKE_BUDGET` strokes
    (counted for each concept's largest icon, so that every seed fits), counts cut from the largest down, then
    things from the last; one warning says what was cut. Things without a concept are left out silently."""
    plan = plan.known()
    things = list(plan.things)
    cuts: list[str] = []
    if len(things) > MAX_THINGS:
        cuts.append(f"{len(things)} things become {MAX_THINGS}")
        things = things[:MAX_THINGS]
    asked = [t.count for t in things]
    counts = [min(c, MAX_COUNT) for c in asked]
    sizes = [_most_strokes(bank, t.concepts[0]) for t in things]
    fixed = _setting_strokes(plan.settings, bank)

    def total() -> int:
        return fixed + sum(c * s for c, s in zip(counts, sizes, strict=True))

    while total() > STROKE_BUDGET and max(counts) > 1:
        counts[max(range(len(counts)), key=lambda j: (counts[j] * sizes[j], -j))] -= 1
    while total() > STROKE_BUDGET and len(counts) > 1:
        counts.pop()
        cuts.append(f"{things.pop().words!r} is left out")
    cuts = [
        f"{a if a < 10**9 else 'over a billion'} {t.words} become {c}"
        for t, a, c in zip(things, asked, counts, strict=False)
        if c < a
    ] + cuts
    if cuts:
        warnings.warn(
            f"the scene is more than a drawing holds ({MAX_COUNT} of a thing, {MAX_THINGS} things, "
            f"{STROKE_BUDGET} strokes): {'; '.join(cuts)}",
            stacklevel=2,
        )
    capped = tuple(replace(t, count=c) for t, c in zip(things, counts, strict=False))
    relations = tuple(r for r in plan.relations if r.subject < len(capped) and r.object < len(capped))
    return Plan(capped, relations, plan.settings, plan.missing)


# ---------------------------------------------------------------- layout


def _fit(aspect: float, w: float, h: float) -> tuple[float, float]:
    """The largest box of ``aspect`` (width / height) within ``w`` × ``h``."""
    return (w, w / aspect) if aspect >= w / h else (h * aspect, h)


def _centred(cx: float, cy: float, wh: tuple[float, float]) -> Box:
    w, h = wh
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _on(a: Box, r: float) -> Box:  # its bottom on the anchor's top part (a seat, a back, a table)
    w, h = _fit(r, 0.6 * (a[2] - a[0]), 0.8 * (a[3] - a[1]))
    bottom = a[1] + 0.25 * (a[3] - a[1])
    return _centred((a[0] + a[2]) / 2, bottom - h / 2, (w, h))


def _in(a: Box, r: float) -> Box:  # smaller, inside the anchor's box
    return _centred((a[0] + a[2]) / 2, (a[1] + a[3]) / 2, _fit(r, 0.5 * (a[2] - a[0]), 0.5 * (a[3] - a[1])))


def _under(a: Box, r: float) -> Box:  # its bottom at the anchor's bottom, in the anchor's lower half
    w, h = _fit(r, 0.6 * (a[2] - a[0]), 0.5 * (a[3] - a[1]))
    return _centred((a[0] + a[2]) / 2, a[3] - h / 2, (w, h))


def _below(a: Box, r: float) -> Box:  # wholly below the anchor
    w, h = _fit(r, 0.7 * (a[2] - a[0]), 0.7 * (a[3] - a[1]))
    return _centred((a[0] + a[2]) / 2, a[3] + 0.08 * (a[3] - a[1]) + h / 2, (w, h))


def _above(a: Box, r: float) -> Box:  # wholly above the anchor, smaller
    w, h = _fit(r, 0.5 * (a[2] - a[0]), 0.5 * (a[3] - a[1]))
    return _centred((a[0] + a[2]) / 2, a[1] - 0.08 * (a[3] - a[1]) - h / 2, (w, h))


def _beside(
    a: Box, r: float, k: float = 1.0
) -> Box:  # to the right, as tall (``k``: as a share), bottoms level
    h = k * (a[3] - a[1])
    x0 = a[2] + 0.12 * (a[3] - a[1])
    return (x0, a[3] - h, x0 + r * h, a[3])


def _behind(a: Box, r: float) -> Box:  # as large, up and to the right, drawn first so the anchor covers it
    wh = _fit(r, 0.95 * (a[2] - a[0]), 0.95 * (a[3] - a[1]))
    return _centred(a[0] + 0.8 * (a[2] - a[0]), a[1] + 0.3 * (a[3] - a[1]), wh)


def _front(a: Box, r: float) -> Box:  # smaller, lower and to the left, over the anchor
    w, h = _fit(r, 0.65 * (a[2] - a[0]), 0.65 * (a[3] - a[1]))
    return _centred(a[0] + 0.35 * (a[2] - a[0]), a[3] + 0.1 * (a[3] - a[1]) - h / 2, (w, h))


def _wearing(a: Box, r: float) -> Box:  # small, on top of the wearer, overlapping its top
    w, h = _fit(r, 0.5 * (a[2] - a[0]), 0.4 * (a[3] - a[1]))
    return _centred((a[0] + a[2]) / 2, a[1] + 0.2 * h, (w, h))


def _riding(a: Box, r: float) -> Box:  # the rider on the mount's back (the mount is the anchor)
    w, h = _fit(r, 0.6 * (a[2] - a[0]), 0.75 * (a[3] - a[1]))
    bottom = a[1] + 0.45 * (a[3] - a[1])
    return _centred((a[0] + a[2]) / 2, bottom - h / 2, (w, h))


def _holding(a: Box, r: float) -> Box:  # small, at the holder's side, half way up
    w, h = _fit(r, 0.4 * (a[2] - a[0]), 0.4 * (a[3] - a[1]))
    return _centred(a[2] + 0.3 * w, a[1] + 0.55 * (a[3] - a[1]), (w, h))


def _eating(a: Box, r: float) -> Box:  # smaller, at the eater's side, high (its mouth)
    w, h = _fit(r, 0.35 * (a[2] - a[0]), 0.35 * (a[3] - a[1]))
    return _centred(a[2] + 0.2 * w, a[1] + 0.35 * (a[3] - a[1]), (w, h))


# relation -> (the object is the anchor, the dependent's box from the anchor's box and its own aspect, the
# dependent is drawn after the anchor)
RULES: dict[str, tuple[bool, Callable[[Box, float], Box], bool]] = {
    "on": (True, _on, True),
    "in": (True, _in, True),
    "under": (True, _under, True),
    "below": (True, _below, True),
    "above": (True, _above, True),
    "behind": (True, _behind, False),
    "front": (True, _front, True),
    "riding": (True, _riding, True),
    "beside": (False, _beside, True),
    "and": (False, _beside, True),
    "with": (False, lambda a, r: _beside(a, r, 0.7), True),
    "wearing": (False, _wearing, True),
    "holding": (False, _holding, True),
    "eating": (False, _eating, True),
}


def _group(n: int, aspect: float) -> list[Box]:
    """Boxes of ``n`` instances of one thing (each ``aspect`` wide, at most 1 a side), none overlapping: a row
    of up to three, a ring of five to eight, else a grid (two, three or four a row)."""
    w, h = (1.0, 1 / aspect) if aspect >= 1 else (aspect, 1.0)
    gap = 0.15 * max(w, h)
    if 5 <= n <= 8:  # neighbours' centres far enough apart for their boxes at any angle
        radius = 0.75 * max(w, h) / math.sin(math.pi / n)
        angles = [-math.pi / 2 + 2 * math.pi * k / n for k in range(n)]
        return [_centred(radius * math.cos(t), radius * math.sin(t), (w, h)) for t in angles]
    cols = n if n <= 3 else 2 if n == 4 else 3 if n == 9 else 4
    boxes = []
    for k in range(n):
        row, col = divmod(k, cols)
        in_row = min(cols, n - row * cols)
        x = (col + (cols - in_row) / 2) * (w + gap)
        y = row * (h + 0.5 * gap)
        boxes.append((x, y, x + w, y + h))
    return boxes


def _bounds(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _aspect(b: Box) -> float:
    return (b[2] - b[0]) / (b[3] - b[1])


def _map(b: Box, src: Box, dst: Box) -> Box:
    """``b`` carried by the scale and shift that take ``src`` to ``dst`` (the same aspect)."""
    s = (dst[2] - dst[0]) / (src[2] - src[0])
    return (dst[0] + (b[0] - src[0]) * s, dst[1] + (b[1] - src[1]) * s,
            dst[0] + (b[2] - src[0]) * s, dst[1] + (b[3] - src[1]) * s)  # fmt: skip


def _place(aspects: list[float], relations: tuple[Relation, ...]) -> tuple[list[Box], list[int]]:
    """Each thing's box (aspects: width / height of each thing's group) and the order to draw them in: the
    first thing at the origin, then along the relations, each thing by the rule of its relation to a thing
    already placed (a rule read backwards when the placed thing is the dependent one). Things no relation
    reaches stand beside the last one placed."""
    boxes: list[Box | None] = [None] * len(aspects)
    boxes[0] = (0.0, 0.0, aspects[0], 1.0)
    order = [0]
    edges = list(relations)
    while None in boxes:
        for r in edges:
            s, o = r.subject, r.object
            if (boxes[s] is None) == (boxes[o] is None):
                continue
            anchor_is_object, rule, after = RULES[r.kind]
            anchor, dependent = (o, s) if anchor_is_object else (s, o)
            if boxes[anchor] is not None:
                boxes[dependent] = rule(boxes[anchor], aspects[dependent])
                new, old = dependent, anchor
                first = not after
            else:
                fixed = boxes[dependent]
                assert fixed is not None
                unit = (0.0, 0.0, aspects[anchor], 1.0)
                boxes[anchor] = _map(unit, rule(unit, aspects[dependent]), fixed)
                new, old = anchor, dependent
                first = after  # the anchor goes before a dependent drawn after it
            at = order.index(old)
            order.insert(at if first else at + 1, new)
            break
        else:  # a thing no relation reaches: beside the last thing placed
            new = boxes.index(None)
            last = boxes[order[-1]]
            assert last is not None
            boxes[new] = _beside(last, aspects[new])
            order.append(new)
    return [b for b in boxes if b is not None], order


def _icon_box(bank: IconBank, icon: int) -> Box:
    """The box of an icon's strokes in its own unit square (control points, widened by half the stroke width)."""
    s = slice(int(bank.first[icon]), int(bank.first[icon + 1]))
    pts, segs, half = bank.points[s], bank.segments[s], bank.widths[s] / 2
    used = torch.arange(POINTS_PER_STROKE).view(1, -1) < (3 * segs + 1).view(-1, 1)
    lo = torch.where(used[..., None], pts, torch.inf).amin(1) - half[:, None]
    hi = torch.where(used[..., None], pts, -torch.inf).amax(1) + half[:, None]
    x0, y0 = lo.amin(0).tolist()
    x1, y1 = hi.amax(0).tolist()
    return (x0, y0, max(x1, x0 + 1e-3), max(y1, y0 + 1e-3))


def _fit_box(src: Box, stage: Box, ground: bool) -> Box:
    """``src`` scaled into ``stage``: centred, or standing on its bottom (``ground``)."""
    w, h = _fit(_aspect(src), stage[2] - stage[0], stage[3] - stage[1])
    cx = (stage[0] + stage[2]) / 2
    cy = stage[3] - h / 2 if ground else (stage[1] + stage[3]) / 2
    return _centred(cx, cy, (w, h))


def _slot(bank: IconBank, icon: int, target: Box) -> tuple[int, float, float, float]:
    """The (icon, centre x, centre y, scale) of :meth:`IconBank.scene` that puts the icon's box on ``target``."""
    b = _icon_box(bank, icon)
    k = (target[2] - target[0]) / (b[2] - b[0])
    return icon, target[0] - (b[0] - 0.5) * k, target[1] - (b[1] - 0.5) * k, k


# ---------------------------------------------------------------- colours


def _lightness(rgb: RGB) -> float:
    return colorsys.rgb_to_hls(*rgb)[1]


def recolour(colors: Tensor, ink: Tensor, colour: str) -> Tensor:
    """Stroke colours ``[N, 4]`` redrawn so that ``colour`` (a word of :data:`COLOURS`) leads: every stroke that
    is not near-black takes the colour's hue and saturation and a lightness near the colour's, keeping its own
    shading and alpha; near-black outlines stay dark, unless they are most of the ink (a line icon: then they
    all take the colour). ``ink``: each stroke's share of the drawing (length × width × alpha)."""
    h_t, l_t, s_t = colorsys.rgb_to_hls(*COLOURS[colour])
    rgb = colors[:, :3].tolist()
    light = [colorsys.rgb_to_hls(*c)[1] for c in rgb]
    free = [x >= 0.18 for x in light]
    weights = ink.tolist()
    total = sum(weights) or 1.0
    if sum(w for w, f in zip(weights, free, strict=True) if f) < 0.3 * total:
        free = [True] * len(rgb)
    mean = sum(w * x for w, x, f in zip(weights, light, free, strict=True) if f)
    mean /= sum(w for w, f in zip(weights, free, strict=True) if f) or 1.0
    out = colors.clone()
    for k, (x, f) in enumerate(zip(light, free, strict=True)):
        if f:
            shade = min(max(l_t + 0.5 * (x - mean), l_t - 0.15, 0.03), l_t + 0.15, 0.97)
            out[k, :3] = torch.tensor(colorsys.hls_to_rgb(h_t, shade, s_t))
    return out


def colour_class(rgb: Tensor) -> list[str]:
    """The colour name of each RGB ``[N, 3]``: a hue bin of :data:`HUES`, or black, grey or white when it is
    nearly without hue."""
    r, g, b = rgb.unbind(-1)
    hi, lo = rgb.amax(-1), rgb.amin(-1)
    light = (hi + lo) / 2
    chroma = hi - lo
    sat = torch.where(
        chroma > 0, chroma / (1 - (2 * light - 1).abs()).clamp_min(1e-6), torch.zeros_like(chroma)
    )
    safe = chroma.clamp_min(1e-6)
    hue = torch.where(
        hi == r, ((g - b) / safe) % 6, torch.where(hi == g, (b - r) / safe + 2, (r - g) / safe + 4)
    )
    deg = (hue * 60) % 360
    starts = torch.tensor([s for _, s in HUES])
    bins = ((deg.unsqueeze(-1) >= starts).sum(-1) - 1) % len(HUES)  # under 15 degrees: red, as from 345
    grey = (sat < 0.2) | (chroma < 0.08)
    greys = torch.where(light < 0.3, 0, torch.where(light > 0.78, 2, 1))
    return [
        GREYS[int(k)] if grey_ else HUES[int(j)][0] for j, k, grey_ in zip(bins, greys, grey, strict=True)
    ]


def colour_bin(word: str) -> str:
    """The colour name (:func:`colour_class`) a colour word is measured as: "crimson" is red, "gold" yellow."""
    return colour_class(torch.tensor([COLOURS[word]]))[0]


def dominant_colour(image: Tensor, background: RGB) -> tuple[str | None, str | None]:
    """The leading colour of a render ``[3, H, W]`` apart from its background: (the most frequent hue bin
    among the pixels with a hue, the most frequent of black/grey/white among those without), None where no
    pixel has one. Anti-aliased edges keep their stroke's hue, so hues are measured right to the edge."""
    pixels = image.reshape(3, -1).T
    ink = (pixels - torch.tensor(background)).abs().amax(-1) > 0.08
    names = colour_class(pixels[ink])
    hues = [n for n in names if n not in GREYS]
    greys = [n for n in names if n in GREYS]
    return (
        max(set(hues), key=hues.count) if hues else None,
        max(set(greys), key=greys.count) if greys else None,
    )


def shows_colour(image: Tensor, background: RGB, word: str) -> bool:
    """True when the render's leading non-background colour is ``word``'s: by hue for a colour with one, and
    for black, grey, white and silver when pixels without hue are most of the ink and lead with it."""
    want = colour_bin(word)
    pixels = image.reshape(3, -1).T
    ink = (pixels - torch.tensor(background)).abs().amax(-1) > 0.08
    names = colour_class(pixels[ink])
    if not names:
        return False
    if want in GREYS:
        greys = [n for n in names if n in GREYS]
        return 2 * len(greys) > len(names) and max(set(greys), key=greys.count) == want
    return dominant_colour(image, background)[0] == want


# ---------------------------------------------------------------- composing


def _a(name: str) -> str:
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def notes(things: list[dict[str, Any]], missing: tuple[str, ...] = ()) -> str:
    """The end of a credit line that says, for the things placed (:func:`compose`'s layout records), which icon
    stood in for which words, and which words nothing drew: '; "kitten" drawn as a cat (a kitten is a young cat,
    by WordNet)', '; no icon or WordNet stand-in for "table": left to the guide'. Each note once; "" when none."""
    said: list[str] = []
    for thing in things:
        stand_in = thing.get("stand_in")
        if not stand_in or stand_in["how"] == "plural":  # "mice": the plural of a name the bank has
            continue
        word, name, how = stand_in["word"], stand_in["name"], stand_in["how"].removeprefix("plural, ")
        why = {"synonym": f"another word for {_a(name)}", "kind": f"{_a(name)} is a kind of {word}",
               "young": f"{_a(word)} is a young {name}", "is a": f"{_a(word)} is a kind of {name}"}[how]  # fmt: skip
        said.append(f'"{word}" drawn as {_a(thing["thing"])} ({why}, by WordNet)')
    said += [f'no icon or WordNet stand-in for "{words}": left to the guide' for words in missing]
    return "".join(f"; {note}" for note in dict.fromkeys(said))


def _ink(bank: IconBank, icon: int) -> Tensor:
    s = slice(int(bank.first[icon]), int(bank.first[icon + 1]))
    pts, segs = bank.points[s], bank.segments[s]
    steps = (pts[:, 1:] - pts[:, :-1]).norm(dim=-1)
    used = torch.arange(POINTS_PER_STROKE - 1).view(1, -1) < (3 * segs).view(-1, 1)
    return (steps * used).sum(1) * bank.widths[s] * bank.colors[s, 3]


def _generated(kind: str, seed: int) -> Scene | None:
    """The generated strokes of a setting (rain lines, snow, sand, grass, a horizon, stars, bubbles)."""
    g = torch.Generator().manual_seed(seed)
    strokes: list[tuple[list[tuple[float, float]], float, tuple[float, float, float, float]]] = []

    def line(p: tuple[float, float], q: tuple[float, float], width: float, rgba: tuple) -> None:
        strokes.append(([p, (p[0] + (q[0] - p[0]) / 3, p[1] + (q[1] - p[1]) / 3),
                         (p[0] + 2 * (q[0] - p[0]) / 3, p[1] + 2 * (q[1] - p[1]) / 3), q], width, rgba))  # fmt: skip

    def uniform(lo: float, hi: float) -> float:
        return lo + (hi - lo) * float(torch.rand((), generator=g))

    if kind == "rain":
        for _ in range(28):
            x, y = uniform(0.05, 1.0), uniform(0.22, 0.95)
            line((x, y), (x - 0.02, y + 0.06), 0.006, (0.25, 0.45, 0.85, 0.9))
    elif kind == "stars":
        for _ in range(26):
            x, y = uniform(0.02, 0.98), uniform(0.02, 0.98)
            line((x, y), (x, y), uniform(0.006, 0.014), (1.0, 1.0, 0.92, 1.0))
    elif kind == "bubbles":
        for _ in range(7):
            x, y, r = uniform(0.05, 0.95), uniform(0.05, 0.6), uniform(0.012, 0.028)
            k = 0.5523 * r
            for sign in (1, -1):
                strokes.append(([(x - r, y), (x - r, y - sign * k), (x - k, y - sign * r), (x, y - sign * r),
                                 (x + k, y - sign * r), (x + r, y - sign * k), (x + r, y)], 0.004,
                                (0.92, 0.97, 1.0, 0.9)))  # fmt: skip
    elif kind in ("sand", "snow", "grass"):
        top, rgba = {"sand": (0.8, (0.93, 0.82, 0.52, 1.0)), "snow": (0.92, (1.0, 1.0, 1.0, 1.0)),
                     "grass": (0.91, (0.45, 0.7, 0.3, 1.0))}[kind]  # fmt: skip
        y = top + 0.025
        while y < 1.02:
            line((-0.02, y), (1.02, y + uniform(-0.01, 0.01)), 0.05, rgba)
            y += 0.04
    elif kind == "horizon":
        line((-0.02, 0.78), (1.02, 0.78), 0.008, (0.85, 0.4, 0.3, 0.9))
    if not strokes:
        return None
    points = torch.tensor([pts + [pts[-1]] * (POINTS_PER_STROKE - len(pts)) for pts, _, _ in strokes])
    segments = torch.tensor([(len(pts) - 1) // 3 for pts, _, _ in strokes])
    return Scene(
        points, segments, torch.tensor([w for _, w, _ in strokes]), torch.tensor([c for _, _, c in strokes])
    )


def _setting_icons(setting: Setting, bank: IconBank) -> list[tuple[int, float, float, float]]:
    """The icons a setting adds (the preferred style of each concept the bank holds), fitted to their squares."""
    placed = []
    for concept, x, y, size in setting.icons:
        if concept in bank.concepts:
            icon = bank.icons_of(bank.concepts.index(concept))[0]
            box = _icon_box(bank, icon)
            placed.append(_slot(bank, icon, _centred(x, y, _fit(_aspect(box), size, size))))
    return placed


def _setting_strokes(settings: tuple[str, ...], bank: IconBank) -> int:
    """The strokes the settings add (their icons and their generated strokes)."""
    total = 0
    for name in settings:
        s = SETTINGS[name]
        total += sum(int(bank.first[i + 1] - bank.first[i]) for i, *_ in _setting_icons(s, bank))
        extra = _generated(s.strokes, 0)
        total += extra.num_strokes if extra is not None else 0
    return total


def _icons_scene(
    bank: IconBank, placed: list[tuple[int, float, float, float]], background: RGB
) -> tuple[Scene, Tensor]:
    """:meth:`IconBank.scene` with lines that thin less than the icons shrink (an icon drawn at scale ``k`` has
    its widths at ``sqrt(LINE_SCALE * k)`` of the bank's, as a one-icon start has them at ``LINE_SCALE``), and
    each stroke's point rate (:attr:`Composition.rates`)."""
    scene = bank.scene(placed, background)
    sizes = [int(bank.first[i + 1] - bank.first[i]) for i, *_ in placed]
    scales = torch.cat([torch.full((n,), k) for n, (*_, k) in zip(sizes, placed, strict=True)])
    scene.widths = scene.widths * (LINE_SCALE / scales).sqrt()
    return scene, (scales / LINE_SCALE).clamp(max=1.0)


def _cat(parts: list[Scene], background: RGB) -> Scene:
    return Scene(
        torch.cat([p.points for p in parts]),
        torch.cat([p.segments for p in parts]),
        torch.cat([p.widths for p in parts]),
        torch.cat([p.colors for p in parts]),
        background,
    )


def compose(plan: Plan, bank: IconBank, seed: int, background: RGB | None = None) -> Composition:
    """The start scene of a (capped: :func:`cap`) plan for ``seed``: each thing drawn by the icon of its first
    concept that the seed picks (as a one-thing start picks), all its instances alike.

    ``background``: the canvas colour the user set, or None: the setting's (the first one's), a pale grey under
    a white or silver thing, else white. On a dark canvas the things' near-black strokes turn light so that
    they show. The layout records, for each thing, its icon, count and colour and the strokes of each instance
    (ranges into the scene), the relations, the settings and the strokes the settings added.
    """
    plan = plan.known()
    things, relations = list(plan.things), plan.relations
    if not things:
        raise ValueError("the plan names no thing of the bank")
    settings = [SETTINGS[s] for s in plan.settings]
    if background is None:
        if settings:
            background = settings[0].background
        elif any(t.colour in ("white", "silver") for t in things):
            background = PALE
        else:
            background = WHITE
    icons = []
    for t in things:
        styles = bank.icons_of(t.concepts[0])
        icons.append(styles[seed % len(styles)])
    groups = []
    for t, icon in zip(things, icons, strict=True):
        groups.append(_group(t.count, _aspect(_icon_box(bank, icon))))
    boxes, order = _place([_aspect(_bounds(g)) for g in groups], relations)
    stage = settings[0].stage if settings else STAGE
    whole = _bounds(boxes)
    canvas = _fit_box(whole, stage, any(s.ground for s in settings))
    dark = _lightness(background) < 0.35
    parts: list[Scene] = []
    rates: list[Tensor] = []
    count = 0
    extras: list[list[int]] = []
    for k, s in enumerate(settings):
        generated = _generated(s.strokes, seed + k)
        placed = _setting_icons(s, bank)
        for part, rate in (
            [(generated, torch.zeros(generated.num_strokes))] if generated is not None else []
        ) + ([_icons_scene(bank, placed, background)] if placed else []):
            extras.append([count, count + part.num_strokes])
            parts.append(part)
            rates.append(rate)
            count += part.num_strokes
    records: list[dict[str, Any]] = [
        {"thing": bank.concepts[t.concepts[0]], "words": t.words, "icon": bank.icons[i], "count": t.count,
         "colour": t.colour, "strokes": []} | ({"stand_in": t.stand_in._asdict()} if t.stand_in else {})
        for t, i in zip(things, icons, strict=True)
    ]  # fmt: skip
    for j in order:
        t, icon, group = things[j], icons[j], groups[j]
        target = _map(boxes[j], whole, canvas)
        ink = _ink(bank, icon)
        for box in group:
            part, rate = _icons_scene(
                bank, [_slot(bank, icon, _map(box, _bounds(group), target))], background
            )
            if dark:
                light = torch.tensor([_lightness(tuple(c)) < 0.18 for c in part.colors[:, :3].tolist()])
                part.colors[light, :3] = 0.85
            if t.colour is not None:
                part.colors = recolour(part.colors, ink, t.colour)
            records[j]["strokes"].append([count, count + part.num_strokes])
            parts.append(part)
            rates.append(rate)
            count += part.num_strokes
    scene = _cat(parts, background)
    used: list[str] = []
    for name in [r["icon"] for r in records] + [
        bank.icons[i] for s in settings for i, *_ in _setting_icons(s, bank)
    ]:
        if name not in used:
            used.append(name)
    layout = {
        "things": records,
        "relations": [[r.subject, r.kind, r.object] for r in relations],
        "settings": list(plan.settings),
        "extras": extras,
        "background": "#" + "".join(f"{round(c * 255):02x}" for c in background),
    }
    return Composition(scene, bank.credit(used) + notes(records, plan.missing), layout, torch.cat(rates))
