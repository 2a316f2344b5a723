"""Pictures for the clipart-mini data set: emoji glyphs and their sketch-like variants, shapes, digits.

Objects are RGBA images (``PIL.Image``) at a working resolution; :func:`place` scales, rotates and pastes one
onto a background of the output size. All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

EMOJI_FONT_SIZE = 109  # the only size at which the bitmap (CBDT) Noto Color Emoji font renders
EMOJI_VARIANTS: tuple[str, ...] = ("colour", "flat", "outline", "pen", "strokes")
SKETCH_VARIANTS: tuple[str, ...] = EMOJI_VARIANTS[1:]
_VARIANT_WEIGHTS = np.array([0.34, 0.14, 0.16, 0.16, 0.20])
_INKS = ((20, 20, 20), (45, 45, 45), (30, 40, 110), (90, 30, 30), (20, 70, 40))
RES = 128  # working resolution of shapes and digits


@functools.lru_cache(maxsize=2)
def _font(path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, EMOJI_FONT_SIZE)


def render_glyph(char: str, font_path: str) -> Image.Image | None:
    """Render one emoji as a square RGBA image cropped to its content, or None if the font has no glyph."""
    font = _font(font_path)
    left, top, right, bottom = font.getbbox(char)
    image = Image.new("RGBA", (max(right - left, 1) + 8, max(bottom - top, 1) + 8), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((4 - left, 4 - top), char, font=font, embedded_color=True)
    box = image.getchannel("A").point(lambda a: 255 if a > 24 else 0).getbbox()
    if box is None:
        return None
    image = image.crop(box)
    side = max(image.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return square


def pick_variant(rng: np.random.Generator) -> str:
    """Draw an emoji variant name with the training mix (about a third full colour, the rest sketch-like)."""
    return EMOJI_VARIANTS[int(rng.choice(len(EMOJI_VARIANTS), p=_VARIANT_WEIGHTS))]


def _on_white(image: Image.Image) -> Image.Image:
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, image).convert("RGB")


def _hard_alpha(image: Image.Image) -> Image.Image:
    return image.getchannel("A").point(lambda a: 255 if a > 127 else 0)


def _ink(rng: np.random.Generator) -> tuple[int, int, int]:
    return _INKS[int(rng.integers(len(_INKS)))]


def _layer(colour: tuple[int, int, int], mask: Image.Image) -> Image.Image:
    layer = Image.new("RGBA", mask.size, (*colour, 255))
    layer.putalpha(mask)
    return layer


def _mean_colour(image: Image.Image) -> tuple[int, int, int]:
    pixels = np.asarray(image).reshape(-1, 4).astype(np.float64)
    weights = pixels[:, 3] / 255.0
    mean = (pixels[:, :3] * weights[:, None]).sum(0) / max(weights.sum(), 1e-6)
    return (int(mean[0]), int(mean[1]), int(mean[2]))


def _flat(glyph: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Flat colours: the glyph posterised to a few colours with a hard edge (or one-colour silhouette)."""
    mask = _hard_alpha(glyph)
    if rng.random() < 0.2:
        return _layer(_mean_colour(glyph), mask)
    flat = _on_white(glyph).quantize(int(rng.integers(3, 7)), method=Image.Quantize.MEDIANCUT).convert("RGBA")
    flat.putalpha(mask)
    return flat


