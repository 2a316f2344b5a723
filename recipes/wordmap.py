"""Stand-ins for words the icon bank lacks, from WordNet: "kitten" draws a cat, "puppy" a dog, "stallion" a horse.

    python recipes/wordmap.py --out clipart/models/embedded/icon-bank/words.json    # needs Debian's wordnet-base

(wordnet-base 1:3.0: /usr/share/wordnet holds WordNet 3.0's data, index, exception and tag-count files, cntlist.rev.)

For each concrete noun of WordNet 3.0 (animals, artifacts, food, plants, natural objects, body parts) that the
bank lacks and that the start's own name matching does not find, its commonest sense names its stand-in, tried in
this order: a synonym the bank names ("synonym"); a kind of it one of whose names is the word with words before it
("kind": cup -> coffee cup, refrigerator -> fridge, which is also called an electric refrigerator); the X of a
gloss that is just "young X" ("young": kitten -> cat); what it is directly a kind of ("is a": terrier -> dog, one
level up or two through a parent that is itself named in its commonest sense; skyscraper -> building). The bank
names a word when the start's name matching takes the whole word as a concept's name, or when it ends some
concepts' names that WordNet knows as kinds of it; the map then lists those ("building": office building, not the
classical building WordNet lacks; "plant": no potted plant, as WordNet's commonest plant is a factory), and the
guide chooses among several. A name counts only in its own commonest sense, and only where WordNet's tagged texts
ranked its senses (the bank's "lighter" is no boat, its "turtle" no turtleneck); concepts whose icons draw a sign
or a place (SIGNS) never stand in. A word whose verb, adjective and adverb senses (its own, and those of the words
it may be a form of: "landing" of "land", "lower" of "low") were tagged more often in WordNet's texts than its
noun senses gets no entry ("down", "entire"), since in a prompt it is seldom the thing. Irregular plurals of the
bank's concepts and of the stand-ins' words are listed too ("mice" -> mouse). A word with none of these has no
entry: the drawing then says so instead of guessing.

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
# Parts of speech of a sense key's synset type (cntlist.rev), and WordNet's endings of inflected forms (morphy)
POS = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}
ENDINGS = {"v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")),
           "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")), "r": ()}  # fmt: skip


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


def read_counts(folder: Path) -> dict[tuple[str, str], int]:
    """How often each (lemma, part of speech: n, v, a or r) was tagged in WordNet's texts (cntlist.rev)."""
    counts: dict[tuple[str, str], int] = {}
    with open(folder / "cntlist.rev", encoding="latin-1") as handle:
        for line in handle:
            key, _, count = line.split()
            lemma, _, rest = key.partition("%")
            at = (lemma.replace("_", " "), POS[rest[0]])
            counts[at] = counts.get(at, 0) + int(count)
    return counts


def read_exceptions(folder: Path) -> dict[str, dict[str, set[str]]]:
    """Each part of speech's irregular forms and their base forms (verb.exc, adj.exc, adv.exc)."""
    found: dict[str, dict[str, set[str]]] = {}
    for pos, name in (("v", "verb"), ("a", "adj"), ("r", "adv")):
        found[pos] = {}
        path = folder / f"{name}.exc"
        if path.is_file():
            for line in path.read_text(encoding="latin-1").splitlines():
                form, *bases = line.replace("_", " ").split()
                found[pos].setdefault(form, set()).update(bases)
    return found


def mostly_not_a_noun(
    word: str, counts: dict[tuple[str, str], int], exceptions: dict[str, dict[str, set[str]]]
) -> bool:
    """Whether ``word``'s verb, adjective and adverb senses, its own and those of the words it may be a form of
    ("landing": land; "lower": low), were tagged more often than its noun senses."""
    other = 0
    for pos, endings in ENDINGS.items():
        bases = {word} | exceptions[pos].get(word, set())
        bases |= {
            word[: -len(end)] + base for end, base in endings if word.endswith(end) and len(word) > len(end)
        }
        other += sum(counts.get((b, pos), 0) for b in bases)
    return other > counts.get((word, "n"), 0)


