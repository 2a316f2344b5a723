"""Do scene drawings hold what their prompts ask? Counts, colours, relations and settings of the drawings of
benchmarks/scene_prompts.py, read from the composer's bookkeeping (each drawing's ``layout``: which strokes are
which instance of which thing) at the start and after the last step.

    python benchmarks/bench_scenes.py [--limit N] [--steps S] [--preset quick] [--seed 0] [--category colour]
                                      [--set KEY=VALUE ...] [--out DIR]

Per category it prints: prompts read as asked (the things' concepts, counts after the caps, colours, the setting);
instances placed of those asked; instances surviving (most strokes still visible, the centre on the canvas, the
shape kept: points moved apart from the instance's own shift on average at most 3 % of its size, about twice what
the quick preset does to one large icon) at the start and at the end; colours shown (the asked colour leads the
thing's render apart from the background, by hue; black, grey and white by lightness among pixels without hue:
:func:`clipart.compose.shows_colour`); relations holding (each relation's geometric rule, on the things' boxes);
settings shown (the setting's canvas colour, and its extras' strokes still visible). "Start" is the drawing after
its first step (points moved at most one step's rate from the composed start). ``--out`` saves each drawing's PNG
and a contact sheet with the prompts.

``--judge DIR`` also asks a judge CLIP (an open_clip ``local-dir:`` folder; it must never have trained on the icon
bank's sets, as ``recipes/judge.py``'s does not) to choose, for each drawing at the start and at the end, its own
prompt among the prompts of its group (a forced choice; chance is one over the group's size): columns
``choice_start`` and ``choice_end``, and per category the mean margin (the judge's cosine of the drawing with its own
prompt minus that with the best other prompt of the group; above 0: chosen). The end minus the start is what the
optimisation adds. ``--out`` saves the start's PNG too (``-start.png``), and ``--rescore DIR --judge J`` judges the
drawings a run saved there again (the judge columns only: the program's checks need the drawings' layouts), so that
two judges score the very same drawings. Two judges: ``benchmarks/rprecision-judge`` (one icon per picture: it reads
things and colours) and ``benchmarks/scene-judge`` (that judge taught relations, settings, counts and colours on
pictures composed from its own icon sets: ``recipes/scene_judge.py``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rprecision import parse_sets  # noqa: E402
from scene_prompts import PROMPTS, ScenePrompt  # noqa: E402

Box = tuple[float, float, float, float]
MAX_COUNT = 12
# an instance keeps its shape while its points move apart from their common shift on average at most this share
# of its size: about twice what the quick preset's redrawing does to one large icon
KEPT = 0.03


def _mask(n: int, ranges: list[list[int]]) -> torch.Tensor:
    keep = torch.zeros(n, dtype=torch.bool)
    for a, b in ranges:
        keep[a:b] = True
    return keep


def _box(scene, ranges: list[list[int]]) -> Box | None:  # noqa: ANN001 - a Scene
    """The box of the visible strokes' control points in ``ranges``; None when none is visible."""
    keep = _mask(scene.num_strokes, ranges) & (scene.colors[:, 3] >= 0.02)
    if not bool(keep.any()):
        return None
    idx = keep.nonzero().flatten().tolist()
    pts = torch.cat([scene.points[k, : 3 * int(scene.segments[k]) + 1] for k in idx])
    (x0, y0), (x1, y1) = pts.amin(0).tolist(), pts.amax(0).tolist()
    return x0, y0, x1, y1


def surviving(start, end, ranges: list[list[int]]) -> int:  # noqa: ANN001 - Scenes
    """How many instances (one stroke range each) of ``end`` survive from ``start``: most of their strokes visible,
    the centre of their box on the canvas, and their shape kept (their points moved, apart from the instance's
    common shift, on average at most :data:`KEPT` of their first box's diagonal)."""
    alive = 0
    for a, b in ranges:
        visible = float((end.colors[a:b, 3] >= 0.02).float().mean())
        now, then = _box(end, [[a, b]]), _box(start, [[a, b]])
        if visible < 0.5 or now is None or then is None:
            continue
        used = torch.arange(end.points.shape[1]).view(1, -1) < (3 * start.segments[a:b] + 1).view(-1, 1)
        shift = end.points[a:b] - start.points[a:b]
        moved = float((shift - shift[used].mean(0)).norm(dim=-1)[used].mean())
        cx, cy = (now[0] + now[2]) / 2, (now[1] + now[3]) / 2
        if 0 <= cx <= 1 and 0 <= cy <= 1 and moved <= KEPT * math.hypot(then[2] - then[0], then[3] - then[1]):
            alive += 1
    return alive


