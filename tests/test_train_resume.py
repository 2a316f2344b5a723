"""Kill-and-resume reproduces an uninterrupted run bit for bit; 2 torchrun processes match 1 process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from test_train_support import run_cli, shapes_csv, tiny_model_json


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("resume")
    return {"csv": shapes_csv(root, 400, seed=5), "model": tiny_model_json(root / "tiny.json")}


def _args(data: dict, out: Path, steps: int, **flags: object) -> list[str]:
    args = ["train", "--data", str(data["csv"]), "--model", str(data["model"]), "--out", str(out), "--quiet"]
    args += ["--steps", str(steps), "--batch-size", "16", "--warmup", "3", "--lr", "1e-3", "--log-every", "1"]
    for key, value in flags.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "export" / "open_clip_model.safetensors"))


def _losses(run: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_sigkill_then_resume_gives_the_same_weights_as_an_uninterrupted_run(
    data: dict, tmp_path: Path
) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert run_cli(*_args(data, whole, 30, workers=2, checkpoint_every=8)).returncode == 0

    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "clipart", *_args(data, killed, 30, workers=2, checkpoint_every=8)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 240
    while not (killed / "checkpoints" / "step_00000016.pt").exists():
        assert proc.poll() is None and time.monotonic() < deadline, (
            "the run ended before its second checkpoint"
        )
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the trainer and its loader workers
    proc.wait()
    assert not (killed / "export").exists()
    assert not list((killed / "checkpoints").glob(".*"))  # no temporary file left as a checkpoint

    result = run_cli("train", "--resume", str(killed), "--quiet", "--workers", "1")  # workers may change
    assert result.returncode == 0, result.stderr
    a, b = _weights(whole), _weights(killed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # bitwise on the CPU
    assert _losses(whole) == _losses(killed)  # lines logged after the last checkpoint were replaced

    again = run_cli("train", "--resume", str(killed))  # a finished run: nothing to do, export kept
    assert again.returncode == 0 and Path(again.stdout.strip()) == killed / "export"


def test_two_torchrun_processes_match_one_process_with_the_same_global_batch(
    data: dict, tmp_path: Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert run_cli(*_args(data, one, 12, workers=0)).returncode == 0
    launcher = ["--standalone", "--nproc_per_node", "2", "-m", "clipart"]
    result = run_cli(*launcher, *_args(data, two, 12, workers=0), module="torch.distributed.run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == [str(two / "export")]  # rank 0 alone reports
    assert _losses(two) == pytest.approx(_losses(one), abs=1e-4)
    a, b = _weights(one), _weights(two)
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-4, rtol=1e-3, msg=key)
