"""Teach the honest judge to read scenes: the scene judge of ``benchmarks/bench_scenes.py --judge``.

    python recipes/scene_judge.py --work /tmp/scene-judge     # after `python recipes/icondata.py fetch`

The R-precision judge (recipes/judge.py) learnt one icon per picture: it reads what a drawing shows, but not where
things are, how many, or in what weather, so its forced choice among "a cat on / under / next to a chair" or "a cat
at night / in the rain" is chance. This recipe fine-tunes it on pictures composed from its own icon sets, in groups
that differ in one way only (the same things in another relation, setting, count or colour), so that the other
members of a group are the hard negatives of the contrastive loss; half of each batch stays plain icons of its
first training, so that it keeps its vocabulary.

What keeps it honest: the pictures come only from the judge's own sets (``judge.ROLES``: no set that the icon bank
ships or the guide trains on), composed by this file's own rules with random sizes, places, colours and extras
(never by clipart's composer, whose output it judges), and every thing whose head noun's hash falls in the held-out
eighth is never composed in training: ``eval`` scores fixed groups of those unseen things, per kind, for the
R-precision judge and for this one. The benchmark's prompts choose nothing here: the relation and setting words are
those the composer reads, counts run evenly from 1 to 12, and the things are all of the judge's vocabulary (its
sets' cats and dogs among them, as in its first training; never the bank's).

Stages: ``sprites`` (transparent renders of the sets' colour icons), ``train`` (``STEPS`` steps, resumable from the
last checkpoint), ``export`` (fp16 weights to benchmarks/scene-judge/), ``eval`` (held-out forced choice).
"""

from __future__ import annotations

import argparse
import colorsys
import csv
import hashlib
import io
import json
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import icondata
from clipart_mini import export_fp16
from judge import NOUNS, ROLES
from judge import TARGET as RPRECISION_JUDGE

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "benchmarks" / "scene-judge"
SEED = 7
STEPS = 1500
GROUPS, PER_GROUP, PLAIN = 24, 4, 96  # a batch: 24 groups of 4 composed pictures, and 96 plain icons
LR, WARMUP, WEIGHT_DECAY = 1e-4, 50, 0.1
CHECKPOINT_EVERY = 100
CANVAS = 128  # composed at this size, then reduced to the judge's 64 px
MIN_VISIBLE = 0.5  # a relation's subject shows at least this share of itself
KINDS = {"relation": 0.4, "setting": 0.3, "count": 0.2, "colour": 0.1}  # share of each kind of group
HELD_OUT = 8  # concepts whose hash is 0 modulo this are never composed in training
STAGES = ("sprites", "train", "export", "eval")

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in canvas pixels

# Relations as the composer reads them; those that look alike share a class, of which a group draws one. "and" and
# "with" are left out: they are true of every picture of two things, so they cannot be another picture's negative.
RELATIONS = {
    "beside": ("next to", "beside"),
    "on": ("on", "on top of", "sitting on", "riding"),
    "under": ("under", "underneath"),
    "above": ("above", "over"),
    "below": ("below",),
    "behind": ("behind",),
    "front": ("in front of",),
    "in": ("in", "inside"),
    "holding": ("holding",),
    "wearing": ("wearing",),
    "eating": ("eating",),
}
# Each setting: its phrases, and the concepts of its extras (those the sets hold are used).
SETTINGS = {
    "night": (("at night",), ("crescent moon", "star", "glowing star", "full moon", "first quarter moon")),
    "rain": (("in the rain",), ("cloud with rain", "droplet", "umbrella with rain drops")),
    "snow": (("in the snow",), ("snowflake", "cloud with snow")),
    "sunset": (("at sunset", "at dusk"), ("sun", "sunset", "sun behind cloud")),
    "beach": (
        ("on the beach", "at the beach"),
        ("palm tree", "water wave", "spiral shell", "umbrella on ground"),
    ),
    "forest": (("in the forest", "in the woods"), ("evergreen tree", "deciduous tree")),
    "autumn": (("in autumn", "in the fall"), ("fallen leaf", "maple leaf", "leaf fluttering in wind")),
    "space": (("in space", "in outer space"), ("ringed planet", "comet", "star", "milky way")),
    "underwater": (("underwater", "under the sea"), ("fish", "tropical fish", "bubbles", "blowfish")),
}
EXTRAS = frozenset(c for _, concepts in SETTINGS.values() for c in concepts)
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
                10: "ten", 11: "eleven", 12: "twelve"}  # fmt: skip
