"""The scene composer (clipart/compose.py) on the shipped icon bank: parsing, layout, colours, settings and caps,
without a guide (a noun's first concept stands for the guide's choice) and without optimisation."""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from clipart.compose import (
    COLOURS,
    MAX_COUNT,
    SETTING_WORDS,
    SETTINGS,
    STROKE_BUDGET,
    Plan,
    cap,
    colour_bin,
    compose,
    parse,
    shows_colour,
)
from clipart.render import render
from clipart.start import load_bank

FIXTURES = Path(__file__).parent / "fixtures" / "scenes"


@pytest.fixture(scope="module")
def bank():  # noqa: ANN201 - an IconBank
    return load_bank()


def plan_of(prompt: str, bank) -> Plan:  # noqa: ANN001
    """The plan of ``prompt``, each noun's first concept chosen (where start.py lets the guide choose), capped."""
    plan = parse(prompt, bank)
    assert plan is not None, prompt
    things = tuple(replace(t, concepts=t.concepts[:1]) for t in plan.things)
    return cap(Plan(things, plan.relations, plan.settings), bank)


def boxes(composition) -> list[list[tuple[float, float, float, float]]]:  # noqa: ANN001
    """Each thing's instances' boxes (the control points' extent) in canvas units."""
    scene = composition.scene
    out = []
    for thing in composition.layout["things"]:
        found = []
        for a, b in thing["strokes"]:
            used = torch.cat([scene.points[k, : 3 * int(scene.segments[k]) + 1] for k in range(a, b)])
            found.append((*used.amin(0).tolist(), *used.amax(0).tolist()))
        out.append(found)
    return out


def names(plan: Plan, bank) -> list[tuple[str, int, str | None]]:  # noqa: ANN001
    return [(bank.concepts[t.concepts[0]], t.count, t.colour) for t in plan.things]


@pytest.mark.parametrize(
    ("prompt", "things", "relations", "settings"),
    [
        ("three red cats", [("cat", 3, "red")], [], []),
        ("a cat on a chair", [("cat", 1, None), ("chair", 1, None)], [(0, "on", 1)], []),
        ("a bird inside a cage", [("bird", 1, None), ("cage", 1, None)], [(0, "in", 1)], []),
        ("a dozen eggs", [("egg", 12, None)], [], []),
        ("a pair of socks", [("socks", 2, None)], [], []),
        ("7 stars in space", [("star", 7, None)], [], ["space"]),
        ("cats", [("cat", 3, None)], [], []),  # a plural without a number: three
        ("several dogs at night", [("dog", 3, None)], [], ["night"]),
        ("an orange cat", [("cat", 1, "orange")], [], []),  # a colour word, not the fruit
        ("an orange", [("orange", 1, None)], [], []),  # the fruit
        ("a red apple", [("red apple", 1, "red")], [], []),  # a whole name that starts with a colour
        ("a black and white cat", [("cat", 1, "black")], [], []),
        ("a man riding a horse", [("man", 1, None), ("horse", 1, None)], [(0, "riding", 1)], []),
        ("a dog in front of a house in the rain", [("dog", 1, None), ("house", 1, None)], [(0, "front", 1)],
         ["rain"]),
        ("a cat wearing a top hat and holding an umbrella",
         [("cat", 1, None), ("top hat", 1, None), ("umbrella", 1, None)], [(0, "wearing", 1), (0, "holding", 2)], []),
        ("a bird on a cat on a chair", [("bird", 1, None), ("cat", 1, None), ("chair", 1, None)],
         [(0, "on", 1), (1, "on", 2)], []),
        ("a tree behind a house next to a car", [("tree", 1, None), ("house", 1, None), ("car", 1, None)],
         [(0, "behind", 1), (1, "beside", 2)], []),
        ("two dogs under an umbrella on the beach", [("dog", 2, None), ("umbrella", 1, None)], [(0, "under", 1)],
         ["beach"]),
        ("a fish underwater", [("fish", 1, None)], [], ["underwater"]),
        ("a fox in autumn", [("fox", 1, None)], [], ["autumn"]),
        ("a bear in the forest at sunset", [("bear", 1, None)], [], ["sunset", "forest"]),
        ("a snowman in the snow", [("snowman", 1, None)], [], ["snow"]),
    ],
)  # fmt: skip
def test_the_parser_reads_counts_colours_relations_and_settings(
    prompt, things, relations, settings, bank
) -> None:  # noqa: ANN001
    plan = plan_of(prompt, bank)
    assert names(plan, bank) == things
    assert [(r.subject, r.kind, r.object) for r in plan.relations] == relations
    assert sorted(plan.settings) == sorted(settings)


