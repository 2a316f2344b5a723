"""Where a drawing starts: the strokes of the open icon whose name the guide finds nearest to the prompt.

CLIPDraw starts from random strokes, and a small guide then draws tangles that score well but that people do not
name. VectorFusion starts from a picture of the prompt made by a text-to-image model; offline and on a CPU we have
no such model, so ``start="icon"`` starts from a picture that exists: the icon bank (built by
``recipes/iconbank.py`` from MIT, ISC and CC-BY icon sets; ``models/embedded/icon-bank/ATTRIBUTION.md``) holds
thousands of everyday concepts as clipart strokes. The drawing starts from an icon of the first concept the prompt
names ("a horse eating a cupcake": a horse); a thing whose words name none is drawn by its WordNet stand-in
(``icon-bank/words.json``, built by ``recipes/wordmap.py``: "a kitten" by a cat, "a skyscraper" by a building).
When nothing stands in either for what the drawing is of (:func:`nothing_fits`), it starts from random strokes and
its credit line says why. The seed picks among the concept's styles, and the optimisation then redraws it towards
the prompt as usual.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor

from clipart.compose import Plan, StandIn, Thing, cap, compose, notes, parse, words_of
from clipart.errors import ClipartError
from clipart.scene import Scene

__all__ = ["BANK_DIR", "IconBank", "Start", "icon_scenes", "load_bank", "nothing_fits", "words_of"]

BANK_DIR = Path(__file__).parent / "models" / "embedded" / "icon-bank"
ICON_SCALE = 0.8  # one icon fills the middle 80 % of the canvas
# Where two things a prompt names go ("a horse eating a cupcake"): (centre x, centre y, scale), the first larger
PAIR = ((0.37, 0.45, 0.62), (0.75, 0.7, 0.42))
_LOCK = threading.Lock()
_FEATURES: dict[int, Tensor] = {}  # id(guide) -> its features of the bank's captions (guides live as long)
# Words too common to name a thing by the end of a longer name ("logic gate and", "dice two", "look at")
SMALL_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "from", "in", "is", "it", "me", "of", "off", "on", "one",
                         "or", "out", "the", "to", "two", "three", "up", "with"})  # fmt: skip


class IconBank:
    """The shipped icons as stroke tensors, with the concept each one draws."""

    def __init__(self, folder: Path) -> None:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            meta = json.loads((folder / "bank.json").read_text(encoding="utf-8"))
            t = load_file(str(folder / "bank.safetensors"))
            self.concepts: list[str] = meta["concepts"]
            self.icons: list[str] = meta["icons"]
            self.sets: dict[str, dict[str, str]] = meta["sets"]
            self.points = t["points"].float()
            self.segments = t["segments"].long()
            self.widths = t["widths"].float()
            self.colors = t["colors"].float() / 255.0
            self.first = t["first"].long()
            self.concept = t["concept"].long()
            words_file = folder / "words.json"  # stand-ins for words the bank lacks (recipes/wordmap.py)
            stand_ins = json.loads(words_file.read_text(encoding="utf-8")) if words_file.is_file() else {}
            # a word as the prompt spells it -> (the bank's name for its stand-in, how, and the concepts that draw
            # it when that name is not a concept's)
            self.stand_ins: dict[str, tuple[str, str, list[str]]] = {}
            for word, (name, how, *concepts) in stand_ins.items():
                self.stand_ins.setdefault(" ".join(words_of(word)), (name, how, concepts))
        except (OSError, ValueError, KeyError, TypeError, SafetensorError) as e:
            raise ClipartError(f"the icon bank is missing or unreadable ({e!r}): reinstall clipart") from None
        self._named: dict[tuple[str, ...], list[int]] = {}  # a concept's words, and its last one or two
        for i, c in enumerate(self.concepts):
            words = tuple(c.split())
            self._named.setdefault(words, []).insert(0, i)  # the whole name first
            for tail in (words[-2:], words[-1:]):  # in this order, so that the lists are the same each run
                if tail == words or all(w in SMALL_WORDS or w.isdigit() for w in tail):
                    continue
                self._named.setdefault(tail, []).append(i)

    def name_at(self, words: list[str], i: int, whole: bool) -> tuple[list[int], int, bool]:
        """The concepts named by the longest name starting at word ``i`` (a plural "s" or "es" may follow it),
        whole names only or name endings only, how many words it took, and whether it was a plural; ([], 0,
        False) if none."""
        for n in range(min(3, len(words) - i), 0, -1):
            *head, last = words[i : i + n]
            for form in (
                last,
                last[:-1] if last.endswith("s") else "",
                last[:-2] if last.endswith("es") else "",
            ):
                found = self._named.get((*head, form), []) if form else []
                if found and (self.concepts[found[0]].split() == [*head, form]) == whole:
                    return (found[:1] if whole else found), n, form != last
        return [], 0, False

    def named_as(self, name: str) -> list[int]:
        """The concepts the bank's name matching gives for exactly the words of ``name``: the concept of that
        name, else those whose names end with it ("building": classical building, office building); [] if
        none."""
        words = name.split()
        for whole in (True, False):
            found, n, plural = self.name_at(words, 0, whole)
            if found and n == len(words) and not plural:
                return found
        return []

    def stand_in_at(self, words: list[str], i: int) -> tuple[list[int], int, bool, StandIn] | None:
        """The concepts that stand in for the longest word or words at ``words[i]`` that the stand-in map holds
        (a plural "s", "es" or "ies" may end them), how many words it took, whether it was a plural, and what
        stood in for what; None if the map holds none there."""
        for n in range(min(3, len(words) - i), 0, -1):
            *head, last = words[i : i + n]
            for form in (
                last,
                last[:-1] if last.endswith("s") else "",
                last[:-2] if last.endswith("es") else "",
                last[:-3] + "y" if last.endswith("ies") else "",
            ):
                key = " ".join([*head, form])
                name, how, listed = self.stand_ins.get(key, ("", "", [])) if form else ("", "", [])
                concepts = [k for c in listed for k in self.named_as(c)] if listed else self.named_as(name)
                if concepts:
                    plural = form != last or how.startswith("plural")
                    return concepts, n, plural, StandIn(key, name, how)
        return None

    def named_in(self, *texts: str) -> list[int]:
        """The concepts the texts name (each read apart: no name spans two): the concept called by the name at
        the earliest word that starts one (the longest name there; a plural may follow it), so "horse",
        "cupcake" names the horse and "two cats" the cat; if they call none by its whole name, the concepts whose
        names end with a word or two of them at the earliest such word ("an apple": red apple, green apple).
        Empty if none."""
        for whole in (True, False):
            for words in map(words_of, texts):
                for i in range(len(words)):
                    found, _, _ = self.name_at(words, i, whole)
                    if found:
                        return found
        return []

    def whole_names(self, *texts: str) -> list[int]:
        """Every concept the texts call by its whole name, in their order (each read apart; the longest name at
        a word; a plural may follow): "horse", "two cupcakes" gives horse, cupcake."""
        found: list[int] = []
        for words in map(words_of, texts):
            i = 0
            while i < len(words):
                hit, n, _ = self.name_at(words, i, whole=True)
                found += hit
                i += max(n, 1)
        return found

    def captions(self) -> list[str]:
        """One caption a concept, as the guide's training captions read."""
        return [f"a drawing of {'an' if c[:1] in 'aeiou' else 'a'} {c}" for c in self.concepts]

    def credit(self, icons: list[str]) -> str:
        """Whose icons ("set:name") these are, under which licence: the line a drawing from them carries."""
        parts = []
        for icon in icons:
            prefix, _, name = icon.partition(":")
            info = self.sets[prefix]
            parts.append(f"the icon '{name}' of {info['name']} by {info['author']} ({info['licence']})")
        return "Started from " + " and ".join(parts)

    def icons_of(self, concept: int) -> list[int]:
        """The icons that draw ``concept``, the bank's preferred set first."""
        return (self.concept == concept).nonzero().flatten().tolist()

    def scene(
        self, placed: list[tuple[int, float, float, float]], background: tuple[float, float, float]
    ) -> Scene:
        """The icons of ``placed`` (icon, centre x, centre y, scale; canvas units) as one Scene, in that order."""
        parts = [
            (slice(int(self.first[i]), int(self.first[i + 1])), torch.tensor([x, y]), k)
            for i, x, y, k in placed
        ]
        return Scene(
            torch.cat([centre + (self.points[s] - 0.5) * k for s, centre, k in parts]),
            torch.cat([self.segments[s] for s, _, _ in parts]),
            torch.cat([self.widths[s] * k for s, _, k in parts]),
            torch.cat([self.colors[s] for s, _, _ in parts]),
            background,
        )