def shows(scene, ranges: list[list[int]], colour: str) -> bool:  # noqa: ANN001 - a Scene
    """Whether the strokes of ``ranges`` alone, rendered on the scene's canvas, lead with ``colour``."""
    from clipart.compose import shows_colour
    from clipart.render import render

    part = scene.subset(_mask(scene.num_strokes, ranges))
    with torch.no_grad():
        return shows_colour(render(part, 224), scene.background, colour)


def holds(kind: str, s: Box | None, o: Box | None, s_first: int, o_first: int) -> bool:
    """Whether the boxes of subject ``s`` and object ``o`` (drawn from strokes ``s_first``, ``o_first``) keep
    ``kind``'s rule."""
    if s is None or o is None:
        return False
    sw, sh, ow, oh = s[2] - s[0], s[3] - s[1], o[2] - o[0], o[3] - o[1]
    scx, scy, ocx, ocy = (s[0] + s[2]) / 2, (s[1] + s[3]) / 2, (o[0] + o[2]) / 2, (o[1] + o[3]) / 2
    overlap = s[0] < o[2] and o[0] < s[2] and s[1] < o[3] and o[1] < s[3]
    rules = {
        "on": o[1] - 0.05 <= s[3] <= o[1] + 0.45 * oh and o[0] <= scx <= o[2],
        "in": o[0] <= scx <= o[2] and o[1] <= scy <= o[3] and sw < ow,
        "under": scy > ocy and s[3] >= o[3] - 0.1 * oh,
        "below": s[1] >= o[3] - 0.02,
        "above": s[3] <= o[1] + 0.02,
        "beside": s[2] <= o[0] + 0.02 or o[2] <= s[0] + 0.02,
        "behind": overlap and s_first < o_first,
        "front": overlap and s_first > o_first,
        "wearing": ocy < s[1] + 0.3 * sh and ow < sw,
        "riding": scy < ocy and s[3] < o[3],
        "holding": ocx > scx,
        "eating": ocx > scx,
    }
    rules["and"] = rules["with"] = rules["beside"]
    return bool(rules[kind])


def _thing_ranges(layout: dict, i: int) -> list[list[int]]:
    return layout["things"][i]["strokes"] if i < len(layout.get("things", [])) else []


def measure(p: ScenePrompt, start, end, layout: dict) -> dict[str, tuple[int, int]]:  # noqa: ANN001 - Scenes
    """The figures of one drawing: name -> (hits, out of)."""
    things = layout.get("things", [])
    got = [(t["thing"], t["count"], t["colour"]) for t in things]
    want = [(name, min(count, MAX_COUNT), colour) for name, count, colour in p.things]
    settings = layout.get("settings", [])
    read = got == want and settings == ([p.setting] if p.setting else [])
    out = {"read": (int(read), 1)}
    asked = sum(min(c, MAX_COUNT) for _, c, _ in p.things)
    placed = sum(len(t["strokes"]) for t in things[: len(p.things)])
    out["placed"] = (placed, asked)
    for when, scene in (("start", start), ("end", end)):
        out[f"alive_{when}"] = (sum(surviving(start, scene, t["strokes"]) for t in things), placed)
        colours = [(i, c) for i, (_, _, c) in enumerate(p.things) if c]
        out[f"colour_{when}"] = (
            sum(shows(scene, _thing_ranges(layout, i), c) for i, c in colours),
            len(colours),
        )
        rel = 0
        for s, kind, o in p.relations:
            rs, ro = _thing_ranges(layout, s), _thing_ranges(layout, o)
            if rs and ro:
                rel += holds(kind, _box(scene, rs), _box(scene, ro), rs[0][0], ro[0][0])
        out[f"relation_{when}"] = (rel, len(p.relations))
        if p.setting:
            from clipart.compose import SETTINGS

            extras = layout.get("extras", [])
            visible = (
                bool(extras)
                and float(scene.colors[_mask(scene.num_strokes, extras), 3].ge(0.02).float().mean()) > 0.5
            )
            out[f"setting_{when}"] = (int(scene.background == SETTINGS[p.setting].background and visible), 1)
        else:
            out[f"setting_{when}"] = (0, 0)
    return out


