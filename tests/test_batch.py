"""Batch drawing: the prompts file, one process or several (by rank, as torchrun starts them), resume, failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import clipart
from clipart.batch import read_prompts_file, shard_prompts
from clipart.errors import ConfigError

FAST = ["--strokes", "6", "--steps", "3", "--size", "32", "--views", "2", "--threads", "1", "--device", "cpu"]


def _clipart(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    return subprocess.run([sys.executable, "-m", "clipart", *args], capture_output=True, text=True, timeout=180,
                          env={**base, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})})  # fmt: skip


def test_the_prompts_file(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("# my batch\na cat\n\n  a dog::2   # weighted\na red star # last\n", encoding="utf-8")
    prompts = read_prompts_file(path)
    assert [(p.line, p.text, p.stem) for p in prompts] == [
        (2, "a cat", "a-cat"),
        (4, "a dog::2", "a-dog"),
        (5, "a red star", "a-red-star"),
    ]
    bad = {
        "a cat\na dog::x\n": "p.txt line 2: bad prompt weight in 'a dog::x'",
        "# only comments\n\n": "holds no prompt",
        "a cat\n::2\n": "p.txt line 2: the prompt is empty",
        "\ufeff\n\ufeff# only a mark\n": "holds no prompt",
    }
    for text, words in bad.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
            read_prompts_file(path)
    path.write_bytes(b"a caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_prompts_file(path)
    path.write_text("a cat\n", encoding="utf-16-le")  # no byte-order mark: NUL between the letters
    with pytest.raises(ConfigError, match="holds NUL characters: save it as UTF-8 text"):
        read_prompts_file(path)
    with pytest.raises(ConfigError, match="prompts file not found"):
        read_prompts_file(tmp_path / "none.txt")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_a_byte_order_mark_is_no_prompt_and_no_part_of_one(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("a cat\r\n\ufeffa dog\n", encoding=encoding)  # a second mark: two files put together
    assert [(p.line, p.text, p.stem) for p in read_prompts_file(path)] == [
        (1, "a cat", "a-cat"),
        (2, "a dog", "a-dog"),
    ]
    path.write_text("\n# a comment\n", encoding=encoding)
    with pytest.raises(ConfigError, match="holds no prompt"):
        read_prompts_file(path)


def test_every_different_prompt_gets_its_own_file_name(tmp_path: Path) -> None:
    lines = ["кот", "собака", "一只猫", "猫", "🐱", "🐶", "a cat", "A CAT!", "a cat::2", "ａ ｃａｔ", "!!!", "???",
             "x" * 60, "x" * 61, "a-cat-2", "a cat"]  # fmt: skip
    path = tmp_path / "p.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    prompts = read_prompts_file(path)
    stems = {p.text: p.stem for p in prompts}
    assert len(set(stems.values())) == len(stems) == len(lines) - 1  # the repeated "a cat" keeps its name
    assert prompts[-1].stem == prompts[6].stem == "a-cat"
    assert all(s and len(s) <= 48 and s.isascii() and "/" not in s for s in stems.values()), stems
    assert read_prompts_file(path) == prompts  # stable: every process names them alike
    path.write_text("\n".join(["A CAT!", *lines]) + "\n", encoding="utf-8")
    again = {p.text: p.stem for p in read_prompts_file(path)}
    assert {t: s for t, s in again.items() if not t.lower().startswith("a cat")} == {
        t: s for t, s in stems.items() if not t.lower().startswith("a cat")
    }


@pytest.mark.parametrize(
    "env, words",
    [
        ({"RANK": "1", "WORLD_SIZE": "0"}, "WORLD_SIZE='0' must be a whole number 1 or more"),
        ({"RANK": "2", "WORLD_SIZE": "2"}, "RANK=2 must be below WORLD_SIZE=2"),
        ({"RANK": "-1", "WORLD_SIZE": "2"}, "RANK='-1' must be a whole number 0 or more"),
        ({"RANK": "1"}, "RANK=1 must be below WORLD_SIZE=1"),
        ({"RANK": "one", "WORLD_SIZE": "2"}, "RANK='one' must be a whole number"),
        ({"LOCAL_RANK": "x"}, "LOCAL_RANK='x' must be a whole number"),
    ],
)
def test_a_rank_outside_its_world_is_one_line(env: dict, words: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        shard_prompts([clipart.BatchPrompt(1, "a cat")])


def test_a_batch_draws_skips_what_exists_and_reports_a_failure(tiny_model: str, tmp_path: Path) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text(f"a cat\n{'x' * 10_001}\na dog::2\n", encoding="utf-8")
    out = tmp_path / "out"
    first = _clipart("draw", "--prompts-file", str(prompts), "--model", tiny_model, "--out", str(out), *FAST)
    assert first.returncode == 1, first.stderr  # one prompt failed; the others were drawn
    assert "line 2" in first.stderr and "failed the prompt is too long" in first.stderr
    assert "2 drawn, 0 skipped, 1 failed" in first.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        f"a-{n}-s0.{k}" for n in ("cat", "dog") for k in ("json", "png", "svg")
    ]
    prompts.write_text("a cat\na dog::2\na bird\n", encoding="utf-8")
    again = _clipart("draw", "--prompts-file", str(prompts), "--model", tiny_model, "--out", str(out), *FAST)
    assert again.returncode == 0 and "1 drawn, 2 skipped, 0 failed" in again.stderr, again.stderr
    forced = _clipart(
        "draw", "--prompts-file", str(prompts), "--model", tiny_model, "--out", str(out), "--force", *FAST
    )
    assert forced.returncode == 0 and "3 drawn, 0 skipped" in forced.stderr, forced.stderr


def test_processes_share_the_prompts_and_write_what_one_process_writes(
    tiny_model: str, tmp_path: Path
) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text("a cat\na dog\na red star\na tree\na house\n", encoding="utf-8")
    args = ["draw", "--prompts-file", str(prompts), "--model", tiny_model, *FAST, "-q"]
    assert _clipart(*args, "--out", str(tmp_path / "one")).returncode == 0
    ranks = [
        subprocess.Popen(
            [sys.executable, "-m", "clipart", *args, "--out", str(tmp_path / "two")],
            env={**os.environ, "HF_HUB_OFFLINE": "1", "RANK": str(r), "WORLD_SIZE": "2"},
        )  # fmt: skip
        for r in range(2)
    ]
    assert [p.wait(timeout=180) for p in ranks] == [0, 0]
    one, two = (sorted((tmp_path / d).glob("*.svg")) for d in ("one", "two"))
    assert [p.name for p in one] == [p.name for p in two] and len(one) == 5
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(one, two, strict=True))  # the same drawings


def test_bad_batch_input_is_one_line_exit_2(tmp_path: Path) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text("a cat\n", encoding="utf-8")
    for args, words in (
        (["a dog", "--prompts-file", str(prompts)], "not both"),
        (["--prompts-file", str(tmp_path / "none.txt")], "prompts file not found"),
        (["--prompts-file", str(prompts), "--out", str(tmp_path / "x.svg")], "give a folder"),
        (
            ["--prompts-file", str(prompts), "--out", f"{prompts}/", "--force"],
            "p.txt is a file, not a folder",
        ),
        (["--prompts-file", str(prompts), "--out", str(prompts)], "p.txt is a file: a batch writes many"),
        (["--prompts-file", str(prompts), "--out", ""], "--out is empty"),
        (["--prompts-file", str(prompts), "--steps", "0"], "steps must be a whole number"),
    ):
        proc = _clipart("draw", *args)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.txt"]


def test_quiet_batches_still_say_what_failed_and_a_failing_folder_stops_the_batch(
    tiny_model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from clipart.cli import main

    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    prompts = tmp_path / "p.txt"
    prompts.write_text(f"a cat\n{'x' * 10_001}\na cat\na dog\n", encoding="utf-8")
    args = [
        "draw",
        "--prompts-file",
        str(prompts),
        "--model",
        tiny_model,
        "--out",
        str(tmp_path / "out"),
        *FAST,
    ]
    assert main([*args, "-q"]) == 1
    assert (
        capsys.readouterr().err
        == f"clipart: error: line 2 {'x' * 39 + '…'!r}: the prompt is too long: at most 10000 characters\n"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"a-{n}-s0.{k}" for n in ("cat", "dog") for k in ("json", "png", "svg")
    ]  # the repeated "a cat" was drawn once

    def full(blobs: dict, **_: object) -> None:
        raise OSError(28, "No space left on device", str(next(iter(blobs))))

    monkeypatch.setattr("clipart.drawing.write_files", full)
    assert main([*args, "-q", "--force"]) == 1
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and "No space left on device" in err and "the batch stopped after 0 drawn" in err
    ), err
    assert (
        sorted(p.name for p in (tmp_path / "out").iterdir())[0] == "a-cat-s0.json"
    )  # the old files are kept
