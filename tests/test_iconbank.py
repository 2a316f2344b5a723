"""The icon-bank recipe (recipes/iconbank.py) on the icon fixture: offline, seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("svgelements")
import iconbank  # noqa: E402  (recipes/ is on sys.path through conftest)
from iconfixture import FIXTURE  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

from clipart.start import IconBank  # noqa: E402

SETS = {"tcolour": "pictorial", "tline": "line", "tmono": "pictorial"}


def test_shapes_become_cubic_strokes_in_the_unit_square() -> None:
    circle = iconbank.icon_strokes('<circle cx="8" cy="8" r="6" fill="#e0a020"/>', 16, 16)
    # the outline's arcs as cubics, cut into pieces of at most three segments that join up into a closed loop
    assert len(circle) >= 2
    assert circle[0][0][0] == pytest.approx(circle[-1][0][-1])
    assert all(a[0][-1] == pytest.approx(b[0][0]) for a, b in zip(circle, circle[1:], strict=False))
    for pts, width, rgba in circle:
        assert len(pts) in (4, 7, 10)
        assert all(0.1 < x < 0.9 and 0.1 < y < 0.9 for x, y in pts)
        assert width == pytest.approx(iconbank.THIN)
        assert rgba == pytest.approx((0xE0 / 255, 0xA0 / 255, 0x20 / 255, 1.0))
    # a stroked line icon keeps its stroke width and takes currentColor as black; wide icons are centred
    line = iconbank.icon_strokes(
        '<path d="M0 4h32" stroke="currentColor" stroke-width="2" fill="none"/>', 32, 8
    )
    assert len(line) == 1
    pts, width, rgba = line[0]
    assert pts[0] == pytest.approx((0.0, 0.5)) and pts[-1] == pytest.approx((1.0, 0.5))
    assert width == pytest.approx(2 / 32) and rgba == (0.0, 0.0, 0.0, 1.0)
    # white shapes only show over other shapes: left out
    assert iconbank.icon_strokes('<rect width="16" height="16" fill="#fff"/>', 16, 16) == []


def test_build_writes_a_bank_the_package_reads(tmp_path: Path) -> None:
    out = tmp_path / "bank"
    summary = iconbank.build(FIXTURE, out, quiet=True, sets=SETS)
    assert sorted(p.name for p in out.iterdir()) == ["ATTRIBUTION.md", "bank.json", "bank.safetensors"]
    assert not (tmp_path / "bank.partial").exists()
    meta = json.loads((out / "bank.json").read_text())
    # one icon a set and concept, the preferred set first; UI names, skin tones and flags never get in
    assert summary["icons"] == len(meta["icons"]) and summary["empty"] >= 1  # the all-white ghost
    assert meta["icons"][meta["concepts"].index("cat") :][:3] == ["tcolour:cat", "tline:cat", "tmono:cat"]
    assert not any("tone" in n or "flag" in n or "arrow" in n for n in meta["icons"])
    assert sum(n.startswith("tcolour:cupcake") for n in meta["icons"]) == 1
    assert meta["sets"]["tmono"]["licence"] == "CC-BY-4.0"
    assert "tmono" in (out / "ATTRIBUTION.md").read_text()
    t = load_file(str(out / "bank.safetensors"))
    assert t["first"][-1] == t["points"].shape[0] == summary["strokes"]
    assert t["concept"].shape[0] == summary["icons"]
    bank = IconBank(out)
    cat = bank.concepts.index("cat")
    icons = bank.icons_of(cat)
    assert [bank.icons[i] for i in icons] == ["tcolour:cat", "tline:cat", "tmono:cat"]
    scene = bank.scene([(icons[1], 0.5, 0.5, 0.8)], (1.0, 1.0, 1.0))
    assert scene.num_strokes >= 1 and bool((scene.colors[:, :3] == 0).all())
    assert "(ISC)" in bank.credit(["tline:cat"])


def test_a_rebuild_replaces_the_bank_whole(tmp_path: Path) -> None:
    out = tmp_path / "bank"
    iconbank.build(FIXTURE, out, quiet=True, sets=SETS)
    first = (out / "bank.safetensors").read_bytes()
    iconbank.build(FIXTURE, out, quiet=True, sets={"tline": "pictorial"})
    assert (out / "bank.safetensors").read_bytes() != first
    assert all(n.startswith("tline:") for n in json.loads((out / "bank.json").read_text())["icons"])
