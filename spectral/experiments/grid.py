"""An experiment's runs: the points of ``params × grid × seeds`` of a profile, and their ids.

A run id names the profile, the grid values, every override that differs from the
profile and the seed, e.g. ``cpu-model=resnet20-s0``; distinct values give distinct
ids. Each :class:`Run` also names its files: result, checkpoint, lock and executed
notebook.

A profile's optional ``per`` table sets parameters by the value of a grid axis, e.g.
each basis at its own learning rate::

    "grid": {"param": ["spatial", "spectral"]},
    "per": {"param": {"spatial": {"lr": 0.0003}, "spectral": {"lr": 0.001}}}

gives the runs ``…-param=spatial-lr=0.0003-s0`` and ``…-param=spectral-lr=0.001-s0``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spectral.experiments import paths
from spectral.experiments.errors import ExperimentError
from spectral.experiments.parameters import check_overrides
from spectral.experiments.records import FINISHED, read_record

__all__ = ["Run", "expand"]


@dataclass(frozen=True)
class Run:
    """One point of an experiment grid."""

    experiment: str
    run_id: str
    params: dict
    #: The id the run had before ids were injective, where it differs: a finished result
    #: under that id with the same parameters counts as this run's.
    legacy_id: str | None = field(default=None, compare=False, repr=False)

    def result_path(self, results: Path) -> Path:
        """``<results>/<experiment>/<run_id>.json``."""
        return results / self.experiment / f"{self.run_id}.json"

    def recorded_path(self, results: Path) -> Path:
        """The file holding the run's result: :meth:`result_path`, or else a finished
        result of the same parameters under :attr:`legacy_id`."""
        path = self.result_path(results)
        if self.legacy_id is None or path.exists():
            return path
        legacy = read_record(results / self.experiment / f"{self.legacy_id}.json")
        if legacy and legacy["status"] in FINISHED and legacy["params"] == self.params:
            return path.with_name(f"{self.legacy_id}.json")
        return path

    @property
    def key(self) -> str:
        """12 hex digits of SHA-256 over the canonical parameters and the notebook source."""
        params = json.dumps(self.params, sort_keys=True, separators=(",", ":"))
        source = paths.notebook(self.experiment).read_text()
        return hashlib.sha256(f"{params}\n{source}".encode()).hexdigest()[:12]

    def checkpoint_path(self, cache: Path) -> Path:
        """``<cache>/checkpoints/<experiment>/<run_id>-<key>.pt``."""
        return cache / "checkpoints" / self.experiment / f"{self.run_id}-{self.key}.pt"

    def lock_path(self, cache: Path) -> Path:
        """``<cache>/locks/<experiment>/<run_id>.lock``: held while the run executes."""
        return cache / "locks" / self.experiment / f"{self.run_id}.lock"

    def notebook_path(self, cache: Path) -> Path:
        """``<cache>/runs/<experiment>/<run_id>.ipynb``: the executed notebook."""
        return cache / "runs" / self.experiment / f"{self.run_id}.ipynb"


_NUMBER_SLUG = re.compile(r"m?(?:\d+(?:\.\d*)?(?:em?\d+)?|inf)|nan|True|False|None")


def _slug(value) -> str:
    """A file-name-safe text for ``value``; distinct values give distinct slugs.

    Numbers keep their digits with ``-`` written ``m`` (``-0.5`` → ``m0.5``); a string
    made only of letters, digits, ``.`` and single inner ``_`` stays as it is; anything
    else (other characters, lists, dicts, number-like strings) gets a readable part and
    ``~`` plus 8 hex digits of its hash.
    """
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return str(value).replace("-", "m").replace("+", "")
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    readable = re.sub(r"[^A-Za-z0-9.]+", "_", text).strip("_")
    if isinstance(value, str) and readable == text and not _NUMBER_SLUG.fullmatch(text):
        return text
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:8]
    return f"{readable}~{digest}"


def _legacy_slug(value) -> str:
    """The slug of run ids before they were injective (``-0.5`` and ``0.5`` both ``0.5``)."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", str(value)).strip("_")


