"""The web app: a Gradio page over clipart's public API (``clipart serve`` or ``python app.py``).

Type a prompt, watch the strokes move, download the SVG. Nothing here optimises anything: the page consumes
:func:`clipart.steps` events like every other face. Gradio is imported inside functions so that importing this
module (``clipart --help``) stays instant.
"""

import argparse
import atexit
import errno
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from clipart.config import DEFAULT_NEGATIVE_WEIGHT
from clipart.errors import ClipartError, require_extra

# Caps on what one visitor may ask for, so that nobody can take the server down (the engine's are higher).
CAPS = {"strokes": 1024, "steps": 2000, "size": 1024, "views": 16}
MAX_PROMPT_CHARS = 300
MAX_NEGATIVES = 8
EXAMPLES = ["a horse eating a cupcake", "a lighthouse", "a sailboat", "a teapot", "an owl", "a red apple"]
KEEP_RUNS_S = 6 * 3600  # run folders (and Gradio's cached copies) older than this are deleted
OUTPUT_KINDS = ("svg", "png", "json", "gif")
CSS = "#drawing img { width: 100%; height: 100%; object-fit: contain; }"  # small canvases shown large


def _int_setting(name: str, value: Any) -> int:
    """A whole-number setting within the web caps, or ClipartError."""
    cap = CAPS[name]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ClipartError(f"{name} must be a whole number from 1 to {cap}") from None
    if not number.is_integer() or not 1 <= number <= cap:
        raise ClipartError(f"{name} must be a whole number from 1 to {cap} on this server, got {value}")
    return int(number)


