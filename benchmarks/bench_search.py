"""``clipart search``: does it rank as ``clipart eval retrieval`` does, and is a second query fast?

1. Recall: one icon per concept of the held-out fixture (twemoji and emojione-monotone, styles the guide never
   trained on), rendered at 64 px into a folder with a CSV of captions (the concept names). For every caption,
   ``clipart.search`` ranks the folder; recall@1/@5 (the icon of that caption among the first K) is set beside
   ``clipart eval retrieval``'s text→image recall on the same CSV (the baseline).
2. Speed: a folder of 10,000 small PNGs is indexed once; then a second query is timed in this process
   (``clipart.search``: the folder's file stamps checked, the index read, the text embedded, the ranking) and as
   a whole ``clipart search`` command in a new process (Python and torch start-up included), against
   ``python -c "import torch"`` in the same run.

    python benchmarks/bench_search.py [--images 10000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "recipes"))


def labelled(folder: Path) -> Path:
    """One render per concept of the fixture's icons and ``captions.csv`` (filepath, caption)."""
    import icondata

    fixture = json.loads((ROOT / "tests" / "fixtures" / "heldout_icons.json").read_text())
    rows, seen = [], set()
    for prefix, spec in fixture["sets"].items():
        for name, item in spec["icons"].items():
            if item["concept"] in seen:
                continue
            seen.add(item["concept"])
            icon = icondata.Icon(prefix, name, item["concept"], (), item["mono"], "eval", item["body"],
                                 item["width"], item["height"])  # fmt: skip
            icondata.render_icon(icon, (0, 0, 0), 64, random.Random(name)).save(
                folder / f"{prefix}-{name}.png"
            )
            rows.append((f"{folder.name}/{prefix}-{name}.png", item["concept"]))  # relative to the CSV
    table = folder.parent / "captions.csv"
    with open(table, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("filepath", "caption"), *rows])
    return table


def recall(folder: Path, table: Path) -> list[tuple[str, str, str]]:
    import clipart
    from clipart.train import evaluate_retrieval

    with open(table, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    index = clipart.build_index(folder)
    hits = {1: 0, 5: 0}
    for row in rows:
        ranked = [
            f"{folder.name}/{h.path.name}" for h in clipart.search(row["caption"], folder, top=5, index=index)
        ]
        hits[1] += ranked[:1] == [row["filepath"]]
        hits[5] += row["filepath"] in ranked
    ev = evaluate_retrieval("clipart-mini", str(table), device="cpu")
    n = len(rows)
    return [
        (f"text→image R@{k} over {n} icons", f"{ev[f'text_to_image_R@{k}']:.3f}", f"{hits[k] / n:.3f}")
        for k in (1, 5)
    ]


def speed(count: int, tmp: Path) -> list[tuple[str, str, str]]:
    from PIL import Image

    import clipart

    folder = tmp / "many"
    folder.mkdir()
    rng = random.Random(0)
    for k in range(count):
        colour = tuple(rng.randrange(256) for _ in range(3))
        Image.new("RGB", (32, 32), colour).save(folder / f"{k:05d}.png")
    t0 = time.perf_counter()
    clipart.build_index(folder)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    clipart.search("a red apple", folder, top=8)
    second = time.perf_counter() - t0
    env = dict(os.environ, HF_HUB_OFFLINE="1")

    def timed(cmd: list[str]) -> float:
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        return time.perf_counter() - t

    torch_start = min(timed([sys.executable, "-c", "import torch"]) for _ in range(2))
    command = min(
        timed([sys.executable, "-m", "clipart", "search", "a red apple", str(folder), "-q"]) for _ in range(2)
    )
    return [
        (f"first query: embed {count} files (index built)", f"{first:.1f} s", ""),
        ("second query, in this process (target < 1 s)", f"{second:.2f} s", ""),
        ('python -c "import torch" (baseline)', f"{torch_start:.2f} s", "1.00"),
        (
            "second query, `clipart search` in a new process",
            f"{command:.2f} s",
            f"{command / torch_start:.2f}",
        ),
    ]


def main() -> int:
    """Print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = Path(tempfile.mkdtemp(prefix="bench-search-"))
    icons = tmp / "icons"
    icons.mkdir()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; guide clipart-mini")
    print(f"{'measurement':<44} {'eval retrieval':>14} {'clipart search':>14}")
    for name, a, b in recall(icons, labelled(icons)):
        print(f"{name:<44} {a:>14} {b:>14}")
    print(f"\n{'measurement':<50} {'time':>8}  ratio")
    for name, value, ratio in speed(args.images, tmp):
        print(f"{name:<50} {value:>8}  {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
