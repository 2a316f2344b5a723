"""Build clipart-mini 2's icon corpus from the open icon and emoji sets of ``@iconify/json`` (npm).

    python recipes/icondata.py fetch --cache ~/.cache/clipart-data      # npm, once (104 MB package)
    python recipes/icondata.py build --cache ~/.cache/clipart-data --out DATA [--workers 2]

``fetch`` is the only step that needs the network and npm; ``build`` is offline and deterministic for a seed. It
writes, under DATA::

    images/<set>/<icon>-<k>.png      64 px RGB renders on white (colour icons as drawn, monochrome ones in ink)
    train.csv                        filepath,caption for the training sets
    eval_<set>.csv                   filepath,label: the whole held-out sets (unseen styles)
    eval_unseen_concepts.csv         filepath,label: every icon of the held-out nouns (unseen concepts)
    manifest.json                    sets, licences, counts, held-out lists, zero-shot templates
    ATTRIBUTION.md                   every set used, its licence and authors (CC-BY sets must be credited)

Only sets whose licence allows redistributing weights trained on them are read (``ALLOWED``); share-alike, GPL
and non-commercial sets are never opened. The build renders into ``DATA.partial/`` chunk by chunk (an interrupted
build resumes there with the same settings) and renames it to DATA only when complete.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

PACKAGE = "@iconify/json@2.2.535"
ALLOWED = {"MIT", "Apache-2.0", "ISC", "BSD-2-Clause", "BSD-3-Clause", "CC0-1.0", "OFL-1.1", "Unlicense",
           "CC-BY-3.0", "CC-BY-4.0"}  # fmt: skip
# Sets with pictures of things: every concept that passes the filters is kept.
PICTORIAL_COLOUR = ("noto", "noto-v1", "fluent-emoji-flat", "fxemoji", "streamline-emojis")
PICTORIAL_MONO = ("fluent-emoji-high-contrast", "game-icons", "healthicons", "streamline-freehand")
# Interface and line-icon sets: only concepts the pictorial sets also name (a cat, a cup), for their styles.
LINE_MONO = ("tabler", "lucide", "ph", "mdi", "icon-park-outline", "mingcute", "hugeicons", "iconoir",
             "fa6-solid", "streamline-plump", "material-symbols", "la", "ri", "fluent")  # fmt: skip
LINE_COLOUR = ("icon-park", "flat-color-icons", "streamline-freehand-color", "streamline-plump-color",
               "streamline-flex-color", "fluent-color")  # fmt: skip
# Whole sets never trained on: their styles are unseen (emojione's colour set is left out too, so that its
# drawings are unseen in any form).
HELD_OUT_SETS = {"twemoji": "colour", "emojione-monotone": "mono"}
EXCLUDED_SETS = ("emojione",)
# Never trained on and never used to choose which weights ship (the held-out sets above chose the stages): the
# recipe's last check of the model those choices made (emojione-monotone's designs, in colour).
CHECK_SETS = ("emojione",)
# Concrete nouns whose every icon is held out of training. None of them is a word of clipart-mini 1's data (its
# Noto emoji names and captions), so neither stage of training has seen them: the text tower places them from
# their words alone.
HELD_OUT_CONCEPTS = (
    "anvil", "harp", "cauldron", "wheelbarrow", "windmill", "catapult", "harpoon", "cannon", "chainsaw",
    "typewriter", "kettle", "padlock", "periscope", "pickaxe", "sickle", "scythe", "shovel", "sledgehammer",
    "stapler", "trombone", "tuba", "xylophone", "zeppelin", "binoculars", "bulldozer", "chandelier", "crowbar",
    "funnel", "grenade", "igloo", "narwhal", "ostrich", "pelican", "platypus", "porcupine", "pufferfish",
    "seahorse", "starfish", "stingray", "walrus", "woodpecker", "yak", "hyena", "wallet", "calculator", "desk",
    "drone", "eraser", "sofa", "gavel", "webcam", "zipper", "clapperboard", "blender", "hanger", "podium",
    "caravan", "fridge", "whistle", "armchair", "forklift", "highlighter", "metronome", "barrel", "crane",
    "turbine", "vial", "bookshelf", "escalator", "handcuffs", "submarine", "pillow", "sausage", "towel", "tripod",
)  # fmt: skip
SKIP_CATEGORIES = {"Flags", "Flags / Maps", "Logos"}
STYLE_WORDS = {"outline", "outlined", "filled", "fill", "solid", "bold", "duotone", "light", "thin", "regular",
               "line", "sharp", "rounded", "twotone", "alt", "24px", "16px", "48px", "negative", "color", "colored",
               "flat", "1", "2", "3", "4", "5", "6", "7", "8", "9", "s", "o", "f", "sm", "lg", "md", "mini"}  # fmt: skip
UI_WORDS = {"arrow", "arrows", "chevron", "caret", "align", "indent", "outdent", "format", "text", "letter",
            "alpha", "numeric", "menu", "refresh", "sync", "undo", "redo", "login", "logout", "sort", "filter",
            "layout", "column", "columns", "row", "rows", "toggle", "check", "checkbox", "close", "plus", "minus",
            "add", "remove", "edit", "delete", "settings", "badge", "off", "slash", "search", "zoom", "upload",
            "download", "share", "link", "unlink", "file", "folder", "document", "skin", "tone", "flag", "logo",
            "brand", "button", "keycap", "sign", "symbol", "square", "circle", "box", "frame", "mark", "id",
            "input", "output", "select", "selection", "cursor", "pointer", "drag", "resize", "expand", "collapse",
            "maximize", "minimize", "list", "grid", "table", "chart", "graph", "code", "terminal", "database",
            "account", "user", "users", "person", "notification", "alert", "info", "help", "question", "warning",
            "error", "ban", "cancel", "x", "ok", "sos", "new", "free", "up", "down", "left", "right", "back",
            "forward", "next", "previous", "first", "last", "double", "triple", "half", "quarter"}  # fmt: skip
INKS: dict[str, tuple[int, int, int]] = {"red": (220, 30, 35), "orange": (245, 135, 20), "yellow": (230, 190, 0),
    "green": (40, 165, 55), "blue": (35, 85, 225), "purple": (135, 55, 185), "pink": (240, 100, 170),
    "brown": (125, 78, 38)}  # fmt: skip
TEMPLATES = {
    "colour": ["{n}", "{an}", "a drawing of {an}", "a picture of {an}", "{an} icon", "a colourful {n}",
               "an emoji of {an}", "a cartoon {n}"],
    "mono": ["{n}", "{an}", "a drawing of {an}", "a black and white drawing of {an}", "a line drawing of {an}",
             "a simple {n} icon", "a sketch of {an}", "a silhouette of {an}"],
    "ink": ["{an}", "{ink} {n}", "{a_ink} {n}", "{a_ink} drawing of {an}", "a drawing of {an}"],
}  # fmt: skip
EVAL_TEMPLATES = ["{}", "a drawing of a {}", "a picture of a {}", "a {} icon"]
CHUNK = 400


class RecipeError(Exception):
    """A problem the person running the recipe can fix; printed as one line."""


def run_build(build: Callable[[], dict]) -> int:
    """A recipe command's body: print what ``build`` returns as JSON and return 0, or print its RecipeError as one
    line and return 2."""
    try:
        print(json.dumps(build()))
    except RecipeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


@dataclass(frozen=True)
class Icon:
    """One icon to render: where it comes from, its concept, how to draw it and what to call it."""

    set: str
    name: str
    concept: str
    names: tuple[str, ...]  # other true names for captions: aliases, "horse" for "horse face", "car" ...
    mono: bool
    split: str  # "train", "eval_<set>", "eval_unseen_concepts"
    body: str
    width: float
    height: float


def json_dir(cache: Path) -> Path:
    """The folder of per-set JSON files inside the npm cache."""
    return cache / "npm" / "node_modules" / "@iconify" / "json" / "json"


def fetched(cache: Path) -> Path:
    """The JSON folder of sets that :func:`fetch` installed into ``cache``; RecipeError when there is none."""
    folder = json_dir(cache)
    if not folder.is_dir():
        raise RecipeError(f"no icon sets in {cache}: run `python recipes/icondata.py fetch` first")
    return folder


def fetch(cache: Path) -> Path:
    """Install the pinned ``@iconify/json`` into ``cache/npm`` with npm (once); return its JSON folder."""
    folder = json_dir(cache)
    if (folder / "noto.json").is_file():
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise RecipeError("npm was not found: install it (Debian: apt-get install npm) and run fetch again")
    (cache / "npm").mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(cache / "npm"), PACKAGE],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode or not (folder / "noto.json").is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RecipeError(f"npm could not install {PACKAGE}: {last}")
    return folder


SKIN_TONES = ("skin-tone", "-tone1", "-tone2", "-tone3", "-tone4", "-tone5", "-dark", "-light", "-medium")
EXTRA_NAMES = {"automobile": ("car",), "deciduous tree": ("tree",), "evergreen tree": ("tree", "pine tree"),
               "sailboat": ("sailing boat",), "cupcake": ("cup cake",), "house with garden": ("house",),
               "beaming face with smiling eyes": ("smiley",), "teacup without handle": ("cup of tea",)}  # fmt: skip


def split_words(name: str, words: set[str]) -> str | None:
    """Split a run-together name ('moneywithwings') into known words, longest first; None when it cannot."""
    best: list[list[str] | None] = [[]] + [None] * len(name)
    for end in range(1, len(name) + 1):
        for start in range(max(0, end - 16), end):
            prev = best[start]
            if (
                prev is not None
                and name[start:end] in words
                and (best[end] is None or len(prev) + 1 < len(best[end]))
            ):
                best[end] = [*prev, name[start:end]]
    found = best[len(name)]
    return "-".join(found) if found else None


def concept_of(name: str) -> str | None:
    """Plain words for an icon name ('horse-face' -> 'horse face'), or None for interface and style-only names."""
    if any(tone in name for tone in SKIN_TONES):
        return None
    words = [w for w in re.split(r"[-_ ]+", name.lower()) if w]
    while words and words[-1] in STYLE_WORDS:
        words.pop()
    if not words or any(w in UI_WORDS or w.isdigit() for w in words) or len(words) > 4:
        return None
    if len(words) == 1 and len(words[0]) < 3:
        return None
    return " ".join(words)


def other_names(concept: str, vocabulary: set[str]) -> tuple[str, ...]:
    """Shorter true names: 'horse' for 'horse face', 'apple' for 'red apple', and EXTRA_NAMES."""
    words = concept.split()
    extra = list(EXTRA_NAMES.get(concept, ()))
    if len(words) == 2 and words[1] == "face" and words[0] in vocabulary:
        extra.append(words[0])
    if len(words) == 2 and words[0] in (*INKS, "green"):
        extra.append(words[1])
    return tuple(extra)


def held_out_noun(concept: str) -> str | None:
    """The held-out noun that a concept names (as a whole word), if any."""
    words = set(concept.split())
    return next((noun for noun in HELD_OUT_CONCEPTS if noun in words), None)


def load_set(folder: Path, prefix: str) -> dict:
    """One set's JSON, or a one-line error naming the set when it is missing or unreadable."""
    path = folder / f"{prefix}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecipeError(f"icon set {prefix!r} is not in {folder}: run fetch again") from None
    except (OSError, ValueError) as exc:
        raise RecipeError(f"icon set {prefix!r} in {folder} is unreadable ({exc}): run fetch again") from None


