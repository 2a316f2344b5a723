"""Lazy package fronts (PEP 562): a name is imported from its module on first use, so that importing a front
(``import clipart``) loads no torch.

A front lists its public names once, as the imports of its ``if TYPE_CHECKING:`` block (which static editors and
type checkers read); :func:`lazy_front` reads that block back at the first use to know where each name lives, and
gives the front its ``__getattr__`` (``__all__`` included) and ``__dir__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any


def lazy_table(source: str) -> dict[str, str]:
    """The names that ``source``'s ``if TYPE_CHECKING:`` block imports, each mapped to the module it comes from."""
    import ast

    table: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    table.update({alias.asname or alias.name: stmt.module for alias in stmt.names})
    return table


def lazy_front(package: str, file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the front ``package`` whose source is ``file``: its public names
    (``__all__``, sorted) are those that :func:`lazy_table` reads from ``file``."""

    @cache
    def table() -> dict[str, str]:
        return lazy_table(Path(file).read_text(encoding="utf-8"))

    def __getattr__(name: str) -> Any:
        if name == "__all__":
            return sorted(table())
        return _load(package, name, table())

    def __dir__() -> list[str]:
        return sorted({*table(), *vars(importlib.import_module(package))})

    return __getattr__, __dir__


def _load(package: str, name: str, table: dict[str, str]) -> Any:
    if name not in table:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(table[name]), name)
    setattr(importlib.import_module(package), name, value)  # found directly next time
    return value
