"""Shared fixtures: a tiny open_clip model with random weights, saved as an open_clip local dir (never a
download)."""

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