COLOURS = {"red": (220, 30, 30), "blue": (40, 80, 220), "green": (40, 170, 60), "yellow": (245, 210, 30),
           "orange": (245, 140, 20), "purple": (140, 50, 190), "pink": (245, 120, 180), "brown": (130, 80, 40),
           "black": (25, 25, 25), "grey": (135, 135, 135), "white": (250, 250, 250), "gold": (215, 170, 40),
           "silver": (190, 195, 205)}  # fmt: skip
IRREGULAR = {"mouse": "mice", "goose": "geese", "person": "people", "man": "men", "woman": "women", "child": "children",
             "leaf": "leaves", "knife": "knives", "foot": "feet", "tooth": "teeth", "fish": "fish", "sheep": "sheep",
             "deer": "deer", "wolf": "wolves"}  # fmt: skip
SKIP_WORDS = ("flag", "keycap", "button", "sign", "symbol", "arrow", "mark", "face", "hand", "letter", "clock",
              "prohibited", "thirty", "oclock", "digit", "family", "of", "with", "without", "and", "input", "squared", "circle")  # fmt: skip


def is_thing(concept: str) -> bool:
    """A concept to compose: at most three words, none of SKIP_WORDS or of the words that the captions add
    (relations, settings, numbers, colours), no verb ("woman swimming"), and not already a plural ("houses")."""
    words = concept.split()
    last = words[-1]
    plural_already = last.endswith("s") and not last.endswith(("ss", "us", "is"))
    added = {w for phrases in RELATIONS.values() for p in phrases for w in p.split()}
    added |= {w for phrases, _ in SETTINGS.values() for p in phrases for w in p.split()} - {"the", "a"}
    added |= set(NUMBER_WORDS.values()) | set(COLOURS) | {"no", "men", "women", "children", "people"}
    return (
        len(words) <= 3
        and not plural_already
        and not any(w in SKIP_WORDS or w in added or w.endswith("ing") for w in words)
    )


def article(phrase: str) -> str:
    """'a horse', 'an owl', 'a unicorn', 'a one piece swimsuit', 'an hourglass'."""
    first = phrase.split()[0]
    vowel = first[:1] in "aeiou" and not first.startswith(("uni", "use", "eu", "one", "uk"))
    return ("an " if vowel or first.startswith(("hour", "honest", "heir")) else "a ") + phrase


def _hash(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


def held_out(concept: str) -> bool:
    """True for the eighth of the things that training never composes (the judge's own check), by the hash of the
    head noun, so that near twins ("man running", "woman running") fall on one side; a setting's extras are props
    of both sides, never held out."""
    return concept not in EXTRAS and _hash("held-out", concept.split()[-1]) % HELD_OUT == 0


def plural(noun: str) -> str:
    """'cat' → 'cats', 'party hat' → 'party hats', 'mouse' → 'mice', 'box' → 'boxes', 'cherry' → 'cherries'."""
    *head, last = noun.split()
    if last in IRREGULAR:
        last = IRREGULAR[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join([*head, last])


# --- sprites -----------------------------------------------------------------------------------------------------


def render_sprite(icon: icondata.Icon, size: int) -> bytes:
    """The icon as a PNG with alpha, its box filling ``size`` on the longer side (no background)."""
    import resvg_py

    side = max(icon.width, icon.height)
    dx, dy = (side - icon.width) / 2, (side - icon.height) / 2
    body = icon.body.replace("currentColor", "#000000")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{size}" '
           f'height="{size}" viewBox="{-dx:.3f} {-dy:.3f} {side:.3f} {side:.3f}">{body}</svg>')  # fmt: skip
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True))


