"""The ``clipart`` command line: thin faces over the public API, one module a group of sub-commands.

    draw.py    draw, presets, models        train.py   train, eval
    search.py  search                       serve.py   serve (the web app)

Heavy modules (torch, open_clip, gradio) load inside the handlers, so ``clipart --help`` is instant. Errors a user
can cause print one line (``clipart: error: ...``) and exit with code 2: :func:`run` is the one place that does so,
for clipart's errors and for the system's refusals of a path the user gave (a name too long, no permission).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence

import clipart
from clipart.cli import draw, search, serve, train


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="clipart",
        description="Vector art from text: CLIP-guided Bézier strokes, a CLIP trainer, a web app.",
    )
    parser.add_argument("--version", action="version", version=f"clipart {clipart.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    draw.register(sub)
    train.register(sub)
    search.register(sub)
    serve.register(sub)
    return parser


def run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a sub-command's handler: clipart's warnings as ``clipart: warning:`` lines (others hidden), a
    :class:`clipart.ClipartError` or an ``OSError`` (a path the system refuses) as one ``clipart: error:`` line
    and exit code 2; output piped into a reader that stops early (``| head``) ends the command quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("always", module="clipart")
        warnings.showwarning = _show_warning
        try:
            code = handler(args)
            sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
            return code
        except clipart.ClipartError as e:
            print(f"clipart: error: {e}", file=sys.stderr)
            return 2
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            return 141  # as a shell reports SIGPIPE
        except OSError as e:  # e.g. a name past the file system's limit, which pathlib's checks raise for
            where = f"{e.filename}: " if e.filename else ""
            print(f"clipart: error: {where}{e.strerror or e}", file=sys.stderr)
            return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clipart`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    return run(args.func, args)


def _show_warning(message: Warning | str, *_: object, **__: object) -> None:
    print(f"clipart: warning: {message}", file=sys.stderr)
