"""Stand-ins for words the icon bank lacks, from WordNet: "kitten" draws a cat, "puppy" a dog, "stallion" a horse.

    python recipes/wordmap.py --out clipart/models/embedded/icon-bank/words.json    # needs Debian's wordnet-base

For each concrete noun of WordNet 3.0 (animals, artifacts, food, plants, natural objects, body parts) that the
bank lacks and that the start's own name matching does not find, its commonest sense names its stand-in, tried in
this order: a synonym the bank has ("synonym"); a kind of it named by the word with words before it ("kind": cup
-> coffee cup); the X of a gloss that is just "young X" ("young": kitten -> cat); what it is directly a kind of
("is a": terrier -> dog, one level up or two through a parent that is
itself named in its commonest sense). A bank concept counts only in its own commonest sense, and only where WordNet's tagged
texts ranked its senses (the bank's "lighter" is no boat, its "turtle" no turtleneck); concepts whose icons draw a
sign or a place (SIGNS) never stand in. Irregular plurals of the bank's concepts and of the stand-ins' words are
listed too ("mice" -> mouse). A word with none of these has no entry: the drawing then says so instead of
guessing.

WordNet 3.0 is Princeton University's, under its own permissive licence (the copyright notice travels with the map:
words-LICENSE.txt beside it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")
BANK = Path(__file__).resolve().parent.parent / "clipart" / "models" / "embedded" / "icon-bank"
# Lexicographer files of things one can draw: noun.animal, noun.artifact, noun.body, noun.food, noun.object,
# noun.plant (not noun.person: its slang senses make a jailer a screw and a hit man a torpedo).
CONCRETE = {"05", "06", "08", "13", "17", "20"}
# Bank concepts whose icons draw a sign or a place, not the thing WordNet means by their name.
SIGNS = frozenset({"male", "female", "fuji", "honeypot", "sling", "upgrade", "station", "middle finger", "lever",
                   "character", "soul"})  # fmt: skip


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
    """Each noun lemma's synset offsets, commonest sense first; a lemma of several senses none of which was
    counted in WordNet's tagged texts lists them in no meaningful order, and gets an empty list."""
    senses = {}
    with open(folder / "index.noun", encoding="latin-1") as handle:
        for line in handle:
            if line.startswith("  "):
                continue
            parts = line.split()
            count = int(parts[2])
            tagged = int(parts[-count - 1])
            senses[parts[0].replace("_", " ")] = parts[-count:] if count == 1 or tagged else []
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
        return index.get(lemma, [""])[:1] == [offset]

    def first_in_bank(candidates: list[tuple[str, str]]) -> str | None:
        return next(
            (lemma for lemma, o in candidates if lemma in bank and lemma not in SIGNS and meant(lemma, o)),
            None,
        )

    def lemmas_of(offsets: list[str]) -> list[tuple[str, str]]:
        return [(lemma, o) for o in offsets for lemma in synsets[o].lemmas]

    for offset in offsets[:1]:  # the word's commonest sense: a mug is a cup before it is a face
        synset = synsets[offset]
        if synset.lexfile not in CONCRETE:
            continue
        found = first_in_bank(lemmas_of([offset]))
        if found:
            return found, "synonym"
        kinds = [
            (lemma, o)
            for lemma, o in lemmas_of(synset.hyponyms)
            if lemma.endswith(tuple(f" {w}" for w in synset.lemmas))
        ]
        found = first_in_bank(kinds)  # cup -> coffee cup, not box -> coffin
        if found:
            return found, "kind"
        words = synset.gloss.split(";")[0].split()
        if words[:1] == ["a"]:
            words = words[1:]
        if words[:1] == ["young"] and 2 <= len(words) <= 3:  # "young domestic cat", not "young of any of ..."
            found = next((w for w in (" ".join(words[1:]), words[-1]) if w in bank), None)
            if found:
                return found, "young"
        # one level up, or two through a parent named in its own commonest sense (tab key -> key, the lock's
        # key first, so no lever)
        parents = [p for p in synset.hypernyms]
        clear = [p for p in parents if any(meant(lemma, p) for lemma in synsets[p].lemmas)]
        found = first_in_bank(lemmas_of(parents)) or first_in_bank(
            lemmas_of([g for p in clear for g in synsets[p].hypernyms])
        )
        if found:
            return found, "is a"
    return None


def build(
    folder: Path, bank_concepts: list[str], named: Callable[[str], bool] = lambda _: False
) -> dict[str, list[str]]:
    """word -> [bank concept, how] for every concrete WordNet noun that the bank lacks (nor ``named`` finds: the
    start's own name matching) and that has a stand-in, and irregular plurals."""
    bank = set(bank_concepts)
    synsets, index = read_synsets(folder), read_index(folder)
    words: dict[str, list[str]] = {}
    for lemma, offsets in sorted(index.items()):
        if lemma in bank or not lemma.replace(" ", "").replace("-", "").isalpha() or named(lemma):
            continue
        found = stand_in(offsets, synsets, index, bank)
        if found:
            words[lemma] = list(found)
    with open(folder / "noun.exc", encoding="latin-1") as handle:
        for line in handle:
            plural, singular = (w.replace("_", " ") for w in line.split()[:2])
            if plural == singular or plural in bank or named(plural):
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
    named = None
    if (args.bank / "bank.safetensors").is_file():
        from clipart.start import IconBank

        named = IconBank(args.bank).named_in
    words = build(args.wordnet, concepts, (lambda word: bool(named(word))) if named else (lambda _: False))
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(words, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    args.out.with_name(args.out.stem + "-LICENSE.txt").write_text(licence(args.wordnet), encoding="utf-8")
    print(json.dumps({"out": str(args.out), "words": len(words)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
