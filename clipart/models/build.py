"""The one model loader: a :class:`~clipart.models.spec.ModelSpec` → an open_clip model with its tokenizer and
configs. Drawing (:func:`clipart.models.load_model`, frozen), training and evaluation all build models here."""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from clipart.errors import ModelError
from clipart.models.device import resolve_device
from clipart.models.hub import ensure_hub, hub_reachable
from clipart.models.spec import EMBEDDED_WEIGHT_FILE, LOCAL_DIR, ModelSpec, parse_spec, text_tower_of


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


def read_json_config(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model_cfg, preprocess_cfg) of a JSON file: an open_clip model config, or ``{"model_cfg", ...}``."""
    if not path.is_file():
        raise ModelError(f"model config file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        where = (
            f" ({e.msg} at line {e.lineno} column {e.colno})" if isinstance(e, json.JSONDecodeError) else ""
        )
        raise ModelError(f"{path.name} is not valid JSON{where}") from None
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


def build_model(
    spec: str | ModelSpec, pretrained: str | None = None, device: str | torch.device = "cpu"
) -> ModelBundle:
    """Create the model named by ``spec`` (see :mod:`clipart.models.spec`), in train mode, on ``device``.

    Random initialisation draws from torch's global generator: seed it first for a reproducible model. Raises
    ModelError with a one-line fix when the model cannot be found, downloaded or built.
    """
    spec = parse_spec(spec, pretrained)
    dev = resolve_device(device)
    check_available(spec)
    try:
        return _build(spec, dev)
    except ModelError:
        raise
    except Exception as e:  # open_clip raises many kinds; all mean "this model could not be built"
        message = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ModelError(f"could not load model {spec.description}: {message}") from None


def check_available(spec: ModelSpec) -> None:
    """ModelError in one line unless the model can be built now: its config reads as one, and weights that come
    from the Hugging Face hub are cached or downloadable. Cheap (no weights are read): an ensemble checks every
    model before it loads any."""
    if spec.kind == "hf-hub":
        ensure_hub(f"model {spec}", spec.name)
    elif spec.kind == "json":
        read_json_config(Path(spec.name))
    elif spec.folder is not None:
        read_json_config(spec.folder / "open_clip_config.json")
        text = text_tower_of(spec.folder)
        if text is not None:
            check_available(text)
            _check_same_text_tower(spec.folder, text)
    elif spec.pretrained and not Path(spec.pretrained).is_file():
        import open_clip

        repo = (open_clip.get_pretrained_cfg(spec.name, spec.pretrained).get("hf_hub") or "").rstrip("/")
        if repo:
            ensure_hub(f"{spec.name} weights '{spec.pretrained}'", repo)
        elif not hub_reachable():
            raise ModelError(
                f"{spec.name} weights '{spec.pretrained}' must be downloaded, and the internet cannot be reached"
            )


def _build(spec: ModelSpec, device: torch.device) -> ModelBundle:
    if spec.kind == "hf-hub":
        from huggingface_hub import hf_hub_download

        config = Path(hf_hub_download(spec.name, "open_clip_config.json"))
        return _create(str(spec), None, device, config, spec)
    if spec.kind == "json":
        model_cfg, preprocess_cfg = read_json_config(Path(spec.name))
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "open_clip_config.json"
            config.write_text(json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}))
            return _create(f"{LOCAL_DIR}{tmp}", spec.pretrained, device, config, spec, own_weights=True)
    folder = spec.folder
    if folder is not None:  # embedded, local-dir, checkpoint file: the folder's config
        weights = spec.name if spec.kind == "checkpoint" else spec.pretrained
        config = folder / "open_clip_config.json"
        text = text_tower_of(folder)
        if text is not None:  # the folder's (or the named) weights file holds the image tower only
            bundle = _create(f"{LOCAL_DIR}{folder}", None, device, config, spec, own_weights=True)
            _load_with_text_tower(
                bundle.model, Path(weights) if weights else folder / EMBEDDED_WEIGHT_FILE, text
            )
            return bundle
        return _create(f"{LOCAL_DIR}{folder}", weights, device, config, spec, own_weights=weights is not None)
    return _create(spec.name, spec.pretrained, device, None, spec)


def _check_same_text_tower(folder: Path, text: ModelSpec) -> None:
    """ModelError unless the folder's config describes the text tower and joint embedding of the model ``text``."""
    assert text.folder is not None  # text_tower_of allows folders only
    mine, _ = read_json_config(folder / "open_clip_config.json")
    theirs, _ = read_json_config(text.folder / "open_clip_config.json")
    for key in ("embed_dim", "text_cfg"):
        if mine.get(key) != theirs.get(key):
            raise ModelError(f"{folder}: its {key} differs from that of {text}, whose text tower it names")


def _load_with_text_tower(model: torch.nn.Module, image_weights: Path, text: ModelSpec) -> None:
    """Load an image tower's weights (``visual.*`` only) and every other weight from the model ``text``."""
    from safetensors.torch import load_file

    image = load_file(str(image_weights))
    if not image or any(not k.startswith("visual.") for k in image):
        raise ModelError(
            f"{image_weights} must hold image-tower weights (visual.*) only: its text tower is {text}"
        )
    assert text.folder is not None  # text_tower_of allows folders only
    source = text.folder / EMBEDDED_WEIGHT_FILE
    if not source.is_file():
        raise ModelError(f"{text} has no {EMBEDDED_WEIGHT_FILE} to share its text tower from")
    shared = {k: v for k, v in load_file(str(source)).items() if not k.startswith("visual.")}
    model.load_state_dict({**shared, **image}, strict=True)


def _create(
    name: str,
    pretrained: str | None,
    device: torch.device,
    config: Path | None,
    spec: ModelSpec,
    *,
    own_weights: bool = False,
) -> ModelBundle:
    """open_clip's model ``name``; with ``own_weights``, the weights file ``pretrained`` is loaded by clipart
    (open_clip would otherwise load whichever weights file of a folder it prefers, or none for a JSON config)."""
    import open_clip

    with quiet_open_clip():
        model = open_clip.create_model(
            name,
            pretrained=None if own_weights else pretrained,
            load_weights=not own_weights,
            device=device,
        )
        if own_weights and pretrained:
            open_clip.load_checkpoint(model, pretrained)
        if config is None:
            model_cfg = open_clip.get_model_config(name)
        else:
            model_cfg = json.loads(config.read_text())["model_cfg"]
        tokenizer = open_clip.get_tokenizer(name)
    preprocess_cfg = dict(open_clip.get_model_preprocess_cfg(model))
    return ModelBundle(model, tokenizer, model_cfg, preprocess_cfg, spec.description)
