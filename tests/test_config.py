"""Presets and DrawConfig validation."""

from __future__ import annotations

import math
import re
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
        (
            {"background": "blue-ish"},
            r"background must be a colour .*, or none \(transparent\), got 'blue-ish'",
        ),
        ({"background": "non"}, "or none"),
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


@pytest.mark.parametrize("given", ["none", "None", " TRANSPARENT "])
def test_background_none_in_any_case_is_kept_as_none(given: str, tmp_path: Path) -> None:
    assert make_config("a cat", background=given).background == "none"
    preset = tmp_path / "clear.toml"
    preset.write_text(f'description = "x"\nbackground = "{given}"\n')
    assert make_config("a cat", preset=str(preset)).background == "none"
    assert make_config("a cat", background="#FFF").background == "#FFF"  # a colour is kept as given


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


BAD_PRESETS = [
    ("negatives = [1, 2]", "negatives has the wrong type: it takes a list of texts, got list [1, 2]"),
    ('negatives = [["a"], "b"]', "negatives has the wrong type: it takes a list of texts"),
    (
        'negatives = ["a"]\nnegative_weights = ["x"]',
        "negative_weights has the wrong type: it takes a list of numbers",
    ),
    ('negatives = ["a"]\nnegative_weights = [true]', "negative_weights has the wrong type"),
    ("models = [1]", "models has the wrong type: it takes a list of model specs or texts"),
    ('models = "clipart-mini"', "models has the wrong type"),
    ('models = [["clipart-mini"]]', "models has the wrong type"),
    ('crop_scale = [0.5, "x"]', "crop_scale has the wrong type: it takes a list of 2 numbers"),
    ("crop_scale = [0.5, 0.6, 0.7]", "crop_scale has the wrong type"),
    ("crop_scale = [true, 0.9]", "crop_scale has the wrong type"),
    ("animate = 1", "animate has the wrong type: it takes true or false, got int 1"),
    ("background = 1979-05-27", "background has the wrong type: it takes a text, got date"),
    ("strokes = inf", "strokes has the wrong type: it takes a whole number, got float inf"),
    ("strokes = 1e300", "strokes has the wrong type"),
    ('start = ["icon"]', "start has the wrong type: it takes a text"),
    ("views = {a = 1}", "views has the wrong type"),
    ("lr_points = " + "9" * 400, "lr_points has the wrong type: it takes a number"),
    ("negatives = " + "[" * 5000 + "]" * 5000, "nests lists or tables too deeply"),
    ("negatives = " + "{a=" * 3000 + "1" + "}" * 3000, "nests lists or tables too deeply"),
    ("[" + ".".join(["negatives"] + ["a"] * 20000) + "]", "negatives has the wrong type"),
    ("[" + ".".join(["x" * 100] * 3) + "]", "unknown setting(s) xxxxxxxx"),
    ("\n".join(f"k{i} = 1" for i in range(9)), "unknown setting(s) k0, k1, k2, k3, k4 and 4 more"),
]


@pytest.mark.parametrize(("text", "words"), BAD_PRESETS, ids=[str(i) for i in range(len(BAD_PRESETS))])
def test_preset_content_of_any_wrong_type_or_depth_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as info:
        make_config("a cat", preset=str(path))
    message = str(info.value)
    assert words in message and message.startswith("preset bad.toml") and "\n" not in message, message
    assert len(message) < 300, message


