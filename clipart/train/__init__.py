"""clipart's CLIP training module: data, the training loop, evaluation and export.

Heavy modules load on first use, so importing this package is instant::

    from clipart.train import TrainConfig, train, evaluate_zeroshot
    export = train(TrainConfig(data="pairs.csv", model="tiny.json", steps=500, batch_size=64, out="runs/tiny"))
    print(evaluate_zeroshot(f"local-dir:{export}", "labelled/", ["a drawing of a {}."]))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clipart._lazy import lazy_front

if TYPE_CHECKING:  # the public names, each imported on first use
    from clipart.models.build import build_model
    from clipart.train.config import TrainConfig, resume_config
    from clipart.train.evaluate import evaluate_retrieval, evaluate_zeroshot
    from clipart.train.export import export_model
    from clipart.train.loop import train

__getattr__, __dir__ = lazy_front(__name__, __file__)
