"""Every bad input of `clipart train` / `clipart eval`: one clear line, exit code 2, nothing half-written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_train_support import make_pairs, run_cli, shapes_csv, tiny_model_json, write_csv

from clipart.cli import main


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("errors")
    csv = shapes_csv(root, 40)
    model = tiny_model_json(root / "tiny.json")
    run = root / "done"
    base = [
        "train",
        "--data",
        str(csv),
        "--model",
        str(model),
        "--batch-size",
        "8",
        "--workers",
        "0",
        "--quiet",
    ]
    assert main([*base, "--steps", "1", "--out", str(run)]) == 0
    return {"root": root, "csv": csv, "model": model, "run": run, "base": base}


def _fails(args: list[str], capsys: pytest.CaptureFixture, match: str) -> None:
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("clipart: error: "), err
    assert match in err[0], err[0]


def _new_out(setup: dict, name: str) -> list[str]:
    return ["--out", str(setup["root"] / name)]


def _changed(base: list[str], change: dict) -> list[str]:
    """``base``'s arguments with each flag of ``change`` set to its value (added where missing)."""
    args = list(base)
    for flag, value in change.items():
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return args


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"--data": "missing.csv"}, "training data not found: missing.csv"),
        ({"--data": "shards/{00000..00009}.tar"}, "matches no tar file"),
        ({"--model": "ViT-Nope-99"}, "unknown model 'ViT-Nope-99'"),
        ({"--model": "missing.json"}, "model config file not found"),
        ({"--batch-size": "1"}, "at least 2 image–text pairs"),
        ({"--batch-size": "64"}, "fewer than one batch of 64"),
        ({"--batch-size": "8", "--accum": "3"}, "not divisible by --accum 3"),
        ({"--steps": "5", "--epochs": "2"}, "--steps or --epochs, not both"),
        ({"--precision": "fp16", "--device": "cpu"}, "fp16 needs a CUDA device"),
        ({"--eval-every": "5"}, "--eval-every needs --eval-zeroshot"),
        ({"--aug-perspective": "1.5"}, "--aug-perspective must lie in [0, 1], got 1.5"),
        (
            {"--pretrained": "laion2b_s34b_b79k"},
            "with a JSON model config: --pretrained must be a weights file",
        ),
    ],
)
def test_bad_train_flags(setup: dict, capsys: pytest.CaptureFixture, change: dict, match: str) -> None:
    _fails([*_changed(setup["base"], change), *_new_out(setup, "never")], capsys, match)
    assert not (setup["root"] / "never").exists()  # nothing written


def test_training_views_are_checked_stored_and_kept_on_resume(
    setup: dict, capsys: pytest.CaptureFixture
) -> None:
    args = [*setup["base"], "--steps", "1"]
    _fails([*args, "--aug-crop", "0.8", "0.5", *_new_out(setup, "never")], capsys, "got 0.8 0.5")
    assert not (setup["root"] / "never").exists()
    run = setup["root"] / "views"
    assert main([*args, "--aug-crop", "0.5", "1", "--aug-perspective", "0.5", "--out", str(run)]) == 0
    stored = json.loads((run / "config.json").read_text())
    assert stored["aug_crop"] == [0.5, 1.0] and stored["aug_perspective"] == 0.5
    _fails(
        ["train", "--resume", str(run), "--aug-crop", "0.6", "1"],
        capsys,
        "--aug-crop (0.6, 1.0) vs stored (0.5, 1.0)",
    )
    assert (
        main(["train", "--resume", str(run), "--aug-crop", "0.5", "1", "--quiet"]) == 0
    )  # the same views: fine


