"""Adversarial fine-tuning (``--adv-eps``) and caption variants: the attack, its effect on the weights, exact
resume, and the refusals; the punctuated zero-shot templates."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from test_train_support import shapes_csv, tiny_model_json

from clipart.cli import main
from clipart.errors import ConfigError
from clipart.train import TrainConfig, train
from clipart.train.adversarial import Adversary, Attack, pgd
from clipart.train.captions import punctuated_templates, vary_caption


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("adversarial")
    model = tiny_model_json(root / "tiny.json")
    start = train(_config({"csv": shapes_csv(root, 48, seed=3), "model": model}, root / "start", steps=2))
    weights = start / "open_clip_model.safetensors"
    return {"csv": root / "pairs.csv", "model": model, "weights": weights}


def _config(data: dict, out: Path, steps: int = 4, **settings: object) -> TrainConfig:
    return TrainConfig(
        data=str(data["csv"]), out=str(out), model=str(data["model"]), steps=steps, batch_size=8, warmup=1,
        lr=1e-3, workers=0, log_every=1, checkpoint_every=2, progress=False, **settings,
    )  # fmt: skip


def _weights(export: Path) -> dict[str, torch.Tensor]:
    return load_file(str(export / "open_clip_model.safetensors"))


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_pgd_stays_in_the_ball_and_in_range_and_raises_the_objective(norm: str) -> None:
    torch.manual_seed(0)
    pixels = torch.rand(4, 3, 8, 8)
    target = torch.rand(4, 3, 8, 8)
    attack = Attack(eps=0.5 if norm == "l2" else 0.05, norm=norm, steps=5)

    def distance(x: torch.Tensor) -> torch.Tensor:
        return (x - target).pow(2).sum()

    attacked = pgd(distance, pixels, attack)
    delta = (attacked - pixels).flatten(1)
    size = delta.norm(dim=1) if norm == "l2" else delta.abs().amax(dim=1)
    assert (size <= attack.eps + 1e-5).all() and (size > 0.5 * attack.eps).all()
    assert attacked.min() >= 0 and attacked.max() <= 1
    assert distance(attacked) > distance(pixels)


@pytest.mark.parametrize("loss", ["tecoa", "fare"])
def test_adversarial_training_changes_the_weights_and_logs_its_term(
    data: dict, tmp_path: Path, loss: str
) -> None:
    pretrained = {"pretrained": str(data["weights"])}
    plain = train(_config(data, tmp_path / "plain", **pretrained))
    robust = train(_config(data, tmp_path / "robust", adv_eps=1.0, adv_loss=loss, **pretrained))
    a, b = _weights(plain), _weights(robust)
    assert any(not torch.equal(a[k], b[k]) for k in a if k.startswith("visual."))
    lines = (tmp_path / "robust" / "metrics.jsonl").read_text()
    assert ('"fare_term"' in lines) == (loss == "fare")


def test_an_adversarial_run_resumes_exactly(data: dict, tmp_path: Path) -> None:
    settings = {"adv_eps": 0.03, "adv_norm": "linf", "adv_loss": "fare", "pretrained": str(data["weights"])}
    whole = train(_config(data, tmp_path / "whole", **settings))
    cut = tmp_path / "cut"
    train(_config(data, cut, **settings))
    (cut / "checkpoints" / "step_00000004.pt").unlink()  # as if killed after the step-2 checkpoint
    shutil.rmtree(cut / "export")
    resumed = train(_config(data, cut, **settings), resume=True)
    a, b = _weights(whole), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--adv-eps", "0"], "--adv-eps must be a positive number, got 0.0"),
        (["--adv-eps", "-1"], "--adv-eps must be a positive number, got -1.0"),
        (["--adv-eps", "nan"], "--adv-eps must be a positive number, got nan"),
        (["--adv-eps", "inf"], "--adv-eps must be a positive number, got inf"),
        (["--adv-eps", "1", "--adv-steps", "0"], "--adv-steps must be at least 1, got 0"),
        (["--adv-eps", "1", "--adv-step-size", "nan"], "--adv-step-size must be a positive number"),
        (["--adv-eps", "1", "--adv-weight", "0"], "--adv-weight must be a positive number"),
        (["--adv-steps", "3"], "--adv-steps set without --adv-eps"),
        (["--adv-eps", "1", "--adv-loss", "fare"], "--adv-loss fare keeps image embeddings near"),
        (["--adv-eps", "1", "--lock-image"], "adversarial training hardens the image tower"),
        (["--caption-variants", "1.5"], "--caption-variants must lie in [0, 1]"),
        (["--adv-eps", "1", "--adv-norm", "linf"], "would replace whole images"),
        (
            ["--adv-eps", "1", "--adv-weight", "2"],
            "--adv-weight weighs fare's embedding term: tecoa has none",
        ),
    ],
)
def test_bad_adversarial_settings_are_one_line_and_exit_2(
    data: dict, tmp_path: Path, capsys: pytest.CaptureFixture, flags: list[str], message: str
) -> None:
    out = tmp_path / "run"
    args = ["train", "--data", str(data["csv"]), "--model", str(data["model"]), "--out", str(out), "--quiet"]
    assert main([*args, "--steps", "2", *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_caption_variants_keep_the_words_and_vary_the_writing() -> None:
    rng = random.Random(0)
    variants = [vary_caption("a drawing of a lighthouse", rng) for _ in range(200)]
    assert all("lighthouse" in v.lower() for v in variants)
    assert any(v.endswith(".") for v in variants) and any(v.endswith("!") for v in variants)
    assert any(v[0].isupper() for v in variants) and any(v.endswith("digital art") for v in variants)
    assert len(set(variants)) > 30
    assert vary_caption("a cat", random.Random(5)) == vary_caption("a cat", random.Random(5))


def test_caption_variants_reach_the_training_batches() -> None:
    from clipart.train.data import _transform_all

    captions, seeds = ["a red circle"] * 32, list(range(32))

    def batch(p: float) -> list[str]:
        return _transform_all([None] * 32, captions, lambda _: torch.zeros(1), list, seeds, p)[1]

    assert batch(0.0) == captions
    varied = batch(1.0)
    assert varied == batch(1.0) and sum(v != "a red circle" for v in varied) > 16
    assert all("red circle" in v.lower() for v in varied)


def test_punctuated_templates() -> None:
    variants = punctuated_templates(["{}", "a drawing of a {}", "a photo of a {}."])
    assert variants == {
        "full_stop": ["{}.", "a drawing of a {}.", "a photo of a {}."],
        "exclaimed": ["{}!", "A drawing of a {}!", "A photo of a {}!"],
    }


def test_fare_starts_from_any_model_that_brings_weights(data: dict, tmp_path: Path) -> None:
    fare = {"adv_eps": 1.0, "adv_loss": "fare"}
    for model in ("clipart-mini", f"local-dir:{data['weights'].parent}"):
        _config({**data, "model": model}, tmp_path / "run", **fare).validate()
    with pytest.raises(ConfigError, match="start from weights"):
        _config(data, tmp_path / "run", **fare).validate()


class _TinyConvNet(torch.nn.Module):
    """A CLIP-like image tower with a batch norm, for the attack."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.visual = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3),
            torch.nn.BatchNorm2d(8),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.LazyLinear(16),
        )
        self.visual(torch.zeros(2, 3, 8, 8))

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        return self.visual(images)


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_the_attack_beats_its_random_start_and_leaves_the_model_as_it_was(norm: str) -> None:
    model = _TinyConvNet().train()
    model.visual[1].eval()  # as the trainer keeps batch norms while training adversarially
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    eps = 0.5 if norm == "l2" else 0.03
    adversary = Adversary(model, mean, std, Attack(eps, norm, steps=5), "fare", 1.0)
    torch.manual_seed(1)
    pixels = torch.rand(6, 3, 8, 8)
    images = (pixels - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    anchor = adversary.anchor_features(images)

    def distance(features: torch.Tensor) -> torch.Tensor:
        return (features - anchor).pow(2).sum(dim=-1).mean()

    def score(batch: torch.Tensor) -> float:
        with torch.no_grad():
            model.eval()
            value = distance(torch.nn.functional.normalize(model.encode_image(batch), dim=-1)).item()
            model.train()
            model.visual[1].eval()
            return value

    attacked = adversary.perturb(model, images, distance, seed=3)
    start = Adversary(model, mean, std, Attack(eps, norm, steps=1, step_size=1e-12), "fare", 1.0)
    random_start = start.perturb(model, images, distance, seed=3)
    assert score(attacked) > score(random_start) > score(images) - 1e-6
    back = attacked * torch.tensor(std).view(1, 3, 1, 1) + torch.tensor(mean).view(1, 3, 1, 1)
    delta = (back - pixels).flatten(1)
    size = delta.norm(dim=1) if norm == "l2" else delta.abs().amax(dim=1)
    assert (size <= eps + 1e-4).all() and back.min() >= -1e-5 and back.max() <= 1 + 1e-5
    assert model.training and not model.visual[1].training  # each module's mode as it was
    assert all(
        torch.equal(buffers[k], v) for k, v in model.state_dict().items()
    )  # running statistics untouched


def test_caption_variants_change_what_the_text_tower_learns(data: dict, tmp_path: Path) -> None:
    plain = train(_config(data, tmp_path / "plain", steps=2, pretrained=str(data["weights"])))
    varied = train(
        _config(data, tmp_path / "varied", steps=2, pretrained=str(data["weights"]), caption_variants=1.0)
    )
    a, b = _weights(plain), _weights(varied)
    assert any(not torch.equal(a[k], b[k]) for k in a if k.startswith("transformer."))
