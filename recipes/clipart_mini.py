"""Reproduce clipart-mini 2, the embedded model: build the data, train, export fp16, evaluate.

    python recipes/icondata.py fetch                                   # once, needs npm and the network
    python recipes/clipart_mini.py --work /tmp/clipart-mini            # everything else, offline

Training stages, each one `clipart train` run with fixed seeds (commands are printed before they run; each stage's
time on 2 CPU cores and its figures are in the model card's Training and Evaluation sections,
clipart/models/embedded/clipart-mini/MODEL_CARD.md):

1. ``base``: clipart-mini 1 from scratch on its own data (Noto emoji, shapes, colours, handwritten digits).
   ``--base FILE`` skips it and starts stage 2 from those weights (the safetensors of clipart-mini 1 as released
   in clipart 0.1.0 are exactly what this stage writes).
2. ``train``: fine-tune on the icon corpus (recipes/icondata.py: open icon and emoji sets from npm, two whole
   sets and 75 nouns held out) mixed with clipart-mini 1's shapes, colours and digits so that nothing it knew
   is lost, plus renders of random strokes captioned as scribbles.
3. ``negatives`` and ``harden``: the guide of stage 2 draws 400 random concepts of its training captions
   (recipes/negatives.py), and an 800-step run from its weights learns those drawings as "a messy scribble"
   beside the same data: a guide that has learnt its own scribbles as such stops rewarding them, and its drawings
   must look more like the thing asked for.
4. ``negatives2`` and ``cycle``: the hardened guide draws the same 400 concepts (rendered at 96 px, downsampled),
   and a second cosine cycle of 3,200 steps from its weights learns the mix beside them.
5. ``negatives3`` and ``harden2``: that guide draws them again and is hardened as in stage 3.
6. ``lineart`` and ``lines``: the colour training icons traced as black line art (recipes/lineart.py), and 1,600
   steps at a fine-tuning rate from the hardened weights learn them beside stage 5's table: monochrome pictures
   of every emoji concept in several styles, where the corpus had one.
7. ``negatives4``, ``variants`` and ``styles``: that guide draws the 400 concepts once more, the colour icons are
   mirrored and drawn as black glyphs (recipes/variants.py), and 1,600 steps as in stage 6 from its weights learn
   them beside the mix, those negatives and the line art: a thing facing either way, and the silhouette style of
   monochrome emoji sets.
8. ``tones`` and ``tone``: the colour icons drawn in a few flat colours and in greyscale (recipes/tones.py), and
   1,600 steps as in stage 7 from its weights learn them beside stage 7's table: a thing without its shading, and
   without its colours. ``tone2``: the same run again from its weights in another data order.

Then ``export`` writes the mean of the ``tone`` and ``tone2`` weights (a uniform model soup of two runs on the same
table; BENCHMARKS.md, "The shipped weights: the mean of stages 8 and 9", compares it with ``tone2`` alone) into the
package in fp16, and ``eval`` runs `clipart eval zeroshot` on every held-out set and on the check set (emojione's
colour emoji, rendered whole on first use: never trained on, and never used to choose between weights). The
architecture is recipes/clipart-mini.json. Needs `pip install -e ".[train]"`, `pip install resvg-py` and
`apt-get install fonts-noto-color-emoji`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import icondata
import lineart
import minidata
import negatives
import tones
import variants

from clipart.output import atomic_write

ROOT = Path(__file__).resolve().parent.parent
MODEL_JSON = ROOT / "recipes" / "clipart-mini.json"
TARGET = ROOT / "clipart" / "models" / "embedded" / "clipart-mini"
SEED = 0
BASE_DATA_ARGS = ["--seed", str(SEED), "--size", "64", "--per-emoji", "32", "--shapes", "12000", "--per-digit", "4",
                  "--pairs", "4000", "--workers", "2"]  # fmt: skip
BASE_TRAIN_ARGS = ["--model", str(MODEL_JSON), "--batch-size", "256", "--steps", "3600", "--lr", "1e-3",
                   "--warmup", "200", "--weight-decay", "0.1", "--workers", "1", "--seed", str(SEED),
                   "--checkpoint-every", "600", "--quiet"]  # fmt: skip
MINI_DATA_ARGS = ["--seed", str(SEED), "--size", "64", "--per-emoji", "2", "--shapes", "12000", "--per-digit", "4",
                  "--pairs", "0", "--workers", "1", "--quiet"]  # fmt: skip
TRAIN_ARGS = ["--model", str(MODEL_JSON), "--batch-size", "256", "--steps", "1800", "--lr", "5e-4",
              "--warmup", "120", "--weight-decay", "0.1", "--workers", "1", "--seed", str(SEED),
              "--checkpoint-every", "200", "--keep-checkpoints", "2", "--quiet"]  # fmt: skip
# Hardening (recipes/negatives.py): the trained guide draws 400 random training concepts, and a short run from its
# weights learns those drawings as "a messy scribble" (listed NEGATIVE_REPEAT times) beside train_mix.csv.
NEGATIVE_DRAWINGS = 400
NEGATIVE_REPEAT = 3
HARDEN_ARGS = ["--model", str(MODEL_JSON), "--batch-size", "256", "--steps", "800", "--lr", "2e-4",
               "--warmup", "50", "--weight-decay", "0.1", "--workers", "1", "--seed", str(SEED),
               "--checkpoint-every", "200", "--keep-checkpoints", "2", "--quiet"]  # fmt: skip
# A second cosine cycle (warm restart) from the hardened weights on train_mix.csv and fresh negatives that the
# hardened guide drew: 3,200 steps at stage 2's peak rate in another data order; then its own negatives harden it.
CYCLE_ARGS = ["--model", str(MODEL_JSON), "--batch-size", "256", "--steps", "3200", "--lr", "5e-4",
              "--warmup", "120", "--weight-decay", "0.1", "--workers", "1", "--seed", str(SEED + 1),
              "--checkpoint-every", "400", "--keep-checkpoints", "2", "--quiet"]  # fmt: skip
# Rounds after stage 2, in order: (stage that draws negatives, their folder under data/, the size they are drawn
# at, stage that trains on them, its run folder, its options). Each round's negatives are drawn by the guide that
# the run before it trained; the second round's at 96 px and downsampled to 64 px, as the shipped weights had them.
ROUNDS = (
    ("negatives", "negatives", 64, "harden", "run-hard", HARDEN_ARGS),
    ("negatives2", "negatives2", 96, "cycle", "run-cycle", CYCLE_ARGS),
    ("negatives3", "negatives3", 64, "harden2", "run-hard2", HARDEN_ARGS),
)


def fine_tune_args(seed: int) -> list[str]:
    """The options of the stages after the second hardening: 1,600 steps at a fine-tuning rate, in the data order
    of ``seed``."""
    return ["--model", str(MODEL_JSON), "--batch-size", "256", "--steps", "1600", "--lr", "2e-4", "--warmup", "50",
            "--weight-decay", "0.1", "--workers", "1", "--seed", str(seed), "--checkpoint-every", "400",
            "--keep-checkpoints", "2", "--quiet"]  # fmt: skip


# The hardened guide learns the line-art renders beside harden2's table.
LINES_ARGS = fine_tune_args(SEED + 2)
# Then the lines guide draws a fourth round of negatives, and the same rate and length (another data order) teach
# it mirror images and black glyphs of the colour icons (recipes/variants.py) beside the mix, those negatives and
# the line art.
STYLES_ARGS = fine_tune_args(SEED + 3)
# Then, from the styles guide, flat-colour and greyscale renders of the colour icons (recipes/tones.py) beside the
# styles stage's table, and a second run of the same from those weights in another data order.
TONE_ARGS = fine_tune_args(SEED + 4)
TONE2_ARGS = fine_tune_args(SEED + 5)
REPEAT = {"digits": 3, "shapes": 2}  # rows of mini/images/<part>/ listed this many times in train_mix.csv
MINI_EVAL_SETS = ("colours", "shapes", "digits")
STAGES = ("base", "data", "train", *(name for r in ROUNDS for name in (r[0], r[3])), "lineart", "lines", "negatives4",
          "variants", "styles", "tones", "tone", "tone2", "export", "eval")  # fmt: skip


def clipart(*args: str) -> subprocess.CompletedProcess[str]:
    """Run one `clipart` command, echoing it; stop the recipe if it fails."""
    command = [sys.executable, "-m", "clipart", *args]
    print("$ clipart " + shlex.join(args), flush=True)
    done = subprocess.run(command, text=True, stdout=subprocess.PIPE)
    print(done.stdout, end="", flush=True)
    if done.returncode:
        raise SystemExit(done.returncode)
    return done


def build_minidata(*args: str) -> None:
    """Run the clipart-mini 1 data builder (recipes/minidata.py), echoing it; stop the recipe if it fails."""
    print("$ python recipes/minidata.py " + shlex.join(args), flush=True)
    code = minidata.main(list(args))
    if code:
        raise SystemExit(code)


def write_mix(data: Path) -> Path:
    """train_mix.csv: the icon corpus's training rows and clipart-mini 1's (digits and shapes repeated)."""
    rows: list[list[str]] = []
    with open(data / "icons" / "train.csv", newline="", encoding="utf-8") as handle:
        rows += [[f"icons/{r['filepath']}", r["caption"]] for r in csv.DictReader(handle)]
    with open(data / "mini" / "train.csv", newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if icondata.held_out_noun(r["caption"].lower()):  # held-out nouns stay unseen (none are, today)
                continue
            rows += [[f"mini/{r['filepath']}", r["caption"]]] * REPEAT.get(r["filepath"].split("/")[1], 1)
    return write_pairs(data / "train_mix.csv", rows)


def write_hard(data: Path, negatives: str = "negatives", stage: str = "negatives") -> Path:
    """train_mix.csv's rows and the rows of ``data/<negatives>/negatives.csv`` (repeated), paths relative to
    ``data``, as ``train_hard.csv`` (``train_<negatives>.csv`` for other negatives); ``stage`` draws them."""
    require(data / "train_mix.csv", "data")
    require(data / negatives / "negatives.csv", stage)
    with open(data / "train_mix.csv", newline="", encoding="utf-8") as handle:
        rows = [[r["filepath"], r["caption"]] for r in csv.DictReader(handle)]
    with open(data / negatives / "negatives.csv", newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            rows += [[f"{negatives}/{r['filepath']}", r["caption"]]] * NEGATIVE_REPEAT
    name = "train_hard.csv" if negatives == "negatives" else f"train_{negatives}.csv"
    return write_pairs(data / name, rows)


def write_lines(data: Path) -> Path:
    """train_lines.csv: the last round's table (train_negatives3.csv) and the line-art renders' rows."""
    last = ROUNDS[-1]
    return write_joined(data / "train_lines.csv", write_hard(data, last[1], last[0]), data, ("lineart",))


def write_styles(data: Path) -> Path:
    """train_styles.csv: train_mix.csv and the fourth round's negatives (train_negatives4.csv), the line-art
    renders' rows and the variants' rows."""
    table = write_hard(data, "negatives4", "negatives4")
    return write_joined(data / "train_styles.csv", table, data, ("lineart", "variants"))


def write_tones(data: Path) -> Path:
    """train_tones.csv: train_styles.csv's rows and the tone variants' rows."""
    return write_joined(data / "train_tones.csv", write_styles(data), data, ("tones",))


def write_joined(out: Path, table: Path, data: Path, parts: tuple[str, ...]) -> Path:
    """``table``'s rows and those of each ``data/<part>/<part>.csv`` (paths prefixed ``<part>/``) into ``out``."""
    for part in parts:
        require(data / part / f"{part}.csv", part)
    rows = []
    for path, prefix in ((table, ""), *((data / p / f"{p}.csv", f"{p}/") for p in parts)):
        with open(path, newline="", encoding="utf-8") as handle:
            rows += [[prefix + r["filepath"], r["caption"]] for r in csv.DictReader(handle)]
    return write_pairs(out, rows)


