"""The robust guide's recipe (recipes/robust_guide.py): its training table, and the mixes it exports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import icondata  # recipes/ is on sys.path through conftest
import pytest
import robust_guide

ROOT = Path(__file__).resolve().parent.parent


def _model(path: Path, weights: dict) -> Path:
    from safetensors.torch import save_file

    path.mkdir(parents=True)
    save_file(weights, str(path / "open_clip_model.safetensors"), metadata={"format": "pt"})
    (path / "open_clip_config.json").write_text('{"embed_dim": 2}')
    return path


def _run(tmp_path: Path, start: Path, weights: dict) -> Path:
    """A work folder whose finished run started from ``start`` and exported ``weights``; the data's attribution."""
    work = tmp_path / "work"
    _model(work / "run" / "export", weights)
    config = {
        "pretrained": str(start / "open_clip_model.safetensors"),
        "steps": 5,
        "adv_eps": 4.0,
        "lock_text": False,
    }
    (work / "run" / "config.json").write_text(json.dumps({**config, "adv_loss": "tecoa"}))
    (tmp_path / "data" / "icons").mkdir(parents=True)
    (tmp_path / "data" / "icons" / "ATTRIBUTION.md").write_text("icons: CC-BY\n")
    return work


def test_a_run_goes_on_only_with_its_own_settings(tmp_path: Path) -> None:
    import torch

    start = _model(tmp_path / "start", {"w": torch.ones(2, 2).half()})
    work = _run(tmp_path, start, {"w": torch.ones(2, 2)})
    with pytest.raises(icondata.RecipeError, match=r"holds another run: adv_loss 'tecoa' \(asked: 'fare'\)"):
        robust_guide.train(work, tmp_path / "data", start, 5, 4.0, "fare")
    with pytest.raises(icondata.RecipeError, match="steps 5 \\(asked: 6\\), adv_eps 4.0 \\(asked: 8.0\\)"):
        robust_guide.train(work, tmp_path / "data", start, 6, 8.0, "tecoa")
    with pytest.raises(icondata.RecipeError, match=r"lock_text False \(asked: True\)"):
        robust_guide.train(work, tmp_path / "data", start, 5, 4.0, "tecoa", lock_text=True)


def test_lock_text_reaches_clipart_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(robust_guide.cm, "train_from", lambda run, table, start, args: calls.append(args))
    _table(tmp_path / "data" / "train_fare.csv", ["icons/a.png,a cat"])
    start = tmp_path / "start"
    robust_guide.train(tmp_path / "w1", tmp_path / "data", start, 5, 4.0, "tecoa")
    robust_guide.train(tmp_path / "w2", tmp_path / "data", start, 5, 4.0, "tecoa", lock_text=True)
    assert "--lock-text" not in calls[0] and calls[1][-1] == "--lock-text"