def _negatives(text: str | None) -> list[str]:
    """Negative prompts, one per line (``text::weight`` allowed); blank lines are ignored."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_NEGATIVES:
        raise ClipartError(f"give at most {MAX_NEGATIVES} negative prompts (one per line)")
    return lines


def _seed(seed: Any, random_seed: bool) -> int:
    if random_seed:
        return secrets.randbelow(2**31)
    try:
        number = float(seed)
    except (TypeError, ValueError):
        raise ClipartError("the seed must be a whole number (or tick 'random seed')") from None
    if not number.is_integer() or not 0 <= number < 2**63:
        raise ClipartError(f"the seed must be a whole number from 0 to 2^63 - 1, got {seed}")
    return int(number)


def _preview_every(steps: int) -> int:
    """A live preview every few steps: about 20 to 50 previews a drawing."""
    return max(1, min(10, steps // 20))


def _status(event: Any, seed: int, stopped: str = "") -> str:
    line = (
        f"step **{event.step}/{event.total}** · loss {event.loss:.4f} · {event.rate:.1f} steps/s · "
        f"{event.elapsed:.1f} s · seed {seed}"
    )
    if event.done:
        return f"Done: {line}"
    return f"{stopped}: {line}" if stopped else line


def _prune(base: Path, max_age: float) -> None:
    """Delete run folders under ``base`` older than ``max_age`` seconds."""
    now = time.time()
    for run in base.glob("run-*"):
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


def _preset_values(name: str, models: list[str]) -> dict[str, Any]:
    """The settings a preset fills in on the page (strokes, steps, size, views, negatives, model)."""
    import clipart

    data = clipart.load_preset(name)
    base = clipart.DrawConfig()
    values = {k: min(data.get(k, getattr(base, k)), CAPS[k]) for k in ("strokes", "steps", "size", "views")}
    negatives = data.get("negatives", [])
    weights = data.get("negative_weights") or [None] * len(negatives)
    lines = [n if w is None else f"{n}::{w}" for n, w in zip(negatives, weights, strict=True)]
    values["negatives"] = "\n".join(lines)
    model, tag = data.get("models", [None])[0], data.get("pretrained", [None])[0]
    spec = f"{model}::{tag}" if model and tag else model
    values["model"] = spec if spec in models else None
    return values


class _Handlers:
    """What the page's events run: a drawing (streamed), Stop, and a preset choice."""

    def __init__(self, specs: list[str], device: str, out_dir: Path, max_seconds: float | None) -> None:
        import clipart

        self.specs = specs
        self.presets = clipart.list_presets()
        self.device = device
        self.out_dir = out_dir
        self.max_seconds = max_seconds
        self.stops = _Stops()

    def preset(self, name: str) -> tuple:
        """Fill the settings from a preset (the model only when the preset's model is offered)."""
        import gradio as gr

        try:
            v = _preset_values(name, self.specs)
        except ClipartError as e:
            raise _user_error(e) from None
        model = v["model"] or gr.skip()
        return v["strokes"], v["steps"], v["size"], v["views"], v["negatives"], model

    def _events(self, prompt: str, preset: str, model: str, **settings: Any) -> Iterator[Any]:
        """Check the page's values against the caps and start the drawing (ClipartError on bad ones)."""
        import clipart

        prompt = (prompt or "").strip()
        if len(prompt) > MAX_PROMPT_CHARS:
            raise ClipartError(f"the prompt is too long: at most {MAX_PROMPT_CHARS} characters")
        if model not in self.specs:
            raise ClipartError("choose one of the guide models offered on the page")
        if preset not in self.presets:
            raise ClipartError(f"choose one of the presets: {', '.join(self.presets)}")
        steps = _int_setting("steps", settings["steps"])
        return clipart.steps(
            prompt,
            negatives=_negatives(settings["negatives"]),
            negative_weight=float(settings["negative_weight"]),
            preset=preset,
            model=model,
            seed=settings["seed"],
            strokes=_int_setting("strokes", settings["strokes"]),
            steps=steps,
            size=_int_setting("size", settings["size"]),
            views=_int_setting("views", settings["views"]),
            preview_every=_preview_every(steps),
            animate=settings["gif"],
            device=self.device,
        )

    def draw(
        self,
        session: str | None,
        prompt: str,
        negatives: str,
        negative_weight: float,
        preset: str,
        model: str,
        strokes: float,
        steps: float,
        size: float,
        views: float,
        seed: float,
        random_seed: bool,
        gif: bool,
        history: list,
    ) -> Iterator[tuple]:
        """Make a drawing, streaming previews.

        Yields (image, status, svg, png, json, gif, gallery, history, downloads row, gif box): API clients see
        the first seven; the files are paths (gif: None unless asked for).
        """
        import gradio as gr

        gif = bool(gif)
        try:
            used_seed = _seed(seed, random_seed)
            events = self._events(
                prompt,
                preset,
                model,
                negatives=negatives,
                negative_weight=negative_weight,
                strokes=strokes,
                steps=steps,
                size=size,
                views=views,
                seed=used_seed,
                gif=gif,
            )
        except ClipartError as e:
            raise _user_error(e) from None
        session = session or secrets.token_hex(8)
        flag = self.stops.start(session)
        skip = [gr.skip()] * 8
        event, stopped, shown = None, "", time.monotonic()
        try:
            yield (gr.skip(), "Starting…", *skip[:6], gr.Row(visible=False), gr.skip())
            for event in events:
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
                    image = event.image if event.image is not None else gr.skip()
                    yield (image, _status(event, used_seed), *skip)
        except ClipartError as e:
            raise _user_error(e) from None
        finally:
            self.stops.finish(session, flag)
        if event is None:
            raise gr.Error("the drawing ended before its first step")
        drawing = event.drawing()
        _prune(self.out_dir, KEEP_RUNS_S)
        folder = Path(tempfile.mkdtemp(prefix="run-", dir=self.out_dir))
        kinds = OUTPUT_KINDS if gif else OUTPUT_KINDS[:3]
        files = {kind: str(drawing.save(folder / f"clipart-{used_seed}.{kind}")) for kind in kinds}
        history = [*history, (files["png"], f"{prompt.strip()} (seed {used_seed})")]
        image = event.image if event.done and event.image is not None else drawing.png()
        status = _status(event, used_seed, stopped)
        downloads = [files.get(kind) for kind in OUTPUT_KINDS]
        yield (image, status, *downloads, history, history, gr.Row(visible=True), gr.Column(visible=gif))

    def stop(self, session: str | None) -> None:
        """Ask this session's drawing to stop; it keeps the drawing so far and reports "Stopped"."""
        if session:
            self.stops.stop(session)


