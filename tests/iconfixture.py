"""The small iconify fixture that the recipe tests build from, and helpers to read what they build."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "iconify"
RECIPES = Path(__file__).resolve().parent.parent / "recipes"
ROLES = {"tcolour": "pictorial", "tmono": "pictorial", "tline": "line", "theld": "held-out"}


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV table, as dicts."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def tree_hash(root: Path) -> str:
    """One hash of every file's relative path and bytes under ``root``: equal trees, equal hashes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def run_recipe(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``recipes/<script>`` with ``args`` in a subprocess, as a user would; its output captured as text."""
    return subprocess.run(
        [sys.executable, str(RECIPES / script), *args], capture_output=True, text=True, timeout=120
    )
