"""Colour parsing, used by the settings (``background``) and by the SVG reader (``stroke``, ``fill``)."""

from __future__ import annotations

import re

from clipart.errors import ConfigError

NAMED = {"white": "#ffffff", "black": "#000000", "gray": "#808080", "grey": "#808080", "red": "#ff0000",
         "green": "#008000", "blue": "#0000ff", "yellow": "#ffff00"}  # fmt: skip
# what ``background`` takes for no canvas at all (a transparent drawing), in any case
TRANSPARENT = ("none", "transparent")


def parse_color(value: str, what: str = "colour", *, also: str = "") -> tuple[float, float, float]:
    """``#rrggbb``, ``#rgb``, ``rgb(r, g, b)`` or a basic name (white, black, red, ...) → RGB floats in [0, 1].

    Raises ConfigError naming ``what`` (e.g. ``background``) on anything else; ``also`` adds what else it takes.
    """
    text = str(value).strip()
    hex_text = NAMED.get(text.lower(), text)
    if re.fullmatch(r"#[0-9a-fA-F]{6}", hex_text):
        return tuple(int(hex_text[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]
    if re.fullmatch(r"#[0-9a-fA-F]{3}", hex_text):
        return tuple(int(c * 2, 16) / 255 for c in hex_text[1:])  # type: ignore[return-value]
    m = re.fullmatch(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)", hex_text)
    if m:
        return tuple(min(int(g), 255) / 255 for g in m.groups())  # type: ignore[return-value]
    raise ConfigError(
        f"{what} must be a colour such as #ffffff, #fff or rgb(255, 255, 255){also}, got {text[:40]!r}"
    )


def parse_background(value: str, what: str = "background") -> tuple[float, float, float] | None:
    """A canvas colour as :func:`parse_color` reads it, or None for no canvas: ``none`` or ``transparent``."""
    if str(value).strip().lower() in TRANSPARENT:
        return None
    return parse_color(value, what, also=", or none (transparent)")
