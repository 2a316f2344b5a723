"""TrainConfig: every setting of a training run, its validation, and the rules for resuming one.

A run folder stores its config as ``config.json``. Settings that shape the result (data, model, batch, schedule,
seed, ...) must match when a run is resumed; the "runtime" settings below may change between sessions.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clipart.errors import ConfigError
from clipart.models.device import check_device
from clipart.models.spec import parse_spec
from clipart.output import user_path
from clipart.typecheck import check_fields

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DATA_FORMATS = ("auto", "csv", "folder", "webdataset")
ADV_LOSSES = ("tecoa", "fare")
ADV_NORMS = ("l2", "linf")
ADV_DEFAULTS = {
    "adv_norm": "l2",
    "adv_steps": 2,
    "adv_step_size": None,
    "adv_loss": "tecoa",
    "adv_weight": 1.0,
}
OPEN_CLIP_CROP = (0.9, 1.0)  # open_clip's random-resized-crop area range for training: the default views

# Settings that may differ when a run is resumed: they do not change what is trained.
RUNTIME_FIELDS = frozenset(
    {
        "out",
        "workers",
        "max_bad_fraction",
        "device",
        "log_every",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_every",
        "eval_zeroshot",
        "eval_retrieval",
        "eval_templates",
        "progress",
    }
)


@dataclass
class TrainConfig:
    """Settings of one CLIP training run (contrastive image–text pre-training or fine-tuning).

    ``batch_size`` is the global batch of one optimiser step: it is split over the processes of a torchrun
    launch and over ``accum`` gradient-accumulation micro-batches, so a run trains the same on 1 or N processes.
    Give ``steps`` or ``epochs`` (``epochs=1`` when neither is set).
    """

    data: str
    out: str
    model: str = "ViT-B-32"
    pretrained: str | None = None
    data_format: str = "auto"
    image_column: str = "filepath"
    caption_column: str = "caption"
    samples_per_epoch: int | None = None
    lock_image: bool = False
    lock_text: bool = False
    steps: int | None = None
    epochs: int | None = None
    batch_size: int = 64
    accum: int = 1
    lr: float = 5e-4
    weight_decay: float = 0.2
    beta1: float = 0.9
    beta2: float = 0.98
    eps: float = 1e-6
    warmup: int = 100
    grad_clip: float | None = 1.0
    aug_crop: tuple[float, float] = OPEN_CLIP_CROP
    aug_perspective: float = 0.0
    caption_variants: float = 0.0
    adv_eps: float | None = None
    adv_norm: str = ADV_DEFAULTS["adv_norm"]
    adv_steps: int = ADV_DEFAULTS["adv_steps"]
    adv_step_size: float | None = ADV_DEFAULTS["adv_step_size"]
    adv_loss: str = ADV_DEFAULTS["adv_loss"]
    adv_weight: float = ADV_DEFAULTS["adv_weight"]
    precision: str = "auto"
    seed: int = 0
    max_bad_fraction: float = 0.1
    shuffle_buffer: int = 1000
    workers: int = 2
    device: str = "auto"
    log_every: int = 10
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    eval_every: int | None = None
    eval_zeroshot: str | None = None
    eval_retrieval: str | None = None
    eval_templates: list[str] = field(default_factory=lambda: ["a photo of a {}."])
    progress: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.aug_crop, list):  # JSON and argparse give lists; compare and store one form
            self.aug_crop = tuple(self.aug_crop)

    def validate(self) -> TrainConfig:
        """Check every setting (types, ranges, the model spec and the device: all that needs no data and no
        weights); raise ConfigError (or ModelError) with the fix. Returns self."""
        check_fields(self)
        for name in ("data", "out"):
            if not getattr(self, name).strip():
                raise ConfigError(f"--{name} is empty: give a path")
        if self.batch_size < 2:
            raise ConfigError(
                f"--batch-size {self.batch_size}: a contrastive batch needs at least 2 image–text pairs"
            )
        _positive(self, "accum", "log_every", "checkpoint_every", "keep_checkpoints", "shuffle_buffer")
        if self.batch_size % self.accum:
            raise ConfigError(f"--batch-size {self.batch_size} is not divisible by --accum {self.accum}")
        if self.batch_size // self.accum < 2:
            raise ConfigError("each accumulation micro-batch needs at least 2 pairs: lower --accum")
        if self.steps is not None and self.epochs is not None:
            raise ConfigError("give --steps or --epochs, not both")
        for name in ("steps", "epochs", "samples_per_epoch", "eval_every"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        if self.workers < 0:
            raise ConfigError(f"--workers must be 0 or more, got {self.workers}")
        if self.warmup < 0:
            raise ConfigError(f"--warmup must be 0 or more, got {self.warmup}")
        for name in ("lr", "eps"):
            if not (getattr(self, name) > 0 and math.isfinite(getattr(self, name))):
                raise ConfigError(f"--{name} must be a positive number, got {getattr(self, name)}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ConfigError(f"--weight-decay must be a number, 0 or more, got {self.weight_decay}")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ConfigError("Adam betas must lie in [0, 1)")
        if self.grad_clip is not None and not (self.grad_clip > 0 and math.isfinite(self.grad_clip)):
            raise ConfigError(f"--grad-clip must be a positive number (or 0 for none), got {self.grad_clip}")
        if not 0 <= self.seed < 2**63:
            raise ConfigError(f"--seed must be a whole number from 0 to 2**63 - 1, got {self.seed}")
        crop = self.aug_crop
        if not (isinstance(crop, tuple) and len(crop) == 2 and 0 < crop[0] <= crop[1] <= 1):
            crop = " ".join(map(str, crop)) if isinstance(crop, tuple) else repr(crop)
            raise ConfigError(f"--aug-crop takes MIN MAX with 0 < MIN <= MAX <= 1, got {crop}")
        if not 0 <= self.aug_perspective <= 1:
            raise ConfigError(f"--aug-perspective must lie in [0, 1], got {self.aug_perspective}")
        if not 0 <= self.caption_variants <= 1:
            raise ConfigError(f"--caption-variants must lie in [0, 1], got {self.caption_variants}")
        self._validate_adversarial()
        if not 0 <= self.max_bad_fraction <= 1:
            raise ConfigError(f"--max-bad-fraction must lie in [0, 1], got {self.max_bad_fraction}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.data_format not in DATA_FORMATS:
            raise ConfigError(f"--format must be one of {', '.join(DATA_FORMATS)}, got {self.data_format!r}")
        if self.eval_every is not None and not (self.eval_zeroshot or self.eval_retrieval):
            raise ConfigError("--eval-every needs --eval-zeroshot DATA and/or --eval-retrieval DATA")
        if not self.eval_templates or any("{}" not in t for t in self.eval_templates):
            raise ConfigError("each --template must contain {} where the class name goes")
        check_device(self.device)
        parse_spec(self.model, self.pretrained)
        return self

    def _validate_adversarial(self) -> None:
        for name in ("adv_eps", "adv_step_size", "adv_weight"):
            value = getattr(self, name)
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise ConfigError(f"--{name.replace('_', '-')} must be a positive number, got {value}")
        if self.adv_steps < 1:
            raise ConfigError(f"--adv-steps must be at least 1, got {self.adv_steps}")
        if self.adv_norm not in ADV_NORMS:
            raise ConfigError(f"--adv-norm must be one of {', '.join(ADV_NORMS)}, got {self.adv_norm!r}")
        if self.adv_loss not in ADV_LOSSES:
            raise ConfigError(f"--adv-loss must be one of {', '.join(ADV_LOSSES)}, got {self.adv_loss!r}")
        if self.adv_eps is None:
            changed = [f"--{k.replace('_', '-')}" for k, v in ADV_DEFAULTS.items() if getattr(self, k) != v]
            if changed:
                raise ConfigError(
                    f"{', '.join(changed)} set without --adv-eps: give --adv-eps to train adversarially"
                )
        elif self.lock_image:
            raise ConfigError("adversarial training hardens the image tower: drop --lock-image or --adv-eps")
        else:
            self._validate_attack()

    def _validate_attack(self) -> None:
        from clipart.models.spec import parse_spec

        if self.adv_norm == "linf" and self.adv_eps >= 1:
            raise ConfigError(
                f"--adv-eps {self.adv_eps} with --adv-norm linf would replace whole images: use < 1"
            )
        if self.adv_loss == "tecoa" and self.adv_weight != ADV_DEFAULTS["adv_weight"]:
            raise ConfigError(
                "--adv-weight weighs fare's embedding term: tecoa has none (drop it or use --adv-loss fare)"
            )
        if self.adv_loss == "fare" and parse_spec(self.model, self.pretrained).random_init:
            raise ConfigError(
                "--adv-loss fare keeps image embeddings near the starting model's: start from weights (--pretrained, "
                "or a model that brings its own, such as clipart-mini or local-dir:FOLDER)"
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every setting."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a dict (e.g. a run's ``config.json``); unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"unknown training settings: {', '.join(unknown)}")
        return cls(**values)

    def differences(self, other: TrainConfig, ignore: frozenset[str] = RUNTIME_FIELDS) -> list[str]:
        """Names of the settings (outside ``ignore``) whose values differ from ``other``'s."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [k for k in mine if k not in ignore and mine[k] != theirs[k]]


