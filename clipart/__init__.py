"""clipart: vector art from text by CLIP-guided Bézier strokes.

The public API (heavy modules are imported on first use, so ``import clipart`` is instant)::

    drawing = clipart.draw("a red circle", preset="quick", seed=3)
    drawing.save("circle.svg")
    for event in clipart.steps("a red circle", preset="quick"):
        ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clipart.errors import ClipartError, ConfigError, ModelError

__version__ = "0.1.0"

_LAZY = {
    "draw": "clipart.loop",
    "steps": "clipart.loop",
    "Drawing": "clipart.loop",
    "Progress": "clipart.loop",
    "DrawConfig": "clipart.config",
    "make_config": "clipart.config",
    "load_preset": "clipart.config",
    "list_presets": "clipart.config",
    "load_model": "clipart.models",
    "list_models": "clipart.models",
    "Scene": "clipart.scene",
}

__all__ = [
    "ClipartError",
    "ConfigError",
    "DrawConfig",
    "Drawing",
    "ModelError",
    "Progress",
    "Scene",
    "__version__",
    "draw",
    "list_models",
    "list_presets",
    "load_model",
    "load_preset",
    "make_config",
    "steps",
]

if TYPE_CHECKING:
    from clipart.config import DrawConfig, list_presets, load_preset, make_config
    from clipart.loop import Drawing, Progress, draw, steps
    from clipart.models import list_models, load_model
    from clipart.scene import Scene


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'clipart' has no attribute {name!r}")
