"""Reproduce clipart-mini, the embedded model: build the data, train, export fp16, evaluate.

    python recipes/clipart_mini.py --work /tmp/clipart-mini          # everything (about 1 h on 2 free CPU cores)
    python recipes/clipart_mini.py --work /tmp/clipart-mini --only eval

Training runs from scratch on train_mix.csv: train.csv with the digit and shape rows repeated (3x, 2x), so that
about half of what the model sees is emoji. Every step is a `clipart` command (printed before it runs) with fixed
seeds; the architecture is recipes/clipart-mini.json.
Needs `pip install -e ".[train]"` and `apt-get install fonts-noto-color-emoji`.
"""

from __future__ import annotations

import argparse
import csv
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
TRAIN_ARGS = ["--model", str(MODEL_JSON), "--batch-size", "256", "--steps", "3600", "--lr", "1e-3"]
TRAIN_ARGS += ["--warmup", "200", "--weight-decay", "0.1", "--workers", "1", "--seed", str(SEED)]
TRAIN_ARGS += ["--checkpoint-every", "600", "--quiet"]
REPEAT = {"digits": 3, "shapes": 2}  # rows of images/<part>/ listed this many times in train_mix.csv
EVAL_SETS = ("emoji", "emoji_sketch", "colours", "shapes", "digits")
STAGES = ("data", "train", "export", "eval")


def clipart(*args: str) -> subprocess.CompletedProcess[str]:
    """Run one `clipart` command, echoing it; stop the recipe if it fails."""
    command = [sys.executable, "-m", "clipart", *args]
    print("$ clipart " + shlex.join(args), flush=True)
    done = subprocess.run(command, text=True, stdout=subprocess.PIPE)
    print(done.stdout, end="", flush=True)
    if done.returncode:
        raise SystemExit(done.returncode)
    return done


def write_mix(data: Path) -> Path:
    """train_mix.csv: train.csv with the rows of the parts in REPEAT listed several times."""
    with open(data / "train.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = data / "train_mix.csv"
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["filepath", "caption"])
        for row in rows:
            writer.writerows(
                [[row["filepath"], row["caption"]]] * REPEAT.get(row["filepath"].split("/")[1], 1)
            )
    return out


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
    parser.add_argument("--only", choices=STAGES, help="run a single stage")
    args = parser.parse_args()
    data, run = args.work / "data", args.work / "run"
    stages = [args.only] if args.only else list(STAGES)
    if "data" in stages:
        clipart("data", "mini", "--out", str(data), *DATA_ARGS, "--overwrite")
    if "train" in stages:
        clipart("train", "--data", str(write_mix(data)), "--out", str(run), *TRAIN_ARGS)
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
