"""Random command lines for every sub-command (draw, train, eval, search, serve, presets, models): real flags with
good and bad values (nan, inf, negatives, huge numbers, empty strings, odd unicode, missing files and folders, a
file used as a folder) never end in a traceback, a hang or a file left behind.

The CLI runs in-process through :func:`clipart.cli.main`. The first expensive step of each command is replaced by
one that stops the command (:class:`_Reached`): loading the drawing or search guide, the training optimiser (after
the data are checked, with a tiny model in place of the named one), the evaluation model, the web app's page. A
command that gets there has passed every check; every file it would write comes later, so none may appear.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from clipart.cli import main


class _Reached(Exception):  # noqa: N818 - not an error: the command got past its checks
    """Raised where the command would begin its expensive work."""


def _reached(*_: object, **__: object) -> None:
    raise _Reached


# Past the file system's 255 bytes a name: pathlib's checks raise OSError for it (before Python 3.13).
LONG = "n" * 300
# Value pools: a few good values first (so that commands often get past argparse), then bad ones.
NUMBERS = ["1", "2", "8", "0", "-1", "-0", "0.5", "nan", "inf", "-inf", "1e308", "1e-320",
           "99999999999999999999", "", " ", "abc", "1_000", "٣"]  # fmt: skip
TEXTS = ["a cat", "a dog::2", "", " ", "::", "a::nan", "a::-1", "a::inf", "x" * 400, "\u202e\u0301\u200b", "😀🐈",
         "-", "--", "a\nb", "{}", "{0}"]  # fmt: skip
PATHS = ["missing.png", "missing/", "folder", "folder/", "file.txt", "file.txt/inner.png", "image.png",
         "broken.png", "drawing.svg", "prompts.txt", "data.csv", "labelled", "", ".", "~nobody/x", "é/ü.svg",
         "taken.png", "taken.svg", "taken.csv", "taken.toml", f"{LONG}.png", "trailing.png "]  # fmt: skip
OUTS = ["out/", "out/cat.svg", "out/cat.gif", "file.txt/x.svg", "folder", "cat.txt", "", "missing/deep/x.png",
        "taken.svg", "taken.png", f"{LONG}.svg", f"{LONG}/"]  # fmt: skip
MODELS = ["clipart-mini", "ViT-B-32", "ViT-B-32::openai", "ViT-B-32::nope", "nonexistent",
          "local-dir:missing", "local-dir:folder", "hf-hub:a/b", "hf-hub:x", "model.json", "file.txt", "folder",
          "image.png", ""]  # fmt: skip
DEVICES = ["cpu", "auto", "cuda", "cuda:1", "mps", "tpu", "", "cuda:-1", "CPU"]
COLOURS = ["#ffffff", "#000", "red", "none", "", "#gggggg", "rgb(1,2)", "#ffffff80"]

DRAW = {
    "--image": PATHS, "--style": PATHS, "--style-weight": NUMBERS, "--negative": TEXTS,
    "--negative-weight": NUMBERS,
    "--default-negatives": None, "--model": MODELS,
    "--preset": ["quick", "freehand", "sketch", "nope", "bad.toml", "file.txt", "", "taken.toml",
                 f"{LONG}.toml"],
    "--pretrained": ["openai", "none", "image.png", "missing.pt", ""], "--strokes": NUMBERS,
    "--steps": NUMBERS, "--size": NUMBERS, "--views": NUMBERS, "--candidates": NUMBERS, "--seed": NUMBERS,
    "--prune": NUMBERS, "--init": PATHS, "--start": ["random", "icon", "x"], "--icon-pen": COLOURS,
    "--background": COLOURS, "--lr-points": NUMBERS, "--lr-widths": NUMBERS, "--lr-colors": NUMBERS,
    "--icon-lr-points": NUMBERS, "--device": DEVICES, "--threads": NUMBERS, "--prompts-file": PATHS,
    "--out": OUTS, "--png-size": NUMBERS, "--gif": None, "--force": None, "--quiet": None, "--jsonl": None,
    "--set": ["crop_scale=0.5,1", "color_jitter=0.1", "perspective=nan", "crop_scale=1,2,3", "nope=1", "x", "=",
              "prompts=a", "init_color=", "min_segments=3", "max_segments=1", "init_width=1e400", "seed=-1", ""],
}  # fmt: skip
TRAIN = {
    "--data": PATHS, "--format": ["auto", "csv", "folder", "webdataset", "x"], "--image-column": TEXTS,
    "--caption-column": TEXTS, "--samples-per-epoch": NUMBERS, "--shuffle-buffer": NUMBERS,
    "--workers": NUMBERS,
    "--max-bad-fraction": NUMBERS, "--model": MODELS, "--pretrained": ["openai", "image.png", "missing.pt", ""],
    "--lock-image": None, "--lock-text": None, "--steps": NUMBERS, "--epochs": NUMBERS, "--batch-size": NUMBERS,
    "--accum": NUMBERS, "--lr": NUMBERS, "--weight-decay": NUMBERS, "--warmup": NUMBERS, "--grad-clip": NUMBERS,
    "--aug-perspective": NUMBERS, "--precision": ["auto", "fp32", "bf16", "fp16", "fp8"], "--seed": NUMBERS,
    "--device": DEVICES, "--out": ["run", "run/", "folder", "file.txt", "file.txt/run", ""], "--resume": PATHS,
    "--checkpoint-every": NUMBERS, "--keep-checkpoints": NUMBERS, "--log-every": NUMBERS, "--quiet": None,
    "--eval-every": NUMBERS, "--eval-zeroshot": PATHS, "--eval-retrieval": PATHS, "--template": TEXTS,
}  # fmt: skip
EVAL = {
    "--model": MODELS, "--pretrained": ["openai", "image.png", ""], "--data": PATHS, "--image-column": TEXTS,
    "--batch-size": NUMBERS, "--workers": NUMBERS, "--device": DEVICES, "--json": None,
}  # fmt: skip
SEARCH = {
    "--image": PATHS, "--top": NUMBERS, "--model": MODELS, "--device": DEVICES, "--json": None, "--quiet": None,
}  # fmt: skip
SERVE = {
    "--host": ["127.0.0.1", "localhost", "", "::1", "☃", "-1"],
    "--port": ["0", "1", "65535", "65536", "-1", "x", "8080", "99999999999999999999"], "--concurrency": NUMBERS, "--max-queue": NUMBERS, "--max-seconds": NUMBERS,
    "--device": DEVICES, "--search-folder": PATHS,
}  # fmt: skip


def _fixtures(root: Path) -> None:
    """The files and folders that the pools' paths name (the others are missing on purpose)."""
    from PIL import Image

    (root / "folder").mkdir()
    for name in ("taken.png", "taken.svg", "taken.csv", "taken.toml"):  # folders named as files
        (root / name).mkdir()
    (root / "file.txt").write_text("not an image", encoding="utf-8")
    Image.new("RGB", (8, 8), "red").save(root / "image.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n cut")
    (root / "drawing.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 224 224"><path d="M 10 10 C 20 20 30 30 40 40" '
        'stroke="#000" stroke-width="2" fill="none"/></svg>',
        encoding="utf-8",
    )
    (root / "prompts.txt").write_text("a cat\na dog::2\n", encoding="utf-8")
    (root / "bad.toml").write_text("strokes = 'many'\n", encoding="utf-8")
    (root / "model.json").write_text("{", encoding="utf-8")
    (root / "data.csv").write_text(
        "filepath,caption,label\nimage.png,a cat,cat\nimage.png,a dog,dog\n", "utf-8"
    )
    (root / "labelled" / "cat").mkdir(parents=True)
    Image.new("RGB", (8, 8), "blue").save(root / "labelled" / "cat" / "a.png")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def cheap(tiny_model_dir: Path) -> Iterator[None]:
    """Stop each command at its first expensive step (see the module's docstring). Heavy modules are imported
    here, once: imported under hypothesis's tracing, gradio fails to build."""
    import gradio.queueing  # noqa: F401 - the web app's first import
    import open_clip  # noqa: F401

    import clipart.app.server
    import clipart.loop
    import clipart.search_index
    import clipart.train.evaluate
    import clipart.train.loop
    from clipart.models import build_model

    tiny = build_model(f"local-dir:{tiny_model_dir}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clipart.loop, "load_models", _reached)
        mp.setattr(clipart.search_index, "load_model", _reached)
        mp.setattr(clipart.train.loop, "build_model", lambda *a, **k: tiny)
        mp.setattr(clipart.train.loop, "make_optimizer", _reached)
        mp.setattr(clipart.train.evaluate, "_bundle", _reached)
        mp.setattr(clipart.app.server, "build_app", _reached)
        for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
            mp.delenv(name, raising=False)
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield


def _run(argv: list[str]) -> tuple[int, str]:
    """Run ``clipart ARGV`` in a fresh folder of fixtures; its exit code and stderr. Fails the test on a
    traceback, a hang (10 s), a file written or an input changed."""
    sigterm = signal.getsignal(signal.SIGTERM)  # serve installs its own
    home = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.chdir(root)
        _fixtures(root)
        before = _snapshot(root)
        err = io.StringIO()
        signal.signal(signal.SIGALRM, lambda *_: pytest.fail(f"clipart {argv} hung"))
        signal.alarm(10)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as e:
                    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
                except _Reached:
                    code = 0
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGTERM, sigterm)
            os.chdir(home)
        after = _snapshot(root)
    stderr = err.getvalue()
    assert "Traceback" not in stderr, (argv, stderr)
    assert sorted(set(after) - set(before)) == [], (argv, "files left behind")
    assert [k for k in before if after.get(k) != before[k]] == [], (argv, "inputs changed")
    return code, stderr


