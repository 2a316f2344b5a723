"""Batches for training: deterministic per-epoch order, split over ranks, decoded in loader workers.

Every micro-batch has a global index ``g`` (``epoch = g // micro_per_epoch``). Its content is a pure function of
the seed and ``g`` (and, for shards, of the rank/worker layout), so a resumed run sees exactly the batches an
uninterrupted run would have seen. Unreadable images and pairs without captions are skipped and counted.

- Listed data (CSV/TSV, image folder): each epoch is a seeded permutation of all pairs; global batch ``s`` is
  permutation slice ``s``; rank ``r`` takes its share, cut into ``accum`` micro-batches. A bad pair is replaced by
  a seeded random pair so that every batch keeps its size (DDP gathers need equal sizes).
- Webdataset shards: each of the S = ranks × workers slots streams its own shards through a seeded shuffle
  buffer, decoding only what leaves the buffer; a resumed slot replays the buffer without decoding up to its
  stored position. Shards are dealt to slots by size each epoch; when that cannot balance the slots within
  2% (e.g. fewer shards than slots), every slot reads all shards and keeps every S-th sample instead. A slot
  that runs dry (bad samples, imbalance) tops up from a reshuffled next pass.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, Sampler, get_worker_info

from clipart.errors import ClipartError
from clipart.train.captions import vary_caption
from clipart.train.config import OPEN_CLIP_CROP
from clipart.train.sources import PairTable, decode_image, shard_sample_parts

Batch = dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """How a run's global batches map onto ranks, micro-batches and epochs."""

    num_samples: int
    batch_size: int  # global, per optimiser step
    world: int
    rank: int
    accum: int
    total_steps: int

    @property
    def micro_size(self) -> int:
        """Pairs per micro-batch on one rank."""
        return self.batch_size // (self.world * self.accum)

    @property
    def steps_per_epoch(self) -> int:
        """Optimiser steps per pass over the data (the last partial batch is dropped)."""
        return self.num_samples // self.batch_size

    @property
    def micro_per_epoch(self) -> int:
        """Micro-batches one rank loads per epoch."""
        return self.steps_per_epoch * self.accum

    @property
    def total_micro(self) -> int:
        """Micro-batches one rank loads in the whole run."""
        return self.total_steps * self.accum


def make_plan(
    num_samples: int,
    batch_size: int,
    world: int,
    rank: int,
    accum: int,
    steps: int | None,
    epochs: int | None,
) -> Plan:
    """Check that the batch fits the data and the processes; resolve ``epochs`` into steps."""
    if batch_size % (world * accum):
        raise ClipartError(
            f"--batch-size {batch_size} (the global batch) must be divisible by processes × --accum = "
            f"{world} × {accum}"
        )
    if batch_size // (world * accum) < 2:
        raise ClipartError("each process's micro-batch would hold fewer than 2 pairs: raise --batch-size")
    if num_samples < batch_size:
        raise ClipartError(
            f"the data holds {num_samples} usable pairs, fewer than one batch of {batch_size}: "
            "lower --batch-size or add data"
        )
    plan = Plan(num_samples, batch_size, world, rank, accum, 0)
    total = steps if steps is not None else (epochs or 1) * plan.steps_per_epoch
    return Plan(num_samples, batch_size, world, rank, accum, total)


def train_transform(
    preprocess_cfg: dict[str, Any], crop: tuple[float, float] = OPEN_CLIP_CROP, perspective: float = 0.0
) -> Callable:
    """open_clip's training transform for this model (random resized crop to its input size, RGB, normalise),
    with the crop's area range ``crop`` and, when ``perspective`` > 0, a random perspective warp of that
    distortion on half the images first (uncovered corners white, as the drawing loop's views fill them).

    The warp lets a guide learn the views the drawing loop shows it (clipart/augment.py); torchvision draws it
    from torch's default generator, which the loader seeds per image, so runs stay exact on --resume.
    """
    import open_clip
    from torchvision import transforms

    cfg = open_clip.transform.PreprocessCfg(**preprocess_cfg)
    base = open_clip.transform.image_transform_v2(
        cfg, is_train=True, aug_cfg=open_clip.transform.AugmentationCfg(scale=tuple(crop))
    )
    if perspective <= 0:
        return base
    warp = transforms.RandomPerspective(distortion_scale=perspective, p=0.5, fill=(255, 255, 255))
    return transforms.Compose([_to_rgb, warp, *base.transforms])


def _to_rgb(image: Any) -> Any:
    """A PIL image in RGB, so the warp's white fill has three channels (a module function: workers pickle it)."""
    return image.convert("RGB")


