"""Presets and DrawConfig validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipart.config import CLIPDRAW_NEGATIVES, list_presets, load_preset, make_config
from clipart.errors import ConfigError


def test_shipped_presets_load_and_describe_themselves() -> None:
    presets = list_presets()
    assert {"clipdraw", "quick", "sketch", "painting"} <= set(presets)
    for name, description in presets.items():
        assert description, name
        make_config("a cat", preset=name)  # validates every value


def test_clipdraw_preset_has_the_paper_defaults() -> None:
    cfg = make_config("a cat", preset="clipdraw")
    assert (cfg.strokes, cfg.steps, cfg.size, cfg.views) == (256, 1000, 224, 4)
    assert [str(m) for m in cfg.models] == ["ViT-B-32::openai"]
    assert (cfg.lr_points, cfg.lr_widths, cfg.lr_colors) == (1.0, 0.1, 0.01)
    assert (cfg.min_width, cfg.max_width) == (1.0, 50.0)


def test_overrides_beat_the_preset_and_none_means_not_given() -> None:
    cfg = make_config("a cat", preset="quick", strokes=7, steps=None, seed=5)
    assert cfg.strokes == 7 and cfg.seed == 5
    assert cfg.steps == load_preset("quick")["steps"]


def test_prompt_and_negative_weights() -> None:
    cfg = make_config(["a horse::2", "a cupcake"], negatives=list(CLIPDRAW_NEGATIVES) + ["blurry::0.5"])
    assert cfg.prompts == ["a horse", "a cupcake"] and cfg.prompt_weights == [2.0, 1.0]
    assert cfg.negative_weights == [0.3, 0.3, 0.5]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"prompt": "   "}, "prompt is empty"),
        ({"strokes": 0}, "strokes"),
        ({"steps": -3}, "steps"),
        ({"size": 10**6}, "size"),
        ({"views": 1000}, "views"),
        ({"background": "blue-ish"}, "background"),
        ({"preset": "nope"}, "unknown preset"),
        ({"strokes": "many"}, "wrong type"),
        ({"device": "tpu"}, "device"),
        ({"color_jitter": 1.5}, "color_jitter must be in"),
    ],
)
def test_bad_settings_raise_one_clear_line(kwargs: dict, words: str) -> None:
    prompt = kwargs.pop("prompt", "a cat")
    with pytest.raises(ConfigError, match=words) as info:
        make_config(prompt, **kwargs)
    assert "\n" not in str(info.value)


def test_preset_file_with_unknown_key_or_wrong_type(tmp_path: Path) -> None:
    bad_key = tmp_path / "bad_key.toml"
    bad_key.write_text('description = "x"\nstrokez = 3\n')
    with pytest.raises(ConfigError, match="unknown setting.*strokez"):
        load_preset(str(bad_key))
    bad_type = tmp_path / "bad_type.toml"
    bad_type.write_text('steps = "ten"\n')
    with pytest.raises(ConfigError, match="steps has the wrong type"):
        load_preset(str(bad_type))
    broken = tmp_path / "broken.toml"
    broken.write_text("steps = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_preset(str(broken))
    good = tmp_path / "mine.toml"
    good.write_text("strokes = 12\ncrop_scale = [0.5, 0.8]\n")
    cfg = make_config("x", preset=str(good))
    assert cfg.strokes == 12 and cfg.crop_scale == (0.5, 0.8)


@pytest.mark.parametrize(
    ("preset_weights", "given", "expected"),
    [
        ([1.5, 0.2], None, [1.5, 0.2]),
        ([1.5, 0.2], 0.7, [0.7, 0.7]),
        (None, None, [0.3, 0.3]),
        (None, 0.9, [0.9, 0.9]),
    ],
)
def test_a_presets_negative_weights_are_kept_unless_a_weight_is_given(
    tmp_path: Path, preset_weights: list[float] | None, given: float | None, expected: list[float]
) -> None:
    lines = ['negatives = ["blurry", "messy"]']
    if preset_weights is not None:
        lines.append(f"negative_weights = {preset_weights}")
    preset = tmp_path / "mine.toml"
    preset.write_text("\n".join(lines) + "\n")
    cfg = make_config("a cat", preset=str(preset), negative_weight=given)
    assert cfg.negatives == ["blurry", "messy"] and cfg.negative_weights == expected
