"""What the page's events run: a drawing (streamed previews, then the files), Stop, and a preset choice.

Every setting is checked once, by :func:`clipart.steps` with the visitor caps :data:`CAPS` as its limits; what
is checked here is only what the page itself offers (its models and presets).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import clipart
from clipart.drawing import DEFAULT_KINDS, OUTPUT_KINDS

# Caps on what one visitor may ask for, so that nobody can take the server down (the engine's are higher).
CAPS = {"strokes": 1024, "steps": 2000, "size": 1024, "views": 16, "prompt_chars": 300, "negatives": 8}
KEEP_RUNS_S = 6 * 3600  # run folders (and Gradio's cached copies) older than this are deleted
KEEP: Any = object()  # a DrawUpdate's value that leaves its component as it is


# settings with a page label that the page shows beside what they belong to (the seed by its "Random seed" box,
# the style weight by the style image) and passes on its own terms, not among its Settings rows
APART = ("seed", "style_weight")


def page_settings() -> dict[str, Any]:
    """The settings of the page's Settings rows (those declared with a page label, but :data:`APART`), by name,
    in the order of their declaration in :class:`clipart.DrawConfig`."""
    settings = clipart.DrawConfig.settings().items()
    return {name: about for name, about in settings if about.page and name not in APART}


def control_range(about: Any) -> tuple[float | None, float | None]:
    """The lowest and highest value the page offers for a setting: its declared page range, else its declared
    range under the visitor caps."""
    return about.page_range or about.bounds(CAPS)


@dataclass
class DrawUpdate:
    """What the page shows after a step of a drawing or at its end; a value left at :data:`KEEP` keeps its
    component as it is. ``files``: output kind → file path (None: not written)."""

    image: Any = KEEP
    status: Any = KEEP
    files: dict[str, Any] = field(default_factory=dict)
    gallery: Any = KEEP
    history: Any = KEEP
    files_row: Any = KEEP
    gif_box: Any = KEEP

    def outputs(self) -> tuple:
        """The values in the order of the page's outputs: image, status, a file for each of
        :data:`OUTPUT_KINDS`, gallery, history, the downloads row, the GIF box. API clients see the first
        ones, up to the gallery."""
        import gradio as gr

        files = [self.files.get(kind, KEEP) for kind in OUTPUT_KINDS]
        values = (self.image, self.status, *files, self.gallery, self.history, self.files_row, self.gif_box)
        return tuple(gr.skip() if v is KEEP else v for v in values)


def user_error(error: Exception) -> Exception:
    """The page's error for a user's mistake, logged on the server as one line instead of a traceback."""
    import gradio as gr

    log_refused(str(error))
    return gr.Error(str(error), print_exception=False)


def log_refused(message: str) -> None:
    """One line on the server's terminal for a refused request."""
    print(f"clipart: refused a request: {message}", file=sys.stderr, flush=True)


def _negatives(text: str | None) -> list[str]:
    """Negative prompts, one per line (``text::weight`` allowed); blank lines are ignored."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _seed(seed: Any, random_seed: bool) -> Any:
    """A fresh seed when asked for one, else the page's value (checked with the other settings)."""
    return secrets.randbelow(2**31) if random_seed else seed


