"""Build the icon bank that `--start icon` draws from: open icons turned into clipart strokes.

    python recipes/icondata.py fetch                               # once: npm install the icon sets
    python recipes/iconbank.py --out clipart/models/embedded/icon-bank

Each icon of the bank's sets (one per set and concept, named as the icon corpus names them, see icondata.py) is
parsed with svgelements: every drawn shape's outline becomes open cubic pieces of at most three segments (lines,
quadratics and arcs as cubics), coloured by its stroke or, for filled shapes, its fill, in the unit square. A
drawing that starts from an icon (clipart/start.py) picks the concept whose caption its guide finds nearest to the
prompt, so the bank needs no model and ships no features.

Output (written atomically: a complete bank or none): ``bank.safetensors`` (points fp16 [S, 10, 2], segments u8
[S], widths fp16 [S], colours u8 [S, 4], first stroke of each icon i32 [I + 1], concept of each icon i32 [I]),
``bank.json`` (concepts, icon names, sets and licences) and ``ATTRIBUTION.md``.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
from pathlib import Path

import icondata
import numpy as np

# The sets, in order of preference where several draw a concept (a seed picks among them): flat colour emoji,
# then two line-icon sets, then silhouettes. Every one allows redistribution (MIT, ISC, CC-BY-3.0).
SETS = {"fluent-emoji-flat": "pictorial", "tabler": "line", "lucide": "line", "game-icons": "pictorial"}
MAX_PIECES = (
    96  # an icon of more cubic pieces is too busy: the random start of the quick preset has 96 strokes
)
THIN = 1 / 40  # outline width of a filled shape, as a fraction of the icon's size
MAX_SEGMENTS = 3


def _cubics(path: object) -> list[list[tuple[complex, complex, complex, complex]]]:
    """The path's subpaths as lists of cubic segments (lines, quadratics and arcs converted)."""
    import svgelements as se

    subs: list[list[tuple[complex, complex, complex, complex]]] = []
    cur: list[tuple[complex, complex, complex, complex]] = []
    for seg in path.segments():
        if isinstance(seg, se.Move):
            if cur:
                subs.append(cur)
            cur = []
        elif isinstance(seg, (se.Line, se.Close)):
            a, b = complex(*seg.start), complex(*seg.end)
            if abs(b - a) > 1e-6:
                cur.append((a, a + (b - a) / 3, a + 2 * (b - a) / 3, b))
        elif isinstance(seg, se.QuadraticBezier):
            a, c, b = complex(*seg.start), complex(*seg.control), complex(*seg.end)
            cur.append((a, a + 2 / 3 * (c - a), b + 2 / 3 * (c - b), b))
        elif isinstance(seg, se.CubicBezier):
            cur.append(tuple(complex(*p) for p in (seg.start, seg.control1, seg.control2, seg.end)))
        elif isinstance(seg, se.Arc):
            cur.extend(tuple(complex(*p) for p in (c.start, c.control1, c.control2, c.end))
                       for c in seg.as_cubic_curves())  # fmt: skip
    if cur:
        subs.append(cur)
    return subs


def icon_strokes(
    body: str, width: float, height: float
) -> list[tuple[list[tuple[float, float]], float, tuple]]:
    """An icon's SVG body as strokes: (control points in the unit square, width, RGBA in [0, 1]).

    The icon is centred in the unit square at its aspect ratio; ``currentColor`` is black; white shapes (which
    only show over another shape) are left out. Raises ValueError if svgelements cannot read the body.
    """
    import svgelements as se

    svg = (f'<svg color="#000" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}">{body}</svg>')  # fmt: skip
    doc = se.SVG.parse(io.StringIO(svg))
    side = max(width, height)
    dx, dy = (side - width) / 2, (side - height) / 2
    out = []
    for el in doc.elements():
        if not isinstance(el, se.Shape):
            continue
        stroke, fill = el.stroke, el.fill
        if stroke is not None and stroke.value is not None and stroke.alpha > 0:
            colour, w = stroke, (el.stroke_width or 1.0) / side
        elif fill is not None and fill.value is not None and fill.alpha > 0:
            colour, w = fill, THIN
        else:
            continue
        rgba = (colour.red / 255, colour.green / 255, colour.blue / 255, colour.alpha / 255)
        if min(rgba[:3]) > 0.97:
            continue
        path = se.Path(el)
        path.reify()
        for sub in _cubics(path):
            for k in range(0, len(sub), MAX_SEGMENTS):
                chunk = sub[k : k + MAX_SEGMENTS]
                pts = [chunk[0][0]] + [q for c in chunk for q in c[1:]]
                out.append(([((z.real + dx) / side, (z.imag + dy) / side) for z in pts], w, rgba))
    return out


