"""The shipped clipart-mini weights: they load offline and pass a small zero-shot check on fresh held-out data."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipart.models import EMBEDDED_DIR, list_models, load_model


def test_embedded_model_ships_small_and_loads() -> None:
    weights = EMBEDDED_DIR / "clipart-mini" / "open_clip_model.safetensors"
    assert weights.stat().st_size <= 25 * 2**20
    assert (EMBEDDED_DIR / "clipart-mini" / "MODEL_CARD.md").is_file()
    guide = load_model("clipart-mini", device="cpu")
    assert guide.image_size == 64 and guide.encode_text(["a red circle"]).shape[0] == 1
    assert list_models()[0][0] == "clipart-mini"


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fresh held-out data (seed 123; clipart-mini was trained on seed 0): colour, shape, digit and emoji renders."""
    minidata = pytest.importorskip("minidata")
    from clipart.errors import ClipartError

    try:
        minidata.find_font()
    except ClipartError:
        pytest.skip("fonts-noto-color-emoji is not installed")
    data = tmp_path_factory.mktemp("held-out") / "mini"
    minidata.build_mini(data, seed=123, per_emoji=0, shapes=0, per_digit=0, pairs=0, eval_per_class=4)
    return data


def _sample_rows(csv_path: Path, n: int, seed: int) -> Path:
    """A fixed random sample of a labelled CSV's rows, written beside it."""
    import csv
    import random

    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    picked = random.Random(seed).sample(rows, n)
    out = csv_path.with_name(f"sample_{csv_path.name}")
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    return out


# (held-out set, rows sampled or None for all, minimum top-1): issue 4's bars less a margin for the small samples.
# The model card has the full held-out figures (colours 99.6 %, shapes 91.5 %, digits 97.8 %, emoji 88.7 % of
# 1,377 names); here the shipped weights scored 100 %, 95.8 %, 100 % and 98.5 % (200-way).
CHECKS = [
    ("colours", None, 0.9),
    ("shapes", None, 0.85),
    ("digits", 80, 0.85),
    ("emoji", 200, 0.8),
]


@pytest.mark.parametrize(("name", "rows", "minimum"), CHECKS, ids=[c[0] for c in CHECKS])
def test_embedded_model_zero_shot(held_out: Path, name: str, rows: int | None, minimum: float) -> None:
    import json

    from clipart.train.evaluate import evaluate_zeroshot

    spec = json.loads((held_out / "manifest.json").read_text())["eval"][name]
    data = held_out / spec["csv"]
    if rows is not None:
        data = _sample_rows(data, rows, seed=7)
    result = evaluate_zeroshot(
        "local-dir:" + str(EMBEDDED_DIR / "clipart-mini"), data, templates=spec["templates"], device="cpu"
    )
    assert result["images"] >= 40 and result["classes"] >= 10
    assert result["top1"] >= minimum, result
