"""Writing files: atomic writes, writability checks and file-name slugs (nothing half-written, nothing
overwritten without ``force``). Used by drawings (:mod:`clipart.drawing`) and training runs alike."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from clipart.errors import ConfigError


def usual_permissions(path: Path) -> None:
    """Give a file or folder made by ``tempfile`` (private by default) the permissions the umask allows."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def atomic_write(path: Path, data: bytes | Callable[[BinaryIO], None]) -> None:
    """Write ``data`` (bytes, or a function that writes into a binary file) to ``path`` through a temporary file
    in the same folder and an atomic rename: a process killed at any moment leaves the old file or the new one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
        usual_permissions(Path(tmp))
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


def make_folders(paths: dict[str, Path]) -> None:
    """Create the output folder planned by :func:`clipart.drawing.plan_outputs`, when the drawing is ready to be written (an
    error before that leaves the disk as it was)."""
    for path in paths.values():
        try:
            path.parent.mkdir(exist_ok=True)
        except OSError as e:
            raise ConfigError(f"cannot create output folder {path.parent}: {e.strerror}") from None