def build_app(
    models: Sequence[tuple[str, str]] | None = None,
    default_model: str | None = None,
    *,
    device: str = "auto",
    out_dir: str | Path | None = None,
    max_seconds: float | None = 900.0,
) -> Any:
    """Build the page as a ``gradio.Blocks`` (not launched, no queue set: :func:`launch` does both).

    ``models``: the guide models offered, as ``(spec, description)`` (default: :func:`clipart.list_models`);
    ``default_model``: the one selected first (default: the first). Each drawing writes its files to a new
    folder under ``out_dir`` (default: a fresh temporary folder). ``max_seconds`` ends a drawing as Stop does.
    """
    import gradio as gr

    import clipart

    models = list(models) if models is not None else clipart.list_models()
    specs = [spec for spec, _ in models]
    if default_model is not None and default_model not in specs:
        raise ClipartError(f"default model {default_model!r} is not among the models offered")
    if out_dir is None:
        out_dir = Path(tempfile.mkdtemp(prefix="clipart-app-"))
        atexit.register(shutil.rmtree, out_dir, ignore_errors=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    handlers = _Handlers(specs, device, out_dir, max_seconds)
    presets = handlers.presets
    default_preset = "quick" if "quick" in presets else next(iter(presets))
    start = _preset_values(default_preset, specs)

    def draw(
        prompt: str,
        negatives: str,
        negative_weight: float,
        preset: str,
        model: str,
        strokes: float,
        steps: float,
        size: float,
        views: float,
        seed: float,
        random_seed: bool,
        gif: bool,
        history: list,
        request: gr.Request,
    ) -> Iterator[tuple]:
        """Make a drawing from text with live previews; returns the image, a status line and the files."""
        yield from handlers.draw(
            request.session_hash,
            prompt,
            negatives,
            negative_weight,
            preset,
            model,
            strokes,
            steps,
            size,
            views,
            seed,
            random_seed,
            gif,
            history,
        )

    def stop(request: gr.Request) -> None:
        """Stop this session's drawing; it keeps the drawing so far."""
        handlers.stop(request.session_hash)

    with gr.Blocks(title="clipart", analytics_enabled=False, delete_cache=(3600, KEEP_RUNS_S)) as demo:
        gr.Markdown(
            "# clipart\nVector art from text: CLIP-guided Bézier strokes, drawn live in your browser."
        )
        if not specs:
            gr.Markdown("**No guide model is installed.** Reinstall clipart to get the embedded model.")
        with gr.Row():
            with gr.Column(scale=2):
                prompt = gr.Textbox(
                    label="Prompt", placeholder=EXAMPLES[0], max_length=MAX_PROMPT_CHARS, elem_id="prompt"
                )
                with gr.Row():
                    draw_btn = gr.Button("Draw", variant="primary", elem_id="draw")
                    stop_btn = gr.Button("Stop", variant="stop", elem_id="stop")
                gr.Examples([[text] for text in EXAMPLES], inputs=[prompt], label="Examples")
                preset = gr.Dropdown(
                    [(f"{name}: {text}", name) for name, text in presets.items()],
                    value=default_preset,
                    label="Preset",
                    elem_id="preset",
                )
                model = gr.Dropdown(
                    [(f"{spec}: {text}", spec) for spec, text in models],
                    value=default_model or (specs[0] if specs else None),
                    label="Guide model",
                    elem_id="model",
                )
                with gr.Accordion("Settings", open=True):
                    negatives = gr.Textbox(
                        start["negatives"],
                        label="Negative prompts (one per line; 'text::weight' sets its own weight)",
                        lines=2,
                        elem_id="negatives",
                    )
                    negative_weight = gr.Slider(
                        0, 2, DEFAULT_NEGATIVE_WEIGHT, step=0.05, label="Negative weight"
                    )
                    with gr.Row():
                        strokes = _slider(gr, "strokes", "Strokes", start)
                        n_steps = _slider(gr, "steps", "Steps", start)
                    with gr.Row():
                        size = _slider(gr, "size", "Canvas (px)", start, minimum=16)
                        views = _slider(gr, "views", "Views a step", start)
                    with gr.Row():
                        seed = gr.Number(0, label="Seed", precision=0, minimum=0, elem_id="seed")
                        random_seed = gr.Checkbox(False, label="Random seed", elem_id="random-seed")
                        gif = gr.Checkbox(False, label="Progress GIF", elem_id="gif")
            with gr.Column(scale=3):
                image = gr.Image(
                    label="Drawing",
                    type="pil",
                    format="png",
                    interactive=False,
                    height=512,
                    elem_id="drawing",
                )
                status = gr.Markdown("Type a prompt and press **Draw**.", elem_id="status")
                with gr.Row(visible=False) as files_row:
                    downloads = [
                        gr.DownloadButton(f"Download {kind.upper()}", elem_id=f"download-{kind}")
                        for kind in OUTPUT_KINDS[:3]
                    ]
                    with gr.Column(visible=False, min_width=120) as gif_box:
                        downloads.append(gr.DownloadButton("Download GIF", elem_id="download-gif"))
                gallery = gr.Gallery(
                    label="Your drawings (this session)",
                    columns=5,
                    fit_columns=False,
                    object_fit="contain",
                    height=260,
                    elem_id="gallery",
                )
        history = gr.State([])

        inputs = [prompt, negatives, negative_weight, preset, model, strokes, n_steps, size, views, seed]
        inputs += [random_seed, gif, history]
        outputs = [image, status, *downloads, gallery, history, files_row, gif_box]
        draw_btn.click(draw, inputs, outputs, api_name="draw", concurrency_id="draw")
        prompt.submit(draw, inputs, outputs, api_visibility="private", concurrency_id="draw")
        stop_btn.click(stop, api_name="stop", queue=False)
        preset.change(
            handlers.preset,
            inputs=[preset],
            outputs=[strokes, n_steps, size, views, negatives, model],
            api_visibility="private",
            queue=False,
        )
    return demo


def _slider(gr: Any, name: str, label: str, start: dict[str, Any], minimum: int = 1) -> Any:
    return gr.Slider(minimum, CAPS[name], start[name], step=1, label=label, elem_id=name)


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    concurrency: int = 1,
    max_queue: int = 16,
    models: Sequence[tuple[str, str]] | None = None,
    default_model: str | None = None,
    device: str = "auto",
    max_seconds: float | None = 900.0,
) -> None:
    """Serve the app (blocks until interrupted): ``concurrency`` drawings at once, ``max_queue`` waiting."""
    if concurrency < 1 or max_queue < 1:
        raise ClipartError("--concurrency and --max-queue must be at least 1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the page offers only models already on disk
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as Ctrl+C does, cleaning up
    _check_port_free(host, port)
    import gradio.queueing

    gradio.queueing.traceback = _OneLineErrors()  # type: ignore[assignment]
    out_dir = Path(tempfile.mkdtemp(prefix="clipart-app-"))
    try:
        demo = build_app(models, default_model, device=device, out_dir=out_dir, max_seconds=max_seconds)
        demo.queue(default_concurrency_limit=concurrency, max_size=max_queue)
        try:
            demo.launch(
                server_name=host,
                css=CSS,
                server_port=port,
                share=False,
                allowed_paths=[str(out_dir)],
                footer_links=["api"],
                ssr_mode=False,
                quiet=True,  # Gradio's banner suggests share=True, which a CLI user cannot act on
                prevent_thread_lock=True,
            )
            print(f"clipart: serving the web app on {demo.local_url} (Ctrl+C stops it)", flush=True)
            while demo.is_running:
                time.sleep(0.2)
        except KeyboardInterrupt:  # Ctrl+C or SIGTERM
            return
        except OSError:
            raise ClipartError(f"cannot serve on {host}:{port}: pick another --port or --host") from None
        finally:
            demo.close()
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def _user_error(error: Exception) -> Exception:
    """The page's error for a user's mistake, logged on the server as one line instead of a traceback."""
    import gradio as gr

    _log_refused(str(error))
    return gr.Error(str(error), print_exception=False)


def _log_refused(message: str) -> None:
    print(f"clipart: refused a request: {message}", file=sys.stderr, flush=True)


class _OneLineErrors:
    """Stands in for the ``traceback`` module inside Gradio's queue, which prints a full traceback for every
    ``gr.Error`` its own input checks raise (a slider value out of range, a choice not offered): a user's mistake
    becomes one line on the server's terminal; any other exception keeps its traceback."""

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def print_exc(*args: Any, **kwargs: Any) -> None:
        import gradio as gr

        error = sys.exc_info()[1]
        if isinstance(error, gr.Error):
            _log_refused(error.message)
        else:
            traceback.print_exc(*args, **kwargs)


def _check_port_free(host: str, port: int) -> None:
    """ClipartError in one line when ``host:port`` cannot be listened on (before Gradio says so in its words)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ClipartError(f"unknown --host {host!r}: give an address such as 127.0.0.1 or 0.0.0.0") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # as uvicorn does, so that a port in TIME_WAIT counts as free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            reason = "it is in use" if e.errno == errno.EADDRINUSE else (e.strerror or "refused")
            raise ClipartError(f"cannot serve on {host}:{port}: {reason}; pick another --port") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``clipart serve`` (and ``python app.py``)."""
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="address to listen on (0.0.0.0: every interface; default: %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        help="default: %(default)s",
    )
    parser.add_argument(
        "--concurrency", type=int, default=1, help="drawings run at the same time (default: %(default)s)"
    )
    parser.add_argument(
        "--max-queue", type=int, default=16, help="drawings that may wait in the queue (default: %(default)s)"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=900.0,
        help="a drawing stops (keeping its result) after this long (default: %(default)s)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda[:N] or mps (default: %(default)s)")


def handler(args: argparse.Namespace) -> int:
    """Run ``clipart serve`` with parsed arguments; returns the exit code."""
    if not 0 < args.port < 65536:
        raise ClipartError(f"--port must be from 1 to 65535, got {args.port}")
    require_extra("gradio", "app", "the web app")
    launch(
        args.host,
        args.port,
        concurrency=args.concurrency,
        max_queue=args.max_queue,
        device=args.device,
        max_seconds=args.max_seconds,
    )
    return 0


def register(subparsers: Any) -> None:
    """Add the ``serve`` sub-command to the ``clipart`` command line."""
    parser = subparsers.add_parser("serve", help="start the web app (Gradio) on a local port")
    add_arguments(parser)
    parser.set_defaults(func=handler)


def main(argv: Sequence[str] | None = None) -> int:
    """``python app.py``: the same as ``clipart serve``; errors print one line and exit with code 2."""
    import sys

    parser = argparse.ArgumentParser(prog="app.py", description="Start the clipart web app.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return handler(args)
    except ClipartError as e:
        print(f"clipart: error: {e}", file=sys.stderr)
        return 2
