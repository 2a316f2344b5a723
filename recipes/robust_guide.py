"""A robust guide: clipart-mini fine-tuned adversarially (TeCoA or FARE), and weight-space mixes of it with its base.

    python recipes/robust_guide.py --work /tmp/robust --data /tmp/clipart-mini/data
        # after `python recipes/icondata.py fetch` and clipart_mini.py's data, lineart, variants and tones stages

A guide whose image tower resists small pixel attacks has gradients that look like the things they point to
(CLIPAG, Ganz & Elad, WACV 2024), so drawing from random strokes with it makes shapes rather than tangles. This
recipe fine-tunes the embedded guide on the recipe's full table (``train_fare.csv``: the icon corpus with clipart-mini
1's rows, the line art, the mirror images and glyphs, the flat and grey renders) with ``clipart train``'s
adversarial option (PGD in pixel space before each step), and exports the fine-tune and mixes of it with the base
(WiSE-FT, Wortsman et al., CVPR 2022: the base plus a share of the fine-tune's change), which buy back zero-shot
accuracy at some cost in drawing. BENCHMARKS.md ("Punctuated prompts") holds what each run drew and scored.

Stages: ``table`` (writes DATA/train_fare.csv), ``train`` (WORK/run, resumable: the same command goes on from the
last checkpoint), ``export`` (the fine-tune in fp16 to WORK/tuned, and each ``--mix`` share to WORK/mix-SHARE),
``eval`` (zero-shot on every held-out and check set, as clipart_mini.py's eval, for the fine-tune and each mix). Only
the held-out styles twemoji and emojione-monotone may choose a share; the check set (emojione's colour emoji)
chooses nothing. Freehand drawings are judged apart, by the honest judge: ``python benchmarks/bench_rprecision.py
--preset freehand --model local-dir:WORK/mix-SHARE``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import clipart_mini as cm
import icondata

from clipart.output import atomic_write

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "clipart" / "models" / "embedded" / "clipart-mini"
SEED = 8
STEPS = 1200
EPS = 4.0  # L2 radius at the model's 64 px input (about 9/255 a pixel)
LOSS = "tecoa"
RECALIBRATE = 2048  # pictures that re-estimate a mix's batch-norm statistics (:func:`recalibrate`)
PARTS = ("lineart", "variants", "tones")
STAGES = ("table", "train", "export", "eval")


def write_table(data: Path) -> Path:
    """DATA/train_fare.csv: train_mix.csv's rows and those of the line art, variants and tones."""
    cm.require(data / "train_mix.csv", "data")
    return cm.write_joined(data / "train_fare.csv", data / "train_mix.csv", data, PARTS)


def train(
    work: Path, data: Path, start: Path, steps: int, eps: float, loss: str, lock_text: bool = False
) -> None:
    """The adversarial fine-tune into WORK/run from ``start``'s weights, or on from its last checkpoint when WORK/run
    holds a run with these settings (RecipeError when it holds another). With ``lock_text`` the text tower stays
    the start's (as TeCoA trains), so that the fine-tune's image tower pairs with the start's text tower."""
    run = work / "run"
    asked = {"pretrained": str(start / "open_clip_model.safetensors"), "steps": steps, "adv_eps": eps,
             "adv_loss": loss, "lock_text": lock_text}  # fmt: skip
    if (run / "config.json").exists():
        held = json.loads((run / "config.json").read_text(encoding="utf-8"))
        differ = [f"{k} {held.get(k)!r} (asked: {v!r})" for k, v in asked.items() if held.get(k) != v]
        if differ:
            raise icondata.RecipeError(f"{run} holds another run: {', '.join(differ)}; give another --work")
    else:
        cm.require(data / "train_fare.csv", "table")
    cm.train_from(run, data / "train_fare.csv", start, [
        "--model", str(cm.MODEL_JSON), "--steps", str(steps), "--batch-size", "128", "--lr", "1e-4",
        "--warmup", "50", "--caption-variants", "0.5", "--adv-eps", str(eps), "--adv-norm", "l2",
        "--adv-steps", "2", "--adv-loss", loss, "--seed", str(SEED), "--workers", "1", "--checkpoint-every", "100",
        "--keep-checkpoints", "2", "--log-every", "50", "--quiet", *(["--lock-text"] if lock_text else [])])  # fmt: skip


def mix_folder(work: Path, share: float) -> Path:
    """Where ``export`` writes the mix with ``share`` of the fine-tune's change."""
    return work / f"mix-{share:g}"


def draw_folder(work: Path) -> Path:
    """Where ``export`` writes the image tower of a run that locked the text tower."""
    return work / "draw"


