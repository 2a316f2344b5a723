"""Export a trained model as an open_clip ``local-dir`` folder.

The folder holds ``open_clip_config.json`` (``{"model_cfg": ..., "preprocess_cfg": ...}``) and
``open_clip_model.safetensors``; ``open_clip.create_model_and_transforms('local-dir:DIR')``,
``open_clip.get_tokenizer('local-dir:DIR')`` and ``clipart draw --model local-dir:DIR`` load it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

CONFIG_NAME = "open_clip_config.json"
WEIGHTS_NAME = "open_clip_model.safetensors"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def write_export(
    folder: Path, model: torch.nn.Module, model_cfg: dict[str, Any], preprocess_cfg: dict[str, Any]
) -> None:
    """Write config and float32 weights of ``model`` into an existing ``folder``."""
    from safetensors.torch import save_file

    weights = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
    config = {"model_cfg": _jsonable(model_cfg), "preprocess_cfg": _jsonable(preprocess_cfg)}
    (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")


def export_model(
    model: torch.nn.Module, model_cfg: dict[str, Any], preprocess_cfg: dict[str, Any], out_dir: str | Path
) -> Path:
    """Export to ``out_dir`` (replaced as a whole, never left half-written); returns its path."""
    import shutil
    import tempfile

    from clipart.output import usual_permissions

    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        write_export(tmp, model, model_cfg, preprocess_cfg)
        for path in (tmp, *tmp.iterdir()):
            usual_permissions(path)
        if out.exists():
            shutil.rmtree(out)
        tmp.replace(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
