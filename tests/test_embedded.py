"""The shipped clipart-mini weights: they load offline and pass a small zero-shot check on fresh held-out data."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipart.models import EMBEDDED_DIR, list_models, load_model


def test_embedded_model_ships_small_and_loads() -> None:
    weights = EMBEDDED_DIR / "clipart-mini" / "open_clip_model.safetensors"
    assert weights.stat().st_size <= 40 * 2**20  # issue 10's budget for the default guide
    assert (EMBEDDED_DIR / "clipart-mini" / "MODEL_CARD.md").is_file()
    attribution = (EMBEDDED_DIR / "clipart-mini" / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert (
        "game-icons" in attribution and "CC-BY-3.0" in attribution
    )  # CC-BY sets credited beside the weights
    guide = load_model("clipart-mini", device="cpu")
    assert guide.image_size == 64 and guide.encode_text(["a red circle"]).shape[0] == 1
    assert list_models()[0][0] == "clipart-mini"


def test_the_drawing_guide_ships_its_image_tower_and_shares_clipart_minis_text_tower() -> None:
    import torch
    from safetensors import safe_open

    folder = EMBEDDED_DIR / "clipart-mini-draw"
    both = sum(
        (EMBEDDED_DIR / m / "open_clip_model.safetensors").stat().st_size for m in ("clipart-mini", folder)
    )
    assert both <= 40 * 2**20  # the budget holds for the two guides together
    with safe_open(str(folder / "open_clip_model.safetensors"), "pt") as weights:
        assert all(k.startswith("visual.") for k in weights.keys())  # noqa: SIM118 - no second text tower
    assert (folder / "MODEL_CARD.md").is_file() and "CC-BY-3.0" in (folder / "ATTRIBUTION.md").read_text()
    draw, mini = load_model("clipart-mini-draw", device="cpu"), load_model("clipart-mini", device="cpu")
    assert torch.equal(draw.encode_text(["A lighthouse."]), mini.encode_text(["a lighthouse"]))
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    assert (draw.encode_image(images) - mini.encode_image(images)).abs().max() > 0.05  # its own image tower
    assert draw.name == "clipart-mini-draw (embedded)" and "clipart-mini-draw" in dict(list_models())


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
# The model card has the full held-out figures (colours 99.2 %, shapes 92.8 %, digits 97.2 %); here the shipped
# clipart-mini 2 scored 100 %, 95.8 %, 98.8 % and 90.0 % on Noto emoji (200-way; clipart-mini 1: 98.5 %).
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
        "clipart-mini",
        data,
        templates=spec["templates"],
        device="cpu",  # the name `clipart draw` takes
    )
    assert result["images"] >= 40 and result["classes"] >= 10
    assert result["top1"] >= minimum, result


@pytest.fixture(scope="module")
def unseen_styles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Fresh renders (seed 123) of a fixed sample of the two icon sets held out of training, one CSV per set."""
    pytest.importorskip("resvg_py")
    import csv
    import json
    import random

    import icondata

    fixture = json.loads((Path(__file__).parent / "fixtures" / "heldout_icons.json").read_text())
    root = tmp_path_factory.mktemp("unseen")
    tables = {}
    for prefix, spec in fixture["sets"].items():
        rows = []
        for name, item in spec["icons"].items():
            icon = icondata.Icon(prefix, name, item["concept"], (), item["mono"], "eval", item["body"],
                                 item["width"], item["height"])  # fmt: skip
            path = root / f"{prefix}-{name}.png"
            icondata.render_icon(icon, (0, 0, 0), 64, random.Random(f"123 {name}")).save(path)
            rows.append((path.name, item["concept"]))
        tables[prefix] = root / f"{prefix}.csv"
        with open(tables[prefix], "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([("filepath", "label"), *rows])
    return tables


# (held-out set, minimum top-1 over the sample's 60 names). The shipped clipart-mini 2 scored 90.0 % and 71.7 %
# (its second tone stage alone 93.3 % and 68.3 %), the guide before its tone stages 88.3 % and 70.0 %, before its
# variants stage 85.0 % and 63.3 %, before its line-art stage 83.3 % and 51.7 %, clipart-mini 1 68.3 % and 25.0 %:
# falling back to the level before the line art on either style, or before the variants on the monochrome one, fails.
UNSEEN = [("twemoji", 0.85), ("emojione-monotone", 0.65)]


@pytest.mark.parametrize(("prefix", "minimum"), UNSEEN, ids=[u[0] for u in UNSEEN])
def test_embedded_model_names_icons_in_styles_it_never_saw(
    unseen_styles: dict[str, Path], prefix: str, minimum: float
) -> None:
    import icondata

    from clipart.train.evaluate import evaluate_zeroshot

    result = evaluate_zeroshot("clipart-mini", unseen_styles[prefix],
                               templates=icondata.EVAL_TEMPLATES, device="cpu")  # fmt: skip
    assert result["images"] == 60 and result["classes"] == 60
    assert result["top1"] >= minimum, result


def test_embedded_model_reads_prompts_as_people_type_them(unseen_styles: dict[str, Path]) -> None:
    """A full stop, capitals or '!' leave the guide's reading of a prompt as it was: its tokenizer drops punctuation
    (open_clip's ``canonicalize`` clean, set in the model's config). Without it the shipped weights scored 20.6 %
    top-1 on twemoji with a full stop against 54.0 % plain, and this sample fails."""
    import icondata

    from clipart.train.evaluate import evaluate_zeroshot

    guide = load_model("clipart-mini", device="cpu")
    typed = guide.encode_text(["A lighthouse.", "cat!!", "a lighthouse", "cat"])
    assert float((typed[0] * typed[2]).sum()) > 0.999 and float((typed[1] * typed[3]).sum()) > 0.999
    result = evaluate_zeroshot("clipart-mini", unseen_styles["twemoji"], templates=icondata.EVAL_TEMPLATES,
                               device="cpu", punctuated=True)  # fmt: skip
    for variant in ("full_stop", "exclaimed"):
        assert result["punctuated"][variant]["top1"] >= UNSEEN[0][1], result


def test_eval_takes_the_embedded_models_name(held_out: Path, capsys: pytest.CaptureFixture) -> None:
    import json

    from clipart.cli import main

    spec = json.loads((held_out / "manifest.json").read_text())["eval"]["colours"]
    argv = ["eval", "zeroshot", "--model", "clipart-mini", "--data", str(held_out / spec["csv"]), "--json"]
    assert main([*argv, *[a for t in spec["templates"] for a in ("--template", t)]]) == 0
    assert json.loads(capsys.readouterr().out)["top1"] >= 0.9
