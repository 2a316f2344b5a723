"""Work units of the clipart-mini builder: each renders a slice of one part of the data set and returns rows.

A unit is ``(kind, start, stop)`` over a :class:`Plan`; every picture draws from its own generator seeded by
``(seed, stream, index…)``, so the output does not depend on how units are split or on the number of workers.
A row is ``(table, filepath, text)``: ``table`` is ``train``, ``val`` or an eval set (``eval_emoji`` …), and
``text`` is a caption (train/val) or a label (eval sets).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import minidata_draw as draw
import minidata_text as text
import numpy as np
from PIL import Image

Row = tuple[str, str, str]

# One random stream per part of the data; never renumber (it would change every build).
_EMOJI, _EMOJI_EVAL, _EMOJI_SKETCH = 1, 2, 3
_SHAPES, _SHAPES_VAL, _COLOURS_EVAL, _SHAPES_EVAL = 4, 5, 6, 7
_DIGITS, _DIGITS_EVAL = 8, 9
_PAIRS, _PAIRS_VAL = 10, 11


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs: output root, seed, picture size, font and the sampled indices."""

    root: str
    seed: int
    size: int
    font: str
    emoji: tuple[tuple[str, str], ...]  # (character, label) of every renderable emoji
    per_emoji: int
    digits_train: tuple[int, ...]
    digits_eval: tuple[int, ...]
    per_digit: int


def _rng(plan: Plan, *key: int) -> np.random.Generator:
    return np.random.default_rng([plan.seed, *key])


def _save(plan: Plan, image: Image.Image, relpath: str) -> str:
    path = Path(plan.root) / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return relpath


@functools.lru_cache(maxsize=512)
def _glyph(char: str, font: str) -> Image.Image:
    glyph = draw.render_glyph(char, font)
    if glyph is None:
        raise RuntimeError(f"no glyph for U+{ord(char):04X}")  # the plan lists only renderable emoji
    return glyph


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.images, data.target


def _centre(rng: np.random.Generator, extent: float, slack: float = 0.04) -> tuple[float, float]:
    low, high = extent / 2 - slack, 1 - extent / 2 + slack
    if low >= high:
        return (0.5, 0.5)
    return (float(rng.uniform(low, high)), float(rng.uniform(low, high)))


def _emoji_picture(plan: Plan, char: str, variant: str, rng: np.random.Generator, mild: bool) -> Image.Image:
    obj = draw.jitter(draw.emoji_variant(_glyph(char, plan.font), variant, rng), rng, 0.5 if mild else 1.0)
    extent = float(rng.uniform(0.6, 0.9) if mild else rng.uniform(0.45, 0.95))
    angle = float(np.clip(rng.normal(0, 8 if mild else 12), -30, 30))
    canvas = draw.place(draw.background(plan.size, rng), obj, _centre(rng, extent), extent, angle)
    return draw.finish(canvas, rng)


def emoji_rows(plan: Plan, start: int, stop: int) -> list[Row]:
    """Training renders of emoji ``start:stop`` plus one held-out colour and one held-out sketch render each."""
    rows: list[Row] = []
    for index in range(start, stop):
        char, label = plan.emoji[index]
        code = f"{ord(char):x}"
        for k in range(plan.per_emoji):
            rng = _rng(plan, _EMOJI, index, k)
            variant = draw.pick_variant(rng)
            path = _save(
                plan, _emoji_picture(plan, char, variant, rng, False), f"images/emoji/{code}_{k:02d}.png"
            )
            rows.append(("train", path, text.emoji_caption(label, variant, rng)))
        rng = _rng(plan, _EMOJI_EVAL, index)
        path = _save(plan, _emoji_picture(plan, char, "colour", rng, True), f"images/eval_emoji/{code}.png")
        rows += [("val", path, text.emoji_caption(label, "colour", rng)), ("eval_emoji", path, label)]
        rng = _rng(plan, _EMOJI_SKETCH, index)
        variant = draw.SKETCH_VARIANTS[int(rng.integers(len(draw.SKETCH_VARIANTS)))]
        path = _save(
            plan, _emoji_picture(plan, char, variant, rng, True), f"images/eval_emoji_sketch/{code}.png"
        )
        rows += [("val", path, text.emoji_caption(label, variant, rng)), ("eval_emoji_sketch", path, label)]
    return rows


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _shape_angle(shape: str, rng: np.random.Generator) -> float:
    if shape in ("line", "arrow"):
        return float(rng.uniform(-180, 180))
    return float(np.clip(rng.normal(0, 8), -20, 20))


def _shape_obj(shape: str, colour: str, style: str, rng: np.random.Generator) -> Image.Image:
    return draw.shape_image(shape, draw.jitter_colour(text.COLOURS[colour], rng), style, rng)


