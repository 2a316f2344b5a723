"""Colour parsing, used by the settings (``background``, ``icon_pen``) and by the SVG reader (``stroke``, ``fill``)."""

from __future__ import annotations

from clipart.errors import ConfigError


def parse_color(value: str, what: str = "colour") -> tuple[float, float, float]:
    """A CSS colour as PIL reads it (``#rrggbb``, ``#rgb``, ``rgb(r, g, b)``, ``hsl(...)``, a name such as white,
    red or navy) → RGB floats in [0, 1]; channels over 255 count as 255.

    Raises ConfigError naming ``what`` (e.g. ``background``) on anything else, a colour with alpha included.
    """
    from PIL import ImageColor  # it loads PIL.Image: on first use, not with the settings

    text = str(value).strip()
    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        rgb = ()
    if len(rgb) != 3:
        raise ConfigError(
            f"{what} must be a colour such as #ffffff, #fff, rgb(255, 255, 255) or white, got {text[:40]!r}"
        )
    return tuple(min(c, 255) / 255 for c in rgb)  # type: ignore[return-value]
