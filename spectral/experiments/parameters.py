"""The parameters an experiment accepts, and ``-p`` overrides checked against them.

A notebook's parameters are the shared settings of
:meth:`spectral.recipe.StandardRun.parameters` plus its own ``parameters`` cell; each
default gives the type its values must have. The runner sets the ``RESERVED``
names itself.
"""

from __future__ import annotations

import ast
import difflib
import json
from collections.abc import Sequence

from spectral.experiments import paths
from spectral.experiments.errors import ExperimentError

__all__ = ["RESERVED", "check_overrides", "notebook_parameters", "parse_overrides"]

_TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}
#: Parameters the runner sets itself, with the flag that sets them instead of ``-p``.
RESERVED = {
    "seed": "set seeds with --seeds",
    "profile": "choose the profile with --profile",
    "device": "choose devices with --devices",
    "threads": "threads follow from --devices (cores // slots)",
    **dict.fromkeys(
        ("experiment", "run_id", "run_params", "result_path", "checkpoint_path"),
        "the runner sets it",
    ),
}


def _literal(node: ast.expr):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None  # an expression: its type is unknown, any value is accepted


def notebook_parameters(experiment: str) -> dict:
    """The parameters ``experiment`` accepts, with their defaults (which give their types).

    These are the shared settings of :meth:`spectral.recipe.StandardRun.parameters`,
    which every experiment notebook accepts, updated with the names and defaults of the
    notebook's ``parameters`` cell. A default that is not a literal reads as ``None``
    (any value accepted). The runner's own names (``RESERVED``) are among them when
    the cell declares them.
    """
    import jupytext

    from spectral.recipe import StandardRun

    cells = jupytext.read(paths.notebook(experiment)).cells
    source = "\n".join(c.source for c in cells if "parameters" in c.metadata.get("tags", []))
    defaults = StandardRun.parameters()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            names = [node.target.id] if isinstance(node.target, ast.Name) else []
        else:
            continue
        defaults |= dict.fromkeys(names, _literal(node.value))
    return defaults


def _kind(default) -> type | None:
    """The type a parameter's values must have (``None``: any), from its default."""
    kind = list if isinstance(default, tuple) else type(default)
    return kind if kind in _TYPES else None


def _kind_name(default) -> str:
    kind = _kind(default)
    return _TYPES[kind] if kind else "any"


def _a(default) -> str:
    """``an int``, ``a float``, ``any value``: what a parameter takes, for messages."""
    name = _kind_name(default)
    return "any value" if name == "any" else f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _coerce(name: str, value, default):
    """``value`` checked against the type of ``default``; an int becomes a float for floats."""
    kind = _kind(default)
    is_bool = isinstance(value, bool)
    if kind is None or (isinstance(value, kind) and (kind is bool or not is_bool)):
        return value
    if kind is float and isinstance(value, int) and not is_bool:
        return float(value)
    hint = ""
    if kind is int and isinstance(value, float) and value.is_integer():
        hint = f"; write it as an integer: {name}={int(value)}"
    raise ExperimentError(
        f"parameter {name} takes {_a(default)} (default {default!r}), "
        f"got {value!r} ({type(value).__name__}){hint}"
    )


def _check_name(experiment: str, name: str, defaults: dict) -> None:
    if name in RESERVED:
        raise ExperimentError(f"parameter {name!r} cannot be set with -p: {RESERVED[name]}")
    if name not in defaults:
        valid = [f"{k} ({_kind_name(v)})" for k, v in defaults.items() if k not in RESERVED]
        close = difflib.get_close_matches(name, [k for k in defaults if k not in RESERVED], 1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise ExperimentError(
            f"unknown parameter {name!r} for {experiment}; {guess}valid: {', '.join(valid)}"
        )


def _checked(experiment: str, grid: dict, overrides: dict, defaults: dict) -> dict:
    """``overrides`` with names checked and values coerced (a list per grid axis)."""
    checked = {}
    for name, value in overrides.items():
        _check_name(experiment, name, defaults)
        if name in grid and isinstance(value, list):
            checked[name] = [_coerce(name, v, defaults[name]) for v in value]
        else:
            checked[name] = _coerce(name, value, defaults[name])
    return checked


def check_overrides(experiment: str, grid: dict, overrides: dict) -> dict:
    """``overrides`` with names checked and values coerced to their defaults' types.

    A list value for a key of ``grid`` is an axis: each of its values is coerced.

    Raises
    ------
    ExperimentError
        For a reserved or unknown name, or a value of the wrong type.
    """
    if not overrides:
        return {}
    return _checked(experiment, grid, overrides, notebook_parameters(experiment))


def _parse_value(name: str, text: str, default, axis: bool):
    """The value of ``-p name=text``: JSON, or plain text for a str parameter."""
    kind = _kind(default)
    if kind is str and not (text.startswith('"') or (axis and text.startswith("["))):
        return text
    try:
        return json.loads(text)
    except ValueError:
        if kind is None and text[:1] not in '[{"-.0123456789':
            return text  # a bare word for a parameter of any type, e.g. amp=bf16
        raise ExperimentError(
            f"-p {name}={text}: not valid JSON; {name} takes {_a(default)} "
            f"(default {default!r}); quote strings as JSON, e.g. {name}='\"text\"'"
        ) from None


def parse_overrides(experiment: str, profile: str, pairs: Sequence[str]) -> dict:
    """The ``-p KEY=VALUE`` pairs as parameter values, checked against the notebook.

    Values are JSON, except for a ``str`` parameter, whose value is the text itself
    (unless it is a quoted JSON string, or a JSON list for a grid axis). A parameter
    whose default is ``None`` also takes a bare word (``amp=bf16``).

    Raises
    ------
    ExperimentError
        For a pair without ``=``, a reserved or unknown name, malformed JSON or a value
        of the wrong type; the message names the valid parameters or the flag to use.
    """
    grid = paths.profile(experiment, profile).get("grid", {})
    defaults = notebook_parameters(experiment)
    out = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise ExperimentError(f"-p expects KEY=VALUE (JSON values), got {pair!r}")
        _check_name(experiment, name, defaults)
        out[name] = _parse_value(name, text, defaults[name], name in grid)
    return _checked(experiment, grid, out, defaults)
