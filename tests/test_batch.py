"""Batch drawing: the prompts file, one process or several (by rank, as torchrun starts them), resume, failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import clipart
from clipart.errors import ConfigError

FAST = ["--strokes", "6", "--steps", "3", "--size", "32", "--views", "2", "--threads", "1", "--device", "cpu"]


def _clipart(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    return subprocess.run([sys.executable, "-m", "clipart", *args], capture_output=True, text=True, timeout=180,
                          env={**base, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})})  # fmt: skip


def test_the_prompts_file(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("# my batch\na cat\n\n  a dog::2   # weighted\na red star # last\n", encoding="utf-8")
    prompts = clipart.read_prompts_file(path)
    assert [(p.line, p.text, p.stem) for p in prompts] == [
        (2, "a cat", "a-cat"),
        (4, "a dog::2", "a-dog"),
        (5, "a red star", "a-red-star"),
    ]
    bad = {
        "a cat\na dog::x\n": "p.txt line 2: bad prompt weight in 'a dog::x'",
        "a cat\nA CAT!\n": "p.txt line 2 draws the same files as line 1 (a-cat)",
        "# only comments\n\n": "holds no prompt",
        "a cat\n::2\n": "p.txt line 2: the prompt is empty",
    }
    for text, words in bad.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
            clipart.read_prompts_file(path)
    path.write_bytes(b"a caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        clipart.read_prompts_file(path)
    with pytest.raises(ConfigError, match="prompts file not found"):
        clipart.read_prompts_file(tmp_path / "none.txt")


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
        (["--prompts-file", str(prompts), "--steps", "0"], "steps must be a whole number"),
    ):
        proc = _clipart("draw", *args)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.txt"]
