"""The drawing loop: strokes → render → augment → CLIP → loss → Adam step, as an iterator of Progress events.

Every face (CLI, Python API, web app) consumes :func:`steps`; :func:`draw` simply runs it to the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image
from torch import Tensor

from clipart.augment import Augment
from clipart.colors import parse_color
from clipart.config import DrawConfig, make_config
from clipart.drawing import Drawing, to_image
from clipart.errors import ConfigError
from clipart.models import load_models, resolve_device
from clipart.objective import Views, build_objective
from clipart.prune import prune, view_score
from clipart.render import render, render_batch
from clipart.scene import Scene
from clipart.start import icon_scenes, nothing_fits
from clipart.svg import read_svg_file
from clipart.threads import CpuShare

# kornia draws from torch's global generator: seeding it per step under this lock keeps drawings that run at
# the same time in one process (the web app) reproducible.
_AUGMENT_LOCK = threading.Lock()


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

    @property
    def config(self) -> DrawConfig:
        """The settings of the drawing (its seed, prompts, ...)."""
        return self._run.cfg

    def drawing(self) -> Drawing:
        """The drawing as of this step (use it to keep the result of a stopped run)."""
        return self._run.drawing(self)


def _init_scene(cfg: DrawConfig, seed: int, device: torch.device) -> Scene:
    background = parse_color(cfg.background or "#ffffff")
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


def _with_pen(scene: Scene, cfg: DrawConfig, layout: dict[str, Any]) -> Scene:
    """An icon start redrawn in ``cfg.icon_pen`` at ``init_width`` px (alpha kept), or as it is without a pen;
    the strokes of a thing the prompt gave a colour ("a red cat") keep it."""
    if cfg.icon_pen:
        pen = torch.ones(scene.num_strokes, dtype=torch.bool)
        for thing in layout.get("things", []):
            if thing.get("colour"):
                for a, b in thing["strokes"]:
                    pen[a:b] = False
        scene.colors[pen, :3] = torch.tensor(parse_color(cfg.icon_pen, "icon_pen"))
        scene.widths.fill_(cfg.init_width / cfg.size)
    return scene


class _Run:
    """State of one drawing run, shared by its Progress events."""

    def __init__(self, cfg: DrawConfig) -> None:
        self.cfg = cfg
        self.frames: list[Image.Image] = []
        self.models: list[str] = []
        self.timings: dict[str, float] = {}
        self.scores: list[float] = []
        self.threads = 0
        self.credits: list[str] = []  # whose icon each candidate started from (start="icon")
        self.layouts: list[dict[str, Any]] = []  # what went where in each candidate's icon start
        self.best = 0  # the candidate shown

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
            credit=self.credits[self.best] if self.credits else "",
            layout=self._layout(event),
        )

    def _layout(self, event: Progress) -> dict[str, Any]:
        """The shown candidate's layout; a pruned drawing's without stroke ranges (pruning renumbers strokes)."""
        if not self.layouts:
            return {}
        layout = self.layouts[self.best]
        if event.done and self.cfg.prune > 0:
            layout = {
                **layout,
                "things": [{k: v for k, v in t.items() if k != "strokes"} for t in layout["things"]],
            }
            layout.pop("extras", None)
        return layout

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
        # a bad --init was refused by validate; a partly readable one warns once the models have loaded
        from_icon = cfg.start == "icon" and not cfg.init_svg and any(w > 0 for w in cfg.prompt_weights)
        # nothing in the icon bank fits what the prompt is of: random strokes at their rates, and a line that says so
        unfit = nothing_fits(cfg.prompts, cfg.prompt_weights) if from_icon else ""
        if unfit:
            from_icon, self.credits = False, [unfit] * k
        guides = load_models(cfg.models, device=cfg.device)
        # each stroke's share of the points' rate, where a composed start has them
        point_rates: list[Tensor] = []
        scenes = [] if from_icon else [_init_scene(cfg, cfg.seed + i, device) for i in range(k)]
        if from_icon:
            # the canvas the user set; else white under a pen (a sketch), else the scene's (its setting's)
            background = (
                parse_color(cfg.background) if cfg.background else (1.0, 1.0, 1.0) if cfg.icon_pen else None
            )
            seeds = [cfg.seed + i for i in range(k)]
            starts = icon_scenes(cfg.prompts, cfg.prompt_weights, guides, seeds, background)
            self.credits = [s.credit for s in starts]
            self.layouts = [s.layout for s in starts]
            scenes = [_with_pen(s.scene, cfg, s.layout).to(device) for s in starts]
            if any(s.rates is not None for s in starts):  # a composed scene: small icons move less
                point_rates = [
                    (s.rates if s.rates is not None else torch.ones(s.scene.num_strokes))
                    .view(-1, 1, 1)
                    .to(device)
                    for s in starts
                ]
        self.models = [g.name for g in guides]
        objective = build_objective(cfg, guides)
        out_size = max(g.image_size for g in guides)
        size = cfg.size
        view_args = {
            "perspective": cfg.perspective,
            "crop_scale": cfg.crop_scale,
            "background": scenes[0].background,
        }
        augment = Augment(cfg.views, out_size, color_jitter=cfg.color_jitter, **view_args).to(device)
        pre = "icon_" if from_icon else ""  # an icon start has rates of its own
        lr = {part: getattr(cfg, f"{pre}lr_{part}") for part in ("points", "widths", "colors")}
        rates = {"points": lr["points"] / size, "widths": lr["widths"] / size, "colors": lr["colors"]}
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
            per_drawing = objective(Views(views, k, images))
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
                per_drawing.sum().backward()
                before = [s.points.detach().clone() for s in scenes] if point_rates else []
                optimizer.step()
                with torch.no_grad():
                    for s, was, rate in zip(scenes, before, point_rates, strict=False):
                        s.points.copy_(was + rate * (s.points - was))
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
                    score = objective.score(finals).cpu()
                self.scores = [round(float(x), 5) for x in score]
                best = int(score.argmax())
            result = scenes[best]
            self.best = best
            if last and cfg.prune > 0:
                t_prune = time.perf_counter()
                # the steps' warps and crops without colour jitter, which would make the scores random
                views = Augment(cfg.views, out_size, **view_args).to(device)
                with _AUGMENT_LOCK:  # it seeds torch's global generator, as the steps do
                    score = view_score(objective, views, size, cfg.seed)
                result = prune(result, score, size, cfg.prune)
                self.timings["prune_s"] = round(time.perf_counter() - t_prune, 3)
            image = None
            if step % cfg.preview_every == 0 or last:
                with torch.no_grad():
                    image = to_image(render(result, size))
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
                scene=result.snapshot(),
                _run=self,
            )


def steps(prompt: str | list[str] | None = None, **options: Any) -> Iterator[Progress]:
    """Run a drawing step by step: yields a Progress event after every optimisation step.

    Takes the same options as :func:`clipart.config.make_config` (``preset``, ``model``, ``seed``, ``strokes``,
    ``steps``, ``size``, ``views``, ``limits``, ...). Settings are checked now (ClipartError on bad ones); models
    load at the first step. Stop early by stopping the iteration; ``event.drawing()`` keeps the result so far.
    ``config=`` takes a whole :class:`DrawConfig` instead, prompts included: it comes without a prompt or options.
    """
    cfg = options.pop("config", None)
    if cfg is None:
        return iter(_Run(make_config(prompt if prompt is not None else [], **options)))
    given = sorted(options) + (["a prompt"] if prompt is not None else [])
    if given:
        raise ConfigError(
            f"give config= or a prompt and options, not both (got config= and {', '.join(given)})"
        )
    return iter(_Run(cfg.validate()))


def draw(prompt: str | list[str] | None = None, **options: Any) -> Drawing:
    """Make a drawing from text and return it (see :func:`steps` for the options)."""
    last = None
    for last in steps(prompt, **options):  # noqa: B007 - the last event holds the result
        continue
    assert last is not None
    return last.drawing()
