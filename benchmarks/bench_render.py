"""Speed and memory of the rasterizer against the naive dense reference renderer, measured in the same run.

    python benchmarks/bench_render.py            # all cases; the reference is timed once per case (minutes)
    python benchmarks/bench_render.py --quick    # fewer repeats; the reference only on the 64-stroke case

Scenes are CLIPDraw-initialised (Scene.random) with widths spread over 1-8 px, plus a "late" scene whose strokes
span about a third of the canvas with widths up to 20 px. Forward is one render with gradients enabled;
forward+backward adds the backward of a weighted sum of the image. Times are medians after 5 warm-up runs; each
(case, renderer) runs in a fresh process so that its peak memory (RSS above the process after set-up, or CUDA
allocations) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

WARMUP = 5
# name: (strokes, size, radius, max width px)
CASES = {
    "64 @224": (64, 224, 0.1, 8.0),
    "256 @224": (256, 224, 0.1, 8.0),
    "1024 @224": (1024, 224, 0.1, 8.0),
    "256 @512": (256, 512, 0.1, 8.0),
    "late 256 @224": (256, 224, 0.25, 20.0),
}


def make_scene(case: str, device: str):
    """The benchmark scene of ``case`` (seeded), its strokes' widths spread from 1 px to the case's maximum."""
    from clipart.scene import Scene

    n, _, radius, wmax = CASES[case]
    g = torch.Generator().manual_seed(0)
    scene = Scene.random(n, generator=g, radius=radius)
    scene.widths = (1 + (wmax - 1) * torch.rand(n, generator=g)) / 224
    return scene.to(device).requires_grad_()


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def worker(case: str, renderer: str, repeats: int, threads: int, device: str) -> dict:
    """Time one renderer on one case in this process; returns medians (ms) and peak memory (MB)."""
    torch.set_num_threads(threads)
    if renderer == "ours":
        from clipart.render import render as fn
    else:
        from reference_renderer import render_reference as fn
    size = CASES[case][1]
    scene = make_scene(case, device)
    weight = torch.rand(3, size, size, generator=torch.Generator().manual_seed(1)).to(device)
    cuda = device.startswith("cuda")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    def forward() -> None:
        fn(scene, size)
        sync()

    def forward_backward() -> None:
        (fn(scene, size) * weight).sum().backward()
        sync()

    base = _rss_mb()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    out = {}
    for name, f in (("fwd", forward), ("fwd_bwd", forward_backward)):
        for _ in range(WARMUP if repeats > 1 else 0):
            f()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            f()
            times.append((time.perf_counter() - t) * 1e3)
        out[name] = statistics.median(times)
    if cuda:
        out["peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    else:
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    return out


def run_worker(case: str, renderer: str, repeats: int, threads: int, device: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", case, renderer, str(repeats), str(threads), device]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return model


def _load() -> str:
    """The 1, 5 and 15 minute load averages (other processes make timings noisy)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 repeats; reference only on the 64-stroke case")
    ap.add_argument("--repeats", type=int, help="timed runs per measurement (default 10, quick 3)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference renderer")
    ap.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        case, renderer, repeats, threads, device = args.worker
        print(json.dumps(worker(case, renderer, int(repeats), int(threads), device)))
        return
    repeats = args.repeats or (3 if args.quick else 10)
    print(
        f"machine: {machine()}, {args.threads} torch threads, device {args.device}, torch {torch.__version__}"
    )
    print(f"load average at start: {_load()}")
    print(f"ours: median of {repeats} after {WARMUP} warm-up runs; reference (dense, autograd): one run")
    head = f"{'case':<14} {'fwd ms':>8} {'fwd+bwd ms':>11} {'peak MB':>8} {'ref fwd':>9} {'ref f+b':>9} {'ref MB':>7}"
    print(head + f" {'speed-up fwd':>13} {'speed-up f+b':>13}")
    for case in CASES:
        ours = run_worker(case, "ours", repeats, args.threads, args.device)
        line = f"{case:<14} {ours['fwd']:8.1f} {ours['fwd_bwd']:11.1f} {ours['peak_mb']:8.0f}"
        with_ref = not args.no_reference and (not args.quick or CASES[case][0] <= 64)
        if with_ref:
            ref = run_worker(case, "reference", 1, args.threads, args.device)
            line += f" {ref['fwd']:9.0f} {ref['fwd_bwd']:9.0f} {ref['peak_mb']:7.0f}"
            line += f" {ref['fwd'] / ours['fwd']:12.0f}x {ref['fwd_bwd'] / ours['fwd_bwd']:12.0f}x"
        else:
            line += f" {'-':>9} {'-':>9} {'-':>7} {'-':>13} {'-':>13}"
        print(line, flush=True)
    print(f"load average at end: {_load()}")


if __name__ == "__main__":
    main()
