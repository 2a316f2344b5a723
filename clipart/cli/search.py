"""``clipart search``: rank a folder's images and SVGs by a text or an image query (:func:`clipart.search`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import clipart


def register(sub: Any) -> None:
    """Add ``search`` to the ``clipart`` command line."""
    p = sub.add_parser(
        "search",
        help="find the images and SVGs of a folder closest to a text or an image",
        description="CLIP search over a folder: its files are embedded once into an index file beside them "
        "(only new or changed files are embedded again), then ranked by the query.",
        epilog='Examples: clipart search "a red apple" clipart-out/ --top 8\n'
        "          clipart search --image query.png gallery/ --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("words", nargs="+", metavar="[QUERY] FOLDER", help="a text query and the folder to search")
    p.add_argument(
        "--image",
        metavar="FILE",
        help="search by example: the files closest to this picture (an image or an SVG)",
    )
    p.add_argument("--top", type=int, default=8, help="how many files to list (default: %(default)s)")
    p.add_argument("--model", default="clipart-mini", help="the guide that embeds (default: %(default)s)")
    p.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda[:N], mps")
    p.add_argument("--json", action="store_true", help="one JSON object a line: score, path")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar while indexing")
    p.set_defaults(func=_cmd_search)


def _cmd_search(args: argparse.Namespace) -> int:
    if len(args.words) > 2 or (len(args.words) == 2) == bool(args.image):
        raise clipart.ConfigError(
            'give a text query and a folder ("a red apple" DIR), or --image FILE and a folder'
        )
    query, folder = (args.words[0], args.words[1]) if len(args.words) == 2 else (None, args.words[0])
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="file", desc="indexing", file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:  # closed before any warning about the files it went through
            bar.close()
            bar = None

    try:  # the query, --top, the model and the device are checked before the folder is listed or embedded
        hits = clipart.search(query, folder, image=args.image, model=args.model, top=args.top, device=args.device,
                              progress=progress)  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    for hit in hits:
        if args.json:
            print(json.dumps({"score": hit.score, "path": str(hit.path)}))
        else:
            print(f"{hit.score:7.4f}  {hit.path}")
    return 0
