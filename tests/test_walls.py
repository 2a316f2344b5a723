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

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "clipart"


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _lazy(path: Path) -> dict[str, str]:
    """A package front's ``_LAZY`` table (name → the module it is imported from on first use)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_LAZY" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


LAZY = {_module(p): _lazy(p) for p in PACKAGE.rglob("__init__.py")}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports: ``from clipart.x import y`` counts as ``clipart.x`` and ``clipart.x.y``, and
    as the module a lazy front (``_LAZY``) takes ``y`` from."""
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


def test_faces_use_only_the_public_api() -> None:
    """cli/ and app/ import clipart's front (``clipart``, ``clipart.train``), their own modules, and the app's
    front from the CLI; no engine module, no torch, no open_clip; nothing else parses arguments."""
    bad = []
    for module in GRAPH:
        own = (
            "clipart.cli"
            if _in(module, "clipart.cli")
            else "clipart.app"
            if _in(module, "clipart.app")
            else None
        )
        if own is None:
            continue
        allowed = {"clipart", "clipart.train", "clipart.app"}
        for name in _clipart_imports(module):
            if name not in allowed and not _in(name, own):
                bad.append(f"{module} imports {name}")
        bad += [f"{module} imports {n}" for n in GRAPH[module] if _in(n, "torch", "open_clip")]
    assert sorted(bad) == []
    parsers = sorted(m for m, names in GRAPH.items() if "argparse" in names and not _in(m, "clipart.cli"))
    assert parsers == []


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
    assert "clipart/models/embedded/clipart-mini/open_clip_model.safetensors" in names
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
