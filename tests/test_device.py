"""The device under torchrun, simulated on the CPU: each process takes ``cuda:LOCAL_RANK`` in drawing, batch drawing
and training; a LOCAL_RANK past the visible GPUs, a bad rank variable or a missing ``cuda:N`` is one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import clipart.loop
from clipart.cli import main
from clipart.errors import ClipartError, ConfigError, ModelError
from clipart.models.device import launch_ranks, resolve_device
from clipart.train import distributed

CUDA0, CUDA1 = torch.device("cuda", 0), torch.device("cuda", 1)


@pytest.fixture
def two_gpus(monkeypatch: pytest.MonkeyPatch) -> list[torch.device]:
    """A machine with two visible CUDA devices (on the CPU: nothing is allocated on them); ``set_device`` calls
    are recorded instead of made."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    chosen: list[torch.device] = []
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    return chosen


def _torchrun(monkeypatch: pytest.MonkeyPatch, rank: int, world: int, local: int) -> None:
    for name, value in (("RANK", rank), ("WORLD_SIZE", world), ("LOCAL_RANK", local)):
        monkeypatch.setenv(name, str(value))


def test_auto_and_cuda_mean_the_local_rank_and_cuda_n_is_taken_as_written(
    two_gpus: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_device("auto") == CUDA0 and resolve_device("cuda") == CUDA0  # a plain launch
    _torchrun(monkeypatch, 3, 4, 1)
    assert resolve_device("auto") == CUDA1
    assert resolve_device("cuda") == CUDA1
    assert resolve_device("cuda:0") == CUDA0
    assert resolve_device("cpu") == torch.device("cpu")
    assert launch_ranks() == (3, 4, 1)


def test_a_local_rank_past_the_visible_gpus_is_one_line(
    two_gpus: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    _torchrun(monkeypatch, 2, 3, 2)
    for device in ("auto", "cuda"):
        with pytest.raises(ModelError, match=r"^LOCAL_RANK=2 but this machine shows 2 CUDA device\(s\)") as e:
            resolve_device(device)
        assert "\n" not in str(e.value) and "CUDA_VISIBLE_DEVICES" in str(e.value)
    with pytest.raises(ModelError, match=r"^device 'cuda:2' does not exist: this machine shows 2"):
        resolve_device("cuda:2")


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"LOCAL_RANK": "x"}, "LOCAL_RANK='x' must be a whole number 0 or more"),
        ({"LOCAL_RANK": "-1"}, "LOCAL_RANK='-1' must be a whole number 0 or more"),
        ({"WORLD_SIZE": "0"}, "WORLD_SIZE='0' must be a whole number 1 or more"),
        ({"RANK": "2", "WORLD_SIZE": "2"}, "RANK=2 must be below WORLD_SIZE=2"),
    ],
)
def test_bad_rank_variables_are_one_line(
    two_gpus: list, monkeypatch: pytest.MonkeyPatch, env: dict, words: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        launch_ranks()


def test_training_takes_cuda_local_rank(two_gpus: list, monkeypatch: pytest.MonkeyPatch) -> None:
    joined: list[str] = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda backend: joined.append(backend))
    _torchrun(monkeypatch, 0, 1, 1)  # one process on the second GPU
    assert distributed.Dist.from_env("auto").device == CUDA1
    _torchrun(monkeypatch, 1, 2, 1)
    for device in ("auto", "cuda", "cuda:1"):
        d = distributed.Dist.from_env(device)
        assert (d.device, d.rank, d.world, d.local_rank, d.owns_group) == (CUDA1, 1, 2, 1, True)
    assert two_gpus == [CUDA1] * 4 and joined == ["nccl"] * 3
    with pytest.raises(
        ConfigError, match=r"--device cuda:0 under torchrun: .* here cuda:1\): give --device cuda"
    ):
        distributed.Dist.from_env("cuda:0")  # two processes on one GPU: NCCL would refuse later, less clearly


def _stop_at_the_device(monkeypatch: pytest.MonkeyPatch) -> list[torch.device]:
    """Make drawing stop (as a failed prompt) where it has chosen its device, recording it."""
    used: list[torch.device] = []

    def setup(self: object, device: torch.device, cpu: object) -> None:
        used.append(device)
        raise ConfigError("stopped by the test")

    monkeypatch.setattr(clipart.loop._Run, "_setup", setup)
    return used


def test_batch_drawing_takes_cuda_local_rank(
    two_gpus: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    used = _stop_at_the_device(monkeypatch)
    prompts = tmp_path / "p.txt"
    prompts.write_text("a cat\na dog\na tree\n", encoding="utf-8")
    _torchrun(monkeypatch, 1, 2, 1)
    for device in ([], ["--device", "cuda"]):
        code = main(["draw", "--prompts-file", str(prompts), "--out", str(tmp_path / "out"), "-q", *device])
        assert code == 1 and "Traceback" not in capsys.readouterr().err
    assert used == [CUDA1, CUDA1]  # rank 1 of 2 draws line 2 only, on its own GPU
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_batch_drawing_past_the_visible_gpus_stops_before_drawing(
    two_gpus: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    used = _stop_at_the_device(monkeypatch)
    prompts = tmp_path / "p.txt"
    prompts.write_text("a cat\na dog\na tree\n", encoding="utf-8")
    _torchrun(monkeypatch, 2, 3, 2)
    code = main(["draw", "--prompts-file", str(prompts), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert (
        code == 2
        and err.startswith("clipart: error: LOCAL_RANK=2 but this machine shows 2")
        and err.count("\n") == 1
    )
    assert used == []


def test_a_single_drawing_takes_cuda_local_rank(
    two_gpus: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    used = _stop_at_the_device(monkeypatch)
    _torchrun(monkeypatch, 0, 1, 1)
    code = main(["draw", "a cat", "--out", str(tmp_path / "cat.svg"), "-q"])
    assert code == 2 and capsys.readouterr().err == "clipart: error: stopped by the test\n"
    assert used == [CUDA1]
    with pytest.raises(ClipartError):  # the resolver itself, as every face reaches it
        resolve_device("cuda:7")
