"""Would a person name what was drawn? Drawings of several guides, shuffled and numbered, named blind by readers.

    python benchmarks/bench_naming.py sheets --out DIR shipped=RUN1 robust=RUN2 [--seed 0]
    # RUN1, RUN2: folders written by `bench_rprecision.py --out` (PROMPT-sSEED.png and sheet.txt; any --prompt-list)
    # give DIR (sheetNN.png and READERS.md) to two or more readers who never saw the prompts
    python benchmarks/bench_naming.py score DIR

``sheets`` shuffles the drawings of every labelled folder together (a fresh order each run) into numbered sheets of
:data:`PER_SHEET`, with the readers' task in ``READERS.md``; which drawing is whose, and of what, goes to
``DIR-key.json`` beside DIR, outside what readers are given. Each reader writes ``answers-NAME.json``: ``{"1":
"a bicycle", "2": "?", ...}``. ``score`` counts, per reader and label, the drawings whose answer names the prompt's
thing (its noun, ignoring case, spaces, hyphens and a plural s), and lists every answer beside its prompt, so that a
person checks what the counting cannot (a "sailing ship" for a sailboat).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_pairs import read_answers  # noqa: E402
from bench_rprecision import _file_name, noun  # noqa: E402

PER_SHEET = 20
COLUMNS = 5
SIZE = 224
READERS = """# What does each drawing show?

Each sheet `sheetNN.png` here shows numbered drawings. Each is meant to show one everyday thing (an animal, an
object, a plant, a building, a vehicle, food, a place in nature...). Look at nothing else in this folder.

For each number, write the thing you see in a few words ("a bicycle", "a cat"), as you would name it to a friend.
Write "?" when you cannot tell. Do not guess from the other drawings: a drawing may show anything.