def test_names_that_hold_relation_words_stay_whole_and_plain_prompts_are_plain(bank) -> None:  # noqa: ANN001
    for prompt, concept in [
        ("a cloud with rain", "cloud with rain"),
        ("a bridge at night", "bridge at night"),
    ]:
        plan = parse(prompt, bank)
        assert plan is not None and plan.plain and names(plan, bank) == [(concept, 1, None)]
    for prompt in ("a cat", "a horse eating a cupcake", "a girl holding a balloon", "an apple", "a kitten"):
        plan = parse(prompt, bank)
        assert plan is not None and plan.plain, prompt
    for prompt in ("two cats", "a red cat", "a cat at night", "a cat on a chair", "a cat, a dog and a cow"):
        plan = parse(prompt, bank)
        assert plan is not None and not plan.plain, prompt


def test_a_prompt_the_parser_cannot_read_has_no_plan_or_no_concept(bank) -> None:  # noqa: ANN001
    assert parse("", bank) is None and parse("!!! ...", bank) is None and parse("the of a", bank) is None
    plan = parse("three zorblaxes", bank)  # no concept nor stand-in: the guide chooses one in start.py
    assert plan is not None and plan.things[0].concepts == () and plan.things[0].count == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cap(plan, bank).things == ()  # left out without a guide, silently


def test_on_puts_the_cat_on_the_chairs_top(bank) -> None:  # noqa: ANN001
    cat, chair = boxes(compose(plan_of("a cat on a chair", bank), bank, 0))
    (cx0, cy0, cx1, cy1), (hx0, hy0, hx1, hy1) = cat[0], chair[0]
    assert hy0 <= cy1 <= hy0 + 0.4 * (hy1 - hy0)  # the cat's bottom in the chair's top part
    assert cx1 - cx0 < hx1 - hx0 and hx0 <= (cx0 + cx1) / 2 <= hx1  # smaller, over the chair
    assert cy0 < hy0  # it sits on top


def test_in_puts_the_bird_inside_the_cage(bank) -> None:  # noqa: ANN001
    bird, cage = boxes(compose(plan_of("a bird in a cage", bank), bank, 0))
    b, c = bird[0], cage[0]
    assert c[0] < b[0] and c[1] < b[1] and b[2] < c[2] and b[3] < c[3]


def test_relations_place_by_simple_rules(bank) -> None:  # noqa: ANN001
    def centre(b: tuple) -> tuple[float, float]:
        return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2

    under = boxes(compose(plan_of("a dog under an umbrella", bank), bank, 0))
    assert centre(under[0][0])[1] > centre(under[1][0])[1]  # the dog lower than the umbrella
    above = boxes(compose(plan_of("a bird above a house", bank), bank, 0))
    assert above[0][0][3] < above[1][0][1]  # wholly above
    below = boxes(compose(plan_of("a dog below a cloud", bank), bank, 0))
    assert below[0][0][1] > below[1][0][3]  # wholly below
    beside = boxes(compose(plan_of("a cat next to a dog", bank), bank, 0))
    assert beside[0][0][2] < beside[1][0][0]  # side by side, apart
    worn = boxes(compose(plan_of("a cat wearing a top hat", bank), bank, 0))
    cat, hat = worn[0][0], worn[1][0]
    assert hat[1] < cat[1] < hat[3] and hat[2] - hat[0] < cat[2] - cat[0]  # small, on top of the wearer
    ridden = boxes(compose(plan_of("a monkey riding a horse", bank), bank, 0))
    rider, horse = ridden[0][0], ridden[1][0]
    assert rider[1] < horse[1] and horse[1] < rider[3] < (horse[1] + horse[3]) / 2  # on the horse's back
    held = boxes(compose(plan_of("a girl holding a red balloon", bank), bank, 0))
    girl, balloon = held[0][0], held[1][0]
    assert (
        centre(balloon)[0] > girl[2] - 0.2 * (girl[2] - girl[0])
        and balloon[2] - balloon[0] < girl[2] - girl[0]
    )


