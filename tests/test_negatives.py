"""The hard-negative recipe (recipes/negatives.py) with a tiny random model: two drawings of a few steps."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import icondata  # recipes/ is on sys.path through conftest
import negatives
import pytest
import torch
from conftest import make_tiny_model_dir
from PIL import Image

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def _captions(path: Path, captions: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filepath", "caption"])
        writer.writerows([f"images/{k}.png", c] for k, c in enumerate(captions))
    return path


def test_prompts_leave_out_the_benchmark_and_the_negative_caption(tmp_path: Path) -> None:
    table = _captions(
        tmp_path / "train.csv",
        ["a drawing of a cat", "two cats", "a red anvil", "a kettle", negatives.CAPTION, "a kettle"],
    )
    picked = negatives.pick_prompts(table, 2, seed=3)
    assert sorted(picked) == ["a kettle", "a red anvil"]
    with pytest.raises(ValueError, match="only 2 usable captions"):
        negatives.pick_prompts(table, 3, seed=3)


def test_bad_captions_file_is_one_line_and_exit_2(tmp_path: Path, tiny_model_dir: Path) -> None:
    table = tmp_path / "train.csv"
    table.write_text("filepath,label\nimages/0.png,a kettle\n")
    done = subprocess.run(
        [sys.executable, str(RECIPES / "negatives.py"), "--model", str(tiny_model_dir), "--captions", str(table),
         "--out", str(tmp_path / "neg")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "has no 'caption' column" in done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "neg" / "negatives.csv").exists()


def test_build_draws_snapshots_and_resumes(tmp_path: Path, tiny_model_dir: Path) -> None:
    table = _captions(tmp_path / "train.csv", ["a red anvil", "a kettle", "a wheelbarrow"])
    out = tmp_path / "neg"
    csv_path = negatives.build(tiny_model_dir, table, out, drawings=2, workers=1, snapshots=(1, 3))
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["filepath"] for r in rows] == [
        "images/00000-1.png", "images/00000-3.png", "images/00001-1.png", "images/00001-3.png"
    ]  # fmt: skip
    assert {r["caption"] for r in rows} == {negatives.CAPTION}
    first, last = (Image.open(out / rows[k]["filepath"]) for k in (0, 1))
    assert first.size == last.size == (64, 64)
    assert first.tobytes() != last.tobytes()  # the snapshots are taken along the way
    stamp = (out / rows[3]["filepath"]).stat().st_mtime_ns
    (out / rows[0]["filepath"]).unlink()  # an interrupted run: one drawing is redrawn, the other kept
    negatives.build(tiny_model_dir, table, out, drawings=2, workers=1, snapshots=(1, 3))
    assert (out / rows[0]["filepath"]).is_file()
    assert (out / rows[3]["filepath"]).stat().st_mtime_ns == stamp
    assert not list(out.rglob(".*.tmp"))


def test_build_renders_larger_then_downsamples_to_64(tmp_path: Path, tiny_model_dir: Path) -> None:
    import clipart

    table = _captions(tmp_path / "train.csv", ["a kettle", "a wheelbarrow"])
    plain = negatives.build(tiny_model_dir, table, tmp_path / "a", drawings=1, workers=1, snapshots=(2,))
    large = negatives.build(
        tiny_model_dir, table, tmp_path / "b", drawings=1, workers=1, snapshots=(2,), render=96
    )
    saved = [Image.open(t.parent / "images" / "00000-2.png") for t in (plain, large)]
    assert saved[0].size == saved[1].size == (64, 64) and saved[0].tobytes() != saved[1].tobytes()
    prompt = negatives.pick_prompts(table, 1, 0)[0]
    options = dict(negatives.DRAW_OPTIONS, steps=2)
    *_, last = clipart.steps(prompt, model=f"local-dir:{tiny_model_dir}", seed=0, **options)
    expected = last.drawing().png(96).convert("RGB").resize((64, 64), Image.Resampling.LANCZOS)
    assert saved[1].tobytes() == expected.tobytes()


def test_harden_table_is_the_mix_plus_repeated_negatives(tmp_path: Path) -> None:
    import clipart_mini

    _captions(tmp_path / "train_mix.csv", ["a cat", "a red circle"])
    (tmp_path / "negatives").mkdir()
    _captions(tmp_path / "negatives" / "negatives.csv", [negatives.CAPTION] * 2)
    with open(clipart_mini.write_hard(tmp_path), newline="", encoding="utf-8") as handle:
        rows = [(r["filepath"], r["caption"]) for r in csv.DictReader(handle)]
    repeat = clipart_mini.NEGATIVE_REPEAT
    assert rows[:2] == [("images/0.png", "a cat"), ("images/1.png", "a red circle")]
    assert rows[2:] == [
        (f"negatives/images/{k}.png", negatives.CAPTION) for k in (0, 1) for _ in range(repeat)
    ]


def test_second_cycle_table_takes_the_redrawn_negatives_only(tmp_path: Path) -> None:
    import clipart_mini

    _captions(tmp_path / "train_mix.csv", ["a cat"])
    for folder in ("negatives", "negatives2"):
        (tmp_path / folder).mkdir()
        _captions(tmp_path / folder / "negatives.csv", [negatives.CAPTION])
    table = clipart_mini.write_hard(tmp_path, "negatives2", "negatives2")
    assert table.name == "train_negatives2.csv"
    with open(table, newline="", encoding="utf-8") as handle:
        rows = [r["filepath"] for r in csv.DictReader(handle)]
    assert rows == ["images/0.png"] + ["negatives2/images/0.png"] * clipart_mini.NEGATIVE_REPEAT


@pytest.mark.parametrize(
    ("stage", "before", "table", "run"),
    [
        ("harden", "negatives", "train_hard.csv", "run-hard"),
        ("cycle", "negatives2", "train_negatives2.csv", "run-cycle"),
        ("harden2", "negatives3", "train_negatives3.csv", "run-hard2"),
    ],
)
def test_training_stage_without_its_negatives_is_one_line_and_exit_2(
    tmp_path: Path, stage: str, before: str, table: str, run: str
) -> None:
    (tmp_path / "data").mkdir()
    _captions(tmp_path / "data" / "train_mix.csv", ["a cat"])
    done = subprocess.run(
        [sys.executable, str(RECIPES / "clipart_mini.py"), "--work", str(tmp_path), "--only", stage],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and f"run the '{before}' stage first" in done.stderr
    assert not (tmp_path / "data" / table).exists() and not (tmp_path / run).exists()


@pytest.mark.parametrize(
    ("stage", "before", "guide"),
    [
        ("negatives2", "harden", "run-hard-fp16"),
        ("negatives3", "cycle", "run-cycle-fp16"),
        ("lines", "harden2", "run-hard2-fp16"),
        ("negatives4", "lines", "run-lines-fp16"),
        ("tone", "styles", "run-styles-fp16"),
        ("tone2", "tone", "run-tone-fp16"),
    ],
)
def test_negatives_without_the_run_before_is_one_line_and_exit_2(
    tmp_path: Path, stage: str, before: str, guide: str
) -> None:
    done = subprocess.run(
        [sys.executable, str(RECIPES / "clipart_mini.py"), "--work", str(tmp_path), "--only", stage],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and f"run the '{before}' stage first" in done.stderr
    assert not (tmp_path / guide).exists()


@pytest.mark.parametrize(
    ("writer", "negatives_folder", "parts"),
    [
        ("write_lines", "negatives3", [("lineart", "a line drawing of a cat")]),
        (
            "write_styles",
            "negatives4",
            [("lineart", "a line drawing of a cat"), ("variants", "a silhouette of a cat")],
        ),
        (
            "write_tones",
            "negatives4",
            [
                ("lineart", "a line drawing of a cat"),
                ("variants", "a silhouette of a cat"),
                ("tones", "a greyscale cat icon"),
            ],
        ),
    ],
)
def test_joined_tables_are_the_mix_the_rounds_negatives_and_the_extra_parts(
    tmp_path: Path, writer: str, negatives_folder: str, parts: list[tuple[str, str]]
) -> None:
    import clipart_mini

    write = getattr(clipart_mini, writer)
    _captions(tmp_path / "train_mix.csv", ["a cat"])
    (tmp_path / negatives_folder).mkdir()
    _captions(tmp_path / negatives_folder / "negatives.csv", [negatives.CAPTION])
    for part, caption in parts[:-1]:
        (tmp_path / part).mkdir()
        _captions(tmp_path / part / f"{part}.csv", [caption])
    last = parts[-1][0]
    with pytest.raises(icondata.RecipeError, match=f"run the .{last}. stage first"):
        write(tmp_path)
    (tmp_path / last).mkdir()
    _captions(tmp_path / last / f"{last}.csv", [parts[-1][1]])
    with open(write(tmp_path), newline="", encoding="utf-8") as handle:
        rows = [(r["filepath"], r["caption"]) for r in csv.DictReader(handle)]
    assert rows == [("images/0.png", "a cat")] + [
        (f"{negatives_folder}/images/0.png", negatives.CAPTION)
    ] * clipart_mini.NEGATIVE_REPEAT + [(f"{part}/images/0.png", caption) for part, caption in parts]


def test_export_without_its_runs_is_one_line_and_exit_2(tmp_path: Path) -> None:
    def export() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(RECIPES / "clipart_mini.py"), "--work", str(tmp_path), "--only", "export"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    done = export()
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "run the 'tone' stage first" in done.stderr
    make_tiny_model_dir(tmp_path / "run-tone" / "export")
    done = export()
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "run the 'tone2' stage first" in done.stderr


def test_export_writes_the_mean_of_its_runs_in_fp16_and_it_loads(tmp_path: Path) -> None:
    import clipart_mini
    from safetensors.torch import load_file

    from clipart.models.guide import load_model

    runs = [make_tiny_model_dir(tmp_path / f"run{seed}", seed=seed) for seed in (0, 1)]
    attribution = tmp_path / "ATTRIBUTION.md"
    attribution.write_text("# the sets\n", encoding="utf-8")
    clipart_mini.export_fp16([(runs[0], "a"), (runs[1], "b")], tmp_path / "soup", attribution)
    clipart_mini.export_fp16([(runs[0], "a")], tmp_path / "one", attribution)

    first, second = (load_file(str(run / "open_clip_model.safetensors")) for run in runs)
    soup = load_file(str(tmp_path / "soup" / "open_clip_model.safetensors"))
    one = load_file(str(tmp_path / "one" / "open_clip_model.safetensors"))
    assert soup.keys() == first.keys() and all(v.dtype == torch.float16 for v in soup.values())
    for name in first:
        assert torch.equal(soup[name], ((first[name] + second[name]) / 2).half()), name
        assert torch.equal(one[name], first[name].half()), name
    assert not torch.equal(soup["text_projection"], one["text_projection"])
    assert (tmp_path / "soup" / "ATTRIBUTION.md").read_text(encoding="utf-8") == "# the sets\n"
    guide = load_model(f"local-dir:{tmp_path / 'soup'}", device="cpu")
    assert torch.equal(guide.model.text_projection.detach(), soup["text_projection"].float())


def test_export_refuses_to_average_runs_of_different_architectures(tmp_path: Path) -> None:
    import clipart_mini
    from conftest import TINY_CFG

    wider = {**TINY_CFG, "embed_dim": TINY_CFG["embed_dim"] * 2}
    runs = [make_tiny_model_dir(tmp_path / "a"), make_tiny_model_dir(tmp_path / "b", cfg=wider)]
    (tmp_path / "ATTRIBUTION.md").write_text("# the sets\n", encoding="utf-8")
    with pytest.raises(icondata.RecipeError, match="differ in architecture"):
        clipart_mini.export_fp16(
            [(runs[0], "a"), (runs[1], "b")], tmp_path / "soup", tmp_path / "ATTRIBUTION.md"
        )
    assert not (tmp_path / "soup").exists()