def stand_in(
    offsets: list[str],
    synsets: dict[str, Synset],
    index: dict[str, list[str]],
    names: Callable[[str], list[str]],
) -> tuple[str, str, list[str]] | None:
    """(the bank's name for it, how it stands in, the concepts that draw it) for a word with these senses, or
    None (see the module docstring). ``names``: the concepts the bank's name matching gives for a word (none:
    [])."""

    def meant(lemma: str, offset: str) -> bool:
        """Whether ``offset`` is the lemma's commonest sense: the bank's "lighter" is no boat, its "soul" no
        person."""
        return index.get(lemma, [""])[:1] == [offset]

    def kind_of(lemma: str, offset: str) -> bool:
        """Whether the commonest sense of ``lemma`` is ``offset`` or a kind of it, up to three levels down."""
        level = index.get(lemma, [])[:1]
        for _ in range(4):
            if offset in level:
                return True
            level = [h for o in level for h in synsets[o].hypernyms]
        return False

    def drawn_by(lemma: str) -> list[str]:
        """The concepts that draw ``lemma`` in its commonest sense: the concept of that name, else those whose
        names end with it and that WordNet knows as kinds of it (building: office building, not classical
        building, which it does not know; plant: no potted plant, since a plant is first a factory)."""
        concepts = [c for c in names(lemma) if c not in SIGNS]
        if concepts == [lemma] or not index.get(lemma):
            return concepts if lemma in concepts else []
        return [c for c in concepts if kind_of(c, index[lemma][0])]

    def first_in_bank(candidates: list[tuple[str, str]]) -> tuple[str, list[str]] | None:
        return next(
            ((lemma, drawn_by(lemma)) for lemma, o in candidates if meant(lemma, o) and drawn_by(lemma)), None
        )

    def lemmas_of(offsets: list[str]) -> list[tuple[str, str]]:
        return [(lemma, o) for o in offsets for lemma in synsets[o].lemmas]

    for offset in offsets[:1]:  # the word's commonest sense: a mug is a cup before it is a face
        synset = synsets[offset]
        if synset.lexfile not in CONCRETE:
            continue
        found = first_in_bank(lemmas_of([offset]))
        if found:
            return found[0], "synonym", found[1]
        endings = tuple(f" {w}" for w in synset.lemmas)
        kinds = [(lemma, o) for lemma, o in lemmas_of(synset.hyponyms) if lemma.endswith(endings)]
        named_kinds = [
            o for o in synset.hyponyms if any(lemma.endswith(endings) for lemma in synsets[o].lemmas)
        ]
        found = first_in_bank(kinds + lemmas_of(named_kinds))  # cup -> coffee cup, not box -> coffin
        if found:
            return found[0], "kind", found[1]
        words = synset.gloss.split(";")[0].split()
        if words[:1] == ["a"]:
            words = words[1:]
        if words[:1] == ["young"] and 2 <= len(words) <= 3:  # "young domestic cat", not "young of any of ..."
            young = next((w for w in (" ".join(words[1:]), words[-1]) if drawn_by(w)), None)
            if young:
                return young, "young", drawn_by(young)
        # one level up, or two through a parent named in its own commonest sense (tab key -> key, the lock's
        # key first, so no lever)
        parents = [p for p in synset.hypernyms]
        clear = [p for p in parents if any(meant(lemma, p) for lemma in synsets[p].lemmas)]
        found = first_in_bank(lemmas_of(parents)) or first_in_bank(
            lemmas_of([g for p in clear for g in synsets[p].hypernyms])
        )
        if found:
            return found[0], "is a", found[1]
    return None


def build(
    folder: Path,
    bank_concepts: list[str],
    named: Callable[[str], bool] = lambda _: False,
    names: Callable[[str], list[str]] | None = None,
) -> dict[str, list[str]]:
    """word -> [the bank's name for its stand-in, how, and when that name is not a concept's the concepts that
    draw it] for every concrete WordNet noun, mostly a noun, that the
    bank lacks (nor ``named`` finds: the start's own name matching) and that has a stand-in, and irregular
    plurals. ``names``: the concepts the bank's name matching gives for a word (by default the concept of that
    name, if any)."""
    bank = set(bank_concepts)
    names = names or (lambda lemma: [lemma] if lemma in bank else [])
    synsets, index = read_synsets(folder), read_index(folder)
    counts, exceptions = read_counts(folder), read_exceptions(folder)
    words: dict[str, list[str]] = {}
    for lemma, offsets in sorted(index.items()):
        if lemma in bank or not lemma.replace(" ", "").replace("-", "").isalpha() or named(lemma):
            continue
        if mostly_not_a_noun(lemma, counts, exceptions):
            continue
        found = stand_in(offsets, synsets, index, names)
        if found:
            name, how, concepts = found
            words[lemma] = [name, how] + (concepts if concepts != [name] else [])
    with open(folder / "noun.exc", encoding="latin-1") as handle:
        for line in handle:
            plural, singular = (w.replace("_", " ") for w in line.split()[:2])
            if plural == singular or plural in bank or named(plural):
                continue
            if mostly_not_a_noun(plural, counts, exceptions):
                continue
            if singular in bank:
                words[plural] = [singular, "plural"]
            elif singular in words:
                name, how, *concepts = words[singular]
                words[plural] = [name, f"plural, {how}", *concepts]
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
    if not all(
        (args.wordnet / name).is_file() for name in ("data.noun", "index.noun", "noun.exc", "cntlist.rev")
    ):
        print(f"error: no WordNet in {args.wordnet}: apt-get install wordnet-base", file=sys.stderr)
        return 2
    concepts = json.loads((args.bank / "bank.json").read_text(encoding="utf-8"))["concepts"]
    named, names = (lambda _: False), None
    if (args.bank / "bank.safetensors").is_file():
        from clipart.start import IconBank

        bank = IconBank(args.bank)
        named = lambda word: bool(bank.named_in(word))  # noqa: E731
        names = lambda word: [bank.concepts[c] for c in bank.named_as(word)]  # noqa: E731
    words = build(args.wordnet, concepts, named, names)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(words, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    args.out.with_name(args.out.stem + "-LICENSE.txt").write_text(licence(args.wordnet), encoding="utf-8")
    print(json.dumps({"out": str(args.out), "words": len(words)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
