"""Guide loading: local dirs, checkpoint files, clear errors, and a fast failure with no network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from clipart.errors import ModelError
from clipart.models import load_model

OFFLINE_ENV = {
    **os.environ,
    "HF_HUB_OFFLINE": "0",
    "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there: the hub "cannot be reached"
    "HF_HOME": "",  # replaced per test with an empty cache
}


def test_local_dir_loads_and_encodes(tiny_model: str, device: str) -> None:
    guide = load_model(tiny_model, device=device)
    text = guide.encode_text(["a red circle", "a blue square"])
    img = guide.encode_image(torch.rand(3, 3, 64, 64, device=device))  # resized to the model's 32 px
    assert text.shape == (2, 32) and img.shape == (3, 32) and text.device.type == torch.device(device).type
    assert torch.allclose(text.norm(dim=-1).cpu(), torch.ones(2), atol=1e-5)
    assert guide.image_size == 32 and guide.context_length == 16
    assert load_model(tiny_model, device=device) is guide  # cached per process


def test_random_weights_are_the_same_in_every_process_and_leave_the_random_state(tmp_path: Path) -> None:
    from conftest import TINY_CFG

    from clipart.models import guide

    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"model_cfg": TINY_CFG}), encoding="utf-8")
    features = []
    for seed in (1, 2):  # the caller's random state differs; a new process would load afresh
        guide._CACHE.clear()
        expected = torch.manual_seed(seed) and torch.rand(3)  # what the caller's generator gives next
        torch.manual_seed(seed)
        with pytest.warns(UserWarning, match="random weights"):
            features.append(load_model(str(config), device="cpu").encode_text(["a cat"]))
        assert torch.equal(torch.rand(3), expected)  # loading drew nothing from it
    assert torch.equal(*features)
    guide._CACHE.clear()


def test_checkpoint_file_with_config_beside_it(tiny_model_dir: Path, device: str) -> None:
    guide = load_model(str(tiny_model_dir / "open_clip_model.safetensors"), device=device)
    assert guide.encode_text(["x"]).shape == (1, 32)


def test_long_prompt_warns_that_it_was_truncated(tiny_model: str) -> None:
    guide = load_model(tiny_model, device="cpu")
    with pytest.warns(UserWarning, match="truncated"):
        guide.encode_text(["a very long prompt " * 10])


@pytest.mark.parametrize(
    "spec, pretrained, words",
    [
        ("NoSuchNet-9", None, "unknown model"),
        ("ViT-B-32", "no-such-tag", "neither a weights file nor a pretrained tag"),
        ("local-dir:/nonexistent/dir", None, "model folder not found"),
        ("/nonexistent/model.safetensors", None, "checkpoint file not found"),
        ("hf-hub:just-a-name", None, "hf-hub:org/repo"),
    ],
)
def test_bad_model_specs(spec: str, pretrained: str | None, words: str) -> None:
    with pytest.raises(ModelError, match=words):
        load_model(spec, pretrained, device="cpu")


def test_corrupt_checkpoint_is_a_clear_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "open_clip_model.safetensors").write_bytes(b"this is not a safetensors file")
    with pytest.raises(ModelError, match="could not load model"):
        load_model(f"local-dir:{broken}", device="cpu")


@pytest.mark.parametrize(
    "args", [["--model", "ViT-B-32", "--pretrained", "openai"], ["--model", "hf-hub:org/x"]]
)
def test_pretrained_model_without_network_fails_fast(args: list[str], tmp_path: Path) -> None:
    env = dict(OFFLINE_ENV, HF_HOME=str(tmp_path / "hf"))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "clipart", "draw", "a cat", *args, "--out", str(tmp_path) + "/"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.perf_counter() - t0
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("clipart: error")]
    assert len(lines) == 1 and "cannot be reached" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert took < 2.0 + _python_startup(), took
    assert not list(tmp_path.glob("*.svg"))


def _python_startup() -> float:
    """Seconds for the interpreter to import torch and open_clip here (not part of the 2 s budget)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, open_clip, kornia"], check=True)
    return time.perf_counter() - t0


def test_a_named_checkpoint_file_is_the_one_loaded(tiny_model_dir: Path, tmp_path: Path) -> None:
    from conftest import make_tiny_model_dir

    folder = shutil.copytree(tiny_model_dir, tmp_path / "two-checkpoints")
    other = make_tiny_model_dir(tmp_path / "other", seed=1)
    shutil.copy(other / "open_clip_model.safetensors", folder / "finetuned.safetensors")
    named = load_model(str(folder / "finetuned.safetensors"), device="cpu").encode_text(["a cat"])
    expected = load_model(f"local-dir:{other}", device="cpu").encode_text(["a cat"])
    default = load_model(f"local-dir:{folder}", device="cpu").encode_text(["a cat"])
    assert torch.allclose(named, expected) and not torch.allclose(named, default)


