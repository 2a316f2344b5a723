"""Style variants of the corpus's colour training icons: mirror images and solid black glyphs.

    python recipes/variants.py --data DATA --out DATA/variants    # after the icons and lineart stages

Why: the guide names the held-out sets' pictures less often than its own sets' (twemoji, emojione-monotone), and
two differences are cheap to teach without a word of caption going false:
- a thing faces either way (twemoji's horse looks left where Noto's looks right): every colour icon's first
  render and its thinner line art are also listed mirrored left to right;
- monochrome glyph sets draw a thing as a black silhouette with its inner borders cut out in white, the inverse
  of line art: each colour icon is traced at 4x (as recipes/lineart.py does), its shape filled black and its
  inner borders and dark fills drawn white, then downsampled.

Captions: a mirrored picture keeps its source's caption; a glyph gets a monochrome one from the icon's names
(``GLYPH_TEMPLATES``: "a silhouette of a {}", "a stencil of a {}", …). Writes ``OUT/images/...`` and
``OUT/variants.csv`` (filepath,caption; paths relative to OUT) via ``OUT.partial``, so that an interrupted build
never looks complete; a corrupt icon is skipped and counted.
"""

from __future__ import annotations

import csv
import random
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import icondata
import lineart

if TYPE_CHECKING:
    from PIL import Image

GLYPH_TEMPLATES = ["{n}", "{an}", "a drawing of {an}", "a black and white drawing of {an}",
                   "a silhouette of {an}", "a filled {n} icon", "a simple {n} icon", "a stencil of {an}"]  # fmt: skip
GLYPH_PEN = 5  # the white inner lines' width at the traced size (about 1.25 px at 64 px)
CHUNK = 200


def glyph(icon: icondata.Icon, size: int, rng: random.Random) -> Image.Image:
    """``icon`` as a black silhouette with white inner borders, ``size`` px square on white."""
    import numpy as np
    from PIL import Image, ImageFilter

    rgb, alpha = lineart.layers(icon, size * lineart.SCALE, rng)
    solid = alpha > 0.5
    # Colour steps inside the shape (its edge against the background is not one: the background is gone).
    cut = (lineart.colour_steps(rgb) | (lineart.luminance(rgb) < lineart.DARK)).astype(np.uint8) * 255
    cut = np.asarray(Image.fromarray(cut).filter(ImageFilter.MaxFilter(GLYPH_PEN))) > 0
    inside = np.asarray(Image.fromarray(solid.astype(np.uint8) * 255).filter(ImageFilter.MinFilter(9))) > 0
    ink = solid & ~(cut & inside)  # inner lines stop short of the outline so that the silhouette stays whole
    image = Image.fromarray(np.where(ink, 0, 255).astype(np.uint8))
    return image.resize((size, size), Image.LANCZOS).convert("RGB")


def variant_chunk(job: tuple[list[icondata.Icon], Path, int, int, Path, dict[str, str]]) -> dict:
    """Mirror one chunk's icon and line-art renders and draw their glyphs into ``root/images``; return the rows
    and how many icons failed or came out blank."""
    from PIL import Image, ImageOps

    icons, root, size, seed, data, captions = job
    rows: list[tuple[str, str]] = []
    missed = {"failed": 0, "blank": 0}
    for icon in icons:
        for source, rel in (("icons", f"images/{icon.set}/{icon.name}-0.png"),
                            ("lineart", f"images/{icon.set}/{icon.name}-0.png")):  # fmt: skip
            key = f"{source}/{rel}"
            if key not in captions:  # dropped by its own build (blank or corrupt)
                continue
            out = f"images/mirror-{source}/{icon.set}/{icon.name}.png"
            (root / out).parent.mkdir(parents=True, exist_ok=True)
            ImageOps.mirror(Image.open(data / key).convert("RGB")).save(root / out)
            rows.append((out, captions[key]))
        rng = random.Random(icondata._seed(seed, "glyph", icon.set, icon.name))
        out = f"images/glyph/{icon.set}/{icon.name}.png"
        lineart.add_drawn(
            partial(glyph, icon, size, rng), root, out, icon, GLYPH_TEMPLATES, rng, rows, missed
        )
    return {"rows": rows, **missed}


def read_captions(data: Path) -> dict[str, str]:
    """Caption of every icon render and line-art render, keyed ``icons/<path>`` and ``lineart/<path>``."""
    captions = {}
    for source, table in (("icons", "train.csv"), ("lineart", "lineart.csv")):
        path = data / source / table
        if not path.is_file():
            raise icondata.RecipeError(f"{path} is missing: run the '{source}' stage first")
        with open(path, newline="", encoding="utf-8") as handle:
            captions |= {f"{source}/{r['filepath']}": r["caption"] for r in csv.DictReader(handle)}
    return captions


def build(folder: Path, data: Path, out: Path, seed: int = 0, size: int = 64, workers: int = 2,
          roles: dict[str, str] | None = None) -> dict:  # fmt: skip
    """Mirror and glyph variants of every colour training icon (icondata's selection, ``roles`` as there) of the
    corpus in ``data`` (its ``icons/`` and ``lineart/``) into ``out``; return the counts."""
    if out.exists():
        raise icondata.RecipeError(f"{out} already exists: remove it to rebuild")
    captions = read_captions(data)
    return lineart.build_colour(folder, out, "variants.csv", variant_chunk, (size, seed, data, captions), workers,
                                roles)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Build the variants; errors are one line and exit code 2."""
    parser = lineart.build_parser(__doc__)
    parser.add_argument(
        "--data", type=Path, required=True, help="the recipe's data folder (icons/, lineart/)"
    )
    args = parser.parse_args(argv)
    return icondata.run_build(
        lambda: build(icondata.fetched(args.cache), args.data, args.out, args.seed, args.size, args.workers)
    )


if __name__ == "__main__":
    raise SystemExit(main())
