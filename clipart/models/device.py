"""The one device resolver of drawing, training and evaluation."""

from __future__ import annotations

import torch

from clipart.errors import ModelError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → CUDA, then MPS, then CPU; anything else is checked to exist."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ModelError(f"unknown device {device!r}: use auto, cpu, cuda[:N] or mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} was asked for but CUDA is not available: use --device cpu")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ModelError("device 'mps' was asked for but is not available: use --device cpu")
    return dev