COLUMNS = ("read", "placed", "alive_start", "alive_end", "colour_start", "colour_end", "relation_start",
           "relation_end", "setting_start", "setting_end")  # fmt: skip


class GroupJudge:
    """A judge CLIP that picks, for a drawing, one prompt of its group (forced choice)."""

    def __init__(self, folder: Path, prompts: tuple[ScenePrompt, ...]) -> None:
        import open_clip

        self.model, _, self.preprocess = open_clip.create_model_and_transforms(f"local-dir:{folder}")
        self.model.eval()
        tokenizer = open_clip.get_tokenizer(f"local-dir:{folder}")
        self.groups: dict[str, list[str]] = defaultdict(list)
        for p in prompts:
            self.groups[p.group].append(p.text)
        texts = [t for group in self.groups.values() for t in group]
        with torch.no_grad():
            feats = self.model.encode_text(tokenizer(texts))
        self.text = dict(zip(texts, feats / feats.norm(dim=-1, keepdim=True), strict=True))

    def margin(self, p: ScenePrompt, image: Image.Image) -> float:
        """The judge's cosine of ``image`` with ``p``'s own text minus that with the best other text of its group
        (above 0: the judge chooses ``p``)."""
        group = self.groups[p.group]
        with torch.no_grad():
            feats = self.model.encode_image(self.preprocess(image.convert("RGB"))[None])[0]
        scores = torch.stack([self.text[t] for t in group]) @ (feats / feats.norm())
        own = group.index(p.text)
        return float(scores[own] - torch.cat([scores[:own], scores[own + 1 :]]).max())


def _files(p: ScenePrompt, seed: int) -> tuple[str, str]:
    """The names under which ``--out`` saves a prompt's drawing at the end and at the start."""
    stem = f"{p.text.replace(' ', '-')}-s{seed}"
    return f"{stem}.png", f"{stem}-start.png"


def rescore(chosen: list[ScenePrompt], folder: Path, judge: GroupJudge, seed: int) -> int:
    """Judge the saved start and end drawings of ``chosen``: the forced choice and mean margin per category."""
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"start": [], "end": []})
    print(f"{'prompt':<48} {'margin_start':>13} {'margin_end':>11}")
    for p in chosen:
        end_file, start_file = _files(p, seed)
        row = {}
        for when, name in (("start", start_file), ("end", end_file)):
            with Image.open(folder / name) as image:
                row[when] = judge.margin(p, image.convert("RGB"))
            for key in (p.category, "all"):
                results[key][when].append(row[when])
        print(f"{p.text[:48]:<48} {row['start']:>+13.4f} {row['end']:>+11.4f}", flush=True)
    print(
        f"\n{'category':<12} {'prompts':>7} {'chosen_start':>13} {'chosen_end':>11}   margin, mean: start → end"
    )
    for key in sorted(results, key=lambda k: (k == "all", k)):
        start, end = results[key]["start"], results[key]["end"]
        print(f"{key:<12} {len(start):>7} {sum(m > 0 for m in start):>13} {sum(m > 0 for m in end):>11}   "
              f"{sum(start) / len(start):+.4f} → {sum(end) / len(end):+.4f}")  # fmt: skip
    return 0


def _cell(hit: int, total: int) -> str:
    return f"{hit}/{total}" if total else "-"


