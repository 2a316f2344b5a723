"""Writing outputs: slugs distinct for any script, sets of files written whole and never over another's, and
where `--out` points (clipart/output.py and the planning of clipart/drawing.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clipart.batch import read_prompts_file
from clipart.drawing import SUFFIXES, free_seed, plan_outputs
from clipart.errors import ConfigError
from clipart.output import slug, write_files

KINDS = ("svg", "png", "json")


def test_slugs_keep_ascii_names_and_differ_for_any_script() -> None:
    assert slug("A horse, eating!") == "a-horse-eating" and slug("a red circle") == "a-red-circle"
    assert slug("Café naïve Straße") == "cafe-naive-strasse" and slug("ｃａｔ") == "cat"  # transliterated
    assert slug("") == "drawing" and slug("x" * 100) == "x" * 48
    texts = ["кот", "собака", "一只猫", "猫", "猫猫", "🐱", "🐶", "a 🐱", "a 🐶", "!!!", "???", "łódź", "lodz",
             "日本語" * 40, "日本語" * 41, "\ud800"]  # fmt: skip
    slugs = [slug(t) for t in texts]
    assert len(set(slugs)) == len(texts), slugs
    assert all(s and len(s) <= 48 and s.isascii() and s.replace("-", "").isalnum() for s in slugs), slugs
    assert slug("кот") == slug("кот") and slug("a 🐱").startswith("a-")  # stable, keeps what is ASCII


def test_a_set_of_files_never_lands_over_another(tmp_path: Path) -> None:
    a, b = tmp_path / "x.svg", tmp_path / "x.png"
    b.write_bytes(b"theirs")
    with pytest.raises(FileExistsError):
        write_files({a: b"1", b: b"2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png"] and b.read_bytes() == b"theirs"
    write_files({a: b"1", b: b"2"}, replace=True)
    assert a.read_bytes() == b"1" and b.read_bytes() == b"2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png", "x.svg"]  # no temporary file left


def test_a_name_taken_after_planning_moves_the_set_aside(tmp_path: Path) -> None:
    import torch

    from clipart.config import make_config
    from clipart.drawing import Drawing
    from clipart.scene import Scene

    cfg = make_config("a cat", size=16)
    drawing = Drawing(Scene.random(4, generator=torch.Generator().manual_seed(0)), cfg, 0.0, 1)
    paths = plan_outputs(f"{tmp_path}/", "a cat", 0, KINDS)
    (tmp_path / "a-cat-s0.png").write_bytes(b"another process's")
    written = drawing.save_all(paths)
    assert [p.name for p in written.values()] == [f"a-cat-s0-2.{k}" for k in KINDS]
    assert (tmp_path / "a-cat-s0.png").read_bytes() == b"another process's"
    assert not (tmp_path / "a-cat-s0.svg").exists()  # no half set under the taken name


@pytest.mark.parametrize(
    "out, words",
    [
        ("note.txt/", "note.txt is a file, not a folder"),
        ("note.txt/.", "note.txt is a file, not a folder"),
        ("note.txt/..", "note.txt is a file, not a folder"),
        ("note.txt/x.svg", "note.txt is a file, not a folder"),
        ("note.txt/new/", "note.txt is a file, not a folder"),
        ("note.txt", "note.txt is a file, not a folder"),
        ("mine.svg/", "mine.svg is a file, not a folder"),
        ("mine.svg/..", "mine.svg is a file, not a folder"),
        ("link/", "link is a broken link, not a folder"),
        ("box.png", "--out {tmp}/box.png is a folder: end it with / to write into it"),
        ("a/b/c/", "output folder does not exist: {tmp}/a/b/c (clipart makes a new folder only inside"),
        ("out.v2", "give a file ending in .svg, .png, .json, .gif, or a folder (a new folder with a dot"),
        ("  ", "--out is empty"),
        ("x" * 300 + ".svg", "is too long: 304 bytes"),
    ],
)
def test_out_paths_that_cannot_be_written_are_named_for_what_they_are(
    out: str, words: str, tmp_path: Path
) -> None:
    (tmp_path / "note.txt").write_text("keep")
    (tmp_path / "mine.svg").write_text("keep")
    (tmp_path / "box.png").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    before = sorted(tmp_path.rglob("*"))
    target = out if not out.strip() else f"{tmp_path}/{out}"
    for force in (False, True):
        with pytest.raises(ConfigError) as e:
            plan_outputs(target, "a cat", 0, KINDS, force)
        assert words.format(tmp=tmp_path) in str(e.value) and "--force" not in str(e.value)
    assert sorted(tmp_path.rglob("*")) == before
    assert (tmp_path / "note.txt").read_text() == (tmp_path / "mine.svg").read_text() == "keep"


def test_a_folder_takes_free_names_a_named_file_is_refused_and_inputs_are_never_outputs(
    tmp_path: Path,
) -> None:
    folder = f"{tmp_path}{os.sep}"
    assert free_seed(folder, "a cat", 0) == 0
    for seed in (0, 1):
        (tmp_path / f"a-cat-s{seed}.gif").write_bytes(b"")  # any kind of an earlier drawing takes its seed
    (tmp_path / "a-cat-s2.svg").mkdir()  # so does a folder of that name
    assert free_seed(folder, "a cat", 0) == 3 and free_seed(folder, "a cat", 7) == 7
    assert free_seed(f"{tmp_path}/x.svg", "a cat", 0) == 0  # a named file does not depend on the seed
    assert plan_outputs(folder, "a cat", 1, KINDS)["svg"].name == "a-cat-s1-2.svg"
    with pytest.raises(ConfigError, match="a-cat-s2.svg is a folder, not a file"):
        plan_outputs(folder, "a cat", 2, KINDS, force=True)
    assert plan_outputs(folder, "a cat", 1, KINDS, force=True)["svg"].name == "a-cat-s1.svg"
    (tmp_path / "cat.png").write_bytes(b"photo")
    with pytest.raises(ConfigError, match="cat.png already exists: use --force"):
        plan_outputs(f"{tmp_path}/cat.svg", "a cat", 0, KINDS)
    with pytest.raises(ConfigError, match=r"cat.png is an input of this drawing"):
        plan_outputs(f"{tmp_path}/cat.svg", "a cat", 0, KINDS, True, inputs=[str(tmp_path / "cat.png")])
    paths = plan_outputs(f"{tmp_path}/CAT.SVG", "a cat", 0, KINDS)
    assert [p.name for p in paths.values()] == ["CAT.SVG", "CAT.png", "CAT.json"]  # the name given, as given
    assert SUFFIXES == (".svg", ".png", ".json", ".gif")


def test_without_hard_links_a_name_is_reserved_then_filled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    a = tmp_path / "x.svg"
    write_files({a: b"1"})
    assert a.read_bytes() == b"1"
    with pytest.raises(FileExistsError):
        write_files({tmp_path / "y.svg": b"2", a: b"3"})
    assert a.read_bytes() == b"1" and sorted(p.name for p in tmp_path.iterdir()) == ["x.svg"]


def test_a_tilde_for_no_known_user_is_a_plain_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    paths = plan_outputs(
        "~nosuchuser-clipart.d/", "a cat", 0, KINDS
    )  # Path.expanduser would raise RuntimeError
    assert paths["svg"] == Path("~nosuchuser-clipart.d/a-cat-s0.svg")
    with pytest.raises(ConfigError, match="prompts file not found: ~nosuchuser-clipart/p.txt"):
        read_prompts_file("~nosuchuser-clipart/p.txt")
