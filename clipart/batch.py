"""Batch drawing: many prompts with shared settings in one process (the guide loads once), shared by rank
under torchrun, resumable (a prompt whose files exist is skipped unless ``force``)."""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clipart.config import DrawConfig, make_config, split_weight
from clipart.drawing import DEFAULT_KINDS, check_png_size, output_target
from clipart.errors import ClipartError, ConfigError, OutputError
from clipart.output import SEPARATORS, check_folder, check_not_inputs, check_writable, slug, user_path

MAX_FILE_BYTES = 16 * 2**20
# A byte-order mark says which encoding a file is in (UTF-32's first, as UTF-32 LE's begins with UTF-16 LE's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class BatchPrompt:
    """One line of a prompts file, and the file stem every process uses for it (before the seed)."""

    line: int
    text: str  # as written (``text::weight`` allowed)
    stem: str = (
        ""  # default: the prompt's slug; read_prompts_file makes the stems of different prompts differ
    )

    def __post_init__(self) -> None:
        if not self.stem:
            object.__setattr__(self, "stem", slug(self.words))

    @property
    def words(self) -> str:
        """The prompt without its weight."""
        return split_weight(self.text)[0]


@dataclass
class BatchResult:
    """What became of one prompt: ``status`` is ``drawn``, ``skipped`` (its files exist, or it repeats an earlier
    line: ``note`` says which) or ``failed`` (``error`` says why)."""

    prompt: BatchPrompt
    status: str
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    loss: float | None = None
    error: str = ""
    note: str = ""


def read_prompts_file(path: str | Path) -> list[BatchPrompt]:
    """The prompts of a file: one a line, ``#`` starts a comment, blank lines ignored, ``text::2`` weighted.

    The file is UTF-8 (a byte-order mark is dropped; UTF-16 and UTF-32 with theirs are read too). Each prompt
    gets a file stem no different prompt shares (see :func:`name_prompts`). Raises ConfigError naming the line
    for a bad weight or an empty prompt.
    """
    path = user_path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"prompts file not found: {path}") from None
    except OSError as e:
        raise ConfigError(f"cannot read the prompts file {path}: {e.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"the prompts file {path} is over {MAX_FILE_BYTES >> 20} MiB: split it")
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8-sig")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise ConfigError(f"the prompts file {path} is not UTF-8 text") from None
    if "\x00" in text:
        raise ConfigError(f"the prompts file {path} holds NUL characters: save it as UTF-8 text")
    prompts: list[BatchPrompt] = []
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text.replace("\ufeff", "")), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            words, _ = split_weight(line)
        except ConfigError as e:
            raise ConfigError(f"{path.name} line {number}: {e}") from None
        if not words:
            raise ConfigError(f"{path.name} line {number}: the prompt is empty")
        prompts.append(BatchPrompt(number, line))
    if not prompts:
        raise ConfigError(f"the prompts file {path} holds no prompt (one a line; '#' starts a comment)")
    return name_prompts(prompts)


def name_prompts(prompts: list[BatchPrompt]) -> list[BatchPrompt]:
    """The prompts with stems that no two different texts share: a prompt whose stem an earlier, different
    prompt has ('A cat!' after 'a cat') gets a short hash of its text added; a repeated text keeps its stem.

    Stable: a prompt's stem depends only on the prompts before it with the same slug. ConfigError for a stem
    that is no plain file name.
    """
    owners: dict[str, BatchPrompt] = {}
    named = []
    for prompt in prompts:
        stem = prompt.stem
        if stem in (".", "..") or any(s in stem for s in SEPARATORS):
            raise ConfigError(f"line {prompt.line}: the file stem {stem!r} is not a plain file name")
        if owners.setdefault(stem, prompt).text != prompt.text:
            digest = hashlib.blake2s(
                prompt.text.encode("utf-8", "surrogatepass"), digest_size=4, person=b"batch"
            )
            stem = f"{stem[:39].rstrip('-')}-{digest.hexdigest()}"
            owner = owners.setdefault(stem, prompt)
            if owner.text != prompt.text:
                raise ConfigError(
                    f"line {prompt.line} draws the same files as line {owner.line} ({stem}): change one of them"
                )
        named.append(dataclasses.replace(prompt, stem=stem))
    return named