def build_sprites(
    cache: Path,
    out: Path,
    size: int = 96,
    roles: dict[str, str] = ROLES,
    names: frozenset[str] = NOUNS,
    keep: Callable[[str], bool] | None = None,
) -> None:
    """Transparent renders of the training icons of the ``pictorial`` sets of ``roles`` (the judge's: twemoji,
    emojione, and emojione-monotone's monochrome ones for colour groups) whose concept ``keep`` accepts (default:
    things and setting extras), with ``sprites.json`` listing each file's concept and kind."""
    from PIL import Image

    keep = keep or (lambda concept: is_thing(concept) or concept in EXTRAS)
    icons, _ = icondata.select(icondata.fetched(cache), roles, names)
    pictorial = {p for p, role in roles.items() if role == "pictorial"}
    listing = []
    partial = out.with_name(out.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    for icon in icons:
        if icon.set not in pictorial or icon.split != "train" or not keep(icon.concept):
            continue
        try:
            png = render_sprite(icon, size)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # resvg's panics reach Python as BaseException: the icon is skipped
            continue
        image = Image.open(io.BytesIO(png)).convert("RGBA")
        if image.getchannel("A").getbbox() is None:
            continue
        rel = f"{icon.set}/{icon.name}.png"
        (partial / rel).parent.mkdir(parents=True, exist_ok=True)
        image.crop(image.getchannel("A").getbbox()).save(partial / rel)
        listing.append({"file": rel, "concept": icon.concept, "mono": icon.mono})
    (partial / "sprites.json").write_text(json.dumps(listing, indent=0), encoding="utf-8")
    partial.rename(out)


class Sprites:
    """The sprite folder: concepts with their colour and monochrome renders, split into training and held out."""

    def __init__(
        self,
        folder: Path,
        extras: frozenset[str] = EXTRAS,
        held: Callable[[str], bool] | None = None,
        thing: Callable[[str], bool] = is_thing,
    ) -> None:
        from PIL import Image

        held = held or held_out

        self.colour: dict[str, list[Image.Image]] = {}
        self.mono: dict[str, list[Image.Image]] = {}
        for row in json.loads((folder / "sprites.json").read_text(encoding="utf-8")):
            image = Image.open(folder / row["file"]).convert("RGBA")
            image.load()
            (self.mono if row["mono"] else self.colour).setdefault(row["concept"], []).append(image)
        self.things = {
            split: sorted(
                c for c in self.colour if held(c) == (split == "eval") and c not in extras and thing(c)
            )
            for split in ("train", "eval")
        }
        self.mono_things = {
            split: sorted(
                c for c in self.mono if held(c) == (split == "eval") and thing(c) and c not in extras
            )
            for split in ("train", "eval")
        }


# --- composing -----------------------------------------------------------------------------------------------------


def _paste(canvas, sprite, box: Box) -> None:  # noqa: ANN001 - PIL images
    """Paste ``sprite`` scaled into ``box`` (keeping its aspect ratio, centred at the box's bottom)."""
    from PIL import Image

    x0, y0, x1, y1 = box
    scale = min((x1 - x0) / sprite.width, (y1 - y0) / sprite.height)
    w, h = max(1, round(sprite.width * scale)), max(1, round(sprite.height * scale))
    resized = sprite.resize((w, h), Image.Resampling.LANCZOS)
    canvas.alpha_composite(resized, (round((x0 + x1 - w) / 2), round(y1 - h)))


def _square(cx: float, bottom: float, side: float) -> Box:
    return (cx - side / 2, bottom - side, cx + side / 2, bottom)


def _hsv(rng: random.Random, h: tuple[float, float], s: tuple[float, float], v: tuple[float, float]) -> tuple:
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(*h) % 1.0, rng.uniform(*s), rng.uniform(*v))
    return round(r * 255), round(g * 255), round(b * 255), 255


def relation_layout(relation: str, rng: random.Random) -> tuple[Box, Box, bool]:
    """Boxes of the subject and the object for ``relation`` at random sizes and places, and whether the subject is
    drawn over the object."""
    c = CANVAS
    if relation in ("beside", "and"):
        a, b = rng.uniform(0.3, 0.45) * c, rng.uniform(0.3, 0.45) * c
        gap, bottom = rng.uniform(0, 0.08) * c, rng.uniform(0.7, 0.92) * c
        left = rng.uniform(0.02 * c, c - a - b - gap - 0.02 * c) if c - a - b - gap > 0.04 * c else 0.0
        sub, obj = _square(left + a / 2, bottom, a), _square(left + a + gap + b / 2, bottom, b)
        return (sub, obj, True) if rng.random() < 0.5 else (_mirror(sub), _mirror(obj), True)
    o = rng.uniform(0.4, 0.6) * c
    ocx, obottom = rng.uniform(0.35, 0.65) * c, rng.uniform(0.8, 0.95) * c
    obj = _square(ocx, obottom, o)
    top = obottom - o
    if relation == "on":
        s = rng.uniform(0.25, 0.4) * c
        return _square(ocx + rng.uniform(-0.15, 0.15) * o, top + rng.uniform(0.05, 0.3) * o, s), obj, True
    if relation == "under":
        s = rng.uniform(0.2, 0.35) * c
        return _square(ocx + rng.uniform(-0.1, 0.1) * o, obottom, s), obj, True
    if relation in ("above", "below"):
        s = rng.uniform(0.22, 0.35) * c
        obj = _square(ocx, (0.95 if relation == "above" else 0.45) * c, rng.uniform(0.3, 0.42) * c)
        if relation == "above":
            bottom = obj[1] - rng.uniform(0.04, 0.12) * c
        else:
            bottom = obj[3] + rng.uniform(0.04, 0.1) * c + s
        return _square(ocx + rng.uniform(-0.1, 0.1) * c, min(bottom, 0.98 * c), s), obj, True
    if relation in ("behind", "front"):
        s = rng.uniform(0.35, 0.5) * c
        shift = rng.choice((-1, 1)) * rng.uniform(0.3, 0.6) * o
        bottom = obottom + (rng.uniform(-0.12, -0.03) if relation == "behind" else rng.uniform(0.0, 0.05)) * c
        return _square(ocx + shift, min(bottom, 0.99 * c), s), obj, relation == "front"
    if relation == "in":
        s = rng.uniform(0.3, 0.5) * o
        return (
            _square(ocx + rng.uniform(-0.1, 0.1) * o, obottom - rng.uniform(0.1, 0.3) * o, s),
            obj,
            True,
        )
    # holding, wearing, eating: the object is the small one, on the subject
    s = rng.uniform(0.45, 0.6) * c
    scx, sbottom = rng.uniform(0.4, 0.6) * c, rng.uniform(0.85, 0.95) * c
    sub = _square(scx, sbottom, s)
    side = rng.choice((-1, 1))
    if relation == "wearing":
        k = rng.uniform(0.35, 0.5) * s
        obj = _square(scx + rng.uniform(-0.15, 0.15) * s, sbottom - s + rng.uniform(0.1, 0.25) * s, k)
    elif relation == "holding":
        k = rng.uniform(0.3, 0.45) * s
        obj = _square(scx + side * rng.uniform(0.35, 0.55) * s, sbottom - rng.uniform(0.2, 0.45) * s, k)
    else:  # eating: small, at the subject's upper front
        k = rng.uniform(0.22, 0.32) * s
        obj = _square(scx + side * rng.uniform(0.3, 0.5) * s, sbottom - rng.uniform(0.45, 0.65) * s, k)
    return sub, obj, False