def derive_seed(*parts: object) -> int:
    """A 63-bit seed that depends on every part (stable across processes and Python runs)."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _transform_all(
    images: list,
    captions: list[str],
    transform: Callable,
    tokenizer: Callable,
    seeds: list[int],
    caption_variants: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack transformed images (each image's augmentation seeded by its own seed) and tokenised captions, each
    rewritten as people write (:func:`clipart.train.captions.vary_caption`) with probability ``caption_variants``."""
    if caption_variants > 0:
        rngs = [random.Random(derive_seed(seed, "caption")) for seed in seeds]
        captions = [
            vary_caption(c, r) if r.random() < caption_variants else c
            for c, r in zip(captions, rngs, strict=True)
        ]
    pixels = []
    with torch.random.fork_rng(devices=[]):
        state = random.getstate()
        try:
            for image, seed in zip(images, seeds, strict=True):
                torch.default_generator.manual_seed(seed)  # CPU only: torch.manual_seed also seeds GPUs
                random.seed(seed)
                pixels.append(transform(image))
        finally:
            random.setstate(state)
    return torch.stack(pixels), tokenizer(captions)


def _batch(
    images: torch.Tensor,
    texts: torch.Tensor,
    g: int,
    bad: int,
    seen: int,
    example: str | None,
    slot: int,
    raw_pos: int,
) -> Batch:
    """A micro-batch with its bookkeeping: global index, bad/seen sample counts, and (shards) the loader slot
    and its position in the slot's buffered stream."""
    return {"images": images, "texts": texts, "g": g, "bad": bad, "seen": seen, "bad_example": example,
            "slot": slot, "raw_pos": raw_pos}  # fmt: skip


class ListedBatches(Dataset):
    """Map-style: item ``g`` is micro-batch ``g`` of this rank, built from a listed PairTable."""

    def __init__(
        self,
        table: PairTable,
        plan: Plan,
        transform: Callable,
        tokenizer: Callable,
        seed: int,
        caption_variants: float = 0.0,
    ):
        self.table, self.plan, self.seed = table, plan, seed
        self.transform, self.tokenizer, self.caption_variants = transform, tokenizer, caption_variants
        self._perm_epoch, self._perm = -1, torch.empty(0, dtype=torch.long)

    def __len__(self) -> int:
        return self.plan.total_micro

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._perm_epoch:
            gen = torch.Generator().manual_seed(derive_seed(self.seed, "epoch", epoch))
            self._perm, self._perm_epoch = torch.randperm(self.plan.num_samples, generator=gen), epoch
        return self._perm

    def __getitem__(self, g: int) -> Batch:
        p = self.plan
        epoch, m = divmod(g, p.micro_per_epoch)
        step, j = divmod(m, p.accum)
        start = step * p.batch_size + p.rank * (p.batch_size // p.world) + j * p.micro_size
        indices = self._permutation(epoch)[start : start + p.micro_size].tolist()
        images, captions, bad, example = [], [], 0, None
        seeds = [derive_seed(self.seed, "aug", epoch, start + k) for k in range(len(indices))]
        for k, index in enumerate(indices):
            spare = None
            for _ in range(100):
                try:
                    images.append(decode_image(self.table.paths[index]))
                    captions.append(self.table.captions[index])
                    break
                except Exception as e:  # any decoding failure means "skip this image"
                    bad += 1
                    example = example or f"{self.table.paths[index]}: {e}"
                    spare = spare or random.Random(derive_seed(self.seed, "spare", epoch, start + k))
                    index = spare.randrange(p.num_samples)
            else:
                raise ClipartError(f"100 images in a row could not be read (last: {example}): check the data")
        pixels, tokens = _transform_all(
            images, captions, self.transform, self.tokenizer, seeds, self.caption_variants
        )
        return _batch(pixels, tokens, g, bad, len(indices) + bad, example, slot=0, raw_pos=0)


class _FromIndex(Sampler):
    """Yields ``start, start + 1, ..., stop - 1``."""

    def __init__(self, start: int, stop: int):
        self.start, self.stop = start, stop

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start, self.stop))

    def __len__(self) -> int:
        return self.stop - self.start


