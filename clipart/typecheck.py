"""Settings checked against their dataclass annotations: one type check for a drawing's settings, presets and a
training run's settings (``DrawConfig``, preset files, ``TrainConfig``), so that a value of the wrong type, or a
list holding the wrong things, is one line naming the setting and what it takes, never a traceback later."""

from __future__ import annotations

import re
import reprlib
import types
import typing
from typing import Any

from clipart.errors import ConfigError

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 2, 4, 4, 3
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 40, 40, 40
_NAMES = {bool: ("true or false", "true or false values"), int: ("a whole number", "whole numbers"),
          float: ("a number", "numbers"), str: ("a text", "texts"), type(None): ("None", "None")}  # fmt: skip


def check_value(name: str, value: Any, hint: Any, where: str = "") -> Any:
    """``value`` as ``hint`` takes it (a whole float as an int, an int as a float, a list as a tuple), or
    ConfigError in one line: ``<where>: <name> has the wrong type: it takes <what>, got <value>``."""
    ok, conformed = _conform(value, hint)
    if not ok:
        prefix = f"{where}: " if where else ""
        raise ConfigError(
            f"{prefix}{name} has the wrong type: it takes {describe(hint)}, got {type(value).__name__} "
            f"{short(value)}"
        )
    return conformed


def short(value: Any) -> str:
    """``repr(value)``, shortened for a one-line message (long texts, numbers and deep lists cut)."""
    return _SHORT.repr(value)


def describe(hint: Any, plural: bool = False) -> str:
    """What a type hint takes, in words: ``list[str]`` → "a list of texts"."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a, plural) for a in args)
    if origin is list:
        return f"{'lists' if plural else 'a list'} of {describe(args[0], True)}"
    if origin is tuple:
        return f"{'lists' if plural else 'a list'} of {len(args)} {describe(args[0], True)}"
    if hint in _NAMES:
        return _NAMES[hint][plural]
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", getattr(hint, "__name__", str(hint))).lower()  # ModelSpec
    return f"{words}s" if plural else f"a {words}"


def _conform(value: Any, hint: Any) -> tuple[bool, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            ok, conformed = _conform(value, option)
            if ok:
                return True, conformed
        return False, value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)) or (origin is tuple and len(value) != len(args)):
            return False, value
        each = [args[0]] * len(value) if origin is list else list(args)
        items = [_conform(v, h) for v, h in zip(value, each, strict=True)]
        if not all(ok for ok, _ in items):
            return False, value
        return True, (list if origin is list else tuple)(v for _, v in items)
    if hint is bool:
        return isinstance(value, bool), value
    if isinstance(value, bool):
        return False, value
    if hint is int:
        # 96.0 from a JSON number or a web slider
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            return True, int(value)
        return isinstance(value, int), value
    if hint is float:
        if not isinstance(value, (int, float)):
            return False, value
        try:
            return True, float(value)
        except OverflowError:  # an int beyond any float
            return False, value
    if hint is type(None):
        return value is None, value
    return isinstance(value, hint), value


def check_fields(obj: Any, where: str = "", hints: dict[str, Any] | None = None) -> None:
    """Check (and conform in place) every field of the dataclass ``obj`` against its annotation; ``hints``
    overrides some annotations (a field that also takes another form before it is parsed)."""
    import dataclasses

    hints = {**typing.get_type_hints(type(obj)), **(hints or {})}
    for f in dataclasses.fields(obj):
        setattr(obj, f.name, check_value(f.name, getattr(obj, f.name), hints[f.name], where))