@st.composite
def command_lines(
    draw: st.DrawFn,
    command: list[str],
    flags: dict[str, list[str] | None],
    positionals: list[str] = (),
    most: int = 0,
    required: tuple[str, ...] = (),
) -> list[str]:
    """``command``, up to ``most`` positional words, the ``required`` flags (mostly) and a random set of the
    others, each with a value from its pool; sometimes a flag that lost its value or an unknown one at the end."""
    argv = [*command, *(draw(st.lists(st.sampled_from(positionals), max_size=most)) if positionals else [])]
    chosen = [f for f in required if draw(st.integers(0, 9))]  # one time in ten, a required flag is left out
    others = sorted(set(flags) - set(required))
    chosen += draw(st.lists(st.sampled_from(others), max_size=6, unique=True)) if others else []
    for flag in chosen:
        pool = flags[flag]
        argv += [flag] if pool is None else [flag, draw(st.sampled_from(pool))]
    argv += draw(st.sampled_from([[], [], [], ["--steps"], ["--nope"], ["--help"]]))
    return argv


def _check(argv: list[str], codes: frozenset[int] = frozenset({0, 2})) -> None:
    code, stderr = _run(argv)
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    event("argparse error" if ": error: argument" in last or "usage:" in stderr else
          "clipart error" if last.startswith("clipart: error:") else f"exit {code}")  # fmt: skip
    assert code in codes, (argv, code, stderr)
    if code == 2:  # ends with one error line: argparse's (after its usage) or clipart's
        assert re.match(r"clipart( [a-z]+)*: error: ", stderr.strip().splitlines()[-1]), (argv, stderr)