def _preview_every(steps: Any) -> int:
    """A live preview every few steps: about 20 to 50 previews a drawing."""
    try:
        return max(1, min(10, int(steps) // 20))
    except (TypeError, ValueError):
        return 10  # a bad value: the settings check says so


class _Previews:
    """A drawing's previews as new PNG files in a folder of their own (outside the session's searched folder),
    removed when the drawing ends (its last frame is the run's PNG).

    The page is given paths, not images: Gradio writes an image object's cached copy in place, so a repeated
    image (two visitors drawing the same prompt and seed, a preview equal to the last) could be rewritten while a
    browser reads it; a path's cached copy is written once, under a temporary name."""

    def __init__(self, base: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="previews-", dir=base))
        self.count = 0

    def add(self, image: Any) -> str:
        """``image`` saved as the next preview file; its path."""
        self.count += 1
        path = self.folder / f"preview-{self.count:04d}.png"
        image.save(path)
        return str(path)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _status(event: Any, seed: int, stopped: str = "") -> str:
    line = (
        f"step **{event.step}/{event.total}** · loss {event.loss:.4f} · {event.rate:.1f} steps/s · "
        f"{event.elapsed:.1f} s · seed {seed}"
    )
    if event.done:
        return f"Done: {line}"
    return f"{stopped}: {line}" if stopped else line


def _prune(base: Path, max_age: float) -> None:
    """Delete run folders under ``base`` (one folder a session) and preview folders older than ``max_age``
    seconds."""
    now = time.time()
    for run in [*base.glob("session-*/run-*"), *base.glob("previews-*")]:
        try:
            if now - run.stat().st_mtime > max_age:
                shutil.rmtree(run, ignore_errors=True)
        except OSError:
            continue


class _Stops:
    """Stop flags of the runs in progress, one per browser session (or gradio_client connection)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: dict[str, threading.Event] = {}

    def start(self, session: str) -> threading.Event:
        flag = threading.Event()
        with self._lock:
            self._flags[session] = flag
        return flag

    def finish(self, session: str, flag: threading.Event) -> None:
        with self._lock:
            if self._flags.get(session) is flag:
                del self._flags[session]

    def stop(self, session: str) -> None:
        with self._lock:
            flag = self._flags.get(session)
        if flag is not None:
            flag.set()


def preset_values(name: str, models: list[str]) -> dict[str, Any]:
    """The settings a preset fills in on the page (those of :func:`page_settings`, negatives, model)."""
    data = clipart.load_preset(name)
    base = clipart.DrawConfig()
    values = {}
    for key, about in page_settings().items():
        value = data.get(key, getattr(base, key))
        high = control_range(about)[1]
        values[key] = min(value, high) if high is not None and isinstance(value, (int, float)) else value
    negatives = data.get("negatives", [])
    weights = data.get("negative_weights") or [None] * len(negatives)
    lines = [n if w is None else f"{n}::{w}" for n, w in zip(negatives, weights, strict=True)]
    values["negatives"] = "\n".join(lines)
    spec = str(data["models"][0]) if data.get("models") else None
    values["model"] = spec if spec in models else None
    return values


class Handlers:
    """What the page's events run: a drawing (streamed), Stop, and a preset choice."""

    def __init__(
        self,
        specs: list[str],
        device: str,
        out_dir: Path,
        max_seconds: float | None,
        search_folder: str | Path | None = None,
    ) -> None:
        self.specs = specs
        self.search_folder = Path(os.path.expanduser(search_folder)) if search_folder else None
        self.presets = clipart.list_presets()
        self.device = device
        self.out_dir = out_dir
        self.max_seconds = max_seconds
        self.stops = _Stops()

    def preset(self, name: str) -> tuple:
        """Fill the settings from a preset: the values of :func:`page_settings`, the negative prompts and the
        model (only when the preset's model is offered)."""
        import gradio as gr

        try:
            v = preset_values(name, self.specs)
        except clipart.ClipartError as e:
            raise user_error(e) from None
        model = v["model"] or gr.skip()
        return (*(v[k] for k in page_settings()), v["negatives"], model)

    def _events(self, page: dict[str, Any], seed: Any) -> Iterator[Any]:
        """The drawing the page asks for (ClipartError on bad settings, before any work)."""
        if page["model"] not in self.specs:
            raise clipart.ClipartError("choose one of the guide models offered on the page")
        if page["preset"] not in self.presets:
            raise clipart.ClipartError(f"choose one of the presets: {', '.join(self.presets)}")
        return clipart.steps(
            (page["prompt"] or "").strip() or ([] if page.get("image") else ""),
            image=page.get("image") or None,
            style=page.get("style") or None,
            style_weight=page.get("style_weight") if page.get("style") else None,
            negatives=_negatives(page["negatives"]),
            negative_weight=page["negative_weight"],
            preset=page["preset"],
            model=page["model"],
            seed=seed,
            **{k: page[k] for k in page_settings()},
            preview_every=_preview_every(page["steps"]),
            animate=bool(page["gif"]),
            device=self.device,
            limits=CAPS,
        )

    def draw(self, session: str | None, page: dict[str, Any], history: list) -> Iterator[DrawUpdate]:
        """Make the drawing of the page's values ``page`` (the parameters of the page's draw function), streaming
        previews: a :class:`DrawUpdate` each, the last with the files (paths; gif: None unless asked for)."""
        try:
            events = self._events(page, _seed(page["seed"], page["random_seed"]))
        except clipart.ClipartError as e:
            raise user_error(e) from None
        session = session or secrets.token_hex(8)
        previews = _Previews(self.out_dir)
        flag = self.stops.start(session)
        try:
            yield from self._draw(session, page, history, events, flag, previews)
        finally:
            self.stops.finish(session, flag)
            previews.remove()

    def _draw(
        self,
        session: str,
        page: dict[str, Any],
        history: list,
        events: Iterator[Any],
        flag: threading.Event,
        previews: _Previews,
    ) -> Iterator[DrawUpdate]:
        import gradio as gr

        event, stopped, shown, seed = None, "", time.monotonic(), 0
        try:
            yield DrawUpdate(status="Starting…", files_row=gr.Row(visible=False))
            for event in events:
                seed = event.config.seed
                if event.done:
                    break
                if flag.is_set():
                    stopped = "Stopped"
                elif self.max_seconds is not None and event.elapsed > self.max_seconds:
                    stopped = f"Stopped at the server's limit of {self.max_seconds:.0f} s"
                if stopped:
                    break
                if event.image is not None or time.monotonic() - shown > 0.5:
                    shown = time.monotonic()
                    image = previews.add(event.image) if event.image is not None else KEEP
                    yield DrawUpdate(image=image, status=_status(event, seed))
        except clipart.ClipartError as e:
            raise user_error(e) from None
        if event is None:
            raise gr.Error("the drawing ended before its first step")
        drawing = event.drawing()
        _prune(self.out_dir, KEEP_RUNS_S)
        session_dir = self._session_dir(session)
        session_dir.mkdir(exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="run-", dir=session_dir))
        kinds = [*DEFAULT_KINDS, *(["gif"] if page["gif"] else [])]
        files = {kind: str(drawing.save(folder / f"clipart-{seed}.{kind}")) for kind in kinds}
        history = [*history, (files["png"], f"{drawing.title} (seed {seed})")]
        yield DrawUpdate(
            image=files["png"],  # the file the page offers, kept with the run
            status=_status(event, seed, stopped) + (f" · {drawing.credit}" if drawing.credit else ""),
            files={kind: files.get(kind) for kind in OUTPUT_KINDS},
            gallery=history,
            history=history,
            files_row=gr.Row(visible=True),
            gif_box=gr.Column(visible=bool(page["gif"])),
        )

    def _session_dir(self, session: str) -> Path:
        return self.out_dir / f"session-{re.sub(r'[^A-Za-z0-9_-]', '', session)[:64] or 'anonymous'}"

    def search(
        self, session: str | None, query: str, example: str | None, model: str
    ) -> list[tuple[str, str]]:
        """The PNGs closest to ``query`` or to the picture ``example`` in the search folder (or this session's
        drawings), best first, each with its score; a drawing's PNG stands for its SVG too."""
        folder = self.search_folder or self._session_dir(session or "")
        try:
            if model not in self.specs:
                raise clipart.ClipartError("choose one of the guide models offered on the page")
            if self.search_folder is None and not folder.is_dir():
                raise clipart.ClipartError("no drawings in this session yet: draw something, then search")
            text = (query or "").strip()
            if len(text) > CAPS["prompt_chars"]:
                raise clipart.ClipartError(
                    f"the query is too long: at most {CAPS['prompt_chars']} characters"
                )
            hits = clipart.search(text or None, folder, image=example or None, model=model, top=24,
                                  device=self.device)  # fmt: skip
        except clipart.ClipartError as e:
            raise user_error(e) from None
        shown: dict[Path, tuple[str, str]] = {}
        for hit in hits:
            picture = hit.path if hit.path.suffix.lower() != ".svg" else hit.path.with_suffix(".png")
            if picture.is_file() and picture not in shown:
                shown[picture] = (str(picture), f"{hit.score:.3f} · {hit.path.name}")
        return list(shown.values())

    def stop(self, session: str | None) -> None:
        """Ask this session's drawing to stop; it keeps the drawing so far and reports "Stopped"."""
        if session:
            self.stops.stop(session)
