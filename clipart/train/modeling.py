"""Models to train: open_clip architecture names, JSON configs of custom models, exported folders.

Also the optimiser (AdamW without weight decay on gains, biases and the logit scale) and the cosine schedule.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from clipart.errors import ModelError
from clipart.models import EMBEDDED_DIR, EMBEDDED_NAMES, ensure_hub, quiet_open_clip

LOCAL_DIR = "local-dir:"
_MODEL_HELP = (
    "give clipart-mini (the embedded model), an open_clip architecture (`clipart models --all` lists them), "
    "a JSON config file (like open_clip's model_configs/*.json) or local-dir:FOLDER of an exported model"
)


@dataclass
class ModelBundle:
    """A model with what goes with it: tokenizer, architecture config and preprocessing config."""

    model: torch.nn.Module
    tokenizer: Callable
    model_cfg: dict[str, Any]
    preprocess_cfg: dict[str, Any]
    description: str

    @property
    def image_size(self) -> int:
        """Square input size of the image tower."""
        size = self.preprocess_cfg.get("size", 224)
        return int(size[0] if isinstance(size, (list, tuple)) else size)


def read_json_config(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model_cfg, preprocess_cfg) of a JSON file: an open_clip model config, or ``{"model_cfg", ...}``."""
    if not path.is_file():
        raise ModelError(f"model config file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ModelError(
            f"{path.name} is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})"
        ) from None
    if not isinstance(data, dict):
        raise ModelError(f"{path.name} must hold a JSON object with embed_dim, vision_cfg and text_cfg")
    model_cfg = data.get("model_cfg", data)
    preprocess_cfg = dict(data.get("preprocess_cfg", {}))
    missing = [
        k for k in ("embed_dim", "vision_cfg", "text_cfg") if not isinstance(model_cfg.get(k), (int, dict))
    ]
    if missing:
        raise ModelError(f"{path.name} lacks {', '.join(missing)}: see open_clip's model_configs/*.json")
    preprocess_cfg.setdefault("size", model_cfg["vision_cfg"].get("image_size", 224))
    return model_cfg, preprocess_cfg


def build_model(spec: str, pretrained: str | None = None, device: str | torch.device = "cpu") -> ModelBundle:
    """Create the model named by ``spec`` (see module doc), with ``pretrained`` weights if given.

    Random initialisation draws from torch's global generator: seed it first for a reproducible model.
    """
    import open_clip

    if spec in EMBEDDED_NAMES:  # the embedded model, as `clipart draw` names it
        spec = f"{LOCAL_DIR}{EMBEDDED_DIR / 'clipart-mini'}"
    path = Path(spec).expanduser()
    try:
        if spec.endswith(".json"):
            return _from_json(path, pretrained, device)
        if spec.startswith(LOCAL_DIR) or path.is_dir():
            folder = Path(spec[len(LOCAL_DIR) :] if spec.startswith(LOCAL_DIR) else spec).expanduser()
            if pretrained:
                raise ModelError(f"{spec} brings its own weights: drop --pretrained")
            if not (folder / "open_clip_config.json").is_file():
                raise ModelError(f"{folder} has no open_clip_config.json: not an exported model folder")
            return _create(f"{LOCAL_DIR}{folder}", None, device, folder / "open_clip_config.json", spec)
        if spec.startswith("hf-hub:"):
            if pretrained:
                raise ModelError(f"{spec} brings its own weights: drop --pretrained")
            from huggingface_hub import hf_hub_download

            ensure_hub(spec, spec[len("hf-hub:") :])
            config = Path(hf_hub_download(spec[len("hf-hub:") :], "open_clip_config.json"))
            return _create(spec, None, device, config, spec)
        name = spec.replace("/", "-")
        if name not in open_clip.list_models():
            raise ModelError(f"unknown model {spec!r}: {_MODEL_HELP}")
        if pretrained and not Path(pretrained).expanduser().is_file():
            tag = open_clip.get_pretrained_cfg(name, pretrained)
            if not tag:
                known = ", ".join(open_clip.list_pretrained_tags_by_model(name)) or "none"
                raise ModelError(
                    f"{pretrained!r} is neither a file nor a pretrained tag of {name} (tags: {known})"
                )
            if tag.get("hf_hub"):
                ensure_hub(f"{name} weights '{pretrained}'", tag["hf_hub"].rstrip("/"))
        return _create(name, pretrained, device, None, f"{name} ({pretrained or 'random init'})")
    except ModelError:
        raise
    except Exception as e:  # open_clip raises many kinds; all mean "this model could not be built"
        message = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ModelError(f"could not build model {spec}: {message}") from None


def _from_json(path: Path, pretrained: str | None, device: str | torch.device) -> ModelBundle:
    import open_clip

    model_cfg, preprocess_cfg = read_json_config(path)
    if pretrained and not Path(pretrained).expanduser().is_file():
        raise ModelError(f"--pretrained {pretrained!r} is not a file: with a JSON config give a weights file")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "open_clip_config.json"
        config.write_text(json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}))
        bundle = _create(f"{LOCAL_DIR}{tmp}", None, device, config, f"{path.name} (random init)")
    if pretrained:
        with quiet_open_clip():
            open_clip.load_checkpoint(bundle.model, str(Path(pretrained).expanduser()))
        bundle.description = f"{path.name} ({pretrained})"
    return bundle


def _create(
    name: str, pretrained: str | None, device: str | torch.device, config: Path | None, description: str
) -> ModelBundle:
    import open_clip

    with quiet_open_clip():
        model = open_clip.create_model(name, pretrained=pretrained, device=device)
        if config is None:
            model_cfg = open_clip.get_model_config(name)
        else:
            model_cfg = json.loads(config.read_text())["model_cfg"]
        tokenizer = open_clip.get_tokenizer(name)
    preprocess_cfg = dict(open_clip.get_model_preprocess_cfg(model))
    return ModelBundle(model, tokenizer, model_cfg, preprocess_cfg, description)


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
