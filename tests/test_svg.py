"""Scene ⇄ SVG: valid, one path per stroke, round trip, real renderers read it."""

from __future__ import annotations

import io
import warnings
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


def test_transparent_scene_has_no_background_rect_and_reads_back_transparent() -> None:
    s = _scene()
    s.background = None
    text = scene_to_svg(s, 224)
    root = ET.fromstring(text)
    assert not [e for e in root.iter() if e.tag.endswith("rect")]
    assert svg_to_scene(text).background is None
    path = '<path d="M1 1 C2 2 3 3 4 4"/>'
    for rect, background in [('<rect fill="none"/>', None), ('<rect fill="Transparent"/>', None),
                             ('<rect fill="#000"/>', (0.0, 0.0, 0.0)), ('<rect fill="url(#g)"/>', (1.0, 1.0, 1.0))]:  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the unreadable fill is skipped with a warning, as white
            read = svg_to_scene(f'<svg viewBox="0 0 10 10">{rect}{path}</svg>')
        assert read.background == background, rect


def test_cairosvg_shows_a_transparent_svg_as_the_png_does() -> None:
    cairosvg = pytest.importorskip("cairosvg")
    from clipart.drawing import to_image
    from clipart.render import render

    s = _scene(8)
    s.background = None
    theirs = np.asarray(Image.open(io.BytesIO(cairosvg.svg2png(bytestring=scene_to_svg(s, 224).encode()))))
    ours = np.asarray(to_image(render(s, 224, alpha=True)))
    assert theirs.shape == ours.shape == (224, 224, 4)
    assert (theirs[..., 3] == 0).mean() > 0.3 and (ours[..., 3] == 0).mean() > 0.3  # mostly see-through
    diff = np.abs(theirs.astype(float) - ours.astype(float)) / 255
    assert diff[..., 3].mean() < 0.002  # the same coverage
    both = (theirs[..., 3] > 128) & (ours[..., 3] > 128)
    assert diff[both][:, :3].mean() < 0.01  # the same colours where both are mostly opaque


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
