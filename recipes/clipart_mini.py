"""Reproduce clipart-mini, the embedded model: build the data, train, export fp16 into the package, evaluate.

    python recipes/clipart_mini.py --work /tmp/clipart-mini          # everything (about 70 min on 2 CPU cores)
    python recipes/clipart_mini.py --work /tmp/clipart-mini --only eval

Every stage is a `clipart` command (printed before it runs) with fixed seeds; the model architecture is
recipes/clipart-mini.json. Needs `pip install -e ".[train]"` and `apt-get install fonts-noto-color-emoji`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_JSON = ROOT / "recipes" / "clipart-mini.json"
TARGET = ROOT / "clipart" / "models" / "embedded" / "clipart-mini"
SEED = 0
DATA_ARGS = [
    "--seed",
    str(SEED),
    "--size",
    "64",
    "--per-emoji",
    "32",
    "--shapes",
    "12000",
    "--per-digit",
    "4",
]
DATA_ARGS += ["--pairs", "4000", "--workers", "2"]
TRAIN_ARGS = ["--model", str(MODEL_JSON), "--batch-size", "128", "--steps", "1000", "--lr", "1e-3"]
TRAIN_ARGS += ["--warmup", "50", "--weight-decay", "0.1", "--workers", "1", "--seed", str(SEED)]
EVAL_SETS = ("emoji", "emoji_sketch", "colours", "shapes", "digits")


def clipart(*args: str) -> subprocess.CompletedProcess[str]:
    """Run one `clipart` command, echoing it; stop the recipe if it fails."""
    command = [sys.executable, "-m", "clipart", *args]
    print("$ clipart " + shlex.join(args), flush=True)
    done = subprocess.run(command, text=True, stdout=subprocess.PIPE)
    print(done.stdout, end="", flush=True)
    if done.returncode:
        raise SystemExit(done.returncode)
    return done


def export_fp16(run_export: Path, target: Path) -> None:
    """Copy an exported run into the package with fp16 weights (open_clip upcasts them when loading)."""
    from safetensors.torch import load_file, save_file

    weights = {
        k: v.half().contiguous()
        for k, v in load_file(str(run_export / "open_clip_model.safetensors")).items()
    }
    target.mkdir(parents=True, exist_ok=True)
    for name, write in (
        ("open_clip_model.safetensors", lambda p: save_file(weights, p, metadata={"format": "pt"})),
        (
            "open_clip_config.json",
            lambda p: Path(p).write_text((run_export / "open_clip_config.json").read_text()),
        ),
    ):
        handle, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.")
        os.close(handle)
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target / name)


def evaluate(data: Path, model: Path, out: Path) -> dict[str, dict[str, float]]:
    """Zero-shot top-1/top-5 on every held-out set, with the templates listed in the data's manifest."""
    manifest = json.loads((data / "manifest.json").read_text())
    results = {}
    for name in EVAL_SETS:
        spec = manifest["eval"][name]
        templates = [arg for t in spec["templates"] for arg in ("--template", t)]
        done = clipart("eval", "zeroshot", "--model", f"local-dir:{model}", "--data", str(data / spec["csv"]),
                       *templates, "--json")  # fmt: skip
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def main() -> int:
    """Run the recipe's stages (all by default)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", required=True, type=Path, help="folder for the data and the training run")
    parser.add_argument("--only", choices=("data", "train", "export", "eval"), help="run a single stage")
    args = parser.parse_args()
    data, run = args.work / "data", args.work / "run"
    stages = [args.only] if args.only else ["data", "train", "export", "eval"]
    if "data" in stages:
        clipart("data", "mini", "--out", str(data), *DATA_ARGS, "--overwrite")
    if "train" in stages:
        clipart("train", "--data", str(data / "train.csv"), "--out", str(run), *TRAIN_ARGS, "--quiet")
    if "export" in stages:
        export_fp16(run / "export", TARGET)
        print(f"wrote {TARGET}")
    if "eval" in stages:
        results = evaluate(data, TARGET, args.work / "eval.json")
        for name, result in results.items():
            print(
                f"{name:13s} top-1 {result['top1']:.3f}  top-5 {result['top5']:.3f}  ({result['images']} images)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
