"""The run folder: ``config.json``, ``metrics.jsonl``, ``checkpoints/step_*.pt`` and ``export/``.

Everything is written atomically (a temporary file in the same folder, then ``os.replace``), so a run killed at
any moment leaves only whole files behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from clipart.errors import ConfigError
from clipart.output import atomic_write
from clipart.train.config import TrainConfig, read_run_config


class RunFolder:
    """Paths and atomic reads/writes of one training run's folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config_path = self.path / "config.json"
        self.metrics_path = self.path / "metrics.jsonl"
        self.checkpoints = self.path / "checkpoints"
        self.export_dir = self.path / "export"

    def check_new(self, config: TrainConfig) -> None:
        """Refuse an output folder that is a file, holds another run, or holds other files."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"--out {self.path} is a file: give a folder for the run")
        if not self.path.is_dir() or not any(self.path.iterdir()):
            return
        if not self.config_path.is_file():
            raise ConfigError(f"--out {self.path} is not empty and holds no clipart run: choose a new folder")
        stored = read_run_config(self.path)
        differ = config.differences(stored)
        if differ:
            raise ConfigError(
                f"--out {self.path} holds a different run ({', '.join(differ)} differ): choose another --out, "
                f"or continue that run with `clipart train --resume {self.path}`"
            )
        raise ConfigError(f"--out {self.path} already holds this run: continue it with --resume {self.path}")

    def write_config(self, config: TrainConfig) -> None:
        """Create the folder and store the run's settings."""
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write(self.config_path, (json.dumps(config.to_dict(), indent=2) + "\n").encode())

    def checkpoint_files(self) -> list[Path]:
        """Complete checkpoints, oldest first."""
        return sorted(self.checkpoints.glob("step_*.pt")) if self.checkpoints.is_dir() else []

    def save_checkpoint(self, state: dict[str, Any], step: int, keep: int) -> Path:
        """Write ``state`` as ``checkpoints/step_<step>.pt`` atomically; keep only the newest ``keep``."""
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        path = self.checkpoints / f"step_{step:08d}.pt"
        atomic_write(path, lambda f: torch.save(state, f))
        for old in self.checkpoint_files()[:-keep]:
            old.unlink(missing_ok=True)
        return path

    def load_latest(self) -> dict[str, Any] | None:
        """The newest checkpoint's state (tensors on the CPU), or None when there is none yet."""
        files = self.checkpoint_files()
        if not files:
            return None
        try:
            return torch.load(files[-1], map_location="cpu", weights_only=True)
        except Exception as e:  # a damaged file: say which and how to recover
            reason = type(e).__name__  # torch's own text is many lines and advises weights_only=False
            raise ConfigError(
                f"checkpoint {files[-1]} is damaged or not a clipart checkpoint ({reason}): delete it to resume "
                "from an earlier one"
            ) from None

    def truncate_metrics(self, step: int) -> None:
        """Drop metric lines logged after ``step`` (by a run killed after its last checkpoint)."""
        if not self.metrics_path.is_file():
            return
        kept = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    kept.append(line)
            except json.JSONDecodeError:
                continue  # a line cut by the kill
        atomic_write(self.metrics_path, "".join(f"{line}\n" for line in kept).encode())
