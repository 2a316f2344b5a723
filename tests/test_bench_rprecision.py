"""The R-precision benchmark's usage errors: one line and exit 2 before the judge loads or anything is drawn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_rprecision.py"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("bogus=1", "unknown setting 'bogus'"),
        ("min_width=3", "init_width must lie between min_width and max_width"),
        ("views=[", "give KEY=VALUE with a JSON value"),
    ],
)
def test_a_bad_drawing_option_is_one_usage_line(option: str, message: str, tmp_path: Path) -> None:
    _check_usage_error(["--set", option], message, tmp_path)


def test_a_missing_guide_is_one_usage_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-guide"
    _check_usage_error(["--model", f"local-dir:{missing}"], "model folder not found", tmp_path)


def _check_usage_error(options: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--seeds", "1", "--prompts", "1", *options, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("bench_rprecision.py: error: ") and message in last
    assert not out.exists()


def test_the_tuning_prompts_are_apart_from_the_benchmarks() -> None:
    import argparse

    sys.path.insert(0, str(BENCH.parent))
    import bench_rprecision

    tune = bench_rprecision.read_prompt_list(BENCH.parent / "tune_prompts.txt", argparse.ArgumentParser())
    assert len(tune) >= 30 and not set(tune) & set(bench_rprecision.PROMPTS)
    assert not {bench_rprecision.noun(p) for p in tune} & {
        bench_rprecision.noun(p) for p in bench_rprecision.PROMPTS
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a cat\n", "give at least two prompts, each once"),
        ("a cat\na dog\na cat\n", "each once"),
        (None, "cannot read"),
    ],
)
def test_a_bad_prompt_list_is_one_usage_line(text: str | None, message: str, tmp_path: Path) -> None:
    listing = tmp_path / "prompts.txt"
    if text is not None:
        listing.write_text(text)
    _check_usage_error(["--prompt-list", str(listing)], message, tmp_path)


def test_a_prompt_list_is_drawn_and_ranked_among_itself(tmp_path: Path, tiny_model: str) -> None:
    listing = tmp_path / "prompts.txt"
    listing.write_text("# three things\na chair\n\na lamp\na clock\n")
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--seeds",
            "1",
            "--prompt-list",
            str(listing),
            "--model",
            tiny_model,
            "--set",
            "steps=2",
            "--set",
            "strokes=4",
            "--set",
            "size=64",
            "--out",
            str(tmp_path / "out"),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[:2] for line in proc.stdout.splitlines()[2:5]] == [
        ["a", "chair"],
        ["a", "lamp"],
        ["a", "clock"],
    ]
    assert "chance 33.3%" in proc.stdout and "of 3;" in proc.stdout
    assert sorted(p.name for p in (tmp_path / "out").glob("a-*.png")) == [
        "a-chair-s0.png",
        "a-clock-s0.png",
        "a-lamp-s0.png",
    ]
