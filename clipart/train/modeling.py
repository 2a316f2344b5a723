"""What training adds to a model: locked towers, the optimiser (AdamW without weight decay on gains, biases
and the logit scale) and the cosine schedule. Models themselves are built by :func:`clipart.models.build_model`."""

from __future__ import annotations

import math

import torch

from clipart.errors import ModelError


def lock_towers(model: torch.nn.Module, image: bool, text: bool) -> None:
    """Freeze the image and/or text tower (LiT-style fine-tuning)."""
    if image:
        model.lock_image_tower(unlocked_groups=0, freeze_bn_stats=True)
    if text:
        model.lock_text_tower(unlocked_layers=0, freeze_layer_norm=True)
    if not any(p.requires_grad for p in model.parameters()):
        raise ModelError("both towers are locked: nothing would train (drop --lock-image or --lock-text)")


def _no_decay(name: str, param: torch.nn.Parameter) -> bool:
    return param.ndim < 2 or name.endswith(".bias") or "logit_scale" in name or "logit_bias" in name


def make_optimizer(
    model: torch.nn.Module, lr: float, weight_decay: float, betas: tuple[float, float], eps: float
) -> torch.optim.AdamW:
    """AdamW; gains, biases, the logit scale and other 1-D parameters get no weight decay."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if _no_decay(name, param) else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    device = next(model.parameters()).device
    fused = device.type in ("cuda", "cpu")
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, fused=fused)


def cosine_with_warmup(
    optimizer: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup`` steps from lr/warmup to lr, then cosine decay to 0 at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
