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
from clipart.errors import ConfigError
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
    with pytest.warns(UserWarning, match="damaged: rebuilding"):
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
