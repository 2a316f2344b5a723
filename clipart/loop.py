"""The drawing loop: strokes → render → augment → CLIP → loss → Adam step, as an iterator of Progress events.

Every face (CLI, Python API, web app) consumes :func:`steps`; :func:`draw` simply runs it to the end.
"""

from __future__ import annotations

import io
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor

from clipart import __version__
from clipart.augment import Augment
from clipart.config import DrawConfig, make_config, parse_color
from clipart.errors import ConfigError
from clipart.models import load_model, resolve_device
from clipart.objective import Objective, PromptSet
from clipart.output import atomic_write, check_writable, make_folders
from clipart.render import render, render_batch
from clipart.scene import Scene
from clipart.svg import read_svg_file, scene_to_svg
from clipart.threads import CpuShare

# kornia draws from torch's global generator: seeding it per step under this lock keeps drawings that run at
# the same time in one process (the web app) reproducible.
_AUGMENT_LOCK = threading.Lock()


def to_image(tensor: torch.Tensor) -> Image.Image:
    """``[3, H, W]`` in [0, 1] → an RGB PIL image."""
    arr = (tensor.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr, "RGB")


MAX_PNG_SIZE = 8192


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

    def svg(self) -> str:
        """The drawing as an SVG document (one ``<path>`` per visible stroke) on the config's canvas size."""
        return scene_to_svg(self.scene.visible(), self.config.size, title=" | ".join(self.config.prompts))

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
            "torch_version": torch.__version__,
        }

    def encode(self, kind: str, size: int | None = None) -> bytes:
        """The bytes of one output kind: ``svg``, ``png``, ``json`` or ``gif``."""
        if kind == "svg":
            return self.svg().encode("utf-8")
        if kind == "json":
            return (json.dumps(self.sidecar(), indent=2, allow_nan=False) + "\n").encode("utf-8")
        buf = io.BytesIO()
        if kind == "png":
            self.png(size).save(buf, format="PNG")
        elif kind == "gif":
            frames = self.frames or [self.png()]
            frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
        else:
            raise ConfigError(f"unknown output kind {kind!r}: use svg, png, json or gif")
        return buf.getvalue()

    def save(self, path: str | Path, *, size: int | None = None, force: bool = False) -> Path:
        """Write the drawing to ``path``; the format follows the suffix (.svg, .png, .json, .gif)."""
        path = Path(path)
        check_writable(path, force)
        atomic_write(path, self.encode(path.suffix.lower().lstrip("."), size))
        return path

    def save_all(self, paths: dict[str, Path], *, png_size: int | None = None) -> None:
        """Write several outputs (kind → path) prepared by :func:`clipart.output.plan_outputs`."""
        blobs = {kind: self.encode(kind, png_size) for kind in paths}
        make_folders(paths)
        for kind, path in paths.items():
            atomic_write(path, blobs[kind])


@dataclass
class Progress:
    """One optimisation step: what a progress bar, a live preview or a notebook needs."""

    step: int
    total: int
    loss: float
    elapsed: float
    rate: float
    done: bool
    image: Image.Image | None
    scene: Scene
    _run: _Run = field(repr=False)

    def drawing(self) -> Drawing:
        """The drawing as of this step (use it to keep the result of a stopped run)."""
        return self._run.drawing(self)


def _init_scene(cfg: DrawConfig, seed: int, device: torch.device) -> Scene:
    background = parse_color(cfg.background)
    if cfg.init_svg:
        return read_svg_file(cfg.init_svg).to(device)
    scene = Scene.random(
        cfg.strokes,
        generator=torch.Generator().manual_seed(seed),
        canvas_px=cfg.size,
        segments=(cfg.min_segments, cfg.max_segments),
        radius=cfg.init_radius,
        width_px=cfg.init_width,
        gray=cfg.init_color == "gray",
        background=background,
    )
    if cfg.init_color == "black":
        scene.colors[:, :3] = 0.0
        scene.colors[:, 3] = 1.0
    return scene.to(device)


