"""``clipart serve`` (and ``python app.py``): start the web app of :mod:`clipart.app`."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from clipart.errors import require_extra


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
        default=os.environ.get("GRADIO_SERVER_PORT", "7860"),  # a text: argparse checks it as if typed
        help="1 to 65535 (default: %(default)s)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="drawings run at the same time, 1 to 256 (default: %(default)s)",
    )
    parser.add_argument(
        "--max-queue", type=int, default=16, help="drawings that may wait in the queue (default: %(default)s)"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=900.0,
        help="a drawing stops (keeping its result) after this many seconds, a positive number (default: %(default)s)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda[:N] or mps (default: %(default)s)")
    parser.add_argument("--search-folder", metavar="DIR",
                        help="the Search tab searches this folder's images and SVGs (default: each visitor's drawings)")  # fmt: skip


def handler(args: argparse.Namespace) -> int:
    """Run ``clipart serve`` with parsed arguments; returns the exit code. Every option is checked (by
    :func:`clipart.app.launch`) before Gradio loads or the port is taken."""
    require_extra("gradio", "app", "the web app")
    from clipart.app import launch

    launch(
        args.host,
        args.port,
        concurrency=args.concurrency,
        max_queue=args.max_queue,
        device=args.device,
        max_seconds=args.max_seconds,
        search_folder=args.search_folder,
    )
    return 0


def register(subparsers: Any) -> None:
    """Add the ``serve`` sub-command to the ``clipart`` command line."""
    parser = subparsers.add_parser("serve", help="start the web app (Gradio) on a local port")
    add_arguments(parser)
    parser.set_defaults(func=handler)


def main(argv: Sequence[str] | None = None) -> int:
    """``python app.py``: the same as ``clipart serve``."""
    from clipart.cli import run

    parser = argparse.ArgumentParser(prog="app.py", description="Start the clipart web app.")
    add_arguments(parser)
    return run(handler, parser.parse_args(argv))
