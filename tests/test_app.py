"""The web app end to end: a real server in a subprocess, driven by gradio_client and by headless chromium.

Drawings use the tiny random CLIP from conftest (never a download) and a few dozen small strokes, so each run
takes seconds on a 2-core CPU.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from clipart.scene import INVISIBLE_ALPHA
from clipart.svg import svg_to_scene

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# a drawing of 60 steps takes about a second here; from random strokes, so that it has the strokes asked for
SMALL = {"strokes": 16, "size": 64, "views": 2, "preset": "freehand"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path) -> dict[str, str]:
    """The server's environment: launch() itself must keep Gradio and the hub offline, so those are unset."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "HF_HUB_"))}
    env.update(
        OMP_NUM_THREADS="1", TMPDIR=str(tmp), GRADIO_TEMP_DIR=str(tmp / "gradio"), PYTHONPATH=str(REPO)
    )
    return env


@pytest.fixture(scope="module")
def server(tiny_model: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The app on a free local port (2 drawings at once, 4 waiting), offering only the tiny model."""
    tmp = tmp_path_factory.mktemp("app-server")
    port = _free_port()
    code = (
        "from clipart.app import launch; "
        f"launch('127.0.0.1', {port}, concurrency=2, max_queue=4, models=[({tiny_model!r}, 'tiny random CLIP')])"
    )
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-c", code], env=_env(tmp), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the app did not start:\n{(tmp / 'server.log').read_text()}")
        time.sleep(0.3)
    yield {"url": url, "port": port, "model": tiny_model, "tmp": tmp}
    t0 = time.monotonic()
    proc.terminate()  # SIGTERM: launch() stops as on Ctrl+C and removes its run folders
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    text = (tmp / "server.log").read_text()
    assert proc.returncode == 0 and time.monotonic() - t0 < 15, text
    # the terminal holds clipart's lines only: no share=True hint, no traceback for a user's mistake
    assert f"clipart: serving the web app on http://127.0.0.1:{port}" in text, text
    assert "share=True" not in text and "Traceback" not in text, text
    assert not list(tmp.glob("clipart-app-*")), "the server left its run folders behind"


@pytest.fixture
def new_client(server: dict) -> Iterator:
    """Make gradio_client connections (each its own session), closed after the test."""
    from gradio_client import Client

    made = []

    def make() -> Client:
        made.append(Client(server["url"], verbose=False, download_files=str(server["tmp"] / "downloads")))
        return made[-1]

    yield make
    with ThreadPoolExecutor() as pool:  # each close waits up to a second for its heartbeat thread
        list(pool.map(lambda client: client.close(), made))


def _post(url: str, body: dict) -> urllib.request.Request:
    headers = {"Content-Type": "application/json"}
    return urllib.request.Request(url, json.dumps(body).encode(), headers=headers, method="POST")


def _draw_args(server: dict, prompt: str, steps: int, seed: int = 0, **extra) -> dict:
    return {"prompt": prompt, "model": server["model"], "steps": steps, "seed": seed, **SMALL, **extra}


def _check_svg(path: str | Path, strokes: int) -> None:
    """A well-formed SVG of at most ``strokes`` strokes, none of them invisible (those are left out)."""
    text = Path(path).read_text(encoding="utf-8")
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")
    alphas = svg_to_scene(text).colors[:, 3]
    assert 1 <= len(alphas) <= strokes
    assert bool((alphas >= INVISIBLE_ALPHA).all())


# --- without a server -------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_serve_on_a_busy_port_says_so_in_one_line(host: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = [sys.executable, "-m", "clipart", "serve", "--host", host, "--port", str(port)]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"clipart: error: cannot serve on {host}:{port}: it is in use; pick another --port"
    ]


PAGE = dict(prompt="a cat", negatives="", negative_weight=0.3, preset="quick", strokes=16, steps=50, size=64,
            views=2, seed=3, random_seed=False, gif=False)  # fmt: skip


def test_the_page_is_checked_once_with_the_visitor_caps(tiny_model: str, tmp_path: Path) -> None:
    from clipart import ClipartError
    from clipart.app.handlers import CAPS, Handlers, _seed

    handlers = Handlers([tiny_model], "cpu", tmp_path, max_seconds=None)
    page = {**PAGE, "model": tiny_model}
    cfg = next(handlers._events({**page, "steps": 12.0}, 5)).config  # a slider's 12.0 is a whole number
    assert (cfg.steps, cfg.seed, cfg.strokes) == (12, 5, 16)
    assert next(handlers._events({**page, "negatives": "  a blur \n\n ugly::0.5\n"}, 0)).config.negatives == [
        "a blur",
        "ugly",
    ]
    bad = {  # each value the engine would take, but over this server's caps, or not a whole number
        "steps": (CAPS["steps"] + 1, f"steps must be a whole number from 1 to {CAPS['steps']}"),
        "views": (CAPS["views"] + 1, f"views must be a whole number from 1 to {CAPS['views']}"),
        "strokes": (2.5, "strokes has the wrong type"),
        "prompt": ("x" * (CAPS["prompt_chars"] + 1), f"at most {CAPS['prompt_chars']} characters"),
        "negatives": ("\n".join(["x"] * (CAPS["negatives"] + 1)), f"at most {CAPS['negatives']} negative"),
        "seed": (-1, "seed must be a whole number"),
        "model": ("ViT-B-32::openai", "choose one of the guide models offered"),
    }
    for name, (value, words) in bad.items():
        with pytest.raises(ClipartError, match=words):
            handlers._events({**page, name: value}, -1 if name == "seed" else 0)
    drawn = {_seed(7, True) for _ in range(20)}
    assert len(drawn) > 1 and _seed(7, False) == 7  # a fresh seed each time "random seed" is ticked


def test_serve_command_line(tiny_model: str, tmp_path: Path) -> None:
    import argparse

    from clipart.cli.serve import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["serve", "--port", "8123", "--concurrency", "3", "--max-queue", "9"])
    assert (args.host, args.port, args.concurrency, args.max_queue) == ("127.0.0.1", 8123, 3, 9)
    assert args.func.__name__ == "handler"
    for command in (["-m", "clipart", "serve"], [str(REPO / "app.py")]):
        out = subprocess.run(
            [sys.executable, *command, "--help"], capture_output=True, text=True, env=_env(tmp_path)
        )
        assert out.returncode == 0 and "--max-queue" in out.stdout, out.stderr
    out = subprocess.run(
        [sys.executable, str(REPO / "app.py"), "--concurrency", "0"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "clipart: error: --concurrency must be a whole number from 1 to 256, got 0"
    ]


SERVE_REFUSALS = [
    *[([f"--max-seconds={v}"], "--max-seconds must be a positive number of seconds") for v in ("nan", "inf", "-inf", "0", "-1")],
    *[(["--device", v], "device must be auto, cpu, cuda[:N] or mps") for v in ("tpu", "cuda:x", "", "cuda:99999")],
    *[(["--port", v], "--port must be a whole number from 1 to 65535") for v in ("0", "65536", "-1")],
    *[(["--concurrency", v], "--concurrency must be a whole number from 1 to 256") for v in ("0", "-1", "257")],
    *[(["--max-queue", v], "--max-queue must be a whole number from 1 to 100000") for v in ("0", "100001")],
    (["--host", ""], "--host must be an address"),
    (["--host", "no such host.invalid"], "unknown --host"),
    (["--search-folder", "/no/such/folder"], "--search-folder /no/such/folder is not a folder"),
    (["--search-folder", __file__], "is not a folder"),
    (["--search-folder", ""], "--search-folder is empty"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "words"), SERVE_REFUSALS, ids=[" ".join(a) for a, _ in SERVE_REFUSALS])
def test_every_serve_option_is_checked_before_the_app_is_built(
    argv: list[str], words: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import clipart.app.server as server
    from clipart.cli import main

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the app was built before its settings were checked")

    monkeypatch.setattr(server, "build_app", never)
    assert main(["serve", *argv]) == 2  # each refusal comes before the port is probed
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("clipart: error: ") and words in lines[0], lines


def test_serve_refuses_a_device_this_machine_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from clipart import ClipartError
    from clipart.app.server import check_settings

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ClipartError, match="CUDA is not available"):
        check_settings("127.0.0.1", 1, device="cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ClipartError, match="cuda:1.* 1 CUDA device"):
        check_settings("127.0.0.1", 1, device="cuda:1")


def test_launch_checks_its_models_and_limits(tiny_model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import clipart.app.server as server
    from clipart import ClipartError

    monkeypatch.setattr(server, "build_app", lambda *a, **k: pytest.fail("built"))
    for options, words in (
        ({"models": [("NoSuchNet", "x")]}, "unknown model 'NoSuchNet'"),
        ({"models": []}, "no guide model to offer"),
        ({"models": [(tiny_model, "tiny")], "default_model": "clipart-mini"}, "not among the models offered"),
        ({"max_seconds": True}, "--max-seconds must be a positive number"),
        ({"port": "80"}, "--port must be a whole number"),
        ({"concurrency": 2.0}, "--concurrency must be a whole number"),
    ):
        with pytest.raises(ClipartError, match=words):
            server.launch(**{"port": 1, **options})


def test_a_bad_port_in_the_environment_only_concerns_serve(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from clipart.cli import build_parser

    monkeypatch.setenv("GRADIO_SERVER_PORT", "abc")
    assert build_parser().parse_args(["presets"]).command == "presets"
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["serve"])
    assert info.value.code == 2 and "argument --port: invalid int value: 'abc'" in capsys.readouterr().err


def test_build_app_offers_the_models_given(tiny_model: str, tmp_path: Path) -> None:
    from clipart import ClipartError
    from clipart.app import build_app

    demo = build_app([(tiny_model, "tiny")], out_dir=tmp_path)
    api = demo.get_api_info()["named_endpoints"]
    assert set(api) == {"/draw", "/stop", "/search"}
    model_param = next(p for p in api["/draw"]["parameters"] if p["parameter_name"] == "model")
    assert model_param["parameter_default"] == tiny_model
    with pytest.raises(ClipartError, match="not among the models"):
        build_app([(tiny_model, "tiny")], default_model="ViT-B-32::openai")


def test_the_seed_and_style_weight_controls_are_built_from_their_declarations(
    tiny_model: str, tmp_path: Path
) -> None:
    """The seed: a whole-number box within the seed's declared range; the style weight: a slider over the page
    range its declaration gives (narrower than the engine's), at the declared default, also for API clients."""
    import gradio as gr

    from clipart import DrawConfig
    from clipart.app import build_app

    declared, defaults = DrawConfig.settings(), DrawConfig()
    demo = build_app([(tiny_model, "tiny")], out_dir=tmp_path)
    by_id = {block.elem_id: block for block in demo.blocks.values() if getattr(block, "elem_id", None)}
    seed, weight = by_id["seed"], by_id["style-weight"]
    assert isinstance(seed, gr.Number) and seed.label == declared["seed"].page == "Seed"
    assert (seed.value, seed.precision, seed.minimum, seed.maximum) == (0, 0, 0, declared["seed"].high)
    assert isinstance(weight, gr.Slider) and weight.label == declared["style_weight"].page == "Style weight"
    assert (weight.minimum, weight.maximum) == declared["style_weight"].page_range == (0.0, 10.0)
    assert weight.value == defaults.style_weight
    assert declared["style_weight"].bounds()[1] > weight.maximum  # the engine takes more than the page offers
    parameters = {
        p["parameter_name"]: p for p in demo.get_api_info()["named_endpoints"]["/draw"]["parameters"]
    }
    assert parameters["style_weight"]["parameter_default"] == defaults.style_weight


def test_runs_get_their_own_folders_and_a_time_limit(tiny_model: str, tmp_path: Path) -> None:
    from clipart.app.handlers import Handlers

    handlers = Handlers([tiny_model], "cpu", tmp_path, max_seconds=0.0)
    page = {**PAGE, "prompt": "a cat/../../x", "model": tiny_model}
    finals = [list(handlers.draw(f"s{i}", page, []))[-1] for i in range(2)]
    for final in finals:
        status, gallery = final.status, final.gallery
        svg, png, sidecar, gif = (final.files[kind] for kind in ("svg", "png", "json", "gif"))
        assert status.startswith("Stopped at the server's limit of 0 s: step **1/50**"), status
        assert [Path(p).name for p in (svg, png, sidecar)] == [
            "clipart-3.svg",
            "clipart-3.png",
            "clipart-3.json",
        ]
        assert (
            Path(svg).parent.parent == tmp_path / "session-s0"
            or Path(svg).parent.parent == tmp_path / "session-s1"
        )
        assert gif is None
        assert gallery == [(png, "a cat/../../x (seed 3)")]
    assert finals[0].files["svg"] != finals[1].files["svg"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        2 * ["clipart-3.svg", "clipart-3.png", "clipart-3.json"]
    )


def test_previews_are_new_files_that_stay_put_while_the_drawing_runs(tiny_model: str, tmp_path: Path) -> None:
    """Two visitors drawing the same prompt and seed at once, step by step: every image the page is given is a
    PNG file of its own, never rewritten while the drawings run (Gradio rewrites an image object's cached copy in
    place, which a browser may be reading); the previews lie outside the searched session folder and leave no file
    behind, the last frame being the run's own PNG, even when the page closes mid-drawing."""
    from clipart.app.handlers import KEEP, Handlers

    handlers = Handlers([tiny_model], "cpu", tmp_path, max_seconds=None)
    page = {**PAGE, "steps": 6, "model": tiny_model}  # a preview every step
    runs = [handlers.draw(f"s{i}", page, []) for i in range(2)]
    given: dict[str, bytes] = {}
    finished = 0
    while finished < 2:
        finished = 0
        for run in runs:
            update = next(run, None)
            if update is None:
                finished += 1
                continue
            if update.image is not KEEP:
                assert isinstance(update.image, str) and update.image not in given, update.image
                assert not Path(update.image).parent.parent.name.startswith("session-") or update.files
                given[update.image] = Path(update.image).read_bytes()
                assert Image.open(update.image).size == (64, 64)
            for path, data in given.items():
                if Path(path).exists():  # a finished drawing's previews are gone; a running one's unchanged
                    assert Path(path).read_bytes() == data, path
    assert len(given) >= 2 * 6  # a preview each of the first five steps and the final frame, each drawing
    assert not list(tmp_path.glob("previews-*")), "previews were left behind"
    finals = [p for p in given if Path(p).parent.name.startswith("run-")]
    assert len(finals) == 2 and all(Path(p).name == "clipart-3.png" for p in finals)  # the run's own PNG
    run = handlers.draw("s3", page, [])  # a page closed mid-drawing: Gradio closes the generator
    assert next(run).image is KEEP and isinstance(next(run).image, str) and list(tmp_path.glob("previews-*"))
    run.close()
    assert not list(tmp_path.glob("previews-*")), "a closed drawing left its previews behind"


# --- the API through gradio_client ------------------------------------------------------------------------


def test_the_default_preset_starts_from_an_icon_and_says_whose(server: dict, new_client) -> None:
    args = _draw_args(server, "a teapot", steps=3, preset="quick")
    _, status, svg, _, sidecar, _, _ = new_client().predict(**args, api_name="/draw")
    credit = json.loads(Path(sidecar).read_text())["credit"]
    assert "'teapot'" in credit and credit in status and credit in Path(svg).read_text()


def test_api_streams_previews_and_returns_files(server: dict, new_client) -> None:
    client = new_client()
    job = client.submit(**_draw_args(server, "a red circle", steps=60, seed=5), api_name="/draw")
    previews = []
    for out in job:
        if isinstance(out[0], str) and not out[1].startswith("Done"):
            previews.append(Path(out[0]).read_bytes())
    assert len(set(previews)) >= 2, "expected at least two different live previews"
    image, status, svg, png, sidecar, gif, gallery = job.result()
    assert status.startswith("Done: step **60/60**")
    _check_svg(svg, 16)
    assert Image.open(png).size == (64, 64)
    meta = json.loads(Path(sidecar).read_text())
    assert (meta["prompts"], meta["seed"], meta["steps_done"]) == (["a red circle"], 5, 60)
    assert gif is None
    assert [g["caption"] for g in gallery] == ["a red circle (seed 5)"]
    assert Path(image).is_file()


def test_api_draws_from_an_uploaded_image_prompt_and_style(server: dict, new_client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    picture = tmp_path / "sun.png"
    Image.new("RGB", (40, 30), "yellow").save(picture)
    args = {**_draw_args(server, "", steps=3, seed=1), "image": handle_file(str(picture))}
    args.update(style=handle_file(str(picture)), style_weight=2.0)
    image, status, svg, png, sidecar, gif, gallery = new_client().predict(**args, api_name="/draw")
    assert status.startswith("Done: step **3/3**")
    meta = json.loads(Path(sidecar).read_text())
    assert meta["prompts"] == [] and len(meta["images"]) == 1 and meta["images"][0].endswith("sun.png")
    assert meta["config"]["style"].endswith("sun.png") and meta["config"]["style_weight"] == 2.0
    assert [g["caption"] for g in gallery] == ["sun.png (seed 1)"]


def test_search_tab_finds_the_sessions_own_drawings(server: dict, new_client) -> None:
    from gradio_client.exceptions import AppError

    client, other = new_client(), new_client()
    with pytest.raises(AppError, match="no drawings in this session yet"):
        client.predict("a cat", None, server["model"], api_name="/search")
    for prompt, seed in (("a red circle", 1), ("a green tree", 2)):
        client.predict(**_draw_args(server, prompt, steps=3, seed=seed), api_name="/draw")
    other.predict(**_draw_args(server, "a blue car", steps=3, seed=3), api_name="/draw")
    hits = client.predict("a red circle", None, server["model"], api_name="/search")
    captions = [h["caption"] for h in hits]
    assert len(captions) == 2 and {c.split(" · ")[1] for c in captions} <= {"clipart-1.png", "clipart-1.svg",
                                                                            "clipart-2.png", "clipart-2.svg"}  # fmt: skip
    assert all(Path(h["image"]).is_file() for h in hits)  # another visitor's drawing is not among them


def test_api_errors_are_messages(server: dict, new_client) -> None:
    from gradio_client.exceptions import AppError

    client = new_client()
    cases = [
        (_draw_args(server, "   ", steps=5), "the prompt is empty"),
        (_draw_args(server, "a cat", steps=5000), "greater than maximum"),
        (dict(_draw_args(server, "a cat", steps=5), model="ViT-B-32::openai"), "not in the list of choices"),
        (_draw_args(server, "a cat", steps=5, negatives="ok\n" * 9), "at most 8 negative prompts"),
    ]
    for args, message in cases:
        with pytest.raises(AppError, match=message):
            client.predict(**args, api_name="/draw")
    log = (server["tmp"] / "server.log").read_text()
    assert "clipart: refused a request: the prompt is empty" in log and "Traceback" not in log, log


def test_api_stop_keeps_the_drawing_so_far(server: dict, new_client) -> None:
    client = new_client()
    job = client.submit(**_draw_args(server, "a green tree", steps=2000, gif=True), api_name="/draw")
    deadline = time.monotonic() + 60
    while not any(isinstance(o[1], str) and o[1].startswith("step") for o in job.outputs()):
        assert time.monotonic() < deadline and not job.done(), "no progress from the drawing"
        time.sleep(0.05)
    t0 = time.monotonic()
    client.predict(api_name="/stop")
    _, status, svg, _, sidecar, gif, _ = job.result(timeout=30)
    assert time.monotonic() - t0 < 3, "Stop took too long"
    assert status.startswith("Stopped: step"), status
    steps_done = json.loads(Path(sidecar).read_text())["steps_done"]
    assert 1 <= steps_done < 2000
    _check_svg(svg, 16)
    assert Image.open(gif).format == "GIF"


def test_concurrent_clients_each_get_their_own_drawing(server: dict, new_client) -> None:
    jobs = {}
    for i, prompt in enumerate(["a boat", "a house", "a bird"]):
        client = new_client()  # one session per visitor
        jobs[prompt] = client.submit(**_draw_args(server, prompt, steps=40, seed=i), api_name="/draw")
    results = {prompt: job.result(timeout=120) for prompt, job in jobs.items()}
    for i, (prompt, (_, status, svg, _, sidecar, _, gallery)) in enumerate(results.items()):
        meta = json.loads(Path(sidecar).read_text())
        assert (meta["prompts"], meta["seed"], meta["steps_done"]) == ([prompt], i, 40), status
        assert [g["caption"] for g in gallery] == [f"{prompt} (seed {i})"]
        _check_svg(svg, 16)
    assert len({Path(r[2]).read_text() for r in results.values()}) == 3


def test_queue_is_bounded(server: dict, new_client) -> None:
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    clients = [new_client() for _ in range(2)]
    busy = [c.submit(**_draw_args(server, "a tall tower", steps=2000), api_name="/draw") for c in clients]
    deadline = time.monotonic() + 60
    while not all(len(j.outputs()) >= 2 for j in busy):  # both drawing slots taken
        assert time.monotonic() < deadline and not any(j.done() for j in busy)
        time.sleep(0.05)
    waiting = [
        new_client().submit(**_draw_args(server, "a dot", steps=1), api_name="/draw") for _ in range(5)
    ]
    deadline = time.monotonic() + 10
    while not any(j.done() for j in waiting) and time.monotonic() < deadline:
        time.sleep(0.05)
    for c in clients:  # Stop skips the queue (the page's Stop button posts the same request), so a full queue
        body = {"data": [], "session_hash": c.session_hash}  # cannot keep a visitor from stopping
        with urllib.request.urlopen(_post(server["url"] + "gradio_api/run/stop", body), timeout=10) as r:
            assert r.status == 200
    outcomes = []
    for job in waiting:
        try:
            outcomes.append(job.result(timeout=60)[1].split(":")[0])
        except (QueueError, AppError) as e:
            outcomes.append(type(e).__name__)
    assert sorted(outcomes) == ["Done"] * 4 + ["QueueError"], outcomes
    assert all(j.result(timeout=30)[1].startswith("Stopped") for j in busy)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's memory from /proc")
def test_twenty_clients_at_once_on_default_settings(tmp_path: Path) -> None:
    """`clipart serve` as installed (1 drawing at once, 16 waiting, the embedded model) and 20 visitors at once:
    each gets its drawing or "queue is full", the server survives with bounded memory and cleans up."""
    from gradio_client import Client
    from gradio_client.utils import QueueError

    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    argv = [sys.executable, "-m", "clipart", "serve", "--port", str(port)]
    proc = subprocess.Popen(argv, env=_env(tmp_path), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "server.log"
                ).read_text()
                time.sleep(0.3)
        clients = [Client(url, verbose=False, download_files=str(tmp_path / "dl")) for _ in range(20)]
        first = clients[0].predict(prompt="a dot", steps=2, seed=0, **SMALL, api_name="/draw")
        assert first[1].startswith("Done"), first[1]
        before = _rss_mb(proc.pid)
        t0 = time.monotonic()
        jobs = [c.submit(prompt=f"a star {i}", steps=8, seed=i, **SMALL, api_name="/draw") for i, c in
                enumerate(clients)]  # fmt: skip
        outcomes = []
        for job in jobs:
            try:
                outcomes.append(job.result(timeout=240)[1].split(":")[0])
            except QueueError as e:
                outcomes.append("full" if "queue is full" in str(e).lower() else f"QueueError {e}")
        took = time.monotonic() - t0
        after = _rss_mb(proc.pid)
        assert set(outcomes) <= {"Done", "full"}, outcomes
        assert outcomes.count("Done") >= 17, outcomes  # the one drawing + the 16 waiting, at least
        assert after - before < 400, (before, after)  # bounded: drawings do not pile up in memory
        assert took < 240, took
        print(f"20 clients: {outcomes.count('Done')} drawn, {outcomes.count('full')} refused, {took:.1f} s, "
              f"server RSS {before:.0f} → {after:.0f} MB")  # fmt: skip
        for c in clients:
            c.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == 0, (tmp_path / "server.log").read_text()
    assert not list(tmp_path.glob("clipart-app-*")), "the server left its run folders behind"
    assert "Traceback" not in (tmp_path / "server.log").read_text()


# --- a real browser ---------------------------------------------------------------------------------------


def _browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: apt-get install -y chromium")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    return pw, pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)


def _set_number(page, elem_id: str, value: int) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def _status(page) -> str:
    return page.locator("#status").inner_text()


def _watch_run(page, until: str, timeout: float = 60) -> list[str]:
    """Poll the preview until the status starts with ``until``; returns the distinct image URLs seen."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not _status(page).startswith(until):
        assert time.monotonic() < deadline, f"status stuck at {_status(page)!r}"
        img = page.locator("#drawing img")
        src = img.first.get_attribute("src") if img.count() else None
        if src and src not in seen:
            seen.append(src)
        time.sleep(0.03)
    return seen


@pytest.mark.browser
def test_browser_draw_download_stop_and_error(server: dict, tmp_path_factory: pytest.TempPathFactory) -> None:
    artefacts = Path(os.environ.get("CLIPART_ARTEFACTS") or tmp_path_factory.getbasetemp() / "artefacts")
    artefacts.mkdir(parents=True, exist_ok=True)
    pw, browser = _browser()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 1100}, accept_downloads=True)
        page.goto(server["url"])
        page.wait_for_selector("#prompt textarea", timeout=30_000)
        page.locator("#preset input").click()
        page.get_by_role("option", name="sketch: ", exact=False).click()
        page.wait_for_function("document.querySelector('#strokes input[type=number]').value === '32'")
        page.get_by_text("a sailboat", exact=True).click()
        page.wait_for_function("document.querySelector('#prompt textarea').value === 'a sailboat'")
        for elem_id, value in (("strokes", 16), ("steps", 300), ("size", 128), ("views", 2)):
            _set_number(page, elem_id, value)
        page.locator("#prompt textarea").fill("a red apple on a table")
        page.locator("#draw").click()
        seen = _watch_run(page, "Done")
        previews = {page.request.get(src).body() for src in seen[:-1]}
        assert len(previews) >= 2, f"expected at least two different live previews, saw {len(seen)} URLs"
        final = page.locator("#drawing img")
        assert final.is_visible() and final.evaluate("img => img.naturalWidth") == 128
        assert "300/300" in _status(page)

        with page.expect_download() as download:
            page.locator("#download-svg").click()
        svg_path = artefacts / "browser-drawing.svg"
        download.value.save_as(svg_path)
        _check_svg(svg_path, 16)
        page.screenshot(path=str(artefacts / "webapp.png"), full_page=True)

        _set_number(page, "steps", 2000)
        page.locator("#prompt textarea").fill("a blue bicycle")
        page.locator("#draw").click()
        _watch_run(page, "step")
        page.wait_for_function("document.querySelector('#drawing img') !== null")
        t0 = time.monotonic()
        page.locator("#stop").click()
        _watch_run(page, "Stopped", timeout=10)
        assert time.monotonic() - t0 < 3, "Stop took too long"
        assert page.locator("#download-svg").is_visible()
        assert page.locator("#gallery img").count() == 2

        page.locator("#prompt textarea").fill("")
        page.locator("#draw").click()
        page.get_by_text("the prompt is empty").first.wait_for(timeout=15_000)
        page.screenshot(path=str(artefacts / "webapp-error.png"))

        picture = artefacts / "image-prompt.png"  # an image prompt alone, uploaded through the page
        Image.new("RGB", (48, 32), "orange").save(picture)
        page.locator("#image-prompt input[type=file]").set_input_files(str(picture))
        page.wait_for_selector("#image-prompt img", timeout=15_000)
        page.locator("#style-image input[type=file]").set_input_files(str(picture))  # and as the style image
        page.wait_for_selector("#style-image img", timeout=15_000)
        _set_number(page, "steps", 20)
        page.locator("#draw").click()
        _watch_run(page, "Done")
        assert "20/20" in _status(page) and page.locator("#gallery img").count() == 3
        with page.expect_download() as download:
            page.locator("#download-json").click()
        meta = json.loads(Path(download.value.path()).read_text())
        assert meta["prompts"] == [] and meta["images"][0].endswith("image-prompt.png")
        assert meta["config"]["style"].endswith("image-prompt.png")

        page.get_by_role("tab", name="Search").click()  # the session's three drawings, by text
        page.locator("#search-query textarea").fill("a red apple")
        page.locator("#search-button").click()
        page.wait_for_function(
            "document.querySelectorAll('#search-results img').length === 3", timeout=30_000
        )
        page.screenshot(path=str(artefacts / "webapp-search.png"))
        print(f"browser artefacts in {artefacts}")
    finally:
        browser.close()
        pw.stop()
