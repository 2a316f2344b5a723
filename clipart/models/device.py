"""The one device resolver of drawing, training, evaluation, search and the web app, and the launch's ranks as
torchrun sets them.

:func:`check_device` is the check every face runs before its first expensive step; torch is imported only when a
device other than ``auto`` or ``cpu`` is named (its availability can only be asked of torch). Under torchrun every
process on a machine gets its own ``LOCAL_RANK``: ``auto`` (when it picks CUDA) and ``cuda`` without an index mean
``cuda:LOCAL_RANK`` there, so each process uses its own GPU; ``cuda:N`` is taken as written.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from clipart.errors import ConfigError, ModelError

if TYPE_CHECKING:
    import torch

DEVICE_NAMES = re.compile(r"auto|cpu|mps|cuda(:\d{1,4})?")


def check_device(device: object) -> str:
    """``device`` when it names a device this machine has (``auto``, ``cpu``, ``cuda[:N]``, ``mps``), else one
    line: ConfigError for a bad name, ModelError for a device that is not there."""
    if not isinstance(device, str) or not DEVICE_NAMES.fullmatch(device):
        raise ConfigError(f"device must be auto, cpu, cuda[:N] or mps, got {device!r}")
    if device not in ("auto", "cpu"):
        resolve_device(device)
    return device


def launch_ranks() -> tuple[int, int, int]:
    """This process's ``(RANK, WORLD_SIZE, LOCAL_RANK)`` as torchrun sets them; ``(0, 1, 0)`` for a plain launch.

    Raises ConfigError for a value that is not a whole number in range.
    """
    values = []
    for name, default, low in (("RANK", "0", 0), ("WORLD_SIZE", "1", 1), ("LOCAL_RANK", "0", 0)):
        raw = os.environ.get(name, default).strip() or default
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < low:
            raise ConfigError(f"the environment variable {name}={raw!r} must be a whole number {low} or more")
        values.append(value)
    rank, world, local = values
    if rank >= world:
        raise ConfigError(f"RANK={rank} must be below WORLD_SIZE={world} (as torchrun sets them)")
    return rank, world, local


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → CUDA, then MPS, then CPU; anything else is checked to exist. CUDA without an index is
    ``cuda:LOCAL_RANK`` (``cuda:0`` outside torchrun). Raises ModelError for a device this machine lacks."""
    import torch

    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return _cuda(None)
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(device, str) or not DEVICE_NAMES.fullmatch(device):
        raise ModelError(f"unknown device {device!r}: use auto, cpu, cuda[:N] or mps")
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ModelError(f"device {device!r} was asked for but CUDA is not available: use --device cpu")
        return _cuda(dev.index)
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ModelError("device 'mps' was asked for but is not available: use --device cpu")
    return dev


def _cuda(index: int | None) -> torch.device:
    """``cuda:index``, or ``cuda:LOCAL_RANK`` without one; checked against the visible devices."""
    import torch

    count = torch.cuda.device_count()
    if index is None:
        local = launch_ranks()[2]
        if local >= count:
            raise ModelError(
                f"LOCAL_RANK={local} but this machine shows {count} CUDA device(s): start at most {count} "
                "process(es) a machine (torchrun --nproc-per-node) or check CUDA_VISIBLE_DEVICES"
            )
        return torch.device("cuda", local)
    if index >= count:
        raise ModelError(f"device 'cuda:{index}' does not exist: this machine shows {count} CUDA device(s)")
    return torch.device("cuda", index)
