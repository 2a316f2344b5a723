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

from clipart._lazy import lazy_front

if TYPE_CHECKING:  # the public names, each imported on first use
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
    from clipart.models.spec import (
        EMBEDDED_DIR,
        EMBEDDED_DRAW,
        EMBEDDED_NAME,
        EMBEDDED_NAMES,
        ModelSpec,
        parse_spec,
    )

__getattr__, __dir__ = lazy_front(__name__, __file__)
