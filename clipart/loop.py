"""The drawing loop: strokes → render → augment → CLIP → loss → Adam step, as an iterator of Progress events.

Every face (CLI, Python API, web app) consumes :func:`run` through :func:`clipart.api.steps`; :func:`clipart.api.draw`
simply runs it to the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image
from torch import Tensor
from torch.optim.lr_scheduler import LambdaLR

from clipart.augment import Augment
from clipart.colors import parse_background, parse_color
from clipart.config import DrawConfig
from clipart.drawing import Drawing, to_image
from clipart.models import Guide, load_models, resolve_device
from clipart.objective import Objective, Views, build_objective
from clipart.prune import prune, view_score
from clipart.render import composite, render, render_batch
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


def _from_icon(cfg: DrawConfig) -> bool:
    """Whether the drawing starts from icons: an icon start without an SVG to start from, and a text to pick by."""
    return cfg.start == "icon" and not cfg.init_svg and any(w > 0 for w in cfg.prompt_weights)


@dataclass
class _Start:
    """The candidates' first scenes; an icon start adds whose icons they are, what went where, and (a composed
    scene) each stroke's share of the points' rate."""

    scenes: list[Scene]
    credits: list[str] = field(default_factory=list)
    layouts: list[dict[str, Any]] = field(default_factory=list)
    point_rates: list[Tensor] = field(default_factory=list)


def _random_start(cfg: DrawConfig, device: torch.device) -> _Start:
    """Random strokes, each candidate from its own seed, on white (:meth:`_Run._setup` sets the user's canvas)."""
    scenes = []
    for seed in range(cfg.seed, cfg.seed + cfg.candidates):
        scene = Scene.random(
            cfg.strokes,
            generator=torch.Generator().manual_seed(seed),
            canvas_px=cfg.size,
            segments=(cfg.min_segments, cfg.max_segments),
            radius=cfg.init_radius,
            width_px=cfg.init_width,
            gray=cfg.init_color == "gray",
        )
        if cfg.init_color == "black":
            scene.colors[:, :3] = 0.0
            scene.colors[:, 3] = 1.0
        scenes.append(scene.to(device))
    return _Start(scenes)


def _svg_start(cfg: DrawConfig, device: torch.device) -> _Start:
    """The strokes of the ``init_svg`` file, for every candidate (validate refused an unreadable one)."""
    assert cfg.init_svg is not None
    return _Start([read_svg_file(cfg.init_svg).to(device) for _ in range(cfg.candidates)])


def _icon_start(
    cfg: DrawConfig, guides: list[Guide], device: torch.device, background: tuple[float, float, float] | None
) -> _Start:
    """The icons, or the composed scene, that the guides find nearest to the prompt, one start a candidate,
    composed on ``background`` (None: the colour of the setting the prompt names, else white)."""
    seeds = list(range(cfg.seed, cfg.seed + cfg.candidates))
    starts = icon_scenes(cfg.prompts, cfg.prompt_weights, guides, seeds, background)
    point_rates = []
    if any(s.rates is not None for s in starts):  # a composed scene: small icons move less
        point_rates = [
            (s.rates if s.rates is not None else torch.ones(s.scene.num_strokes)).view(-1, 1, 1).to(device)
            for s in starts
        ]
    return _Start(
        scenes=[_with_pen(s.scene, cfg, s.layout).to(device) for s in starts],
        credits=[s.credit for s in starts],
        layouts=[s.layout for s in starts],
        point_rates=point_rates,
    )


def _set_canvas(start: _Start, canvas: tuple[float, float, float] | None) -> None:
    """Give every start the user's ``canvas`` (None: a transparent drawing, whose layout says "none", not the
    white it was composed on)."""
    for scene in start.scenes:
        scene.background = canvas
    for layout in start.layouts:
        if canvas is None and "background" in layout:
            layout["background"] = "none"


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


def _adam(scenes: list[Scene], rates: dict[str, float], size: int) -> torch.optim.Adam | None:
    """Adam over the candidates' points, widths and colours, one group each (rates in px become canvas units);
    a part whose rate is zero stays fixed, and with no rate above zero there is nothing to optimise."""
    per_unit = {"points": rates["points"] / size, "widths": rates["widths"] / size, "colors": rates["colors"]}
    groups = [
        {"params": [getattr(s, name) for s in scenes], "lr": lr, "name": name}
        for name, lr in per_unit.items()
        if lr > 0
    ]
    for group in groups:
        for tensor in group["params"]:
            tensor.requires_grad_(True)
    return torch.optim.Adam(groups) if groups else None


def _schedule(optimizer: torch.optim.Optimizer, steps: int) -> LambdaLR:
    """CLIPDraw's step schedule: the points' rate falls twice in the run's second half; the others stay.

    LambdaLR scales each group's starting rate by its lambda of the steps done so far, one scheduler step after
    each optimizer step, so step ``s`` runs at the factor of ``(s - 1) / steps``.
    """

    def points(done: int) -> float:
        frac = done / steps
        return 1.0 if frac < 0.5 else 0.4 if frac < 0.75 else 0.1

    def constant(done: int) -> float:
        return 1.0

    return LambdaLR(
        optimizer, [points if g["name"] == "points" else constant for g in optimizer.param_groups]
    )


def _respawn(
    cfg: DrawConfig, scenes: list[Scene], optimizer: torch.optim.Optimizer | None, rng: torch.Generator
) -> None:
    """Restart the strokes that went invisible (VectorFusion's respawn) and forget their Adam moments."""
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


@dataclass
class _Parts:
    """What the steps of one run work on, built once by :meth:`_Run._setup`."""

    device: torch.device
    cpu: CpuShare | None  # the run's CPU threads, where it runs on the CPU
    scenes: list[Scene]
    point_rates: list[Tensor]
    objective: Objective
    out_size: int  # the largest guide's input size, the views' size
    view_args: dict[str, Any]
    augment: Augment
    optimizer: torch.optim.Adam | None
    schedule: LambdaLR | None
    rng: torch.Generator  # seeds each step's augmentation, and respawned strokes
    started: float  # perf_counter when the steps began


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

    def __iter__(self) -> Iterator[Progress]:
        """Set up, then one event a step; the last one's comes from the end (ranking, pruning)."""
        device = resolve_device(self.cfg.device)
        with self._cpu_share(device) as cpu:
            parts = self._setup(device, cpu)
            for step in range(1, self.cfg.steps):  # every step but the last: its event
                yield self._progress(parts, step, self._step(parts, step))
            yield self._end(parts, self._step(parts, self.cfg.steps))

    @contextmanager
    def _cpu_share(self, device: torch.device) -> Iterator[CpuShare | None]:
        """The run's share of the CPU threads, given back after; None on an accelerator."""
        if device.type != "cpu":
            yield None
            return
        before = torch.get_num_threads()
        with CpuShare(self.cfg.threads, before) as cpu:
            self.threads = cpu.threads
            try:
                yield cpu
            finally:
                torch.set_num_threads(before)

    def _setup(self, device: torch.device, cpu: CpuShare | None) -> _Parts:
        """Load the guides; build the candidates' start, the objective, the augmentation, Adam and its schedule."""
        cfg = self.cfg
        t0 = time.perf_counter()
        if cpu is not None:
            cpu.apply()
        from_icon = _from_icon(cfg)
        # nothing in the icon bank fits what the prompt is of: random strokes at their rates, and a line that says so
        unfit = nothing_fits(cfg.prompts, cfg.prompt_weights) if from_icon else ""
        from_icon = from_icon and not unfit
        # a bad --init was refused by validate; a partly readable one warns once the models have loaded
        guides = load_models(cfg.models, device=cfg.device)
        canvas = parse_background(cfg.background) if cfg.background else None  # None: none set, or none
        if from_icon:  # composed on the user's canvas; on white under a pen (a sketch) or for a transparent
            # drawing (a setting adds its strokes, not its colour); else on the colour of the prompt's setting
            on = canvas or ((1.0, 1.0, 1.0) if cfg.icon_pen or cfg.background else None)
            start = _icon_start(cfg, guides, device, on)
        else:
            start = _svg_start(cfg, device) if cfg.init_svg else _random_start(cfg, device)
        if cfg.background:  # the canvas the user set, over an --init file's or a start's; none: no canvas
            _set_canvas(start, canvas)
        self.credits = start.credits or ([unfit] * cfg.candidates if unfit else [])
        self.layouts = start.layouts
        self.models = [g.name for g in guides]
        objective = build_objective(cfg, guides)
        out_size = max(g.image_size for g in guides)
        view_args = {"perspective": cfg.perspective, "crop_scale": cfg.crop_scale, "samples": cfg.view_samples,
                     "background": start.scenes[0].background}  # fmt: skip
        augment = Augment(cfg.views, out_size, color_jitter=cfg.color_jitter, **view_args).to(device)
        optimizer = _adam(start.scenes, cfg.rates(from_icon), cfg.size)
        self.timings["startup_s"] = round(time.perf_counter() - t0, 3)
        return _Parts(
            device=device,
            cpu=cpu,
            scenes=start.scenes,
            point_rates=start.point_rates,
            objective=objective,
            out_size=out_size,
            view_args=view_args,
            augment=augment,
            optimizer=optimizer,
            schedule=_schedule(optimizer, cfg.steps) if optimizer is not None else None,
            rng=torch.Generator().manual_seed(cfg.seed),
            started=time.perf_counter(),
        )

    def _step(self, parts: _Parts, step: int) -> Tensor:
        """One optimisation step of every candidate: render, augment, loss, Adam, clamp, respawn; their losses."""
        cfg = self.cfg
        if parts.cpu is not None:
            parts.cpu.apply()  # each step: the web app runs steps in whichever worker thread is free
        images = render_batch(parts.scenes, cfg.size, alpha=parts.scenes[0].background is None)
        with _AUGMENT_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=parts.rng)))
            views = parts.augment(images)
        per_drawing = parts.objective(Views(views, cfg.candidates, composite(images)))
        if parts.optimizer is not None:
            self._update(parts, per_drawing)
        for s in parts.scenes:
            s.clamp_(cfg.min_width / cfg.size, cfg.max_width / cfg.size)
        if cfg.respawn_every and step % cfg.respawn_every == 0 and step <= 0.75 * cfg.steps:
            _respawn(cfg, parts.scenes, parts.optimizer, parts.rng)
        return per_drawing.detach().cpu()

    def _update(self, parts: _Parts, per_drawing: Tensor) -> None:
        """Backward, an Adam step (a composed scene's strokes keep their share of the points' move), the schedule."""
        assert parts.optimizer is not None and parts.schedule is not None
        parts.optimizer.zero_grad(set_to_none=True)
        per_drawing.sum().backward()
        before = [s.points.detach().clone() for s in parts.scenes] if parts.point_rates else []
        parts.optimizer.step()
        with torch.no_grad():
            for s, was, rate in zip(parts.scenes, before, parts.point_rates, strict=False):
                s.points.copy_(was + rate * (s.points - was))
        parts.schedule.step()

    def _progress(self, parts: _Parts, step: int, losses: Tensor) -> Progress:
        """The event of a step before the last: it shows the candidate of the lowest loss."""
        self.best = int(losses.argmin())
        return self._event(parts, step, float(losses[self.best]), parts.scenes[self.best], done=False)

    def _end(self, parts: _Parts, losses: Tensor) -> Progress:
        """After the last step: the candidates ranked by their clean renders, the best one pruned, the last event."""
        self.best = self._rank(parts) if self.cfg.candidates > 1 else int(losses.argmin())
        result = parts.scenes[self.best]
        if self.cfg.prune > 0:
            result = self._prune(parts, result)
        return self._event(parts, self.cfg.steps, float(losses[self.best]), result, done=True)

    def _rank(self, parts: _Parts) -> int:
        """The best candidate by the objective's score of its clean render (all scores kept in ``scores``)."""
        with torch.no_grad():
            score = parts.objective.score(render_batch(parts.scenes, self.cfg.size)).cpu()
        self.scores = [round(float(x), 5) for x in score]
        return int(score.argmax())

    def _prune(self, parts: _Parts, scene: Scene) -> Scene:
        """``scene`` without the strokes the guides can spare (timed as ``prune_s``)."""
        t0 = time.perf_counter()
        # the steps' warps and crops without colour jitter, which would make the scores random
        views = Augment(self.cfg.views, parts.out_size, **parts.view_args).to(parts.device)
        with _AUGMENT_LOCK:  # it seeds torch's global generator, as the steps do
            score = view_score(parts.objective, views, self.cfg.size, self.cfg.seed)
        pruned = prune(scene, score, self.cfg.size, self.cfg.prune)
        self.timings["prune_s"] = round(time.perf_counter() - t0, 3)
        return pruned

    def _event(self, parts: _Parts, step: int, loss: float, scene: Scene, done: bool) -> Progress:
        """A Progress event, with a preview image every ``preview_every`` steps and at the end (a GIF's frame)."""
        image = None
        if step % self.cfg.preview_every == 0 or done:
            with torch.no_grad():
                image = to_image(render(scene, self.cfg.size))
            if self.cfg.animate:
                self.frames.append(image)
        elapsed = time.perf_counter() - parts.started
        return Progress(
            step=step,
            total=self.cfg.steps,
            loss=loss,
            elapsed=elapsed,
            rate=step / elapsed if elapsed > 0 else 0.0,
            done=done,
            image=image,
            scene=scene.snapshot(),
            _run=self,
        )


def run(cfg: DrawConfig) -> Iterator[Progress]:
    """The Progress events of a drawing of the validated settings ``cfg`` (the API's
    :func:`clipart.api.steps` builds and checks them)."""
    return iter(_Run(cfg))
