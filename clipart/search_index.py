"""CLIP search: embed a folder of images and SVGs once (an index file beside them), rank them by a text or an
image query.

The index (``.clipart-index-<model>.safetensors`` in the folder) holds one L2-normalised embedding a file, with the
file's size and modification time, and the identity of the model that embedded them (its spec and the size and
modification time of its local files): a later search embeds only new or changed files and drops removed ones.
An index that is damaged, or that another model made (one re-exported in place with another width, say), is
rebuilt, never trusted; when nothing in the folder can be embedded, no index is written. Files are read as image
prompts are (:func:`clipart.imagefile.open_image`): raster images, and SVGs of strokes rendered by clipart's own
renderer (other SVGs are skipped and counted).

:func:`search` checks the query, ``top``, the model and the device before it lists or embeds anything.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from clipart.config import check_text
from clipart.errors import ClipartError, ConfigError
from clipart.imagefile import PICTURE_EXTENSIONS, Picture, as_tensor, open_image
from clipart.models import Guide, ModelSpec, check_device, load_model, parse_spec
from clipart.output import atomic_write, slug, user_path

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


def model_identity(spec: ModelSpec) -> str:
    """What an index records of the model that made it: the spec and its local files' sizes and times, so that a
    model exported again under the same name is known as another."""
    return json.dumps({"model": str(spec), "files": spec.version})


def _files(folder: Path) -> list[str]:
    """The pictures under ``folder``, relative to it; hidden files and folders (``.name``) below it are left out."""
    found = [p.relative_to(folder) for p in folder.rglob("*") if p.suffix.lower() in PICTURE_EXTENSIONS]
    return sorted(
        str(p) for p in found if not any(part.startswith(".") for part in p.parts) and (folder / p).is_file()
    )


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def _load(path: Path, identity: str) -> tuple[dict[str, tuple[tuple[int, int], torch.Tensor]], str]:
    """The stored embeddings by file, and what was wrong with an index file that was there ("" when nothing)."""
    if not path.is_file():
        return {}, ""
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata()
            files = json.loads(meta["files"])
            embeddings = f.get_tensor("embeddings")
        if len(files) != embeddings.shape[0] or embeddings.ndim != 2:
            raise ValueError("sizes differ")
        stored = {name: (tuple(stamp), embeddings[i]) for i, (name, stamp) in enumerate(files)}
    except Exception:  # any damage: rebuild
        return {}, "was damaged"
    if meta.get("model") != identity:
        return {}, "was made by another model (or another export of it)"
    return stored, ""


def _picture(path: Path, size: int) -> torch.Tensor:
    """A file as the guide sees it: ``[3, size, size]`` in [0, 1] (partly readable SVGs: what can be read)."""
    return as_tensor(open_image(path, "file", warn=False), size)


def _embed(
    guide: Guide, folder: Path, names: list[str], progress: Callable[[int, int], None] | None
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The embeddings of the readable files among ``names``, and the unreadable ones."""
    fresh: dict[str, torch.Tensor] = {}
    skipped: list[str] = []
    for start in range(0, len(names), BATCH):
        chunk, pictures = [], []
        for name in names[start : start + BATCH]:
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
            progress(min(start + BATCH, len(names)), len(names))
    return fresh, skipped


def _folder(folder: str | Path) -> Path:
    if not isinstance(folder, (str, Path)) or not str(folder).strip():
        raise ConfigError(f"give the folder to search, got {folder!r}")
    path = user_path(folder)
    if not path.exists():
        raise ConfigError(f"search folder not found: {path}")
    if not path.is_dir():
        raise ConfigError(f"the search folder {path} is a file: give the folder to search")
    return path


