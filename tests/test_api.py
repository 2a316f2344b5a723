"""The drawing API (clipart/api.py): options typed from DrawConfig's fields, a notebook's display and progress bar."""

from __future__ import annotations

import dataclasses
import inspect
import pydoc
import typing
from inspect import Parameter

import pytest

import clipart
import clipart.api
from clipart.config import DrawConfig

SMALL = {"strokes": 6, "size": 32, "views": 1, "preset": "freehand", "device": "cpu", "steps": 3}


@pytest.mark.parametrize("function", [clipart.draw, clipart.steps])
def test_every_setting_shows_with_its_type_and_default(function: typing.Callable) -> None:
    params = inspect.signature(function).parameters
    hints = typing.get_type_hints(DrawConfig)
    filled = {"prompts", "prompt_weights", "images", "image_weights", "negative_weights", "models"}
    for f in dataclasses.fields(DrawConfig):
        if f.name in filled:
            assert f.name not in params, f.name
            continue
        p = params[f.name]
        assert p.kind is Parameter.KEYWORD_ONLY, f.name
        if f.name not in ("preset", "negatives"):  # make_config's own options of these names
            assert p.annotation == (hints[f.name] | None) and p.default is None, f.name
    assert list(params)[0] == "prompt" and params["preset"].default == clipart.DEFAULT_PRESET
    assert {"image", "model", "pretrained", "negative_weight", "limits", "config"} <= set(params)
    assert params["config"].annotation == (DrawConfig | None)
    assert ("progress" in params) == (function is clipart.draw)
    text = pydoc.render_doc(function)
    assert "strokes: int | None = None" in text and "crop_scale: tuple[float, float] | None = None" in text


def test_the_committed_stub_is_the_generated_one() -> None:
    """Static editors read clipart/api.pyi: every setting a typed keyword of draw and steps, as at run time."""
    from pathlib import Path

    committed = (Path(clipart.api.__file__).parent / "api.pyi").read_text(encoding="utf-8")
    assert committed == clipart.api.stub(), "run python -m clipart.api > clipart/api.pyi"
    for name, hint in typing.get_type_hints(DrawConfig).items():
        if name not in clipart.api._FILLED_BY_OPTIONS and name not in ("preset", "negatives"):
            line = f"\n    {name}: {clipart.api._hint(hint | None, set())} = None,\n"
            assert committed.count(line) == 2, name  # in draw and in steps
    assert "\n    progress: bool = False,\n) -> Drawing:" in committed
    assert "\n) -> Iterator[Progress]:" in committed and "from clipart.loop import Progress" in committed


def test_a_new_setting_shows_without_being_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclasses.dataclass
    class Wider(DrawConfig):
        sparkle: float = 0.5

    def draw(
        prompt: str | None = None, *, config: DrawConfig | None = None, **options: typing.Any
    ) -> None: ...

    monkeypatch.setattr(clipart.api, "DrawConfig", Wider)
    params = clipart.api.options_signature(draw).parameters
    assert params["sparkle"].annotation == (float | None) and params["sparkle"].default is None
    assert list(params)[0] == "prompt" and list(params)[-2:] == ["sparkle", "config"]


def test_options_reach_the_drawing_and_unknown_ones_are_refused(tiny_model: str) -> None:
    drawing = clipart.draw("a cat", model=tiny_model, seed=4, **{**SMALL, "strokes": 5})
    assert (drawing.config.strokes, drawing.config.seed, drawing.steps_done) == (5, 4, 3)
    with pytest.raises(clipart.ConfigError, match="^unknown setting 'stroke'$"):
        clipart.draw("a cat", stroke=5)
    with pytest.raises(clipart.ConfigError, match="^config= takes a DrawConfig, got dict$"):
        clipart.draw(config={"prompts": ["a cat"]})
    for call in (clipart.draw, clipart.steps):  # the type first, also beside a prompt (a preset's name there)
        with pytest.raises(clipart.ConfigError, match="^config= takes a DrawConfig, got str$"):
            call("x", config="quick")
    with pytest.raises(clipart.ConfigError, match="^give config= or a prompt and options, not both"):
        clipart.draw("x", config=DrawConfig(prompts=["a cat"], prompt_weights=[1.0]))


def test_a_notebook_shows_the_drawing_and_a_progress_bar(
    tiny_model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    drawing = clipart.draw("a cat", model=tiny_model, **SMALL)
    assert capsys.readouterr().err == ""  # no bar unless asked for
    assert drawing._repr_svg_() == drawing.svg() and drawing.svg().startswith("<svg")
    again = clipart.draw("a cat", model=tiny_model, progress=True, **SMALL)
    err = capsys.readouterr().err
    assert "drawing: 100%" in err and "3/3" in err and "loss=" in err
    assert again.svg() == drawing.svg()  # the bar changes nothing
