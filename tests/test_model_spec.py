"""One model-spec parser and loader for drawing, training and evaluation: one table, the whole chain."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import clipart
from clipart.errors import ModelError
from clipart.models import EMBEDDED_NAME, ModelSpec, build_model, load_model, parse_spec
from clipart.train import evaluate_zeroshot


@pytest.fixture(scope="module")
def files(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every local form a model comes in: folder, checkpoint file beside its config, JSON config, bare weights."""
    root = tmp_path_factory.mktemp("specs")
    folder = tiny_model_dir
    config = json.loads((folder / "open_clip_config.json").read_text())
    (root / "tiny.json").write_text(json.dumps(config))
    shutil.copy(folder / "open_clip_model.safetensors", root / "weights.safetensors")
    pt_only = root / "pt-only"  # weights under a name open_clip does not look for in a folder
    pt_only.mkdir()
    shutil.copy(folder / "open_clip_config.json", pt_only)
    torch.save(load_file(str(folder / "open_clip_model.safetensors")), pt_only / "open_clip_model.pt")
    labelled = root / "labelled"
    for name in ("red", "blue"):
        (labelled / name).mkdir(parents=True)
        from PIL import Image

        Image.new("RGB", (32, 32), name).save(labelled / name / "a.png")
    return {
        "folder": folder,
        "json": root / "tiny.json",
        "weights": root / "weights.safetensors",
        "data": labelled,
        "pt_only": pt_only,
    }


# text, pretrained → kind, canonical text (str of the spec: what the sidecar and `clipart models` show)
TABLE = [
    ("clipart-mini", None, "embedded", "clipart-mini"),
    ("embedded", None, "embedded", "clipart-mini"),
    ("ViT-B-32", None, "open_clip", "ViT-B-32"),
    ("ViT-B/32::openai", None, "open_clip", "ViT-B-32::openai"),
    ("ViT-B-32", "openai", "open_clip", "ViT-B-32::openai"),
    ("hf-hub:org/model", None, "hf-hub", "hf-hub:org/model"),
    ("local-dir:{folder}", None, "folder", "local-dir:{folder}"),
    ("{folder}", None, "folder", "local-dir:{folder}"),
    ("local-dir:{folder}", "{weights}", "folder", "local-dir:{folder}::{weights}"),
    ("{folder}/open_clip_model.safetensors", None, "checkpoint", "{folder}/open_clip_model.safetensors"),
    ("{json}", None, "json", "{json}"),
    ("{json}::{weights}", None, "json", "{json}::{weights}"),
]


@pytest.mark.parametrize("text, pretrained, kind, canonical", TABLE)
def test_every_spec_parses_once_and_prints_back(text, pretrained, kind, canonical, files) -> None:
    fill = {k: str(v) for k, v in files.items()}
    spec = parse_spec(text.format(**fill), pretrained and pretrained.format(**fill))
    assert spec.kind == kind and str(spec) == canonical.format(**fill)
    assert parse_spec(str(spec)) == spec  # the text form is the spec: parsing it again changes nothing
    cfg = clipart.make_config(
        "a cat", model=text.format(**fill), pretrained=pretrained and pretrained.format(**fill)
    )
    assert cfg.models == [spec] and cfg.to_dict()["models"] == [str(spec)]


NAMES = "open_clip_model.safetensors or open_clip_pytorch_model.bin"
BAD = [
    ("", None, "model spec is empty"),
    ("NoSuchNet-9", None, "unknown model 'NoSuchNet-9'"),
    ("ViT-B-32", "no-such-tag", "neither a weights file nor a pretrained tag of ViT-B-32"),
    ("clipart-mini", "openai", "clipart-mini brings its own weights: drop --pretrained 'openai'"),
    ("hf-hub:just-a-name", None, "hf-hub:org/repo"),
    ("hf-hub:org/model", "openai", "brings its own weights"),
    ("local-dir:/nonexistent/dir", None, "model folder not found"),
    ("local-dir:{data}", None, "has no open_clip_config.json"),
    ("local-dir:{folder}", "openai", "--pretrained must be a weights file"),
    (
        "local-dir:{pt_only}",
        None,
        f"^{{pt_only}} has no weights file open_clip loads ({NAMES}): name its weights "
        "file with --pretrained FILE$",
    ),
    ("{pt_only}", None, "has no weights file open_clip loads"),
    ("/nonexistent/model.safetensors", None, "checkpoint file not found"),
    ("{weights}", None, "name its open_clip architecture: --model ARCH --pretrained"),
    ("{folder}/open_clip_model.safetensors", "{weights}", "is a weights file itself"),
    ("/nonexistent/arch.json", None, "model config file not found"),
    ("{json}", "openai", "with a JSON model config: --pretrained must be a weights file"),
]


