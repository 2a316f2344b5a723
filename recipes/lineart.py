"""Line-art renders of the icon corpus's colour training icons: the same concepts in black outlines on white.

    python recipes/lineart.py --out DATA/lineart     # after `icondata.py fetch`; offline, deterministic

Why: a guide trained on one monochrome emoji set (fluent-emoji-high-contrast) names those very icons far more often
than the held-out emojione-monotone set, drawn in nearly the same style (docs/benchmark-history.md, "Line art for the
guide"): with one monochrome picture of each emoji concept it learns the picture, not the concept. Each colour icon
(five colour emoji sets and the colour line-icon sets) is rendered at 4x, and its outlines are traced: the borders
between colour regions and against the background, and the dark fills (pupils, mouths), drawn in black with two
pen widths and downsampled to the corpus's size. That gives every emoji concept several monochrome pictures, and
the guide the line drawings that clipart's strokes make.

Writes ``OUT/images/<set>/<name>-<k>.png`` and ``OUT/lineart.csv`` (filepath,caption; paths relative to OUT), via
``OUT.partial`` so that an interrupted build never looks complete; a corrupt icon is skipped and counted.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import random
import re
import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import icondata

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

TEMPLATES = ["{n}", "{an}", "a drawing of {an}", "a black and white drawing of {an}", "a line drawing of {an}",
             "an outline of {an}", "a sketch of {an}", "a simple {n} icon"]  # fmt: skip
SCALE = 4  # traced at this multiple of the output size
PENS = (5, 7)  # line widths at the traced size: one render each (about 1.25 and 1.75 px at 64 px)
EDGE = 0.12  # a colour step (largest channel difference, 0-1) that counts as a border
DARK = 0.3  # luminance below which a fill is drawn black
CHUNK = 200


def layers(icon: icondata.Icon, size: int, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """``icon`` rendered at ``size`` px without the white background (margins drawn from ``rng`` as icondata's):
    its colours flattened on white and softened (H x W x 3, 0-1) and its alpha (H x W, 0-1)."""
    import numpy as np
    import resvg_py
    from PIL import Image, ImageFilter

    svg = icondata.svg_of(icon, (0, 0, 0), size, rng)
    # Without the white background the icon's border against it can be told from the borders inside it.
    svg = re.sub(r'<rect [^>]*fill="#fff"/>', "", svg, count=1)
    png = resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True)
    rgba = Image.open(io.BytesIO(bytes(png))).convert("RGBA")
    flat = Image.new("RGBA", rgba.size, "white")
    flat.alpha_composite(rgba)
    rgb = np.asarray(flat.convert("RGB").filter(ImageFilter.GaussianBlur(1)), dtype=np.float32) / 255
    return rgb, np.asarray(rgba, dtype=np.float32)[..., 3] / 255


def colour_steps(rgb: np.ndarray) -> np.ndarray:
    """Where the colour changes by more than EDGE (largest channel difference) from the pixel left or above."""
    import numpy as np

    steps = np.zeros(rgb.shape[:2], bool)
    steps[:, 1:] |= np.abs(rgb[:, 1:] - rgb[:, :-1]).max(-1) > EDGE
    steps[1:] |= np.abs(rgb[1:] - rgb[:-1]).max(-1) > EDGE
    return steps


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Luma of an H x W x 3 image (0-1)."""
    import numpy as np

    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def trace(icon: icondata.Icon, size: int, rng: random.Random, pen: int) -> Image.Image:
    """``icon``'s outlines in black on white, ``size`` px square (margins drawn from ``rng`` as icondata's)."""
    import numpy as np
    from PIL import Image, ImageFilter

    rgb, alpha = layers(icon, size * SCALE, rng)
    border = colour_steps(rgb)
    border[:, 1:] |= np.abs(np.diff(alpha, axis=1)) > 0.3
    border[1:] |= np.abs(np.diff(alpha, axis=0)) > 0.3
    ink = (border | ((luminance(rgb) < DARK) & (alpha > 0.5))).astype(np.uint8) * 255
    inked = Image.fromarray(ink).filter(ImageFilter.MaxFilter(pen))
    return Image.fromarray(255 - np.asarray(inked)).resize((size, size), Image.LANCZOS).convert("RGB")


def save_drawn(draw: Callable[[], Image.Image], path: Path) -> str:
    """Call ``draw`` and save its image at ``path``; return "saved", or without saving "failed" (the renderer
    raised: a corrupt icon) or "blank" (nothing visible on white)."""
    import numpy as np

    try:
        image = draw()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # resvg's Rust panics are BaseExceptions (see icondata.render_chunk)
        return "failed"
    if np.asarray(image).min() > 235:
        return "blank"
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return "saved"


def add_drawn(draw: Callable[[], Image.Image], root: Path, rel: str, icon: icondata.Icon, templates: list[str],
              rng: random.Random, rows: list[tuple[str, str]], missed: dict[str, int]) -> bool:  # fmt: skip
    """Save ``draw``'s image at ``root/rel`` (:func:`save_drawn`) and add its row to ``rows``, captioned from
    ``templates`` (:func:`caption`), or count in ``missed`` why not; True if it was saved."""
    done = save_drawn(draw, root / rel)
    if done != "saved":
        missed[done] += 1
        return False
    rows.append((rel, caption(icon, templates, rng)))
    return True


def caption(icon: icondata.Icon, templates: list[str], rng: random.Random) -> str:
    """One of ``templates`` filled with one of the icon's true names ({n}: the name, {an}: with its article)."""
    name = rng.choice((icon.concept, *icon.names))
    return rng.choice(templates).format(n=name, an=icondata.article(name))


def trace_chunk(job: tuple[list[icondata.Icon], Path, int, int]) -> dict:
    """Trace one chunk of icons into ``root/images``; return its rows and how many failed or came out blank."""
    icons, root, size, seed = job
    rows: list[tuple[str, str]] = []
    missed = {"failed": 0, "blank": 0}
    for icon in icons:
        rng = random.Random(icondata._seed(seed, "lineart", icon.set, icon.name))
        for k, pen in enumerate(PENS):
            rel = f"images/{icon.set}/{icon.name}-{k}.png"
            if not add_drawn(
                partial(trace, icon, size, rng, pen), root, rel, icon, TEMPLATES, rng, rows, missed
            ):
                break
    return {"rows": rows, **missed}


def build(folder: Path, out: Path, seed: int = 0, size: int = 64, workers: int = 2,
          roles: dict[str, str] | None = None) -> dict:  # fmt: skip
    """Trace every colour training icon of the corpus (icondata's selection, ``roles`` as there) into ``out``;
    return the counts."""
    return build_colour(folder, out, "lineart.csv", trace_chunk, (size, seed), workers, roles)


def build_colour(folder: Path, out: Path, table: str, work: Callable[[tuple], dict], options: tuple,
                 workers: int = 2, roles: dict[str, str] | None = None) -> dict:  # fmt: skip
    """Run ``work((icons, OUT.partial, *options))`` over chunks of the corpus's colour training icons and write
    the rows it returns as ``out/<table>`` (filepath,caption), with the counts in ``counts.json``; the folder is
    renamed to ``out`` only when complete. Return the counts."""
    if out.exists():
        raise icondata.RecipeError(f"{out} already exists: remove it to rebuild")
    icondata._require_renderer()
    icons, _ = icondata.select(folder, roles)
    colour = [i for i in icons if i.split == "train" and not i.mono]
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():  # a build that stopped: start it cleanly (a few minutes on 2 cores)
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    chunks = [(colour[s : s + CHUNK], tmp, *options) for s in range(0, len(colour), CHUNK)]
    rows: list[tuple[str, str]] = []
    failed = blank = 0
    with ProcessPoolExecutor(workers) if workers > 1 else contextlib.nullcontext() as pool:
        for n, result in enumerate((pool.map if pool else map)(work, chunks), 1):
            rows += result["rows"]
            failed, blank = failed + result["failed"], blank + result["blank"]
            print(f"\r{out.name}: {n}/{len(chunks)} chunks", end="", file=sys.stderr)
    print(file=sys.stderr)
    with open(tmp / table, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("filepath", "caption"))
        writer.writerows(rows)
    counts = {"icons": len(colour), "images": len(rows), "failed": failed, "blank": blank}
    (tmp / "counts.json").write_text(json.dumps(counts) + "\n")
    tmp.rename(out)
    return counts


def build_parser(doc: str) -> argparse.ArgumentParser:
    """The options of a build over the corpus's colour icons: --cache, --out, --seed, --size, --workers."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/clipart-data").expanduser())
    parser.add_argument("--out", type=Path, required=True, help="output folder (must not exist yet)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64, help="render size in pixels (64)")
    parser.add_argument("--workers", type=int, default=2, help="processes (2)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build the line-art renders; errors are one line and exit code 2."""
    args = build_parser(__doc__).parse_args(argv)
    return icondata.run_build(
        lambda: build(icondata.fetched(args.cache), args.out, args.seed, args.size, args.workers)
    )


if __name__ == "__main__":
    raise SystemExit(main())
