"""The training loop: CLIP's contrastive loss over the global batch, AdamW, cosine schedule, checkpoints.

One optimiser step sees ``batch_size`` pairs in total, spread over ``world`` processes and ``accum``
micro-batches. With accumulation, features of all micro-batches are computed first without gradients; each
micro-batch is then re-encoded with gradients and contrasted against the cached features of the others, so the
gradient equals that of one big batch. Across processes, ``open_clip.loss.ClipLoss`` gathers the features (with
gradients, local rows only), so every rank contrasts against the global batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import shutil
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from clipart.errors import ClipartError, ConfigError, require_extra
from clipart.models.build import ModelBundle, build_model
from clipart.train.adversarial import Adversary, Attack
from clipart.train.config import TrainConfig, normalise_paths, read_run_config
from clipart.train.data import (
    ListedBatches,
    Plan,
    ShardBatches,
    derive_seed,
    make_loader,
    make_plan,
    train_transform,
)
from clipart.train.distributed import Dist
from clipart.train.export import export_model
from clipart.train.logs import TrainLog
from clipart.train.modeling import cosine_with_warmup, lock_towers, make_optimizer
from clipart.train.runfolder import RunFolder
from clipart.train.sources import (
    PairTable,
    detect_format,
    list_shards,
    read_pairs_folder,
    read_pairs_table,
    shard_sizes,
)

MAX_LOGIT_SCALE = math.log(100.0)


def train(config: TrainConfig, resume: bool = False) -> Path:
    """Train (or, with ``resume``, continue) the run in ``config.out``; returns its export folder.

    Under torchrun every process calls this with the same config; rank 0 writes the files.
    """
    config = normalise_paths(config).validate()
    run = RunFolder(config.out)
    if not resume:
        run.check_new(config)
    else:
        differ = config.differences(read_run_config(run.path))
        if differ:
            raise ConfigError(f"cannot resume {run.path}: {', '.join(differ)} differ from the stored run")
    existed = run.path.exists()
    dist = Dist.from_env(config.device)
    try:
        return _Trainer(config, run, dist, resume).run()
    except ClipartError:
        if not resume and dist.main and not run.checkpoint_files():
            _undo_new_run(run.path, existed)  # bad data found before any progress: leave the disk as it was
        raise
    finally:
        dist.close()


def _check_eval_data(config: TrainConfig) -> None:
    """List the evaluation sets now (ClipartError in one line), not at the first evaluation after many steps."""
    from clipart.train.evaluate import read_labelled, read_retrieval

    if config.eval_zeroshot:
        read_labelled(config.eval_zeroshot)
    if config.eval_retrieval:
        read_retrieval(config.eval_retrieval)


def _adversary(config: TrainConfig, bundle: ModelBundle) -> Adversary | None:
    """The run's attacker (``--adv-eps``), or None for plain contrastive training."""
    if config.adv_eps is None:
        return None
    from open_clip.transform import PreprocessCfg

    preprocess = PreprocessCfg(**bundle.preprocess_cfg)
    attack = Attack(config.adv_eps, config.adv_norm, config.adv_steps, config.adv_step_size)
    return Adversary(
        bundle.model, preprocess.mean, preprocess.std, attack, config.adv_loss, config.adv_weight
    )


def _undo_new_run(path: Path, existed: bool) -> None:
    """Remove what a new run wrote into ``path`` (the folder itself too when this run made it)."""
    if not existed:
        shutil.rmtree(path, ignore_errors=True)
        return
    for child in path.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _precision(precision: str, device: torch.device) -> tuple[torch.dtype | None, bool]:
    """(autocast dtype or None for fp32, whether a GradScaler is needed)."""
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError("--precision fp16 needs a CUDA device: use fp32 (or bf16) on the CPU")
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision], precision == "fp16"