def _set_icons(prefix: str, data: dict) -> Iterator[tuple[str, dict]]:
    skip = {n for cat, names in data.get("categories", {}).items() if cat in SKIP_CATEGORIES for n in names}
    for name, icon in sorted(data.get("icons", {}).items()):
        if not icon.get("hidden") and name not in skip:
            yield name, icon


ROLES: dict[str, str] = {
    **{p: "pictorial" for p in PICTORIAL_COLOUR + PICTORIAL_MONO},
    **{p: "line" for p in LINE_MONO + LINE_COLOUR},
    **{p: "held-out" for p in HELD_OUT_SETS},
}


def select(
    folder: Path, roles: dict[str, str] | None = None, names: frozenset[str] = frozenset()
) -> tuple[list[Icon], dict[str, dict]]:
    """Every icon of the corpus (training and held out) and the info block of each set used.

    ``roles`` maps each set to "pictorial" (all its concepts), "line" (only concepts the pictorial sets name, or
    ``names``) or "held-out" (the whole set is an evaluation set); default :data:`ROLES`."""
    roles = ROLES if roles is None else roles
    sets = {prefix: load_set(folder, prefix) for prefix in roles}
    infos = {}
    for prefix, data in sets.items():
        spdx = data.get("info", {}).get("license", {}).get("spdx", "unknown")
        if spdx not in ALLOWED:
            raise RecipeError(
                f"icon set {prefix!r} has licence {spdx}, which clipart-mini may not be trained on"
            )
        infos[prefix] = data["info"]
    known = {w for p in roles if p != "fxemoji" for n in sets[p]["icons"] for w in n.split("-") if len(w) > 1}
    known |= set("aio")

    def concept_for(prefix: str, name: str) -> str | None:
        if prefix == "fxemoji":  # fxemoji runs its words together: "moneywithwings"
            name = split_words(re.sub(r"\\d+$", "", name), known) or "x"
        return concept_of(name)

    vocabulary = {c for p, r in roles.items() if r == "pictorial" for n, _ in _set_icons(p, sets[p])
                  if (c := concept_for(p, n))}  # fmt: skip
    vocabulary |= {n for extra in EXTRA_NAMES.values() for n in extra} | names
    icons: list[Icon] = []
    for prefix, role in roles.items():
        data = sets[prefix]
        per_concept: dict[str, int] = {}
        for name, icon in _set_icons(prefix, data):
            concept = concept_for(prefix, name)
            if concept is None or (role == "line" and concept not in vocabulary):
                continue
            if per_concept.get(concept, 0) >= 2:  # at most two style variants of a concept in a set
                continue
            per_concept[concept] = per_concept.get(concept, 0) + 1
            body = icon["body"]
            if role == "held-out":
                split = f"eval_{prefix}"
            elif held_out_noun(concept):
                split = "eval_unseen_concepts"
            else:
                split = "train"
            icons.append(Icon(prefix, name, concept, other_names(concept, vocabulary), "currentColor" in body, split, body,
                              float(icon.get("width", data.get("width", 16))),
                              float(icon.get("height", data.get("height", 16)))))  # fmt: skip
    return icons, infos


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


