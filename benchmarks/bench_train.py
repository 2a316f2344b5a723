"""Training throughput of `clipart train` against open_clip's own trainer (`python -m open_clip_train.main`).

Both run in fresh processes on the same model config, CSV data, batch size, loader workers, precision and
thread count, alternating order over several rounds. Both are timed the same way: a global optimizer-step hook
(``torch.optim.optimizer.register_optimizer_step_post_hook``) stamps every step; samples/s is measured over the
steps after the first third (start-up and warm-up excluded). The table gives the median over rounds and the ratio
clipart / open_clip_train (> 1: clipart is faster).

    python benchmarks/bench_train.py                    # CPU, both configs
    python benchmarks/bench_train.py --device cuda --batch-size 256 --steps 90
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {
    "tiny": {  # the test model: 32 px, width 64, 2 layers
        "embed_dim": 64,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
    },
    "mini": {  # the size of clipart's embedded model: 64 px, width 192, 4 layers
        "embed_dim": 256,
        "vision_cfg": {"image_size": 64, "patch_size": 8, "width": 192, "layers": 4, "head_width": 64},
        "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 128, "heads": 2, "layers": 3},
    },
}
COLOURS = {"red": (220, 30, 35), "green": (40, 165, 55), "blue": (35, 85, 225), "yellow": (235, 200, 20)}


def make_data(folder: Path, n: int, size: int = 64) -> Path:
    """``n`` coloured-shape PNGs and a CSV of absolute paths (open_clip_train reads paths relative to the cwd)."""
    from PIL import Image, ImageDraw

    rng = random.Random(0)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines = ["filepath,caption"]
    for i in range(n):
        colour = rng.choice(list(COLOURS))
        shape = rng.choice(["circle", "square"])
        im = Image.new("RGB", (size, size), "white")
        r = rng.uniform(0.2, 0.4) * size
        cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
        box = [cx - r, cy - r, cx + r, cy + r]
        draw = ImageDraw.Draw(im)
        (draw.ellipse if shape == "circle" else draw.rectangle)(box, fill=COLOURS[colour])
        path = folder / "images" / f"{i:05d}.png"
        im.save(path)
        lines.append(f"{path},a {colour} {shape}")
    csv = folder / "pairs.csv"
    csv.write_text("\n".join(lines) + "\n")
    return csv


def _child(tool: str, stamps: str, config: str, argv: list[str]) -> None:
    """Run one trainer in this process, stamping every optimizer step."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    times: list[float] = []
    register_optimizer_step_post_hook(lambda *_: times.append(time.perf_counter()))
    atexit.register(lambda: Path(stamps).write_text(json.dumps(times)))
    if tool == "clipart":
        from clipart.cli import main

        code = main(argv)
        if code:
            raise SystemExit(code)
    else:
        import open_clip
        from open_clip_train.main import main

        open_clip.add_model_config(config)
        main(argv)


def run_tool(tool: str, csv: Path, config: Path, work: Path, args: argparse.Namespace) -> float:
    """Samples/s of one training run of ``tool``."""
    stamps = work / f"{tool}-{time.monotonic_ns()}.json"
    common_lr = [
        "--lr",
        "1e-3",
        "--warmup",
        "10",
        "--batch-size",
        str(args.batch_size),
        "--workers",
        str(args.workers),
    ]
    if tool == "clipart":
        out = work / f"run-{time.monotonic_ns()}"
        precision = "bf16" if args.device == "cuda" else "fp32"
        argv = ["train", "--data", str(csv), "--model", str(config), "--out", str(out), "--steps", str(args.steps),
                "--grad-clip", "1.0", "--precision", precision, "--device", args.device, "--quiet", *common_lr]  # fmt: skip
    else:
        precision = "amp_bf16" if args.device == "cuda" else "fp32"
        argv = ["--train-data", str(csv), "--dataset-type", "csv", "--csv-separator", ",",
                "--csv-img-key", "filepath", "--csv-caption-key", "caption", "--model", config.stem,
                "--epochs", "1", "--grad-clip-norm", "1.0", "--precision", precision, "--device", args.device,
                "--logs", str(work / "oc-logs"), "--name", f"run-{time.monotonic_ns()}", "--save-frequency", "0",
                "--zeroshot-frequency", "0", "--val-frequency", "0", "--report-to", "", "--log-every-n-steps", "100",
                *common_lr]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, __file__, "--child", tool, str(stamps), str(config), *argv]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0 or not stamps.exists():
        raise SystemExit(f"{tool} failed:\n{result.stderr[-3000:]}")
    times = json.loads(stamps.read_text())
    if len(times) != args.steps:
        raise SystemExit(f"{tool} made {len(times)} optimizer steps, expected {args.steps}")
    window = times[args.steps // 3 :]
    return args.batch_size * (len(window) - 1) / (window[-1] - window[0])


def main() -> None:
    """Run the benchmark and print the table."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30, help="steps per run (timed: the last two thirds)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="runs of each tool per config, order alternating"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args()

    import torch

    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"
    if args.device == "cuda":
        machine += f", {torch.cuda.get_device_name()}"
    print(
        f"machine: {machine}; device {args.device}, {args.threads} threads, {args.workers} loader worker(s)"
    )
    print(f"batch {args.batch_size}, {args.steps} steps per run, {args.rounds} rounds per tool\n")
    print(f"{'config':<8} {'clipart samples/s':>18} {'open_clip_train samples/s':>26} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        csv = make_data(work / "data", args.batch_size * args.steps)
        for name in args.configs:
            config = work / f"bench-{name}.json"
            config.write_text(json.dumps(CONFIGS[name]))
            rates: dict[str, list[float]] = {"clipart": [], "open_clip_train": []}
            for r in range(args.rounds):
                order = ["clipart", "open_clip_train"] if r % 2 == 0 else ["open_clip_train", "clipart"]
                for tool in order:
                    rates[tool].append(run_tool(tool, csv, config, work, args))
            ours, theirs = statistics.median(rates["clipart"]), statistics.median(rates["open_clip_train"])
            print(f"{name:<8} {ours:>18.1f} {theirs:>26.1f} {ours / theirs:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
