"""The scene benchmark (benchmarks/bench_scenes.py): its prompt list reads as it says, and its measures can fail."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_scenes  # noqa: E402
from scene_prompts import PROMPTS  # noqa: E402

from clipart.compose import MAX_COUNT, Plan, cap, compose, parse  # noqa: E402
from clipart.start import load_bank  # noqa: E402


def test_the_list_holds_minimal_pairs_of_every_category() -> None:
    assert len(PROMPTS) >= 60 and len({p.text for p in PROMPTS}) == len(PROMPTS)
    assert {p.category for p in PROMPTS} == {"count", "colour", "relation", "setting", "mixed", "plain"}
    assert min(Counter(p.group for p in PROMPTS).values()) >= 2  # each group has a pair at least
    assert bench_scenes.MAX_COUNT == MAX_COUNT


@pytest.mark.parametrize("p", PROMPTS, ids=lambda p: p.text)
def test_the_composer_reads_each_prompt_as_the_list_says(p) -> None:  # noqa: ANN001
    bank = load_bank()
    plan = parse(p.text, bank)
    assert plan is not None and plan.plain == (p.category == "plain")
    things = [(bank.concepts[t.concepts[0]], min(t.count, MAX_COUNT), t.colour) for t in plan.things]
    assert things == [(name, min(count, MAX_COUNT), colour) for name, count, colour in p.things]
    assert [(r.subject, r.kind, r.object) for r in plan.relations] == list(p.relations)
    assert list(plan.settings) == ([p.setting] if p.setting else [])
    assert all(len(t.concepts) == 1 for t in plan.things)  # whole names: no guide's choice in the figures


def test_the_measures_hold_for_a_composed_start_and_fail_when_it_is_lost() -> None:
    bank = load_bank()
    p = next(q for q in PROMPTS if q.text == "a red cat on a blue chair")
    parsed = parse(p.text, bank)
    plan = cap(
        Plan(tuple(replace(t, concepts=t.concepts[:1]) for t in parsed.things), parsed.relations), bank
    )
    start = compose(plan, bank, 0)
    figures = bench_scenes.measure(p, start.scene, start.scene, start.layout)
    assert all(hit == total for hit, total in figures.values()) and figures["colour_end"] == (2, 2)
    lost = start.scene.snapshot()
    (a, b), (c, d) = start.layout["things"][0]["strokes"][0], start.layout["things"][1]["strokes"][0]
    lost.colors[a:b, 3] = 0.0  # the cat faded away
    lost.colors[c:d, :3] = torch.tensor([1.0, 0.0, 0.0])  # the chair turned red
    figures = bench_scenes.measure(p, start.scene, lost, start.layout)
    assert (
        figures["alive_end"] == (1, 2)
        and figures["colour_end"] == (0, 2)
        and figures["relation_end"] == (0, 1)
    )
    scrambled = start.scene.snapshot()
    noise = torch.randn(scrambled.points[c:d].shape, generator=torch.Generator().manual_seed(0))
    scrambled.points[c:d] += 0.1 * noise
    assert bench_scenes.measure(p, start.scene, scrambled, start.layout)["alive_end"] == (
        1,
        2,
    )  # a lost chair


def test_the_judges_forced_choice_picks_one_prompt_of_each_group(tiny_model_dir: Path) -> None:
    from PIL import Image

    group = [p for p in PROMPTS if p.group == "cat-colour"]
    judge = bench_scenes.GroupJudge(tiny_model_dir, tuple(group))
    image = Image.new("RGB", (64, 64), (200, 30, 30))
    margins = [judge.margin(p, image) for p in group]
    assert sum(m > 0 for m in margins) == 1  # the judge's one choice; every other prompt trails it
    best = max(margins)
    assert all(m == best or m < 0 for m in margins) and best > 0


def test_rescore_judges_the_saved_starts_and_ends(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    group = [p for p in PROMPTS if p.group == "cat-colour"]
    judge = bench_scenes.GroupJudge(tiny_model_dir, tuple(PROMPTS))
    colours = [(200, 30, 30), (30, 30, 200), (30, 200, 30), (20, 20, 20), (240, 240, 240), (120, 30, 160)]
    expected = {"start": 0, "end": 0}
    for p, colour in zip(group, colours, strict=True):
        end_file, start_file = bench_scenes._files(p, 0)
        for when, name, fill in (("start", start_file, (255, 255, 255)), ("end", end_file, colour)):
            image = Image.new("RGB", (224, 224), fill)
            image.save(tmp_path / name)
            expected[when] += judge.margin(p, image) > 0
    assert bench_scenes.rescore(group, tmp_path, judge, 0) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1].split()
    assert last[:4] == ["all", str(len(group)), str(expected["start"]), str(expected["end"])]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "view_samples=99"], "view_samples must be"),
        (["--set", "views"], "give KEY=VALUE"),
        (["--rescore", ".", "--judge", ".", "--set", "views=2"], "do not apply"),
    ],
)
def test_bad_settings_are_refused_before_any_drawing(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["bench_scenes.py", "--limit", "1", "--out", str(tmp_path / "out"), *argv]
    )
    with pytest.raises(SystemExit) as exit_:
        bench_scenes.main()
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
