"""Writing files: atomic writes, writability checks and file-name slugs (nothing half-written, nothing
overwritten without ``force``). Used by drawings (:mod:`clipart.drawing`) and training runs alike."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from clipart.errors import ConfigError, OutputError

SEPARATORS = tuple(s for s in (os.sep, os.altsep) if s)


def usual_permissions(path: Path) -> None:
    """Give a file or folder made by ``tempfile`` (private by default) the permissions the umask allows."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def _temp_file(path: Path, data: bytes | Callable[[BinaryIO], None]) -> Path:
    """``data`` written to a new temporary file beside ``path`` (its name short enough wherever ``path``'s is)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:32]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
        usual_permissions(Path(tmp))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def atomic_write(path: Path, data: bytes | Callable[[BinaryIO], None]) -> None:
    """Write ``data`` (bytes, or a function that writes into a binary file) to ``path`` through a temporary file
    in the same folder and an atomic rename: a process killed at any moment leaves the old file or the new one."""
    path = Path(path)
    tmp = _temp_file(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _place_new(tmp: Path, path: Path) -> None:
    """Give the temporary file ``tmp`` the name ``path`` unless that name exists (FileExistsError), atomically."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, some network file systems): reserve the name, then fill it
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        try:
            os.replace(tmp, path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    else:
        tmp.unlink()


def write_files(blobs: dict[Path, bytes], *, replace: bool = False) -> None:
    """Write several files as one set, each through a temporary file and an atomic rename.

    Without ``replace`` no existing file is touched: a name taken (even by another process meanwhile) raises
    FileExistsError, and the files of the set already placed are removed again, as they are on any error.
    """
    temps: dict[Path, Path] = {}
    placed: list[Path] = []
    try:
        for path, data in blobs.items():
            temps[path] = _temp_file(path, data)
        for path, tmp in temps.items():
            if replace:
                os.replace(tmp, path)
            else:
                _place_new(tmp, path)
            placed.append(path)
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        if not replace:
            for path in placed:
                path.unlink(missing_ok=True)
        raise


def user_path(path: str | os.PathLike[str]) -> Path:
    """``path`` with ``~`` or ``~user`` expanded; left as it is where that names no known user (where
    ``Path.expanduser`` raises)."""
    return Path(os.path.expanduser(path))


def says_folder(out: str) -> bool:
    """Whether a path as typed can only name a folder: it ends in a separator, ``.`` or ``..``."""
    last = re.split("|".join(map(re.escape, SEPARATORS)), out)[-1]
    return last in ("", ".", "..")


def check_folder(folder: Path, *, create: bool = False) -> None:
    """Raise ConfigError unless files can be written in ``folder``: a writable folder or, with ``create``, one
    that can be made in its existing, writable parent. A part of the path that is a file is named as such."""
    for i in range(1, len(folder.parts) + 1):
        part = Path(*folder.parts[:i])
        if os.path.lexists(part) and not os.path.isdir(part):
            what = "a broken link" if not os.path.exists(part) else "a file"
            raise ConfigError(f"{part} is {what}, not a folder")
    where = folder
    if not os.path.isdir(folder):
        if not create:
            raise ConfigError(f"output folder does not exist: {folder}")
        where = folder.parent
        if not os.path.isdir(where):
            raise ConfigError(
                f"output folder does not exist: {folder} (clipart makes a new folder only inside an existing one)"
            )
    try:
        fd, probe = tempfile.mkstemp(dir=where, prefix=".clipart-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError:
        raise ConfigError(f"output folder is not writable: {where}") from None


def check_name(path: Path) -> None:
    """Raise ConfigError unless the file system takes ``path``'s name (its length in bytes, its characters)."""
    try:
        size = len(os.fsencode(path.name))
    except UnicodeError:
        raise ConfigError(
            f"{path.name!r} cannot be a file name here (characters the file system cannot store)"
        ) from None
    folder = path.parent if os.path.isdir(path.parent) else path.parent.parent
    try:
        most = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        most = 255
    if size > most:
        raise ConfigError(f"the file name {path.name[:40]}… is too long: {size} bytes, at most {most} here")


def check_writable(path: Path, force: bool, *, create: bool = False) -> None:
    """Raise ConfigError unless ``path`` can be (over)written: its folder exists and is writable (or, with
    ``create``, the folder can be made in its existing, writable parent when the drawing is saved), the path is
    not a folder, its name fits the file system, and it does not exist unless ``force``."""
    check_folder(path.parent, create=create)
    if os.path.isdir(path):
        raise ConfigError(f"{path} is a folder, not a file")
    if os.path.lexists(path) and not force:
        raise ConfigError(f"{path} already exists: use --force to overwrite it")
    check_name(path)


def check_not_inputs(paths: Iterable[Path], inputs: Iterable[str | Path | None]) -> None:
    """Raise ConfigError when an output path is one of the files a drawing reads (an image, a style, an SVG)."""
    sources = [user_path(p) for p in inputs if p]
    for path in paths:
        for source in sources:
            try:
                same = os.path.samefile(path, source)
            except OSError:
                continue
            if same:
                raise ConfigError(
                    f"{path} is an input of this drawing ({source}): write the drawing elsewhere"
                )


def slug(text: str, max_len: int = 48) -> str:
    """A file-name-safe short form of a text: 'A horse, eating!' → 'a-horse-eating', 'Café' → 'cafe'.

    A text with letters, digits or symbols that have no ASCII form (another script, emoji), or with no ASCII
    letter or digit at all, also gets a short stable hash of itself ('un chat 猫' → 'un-chat-…'), so that
    different texts do not share a name for want of ASCII; a slug is never empty.
    """
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )
    s = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    lost = any(not c.isascii() and unicodedata.category(c)[0] not in "ZPC" for c in folded)
    if not (lost or (not s and text.strip())):
        return s[:max_len].rstrip("-") or "drawing"
    digest = hashlib.blake2s(
        unicodedata.normalize("NFC", text).encode("utf-8", "surrogatepass"), digest_size=4
    )
    s = s[: max_len - 9].rstrip("-")
    return f"{s}-{digest.hexdigest()}" if s else digest.hexdigest()


def make_folders(paths: dict[str, Path]) -> None:
    """Create the output folder planned by :func:`clipart.drawing.plan_outputs`, when the drawing is ready to be
    written (an error before that leaves the disk as it was)."""
    for path in paths.values():
        try:
            path.parent.mkdir(exist_ok=True)
        except OSError as e:
            raise OutputError(f"cannot create the output folder {path.parent}: {e.strerror}") from None
