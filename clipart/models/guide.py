"""Guides: frozen CLIP models that score renders against prompts during a drawing, loaded once per process."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from clipart.models.build import build_model, check_available
from clipart.models.device import resolve_device
from clipart.models.spec import EMBEDDED_DIR, EMBEDDED_DRAW, EMBEDDED_NAME, ModelSpec, parse_spec


class PromptTruncatedWarning(UserWarning):
    """A prompt was longer than the model's context and was cut."""


@dataclass
class Guide:
    """A loaded CLIP model that scores images against texts (frozen, eval mode)."""

    name: str
    model: torch.nn.Module
    tokenizer: object
    image_size: int
    mean: Tensor  # [1, 3, 1, 1]
    std: Tensor
    context_length: int

    @property
    def device(self) -> torch.device:
        """Device of the model's weights."""
        return self.mean.device

    def encode_text(self, texts: list[str]) -> Tensor:
        """L2-normalised text features ``[T, D]``; warns when a prompt is cut to the model's context."""
        for t in texts:
            n = _token_count(self.tokenizer, t)
            if n is not None and n > self.context_length:
                warnings.warn(
                    f"prompt {t[:40]!r}… is {n} tokens, longer than the model's context of "
                    f"{self.context_length}: it was truncated",
                    PromptTruncatedWarning,
                    stacklevel=2,
                )
        tokens = self.tokenizer(texts).to(self.device)
        with torch.no_grad():
            feats = self.model.encode_text(tokens)
        return F.normalize(feats.float(), dim=-1)

    def encode_image(self, images: Tensor, taps: list[Tensor] | None = None) -> Tensor:
        """L2-normalised image features ``[B, D]`` of images ``[B, 3, H, W]`` in [0, 1] (resized if needed).

        With ``taps``, the output of every stage of the image tower (:attr:`stages`) is appended to it, in order:
        ``[B, C, H, W]`` for a ResNet's stages, ``[B, tokens, width]`` for a ViT's blocks.
        """
        if images.shape[-1] != self.image_size or images.shape[-2] != self.image_size:
            images = F.interpolate(
                images, size=(self.image_size, self.image_size), mode="bilinear", antialias=True
            )
        hooks = (
            [stage.register_forward_hook(_tap(taps, self._batch_first)) for stage in self.stages]
            if taps is not None
            else []
        )
        try:
            feats = self.model.encode_image((images - self.mean) / self.std)
        finally:
            for hook in hooks:
                hook.remove()
        return F.normalize(feats.float(), dim=-1)

    @property
    def stages(self) -> list[torch.nn.Module]:
        """The image tower's stages, input side first: a ResNet's four layers or a ViT's residual blocks."""
        visual = getattr(self.model, "visual", None)
        if all(hasattr(visual, f"layer{k}") for k in range(1, 5)):
            return [getattr(visual, f"layer{k}") for k in range(1, 5)]
        blocks = getattr(getattr(visual, "transformer", None), "resblocks", None)
        return list(blocks) if blocks is not None else []

    @property
    def _batch_first(self) -> bool:
        return bool(
            getattr(getattr(getattr(self.model, "visual", None), "transformer", None), "batch_first", True)
        )


def _tap(taps: list[Tensor], batch_first: bool):  # noqa: ANN202 - a forward hook
    def hook(module: torch.nn.Module, inputs: object, output: Tensor) -> None:
        out = output[0] if isinstance(output, tuple) else output
        taps.append(out if out.ndim == 4 or batch_first else out.transpose(0, 1))

    return hook


def _token_count(tokenizer: object, text: str) -> int | None:
    encode = getattr(tokenizer, "encode", None)
    if encode is None:
        return None
    return len(encode(text)) + 2  # start and end tokens


_CACHE: dict[tuple[str, str], tuple[tuple, Guide]] = {}  # (spec, device) → (the spec's version, its guide)
_LOCK = threading.Lock()


def load_model(
    spec: str | ModelSpec = EMBEDDED_NAME, pretrained: str | None = None, device: str = "auto"
) -> Guide:
    """Load (once per process) a frozen guide model. Raises ModelError with a one-line fix on failure."""
    return load_models([parse_spec(spec, pretrained)], device)[0]