def relation_picture(relation: str, sprite_a, sprite_b, rng: random.Random):  # noqa: ANN001, ANN201 - PIL images
    """The subject ``sprite_a`` and the object ``sprite_b`` in ``relation`` on white, the subject at least
    :data:`MIN_VISIBLE` visible (a layout that hides more is drawn again, up to ten times)."""
    from PIL import Image, ImageChops

    for _ in range(10):
        sub, obj, sub_on_top = relation_layout(relation, rng)
        alone = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
        _paste(alone, sprite_a, sub)
        subject = alone.getchannel("A").point(lambda v: 255 if v > 127 else 0)
        area = subject.histogram()[255]
        if not sub_on_top:
            cover = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
            _paste(cover, sprite_b, obj)
            hidden = ImageChops.multiply(
                subject, cover.getchannel("A").point(lambda v: 255 if v > 127 else 0)
            )
            if area and hidden.histogram()[255] > (1 - MIN_VISIBLE) * area:
                continue
        if area:
            break
    canvas = Image.new("RGBA", (CANVAS, CANVAS), (255, 255, 255, 255))
    for sprite, box in (
        ((sprite_b, obj), (sprite_a, sub)) if sub_on_top else ((sprite_a, sub), (sprite_b, obj))
    ):
        _paste(canvas, sprite, box)
    return canvas


def _mirror(box: Box) -> Box:
    return (CANVAS - box[2], box[1], CANVAS - box[0], box[3])