@cache
def load_bank(folder: Path = BANK_DIR) -> IconBank:
    """The icon bank, read once per process."""
    return IconBank(folder)


def _bank_features(bank: IconBank, guide: object) -> Tensor:
    with _LOCK:
        feats = _FEATURES.get(id(guide))
        if feats is None:
            caps = bank.captions()
            feats = torch.cat([guide.encode_text(caps[k : k + 512]).cpu() for k in range(0, len(caps), 512)])
            _FEATURES[id(guide)] = feats
        return feats


def _nearest(bank: IconBank, prompts: list[str], weights: list[float], guides: list, among: list[int]) -> int:
    """The concept of ``among`` whose caption the guides find nearest to the weighted prompts."""
    w = torch.tensor(weights, dtype=torch.float32).view(-1, 1)
    sims = torch.zeros(len(bank.concepts))
    for guide in guides:
        query = (guide.encode_text(prompts).cpu() * w).sum(0)
        sims += _bank_features(bank, guide) @ query
    candidates = torch.tensor(among)
    return int(candidates[sims[candidates].argmax()])


def _chosen(bank: IconBank, thing: Thing, guides: list) -> Thing:
    """``thing`` with one concept: the one of its concepts whose caption the guides find nearest to its words."""
    if len(thing.concepts) == 1:
        return thing
    return replace(thing, concepts=(_nearest(bank, [thing.words], [1.0], guides, list(thing.concepts)),))


