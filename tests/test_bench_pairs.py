"""The readers' pair benchmark (benchmarks/bench_pairs.py): blind sheets, a key readers never see, honest counts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_pairs  # noqa: E402


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory, tiny_model: str) -> Path:
    out = tmp_path_factory.mktemp("pairs")
    bench_pairs.draw(["a cat", "two red apples", "a dog at night"], out, 0, {"model": tiny_model, "steps": 2})
    return out


def test_readers_see_pictures_and_prompts_but_not_which_is_the_end(drawn: Path) -> None:
    from PIL import Image

    shown = json.loads((drawn / "prompts.json").read_text())
    assert sorted(shown.values()) == ["a cat", "a dog at night", "two red apples"]
    key_file = bench_pairs.key_file(drawn)
    assert key_file.parent == drawn.parent and not list(
        drawn.glob("*key*")
    )  # readers get the folder, not the key
    assert "end" not in (drawn / "prompts.json").read_text()
    drawn_with = json.loads(key_file.read_text())
    assert isinstance(drawn_with["drawn"]["order_seed"], int)
    key = drawn_with["pairs"]
    assert {k: v["prompt"] for k, v in key.items()} == shown
    for number in shown:
        assert Image.open(drawn / f"pair{int(number):02d}.png").size == (470, 262)
    assert len(bench_pairs.read_prompts(bench_pairs.PROMPTS)) == 30


def test_score_counts_each_readers_preference_for_the_end(drawn: Path) -> None:
    key = json.loads(bench_pairs.key_file(drawn).read_text())["pairs"]
    picks_end = {k: {"choice": v["A"] == "end" and "A" or "B"} for k, v in key.items()}
    picks_start = {k: {"choice": v["A"] == "start" and "a" or "b"} for k, v in key.items()}
    undecided = {k: {"choice": "same"} for k in key}
    for name, answers in (("end", picks_end), ("start", picks_start), ("tie", undecided)):
        (drawn / f"answers-{name}.json").write_text(json.dumps(answers))
    assert bench_pairs.score(drawn) == {
        "end": {"end": 3, "start": 0, "same": 0},
        "start": {"end": 0, "start": 3, "same": 0},
        "tie": {"end": 0, "start": 0, "same": 3},
    }
    (drawn / "answers-late.json").write_text(json.dumps({"1": {"choice": "A"}}))
    with pytest.raises(ValueError, match="no answer for pair 2"):
        bench_pairs.score(drawn)
    (drawn / "answers-late.json").write_text(json.dumps({k: {"choice": "C"} for k in key}))
    with pytest.raises(ValueError, match="is not A, B or same"):
        bench_pairs.score(drawn)
    (drawn / "answers-late.json").unlink()