def draw_setting(setting: str | None, rng: random.Random, sprites: Sprites):  # noqa: ANN201 - a PIL image
    """A canvas with ``setting``'s background and extras (white for None)."""
    from PIL import Image, ImageDraw

    c = CANVAS
    if setting is None:
        return Image.new("RGBA", (c, c), (255, 255, 255, 255))
    hsv = {"night": ((0.58, 0.72), (0.4, 0.85), (0.08, 0.3)), "rain": ((0.52, 0.66), (0.05, 0.3), (0.55, 0.85)),
           "snow": ((0.5, 0.65), (0.02, 0.2), (0.78, 0.95)), "sunset": ((0.95, 1.1), (0.5, 0.85), (0.85, 1.0)),
           "beach": ((0.52, 0.6), (0.2, 0.5), (0.85, 1.0)), "forest": ((0.22, 0.38), (0.08, 0.3), (0.8, 0.97)),
           "autumn": ((0.05, 0.12), (0.1, 0.35), (0.9, 1.0)), "space": ((0.6, 0.8), (0.2, 0.7), (0.0, 0.12)),
           "underwater": ((0.52, 0.62), (0.5, 0.9), (0.45, 0.8))}[setting]  # fmt: skip
    canvas = Image.new("RGBA", (c, c), _hsv(rng, *hsv))
    pen = ImageDraw.Draw(canvas)
    if setting == "sunset":  # a sky that shades from the top colour down to orange or yellow
        low = _hsv(rng, (0.08, 0.15), (0.6, 0.9), (0.95, 1.0))
        high = canvas.getpixel((0, 0))
        for y in range(c):
            t = y / (c - 1)
            pen.line([(0, y), (c, y)], fill=tuple(round(high[k] * (1 - t) + low[k] * t) for k in range(3)))
    ground = {"beach": ((0.1, 0.15), (0.3, 0.5), (0.85, 0.97)), "forest": ((0.25, 0.38), (0.4, 0.7), (0.5, 0.8)),
              "snow": ((0.0, 1.0), (0.0, 0.03), (0.97, 1.0)), "autumn": ((0.05, 0.1), (0.5, 0.8), (0.5, 0.8))}  # fmt: skip
    if setting in ground and (setting in ("beach", "forest") or rng.random() < 0.8):
        pen.rectangle([0, rng.uniform(0.72, 0.88) * c, c, c], fill=_hsv(rng, *ground[setting]))
    if setting in ("night", "space", "snow"):
        dots = rng.randint(12, 50)
        for _ in range(dots):
            x, y, r = (
                rng.uniform(0, c),
                rng.uniform(0, c * (0.6 if setting == "night" else 1.0)),
                rng.uniform(0.5, 2.2),
            )
            pen.ellipse(
                [x - r, y - r, x + r, y + r],
                fill=(255, 255, 255, 255) if setting != "night" else (255, 250, 200, 255),
            )
    if setting == "rain":
        ink = _hsv(rng, (0.55, 0.65), (0.4, 0.8), (0.5, 0.9))
        for _ in range(rng.randint(15, 50)):
            x, y, length = rng.uniform(0, c), rng.uniform(0, c), rng.uniform(6, 14)
            pen.line([(x, y), (x - length * 0.3, y + length)], fill=ink, width=rng.choice((1, 2)))
    if setting == "underwater":
        for _ in range(rng.randint(3, 10)):
            x, y, r = rng.uniform(0, c), rng.uniform(0, c), rng.uniform(2, 5)
            pen.ellipse([x - r, y - r, x + r, y + r], outline=(220, 240, 255, 255), width=1)
    extras = [e for e in SETTINGS[setting][1] if e in sprites.colour]
    for _ in range(rng.randint(1, 4) if extras else 0):
        side = rng.uniform(0.1, 0.25) * c
        x = rng.uniform(side / 2, c - side / 2)
        y = (
            rng.uniform(side, 0.55 * c)
            if setting in ("night", "rain", "sunset", "space")
            else rng.uniform(side, c)
        )
        _paste(canvas, rng.choice(sprites.colour[rng.choice(extras)]), _square(x, y, side))
    return canvas


def tint(sprite, colour: tuple[int, int, int], flat: bool = False):  # noqa: ANN001, ANN201 - PIL images
    """``sprite`` in ``colour``, alpha kept: a monochrome icon (``flat``) all in the colour, a colour icon with
    its lightness mapped from a dark shade of the colour to a light one."""
    from PIL import Image, ImageOps

    if flat:
        coloured = Image.new("RGBA", sprite.size, (*colour, 255))
        coloured.putalpha(sprite.getchannel("A"))
        return coloured

    dark = tuple(round(v * 0.35) for v in colour)
    light = tuple(round(v + (255 - v) * 0.45) for v in colour)
    grey = sprite.convert("L")
    coloured = ImageOps.colorize(grey, black=dark, white=light, mid=colour).convert("RGBA")
    coloured.putalpha(sprite.getchannel("A"))
    return coloured


def _phrase(rng: random.Random, text: str) -> str:
    return rng.choice(("{}", "{}", "{}", "a drawing of {}", "a picture of {}", "{}, clip art")).format(text)