def draw_negatives(guide: Path, data: Path, folder: str, size: int) -> None:
    """``guide`` draws NEGATIVE_DRAWINGS random training concepts into ``data/<folder>`` (recipes/negatives.py)."""
    out = data / folder
    print("$ python recipes/negatives.py --model " + shlex.join([str(guide), "--captions",
          str(data / "icons" / "train.csv"), "--out", str(out), "--drawings", str(NEGATIVE_DRAWINGS),
          "--render", str(size)]), flush=True)  # fmt: skip
    negatives.build(guide, data / "icons" / "train.csv", out, NEGATIVE_DRAWINGS, SEED, render=size)


def train_from(run: Path, table: Path, weights: Path, options: list[str]) -> None:
    """`clipart train` on ``table`` from the fp16 guide in ``weights`` into ``run``, or resume ``run``."""
    if (run / "config.json").exists():
        clipart("train", "--resume", str(run), "--quiet")
    else:
        clipart("train", "--data", str(table), "--out", str(run), "--pretrained",
                str(weights / "open_clip_model.safetensors"), *options)  # fmt: skip


def require(path: Path, stage: str) -> None:
    """Raise RecipeError (one line: what is missing, which stage makes it) unless ``path`` exists."""
    if not path.exists():
        raise icondata.RecipeError(f"{path} is missing: run the '{stage}' stage first")


