"""Drawing: the result of a drawing run, its encoders, and the one table of output kinds (svg, png, json, gif);
and the planning of output paths the faces check before a drawing starts.

torch, PIL and the renderer load when a drawing is encoded, so that a face imports this module at no cost.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clipart._version import __version__
from clipart.config import DrawConfig
from clipart.errors import ConfigError, OutputError
from clipart.output import (
    check_folder,
    check_not_inputs,
    check_writable,
    make_folders,
    says_folder,
    slug,
    user_path,
    write_files,
)

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from clipart.scene import Scene

MAX_PNG_SIZE = 8192
DEFAULT_OUT = Path("clipart-out")


def to_image(tensor: torch.Tensor) -> Image.Image:
    """``[3, H, W]`` in [0, 1] → an RGB PIL image; ``[4, H, W]`` (premultiplied RGB and alpha, as
    ``render(..., alpha=True)`` gives it) → an RGBA one (straight alpha, as PNG stores it)."""
    import torch
    from PIL import Image

    t = tensor.detach().clamp(0, 1)
    if t.shape[0] == 4:
        a = t[3:]
        t = torch.cat([torch.where(a > 0, t[:3] / a, 0.0).clamp(0, 1), a])
    arr = (t * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr, "RGBA" if t.shape[0] == 4 else "RGB")


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
    # what an icon start placed (start="icon"): each thing's icon, count, colour and strokes (ranges into
    # scene), the relations and settings of the prompt (clipart/compose.py); empty for other starts
    layout: dict[str, Any] = field(default_factory=dict)

    def svg(self) -> str:
        """The drawing as an SVG document (one ``<path>`` per visible stroke) on the config's canvas size."""
        from clipart.svg import scene_to_svg

        return scene_to_svg(self.scene.visible(), self.config.size, title=self.title, desc=self.credit)

    def _repr_svg_(self) -> str:
        """Jupyter's rich display: a notebook shows the drawing inline."""
        return self.svg()

    @property
    def title(self) -> str:
        """What the drawing shows: its prompts, or the names of its image prompts."""
        return " | ".join(self.config.prompts or [Path(p).name for p in self.config.images])

    def png(self, size: int | None = None) -> Image.Image:
        """The drawing rasterised at ``size`` px (default: the canvas size): RGB, or RGBA for a drawing without a
        background (transparent where no stroke is)."""
        import torch

        from clipart.render import render

        size = check_png_size(size or self.config.size)
        scene = self.scene.visible()
        with torch.no_grad():
            return to_image(render(scene, size, alpha=scene.background is None))

    def sidecar(self) -> dict[str, Any]:
        """Everything needed to reproduce the drawing, plus how it went."""
        import torch

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
            "layout": self.layout,
            "torch_version": torch.__version__,
        }

    def encode(self, kind: str, size: int | None = None) -> bytes:
        """The bytes of one output kind of :data:`OUTPUT_KINDS` (``size``: the PNG's, in px)."""
        if kind not in OUTPUT_KINDS:
            raise ConfigError(f"unknown output kind {kind!r}: use {', '.join(OUTPUT_KINDS)}")
        return OUTPUT_KINDS[kind].encode(self, size)

    def save(self, path: str | Path, *, size: int | None = None, force: bool = False) -> Path:
        """Write the drawing to ``path``; the format follows the suffix (.svg, .png, .json, .gif). An existing
        file is refused (ConfigError) unless ``force``."""
        path = Path(path)
        check_writable(path, force)
        data = self.encode(path.suffix.lower().lstrip("."), size)
        try:
            write_files({path: data}, replace=force)
        except FileExistsError:
            raise ConfigError(f"{path} already exists: use --force to overwrite it") from None
        except OSError as e:
            raise OutputError(f"cannot write {path}: {e.strerror}") from None
        return path

    def save_all(
        self, paths: dict[str, Path], *, png_size: int | None = None, force: bool = False
    ) -> dict[str, Path]:
        """Write several outputs (kind → path) prepared by :func:`plan_outputs` as one set, and return where they
        went: with ``force`` over the files named; without it no file is overwritten, and should a name have been
        taken since it was planned (another process), the set goes to the first free ``<stem>-N`` names instead.
        A file that cannot be written raises OutputError and leaves none of the set."""
        blobs = {kind: self.encode(kind, png_size) for kind in paths}
        make_folders(paths)
        for n in range(1, 1000):
            where = paths if n == 1 else {k: p.with_name(f"{p.stem}-{n}{p.suffix}") for k, p in paths.items()}
            try:
                write_files({where[kind]: blob for kind, blob in blobs.items()}, replace=force)
                return where
            except FileExistsError:
                continue
            except OSError as e:
                raise OutputError(
                    f"cannot write {e.filename or next(iter(paths.values()))}: {e.strerror}"
                ) from None
        raise OutputError(f"cannot write {next(iter(paths.values()))}: every free name is taken")


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


