"""clipart: vector art from text by CLIP-guided Bézier strokes.

The public API (heavy modules are imported on first use, so ``import clipart`` is instant)::

    drawing = clipart.draw("a red circle", preset="quick", seed=3)
    drawing.save("circle.svg")
    for event in clipart.steps("a red circle", preset="quick"):
        ...

The faces (``clipart.cli``, ``clipart.app``) use only what this module exports (and :mod:`clipart.train`'s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clipart._lazy import lazy_getattr
from clipart._version import __version__
from clipart.errors import ClipartError, ConfigError, ModelError, OutputError, require_extra

_LAZY = {
    "draw": "clipart.loop",
    "steps": "clipart.loop",
    "Progress": "clipart.loop",
    "Drawing": "clipart.drawing",
    "OUTPUT_KINDS": "clipart.drawing",
    "DEFAULT_KINDS": "clipart.drawing",
    "plan_outputs": "clipart.drawing",
    "free_seed": "clipart.drawing",
    "check_png_size": "clipart.drawing",
    "DrawConfig": "clipart.config",
    "make_config": "clipart.config",
    "load_preset": "clipart.config",
    "list_presets": "clipart.config",
    "split_weight": "clipart.config",
    "DEFAULT_PRESET": "clipart.config",
    "DEFAULT_NEGATIVE_WEIGHT": "clipart.config",
    "CLIPDRAW_NEGATIVES": "clipart.config",
    "LIMITS": "clipart.config",
    "ModelSpec": "clipart.models",
    "parse_spec": "clipart.models",
    "load_model": "clipart.models",
    "check_device": "clipart.models",
    "list_models": "clipart.models",
    "list_architectures": "clipart.models",
    "Scene": "clipart.scene",
    "SearchHit": "clipart.search_index",
    "build_index": "clipart.search_index",
    "search": "clipart.search_index",
    "BatchPrompt": "clipart.batch",
    "BatchResult": "clipart.batch",
    "draw_batch": "clipart.batch",
    "read_prompts_file": "clipart.batch",
    "shard_prompts": "clipart.batch",
}

__all__ = [
    "__version__",
    "BatchPrompt",
    "BatchResult",
    "build_index",
    "check_device",
    "check_png_size",
    "ClipartError",
    "CLIPDRAW_NEGATIVES",
    "ConfigError",
    "DEFAULT_KINDS",
    "DEFAULT_NEGATIVE_WEIGHT",
    "DEFAULT_PRESET",
    "draw",
    "draw_batch",
    "DrawConfig",
    "Drawing",
    "free_seed",
    "LIMITS",
    "list_architectures",
    "list_models",
    "list_presets",
    "load_model",
    "load_preset",
    "make_config",
    "ModelError",
    "ModelSpec",
    "OUTPUT_KINDS",
    "OutputError",
    "parse_spec",
    "plan_outputs",
    "Progress",
    "read_prompts_file",
    "require_extra",
    "Scene",
    "search",
    "SearchHit",
    "shard_prompts",
    "split_weight",
    "steps",
]

if TYPE_CHECKING:
    from clipart.batch import BatchPrompt, BatchResult, draw_batch, read_prompts_file, shard_prompts
    from clipart.config import (
        CLIPDRAW_NEGATIVES,
        DEFAULT_NEGATIVE_WEIGHT,
        DEFAULT_PRESET,
        LIMITS,
        DrawConfig,
        list_presets,
        load_preset,
        make_config,
        split_weight,
    )
    from clipart.drawing import DEFAULT_KINDS, OUTPUT_KINDS, Drawing, check_png_size, free_seed, plan_outputs
    from clipart.loop import Progress, draw, steps
    from clipart.models import (
        ModelSpec,
        check_device,
        list_architectures,
        list_models,
        load_model,
        parse_spec,
    )
    from clipart.scene import Scene
    from clipart.search_index import SearchHit, build_index, search


__getattr__ = lazy_getattr(__name__, _LAZY)
