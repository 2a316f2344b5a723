"""Where image–text pairs come from: CSV/TSV files, image folders with ``.txt`` captions, webdataset shards.

Listing is cheap and happens up front (so bad paths fail before training); images are decoded later, in the
data-loader workers, where unreadable ones are skipped and counted.
"""

from __future__ import annotations

import csv
import glob
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from clipart.errors import ClipartError
from clipart.imagefile import IMAGE_EXTENSIONS
from clipart.output import user_path

SHARD_IMAGE_KEYS = ("jpg", "jpeg", "png", "webp")
_FORMAT_HELP = (
    "give a CSV/TSV file, a folder of images with .txt captions, or webdataset shards like "
    "'shards/{00000..00009}.tar'"
)


@dataclass
class PairTable:
    """Image paths and captions, listed from a CSV/TSV file or an image folder."""

    paths: list[str]
    captions: list[str]
    dropped: int  # listed pairs that were unusable (no caption), counted as bad samples
    source: str


def detect_format(data: str, data_format: str = "auto") -> str:
    """``csv``, ``folder`` or ``webdataset`` for a data argument; ClipartError if it cannot be used."""
    if data_format != "auto":
        return data_format
    if any(c in data for c in "{*?[") or "::" in data or data.endswith(".tar"):
        return "webdataset"
    path = user_path(data)
    if not path.exists():
        raise ClipartError(f"training data not found: {data} ({_FORMAT_HELP})")
    if path.is_dir():
        has_images = any(_is_image(p) for p in path.rglob("*"))
        return "folder" if has_images or not any(path.glob("*.tar")) else "webdataset"
    if path.suffix.lower() in (".csv", ".tsv"):
        return "csv"
    raise ClipartError(f"cannot read {data}: not a .csv/.tsv file ({_FORMAT_HELP})")


def read_table(
    path: str | Path, columns: list[str], hint: str = "name yours with --image-column/--caption-column"
) -> tuple[dict[str, list[str]], int]:
    """Columns of a CSV (comma) or TSV (tab) file; rows with an empty cell are dropped and counted.

    Relative image paths stay as written; :func:`read_pairs_table` resolves them against the file's folder.
    """
    path = user_path(path)
    if not path.is_file():
        raise ClipartError(f"data file not found: {path}")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    kind = "TSV" if delimiter == "\t" else "CSV"
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return _read_rows(path, csv.DictReader(f, delimiter=delimiter), columns, kind, hint)
    except UnicodeDecodeError:
        raise ClipartError(
            f"{path} is not a UTF-8 {kind} file (give a table of image paths and captions)"
        ) from None
    except csv.Error as e:
        raise ClipartError(f"{path} is not a readable {kind} file: {e}") from None
    except OSError as e:
        raise ClipartError(f"cannot read {path}: {e.strerror}") from None


def _read_rows(
    path: Path, reader: csv.DictReader, columns: list[str], kind: str, hint: str
) -> tuple[dict[str, list[str]], int]:
    header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    if missing:
        raise ClipartError(
            f"{path.name} has no column {', '.join(repr(c) for c in missing)} (its {kind} header: "
            f"{', '.join(header) or 'empty'}); {hint}"
        )
    out: dict[str, list[str]] = {c: [] for c in columns}
    dropped = 0
    for row in reader:
        values = [(row.get(c) or "").strip() for c in columns]
        if not all(values):
            dropped += 1
            continue
        for c, v in zip(columns, values, strict=True):
            out[c].append(v)
    return out, dropped


def resolve_paths(paths: list[str], base: Path) -> list[str]:
    """Image paths made absolute, relative ones taken relative to ``base``."""
    return [p if os.path.isabs(p) else str(base / p) for p in paths]


def read_pairs_table(path: str | Path, image_column: str, caption_column: str) -> PairTable:
    """Pairs listed in a CSV/TSV file."""
    path = user_path(path)
    table, dropped = read_table(path, [image_column, caption_column])
    paths = resolve_paths(table[image_column], path.parent)
    return PairTable(paths, table[caption_column], dropped, str(path))


def read_pairs_folder(path: str | Path) -> PairTable:
    """Pairs of a folder (searched recursively): each image with the caption in the ``.txt`` file beside it."""
    root = user_path(path)
    paths, captions, dropped = [], [], 0
    for image in sorted(p for p in root.rglob("*") if _is_image(p)):
        text = image.with_suffix(".txt")
        caption = text.read_text(encoding="utf-8", errors="replace").strip() if text.is_file() else ""
        if caption:
            paths.append(str(image))
            captions.append(caption)
        else:
            dropped += 1
    if not paths:
        raise ClipartError(
            f"{root} holds no images with captions: put a .txt caption beside each image (cat.png + cat.txt)"
        )
    return PairTable(paths, captions, dropped, str(root))


def list_shards(pattern: str) -> list[str]:
    """Tar files of a webdataset: brace ranges (``{000..127}``), globs, ``::``-joined lists or a folder."""
    from webdataset.shardlists import expand_urls

    path = user_path(pattern)
    if path.is_dir():
        shards = sorted(str(p) for p in path.glob("*.tar"))
    else:
        shards = []
        for item in expand_urls(pattern):
            item = os.path.expanduser(item)
            matches = sorted(glob.glob(item)) if any(c in item for c in "*?[") else [item]
            shards.extend(m for m in matches if os.path.isfile(m))
    if not shards:
        raise ClipartError(f"the shard pattern {pattern!r} matches no tar file: check the path and the range")
    return shards


def shard_sizes(shards: list[str]) -> list[int]:
    """Number of samples (distinct keys) in each tar shard, read from the tar headers only."""
    from webdataset.tariterators import base_plus_ext

    sizes = []
    for shard in shards:
        keys = set()
        try:
            with tarfile.open(shard) as tar:
                for member in tar:
                    if member.isreg() and not os.path.basename(member.name).startswith("__"):
                        key, _ = base_plus_ext(member.name)
                        if key is not None:
                            keys.add(key)
        except (tarfile.TarError, OSError) as e:
            raise ClipartError(f"cannot read shard {shard}: {e}") from None
        sizes.append(len(keys))
    return sizes


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()


def decode_image(source: str | bytes):  # noqa: ANN201 - PIL is imported lazily
    """An RGB PIL image of training or evaluation data from a path or encoded bytes (a webdataset sample's);
    transparency is composited onto white.

    Raises on unreadable or corrupt data (callers skip and count those); a user's picture, checked in one line,
    is :func:`clipart.imagefile.open_image`'s.
    """
    from PIL import Image

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
        im.load()
        if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(background, rgba).convert("RGB")
        return im.convert("RGB")


def shard_sample_parts(sample: dict) -> tuple[bytes, str] | None:
    """(image bytes, caption) of a raw webdataset sample, or None when either is missing."""
    image = next((sample[k] for k in SHARD_IMAGE_KEYS if k in sample), None)
    text = sample.get("txt")
    caption = text.decode("utf-8", errors="replace").strip() if isinstance(text, bytes) else ""
    if image is None or not caption:
        return None
    return image, caption
