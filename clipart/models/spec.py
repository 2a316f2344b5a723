"""Model specs: the one parser of the texts that name a CLIP model, for drawing, training and evaluation alike.

A spec is one of (``::TAG`` or ``--pretrained TAG`` gives the weights where a model has none of its own):

- ``clipart-mini`` (or ``embedded``): the small CLIP trained by clipart and shipped inside the package;
- ``clipart-mini-draw``: clipart-mini's text tower with an image tower fine-tuned adversarially for drawing from
  random strokes, also shipped (its folder holds the image tower only: see :func:`text_tower_of`);
- ``NAME`` or ``NAME::TAG``: an open_clip architecture (``ViT-B-32::openai``); TAG may be a weights file;
- ``hf-hub:org/repo``; ``local-dir:FOLDER`` or a path to such a folder (``open_clip_config.json`` + weights);
- ``FILE.safetensors`` / ``.pt`` / ``.bin`` / ``.pth``: a checkpoint with ``open_clip_config.json`` beside it;
- ``FILE.json``: an open_clip model config (a custom architecture; ``::WEIGHTS`` loads a weights file into it).

:func:`parse_spec` checks everything that needs no network and returns a :class:`ModelSpec`, the one
representation that travels from a face through the settings to the loader (:func:`clipart.models.build_model`).
Only the standard library is imported here (open_clip only to check an architecture name, and the names it
gives a model folder's weights).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from clipart.errors import ModelError
from clipart.output import user_path

EMBEDDED_DIR = Path(__file__).parent / "embedded"
EMBEDDED_NAME = "clipart-mini"
EMBEDDED_NAMES = (EMBEDDED_NAME, "embedded")
EMBEDDED_DRAW = "clipart-mini-draw"  # the freehand preset's guide
# the weight file clipart ships; checked without importing open_clip
EMBEDDED_WEIGHT_FILE = "open_clip_model.safetensors"
CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".bin", ".pth")
LOCAL_DIR = "local-dir:"
HF_HUB = "hf-hub:"
Kind = Literal["embedded", "folder", "hf-hub", "checkpoint", "json", "open_clip"]
_HELP = (
    "give clipart-mini (the embedded model), an open_clip architecture (`clipart models --all` lists them), "
    "hf-hub:org/repo, local-dir:FOLDER of an exported model, a checkpoint file or a JSON model config"
)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec: what kind of model, where it is, and the weights to put in it (``pretrained``)."""

    kind: Kind
    name: str  # the open_clip name, folder, hub repo or file
    pretrained: str | None = None  # an open_clip tag or a weights file; None: the model's own (or random)

    def __str__(self) -> str:
        base = {
            "embedded": self.name,
            "folder": f"{LOCAL_DIR}{self.name}",
            "hf-hub": f"{HF_HUB}{self.name}",
        }
        text = base.get(self.kind, self.name)
        return f"{text}::{self.pretrained}" if self.pretrained else text

    @property
    def random_init(self) -> bool:
        """Whether the model gets random weights (an architecture or JSON config without ``pretrained``)."""
        return self.kind in ("open_clip", "json") and self.pretrained is None

    @property
    def description(self) -> str:
        """How the model is named to a user (progress lines, the sidecar, the web page)."""
        if self.kind == "embedded":
            return f"{self.name} (embedded)"
        if self.kind in ("open_clip", "json"):
            label = Path(self.name).name if self.kind == "json" else self.name
            return f"{label} ({self.pretrained or 'random weights'})"
        return str(self)

    @property
    def folder(self) -> Path | None:
        """The exported-model folder (embedded, ``local-dir:`` and checkpoint specs), else None."""
        if self.kind == "embedded":
            return EMBEDDED_DIR / self.name
        if self.kind == "folder":
            return Path(self.name)
        if self.kind == "checkpoint":
            return Path(self.name).parent
        return None

    @property
    def files(self) -> list[Path]:
        """The local files the model is read from (its config and weights), those that exist; none for a hub
        model or an open_clip tag (the spec names those weights)."""
        found: list[Path] = []
        if self.kind in ("checkpoint", "json"):
            found = [Path(self.name)]
        if self.folder is not None:
            found += [self.folder / "open_clip_config.json"]
            names = {"embedded": (EMBEDDED_WEIGHT_FILE,), "folder": weight_files()}.get(self.kind, ())
            found += [self.folder / f for f in names]
        if self.pretrained:
            found.append(Path(self.pretrained))
        text = text_tower_of(self.folder) if self.folder is not None else None
        return [f for f in found if f.is_file()] + (text.files if text is not None else [])

    @property
    def version(self) -> tuple[tuple[str, int, int], ...]:
        """The name, size and modification time of each of :attr:`files`: another value once the model is exported
        again in place (a cached guide or a search index of the old one is not used for it)."""
        return tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in self.files)