FAST = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
    derandomize=True,  # the same command lines every run: a failure is a defect, not luck
    phases=[Phase.explicit, Phase.generate, Phase.shrink],  # no "explain": it traces every line (slow)
)


@FAST
@given(command_lines(["draw"], DRAW, TEXTS + PATHS[:3], 2))
@example(["draw", "a cat", "--init", f"{LONG}.svg"])  # found by this test: a traceback before the fix
@example(["draw", "a cat", "--out", f"{LONG}.svg"])
def test_draw(argv: list[str]) -> None:
    _check(
        argv, frozenset({0, 1, 2}) if "--prompts-file" in argv else frozenset({0, 2})
    )  # 1: a batch's prompt failed


@FAST
@given(command_lines(["train"], TRAIN, required=("--data", "--out")))
@example(["train", "--data", f"{LONG}.png", "--out", "run"])
@example(["train", "--data", "image.png", "--out", "run"])
def test_train(argv: list[str]) -> None:
    _check(argv)


EVAL_KINDS = {
    "zeroshot": {**EVAL, "--template": TEXTS, "--label-column": TEXTS},
    "retrieval": {**EVAL, "--caption-column": TEXTS},
    "other": EVAL,
}


@FAST
@given(
    st.sampled_from(sorted(EVAL_KINDS)).flatmap(
        lambda kind: command_lines(["eval", kind], EVAL_KINDS[kind], required=("--model", "--data"))
    )
)
@example(["eval", "retrieval", "--model", "clipart-mini", "--data", "image.png"])  # a PNG read as a CSV
def test_eval(argv: list[str]) -> None:
    _check(argv)


@FAST
@given(command_lines(["search"], SEARCH, TEXTS[:4] + PATHS, 3))
@example(["search", "a cat", f"{LONG}.png"])
def test_search(argv: list[str]) -> None:
    _check(argv)


@FAST
@given(command_lines(["serve"], SERVE))
@example(["serve", "--search-folder", LONG])
def test_serve(argv: list[str]) -> None:
    _check(argv)


@settings(FAST, max_examples=15)
@given(
    command_lines(["presets"], {}, TEXTS[:3], 1) | command_lines(["models"], {"--all": None}, TEXTS[:3], 1)
)
def test_presets_and_models(argv: list[str]) -> None:
    _check(argv)


def test_a_stopped_command_counts_as_passing_its_checks() -> None:
    """The stop works (a good command reaches it) and a bad value does not: so the properties test something."""
    code, stderr = _run(["draw", "a cat", "--steps", "3", "--device", "cpu", "--out", "out/"])
    assert code == 0 and "error" not in stderr, stderr
    code, stderr = _run(["draw", "a cat", "--steps", "nan"])
    assert code == 2 and "--steps: invalid int value: 'nan'" in stderr
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
