"""Guide models: CLIP loading through open_clip (names + pretrained tags, hf-hub ids, local dirs, checkpoint
files) and the embedded model that ships in the package.

Model specs understood by :func:`load_model`:

- ``clipart-mini`` (or ``embedded``): the small CLIP trained by clipart and shipped inside the package;
- ``NAME`` with ``pretrained=TAG`` (``ViT-B-32`` + ``openai``, or ``ViT-B-32::openai``) or ``pretrained=FILE`` (a local checkpoint);
- ``hf-hub:org/repo``; ``local-dir:PATH`` (``open_clip_config.json`` + weights); a path to such a folder;
- a checkpoint file (``.safetensors``/``.pt``/``.bin``) with ``open_clip_config.json`` beside it.

Everything that needs the network checks first whether the weights are cached and whether the hub can be reached,
so an offline machine gets a one-line error in about a second instead of open_clip's long retry loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from clipart.errors import ModelError

EMBEDDED_DIR = Path(__file__).parent / "embedded"
EMBEDDED_NAMES = ("clipart-mini", "embedded")
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin", "open_clip_model.pt")


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

    def encode_image(self, images: Tensor) -> Tensor:
        """L2-normalised image features ``[B, D]`` of images ``[B, 3, H, W]`` in [0, 1] (resized if needed)."""
        if images.shape[-1] != self.image_size or images.shape[-2] != self.image_size:
            images = F.interpolate(
                images, size=(self.image_size, self.image_size), mode="bilinear", antialias=True
            )
        feats = self.model.encode_image((images - self.mean) / self.std)
        return F.normalize(feats.float(), dim=-1)


def _token_count(tokenizer: object, text: str) -> int | None:
    encode = getattr(tokenizer, "encode", None)
    if encode is None:
        return None
    return len(encode(text)) + 2  # start and end tokens


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` → CUDA, then MPS, then CPU; anything else is checked to exist."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} was asked for but CUDA is not available: use --device cpu")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ModelError("device 'mps' was asked for but is not available: use --device cpu")
    return dev


def hub_reachable(timeout: float = 1.5) -> bool:
    """Whether the Hugging Face hub answers a TCP connection within ``timeout`` seconds (DNS included)."""
    import socket
    from urllib.parse import urlparse

    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.2)
    return bool(result and result[0])


def _hf_cached(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    for name in WEIGHT_FILES + ("open_clip_pytorch_model.safetensors",):
        path = try_to_load_from_cache(repo_id.rstrip("/"), name)
        if isinstance(path, str):
            return True
    return False


def ensure_hub(what: str, repo_id: str) -> None:
    """Fail fast when ``repo_id`` is neither cached nor downloadable; go offline when cached and unreachable."""
    import huggingface_hub.constants as hf_constants

    cached = _hf_cached(repo_id)
    if hf_constants.HF_HUB_OFFLINE and not cached:
        raise ModelError(
            f"{what} is not in the local cache and HF_HUB_OFFLINE is set: download it once online"
        )
    if hf_constants.HF_HUB_OFFLINE:
        return
    if hub_reachable():
        return
    if cached:
        hf_constants.HF_HUB_OFFLINE = True  # use the cache without a network round trip
        return
    raise ModelError(
        f"{what} must be downloaded from the Hugging Face hub, which cannot be reached: connect to the "
        "internet once (weights are cached afterwards), or use the embedded model (--model clipart-mini)"
    )


def _local_dir(path: Path) -> Path:
    if not (path / "open_clip_config.json").is_file():
        raise ModelError(f"{path} has no open_clip_config.json: not an exported open_clip model folder")
    if not any((path / f).is_file() for f in WEIGHT_FILES):
        raise ModelError(f"{path} has no weights file ({', '.join(WEIGHT_FILES)})")
    return path


def _parse_spec(spec: str, pretrained: str | None) -> tuple[str, str | None, str]:
    """(open_clip model name, pretrained, human description)."""
    import open_clip

    if "::" in spec and pretrained is None:
        spec, pretrained = spec.split("::", 1)
    if spec in EMBEDDED_NAMES:
        path = EMBEDDED_DIR / "clipart-mini"
        if not path.is_dir():
            raise ModelError("the embedded model is missing from this installation: reinstall clipart")
        return f"local-dir:{_local_dir(path)}", None, "clipart-mini (embedded)"
    if spec.startswith("local-dir:"):
        path = Path(spec[len("local-dir:") :]).expanduser()
        if not path.is_dir():
            raise ModelError(f"model folder not found: {path}")
        return f"local-dir:{_local_dir(path)}", None, spec
    if spec.startswith("hf-hub:"):
        repo = spec[len("hf-hub:") :]
        if repo.count("/") != 1:
            raise ModelError(f"hf-hub model ids look like hf-hub:org/repo, got {spec!r}")
        ensure_hub(f"model {spec}", repo)
        return spec, None, spec
    path = Path(spec).expanduser()
    if path.is_dir():
        return f"local-dir:{_local_dir(path)}", None, str(path)
    if path.suffix in (".safetensors", ".pt", ".bin", ".pth"):
        if not path.is_file():
            raise ModelError(f"checkpoint file not found: {path}")
        if not (path.parent / "open_clip_config.json").is_file():
            run = path.resolve().parent.parent
            if path.resolve().parent.name == "checkpoints" and (run / "config.json").is_file():
                raise ModelError(
                    f"{path.name} is a training checkpoint of the run in {run}: draw with the run's export, "
                    f"--model local-dir:{run / 'export'} (`clipart train --resume {run}` writes it when it ends)"
                )
            raise ModelError(
                f"{path.name}: no open_clip_config.json beside it; name its open_clip architecture: --model "
                f"ARCH --pretrained {path} (or put its JSON config beside it as open_clip_config.json)"
            )
        return f"local-dir:{path.parent}", str(path), str(path)
    name = spec.replace("/", "-")
    if name not in open_clip.list_models():
        raise ModelError(f"unknown model {spec!r}: run `clipart models --all` to list architectures")
    if pretrained is None:
        warnings.warn(
            f"model {name} has no --pretrained weights: it guides with random weights", stacklevel=3
        )
        return name, None, f"{name} (random weights)"
    if Path(pretrained).expanduser().is_file():
        return name, str(Path(pretrained).expanduser()), f"{name} ({pretrained})"
    if pretrained in ("", "none"):
        return name, None, f"{name} (random weights)"
    cfg = open_clip.get_pretrained_cfg(name, pretrained)
    if not cfg:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(name)) or "none"
        raise ModelError(f"unknown pretrained tag {pretrained!r} for {name}; known tags: {tags}")
    repo = cfg.get("hf_hub", "")
    if repo:
        ensure_hub(f"{name} weights '{pretrained}'", repo)
    elif not hub_reachable():
        raise ModelError(
            f"{name} weights '{pretrained}' must be downloaded, and the internet cannot be reached"
        )
    return name, pretrained, f"{name} ({pretrained})"


@contextlib.contextmanager
def quiet_open_clip() -> Iterator[None]:
    """Hide open_clip's root-logger warnings and FutureWarnings while it builds a model: "initialized randomly"
    comes before clipart loads a checkpoint file's weights itself, and failures are reported by clipart in one line."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        logging.disable(previous)