def test_csv_without_the_columns_and_broken_config_json(setup: dict, capsys: pytest.CaptureFixture) -> None:
    root = setup["root"]
    pairs = make_pairs(root / "img", 3)
    bad_csv = write_csv(root / "cols.csv", [(p, c) for p, c, _ in pairs], ("path", "text"))
    args = [a if a != str(setup["csv"]) else str(bad_csv) for a in setup["base"]]
    _fails([*args, *_new_out(setup, "never")], capsys, "cols.csv has no column 'filepath', 'caption'")
    broken = root / "broken.json"
    broken.write_text('{"embed_dim": 64, "vision_cfg": {')
    args = [a if a != str(setup["model"]) else str(broken) for a in setup["base"]]
    _fails([*args, *_new_out(setup, "never")], capsys, "broken.json is not valid JSON")
    broken.write_text('{"embed_dim": 64}')
    _fails([*args, *_new_out(setup, "never")], capsys, "broken.json lacks vision_cfg, text_cfg")
    assert not (root / "never").exists()


def test_output_folders_and_resume_conflicts(setup: dict, capsys: pytest.CaptureFixture) -> None:
    run, base = setup["run"], setup["base"]
    before = sorted(p.name for p in run.rglob("*"))
    _fails(
        [*base, "--steps", "1", "--lr", "0.1", "--out", str(run)], capsys, "holds a different run (lr differ)"
    )
    _fails(
        [*base, "--steps", "1", "--out", str(run)],
        capsys,
        "already holds this run: continue it with --resume",
    )
    _fails(
        ["train", "--resume", str(run), "--lr", "0.1"], capsys, "conflict with the stored run (--lr 0.1 vs"
    )
    _fails(["train", "--resume", str(run), "--out", str(setup["root"])], capsys, "name different folders")
    _fails(["train", "--resume", str(setup["root"] / "img")], capsys, "holds no training run")
    _fails(["train", "--resume", str(setup["root"] / "nowhere")], capsys, "holds no training run")
    _fails(
        [*base, "--steps", "1", "--out", str(setup["root"] / "img")],
        capsys,
        "not empty and holds no clipart run",
    )
    _fails(["train", "--model", "x.json"], capsys, "needs --data and --out")
    assert sorted(p.name for p in run.rglob("*")) == before
    assert json.loads((run / "config.json").read_text())["lr"] == 5e-4


def test_bad_eval_inputs(setup: dict, capsys: pytest.CaptureFixture) -> None:
    model = f"local-dir:{setup['run'] / 'export'}"
    _fails(["eval", "zeroshot", "--model", model, "--data", "nowhere"], capsys, "evaluation data not found")
    _fails(
        ["eval", "zeroshot", "--model", model, "--data", str(setup["csv"])], capsys, "has no column 'label'"
    )
    _fails(["eval", "zeroshot", "--model", model, "--data", str(setup["root"]), "--template", "no slot"], capsys,
           "must contain {}")  # fmt: skip
    _fails(
        ["eval", "retrieval", "--model", model, "--data", "nowhere.csv"], capsys, "retrieval data not found"
    )
    _fails(["eval", "retrieval", "--model", "local-dir:/nowhere", "--data", str(setup["csv"])], capsys,
           "model folder not found: /nowhere")  # fmt: skip
    _fails(["eval", "retrieval", "--model", f"local-dir:{setup['root']}", "--data", str(setup["csv"])], capsys,
           "has no open_clip_config.json")  # fmt: skip
    image = setup["root"] / "picture.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # not text: a picture given as the table
    huge = setup["root"] / "huge.csv"
    huge.write_text("filepath,caption\n" + "x" * 200_000 + ",a\n", encoding="utf-8")  # past csv's field limit
    for kind, data, words in (("retrieval", image, "is not a UTF-8 CSV file"),
                              ("zeroshot", image, "is not a UTF-8 CSV file"),
                              ("retrieval", huge, "is not a readable CSV file: field larger than field limit")):  # fmt: skip
        _fails(["eval", kind, "--model", model, "--data", str(data)], capsys, words)  # was a traceback
    args = [a if a != str(setup["csv"]) else str(image) for a in setup["base"]]
    _fails([*args, "--format", "csv", *_new_out(setup, "never")], capsys, "is not a UTF-8 CSV file")
    assert not (setup["root"] / "never").exists()