class _Trainer:
    """State of one training session (set up in ``__init__``, driven by ``run``)."""

    def __init__(self, config: TrainConfig, run: RunFolder, dist: Dist, resume: bool):
        self.config, self.run_dir, self.dist = config, run, dist
        self.device = dist.device
        self.autocast_dtype, use_scaler = _precision(config.precision, self.device)
        state = run.load_latest() if resume else None
        if self.device.type == "cuda" and self.autocast_dtype is None:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True

        _check_eval_data(config)  # the data is listed before the model is built: bad data costs no model
        self._list_data()
        torch.manual_seed(config.seed)
        self.bundle: ModelBundle = build_model(config.model, config.pretrained, "cpu")
        self.bundle.model.to(self.device)
        lock_towers(self.bundle.model, config.lock_image, config.lock_text)
        self.adversary = _adversary(
            config, self.bundle
        )  # before a resume loads the run's weights: FARE's anchor
        self._setup_data()
        self.optimizer = make_optimizer(
            self.bundle.model, config.lr, config.weight_decay, (config.beta1, config.beta2), config.eps
        )
        self.scheduler = cosine_with_warmup(self.optimizer, config.warmup, self.plan.total_steps)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_scaler)
        self.step, self.bad, self.seen = 0, self.listing_dropped, self.listing_dropped
        self.positions: dict[int, int] = {}  # shards: logical worker → buffered samples used this epoch
        self.epoch_of_positions = 0
        if state is not None:
            self._restore(state)
        self.dist.barrier()  # every rank has checked the folder before rank 0 writes into it
        if dist.main and not resume:
            run.write_config(config)
        elif dist.main:
            run.truncate_metrics(self.step)  # drop what a killed session logged after its last checkpoint
        self.model: torch.nn.Module = self.bundle.model
        if dist.world > 1:
            self.model = torch.nn.parallel.DistributedDataParallel(
                self.bundle.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        from open_clip.loss import ClipLoss

        self.loss_fn = ClipLoss(
            local_loss=True, gather_with_grad=True, cache_labels=True, rank=dist.rank, world_size=dist.world
        )
        self.attack_loss = ClipLoss()  # TeCoA's attack: each process attacks its own micro-batches
        self.window_fare = torch.zeros((), device=self.device)

    # -- set-up -------------------------------------------------------------------------------------------
    def _list_data(self) -> None:
        """List the training pairs (or shards) and plan the run: no model needed, so bad data fails first."""
        c = self.config
        fmt = detect_format(c.data, c.data_format)
        self.shards: list[str] | None = None
        self.shard_sizes: list[int] = []
        self.table: PairTable | None = None
        if fmt == "webdataset":
            require_extra("webdataset", "train", "training on webdataset shards")
            self.shards = list_shards(c.data)
            self.shard_sizes = [1] * len(self.shards) if c.samples_per_epoch else shard_sizes(self.shards)
            num = c.samples_per_epoch or sum(self.shard_sizes)
            self.listing_dropped = 0
        else:
            table = (
                read_pairs_folder(c.data)
                if fmt == "folder"
                else read_pairs_table(c.data, c.image_column, c.caption_column)
            )
            num, self.listing_dropped, self.table = len(table.paths), table.dropped, table
            if table.dropped > c.max_bad_fraction * (num + table.dropped):
                raise ClipartError(
                    f"{table.dropped} of {num + table.dropped} pairs in {c.data} have no caption, more than "
                    f"--max-bad-fraction {c.max_bad_fraction}: fix the data"
                )
        self.plan: Plan = make_plan(
            num, c.batch_size, self.dist.world, self.dist.rank, c.accum, c.steps, c.epochs
        )

    def _setup_data(self) -> None:
        """The datasets of the listed data, with the model's preprocessing and tokenizer."""
        c = self.config
        transform = train_transform(self.bundle.preprocess_cfg, c.aug_crop, c.aug_perspective)
        tok = self.bundle.tokenizer
        sizes, table = self.shard_sizes, self.table
        if self.shards is not None:
            self.make_dataset = lambda start, positions: ShardBatches(
                self.shards,
                sizes,
                self.plan,
                transform,
                tok,
                c.seed,
                c.workers,
                c.shuffle_buffer,
                start,
                positions,
                c.caption_variants,
            )
        else:
            assert table is not None
            dataset = ListedBatches(table, self.plan, transform, tok, c.seed, c.caption_variants)
            self.make_dataset = lambda start, positions: dataset

    def _restore(self, state: dict[str, Any]) -> None:
        data = state["data"]
        if data["num_samples"] != self.plan.num_samples:
            raise ConfigError(
                f"the data changed since this run started ({self.plan.num_samples} pairs now, "
                f"{data['num_samples']} then): resume with the same data"
            )
        layout = (self.dist.world, max(1, self.config.workers))
        if self.shards is not None and (data["world"], data["workers"]) != layout:
            raise ConfigError(
                f"this run reads shards with {data['world']} process(es) × {data['workers']} worker(s): resume "
                f"with the same --workers and number of processes (now {layout[0]} × {layout[1]})"
            )
        self.bundle.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.step, self.bad, self.seen = state["step"], state["bad"], state["seen"]
        self.positions = dict(data["positions"][self.dist.rank]) if self.shards is not None else {}
        self.epoch_of_positions = data["next_micro"] // max(1, self.plan.micro_per_epoch)
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        if self.device.type == "cuda" and rng.get("cuda") is not None:
            torch.cuda.set_rng_state(rng["cuda"], self.device)
        random.setstate(rng["python"])

    # -- the loop -----------------------------------------------------------------------------------------
    def run(self) -> Path:
        c, p = self.config, self.plan
        log = TrainLog(self.run_dir.path, p.total_steps, self.step, self.dist.main, c.progress)
        try:
            with warnings.catch_warnings():
                # open_clip's feature gather calls a torch collective that torch marks as deprecated
                warnings.filterwarnings("ignore", category=FutureWarning, module=r"open_clip\.")
                if self.step < p.total_steps:
                    if c.warmup >= p.total_steps:
                        log.message(
                            f"clipart: warning: --warmup {c.warmup} is not shorter than the run ({p.total_steps} "
                            "steps): the learning rate never reaches --lr"
                        )
                    log.message(
                        f"training {self.bundle.description} on {p.num_samples} pairs: {p.total_steps} steps of "
                        f"{p.batch_size} ({p.steps_per_epoch} per epoch), {self.dist.world} process(es) on "
                        f"{self.device.type}" + (f", resuming at step {self.step}" if self.step else "")
                    )
                    self._loop(log)
                log.end_bar()
                if self.dist.main:
                    raw = self.bundle.model
                    export_model(
                        raw, self.bundle.model_cfg, self.bundle.preprocess_cfg, self.run_dir.export_dir
                    )
                    log.message(f"exported to {self.run_dir.export_dir} (load it with --model local-dir:...)")
                self.dist.barrier()
        finally:
            log.close()
        return self.run_dir.export_dir

    def _loop(self, log: TrainLog) -> None:
        c, p = self.config, self.plan
        start_g = self.step * p.accum
        loader = make_loader(
            self.make_dataset(start_g, self.positions), start_g, c.workers, self.device.type == "cuda"
        )
        batches = iter(loader)
        self._train_mode()
        window_loss = torch.zeros((), device=self.device)
        window_steps, window_bad, window_seen, window_start = 0, 0, 0, time.perf_counter()
        while self.step < p.total_steps:
            micro = [next(batches) for _ in range(p.accum)]
            for j, batch in enumerate(micro):
                expected = self.step * p.accum + j
                if batch["g"] != expected:
                    raise RuntimeError(f"data order broken: micro-batch {batch['g']} arrived for {expected}")
                self._track_position(batch)
                window_bad += batch["bad"]
                window_seen += batch["seen"]
            window_loss += self._train_step(micro)
            self.step += 1
            window_steps += 1
            log.advance()
            last = self.step == p.total_steps
            if self.step % c.log_every == 0 or last:
                elapsed = time.perf_counter() - window_start
                loss_sum, fare_sum, bad, seen = self.dist.sum(
                    [window_loss.item(), self.window_fare.item(), window_bad, window_seen]
                )
                self.bad, self.seen = self.bad + int(bad), self.seen + int(seen)
                runs = self.dist.world * window_steps
                self._log(log, loss_sum / runs, fare_sum / runs, window_steps, elapsed, micro)
                window_loss.zero_()
                self.window_fare.zero_()
                window_steps, window_bad, window_seen, window_start = 0, 0, 0, time.perf_counter()
            every = c.eval_every and self.step % c.eval_every == 0
            if (c.eval_zeroshot or c.eval_retrieval) and (last or every):
                self._evaluate(log)
            if self.step % c.checkpoint_every == 0 or last:
                self._checkpoint()
        del batches
        if self.bad:
            log.message(f"skipped {self.bad} of {self.seen} samples: unreadable images or missing captions")

    def _track_position(self, batch: dict[str, Any]) -> None:
        epoch = batch["g"] // self.plan.micro_per_epoch
        if epoch != self.epoch_of_positions:
            self.positions, self.epoch_of_positions = {}, epoch
        self.positions[batch["slot"]] = batch["raw_pos"]

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _train_mode(self) -> None:
        """Train mode; while training adversarially, batch norms keep their running statistics (clean and attacked
        images share one forward pass, whose batch statistics would mix them, and the drawing loop uses the
        running ones)."""
        self.model.train()
        if self.adversary is not None:
            for module in self.bundle.model.modules():
                if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                    module.eval()

    def _attack(
        self, images: list[torch.Tensor], texts: list[torch.Tensor]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor] | None, list[torch.Tensor] | None]:
        """(the images to train on, FARE's attacked images, FARE's anchor embeddings) for each micro-batch."""
        adversary, model = self.adversary, self.bundle.model
        if adversary is None:
            return images, None, None
        with self._autocast():
            seeds = [
                derive_seed(self.config.seed, "attack", self.step, self.dist.rank, j)
                for j in range(len(images))
            ]
            if adversary.loss == "tecoa":
                attacked = []
                for image, text, seed in zip(images, texts, seeds, strict=True):
                    with torch.no_grad():
                        text_f = F.normalize(model.encode_text(text).float(), dim=-1)
                        scale = model.logit_scale.exp().float()
                    objective = partial(self.attack_loss, text_features=text_f, logit_scale=scale)
                    attacked.append(adversary.perturb(model, image, objective, seed))
                return attacked, None, None
            anchors = [adversary.anchor_features(image) for image in images]
            attacked = [
                adversary.perturb(model, image, lambda f, a=anchor: (f - a).pow(2).sum(dim=-1).mean(), seed)
                for image, anchor, seed in zip(images, anchors, seeds, strict=True)
            ]
        return images, attacked, anchors

    def _forward(
        self,
        image: torch.Tensor,
        text: torch.Tensor,
        attacked: torch.Tensor | None,
        anchor: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(image features, text features, logit scale, FARE term or None) of one micro-batch, in one forward
        pass (attacked images ride along with the clean ones, so DDP sees a single pass)."""
        if attacked is None:
            return (*self.model(image, text)[:3], None)
        features, text_f, scale = self.model(torch.cat([image, attacked]), text)[:3]
        image_f, attacked_f = features.split(image.shape[0])
        return image_f, text_f, scale, self.adversary.fare_term(attacked_f, anchor)

    def _train_step(self, micro: list[dict[str, Any]]) -> torch.Tensor:
        """One optimiser step over the micro-batches; returns the loss (a 0-d tensor, not synchronised)."""
        c, accum = self.config, len(micro)
        images = [b["images"].to(self.device, non_blocking=True) for b in micro]
        texts = [b["texts"].to(self.device, non_blocking=True) for b in micro]
        images, attacked, anchors = self._attack(images, texts)
        fare_sum = torch.zeros((), device=self.device)  # FARE's term over the whole batch
        if accum == 1:
            with self._autocast():
                image_f, text_f, scale, fare = self._forward(
                    images[0], texts[0], attacked and attacked[0], anchors and anchors[0]
                )
                contrastive = loss = self.loss_fn(image_f, text_f, scale)
                if fare is not None:
                    fare_sum += fare.detach().float()
                    loss = loss + fare
            self.scaler.scale(loss).backward()
        else:
            with torch.no_grad(), self._autocast():
                cached = [self.bundle.model(i, t)[:2] for i, t in zip(images, texts, strict=True)]
            for j in range(accum):
                sync = j == accum - 1 or not isinstance(self.model, torch.nn.parallel.DistributedDataParallel)
                with contextlib.nullcontext() if sync else self.model.no_sync():
                    with self._autocast():
                        image_f, text_f, scale, fare = self._forward(
                            images[j], texts[j], attacked and attacked[j], anchors and anchors[j]
                        )
                        # every pass sees the whole loss: give the scale 1/accum of its gradient each time
                        scale = scale / accum + (scale - scale / accum).detach()
                        all_image = torch.cat([image_f if k == j else f for k, (f, _) in enumerate(cached)])
                        all_text = torch.cat([text_f if k == j else f for k, (_, f) in enumerate(cached)])
                        contrastive = loss = self.loss_fn(all_image, all_text, scale)
                        if fare is not None:  # each micro-batch's term is its share of the batch's mean
                            fare_sum += fare.detach().float() / accum
                            loss = loss + fare / accum
                    self.scaler.scale(loss).backward()
        if c.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.bundle.model.parameters(), c.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.last_lr = self.optimizer.param_groups[0]["lr"]
        self.scheduler.step()
        with torch.no_grad():
            self.bundle.model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
        self.window_fare += fare_sum
        return contrastive.detach().float() + fare_sum

    # -- logging, evaluation, checkpoints -----------------------------------------------------------------
    def _log(
        self, log: TrainLog, loss: float, fare: float, steps: int, elapsed: float, micro: list[dict[str, Any]]
    ) -> None:
        c, p = self.config, self.plan
        if not math.isfinite(loss) and not self.scaler.is_enabled():
            raise ClipartError(f"the loss became {loss} at step {self.step}: lower --lr (now {c.lr})")
        if self.bad > c.max_bad_fraction * self.seen and (self.seen >= 100 or self.step == p.total_steps):
            example = next((b["bad_example"] for b in micro if b["bad_example"]), "")
            raise ClipartError(
                f"{self.bad} of {self.seen} samples were unreadable or had no caption, more than "
                f"--max-bad-fraction {c.max_bad_fraction}" + (f" (e.g. {example})" if example else "")
            )
        log.metrics(
            {
                "step": self.step,
                "epoch": round(self.step / p.steps_per_epoch, 4),
                "loss": loss,
                "lr": self.last_lr,
                "logit_scale": self.bundle.model.logit_scale.exp().item(),
                "samples_per_s": steps * p.batch_size / max(elapsed, 1e-9),
                "bad_samples": self.bad,
                "seen_samples": self.seen,
                **(
                    {"fare_term": fare}
                    if self.adversary is not None and self.adversary.loss == "fare"
                    else {}
                ),
            }
        )

    def _evaluate(self, log: TrainLog) -> None:
        if self.dist.main:
            from clipart.train.evaluate import evaluate_retrieval, evaluate_zeroshot

            c, model = self.config, self.bundle.model
            model.eval()
            row: dict[str, Any] = {"step": self.step}
            with self._autocast():
                if c.eval_zeroshot:
                    result = evaluate_zeroshot(
                        self.bundle, c.eval_zeroshot, c.eval_templates, workers=c.workers, device=self.device
                    )
                    row.update({f"zeroshot_{k}": v for k, v in result.items()})
                if c.eval_retrieval:
                    result = evaluate_retrieval(
                        self.bundle, c.eval_retrieval, workers=c.workers, device=self.device
                    )
                    row.update({f"retrieval_{k}": v for k, v in result.items()})
            self._train_mode()
            log.metrics(row)
            log.message(
                f"step {self.step}: "
                + ", ".join(f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float))
            )
        self.dist.barrier()

    def _checkpoint(self) -> None:
        next_micro = self.step * self.plan.accum
        current = next_micro // self.plan.micro_per_epoch == self.epoch_of_positions
        positions = self.dist.gather(self.positions if current else {})
        if not self.dist.main:
            return
        state = {
            "step": self.step,
            "model": self.bundle.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
                "python": random.getstate(),
            },
            "data": {
                "next_micro": next_micro,
                "num_samples": self.plan.num_samples,
                "world": self.dist.world,
                "workers": max(1, self.config.workers),
                "positions": positions,
            },
            "bad": self.bad,
            "seen": self.seen,
            "config": dataclasses.asdict(self.config),
        }
        self.run_dir.save_checkpoint(state, self.step, self.config.keep_checkpoints)
