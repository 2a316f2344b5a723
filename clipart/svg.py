"""Scene ⇄ SVG.

The SVG holds a background rectangle and one ``<path>`` per stroke (``M`` then 1–3 ``C`` segments), with round caps
and joins, which is exactly what the rasterizer draws: every pixel within half the width of the curve.
Coordinates are written in pixels of a ``size``-pixel canvas (``viewBox="0 0 size size"``), so the file scales.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import torch

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


def scene_to_svg(scene: Scene, size: int = 224, *, title: str | None = None) -> str:
    """Serialise ``scene`` as an SVG document on a ``size``-pixel square canvas."""
    s = scene.snapshot()
    pts = (s.points * size).tolist()
    segs = s.segments.tolist()
    widths = (s.widths * size).tolist()
    colors = s.colors.tolist()
    bg = _hex(list(s.background))
    lines = [
        f'<svg xmlns="{SVG_NS}" width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
    ]
    esc = xml_text(title or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if esc:
        lines.append(f"  <title>{esc}</title>")
    lines.append(f'  <rect width="{size}" height="{size}" fill="{bg}"/>')
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
                if len(nums) % 2:
                    raise ClipartError(f"malformed SVG path data: {d[:60]!r}")
                rel = cmd.islower()
                base = pts[-1] if (rel and pts) else (0.0, 0.0)
                xy = [(nums[i], nums[i + 1]) for i in range(0, len(nums), 2)]
                if cmd in "Cc":
                    if len(xy) % 3:
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
    return pts


def _parse_color(value: str) -> list[float]:
    value = value.strip()
    if re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return [int(value[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        return [int(c * 2, 16) / 255 for c in value[1:]]
    m = re.fullmatch(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)", value)
    if m:
        return [int(g) / 255 for g in m.groups()]
    raise ClipartError(f"unsupported SVG colour {value!r} (use #rrggbb or rgb(r, g, b))")


def svg_to_scene(text: str) -> Scene:
    """Read an SVG made of open cubic paths (as written by :func:`scene_to_svg`) back into a Scene."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ClipartError(f"not a valid SVG file: {e}") from None
    vb = root.get("viewBox")
    if vb:
        size = float(vb.replace(",", " ").split()[2])
    else:
        size = float(re.sub(r"[^\d.]", "", root.get("width", "0")) or 0)
    if size <= 0:
        raise ClipartError("the SVG has no viewBox or width")
    background = (1.0, 1.0, 1.0)
    rows = []
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag == "rect" and el.get("fill") and not rows:
            background = tuple(_parse_color(el.get("fill")))  # type: ignore[assignment]
        if tag != "path":
            continue
        pts = _parse_path(el.get("d", ""))
        k = (len(pts) - 1) // 3
        if k < 1 or k > MAX_SEGMENTS or len(pts) != 3 * k + 1:
            raise ClipartError(f"each path needs 1–{MAX_SEGMENTS} cubic segments")
        pts = pts + [pts[-1]] * (POINTS_PER_STROKE - len(pts))
        rgb = _parse_color(el.get("stroke", "#000000"))
        a = float(el.get("stroke-opacity", "1"))
        w = float(el.get("stroke-width", "1"))
        rows.append((pts, k, w, rgb + [a]))
    if not rows:
        raise ClipartError("the SVG holds no <path> strokes")
    points = torch.tensor([r[0] for r in rows], dtype=torch.float32) / size
    segments = torch.tensor([r[1] for r in rows], dtype=torch.int64)
    widths = torch.tensor([r[2] for r in rows], dtype=torch.float32) / size
    colors = torch.tensor([r[3] for r in rows], dtype=torch.float32)
    return Scene(points, segments, widths, colors, background)
