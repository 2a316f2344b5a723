"""Classes of bad input, each with generated cases: non-finite or huge numbers, text that would break the
outputs, values that used to be checked only after the drawing, and errors that used to leave a folder behind."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math
import os
import subprocess
import sys
import typing
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clipart import cli
from clipart.config import DrawConfig, make_config
from clipart.errors import ConfigError
from clipart.svg import scene_to_svg, xml_text

NON_FINITE = ["nan", "inf", "-inf", "1e308", "-1e309"]
FLOAT_FLAGS = ["--lr-points", "--lr-widths", "--lr-colors", "--negative-weight"]


def _float_settings() -> tuple[str, ...]:
    """The settings that hold numbers with a fraction (a float, or a list or pair of them): each must be finite."""
    hints = DrawConfig.hints()
    return tuple(name for name, hint in hints.items() if float in (hint, *typing.get_args(hint)))


def _cli(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``clipart`` in this process (fast) in ``cwd``; return the exit code and stderr."""
    err = io.StringIO()
    here = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse usage errors
                code = int(exc.code or 0)
    finally:
        os.chdir(here)
    return code, err.getvalue()


def _refused(code: int, stderr: str, cwd: Path) -> None:
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clipart: error:") and "Traceback" not in stderr, stderr
    assert not list(cwd.iterdir()), list(cwd.iterdir())  # nothing written, not even an empty clipart-out/


CASES = (
    [["draw", f"a cat::{v}"] for v in NON_FINITE]
    + [["draw", "a cat", "--negative", f"a dog::{v}"] for v in NON_FINITE]
    + [
        ["draw", "a cat", f"{flag}={v}", "--negative", "x"]
        for flag, v in itertools.product(FLOAT_FLAGS, NON_FINITE[:3])
    ]
    + [["draw", "a cat", f"--seed={s}"] for s in (str(2**64), str(2**63), "-1")]
    + [["draw", "a cat", "--device", d] for d in ("cuda:abc", "gpu", "cuda:", "cpu0")]
    + [["draw", "a cat", "--png-size", s] for s in ("1000000", "8193")]
    + [["draw", "a cat", "--threads", s] for s in ("-1", "1025")]
    + [["draw", "a cat", "--pretrained", "openai"], ["draw", "a cat::1e3"]]
    + [["draw", "a cat", "--model", "NoSuchNet"], ["draw", "a cat", "--init", "missing.svg"]]
)


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(c[1:]) for c in CASES])
def test_bad_values_are_refused_before_anything_is_written(argv: list[str], tmp_path: Path) -> None:
    _refused(*_cli(argv + ["--out", "sub/"], tmp_path), tmp_path)  # sub/ must not be created


@pytest.mark.parametrize("argv", [CASES[0], CASES[-1], CASES[-2]], ids=["weight", "init", "model"])
def test_errors_leave_no_default_output_folder(argv: list[str], tmp_path: Path) -> None:
    _refused(*_cli(argv, tmp_path), tmp_path)  # ./clipart-out/ must not be created


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(_float_settings()),
    value=st.sampled_from([math.nan, math.inf, -math.inf]),
)
def test_no_float_setting_takes_a_non_finite_value(name: str, value: float) -> None:
    options: dict = {}
    if name == "prompt_weights":
        prompt = [f"a cat::{value}"]
    else:
        prompt = ["a cat"]
        if name == "negative_weights":
            options = {"negatives": ["a dog"], "negative_weight": value}
        elif name == "crop_scale":
            options = {"crop_scale": (0.5, value)}
        elif name == "image_weights":
            options = {"image": [f"picture.png::{value}"]}  # the weight is checked before the file
        else:
            options = {name: value}
    with pytest.raises(ConfigError, match="finite|must"):
        make_config(prompt, **options)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_prompt_gives_a_well_formed_svg_title(text: str) -> None:
    import torch

    from clipart.scene import Scene

    scene = Scene.random(2, generator=torch.Generator().manual_seed(0))
    root = ET.fromstring(scene_to_svg(scene, 32, title=text))  # raises on an ill-formed SVG
    title = root.find("{http://www.w3.org/2000/svg}title")
    expected = xml_text(text).replace("\r\n", "\n").replace("\r", "\n")  # XML normalises line ends
    assert (title is None) if not expected else (title is not None and title.text == expected)


@pytest.mark.parametrize("prompt", ["red \x1b[31mcircle", "bell\x07", "nul\x00byte", "tab\tand\nnewline"])
def test_control_characters_never_reach_the_svg(prompt: str) -> None:
    import torch

    from clipart.scene import Scene

    scene = Scene.random(2, generator=torch.Generator().manual_seed(0))
    svg = scene_to_svg(scene, 32, title=prompt)
    ET.fromstring(svg)  # well-formed
    assert not any(ch in svg for ch in "\x1b\x07\x00")


@pytest.mark.parametrize("raw", [b"caf\xe9", b"\xff\xfe", b"ok \x80 bad"])
def test_undecodable_prompt_bytes_fail_before_drawing(raw: bytes, tmp_path: Path) -> None:
    """A Latin-1 prompt from a shell reaches Python as surrogate escapes: refused in one line, nothing written."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", LC_ALL="C.UTF-8")
    proc = subprocess.run([sys.executable.encode(), b"-m", b"clipart", b"draw", raw, b"--steps", b"2"],
                          cwd=tmp_path, env=env, capture_output=True, timeout=120)  # fmt: skip
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2 and "not valid text" in stderr and "Traceback" not in stderr, stderr
    assert not list(tmp_path.iterdir())


def test_sidecar_is_strict_json_even_when_the_loss_is_not_finite(tiny_model: str, tmp_path: Path) -> None:
    import clipart

    drawing = clipart.draw("a cat", model=tiny_model, strokes=4, steps=2, size=32, views=1, device="cpu")
    drawing.loss = math.nan
    drawing.scores = [math.inf, 0.5]
    data = json.loads(drawing.encode("json"), parse_constant=lambda c: pytest.fail(f"{c} in the sidecar"))
    assert data["final_loss"] is None and data["candidate_scores"] == [None, 0.5]


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["serve", "--port", "7999"], "app"),
        (["train", "--data", "shards/{00000..00001}.tar", "--steps", "1"], "train"),
    ],
)
def test_a_missing_extra_is_named_in_one_line(
    argv: list[str], extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("gradio", "webdataset") else real(name, *a),
    )
    (tmp_path / "shards").mkdir()
    for k in range(2):
        (tmp_path / "shards" / f"{k:05d}.tar").write_bytes(b"")
    code, stderr = _cli(argv + (["--out", "run"] if argv[0] == "train" else []), tmp_path)
    assert code == 2 and f"pip install 'clipart[{extra}]'" in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