def _weightiest(prompts: list[str], weights: list[float]) -> list[tuple[str, float]]:
    """The prompts of positive weight with their weights, the weightiest first."""
    return sorted(((p, w) for p, w in zip(prompts, weights, strict=True) if w > 0), key=lambda pw: -pw[1])


def _unfit(plan: Plan | None, prompt: str) -> str:
    """The words of ``prompt`` (``plan``) that nothing in the bank or the stand-in map draws, quoted, when the
    drawing therefore starts from random strokes: every thing, when none fits; the subject, when it is the larger
    of a pair ("a lobster eating a cupcake"); the prompt, when it names no thing. "" when the icon start fits (a
    scene's noun that fits nothing is left to the guide)."""
    if plan is None:
        words = [prompt.strip()]
    elif any(t.concepts for t in plan.things) and (plan.things[0].concepts or not plan.plain):
        return ""
    else:
        words = list(dict.fromkeys(t.words for t in plan.things if not t.concepts))
    return " or ".join(f'"{w}"' for w in words)


def nothing_fits(prompts: list[str], weights: list[float]) -> str:
    """The credit line of a drawing whose weightiest prompt has nothing in the icon bank or its stand-ins for
    what the drawing is of, which therefore starts from random strokes; "" when the icon start fits."""
    pairs = _weightiest(prompts, weights)
    said = _unfit(parse(pairs[0][0], load_bank()), pairs[0][0]) if pairs else ""
    return f"No icon or WordNet stand-in for {said}: drawn from random strokes" if said else ""


class Start(NamedTuple):
    """Where one candidate starts: its scene, its credit line (:meth:`IconBank.credit`) and what went where
    (:func:`clipart.compose.compose`'s layout)."""

    scene: Scene
    credit: str
    layout: dict[str, Any]
    rates: Tensor | None = (
        None  # each stroke's share of the point rate (a composed scene's); None: all move alike
    )