def _positive(config: TrainConfig, *names: str) -> None:
    for name in names:
        if getattr(config, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(config, name)}")


def normalise_paths(config: TrainConfig) -> TrainConfig:
    """Make file paths absolute so that a run folder can be resumed from any working directory."""
    check_fields(config)  # the types first: a hand-edited config.json may hold anything
    # an empty path stays empty (validate refuses it), never the working directory
    updates: dict[str, Any] = {}
    if config.out.strip():
        updates["out"] = str(user_path(config.out).resolve())
    for name in ("eval_zeroshot", "eval_retrieval", "pretrained"):
        value = getattr(config, name)
        if value and value.strip() and user_path(value).exists():
            updates[name] = str(user_path(value).resolve())
    if config.data.strip() and user_path(config.data).exists():
        updates["data"] = str(user_path(config.data).resolve())
    elif any(c in config.data for c in "{*?[:") and "://" not in config.data:  # a local shard pattern
        updates["data"] = "::".join(os.path.abspath(os.path.expanduser(p)) for p in config.data.split("::"))
    if config.model.startswith("local-dir:"):
        updates["model"] = "local-dir:" + str(user_path(config.model[10:]).resolve())
    elif config.model.endswith(".json") and user_path(config.model).exists():
        updates["model"] = str(user_path(config.model).resolve())
    return dataclasses.replace(config, **updates)


