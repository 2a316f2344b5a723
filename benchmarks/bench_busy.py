"""A busy machine (issue 12, item 12): a quick drawing beside other CPU-bound work, against the same drawing alone.

Cases, each timed in a fresh process, start-up included (the quick preset, fewer steps to keep the run short):

1. alone: ``clipart draw`` on an otherwise idle machine, automatic threads (the baseline), and with
   ``--threads <cores>`` (torch's default before clipart chose threads itself: idle speed must not drop);
2. beside one other CPU-bound process (a matrix-multiplication loop using every core, as a training run does):
   automatic threads against ``--threads <cores>``. Target: ≤ 2.5× alone (a fair share of the cores is 2×);
3. two drawings started together in one process, as ``clipart serve --concurrency 2`` runs them: the wall time
   until both finish, against one alone. Target: ≤ 2.5×.

Run on an idle machine: ``python benchmarks/bench_busy.py [--steps N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench_engine import _cpu_name

from clipart.threads import cores

HOG = "import torch\na = torch.randn(512, 512)\nwhile True:\n    a = (a @ a).tanh()\n"
TWO_AT_ONCE = """
import sys, threading, clipart
clipart.load_model()  # loaded once, as the web app does before its first request
def one(seed):
    clipart.draw("a red apple", preset="quick", steps=int(sys.argv[1]), seed=seed, threads=int(sys.argv[2]))
workers = [threading.Thread(target=one, args=(s,)) for s in (1, 2)]
[w.start() for w in workers]; [w.join() for w in workers]
"""


def _timed(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _draw(steps: int, threads: int, out: str) -> float:
    argv = [
        sys.executable,
        "-m",
        "clipart",
        "draw",
        "a red apple",
        "--preset",
        "quick",
        "--steps",
        str(steps),
    ]
    return _timed([*argv, "--threads", str(threads), "--out", out, "--force", "-q"])


def _two(steps: int, threads: int) -> float:
    return _timed([sys.executable, "-c", TWO_AT_ONCE, str(steps), str(threads)])


def main() -> None:
    """Print the table of wall times and ratios to the drawing alone."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=100, help="steps of each drawing (100)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each case; the median is shown (2)")
    args = parser.parse_args()
    n = cores()
    out = os.path.join(tempfile.mkdtemp(prefix="bench-busy-"), "d.svg")

    def median(fn, *a) -> float:
        return statistics.median(fn(*a) for _ in range(args.repeat))

    rows = [("alone, automatic threads (baseline)", median(_draw, args.steps, 0, out), None)]
    rows.append((f"alone, --threads {n} (torch's default)", median(_draw, args.steps, n, out), None))
    hog = subprocess.Popen([sys.executable, "-c", HOG], env=dict(os.environ, OMP_NUM_THREADS=str(n)))
    try:
        time.sleep(2)  # let it take the cores
        rows.append(("beside a CPU-bound process, automatic", median(_draw, args.steps, 0, out), 2.5))
        rows.append((f"beside a CPU-bound process, --threads {n}", median(_draw, args.steps, n, out), 2.5))
    finally:
        hog.kill()
        hog.wait()
    time.sleep(2)
    rows.append(("two at once in one process, automatic", median(_two, args.steps, 0), 2.5))
    rows.append((f"two at once in one process, threads={n} each", median(_two, args.steps, n), 2.5))
    base = rows[0][1]
    print(f"{_cpu_name()}, {n} cores; quick preset, {args.steps} steps, median of {args.repeat}")
    print(f"{'case':48s} {'wall s':>8s} {'× alone':>8s}  target")
    for name, wall, target in rows:
        verdict = (
            "" if target is None else (f"≤ {target}×: " + ("met" if wall / base <= target else "NOT met"))
        )
        print(f"{name:48s} {wall:8.1f} {wall / base:8.2f}  {verdict}")


if __name__ == "__main__":
    main()
