"""Scene ⇄ SVG: valid, one path per stroke, round trip, real renderers read it."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from PIL import Image

from clipart.errors import ClipartError
from clipart.scene import Scene
from clipart.svg import scene_to_svg, svg_to_scene


def _scene(n: int = 20) -> Scene:
    s = Scene.random(n, generator=torch.Generator().manual_seed(7), width_px=3.0, background=(1.0, 0.5, 0.0))
    return s


def test_svg_is_valid_with_one_path_per_stroke() -> None:
    s = _scene()
    root = ET.fromstring(scene_to_svg(s, 224, title="a <cat> & dog"))
    paths = [e for e in root.iter() if e.tag.endswith("path")]
    assert len(paths) == s.num_strokes
    for e, k in zip(paths, s.segments.tolist(), strict=True):
        assert e.get("d").count("C") == k
        assert e.get("stroke").startswith("#")
    assert root.get("viewBox") == "0 0 224 224"


def test_round_trip_keeps_the_scene() -> None:
    s = _scene()
    back = svg_to_scene(scene_to_svg(s, 224))
    assert torch.equal(back.segments, s.segments)
    for i in range(s.num_strokes):
        k = 3 * int(s.segments[i]) + 1
        assert torch.allclose(back.points[i, :k], s.points[i, :k], atol=1e-5)
    assert torch.allclose(back.widths, s.widths, atol=1e-5)
    assert torch.allclose(back.colors[:, :3], s.colors[:, :3], atol=1 / 255)
    assert torch.allclose(back.colors[:, 3], s.colors[:, 3], atol=1e-3)
    assert back.background == pytest.approx(s.background, abs=1 / 255)


def test_cairosvg_renders_the_file() -> None:
    cairosvg = pytest.importorskip("cairosvg")
    png = cairosvg.svg2png(bytestring=scene_to_svg(_scene(), 64).encode())
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert img.shape == (64, 64, 3)
    assert (img != img[0, 0]).any(axis=-1).sum() > 20  # strokes drawn over the background


@pytest.mark.parametrize(
    "text, words",
    [
        ("not xml", "not a valid SVG"),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"></svg>', "no <path>"),
        ('<svg viewBox="0 0 10 10"><path d="M1 1 L2 2"/></svg>', "unsupported SVG path command 'L'"),
        ('<svg viewBox="0 0 10 10"><path d="M1 1"/></svg>', "cubic segments"),
    ],
)
def test_unsupported_svg_gives_a_clear_error(text: str, words: str) -> None:
    with pytest.raises(ClipartError, match=words):
        svg_to_scene(text)
