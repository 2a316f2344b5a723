"""The scene guide's training pictures (recipes/scene_guide.py): the guide's own icon sets, never a judge's, laid out
by the composer's rules, never a held-out concept, in groups that differ in one way, each caption true of its
picture."""

from __future__ import annotations

import json
import random
from pathlib import Path

import icondata  # recipes/ is on sys.path through conftest
import judge
import pytest
import scene_guide
import scene_judge
from conftest import count_blobs, write_sprite
from PIL import Image

from clipart import compose


@pytest.fixture
def sprites(tmp_path: Path) -> scene_judge.Sprites:
    """Sprites of 40 made-up things (some held out by the guide's hash rule), the settings' extras, mono things."""
    rows = []
    rng = random.Random(0)
    names = [f"gadget {k}" for k in range(40)] + sorted(scene_guide.EXTRAS)
    for k, name in enumerate(names):
        rel = f"noto/{k}.png"
        write_sprite(
            tmp_path / rel, (rng.randrange(150), rng.randrange(150), rng.randrange(150)), wide=k % 2 == 0
        )
        rows.append({"file": rel, "concept": name, "mono": False})
    for k in range(12):
        rel = f"game-icons/{k}.png"
        write_sprite(tmp_path / rel, (0, 0, 0))
        rows.append({"file": rel, "concept": f"inkpot{k}", "mono": True})
    (tmp_path / "sprites.json").write_text(json.dumps(rows), encoding="utf-8")
    return scene_judge.Sprites(tmp_path, scene_guide.EXTRAS, scene_guide.held_out, scene_guide.is_thing)


def test_the_guide_learns_from_its_own_sets_never_a_judges() -> None:
    assert not set(scene_guide.ROLES) & set(judge.ROLES)
    assert set(scene_guide.ROLES) <= set(icondata.ROLES)
    assert scene_guide.GUIDE.name == "clipart-mini" and scene_guide.GUIDE != scene_judge.RPRECISION_JUDGE


def test_held_out_things_are_never_composed_in_training(sprites: scene_judge.Sprites) -> None:
    assert sprites.things["eval"], "the hash rule should hold some of 40 gadgets out"
    assert not set(sprites.things["train"]) & set(sprites.things["eval"])
    assert not scene_guide.EXTRAS & set(sprites.things["train"] + sprites.things["eval"])
    rng = random.Random(1)
    for _ in range(100):
        kind = rng.choice(list(scene_judge.KINDS))
        for _, caption in scene_guide.compose_group(kind, rng, sprites, "train"):
            assert not any(f" {c} " in f" {caption} ".replace(",", " ") for c in sprites.things["eval"])
            assert " and " not in caption and " with " not in caption


@pytest.mark.parametrize("kind", list(scene_judge.KINDS))
def test_a_group_differs_in_its_kind_only(kind: str, sprites: scene_judge.Sprites) -> None:
    rng = random.Random(2)
    for _ in range(15):
        group = scene_guide.compose_group(kind, rng, sprites, "train")
        assert len(group) == scene_guide.PER_GROUP
        assert all(image.size == (64, 64) and image.mode == "RGB" for image, _ in group)
        captions = [caption for _, caption in group]
        assert len(set(captions)) == len(captions)
        assert len({image.tobytes() for image, _ in group}) == len(group)


def test_settings_look_like_the_composers(sprites: scene_judge.Sprites) -> None:
    """A night or space picture is dark, a rain picture carries the composer's rain lines."""
    rng = random.Random(3)
    cat = Image.new("RGBA", (30, 30), (200, 120, 40, 255))
    for setting in ("night", "space"):
        image = scene_guide.picture([(cat, 1)], None, setting, rng, sprites).convert("L")
        assert sum(image.get_flattened_data()) / image.width**2 < 90, setting
    rain = scene_guide.picture([(cat, 1)], None, "rain", rng, sprites).convert("RGB")
    blue = sum(1 for r, g, b in rain.get_flattened_data() if b > r + 60 and b > 150)
    assert blue > 40, "the rain lines are drawn"


@pytest.mark.parametrize("n", [1, 2, 5, 8, 12])
def test_counts_draw_as_many_as_asked(n: int, sprites: scene_judge.Sprites) -> None:
    rng = random.Random(4)
    dot = Image.new("RGBA", (24, 24), (0, 0, 0, 0))
    dot.paste(Image.new("RGBA", (16, 16), (0, 0, 0, 255)), (4, 4))
    image = scene_guide.picture([(dot, n)], None, None, rng, sprites).convert("L")
    assert count_blobs(image.point(lambda v: 255 if v < 128 else 0)) == n


def test_count_captions_span_one_to_twelve(sprites: scene_judge.Sprites) -> None:
    rng = random.Random(6)
    words = {v: k for k, v in scene_judge.NUMBER_WORDS.items()}
    seen = set()
    for _ in range(40):
        for _, caption in scene_guide.compose_group("count", rng, sprites, "train"):
            text = caption.removesuffix(", clip art")
            for prefix in ("a drawing of ", "an illustration of "):
                text = text.removeprefix(prefix)
            first = text.split()[0]
            seen.add(12 if "dozen" in text else 1 if first in ("a", "an") else int(words.get(first, first)))
    assert seen == set(range(1, compose.MAX_COUNT + 1))


