"""The scene judge's training pictures (recipes/scene_judge.py): composed only from the honest judge's own sets,
never from a held-out concept, in groups that differ in one way, each picture with a caption true of it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import judge  # recipes/ is on sys.path through conftest
import pytest
import scene_judge
from conftest import count_blobs, write_sprite
from PIL import Image


@pytest.fixture
def sprites(tmp_path: Path) -> scene_judge.Sprites:
    """Sprites of 40 made-up things (some held out by the hash rule), every setting's extras, a monochrome thing."""
    rows = []
    rng = random.Random(0)
    names = [f"gadget {k}" for k in range(40)] + sorted(scene_judge.EXTRAS)
    for k, name in enumerate(names):
        rel = f"twemoji/{k}.png"
        write_sprite(
            tmp_path / rel, (rng.randrange(150), rng.randrange(150), rng.randrange(150)), wide=k % 2 == 0
        )
        rows.append({"file": rel, "concept": name, "mono": False})
    for k in range(12):
        rel = f"emojione-monotone/{k}.png"
        write_sprite(tmp_path / rel, (0, 0, 0))
        rows.append({"file": rel, "concept": f"inkpot{k}", "mono": True})
    (tmp_path / "sprites.json").write_text(json.dumps(rows), encoding="utf-8")
    return scene_judge.Sprites(tmp_path)


def test_held_out_things_are_never_composed_in_training(sprites: scene_judge.Sprites) -> None:
    assert sprites.things["eval"], "the hash rule should hold some of 40 gadgets out"
    assert not set(sprites.things["train"]) & set(sprites.things["eval"])
    assert all(scene_judge.held_out(c) for c in sprites.things["eval"])
    rng = random.Random(1)
    for _ in range(200):
        kind = rng.choice(list(scene_judge.KINDS))
        for _, caption in scene_judge.compose_group(kind, rng, sprites, "train"):
            assert not any(f" {c} " in f" {caption} ".replace(",", " ") for c in sprites.things["eval"])


def test_setting_extras_are_never_the_thing(sprites: scene_judge.Sprites) -> None:
    assert not scene_judge.EXTRAS & set(sprites.things["train"] + sprites.things["eval"])


@pytest.mark.parametrize("kind", list(scene_judge.KINDS))
def test_a_group_differs_in_its_kind_only(kind: str, sprites: scene_judge.Sprites) -> None:
    rng = random.Random(2)
    for _ in range(20):
        group = scene_judge.compose_group(kind, rng, sprites, "train")
        assert len(group) == scene_judge.PER_GROUP
        assert all(image.size == (64, 64) and image.mode == "RGB" for image, _ in group)
        captions = [caption for _, caption in group]
        assert len(set(captions)) == len(captions)
        pixels = [image.tobytes() for image, _ in group]
        assert len(set(pixels)) == len(pixels)


def test_setting_captions_name_their_setting(sprites: scene_judge.Sprites) -> None:
    phrases = [p for ps, _ in scene_judge.SETTINGS.values() for p in ps]
    rng = random.Random(3)
    night = [
        (image, caption)
        for _ in range(40)
        for image, caption in scene_judge.compose_group("setting", rng, sprites, "train")
        if "at night" in caption
    ]
    assert night
    for image, caption in night:
        assert sum(image.convert("L").get_flattened_data()) / 64**2 < 128, caption  # a night is dark
    plain = [c for _ in range(20) for _, c in scene_judge.compose_group("setting", rng, sprites, "train")]
    assert any(not any(p in c for p in phrases) for c in plain), (
        "a group also holds the thing without a setting"
    )


def test_counts_draw_as_many_as_the_caption_says(sprites: scene_judge.Sprites) -> None:
    rng = random.Random(4)
    words = {v: k for k, v in scene_judge.NUMBER_WORDS.items()}
    for _ in range(10):
        for image, caption in scene_judge.compose_group("count", rng, sprites, "train"):
            first = caption.removeprefix("a drawing of ").removeprefix("a picture of ").split()[0]
            n = 12 if "dozen" in caption else 1 if first in ("a", "an") else int(words.get(first, first))
            mask = image.convert("L").point(lambda v: 255 if v < 200 else 0)
            blobs = count_blobs(mask)
            assert blobs == n, (caption, blobs)


@pytest.mark.parametrize(
    ("noun", "many"),
    [("cat", "cats"), ("party hat", "party hats"), ("mouse", "mice"), ("box", "boxes"), ("cherry", "cherries"),
     ("key", "keys"), ("fish", "fish")],
)  # fmt: skip
def test_plural(noun: str, many: str) -> None:
    assert scene_judge.plural(noun) == many


def test_the_scene_judge_starts_from_the_honest_judge() -> None:
    assert scene_judge.RPRECISION_JUDGE == judge.TARGET
    assert scene_judge.TARGET != judge.TARGET


def test_things_are_plain_singular_concepts() -> None:
    assert (
        scene_judge.is_thing("cat") and scene_judge.is_thing("party hat") and scene_judge.is_thing("cactus")
    )
    assert not scene_judge.is_thing("houses")
    assert not scene_judge.is_thing("flag of france")
    assert not scene_judge.is_thing("twelve thirty")


@pytest.mark.parametrize("relation", sorted(scene_judge.RELATIONS))
def test_a_relations_subject_shows(relation: str, sprites: scene_judge.Sprites) -> None:
    """The subject of every relation picture shows at least MIN_VISIBLE of itself (drawn alone, then in place)."""

    rng = random.Random(5)
    red = Image.new("RGBA", (30, 30), (255, 0, 0, 255))
    blue = Image.new("RGBA", (30, 30), (0, 0, 255, 255))
    for _ in range(30):
        canvas = scene_judge.relation_picture(relation, red, blue, rng)
        reds = sum(1 for r, g, b, _ in canvas.get_flattened_data() if r > 200 and g < 60 and b < 60)
        assert reds > 0.2 * 30 * 30 * (0.1 if relation in ("in", "wearing", "holding", "eating") else 1)


def test_no_caption_word_in_a_things_name_and_articles() -> None:
    for concept in (
        "bridge at night",
        "woman swimming",
        "men wrestling",
        "red apple",
        "no smoking",
        "two hearts",
    ):
        assert not scene_judge.is_thing(concept), concept
    assert scene_judge.article("unicorn") == "a unicorn"
    assert scene_judge.article("umbrella") == "an umbrella"
    assert scene_judge.article("hourglass") == "an hourglass"
    assert scene_judge.article("one piece swimsuit") == "a one piece swimsuit"


def test_counts_run_evenly_from_one_to_twelve(sprites: scene_judge.Sprites) -> None:
    rng = random.Random(6)
    seen = set()
    words = {v: k for k, v in scene_judge.NUMBER_WORDS.items()}
    for _ in range(60):
        for _, caption in scene_judge.compose_group("count", rng, sprites, "train"):
            first = caption.removeprefix("a drawing of ").removeprefix("a picture of ").split()[0]
            seen.add(
                12 if "dozen" in caption else 1 if first in ("a", "an") else int(words.get(first, first))
            )
    assert seen == set(range(1, 13))


def test_extras_are_props_never_subjects(sprites: scene_judge.Sprites) -> None:
    assert not scene_judge.EXTRAS & set(sprites.mono_things["train"] + sprites.mono_things["eval"])
    assert not any(scene_judge.held_out(e) for e in scene_judge.EXTRAS)