def _run_id(profile: str, values: dict, seed: int, slug: Callable) -> str:
    return "-".join([profile, *(f"{k}={slug(v)}" for k, v in values.items()), f"s{slug(seed)}"])


def _per_axis(experiment: str, profile: str, spec: dict, grid: dict) -> dict:
    """The profile's ``per`` table, checked: ``{axis: {slug(value): {name: value}}}``.

    Every value of a ``per`` axis must have an entry, and the entries must set notebook
    parameters (coerced to their types) other than the grid axes.
    """
    per = spec.get("per", {})
    checked = {}
    for axis, table in per.items():
        if axis not in grid:
            raise ExperimentError(
                f"profile {profile!r} of {experiment}: 'per' names {axis!r}, which is not a "
                f"grid axis; use one of {', '.join(grid) or '(none: the grid is empty)'}"
            )
        missing = [v for v in grid[axis] if str(v) not in table]
        if missing:
            raise ExperimentError(
                f"profile {profile!r} of {experiment}: 'per' gives no parameters for "
                f"{axis}={', '.join(map(str, missing))}; add an entry for each value of {axis}"
            )
        axes = sorted(set(grid).intersection(set().union(*table.values())))
        if axes:
            raise ExperimentError(
                f"profile {profile!r} of {experiment}: 'per' sets the grid axis "
                f"{', '.join(axes)}; a grid axis takes its values from the grid"
            )
        checked[axis] = {
            key: check_overrides(experiment, grid, entry) for key, entry in table.items()
        }
    return checked


def expand(
    experiment: str,
    profile: str,
    *,
    seeds: Sequence[int] | None = None,
    overrides: dict | None = None,
) -> list[Run]:
    """The runs of ``experiment`` under ``profile``: ``params × grid × seeds``.

    ``overrides`` replace parameters (a list value for a grid key replaces the grid
    axis); ``seeds`` replaces the profile's seeds. Override names must be parameters of
    the notebook other than the reserved ones
    (:data:`spectral.experiments.parameters.RESERVED`), and values must have the type of
    the notebook's default (an int is accepted for a float); an override also replaces
    a parameter the profile sets ``per`` axis value. The run id names the profile, the
    grid values (each followed by the parameters set ``per`` that value), every
    override that differs from the profile and the seed, e.g. ``cpu-model=resnet20-s0``;
    distinct values give distinct ids.

    Raises
    ------
    ExperimentError
        For an unknown experiment or profile, an override that is reserved, unknown
        or of the wrong type, or a ``per`` table that names no grid axis, misses one of
        its values or sets an unknown parameter.
    """
    spec = paths.profile(experiment, profile)
    params = dict(spec.get("params", {}))
    grid = dict(spec.get("grid", {}))
    overrides = check_overrides(experiment, grid, dict(overrides or {}))
    named = sorted(
        k for k, v in overrides.items() if k not in grid and (k not in params or params[k] != v)
    )
    for key, value in overrides.items():
        if key in grid:
            grid[key] = value if isinstance(value, list) else [value]
        else:
            params[key] = value
    per = _per_axis(experiment, profile, spec, grid)
    seeds = list(seeds if seeds is not None else spec.get("seeds", [0]))
    runs = []
    for values in itertools.product(*grid.values()):
        point = {}
        for axis, value in zip(grid, values, strict=True):
            point[axis] = value
            entry = per.get(axis, {}).get(str(value), {})
            point |= {k: v for k, v in entry.items() if k not in overrides}
        for seed in seeds:
            shown = point | {k: params[k] for k in named}
            run_id = _run_id(profile, shown, seed, _slug)
            legacy = _run_id(profile, shown, seed, _legacy_slug)
            run_params = params | point | {"seed": seed, "profile": profile}
            runs.append(Run(experiment, run_id, run_params, legacy if legacy != run_id else None))
    return runs
