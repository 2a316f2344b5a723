"""Colour parsing, used by the settings (``background``, ``icon_pen``) and by the SVG reader (``stroke``, ``fill``)."""

from __future__ import annotations

from clipart.errors import ConfigError

# what ``background`` takes for no canvas at all (a transparent drawing), in any case
TRANSPARENT = ("none", "transparent")


def parse_color(value: str, what: str = "colour", *, also: str = "") -> tuple[float, float, float]:
    """A CSS colour as PIL reads it (``#rrggbb``, ``#rgb``, ``rgb(r, g, b)``, ``hsl(...)``, a name such as white,
    red or navy) → RGB floats in [0, 1]; channels over 255 count as 255.

    Raises ConfigError naming ``what`` (e.g. ``background``) on anything else, a colour with alpha included;
    ``also`` adds what else it takes.
    """
    from PIL import ImageColor  # it loads PIL.Image: on first use, not with the settings

    text = str(value).strip()
    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        rgb = ()
    if len(rgb) != 3:
        raise ConfigError(
            f"{what} must be a colour such as #ffffff, #fff, rgb(255, 255, 255) or white{also}, got {text[:40]!r}"
        )
    return tuple(min(c, 255) / 255 for c in rgb)  # type: ignore[return-value]


def parse_background(value: str, what: str = "background") -> tuple[float, float, float] | None:
    """A canvas colour as :func:`parse_color` reads it, or None for no canvas: ``none`` or ``transparent``."""
    if str(value).strip().lower() in TRANSPARENT:
        return None
    return parse_color(value, what, also=", or none (transparent)")
