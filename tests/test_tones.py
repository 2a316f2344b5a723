"""The tone-variants recipe (recipes/tones.py) on the icon fixture: offline, seconds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

pytest.importorskip("resvg_py")
import icondata  # noqa: E402  (recipes/ is on sys.path through conftest)
import numpy as np  # noqa: E402
import tones  # noqa: E402
from iconfixture import FIXTURE, ROLES, read_rows, run_recipe, tree_hash  # noqa: E402
from PIL import Image  # noqa: E402

GRADIENT_DISC = icondata.Icon(
    "t", "disc", "disc", (), False, "train",
    '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#f0c020"/>'
    '<stop offset="1" stop-color="#d02060"/></linearGradient></defs><circle cx="8" cy="8" r="7" fill="url(#g)"/>',
    16, 16,
)  # fmt: skip


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def _share_of_six_commonest(image: Image.Image) -> float:
    """How much of the image's inner half its six commonest colours cover."""
    pixels = np.asarray(image.convert("RGB"))
    side = pixels.shape[0]
    inner = pixels[side // 4 : 3 * side // 4, side // 4 : 3 * side // 4].reshape(-1, 3)
    _, counts = np.unique(inner, axis=0, return_counts=True)
    return np.sort(counts)[::-1][:6].sum() / len(inner)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("tones") / "tones"
    return out, tones.build(FIXTURE, out, 5, 32, workers=1, roles=ROLES)


def test_every_colour_icon_gets_a_flat_render_and_a_grey_one_unless_named_by_its_colour(
    built: tuple[Path, dict],
) -> None:
    out, counts = built
    icons, _ = icondata.select(FIXTURE, ROLES)
    colour = {(i.set, i.name): i for i in icons if i.split == "train" and not i.mono}
    rows = {r["filepath"]: r["caption"] for r in read_rows(out / "tones.csv")}
    assert counts["images"] == len(rows) and counts["failed"] == 1  # the fixture's broken path
    assert counts["blank"] == 1  # the white ghost on white
    kinds: dict[str, set[tuple[str, str]]] = {}
    for rel, text in rows.items():
        kind, icon_set, name = Path(rel).parts[1], Path(rel).parts[2], Path(rel).stem
        kinds.setdefault(kind, set()).add((icon_set, name))
        icon = colour[(icon_set, name)]
        assert any(n in text for n in (icon.concept, *icon.names))
        pixels = _pixels(out / rel)
        grey = np.abs(pixels - pixels.mean(-1, keepdims=True)).max() <= 1
        assert grey == (kind == "grey") and pixels.min() < 200 and pixels[0, 0].min() > 240
    whole = set(colour) - {("tcolour", "broken"), ("tcolour", "white-ghost")}
    assert kinds == {"flat": whole, "grey": whole - {("tcolour", "red-apple")}}


def test_a_gradient_becomes_a_few_flat_colours_and_grey_keeps_the_shape() -> None:
    size = 64
    shaded = icondata.render_icon(GRADIENT_DISC, (0, 0, 0), size, random.Random(0))
    flat = tones.flat(GRADIENT_DISC, size, random.Random(0))
    assert _share_of_six_commonest(shaded) < 0.3 < 0.7 < _share_of_six_commonest(flat)
    grey = np.asarray(tones.grey(GRADIENT_DISC, size, random.Random(0)).convert("RGB"), dtype=np.int16)
    inked, shaded_inked = grey.min(-1) < 230, np.asarray(shaded).min(-1) < 230
    assert abs(inked.mean() - shaded_inked.mean()) < 0.02  # the same disc, mirrored or not
    assert np.abs(grey - grey.mean(-1, keepdims=True)).max() <= 1


def test_build_is_deterministic_and_leftovers_start_cleanly(built: tuple[Path, dict], tmp_path: Path) -> None:
    again = tmp_path / "tones"
    stale = again.with_name("tones.partial")
    (stale / "images").mkdir(parents=True)
    (stale / "tones.csv").write_text("filepath,caption\nimages/x.png,a half-written row\n")
    tones.build(FIXTURE, again, 5, 32, workers=1, roles=ROLES)
    assert not stale.exists() and tree_hash(again) == tree_hash(built[0])
    with pytest.raises(icondata.RecipeError, match="already exists"):
        tones.build(FIXTURE, again, 5, 32, workers=1, roles=ROLES)


def test_a_missing_cache_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_recipe("tones.py", "--cache", str(tmp_path / "none"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "fetch" in done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()
