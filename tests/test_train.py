"""End-to-end training: a tiny CLIP learns coloured shapes; export, evaluation, optimiser details."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from test_train_support import (
    CLASSES,
    labelled_folder,
    make_pairs,
    run_cli,
    shapes_csv,
    tiny_model_json,
    write_csv,
)

from clipart.models import build_model
from clipart.train import TrainConfig, evaluate_retrieval, evaluate_zeroshot, train
from clipart.train.modeling import cosine_with_warmup, make_optimizer


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Training pairs, a labelled held-out folder, a held-out retrieval CSV and the tiny model config."""
    root = tmp_path_factory.mktemp("shapes")
    held = make_pairs(root / "held", 64, seed=7)
    return {
        "csv": shapes_csv(root / "train", 1000, seed=0),
        "labelled": labelled_folder(root / "labelled", 6, seed=1),
        "held_csv": write_csv(root / "held.csv", [(p, c) for p, c, _ in held], ("filepath", "caption")),
        "model": tiny_model_json(root / "tiny.json"),
        "root": root,
        "held_captions": len({c for _, c, _ in held}),
    }


def test_cli_training_learns_shapes_and_exports_an_open_clip_folder(shapes: dict) -> None:
    out = shapes["root"] / "run"
    args = ["train", "--data", str(shapes["csv"]), "--model", str(shapes["model"]), "--out", str(out)]
    args += ["--steps", "240", "--batch-size", "32", "--lr", "2e-3", "--warmup", "20", "--workers", "1"]
    args += [
        "--log-every",
        "20",
        "--eval-every",
        "120",
        "--eval-zeroshot",
        str(shapes["labelled"]),
        "--quiet",
    ]
    args += ["--template", "a {}", "--template", "a drawing of a {}"]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    export = Path(result.stdout.strip().splitlines()[-1])
    assert export == out / "export"

    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    assert len(losses) == 12
    assert losses[-1] < 0.75 * losses[0], losses  # the loss falls clearly
    assert all(r["samples_per_s"] > 0 and r["bad_samples"] == 0 for r in rows if "loss" in r)
    assert all(0 < r["logit_scale"] <= 100 for r in rows if "loss" in r)
    evals = [r for r in rows if "zeroshot_top1" in r]
    assert [r["step"] for r in evals] == [120, 240]

    # the export is an open_clip local-dir model
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{export}")
    tokenizer = open_clip.get_tokenizer(f"local-dir:{export}")
    assert tokenizer.context_length == 16
    assert set(json.loads((export / "open_clip_config.json").read_text())) == {"model_cfg", "preprocess_cfg"}
    from clipart.models import load_model

    guide = load_model(f"local-dir:{export}", device="cpu")  # what `clipart draw --model local-dir:...` uses
    assert guide.image_size == 32 and guide.encode_text(["a red circle"]).shape == (1, 64)

    # zero-shot accuracy on held-out shapes is far above chance (1/16)
    result = run_cli("eval", "zeroshot", "--model", f"local-dir:{export}", "--data", str(shapes["labelled"]),
                     "--template", "a {}", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    zeroshot = json.loads(result.stdout)
    assert zeroshot["classes"] == len(CLASSES) and zeroshot["images"] == 6 * len(CLASSES)
    assert zeroshot["top1"] > 0.5, zeroshot
    assert zeroshot["top5"] >= zeroshot["top1"]
    untrained = evaluate_zeroshot(str(shapes["model"]), shapes["labelled"], ["a {}"], device="cpu")
    assert untrained["top1"] < zeroshot["top1"] - 0.3

    retrieval = evaluate_retrieval(f"local-dir:{export}", shapes["held_csv"], device="cpu")
    assert retrieval["images"] == 64 and retrieval["texts"] == shapes["held_captions"]
    assert retrieval["image_to_text_R@1"] > 0.4 and retrieval["image_to_text_R@10"] > 0.9, retrieval
    assert retrieval["text_to_image_R@1"] > 0.4, retrieval


def test_accumulation_gives_the_gradient_of_the_whole_batch(shapes: dict) -> None:
    exports = []
    for accum in (1, 4):
        config = TrainConfig(data=str(shapes["csv"]), model=str(shapes["model"]), out=str(shapes["root"] / f"acc{accum}"),
                             steps=3, batch_size=32, accum=accum, warmup=1, lr=1e-3, workers=0, progress=False)  # fmt: skip
        exports.append(train(config))
    from safetensors.torch import load_file

    a, b = (load_file(str(e / "open_clip_model.safetensors")) for e in exports)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=2e-5, rtol=1e-4, msg=key)
    rows = [
        [json.loads(x)["loss"] for x in (e.parent / "metrics.jsonl").read_text().splitlines()]
        for e in exports
    ]
    assert rows[0] == pytest.approx(rows[1], abs=1e-5)