def test_behind_is_drawn_first_and_in_front_last(bank) -> None:  # noqa: ANN001
    behind = compose(plan_of("a tree behind a house", bank), bank, 0).layout["things"]
    assert behind[0]["strokes"][0][0] < behind[1]["strokes"][0][0]  # the tree's strokes come first
    front = compose(plan_of("a dog in front of a house", bank), bank, 0).layout["things"]
    assert front[0]["strokes"][0][0] > front[1]["strokes"][0][0]
    chain = compose(plan_of("a bird on a cat on a chair", bank), bank, 0).layout["things"]
    starts = [t["strokes"][0][0] for t in chain]
    assert starts[2] < starts[1] < starts[0]  # chair, then the cat on it, then the bird on the cat


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 8, 9, 11, 12])
def test_counts_place_that_many_apart_and_smaller(n: int, bank) -> None:  # noqa: ANN001
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "8", 9: "nine", 11: "eleven",
             12: "twelve"}[n]  # fmt: skip
    c = compose(plan_of(f"{words} cats", bank), bank, 0)
    (thing,) = c.layout["things"]
    assert thing["count"] == n and len(thing["strokes"]) == n
    found = boxes(c)[0]
    for i in range(n):
        for j in range(i + 1, n):
            a, b = found[i], found[j]
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (i, j)  # no two overlap
    one = boxes(compose(plan_of("a red cat", bank), bank, 0))[0][0]
    assert found[0][2] - found[0][0] < one[2] - one[0]
    assert bool((c.scene.points >= 0).all() and (c.scene.points <= 1).all())


@pytest.mark.parametrize("colour", ["red", "orange", "yellow", "green", "blue", "purple", "violet", "pink",
                                    "brown", "black", "white", "grey", "gold", "silver", "cyan", "navy"])  # fmt: skip
@pytest.mark.parametrize("thing", ["cat", "car", "horse"])  # a colour icon, a line icon, one with black parts
def test_a_colour_word_leads_its_thing(colour: str, thing: str, bank) -> None:  # noqa: ANN001
    c = compose(plan_of(f"a {colour} {thing}", bank), bank, 0)
    assert shows_colour(render(c.scene, 112), c.scene.background, colour), (colour, thing)


def test_colour_words_are_measured_by_their_hue_or_lightness() -> None:
    assert {w: colour_bin(w) for w in ("red", "crimson", "orange", "brown", "gold", "green", "teal", "navy",
                                       "violet", "purple", "pink", "black", "grey", "silver", "white")} == {
        "red": "red", "crimson": "red", "orange": "orange", "brown": "orange", "gold": "yellow", "green": "green",
        "teal": "cyan", "navy": "blue", "violet": "purple", "purple": "purple", "pink": "pink", "black": "black",
        "grey": "grey", "silver": "grey", "white": "white"}  # fmt: skip


@pytest.mark.parametrize(("prompt", "colour"), [("a cat", "blue"), ("a car", "red"), ("a horse", "green")])
def test_without_the_word_the_icon_does_not_show_the_colour(prompt: str, colour: str, bank) -> None:  # noqa: ANN001
    """The control of the test above: the recolouring, not the icon, gives the colour."""
    plain = compose(plan_of(prompt.replace("a ", "two ") + "s", bank), bank, 0)
    assert not shows_colour(render(plain.scene, 112), plain.scene.background, colour)