class ShardBatches(IterableDataset):
    """Iterable: micro-batches of this rank from webdataset shards, starting at global micro-batch ``start``.

    ``positions`` maps a logical worker to the number of buffered samples it had consumed in the epoch of
    ``start`` (from a checkpoint). DataLoader takes batches round-robin from its workers, so logical worker
    ``l`` produces every micro-batch ``g`` with ``g % workers == l``; physical worker ``p`` plays logical worker
    ``(p + start) % workers`` so that the order survives a restart at any ``start``.
    """

    def __init__(
        self,
        shards: list[str],
        sizes: list[int],
        plan: Plan,
        transform: Callable,
        tokenizer: Callable,
        seed: int,
        workers: int,
        shuffle_buffer: int,
        start: int = 0,
        positions: dict[int, int] | None = None,
        caption_variants: float = 0.0,
    ):
        self.shards, self.sizes, self.plan = shards, sizes, plan
        self.transform, self.tokenizer, self.caption_variants = transform, tokenizer, caption_variants
        self.seed, self.workers, self.shuffle_buffer = seed, max(1, workers), shuffle_buffer
        self.start, self.positions = start, dict(positions or {})

    def _deal(self, epoch: int, pass_: int, slot: int, slots: int) -> tuple[list[str], bool]:
        """(shards this slot reads, whether it keeps only every ``slots``-th of their samples)."""
        order = list(range(len(self.shards)))
        random.Random(derive_seed(self.seed, "shards", epoch, pass_)).shuffle(order)
        if len(order) >= slots:
            loads, owned = [0] * slots, [[] for _ in range(slots)]
            for i in sorted(order, key=lambda i: -self.sizes[i]):  # stable: equal sizes keep the shuffle
                k = min(range(slots), key=lambda s: (loads[s], s))
                loads[k] += self.sizes[i]
                owned[k].append(self.shards[i])
            if max(loads) - min(loads) <= 0.02 * max(loads):
                return owned[slot], False
        return [self.shards[i] for i in order], True

    def _raw(self, epoch: int, slot: int, errors: list[str]) -> Iterator[dict]:
        """The shuffled, undecoded samples of one slot in one epoch (passes repeat if a slot runs dry)."""
        import webdataset as wds

        slots = self.plan.world * self.workers

        def handler(exn: Exception) -> bool:
            errors.append(str(exn)[:200])
            return True

        for pass_ in itertools.count():
            shards, strided = self._deal(epoch, pass_, slot, slots)
            samples: Iterator[dict] = wds.tarfile_samples([{"url": s} for s in shards], handler)
            if strided:
                samples = itertools.islice(samples, slot, None, slots)
            rng = random.Random(derive_seed(self.seed, "buffer", epoch, slot, pass_))
            shuffle = wds.shuffle(self.shuffle_buffer, initial=self.shuffle_buffer, rng=rng)
            count = 0
            for sample in shuffle(iter(samples)):
                count += 1
                yield sample
            if count == 0:
                raise ClipartError(
                    f"a loader slot got no samples from {len(self.shards)} shard(s): use fewer --workers "
                    "or processes, or more data"
                )

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        physical = info.id if info is not None else 0
        logical = (physical + self.start) % self.workers
        p = self.plan
        slot = p.rank * self.workers + logical
        first = self.start + (logical - self.start) % self.workers
        epoch, stream, raw_pos, errors = -1, iter(()), 0, []
        for g in range(first, p.total_micro, self.workers):
            if g // p.micro_per_epoch != epoch:
                epoch = g // p.micro_per_epoch
                errors = []
                stream = self._raw(epoch, slot, errors)
                raw_pos = self.positions.get(logical, 0) if epoch == self.start // p.micro_per_epoch else 0
                for _ in range(raw_pos):
                    next(stream)
                errors.clear()  # counted before the checkpoint
            images, captions, seeds, bad, example = [], [], [], 0, None
            while len(images) < p.micro_size:
                sample, raw_pos = next(stream), raw_pos + 1
                seeds.append(derive_seed(self.seed, "aug", epoch, slot, raw_pos))
                parts = shard_sample_parts(sample)
                try:
                    if parts is None:
                        raise ValueError("no image or no caption")
                    images.append(decode_image(parts[0]))
                    captions.append(parts[1])
                except Exception as e:  # any decoding failure means "skip this sample"
                    seeds.pop()
                    bad += 1
                    example = example or f"{sample.get('__key__')} in {sample.get('__url__')}: {e}"
            bad += len(errors)
            example = example or (errors[0] if errors else None)
            errors.clear()
            pixels, tokens = _transform_all(
                images, captions, self.transform, self.tokenizer, seeds, self.caption_variants
            )
            yield _batch(pixels, tokens, g, bad, p.micro_size + bad, example, slot=logical, raw_pos=raw_pos)


def make_loader(dataset: Dataset, start: int, workers: int, pin_memory: bool) -> DataLoader:
    """A DataLoader over micro-batches from global index ``start`` to the end of the run."""
    sampler = None
    if isinstance(dataset, ListedBatches):
        sampler = _FromIndex(start, len(dataset))
    return DataLoader(
        dataset,
        batch_size=None,
        sampler=sampler,
        num_workers=workers,
        pin_memory=pin_memory,
        prefetch_factor=4 if workers else None,
        persistent_workers=False,
    )
