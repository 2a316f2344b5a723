"""CLIP search: the index beside the folder (built once, updated, rebuilt when damaged), queries, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

import clipart
from clipart.errors import ClipartError, ConfigError
from clipart.models import parse_spec
from clipart.search_index import index_path

COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"]


@pytest.fixture
def folder(tmp_path: Path, tiny_model: str) -> Path:
    root = tmp_path / "pictures"
    (root / "sub").mkdir(parents=True)
    for k, colour in enumerate(COLOURS):
        image = Image.new("RGB", (48, 40), "white")
        ImageDraw.Draw(image).rectangle((4 * k, 4, 30 + 2 * k, 36), fill=colour)
        image.save(root / ("sub" if k % 2 else "") / f"{colour}.png")
    clipart.draw("a cat", model=tiny_model, strokes=6, steps=2, size=32, views=2, device="cpu").save(
        root / "cat.svg"
    )
    (root / "notes.txt").write_text("not searched")
    (root / "broken.png").write_bytes(b"not a png")
    return root


def test_the_index_is_built_once_and_follows_the_folder(folder: Path, tiny_model: str) -> None:
    calls = []
    index = clipart.build_index(
        folder, tiny_model, device="cpu", progress=lambda done, total: calls.append(total)
    )
    assert len(index.files) == 7 and index.skipped == ["broken.png"] and calls[-1] == 8
    assert "sub/green.png" in index.files and "cat.svg" in index.files
    stored = index_path(folder, parse_spec(tiny_model))
    assert stored.is_file() and stored.parent == folder
    first = stored.stat().st_mtime_ns
    calls.clear()
    again = clipart.build_index(folder, tiny_model, device="cpu", progress=lambda d, t: calls.append(t))
    assert calls == [1] and again.files == index.files  # only the unreadable file is tried again
    assert (again.embeddings == index.embeddings).all()
    time.sleep(0.01)
    Image.new("RGB", (40, 40), "black").save(folder / "red.png")  # changed
    (folder / "sub" / "green.png").unlink()  # removed
    calls.clear()
    updated = clipart.build_index(folder, tiny_model, device="cpu", progress=lambda d, t: calls.append(t))
    assert calls == [2] and "sub/green.png" not in updated.files and stored.stat().st_mtime_ns != first
    row = updated.files.index("red.png")
    assert not (updated.embeddings[row] == index.embeddings[index.files.index("red.png")]).all()


def test_a_damaged_index_is_rebuilt_not_trusted(folder: Path, tiny_model: str) -> None:
    index = clipart.build_index(folder, tiny_model, device="cpu")
    stored = index_path(folder, parse_spec(tiny_model))
    stored.write_bytes(stored.read_bytes()[:100])
    with pytest.warns(UserWarning, match="damaged: rebuilt it"):
        rebuilt = clipart.build_index(folder, tiny_model, device="cpu")
    assert rebuilt.files == index.files and (rebuilt.embeddings - index.embeddings).abs().max() < 1e-6


def test_queries_rank_the_folder(folder: Path, tiny_model: str, device: str) -> None:
    hits = clipart.search(image=folder / "sub" / "yellow.png", folder=folder, model=tiny_model, device=device)
    assert hits[0].path == folder / "sub" / "yellow.png" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True) and len(hits) == 7
    top = clipart.search("a cat", folder, model=tiny_model, top=3, device=device)
    assert len(top) == 3 and all(h.path.is_file() for h in top)
    for bad, words in (({}, "one of the two"), ({"query": "x", "image": "y.png"}, "one of the two"),
                       ({"query": "x", "top": 0}, "--top must be")):  # fmt: skip
        with pytest.raises(ConfigError, match=words):
            clipart.search(folder=folder, model=tiny_model, device="cpu", **bad)


def test_the_search_command(folder: Path, tiny_model: str, tmp_path: Path) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "clipart", "search", *args, "--model", tiny_model, "-q"],
                              capture_output=True, text=True, env=env, timeout=120)  # fmt: skip

    table = run("--image", str(folder / "blue.png"), str(folder), "--top", "2")
    assert table.returncode == 0, table.stderr
    first = table.stdout.splitlines()[0].split()
    assert float(first[0]) == pytest.approx(1.0, abs=1e-3) and first[1] == str(folder / "blue.png")
    lines = [json.loads(line) for line in run("a red square", str(folder), "--json").stdout.splitlines()]
    assert len(lines) == 7 and {"score", "path"} == set(lines[0])
    empty = tmp_path / "empty"
    empty.mkdir()
    for args, words in (([str(folder)], "give a text query and a folder"), (["x", str(empty)], "holds no images"),
                        (["x", str(tmp_path / "nope")], "search folder not found"),
                        (["--image", str(tmp_path / "no.png"), str(folder)], "does not exist")):  # fmt: skip
        proc = run(*args)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr


def _run_search(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "clipart", "search", *args], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def _indexes(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".clipart-index-*"))


def _bad_queries(folder: Path, tmp_path: Path) -> list[tuple[dict, str]]:
    (tmp_path / "no-strokes.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><rect/></svg>'
    )
    (tmp_path / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    cases = [({"top": t}, "--top must be a whole number") for t in (0, -1, True, 2.5, "3")]
    cases += [({"query": q}, "one of the two") for q in ("", "   ")]
    cases += [({"query": "x" * 10_001}, "the query is too long"), ({"query": "caf\udce9"}, "not valid text")]
    cases += [({"query": None, "image": tmp_path / name}, words) for name, words in
              (("missing.png", "does not exist"), ("no-strokes.svg", "no <path> strokes"),
               ("cut.png", "cannot be read"), (".", "does not exist"))]  # fmt: skip
    cases += [({"query": "x", "image": folder / "red.png"}, "one of the two")]
    cases += [({"device": d}, "device") for d in ("tpu", "cuda:x", "cpu0", "")]
    cases += [({"model": m}, "model") for m in ("NoSuchNet", f"local-dir:{tmp_path / 'nope'}", "")]
    return cases


def test_every_argument_is_checked_before_the_folder_is_listed_or_embedded(
    folder: Path, tiny_model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import clipart.search_index as search_index

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the folder was listed or a model loaded before the arguments were checked")

    monkeypatch.setattr(search_index, "_files", never)
    monkeypatch.setattr(search_index, "load_model", never)
    for bad, words in _bad_queries(folder, tmp_path):
        options = {"query": "a cat", "model": tiny_model, "device": "cpu", **bad}
        with pytest.raises(ClipartError, match=words) as info:
            clipart.search(options.pop("query"), folder, **options)
        assert "\n" not in str(info.value)
    assert _indexes(folder) == []


def test_the_search_command_refuses_bad_arguments_before_indexing(
    folder: Path, tiny_model: str, tmp_path: Path
) -> None:
    for argv, words in (
        (["x", str(folder), "--top", "0"], "--top must be a whole number of at least 1, got 0"),
        (["--image", str(tmp_path / "no.png"), str(folder)], "does not exist"),
        (["x", str(folder), "--device", "tpu"], "device must be auto, cpu, cuda[:N] or mps"),
        (["x", str(folder), "--model", "NoSuchNet"], "unknown model 'NoSuchNet'"),
        (["x", str(folder / "red.png")], "is a file: give the folder to search"),
        (["x", ""], "give the folder to search, got ''"),
    ):
        proc = _run_search(*argv, *([] if "--model" in argv else ["--model", tiny_model]))
        lines = proc.stderr.splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("clipart: error: "), (
            proc.stderr
        )
        assert words in lines[0] and proc.stdout == ""
        assert _indexes(folder) == []  # nothing was embedded, nothing written


def test_a_folder_with_nothing_readable_gets_no_index_and_one_line(tiny_model: str, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"not a png")
    (folder / "b.svg").write_text("<svg")
    with pytest.raises(ConfigError, match=r"none of the 2 image\(s\) and SVG\(s\) of .* could be read"):
        clipart.build_index(folder, tiny_model, device="cpu")
    assert _indexes(folder) == []
    stored = index_path(folder, parse_spec(tiny_model))
    stored.write_bytes(b"damaged")  # a damaged index and nothing readable: the refusal alone, no warning
    proc = _run_search("x", str(folder), "--model", tiny_model, "-q")
    assert proc.returncode == 2 and "warning" not in proc.stderr, proc.stderr
    assert proc.stderr.splitlines() == [
        f"clipart: error: none of the 2 image(s) and SVG(s) of {folder} could be read (e.g. a.png): nothing to search"
    ]
    assert stored.read_bytes() == b"damaged"


def test_an_index_of_a_model_exported_again_in_place_is_rebuilt(folder: Path, tmp_path: Path) -> None:
    from conftest import TINY_CFG, make_tiny_model_dir

    model_dir = make_tiny_model_dir(tmp_path / "model")
    spec = f"local-dir:{model_dir}"
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        first = clipart.build_index(folder, spec, device="cpu")
    assert first.embeddings.shape[1] == 32
    wider = {**TINY_CFG, "embed_dim": 48}
    make_tiny_model_dir(model_dir, seed=1, cfg=wider)  # the same name, another width
    with pytest.warns(UserWarning, match="made by another model .*: rebuilt it"):
        hits = clipart.search("a cat", folder, model=spec, device="cpu", top=3)
    assert len(hits) == 3
    again = clipart.build_index(folder, spec, device="cpu")
    assert again.embeddings.shape == (7, 48) and again.files == first.files
    make_tiny_model_dir(model_dir, seed=2, cfg=wider)  # the same width, other weights: not trusted either
    with pytest.warns(UserWarning, match="made by another model"):
        third = clipart.build_index(folder, spec, device="cpu")
    assert not (third.embeddings - again.embeddings).abs().max() < 1e-3


def test_an_index_of_another_width_given_to_search_is_one_line(folder: Path, tiny_model: str) -> None:
    import torch

    index = clipart.build_index(folder, tiny_model, device="cpu")
    index.embeddings = torch.zeros(len(index.files), 5)
    with pytest.raises(ConfigError, match="made by another model"):
        clipart.search("a cat", folder, model=tiny_model, device="cpu", index=index)


def test_a_read_only_folder_is_searched_without_saving(folder: Path, tiny_model: str, monkeypatch) -> None:
    import clipart.search_index as search_index

    def refuse(*_: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(search_index, "atomic_write", refuse)
    with pytest.warns(UserWarning, match="cannot save the search index .*Permission denied"):
        hits = clipart.search("a cat", folder, model=tiny_model, device="cpu")
    assert len(hits) == 7 and _indexes(folder) == []


def test_hidden_folders_above_the_search_folder_do_not_hide_its_files(
    tiny_model: str, tmp_path: Path
) -> None:
    folder = tmp_path / ".cache" / "pictures"
    (folder / ".hidden").mkdir(parents=True)
    Image.new("RGB", (8, 8), "red").save(folder / "red.png")
    Image.new("RGB", (8, 8), "blue").save(folder / ".hidden" / "blue.png")
    assert clipart.build_index(folder, tiny_model, device="cpu").files == ["red.png"]