def parse_spec(spec: str | ModelSpec, pretrained: str | None = None) -> ModelSpec:
    """Parse a model spec (see the module doc) with optional weights; ModelError with a one-line fix if bad."""
    if isinstance(spec, ModelSpec):
        if pretrained:
            raise ModelError(f"{spec} already names its weights: drop --pretrained {pretrained!r}")
        return spec
    if not isinstance(spec, str):
        raise ModelError(f"a model spec is a text, got {type(spec).__name__}: {_HELP}")
    if pretrained is not None and not isinstance(pretrained, str):
        raise ModelError(f"pretrained weights are a tag or a file's path, got {type(pretrained).__name__}")
    if not spec.strip():
        raise ModelError(f"the model spec is empty: {_HELP}")
    text = spec.strip()
    if "::" in text and pretrained is None:
        text, pretrained = (part.strip() for part in text.split("::", 1))
    pretrained = pretrained.strip() if isinstance(pretrained, str) and pretrained.strip() else None
    if text in (*EMBEDDED_NAMES, EMBEDDED_DRAW):
        name = EMBEDDED_DRAW if text == EMBEDDED_DRAW else EMBEDDED_NAME
        if pretrained:
            raise ModelError(
                f"{name} brings its own weights: drop --pretrained {pretrained!r} "
                "(or name the model those weights are for with --model)"
            )
        _check_folder(EMBEDDED_DIR / name, f"the embedded model {name} is missing from this installation: "
                      "reinstall clipart", weights=(EMBEDDED_WEIGHT_FILE,))  # fmt: skip
        return ModelSpec("embedded", name)
    if text.startswith(HF_HUB):
        repo = text[len(HF_HUB) :].strip("/")
        if repo.count("/") != 1:
            raise ModelError(f"hf-hub model ids look like hf-hub:org/repo, got {text!r}")
        if pretrained:
            raise ModelError(f"{text} brings its own weights: drop --pretrained {pretrained!r}")
        return ModelSpec("hf-hub", repo)
    path = user_path(text[len(LOCAL_DIR) :] if text.startswith(LOCAL_DIR) else text)
    if text.startswith(LOCAL_DIR) or path.is_dir():
        if not path.is_dir():
            raise ModelError(f"model folder not found: {path}")
        weights = _weights_file(pretrained, f"{text} brings its own weights")
        _check_folder(path, None, need_weights=weights is None)
        return ModelSpec("folder", str(path), weights)
    suffix = path.suffix.lower()
    if suffix == ".json":
        if not path.is_file():
            raise ModelError(f"model config file not found: {path}")
        return ModelSpec("json", str(path), _weights_file(pretrained, "with a JSON model config"))
    if suffix in CHECKPOINT_SUFFIXES:
        return _checkpoint(path, pretrained)
    return _open_clip(text, pretrained)