def read_run_config(run_dir: Path) -> TrainConfig:
    """The config stored in a run folder; ConfigError when the folder holds no readable run."""
    path = run_dir / "config.json"
    if not path.is_file():
        raise ConfigError(f"{run_dir} holds no training run (no config.json): check the --resume folder")
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(stored, dict):
            raise TypeError("not a JSON object")
        return TrainConfig.from_dict(stored)
    except (ValueError, TypeError) as e:  # JSON and UTF-8 decoding errors are ValueErrors
        reason = str(e).splitlines()[0][:120]
        raise ConfigError(f"{path} is damaged ({reason}): start a new run in another --out folder") from None


def resume_config(run_dir: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """The config of the run in ``run_dir`` with ``overrides`` applied.

    Overrides of runtime settings (workers, logging, evaluation, device) are taken; an override of any other
    setting must equal the stored value, else ConfigError names the conflicting settings.
    """
    run_dir = user_path(run_dir).resolve()
    stored = read_run_config(run_dir)
    overrides = dict(overrides or {})
    overrides.pop("out", None)
    try:
        wanted = normalise_paths(dataclasses.replace(stored, **overrides))
    except TypeError as e:
        raise ConfigError(f"unknown training setting: {e}") from None
    conflicts = wanted.differences(stored)
    if conflicts:
        detail = "; ".join(
            f"--{k.replace('_', '-')} {getattr(wanted, k)!r} vs stored {getattr(stored, k)!r}"
            for k in conflicts
        )
        raise ConfigError(
            f"cannot resume {run_dir}: the flags conflict with the stored run ({detail}); "
            "drop those flags or start a new run with another --out"
        )
    return dataclasses.replace(wanted, out=str(run_dir)).validate()
