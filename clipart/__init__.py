"""clipart: vector art from text by CLIP-guided Bézier strokes.

The public API (heavy modules are imported on first use, so ``import clipart`` is instant)::

    drawing = clipart.draw("a red apple", preset="quick", seed=3)
    drawing.save("apple.svg")
    for event in clipart.steps("a red apple", preset="quick"):
        ...

The names below are the whole API, listed once: the imports of the ``TYPE_CHECKING`` block, which editors read
and :func:`clipart._lazy.lazy_front` turns into ``__all__`` and the imports made on first use. The faces' own
helpers (output paths, prompts files, limits) live in their modules, such as :mod:`clipart.drawing`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clipart._lazy import lazy_front

if TYPE_CHECKING:  # the public names, each imported on first use
    from clipart._version import __version__
    from clipart.api import draw, steps
    from clipart.batch import BatchPrompt, BatchResult, draw_batch
    from clipart.config import DEFAULT_PRESET, DrawConfig, list_presets, load_preset, make_config
    from clipart.drawing import Drawing
    from clipart.errors import ClipartError, ConfigError, ModelError, OutputError
    from clipart.loop import Progress
    from clipart.models import ModelSpec, list_architectures, list_models, load_model, parse_spec
    from clipart.search_index import SearchHit, build_index, search

__getattr__, __dir__ = lazy_front(__name__, __file__)