class _Run:
    """State of one drawing run, shared by its Progress events."""

    def __init__(self, cfg: DrawConfig) -> None:
        self.cfg = cfg
        self.frames: list[Image.Image] = []
        self.models: list[str] = []
        self.timings: dict[str, float] = {}
        self.scores: list[float] = []
        self.threads = 0

    def drawing(self, event: Progress) -> Drawing:
        timings = dict(self.timings, optimise_s=round(event.elapsed, 3))
        return Drawing(
            scene=event.scene,
            config=self.cfg,
            loss=event.loss,
            steps_done=event.step,
            timings=timings,
            models=list(self.models),
            frames=list(self.frames),
            scores=list(self.scores),
            threads=self.threads,
        )

    def _respawn(
        self, scenes: list[Scene], optimizer: torch.optim.Optimizer | None, rng: torch.Generator
    ) -> None:
        """Restart the strokes that went invisible (VectorFusion's respawn) and forget their Adam moments."""
        cfg = self.cfg
        init = {"canvas_px": cfg.size, "segments": (cfg.min_segments, cfg.max_segments),
                "radius": cfg.init_radius, "width_px": cfg.init_width}  # fmt: skip
        for scene in scenes:
            faded = scene.respawn_(cfg.respawn_alpha, rng, **init)
            if optimizer is None or not bool(faded.any()):
                continue
            for tensor in (scene.points, scene.widths, scene.colors):
                for moment in optimizer.state.get(tensor, {}).values():
                    if isinstance(moment, Tensor) and moment.shape[:1] == faded.shape:
                        moment[faded] = 0

    def __iter__(self) -> Iterator[Progress]:
        device = resolve_device(self.cfg.device)
        if device.type != "cpu":
            yield from self._steps(device, None)
            return
        before = torch.get_num_threads()
        with CpuShare(self.cfg.threads, before) as cpu:
            self.threads = cpu.threads
            try:
                yield from self._steps(device, cpu)
            finally:
                torch.set_num_threads(before)

    def _steps(self, device: torch.device, cpu: CpuShare | None) -> Iterator[Progress]:
        cfg = self.cfg
        t0 = time.perf_counter()
        if cpu is not None:
            cpu.apply()
        k = cfg.candidates
        # before the models load, so that a bad --init fails at once
        scenes = [_init_scene(cfg, cfg.seed + i, device) for i in range(k)]
        guides = [load_model(m, p, cfg.device) for m, p in zip(cfg.models, cfg.pretrained, strict=True)]
        self.models = [g.name for g in guides]
        prompts = PromptSet(cfg.prompts, cfg.prompt_weights, cfg.negatives, cfg.negative_weights)
        objectives = [Objective(g, prompts) for g in guides]
        out_size = max(g.image_size for g in guides)
        size = cfg.size
        augment = Augment(
            cfg.views,
            out_size,
            perspective=cfg.perspective,
            crop_scale=cfg.crop_scale,
            background=scenes[0].background,
        ).to(device)
        rates = {"points": cfg.lr_points / size, "widths": cfg.lr_widths / size, "colors": cfg.lr_colors}
        groups = [
            {"params": [getattr(s, attr) for s in scenes], "lr": lr, "name": attr}
            for attr, lr in rates.items()
            if lr > 0
        ]
        for g in groups:
            for t in g["params"]:
                t.requires_grad_(True)
        optimizer = torch.optim.Adam(groups) if groups else None
        min_w, max_w = cfg.min_width / size, cfg.max_width / size
        rng = torch.Generator().manual_seed(cfg.seed)
        self.timings["startup_s"] = round(time.perf_counter() - t0, 3)

        t_start = time.perf_counter()
        for step in range(1, cfg.steps + 1):
            if cpu is not None:
                cpu.apply()  # each step: the web app runs steps in whichever worker thread is free
            frac = (step - 1) / cfg.steps
            for group in groups:  # CLIPDraw's schedule: the points' rate ×0.4 at 50 %, ×0.1 at 75 %
                if group["name"] == "points":
                    group["lr"] = rates["points"] * (1.0 if frac < 0.5 else (0.4 if frac < 0.75 else 0.1))
            images = render_batch(scenes, size)
            with _AUGMENT_LOCK, torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=rng)))
                views = augment(images)
            per_drawing = torch.stack([obj.loss(views, k) for obj in objectives]).mean(dim=0)
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
                per_drawing.sum().backward()
                optimizer.step()
            for s in scenes:
                s.clamp_(min_w, max_w)
            if cfg.respawn_every and step % cfg.respawn_every == 0 and step <= 0.75 * cfg.steps:
                self._respawn(scenes, optimizer, rng)
            losses = per_drawing.detach().cpu()
            best = int(losses.argmin())
            last = step == cfg.steps
            if last and k > 1:  # rank the candidates by CLIP score on their clean renders
                with torch.no_grad():
                    finals = render_batch(scenes, size)
                    score = torch.stack([obj.score(finals) for obj in objectives]).mean(dim=0).cpu()
                self.scores = [round(float(x), 5) for x in score]
                best = int(score.argmax())
            image = None
            if step % cfg.preview_every == 0 or last:
                with torch.no_grad():
                    image = to_image(render(scenes[best], size))
                if cfg.animate:
                    self.frames.append(image)
            elapsed = time.perf_counter() - t_start
            yield Progress(
                step=step,
                total=cfg.steps,
                loss=float(losses[best]),
                elapsed=elapsed,
                rate=step / elapsed if elapsed > 0 else 0.0,
                done=last,
                image=image,
                scene=scenes[best].snapshot(),
                _run=self,
            )


def steps(prompt: str | list[str], **options: Any) -> Iterator[Progress]:
    """Run a drawing step by step: yields a Progress event after every optimisation step.

    Takes the same options as :func:`clipart.config.make_config` (``preset``, ``model``, ``seed``, ``strokes``,
    ``steps``, ``size``, ``views``, ...). Settings are checked now (ClipartError on bad ones); models load at the
    first step. Stop early by stopping the iteration; ``event.drawing()`` keeps the result so far.
    ``config=`` takes a whole :class:`DrawConfig` instead (its prompts are used); it comes without other options.
    """
    cfg = options.pop("config", None)
    if cfg is None:
        cfg = make_config(prompt, **options)
    elif options:
        raise ConfigError(f"give config= or options, not both (got config= and {', '.join(sorted(options))})")
    return iter(_Run(cfg.validate()))


def draw(prompt: str | list[str], **options: Any) -> Drawing:
    """Make a drawing from text and return it (see :func:`steps` for the options)."""
    last = None
    for last in steps(prompt, **options):  # noqa: B007 - the last event holds the result
        continue
    assert last is not None
    return last.drawing()
