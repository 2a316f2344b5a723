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
    "00000013 05 n 01 down 0 001 @ 00000014 n 0000 | soft fine feathers",
    "00000014 05 n 01 feather 0 000 | the light horny waterproof structure forming the covering of birds",
    "00000015 06 n 01 landing 0 001 @ 00000016 n 0000 | an intermediate platform in a staircase",
    "00000016 06 n 01 platform 0 000 | a raised horizontal surface",
    "00000017 06 n 01 building 0 002 ~ 00000018 n 0000 ~ 00000019 n 0000 | a structure with a roof and walls",
    "00000018 06 n 01 office_building 0 001 @ 00000017 n 0000 | a building where business is done",
    "00000019 06 n 01 skyscraper 0 001 @ 00000017 n 0000 | a very tall building with many stories",
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
    "down n 1 1 @ 1 1 00000013",
    "feather n 1 0 1 1 00000014",
    "landing n 1 1 @ 1 1 00000015",
    "platform n 1 0 1 1 00000016",
    "building n 1 2 ~ 1 1 00000017",
    "office_building n 1 1 @ 1 1 00000018",
    "skyscraper n 1 1 @ 1 1 00000019",
]
# how often each sense was tagged: "down" is mostly an adverb, "landing" mostly the verb "land"
COUNTS = ["down%4:02:00:: 1 98", "down%1:05:00:: 1 1", "land%2:38:00:: 1 16", "landing%1:06:01:: 1 6",
          "kitten%1:05:00:: 1 7", "kitten%2:29:00:: 1 1", "skyscraper%1:06:00:: 1 1"]  # fmt: skip


def _wordnet(folder: Path) -> Path:
    folder.mkdir()
    (folder / "data.noun").write_text(HEADER + "".join(line + "  \n" for line in SYNSETS), encoding="latin-1")
    (folder / "index.noun").write_text(HEADER + "".join(line + "  \n" for line in INDEX), encoding="latin-1")
    (folder / "noun.exc").write_text("mice mouse\nkittens kitten\n", encoding="latin-1")
    (folder / "cntlist.rev").write_text("".join(line + "\n" for line in COUNTS), encoding="latin-1")
    (folder / "verb.exc").write_text("landed land\n", encoding="latin-1")
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


def test_words_mostly_not_nouns_get_no_entry(tmp_path: Path) -> None:
    words = wordmap.build(_wordnet(tmp_path / "wn"), ["cat", "feather", "platform"])
    assert "down" not in words  # "sitting down": an adverb far more often than a feather
    assert "landing" not in words  # "a plane landing": the verb "land" far more often than a landing
    assert words["kitten"] == ["cat", "young"]  # a noun more often than a verb


def test_a_stand_in_named_by_the_ends_of_concepts_lists_those_wordnet_knows_as_its_kinds(
    tmp_path: Path,
) -> None:
    def names(word: str) -> list[str]:  # the start's name matching: "building" ends two concepts' names
        return ["classical building", "office building"] if word == "building" else []

    words = wordmap.build(_wordnet(tmp_path / "wn"), ["classical building", "office building"], names=names)
    assert words["skyscraper"] == [
        "building",
        "is a",
        "office building",
    ]  # WordNet knows no classical building


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
        "refrigerator": "fridge",  # a fridge is WordNet's electric refrigerator, a kind of refrigerator
        "skyscraper": "building",
    }.items():
        assert words[word][0] == concept, word
    assert words["skyscraper"][2:] == ["office building"]  # the bank's one building WordNet knows
    assert not {"down", "entire", "lower", "landing"} & set(words)  # mostly not nouns: "sitting down"
    assert "lobster" not in words  # first the food, a kind of shellfish, whose senses WordNet left unranked
    wrong = {
        "t-shirt": "turtle",
        "box": "coffin",
        "finger": "middle finger",
        "tab key": "lever",
        "colt": "male",
    }
    assert not [w for w, c in wrong.items() if words.get(w, [None])[0] == c]
    assert not {c for name, _, *listed in words.values() for c in [name, *listed]} & wordmap.SIGNS


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
