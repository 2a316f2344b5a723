"""CLIP search: embed a folder of images and SVGs once (an index file beside them), rank them by a text or an
image query.

The index (``.clipart-index-<model>.safetensors`` in the folder) holds one L2-normalised embedding a file, with the
file's size and modification time: a later search embeds only new or changed files and drops removed ones. A
damaged index is rebuilt, never trusted. SVGs are rasterised first with clipart's own renderer (clipart drawings
and other SVGs made of open cubic strokes; other SVGs are skipped and counted).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from clipart.errors import ClipartError, ConfigError
from clipart.imagefile import IMAGE_EXTENSIONS, as_tensor, open_image
from clipart.models import ModelSpec, load_model, parse_spec
from clipart.output import atomic_write, slug

INDEX_PREFIX = ".clipart-index-"
BATCH = 64


@dataclass(frozen=True)
class SearchHit:
    """One ranked file: its cosine similarity to the query and its path."""

    score: float
    path: Path


@dataclass
class Index:
    """The embeddings of a folder's files under one guide."""

    folder: Path
    files: list[str]  # relative to the folder
    stamps: list[tuple[int, int]]  # (size, mtime_ns) when embedded
    embeddings: torch.Tensor  # [N, D]
    skipped: list[str]


def index_path(folder: Path, spec: ModelSpec) -> Path:
    """Where a folder's index for ``spec`` lives."""
    return folder / f"{INDEX_PREFIX}{slug(str(spec), 60)}.safetensors"


def _files(folder: Path) -> list[str]:
    suffixes = IMAGE_EXTENSIONS | {".svg"}
    found = [p for p in folder.rglob("*") if p.suffix.lower() in suffixes and p.is_file()]
    return sorted(
        str(p.relative_to(folder)) for p in found if not any(part.startswith(".") for part in p.parts)
    )


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def _load(path: Path) -> tuple[dict[str, tuple[tuple[int, int], torch.Tensor]], bool]:
    """The stored embeddings by file, and whether an index file was there but unreadable."""
    if not path.is_file():
        return {}, False
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["files"])
            embeddings = f.get_tensor("embeddings")
        if len(meta) != embeddings.shape[0] or embeddings.ndim != 2:
            raise ValueError("sizes differ")
        return {name: (tuple(stamp), embeddings[i]) for i, (name, stamp) in enumerate(meta)}, False
    except Exception:  # any damage: rebuild
        return {}, True


def _picture(path: Path, size: int) -> torch.Tensor:
    """A file as the guide sees it: ``[3, size, size]`` in [0, 1]."""
    if path.suffix.lower() == ".svg":
        from clipart.render import render
        from clipart.svg import read_svg_file

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # partly readable SVGs: what can be read is searched
            scene = read_svg_file(path)
        with torch.no_grad():
            return render(scene, size)
    return as_tensor(open_image(path, "image"), size)


def build_index(
    folder: str | Path,
    model: str | ModelSpec = "clipart-mini",
    *,
    device: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> Index:
    """The index of ``folder`` under ``model``, updated for new, changed and removed files, and saved.

    ``progress(done, total)`` is called as files are embedded. ClipartError when the folder holds no image or SVG.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"search folder not found: {folder}")
    spec = parse_spec(model)
    names = _files(folder)
    if not names:
        raise ConfigError(
            f"{folder} holds no images or SVGs to search ({', '.join(sorted(IMAGE_EXTENSIONS))}, .svg)"
        )
    path = index_path(folder, spec)
    stored, damaged = _load(path)
    if damaged:
        warnings.warn(f"the search index {path.name} was damaged: rebuilding it", stacklevel=2)
    stamps = {name: _stamp(folder / name) for name in names}
    todo = [n for n in names if n not in stored or stored[n][0] != stamps[n]]
    guide = load_model(spec, device=device) if todo or not stored else None
    fresh: dict[str, torch.Tensor] = {}
    skipped: list[str] = []
    for start in range(0, len(todo), BATCH):
        chunk, pictures = [], []
        for name in todo[start : start + BATCH]:
            try:
                pictures.append(_picture(folder / name, guide.image_size))
                chunk.append(name)
            except ClipartError:
                skipped.append(name)
        if pictures:
            with torch.no_grad():
                feats = guide.encode_image(torch.stack(pictures).to(guide.device)).cpu()
            fresh.update(zip(chunk, feats, strict=True))
        if progress:
            progress(min(start + BATCH, len(todo)), len(todo))
    kept = [n for n in names if n in fresh or (n in stored and n not in todo)]
    vectors = [fresh[n] if n in fresh else stored[n][1] for n in kept]
    embeddings = torch.stack(vectors).float() if vectors else torch.zeros(0, 1)
    if todo or damaged or set(stored) != set(kept):
        from safetensors.torch import save

        meta = json.dumps([[n, list(stamps[n])] for n in kept])
        atomic_write(path, save({"embeddings": embeddings.contiguous()}, metadata={"files": meta}))
    return Index(folder, kept, [stamps[n] for n in kept], embeddings, skipped)


def search(
    query: str | None = None,
    folder: str | Path = ".",
    *,
    image: str | Path | None = None,
    model: str | ModelSpec = "clipart-mini",
    top: int = 8,
    device: str = "auto",
    index: Index | None = None,
) -> list[SearchHit]:
    """The ``top`` files of ``folder`` closest to a text ``query`` or to the picture ``image`` (one of the two),
    best first. The folder's index is built or updated first (see :func:`build_index`), unless given."""
    if (query is None or not str(query).strip()) == (image is None):
        raise ConfigError("give a text query or --image, one of the two")
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise ConfigError(f"--top must be a whole number of at least 1, got {top!r}")
    index = index or build_index(folder, model, device=device)
    if not index.files:
        raise ConfigError(f"none of the files of {index.folder} could be read ({len(index.skipped)} skipped)")
    guide = load_model(parse_spec(model), device=device)
    with torch.no_grad():
        if image is not None:
            target = guide.encode_image(
                _picture(Path(image).expanduser(), guide.image_size)[None].to(guide.device)
            )
        else:
            target = guide.encode_text([str(query).strip()])
    scores = index.embeddings.to(target.device) @ target[0]
    best = torch.topk(scores, min(top, len(index.files)))
    return [SearchHit(round(float(s), 5), index.folder / index.files[int(i)]) for s, i in zip(*best, strict=True)
            if math.isfinite(float(s))]  # fmt: skip