def main() -> int:
    """Draw the prompts, measure each drawing, print the table by category."""
    import clipart
    from clipart.drawing import to_image
    from clipart.render import render

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=len(PROMPTS), help="only the first N prompts")
    parser.add_argument(
        "--every", type=int, default=1, help="every K-th prompt (a spread sample with --limit)"
    )
    parser.add_argument("--steps", type=int, help="optimisation steps (default: the preset's)")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--category", action="append", help="only these categories (repeatable)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--model", help="the guide (default: the preset's, the embedded clipart-mini)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a drawing setting, e.g. --set view_samples=4 (JSON values)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="save each drawing's PNG and a contact sheet here")
    parser.add_argument("--judge", type=Path, help="a judge CLIP folder: forced choice of each drawing's prompt "
                        "within its group, at the start and at the end")  # fmt: skip
    parser.add_argument("--rescore", type=Path, metavar="DIR",
                        help="judge the start and end drawings that an earlier --out DIR saved (needs --judge)")  # fmt: skip
    args = parser.parse_args()
    if args.limit < 1 or args.every < 1:
        parser.error("--limit and --every must be at least 1")
    chosen = [p for p in PROMPTS if not args.category or p.category in args.category][:: args.every][
        : args.limit
    ]
    options = parse_sets(args.set, parser)
    if args.model:
        options["model"] = args.model
    if args.rescore:
        if not args.judge:
            parser.error("--rescore judges saved drawings: it needs --judge")
        if options:
            parser.error("--rescore judges drawings already made: --model and --set do not apply to it")
        missing = [f for p in chosen for f in _files(p, args.seed) if not (args.rescore / f).is_file()]
        if missing:
            parser.error(
                f"{args.rescore} lacks {missing[0]} ({len(missing)} files missing): match its --seed, --limit, --every and --category"
            )
        return rescore(chosen, args.rescore, GroupJudge(args.judge, PROMPTS), args.seed)
    try:  # bad settings: one usage line before anything is drawn
        clipart.make_config(chosen[0].text, preset=args.preset, steps=args.steps, **options)
    except clipart.ClipartError as exc:
        parser.error(str(exc))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    judge = GroupJudge(args.judge, PROMPTS) if args.judge else None
    columns = COLUMNS + (("choice_start", "choice_end") if judge else ())
    margins: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"start": [], "end": []})
    totals: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    images = []
    t0 = time.perf_counter()
    print(f"{'prompt':<48} " + " ".join(f"{c:>14}" for c in columns))
    for p in chosen:
        first = last = None
        for event in clipart.steps(p.text, preset=args.preset, seed=args.seed, steps=args.steps,
                                   threads=args.threads or None, **options):  # fmt: skip
            if first is None:
                first = event.scene
            last = event
        drawing = last.drawing()
        figures = measure(p, first, drawing.scene, drawing.layout)
        # the pictures judged are those --out saves, so that --rescore of a run gives the run's own figures
        pictures = {"start": to_image(render(first, 224)), "end": drawing.png(224)}
        if judge:
            with torch.no_grad():
                for when, picture in pictures.items():
                    margin = judge.margin(p, picture)
                    figures[f"choice_{when}"] = (int(margin > 0), 1)
                    for key in (p.category, "all"):
                        margins[key][when].append(margin)
        for name, (hit, total) in figures.items():
            for key in (p.category, "all"):
                totals[key][name][0] += hit
                totals[key][name][1] += total
        print(f"{p.text[:48]:<48} " + " ".join(f"{_cell(*figures[c]):>14}" for c in columns), flush=True)
        if args.out:
            end_file, start_file = _files(p, args.seed)
            pictures["end"].save(args.out / end_file)
            pictures["start"].save(args.out / start_file)
            images.append((p.text, pictures["end"]))
    print(f"\n{'category':<12} {'prompts':>7} " + " ".join(f"{c:>14}" for c in columns))
    counts = defaultdict(int)
    for p in chosen:
        counts[p.category] += 1
        counts["all"] += 1
    for key in sorted(totals, key=lambda k: (k == "all", k)):
        row = totals[key]
        print(f"{key:<12} {counts[key]:>7} " + " ".join(f"{_cell(*row[c]):>14}" for c in columns))
    if margins:
        print(f"\n{'category':<12} judge's margin, mean: start → end (above 0: chosen)")
        for key in sorted(margins, key=lambda k: (k == "all", k)):
            start, end = (sum(v) / len(v) for v in (margins[key]["start"], margins[key]["end"]))
            print(f"{key:<12} {start:+.4f} → {end:+.4f}")
    steps = args.steps or "the preset's"
    print(f"\n{len(chosen)} drawings, preset {args.preset}, guide {args.model or 'default'}, seed {args.seed}, "
          f"steps: {steps}; {time.perf_counter() - t0:.0f} s")  # fmt: skip
    if args.out and images:
        per_row = 4
        sheet = Image.new("RGB", (per_row * 230, -(-len(images) // per_row) * 244), "white")
        pen = ImageDraw.Draw(sheet)
        for k, (text, image) in enumerate(images):
            x, y = (k % per_row) * 230, (k // per_row) * 244
            sheet.paste(image, (x, y))
            pen.text((x + 2, y + 228), text[:38], fill="black")
        sheet.save(args.out / "sheet.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