Write `answers-NAME.json` in this folder (NAME: yours): {"1": "a bicycle", "2": "?", ...} for every number.
"""


def key_file(out: Path) -> Path:
    """Where the key of ``out`` is kept: beside it, not in it."""
    return out.with_name(out.name + "-key.json")


def _same(word: str, thing: str) -> bool:
    """Whether two words are one, a plural s, es or ies aside ("buses" and "bus", "scissor" and "scissors")."""
    a, b = sorted((word, thing), key=len)
    return a == b or b in (a + "s", a + "es") or (a.endswith("y") and b == a[:-1] + "ies")


def names(answer: str, prompt: str) -> bool:
    """Whether ``answer`` names the thing of ``prompt``: its noun's words, in order, among the answer's words (or
    run together: "sail boat" names a sailboat, "ice-cream" an ice cream), plurals aside; never part of a word ("a
    pineapple" does not name an apple)."""
    thing = re.findall(r"[a-z]+", noun(prompt).lower())
    said = re.findall(r"[a-z]+", answer.lower())
    if not thing:
        return False
    for start in range(len(said)):
        window = said[start : start + len(thing)]
        if len(window) == len(thing) and all(_same(w, t) for w, t in zip(window, thing, strict=True)):
            return True
        if any(_same("".join(said[start:end]), "".join(thing)) for end in range(start + 1, start + 4)):
            return True
    return False


def drawn_prompts(folder: Path, seed: int) -> list[str]:
    """The prompts drawn with ``seed`` in a ``bench_rprecision.py --out`` folder, as its ``sheet.txt`` lists them
    ("N: PROMPT (seed S)"; any prompt list); ValueError when the folder has no sheet.txt."""
    try:
        lines = (folder / "sheet.txt").read_text(encoding="utf-8").splitlines()
    except OSError:
        raise ValueError(
            f"{folder} has no sheet.txt: give a folder written by bench_rprecision.py --out"
        ) from None
    found = (re.fullmatch(r"\d+: (.+) \(seed (\d+)\)", line.strip()) for line in lines)
    return [m.group(1) for m in found if m and int(m.group(2)) == seed]


def sheets(folders: dict[str, Path], out: Path, seed: int, order_seed: int | None = None) -> int:
    """Write the shuffled numbered sheets and READERS.md into ``out`` and the key beside it; the drawings' count."""
    from PIL import Image, ImageDraw

    drawings = []
    for label, folder in folders.items():
        for prompt in drawn_prompts(folder, seed):
            path = folder / _file_name(prompt, seed)
            if path.is_file():
                drawings.append((label, prompt, path))
    if not drawings:
        raise ValueError(f"no drawings of seed {seed} in {', '.join(map(str, folders.values()))}")
    if (out.exists() and any(out.iterdir())) or key_file(out).exists():
        raise ValueError(f"{out} or its key exists: give a new folder (readers' answers may be in it)")
    if order_seed is None:
        order_seed = random.SystemRandom().randrange(2**32)
    random.Random(order_seed).shuffle(drawings)
    partial = out.with_name(out.name + ".partial")  # renamed to ``out`` when whole
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for first in range(0, len(drawings), PER_SHEET):
        group = drawings[first : first + PER_SHEET]
        rows = (len(group) + COLUMNS - 1) // COLUMNS
        sheet = Image.new("RGB", (COLUMNS * SIZE, rows * (SIZE + 20)), "white")
        pen = ImageDraw.Draw(sheet)
        for k, (_, _, path) in enumerate(group):
            x, y = (k % COLUMNS) * SIZE, (k // COLUMNS) * (SIZE + 20)
            image = Image.open(path).convert("RGB").resize((SIZE - 8, SIZE - 8), Image.Resampling.LANCZOS)
            sheet.paste(image, (x + 4, y + 20))
            pen.text((x + 6, y + 4), str(first + k + 1), fill="black")
        sheet.save(partial / f"sheet{first // PER_SHEET + 1:02d}.png")
    (partial / "READERS.md").write_text(READERS, encoding="utf-8")
    key = {str(k): {"label": label, "prompt": prompt} for k, (label, prompt, _) in enumerate(drawings, 1)}
    about = {"seed": seed, "order_seed": order_seed, "folders": {k: str(v) for k, v in folders.items()}}
    (partial / "key.json").write_text(
        json.dumps({"drawn": about, "drawings": key}, indent=1), encoding="utf-8"
    )
    if out.exists():
        out.rmdir()  # empty (checked above)
    partial.replace(out)
    (out / "key.json").replace(key_file(out))
    return len(drawings)


def score(folder: Path) -> dict[str, dict[str, list[int]]]:
    """Per reader (``answers-NAME.json``) and label: [drawings named rightly, drawings]."""
    key = json.loads(key_file(folder).read_text(encoding="utf-8"))["drawings"]
    readers = read_answers(folder, list(key), "drawing")
    if not readers:
        raise ValueError(f"no answers-NAME.json in {folder} yet")
    results = {}
    for reader, given in readers.items():
        tally: dict[str, list[int]] = {}
        for number, drawn in key.items():
            counts = tally.setdefault(drawn["label"], [0, 0])
            counts[0] += names(str(given[number]), drawn["prompt"])
            counts[1] += 1
        results[reader] = tally
    return results


def main() -> int:
    """``sheets`` or ``score``; a bad argument is one line and exit 2."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("sheets", help="shuffle labelled drawing folders into numbered sheets")
    make.add_argument("--out", type=Path, required=True)
    make.add_argument("folders", nargs="+", metavar="LABEL=FOLDER")
    make.add_argument("--seed", type=int, default=0, help="the drawings' seed (0)")
    grade = commands.add_parser("score", help="count the drawings each reader named")
    grade.add_argument("folder", type=Path)
    args = parser.parse_args()
    try:
        if args.command == "sheets":
            folders = {}
            for item in args.folders:
                label, _, path = item.partition("=")
                if not label or not path or not Path(path).is_dir():
                    parser.error(f"{item!r}: give LABEL=FOLDER, a folder of bench_rprecision.py --out")
                if label in folders:
                    parser.error(f"the label {label!r} is given twice: one label a folder")
                folders[label] = Path(path)
            count = sheets(folders, args.out, args.seed)
            print(f"{count} drawings in {args.out}; the key in {key_file(args.out)}")
            return 0
        if not key_file(args.folder).is_file():
            parser.error(f"no key beside {args.folder}: make it with `sheets`")
        key = json.loads(key_file(args.folder).read_text(encoding="utf-8"))["drawings"]
        for reader, tally in score(args.folder).items():
            print(f"{reader}: " + ", ".join(f"{label} {n}/{total}" for label, (n, total) in tally.items()))
            given = json.loads((args.folder / f"answers-{reader}.json").read_text(encoding="utf-8"))
            for number, drawn in key.items():
                mark = "+" if names(str(given[number]), drawn["prompt"]) else " "
                print(f"  {mark} {number:>3} {drawn['label']:<10} {drawn['prompt']:<20} {given[number]}")
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