SUFFIXES = tuple(f".{kind}" for kind in OUTPUT_KINDS)


def output_target(out: str | Path | None, *, files: bool = True) -> tuple[Path, Path | None]:
    """Where ``out`` (``--out``) says outputs go: the folder and, when it names a file (``files``), that file.

    A path ending in a separator (or in ``.`` or ``..``) is always a folder; an existing folder is one unless
    its name ends in an output kind's suffix (then it is refused: name a file, or end it with a separator); a
    name ending in a kind's suffix is a file; a new name without a suffix is a folder. ConfigError otherwise.
    """
    if out is None:
        return DEFAULT_OUT, None
    text = os.fspath(out)
    if not text.strip():
        raise ConfigError("--out is empty: give a folder or a file name")
    p = user_path(text)
    kind = p.suffix.lower() in SUFFIXES
    if says_folder(text) or (not kind and os.path.isdir(p)):
        return p, None
    if kind and os.path.isdir(p):
        raise ConfigError(f"--out {text} is a folder: end it with {os.sep} to write into it, or name a file")
    if not files and (kind or os.path.lexists(p)):
        what = "names a file" if kind else f"is a {'file' if os.path.exists(p) else 'broken link'}"
        raise ConfigError(f"--out {text} {what}: a batch writes many drawings: give a folder")
    if kind:
        return p.parent, p
    if not p.suffix or os.path.lexists(p):
        return p, None  # a folder; check_folder names a file in the way
    what = "a folder" if not files else f"a file ending in {', '.join(SUFFIXES)}, or a folder"
    raise ConfigError(
        f"--out {text}: give {what} (a new folder with a dot in its name: end it with {os.sep})"
    )


def free_seed(out: str | Path | None, prompt: str, seed: int) -> int:
    """The first seed from ``seed`` whose files are not in the output folder of ``out`` (``seed`` itself when
    ``out`` names a file): a second ``clipart draw`` of a prompt without ``--seed`` makes a new drawing."""
    folder, named = output_target(out)
    if named is not None:
        return seed
    base = slug(prompt)
    while any(os.path.lexists(folder / f"{base}-s{seed}{suffix}") for suffix in SUFFIXES):
        seed += 1
    return seed


def plan_outputs(
    out: str | Path | None,
    prompt: str,
    seed: int,
    kinds: list[str] | tuple[str, ...],
    force: bool = False,
    *,
    inputs: list[str | Path | None] | tuple[str | Path | None, ...] = (),
) -> dict[str, Path]:
    """Paths for each output kind, checked before any work is done (ConfigError on a bad or taken path).

    ``out`` (see :func:`output_target`) is a folder (existing, or one to create in an existing parent when the
    drawing is saved) or a file name whose suffix is one output kind (its stem names all outputs). By default:
    ``./clipart-out/``. In a folder the files are ``<prompt>-s<seed>``; when such a file exists they become
    ``<prompt>-s<seed>-2`` (-3, ...) unless ``force`` overwrites them. A file named by ``out`` that exists is
    refused unless ``force``. No output may be one of ``inputs`` (the drawing's image, style or SVG files).
    """
    folder, named = output_target(out)
    if named is not None:
        kind = named.suffix.lower()[1:]
        if kind not in kinds:
            hint = " (add --gif)" if kind == "gif" else ""
            raise ConfigError(f"--out {named} names a .{kind} file, which this drawing does not write{hint}")
        paths = {k: named if k == kind else named.with_suffix(f".{k}") for k in kinds}
    else:
        check_folder(folder, create=True)
        stem = f"{slug(prompt)}-s{seed}"
        taken = not force and any(os.path.lexists(folder / f"{stem}{s}") for s in SUFFIXES)
        n = 2
        while taken and any(os.path.lexists(folder / f"{stem}-{n}{s}") for s in SUFFIXES):
            n += 1
        paths = {k: folder / f"{stem}{f'-{n}' if taken else ''}.{k}" for k in kinds}
    for path in paths.values():
        check_writable(path, force, create=True)
    check_not_inputs(paths.values(), inputs)
    return paths
