"""``--init`` files that are not clean SVG: each either loads what can be read of it (with one warning for what was
skipped) or fails in one line, whatever the bytes."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from clipart.errors import ClipartError
from clipart.scene import Scene
from clipart.svg import read_svg_file, scene_to_svg, svg_to_scene

FAST = ["--strokes", "8", "--steps", "3", "--size", "64", "--views", "2", "--device", "cpu", "-q"]


def _good_svg() -> str:
    return scene_to_svg(Scene.random(6, generator=torch.Generator().manual_seed(0), canvas_px=64), 64)


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def _path(attrs: str, d: str = "M 1 1 C 2 2 3 3 4 4") -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path d="{d}" {attrs}/></svg>'


GOOD = _good_svg()
# (file content, words of the one-line error)
UNREADABLE: list[tuple[bytes, str]] = [
    (_png_bytes(), "is a PNG image"),
    (bytes(range(256)) * 4, "not UTF-8"),
    (GOOD.encode("utf-16"), "not UTF-8"),
    ("<svg>café</svg>".encode("latin-1"), "not UTF-8"),
    (b"", "not a valid SVG"),
    (GOOD[: len(GOOD) // 2].encode(), "not a valid SVG"),
    (GOOD.replace('viewBox="0 0 64 64"', 'viewBox="0 0 64"').encode(), "viewBox must be four numbers"),
    (GOOD.replace('viewBox="0 0 64 64"', 'viewBox="0 0 a b"').encode(), "viewBox value must be a number"),
    (GOOD.replace('viewBox="0 0 64 64"', 'viewBox="0 0 -64 64"').encode(), "positive width"),
    (GOOD.replace('viewBox="0 0 64 64"', 'viewBox="0 0 1e999 64"').encode(), "must be a number"),
    (GOOD.replace('viewBox="0 0 64 64"', "").replace('width="64"', 'width="10cm"').encode(), "width"),
    (b'<html><path d="M1 1 C 2 2 3 3 4 4"/></html>', "root element is <html>"),
    (_path('stroke-width="wide"').encode(), "stroke-width must be a number"),
    (_path('stroke-opacity="half"').encode(), "stroke-opacity must be a number"),
    (_path('stroke-width="-2"').encode(), "stroke-width must be positive"),
    (_path('stroke="none"').encode(), "an SVG stroke must be a colour"),
    (_path("", d="M 1 1 C 2 2 3 3").encode(), "malformed SVG path data"),
    (_path("", d="M 1 1 C 2 2 3 3 4 1e999").encode(), "out of range"),
    (_path("", d="C 2 2 3 3 4 4").encode(), "must start with M"),
    (_path("", d="M 1 1 L 2 2").encode(), "command 'L'"),
]


@pytest.mark.parametrize(("data", "words"), UNREADABLE, ids=[w for _, w in UNREADABLE])
def test_unreadable_files_fail_in_one_line(data: bytes, words: str, tmp_path: Path) -> None:
    path = tmp_path / "in.svg"
    path.write_bytes(data)
    with pytest.raises(ClipartError, match=words) as caught:
        read_svg_file(path)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300


def test_what_can_be_read_loads_with_one_warning(tmp_path: Path) -> None:
    lines = GOOD.splitlines()
    paths = [i for i, line in enumerate(lines) if "<path" in line]
    lines[paths[1]] = lines[paths[1]].replace('stroke-width="', 'stroke-width="x')
    lines[paths[3]] = lines[paths[3]].replace(" C", " L", 1)
    path = tmp_path / "in.svg"
    path.write_text("\n".join(lines), encoding="utf-8")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        scene = read_svg_file(path)
    assert len(scene.widths) == len(paths) - 2
    assert [str(w.message) for w in seen if "skipped 2 unreadable" in str(w.message)], [
        str(w.message) for w in seen
    ]


def test_a_utf8_bom_and_a_shifted_viewbox_are_read(tmp_path: Path) -> None:
    text = _path('stroke-width="2"', d="M 11 11 C 12 12 13 13 14 14").replace("0 0 10 10", "10,10,10,10")
    path = tmp_path / "in.svg"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    scene = read_svg_file(path)
    assert torch.allclose(scene.points[0, 0], torch.tensor([0.1, 0.1]))
    assert torch.allclose(scene.widths, torch.tensor([0.2]))


def _mutations() -> st.SearchStrategy[bytes]:
    data = GOOD.encode()
    cut = st.integers(0, len(data)).map(lambda n: data[:n])
    flip = st.tuples(st.integers(0, len(data) - 1), st.binary(min_size=1, max_size=8)).map(
        lambda t: data[: t[0]] + t[1] + data[t[0] + len(t[1]) :]
    )
    swap = st.tuples(
        st.sampled_from(['stroke-width="', 'stroke-opacity="', 'stroke="', ' d="', 'viewBox="', 'fill="']),
        st.text(max_size=12),
    ).map(lambda t: GOOD.replace(t[0], t[0] + t[1]).encode("utf-8", "surrogatepass"))
    return st.one_of(cut, flip, swap, st.binary(max_size=200))


@settings(max_examples=300, deadline=None)
@given(data=_mutations())
def test_any_bytes_load_finite_strokes_or_fail_cleanly(
    data: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("mut") / "in.svg"
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scene = read_svg_file(path)
        except ClipartError as exc:
            assert "\n" not in str(exc)
            return
    for tensor in (scene.points, scene.widths, scene.colors):
        assert bool(torch.isfinite(tensor).all())
    assert bool((scene.widths > 0).all()) and bool(((scene.colors >= 0) & (scene.colors <= 1)).all())


def _draw(tmp_path: Path, init: Path, model: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "clipart", "draw", "a cat", "--model", model, "--init", str(init), *FAST]
    return subprocess.run(argv + ["--out", "out/"], cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case", [0, 2, 6, 12], ids=lambda i: UNREADABLE[i][1])
def test_draw_refuses_a_bad_init_in_one_line_and_writes_nothing(
    case: int, tiny_model: str, tmp_path: Path
) -> None:
    init = tmp_path / "in.svg"
    init.write_bytes(UNREADABLE[case][0])
    proc = _draw(tmp_path, init, tiny_model)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("clipart: error:"), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.svg"]


def test_draw_continues_from_what_it_could_read(tiny_model: str, tmp_path: Path) -> None:
    init = tmp_path / "in.svg"
    init.write_text(GOOD.replace('stroke-width="', 'stroke-width="x', 1), encoding="utf-8")
    proc = _draw(tmp_path, init, tiny_model)
    assert proc.returncode == 0, proc.stderr
    assert "clipart: warning: skipped 1 unreadable part(s) of the SVG" in proc.stderr, proc.stderr
    (svg,) = (tmp_path / "out").glob("*.svg")
    assert 1 <= len(svg_to_scene(svg.read_text(encoding="utf-8")).widths) <= 5


def test_a_refused_draw_does_not_warn_of_its_partly_readable_init(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """The init SVG is read quietly when checked, and with its warning only once the models have loaded."""
    import shutil

    broken = shutil.copytree(tiny_model_dir, tmp_path / "broken")
    (broken / "open_clip_model.safetensors").write_bytes(b"not weights")
    init = tmp_path / "in.svg"
    init.write_text(GOOD.replace('stroke-width="', 'stroke-width="x', 1), encoding="utf-8")
    proc = _draw(tmp_path, init, f"local-dir:{broken}")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("clipart: error: could not load model"), proc.stderr