def svg_of(icon: Icon, ink: tuple[int, int, int], size: int, rng: random.Random) -> str:
    """The icon as a standalone SVG: ink for currentColor, a random margin and offset, white background."""
    scale = rng.uniform(0.72, 0.95)
    side = max(icon.width, icon.height) / scale
    dx = (side - icon.width) * rng.random()
    dy = (side - icon.height) * rng.random()
    body = icon.body.replace("currentColor", "#{:02x}{:02x}{:02x}".format(*ink))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{size}" '
            f'height="{size}" viewBox="{-dx:.3f} {-dy:.3f} {side:.3f} {side:.3f}">'
            f'<rect x="{-dx:.3f}" y="{-dy:.3f}" width="{side:.3f}" height="{side:.3f}" fill="#fff"/>{body}</svg>')  # fmt: skip


def article(phrase: str) -> str:
    """'a horse' / 'an owl'."""
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


def caption(names: tuple[str, ...], kind: str, ink: str, rng: random.Random) -> str:
    """A caption that stays true of the render: one of its names; colour words only for the ink it was drawn in."""
    name = rng.choice(names)
    return rng.choice(TEMPLATES[kind]).format(n=name, an=article(name), ink=ink, a_ink=article(ink))


def renders_of(icon: Icon) -> list[tuple[str, tuple[int, int, int]]]:
    """(ink name, RGB) of each render. Held out: one render. Training: colour icons twice (other margins),
    monochrome ones twice in black and once in each of two inks."""
    if icon.split != "train":
        return [("" if not icon.mono else "black", (0, 0, 0))]
    if not icon.mono:
        return [("", (0, 0, 0))] * 2
    inks = random.Random(_seed("ink", icon.set, icon.name)).sample(sorted(INKS), 2)
    return [("black", (0, 0, 0))] * 2 + [(ink, INKS[ink]) for ink in inks]