def _box(image: Image.Image, pick) -> tuple[int, int, int, int]:  # noqa: ANN001 - a pixel test
    xs, ys = [], []
    for k, pixel in enumerate(image.get_flattened_data()):
        if pick(pixel):
            xs.append(k % image.width)
            ys.append(k // image.width)
    assert xs, "the thing shows"
    return min(xs), min(ys), max(xs), max(ys)


@pytest.mark.parametrize("relation", ["on", "under", "above", "below", "beside", "in", "wearing"])
def test_relation_captions_are_true_of_their_pictures(relation: str, sprites: scene_judge.Sprites) -> None:
    """Red subject, blue object, placed by the composer's rule: the boxes hold the relation the caption names."""
    rng = random.Random(5)
    red = Image.new("RGBA", (30, 30), (255, 0, 0, 255))
    blue = Image.new("RGBA", (30, 30), (0, 0, 255, 255))
    for _ in range(5):
        image = scene_guide.picture([(red, 1), (blue, 1)], relation, None, rng, sprites).convert("RGB")
        s = _box(image, lambda p: p[0] > 200 and p[2] < 60)
        o = _box(image, lambda p: p[2] > 200 and p[0] < 60)
        s_cy, o_cy = (s[1] + s[3]) / 2, (o[1] + o[3]) / 2
        holds = {
            "on": s_cy < o_cy and s[3] <= o[3],
            "under": s_cy > o_cy,
            "above": s[3] <= o[1],
            "below": s[1] >= o[3],
            "beside": s[2] <= o[0] or o[2] <= s[0],
            "in": o[0] <= s[0] and s[2] <= o[2] and o[1] <= s[1] and s[3] <= o[3],
            "wearing": o_cy < s_cy,
        }[relation]
        assert holds, (relation, s, o)


def _folder(path: Path, value: float, stage: str | None = None) -> Path:
    import torch
    from safetensors.torch import save_file

    path.mkdir(parents=True)
    meta = {"format": "pt"} | ({"stage": stage} if stage else {})
    save_file(
        {"w": torch.full((2, 2), value).half()}, str(path / "open_clip_model.safetensors"), metadata=meta
    )
    (path / "open_clip_config.json").write_text("{}")
    (path / "ATTRIBUTION.md").write_text("icons: CC-BY\n")
    return path


def test_export_ships_the_base_plus_a_share_of_the_fine_tunes_change(tmp_path: Path) -> None:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    work = tmp_path / "work"
    base = scene_guide.keep_base(work, _folder(tmp_path / "embedded", 1.0))
    (work / "run").mkdir(parents=True)
    torch.save({"model": {"w": torch.full((2, 2), 3.0)}, "step": 5}, work / "run" / "last.pt")
    target = tmp_path / "embedded"
    scene_guide.export(work, 5, base, target, mix=0.4)
    assert load_file(str(work / "tuned" / "open_clip_model.safetensors"))["w"].float().eq(3.0).all()
    shipped = load_file(str(target / "open_clip_model.safetensors"))["w"]
    assert shipped.dtype == torch.float16 and torch.allclose(
        shipped.float(), torch.full((2, 2), 1.8), atol=1e-3
    )
    with safe_open(str(target / "open_clip_model.safetensors"), "pt") as handle:
        assert handle.metadata()["stage"] == scene_guide.STAGE
    assert (target / "ATTRIBUTION.md").read_text() == "icons: CC-BY\n"
    assert all(
        (target / n).stat().st_mode & 0o777 == 0o644
        for n in ("open_clip_model.safetensors", "ATTRIBUTION.md")
    )
    # the next run starts from the kept base, not from the weights the export replaced
    assert scene_guide.keep_base(work, target) == base
    assert load_file(str(base / "open_clip_model.safetensors"))["w"].float().eq(1.0).all()


def test_weights_that_hold_the_scene_stage_are_refused_as_a_base(tmp_path: Path) -> None:
    marked = _folder(tmp_path / "shipped", 1.0, stage=scene_guide.STAGE)
    with pytest.raises(icondata.RecipeError, match="already holds the scene stage"):
        scene_guide.keep_base(tmp_path / "work", marked)
    assert not (tmp_path / "work" / "base").exists()


def test_an_unfinished_run_is_not_exported(tmp_path: Path) -> None:
    import torch

    work = tmp_path / "work"
    base = scene_guide.keep_base(work, _folder(tmp_path / "embedded", 1.0))
    (work / "run").mkdir(parents=True)
    torch.save({"model": {"w": torch.full((2, 2), 3.0)}, "step": 4}, work / "run" / "last.pt")
    with pytest.raises(icondata.RecipeError, match="stopped at step 4 of 5"):
        scene_guide.export(work, 5, base, tmp_path / "embedded")


def test_a_run_resumes_only_with_its_own_settings(tmp_path: Path, tiny_model_dir: Path) -> None:
    def batch(rng: random.Random) -> tuple[list, list[str]]:
        return [Image.new("RGB", (64, 64), (rng.randrange(256), 0, 0)) for _ in range(4)], [
            "a",
            "b",
            "c",
            "d",
        ]

    scene_judge.fine_tune(tmp_path, tiny_model_dir, batch, 1, anchor=1.0, anchored=2)
    with pytest.raises(icondata.RecipeError, match=r"other settings \(anchor\)"):
        scene_judge.fine_tune(tmp_path, tiny_model_dir, batch, 1, anchor=0.0, anchored=2)
    with pytest.raises(ValueError, match="anchored > 0"):
        scene_judge.fine_tune(tmp_path / "other", tiny_model_dir, batch, 1, anchor=1.0)
    with pytest.raises(icondata.RecipeError, match="run the train stage first"):
        scene_guide.export(tmp_path / "none", 1, tiny_model_dir, tmp_path / "mix")