def _one_shape(
    plan: Plan, rng: np.random.Generator, colour: str, shape: str, style: str, plain: bool
) -> tuple[Image.Image, str]:
    size_word = _pick(rng, ("small", "", "large"))
    extent = float(
        {"small": rng.uniform(0.22, 0.34), "": rng.uniform(0.4, 0.6), "large": rng.uniform(0.7, 0.9)}[
            size_word
        ]
    )
    centre = _centre(rng, extent, 0.0)
    canvas = (
        Image.new("RGB", (plan.size, plan.size), (255, 255, 255))
        if plain
        else draw.background(plan.size, rng)
    )
    draw.place(canvas, _shape_obj(shape, colour, style, rng), centre, extent, _shape_angle(shape, rng))
    where = text.position_words(*centre)
    return draw.finish(canvas, rng), text.shape_caption(
        colour, shape, size_word, where, style != "filled", rng
    )


def _two_shapes(plan: Plan, rng: np.random.Generator) -> tuple[Image.Image, str]:
    colours = list(text.COLOURS)
    first = (_pick(rng, colours), _pick(rng, text.SHAPES))
    second = first
    while second == first:
        second = (_pick(rng, colours), _pick(rng, text.SHAPES))
    horizontal = bool(rng.random() < 0.6)
    canvas = draw.background(plan.size, rng)
    for (colour, shape), lead in ((first, True), (second, False)):
        extent = float(rng.uniform(0.3, 0.45))
        along = float(rng.uniform(0.2, 0.32) if lead else rng.uniform(0.68, 0.8))
        across = float(rng.uniform(0.35, 0.65))
        centre = (along, across) if horizontal else (across, along)
        style = _pick(rng, ("filled", "filled", "outline", "sketchy"))
        draw.place(canvas, _shape_obj(shape, colour, style, rng), centre, extent, _shape_angle(shape, rng))
    return draw.finish(canvas, rng), text.two_shape_caption(first, second, horizontal, rng)


def _random_shape(plan: Plan, rng: np.random.Generator) -> tuple[Image.Image, str]:
    if rng.random() < 0.25:
        return _two_shapes(plan, rng)
    colour, shape = _pick(rng, list(text.COLOURS)), _pick(rng, text.SHAPES)
    return _one_shape(plan, rng, colour, shape, _pick(rng, ("filled", "filled", "outline", "sketchy")), False)


def shape_rows(plan: Plan, start: int, stop: int) -> list[Row]:
    """Training pictures of one or two coloured shapes."""
    rows: list[Row] = []
    for index in range(start, stop):
        rng = _rng(plan, _SHAPES, index)
        image, caption = _random_shape(plan, rng)
        rows.append(("train", _save(plan, image, f"images/shapes/{index:06d}.png"), caption))
    return rows


def shape_val_rows(plan: Plan, start: int, stop: int) -> list[Row]:
    """Held-out shape pictures (val.csv only)."""
    rows: list[Row] = []
    for index in range(start, stop):
        image, caption = _random_shape(plan, _rng(plan, _SHAPES_VAL, index))
        rows.append(("val", _save(plan, image, f"images/val_shapes/{index:05d}.png"), caption))
    return rows


def colour_eval_rows(plan: Plan, start: int, stop: int) -> list[Row]:
    """Held-out single shapes on white labelled by colour (colours in turn)."""
    rows: list[Row] = []
    names = list(text.COLOURS)
    for index in range(start, stop):
        rng = _rng(plan, _COLOURS_EVAL, index)
        colour = names[index % len(names)]
        image, caption = _one_shape(
            plan, rng, colour, _pick(rng, text.SHAPES), _pick(rng, ("filled", "outline")), True
        )
        path = _save(plan, image, f"images/eval_colours/{index:05d}.png")
        rows += [("val", path, caption), ("eval_colours", path, colour)]
    return rows


def shape_eval_rows(plan: Plan, start: int, stop: int) -> list[Row]:
    """Held-out single shapes on white labelled by shape (shapes in turn)."""
    rows: list[Row] = []
    for index in range(start, stop):
        rng = _rng(plan, _SHAPES_EVAL, index)
        shape = text.SHAPES[index % len(text.SHAPES)]
        style = _pick(rng, ("filled", "outline", "sketchy"))
        image, caption = _one_shape(plan, rng, _pick(rng, list(text.COLOURS)), shape, style, True)
        path = _save(plan, image, f"images/eval_shapes/{index:05d}.png")
        rows += [("val", path, caption), ("eval_shapes", path, shape)]
    return rows


