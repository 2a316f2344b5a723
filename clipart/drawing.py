"""Drawing: the result of a drawing run, its encoders, and the one table of output kinds (svg, png, json, gif)."""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from clipart._version import __version__
from clipart.config import DrawConfig
from clipart.errors import ConfigError
from clipart.output import atomic_write, check_writable, make_folders, slug
from clipart.render import render
from clipart.scene import Scene
from clipart.svg import scene_to_svg

MAX_PNG_SIZE = 8192
DEFAULT_OUT = Path("clipart-out")


def to_image(tensor: torch.Tensor) -> Image.Image:
    """``[3, H, W]`` in [0, 1] → an RGB PIL image."""
    arr = (tensor.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr, "RGB")


def check_png_size(size: int) -> int:
    """``size`` if it is a PNG size clipart writes (1 to 8192 px), else ConfigError."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PNG_SIZE:
        raise ConfigError(f"PNG size must be a whole number from 1 to {MAX_PNG_SIZE} px, got {size!r}")
    return size


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: such a value is written as null."""
    return value if math.isfinite(value) else None


@dataclass
class Drawing:
    """A finished (or stopped) drawing: its scene, the settings that made it and how it went."""

    scene: Scene
    config: DrawConfig
    loss: float
    steps_done: int
    timings: dict[str, float] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    frames: list[Image.Image] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    threads: int = 0
    credit: str = ""  # whose icon the drawing started from (start="icon"); the SVG carries it

    def svg(self) -> str:
        """The drawing as an SVG document (one ``<path>`` per visible stroke) on the config's canvas size."""
        return scene_to_svg(self.scene.visible(), self.config.size, title=self.title, desc=self.credit)

    @property
    def title(self) -> str:
        """What the drawing shows: its prompts, or the names of its image prompts."""
        return " | ".join(self.config.prompts or [Path(p).name for p in self.config.images])

    def png(self, size: int | None = None) -> Image.Image:
        """The drawing rasterised at ``size`` px (default: the canvas size)."""
        size = check_png_size(size or self.config.size)
        with torch.no_grad():
            return to_image(render(self.scene.visible(), size))

    def sidecar(self) -> dict[str, Any]:
        """Everything needed to reproduce the drawing, plus how it went."""
        return {
            "clipart_version": __version__,
            "prompts": self.config.prompts,
            "prompt_weights": self.config.prompt_weights,
            "images": self.config.images,
            "image_weights": self.config.image_weights,
            "negatives": self.config.negatives,
            "negative_weights": self.config.negative_weights,
            "models": self.models,
            "preset": self.config.preset,
            "seed": self.config.seed,
            "config": self.config.to_dict(),
            "steps_done": self.steps_done,
            "final_loss": _finite(self.loss),
            "candidate_scores": [_finite(x) for x in self.scores],
            "timings": self.timings,
            "cpu_threads": self.threads,
            "credit": self.credit,
            "torch_version": torch.__version__,
        }

    def encode(self, kind: str, size: int | None = None) -> bytes:
        """The bytes of one output kind of :data:`OUTPUT_KINDS` (``size``: the PNG's, in px)."""
        if kind not in OUTPUT_KINDS:
            raise ConfigError(f"unknown output kind {kind!r}: use {', '.join(OUTPUT_KINDS)}")
        return OUTPUT_KINDS[kind].encode(self, size)

    def save(self, path: str | Path, *, size: int | None = None, force: bool = False) -> Path:
        """Write the drawing to ``path``; the format follows the suffix (.svg, .png, .json, .gif)."""
        path = Path(path)
        check_writable(path, force)
        atomic_write(path, self.encode(path.suffix.lower().lstrip("."), size))
        return path

    def save_all(self, paths: dict[str, Path], *, png_size: int | None = None) -> None:
        """Write several outputs (kind → path) prepared by :func:`plan_outputs`."""
        blobs = {kind: self.encode(kind, png_size) for kind in paths}
        make_folders(paths)
        for kind, path in paths.items():
            atomic_write(path, blobs[kind])


def _png_bytes(drawing: Drawing, size: int | None) -> bytes:
    buf = io.BytesIO()
    drawing.png(size).save(buf, format="PNG")
    return buf.getvalue()


def _gif_bytes(drawing: Drawing, size: int | None) -> bytes:
    buf = io.BytesIO()
    frames = drawing.frames or [drawing.png()]
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


@dataclass(frozen=True)
class OutputKind:
    """One kind of file a drawing is written as."""

    description: str
    encode: Callable[[Drawing, int | None], bytes]
    default: bool  # written by every `clipart draw` (the others on request)


OUTPUT_KINDS: dict[str, OutputKind] = {
    "svg": OutputKind(
        "the drawing (one <path> per visible stroke)", lambda d, _: d.svg().encode("utf-8"), True
    ),
    "png": OutputKind("the drawing rasterised", _png_bytes, True),
    "json": OutputKind(
        "the settings, models and timings (sidecar)",
        lambda d, _: (json.dumps(d.sidecar(), indent=2, allow_nan=False) + "\n").encode("utf-8"),
        True,
    ),
    "gif": OutputKind("an animation of the optimisation", _gif_bytes, False),
}
DEFAULT_KINDS = tuple(kind for kind, spec in OUTPUT_KINDS.items() if spec.default)


def plan_outputs(
    out: str | None, prompt: str, seed: int, kinds: list[str] | tuple[str, ...], force: bool = False
) -> dict[str, Path]:
    """Paths for each output kind, checked before any work is done (ConfigError on a bad or taken path).

    ``out`` is a folder (existing, or one to create in an existing parent when the drawing is saved) or a file
    name whose suffix is one output kind (its stem names all outputs). By default: ``./clipart-out/``.
    """
    suffixes = tuple(f".{kind}" for kind in OUTPUT_KINDS)
    if out is None:
        folder, stem = DEFAULT_OUT, f"{slug(prompt)}-s{seed}"
    else:
        p = Path(out).expanduser()
        if p.suffix.lower() in suffixes:
            folder, stem = p.parent, p.stem
        elif p.is_dir() or out.endswith(("/", os.sep)) or not p.suffix:
            folder, stem = p, f"{slug(prompt)}-s{seed}"
            if not p.exists() and not p.parent.is_dir():
                raise ConfigError(f"output folder's parent does not exist: {p.parent}")
        else:
            raise ConfigError(f"--out {out!r}: give a folder or a file ending in {', '.join(suffixes)}")
    paths = {k: folder / f"{stem}.{k}" for k in kinds}
    for path in paths.values():
        check_writable(path, force, create=True)
    return paths