def test_only_the_qualified_thing_is_recoloured(bank) -> None:  # noqa: ANN001
    c = compose(plan_of("a blue cat on a red chair next to a dog", bank), bank, 0)
    plain = compose(plan_of("a cat on a chair next to a dog", bank), bank, 0)
    things = c.layout["things"]
    for thing, want in zip(things, ["blue", "red", None], strict=True):
        (a, b), scene = thing["strokes"][0], c.scene
        part = scene.subset(torch.arange(scene.num_strokes).ge(a) & torch.arange(scene.num_strokes).lt(b))
        if want is None:
            assert torch.equal(part.colors, plain.scene.colors[a:b])
        else:
            assert shows_colour(render(part, 112), scene.background, want)
    assert set(COLOURS) >= {
        "red",
        "orange",
        "yellow",
        "green",
        "blue",
        "purple",
        "pink",
        "brown",
        "black",
        "white",
    }


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_settings_set_the_canvas_and_add_what_belongs(setting: str, bank) -> None:  # noqa: ANN001
    phrase = SETTING_WORDS[setting][0]
    c = compose(plan_of(f"a dog {phrase}", bank), bank, 0)
    assert c.layout["settings"] == [setting] and c.scene.background == SETTINGS[setting].background
    assert c.layout["extras"] and c.layout["extras"][0][0] == 0  # drawn first, behind the dog
    dog = c.layout["things"][0]["strokes"][0]
    assert dog[0] == c.layout["extras"][-1][1] and dog[1] == c.scene.num_strokes
    for concept, *_ in SETTINGS[setting].icons:
        assert concept in bank.concepts, concept  # the bank holds what the setting adds
        credit = bank.icons[bank.icons_of(bank.concepts.index(concept))[0]].partition(":")[2]
        assert f"'{credit}'" in c.credit
    assert "'dog'" in c.credit
    assert bool((c.scene.points[dog[0] : dog[1]] >= 0).all() and (c.scene.points[dog[0] : dog[1]] <= 1).all())
    # a canvas the user set wins over the setting's
    assert compose(plan_of(f"a dog {phrase}", bank), bank, 0, (1.0, 1.0, 0.0)).scene.background == (
        1.0,
        1.0,
        0.0,
    )


def test_a_dark_setting_lights_the_things_dark_lines(bank) -> None:  # noqa: ANN001
    day = compose(plan_of("two cars", bank), bank, 0)  # a black line icon
    night = compose(plan_of("two cars at night", bank), bank, 0)
    a, b = night.layout["things"][0]["strokes"][0]
    assert float(day.scene.colors[:, :3].max()) < 0.2 and float(night.scene.colors[a:b, :3].min()) > 0.8


def test_impossible_counts_and_long_scenes_are_capped_with_one_warning(bank) -> None:  # noqa: ANN001
    for prompt in ("a million cats", "1000000000000000000000000000 cats", "a thousand horses at night",
                   "twelve horses next to twelve cows next to twelve pigs next to twelve dogs",
                   "a cat, a dog, a cow, a pig, a hen, a fox, a owl and a bee"):  # fmt: skip
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plan = plan_of(prompt, bank)
        assert len(caught) == 1 and "the scene is more than a drawing holds" in str(caught[0].message), prompt
        c = compose(plan, bank, 0)
        assert all(t.count <= MAX_COUNT for t in plan.things) and c.scene.num_strokes <= STROKE_BUDGET
        assert sum(len(t["strokes"]) for t in c.layout["things"]) >= 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = plan_of("a million cats", bank)
    assert "1000000 cats become 12" in str(caught[0].message) and plan.things[0].count == 12
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan_of("twelve cats at night", bank)  # within the caps: no warning


def test_every_icon_is_credited(bank) -> None:  # noqa: ANN001
    c = compose(plan_of("a cat wearing a top hat on a chair at night", bank), bank, 0)
    for name in ("'cat'", "'top-hat'", "'chair'", "'crescent-moon'", "'star'"):
        assert name in c.credit, name
    assert c.credit.count("'star'") == 1  # each icon once