@pytest.mark.parametrize("text, pretrained, words", BAD)
def test_bad_specs_fail_the_same_way_for_drawing_training_and_evaluation(
    text, pretrained, words, files
) -> None:
    fill = {k: str(v) for k, v in files.items()}
    text, pretrained = text.format(**fill), pretrained and pretrained.format(**fill)
    words = words.format(**fill)
    for use in (
        lambda: parse_spec(text, pretrained),
        lambda: clipart.make_config("a cat", model=text, pretrained=pretrained),
        lambda: build_model(text, pretrained),
        lambda: evaluate_zeroshot(text, str(files["data"]), ["{}"], pretrained=pretrained, device="cpu"),
    ):
        with pytest.raises(ModelError, match=words.replace("(", r"\(").replace(")", r"\)")):
            use()


def test_every_local_form_loads_for_drawing_and_training_alike(files) -> None:
    """Folder, checkpoint file, folder with a weights file, JSON config with weights: the same tiny model, whether
    loaded as a frozen guide or built for training."""
    image = torch.rand(1, 3, 32, 32)
    reference = None
    for text in (
        f"local-dir:{files['folder']}",
        f"{files['folder']}/open_clip_model.safetensors",
        f"local-dir:{files['folder']}::{files['weights']}",
        f"{files['json']}::{files['weights']}",
    ):
        guide = load_model(text, device="cpu")
        bundle = build_model(text)
        assert bundle.model.training and not guide.model.training  # built for training; frozen to guide
        with torch.no_grad():
            trained = bundle.model.eval().encode_image(image)
            guided = guide.model.encode_image(image)
        assert torch.allclose(trained, guided)
        reference = trained if reference is None else reference
        assert torch.allclose(trained, reference, atol=1e-6), text


def test_the_embedded_model_is_one_spec_for_draw_train_and_eval(files) -> None:
    spec = parse_spec(EMBEDDED_NAME)
    assert spec == ModelSpec("embedded", EMBEDDED_NAME) and spec.folder is not None and spec.folder.is_dir()
    assert build_model(EMBEDDED_NAME).description == load_model(EMBEDDED_NAME, device="cpu").name
    result = evaluate_zeroshot(EMBEDDED_NAME, str(files["data"]), ["a drawing of a {}."], device="cpu")
    assert result["images"] == 2 and result["classes"] == 2


def test_a_folder_of_weights_open_clip_would_not_load_is_refused_before_any_work(
    files, tmp_path: Path
) -> None:
    """open_clip gives a folder holding only ``open_clip_model.pt`` random weights without a word: the command
    says so in one line (exit 2) and writes nothing; named with --pretrained, its weights load."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "clipart", "draw", "a cat", "--model", f"local-dir:{files['pt_only']}", "--out",
         str(out)], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.splitlines() == [
        f"clipart: error: {files['pt_only']} has no weights file open_clip loads ({NAMES}): name its weights file "
        "with --pretrained FILE"
    ]
    image = torch.rand(1, 3, 32, 32)
    named = load_model(f"local-dir:{files['pt_only']}", str(files["pt_only"] / "open_clip_model.pt"), "cpu")
    with torch.no_grad():
        assert torch.equal(
            named.model.encode_image(image),
            load_model(f"local-dir:{files['folder']}", device="cpu").model.encode_image(image),
        )