def write_pairs(out: Path, rows: list[list[str]]) -> Path:
    """A training table (filepath,caption), written atomically so that an interrupted stage never leaves half of one."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["filepath", "caption"])
    writer.writerows(rows)
    atomic_write(out, text.getvalue().encode("utf-8"))
    return out


def export_fp16(runs: list[tuple[Path, str]], target: Path, attribution: Path) -> None:
    """Copy exported runs into ``target`` as one model with fp16 weights (open_clip upcasts them when loading): the
    mean of the runs' weights (a uniform "model soup"; one run is copied as it is), the first run's config, and the
    icon sets' attribution file beside them (their CC-BY licences ask for it wherever the weights go). Each run comes
    with the stage that trains it, named in the error when it is missing."""
    from safetensors.torch import load_file, save_file

    for run_export, stage in runs:
        require(run_export / "open_clip_model.safetensors", stage)
    require(attribution, "data")

    first = runs[0][0]
    if any((run / "open_clip_config.json").read_text() != (first / "open_clip_config.json").read_text()
           for run, _ in runs):  # fmt: skip
        raise icondata.RecipeError(f"the runs averaged into {target} differ in architecture")
    loaded = [load_file(str(run / "open_clip_model.safetensors")) for run, _ in runs]
    weights = {k: (sum(w[k].float() for w in loaded) / len(loaded)).half().contiguous() for k in loaded[0]}
    target.mkdir(parents=True, exist_ok=True)
    for name, write in (
        ("open_clip_model.safetensors", lambda p: save_file(weights, p, metadata={"format": "pt"})),
        (
            "open_clip_config.json",
            lambda p: Path(p).write_text((first / "open_clip_config.json").read_text()),
        ),
        (
            "ATTRIBUTION.md",
            lambda p: Path(p).write_text(attribution.read_text(encoding="utf-8"), encoding="utf-8"),
        ),
    ):
        handle, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.")
        os.close(handle)
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target / name)


def build_check(cache: Path, data: Path) -> None:
    """Render the check sets (:data:`icondata.CHECK_SETS`) whole into ``data/check``, unless they are there."""
    if not (data / "check").exists():
        roles = {prefix: "held-out" for prefix in icondata.CHECK_SETS}
        icondata.build(
            icondata.fetched(cache), data / "check", SEED, 64, workers=2, roles=roles, scribble_count=0
        )
    for prefix in icondata.CHECK_SETS:
        if not (data / "check" / f"eval_{prefix}.csv").exists():
            raise icondata.RecipeError(
                f"{data / 'check'} lacks the check set {prefix!r}: remove it to rebuild"
            )


def eval_sets(data: Path) -> dict[str, tuple[Path, list[str]]]:
    """Every held-out set and check set: its CSV and the prompt templates to classify it with."""
    sets: dict[str, tuple[Path, list[str]]] = {}
    icons = json.loads((data / "icons" / "manifest.json").read_text())
    for name in [*icondata.HELD_OUT_SETS, "unseen_concepts"]:
        sets[name] = (data / "icons" / f"eval_{name}.csv", icons["eval_templates"])
    for name in icondata.CHECK_SETS:
        sets[name] = (data / "check" / f"eval_{name}.csv", icons["eval_templates"])
    mini = json.loads((data / "mini" / "manifest.json").read_text())
    for name in MINI_EVAL_SETS:
        spec = mini["eval"][name]
        sets[name] = (data / "mini" / spec["csv"], spec["templates"])
    return sets


def evaluate(data: Path, model: Path, out: Path) -> dict[str, dict[str, float]]:
    """Zero-shot top-1/top-5 on every held-out set and check set, over all of its labels."""
    results = {}
    for name, (table, templates) in eval_sets(data).items():
        options = [arg for t in templates for arg in ("--template", t)]
        done = clipart(
            "eval", "zeroshot", "--model", f"local-dir:{model}", "--data", str(table), *options, "--json"
        )
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def main() -> int:
    """Run the recipe's stages (all by default); a missing input or icon set is one line and exit 2."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", required=True, type=Path, help="folder for the data and the training runs")
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/clipart-data").expanduser(),
                        help="where `icondata.py fetch` put the icon sets")  # fmt: skip
    parser.add_argument(
        "--base", type=Path, help="clipart-mini 1 weights to start stage 2 from (skips 'base')"
    )
    parser.add_argument("--only", choices=STAGES, help="run a single stage")
    args = parser.parse_args()
    try:
        run_stages(args)
    except icondata.RecipeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def run_stages(args: argparse.Namespace) -> None:
    """The stages that ``args`` asks for, in order."""
    data, run = args.work / "data", args.work / "run"
    attribution = data / "icons" / "ATTRIBUTION.md"
    stages = [args.only] if args.only else [s for s in STAGES if not (s == "base" and args.base)]
    base = args.base or args.work / "base" / "export" / "open_clip_model.safetensors"
    if "base" in stages:
        build_minidata("--out", str(args.work / "base-data"), *BASE_DATA_ARGS, "--overwrite")
        clipart("train", "--data", str(args.work / "base-data" / "train.csv"), "--out", str(args.work / "base"),
                *BASE_TRAIN_ARGS)  # fmt: skip
    if "data" in stages:
        if not (data / "icons").exists():
            icondata.build(icondata.fetched(args.cache), data / "icons", SEED, 64, workers=2)
        build_minidata("--out", str(data / "mini"), *MINI_DATA_ARGS, "--overwrite")
        write_mix(data)
    if "train" in stages:
        if (run / "config.json").exists():
            clipart("train", "--resume", str(run), "--quiet")
        else:
            clipart("train", "--data", str(data / "train_mix.csv"), "--out", str(run), "--pretrained", str(base),
                    *TRAIN_ARGS)  # fmt: skip
    # The run whose guide draws the next round's negatives, and the stage that trains it.
    before, before_stage = "run", "train"
    for drawn, folder, size, trained, out, options in ROUNDS:
        guide = args.work / f"{before}-fp16"  # that guide as it would ship (fp16)
        if drawn in stages:
            export_fp16([(args.work / before / "export", before_stage)], guide, attribution)
            draw_negatives(guide, data, folder, size)
        if trained in stages:
            train_from(args.work / out, write_hard(data, folder, drawn), guide, options)
        before, before_stage = out, trained
    if "lineart" in stages and not (data / "lineart").exists():
        lineart.build(icondata.fetched(args.cache), data / "lineart", SEED, 64, workers=2)
    if "lines" in stages:
        guide = args.work / f"{before}-fp16"
        export_fp16([(args.work / before / "export", before_stage)], guide, attribution)
        train_from(args.work / "run-lines", write_lines(data), guide, LINES_ARGS)
    lines_guide = args.work / "run-lines-fp16"
    if "negatives4" in stages:
        export_fp16([(args.work / "run-lines" / "export", "lines")], lines_guide, attribution)
        draw_negatives(lines_guide, data, "negatives4", 64)
    if "variants" in stages and not (data / "variants").exists():
        variants.build(icondata.fetched(args.cache), data, data / "variants", SEED, 64, workers=2)
    if "styles" in stages:
        train_from(args.work / "run-styles", write_styles(data), lines_guide, STYLES_ARGS)
    if "tones" in stages and not (data / "tones").exists():
        tones.build(icondata.fetched(args.cache), data / "tones", SEED, 64, workers=2)
    if "tone" in stages:
        guide = args.work / "run-styles-fp16"
        export_fp16([(args.work / "run-styles" / "export", "styles")], guide, attribution)
        train_from(args.work / "run-tone", write_tones(data), guide, TONE_ARGS)
    if "tone2" in stages:
        guide = args.work / "run-tone-fp16"
        export_fp16([(args.work / "run-tone" / "export", "tone")], guide, attribution)
        train_from(args.work / "run-tone2", write_tones(data), guide, TONE2_ARGS)
    if "export" in stages:
        soup = [(args.work / "run-tone" / "export", "tone"), (args.work / "run-tone2" / "export", "tone2")]
        export_fp16(soup, TARGET, attribution)
        print(f"wrote {TARGET}")
    if "eval" in stages:
        build_check(args.cache, data)
        for name, result in evaluate(data, TARGET, args.work / "eval.json").items():
            print(
                f"{name:18s} top-1 {result['top1']:.3f}  top-5 {result['top5']:.3f}  ({result['images']} images)"
            )


if __name__ == "__main__":
    raise SystemExit(main())
