"""``clipart train`` and ``clipart eval``: argparse over :mod:`clipart.train`'s public API.

Only the standard library is imported at start; torch and open_clip load inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import clipart.train
from clipart import ConfigError

_TRAIN_EPILOG = """examples:
  clipart train --data pairs.csv --model ViT-B-32 --pretrained openai --epochs 5 --batch-size 256 --out runs/art
  clipart train --data 'shards/{00000..00127}.tar' --model recipes/clipart-mini.json --steps 20000 --out runs/mini
  clipart train --data pairs.csv --model local-dir:runs/mini/export --adv-eps 1.0 --adv-loss fare --out runs/robust
  torchrun --nproc_per_node 8 -m clipart train ...      (same command; --batch-size is the global batch)
  clipart train --resume runs/mini                      (continues exactly where it stopped)"""


def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train or fine-tune a CLIP model on image–caption pairs",
        description="Contrastive image–text training (CLIP) from scratch or from any open_clip model.",
        epilog=_TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", help="CSV/TSV of image paths and captions, an image folder with .txt captions, "
                   "or webdataset shards ('shards/{00000..00127}.tar')")  # fmt: skip
    g.add_argument("--format", dest="data_format", choices=("auto", "csv", "folder", "webdataset"))
    g.add_argument("--image-column", help="CSV column of image paths (filepath)")
    g.add_argument("--caption-column", help="CSV column of captions (caption)")
    g.add_argument("--samples-per-epoch", type=int, help="shards: samples per epoch (default: counted)")
    g.add_argument("--shuffle-buffer", type=int, help="shards: shuffle buffer per loader worker (1000)")
    g.add_argument("--workers", type=int, help="data-loader worker processes per training process (2)")
    g.add_argument("--max-bad-fraction", type=float, help="stop when more samples are unreadable (0.1)")
    g = p.add_argument_group("model")
    g.add_argument("--model", help="open_clip architecture, JSON config file or local-dir:FOLDER (ViT-B-32)")
    g.add_argument("--pretrained", help="pretrained tag or weights file to start from (default: random init)")
    g.add_argument("--lock-image", action="store_true", help="freeze the image tower")
    g.add_argument("--lock-text", action="store_true", help="freeze the text tower")
    g = p.add_argument_group("optimisation")
    g.add_argument("--steps", type=int, help="optimiser steps (or give --epochs; default 1 epoch)")
    g.add_argument("--epochs", type=int, help="passes over the data")
    g.add_argument("--batch-size", type=int, help="global batch per step, over all processes (64)")
    g.add_argument("--accum", type=int, help="gradient-accumulation micro-batches per step (1)")
    g.add_argument("--lr", type=float, help="peak learning rate (5e-4)")
    g.add_argument("--weight-decay", type=float, help="AdamW weight decay on matrices (0.2)")
    g.add_argument("--warmup", type=int, help="linear warm-up steps before the cosine decay (100)")
    g.add_argument("--grad-clip", type=float, help="gradient-norm clip, 0 for none (1.0)")
    g.add_argument("--aug-crop", type=float, nargs=2, metavar=("MIN", "MAX"),
                   help="area range of the random resized crop (0.9 1.0, open_clip's)")  # fmt: skip
    g.add_argument("--aug-perspective", type=float, metavar="D",
                   help="random perspective warp of distortion D on half the images, as drawing views (0: off)")  # fmt: skip
    g.add_argument("--caption-variants", type=float, metavar="P",
                   help="rewrite each caption as people type it (capitals, '.', '!', articles, ', digital art') "
                   "with probability P (0: off)")  # fmt: skip
    g = p.add_argument_group(
        "adversarial fine-tuning",
        "PGD in pixel space hardens the image tower, so that its gradients change what a person sees (a better "
        "guide for drawing). tecoa trains the contrastive loss on attacked images; fare keeps the attacked "
        "embedding near the starting model's clean one (needs starting weights: --pretrained, clipart-mini, local-dir:, a checkpoint), beside the contrastive loss on "
        "clean images. Each attack step costs about one more forward and backward pass of the image tower.",
    )
    g.add_argument("--adv-eps", type=float, metavar="EPS",
                   help="attack radius in pixel units (images in [0, 1]), e.g. 1.0 for l2 or 0.0157 (4/255) for "
                   "linf at 64 px; off when omitted")  # fmt: skip
    g.add_argument("--adv-norm", choices=("l2", "linf"), help="norm of the attack radius (l2)")
    g.add_argument("--adv-steps", type=int, metavar="N", help="PGD steps per micro-batch (2)")
    g.add_argument("--adv-step-size", type=float, metavar="A", help="PGD step (2.5 x EPS / N)")
    g.add_argument(
        "--adv-loss", choices=("tecoa", "fare"), help="what the attack raises and training lowers (tecoa)"
    )
    g.add_argument("--adv-weight", type=float, metavar="W", help="fare: weight of the embedding term (1.0)")
    g = p.add_argument_group("run")
    g.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"),
                   help="auto: bf16 on CUDA, fp32 on CPU")  # fmt: skip
    g.add_argument("--seed", type=int, help="seed of initialisation, data order and augmentation (0)")
    g.add_argument("--device", help="auto, cpu, cuda[:N]; under torchrun auto and cuda mean cuda:LOCAL_RANK "
                   "(and several processes refuse another cuda:N)")  # fmt: skip
    g = p.add_argument_group("run folder")
    g.add_argument("--out", help="run folder: config.json, metrics.jsonl, checkpoints/, export/")
    g.add_argument("--resume", metavar="RUN", help="continue the run in this folder")
    g.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (1000; always at the end)")
    g.add_argument("--keep-checkpoints", type=int, help="checkpoints kept (2)")
    g.add_argument("--log-every", type=int, help="steps between metric lines (10)")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    g = p.add_argument_group("evaluation during training")
    g.add_argument("--eval-every", type=int, help="steps between evaluations (default: only at the end)")
    g.add_argument("--eval-zeroshot", metavar="DATA", help="labelled folder or CSV for zero-shot accuracy")
    g.add_argument("--eval-retrieval", metavar="DATA", help="CSV of held-out pairs for recall@K")
    g.add_argument("--template", dest="eval_templates", action="append", metavar="TEXT",
                   help="zero-shot prompt with {} for the class (repeat for an ensemble)")  # fmt: skip
    p.set_defaults(func=_cmd_train)


def _add_eval(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluate a CLIP model: zero-shot accuracy or retrieval recall")
    kinds = p.add_subparsers(dest="eval_kind", metavar="KIND")
    kinds.required = True
    z = kinds.add_parser(
        "zeroshot",
        help="top-1/top-5 zero-shot classification",
        description="Zero-shot accuracy on a folder of class sub-folders or a CSV with a label column.",
    )
    r = kinds.add_parser(
        "retrieval",
        help="recall@1/5/10 image→text and text→image",
        description="Retrieval recall@K both ways on a CSV/TSV of held-out images and captions.",
    )
    for q in (z, r):
        q.add_argument("--model", required=True,
                       help="clipart-mini, an open_clip name[::TAG], hf-hub:, local-dir:FOLDER, a checkpoint or JSON config")  # fmt: skip
        q.add_argument("--pretrained", help="pretrained tag or weights file")
        q.add_argument("--data", required=True, help="labelled folder or CSV/TSV")
        q.add_argument("--image-column", default="filepath", help="CSV column of image paths (filepath)")
        q.add_argument("--batch-size", type=int, default=64, help="images per forward pass (64)")
        q.add_argument("--workers", type=int, default=0, help="image-loading worker processes (0)")
        q.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda")
        q.add_argument("--json", action="store_true", help="print the result as one JSON object")
    z.add_argument("--label-column", default="label", help="CSV column of class names (label)")
    z.add_argument("--template", dest="templates", action="append", metavar="TEXT",
                   help="prompt with {} for the class; repeat for an ensemble (a photo of a {}.)")  # fmt: skip
    z.add_argument("--punctuated", action="store_true",
                   help="also score the templates as people type them: with a full stop, and capitalised with '!'")  # fmt: skip
    r.add_argument("--caption-column", default="caption", help="CSV column of captions (caption)")
    p.set_defaults(func=_cmd_eval)


def register(subparsers: Any) -> None:
    """Add the ``train`` and ``eval`` sub-commands to an argparse subparsers object."""
    _add_train(subparsers)
    _add_eval(subparsers)


def _train_settings(args: argparse.Namespace) -> dict[str, Any]:
    import dataclasses

    fields = {f.name for f in dataclasses.fields(clipart.train.TrainConfig)}
    settings = {k: v for k, v in vars(args).items() if k in fields}
    if getattr(args, "quiet", False):
        settings["progress"] = False
    if settings.get("grad_clip") == 0:
        settings["grad_clip"] = None
    return settings


def _cmd_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    settings = _train_settings(args)
    resume = getattr(args, "resume", None)
    if resume:
        out = settings.get("out")
        if out and Path(out).resolve() != Path(resume).resolve():
            raise ConfigError(f"--out {out} and --resume {resume} name different folders: give only --resume")
        config = clipart.train.resume_config(resume, settings)
    else:
        missing = [f"--{k}" for k in ("data", "out") if k not in settings]
        if missing:
            raise ConfigError(
                f"clipart train needs {' and '.join(missing)} (or --resume RUN to continue a run)"
            )
        config = clipart.train.TrainConfig(**settings)
    main_rank = os.environ.get("RANK", "0") == "0"
    try:
        export = clipart.train.train(config, resume=bool(resume))
    except KeyboardInterrupt:
        if main_rank:
            print(
                f"\nclipart: interrupted; continue with: clipart train --resume {config.out}", file=sys.stderr
            )
        return 130
    if main_rank:
        print(export)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be 1 or more, got {args.batch_size}")
    if args.workers < 0:
        raise ConfigError(f"--workers must be 0 or more, got {args.workers}")

    common = dict(
        pretrained=args.pretrained,
        image_column=args.image_column,
        batch_size=args.batch_size,
        workers=args.workers,
        device=args.device,
    )
    if args.eval_kind == "zeroshot":
        templates = args.templates or ["a photo of a {}."]
        result = clipart.train.evaluate_zeroshot(
            args.model,
            args.data,
            templates,
            label_column=args.label_column,
            punctuated=args.punctuated,
            **common,
        )
        text = (
            f"zero-shot top-1 {result['top1']:.4f}  top-5 {result['top5']:.4f}  "
            f"({result['images']} images, {result['classes']} classes, {len(templates)} template(s))"
        )
        for name, scores in result.get("punctuated", {}).items():
            text += f"\n  {name.replace('_', ' '):10s} top-1 {scores['top1']:.4f}  top-5 {scores['top5']:.4f}"
    else:
        result = clipart.train.evaluate_retrieval(
            args.model, args.data, caption_column=args.caption_column, **common
        )
        text = "  ".join(f"{k} {v:.4f}" for k, v in result.items() if isinstance(v, float))
        text += f"  ({result['images']} images, {result['texts']} captions)"
    if result["unreadable"]:
        print(f"clipart: warning: skipped {result['unreadable']} unreadable image(s)", file=sys.stderr)
    print(json.dumps(result) if args.json else text)
    return 0