@pytest.mark.parametrize("kind", ["checkpoint file", "corrupt file", "training checkpoint", "bare file"])
def test_draw_with_a_file_model_prints_only_clipart_lines(
    kind: str, tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    shutil.copytree(tiny_model_dir, folder)
    model = folder / "open_clip_model.safetensors"
    if kind == "corrupt file":
        model.write_bytes(b"this is not a safetensors file")
    if kind == "training checkpoint":  # as `clipart train` lays out a run folder
        (folder / "config.json").write_text("{}")
        (folder / "checkpoints").mkdir()
        model = folder / "checkpoints" / "step_00000100.pt"
        torch.save({"model": {}}, model)
    if kind == "bare file":
        (folder / "open_clip_config.json").unlink()
    argv = ["draw", "a cat", "--model", str(model), "--steps", "2", "--strokes", "4", "--size", "32", "-q"]
    proc = subprocess.run([sys.executable, "-m", "clipart", *argv, "--out", str(tmp_path / "out/")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "WARNING" not in proc.stderr, proc.stderr  # open_clip's logger stays quiet
    expected = {
        "checkpoint file": (0, ""),
        "corrupt file": (2, "could not load model"),
        "training checkpoint": (2, f"--model local-dir:{folder / 'export'}"),
        "bare file": (2, "name its open_clip architecture: --model ARCH --pretrained"),
    }[kind]
    assert proc.returncode == expected[0], proc.stderr
    if expected[0]:
        assert proc.stderr.count("\n") == 1 and expected[1] in proc.stderr, proc.stderr
    else:
        assert proc.stderr == "" and len(list((tmp_path / "out").glob("*.svg"))) == 1


def test_an_ensemble_checks_every_model_before_it_loads_any(tiny_model: str, monkeypatch) -> None:
    """A refused ensemble says only why: no model was built, so no warning about one of them comes first."""
    import warnings

    import clipart.models.guide as guide

    def never(*_: object, **__: object) -> None:
        raise AssertionError("a model was built before every model of the ensemble was checked")

    monkeypatch.setattr(guide, "build_model", never)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(ModelError, match="not in the local cache and HF_HUB_OFFLINE is set"):
            guide.load_models(["ViT-B-32", "hf-hub:nobody/no-such-model"], device="cpu")
    assert [str(w.message) for w in seen] == []


def test_the_random_weights_warning_is_alone_in_a_refused_draw(tmp_path: Path) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    argv = ["draw", "a cat", "--model", "ViT-B-32", "--model", "hf-hub:nobody/no-such-model", "--out", "o/"]
    proc = subprocess.run([sys.executable, "-m", "clipart", *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        "clipart: error: model hf-hub:nobody/no-such-model is not in the local cache and HF_HUB_OFFLINE is set: "
        "download it once online"
    ], proc.stderr
    assert not (tmp_path / "o").exists()


def test_a_model_exported_again_in_place_is_loaded_again(tmp_path: Path) -> None:
    from conftest import TINY_CFG, make_tiny_model_dir

    folder = make_tiny_model_dir(tmp_path / "m")
    first = load_model(f"local-dir:{folder}", device="cpu")
    assert load_model(f"local-dir:{folder}", device="cpu") is first
    make_tiny_model_dir(folder, seed=1, cfg={**TINY_CFG, "embed_dim": 48})
    again = load_model(f"local-dir:{folder}", device="cpu")
    assert again is not first and again.encode_text(["a cat"]).shape == (1, 48)


@pytest.mark.parametrize("device", ["tpu", "cuda:x", "cuda:", "meta", "cpu:0", "", "cuda:99999"])
def test_devices_are_one_name_check(device: str) -> None:
    from clipart.errors import ClipartError
    from clipart.models import check_device, resolve_device

    for check in (check_device, resolve_device):
        with pytest.raises(ClipartError, match="device"):
            check(device)


def _image_tower_only(folder: Path, text_tower: str, seed: int = 1) -> Path:
    """A folder holding a second tiny model's image tower only, its text tower named as ``text_tower``."""
    from conftest import make_tiny_model_dir
    from safetensors.torch import load_file, save_file

    make_tiny_model_dir(folder, seed=seed)
    weights = load_file(str(folder / "open_clip_model.safetensors"))
    save_file(
        {k: v for k, v in weights.items() if k.startswith("visual.")},
        str(folder / "open_clip_model.safetensors"),
    )
    config = json.loads((folder / "open_clip_config.json").read_text())
    (folder / "open_clip_config.json").write_text(json.dumps({**config, "text_tower": text_tower}))
    return folder


def test_an_image_tower_folder_shares_the_text_tower_it_names(tmp_path: Path) -> None:
    from conftest import make_tiny_model_dir

    base = make_tiny_model_dir(tmp_path / "base")
    draw = _image_tower_only(tmp_path / "draw", f"local-dir:{base}")
    full = make_tiny_model_dir(tmp_path / "full", seed=1)  # what the image tower was cut from
    shared, own, whole = (load_model(f"local-dir:{f}", device="cpu") for f in (draw, base, full))
    assert torch.equal(shared.encode_text(["a cat"]), own.encode_text(["a cat"]))
    images = torch.rand(2, 3, 32, 32)
    assert torch.equal(shared.encode_image(images), whole.encode_image(images))
    assert not torch.equal(shared.encode_image(images), own.encode_image(images))


@pytest.mark.parametrize(
    ("text_tower", "words"),
    [
        ("ViT-B-32", "names an embedded model or local-dir:FOLDER"),
        ("local-dir:{base}::x.safetensors", "names an embedded model or local-dir:FOLDER"),
        ("local-dir:{other}", "must hold its own text tower"),
        ("local-dir:{tmp}/missing", '"text_tower": model folder not found'),
        ("nope", "\"text_tower\": unknown model 'nope'"),
    ],
)
def test_a_bad_text_tower_is_one_clear_error(tmp_path: Path, text_tower: str, words: str) -> None:
    from conftest import make_tiny_model_dir

    base = make_tiny_model_dir(tmp_path / "base")
    other = _image_tower_only(tmp_path / "other", f"local-dir:{base}")
    named = text_tower.format(base=base, other=other, tmp=tmp_path)
    draw = _image_tower_only(tmp_path / "draw", named)
    with pytest.raises(ModelError, match=words):
        load_model(f"local-dir:{draw}", device="cpu")


def test_an_image_tower_file_with_text_weights_is_refused(tmp_path: Path) -> None:
    from conftest import make_tiny_model_dir

    base = make_tiny_model_dir(tmp_path / "base")
    draw = make_tiny_model_dir(tmp_path / "draw", seed=1)  # whole weights, yet naming a text tower
    config = json.loads((draw / "open_clip_config.json").read_text())
    (draw / "open_clip_config.json").write_text(json.dumps({**config, "text_tower": f"local-dir:{base}"}))
    with pytest.raises(ModelError, match=r"image-tower weights \(visual\.\*\) only"):
        load_model(f"local-dir:{draw}", device="cpu")


def test_a_relative_text_tower_and_a_named_weights_file_load_alike(tmp_path: Path) -> None:
    from conftest import make_tiny_model_dir

    base = make_tiny_model_dir(tmp_path / "base")
    draw = _image_tower_only(tmp_path / "draw", "local-dir:../base")  # beside the folder that names it
    by_folder = load_model(f"local-dir:{draw}", device="cpu")
    by_file = load_model(str(draw / "open_clip_model.safetensors"), device="cpu")
    own = load_model(f"local-dir:{base}", device="cpu")
    images = torch.rand(2, 3, 32, 32)
    assert torch.equal(by_folder.encode_image(images), by_file.encode_image(images))
    assert torch.equal(by_file.encode_text(["a cat"]), own.encode_text(["a cat"]))


def test_a_text_tower_of_another_shape_is_one_clear_error(tmp_path: Path) -> None:
    from conftest import TINY_CFG, make_tiny_model_dir

    base = make_tiny_model_dir(
        tmp_path / "base", cfg={**TINY_CFG, "text_cfg": {**TINY_CFG["text_cfg"], "layers": 2}}
    )
    draw = _image_tower_only(tmp_path / "draw", f"local-dir:{base}")
    with pytest.raises(ModelError, match="its text_cfg differs from that of local-dir:"):
        load_model(f"local-dir:{draw}", device="cpu")


def test_a_guide_loads_again_when_the_text_tower_it_shares_is_exported_again(tmp_path: Path) -> None:
    from conftest import make_tiny_model_dir

    base = make_tiny_model_dir(tmp_path / "base")
    draw = _image_tower_only(tmp_path / "draw", f"local-dir:{base}")
    first = load_model(f"local-dir:{draw}", device="cpu")
    time.sleep(0.01)  # a new modification time, as a new export gives
    make_tiny_model_dir(base, seed=2)
    again = load_model(f"local-dir:{draw}", device="cpu")
    assert again is not first and not torch.equal(again.encode_text(["a cat"]), first.encode_text(["a cat"]))