def compose_group(kind: str, rng: random.Random, sprites: Sprites, split: str) -> list[tuple[object, str]]:
    """``PER_GROUP`` composed pictures (RGB, 64 px) with their captions, the same things differing in ``kind``."""
    from PIL import Image

    things = sprites.things[split]
    a = rng.choice(things)
    sprite_a = rng.choice(sprites.colour[a])
    out: list[tuple[Image.Image, str]] = []
    if kind == "relation":
        b = rng.choice([t for t in things if t != a])
        sprite_b = rng.choice(sprites.colour[b])
        relations = rng.sample(sorted(RELATIONS), PER_GROUP)
        for relation in relations:
            canvas = relation_picture(relation, sprite_a, sprite_b, rng)
            word = rng.choice(RELATIONS[relation])
            out.append((canvas, _phrase(rng, f"{article(a)} {word} {article(b)}")))
    elif kind == "setting":
        settings = rng.sample([*SETTINGS, None], PER_GROUP)
        for setting in settings:
            canvas = draw_setting(setting, rng, sprites)
            side = rng.uniform(0.4, 0.6) * CANVAS
            _paste(
                canvas,
                sprite_a,
                _square(rng.uniform(0.35, 0.65) * CANVAS, rng.uniform(0.8, 0.97) * CANVAS, side),
            )
            text = article(a) + ("" if setting is None else " " + rng.choice(SETTINGS[setting][0]))
            out.append((canvas, _phrase(rng, text)))
    elif kind == "count":
        for n in rng.sample(range(1, 13), PER_GROUP):
            canvas = Image.new("RGBA", (CANVAS, CANVAS), (255, 255, 255, 255))
            cols = math.ceil(math.sqrt(n))
            rows = math.ceil(n / cols)
            cell = CANVAS / max(cols, rows)
            cells = rng.sample(range(cols * rows), n)
            for k in cells:
                cx = (k % cols + 0.5) * CANVAS / cols + rng.uniform(-0.1, 0.1) * cell
                bottom = (k // cols + 0.5) * CANVAS / rows + cell * rng.uniform(0.3, 0.45)
                _paste(canvas, sprite_a, _square(cx, bottom, cell * rng.uniform(0.65, 0.85)))
            if n == 1:
                text = article(a)
            elif n == 12 and rng.random() < 0.5:
                text = f"a dozen {plural(a)}"
            else:
                text = f"{rng.choice((NUMBER_WORDS[n], str(n)))} {plural(a)}"
            out.append((canvas, _phrase(rng, text)))
    else:  # colour: a monochrome icon tinted, or a colour icon recoloured
        pool = sprites.mono_things[split] if rng.random() < 0.5 and sprites.mono_things[split] else things
        a = rng.choice(pool)
        base = rng.choice((sprites.mono if pool is sprites.mono_things[split] else sprites.colour)[a])
        for name in rng.sample(sorted(COLOURS), PER_GROUP):
            canvas = Image.new(
                "RGBA", (CANVAS, CANVAS), (255, 255, 255, 255) if name != "white" else (205, 210, 220, 255)
            )
            side = rng.uniform(0.5, 0.8) * CANVAS
            _paste(
                canvas,
                tint(base, COLOURS[name], flat=pool is sprites.mono_things[split]),
                _square(CANVAS / 2 + rng.uniform(-0.1, 0.1) * CANVAS, CANVAS / 2 + side / 2, side),
            )
            out.append((canvas, _phrase(rng, f"{article(name)} {a}")))
    return [(image.convert("RGB").resize((64, 64), Image.Resampling.LANCZOS), text) for image, text in out]


def _kind(rng: random.Random) -> str:
    return rng.choices(list(KINDS), weights=list(KINDS.values()))[0]


# --- training ------------------------------------------------------------------------------------------------------


def load_judge(folder: Path):  # noqa: ANN201 - open_clip model, transform, tokenizer
    """The judge at ``folder`` in fp32, its preprocessing and tokenizer."""
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    return model.float(), preprocess, open_clip.get_tokenizer(f"local-dir:{folder}")


def _plain_rows(icons: Path) -> list[tuple[str, str]]:
    with open(icons / "judge_train.csv", newline="", encoding="utf-8") as handle:
        return [(str(icons / row["filepath"]), row["caption"]) for row in csv.DictReader(handle)]


def _to_tensor(images: list, preprocess: Callable):  # noqa: ANN001, ANN202
    import torch

    return torch.stack([preprocess(image) for image in images])


def mixed_batches(
    compose: Callable, sprites: Sprites, plain: list[tuple[str, str]]
) -> Callable[[random.Random], tuple[list, list[str]]]:
    """A step's batch: ``GROUPS`` composed groups (``compose(kind, rng, sprites, "train")``, kinds drawn by
    :data:`KINDS`) and ``PLAIN`` of the ``plain`` rows (picture path, caption), in that order."""
    from PIL import Image

    def batch(rng: random.Random) -> tuple[list, list[str]]:
        images, texts = [], []
        for _ in range(GROUPS):
            for image, text in compose(_kind(rng), rng, sprites, "train"):
                images.append(image)
                texts.append(text)
        for path, text in rng.sample(plain, PLAIN):
            images.append(Image.open(path).convert("RGB"))
            texts.append(text)
        return images, texts

    return batch


def train(work: Path, sprites: Sprites, icons: Path, steps: int) -> Path:
    """Fine-tune the R-precision judge on composed groups and plain icons; resume from ``work/run/last.pt``."""
    return fine_tune(work, RPRECISION_JUDGE, mixed_batches(compose_group, sprites, _plain_rows(icons)), steps)


def fine_tune(
    work: Path,
    start: Path,
    batch: Callable[[random.Random], tuple[list, list[str]]],
    steps: int,
    lr: float = LR,
    seed: int = SEED,
    anchor: float = 0.0,
    anchored: int = 0,
) -> Path:
    """Fine-tune the CLIP at ``start`` contrastively on ``batch(rng)``'s pictures and captions (a fresh rng for
    each step, seeded by ``seed`` and the step, so a resumed run sees the batches an unbroken one would); AdamW,
    warm-up then cosine; checkpoints in ``work/run``, resumed from ``work/run/last.pt``. With ``anchor`` > 0 the
    loss adds ``anchor`` times the cosine distance of the last ``anchored`` pictures' and captions' embeddings from
    those of the starting weights (a frozen copy), so that what the model knew stays where it was."""
    import torch
    import torch.nn.functional as F

    if anchor > 0 and anchored <= 0:
        raise ValueError("anchoring needs the number of rows to anchor (anchored > 0)")
    settings = {
        "start": str(start),
        "steps": steps,
        "lr": lr,
        "seed": seed,
        "anchor": anchor,
        "anchored": anchored,
    }
    torch.manual_seed(seed)
    model, preprocess, tokenizer = load_judge(start)
    model.train()
    frozen = None
    if anchor > 0:
        frozen = load_judge(start)[0].train()  # batch norms see the same batches as the model's
        frozen.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    rest = [p for p in params if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                   {"params": rest, "weight_decay": 0.0}], lr=lr)  # fmt: skip

    def rate(step: int) -> float:
        if step < WARMUP:
            return (step + 1) / WARMUP
        return 0.5 * (1 + math.cos(math.pi * (step - WARMUP) / max(1, steps - WARMUP)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    run = work / "run"
    run.mkdir(parents=True, exist_ok=True)
    checkpoint = run / "last.pt"
    first = 0
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        if state.get("settings", settings) != settings:
            differ = ", ".join(k for k in settings if state["settings"].get(k) != settings[k])
            raise icondata.RecipeError(
                f"{checkpoint} is a run with other settings ({differ}): give another --work, or the same settings"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        first = state["step"]
        print(f"resumed at step {first}", flush=True)
    log = open(run / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run
    t0 = time.perf_counter()
    for step in range(first, steps):
        images, texts = batch(random.Random(_hash(seed, "step", step)))
        pixels = _to_tensor(images, preprocess)
        tokens = tokenizer(texts)
        image_features = F.normalize(model.encode_image(pixels), dim=-1)
        text_features = F.normalize(model.encode_text(tokens), dim=-1)
        logits = model.logit_scale.exp() * image_features @ text_features.T
        # captions repeated within a batch (two plain icons "a cat") are each other's positives, not negatives
        same = torch.tensor([[x == y for y in texts] for x in texts])
        target = same.float() / same.float().sum(dim=1, keepdim=True)
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        drift = torch.zeros(())
        if frozen is not None:
            with torch.no_grad():
                old_images = F.normalize(frozen.encode_image(pixels)[-anchored:], dim=-1)
                old_texts = F.normalize(frozen.encode_text(tokens[-anchored:]), dim=-1)
            drift = (1 - (image_features[-anchored:] * old_images).sum(-1)).mean()
            drift = drift + (1 - (text_features[-anchored:] * old_texts).sum(-1)).mean()
            loss = loss + anchor * drift
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if (step + 1) % 10 == 0:
            record = {"step": step + 1, "loss": round(loss.item(), 4), "drift": round(drift.item(), 5),
                      "lr": schedule.get_last_lr()[0], "s_per_step": round((time.perf_counter() - t0) / (step + 1 - first), 2)}  # fmt: skip
            log.write(json.dumps(record) + "\n")
            log.flush()
        if (step + 1) % CHECKPOINT_EVERY == 0 or step + 1 == steps:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "schedule": schedule.state_dict(), "step": step + 1, "settings": settings}  # fmt: skip
            torch.save(state, run / "last.pt.tmp")
            (run / "last.pt.tmp").replace(checkpoint)
            print(f"step {step + 1}/{steps}: loss {loss.item():.3f}", flush=True)
    log.close()
    return checkpoint


def export(
    work: Path,
    steps: int,
    source: Path = RPRECISION_JUDGE,
    target: Path = TARGET,
    attribution: Path | None = None,
) -> None:
    """Write the fine-tuned weights as an open_clip folder at ``target`` (fp16), with ``source``'s config and
    the attribution (default: ``source``'s ATTRIBUTION.md)."""
    import torch
    from safetensors.torch import save_file

    checkpoint = work / "run" / "last.pt"
    if not checkpoint.is_file():
        raise icondata.RecipeError(f"{checkpoint} is missing: run the train stage first")
    state = torch.load(checkpoint, weights_only=True)
    if state["step"] != steps:
        raise icondata.RecipeError(
            f"the run stopped at step {state['step']} of {steps}: run the train stage again"
        )
    folder = work / "run" / "export"
    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: v.contiguous() for k, v in state["model"].items()}, str(folder / "open_clip_model.safetensors")
    )
    (folder / "open_clip_config.json").write_text((source / "open_clip_config.json").read_text())
    export_fp16([(folder, "train")], target, attribution or source / "ATTRIBUTION.md")


def evaluate(
    folder: Path, sprites: Sprites, groups: int = 150, compose: Callable = compose_group, seed: int = SEED
) -> dict[str, float]:
    """Forced choice within fixed groups of held-out things (``compose(kind, rng, sprites, "eval")``), per kind:
    the share of pictures whose own caption the CLIP at ``folder`` scores highest among its group's."""
    import torch

    model, preprocess, tokenizer = load_judge(folder)
    model.eval()
    scores = {}
    for kind in KINDS:
        rng = random.Random(_hash(seed, "eval", kind))
        hits = total = 0
        for _ in range(groups):
            group = compose(kind, rng, sprites, "eval")
            texts = [t for _, t in group]
            with torch.no_grad():
                img = model.encode_image(_to_tensor([i for i, _ in group], preprocess))
                txt = model.encode_text(tokenizer(texts))
            sims = (img / img.norm(dim=-1, keepdim=True)) @ (txt / txt.norm(dim=-1, keepdim=True)).T
            hits += int((sims.argmax(dim=1) == torch.arange(len(group))).sum())
            total += len(group)
        scores[kind] = hits / total
    return scores


def main() -> int:
    """sprites → train → export → eval (or one of them with --only)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/clipart-data").expanduser())
    parser.add_argument(
        "--icons", type=Path, help="recipes/judge.py's icon folder (default: WORK/../judge/icons)"
    )
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--only", choices=STAGES)
    parser.add_argument(
        "--preview", type=Path, help="write a sheet of composed training groups here and stop"
    )
    args = parser.parse_args()
    icons = args.icons or args.work.parent / "judge" / "icons"
    sprite_dir = args.work / "sprites"
    stages = [args.only] if args.only else list(STAGES)
    try:
        if not sprite_dir.exists():
            build_sprites(args.cache, sprite_dir)
        if not (icons / "judge_train.csv").is_file() and "train" in stages:
            raise icondata.RecipeError(
                f"{icons} has no judge_train.csv: run recipes/judge.py's data stage first"
            )
    except icondata.RecipeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sprites = Sprites(sprite_dir)
    print(
        f"{len(sprites.things['train'])} things to compose, {len(sprites.things['eval'])} held out",
        flush=True,
    )
    if args.preview:
        preview(sprites, args.preview)
        return 0
    if "train" in stages:
        try:
            train(args.work, sprites, icons, args.steps)
        except icondata.RecipeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if "export" in stages:
        try:
            export(args.work, args.steps)
        except icondata.RecipeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {TARGET}")
    if "eval" in stages:
        for name, folder in (("R-precision judge", RPRECISION_JUDGE), ("scene judge", TARGET)):
            scores = evaluate(folder, sprites)
            print(f"{name}: held-out forced choice " + ", ".join(f"{k} {v:.1%}" for k, v in scores.items()))
    return 0


def preview(sprites: Sprites, out: Path, compose: Callable = compose_group, seed: int = SEED) -> None:
    """A sheet of composed groups, one group a row, the captions below, to look at before training."""
    from PIL import Image, ImageDraw

    rng = random.Random(_hash(seed, "preview"))
    rows = [compose(kind, rng, sprites, "train") for kind in KINDS for _ in range(3)]
    sheet = Image.new("RGB", (PER_GROUP * 160, len(rows) * 150), "white")
    pen = ImageDraw.Draw(sheet)
    for r, group in enumerate(rows):
        for k, (image, text) in enumerate(group):
            sheet.paste(image.resize((128, 128)), (k * 160, r * 150))
            pen.text((k * 160, r * 150 + 130), text[:26], fill="black")
    sheet.save(out)


if __name__ == "__main__":
    raise SystemExit(main())