def _digit_picture(plan: Plan, index: int, rng: np.random.Generator, mild: bool) -> tuple[Image.Image, str]:
    images, _ = _digits()
    if rng.random() < 0.6:
        ink, name = draw.jitter_colour((25, 25, 25), rng, 20), ""
    else:
        name = _pick(rng, [c for c in text.COLOURS if c not in ("black", "gray")])
        ink = draw.jitter_colour(text.COLOURS[name], rng)
    extent = float(rng.uniform(0.55, 0.8) if mild else rng.uniform(0.4, 0.85))
    angle = float(np.clip(rng.normal(0, 6), -15, 15))
    obj = draw.digit_image(images[index], ink, rng)
    canvas = draw.place(draw.background(plan.size, rng), obj, _centre(rng, extent, 0.0), extent, angle)
    return draw.finish(canvas, rng), name


def digit_rows(plan: Plan, start: int, stop: int) -> list[Row]:
    """Training renders of the training split of load_digits (``per_digit`` each)."""
    _, targets = _digits()
    rows: list[Row] = []
    for index in plan.digits_train[start:stop]:
        for k in range(plan.per_digit):
            rng = _rng(plan, _DIGITS, index, k)
            image, ink = _digit_picture(plan, index, rng, False)
            path = _save(plan, image, f"images/digits/{index:04d}_{k:02d}.png")
            rows.append(("train", path, text.digit_caption(int(targets[index]), ink, rng)))
    return rows


def digit_eval_rows(plan: Plan, start: int, stop: int) -> list[Row]:
    """One render of each held-out digit, labelled ``'0'``…``'9'``."""
    _, targets = _digits()
    rows: list[Row] = []
    for index in plan.digits_eval[start:stop]:
        rng = _rng(plan, _DIGITS_EVAL, index)
        image, ink = _digit_picture(plan, index, rng, True)
        path = _save(plan, image, f"images/eval_digits/{index:04d}.png")
        digit = int(targets[index])
        rows += [("val", path, text.digit_caption(digit, ink, rng)), ("eval_digits", path, str(digit))]
    return rows


def _pair_picture(plan: Plan, rng: np.random.Generator) -> tuple[Image.Image, str]:
    first, second = (int(i) for i in rng.choice(len(plan.emoji), size=2, replace=False))
    variant = draw.pick_variant(rng)
    horizontal = bool(rng.random() < 0.6)
    canvas = draw.background(plan.size, rng)
    for index, lead in ((first, True), (second, False)):
        if rng.random() < 0.3:
            variant = draw.pick_variant(rng)
        obj = draw.jitter(draw.emoji_variant(_glyph(plan.emoji[index][0], plan.font), variant, rng), rng)
        extent = float(rng.uniform(0.36, 0.48))
        along = float(rng.uniform(0.2, 0.3) if lead else rng.uniform(0.7, 0.8))
        across = float(rng.uniform(0.35, 0.65))
        centre = (along, across) if horizontal else (across, along)
        draw.place(canvas, obj, centre, extent, float(np.clip(rng.normal(0, 8), -20, 20)))
    caption = text.pair_caption(plan.emoji[first][1], plan.emoji[second][1], horizontal, rng)
    return draw.finish(canvas, rng), caption


def pair_rows(plan: Plan, start: int, stop: int) -> list[Row]:
    """Training compositions of two emoji with a relational caption."""
    rows: list[Row] = []
    for index in range(start, stop):
        image, caption = _pair_picture(plan, _rng(plan, _PAIRS, index))
        rows.append(("train", _save(plan, image, f"images/pairs/{index:06d}.png"), caption))
    return rows


def pair_val_rows(plan: Plan, start: int, stop: int) -> list[Row]:
    """Held-out compositions of two emoji (val.csv only)."""
    rows: list[Row] = []
    for index in range(start, stop):
        image, caption = _pair_picture(plan, _rng(plan, _PAIRS_VAL, index))
        rows.append(("val", _save(plan, image, f"images/val_pairs/{index:05d}.png"), caption))
    return rows


UNITS = {
    "emoji": emoji_rows,
    "shapes": shape_rows,
    "shapes_val": shape_val_rows,
    "colours_eval": colour_eval_rows,
    "shapes_eval": shape_eval_rows,
    "digits": digit_rows,
    "digits_eval": digit_eval_rows,
    "pairs": pair_rows,
    "pairs_val": pair_val_rows,
}


def run_unit(job: tuple[Plan, str, int, int]) -> list[Row]:
    """Run one work unit ``(plan, kind, start, stop)`` (a top-level function, so a process pool can call it)."""
    plan, kind, start, stop = job
    return UNITS[kind](plan, start, stop)
