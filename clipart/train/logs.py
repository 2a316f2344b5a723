"""Training logs: a tqdm progress bar, metrics as JSON lines in the run folder, TensorBoard when installed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


class TrainLog:
    """Progress bar + ``metrics.jsonl`` (+ TensorBoard). On non-zero ranks every method does nothing."""

    def __init__(self, run_dir: Path, total: int, initial: int, enabled: bool, progress: bool):
        self.enabled = enabled
        self.bar = None
        self.file = None
        self.tb = None
        if not enabled:
            return
        self.file = open(run_dir / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="step", desc="training", file=sys.stderr)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(run_dir / "tensorboard"))
        except ImportError:  # TensorBoard is optional
            self.tb = None

    def advance(self, steps: int = 1) -> None:
        """Move the progress bar."""
        if self.bar is not None:
            self.bar.update(steps)

    def metrics(self, row: dict[str, Any]) -> None:
        """Append one JSON line (and TensorBoard scalars); show the main numbers on the bar."""
        if not self.enabled:
            return
        assert self.file is not None
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()
        step = row.get("step", 0)
        if self.tb is not None:
            for key, value in row.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.tb.add_scalar(key, value, step)
        if self.bar is not None and "loss" in row:
            self.bar.set_postfix(
                loss=f"{row['loss']:.4f}",
                samples_s=f"{row['samples_per_s']:.1f}",
                lr=f"{row['lr']:.2e}",
                scale=f"{row['logit_scale']:.1f}",
                refresh=False,
            )

    def message(self, text: str) -> None:
        """A line for the user, printed above the bar."""
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def end_bar(self) -> None:
        """Close the progress bar (the run's steps are done); later messages print below it."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        """Close the bar and the files."""
        self.end_bar()
        if self.file is not None:
            self.file.close()
        if self.tb is not None:
            self.tb.close()
