"""The one device resolver of drawing, training, evaluation, search and the web app.

:func:`check_device` is the check every face runs before its first expensive step; torch is imported only when a
device other than ``auto`` or ``cpu`` is named (its availability can only be asked of torch).
"""

from __future__ import annotations

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


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → CUDA, then MPS, then CPU; anything else is checked to exist (see :func:`check_device`)."""
    import torch

    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(device, str) or not DEVICE_NAMES.fullmatch(device):
        raise ModelError(f"unknown device {device!r}: use auto, cpu, cuda[:N] or mps")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} was asked for but CUDA is not available: use --device cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise ModelError(
            f"device {device!r} was asked for but this machine has {count} CUDA device(s): use cuda:0 to "
            f"cuda:{count - 1}"
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ModelError("device 'mps' was asked for but is not available: use --device cpu")
    return dev
