"""Stand-ins for words the icon bank lacks, from WordNet: "kitten" draws a cat, "puppy" a dog, "stallion" a horse.

    python recipes/wordmap.py --out clipart/models/embedded/icon-bank/words.json    # needs Debian's wordnet-base

For each concrete noun of WordNet 3.0 (animals, artifacts, food, plants, natural objects, body parts) that
is not a concept of the bank, its commonest sense names its stand-in, tried in this order: a synonym the bank has ("synonym"); a kind of it the bank has ("kind": refrigerator -> fridge); the X of
a gloss "young X" ("young": kitten -> cat); what it is a kind of, one or two levels up ("is a": stallion ->
horse). A bank concept counts only in its own
commonest sense (the bank's "lighter" is no boat, its "soul" no person). Irregular plurals of the
bank's own concepts and of the stand-ins' words are listed too ("mice" -> mouse). A word with none of these has
no entry: the drawing then says so instead of guessing.

WordNet 3.0 is Princeton University's, under its own permissive licence (the copyright notice travels with the map:
words-LICENSE.txt beside it).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")
BANK = Path(__file__).resolve().parent.parent / "clipart" / "models" / "embedded" / "icon-bank"
# Lexicographer files of things one can draw: noun.animal, noun.artifact, noun.body, noun.food, noun.object,
# noun.plant (not noun.person: its slang senses make a jailer a screw and a hit man a torpedo).
CONCRETE = {"05", "06", "08", "13", "17", "20"}


@dataclass
class Synset:
    """One WordNet noun synset: its lexicographer file, lemmas, hypernyms, hyponyms and gloss."""

    lexfile: str
    lemmas: list[str]
    hypernyms: list[str] = field(default_factory=list)
    hyponyms: list[str] = field(default_factory=list)
    gloss: str = ""


def read_synsets(folder: Path) -> dict[str, Synset]:
    """Every noun synset of ``folder/data.noun`` by offset."""
    synsets = {}
    with open(folder / "data.noun", encoding="latin-1") as handle:
        for line in handle:
            if line.startswith("  "):  # the licence header
                continue
            data, _, gloss = line.partition(" | ")
            parts = data.split()
            count = int(parts[3], 16)
            lemmas = [parts[4 + 2 * k].lower().replace("_", " ") for k in range(count)]
            lemmas = [lemma.split("(")[0] for lemma in lemmas]  # "mouse(n)" style markers
            at = 4 + 2 * count
            synset = Synset(parts[1], lemmas, gloss=gloss.strip())
            for k in range(int(parts[at])):
                symbol, offset, pos = parts[at + 1 + 4 * k : at + 4 + 4 * k]
                if pos != "n":
                    continue
                if symbol in ("@", "@i"):
                    synset.hypernyms.append(offset)
                elif symbol in ("~", "~i"):
                    synset.hyponyms.append(offset)
            synsets[parts[0]] = synset
    return synsets


def read_index(folder: Path) -> dict[str, list[str]]:
    """Each noun lemma's synset offsets, commonest sense first."""
    senses = {}
    with open(folder / "index.noun", encoding="latin-1") as handle:
        for line in handle:
            if line.startswith("  "):
                continue
            parts = line.split()
            count = int(parts[2])
            senses[parts[0].replace("_", " ")] = parts[-count:]
    return senses


def stand_in(
    offsets: list[str],
    synsets: dict[str, Synset],
    index: dict[str, list[str]],
    bank: set[str],
) -> tuple[str, str] | None:
    """(bank concept, how it stands in) for a word with these senses, or None (see the module docstring)."""

    def meant(lemma: str, offset: str) -> bool:
        """Whether ``offset`` is the lemma's commonest sense: the bank's "lighter" is no boat, its "soul" no
        person."""
        return index.get(lemma, [""])[0] == offset

    def first_in_bank(candidates: list[tuple[str, str]]) -> str | None:
        return next((lemma for lemma, o in candidates if lemma in bank and meant(lemma, o)), None)

    def lemmas_of(offsets: list[str]) -> list[tuple[str, str]]:
        return [(lemma, o) for o in offsets for lemma in synsets[o].lemmas]

    for offset in offsets[:1]:  # the word's commonest sense: a mug is a cup before it is a face
        synset = synsets[offset]
        if synset.lexfile not in CONCRETE:
            continue
        parents = synset.hypernyms
        grandparents = [g for p in parents for g in synsets[p].hypernyms]
        found = first_in_bank(lemmas_of([offset]))
        if found:
            return found, "synonym"
        found = first_in_bank(lemmas_of(synset.hyponyms))
        if found:
            return found, "kind"
        words = synset.gloss.split(";")[0].split()
        if words[:1] == ["a"]:
            words = words[1:]
        if words[:1] == ["young"] and len(words) > 1:
            found = next((w for w in (" ".join(words[-2:]), words[-1]) if w in bank), None)
            if found:
                return found, "young"
        found = first_in_bank(lemmas_of(parents + grandparents))
        if found:
            return found, "is a"
    return None


def build(folder: Path, bank_concepts: list[str]) -> dict[str, list[str]]:
    """word -> [bank concept, how] for every concrete WordNet noun the bank lacks that has a stand-in, and
    irregular plurals."""
    bank = set(bank_concepts)
    synsets, index = read_synsets(folder), read_index(folder)
    words: dict[str, list[str]] = {}
    for lemma, offsets in sorted(index.items()):
        if lemma in bank or not lemma.replace(" ", "").replace("-", "").isalpha():
            continue
        found = stand_in(offsets, synsets, index, bank)
        if found:
            words[lemma] = list(found)
    with open(folder / "noun.exc", encoding="latin-1") as handle:
        for line in handle:
            plural, singular = (w.replace("_", " ") for w in line.split()[:2])
            if plural == singular or plural in bank:
                continue
            if singular in bank:
                words[plural] = [singular, "plural"]
            elif singular in words:
                words[plural] = [words[singular][0], f"plural, {words[singular][1]}"]
    return words


def licence(folder: Path) -> str:
    """WordNet's licence and copyright notice, as its data files carry it (it must travel with the map)."""
    lines = []
    with open(folder / "data.noun", encoding="latin-1") as handle:
        for line in handle:
            if not line.startswith("  "):
                break
            lines.append(line[2:].split(" ", 1)[1].rstrip() if " " in line[2:] else "")
    return "The stand-in map words.json is derived from WordNet 3.0.\n\n" + "\n".join(lines).strip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the stand-in map of the bank in ``--bank`` to ``--out`` (JSON)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=BANK / "words.json")
    parser.add_argument("--bank", type=Path, default=BANK, help="the icon bank folder (bank.json)")
    parser.add_argument("--wordnet", type=Path, default=WORDNET, help="WordNet's dict folder (wordnet-base)")
    args = parser.parse_args(argv)
    if not (args.wordnet / "data.noun").is_file():
        print(f"error: no WordNet in {args.wordnet}: apt-get install wordnet-base", file=sys.stderr)
        return 2
    concepts = json.loads((args.bank / "bank.json").read_text(encoding="utf-8"))["concepts"]
    words = build(args.wordnet, concepts)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(words, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    args.out.with_name(args.out.stem + "-LICENSE.txt").write_text(licence(args.wordnet), encoding="utf-8")
    print(json.dumps({"out": str(args.out), "words": len(words)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