def test_seeds_pick_other_styles_and_compose_is_deterministic(bank) -> None:  # noqa: ANN001
    plan = plan_of("three cats on a sofa", bank)
    a, b, again = compose(plan, bank, 0), compose(plan, bank, 1), compose(plan, bank, 0)
    assert a.layout["things"][0]["icon"] != b.layout["things"][0]["icon"]
    assert torch.equal(a.scene.points, again.scene.points) and a.layout == again.layout


@pytest.mark.parametrize("record", ["plain-starts.json", "bank-named-starts.json"])
def test_prompts_whose_words_the_bank_names_start_exactly_as_before(bank, record: str) -> None:  # noqa: ANN001
    """The starts of prompts against their SVG hashes: plain-starts.json recorded before the composer existed
    (those of "a kitten" and "Crème brûlée", words the bank lacks, since their WordNet stand-in came; "a teddy",
    which neither the bank nor WordNet names, now starts from random strokes), bank-named-starts.json before the
    WordNet stand-ins (words the bank names, beside words that have one: "a jet black horse", "a deck chair", "a
    cat sitting down")."""
    from clipart.models import load_model
    from clipart.start import icon_scenes
    from clipart.svg import scene_to_svg

    guide = load_model("clipart-mini", device="cpu")
    recorded = json.loads((FIXTURES / record).read_text(encoding="utf-8"))
    for key, digest in recorded.items():
        prompt, seed = key.split("|")
        start = icon_scenes([prompt], [1.0], [guide], [int(seed)])[0]
        svg = scene_to_svg(start.scene, 224, title=prompt, desc=start.credit)
        assert hashlib.sha256(svg.encode()).hexdigest() == digest, key


@pytest.mark.parametrize("prompt", ["a cat", "a horse eating a cupcake"])
def test_one_noun_and_pair_drawings_are_byte_identical_to_before(prompt: str) -> None:
    import clipart

    d = clipart.draw(prompt, steps=3, views=2, threads=1, seed=0)
    name = prompt.replace(" ", "-")
    assert d.svg() == (FIXTURES / f"{name}-steps3-seed0.svg").read_text(encoding="utf-8")
    if "horse" in prompt:
        assert [t["thing"] for t in d.layout["things"]] == ["horse", "cupcake"]  # both shown


def test_a_settings_canvas_reaches_the_drawing_unless_the_user_sets_one() -> None:
    import clipart

    night = clipart.draw("a cat at night", steps=1, views=1, threads=1)
    assert '<rect width="224" height="224" fill="#141c45"/>' in night.svg()
    assert night.layout["settings"] == ["night"] and night.sidecar()["layout"]["background"] == "#141c45"
    white = clipart.draw("a cat at night", steps=1, views=1, threads=1, background="#ffffff")
    assert '<rect width="224" height="224" fill="#ffffff"/>' in white.svg()
    assert night.config.background == "" and white.config.background == "#ffffff"
    sketch = clipart.draw("a red cat at night", preset="sketch", steps=1, views=1, threads=1)
    assert sketch.scene.background == (1.0, 1.0, 1.0)  # a pen draws on white
    (cat,) = sketch.layout["things"]
    a, b = cat["strokes"][0]
    assert bool((sketch.scene.colors[:a, :3] == 0).all()) and shows_colour(
        render(sketch.scene.subset(torch.arange(sketch.scene.num_strokes) >= a), 112), (1.0, 1.0, 1.0), "red"
    )  # the pen draws the moon and stars, the red cat stays red
    assert b == sketch.scene.num_strokes