SCRIBBLE_CAPTIONS = ["a messy scribble", "random scribbles", "a tangle of lines", "scribbles", "a scribble",
                     "random coloured lines", "a badly drawn sketch"]  # fmt: skip


def scribbles(root: Path, count: int, size: int, seed: int) -> list[tuple[str, str, str]]:
    """Renders of random stroke scenes (clipart's own initialisation and rasterizer), captioned as scribbles:
    a concept of their own, so that a tangle is not mistaken for a thing."""
    import torch
    from PIL import Image

    from clipart.render import render
    from clipart.scene import Scene

    rows = []
    generator = torch.Generator().manual_seed(seed)
    rng = random.Random(_seed("scribbles", seed))
    (root / "images" / "scribbles").mkdir(parents=True, exist_ok=True)
    for k in range(count):
        scene = Scene.random(rng.choice([8, 16, 32, 64, 96]), generator=generator, canvas_px=size,
                             radius=rng.choice([0.1, 0.3, 0.6]), width_px=rng.choice([1.0, 2.0, 4.0]),
                             gray=rng.random() < 0.3)  # fmt: skip
        with torch.no_grad():
            pixels = render(scene, size).clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
        rel = f"images/scribbles/{k:05d}.png"
        Image.fromarray(pixels).save(root / rel)
        rows.append(("train", rel, rng.choice(SCRIBBLE_CAPTIONS)))
    return rows