def build(folder: Path, out: Path, quiet: bool = False, sets: dict[str, str] | None = None) -> dict:
    """Write the bank of ``sets`` (set -> role, preferred first; default :data:`SETS`) into ``out``, replacing
    it only once complete; return its summary."""
    from safetensors.numpy import save_file

    sets = SETS if sets is None else sets
    icons, infos = icondata.select(folder, roles=sets)
    rank = {s: k for k, s in enumerate(sets)}
    icons.sort(key=lambda i: (i.concept, rank[i.set], i.name))
    concepts: list[str] = []
    names, concept_of, first = [], [], [0]
    points, segments, widths, colours = [], [], [], []
    seen: set[tuple[str, str]] = set()
    failed = busy = empty = 0
    for icon in icons:
        if (icon.set, icon.concept) in seen:
            continue
        try:
            strokes = icon_strokes(icon.body, icon.width, icon.height)
        except Exception:  # noqa: BLE001 - svgelements raises many kinds on odd SVG; a bad icon is counted
            failed += 1
            continue
        if not strokes or len(strokes) > MAX_PIECES:
            empty += not strokes
            busy += len(strokes) > MAX_PIECES
            continue
        seen.add((icon.set, icon.concept))
        if not concepts or concepts[-1] != icon.concept:
            concepts.append(icon.concept)
        for pts, w, rgba in strokes:
            padded = pts + [pts[-1]] * (3 * MAX_SEGMENTS + 1 - len(pts))
            points.append(padded)
            segments.append((len(pts) - 1) // 3)
            widths.append(w)
            colours.append([round(255 * c) for c in rgba])
        names.append(f"{icon.set}:{icon.name}")
        concept_of.append(len(concepts) - 1)
        first.append(len(points))
    tensors = {
        "points": np.clip(np.asarray(points, dtype=np.float32), -1.0, 2.0).astype(np.float16),
        "segments": np.asarray(segments, dtype=np.uint8),
        "widths": np.asarray(widths, dtype=np.float16),
        "colors": np.asarray(colours, dtype=np.uint8),
        "first": np.asarray(first, dtype=np.int32),
        "concept": np.asarray(concept_of, dtype=np.int32),
    }
    meta = {"package": icondata.PACKAGE, "concepts": concepts, "icons": names,
            "sets": {s: {"name": infos[s].get("name", s), "licence": infos[s]["license"].get("spdx"),
                         "author": infos[s].get("author", {}).get("name", "")} for s in sets}}  # fmt: skip
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(tensors, str(tmp / "bank.safetensors"))
    (tmp / "bank.safetensors").chmod(0o644)  # safetensors writes 0600; the package's files are world-readable
    (tmp / "bank.json").write_text(json.dumps(meta, indent=0) + "\n", encoding="utf-8")
    (tmp / "ATTRIBUTION.md").write_text(
        icondata.attribution({s: infos[s] for s in sets}).replace(
            "clipart-mini 2's training and evaluation data", "the icon bank of `--start icon`"
        ),
        encoding="utf-8",
    )
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    summary = {"icons": len(names), "concepts": len(concepts), "strokes": len(points), "failed": failed,
               "too_busy": busy, "empty": empty}  # fmt: skip
    if not quiet:
        print(json.dumps(summary))
    return summary


def main(argv: list[str] | None = None) -> int:
    """Build the bank from the cache; errors are one line and exit code 2."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/clipart-data").expanduser())
    parser.add_argument("--out", type=Path, required=True, help="bank folder (replaced when complete)")
    args = parser.parse_args(argv)
    try:
        import svgelements  # noqa: F401
    except ImportError:
        print("error: svgelements is missing: pip install -e '.[train]'", file=sys.stderr)
        return 2
    try:
        build(icondata.fetched(args.cache), args.out)
    except icondata.RecipeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