def test_a_preset_file_too_large_or_unreadable_is_one_line(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text("# x\n" * 300_000)
    with pytest.raises(ConfigError, match="preset big.toml is too large"):
        load_preset(str(big))
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="preset file not found"):
        load_preset(str(folder))
    for bad in (5, None, ""):
        with pytest.raises(ConfigError, match="a preset is a name or a .toml file"):
            load_preset(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="a preset is a name or a .toml file, got ''"):
        make_config("a cat", preset="")  # an empty name is not "no preset" (that is None)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"negatives": [1]}, "negatives has the wrong type: it takes a list of texts"),
        ({"negatives": "blurry"}, None),  # one text is one negative prompt
        ({"negatives": 3}, "negatives has the wrong type"),
        ({"prompt": 5}, "prompt has the wrong type"),
        ({"prompt": [["a cat"]]}, "prompts has the wrong type"),
        ({"image": 5}, "image has the wrong type"),
        ({"negative_weight": "x"}, "negative_weight has the wrong type: it takes a number"),
        ({"model": 5}, "a model spec is a text, got int"),
        ({"model": "clipart-mini", "pretrained": 5}, "pretrained weights are a tag or a file's path"),
        ({"crop_scale": [0.5, 0.9]}, None),  # a list for a pair is taken as the pair
        ({"strokes": 12.0}, None),
    ],
)
def test_the_api_checks_the_types_of_what_it_is_given(kwargs: dict, words: str | None) -> None:
    from clipart.errors import ClipartError

    kwargs = {"prompt": "a cat", **kwargs}
    if words is None:
        make_config(kwargs.pop("prompt"), **kwargs)
        return
    with pytest.raises(ClipartError, match=words) as info:
        make_config(kwargs.pop("prompt"), **kwargs)
    assert "\n" not in str(info.value)


def test_a_config_built_by_hand_is_type_checked_by_validate() -> None:
    from clipart.config import DrawConfig

    for field, value, words in (
        ("negatives", [1], "negatives has the wrong type"),
        ("prompts", [None], "prompts has the wrong type"),
        ("crop_scale", (0.5,), "crop_scale has the wrong type"),
        ("seed", "0", "seed has the wrong type"),
    ):
        cfg = DrawConfig(prompts=["a cat"], prompt_weights=[1.0])
        setattr(cfg, field, value)
        with pytest.raises(ConfigError, match=words):
            cfg.validate()
    cfg = DrawConfig(prompts=["a cat"], prompt_weights=[1], crop_scale=[0.5, 0.9]).validate()  # type: ignore[arg-type]
    assert cfg.crop_scale == (0.5, 0.9) and cfg.prompt_weights == [1.0]


def test_the_docs_settings_table_is_the_declarations() -> None:
    from clipart.config import settings_table

    text = (Path(__file__).resolve().parents[1] / "docs" / "reference.md").read_text(encoding="utf-8")
    shown = text.split("<!-- the settings table: python -m clipart.config -->\n")[1].split("\n<!-- end")[0]
    assert shown == settings_table(), (
        "run python -m clipart.config and paste its table into docs/reference.md"
    )


def test_rates_are_those_of_the_start() -> None:
    from clipart.config import DrawConfig

    cfg = DrawConfig(lr_points=1.5, lr_widths=0.5, lr_colors=0.25, icon_lr_points=0.2, icon_lr_widths=0.1)
    assert cfg.rates(from_icon=False) == {"points": 1.5, "widths": 0.5, "colors": 0.25}
    assert cfg.rates(from_icon=True) == {"points": 0.2, "widths": 0.1, "colors": 0.0}


