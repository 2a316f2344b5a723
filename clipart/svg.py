"""Scene ⇄ SVG.

The SVG holds a background rectangle (none for a transparent scene) and one ``<path>`` per stroke (``M`` then 1–3 ``C`` segments), with round caps
and joins, which is exactly what the rasterizer draws: every pixel within half the width of the curve.
Coordinates are written in pixels of a ``size``-pixel canvas (``viewBox="0 0 size size"``), so the file scales.
"""

from __future__ import annotations

import math
import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import torch

from clipart.colors import parse_background, parse_color
from clipart.errors import ClipartError
from clipart.scene import MAX_SEGMENTS, POINTS_PER_STROKE, Scene

SVG_NS = "http://www.w3.org/2000/svg"


def _num(v: float) -> str:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _hex(rgb: list[float]) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgb)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (control characters such as ESC or BEL, lone surrogates)."""
    return _NOT_XML.sub("", text)


def scene_to_svg(scene: Scene, size: int = 224, *, title: str | None = None, desc: str | None = None) -> str:
    """Serialise ``scene`` as an SVG document on a ``size``-pixel square canvas (``desc``: a credit line)."""
    s = scene.snapshot()
    pts = (s.points * size).tolist()
    segs = s.segments.tolist()
    widths = (s.widths * size).tolist()
    colors = s.colors.tolist()
    lines = [
        f'<svg xmlns="{SVG_NS}" width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
    ]
    for tag, text in (("title", title), ("desc", desc)):
        esc = xml_text(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if esc:
            lines.append(f"  <{tag}>{esc}</{tag}>")
    if s.background is not None:
        lines.append(f'  <rect width="{size}" height="{size}" fill="{_hex(list(s.background))}"/>')
    lines.append('  <g fill="none" stroke-linecap="round" stroke-linejoin="round">')
    for p, k, w, c in zip(pts, segs, widths, colors, strict=True):
        used = p[: 3 * k + 1]
        d = f"M{_num(used[0][0])} {_num(used[0][1])}"
        for j in range(k):
            a, b, e = used[3 * j + 1 : 3 * j + 4]
            d += f" C{_num(a[0])} {_num(a[1])} {_num(b[0])} {_num(b[1])} {_num(e[0])} {_num(e[1])}"
        lines.append(
            f'    <path d="{d}" stroke="{_hex(c[:3])}" stroke-opacity="{_num(c[3])}" stroke-width="{_num(w)}"/>'
        )
    lines.append("  </g>")
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


_TOKEN = re.compile(r"[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_NUMBER = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:px)?\s*")


def _parse_path(d: str) -> list[tuple[float, float]]:
    tokens = _TOKEN.findall(d)
    if not tokens or tokens[0] not in "Mm":
        raise ClipartError("unsupported SVG path: it must start with M and use only C segments")
    pts: list[tuple[float, float]] = []
    cmd = ""
    nums: list[float] = []
    for t in tokens + ["M"]:
        if t.isalpha() and t not in "MmCc":
            raise ClipartError(f"unsupported SVG path command {t!r}: strokes must be open cubic paths (M, C)")
        if t in "MmCc":
            if cmd:
                if len(nums) % 2 or not nums:
                    raise ClipartError(f"malformed SVG path data: {d[:60]!r}")
                rel = cmd.islower()
                base = pts[-1] if (rel and pts) else (0.0, 0.0)
                xy = [(nums[i], nums[i + 1]) for i in range(0, len(nums), 2)]
                if cmd in "Cc":
                    if len(xy) % 3 or not pts:
                        raise ClipartError(f"malformed SVG path data: {d[:60]!r}")
                    for i in range(0, len(xy), 3):
                        b = pts[-1] if rel else (0.0, 0.0)
                        pts.extend((b[0] + x, b[1] + y) for x, y in xy[i : i + 3])
                else:
                    if pts:
                        raise ClipartError("unsupported SVG path: only one subpath per stroke")
                    pts.append((base[0] + xy[0][0], base[1] + xy[0][1]))
            cmd, nums = t, []
        else:
            nums.append(float(t))
    if not all(math.isfinite(v) for xy in pts for v in xy):
        raise ClipartError(f"SVG path coordinates out of range: {d[:60]!r}")
    return pts


def _parse_number(value: str, what: str) -> float:
    """A finite number, optionally in px; anything else is a one-line error naming ``what``."""
    m = _NUMBER.fullmatch(value)
    number = float(m.group(1)) if m else math.nan
    if not math.isfinite(number):
        raise ClipartError(f"{what} must be a number, got {value[:40]!r}")
    return number


def _canvas(root: ET.Element) -> tuple[float, float, float]:
    """(min-x, min-y, size) of the canvas the paths are drawn in, from the viewBox or else the width."""
    vb = root.get("viewBox")
    if vb is not None:
        parts = vb.replace(",", " ").split()
        if len(parts) != 4:
            raise ClipartError(f"the SVG's viewBox must be four numbers, got {vb[:60]!r}")
        x, y, width, height = (_parse_number(p, "each viewBox value") for p in parts)
        if width <= 0 or height <= 0:
            raise ClipartError(f"the SVG's viewBox must have a positive width and height, got {vb[:60]!r}")
        return x, y, width
    if root.get("width") is None:
        raise ClipartError("the SVG has no viewBox or width")
    width = _parse_number(root.get("width", ""), "the SVG's width (without a viewBox)")
    if width <= 0:
        raise ClipartError("the SVG's width must be positive")
    return 0.0, 0.0, width


def _stroke(
    el: ET.Element, x0: float, y0: float
) -> tuple[list[tuple[float, float]], int, float, list[float]]:
    """One ``<path>`` as (points padded to POINTS_PER_STROKE, segments, width, RGBA); ClipartError if unreadable."""
    pts = [(x - x0, y - y0) for x, y in _parse_path(el.get("d", ""))]
    k = (len(pts) - 1) // 3
    if k < 1 or k > MAX_SEGMENTS or len(pts) != 3 * k + 1:
        raise ClipartError(f"each path needs 1–{MAX_SEGMENTS} cubic segments")
    rgb = list(parse_color(el.get("stroke", "#000000"), "an SVG stroke"))
    alpha = min(max(_parse_number(el.get("stroke-opacity", "1"), "stroke-opacity"), 0.0), 1.0)
    width = _parse_number(el.get("stroke-width", "1"), "stroke-width")
    if width <= 0:
        raise ClipartError(f"stroke-width must be positive, got {width:g}")
    return pts + [pts[-1]] * (POINTS_PER_STROKE - len(pts)), k, width, rgb + [alpha]


def read_svg_file(path: str | Path, *, warn: bool = True) -> Scene:
    """Read an ``--init`` SVG file: any file gives a Scene or a one-line ClipartError (see :func:`svg_to_scene`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ClipartError(f"cannot read the initial SVG: {e.strerror}: {path}") from None
    if data.startswith(b"\x89PNG"):
        raise ClipartError(
            f"the initial SVG is a PNG image, not an SVG: {path} (pass the .svg clipart wrote)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ClipartError(f"the initial SVG is not UTF-8 text (is it an SVG file?): {path}") from None
    return svg_to_scene(text, warn=warn)


def svg_to_scene(text: str, *, warn: bool = True) -> Scene:
    """Read an SVG made of open cubic paths (as written by :func:`scene_to_svg`) back into a Scene.

    Paths that cannot be read (other commands, bad numbers or colours) are skipped with one warning saying how
    many and why (none with ``warn=False``: a check that reads the file before its use); an SVG with no readable
    path, no usable canvas size or that is not XML raises ClipartError. The background is the fill of a
    ``<rect>`` before the first path (white if unreadable); without one, or with ``fill="none"``, the scene has
    none (transparent).
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ClipartError(f"not a valid SVG file: {e}") from None
    if root.tag.split("}")[-1] != "svg":
        raise ClipartError(f"not an SVG file: its root element is <{root.tag.split('}')[-1][:40]}>")
    x0, y0, size = _canvas(root)
    background: tuple[float, float, float] | None = None
    rows = []
    skipped: list[str] = []
    for el in root.iter():
        tag = el.tag.split("}")[-1] if isinstance(el.tag, str) else ""
        if tag == "rect" and el.get("fill") and not rows:
            try:
                background = parse_background(el.get("fill", ""), "the SVG background")
            except ClipartError as e:
                background = (1.0, 1.0, 1.0)
                skipped.append(f"background: {e}")
        if tag != "path":
            continue
        try:
            rows.append(_stroke(el, x0, y0))
        except ClipartError as e:
            skipped.append(str(e))
    if not rows:
        reason = f" ({len(skipped)} unreadable: {skipped[0]})" if skipped else ""
        raise ClipartError(f"the SVG holds no <path> strokes clipart can read{reason}")
    if skipped and warn:
        warnings.warn(
            f"skipped {len(skipped)} unreadable part(s) of the SVG, the first: {skipped[0]}", stacklevel=2
        )
    # Keep huge values finite in float32: only control points far off the canvas move, and a width of 3 canvas
    # units already covers the whole canvas from anywhere on it.
    points = (torch.tensor([r[0] for r in rows], dtype=torch.float64) / size).clamp(-1.0, 2.0).float()
    segments = torch.tensor([r[1] for r in rows], dtype=torch.int64)
    widths = (torch.tensor([r[2] for r in rows], dtype=torch.float64) / size).clamp(max=3.0).float()
    colors = torch.tensor([r[3] for r in rows], dtype=torch.float32)
    return Scene(points, segments, widths, colors, background)
