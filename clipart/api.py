"""The drawing functions of the public API, :func:`draw` and :func:`steps`, over the loop's engine.

Their options are make_config's and every DrawConfig setting those do not fill, each keyword-only and ``None``
by default ("the preset's value"); the signature that help(), :func:`inspect.signature`, IPython and Jupyter show
is derived from them, so a new setting shows without being listed here. Static editors and type checkers read
the same signatures from the stub ``clipart/api.pyi``, which :func:`stub` writes from them (``python -m
clipart.api > clipart/api.pyi``; tests/test_api.py checks that the committed stub is its text).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
import typing
from collections.abc import Callable, Iterator
from inspect import Parameter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from clipart.config import DrawConfig, make_config
from clipart.drawing import Drawing
from clipart.errors import ConfigError

if TYPE_CHECKING:
    from clipart.loop import Progress

# the settings that make_config's own options fill under other names (prompt and its 'text::W' weights, image,
# negative_weight, model with pretrained), not shown twice: its parameters do not say which they fill
_FILLED_BY_OPTIONS = {"prompts", "prompt_weights", "images", "image_weights", "negative_weights", "models"}


def steps(
    prompt: str | list[str] | None = None, *, config: DrawConfig | None = None, **options: Any
) -> Iterator[Progress]:
    """Run a drawing step by step: yields a Progress event after every optimisation step.

    Takes a prompt (``"text::2"`` weighted; a list for several), the options of
    :func:`clipart.config.make_config` (``preset``, ``model``, ``image``, ...) and any setting of
    :class:`~clipart.config.DrawConfig` (``seed``, ``strokes``, ``steps``, ...; ``None``: the preset's).
    Settings are checked now (ClipartError on bad ones); models load at the first step. Stop early by stopping
    the iteration; ``event.drawing()`` keeps the result so far. ``config=`` takes a whole DrawConfig instead,
    prompts included: it comes without a prompt or options.
    """
    from clipart.loop import run

    return run(_config(prompt, config, options))


def draw(
    prompt: str | list[str] | None = None,
    *,
    config: DrawConfig | None = None,
    progress: bool = False,
    **options: Any,
) -> Drawing:
    """Make a drawing from text and return it (the options are :func:`steps`'s).

    ``progress=True`` shows a progress bar while it draws: a widget in Jupyter, text on stderr elsewhere.
    """
    from clipart.loop import run

    cfg = _config(prompt, config, options)
    last = None
    if progress:
        from tqdm.auto import tqdm

        with tqdm(total=cfg.steps, desc="drawing", unit="step") as bar:
            for last in run(cfg):  # noqa: B007 - the last event holds the result
                bar.set_postfix(loss=f"{last.loss:.4f}", refresh=False)
                bar.update()
    else:
        for last in run(cfg):  # noqa: B007 - the last event holds the result
            continue
    assert last is not None
    return last.drawing()


def _config(prompt: str | list[str] | None, config: DrawConfig | None, options: dict[str, Any]) -> DrawConfig:
    """The validated settings of a call: ``config`` as it is, or built from the prompt and options."""
    if config is None:
        return make_config(prompt if prompt is not None else [], **options)
    if not isinstance(config, DrawConfig):  # first: a preset's name here is a mistake of type, not of mixing
        raise ConfigError(f"config= takes a DrawConfig, got {type(config).__name__}")
    given = sorted(options) + (["a prompt"] if prompt is not None else [])
    if given:
        raise ConfigError(
            f"give config= or a prompt and options, not both (got config= and {', '.join(given)})"
        )
    return config.validate()


def options_signature(own: Callable[..., Any]) -> inspect.Signature:
    """``own``'s signature with ``**options`` spelled out: make_config's options, then each DrawConfig setting
    they do not fill (keyword-only, typed ``T | None``, default None: the preset's value)."""
    mine = inspect.signature(own, eval_str=True, locals={"Progress": "Progress"})  # the loop loads torch
    made = inspect.signature(make_config, eval_str=True).parameters.values()
    options = [p for p in made if p.kind is Parameter.KEYWORD_ONLY]
    taken = {p.name for p in options} | {"config"} | _FILLED_BY_OPTIONS
    hints = typing.get_type_hints(DrawConfig)
    settings = [
        Parameter(f.name, Parameter.KEYWORD_ONLY, default=None, annotation=hints[f.name] | None)
        for f in dataclasses.fields(DrawConfig)
        if f.name not in taken
    ]
    head = [p for p in mine.parameters.values() if p.kind is Parameter.POSITIONAL_OR_KEYWORD]
    tail = [p for p in mine.parameters.values() if p.kind is Parameter.KEYWORD_ONLY]
    return mine.replace(parameters=[*head, *options, *settings, *tail])


F = TypeVar("F", bound=Callable[..., Any])


def _typed(function: F) -> F:
    function.__signature__ = options_signature(function)  # type: ignore[attr-defined]
    return function


draw = _typed(draw)
steps = _typed(steps)


def stub() -> str:
    """The text of the stub ``clipart/api.pyi``: this module's public functions with their signatures as
    :func:`inspect.signature` gives them (:func:`draw` and :func:`steps` with every option a typed keyword) and
    their docstrings, for static editors and type checkers, which do not run the code that derives them."""
    imports: set[tuple[str, str]] = set()
    functions = []
    for name, function in list(globals().items()):
        if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != __name__:
            continue
        signature = inspect.signature(function, eval_str=True)
        parameters = _parameters(signature, imports)
        returns = _hint(signature.return_annotation, imports)
        head = f"def {name}({', '.join(parameters)}) -> {returns}:"
        if len(head) > 110:  # one parameter a line, as the formatter writes it
            head = f"def {name}(\n" + "".join(f"    {p},\n" for p in parameters) + f") -> {returns}:"
        doc = "\n".join(
            f"    {line}" if line else "" for line in (inspect.getdoc(function) or "").splitlines()
        )
        functions.append(f'{head}\n    """{doc.lstrip()}"""\n')
    lines = [
        "# Generated by `python -m clipart.api > clipart/api.pyi` from clipart.DrawConfig's declarations and",
        "# the signatures of clipart/api.py: do not edit.",
    ]
    for ours in (False, True):  # the standard library's imports, then clipart's
        chosen = sorted({(m, n) for m, n in imports if m.startswith("clipart") is ours})
        modules = sorted({m for m, _ in chosen})
        lines += [""] + [f"from {m} import {', '.join(n for k, n in chosen if k == m)}" for m in modules]
    return "\n".join(lines) + "\n\n" + "\n".join(functions)


def _parameters(signature: inspect.Signature, imports: set[tuple[str, str]]) -> list[str]:
    """Each parameter as a stub writes it (``name: T = default``), a bare ``*`` before the keyword-only ones."""
    out, starred = [], False
    for p in signature.parameters.values():
        if p.kind is Parameter.KEYWORD_ONLY and not starred:
            out.append("*")
        starred = starred or p.kind in (Parameter.KEYWORD_ONLY, Parameter.VAR_POSITIONAL)
        star = {Parameter.VAR_POSITIONAL: "*", Parameter.VAR_KEYWORD: "**"}.get(p.kind, "")
        text = f"{star}{p.name}: {_hint(p.annotation, imports)}"
        default = json.dumps(p.default) if isinstance(p.default, str) else repr(p.default)
        out.append(text if p.default is Parameter.empty else f"{text} = {default}")
    return out


def _hint(hint: Any, imports: set[tuple[str, str]]) -> str:
    """A type as a stub writes it; ``imports`` gains the (module, name) of each class it names."""
    if hint is None or hint is type(None):
        return "None"
    if hint is Ellipsis:
        return "..."
    if isinstance(hint, (str, typing.ForwardRef)):  # a name this module imports only for type checkers
        from clipart._lazy import lazy_table

        name = hint if isinstance(hint, str) else hint.__forward_arg__
        imports.add((lazy_table(Path(__file__).read_text(encoding="utf-8"))[name], name))
        return name
    args = [_hint(a, imports) for a in typing.get_args(hint)]
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(args)
    if origin is not None:
        return f"{_hint(origin, imports)}[{', '.join(args)}]"
    if hint is Any:
        imports.add(("typing", "Any"))
        return "Any"
    if hint.__module__ != "builtins":
        imports.add((hint.__module__, hint.__qualname__))
    return hint.__qualname__


if __name__ == "__main__":
    print(stub(), end="")
