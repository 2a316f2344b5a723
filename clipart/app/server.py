"""Serving the page: :func:`launch` (queue, port check, one-line logs for refused requests, clean-up)."""

from __future__ import annotations

import errno
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import clipart
from clipart.app.handlers import log_refused
from clipart.app.layout import CSS, build_app
from clipart.models import check_device


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
    search_folder: str | None = None,
) -> None:
    """Serve the app (blocks until interrupted): ``concurrency`` drawings at once, ``max_queue`` waiting; the
    Search tab searches ``search_folder`` (else each visitor's own drawings).

    Every setting is checked before Gradio loads or a port is taken (ClipartError in one line); ``max_seconds``
    None means no limit."""
    models = check_settings(host, port, concurrency=concurrency, max_queue=max_queue, models=models,
                            default_model=default_model, device=device, max_seconds=max_seconds,
                            search_folder=search_folder)  # fmt: skip
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the page offers only models already on disk
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as Ctrl+C does, cleaning up
    import gradio.queueing

    gradio.queueing.traceback = _OneLineErrors()  # type: ignore[assignment]
    out_dir = Path(tempfile.mkdtemp(prefix="clipart-app-"))
    try:
        demo = build_app(models, default_model, device=device, out_dir=out_dir, max_seconds=max_seconds,
                         search_folder=search_folder)  # fmt: skip
        demo.queue(default_concurrency_limit=concurrency, max_size=max_queue)
        try:
            demo.launch(
                server_name=host,
                css=CSS,
                server_port=port,
                share=False,
                allowed_paths=[
                    str(out_dir),
                    *([str(Path(os.path.expanduser(search_folder)))] if search_folder else []),
                ],
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
            raise clipart.ClipartError(
                f"cannot serve on {host}:{port}: pick another --port or --host"
            ) from None
        finally:
            demo.close()
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


MAX_CONCURRENCY = 256  # drawings at once: each holds a model's activations
MAX_QUEUE = 100_000


def check_settings(
    host: str,
    port: int,
    *,
    concurrency: int = 1,
    max_queue: int = 16,
    models: Sequence[tuple[str, str]] | None = None,
    default_model: str | None = None,
    device: str = "auto",
    max_seconds: float | None = 900.0,
    search_folder: str | None = None,
) -> list[tuple[str, str]]:
    """Check every setting of :func:`launch` (one ClipartError line for the first bad one) and return the models to
    offer (``models``, or the ones usable offline). Needs no Gradio; the address is probed as a server would bind."""
    _whole("--port", port, 1, 65535)
    _whole("--concurrency", concurrency, 1, MAX_CONCURRENCY)
    _whole("--max-queue", max_queue, 1, MAX_QUEUE)
    if max_seconds is not None and (
        not isinstance(max_seconds, (int, float))
        or isinstance(max_seconds, bool)
        or not math.isfinite(max_seconds)
        or max_seconds <= 0
    ):
        raise clipart.ClipartError(
            f"--max-seconds must be a positive number of seconds (the longest a drawing runs), got {max_seconds!r}"
        )
    check_device(device)
    if search_folder is not None and not str(search_folder).strip():
        raise clipart.ClipartError("--search-folder is empty: give the folder the Search tab searches")
    if search_folder is not None and not Path(os.path.expanduser(search_folder)).is_dir():
        raise clipart.ClipartError(f"--search-folder {search_folder} is not a folder")
    offered = list(models) if models is not None else clipart.list_models()
    if not offered:
        raise clipart.ClipartError(
            "no guide model to offer: reinstall clipart (the embedded model is missing)"
        )
    for spec, _ in offered:
        clipart.parse_spec(spec)
    if default_model is not None and default_model not in [spec for spec, _ in offered]:
        raise clipart.ClipartError(f"default model {default_model!r} is not among the models offered")
    _check_port_free(host, port)
    return offered


def _whole(name: str, value: object, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise clipart.ClipartError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")


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
            log_refused(error.message)
        else:
            traceback.print_exc(*args, **kwargs)


def _check_port_free(host: str, port: int) -> None:
    """ClipartError in one line when ``host:port`` cannot be listened on (before Gradio says so in its words)."""
    if not isinstance(host, str) or not host.strip():
        raise clipart.ClipartError(f"--host must be an address such as 127.0.0.1 or 0.0.0.0, got {host!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise clipart.ClipartError(
            f"unknown --host {host!r}: give an address such as 127.0.0.1 or 0.0.0.0"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # as uvicorn does, so that a port in TIME_WAIT counts as free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            reason = "it is in use" if e.errno == errno.EADDRINUSE else (e.strerror or "refused")
            raise clipart.ClipartError(
                f"cannot serve on {host}:{port}: {reason}; pick another --port"
            ) from None
