"""Shared fixtures: a tiny open_clip model with random weights, saved as an open_clip local dir (never a
download), and the device of the device-agnostic tests.

Tests that take the ``device`` fixture run on ``cpu`` unless the environment variable ``CLIPART_TEST_DEVICE`` names
another (``cuda``, ``cuda:1``, ``mps``): ``CLIPART_TEST_DEVICE=cuda pytest -m device`` runs just those tests on the
GPU (benchmarks/gpu_check.sh does). A test that runs on the CPU only (threads, subprocesses on the CPU,
bitwise comparisons with the CPU) does not take ``device``: it names ``"cpu"`` and is left out of ``-m device``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

RECIPES = Path(__file__).resolve().parent.parent / "recipes"
sys.path.insert(0, str(RECIPES))  # the data builders are recipes, outside the installed package
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
TEST_DEVICE = os.environ.get("CLIPART_TEST_DEVICE", "").strip() or "cpu"

TINY_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def make_tiny_model_dir(path: Path, seed: int = 0, cfg: dict | None = None) -> Path:
    """Save a tiny randomly initialised CLIP as ``open_clip_config.json`` + ``open_clip_model.safetensors``."""
    import torch
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    cfg = cfg or TINY_CFG
    torch.manual_seed(seed)
    model = CLIP(**cfg)
    path.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, str(path / "open_clip_model.safetensors")
    )
    config = {"model_cfg": cfg, "preprocess_cfg": {"size": cfg["vision_cfg"]["image_size"]}}
    (path / "open_clip_config.json").write_text(json.dumps(config))
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random CLIP as an open_clip local dir."""
    return make_tiny_model_dir(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path) -> str:
    """Model spec of the tiny CLIP, for ``model=...`` / ``--model``."""
    return f"local-dir:{tiny_model_dir}"


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a ``CLIPART_TEST_DEVICE`` this machine lacks (one line), before any test runs."""
    if TEST_DEVICE != "cpu":
        from clipart.errors import ClipartError
        from clipart.models.device import resolve_device

        try:
            resolve_device(TEST_DEVICE)
        except ClipartError as e:
            raise pytest.UsageError(f"CLIPART_TEST_DEVICE={TEST_DEVICE}: {e}") from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that take ``device`` with ``device`` (``pytest -m device`` selects them)."""
    for item in items:
        if "device" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.device)


@pytest.fixture(scope="session")
def device() -> str:
    """The device of device-agnostic tests: ``cpu``, or ``$CLIPART_TEST_DEVICE``."""
    return TEST_DEVICE


def write_sprite(path: Path, colour: tuple[int, int, int], wide: bool = False) -> None:
    """A small transparent PNG holding one opaque rectangle of ``colour`` (a stand-in icon sprite)."""
    from PIL import Image

    image = Image.new("RGBA", (40 if wide else 24, 24), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (image.width - 4, 20), (*colour, 255)), (2, 2))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def count_blobs(mask) -> int:  # noqa: ANN001 - a PIL image, non-zero where something is drawn
    """Connected non-zero regions of ``mask`` (4-neighbours)."""
    w, h = mask.size
    data, seen, blobs = mask.load(), set(), 0
    for y in range(h):
        for x in range(w):
            if data[x, y] and (x, y) not in seen:
                blobs += 1
                todo = [(x, y)]
                while todo:
                    p = todo.pop()
                    if p in seen or not (0 <= p[0] < w and 0 <= p[1] < h) or not data[p]:
                        continue
                    seen.add(p)
                    todo += [(p[0] + 1, p[1]), (p[0] - 1, p[1]), (p[0], p[1] + 1), (p[0], p[1] - 1)]
    return blobs
