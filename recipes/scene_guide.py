"""Teach the guide to read scenes: clipart-mini fine-tuned on pictures laid out by the composer's own rules.

    python recipes/scene_guide.py --work /tmp/scene-guide --data /root/work/cm/data
        # after `python recipes/icondata.py fetch` and clipart_mini.py's data stage (DATA/train_fare.csv)

The composer (clipart/compose.py) lays a scene out from the prompt's words, but the shipped guide learnt one icon
per picture: it reads what a drawing shows and its colours, not where things are, how many, or in what weather, so
its gradients cannot hold or improve a relation, a count or a setting, and its redrawing of a composed start only
blurs it. This recipe fine-tunes the guide on pictures of its own training icons (``icondata.ROLES``' pictorial
sets, never the judges' sets) placed by the composer's own rules (``compose._group``, ``compose._place``,
``compose.SETTINGS``: stages, canvas colours, the generated rain, snow, stars, sand, grass and bubbles drawn by
clipart's rasterizer, the extras' places), with random sizes and shifts, in groups that differ in one way only (the
same things in another relation, setting, count or colour: each other's hard negatives in the contrastive loss);
half of each batch stays rows of the guide's own training data, so that it keeps its vocabulary.

Its walls: the judges (``benchmarks/rprecision-judge``, ``benchmarks/scene-judge``) trained on other icon sets and
composed by ``recipes/scene_judge.py``'s rules, never these; the scene benchmark's prompts choose nothing here (the
things are all of the guide's vocabulary, the relation and setting words all the composer's); a hashed eighth of the
things (by head noun, salted apart from the judge's) is never composed and is this recipe's own check (``eval``:
forced choice among held-out groups, the shipped guide beside the fine-tuned one).

The fine-tune alone reads scenes best but forgets some of its icons (zero-shot on the held-out styles falls 7 to
8 points), so ``export`` also writes a weight-space mix of the two (WiSE-FT, Wortsman et al., CVPR 2022): the base
plus ``--mix`` of the fine-tune's change (:data:`MIX`: the largest tenth whose zero-shot on the held-out styles that
choose stages, twemoji and emojione-monotone, stayed within 2 points of the base). ``--anchor W`` adds W
times the drift of its own rows' embeddings from the base's to the loss (at 10 zero-shot fell 4.5 to 5 points instead
of 7 to 8, and most of the scene skill stayed). Neither ships yet: on the scene benchmark the
default's redraw gains nothing a reader sees with them (BENCHMARKS.md, "Scenes").

Stages: ``sprites``, ``train`` (resumable), ``export`` (the fine-tune to WORK/tuned, the mix to WORK/mix, or to
``--target``: the embedded clipart-mini folder would ship it), ``eval`` (forced choice on held-out groups: base,
fine-tune, mix). Run it after ``clipart_mini.py``: the first run keeps the weights it starts from in WORK/base, and
refuses weights that already hold this stage.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path

import icondata
import scene_judge as sj

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipart import compose  # noqa: E402

GUIDE = ROOT / "clipart" / "models" / "embedded" / "clipart-mini"
SEED = 11
STEPS = 1200
# a batch: scene_judge's GROUPS groups of PER_GROUP pictures, and its PLAIN rows of the guide's own
PER_GROUP = sj.PER_GROUP
LR = 5e-5
ANCHOR = 0.0  # weight of its own rows' drift from the base's embeddings (scene_judge.fine_tune)
MIX = 0.4  # the share of the fine-tune's change in the mix (module docstring)
STAGE = "scenes"  # the safetensors metadata mark of weights that hold this stage
CANVAS = 128  # composed at this size, then reduced to the guide's 64 px
HELD_OUT = 8
STAGES = ("sprites", "train", "export", "eval")
ROLES = {p: "pictorial" for p in icondata.PICTORIAL_COLOUR + icondata.PICTORIAL_MONO}
RELATIONS = tuple(
    k for k in compose.RULES if k not in ("and", "with")
)  # "and", "with": true of any two things
EXTRAS = frozenset(concept for s in compose.SETTINGS.values() for concept, *_ in s.icons)
# distinct colour classes (no "gray" beside "grey": a group's colours must be each other's negatives)
COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "grey", "gold",
           "silver")  # fmt: skip
_ADDED = {w for phrases in (*compose.RELATION_WORDS.values(), *compose.SETTING_WORDS.values()) for p in phrases
          for w in p.split()} - {"the", "a"}  # fmt: skip


def is_thing(concept: str) -> bool:
    """A concept to compose: the judge recipe's rule, and none of the composer's relation or setting words."""
    return sj.is_thing(concept) and not any(w in _ADDED or w in compose.COLOUR_WORDS for w in concept.split())


def held_out(concept: str) -> bool:
    """The eighth of the things never composed in training (by the head noun's hash, salted apart from the
    judge's); setting extras are props of both sides."""
    return concept not in EXTRAS and sj._hash("guide held out", concept.split()[-1]) % HELD_OUT == 0


def _phrase(rng: random.Random, text: str) -> str:
    return rng.choice(("{}", "{}", "{}", "a drawing of {}", "an illustration of {}", "{}, clip art")).format(
        text
    )


def _px(box: compose.Box) -> compose.Box:
    return tuple(v * CANVAS for v in box)  # type: ignore[return-value]


def _aspect(sprite) -> float:  # noqa: ANN001 - a PIL image
    return sprite.width / sprite.height


def _stage(setting: str | None, rng: random.Random) -> compose.Box:
    """The setting's stage (or the plain one), shrunk by up to a quarter and shifted within itself."""
    x0, y0, x1, y1 = compose.SETTINGS[setting].stage if setting else compose.STAGE
    k = rng.uniform(0.75, 1.0)
    w, h = (x1 - x0) * k, (y1 - y0) * k
    dx, dy = rng.uniform(0, x1 - x0 - w), rng.uniform(0, y1 - y0 - h)
    return (x0 + dx, y0 + dy, x0 + dx + w, y0 + dy + h)


def _lighten(sprite):  # noqa: ANN001, ANN202 - a PIL image
    """Near-black pixels made light, as the composer turns near-black strokes on a dark canvas."""
    import numpy as np
    from PIL import Image

    a = np.array(sprite)
    dark = a[..., :3].max(axis=-1) < 46
    a[dark, :3] = 217
    return Image.fromarray(a)


def _canvas(setting: str | None, rng: random.Random, sprites: sj.Sprites, pale: bool = False):  # noqa: ANN202
    """The setting's canvas: its colour (a little varied), its generated strokes, its extras where the composer
    puts them (the guide's own sprites of those concepts, somewhat moved); white (pale under a white thing)."""
    import torch
    from PIL import Image

    from clipart.render import render

    if setting is None:
        grey = compose.PALE if pale else compose.WHITE
        return Image.new("RGBA", (CANVAS, CANVAS), tuple(round(c * 255) for c in grey) + (255,))
    s = compose.SETTINGS[setting]
    rgb = [min(1.0, max(0.0, c + rng.uniform(-0.05, 0.05))) for c in s.background]
    canvas = torch.tensor(rgb).view(3, 1, 1).expand(3, CANVAS, CANVAS)
    generated = compose._generated(s.strokes, rng.randrange(2**31))
    if generated is not None:
        with torch.no_grad():
            layer = render(generated, CANVAS, alpha=True)
        canvas = canvas * (1 - layer[3:]) + layer[:3]
    image = Image.fromarray((canvas.permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy(), "RGB")
    image = image.convert("RGBA")
    for concept, x, y, size in s.icons:
        if concept in sprites.colour and rng.random() < 0.9:
            side = size * rng.uniform(0.8, 1.2) * CANVAS
            cx, cy = (x + rng.uniform(-0.05, 0.05)) * CANVAS, (y + rng.uniform(-0.05, 0.05)) * CANVAS
            sj._paste(
                image,
                rng.choice(sprites.colour[concept]),
                (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2),
            )
    return image


def picture(
    things: list[tuple[object, int]],
    relation: str | None,
    setting: str | None,
    rng: random.Random,
    sprites: sj.Sprites,
    pale: bool = False,
):  # noqa: ANN201 - a PIL image
    """``things`` ((sprite, count), one or two) laid out as the composer lays them: each thing's instances by
    ``compose._group``, the second placed by ``relation``'s rule against the first, the whole fitted to the
    (varied) stage of ``setting``, drawn in the composer's order on the setting's canvas."""
    canvas = _canvas(setting, rng, sprites, pale)
    dark = setting is not None and compose._lightness(compose.SETTINGS[setting].background) < 0.35
    groups = [compose._group(n, _aspect(sprite)) for sprite, n in things]
    relations = (compose.Relation(0, relation, 1),) if relation else ()
    boxes, order = compose._place([compose._aspect(compose._bounds(g)) for g in groups], relations)
    whole = compose._bounds(boxes)
    ground = setting is not None and compose.SETTINGS[setting].ground
    target = compose._fit_box(whole, _stage(setting, rng), ground)
    for j in order:
        sprite = _lighten(things[j][0]) if dark else things[j][0]
        box = compose._map(boxes[j], whole, target)
        for instance in groups[j]:
            sj._paste(canvas, sprite, _px(compose._map(instance, compose._bounds(groups[j]), box)))
    return canvas


def _count_text(rng: random.Random, n: int, thing: str) -> str:
    if n == 1:
        return sj.article(thing)
    if n == 12 and rng.random() < 0.5:
        return f"a dozen {sj.plural(thing)}"
    return f"{rng.choice((sj.NUMBER_WORDS[n], str(n)))} {sj.plural(thing)}"


def compose_group(kind: str, rng: random.Random, sprites: sj.Sprites, split: str) -> list[tuple[object, str]]:
    """``PER_GROUP`` pictures (RGB, 64 px) with their captions: the same things differing in ``kind``."""
    from PIL import Image

    things = sprites.things[split]
    a = rng.choice(things)
    sprite_a = rng.choice(sprites.colour[a])
    out = []
    if kind == "relation":
        b = rng.choice([t for t in things if t != a])
        sprite_b = rng.choice(sprites.colour[b])
        for relation in rng.sample(RELATIONS, PER_GROUP):
            word = rng.choice(compose.RELATION_WORDS[relation])
            image = picture([(sprite_a, 1), (sprite_b, 1)], relation, None, rng, sprites)
            out.append((image, _phrase(rng, f"{sj.article(a)} {word} {sj.article(b)}")))
    elif kind == "setting":
        for setting in rng.sample([*compose.SETTINGS, None], PER_GROUP):
            text = sj.article(a) + (
                "" if setting is None else " " + rng.choice(compose.SETTING_WORDS[setting])
            )
            out.append((picture([(sprite_a, 1)], None, setting, rng, sprites), _phrase(rng, text)))
    elif kind == "count":
        for n in rng.sample(range(1, compose.MAX_COUNT + 1), PER_GROUP):
            out.append(
                (picture([(sprite_a, n)], None, None, rng, sprites), _phrase(rng, _count_text(rng, n, a)))
            )
    else:  # colour: a monochrome icon in the colour, or a colour icon recoloured
        mono = rng.random() < 0.5 and bool(sprites.mono_things[split])
        pool = sprites.mono_things[split] if mono else things
        a = rng.choice(pool)
        base = rng.choice((sprites.mono if mono else sprites.colour)[a])
        for name in rng.sample(COLOURS, PER_GROUP):
            rgb = tuple(round(c * 255) for c in compose.COLOURS[name])
            image = picture(
                [(sj.tint(base, rgb, flat=mono), 1)],
                None,
                None,
                rng,
                sprites,
                pale=name in ("white", "silver"),
            )
            out.append((image, _phrase(rng, f"{sj.article(name)} {a}")))
    return [(image.convert("RGB").resize((64, 64), Image.Resampling.LANCZOS), text) for image, text in out]


def plain_rows(data: Path) -> list[tuple[str, str]]:
    """The guide's own training rows (``DATA/train_fare.csv``: path relative to DATA, caption)."""
    table = data / "train_fare.csv"
    if not table.is_file():
        raise icondata.RecipeError(f"{table} is missing: run recipes/clipart_mini.py's data stage first")
    with open(table, newline="", encoding="utf-8") as handle:
        return [(str(data / row["filepath"]), row["caption"]) for row in csv.DictReader(handle)]


def train(
    work: Path, sprites: sj.Sprites, data: Path, steps: int, base: Path, anchor: float = ANCHOR
) -> Path:
    """Fine-tune the guide at ``base`` on composed groups and its own rows; resume from ``work/run/last.pt``."""
    batch = sj.mixed_batches(compose_group, sprites, plain_rows(data))
    return sj.fine_tune(work, base, batch, steps, lr=LR, seed=SEED, anchor=anchor, anchored=sj.PLAIN)


def keep_base(work: Path, base: Path) -> Path:
    """The weights this stage starts from: ``base`` copied to WORK/base at the first run (so that a run after the
    export, which overwrites the embedded model, starts from the same weights), that copy afterwards."""
    import shutil

    from safetensors import safe_open

    kept = work / "base"
    if kept.is_dir():
        return kept
    weights = base / "open_clip_model.safetensors"
    missing = [n for n in ("open_clip_model.safetensors", "open_clip_config.json", "ATTRIBUTION.md")
               if not (base / n).is_file()]  # fmt: skip
    if missing:
        raise icondata.RecipeError(
            f"{base / missing[0]} is missing: give --base an open_clip folder with its attribution"
        )
    with safe_open(str(weights), "pt") as handle:
        if (handle.metadata() or {}).get("stage") == STAGE:
            raise icondata.RecipeError(
                f"{base} already holds the scene stage: give --base the weights recipes/clipart_mini.py exported"
            )
    partial = work / "base.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in ("open_clip_model.safetensors", "open_clip_config.json", "ATTRIBUTION.md"):
        shutil.copy(base / name, partial / name)
    partial.rename(kept)
    return kept


def export(work: Path, steps: int, base: Path, target: Path, mix: float = MIX) -> None:
    """The fine-tune as it is (fp16) to WORK/tuned, and to ``target`` the base plus ``mix`` of its change, fp16,
    marked as holding this stage, with the base's config and attribution (each file replaced atomically)."""
    import os
    import shutil
    import tempfile

    from safetensors.torch import load_file, save_file

    tuned = work / "tuned"
    sj.export(work, steps, base, tuned)
    start = load_file(str(base / "open_clip_model.safetensors"))
    end = load_file(str(tuned / "open_clip_model.safetensors"))
    weights = {
        k: (start[k].float() + mix * (end[k].float() - start[k].float())).half().contiguous() for k in start
    }
    target.mkdir(parents=True, exist_ok=True)
    for name in ("open_clip_model.safetensors", "open_clip_config.json", "ATTRIBUTION.md"):
        handle, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.")
        os.close(handle)
        try:
            if name.endswith(".safetensors"):
                save_file(weights, tmp, metadata={"format": "pt", "stage": STAGE, "mix": str(mix)})
            else:
                shutil.copy(base / name, tmp)
            os.chmod(tmp, 0o644)  # mkstemp's file is private; the model folder is read by everyone
            os.replace(tmp, target / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def main() -> int:
    """sprites → train → export → eval (or one of them with --only)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--data", type=Path, help="clipart_mini.py's data folder (holds train_fare.csv)")
    parser.add_argument("--cache", type=Path, default=Path("~/.cache/clipart-data").expanduser())
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--only", choices=STAGES)
    parser.add_argument("--anchor", type=float, default=ANCHOR,
                        help="weight of the drift of its own rows' embeddings from the base's (0: none)")  # fmt: skip
    parser.add_argument("--base", type=Path, default=GUIDE,
                        help="the weights to start from (default: the embedded clipart-mini, as clipart_mini.py exports it)")  # fmt: skip
    parser.add_argument("--target", type=Path,
                        help="where export writes the mixed weights (default: WORK/mix; the embedded clipart-mini "
                             "folder to ship them)")  # fmt: skip
    parser.add_argument(
        "--mix", type=float, default=MIX, help="the share of the fine-tune's change that export keeps"
    )
    parser.add_argument(
        "--preview", type=Path, help="write a sheet of composed training groups here and stop"
    )
    args = parser.parse_args()
    stages = [args.only] if args.only else list(STAGES)
    if not 0.0 <= args.mix <= 1.0:
        parser.error(f"--mix is a share from 0 to 1, got {args.mix}")
    sprite_dir = args.work / "sprites"
    try:
        if "train" in stages and not args.data and not args.preview:
            raise icondata.RecipeError("train needs --data (clipart_mini.py's data folder)")
        if not sprite_dir.exists():
            sj.build_sprites(args.cache, sprite_dir, roles=ROLES, names=frozenset(),
                             keep=lambda c: is_thing(c) or c in EXTRAS)  # fmt: skip
        sprites = sj.Sprites(sprite_dir, EXTRAS, held_out, is_thing)
        print(
            f"{len(sprites.things['train'])} things to compose, {len(sprites.things['eval'])} held out",
            flush=True,
        )
        if args.preview:
            sj.preview(sprites, args.preview, compose_group, SEED)
            return 0
        base = keep_base(args.work, args.base)
        target = args.target or args.work / "mix"
        if "train" in stages:
            train(args.work, sprites, args.data, args.steps, base, args.anchor)
        if "export" in stages:
            export(args.work, args.steps, base, target, args.mix)
            print(f"wrote {args.work / 'tuned'} and, with {args.mix} of its change, {target}")
        if "eval" in stages:
            for folder in (args.work / "tuned", target):
                if not (folder / "open_clip_model.safetensors").is_file():
                    raise icondata.RecipeError(f"{folder} holds no weights: run the export stage first")
            scores = {name: sj.evaluate(folder, sprites, compose=compose_group, seed=SEED)
                      for name, folder in (("base", base), ("fine-tune", args.work / "tuned"),
                                           ("mix", target))}  # fmt: skip
            for name, score in scores.items():
                print(
                    f"{name}: held-out forced choice " + ", ".join(f"{k} {v:.1%}" for k, v in score.items())
                )
            (args.work / "eval.json").write_text(json.dumps(scores, indent=1), encoding="utf-8")
    except icondata.RecipeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
