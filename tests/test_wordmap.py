"""The stand-in map's recipe (recipes/wordmap.py) on a WordNet of a few synsets written here."""

from __future__ import annotations

import json
from pathlib import Path

import wordmap  # recipes/ is on sys.path through conftest

HEADER = "  1 WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.  \n  2   \n"
# offset lexfile n count (lemma lex_id)... pointer_count (symbol offset n 0000)... | gloss
SYNSETS = [
    "00000001 05 n 01 cat 0 002 ~ 00000003 n 0000 ~ 00000004 n 0000 | feline mammal",
    "00000002 05 n 01 dog 0 001 ~ 00000005 n 0000 | a domesticated canid",
    "00000003 05 n 02 kitten 0 kitty 0 001 @ 00000009 n 0000 | young domestic cat",
    "00000004 05 n 01 tabby 0 001 @ 00000001 n 0000 | a cat with a striped coat",
    "00000005 05 n 01 puppy 0 001 @ 00000002 n 0000 | a young dog",
    "00000006 06 n 01 refrigerator 0 001 ~ 00000007 n 0000 | white goods in which food can be stored",
    "00000007 06 n 02 fridge 0 electric_refrigerator 0 001 @ 00000006 n 0000 | a refrigerator run by electricity",
    "00000008 06 n 02 barge 0 lighter 0 000 | a boat for carrying goods",
    "00000009 05 n 01 young_mammal 0 000 | any immature mammal",
    "00000010 06 n 01 lighter 0 000 | a device for lighting a fire",
    "00000011 04 n 01 happiness 0 001 @ 00000001 n 0000 | state of well-being",
    "00000012 05 n 01 mouse 0 000 | a small rodent",
]
INDEX = [
    "cat n 1 1 ~ 1 1 00000001",
    "dog n 1 1 ~ 1 1 00000002",
    "kitten n 1 1 @ 1 1 00000003",
    "kitty n 1 1 @ 1 1 00000003",
    "tabby n 1 1 @ 1 1 00000004",
    "puppy n 1 1 @ 1 1 00000005",
    "refrigerator n 1 1 ~ 1 1 00000006",
    "fridge n 1 1 @ 1 1 00000007",
    "electric_refrigerator n 1 1 @ 1 1 00000007",
    "barge n 1 0 1 1 00000008",
    "lighter n 2 0 2 1 00000010 00000008",
    "young_mammal n 1 0 1 1 00000009",
    "happiness n 1 1 @ 1 1 00000011",
    "mouse n 1 0 1 1 00000012",
]


def _wordnet(folder: Path) -> Path:
    folder.mkdir()
    (folder / "data.noun").write_text(HEADER + "".join(line + "  \n" for line in SYNSETS), encoding="latin-1")
    (folder / "index.noun").write_text(HEADER + "".join(line + "  \n" for line in INDEX), encoding="latin-1")
    (folder / "noun.exc").write_text("mice mouse\nkittens kitten\n", encoding="latin-1")
    return folder


def test_stand_ins_are_synonyms_kinds_young_and_parents(tmp_path: Path) -> None:
    bank = ["cat", "dog", "electric refrigerator", "lighter", "mouse"]
    words = wordmap.build(_wordnet(tmp_path / "wn"), bank)
    assert words["kitten"] == ["cat", "young"] and words["kitty"] == ["cat", "young"]
    assert words["puppy"] == ["dog", "young"]
    assert words["tabby"] == ["cat", "is a"]
    assert words["refrigerator"] == ["electric refrigerator", "kind"]  # a kind named by the word
    assert words["fridge"] == ["electric refrigerator", "synonym"]
    assert words["mice"] == ["mouse", "plural"]
    assert "barge" not in words  # the bank's "lighter" is the fire-lighting device, its commonest sense
    assert "happiness" not in words  # not a thing one draws
    assert not set(words) & set(bank)


def test_words_the_start_finds_itself_get_no_entry(tmp_path: Path) -> None:
    words = wordmap.build(_wordnet(tmp_path / "wn"), ["cat", "dog"], named=lambda word: word == "tabby")
    assert "tabby" not in words and words["puppy"] == ["dog", "young"]


def test_the_shipped_map_stands_in_sensibly() -> None:
    words = json.loads((Path(wordmap.BANK) / "words.json").read_text())
    for word, concept in {
        "kitten": "cat",
        "puppy": "dog",
        "foal": "horse",
        "mice": "mouse",
        "couch": "sofa",
    }.items():
        assert words[word][0] == concept, word
    wrong = {
        "t-shirt": "turtle",
        "box": "coffin",
        "finger": "middle finger",
        "tab key": "lever",
        "colt": "male",
    }
    assert not [w for w, c in wrong.items() if words.get(w, [None])[0] == c]
    assert not {c for c, _ in words.values()} & wordmap.SIGNS


def test_the_recipe_writes_the_map_and_wordnets_licence(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "bank.json").write_text(json.dumps({"concepts": ["cat", "dog"]}))
    out = bank / "words.json"
    assert (
        wordmap.main(["--out", str(out), "--bank", str(bank), "--wordnet", str(_wordnet(tmp_path / "wn"))])
        == 0
    )
    assert json.loads(out.read_text())["puppy"] == ["dog", "young"]
    assert "Copyright 2006 by Princeton University" in (bank / "words-LICENSE.txt").read_text()
    assert wordmap.main(["--out", str(out), "--bank", str(bank), "--wordnet", str(tmp_path / "none")]) == 2
