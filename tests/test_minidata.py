"""The clipart-mini data builder: deterministic, well-formed captions, disjoint held-out data, font errors."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import minidata
import pytest

from clipart.errors import ClipartError

pytest.importorskip("emoji")
pytest.importorskip("sklearn")

try:
    FONT = minidata.find_font()
except ClipartError:
    FONT = None
needs_font = pytest.mark.skipif(FONT is None, reason="fonts-noto-color-emoji is not installed")

TINY = {
    "per_emoji": 2,
    "shapes": 40,
    "per_digit": 1,
    "pairs": 10,
    "eval_per_class": 2,
    "emoji_limit": 8,
    "size": 48,
}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mini") / "data"
    minidata.build_mini(out, seed=3, **TINY)
    return out


@needs_font
def test_two_builds_are_byte_identical_and_the_seed_matters(built: Path, tmp_path: Path) -> None:
    again = minidata.build_mini(tmp_path / "again", seed=3, workers=2, **TINY)
    assert _digests(tmp_path / "again") == _digests(built)
    assert again["counts"] == json.loads((built / "manifest.json").read_text())["counts"]
    minidata.build_mini(tmp_path / "other", seed=4, **TINY)
    other = _digests(tmp_path / "other")
    same = [
        name
        for name, digest in _digests(built).items()
        if name.startswith("images/emoji/") and other[name] == digest
    ]
    assert not same, same


@needs_font
def test_tables_list_existing_pictures_with_well_formed_captions(built: Path) -> None:
    from PIL import Image

    manifest = json.loads((built / "manifest.json").read_text())
    train, val = _rows(built / "train.csv"), _rows(built / "val.csv")
    assert manifest["counts"]["train"] == len(train) == 8 * 2 + 40 + 1438 + 10
    kinds = {row["filepath"].split("/")[1] for row in train}
    assert kinds == {"emoji", "shapes", "digits", "pairs"}
    for row in train + val:
        caption = row["caption"]
        assert (
            caption == caption.strip() and "  " not in caption and "{" not in caption and "_" not in caption
        )
        assert caption.isascii() and caption == caption.lower(), caption
        assert not re.search(r"\ban [^aeiou]", caption) or caption.startswith(
            ("an ok", "an ng", "an sos", "an x")
        ), caption
        assert not re.search(r"\ba [aeiou](?!ne|ni|se|u)", caption), caption
        assert len(caption.split()) <= 30
        assert not os.path.isabs(row["filepath"])
    for row in train[::97] + val[::37]:
        with Image.open(built / row["filepath"]) as image:
            assert image.format == "PNG" and image.mode == "RGB" and image.size == (48, 48)
    assert {row["caption"] for row in train if "/pairs/" in row["filepath"]} & {
        c
        for c in (row["caption"] for row in train)
        if re.search(r" (next to|above|below|beside|under|over|left of|right of|and) ", c)
    }


@needs_font
def test_eval_sets_are_labelled_held_out_and_disjoint_from_training(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    train = _rows(built / "train.csv")
    val_paths = {row["filepath"] for row in _rows(built / "val.csv")}
    train_paths = {row["filepath"] for row in train}
    assert not train_paths & val_paths
    train_hashes = {hashlib.sha256((built / p).read_bytes()).digest() for p in train_paths}
    for name, spec in manifest["eval"].items():
        rows = _rows(built / spec["csv"])
        assert rows and {row["label"] for row in rows} <= set(spec["classes"]), name
        assert {row["filepath"] for row in rows} <= val_paths, name
        assert (
            not {hashlib.sha256((built / row["filepath"]).read_bytes()).digest() for row in rows}
            & train_hashes
        )
    emoji = _rows(built / "eval_emoji.csv")
    assert len(emoji) == 8 and {row["label"] for row in emoji} == set(manifest["eval"]["emoji"]["classes"])
    assert {row["label"] for row in _rows(built / "eval_digits.csv")} == set("0123456789")
    digits_train = {int(Path(p).name[:4]) for p in train_paths if p.startswith("images/digits/")}
    digits_eval = {int(Path(row["filepath"]).name[:4]) for row in _rows(built / "eval_digits.csv")}
    assert len(digits_eval) == 359 and len(digits_train) == 1438 and not digits_train & digits_eval


def test_emoji_labels_and_articles() -> None:
    import minidata_text as text

    assert text.emoji_label(":horse_face:") == "horse face"
    assert text.emoji_label(":three_o\u2019clock:") == "three o'clock"
    assert text.emoji_label(":pi\u00f1ata:") == "pinata"
    assert [text.article(w) for w in ("apple", "one", "unicorn", "umbrella", "hourglass", "cupcake")] == [
        "an apple", "a one", "a unicorn", "an umbrella", "an hourglass", "a cupcake",
    ]  # fmt: skip
    assert text.position_words(0.2, 0.5) == "on the left"
    assert text.position_words(0.8, 0.2) == "at the top right"


def test_missing_font_says_how_to_install_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "NotoColorEmoji.ttf"
    script = Path(minidata.__file__)
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / "out"), "--font", str(missing)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert (
        done.returncode == 2 and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    )
    assert "apt-get install fonts-noto-color-emoji" in done.stderr and "--font" in done.stderr
    assert not (tmp_path / "out").exists()


def test_font_search_fails_clearly_without_any_font(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(minidata, "FONT_PATHS", (str(tmp_path / "none.ttf"),))
    monkeypatch.setenv("CLIPART_EMOJI_FONT", str(tmp_path / "also-none.ttf"))
    with pytest.raises(ClipartError, match="apt-get install fonts-noto-color-emoji"):
        minidata.find_font()
    not_a_font = tmp_path / "fake.ttf"
    not_a_font.write_bytes(b"not a font")
    with pytest.raises(ClipartError, match="cannot use .* as the emoji font"):
        minidata.build_mini(tmp_path / "out", font=not_a_font, **TINY)
    assert not (tmp_path / "out").exists()


@needs_font
def test_refuses_to_overwrite_a_folder_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ClipartError, match="--overwrite"):
        minidata.build_mini(out, **TINY)
    assert (out / "keep.txt").read_text() == "mine"
    minidata.build_mini(out, overwrite=True, **{**TINY, "per_digit": 0, "shapes": 0, "pairs": 0})
    assert (out / "train.csv").is_file() and not (out / "keep.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left behind
    with pytest.raises(ClipartError, match="--size"):
        minidata.build_mini(tmp_path / "x", size=8)
