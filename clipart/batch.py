"""Batch drawing: many prompts with shared settings in one process (the guide loads once), shared by rank
under torchrun, resumable (a prompt whose files exist is skipped unless ``force``)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clipart.config import make_config, split_weight
from clipart.drawing import DEFAULT_KINDS, plan_outputs
from clipart.errors import ClipartError, ConfigError
from clipart.output import slug


@dataclass(frozen=True)
class BatchPrompt:
    """One line of a prompts file."""

    line: int
    text: str  # as written (``text::weight`` allowed)

    @property
    def words(self) -> str:
        """The prompt without its weight."""
        return split_weight(self.text)[0]

    @property
    def stem(self) -> str:
        """The file stem every process uses for this prompt (before the seed)."""
        return slug(self.words)


@dataclass
class BatchResult:
    """What became of one prompt: ``status`` is ``drawn``, ``skipped`` (its files exist) or ``failed``."""

    prompt: BatchPrompt
    status: str
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    loss: float | None = None
    error: str = ""


def read_prompts_file(path: str | Path) -> list[BatchPrompt]:
    """The prompts of a file: one a line, ``#`` starts a comment, blank lines ignored, ``text::2`` weighted.

    Raises ConfigError naming the line for a bad weight or for two lines that would write the same files.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"prompts file not found: {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"the prompts file {path} is not UTF-8 text") from None
    except OSError as e:
        raise ConfigError(f"cannot read the prompts file {path}: {e.strerror}") from None
    prompts: list[BatchPrompt] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            words, _ = split_weight(line)
        except ConfigError as e:
            raise ConfigError(f"{path.name} line {number}: {e}") from None
        if not words:
            raise ConfigError(f"{path.name} line {number}: the prompt is empty")
        prompt = BatchPrompt(number, line)
        if prompt.stem in seen:
            raise ConfigError(
                f"{path.name} line {number} draws the same files as line {seen[prompt.stem]} "
                f"({prompt.stem}): change one of them"
            )
        seen[prompt.stem] = number
        prompts.append(prompt)
    if not prompts:
        raise ConfigError(f"the prompts file {path} holds no prompt (one a line; '#' starts a comment)")
    return prompts


def shard_prompts(prompts: list[BatchPrompt]) -> tuple[list[BatchPrompt], int, int]:
    """This process's prompts under torchrun (every ``WORLD_SIZE``-th, from ``RANK``), with (rank, world).

    Each process draws on its own GPU: the device ``auto`` or ``cuda`` resolves to ``cuda:LOCAL_RANK``
    (:func:`clipart.models.device.resolve_device`).
    """
    from clipart.models.device import launch_ranks

    rank, world, _ = launch_ranks()
    return prompts[rank::world], rank, world


def draw_batch(
    prompts: list[BatchPrompt],
    out: str | Path,
    *,
    force: bool = False,
    gif: bool = False,
    png_size: int | None = None,
    **options: Any,
) -> Iterator[BatchResult]:
    """Draw this process's share of ``prompts`` into the folder ``out`` with the settings ``options`` (as
    :func:`clipart.draw` takes them), yielding one result a prompt; a prompt that fails is reported, not raised.

    Settings are checked now, before the first drawing (ClipartError); outputs are written as a single drawing's
    are.
    """
    folder = Path(out).expanduser()
    if folder.suffix.lower() in {f".{k}" for k in (*DEFAULT_KINDS, "gif")}:
        raise ConfigError(f"--out {out}: a batch writes many drawings: give a folder")
    from clipart.models.device import resolve_device

    config = make_config(prompts[0].words, **options)  # every shared setting, once, before any work
    resolve_device(config.device)  # this process's device (cuda:LOCAL_RANK under torchrun) exists
    seed = config.seed
    kinds = [*DEFAULT_KINDS, *(["gif"] if gif else [])]
    return _draw_all(shard_prompts(prompts)[0], folder, seed, kinds, force, gif, png_size, options)


def _draw_all(
    prompts: list[BatchPrompt],
    folder: Path,
    seed: int,
    kinds: list[str],
    force: bool,
    gif: bool,
    png_size: int | None,
    options: dict[str, Any],
) -> Iterator[BatchResult]:
    from clipart.loop import steps

    for prompt in prompts:
        try:
            paths = plan_outputs(f"{folder}{os.sep}", prompt.words, seed, kinds, force=True)
            if not force and all(p.exists() for p in paths.values()):
                yield BatchResult(prompt, "skipped", paths)
                continue
            t0 = time.perf_counter()
            event = None
            for event in steps(prompt.text, **options, animate=gif or None):  # noqa: B007 - the last holds the result
                pass
            assert event is not None
            drawing = event.drawing()
            drawing.save_all(paths, png_size=png_size)
            yield BatchResult(prompt, "drawn", paths, time.perf_counter() - t0, drawing.loss)
        except ClipartError as e:
            yield BatchResult(prompt, "failed", error=str(e))
