"""The line-art recipe (recipes/lineart.py) on the icon fixture: offline, seconds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

pytest.importorskip("resvg_py")
import icondata  # noqa: E402  (recipes/ is on sys.path through conftest)
import lineart  # noqa: E402
import numpy as np  # noqa: E402
from iconfixture import FIXTURE, ROLES, read_rows, run_recipe, tree_hash  # noqa: E402
from PIL import Image  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("lineart") / "lineart"
    return out, lineart.build(FIXTURE, out, seed=5, size=32, workers=1, roles=ROLES)


def test_only_colour_training_icons_are_traced_in_black_on_white(built: tuple[Path, dict]) -> None:
    out, counts = built
    icons, _ = icondata.select(FIXTURE, ROLES)
    colour = {(i.set, i.name): i for i in icons if i.split == "train" and not i.mono}
    assert counts["icons"] == len(colour) and counts["failed"] == 1  # the fixture's broken path
    rows = read_rows(out / "lineart.csv")
    traced = {}
    for row in rows:
        path = Path(row["filepath"])
        traced.setdefault((path.parts[1], path.stem.rsplit("-", 1)[0]), []).append(row)
    assert set(traced) == set(colour) - {("tcolour", "broken")}
    assert all(len(renders) == len(lineart.PENS) for renders in traced.values())
    assert counts["images"] == len(rows)
    for key, renders in traced.items():
        for row in renders:
            pixels = np.asarray(Image.open(out / row["filepath"]), dtype=np.int16)
            assert pixels.shape == (32, 32, 3)
            assert np.abs(pixels - pixels.mean(-1, keepdims=True)).max() <= 1  # grey only: no colour survives
            assert pixels.min() < 80 and np.median(pixels) > 200  # dark lines on a white ground
            assert any(name in row["caption"] for name in (colour[key].concept, *colour[key].names))


def test_a_filled_shape_becomes_its_outline(tmp_path: Path) -> None:
    disc = icondata.Icon(
        "t", "disc", "disc", (), False, "train", '<circle cx="8" cy="8" r="6" fill="#3060d0"/>', 16, 16
    )
    pixels = np.asarray(lineart.trace(disc, 64, random.Random(0), 5).convert("L"))
    ink = pixels < 128
    rows, cols = np.nonzero(ink)
    centre = pixels[(rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2]
    assert ink.any() and centre > 240  # the blue fill is gone, its border is drawn


def test_build_is_deterministic_for_a_seed(built: tuple[Path, dict], tmp_path: Path) -> None:
    again = tmp_path / "again"
    lineart.build(FIXTURE, again, seed=5, size=32, workers=1, roles=ROLES)
    assert tree_hash(again) == tree_hash(built[0])


def test_leftovers_are_rebuilt_and_an_existing_folder_is_refused(
    built: tuple[Path, dict], tmp_path: Path
) -> None:
    out = tmp_path / "lineart"
    stale = out.with_name("lineart.partial")
    (stale / "images").mkdir(parents=True)
    (stale / "lineart.csv").write_text("filepath,caption\nimages/x.png,a half-written row\n")
    lineart.build(FIXTURE, out, seed=5, size=32, workers=1, roles=ROLES)
    assert not stale.exists() and tree_hash(out) == tree_hash(built[0])
    with pytest.raises(icondata.RecipeError, match="already exists"):
        lineart.build(FIXTURE, out, seed=5, size=32, workers=1, roles=ROLES)


def test_missing_cache_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_recipe("lineart.py", "--cache", str(tmp_path / "none"), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "fetch" in done.stderr
    assert not (tmp_path / "o").exists()
