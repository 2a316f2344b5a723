"""Guide models: CLIP loading through open_clip and the embedded model that ships in the package.

- :mod:`~clipart.models.spec`: the one parser of model specs (``clipart-mini``, ``NAME::TAG``, ``hf-hub:``,
  ``local-dir:``, checkpoint files, JSON configs) into a :class:`ModelSpec`;
- :mod:`~clipart.models.build`: the one loader (:func:`build_model`), used by training and evaluation as it is,
  and by drawing through :func:`load_model` (frozen, cached per process);
- :mod:`~clipart.models.hub`: offline-aware Hugging Face checks; :mod:`~clipart.models.device`: the device resolver.

Heavy modules load on first use, so ``from clipart.models import parse_spec`` does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clipart._lazy import lazy_getattr
from clipart.models.spec import EMBEDDED_DIR, EMBEDDED_NAME, EMBEDDED_NAMES, ModelSpec, parse_spec

_LAZY = {
    "Guide": "clipart.models.guide",
    "PromptTruncatedWarning": "clipart.models.guide",
    "load_model": "clipart.models.guide",
    "load_models": "clipart.models.guide",
    "list_models": "clipart.models.guide",
    "list_architectures": "clipart.models.guide",
    "ModelBundle": "clipart.models.build",
    "build_model": "clipart.models.build",
    "check_available": "clipart.models.build",
    "quiet_open_clip": "clipart.models.build",
    "read_json_config": "clipart.models.build",
    "check_device": "clipart.models.device",
    "resolve_device": "clipart.models.device",
    "ensure_hub": "clipart.models.hub",
    "hub_reachable": "clipart.models.hub",
}

__all__ = [
    "build_model",
    "check_available",
    "check_device",
    "EMBEDDED_DIR",
    "EMBEDDED_NAME",
    "EMBEDDED_NAMES",
    "ensure_hub",
    "Guide",
    "hub_reachable",
    "list_architectures",
    "list_models",
    "load_model",
    "load_models",
    "ModelBundle",
    "ModelSpec",
    "parse_spec",
    "PromptTruncatedWarning",
    "quiet_open_clip",
    "read_json_config",
    "resolve_device",
]

if TYPE_CHECKING:
    from clipart.models.build import (
        ModelBundle,
        build_model,
        check_available,
        quiet_open_clip,
        read_json_config,
    )
    from clipart.models.device import check_device, resolve_device
    from clipart.models.guide import (
        Guide,
        PromptTruncatedWarning,
        list_architectures,
        list_models,
        load_model,
        load_models,
    )
    from clipart.models.hub import ensure_hub, hub_reachable


__getattr__ = lazy_getattr(__name__, _LAZY)
