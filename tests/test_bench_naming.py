"""The blind-naming benchmark (benchmarks/bench_naming.py): shuffled numbered sheets, a key readers never see, and
counts of the drawings each reader named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench_naming  # noqa: E402
from bench_rprecision import PROMPTS, _file_name  # noqa: E402


def _run(folder: Path, colour: str, prompts: tuple[str, ...]) -> Path:
    folder.mkdir()
    for prompt in prompts:
        Image.new("RGB", (224, 224), colour).save(folder / _file_name(prompt, 0))
    Image.new("RGB", (224, 224), colour).save(folder / _file_name(prompts[0], 1))  # another seed: not shown
    listed = [f"{k}: {p} (seed 0)" for k, p in enumerate(prompts, 1)] + [
        f"{len(prompts) + 1}: {prompts[0]} (seed 1)"
    ]
    (folder / "sheet.txt").write_text("\n".join(listed) + "\n")
    return folder


@pytest.fixture
def made(tmp_path: Path) -> Path:
    folders = {
        "guideone": _run(tmp_path / "one", "red", PROMPTS[:13]),
        "guidetwo": _run(tmp_path / "two", "blue", PROMPTS[:12]),
    }
    out = tmp_path / "sheets"
    assert bench_naming.sheets(folders, out, seed=0) == 25
    return out


def test_drawings_of_any_prompt_list_are_found_by_their_sheet(tmp_path: Path) -> None:
    folder = _run(tmp_path / "tune", "green", ("a chair", "a ladder"))  # not among the benchmark's 60
    assert bench_naming.drawn_prompts(folder, 0) == ["a chair", "a ladder"]
    assert bench_naming.drawn_prompts(folder, 1) == ["a chair"]
    assert bench_naming.sheets({"tuned": folder}, tmp_path / "sheets", seed=0) == 2
    (folder / "sheet.txt").unlink()
    with pytest.raises(ValueError, match="has no sheet.txt"):
        bench_naming.sheets({"tuned": folder}, tmp_path / "other", seed=0)


def test_readers_get_numbered_sheets_and_no_key(made: Path) -> None:
    assert sorted(p.name for p in made.iterdir()) == ["READERS.md", "sheet01.png", "sheet02.png"]
    assert Image.open(made / "sheet01.png").size == (5 * 224, 4 * 244)
    assert Image.open(made / "sheet02.png").size == (5 * 224, 1 * 244)
    key = json.loads(bench_naming.key_file(made).read_text())["drawings"]
    assert sorted(key, key=int) == [str(k) for k in range(1, 26)]
    labels = [v["label"] for v in key.values()]
    assert labels.count("guideone") == 13 and labels.count("guidetwo") == 12
    assert labels != ["guideone"] * 13 + ["guidetwo"] * 12  # shuffled together
    for word in ("guideone", "guidetwo", PROMPTS[0]):
        assert word not in (made / "READERS.md").read_text()


@pytest.mark.parametrize(
    "answer, prompt, named",
    [
        ("a bicycle", "a bicycle", True),
        ("Bicycles!", "a bicycle", True),
        ("a sail boat", "a sailboat", True),
        ("ice-cream cone", "an ice cream", True),
        ("scissor", "a pair of scissors", True),
        ("a boat", "a teapot", False),
        ("?", "a cat", False),
        ("a chair", "a lighthouse", False),
        ("a pineapple", "an apple", False),
        ("a monkey", "a key", False),
        ("a bug", "a bus", False),
        ("two buses", "a bus", True),
        ("a lighthouse", "a house", False),
        ("a carrot", "a car", False),
        ("a bowl", "an owl", False),
        ("a bus under a tree", "the sun", False),
        ("glasses", "a glass", True),
    ],
)
def test_an_answer_names_the_prompts_thing(answer: str, prompt: str, named: bool) -> None:
    assert bench_naming.names(answer, prompt) is named


def test_score_counts_each_readers_named_drawings_per_label(made: Path) -> None:
    key = json.loads(bench_naming.key_file(made).read_text())["drawings"]
    right = {n: ("?" if d["label"] == "guidetwo" else d["prompt"].upper()) for n, d in key.items()}
    (made / "answers-r1.json").write_text(json.dumps(right))
    (made / "answers-r2.json").write_text(
        json.dumps({n: PROMPTS[0] for n in key})
    )  # the same thing each time
    scores = bench_naming.score(made)
    assert scores["r1"] == {"guideone": [13, 13], "guidetwo": [0, 12]}
    assert scores["r2"] == {"guideone": [1, 13], "guidetwo": [1, 12]}
    (made / "answers-r3.json").write_text(json.dumps({"1": "a cat"}))
    with pytest.raises(ValueError, match="answers-r3.json has no answer for drawing 2"):
        bench_naming.score(made)


def test_sheets_never_replace_a_folder_or_key_that_exists(made: Path) -> None:
    key = bench_naming.key_file(made).read_text()
    (made / "answers-r1.json").write_text("{}")
    with pytest.raises(ValueError, match="exists: give a new folder"):
        bench_naming.sheets({"guideone": made.parent / "one"}, made, seed=0)
    assert bench_naming.key_file(made).read_text() == key and not made.with_name("sheets.partial").exists()


def test_score_refuses_unreadable_or_absent_answers(made: Path) -> None:
    with pytest.raises(ValueError, match="no answers-NAME.json"):
        bench_naming.score(made)
    (made / "answers-r1.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="answers-r1.json must hold one object"):
        bench_naming.score(made)
    (made / "answers-r1.json").write_text("{1: ")
    with pytest.raises(ValueError, match="answers-r1.json is not readable JSON"):
        bench_naming.score(made)


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "bench_naming.py"), "sheets", "--out", str(tmp_path / "s"), "x=/nope"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "give LABEL=FOLDER" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, str(BENCH / "bench_naming.py"), "score", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "no key beside" in done.stderr
    _run(tmp_path / "drawn", "red", PROMPTS[:2])
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "bench_naming.py"),
            "sheets",
            "--out",
            str(tmp_path / "s"),
            f"a={tmp_path / 'drawn'}",
            f"a={tmp_path / 'drawn'}",
        ],  # fmt: skip
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "the label 'a' is given twice" in done.stderr
    assert not (tmp_path / "s").exists()