def _require_renderer() -> None:
    try:
        import numpy  # noqa: F401
        import PIL  # noqa: F401
        import resvg_py  # noqa: F401
    except ImportError as exc:
        raise RecipeError(f"{exc.name} is missing: pip install resvg-py numpy pillow") from None


def render_icon(icon: Icon, ink: tuple[int, int, int], size: int, rng: random.Random) -> Image.Image:
    """One RGB render of ``icon`` (see :func:`svg_of`); raises whatever resvg raises for a corrupt icon."""
    import io

    import resvg_py
    from PIL import Image

    png = resvg_py.svg_to_bytes(svg_string=svg_of(icon, ink, size, rng), skip_system_fonts=True)
    return Image.open(io.BytesIO(bytes(png))).convert("RGB")


def render_chunk(job: tuple[list[Icon], Path, int, int]) -> dict:
    """Render one chunk of icons to PNG files; return its rows and how many icons failed or came out blank."""
    import numpy as np

    icons, root, size, seed = job
    rows: list[tuple[str, str, str]] = []
    failed = blank = 0
    for icon in icons:
        rng = random.Random(_seed(seed, icon.set, icon.name))
        for k, (ink_name, ink) in enumerate(renders_of(icon)):
            try:
                image = render_icon(icon, ink, size, rng)
            except (KeyboardInterrupt, SystemExit):
                raise
            # A corrupt icon is skipped and counted, whatever the renderer raised; resvg's Rust panics (a filter
            # it cannot composite) reach Python as pyo3's PanicException, a BaseException.
            except BaseException:
                failed += 1
                break
            if np.asarray(image).min() > 235:  # nothing visible (white-on-white): the icon is dropped
                blank += 1
                break
            rel = f"images/{icon.set}/{icon.name}-{k}.png"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            image.save(root / rel, optimize=False)
            kind = "ink" if ink_name not in ("", "black") else ("mono" if icon.mono else "colour")
            if icon.split == "train":
                label = caption((icon.concept, *icon.names), kind, ink_name, rng)
            else:  # held out: the concept, or for unseen concepts the held-out noun it shows
                label = held_out_noun(icon.concept) if icon.split == "eval_unseen_concepts" else icon.concept
            rows.append((icon.split, rel, label))
    return {"rows": rows, "failed": failed, "blank": blank}


def _chunks(icons: list[Icon]) -> Iterator[list[Icon]]:
    for start in range(0, len(icons), CHUNK):
        yield icons[start : start + CHUNK]