def _outline(glyph: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Edge-detected lines (colour edges and the silhouette) in a dark ink."""
    gray = _on_white(glyph).convert("L")
    edges = np.maximum(
        np.asarray(gray.filter(ImageFilter.FIND_EDGES), dtype=np.int16),
        np.asarray(_hard_alpha(glyph).filter(ImageFilter.FIND_EDGES), dtype=np.int16),
    )
    edges[[0, -1], :] = 0
    edges[:, [0, -1]] = 0
    threshold = max(int(np.percentile(edges[edges > 0], 60)) if (edges > 0).any() else 1, 24)
    mask = Image.fromarray(((edges >= threshold) * 255).astype(np.uint8))
    mask = mask.filter(ImageFilter.MaxFilter(int(rng.choice([3, 5]))))
    return _layer(_ink(rng), mask)


def _pen(glyph: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A thick pen outline of the silhouette, sometimes over a light flat fill of the glyph's colour."""
    alpha = _hard_alpha(glyph)
    contour = alpha.filter(ImageFilter.FIND_EDGES).filter(ImageFilter.MaxFilter(int(rng.choice([5, 7, 9]))))
    ink = _ink(rng) if rng.random() < 0.7 else _mean_colour(glyph)
    if rng.random() < 0.4:
        fill = tuple(int(c + (255 - c) * 0.35) for c in _mean_colour(glyph))
        return Image.alpha_composite(_layer(fill, alpha), _layer(ink, contour))  # type: ignore[arg-type]
    return _layer(ink, contour)


def _strokes(glyph: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The glyph repainted with short, thick, curved strokes coloured from it (like CLIPDraw output)."""
    pixels = np.asarray(glyph)
    ys, xs = np.nonzero(pixels[..., 3] > 127)
    out = Image.new("RGBA", glyph.size, (0, 0, 0, 0))
    if len(xs) == 0:
        return out
    draw = ImageDraw.Draw(out)
    side = glyph.width
    length_scale, width_scale = rng.uniform(0.05, 0.14), rng.uniform(0.025, 0.055)
    count = int(
        np.clip(rng.uniform(0.8, 1.5) * len(xs) / (length_scale * width_scale * side * side), 40, 400)
    )
    t = np.linspace(0.0, 1.0, 8)[:, None]
    for index in rng.integers(len(xs), size=count):
        start = np.array([xs[index], ys[index]], dtype=np.float64)
        length = side * length_scale * rng.uniform(0.6, 1.4)
        angle = rng.uniform(0, 2 * math.pi)
        end = start + length * np.array([math.cos(angle), math.sin(angle)])
        middle = (start + end) / 2 + rng.uniform(-0.4, 0.4, size=2) * length
        curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * middle + t**2 * end
        r, g, b, _ = pixels[ys[index], xs[index]]
        width = max(1, round(side * width_scale * rng.uniform(0.7, 1.3)))
        draw.line([tuple(p) for p in curve], fill=(int(r), int(g), int(b), 255), width=width, joint="curve")
    if rng.random() < 0.4:
        contour = _hard_alpha(glyph).filter(ImageFilter.FIND_EDGES).filter(ImageFilter.MaxFilter(3))
        out = Image.alpha_composite(out, _layer(_ink(rng), contour))
    return out


_VARIANTS = {"flat": _flat, "outline": _outline, "pen": _pen, "strokes": _strokes}


def emoji_variant(glyph: Image.Image, variant: str, rng: np.random.Generator) -> Image.Image:
    """The glyph in one of :data:`EMOJI_VARIANTS` (``colour`` returns it unchanged)."""
    return glyph if variant == "colour" else _VARIANTS[variant](glyph, rng)


def background(size: int, rng: np.random.Generator) -> Image.Image:
    """A mostly white background: white, a light flat colour, a light gradient or faint paper noise."""
    kind = rng.random()
    if kind < 0.7:
        return Image.new("RGB", (size, size), (255, 255, 255))
    tint = rng.integers(215, 256, size=3)
    if kind < 0.82:
        return Image.new("RGB", (size, size), tuple(int(c) for c in tint))
    if kind < 0.92:
        ramp = np.linspace(0.0, 1.0, size)
        grid = np.broadcast_to(ramp[:, None] if rng.random() < 0.5 else ramp[None, :], (size, size))[
            ..., None
        ]
        pixels = 255 * (1 - grid) + tint[None, None, :] * grid
        return Image.fromarray(pixels.astype(np.uint8))
    noise = rng.normal(248, rng.uniform(2, 7), size=(size, size, 1)).clip(0, 255)
    return Image.fromarray(np.repeat(noise, 3, axis=2).astype(np.uint8))


def jitter(obj: Image.Image, rng: np.random.Generator, strength: float = 1.0) -> Image.Image:
    """Photometric jitter of an RGBA object (brightness, contrast, saturation); hue is left alone."""
    rgb = obj.convert("RGB")
    for enhance, spread in (
        (ImageEnhance.Brightness, 0.15),
        (ImageEnhance.Contrast, 0.2),
        (ImageEnhance.Color, 0.3),
    ):
        rgb = enhance(rgb).enhance(1.0 + rng.uniform(-spread, spread) * strength)
    rgb.putalpha(obj.getchannel("A"))
    return rgb


def place(
    canvas: Image.Image, obj: Image.Image, centre: tuple[float, float], extent: float, angle: float
) -> Image.Image:
    """Paste ``obj`` on ``canvas`` (in place): long side ``extent`` of the canvas, rotated ``angle`` degrees."""
    side = max(2, round(extent * canvas.width))
    scale = side / max(obj.size)
    target = (max(1, round(obj.width * scale)), max(1, round(obj.height * scale)))
    resized = obj.resize(target, Image.Resampling.LANCZOS)
    if angle:
        resized = resized.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    x = round(centre[0] * canvas.width - resized.width / 2)
    y = round(centre[1] * canvas.height - resized.height / 2)
    canvas.paste(resized, (x, y), resized)
    return canvas


def finish(canvas: Image.Image, rng: np.random.Generator, blur: float = 0.1) -> Image.Image:
    """Occasional slight blur of the final picture."""
    if rng.random() < blur:
        return canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    return canvas


def _shape_outline(shape: str, aspect: float) -> tuple[np.ndarray, bool]:
    """Points of a shape in [-1, 1]² (y down) and whether it is a closed figure."""
    if shape == "line":
        return np.array([[-1.0, 0.0], [1.0, 0.0]]), False
    if shape == "spiral":
        theta = np.linspace(0, 6 * math.pi, 160)
        radius = theta / theta[-1]
        return np.stack([radius * np.cos(theta), radius * np.sin(theta)], 1), False
    if shape in ("circle", "ring"):
        theta = np.linspace(0, 2 * math.pi, 72, endpoint=False)
        points = np.stack([np.cos(theta), np.sin(theta)], 1)
    elif shape == "square":
        points = np.array([[-0.85, -0.85], [0.85, -0.85], [0.85, 0.85], [-0.85, 0.85]])
    elif shape == "triangle":
        points = np.array([[0.0, -0.95], [0.95, 0.75], [-0.95, 0.75]])
    elif shape == "hexagon":
        theta = np.arange(6) * math.pi / 3
        points = np.stack([np.cos(theta), np.sin(theta)], 1)
    elif shape == "star":
        theta = -math.pi / 2 + np.arange(10) * math.pi / 5
        radius = np.where(np.arange(10) % 2 == 0, 1.0, 0.42)
        points = np.stack([radius * np.cos(theta), radius * np.sin(theta) + 0.08], 1)
    elif shape == "heart":
        t = np.linspace(0, 2 * math.pi, 96, endpoint=False)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        points = np.stack([x / 17, (y + 2.5) / 17], 1)
    elif shape == "cross":
        a, b = 0.3, 0.95
        points = np.array(
            [
                [-a, -b],
                [a, -b],
                [a, -a],
                [b, -a],
                [b, a],
                [a, a],
                [a, b],
                [-a, b],
                [-a, a],
                [-b, a],
                [-b, -a],
                [-a, -a],
            ]
        )
    elif shape == "arrow":
        points = np.array(
            [[-0.95, -0.2], [0.25, -0.2], [0.25, -0.6], [0.95, 0], [0.25, 0.6], [0.25, 0.2], [-0.95, 0.2]]
        )
    elif shape == "crescent":
        outer = np.linspace(math.radians(58), math.radians(302), 60)
        inner = np.linspace(math.radians(276), math.radians(84), 50)
        points = np.concatenate(
            [
                np.stack([np.cos(outer), np.sin(outer)], 1),
                np.stack([0.45 + 0.85 * np.cos(inner), 0.85 * np.sin(inner)], 1),
            ]
        )
    else:
        raise ValueError(f"unknown shape {shape!r}")
    return points * np.array([aspect, 1.0]), True


def shape_image(
    shape: str, colour: tuple[int, int, int], style: str, rng: np.random.Generator
) -> Image.Image:
    """Draw a shape at the working resolution; ``style`` is 'filled', 'outline' or 'sketchy' (wobbly strokes)."""
    aspect = rng.uniform(0.85, 1.15) if shape not in ("line", "spiral", "arrow") else 1.0
    points, closed = _shape_outline(shape, aspect)
    pixels = RES / 2 + points * RES * 0.42
    image = Image.new("RGBA", (RES, RES), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    fill = (*colour, 255)
    width = int(rng.integers(6, 15))
    if shape == "ring":
        draw.line(
            [tuple(p) for p in np.vstack([pixels, pixels[:1]])], fill=fill, width=int(rng.integers(10, 20))
        )
    elif not closed:
        passes = 2 if style == "sketchy" else 1
        for _ in range(passes):
            wobble = pixels + (rng.normal(0, 1.5, pixels.shape) if style == "sketchy" else 0)
            draw.line([tuple(p) for p in wobble], fill=fill, width=width, joint="curve")
    elif style == "filled":
        draw.polygon([tuple(p) for p in pixels], fill=fill)
    else:
        passes = 2 if style == "sketchy" else 1
        loop = np.vstack([pixels, pixels[:1]])
        for _ in range(passes):
            wobble = loop + (rng.normal(0, 2.0, loop.shape) if style == "sketchy" else 0)
            draw.line([tuple(p) for p in wobble], fill=fill, width=width, joint="curve")
    return image


def jitter_colour(
    colour: tuple[int, int, int], rng: np.random.Generator, spread: int = 18
) -> tuple[int, int, int]:
    """A named colour with a little per-channel noise (stays recognisably the same colour)."""
    noisy = np.array(colour) + rng.integers(-spread, spread + 1, size=3)
    return tuple(int(c) for c in noisy.clip(0, 255))  # type: ignore[return-value]


def digit_image(digit: np.ndarray, colour: tuple[int, int, int], rng: np.random.Generator) -> Image.Image:
    """An 8×8 load_digits image (values 0..16) upscaled to pen-like ink in ``colour``, soft, crisp or outlined."""
    gray = Image.fromarray((np.asarray(digit, dtype=np.float64) * 255 / 16).astype(np.uint8))
    smooth = gray.resize((RES // 2, RES // 2), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(1.5))
    smooth = smooth.resize((RES, RES), Image.Resampling.BICUBIC)
    kind = rng.random()
    if kind < 0.3:
        mask = smooth.point(lambda v: min(255, int(v * 1.4)))
    else:
        level = int(rng.integers(80, 150))
        mask = smooth.point(lambda v: 255 if v > level else 0).filter(ImageFilter.GaussianBlur(0.8))
        if kind > 0.85:
            mask = mask.filter(ImageFilter.FIND_EDGES).filter(ImageFilter.MaxFilter(5))
    return _layer(colour, mask)