def test_a_real_process_exits_2_with_one_line(setup: dict) -> None:
    result = run_cli(*setup["base"], "--batch-size", "1", *_new_out(setup, "never"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "clipart: error: --batch-size 1: a contrastive batch needs at least 2 image–text pairs"
    ]
    assert not (setup["root"] / "never").exists()


def _copy_run(setup: dict, name: str) -> Path:
    copy = setup["root"] / name
    shutil.copytree(setup["run"], copy)
    return copy


DAMAGED_CONFIGS = [
    bytes(range(256)),
    json.dumps({"lr": 1}).encode("utf-16"),
    b"[1, 2, 3]",
    b'{"data": "x.csv", "model"',
    b"",
]


@pytest.mark.parametrize("content", DAMAGED_CONFIGS, ids=["binary", "utf-16", "list", "truncated", "empty"])
def test_resume_of_a_damaged_config_fails_in_one_line(
    setup: dict, capsys: pytest.CaptureFixture, content: bytes
) -> None:
    run = _copy_run(setup, f"cfg-{len(content)}-{content[:1].hex()}")
    (run / "config.json").write_bytes(content)
    _fails(["train", "--resume", str(run)], capsys, "config.json is damaged")


@pytest.mark.parametrize("kind", ["random", "empty", "truncated", "text"])
def test_resume_from_a_damaged_checkpoint_fails_in_one_line(
    setup: dict, capsys: pytest.CaptureFixture, kind: str
) -> None:
    run = _copy_run(setup, f"ckpt-{kind}")
    (checkpoint,) = sorted((run / "checkpoints").glob("step_*.pt"))[-1:]
    data = checkpoint.read_bytes()
    damaged = {
        "random": bytes(range(256)) * 8,
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "text": b"hi",
    }
    checkpoint.write_bytes(damaged[kind])
    capsys.readouterr()
    assert main(["train", "--resume", str(run)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("clipart: error: checkpoint ") and "delete it to resume" in line, line
    assert "weights_only" not in line


@pytest.mark.parametrize(
    ("flag", "value"), [("--batch-size", "0"), ("--batch-size", "-3"), ("--workers", "-1")]
)
@pytest.mark.parametrize("kind", ["zeroshot", "retrieval"])
def test_eval_refuses_bad_loader_settings(
    setup: dict, capsys: pytest.CaptureFixture, kind: str, flag: str, value: str
) -> None:
    model = f"local-dir:{setup['run'] / 'export'}"
    _fails(
        ["eval", kind, "--model", model, "--data", str(setup["csv"]), flag, value], capsys, f"{flag} must be"
    )


def test_a_warmup_longer_than_the_run_is_warned_about(setup: dict) -> None:
    result = run_cli(*setup["base"], "--steps", "2", "--warmup", "5", *_new_out(setup, "warm"))
    assert result.returncode == 0, result.stderr
    assert "clipart: warning: --warmup 5 is not shorter than the run (2 steps)" in result.stderr, (
        result.stderr
    )


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
@pytest.mark.parametrize("out_kind", ["new folder", "empty folder"])
def test_a_run_that_fails_on_its_data_leaves_the_disk_as_it_was(
    setup: dict, capsys: pytest.CaptureFixture, damage: str, out_kind: str
) -> None:
    root = setup["root"] / f"bad-{damage}-{out_kind.replace(' ', '-')}"
    pairs = make_pairs(root / "img", 12)
    for path, _, _ in pairs:
        if damage == "missing":
            path.unlink()
        else:
            path.write_bytes(b"not a picture")
    table = write_csv(root / "pairs.csv", [(p, c) for p, c, _ in pairs], ("filepath", "caption"))
    out = root / "run"
    if out_kind == "empty folder":
        out.mkdir()
    args = [a if a != str(setup["csv"]) else str(table) for a in setup["base"]]
    for _ in range(2):  # the same command fails the same way: no "already holds this run"
        capsys.readouterr()
        assert main([*args, "--steps", "2", "--warmup", "0", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "could not be read" in err.strip().splitlines()[-1] and "Traceback" not in err, err
        assert (out.is_dir() and not any(out.iterdir())) if out_kind == "empty folder" else not out.exists()


def _never(*_: object, **__: object) -> None:
    raise AssertionError("the model was built (or the data listed) before the arguments were checked")


BEFORE_THE_MODEL = [
    ({"--data": "missing.csv"}, "training data not found"),
    ({"--batch-size": "64"}, "fewer than one batch of 64"),
    ({"--eval-zeroshot": "nowhere"}, "evaluation data not found: nowhere"),
    ({"--eval-retrieval": "nowhere.csv"}, "retrieval data not found"),
    ({"--weight-decay": "nan"}, "--weight-decay must be a number, 0 or more, got nan"),
    ({"--weight-decay": "inf"}, "--weight-decay must be a number"),
    ({"--grad-clip": "nan"}, "--grad-clip must be a positive number"),
    ({"--grad-clip": "inf"}, "--grad-clip must be a positive number"),
    ({"--seed": "-1"}, "--seed must be a whole number from 0"),
    ({"--seed": str(2**63)}, "--seed must be a whole number from 0"),
    ({"--device": "tpu"}, "device must be auto, cpu, cuda[:N] or mps, got 'tpu'"),
    ({"--device": "cuda:x"}, "device must be auto, cpu, cuda[:N] or mps"),
    ({"--data": ""}, "--data is empty"),
    ({"--model": "NoSuchNet"}, "unknown model 'NoSuchNet'"),
]


@pytest.mark.parametrize(
    ("change", "match"), BEFORE_THE_MODEL, ids=[" ".join(c) for c, _ in BEFORE_THE_MODEL]
)
def test_train_checks_settings_and_data_before_it_builds_the_model(
    setup: dict, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, change: dict, match: str
) -> None:
    import clipart.train.loop as loop

    monkeypatch.setattr(loop, "build_model", _never)
    _fails([*_changed(setup["base"], change), *_new_out(setup, "never")], capsys, match)
    assert not (setup["root"] / "never").exists()


def test_a_config_json_of_the_wrong_types_is_one_line(setup: dict, capsys: pytest.CaptureFixture) -> None:
    run = _copy_run(setup, "cfg-types")
    stored = json.loads((run / "config.json").read_text())
    for field, value in (("batch_size", "8"), ("eval_templates", [1]), ("aug_crop", [0.5]), ("lr", None)):
        (run / "config.json").write_text(json.dumps({**stored, field: value}))
        _fails(["train", "--resume", str(run)], capsys, f"{field} has the wrong type")


def test_eval_checks_the_model_and_device_before_it_lists_the_data(
    setup: dict, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import clipart.train.evaluate as evaluate

    monkeypatch.setattr(evaluate, "read_labelled", _never)
    monkeypatch.setattr(evaluate, "read_retrieval", _never)
    model = f"local-dir:{setup['run'] / 'export'}"
    for kind in ("zeroshot", "retrieval"):
        data = ["--data", str(setup["csv"])]
        _fails(["eval", kind, "--model", "NoSuchNet", *data], capsys, "unknown model 'NoSuchNet'")
        _fails(["eval", kind, "--model", model, *data, "--device", "tpu"], capsys, "device must be auto")
    monkeypatch.undo()
    _fails(["eval", "zeroshot", "--model", model, "--data", ""], capsys, "the evaluation data path is empty")


def test_evaluation_data_without_eval_every_is_evaluated_at_the_end(setup: dict) -> None:
    from test_train_support import labelled_folder

    labelled = labelled_folder(setup["root"] / "labelled", 2)
    run = setup["root"] / "end-eval"
    assert main([*setup["base"], "--steps", "2", "--eval-zeroshot", str(labelled), "--out", str(run)]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "zeroshot_top1" in r] == [2]