def icon_scenes(
    prompts: list[str],
    weights: list[float],
    guides: list,
    seeds: list[int],
    background: tuple[float, float, float] | None = None,
) -> list[Start]:
    """One starting scene a seed, from the weightiest prompt (positive weights only); a prompt
    :func:`nothing_fits` is one clear error (its drawing starts from random strokes).

    A prompt that asks for more than one icon shows (a count or a plural, a colour, a setting, three things, a
    relation such as "on" or "under": :attr:`clipart.compose.Plan.plain`) starts from its composed scene
    (:mod:`clipart.compose`): where one of its nouns fits several concepts the guides' text towers choose the
    concept whose caption is nearest to the noun's words; a noun that fits none is left to the optimisation ("a
    red apple on a table": the apple). Any other prompt starts from an icon of the first concept its things name
    (:meth:`IconBank.named_in`, never a word the composer reads as a relation or a setting; of several, the one
    whose caption the guides find nearest to the prompts); when they also call other concepts by their whole
    names, the last of them (the object: "a horse eating a cupcake") goes beside it, smaller. A thing the bank
    names nowhere in its words is drawn by its WordNet stand-in, if any ("a kitten": a cat;
    :meth:`IconBank.stand_in_at`).

    The credit line names the icons placed, which of them stood in for which words, and the words nothing in
    the bank or the stand-in map drew (:func:`clipart.compose.notes`).

    Each seed picks among each concept's icons (another set, another style), so seeds differ as they do with
    random strokes. ``background``: the canvas colour the user set, or None (white, or the scene's setting's).
    """
    pairs = _weightiest(prompts, weights)
    bank = load_bank()
    parsed = parse(pairs[0][0], bank)
    unfit = _unfit(parsed, pairs[0][0])
    if unfit or parsed is None:
        raise ClipartError(
            f'no icon or WordNet stand-in fits {unfit}: start it from random strokes (start="random")'
        )
    plan = parsed.known()  # a word the bank lacks is left to the guide ("a red apple on a table")
    if not plan.plain:
        things = tuple(_chosen(bank, t, guides) for t in plan.things)
        plan = cap(replace(plan, things=things), bank)
        starts = []
        for seed in seeds:
            c = compose(plan, bank, seed, background)
            starts.append(Start(c.scene, c.credit, c.layout, c.rates))
        return starts
    stood = [t.stand_in for t in plan.things]
    if any(stood):  # a thing drawn by its stand-in: the things as parsed, the object beside, smaller
        chosen = [_chosen(bank, t, guides).concepts[0] for t in plan.things]
        words = [t.words for t in plan.things]
    else:  # the things' words: a relation word is never a concept's name ("a mouse eating cheese")
        named = bank.named_in(*(t.words for t in plan.things))
        if len(named) == 1:
            best = named[0]
        else:
            best = _nearest(bank, [p for p, _ in pairs], [w for _, w in pairs], guides, named)
        others = [c for c in bank.whole_names(*(t.words for t in plan.things)) if c != best]
        chosen = [best] + others[-1:]  # the object comes last
        words = [bank.concepts[c] for c in chosen]
        stood = [None] * len(chosen)
    layout = PAIR if len(chosen) == 2 else ((0.5, 0.5, ICON_SCALE),)
    styles = [bank.icons_of(c) for c in chosen]
    canvas = background or (1.0, 1.0, 1.0)
    starts = []
    for seed in seeds:
        picks = [icons[seed % len(icons)] for icons in styles]
        scene = bank.scene([(i, *where) for i, where in zip(picks, layout, strict=True)], canvas)
        sizes = [int(bank.first[i + 1] - bank.first[i]) for i in picks]
        bounds = [sum(sizes[:k]) for k in range(len(sizes) + 1)]
        things = [
            {"thing": bank.concepts[c], "words": w, "icon": bank.icons[i], "count": 1, "colour": None,
             "strokes": [[bounds[k], bounds[k + 1]]]} | ({"stand_in": s._asdict()} if s else {})
            for k, (c, i, w, s) in enumerate(zip(chosen, picks, words, stood, strict=True))
        ]  # fmt: skip
        credit = bank.credit([bank.icons[i] for i in picks]) + notes(things, plan.missing)
        starts.append(Start(scene, credit, {"things": things}))
    return starts
