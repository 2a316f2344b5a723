"""Where a drawing starts: the strokes of the open icon whose name the guide finds nearest to the prompt.

CLIPDraw starts from random strokes, and a small guide then draws tangles that score well but that people do not
name. VectorFusion starts from a picture of the prompt made by a text-to-image model; offline and on a CPU we have
no such model, so ``start="icon"`` starts from a picture that exists: the icon bank (built by
``recipes/iconbank.py`` from MIT, ISC and CC-BY icon sets; ``models/embedded/icon-bank/ATTRIBUTION.md``) holds
thousands of everyday concepts as clipart strokes. The drawing starts from an icon of the first concept the prompt
names ("a horse eating a cupcake": a horse) or, when it names none ("a kitten"), of the concept whose caption the
guide's text tower finds nearest; the seed picks among the concept's styles, and the optimisation then redraws
it towards the prompt as usual.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from functools import cache
from pathlib import Path

import torch
from torch import Tensor

from clipart.errors import ClipartError
from clipart.scene import Scene

BANK_DIR = Path(__file__).parent / "models" / "embedded" / "icon-bank"
ICON_SCALE = 0.8  # one icon fills the middle 80 % of the canvas
# Where two things a prompt names go ("a horse eating a cupcake"): (centre x, centre y, scale), the first larger
PAIR = ((0.37, 0.45, 0.62), (0.75, 0.7, 0.42))
_LOCK = threading.Lock()
_FEATURES: dict[int, Tensor] = {}  # id(guide) -> its features of the bank's captions (guides live as long)
# Words too common to name a thing by the end of a longer name ("logic gate and", "dice two", "look at")
SMALL_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "from", "in", "is", "it", "me", "of", "off", "on", "one",
                         "or", "out", "the", "to", "two", "three", "up", "with"})  # fmt: skip


def words_of(text: str) -> list[str]:
    """Lower-case words with accents dropped: "Crème brûlée!" -> ["creme", "brulee"]."""
    plain = unicodedata.normalize("NFKD", text.lower())
    return re.findall(r"[^\W_]+", "".join(ch for ch in plain if not unicodedata.combining(ch)))


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

    def _name_at(self, words: list[str], i: int, whole: bool) -> tuple[list[int], int]:
        """The concepts named by the longest name starting at word ``i`` (a plural "s" or "es" may follow it),
        whole names only or name endings only, and how many words it took; ([], 0) if none."""
        for n in range(min(3, len(words) - i), 0, -1):
            *head, last = words[i : i + n]
            for form in (
                last,
                last[:-1] if last.endswith("s") else "",
                last[:-2] if last.endswith("es") else "",
            ):
                found = self._named.get((*head, form), []) if form else []
                if found and (self.concepts[found[0]].split() == [*head, form]) == whole:
                    return (found[:1] if whole else found), n
        return [], 0

    def named_in(self, prompt: str) -> list[int]:
        """The concepts the prompt names: the concept called by the name at the earliest word that starts one
        (the longest name there; a plural may follow it), so "a horse eating a cupcake" names the horse and "two
        cats" the cat; if it calls none by its whole name, the concepts whose names end with a word or two of it
        at the earliest such word ("an apple": red apple, green apple). Empty if none."""
        words = words_of(prompt)
        for whole in (True, False):
            for i in range(len(words)):
                found, _ = self._name_at(words, i, whole)
                if found:
                    return found
        return []

    def whole_names(self, prompt: str) -> list[int]:
        """Every concept the prompt calls by its whole name, in the prompt's order (the longest name at a word;
        a plural may follow): "a horse eating a cupcake" gives horse, cupcake."""
        words = words_of(prompt)
        found: list[int] = []
        i = 0
        while i < len(words):
            hit, n = self._name_at(words, i, whole=True)
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
    """The concept of ``among`` (all when empty) whose caption the guides find nearest to the weighted prompts."""
    w = torch.tensor(weights, dtype=torch.float32).view(-1, 1)
    sims = torch.zeros(len(bank.concepts))
    for guide in guides:
        query = (guide.encode_text(prompts).cpu() * w).sum(0)
        sims += _bank_features(bank, guide) @ query
    candidates = torch.tensor(among) if among else torch.arange(len(bank.concepts))
    return int(candidates[sims[candidates].argmax()])


def icon_scenes(
    prompts: list[str],
    weights: list[float],
    guides: list,
    seeds: list[int],
    background: tuple[float, float, float],
) -> list[tuple[Scene, str]]:
    """One starting scene a seed, each with its credit line (:meth:`IconBank.credit`): an icon of the first
    concept the weightiest prompt names in words (:meth:`IconBank.named_in`; of several, and when it names none,
    of all concepts, the one whose caption the guides' text towers find nearest to the prompts; positive weights
    only). When that prompt also calls other concepts by their whole names, the last of them (the object: "a horse
    eating a cupcake") goes beside it, smaller.

    Each seed picks among each concept's icons (another set, another style), so seeds differ as they do with
    random strokes.
    """
    pairs = sorted(((p, w) for p, w in zip(prompts, weights, strict=True) if w > 0), key=lambda pw: -pw[1])
    bank = load_bank()
    named = bank.named_in(pairs[0][0])
    if len(named) == 1:
        best = named[0]
    else:
        best = _nearest(bank, [p for p, _ in pairs], [w for _, w in pairs], guides, named)
    chosen = [best] + [c for c in bank.whole_names(pairs[0][0]) if c != best][-1:]  # the object comes last
    layout = PAIR if len(chosen) == 2 else ((0.5, 0.5, ICON_SCALE),)
    styles = [bank.icons_of(c) for c in chosen]
    starts = []
    for seed in seeds:
        picks = [icons[seed % len(icons)] for icons in styles]
        scene = bank.scene([(i, *where) for i, where in zip(picks, layout, strict=True)], background)
        starts.append((scene, bank.credit([bank.icons[i] for i in picks])))
    return starts
