"""Lazy package fronts (PEP 562): a name is imported from its module on first use, so that importing a front
(``import clipart``) loads no torch."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(package: str, table: dict[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: ``table`` maps each public name to the module that defines it."""

    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(table[name]), name)
        setattr(importlib.import_module(package), name, value)  # found directly next time
        return value

    return __getattr__