def test_a_setting_is_added_by_its_declaration_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Two new fields, declared and nothing else: validation, the CLI's flag, --set, the help and the web page's
    controls all take them up (the faces read clipart.DrawConfig, make_config builds clipart.config.DrawConfig)."""
    import dataclasses

    import clipart
    import clipart.config
    from clipart.cli import build_parser, main
    from clipart.cli.draw import _settings
    from clipart.config import DrawConfig, setting

    glow = setting(0.25, "how much the strokes glow", low=0.0, high=1.0, page="Glow")
    halo = setting(2, "the halo's width", unit="px", low=0, high=8, flag=None)
    wider = dataclasses.make_dataclass(
        "Wider", [("glow", float, glow), ("halo", int, halo)], bases=(DrawConfig,)
    )
    monkeypatch.setattr(clipart, "DrawConfig", wider)  # first: the lazy front reads clipart.config's
    monkeypatch.setattr(clipart.config, "DrawConfig", wider)

    assert make_config("a cat").glow == 0.25
    for value, words in (
        (2.0, "glow must be in [0, 1], got 2.0"),
        (math.nan, "glow must be a finite number"),
    ):
        with pytest.raises(ConfigError, match=re.escape(words)):
            make_config("a cat", glow=value)
    with pytest.raises(ConfigError, match=re.escape("halo must be a whole number from 0 to 8, got 9")):
        make_config("a cat", halo=9)

    args = build_parser().parse_args(["draw", "a cat", "--glow", "0.5", "--set", "halo=3"])
    cfg = make_config(list(args.prompt), **_settings(args))
    assert (cfg.glow, cfg.halo) == (0.5, 3)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["draw", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--glow GLOW how much the strokes glow; in [0, 1] (default: the preset's, else 0.25)" in help_text
    assert (
        "halo the halo's width, px; a whole number from 0 to 8 (default: the preset's, else 2)" in help_text
    )
    monkeypatch.chdir(tmp_path)
    assert main(["draw", "a cat", "--set", "halo=11"]) == 2
    assert capsys.readouterr().err == "clipart: error: halo must be a whole number from 0 to 8, got 11\n"
    assert not list(tmp_path.iterdir())

    pytest.importorskip("gradio")
    from clipart.app import build_app
    from clipart.app.handlers import Handlers, page_settings, preset_values

    assert list(page_settings()) == ["strokes", "steps", "size", "views", "glow"]
    assert preset_values("quick", [])["glow"] == 0.25
    demo = build_app([("clipart-mini", "the embedded model")], out_dir=tmp_path / "app")
    parameters = demo.get_api_info()["named_endpoints"]["/draw"]["parameters"]
    glow_param = next(p for p in parameters if p["parameter_name"] == "glow")
    assert glow_param["parameter_default"] == 0.25 and "halo" not in [p["parameter_name"] for p in parameters]
    handlers = Handlers(["clipart-mini"], "cpu", tmp_path / "app", max_seconds=None)
    monkeypatch.setattr(clipart, "steps", lambda *args, **settings: settings)
    page = dict(prompt="a cat", negatives="", negative_weight=0.3, preset="quick", model="clipart-mini", strokes=16,
                steps=50, size=64, views=2, glow=0.75, seed=3, random_seed=False, gif=False)  # fmt: skip
    assert handlers._events(page, 0)["glow"] == 0.75


def test_the_items_of_a_capped_list_keep_their_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list's cap counts its items; each item is still checked against the range, the choices, finiteness."""
    import dataclasses

    import clipart.config
    from clipart.config import DrawConfig, setting

    levels = setting(factory=list, help="levels", low=0.0, high=1.0, cap="negatives", in_presets=False)
    inks = setting(factory=list, help="inks", choices=("black", "red"), cap="negatives", in_presets=False)
    wider = dataclasses.make_dataclass(
        "Wider", [("levels", list[float], levels), ("inks", list[str], inks)], bases=(DrawConfig,)
    )
    monkeypatch.setattr(clipart.config, "DrawConfig", wider)

    cfg = make_config("a cat", levels=[0.0, 0.5, 1.0], inks=["red", "black"])
    assert (cfg.levels, cfg.inks) == ([0.0, 0.5, 1.0], ["red", "black"])
    for options, words in (
        ({"levels": [0.5, 2.0]}, "levels must be in [0, 1], got 2.0"),
        ({"levels": [0.5, -1.0]}, "levels must be in [0, 1], got -1.0"),
        ({"levels": [math.inf]}, "levels must be a finite number, got inf"),
        ({"levels": [0.5] * 65}, "give at most 64 levels"),
        ({"inks": ["red", "blue"]}, "inks must be black or red, got 'blue'"),
        ({"inks": ["red"] * 65}, "give at most 64 inks"),
    ):
        with pytest.raises(ConfigError, match=f"^{re.escape(words)}$"):
            make_config("a cat", **options)
