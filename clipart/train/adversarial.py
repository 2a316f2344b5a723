"""Adversarial fine-tuning of the image tower: a few steps of projected gradient descent (PGD) in pixel space find
the picture within ``eps`` of each training image that the model gets most wrong, and training then fixes it.

Two losses, as in the robust-CLIP literature:

- ``tecoa`` (Mao et al., ICLR 2023): the attack raises the image–text contrastive loss, and the model trains on the
  attacked images with that loss.
- ``fare`` (Schlarmann et al., ICML 2024): the attack pushes the image embedding away from the embedding the
  *starting* model gives the clean image, and a term ``adv_weight · ‖f(x_adv) − f₀(x)‖²`` pulls it back, beside the
  usual contrastive loss on the clean images; the frozen start keeps zero-shot accuracy. Embeddings are normalised,
  so the term is 2 - 2 cos.

TeCoA's attack contrasts each micro-batch with itself (not with the global batch), so its strength depends a little
on the micro-batch size (``--batch-size`` / ``--accum`` / processes). While training adversarially, batch norms
keep their running statistics.

A robust image tower has gradients that change what a person sees (perceptually aligned gradients), which is what
a drawing loop descending on it needs. The attack draws its random start from a generator of its own, seeded by run,
step and micro-batch, so adversarial runs resume exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# The attack's objective is multiplied by this before its gradient is taken, so that fp16 autocast keeps the small
# pixel gradients (both step rules, sign and unit L2 step, ignore the scale).
GRADIENT_SCALE = 4096.0


@dataclass(frozen=True)
class Attack:
    """A PGD attack in pixel units ([0, 1]): radius ``eps`` in the ``norm``, ``steps`` steps of ``step_size``."""

    eps: float
    norm: str = "l2"
    steps: int = 2
    step_size: float | None = None

    @property
    def alpha(self) -> float:
        """The step size: given, or 2.5 · eps / steps (Madry et al.'s rule)."""
        return self.step_size if self.step_size is not None else 2.5 * self.eps / self.steps


def _per_sample_norm(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (x.ndim - 1)))


def _project(delta: torch.Tensor, attack: Attack) -> torch.Tensor:
    if attack.norm == "linf":
        return delta.clamp(-attack.eps, attack.eps)
    return delta * (attack.eps / _per_sample_norm(delta)).clamp(max=1.0)


def pgd(
    objective: Callable[[torch.Tensor], torch.Tensor],
    pixels: torch.Tensor,
    attack: Attack,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Pixels in [0, 1] within ``attack.eps`` of ``pixels`` that raise ``objective`` (a scalar of a pixel batch),
    from a random start drawn from ``generator``."""
    like = {"generator": generator, "device": pixels.device, "dtype": pixels.dtype}
    if attack.norm == "linf":
        delta = (torch.rand(pixels.shape, **like) * 2 - 1) * attack.eps
    else:
        noise = torch.randn(pixels.shape, **like)
        radius = torch.rand(pixels.shape[0], **like).view(-1, 1, 1, 1)
        delta = noise / _per_sample_norm(noise) * radius * attack.eps
    delta = (pixels + delta).clamp(0, 1) - pixels
    for _ in range(attack.steps):
        delta.requires_grad_(True)
        (grad,) = torch.autograd.grad(objective(pixels + delta) * GRADIENT_SCALE, delta)
        grad = torch.nan_to_num(grad.float())
        with torch.no_grad():
            step = grad.sign() if attack.norm == "linf" else grad / _per_sample_norm(grad)
            delta = _project(delta + attack.alpha * step, attack)
            delta = (pixels + delta).clamp(0, 1) - pixels
    return (pixels + delta).detach()


class Adversary:
    """Attacks micro-batches of normalised images for one training run (see the module docstring)."""

    def __init__(
        self,
        model: torch.nn.Module,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        attack: Attack,
        loss: str,
        weight: float,
    ):
        device = next(model.parameters()).device
        self.mean = torch.tensor(mean, device=device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, device=device).view(1, -1, 1, 1)
        self.attack, self.loss, self.weight = attack, loss, weight
        # FARE's anchor: the image tower as the run started (the --pretrained weights), frozen.
        self.anchor = copy.deepcopy(model.visual).eval().requires_grad_(False) if loss == "fare" else None

    def _normalise(self, pixels: torch.Tensor) -> torch.Tensor:
        return (pixels - self.mean) / self.std

    def anchor_features(self, images: torch.Tensor) -> torch.Tensor:
        """The starting model's normalised embeddings of clean (normalised) images."""
        assert self.anchor is not None
        with torch.no_grad():
            return F.normalize(self.anchor(images).float(), dim=-1)

    def perturb(
        self,
        model: torch.nn.Module,
        images: torch.Tensor,
        objective: Callable[[torch.Tensor], torch.Tensor],
        seed: int,
    ) -> torch.Tensor:
        """Attacked copies of normalised ``images``: ``objective`` maps normalised image features to the scalar
        the attack raises; ``seed`` draws its random start (a generator of its own: a resumed run's data loader
        draws from torch's default one). The model runs in eval mode meanwhile (batch-norm statistics stay
        untouched)."""
        generator = torch.Generator(images.device).manual_seed(seed)
        modes = [(module, module.training) for module in model.modules()]
        model.eval()
        try:

            def on_pixels(pixels: torch.Tensor) -> torch.Tensor:
                return objective(F.normalize(model.encode_image(self._normalise(pixels)).float(), dim=-1))

            attacked = pgd(on_pixels, images * self.std + self.mean, self.attack, generator)
        finally:
            for module, training in modes:
                module.training = training
        return self._normalise(attacked)

    def fare_term(self, attacked_features: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        """``weight`` × the mean squared distance between attacked and anchor embeddings."""
        return self.weight * (attacked_features.float() - anchor).pow(2).sum(dim=-1).mean()