def export(work: Path, data: Path, shares: list[float], recalibrated: int = RECALIBRATE) -> None:
    """The fine-tune in fp16 to WORK/tuned, and for each share the weights the run started from plus that share of
    its change (fp16, with the fine-tune's config and the icon sets' attribution beside it; each file replaced
    atomically), its batch-norm statistics re-estimated on ``recalibrated`` training pictures (0: kept). A run
    that locked the text tower also gives WORK/draw: its image tower alone, sharing the start's text tower."""
    from safetensors.torch import load_file, save

    tuned = work / "tuned"
    attribution = data / "icons" / "ATTRIBUTION.md"
    cm.require(work / "run" / "config.json", "train")
    run = json.loads((work / "run" / "config.json").read_text(encoding="utf-8"))
    start = Path(run["pretrained"])
    cm.require(start, "train")
    cm.export_fp16([(work / "run" / "export", "train")], tuned, attribution)
    if run.get("lock_text"):
        write_image_tower(tuned, start, draw_folder(work))
    base = load_file(str(start))
    end = load_file(str(tuned / "open_clip_model.safetensors"))
    if base.keys() != end.keys() or any(base[k].shape != end[k].shape for k in base):
        raise icondata.RecipeError(f"{tuned} and {start} hold different architectures: nothing to mix")
    for share in shares:
        target = mix_folder(work, share)
        weights = {k: (base[k].float() + share * (end[k].float() - base[k].float())).half() for k in base}
        target.mkdir(parents=True, exist_ok=True)
        atomic_write(
            target / "open_clip_model.safetensors", save(weights, {"format": "pt", "mix": f"{share:g}"})
        )
        for name in ("open_clip_config.json", "ATTRIBUTION.md"):
            atomic_write(target / name, (tuned / name).read_bytes())
        if recalibrated and 0 < share < 1:
            recalibrate(target, data, recalibrated)
        print(f"wrote {target}", flush=True)


def write_image_tower(tuned: Path, start: Path, folder: Path) -> None:
    """``folder``: the image tower (``visual.*``) of the fine-tune in ``tuned`` alone, its config naming the text
    tower of the weights file ``start`` (``"text_tower"``: the embedded clipart-mini, or ``local-dir:`` its folder),
    so that it ships without a second copy of a text tower it never changed (RecipeError if it did change it, or if
    the two hold different architectures). The logit scale, which a locked text tower leaves free, comes from
    ``start`` then: a drawing's loss is a cosine and never reads it."""
    from safetensors.torch import load_file, save

    end, base = load_file(str(tuned / "open_clip_model.safetensors")), load_file(str(start))
    if base.keys() != end.keys() or any(base[k].shape != end[k].shape for k in base):
        raise icondata.RecipeError(
            f"{tuned} and {start} hold different architectures: no text tower to share"
        )
    text = [k for k in base if not k.startswith("visual.") and k != "logit_scale"]
    changed = [
        k for k in text if not base[k].to(end[k].dtype).equal(end[k])
    ]  # tuned is fp16; start may be fp32
    if changed:
        raise icondata.RecipeError(
            f"{tuned} changed the text tower ({changed[0]}): it cannot share {start}'s"
        )
    embedded = start.read_bytes() == (GUIDE / "open_clip_model.safetensors").read_bytes()  # in any checkout
    config = json.loads((tuned / "open_clip_config.json").read_text(encoding="utf-8"))
    config["text_tower"] = "clipart-mini" if embedded else f"local-dir:{start.resolve().parent}"
    folder.mkdir(parents=True, exist_ok=True)
    image = {k: v.contiguous() for k, v in end.items() if k.startswith("visual.")}
    atomic_write(
        folder / "open_clip_model.safetensors",
        save(image, {"format": "pt"}),
    )
    atomic_write(folder / "open_clip_config.json", (json.dumps(config, indent=2) + "\n").encode())
    atomic_write(folder / "ATTRIBUTION.md", (tuned / "ATTRIBUTION.md").read_bytes())
    print(f"wrote {folder}", flush=True)