def load_models(specs: Sequence[str | ModelSpec], device: str = "auto") -> list[Guide]:
    """Load (once per process each) the guides of an ensemble. Every model is checked to be available before any
    loads, and the warning about random weights comes once all have loaded: a refused ensemble says only why."""
    parsed = [parse_spec(s) for s in specs]
    dev = resolve_device(device)
    with _LOCK:
        fresh = [spec for spec in parsed if _cached(spec, dev) is None]
        for spec in fresh:
            check_available(spec)
        guides = [_load(spec, dev) for spec in parsed]
    for spec in dict.fromkeys(fresh):
        if spec.random_init:
            warnings.warn(
                f"model {spec} has no pretrained weights: it guides with random weights", stacklevel=2
            )
    return guides


def _load(spec: ModelSpec, dev: torch.device) -> Guide:
    """The guide of ``spec`` on ``dev``, from the cache or built (call under ``_LOCK``)."""
    cached = _cached(spec, dev)
    if cached is not None:
        return cached
    # open_clip initialises on the CPU: random weights come from seed 0 on a fork of its generator, the same
    # in every process (same seed and settings, same drawing), and the caller's random state stays as it was.
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(0)
        bundle = build_model(spec, device=dev)
    model = bundle.model.eval().requires_grad_(False)
    mean, std = _preprocess_stats(bundle.preprocess_cfg)
    guide = Guide(
        name=bundle.description,
        model=model,
        tokenizer=bundle.tokenizer,
        image_size=bundle.image_size,
        mean=torch.tensor(mean, device=dev).view(1, 3, 1, 1),
        std=torch.tensor(std, device=dev).view(1, 3, 1, 1),
        context_length=int(getattr(bundle.tokenizer, "context_length", 77)),
    )
    _CACHE[(str(spec), str(dev))] = (spec.version, guide)  # replaces an older export's
    return guide


def _cached(spec: ModelSpec, dev: torch.device) -> Guide | None:
    """The cached guide of ``spec`` on ``dev``, unless its files changed since it was loaded."""
    version, guide = _CACHE.get((str(spec), str(dev)), (None, None))
    return guide if guide is not None and version == spec.version else None


def _preprocess_stats(preprocess_cfg: dict) -> tuple[list[float], list[float]]:
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

    mean = preprocess_cfg.get("mean") or OPENAI_DATASET_MEAN
    std = preprocess_cfg.get("std") or OPENAI_DATASET_STD
    return list(mean), list(std)


def list_models() -> list[tuple[str, str]]:
    """Models usable right now without a download: (spec, description), the embedded default first."""
    out: list[tuple[str, str]] = []
    if (EMBEDDED_DIR / EMBEDDED_NAME).is_dir():
        out.append((EMBEDDED_NAME, "embedded: the small CLIP that ships with clipart (default, offline)"))
    if (EMBEDDED_DIR / EMBEDDED_DRAW).is_dir():
        out.append((EMBEDDED_DRAW, "embedded: clipart-mini with an adversarially fine-tuned image tower, which "
                    "draws from random strokes (the freehand preset's guide)"))  # fmt: skip
    out.extend(_cached_hub_models())
    return out


def _cached_hub_models() -> list[tuple[str, str]]:
    """open_clip models whose weights sit in the Hugging Face cache."""
    try:
        import open_clip
        from huggingface_hub import scan_cache_dir

        repos = {r.repo_id for r in scan_cache_dir().repos if r.repo_type == "model"}
    except Exception:  # no cache folder yet, or an unreadable one: nothing cached
        return []
    out = []
    for name, tag in open_clip.list_pretrained():
        repo = (open_clip.get_pretrained_cfg(name, tag).get("hf_hub") or "").rstrip("/")
        if repo in repos:
            out.append((f"{name}::{tag}", f"open_clip {name}, weights '{tag}' (cached)"))
    return out


def list_architectures() -> list[tuple[str, str]]:
    """Every open_clip architecture and pretrained tag, as ``(name, tag)`` (weights download on first use)."""
    import open_clip

    return [(name, tag) for name, tag in open_clip.list_pretrained()]