def text_tower_of(folder: Path) -> ModelSpec | None:
    """The model whose text tower (and logit scale) the model folder shares, or None when it holds its own.

    A folder whose ``open_clip_config.json`` names ``"text_tower"`` (an embedded model, or ``local-dir:FOLDER`` of a
    model that holds its own text tower) keeps only image-tower weights (``visual.*``) in its safetensors file: an
    image tower fine-tuned with the text tower locked ships without a second copy of it."""
    name = _config_key(folder, "text_tower")
    if name is None:
        return None
    # a relative local-dir: folder lies beside the folder that names it
    if isinstance(name, str) and name.startswith(LOCAL_DIR):
        name = LOCAL_DIR + str(folder / user_path(name[len(LOCAL_DIR) :]))
    try:
        text = parse_spec(name) if isinstance(name, str) and "::" not in name else None
    except ModelError as exc:
        raise ModelError(f'{folder}: "text_tower": {exc}') from None
    if text is None or text.kind not in ("embedded", "folder") or text.folder is None:
        raise ModelError(f'{folder}: "text_tower" names an embedded model or local-dir:FOLDER, got {name!r}')
    if _config_key(text.folder, "text_tower") is not None:
        raise ModelError(f"{folder}: its text tower {text} must hold its own text tower, not name another")
    return text


def _config_key(folder: Path, key: str) -> object:
    """``key`` of a model folder's ``open_clip_config.json``, or None (an unreadable config is reported where the
    model is checked)."""
    try:
        data = json.loads((folder / "open_clip_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get(key) if isinstance(data, dict) else None


def _weights_file(pretrained: str | None, context: str) -> str | None:
    """``pretrained`` as a weights file, where only a file makes sense."""
    if pretrained is None:
        return None
    path = user_path(pretrained)
    if not path.is_file():
        raise ModelError(f"{context}: --pretrained must be a weights file, and {pretrained!r} is not one")
    return str(path)


@cache
def weight_files() -> tuple[str, ...]:
    """The names of a model folder's weights that open_clip loads (its constants), the one it prefers first.
    open_clip loads torch: called where a folder is checked, before its model loads."""
    from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

    return HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME


def _check_folder(
    folder: Path, missing: str | None, *, need_weights: bool = True, weights: tuple[str, ...] | None = None
) -> None:
    """A model folder's config, and its weights under a name open_clip loads (``weights``, default
    :func:`weight_files`): open_clip gives a folder without them (say, with only ``open_clip_model.pt``) random
    weights, without a word."""
    if not folder.is_dir() and missing:
        raise ModelError(missing)
    if not (folder / "open_clip_config.json").is_file():
        raise ModelError(f"{folder} has no open_clip_config.json: not an exported open_clip model folder")
    names = weights or (weight_files() if need_weights else ())
    if names and not any((folder / f).is_file() for f in names):
        raise ModelError(
            f"{folder} has no weights file open_clip loads ({' or '.join(names)}): "
            + ("reinstall clipart" if weights else "name its weights file with --pretrained FILE")
        )


def _checkpoint(path: Path, pretrained: str | None) -> ModelSpec:
    if not path.is_file():
        raise ModelError(f"checkpoint file not found: {path}")
    if pretrained:
        raise ModelError(f"{path.name} is a weights file itself: drop --pretrained {pretrained!r}")
    if not (path.parent / "open_clip_config.json").is_file():
        run = path.resolve().parent.parent
        if path.resolve().parent.name == "checkpoints" and (run / "config.json").is_file():
            raise ModelError(
                f"{path.name} is a training checkpoint of the run in {run}: use the run's export, "
                f"--model local-dir:{run / 'export'} (`clipart train --resume {run}` writes it when it ends)"
            )
        raise ModelError(
            f"{path.name}: no open_clip_config.json beside it; name its open_clip architecture: --model "
            f"ARCH --pretrained {path} (or put its JSON config beside it as open_clip_config.json)"
        )
    return ModelSpec("checkpoint", str(path))


def _open_clip(text: str, pretrained: str | None) -> ModelSpec:
    import open_clip

    name = text.replace("/", "-")
    if name not in open_clip.list_models():
        raise ModelError(f"unknown model {text!r}: {_HELP}")
    if pretrained is None or pretrained.lower() == "none":
        return ModelSpec("open_clip", name)
    if user_path(pretrained).is_file():
        return ModelSpec("open_clip", name, str(user_path(pretrained)))
    if not open_clip.get_pretrained_cfg(name, pretrained):
        known = ", ".join(open_clip.list_pretrained_tags_by_model(name)) or "none"
        raise ModelError(
            f"{pretrained!r} is neither a weights file nor a pretrained tag of {name} (tags: {known})"
        )
    return ModelSpec("open_clip", name, pretrained)