_CACHE: dict[tuple[str, str | None, str], Guide] = {}
_LOCK = threading.Lock()


def load_model(spec: str = "clipart-mini", pretrained: str | None = None, device: str = "auto") -> Guide:
    """Load (once per process) a frozen guide model. Raises ModelError with a one-line fix on failure."""
    dev = resolve_device(device)
    key = (spec, pretrained, str(dev))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        import open_clip

        name, tag, description = _parse_spec(spec, pretrained)
        try:
            # A local-dir with a tag means "this folder's config, the weights of that checkpoint file": open_clip
            # would otherwise load whichever weights file of the folder it prefers.
            own_file = name.startswith("local-dir:") and tag is not None
            with quiet_open_clip():
                model, _, preprocess = open_clip.create_model_and_transforms(
                    name, pretrained=None if own_file else tag, load_weights=not own_file, device=dev
                )
                if own_file:
                    open_clip.load_checkpoint(model, tag)
            tokenizer = open_clip.get_tokenizer(name)
        except ModelError:
            raise
        except Exception as e:  # open_clip raises many kinds; all mean "this model could not be loaded"
            msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            raise ModelError(f"could not load model {description}: {msg}") from None
        model.eval().requires_grad_(False)
        mean, std, size = _preprocess_stats(model, preprocess)
        guide = Guide(
            name=description,
            model=model,
            tokenizer=tokenizer,
            image_size=size,
            mean=torch.tensor(mean, device=dev).view(1, 3, 1, 1),
            std=torch.tensor(std, device=dev).view(1, 3, 1, 1),
            context_length=int(getattr(tokenizer, "context_length", 77)),
        )
        _CACHE[key] = guide
        return guide


def _preprocess_stats(model: torch.nn.Module, preprocess: object) -> tuple[list[float], list[float], int]:
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

    mean, std = list(OPENAI_DATASET_MEAN), list(OPENAI_DATASET_STD)
    for t in getattr(preprocess, "transforms", []):
        if hasattr(t, "mean") and hasattr(t, "std"):
            mean, std = list(t.mean), list(t.std)
    size = getattr(getattr(model, "visual", None), "image_size", 224)
    if isinstance(size, (tuple, list)):
        size = size[0]
    return mean, std, int(size)


def list_models() -> list[tuple[str, str]]:
    """Models usable right now without a download: (spec, description), the embedded default first."""
    out: list[tuple[str, str]] = []
    if (EMBEDDED_DIR / "clipart-mini").is_dir():
        out.append(("clipart-mini", "embedded: the small CLIP that ships with clipart (default, offline)"))
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
