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
