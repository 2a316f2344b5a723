"""Writing results: atomic file writes and output-path planning (nothing half-written, nothing overwritten
without ``force``)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from clipart.errors import ConfigError

DEFAULT_OUT = Path("clipart-out")
SUFFIXES = (".svg", ".png", ".json", ".gif")


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: Path, force: bool, *, create: bool = False) -> None:
    """Raise ConfigError unless ``path`` can be (over)written: its folder exists and is writable (or, with
    ``create``, the folder can be made in its existing, writable parent when the drawing is saved)."""
    folder = path.parent
    if create and not folder.exists() and folder.parent.is_dir():
        folder = folder.parent
    elif not folder.is_dir():
        raise ConfigError(f"output folder does not exist: {folder}")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".clipart-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError:
        raise ConfigError(f"output folder is not writable: {folder}") from None
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists: use --force to overwrite it")
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a file")


def slug(text: str, max_len: int = 48) -> str:
    """A file-name-safe short form of a prompt: 'A horse, eating!' → 'a-horse-eating'."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (s[:max_len].rstrip("-")) or "drawing"


def plan_outputs(out: str | None, prompt: str, seed: int, kinds: list[str], force: bool) -> dict[str, Path]:
    """Paths for each output kind (``svg``, ``png``, ``json``, ``gif``), checked before any work is done.

    ``out`` is a folder (existing, or one to create in an existing parent when the drawing is saved) or a file name whose
    suffix is one of .svg/.png/.json/.gif (its stem names all outputs). By default: ``./clipart-out/``.
    """
    if out is None:
        folder, stem = DEFAULT_OUT, f"{slug(prompt)}-s{seed}"
    else:
        p = Path(out).expanduser()
        if p.suffix.lower() in SUFFIXES:
            folder, stem = p.parent, p.stem
        elif p.is_dir() or out.endswith(("/", os.sep)) or not p.suffix:
            folder, stem = p, f"{slug(prompt)}-s{seed}"
            if not p.exists() and not p.parent.is_dir():
                raise ConfigError(f"output folder's parent does not exist: {p.parent}")
        else:
            raise ConfigError(f"--out {out!r}: give a folder or a file ending in {', '.join(SUFFIXES)}")
    paths = {k: folder / f"{stem}.{k}" for k in kinds}
    for path in paths.values():
        check_writable(path, force, create=True)
    return paths


def make_folders(paths: dict[str, Path]) -> None:
    """Create the output folder planned by :func:`plan_outputs`, when the drawing is ready to be written (an
    error before that leaves the disk as it was)."""
    for path in paths.values():
        try:
            path.parent.mkdir(exist_ok=True)
        except OSError as e:
            raise ConfigError(f"cannot create output folder {path.parent}: {e.strerror}") from None
