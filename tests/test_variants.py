"""The style-variants recipe (recipes/variants.py) on the icon fixture: offline, seconds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

pytest.importorskip("resvg_py")
import icondata  # noqa: E402  (recipes/ is on sys.path through conftest)
import lineart  # noqa: E402
import numpy as np  # noqa: E402
import variants  # noqa: E402
from iconfixture import FIXTURE, ROLES, read_rows, run_recipe, tree_hash  # noqa: E402
from PIL import Image  # noqa: E402


def _captions(path: Path) -> dict[str, str]:
    return {r["filepath"]: r["caption"] for r in read_rows(path)}


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("variants-data")
    icondata.build(FIXTURE, root / "icons", seed=5, size=32, quiet=True, roles=ROLES, scribble_count=2)
    lineart.build(FIXTURE, root / "lineart", seed=5, size=32, workers=1, roles=ROLES)
    return root


@pytest.fixture(scope="module")
def built(data: Path) -> tuple[Path, dict]:
    return data / "variants", variants.build(FIXTURE, data, data / "variants", 5, 32, workers=1, roles=ROLES)


def test_mirrors_keep_their_sources_caption_and_glyphs_are_black_on_white(
    data: Path, built: tuple[Path, dict]
) -> None:
    out, counts = built
    icons, _ = icondata.select(FIXTURE, ROLES)
    colour = {(i.set, i.name): i for i in icons if i.split == "train" and not i.mono}
    rows = _captions(out / "variants.csv")
    assert counts["images"] == len(rows) and counts["failed"] == 1  # the fixture's broken path
    sources = {**{f"icons/{k}": v for k, v in _captions(data / "icons" / "train.csv").items()},
               **{f"lineart/{k}": v for k, v in _captions(data / "lineart" / "lineart.csv").items()}}  # fmt: skip
    kinds: dict[str, set[tuple[str, str]]] = {}
    for rel, text in rows.items():
        kind, icon_set, name = Path(rel).parts[1], Path(rel).parts[2], Path(rel).stem
        kinds.setdefault(kind, set()).add((icon_set, name))
        if kind.startswith("mirror-"):
            source = f"{kind.removeprefix('mirror-')}/images/{icon_set}/{name}-0.png"
            assert text == sources[source]
            assert np.array_equal(_pixels(out / rel), _pixels(data / source)[:, ::-1])
        else:
            pixels = _pixels(out / rel)
            assert np.abs(pixels - pixels.mean(-1, keepdims=True)).max() <= 1  # grey only
            assert pixels.min() < 40 and pixels.max() > 240
            icon = colour[(icon_set, name)]
            assert any(n in text for n in (icon.concept, *icon.names)) and "colourful" not in text
    whole = set(colour) - {("tcolour", "broken")}
    rendered = {
        (Path(k).parts[2], Path(k).stem[:-2])
        for k in sources
        if k.startswith("icons/") and k.endswith("-0.png")
    }
    assert ("tcolour", "white-ghost") not in rendered  # blank on white: its render was dropped, so no mirror
    assert kinds == {"mirror-icons": whole & rendered, "mirror-lineart": whole, "glyph": whole}


def test_a_two_colour_disc_is_a_black_disc_with_a_white_inner_border() -> None:
    body = '<circle cx="8" cy="8" r="7" fill="#f0c020"/><circle cx="8" cy="8" r="3" fill="#3060d0"/>'
    disc = icondata.Icon("t", "disc", "disc", (), False, "train", body, 16, 16)
    pixels = np.asarray(variants.glyph(disc, 64, random.Random(0)).convert("L"))
    rows, cols = np.nonzero(pixels < 128)
    cy, cx = (rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2
    radius = (rows.max() - rows.min()) // 2
    line = pixels[cy, cx : cx + radius]  # from the centre to the outline
    assert line[0] < 60 and line[-2] < 60  # filled black inside and at the edge
    assert line.max() > 200  # the border between the two colours is cut out in white
    assert pixels[0, 0] > 240  # the background stays white


def test_build_is_deterministic_and_leftovers_start_cleanly(
    data: Path, built: tuple[Path, dict], tmp_path: Path
) -> None:
    again = tmp_path / "variants"
    stale = again.with_name("variants.partial")
    (stale / "images").mkdir(parents=True)
    (stale / "variants.csv").write_text("filepath,caption\nimages/x.png,a half-written row\n")
    variants.build(FIXTURE, data, again, 5, 32, workers=1, roles=ROLES)
    assert not stale.exists() and tree_hash(again) == tree_hash(built[0])
    with pytest.raises(icondata.RecipeError, match="already exists"):
        variants.build(FIXTURE, data, again, 5, 32, workers=1, roles=ROLES)


def test_missing_line_art_or_cache_is_one_line(data: Path, tmp_path: Path) -> None:
    (tmp_path / "icons").symlink_to(data / "icons")
    with pytest.raises(icondata.RecipeError, match="run the 'lineart' stage first"):
        variants.build(FIXTURE, tmp_path, tmp_path / "out", 5, 32, workers=1, roles=ROLES)
    done = run_recipe(
        "variants.py", "--cache", str(tmp_path / "none"), "--data", str(data), "--out", str(tmp_path / "out")
    )
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "fetch" in done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()