def build_index(
    folder: str | Path,
    model: str | ModelSpec = "clipart-mini",
    *,
    device: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> Index:
    """The index of ``folder`` under ``model``, updated for new, changed and removed files, and saved.

    ``progress(done, total)`` is called as files are embedded. ClipartError when the folder holds no image or SVG,
    or none that can be read (then no index is written).
    """
    spec = parse_spec(model)
    check_device(device)
    folder = _folder(folder)
    names = _files(folder)
    if not names:
        raise ConfigError(
            f"{folder} holds no images or SVGs to search ({', '.join(sorted(PICTURE_EXTENSIONS))})"
        )
    path = index_path(folder, spec)
    identity = model_identity(spec)
    stored, problem = _load(path, identity)
    stamps = {name: _stamp(folder / name) for name in names}
    todo = [n for n in names if n not in stored or stored[n][0] != stamps[n]]
    fresh: dict[str, torch.Tensor] = {}
    skipped: list[str] = []
    if todo:
        guide = load_model(spec, device=device)
        fresh, skipped = _embed(guide, folder, todo, progress)
        width = next(iter(fresh.values())).shape[0] if fresh else None
        if width is not None and any(v.shape[0] != width for _, v in stored.values()):
            problem = "was made by another model (its embeddings have another width)"
            rest = [n for n in names if n in stored and n not in todo]
            stored = {}
            more, more_skipped = _embed(guide, folder, rest, progress)
            fresh.update(more)
            skipped += more_skipped
    kept = [n for n in names if n in fresh or (n in stored and n not in todo)]
    if not kept:
        raise ConfigError(
            f"none of the {len(names)} image(s) and SVG(s) of {folder} could be read (e.g. {skipped[0]}): "
            "nothing to search"
        )
    vectors = [fresh[n] if n in fresh else stored[n][1] for n in kept]
    embeddings = torch.stack(vectors).float()
    if todo or problem or set(stored) != set(kept):
        _save(path, kept, stamps, embeddings, identity, problem)
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} unreadable file(s) of {folder}, e.g. {skipped[0]}", stacklevel=2
        )
    return Index(folder, kept, [stamps[n] for n in kept], embeddings, skipped)


def _save(
    path: Path,
    kept: list[str],
    stamps: dict[str, tuple[int, int]],
    embeddings: torch.Tensor,
    identity: str,
    problem: str,
) -> None:
    """Write the index (atomically); a folder that cannot take it is searched all the same."""
    from safetensors.torch import save

    meta = {"files": json.dumps([[n, list(stamps[n])] for n in kept]), "model": identity}
    try:
        atomic_write(path, save({"embeddings": embeddings.contiguous()}, metadata=meta))
    except OSError as e:
        warnings.warn(
            f"cannot save the search index in {path.parent} ({e.strerror or type(e).__name__}): the next search "
            "embeds the folder again",
            stacklevel=3,
        )
        return
    if problem:
        warnings.warn(f"the search index {path.name} {problem}: rebuilt it", stacklevel=3)


def search(
    query: str | None = None,
    folder: str | Path = ".",
    *,
    image: str | Path | None = None,
    model: str | ModelSpec = "clipart-mini",
    top: int = 8,
    device: str = "auto",
    index: Index | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SearchHit]:
    """The ``top`` files of ``folder`` closest to a text ``query`` or to the picture ``image`` (one of the two),
    best first. The query, ``top``, the model and the device are checked first (ClipartError in one line); then
    the folder's index is built or updated (see :func:`build_index`; ``progress`` as there), unless given."""
    if query is not None and not isinstance(query, str):
        raise ConfigError(f"the query is a text, got {type(query).__name__}")
    text = (query or "").strip()
    if bool(text) == (image is not None):
        raise ConfigError("give a text query or --image, one of the two")
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise ConfigError(f"--top must be a whole number of at least 1, got {top!r}")
    picture: Picture | None = None
    if image is not None:
        picture = open_image(image, "query image", warn=False)
    else:
        check_text(text, "query")
    spec = parse_spec(model)
    check_device(device)
    if index is None:
        index = build_index(folder, spec, device=device, progress=progress)
    if not index.files:
        raise ConfigError(f"none of the files of {index.folder} could be read ({len(index.skipped)} skipped)")
    guide = load_model(spec, device=device)
    with torch.no_grad():
        if picture is not None:
            target = guide.encode_image(as_tensor(picture, guide.image_size)[None].to(guide.device))
        else:
            target = guide.encode_text([text])
    if index.embeddings.shape[1] != target.shape[1]:
        raise ConfigError(
            f"the index of {index.folder} holds embeddings {index.embeddings.shape[1]} wide and {spec} makes "
            f"{target.shape[1]}: it was made by another model; build it with this one (clipart.build_index)"
        )
    scores = index.embeddings.to(target.device) @ target[0]
    best = torch.topk(scores, min(top, len(index.files)))
    return [SearchHit(round(float(s), 5), index.folder / index.files[int(i)]) for s, i in zip(*best, strict=True)
            if math.isfinite(float(s))]  # fmt: skip
