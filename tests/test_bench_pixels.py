"""The pixel benchmark (benchmarks/bench_pixels.py): pictures a guide draws without strokes, saved for --rescore."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench_pixels  # noqa: E402


def test_the_picture_moves_towards_its_prompt(tiny_model: str) -> None:
    import clipart

    guide = clipart.load_model(tiny_model, device="cpu")
    _, before = bench_pixels.draw_pixels(guide, "a red square", steps=1, seed=0, size=64)
    picture, after = bench_pixels.draw_pixels(guide, "a red square", steps=40, seed=0, size=64)
    assert picture.size == (64, 64) and picture.mode == "RGB"
    assert after > before + 0.005  # deterministic under the seed: 0.185 → 0.196


def test_pictures_and_sheet_are_saved_for_rescore(tiny_model: str, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a cat\na dog\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["--out", str(out), "--prompt-list", str(prompts), "--steps", "2", f"tiny={tiny_model}"]
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench_pixels.py"), *args], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (out / "tiny").iterdir()) == ["a-cat-s0.png", "a-dog-s0.png"]
    assert Image.open(out / "sheet.png").size == (224, 112)
    assert "tiny: mean cosine" in proc.stdout


def test_bad_guides_are_one_usage_line(tmp_path: Path) -> None:
    cases = (
        (["nolabel"], "guides are LABEL=MODEL"),
        (["x=nope"], "unknown model 'nope'"),
        (["a=clipart-mini", "a=clipart-mini-draw"], "a label of its own"),
        (["--prompts", "0", "a=clipart-mini"], "--prompts must be at least 1"),
    )
    for guides, message in cases:
        proc = subprocess.run(
            [sys.executable, str(BENCH / "bench_pixels.py"), "--out", str(tmp_path / "o"), *guides],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert message in proc.stderr.strip().splitlines()[-1]
        assert not (tmp_path / "o").exists()