def test_the_cli_says_a_cap_in_one_warning_line_and_credits_the_scene(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    argv = [sys.executable, "-m", "clipart", "draw", "a million cats in the rain", "--steps", "1", "--views", "1",
            "--out", str(tmp_path / "c.svg")]  # fmt: skip
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if line.startswith("clipart: warning:")]
    assert warned == [
        "clipart: warning: the scene is more than a drawing holds (12 of a thing, 6 things, 1024 strokes): "
        "1000000 cats become 12"
    ], proc.stderr
    credit = proc.stderr.strip().splitlines()[-1]
    assert credit.startswith("Started from the icon 'cat'") and "'cloud'" in credit
    sidecar = json.loads((tmp_path / "c.json").read_text())
    assert sidecar["credit"] == credit and sidecar["layout"]["things"][0]["count"] == 12
    assert len(sidecar["layout"]["things"][0]["strokes"]) == 12


def test_small_icons_move_less_and_the_settings_strokes_stay(bank) -> None:  # noqa: ANN001
    """Points move at a share of the rate that follows each icon's scale: a dozen small cats keep their shapes
    as one large cat does, and the rain stays where it fell."""
    import clipart

    composed = compose(plan_of("twelve cats in the rain", bank), bank, 0)
    (rain, *_), cats = composed.layout["extras"], composed.layout["things"][0]["strokes"]
    assert bool((composed.rates[rain[0] : rain[1]] == 0).all()) and float(composed.rates.max()) <= 1.0
    a, b = cats[0]
    assert 0.1 < float(composed.rates[a]) < 0.5 and bool((composed.rates[a:b] == composed.rates[a]).all())
    events = list(clipart.steps("twelve cats in the rain", steps=3, views=1, threads=1))
    first, last = events[0].scene, events[-1].scene
    assert torch.equal(first.points[rain[0] : rain[1]], last.points[rain[0] : rain[1]])
    step = (
        events[0].config.icon_lr_points / events[0].config.size
    )  # the most a point moves a step, in canvas units
    moved = (last.points[a:b] - first.points[a:b]).abs().amax()
    assert 0 < float(moved) <= 2 * step * float(composed.rates[a]) * 1.05


def test_a_noun_the_bank_lacks_is_left_to_the_guide() -> None:
    """'table' names no concept: the start holds what the bank knows, and no guess for the table (with no guide
    passed, a guess would fail)."""
    from clipart.start import icon_scenes

    (apple,) = icon_scenes(["a red apple on a table"], [1.0], [], [0])
    assert [t["thing"] for t in apple.layout["things"]] == ["red apple"] and apple.layout["relations"] == []
    assert apple.credit.endswith('(MIT); no icon or WordNet stand-in for "table": left to the guide')
    (cat,) = icon_scenes(["a cat on a table"], [1.0], [], [0])  # then plain: the one-icon start of before
    assert [t["thing"] for t in cat.layout["things"]] == ["cat"] and cat.rates is None


def test_the_stand_in_is_the_last_tier_and_only_for_the_head_noun(bank) -> None:  # noqa: ANN001
    """A word the bank lacks is drawn by its stand-in only where no word of its thing names a concept, and only
    as the thing's head: the last word the map holds, before what follows the head."""

    def things(prompt: str) -> list[tuple[str, int, str | None]]:
        plan = parse(prompt, bank)
        assert plan is not None, prompt
        return [(bank.concepts[t.concepts[0]], t.count, t.stand_in and t.stand_in.word) for t in plan.things]

    assert bank.stand_ins["jet"][0] == "airplane" and bank.stand_ins["deck"][0] == "platform"  # in the map
    assert things("a jet black horse") == [("horse", 1, None)]  # "jet" is not the thing: the horse is
    assert things("a deck chair") == [("chair", 1, None)]
    assert things("a cat sitting down") == [("cat", 1, None)] and "down" not in bank.stand_ins
    assert things("a jet black kitten sitting down") == [("cat", 1, "kitten")]
    assert things("two puppies on a deck") == [("dog", 2, "puppy"), ("platform", 1, "deck")]
    assert things("a kitten from the deck") == [("cat", 1, "kitten")]  # "from" ends the head noun
    assert things("three mice") == [("mouse", 3, "mice")]  # an irregular plural counts as one