def _write_csv(path: Path, header: tuple[str, str], rows: Iterable[tuple[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def attribution(infos: dict[str, dict]) -> str:
    """ATTRIBUTION.md: every set the corpus uses, with licence, authors and source."""
    lines = ["# Icon and emoji sets in this training and evaluation data", "",
             f"From the npm package {PACKAGE}. CC-BY sets are credited as their licences require.", "",
             "| set | name | licence | authors |", "|---|---|---|---|"]  # fmt: skip
    for prefix, info in sorted(infos.items()):
        author = info.get("author", {})
        lines.append(f"| {prefix} | {info.get('name', prefix)} | {info['license'].get('spdx')} "
                     f"({info['license'].get('url', '')}) | {author.get('name', '')} {author.get('url', '')} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def _read_settings(tmp: Path) -> dict | None:
    try:
        return json.loads((tmp / "settings.json").read_text())
    except (OSError, ValueError):
        return None


def build(folder: Path, out: Path, seed: int = 0, size: int = 64, workers: int = 1, quiet: bool = False,
          roles: dict[str, str] | None = None, scribble_count: int = 3000,
          names: frozenset[str] = frozenset()) -> dict:  # fmt: skip
    """Render the corpus into ``out`` (via ``out.partial``, resumable); return the manifest. ``names`` are
    concepts that line sets add even where no pictorial set names them (see :func:`select`)."""
    if out.exists():
        raise RecipeError(f"{out} already exists: remove it to rebuild")
    _require_renderer()
    icons, infos = select(folder, roles, names)
    listing = hashlib.sha256(repr([(i.set, i.name, i.split) for i in icons]).encode()).hexdigest()[:16]
    settings = {"package": PACKAGE, "seed": seed, "size": size, "icons": len(icons), "listing": listing,
                "chunk": CHUNK, "scribbles": scribble_count}  # fmt: skip
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists() and _read_settings(tmp) != settings:  # another build's leftovers: start cleanly
        shutil.rmtree(tmp)
    (tmp / "chunks").mkdir(parents=True, exist_ok=True)
    (tmp / "settings.json").write_text(json.dumps(settings))
    chunks = list(_chunks(icons))
    todo = [(i, c) for i, c in enumerate(chunks) if not (tmp / "chunks" / f"{i:05d}.json").exists()]
    with ProcessPoolExecutor(workers) if workers > 1 else contextlib.nullcontext() as pool:
        jobs = (pool.map if pool else map)(render_chunk, [(c, tmp, size, seed) for _, c in todo])
        for n, ((i, _), result) in enumerate(zip(todo, jobs, strict=True), 1):
            part = tmp / "chunks" / f"{i:05d}.json"
            part.with_suffix(".tmp").write_text(json.dumps(result))
            part.with_suffix(".tmp").replace(part)
            if not quiet:
                print(
                    f"\rrendered {len(chunks) - len(todo) + n}/{len(chunks)} chunks", end="", file=sys.stderr
                )
    if not quiet:
        print(file=sys.stderr)
    tables: dict[str, list[tuple[str, str]]] = {}
    failed = blank = 0
    parts = [json.loads((tmp / "chunks" / f"{i:05d}.json").read_text()) for i in range(len(chunks))]
    parts.append({"rows": scribbles(tmp, scribble_count, size, seed), "failed": 0, "blank": 0})
    for result in parts:
        failed, blank = failed + result["failed"], blank + result["blank"]
        for split, rel, label in result["rows"]:
            tables.setdefault(split, []).append((rel, label))
    train_rows = tables.pop("train", [])
    _write_csv(tmp / "train.csv", ("filepath", "caption"), train_rows)
    for split, rows in tables.items():
        _write_csv(tmp / f"{split}.csv", ("filepath", "label"), rows)
    per_set: dict[str, int] = {}
    for icon in icons:
        per_set[icon.set] = per_set.get(icon.set, 0) + 1
    manifest = {
        **{k: v for k, v in settings.items() if k != "chunk"},  # how the work was cut up changes nothing
        "images": {"train": len(train_rows), **{s: len(r) for s, r in tables.items()}},
        "failed": failed,
        "blank": blank,
        "icons_per_set": per_set,
        "concepts": len({i.concept for i in icons if i.split == "train"}),
        "held_out_sets": HELD_OUT_SETS,
        "excluded_sets": EXCLUDED_SETS,
        "held_out_concepts": list(HELD_OUT_CONCEPTS),
        "licences": {p: i["license"].get("spdx") for p, i in infos.items()},
        "eval_templates": EVAL_TEMPLATES,
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (tmp / "ATTRIBUTION.md").write_text(attribution(infos))
    shutil.rmtree(tmp / "chunks")
    os.remove(tmp / "settings.json")
    tmp.rename(out)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """``fetch`` or ``build``; errors are one line and exit code 2."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="install the icon sets with npm into the cache (needs the network)")
    b = sub.add_parser("build", help="render the corpus from the cache (offline)")
    for p in (f, b):
        p.add_argument("--cache", type=Path, default=Path("~/.cache/clipart-data").expanduser())
    b.add_argument("--out", type=Path, required=True, help="corpus folder (must not exist yet)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--size", type=int, default=64, help="render size in pixels (64)")
    b.add_argument("--workers", type=int, default=1, help="render processes (1)")
    b.add_argument("--scribbles", type=int, default=3000, help="renders of random strokes, captioned as such")
    b.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(fetch(args.cache))
        else:
            manifest = build(fetched(args.cache), args.out, args.seed, args.size, args.workers, args.quiet,
                             scribble_count=args.scribbles)  # fmt: skip
            print(json.dumps(manifest["images"]), f"failed {manifest['failed']} blank {manifest['blank']}")
    except RecipeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