def shard_prompts(prompts: list[BatchPrompt]) -> tuple[list[BatchPrompt], int, int]:
    """This process's prompts under torchrun (every ``WORLD_SIZE``-th, from ``RANK``), with (rank, world).

    Each process draws on its own GPU: the device ``auto`` or ``cuda`` resolves to ``cuda:LOCAL_RANK``
    (:func:`clipart.models.device.resolve_device`). ConfigError when RANK, WORLD_SIZE and LOCAL_RANK are no
    process of a group (:func:`clipart.models.device.launch_ranks`).
    """
    from clipart.models.device import launch_ranks

    rank, world, _ = launch_ranks()
    return prompts[rank::world], rank, world


def draw_batch(
    prompts: list[BatchPrompt],
    out: str | Path | None = None,
    *,
    force: bool = False,
    gif: bool = False,
    png_size: int | None = None,
    **options: Any,
) -> Iterator[BatchResult]:
    """Draw this process's share of ``prompts`` into the folder ``out`` (default ``./clipart-out/``) with the
    settings ``options`` (as :func:`clipart.draw` takes them), yielding one result a prompt; a prompt that fails
    is reported, not raised.

    Settings, the output folder and the sharing are checked now, before the first drawing (ClipartError). A
    prompt whose files all exist is skipped (one with some is given the missing ones), unless ``force``; a
    repeated prompt is drawn once. Outputs are written as a single drawing's are; a file that cannot be written
    stops the batch (OutputError from the iterator).
    """
    folder, _ = output_target(out, files=False)
    check_folder(folder, create=True)
    if png_size is not None:
        check_png_size(png_size)
    if not prompts:
        raise ConfigError("no prompt to draw")
    from clipart.models.device import resolve_device

    config = make_config(prompts[0].words, **options)  # every shared setting, once, before any work
    resolve_device(config.device)  # this process's device (cuda:LOCAL_RANK under torchrun) exists
    named = name_prompts(prompts)
    mine = shard_prompts(named)[0]
    first: dict[str, int] = {}
    for prompt in named:
        first.setdefault(prompt.text, prompt.line)
    kinds = [*DEFAULT_KINDS, *(["gif"] if gif else [])]
    return _draw_all(mine, first, folder, config, kinds, force, gif, png_size, options)


def _draw_all(
    prompts: list[BatchPrompt],
    first: dict[str, int],
    folder: Path,
    config: DrawConfig,
    kinds: list[str],
    force: bool,
    gif: bool,
    png_size: int | None,
    options: dict[str, Any],
) -> Iterator[BatchResult]:
    from clipart.api import steps

    inputs = [*config.images, config.style, config.init_svg]
    for prompt in prompts:
        if first[prompt.text] != prompt.line:
            yield BatchResult(prompt, "skipped", note=f"the same prompt as line {first[prompt.text]}")
            continue
        try:
            paths = {k: folder / f"{prompt.stem}-s{config.seed}.{k}" for k in kinds}
            for path in paths.values():
                check_writable(path, True, create=True)
            todo = paths if force else {k: p for k, p in paths.items() if not os.path.lexists(p)}
            if not todo:
                yield BatchResult(prompt, "skipped", paths, note="its files exist")
                continue
            check_not_inputs(todo.values(), inputs)
            t0 = time.perf_counter()
            event = None
            for event in steps(prompt.text, **options, animate=gif or None):  # noqa: B007 - the last holds the result
                pass
            assert event is not None
            drawing = event.drawing()
            written = drawing.save_all(todo, png_size=png_size, force=force)
            yield BatchResult(prompt, "drawn", {**paths, **written}, time.perf_counter() - t0, drawing.loss)
        except OutputError:
            raise
        except ClipartError as e:
            yield BatchResult(prompt, "failed", error=str(e))