def recalibrate(folder: Path, data: Path, images: int = RECALIBRATE, batch: int = 128) -> None:
    """Re-estimate the image tower's batch-norm statistics of the model in ``folder`` on the first ``images``
    pictures of a shuffled DATA/train_fare.csv, and write its weights back (fp16, atomically).

    Adversarial training keeps the statistics of the weights it starts from, and so do the mixes; a mix's
    activations no longer match them (interpolated networks lose activation variance: REPAIR, Jordan et al., ICLR
    2023), which costs it more accuracy than either end loses. Statistics measured on the mix itself repair that."""
    import random

    import open_clip
    import torch
    from PIL import Image
    from safetensors.torch import load_file, save

    with open(data / "train_fare.csv", newline="", encoding="utf-8") as handle:
        paths = [row["filepath"] for row in csv.DictReader(handle)]
    random.Random(SEED).shuffle(paths)
    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    model.eval()
    norms = [m for m in model.visual.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        raise icondata.RecipeError(f"{folder}'s image tower has no batch norm to recalibrate")
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain mean over every batch
        norm.train()
    with torch.no_grad():
        for first in range(0, images, batch):
            pictures = [preprocess(Image.open(data / p).convert("RGB")) for p in paths[first : first + batch]]
            model.encode_image(torch.stack(pictures))
    stored = load_file(str(folder / "open_clip_model.safetensors"))
    state = model.state_dict()
    weights = {k: state[k].detach().to(stored[k].dtype).contiguous() for k in stored}
    atomic_write(
        folder / "open_clip_model.safetensors", save(weights, {"format": "pt", "recalibrated": str(images)})
    )


def evaluate(
    work: Path, data: Path, cache: Path, shares: list[float]
) -> dict[str, dict[str, dict[str, float]]]:
    """Zero-shot on every held-out and check set (the check set rendered from the icon sets in ``cache`` on first
    use) for the fine-tune and each mix; a table on stdout, and WORK/eval.json."""
    cm.build_check(cache, data)
    folders = {"tuned": work / "tuned", **{f"mix {s:g}": mix_folder(work, s) for s in shares}}
    results = {}
    for name, folder in folders.items():
        cm.require(folder / "open_clip_model.safetensors", "export")
        results[name] = cm.evaluate(data, folder, folder / "zeroshot.json")
    sets = list(next(iter(results.values())))
    print("| model | " + " | ".join(sets) + " |")
    for name, result in results.items():
        cells = (f"{100 * result[s]['top1']:.1f} / {100 * result[s]['top5']:.1f}" for s in sets)
        print(f"| {name} | " + " | ".join(cells) + " |")
    (work / "eval.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return results


def main() -> int:
    """table → train → export → eval (or one of them with --only); a missing input is one line and exit 2."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", required=True, type=Path, help="folder for the run and its exports")
    parser.add_argument("--data", required=True, type=Path, help="clipart_mini.py's data folder")
    parser.add_argument("--only", choices=STAGES, help="run a single stage")
    parser.add_argument("--recalibrate", type=int, default=RECALIBRATE, metavar="N",
                        help="training pictures that re-estimate each mix's batch-norm statistics (0: keep the "
                             "start's)")  # fmt: skip
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/clipart-data").expanduser(),
                        help="where `icondata.py fetch` put the icon sets")  # fmt: skip
    parser.add_argument("--start", type=Path, default=GUIDE,
                        help="the model folder to fine-tune (default: the embedded clipart-mini); export mixes "
                             "with the weights the run started from")  # fmt: skip
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--eps", type=float, default=EPS, help="the attack's L2 radius at 64 px")
    parser.add_argument("--loss", choices=("tecoa", "fare"), default=LOSS)
    parser.add_argument("--lock-text", action="store_true",
                        help="keep the start's text tower (only the image tower learns)")  # fmt: skip
    parser.add_argument("--mix", type=float, nargs="*", default=[0.5],
                        help="shares of the fine-tune's change that export keeps, one mix each")  # fmt: skip
    args = parser.parse_args()
    if any(not (math.isfinite(s) and 0.0 <= s <= 1.0) for s in args.mix):
        parser.error(f"--mix takes shares from 0 to 1, got {args.mix}")
    if args.recalibrate < 0:
        parser.error(f"--recalibrate takes a number of pictures, 0 or more, got {args.recalibrate}")
    if args.steps < 1 or not (math.isfinite(args.eps) and args.eps > 0):
        parser.error("--steps must be at least 1 and --eps a positive number")
    stages = [args.only] if args.only else list(STAGES)
    try:
        cm.require(args.start / "open_clip_model.safetensors", "--start")
        if "table" in stages:
            print(f"wrote {write_table(args.data)}", flush=True)
        if "train" in stages:
            train(args.work, args.data, args.start, args.steps, args.eps, args.loss, args.lock_text)
        if "export" in stages:
            export(args.work, args.data, args.mix, args.recalibrate)
        if "eval" in stages:
            evaluate(args.work, args.data, args.cache, args.mix)
    except icondata.RecipeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
