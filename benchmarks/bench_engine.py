"""Engine benchmarks (issue "Speed", targets 2, 3 and 5), each with a baseline measured in the same run.

1. Step overhead: a full drawing step (render, augment, CLIP forward+backward, loss, Adam, clamp, event) with
   ViT-B-32 (random weights time the same as trained ones), 256 strokes, 4 views, against the CLIP image tower's
   forward+backward alone on the same 4 views. Target: overhead ≤ 15 % of the step.
2. Whole drawing: ``clipart draw`` with the quick preset in a subprocess, start-up included (target ≤ 30 s), and
   ``clipart --help`` (target ≤ 1 s), against ``python -c pass``.
3. Candidates: K = 4 drawings optimised together against one drawing (target ≤ 2.5×).

Run: ``python benchmarks/bench_engine.py [--steps N] [--skip-vit]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import torch

import clipart
from clipart.models import load_model


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _time_steps(prompt: str, n: int, **kw: object) -> float:
    """Median seconds per step after one warm-up step."""
    times = []
    last = time.perf_counter()
    for event in clipart.steps(prompt, steps=n + 1, **kw):
        now = time.perf_counter()
        if event.step > 1:
            times.append(now - last)
        last = now
    return statistics.median(times)


def bench_overhead(n: int, device: str) -> list[tuple[str, float, str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guide = load_model("ViT-B-32", device=device)
    views = torch.rand(4, 3, 224, 224, device=device)
    times = []
    for i in range(n + 1):
        x = views.clone().requires_grad_(True)
        t0 = time.perf_counter()
        guide.encode_image(x).sum().backward()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t0)
    clip_only = statistics.median(times)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step = _time_steps(
            "a red circle", n, preset="clipdraw", pretrained="none", device=device, preview_every=10
        )
    overhead = (step - clip_only) / step
    return [
        ("CLIP ViT-B-32 fwd+bwd, 4 views (baseline)", clip_only, "1.00"),
        ("full step, 256 strokes, 4 views", step, f"{step / clip_only:.2f}"),
        ("overhead share of the step (target ≤ 15 %)", overhead, f"{overhead * 100:.1f} %"),
    ]


def bench_whole() -> list[tuple[str, float, str]]:
    def timed(cmd: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - t0

    base = min(timed([sys.executable, "-c", "pass"]) for _ in range(3))
    helptime = min(timed([sys.executable, "-m", "clipart", "--help"]) for _ in range(3))
    with tempfile.TemporaryDirectory() as tmp:
        quick = timed([sys.executable, "-m", "clipart", "draw", "a red circle", "-q", "--out", tmp + "/"])
    return [
        ("python -c pass (baseline)", base, "1.00"),
        ("clipart --help (target ≤ 1 s)", helptime, f"{helptime / base:.2f}"),
        ("clipart draw, quick preset, end to end (target ≤ 30 s)", quick, f"{quick / base:.1f}"),
    ]


def bench_candidates(n: int, device: str) -> list[tuple[str, float, str]]:
    kw = {"preset": "quick", "device": device, "preview_every": 1000}
    one = _time_steps("a red circle", n, **kw)
    four = _time_steps("a red circle", n, candidates=4, **kw)
    return [
        ("quick preset, 1 drawing, per step (baseline)", one, "1.00"),
        ("quick preset, --candidates 4, per step (target ≤ 2.5×)", four, f"{four / one:.2f}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per measurement")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-vit", action="store_true", help="skip the ViT-B-32 overhead measurement")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(
        f"# machine: {_cpu_name()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {args.device}"
    )
    rows = []
    if not args.skip_vit:
        rows += bench_overhead(args.steps, args.device)
    rows += bench_candidates(args.steps, args.device)
    rows += bench_whole()
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'seconds':>9}  ratio")
    for name, sec, ratio in rows:
        shown = f"{sec:9.3f}" if "share" not in name else f"{'':>9}"
        print(f"{name:<{width}}  {shown}  {ratio}")


if __name__ == "__main__":
    main()
