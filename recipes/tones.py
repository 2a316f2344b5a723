"""Tone variants of the corpus's colour training icons: flat-colour renders and greyscale renders.

    python recipes/tones.py --out DATA/tones    # after `icondata.py fetch`; offline, deterministic

Why: the held-out colour emoji set (twemoji) draws its things in a few flat colours, without the gradients and
shading layers of Noto, Noto v1 and fxemoji, and often in other colours than they do (its mango is red, Noto's
orange). Two more pictures of each colour icon show a guide the thing without its shading and without its colours:
- flat: the icon rendered at 4x, its colours reduced to ``FLAT_COLOURS`` and small details and thin lines folded
  into the regions around them (a mode filter), then downsampled;
- grey: the icon in greyscale, unless one of its names is a colour's (``HUE_WORDS``).
Each is mirrored left to right on a coin toss and drawn with its own margins. Captions come from the icon's names
(``FLAT_TEMPLATES``, ``GREY_TEMPLATES``). Writes ``OUT/images/...`` and ``OUT/tones.csv`` (filepath,caption;
paths relative to OUT) via ``OUT.partial``, so that an interrupted build never looks complete; a corrupt icon is
skipped and counted.
"""

from __future__ import annotations

import random
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import icondata
import lineart

if TYPE_CHECKING:
    from PIL import Image

FLAT_TEMPLATES = ["{n}", "{an}", "a drawing of {an}", "a picture of {an}", "{an} icon", "a flat {n} icon",
                  "a simple drawing of {an}", "a cartoon {n}"]  # fmt: skip
# "shaded" is true of the shaded sets' grey renders and loose for the flat ones'; the shipped weights learnt these.
GREY_TEMPLATES = ["{n}", "{an}", "a drawing of {an}", "a picture of {an}", "a grey drawing of {an}",
                  "a black and white picture of {an}", "a greyscale {n} icon", "a shaded drawing of {an}"]  # fmt: skip
FLAT_COLOURS = 6  # colours left after quantising (white included)
# Mode filter width at 4x: regions and lines under about 1 px at 64 px fold into the regions around them.
FLAT_MODE = 9
# A grey picture of an icon named by its colour ("orange book", "green apple") would make its caption false.
HUE_WORDS = {*icondata.INKS, "gold", "golden", "silver", "rainbow"}


def flat(icon: icondata.Icon, size: int, rng: random.Random) -> Image.Image:
    """``icon`` in FLAT_COLOURS flat colours without its finest details, ``size`` px square on white."""
    from PIL import Image, ImageFilter

    big = icondata.render_icon(icon, (0, 0, 0), size * lineart.SCALE, rng)
    flattened = big.quantize(colors=FLAT_COLOURS, method=Image.Quantize.MEDIANCUT)
    flattened = flattened.filter(ImageFilter.ModeFilter(FLAT_MODE)).convert("RGB")
    return mirrored(flattened.resize((size, size), Image.LANCZOS), rng)


def grey(icon: icondata.Icon, size: int, rng: random.Random) -> Image.Image:
    """``icon`` in greyscale, ``size`` px square on white."""
    from PIL import ImageOps

    return mirrored(ImageOps.grayscale(icondata.render_icon(icon, (0, 0, 0), size, rng)).convert("RGB"), rng)


def mirrored(image: Image.Image, rng: random.Random) -> Image.Image:
    """``image`` mirrored left to right on a coin toss of ``rng``."""
    from PIL import ImageOps

    return ImageOps.mirror(image) if rng.random() < 0.5 else image


TONES = (("flat", flat, FLAT_TEMPLATES), ("grey", grey, GREY_TEMPLATES))


def tone_chunk(job: tuple[list[icondata.Icon], Path, int, int]) -> dict:
    """Draw one chunk's flat and grey renders into ``root/images``; return the rows and how many icons failed
    or came out blank."""
    icons, root, size, seed = job
    rows: list[tuple[str, str]] = []
    missed = {"failed": 0, "blank": 0}
    for icon in icons:
        hued = any(w in HUE_WORDS for name in (icon.concept, *icon.names) for w in name.split())
        for tone, draw, templates in TONES:
            if tone == "grey" and hued:
                continue
            rng = random.Random(icondata._seed(seed, tone, icon.set, icon.name))
            out = f"images/{tone}/{icon.set}/{icon.name}.png"
            if not lineart.add_drawn(
                partial(draw, icon, size, rng), root, out, icon, templates, rng, rows, missed
            ):
                break
    return {"rows": rows, **missed}


def build(folder: Path, out: Path, seed: int = 0, size: int = 64, workers: int = 2,
          roles: dict[str, str] | None = None) -> dict:  # fmt: skip
    """Flat and grey renders of every colour training icon of the corpus (icondata's selection, ``roles`` as
    there) into ``out``; return the counts."""
    return lineart.build_colour(folder, out, "tones.csv", tone_chunk, (size, seed), workers, roles)


def main(argv: list[str] | None = None) -> int:
    """Build the tone variants; errors are one line and exit code 2."""
    args = lineart.build_parser(__doc__).parse_args(argv)
    return icondata.run_build(
        lambda: build(icondata.fetched(args.cache), args.out, args.seed, args.size, args.workers)
    )


if __name__ == "__main__":
    raise SystemExit(main())
