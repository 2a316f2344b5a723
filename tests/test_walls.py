"""The walls of ../shared/DESIGN.md, asserted from the import graph of the package (every import statement,
also those inside functions), and the layout of the installed package."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

from clipart._lazy import lazy_table

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "clipart"


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# a package front's public names (name → the module it is imported from on first use), as the front reads them
LAZY = {_module(p): lazy_table(p.read_text(encoding="utf-8")) for p in PACKAGE.rglob("__init__.py")}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports: ``from clipart.x import y`` counts as ``clipart.x`` and ``clipart.x.y``, and
    as the module a lazy front takes ``y`` from."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            if node.module.startswith("clipart"):
                for alias in node.names:
                    out.add(f"{node.module}.{alias.name}")
                    out.add(LAZY.get(node.module, {}).get(alias.name, node.module))
    return out


GRAPH = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}
SUBMODULES = set(GRAPH)


def _clipart_imports(module: str) -> set[str]:
    """The clipart modules ``module`` imports (names that are not modules, such as ``clipart.draw``, dropped)."""
    return {name for name in GRAPH[module] if name in SUBMODULES}


def _in(module: str, *rooms: str) -> bool:
    return any(module == room or module.startswith(f"{room}.") for room in rooms)


def _offenders(rooms: tuple[str, ...], forbidden: tuple[str, ...], others: tuple[str, ...] = ()) -> list[str]:
    """``module imports name`` for each module of ``rooms`` importing a clipart module of ``forbidden``, or a
    module of ``others`` (third-party packages; ``clipart`` there means exactly the front, which reaches all)."""
    bad = []
    for module, names in GRAPH.items():
        if not _in(module, *rooms):
            continue
        for name in names:
            outside = any(name == o or (o != "clipart" and name.startswith(f"{o}.")) for o in others)
            if outside or (name in SUBMODULES and _in(name, *forbidden)):
                bad.append(f"{module} imports {name}")
    return sorted(bad)


def test_the_graph_is_read() -> None:
    """The walls below are only as good as the graph: it must see the loop's own imports."""
    assert {"clipart.render", "clipart.objective", "clipart.models.guide"} <= _clipart_imports("clipart.loop")
    assert "clipart.models.spec" in _clipart_imports("clipart.config")


def test_strokes_know_no_clip() -> None:
    """render/, scene.py, svg.py (and the colours they parse) know nothing of CLIP, prompts or training; the scene
    composer reads prompts but knows no CLIP either."""
    rooms = ("clipart.render", "clipart.scene", "clipart.svg", "clipart.colors", "clipart.compose")
    forbidden = ("clipart.models", "clipart.objective", "clipart.train", "clipart.config", "clipart.loop",
                 "clipart.drawing", "clipart.cli", "clipart.app")  # fmt: skip
    assert _offenders(rooms, forbidden, ("open_clip", "clipart")) == []


def test_models_and_training_know_no_strokes() -> None:
    forbidden = ("clipart.render", "clipart.scene", "clipart.svg", "clipart.augment", "clipart.objective",
                 "clipart.loop", "clipart.drawing", "clipart.config", "clipart.cli", "clipart.app")  # fmt: skip
    assert _offenders(("clipart.models", "clipart.train"), forbidden) == []


def test_the_loop_imports_no_face_and_knows_no_loss_formula() -> None:
    assert _offenders(("clipart.loop",), ("clipart.cli", "clipart.app")) == []
    # the loop composes the objective package; the terms' own modules and the guides' encoders are not its business
    assert not _in_any(_clipart_imports("clipart.loop"), "clipart.objective.text", "clipart.objective.base")
    source = (PACKAGE / "loop.py").read_text(encoding="utf-8")
    for formula in ("encode_image", "encode_text", "cosine", "@ ", ".T"):
        assert formula not in source, formula


def _in_any(names: set[str], *rooms: str) -> bool:
    return any(_in(name, *rooms) for name in names)


# the engine: what a face reaches through the API's functions, never itself
ENGINE = ("clipart.loop", "clipart.render", "clipart.objective", "clipart.augment", "clipart.scene", "clipart.svg",
          "clipart.prune", "clipart.start", "clipart.compose", "clipart.threads", "clipart.models.build",
          "clipart.models.guide")  # fmt: skip
