"""The CLI end to end, in a subprocess: files, sidecar, exit codes and every bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

FAST = ["--strokes", "8", "--steps", "4", "--size", "64", "--views", "2", "--device", "cpu"]


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "clipart", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_draw_writes_svg_png_and_a_complete_sidecar(tiny_model: str, tmp_path: Path) -> None:
    proc = run(
        "draw",
        "a red circle",
        "--model",
        tiny_model,
        "--seed",
        "3",
        *FAST,
        "--png-size",
        "96",
        "--gif",
        "--start",
        "random",  # so that the drawing has the 8 strokes asked for
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "clipart-out"
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"a-red-circle-s3.{k}" for k in ("gif", "json", "png", "svg")]
    svg = ET.parse(out / "a-red-circle-s3.svg").getroot()
    assert len([e for e in svg.iter() if e.tag.endswith("path")]) == 8
    assert Image.open(out / "a-red-circle-s3.png").size == (96, 96)
    side = json.loads((out / "a-red-circle-s3.json").read_text())
    assert side["prompts"] == ["a red circle"] and side["seed"] == 3 and side["steps_done"] == 4
    assert (
        side["config"]["strokes"] == 8 and side["preset"] == "quick" and side["config"]["start"] == "random"
    )
    assert side["clipart_version"] and isinstance(side["final_loss"], float)
    assert set(side["timings"]) >= {"startup_s", "optimise_s"}


def test_out_file_name_force_and_jsonl(tiny_model: str, tmp_path: Path) -> None:
    target = tmp_path / "cat.svg"
    proc = run("draw", "a cat", "--model", tiny_model, *FAST, "--out", str(target), "--jsonl")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [e["step"] for e in events[:-1]] == [1, 2, 3, 4] and events[-1]["done"] is True
    assert target.exists() and (tmp_path / "cat.png").exists() and (tmp_path / "cat.json").exists()
    before = target.read_bytes()
    again = run("draw", "a dog", "--model", tiny_model, *FAST, "--out", str(target), "-q")
    assert again.returncode == 2 and "already exists" in again.stderr and "--force" in again.stderr
    assert target.read_bytes() == before
    forced = run("draw", "a dog", "--model", tiny_model, *FAST, "--out", str(target), "-q", "--force")
    assert forced.returncode == 0 and target.read_bytes() != before


def test_a_second_run_makes_a_new_drawing_and_force_overwrites_only_what_it_names(
    tiny_model: str, tmp_path: Path
) -> None:
    def draw(*extra: str) -> subprocess.CompletedProcess:
        proc = run("draw", "a red circle", "--model", tiny_model, *FAST, *extra, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return proc

    out = tmp_path / "clipart-out"
    draw()
    second = draw()
    assert "a-red-circle-s1.svg" in second.stderr and "(seed 1)" in second.stderr
    seeds = [json.loads((out / f"a-red-circle-s{s}.json").read_text())["seed"] for s in (0, 1)]
    assert seeds == [0, 1]
    assert (out / "a-red-circle-s0.svg").read_bytes() != (out / "a-red-circle-s1.svg").read_bytes()
    draw("--seed", "0", "-q")  # the same drawing again, beside the first: never over it
    assert (out / "a-red-circle-s0-2.svg").read_bytes() == (out / "a-red-circle-s0.svg").read_bytes()
    names = sorted(p.name for p in out.iterdir())
    draw("--seed", "1", "--steps", "5", "--force", "-q")  # overwrites a-red-circle-s1.*, nothing else
    assert sorted(p.name for p in out.iterdir()) == names
    assert json.loads((out / "a-red-circle-s1.json").read_text())["steps_done"] == 5
    assert json.loads((out / "a-red-circle-s0-2.json").read_text())["steps_done"] == 4


@pytest.mark.parametrize(
    "out, force, words",
    [
        ("cat.svg/", True, "cat.svg is a file, not a folder"),  # a slash says folder: never the file
        ("cat.svg/x.svg", True, "cat.svg is a file, not a folder"),  # not "missing"
        ("box.svg", False, "--out box.svg is a folder: end it with / to write into it, or name a file"),
        ("box.svg/", False, ""),  # what the message advises works
        ("", False, "--out is empty: give a folder or a file name"),
        (
            "anim.gif",
            False,
            "--out anim.gif names a .gif file, which this drawing does not write (add --gif)",
        ),
    ],
)
def test_out_refusals_come_before_the_model_and_leave_the_disk_as_it_was(
    out: str,
    force: bool,
    words: str,
    tiny_model: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    from clipart.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat.svg").write_text("mine")
    (tmp_path / "box.svg").mkdir()
    code = main(
        ["draw", "a cat", "--model", tiny_model, *FAST, "-q", "--out", out, *(["--force"] if force else [])]
    )
    err = capsys.readouterr().err
    if not words:
        assert code == 0 and len(list((tmp_path / "box.svg").glob("a-cat-s0.*"))) == 3, err
        return
    assert code == 2 and err == f"clipart: error: {words}\n", err
    assert (tmp_path / "cat.svg").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["box.svg", "cat.svg"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["draw", "   "], "prompt is empty"),
        (["draw", "x", "--strokes", "0"], "strokes must be a whole number from 1 to 4096, got 0"),
        (["draw", "x", "--steps", "-5"], "steps must be a whole number from 1 to"),
        (["draw", "x", "--size", "999999"], "size must be"),
        (["draw", "x", "--strokes", "lots"], "invalid int value: 'lots'"),
        (["draw", "x", "--model", "NoSuchNet"], "unknown model"),
        (
            ["draw", "x", "--model", "ViT-B-32", "--pretrained", "nope"],
            "neither a weights file nor a pretrained tag",
        ),
        (["draw", "x", "--preset", "nope"], "unknown preset"),
        (["draw", "x", "--start", "clouds"], "invalid choice: 'clouds'"),
        (["draw", "x", "--out", "/nonexistent/dir/x.svg"], "output folder does not exist"),
        (["draw", "x", "--out", "/proc/clipart.svg"], "not writable"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(args: list[str], words: str, tmp_path: Path) -> None:
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.rglob("*.svg")) and not list(tmp_path.rglob("*.png"))


def test_bad_preset_file_and_corrupt_checkpoint(tiny_model_dir: Path, tmp_path: Path) -> None:
    preset = tmp_path / "p.toml"
    preset.write_text("strokes = 4\ncolour = 'red'\n")
    proc = run("draw", "x", "--preset", str(preset), cwd=tmp_path)
    assert proc.returncode == 2 and "unknown setting(s) colour" in proc.stderr
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    (tmp_path / "open_clip_config.json").write_text((tiny_model_dir / "open_clip_config.json").read_text())
    proc = run("draw", "x", "--model", str(bad), *FAST, cwd=tmp_path)
    assert proc.returncode == 2 and "could not load model" in proc.stderr and "Traceback" not in proc.stderr


def test_long_prompt_warns_and_still_draws(tiny_model: str, tmp_path: Path) -> None:
    proc = run("draw", "a very long prompt " * 10, "--model", tiny_model, *FAST, "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "clipart: warning:" in proc.stderr and "truncated" in proc.stderr


def test_presets_and_help_are_quick() -> None:
    proc = run("presets")
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert {"clipdraw", "quick", "sketch", "painting"} <= set(names)
    t0 = time.perf_counter()
    assert run("--help").returncode == 0
    assert time.perf_counter() - t0 < 3.0  # no torch import for --help (the 1 s target is benchmarked)


def test_default_embedded_model_works_offline(tmp_path: Path) -> None:
    env_note = "HF_ENDPOINT points nowhere: any hub access would fail"
    env = dict(os.environ, HF_HUB_OFFLINE="0", HF_ENDPOINT="http://127.0.0.1:9", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "clipart",
            "draw",
            "a red circle",
            "--strokes",
            "8",
            "--steps",
            "3",
            "--size",
            "96",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, (env_note, proc.stderr)
    assert "embedded model clipart-mini" in proc.stderr
    side = json.loads((tmp_path / "clipart-out" / "a-red-circle-s0.json").read_text())
    assert side["models"] == ["clipart-mini (embedded)"]


def test_draw_help_gives_every_tuning_option_a_text_and_its_default() -> None:
    from clipart.config import load_preset

    quick = load_preset("quick")
    text = " ".join(run("draw", "--help").stdout.split())
    for flag, key in (("--strokes", "strokes"), ("--steps", "steps"), ("--lr-points", "lr_points"),
                      ("--lr-widths", "lr_widths"), ("--lr-colors", "lr_colors"), ("--views", "views")):  # fmt: skip
        assert f"quick: {quick[key]})" in text.split(flag, 2)[2][:120], flag
    assert "random seed" in text
    # the command's own words: no Markdown marks, no source paths, no parentheses in parentheses
    assert "`" not in text and "clipart/" not in text and "))" not in text
    assert "--seed N random seed: same seed and settings, same SVG; a whole number from 0 to " in text
    assert (
        "(default: the next seed whose files are not yet in the output folder, so that a second run" in text
    )
    assert "(default: the cores other work leaves free)" in text.split("--threads N", 2)[2][:160]
    from clipart.drawing import OUTPUT_KINDS

    assert (
        f"({'/'.join(f'.{kind}' for kind in OUTPUT_KINDS)})" in text.split("--out OUT", 2)[2][:80]
    )  # every kind


def _screens(stderr: str) -> list[str]:
    """What a terminal shows in turn: tqdm redraws its line after a carriage return."""
    return [part.strip() for line in stderr.split("\n") for part in line.split("\r") if part.strip()]


def test_the_draw_bar_ends_on_one_final_state(tiny_model: str, tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "clipart", "draw", "a cat", "--model", tiny_model, *FAST, "--steps", "6"]
    env = dict(
        os.environ, OMP_NUM_THREADS="1", TQDM_MININTERVAL="0"
    )  # every update redraws, as on a slow step
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    finals = {s for s in _screens(proc.stderr) if "6/6" in s}
    losses = {s.split("loss=")[-1].rstrip("]") for s in finals}
    assert len(losses) == 1, finals  # the last loss shown is the one of the last step, however often redrawn


def test_train_reports_its_export_below_the_finished_bar(tmp_path: Path) -> None:
    from test_train_support import shapes_csv, tiny_model_json

    csv = shapes_csv(tmp_path, 16)
    model = tiny_model_json(tmp_path / "tiny.json")
    argv = ["train", "--data", str(csv), "--model", str(model), "--batch-size", "8", "--steps", "3",
            "--warmup", "0", "--workers", "0", "--out", str(tmp_path / "run")]  # fmt: skip
    proc = run(*argv, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    screens = _screens(proc.stderr)
    last_bar = max(i for i, s in enumerate(screens) if s.startswith("training:"))
    exported = [i for i, s in enumerate(screens) if s.startswith("exported to ")]
    assert exported and exported[0] > last_bar and "3/3" in screens[last_bar], screens


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    """`clipart presets | head -1` and the like: no BrokenPipeError traceback when the reader has gone."""
    proc = subprocess.Popen([sys.executable, "-m", "clipart", "presets"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    proc.stdout.close()  # the reader is gone before anything is written
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and err == b"", err


@pytest.mark.parametrize(
    "argv",
    [
        ["draw", "a cat", "--image", "~nosuchuser9/x.png"],
        ["draw", "a cat", "--model", "local-dir:~nosuchuser9/m"],
        ["eval", "zeroshot", "--model", "clipart-mini", "--data", "~nosuchuser9/d"],
        ["train", "--data", "~nosuchuser9/pairs.csv", "--out", "~nosuchuser9/run"],
        ["search", "a cat", "~nosuchuser9/pictures"],
    ],
)
def test_a_tilde_naming_no_user_is_a_plain_missing_path(
    argv: list[str], capsys: pytest.CaptureFixture
) -> None:
    from clipart.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("clipart: error:") and "~nosuchuser9" in err[0], err


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--set", "nope=1"], "--set: unknown setting 'nope' (clipart draw --help lists the settings)"),
        (["--set", "crop_scale"], "--set takes NAME=VALUE, e.g. --set color_jitter=0.1, got 'crop_scale'"),
        (["--set", "perspective=lots"], "--set perspective: invalid float value: 'lots'"),
        (["--set", "respawn_every=1.5"], "--set respawn_every: invalid int value: '1.5'"),
        (
            ["--set", "crop_scale=0.5"],
            "--set crop_scale takes 2 comma-separated floats, e.g. --set crop_scale=",
        ),
        (["--set", "crop_scale=0.5,0.7,1"], "--set crop_scale takes 2 comma-separated floats, e.g."),
        (["--set", "crop_scale=0.9,0.5"], "crop_scale must satisfy 0 < min <= max <= 1, got (0.9, 0.5)"),
        (["--set", "prompts=x"], "--set: prompts is set by the prompt words, not --set"),
        (
            ["--strokes", "5", "--set", "strokes=6"],
            "strokes is given twice: give it once (--strokes or --set",
        ),
        (["--set", "perspective=2"], "perspective must be in [0, 1], got 2.0"),
        (["--set", "init_color=blue"], "init_color must be random, black or gray, got 'blue'"),
        (["--set", "preview_every=0"], "preview_every must be a whole number, at least 1, got 0"),
    ],
)
def test_a_bad_set_is_one_line_before_any_work(
    extra: list[str],
    words: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    from clipart.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["draw", "a cat", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("clipart: error: ") and words in err and err.count("\n") == 1, err
    assert not list(tmp_path.iterdir())


def test_set_reaches_the_settings_without_a_flag(tiny_model: str, tmp_path: Path) -> None:
    sets = ["crop_scale=0.5,1", "color_jitter=0.1", "perspective=0.2", "min_segments=2", "respawn_every=2"]
    proc = run("draw", "a cat", "--model", tiny_model, *FAST, "-q", "--out", "cat.svg",
               *[word for item in sets for word in ("--set", item)], cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    config = json.loads((tmp_path / "cat.json").read_text())["config"]
    assert (config["crop_scale"], config["color_jitter"], config["perspective"]) == ([0.5, 1.0], 0.1, 0.2)
    assert (config["min_segments"], config["respawn_every"]) == (2, 2)


def test_every_setting_is_reachable_from_the_command_line() -> None:
    """Each DrawConfig setting has a flag, is taken by --set, or is set by the options its declaration names."""
    from clipart.cli import build_parser
    from clipart.cli.draw import _set_values
    from clipart.config import DrawConfig

    draw = build_parser()._subparsers._group_actions[0].choices["draw"]  # type: ignore[union-attr]
    options = {s for action in draw._actions for s in action.option_strings}
    ways = ("the prompt words", "'text::W'")  # the prompt and its weights
    for name, about in DrawConfig.settings().items():
        if about.given_by:
            flags = [word for word in about.given_by.replace(",", " ").split() if word.startswith("--")]
            assert set(flags) <= options and (flags or about.given_by in ways), (name, about.given_by)
        elif about.flag is None:
            default = getattr(DrawConfig(), name)
            text = ",".join(map(str, default)) if isinstance(default, tuple) else str(default)
            assert _set_values([f"{name}={text}"], {}) == {name: default}, name
        else:
            assert (about.flag or f"--{name.replace('_', '-')}") in options, name