def _table(path: Path, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("filepath,caption\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8")


def test_the_table_joins_the_mix_and_every_render_part(tmp_path: Path) -> None:
    _table(tmp_path / "train_mix.csv", ["icons/a.png,a cat"])
    for part in robust_guide.PARTS:
        _table(tmp_path / part / f"{part}.csv", [f"x.png,a {part} dog"])
    table = robust_guide.write_table(tmp_path).read_text(encoding="utf-8").splitlines()
    assert table == ["filepath,caption", "icons/a.png,a cat"] + [
        f"{part}/x.png,a {part} dog" for part in robust_guide.PARTS
    ]
    (tmp_path / "tones" / "tones.csv").unlink()
    with pytest.raises(icondata.RecipeError, match="tones.csv is missing: run the 'tones' stage"):
        robust_guide.write_table(tmp_path)


def test_export_writes_the_fine_tune_and_each_share_of_its_change(tmp_path: Path) -> None:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    start = _model(tmp_path / "start", {"w": torch.full((2, 2), 1.0).half(), "b": torch.zeros(3).half()})
    work = _run(tmp_path, start, {"w": torch.full((2, 2), 3.0), "b": torch.ones(3)})
    _model(tmp_path / "other", {"w": torch.full((2, 2), 9.0).half(), "b": torch.zeros(3).half()})
    robust_guide.export(work, tmp_path / "data", [0.0, 0.25, 1.0], recalibrated=0)  # with the run's own start
    tuned = load_file(str(work / "tuned" / "open_clip_model.safetensors"))
    assert tuned["w"].dtype == torch.float16 and tuned["w"].float().eq(3.0).all()
    for share, w, b in ((0.0, 1.0, 0.0), (0.25, 1.5, 0.25), (1.0, 3.0, 1.0)):
        folder = robust_guide.mix_folder(work, share)
        mixed = load_file(str(folder / "open_clip_model.safetensors"))
        assert mixed["w"].dtype == torch.float16 and mixed["w"].float().eq(w).all(), share
        assert mixed["b"].float().eq(b).all(), share
        with safe_open(str(folder / "open_clip_model.safetensors"), "pt") as handle:
            assert handle.metadata()["mix"] == f"{share:g}"
        assert (folder / "ATTRIBUTION.md").read_text() == "icons: CC-BY\n"
        assert (folder / "open_clip_config.json").read_text() == '{"embed_dim": 2}'
    assert not list(work.rglob(".*.tmp")), "a temporary file was left behind"


def test_export_refuses_to_mix_different_architectures(tmp_path: Path) -> None:
    import torch

    start = _model(tmp_path / "start", {"w": torch.ones(2, 2).half()})
    work = _run(tmp_path, start, {"w": torch.ones(3, 2)})
    with pytest.raises(icondata.RecipeError, match="different architectures"):
        robust_guide.export(work, tmp_path / "data", [0.5], recalibrated=0)
    assert not robust_guide.mix_folder(work, 0.5).exists()


def _recipe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "recipes" / "robust_guide.py"), *args], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mix", "1.5"], "--mix takes shares from 0 to 1"),
        (["--mix", "nan"], "--mix takes shares from 0 to 1"),
        (["--eps", "0"], "--eps a positive number"),
        (["--steps", "0"], "--steps must be at least 1"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = _recipe("--work", str(tmp_path), "--data", str(tmp_path), *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_missing_table_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = _recipe("--work", str(tmp_path / "w"), "--data", str(tmp_path), "--only", "train")
    assert done.returncode == 2 and "run the 'table' stage" in done.stderr, done.stderr
    assert not (tmp_path / "w" / "run").exists()


def test_recalibrate_measures_the_batch_norms_on_training_pictures_and_keeps_the_rest(tmp_path: Path) -> None:
    import torch
    from conftest import TINY_CFG, make_tiny_model_dir
    from PIL import Image
    from safetensors.torch import load_file

    cfg = {**TINY_CFG, "vision_cfg": {"image_size": 32, "layers": [1, 1, 1, 1], "width": 8, "head_width": 8}}
    folder = make_tiny_model_dir(tmp_path / "model", cfg=cfg)  # a ResNet image tower: batch norms
    data = tmp_path / "data"
    (data / "icons").mkdir(parents=True)
    rows = []
    for k in range(6):
        Image.new("RGB", (32, 32), (40 * k, 255 - 40 * k, 128)).save(data / "icons" / f"{k}.png")
        rows.append(f"icons/{k}.png,thing {k}")
    _table(data / "train_fare.csv", rows)
    before = load_file(str(folder / "open_clip_model.safetensors"))
    assert before["visual.bn1.running_var"].eq(1.0).all()  # a fresh model's statistics
    robust_guide.recalibrate(folder, data, images=6, batch=4)
    after = load_file(str(folder / "open_clip_model.safetensors"))
    assert after.keys() == before.keys()
    assert after["visual.bn1.num_batches_tracked"].item() == 2  # 4 + 2 pictures
    assert not torch.allclose(after["visual.bn1.running_var"], before["visual.bn1.running_var"])
    assert not torch.allclose(after["visual.bn1.running_mean"], before["visual.bn1.running_mean"])
    for k in before:
        if "running_" not in k and "num_batches" not in k:
            assert torch.equal(after[k], before[k]), k
    vit = make_tiny_model_dir(tmp_path / "vit")
    with pytest.raises(icondata.RecipeError, match="has no batch norm to recalibrate"):
        robust_guide.recalibrate(vit, data, images=6)


def test_a_locked_text_run_also_exports_its_image_tower_alone(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    start = _model(tmp_path / "start", {"visual.w": torch.ones(2).half(), "text.w": torch.zeros(2).half()})
    work = _run(tmp_path, start, {"visual.w": torch.full((2,), 3.0), "text.w": torch.zeros(2)})
    config = json.loads((work / "run" / "config.json").read_text())
    (work / "run" / "config.json").write_text(json.dumps({**config, "lock_text": True}))
    robust_guide.export(work, tmp_path / "data", [], recalibrated=0)
    draw = robust_guide.draw_folder(work)
    weights = load_file(str(draw / "open_clip_model.safetensors"))
    assert list(weights) == ["visual.w"] and weights["visual.w"].float().eq(3.0).all()
    assert (
        json.loads((draw / "open_clip_config.json").read_text())["text_tower"]
        == f"local-dir:{start.resolve()}"
    )
    assert (draw / "ATTRIBUTION.md").read_text() == "icons: CC-BY\n"


def test_an_image_tower_whose_text_tower_moved_is_refused(tmp_path: Path) -> None:
    import torch

    start = _model(tmp_path / "start", {"visual.w": torch.ones(2).half(), "text.w": torch.zeros(2).half()})
    work = _run(tmp_path, start, {"visual.w": torch.full((2,), 3.0), "text.w": torch.ones(2)})
    config = json.loads((work / "run" / "config.json").read_text())
    (work / "run" / "config.json").write_text(json.dumps({**config, "lock_text": True}))
    with pytest.raises(icondata.RecipeError, match=r"changed the text tower \(text.w\)"):
        robust_guide.export(work, tmp_path / "data", [], recalibrated=0)
    assert not robust_guide.draw_folder(work).exists()


def test_an_image_tower_from_the_embedded_guide_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    start = _model(tmp_path / "start", {"visual.w": torch.ones(2).half(), "text.w": torch.zeros(2).half()})
    monkeypatch.setattr(robust_guide, "GUIDE", _model(tmp_path / "copy", load_file_of(start)))
    work = _run(tmp_path, start, {"visual.w": torch.full((2,), 3.0), "text.w": torch.zeros(2)})
    config = json.loads((work / "run" / "config.json").read_text())
    (work / "run" / "config.json").write_text(json.dumps({**config, "lock_text": True}))
    robust_guide.export(work, tmp_path / "data", [], recalibrated=0)
    draw = robust_guide.draw_folder(work)
    assert json.loads((draw / "open_clip_config.json").read_text())["text_tower"] == "clipart-mini"


def load_file_of(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "open_clip_model.safetensors"))


def test_an_fp32_start_shares_its_text_tower_with_the_fp16_export(tmp_path: Path) -> None:
    import torch

    text = torch.tensor(
        [0.1, 0.2]
    )  # not exact in fp16: an fp32 start compares after rounding, as export rounds
    start = _model(tmp_path / "start", {"visual.w": torch.ones(2), "text.w": text})
    work = _run(tmp_path, start, {"visual.w": torch.full((2,), 3.0), "text.w": text})
    config = json.loads((work / "run" / "config.json").read_text())
    (work / "run" / "config.json").write_text(json.dumps({**config, "lock_text": True}))
    robust_guide.export(work, tmp_path / "data", [], recalibrated=0)
    assert (robust_guide.draw_folder(work) / "open_clip_model.safetensors").is_file()