FACES = ("clipart.cli", "clipart.app")


def _private(name: str) -> bool:
    return any(part.startswith("_") for part in name.split("."))


def test_faces_use_only_public_names() -> None:
    """cli/ and app/ import public names: clipart's front (``clipart``, ``clipart.train``) for the API, and a
    non-private module's public names for a face's helpers (``from clipart.drawing import plan_outputs``); never
    a ``_private`` module or name, an engine module, torch or open_clip; nothing else parses arguments."""
    bad = []
    for module, names in GRAPH.items():
        if not _in(module, *FACES):
            continue
        for n in names:
            engine = n in SUBMODULES and _in(n, *ENGINE)
            if engine or _in(n, "torch", "open_clip") or (_in(n, "clipart") and _private(n)):
                bad.append(f"{module} imports {n}")
    assert sorted(bad) == []
    parsers = sorted(m for m, names in GRAPH.items() if "argparse" in names and not _in(m, "clipart.cli"))
    assert parsers == []


def test_what_the_code_takes_from_the_front_is_there() -> None:
    """Every ``clipart.NAME`` the package uses is a name of the front (or a module): a name moved off the top
    cannot leave a face that fails only when the line runs."""
    front = set(LAZY["clipart"]) | {m.split(".")[1] for m in SUBMODULES if m.count(".") >= 1}
    used = {
        (_module(path), node.attr)
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "clipart"
    }
    assert sorted(f"{module} uses clipart.{name}" for module, name in used if name not in front) == []


def test_the_front_and_the_faces_load_no_torch() -> None:
    """``import clipart`` is instant, and so is a face's start (``clipart --help``, which reads the default
    preset and checks its settings): torch, open_clip and gradio load inside the handlers, through the API. The
    front's names are its ``__all__`` and ``dir()``."""
    code = (
        "import sys, clipart, clipart.cli, clipart.app\n"
        "clipart.make_config('a cat', preset=clipart.DEFAULT_PRESET)\n"
        "print(sorted(m for m in ('torch', 'open_clip', 'gradio', 'PIL.Image') if m in sys.modules))\n"
        "print(clipart.__all__ == sorted(set(dir(clipart)) & set(clipart.__all__)) == sorted(clipart.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True"]
    assert set(LAZY["clipart"]) >= {"draw", "steps", "search", "draw_batch", "Drawing", "DrawConfig",
                                    "load_preset", "load_model", "ClipartError", "__version__"}  # fmt: skip
    assert not set(LAZY["clipart"]) & {"plan_outputs", "LIMITS", "Scene", "shard_prompts", "require_extra"}


def test_the_package_needs_no_recipe() -> None:
    recipes = {p.stem for p in (REPO / "recipes").glob("*.py")}
    assert _offenders(("clipart",), (), tuple(recipes)) == []
    for module, names in GRAPH.items():
        assert "subprocess" not in names or module == "clipart.threads", module  # no npm, node or fonts


def test_every_package_is_installed_and_presets_live_at_the_top() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {_module(p.parent / "__init__.py") for p in PACKAGE.rglob("__init__.py")}
    assert set(config["packages"]) == found | {"clipart.presets"}
    assert config["package-dir"] == {"clipart.presets": "presets"}
    assert not (PACKAGE / "presets").exists() and sorted(p.name for p in (REPO / "presets").glob("*.toml"))


@pytest.mark.slow
def test_presets_and_the_embedded_model_ship_in_the_wheel(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building leaves build/ and *.egg-info/ behind
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
    for name in tracked:
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("clipart-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"clipart/presets/quick.toml", "clipart/presets/__init__.py"} <= names
    assert {
        f"clipart/models/embedded/{m}/open_clip_model.safetensors"
        for m in ("clipart-mini", "clipart-mini-draw")
    } <= names
    assert {"clipart/py.typed", "clipart/api.pyi"} <= names  # editors see draw's options, typed
    assert {
        f"clipart/models/embedded/icon-bank/{f}" for f in ("bank.safetensors", "bank.json", "ATTRIBUTION.md")
    } <= names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = "import clipart; print(sorted(clipart.list_presets())); print(clipart.load_preset('sketch')['strokes'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["['clipdraw', 'freehand', 'painting', 'quick', 'sketch']", "32"]
