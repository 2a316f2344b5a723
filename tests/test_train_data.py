"""Training data: every format, deterministic shuffling, rank sharding, bad samples, shard resume positions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from test_train_support import make_pairs, tiny_model_json, write_csv

from clipart.errors import ClipartError
from clipart.train import TrainConfig, resume_config, train
from clipart.train.data import ListedBatches, ShardBatches, make_loader, make_plan, train_transform
from clipart.train.sources import PairTable, detect_format, list_shards, read_pairs_folder, shard_sizes


def _to_tensor(image):  # noqa: ANN001, ANN202 - a picklable stand-in for the CLIP transform
    import numpy as np

    return torch.from_numpy(np.asarray(image, dtype=np.float32).copy()).permute(2, 0, 1)


def _tokens(captions: list[str]) -> torch.Tensor:
    return torch.tensor([[sum(map(ord, c))] for c in captions])


def _fingerprints(batches: list[dict]) -> list[str]:
    return [hashlib.md5(x.numpy().tobytes()).hexdigest() for b in batches for x in b["images"]]


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("pairs")
    made = make_pairs(root / "images", 120, seed=3)
    return {"root": root, "pairs": made, "model": tiny_model_json(root / "tiny.json")}


def _shards(root: Path, pairs: list, sizes: list[int]) -> str:
    import webdataset as wds

    (root / "shards").mkdir(exist_ok=True)
    start = 0
    for s, n in enumerate(sizes):
        with wds.TarWriter(str(root / "shards" / f"{s:05d}.tar")) as w:
            for i, (path, caption, _) in enumerate(pairs[start : start + n]):
                w.write({"__key__": f"s{s}_{i:04d}", "png": path.read_bytes(), "txt": caption})
        start += n
    return str(root / "shards" / f"{{00000..{len(sizes) - 1:05d}}}.tar")


def _train(data: str, out: Path, model: Path, steps: int = 2, **kw) -> list[dict]:
    config = TrainConfig(data=data, model=str(model), out=str(out), steps=steps, batch_size=8, warmup=1,
                         workers=kw.pop("workers", 0), log_every=1, progress=False, **kw)  # fmt: skip
    export = train(config)
    assert (export / "open_clip_model.safetensors").is_file()
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_each_format_trains(pairs: dict, tmp_path: Path) -> None:
    rows = [(p, c) for p, c, _ in pairs["pairs"]]
    tsv = write_csv(pairs["root"] / "pairs.tsv", rows, ("image", "text"), delimiter="\t")
    assert detect_format(str(tsv)) == "csv"
    metrics = _train(str(tsv), tmp_path / "tsv", pairs["model"], image_column="image", caption_column="text")
    assert metrics[-1]["seen_samples"] == 16 and metrics[-1]["bad_samples"] == 0

    folder = tmp_path / "folder"
    folder.mkdir()
    for i, (path, caption, _) in enumerate(pairs["pairs"][:40]):
        (folder / f"{i}.png").write_bytes(path.read_bytes())
        (folder / f"{i}.txt").write_text(caption + "\n")
    (folder / "no-caption.png").write_bytes(pairs["pairs"][0][0].read_bytes())
    table = read_pairs_folder(folder)
    assert len(table.paths) == 40 and table.dropped == 1 and table.captions[0] == pairs["pairs"][0][1]
    metrics = _train(str(folder), tmp_path / "folder-run", pairs["model"])
    assert metrics[-1]["bad_samples"] == 1  # the image without a caption

    pattern = _shards(tmp_path, pairs["pairs"], [30, 30, 30])
    assert detect_format(pattern) == "webdataset" and shard_sizes(list_shards(pattern)) == [30, 30, 30]
    metrics = _train(pattern, tmp_path / "wds-run", pairs["model"], workers=2)
    assert metrics[-1]["seen_samples"] == 16 and metrics[-1]["epoch"] == pytest.approx(2 / 11, abs=1e-3)
    with pytest.raises(ClipartError, match=r"reads shards with 1 process\(es\) × 2 worker\(s\)"):
        train(resume_config(tmp_path / "wds-run", {"workers": 1}), resume=True)  # the stream layout changed


def test_listed_batches_shuffle_per_epoch_and_split_ranks_without_overlap(pairs: dict) -> None:
    table = PairTable([str(p) for p, _, _ in pairs["pairs"]], [c for _, c, _ in pairs["pairs"]], 0, "test")

    def epoch_batches(world: int, rank: int, seed: int = 0, epoch: int = 0) -> list[dict]:
        plan = make_plan(len(table.paths), 24, world, rank, 1, None, 2)
        data = ListedBatches(table, plan, _to_tensor, _tokens, seed)
        m = plan.micro_per_epoch
        return [data[g] for g in range(epoch * m, (epoch + 1) * m)]

    single = _fingerprints(epoch_batches(1, 0))
    rank0, rank1 = _fingerprints(epoch_batches(2, 0)), _fingerprints(epoch_batches(2, 1))
    assert len(set(single)) == len(single) == 120  # every pair once per epoch
    assert not set(rank0) & set(rank1) and sorted(rank0 + rank1) == sorted(single)
    for step in range(5):  # each global batch is the same set on one or two ranks
        assert sorted(rank0[12 * step : 12 * step + 12] + rank1[12 * step : 12 * step + 12]) == sorted(
            single[24 * step : 24 * step + 24]
        )
    assert single == _fingerprints(epoch_batches(1, 0))  # deterministic
    assert single != _fingerprints(epoch_batches(1, 0, epoch=1))  # reshuffled each epoch
    assert sorted(single) == sorted(_fingerprints(epoch_batches(1, 0, epoch=1)))
    assert single != _fingerprints(epoch_batches(1, 0, seed=1))


def test_bad_images_are_skipped_and_counted_and_too_many_stop_the_run(pairs: dict, tmp_path: Path) -> None:
    rows = [(p, c) for p, c, _ in pairs["pairs"][:60]]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    some_bad = write_csv(tmp_path / "some.csv", rows + [(broken, "a broken image")] * 3 + [(tmp_path / "gone.png", "x")],
                         ("filepath", "caption"))  # fmt: skip
    metrics = _train(str(some_bad), tmp_path / "some", pairs["model"], steps=8)
    assert 0 < metrics[-1]["bad_samples"] < 0.2 * metrics[-1]["seen_samples"]

    many_bad = write_csv(
        tmp_path / "many.csv", rows[:20] + [(broken, "a broken image")] * 40, ("filepath", "caption")
    )
    with pytest.raises(ClipartError, match="unreadable or had no caption.*max-bad-fraction"):
        _train(str(many_bad), tmp_path / "many", pairs["model"], steps=20)

    no_captions = write_csv(tmp_path / "empty.csv", rows[:20] + [(broken, "")] * 10, ("filepath", "caption"))
    with pytest.raises(ClipartError, match="10 of 30 pairs .* have no caption"):
        _train(str(no_captions), tmp_path / "empty", pairs["model"])


@pytest.mark.parametrize("sizes", [[20, 20, 20, 20], [30, 30, 30]])
def test_shard_stream_resumes_at_any_batch_with_two_workers(
    pairs: dict, tmp_path: Path, sizes: list[int]
) -> None:
    shards = list_shards(_shards(tmp_path, pairs["pairs"], sizes))
    plan = make_plan(sum(sizes), 20, 1, 0, 2, None, 3)

    def run(start: int, positions: dict[int, int]) -> list[dict]:
        data = ShardBatches(shards, sizes, plan, _to_tensor, _tokens, 0, 2, 16, start, positions)
        return list(make_loader(data, start, 2, False))

    full = run(0, {})
    assert [b["g"] for b in full] == list(range(plan.total_micro))
    m = plan.micro_per_epoch
    for epoch in range(3):  # no sample twice within an epoch
        seen = _fingerprints(full[epoch * m : (epoch + 1) * m])
        assert len(set(seen)) == len(seen) == plan.steps_per_epoch * 20
    for start in (5, m, m + 3):
        positions = {b["slot"]: b["raw_pos"] for b in full[:start] if b["g"] // m == start // m}
        resumed = run(start, positions)
        assert [b["g"] for b in resumed] == list(range(start, plan.total_micro))
        assert _fingerprints(resumed) == _fingerprints(full[start:])


def test_training_views_warp_half_the_images_with_white_corners_and_repeat_for_a_seed() -> None:
    from PIL import Image

    cfg = {"size": 32, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "interpolation": "bicubic"}
    red = Image.new("RGB", (40, 40), (255, 0, 0))

    def views(transform) -> list[torch.Tensor]:  # noqa: ANN001
        out = []
        for seed in range(40):
            torch.manual_seed(seed)
            out.append(transform(red))
        return out

    def white_corners(x: torch.Tensor) -> bool:
        return bool((x[:, [0, 0, -1, -1], [0, -1, 0, -1]].min(dim=0).values > 0.9).any())

    plain = views(train_transform(cfg))
    warped = views(train_transform(cfg, (0.5, 1.0), 0.5))
    assert all(x.shape == (3, 32, 32) for x in plain + warped)
    assert not any(map(white_corners, plain))  # a crop of a red image stays red
    assert 8 <= sum(map(white_corners, warped)) <= 32  # about half are warped, uncovering white
    again = views(train_transform(cfg, (0.5, 1.0), 0.5))
    assert all(torch.equal(a, b) for a, b in zip(warped, again, strict=True))  # same seed, same view
