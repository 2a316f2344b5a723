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


def test_embedded_model_names_colours_zero_shot(tmp_path: Path) -> None:
    minidata = pytest.importorskip("clipart.train.minidata")
    from clipart.errors import ClipartError
    from clipart.train.evaluate import evaluate_zeroshot

    try:
        minidata.find_font()
    except ClipartError:
        pytest.skip("fonts-noto-color-emoji is not installed")
    data = tmp_path / "mini"
    minidata.build_mini(
        data, seed=123, emoji_limit=4, per_emoji=0, shapes=0, per_digit=0, pairs=0, eval_per_class=4
    )
    result = evaluate_zeroshot(
        "local-dir:" + str(EMBEDDED_DIR / "clipart-mini"),
        data / "eval_colours.csv",
        templates=["something {}", "{}"],
        device="cpu",
    )
    assert result["classes"] == 10 and result["images"] >= 30
    assert result["top1"] >= 0.9, result  # model card: 99.4 % on the full held-out colour set
