"""The timed parts of benchmarks/gpu_check.sh and its one markdown table (run by that script after the install).

    python benchmarks/gpu_check.py --out DIR [--install-seconds S --install-note TEXT]

Parts, each a row: the device-agnostic tests on CUDA (``CLIPART_TEST_DEVICE=cuda pytest -m device``); the
``clipdraw`` preset with a random-weight ViT-B-32 (``--model ViT-B-32``: no download) and the ``quick`` preset
(embedded model), each on CUDA and, briefly, on the CPU (the same-run baseline of the speed-up); the rasterizer
(benchmarks/bench_render.py's workers) on CUDA and on the CPU. Without CUDA every CUDA part is a ``skipped`` row
and a line on stderr, and the CPU parts still run (few steps). Writes DIR/gpu_check.md (the table) and
DIR/gpu_check.log (every command's output); exits 1 when a part failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import bench_render  # noqa: E402

PROMPT = "a red apple on a wooden table"
# (preset, extra flags, steps on CUDA (None: the preset's), steps on the CPU)
DRAWS = {
    "clipdraw": (["--model", "ViT-B-32"], 100, 3),  # random weights: times the loop, not the picture
    "quick": ([], None, 10),
}
RENDER_CPU_CASES = ["64 @224", "256 @224"]


@dataclass
class Row:
    """One line of the table."""

    part: str
    device: str
    result: str
    seconds: float | None = None
    detail: str = ""
    measure: float | None = None  # the figure a same-run ratio compares: s a step, or fwd+bwd ms


class Check:
    """Runs the parts, logs their output, collects the rows."""

    def __init__(self, out: Path, threads: int) -> None:
        self.out = out
        self.threads = threads
        self.rows: list[Row] = []
        self.log = (out / "gpu_check.log").open("w", encoding="utf-8")
        self.cuda = torch.cuda.is_available()
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        if row.result.startswith("skipped"):
            print(f"gpu_check: skipped {row.part} on {row.device}: {row.detail}", file=sys.stderr, flush=True)
        else:
            took = f" in {row.seconds:.1f} s" if row.seconds is not None else ""
            print(f"gpu_check: {row.part} on {row.device}: {row.result}{took}", file=sys.stderr, flush=True)
        return row

    def skip_cuda(self, part: str) -> None:
        self.add(Row(part, "cuda", "skipped", None, "no CUDA device (torch.cuda.is_available() is False)"))

    def run(
        self, cmd: list[str], timeout: float, env: dict[str, str] | None = None
    ) -> tuple[int, str, float]:
        """Run ``cmd`` in the checkout; its exit code, output (logged) and wall seconds."""
        self.log.write(f"\n$ {' '.join(cmd)}\n")
        self.log.flush()
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=REPO, env=env or self.env, capture_output=True, text=True,
                                  timeout=timeout)  # fmt: skip
            code, text = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as e:
            code, text = 124, f"{e.stdout or ''}{e.stderr or ''}\n(timed out after {timeout:.0f} s)"
            text = text if isinstance(text, str) else text.decode(errors="replace")
        self.log.write(text)
        self.log.flush()
        return code, text, time.perf_counter() - t0

    def tests(self) -> None:
        part = "tests -m device"
        if not self.cuda:
            self.skip_cuda(part)
            return
        cmd = [sys.executable, "-m", "pytest", "-m", "device", "-q", "-p", "no:cacheprovider",
               "--continue-on-collection-errors"]  # fmt: skip
        code, text, took = self.run(cmd, 360, {**self.env, "CLIPART_TEST_DEVICE": "cuda"})
        lines = text.strip().splitlines()
        summary = re.sub(r"^=+ | =+$", "", lines[-1]) if lines else "no output"
        failed = [ln.split()[1] for ln in lines if ln.startswith(("FAILED ", "ERROR "))]
        detail = summary + (f"; failed: {', '.join(failed[:4])}" if failed else "")
        self.add(Row(part, "cuda", "ok" if code == 0 else f"FAILED (exit {code})", took, detail))

    def draw(self, preset: str, device: str) -> Row | None:
        flags, cuda_steps, cpu_steps = DRAWS[preset]
        part = f"draw --preset {preset}" + (" (ViT-B-32, random weights)" if "ViT-B-32" in flags else "")
        if device == "cuda" and not self.cuda:
            self.skip_cuda(part)
            return None
        steps = cuda_steps if device == "cuda" else cpu_steps
        with tempfile.TemporaryDirectory(prefix="clipart-gpu-check-") as tmp:
            cmd = [sys.executable, "-m", "clipart", "draw", PROMPT, "--preset", preset, *flags, "--seed", "0",
                   "--device", device, "--out", f"{tmp}/", "--jsonl"]  # fmt: skip
            cmd += ["--steps", str(steps)] if steps else []
            cmd += ["--threads", str(self.threads)] if device == "cpu" else []
            code, text, took = self.run(cmd, 300)
            events = [json.loads(ln) for ln in text.splitlines() if ln.startswith('{"step"')]
            sidecars = list(Path(tmp).glob("*.json"))
            startup = json.loads(sidecars[0].read_text())["timings"].get("startup_s") if sidecars else None
        if code != 0 or not events:
            last = text.strip().splitlines()[-1] if text.strip() else "no output"
            return self.add(Row(part, device, f"FAILED (exit {code})", took, last[:200]))
        n = len(events)
        per_step = (events[-1]["elapsed"] - events[0]["elapsed"]) / (n - 1) if n > 1 else events[0]["elapsed"]
        detail = (f"{n} steps, {per_step * 1e3:.0f} ms/step after the first; start-up (model, strokes) "
                  f"{startup:.1f} s; loss {events[0]['loss']:.3f} → {events[-1]['loss']:.3f}")  # fmt: skip
        return self.add(Row(part, device, "ok", took, detail, per_step))

    def draws(self) -> None:
        for preset in DRAWS:
            gpu = self.draw(preset, "cuda")
            cpu = self.draw(preset, "cpu")
            if gpu is not None and cpu is not None and gpu.measure and cpu.measure:
                gpu.detail += f"; {cpu.measure / gpu.measure:.0f}x the CPU's steps a second"

    def render(self) -> None:
        cpu_fb: dict[str, float] = {}
        for case in RENDER_CPU_CASES:
            row = self._render_case(case, "cpu", reference=False)
            if row.measure:
                cpu_fb[case] = row.measure
        if not self.cuda:
            self.skip_cuda("render (bench_render.py, every case)")
            return
        for case in bench_render.CASES:
            row = self._render_case(case, "cuda", reference=bench_render.CASES[case][0] <= 64)
            if row.measure and case in cpu_fb:
                row.detail += f"; {cpu_fb[case] / row.measure:.0f}x the CPU's fwd+bwd"

    def _render_case(self, case: str, device: str, reference: bool) -> Row:
        part = f"render {case}"
        t0 = time.perf_counter()
        try:
            ours = bench_render.run_worker(case, "ours", 3, self.threads, device)
            detail = (
                f"fwd {ours['fwd']:.1f} ms, fwd+bwd {ours['fwd_bwd']:.1f} ms, peak {ours['peak_mb']:.0f} MB"
            )
            if reference:
                ref = bench_render.run_worker(case, "reference", 1, self.threads, device)
                detail += f"; dense reference fwd+bwd {ref['fwd_bwd']:.0f} ms ({ref['fwd_bwd'] / ours['fwd_bwd']:.0f}x)"
        except subprocess.CalledProcessError as e:
            self.log.write(f"\n$ {' '.join(e.cmd)}\n{e.stdout}{e.stderr}")
            last = (e.stderr or "").strip().splitlines()
            return self.add(Row(part, device, f"FAILED (exit {e.returncode})", time.perf_counter() - t0,
                                last[-1][:200] if last else ""))  # fmt: skip
        return self.add(Row(part, device, "ok", time.perf_counter() - t0, detail, ours["fwd_bwd"]))

    def table(self, took: float) -> str:
        gpu = f"{torch.cuda.get_device_name(0)}, CUDA {torch.version.cuda}" if self.cuda else "no CUDA device"
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        head = (f"clipart GPU check: {gpu}; {bench_render.machine()}, {os.cpu_count()} cores "
                f"({self.threads} threads for CPU parts), load {load}; torch {torch.__version__}, "
                f"Python {platform.python_version()}; {took:.0f} s\n\n")  # fmt: skip
        lines = ["| part | device | result | seconds | detail |", "| --- | --- | --- | ---: | --- |"]
        for r in self.rows:
            seconds = f"{r.seconds:.1f}" if r.seconds is not None else "-"
            lines.append(f"| {r.part} | {r.device} | {r.result} | {seconds} | {r.detail.replace('|', '/')} |")
        return head + "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for gpu_check.md and gpu_check.log")
    ap.add_argument("--install-seconds", type=float, help="the install's time, for its row")
    ap.add_argument("--install-note", default="", help="what the install did, for its row")
    ap.add_argument(
        "--threads", type=int, default=min(8, os.cpu_count() or 1), help="CPU threads (8 at most)"
    )
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    check = Check(out, args.threads)
    installed = "ok" if args.install_seconds is not None else "reused"
    check.add(Row("install", "-", installed, args.install_seconds, args.install_note))
    check.tests()
    check.draws()
    check.render()
    table = check.table(time.perf_counter() - t0 + (args.install_seconds or 0))
    (out / "gpu_check.md").write_text(table, encoding="utf-8")
    print(table)
    check.log.close()
    return 1 if any(r.result.startswith("FAILED") for r in check.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