def test_optimizer_spares_gains_biases_and_logit_scale_from_weight_decay(shapes: dict) -> None:
    model = build_model(str(shapes["model"])).model
    optimizer = make_optimizer(model, 1e-3, 0.2, (0.9, 0.98), 1e-6)
    names = {id(p): n for n, p in model.named_parameters()}
    decay, no_decay = ([names[id(p)] for p in g["params"]] for g in optimizer.param_groups)
    assert optimizer.param_groups[1]["weight_decay"] == 0.0
    assert "logit_scale" in no_decay
    assert all(
        n.endswith((".bias", "logit_scale")) or "ln" in n or model.get_parameter(n).ndim < 2 for n in no_decay
    )
    assert not any(n.endswith(".bias") or ".ln_" in n for n in decay)
    assert "visual.conv1.weight" in decay and "token_embedding.weight" in decay

    scheduler = cosine_with_warmup(optimizer, warmup=10, total=110)
    lrs = []
    for _ in range(110):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert lrs[60] == pytest.approx(0.5e-3, rel=1e-6)  # half-way through the cosine
    assert all(a >= b for a, b in zip(lrs[9:-1], lrs[10:], strict=True))
    assert lrs[-1] < 1e-6


def test_logit_scale_is_clamped_at_100(shapes: dict, tmp_path: Path) -> None:
    cfg = json.loads(shapes["model"].read_text())
    cfg["init_logit_scale"] = math.log(400)
    model = tmp_path / "hot.json"
    model.write_text(json.dumps(cfg))
    config = TrainConfig(data=str(shapes["csv"]), model=str(model), out=str(tmp_path / "run"), steps=1,
                         batch_size=8, warmup=1, workers=0, progress=False)  # fmt: skip
    export = train(config)
    from safetensors.torch import load_file

    scale = load_file(str(export / "open_clip_model.safetensors"))["logit_scale"]
    assert scale.exp().item() == pytest.approx(100.0, rel=1e-5)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(folder / "open_clip_model.safetensors"))


def test_fine_tuning_from_a_local_dir_or_a_weights_file_with_locked_towers(
    shapes: dict, tmp_path: Path, tiny_model_dir: Path
) -> None:
    source = _weights(tiny_model_dir)
    common = dict(
        data=str(shapes["csv"]), steps=2, batch_size=8, warmup=1, lr=1e-2, workers=0, progress=False
    )
    locked_text = _weights(train(TrainConfig(model=f"local-dir:{tiny_model_dir}", lock_text=True,
                                             out=str(tmp_path / "a"), **common)))  # fmt: skip
    cfg = tmp_path / "same.json"
    cfg.write_text((tiny_model_dir / "open_clip_config.json").read_text())
    locked_image = _weights(train(TrainConfig(model=str(cfg), pretrained=str(tiny_model_dir / "open_clip_model.safetensors"),
                                              lock_image=True, out=str(tmp_path / "b"), **common)))  # fmt: skip
    for weights, frozen in ((locked_text, "text"), (locked_image, "image")):
        for key, value in source.items():
            is_image = key.startswith("visual.")
            if key == "logit_scale":
                continue
            same = torch.equal(weights[key], value)
            assert same == ((frozen == "image") == is_image), (frozen, key)


def test_eval_commands_on_csv_data(
    shapes: dict, tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    from clipart.cli import main

    pairs = make_pairs(tmp_path / "imgs", 12, seed=3)
    labelled = write_csv(
        tmp_path / "labels.tsv", [(p, name) for p, _, name in pairs], ("path", "class"), "\t"
    )
    args = ["eval", "zeroshot", "--model", f"local-dir:{tiny_model_dir}", "--data", str(labelled), "--json"]
    assert main([*args, "--image-column", "path", "--label-column", "class", "--template", "a {}"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 12 and result["classes"] == len({n for _, _, n in pairs})
    assert result["top1"] == pytest.approx(_top1_by_hand(f"local-dir:{tiny_model_dir}", pairs), abs=1e-6)
    assert result["top1"] <= result["top5"]
    assert (
        main(
            ["eval", "retrieval", "--model", f"local-dir:{tiny_model_dir}", "--data", str(shapes["held_csv"])]
        )
        == 0
    )
    line = capsys.readouterr().out
    assert "image_to_text_R@1" in line and "text_to_image_R@10" in line and "(64 images" in line


def _top1_by_hand(model_spec: str, pairs: list) -> float:
    """Zero-shot top-1 computed with open_clip directly (template "a {}"), to check `clipart eval zeroshot`."""
    import open_clip
    import torch
    from PIL import Image

    model, _, preprocess = open_clip.create_model_and_transforms(model_spec)
    tokenizer = open_clip.get_tokenizer(model_spec)
    names = sorted({name for _, _, name in pairs})
    with torch.no_grad():
        text = model.encode_text(tokenizer([f"a {n}" for n in names]))
        images = torch.stack([preprocess(Image.open(p).convert("RGB")) for p, _, _ in pairs])
        image = model.encode_image(images)
    text, image = text / text.norm(dim=-1, keepdim=True), image / image.norm(dim=-1, keepdim=True)
    guesses = (image @ text.T).argmax(dim=1).tolist()
    return sum(names[g] == name for g, (_, _, name) in zip(guesses, pairs, strict=True)) / len(pairs)
