"""Train the judge of benchmarks/bench_rprecision.py: a CLIP that scores drawings and never guides them.

    python recipes/judge.py --work /tmp/clipart-judge          # after `python recipes/icondata.py fetch`

What keeps it independent of the guide (clipart-mini): another architecture (a ConvNeXt image tower from timm,
recipes/clipart-judge.json: depthwise 7 × 7 convolutions, LayerNorm and average pooling, against the guide's
bottleneck ResNet with attention pooling), its own seed for initialisation and data
order, its own renders of the icons (another seed: other margins, offsets and inks), and more styles: the sets
held out of the guide's training (twemoji, emojione, emojione-monotone) are in the judge's. Pictures of the
benchmark's 60 prompts are listed three times so the judge knows them best; one in ten of their icons is kept
out as the judge's own check (`eval` prints its top-1 over the 60 prompts). Two cosine cycles (``train``: 1,500
steps, ``refine``: 1,000 more from its weights); on 2 CPU cores about 21 + 25 minutes, 12.8 % top-1 / 45.7 % top-5
over 52 classes on its own held-out icons (2026-12-03): still a weak judge, so train longer where a GPU is lent.
The weights go to benchmarks/rprecision-judge/ (fp16); the judge is never a guide: it lives outside the package.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
from pathlib import Path

import icondata
from clipart_mini import clipart, export_fp16

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_rprecision import PROMPTS, noun  # noqa: E402

MODEL_JSON = ROOT / "recipes" / "clipart-judge.json"
TARGET = ROOT / "benchmarks" / "rprecision-judge"
SEED = 1
ROLES = {**icondata.ROLES, "twemoji": "pictorial", "emojione-monotone": "pictorial", "emojione": "pictorial"}
TRAIN_ARGS = ["--model", str(MODEL_JSON), "--batch-size", "256", "--steps", "1500", "--lr", "1e-3",
              "--warmup", "100", "--weight-decay", "0.1", "--workers", "1", "--seed", str(SEED),
              "--checkpoint-every", "250", "--keep-checkpoints", "2", "--quiet"]  # fmt: skip
# A second cosine cycle from the first run's weights (a warm restart): after 1,500 steps the judge was still far
# from converged (loss 3.18, 7.6 % top-1 on its own held-out icons) and one more cycle is what a CPU session allows.
REFINE_ARGS = ["--model", str(MODEL_JSON), "--batch-size", "256", "--steps", "1000", "--lr", "5e-4",
               "--warmup", "50", "--weight-decay", "0.1", "--workers", "1", "--seed", str(SEED + 1),
               "--checkpoint-every", "250", "--keep-checkpoints", "2", "--quiet"]  # fmt: skip
STAGES = ("data", "train", "refine", "export", "eval")


def write_tables(data: Path) -> tuple[Path, Path]:
    """train.csv with the benchmark's pictures listed three times, and eval.csv (one in ten of them)."""
    nouns = {noun(p): p for p in PROMPTS}
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(n) for n in sorted(nouns, key=len, reverse=True)) + r")\b"
    )
    train, held = [], []
    with open(data / "train.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found = pattern.search(row["caption"])
            if not found:
                train.append(row)
                continue
            icon = row["filepath"].rsplit("-", 1)[0]  # every render of an icon goes to one side
            if int(hashlib.sha256(icon.encode()).hexdigest(), 16) % 10 == 0:
                held.append({"filepath": row["filepath"], "label": nouns[found.group(1)]})
            else:
                train += [row] * 3
    paths = data / "judge_train.csv", data / "judge_eval.csv"
    for path, rows, header in (
        (paths[0], train, ("filepath", "caption")),
        (paths[1], held, ("filepath", "label")),
    ):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return paths


def main() -> int:
    """data → train → export → eval (or one of them with --only)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/clipart-data").expanduser())
    parser.add_argument("--only", choices=STAGES)
    args = parser.parse_args()
    data, run, refined = args.work / "icons", args.work / "run", args.work / "run-refine"
    stages = [args.only] if args.only else list(STAGES)
    if "data" in stages:
        try:
            if not data.exists():
                icondata.build(icondata.json_dir(args.cache), data, SEED, 64, workers=2, roles=ROLES)
        except icondata.RecipeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        write_tables(data)
    if "train" in stages:
        if (run / "config.json").exists():
            clipart("train", "--resume", str(run), "--quiet")
        else:
            clipart("train", "--data", str(data / "judge_train.csv"), "--out", str(run), *TRAIN_ARGS)
    if "refine" in stages:
        if (refined / "config.json").exists():
            clipart("train", "--resume", str(refined), "--quiet")
        else:
            clipart("train", "--data", str(data / "judge_train.csv"), "--out", str(refined), "--pretrained",
                    str(run / "export" / "open_clip_model.safetensors"), *REFINE_ARGS)  # fmt: skip
    if "export" in stages:
        export_fp16(refined / "export", TARGET, data / "ATTRIBUTION.md")
        print(f"wrote {TARGET}")
    if "eval" in stages:
        clipart("eval", "zeroshot", "--model", f"local-dir:{TARGET}", "--data", str(data / "judge_eval.csv"),
                "--template", "{}", "--json")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
