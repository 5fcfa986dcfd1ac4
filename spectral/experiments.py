"""Papermill-driven experiments: grids of runs, resume, atomic results, reports.

An experiment family ``X`` is a Jupytext notebook ``notebooks/experiments/X.py`` with a
cell tagged ``parameters`` and a profile file ``notebooks/experiments/X.json``::

    {"profiles": {"smoke": {"params": {...}, "grid": {"model": ["a", "b"]}, "seeds": [0]},
                  "cpu": {...}, "paper": {...}}}

A *run* is one point of ``params × grid × seeds``. :func:`run_experiment` executes each
run through papermill, in a subprocess per run so that Ctrl-C can stop it, injecting the
run's parameters plus ``experiment``, ``run_id``, ``run_params`` (the parameters as
recorded), ``device``, ``threads`` (torch threads for the run), ``result_path`` and
``checkpoint_path``; the notebook trains (resuming from ``checkpoint_path`` if it exists)
and ends with :func:`write_result`. Runs whose result file is complete (or diverged) are
skipped; a missing, corrupt or failed result is redone. Results are
``data/results/<experiment>/<run_id>.json``, written atomically.

Checkpoints are ``data/cache/checkpoints/<experiment>/<run_id>-<key>.pt``, where ``key``
hashes the run's parameters and the notebook's source, so that a run never resumes a
checkpoint trained under other settings (such checkpoints are moved to ``stale/``). A
per-run lock (``data/cache/locks/<experiment>/<run_id>.lock``) lets several runners
share one grid.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import itertools
import json
import logging
import math
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import wait as wait_futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue

from spectral._io import atomic_write

__all__ = [
    "DEFAULT_CPU_DEVICES",
    "PROJECT",
    "RESERVED",
    "RUNNING_ELSEWHERE",
    "ExperimentError",
    "Interrupted",
    "Run",
    "describe",
    "execute_spec",
    "expand",
    "load_results",
    "notebook_parameters",
    "parse_overrides",
    "report",
    "result_status",
    "run_experiment",
    "write_result",
]

#: The project folder (where ``notebooks/`` and ``data/`` live).
PROJECT = Path(os.environ.get("SPECTRAL_PROJECT", Path(__file__).resolve().parent.parent))
#: Default ``--devices``: comma-separated CPU slots, e.g. ``"cpu,cpu"`` for two runs at once.
DEFAULT_CPU_DEVICES = "cpu"
#: The status of a run that another runner holds the lock of.
RUNNING_ELSEWHERE = "running elsewhere"
_STATUSES = ("complete", "diverged", "failed")
_FINISHED = ("complete", "diverged")
_REQUIRED = ("experiment", "run_id", "params", "status", "metrics", "final")
_INTERRUPTED = "interrupted"
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


class ExperimentError(ValueError):
    """A problem with the user's request (experiment, profile, parameter, folder)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the grid; the message says what finished and what was stopped."""


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
        legacy = _read_record(results / self.experiment / f"{self.legacy_id}.json")
        if legacy and legacy["status"] in _FINISHED and legacy["params"] == self.params:
            return path.with_name(f"{self.legacy_id}.json")
        return path

    @property
    def key(self) -> str:
        """12 hex digits of SHA-256 over the canonical parameters and the notebook source."""
        params = json.dumps(self.params, sort_keys=True, separators=(",", ":"))
        source = _notebook(self.experiment).read_text()
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


# --- notebooks, profiles and their parameters -----------------------------------------------


def _notebook(experiment: str) -> Path:
    path = PROJECT / "notebooks" / "experiments" / f"{experiment}.py"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.py"))
        raise ExperimentError(f"no experiment {experiment!r}; known: {', '.join(known) or 'none'}")
    return path


def _profiles(experiment: str) -> dict:
    return json.loads(_notebook(experiment).with_suffix(".json").read_text())["profiles"]


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
    (any value accepted). The runner's own names (:data:`RESERVED`) are among them when
    the cell declares them.
    """
    import jupytext

    from spectral.recipe import StandardRun

    cells = jupytext.read(_notebook(experiment)).cells
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


def _check_overrides(experiment: str, grid: dict, overrides: dict) -> dict:
    """``overrides`` with names checked and values coerced (a list per grid axis)."""
    if not overrides:
        return {}
    defaults = notebook_parameters(experiment)
    checked = {}
    for name, value in overrides.items():
        _check_name(experiment, name, defaults)
        if name in grid and isinstance(value, list):
            checked[name] = [_coerce(name, v, defaults[name]) for v in value]
        else:
            checked[name] = _coerce(name, value, defaults[name])
    return checked


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
    grid = _profile(experiment, profile).get("grid", {})
    defaults = notebook_parameters(experiment)
    out = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise ExperimentError(f"-p expects KEY=VALUE (JSON values), got {pair!r}")
        _check_name(experiment, name, defaults)
        out[name] = _parse_value(name, text, defaults[name], name in grid)
    return _check_overrides(experiment, grid, out)


# --- run ids and grids ------------------------------------------------------------------------

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


def _profile(experiment: str, profile: str) -> dict:
    profiles = _profiles(experiment)
    if profile not in profiles:
        raise ExperimentError(
            f"no profile {profile!r} for {experiment}; choose one of {', '.join(profiles)}"
        )
    return profiles[profile]


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
    the notebook other than the reserved ones (:data:`RESERVED`), and values must have
    the type of the notebook's default (an int is accepted for a float). The run id
    names the profile, the grid values, every override that differs from the profile
    and the seed, e.g. ``cpu-model=resnet20-s0``; distinct values give distinct ids.
    """
    spec = _profile(experiment, profile)
    params = dict(spec.get("params", {}))
    grid = dict(spec.get("grid", {}))
    overrides = _check_overrides(experiment, grid, dict(overrides or {}))
    named = sorted(
        k for k, v in overrides.items() if k not in grid and (k not in params or params[k] != v)
    )
    for key, value in overrides.items():
        if key in grid:
            grid[key] = value if isinstance(value, list) else [value]
        else:
            params[key] = value
    seeds = list(seeds if seeds is not None else spec.get("seeds", [0]))
    runs = []
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values, strict=True))
        for seed in seeds:
            values = point | {k: params[k] for k in named}
            run_id = _run_id(profile, values, seed, _slug)
            legacy = _run_id(profile, values, seed, _legacy_slug)
            run_params = params | point | {"seed": seed, "profile": profile}
            runs.append(Run(experiment, run_id, run_params, legacy if legacy != run_id else None))
    return runs


# --- result files -----------------------------------------------------------------------------


def _read_record(path: Path) -> dict | None:
    """The result record in ``path``, or ``None`` if missing, not JSON or malformed."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    valid = (
        isinstance(data, dict)
        and all(k in data for k in _REQUIRED)
        and data["status"] in _STATUSES
        and isinstance(data["params"], dict)
        and isinstance(data["final"], dict)
        and isinstance(data["metrics"], list)
    )
    return data if valid else None


def result_status(path: Path) -> str | None:
    """``status`` of a result file, or ``None`` if it is missing or not a valid result.

    Valid means JSON with the required keys, a known status, ``params`` and ``final``
    dicts and a ``metrics`` list.
    """
    record = _read_record(path)
    return record["status"] if record else None


def _git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _versions() -> dict:
    import numpy
    import torch

    import spectral

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "spectral": spectral.__version__,
    }


def _device_name(device: str) -> str:
    """``device`` and what it is: ``cuda:0 (NVIDIA H200)``, ``cpu (x86_64, 2 threads)``."""
    import torch

    device = str(device)
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            return f"{device} (CUDA not available)"
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    if device == "cpu":
        cpu = platform.processor() or platform.machine()
        return f"cpu ({cpu}, {torch.get_num_threads()} threads)"
    return device


def _finite(value):
    """``value`` with every non-finite float (NaN, ±inf) replaced by ``None``, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_result(
    path: str | os.PathLike,
    *,
    experiment: str,
    run_id: str,
    params: dict,
    status: str,
    metrics: list[dict],
    final: dict,
    wall_time_s: float | None = None,
    device: str = "cpu",
    extra: dict | None = None,
) -> Path:
    """Write one run's result as strict JSON, atomically (temp file, fsync, rename).

    Parameters
    ----------
    path : path
        The result file, usually the injected ``result_path``.
    experiment, run_id : str
        The injected names.
    params : dict
        The injected ``run_params``.
    status : {"complete", "diverged", "failed"}
        How the run ended.
    metrics : list of dict
        One record per epoch (``epoch_time_s`` in each feeds the dry run's ETA).
    final : dict
        Final metrics.
    wall_time_s : float, optional
        Training time, computed by the caller (over all resumed segments).
    device : str
        The injected ``device``; recorded with its name, e.g. ``cuda:0 (NVIDIA H200)``.
    extra : dict, optional
        Anything else worth keeping.

    Returns
    -------
    Path
        ``path``. NaN and infinite floats anywhere in the record are written as ``null``.
    """
    if status not in _STATUSES:
        raise ValueError(f"status must be complete, diverged or failed, got {status!r}")
    record = {
        "experiment": experiment,
        "run_id": run_id,
        "params": params,
        "status": status,
        "metrics": metrics,
        "final": final,
        "git_sha": _git_sha(),
        "versions": _versions(),
        "device": _device_name(device),
        "wall_time_s": wall_time_s,
        "extra": extra or {},
    }
    text = json.dumps(_finite(record), indent=1, allow_nan=False) + "\n"
    return atomic_write(path, text.encode())


def load_results(experiment: str, results: str | os.PathLike | None = None) -> list[dict]:
    """Every valid result record of ``experiment`` (see :func:`result_status`), by run id."""
    folder = (Path(results) if results is not None else PROJECT / "data" / "results") / experiment
    records = (_read_record(path) for path in sorted(folder.glob("*.json")))
    return [r for r in records if r is not None]


# --- executing one run ------------------------------------------------------------------------


def _cpu_count() -> int:
    """The cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _threads(devices: Sequence[str]) -> int:
    """Torch threads per slot: the cores shared evenly by the slots, at least one."""
    return max(1, _cpu_count() // len(devices))


@contextmanager
def _claim(run: Run, cache: Path) -> Iterator[bool]:
    """Hold the run's lock while the block runs; yield ``False`` if another runner holds it."""
    import filelock

    path = run.lock_path(cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        claimed = False
    else:
        claimed = True
    try:
        yield claimed
    finally:
        if claimed:
            lock.release()


def _is_running(run: Run, cache: Path) -> bool:
    if not run.lock_path(cache).exists():
        return False
    with _claim(run, cache) as claimed:
        return not claimed


def _retire_stale_checkpoints(run: Run, cache: Path, log: Callable[[str], object]) -> None:
    """Move the run's checkpoints of other parameters (or the unkeyed one) into ``stale/``."""
    current = run.checkpoint_path(cache)
    if not current.parent.is_dir():
        return
    ids = "|".join(re.escape(i) for i in (run.run_id, run.legacy_id) if i)
    own = re.compile(f"({ids})(-[0-9a-f]{{12}})?\\.pt")
    for path in sorted(current.parent.iterdir()):
        if path != current and own.fullmatch(path.name):
            stale = current.parent / "stale" / path.name
            stale.parent.mkdir(exist_ok=True)
            path.replace(stale)
            log(
                f"{run.run_id}: moved checkpoint {path.name} to {stale.parent} "
                "(other parameters or notebook version; not resumed)"
            )


def _last_line(error: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        return f"{error.ename}: {error.evalue}"
    lines = [line for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1]}" if lines else type(error).__name__


def _record_failure(run: Run, device: str, results: Path, cache: Path, error: str, **extra):
    """Write a ``failed`` result for ``run`` unless a finished one is there already."""
    path = run.result_path(results)
    if result_status(path) in _FINISHED:
        return
    write_result(
        path,
        experiment=run.experiment,
        run_id=run.run_id,
        params=run.params,
        status="failed",
        metrics=[],
        final={},
        device=device,
        extra={"error": error, "notebook": str(run.notebook_path(cache)), **extra},
    )


def _parameters(run: Run, device: str, threads: int, results: Path, cache: Path) -> dict:
    return run.params | {
        "experiment": run.experiment,
        "run_id": run.run_id,
        "run_params": run.params,
        "device": device,
        "threads": threads,
        "result_path": str(run.result_path(results)),
        "checkpoint_path": str(run.checkpoint_path(cache)),
    }


def _papermill(run: Run, device: str, threads: int, results: Path, cache: Path) -> str:
    """Run the notebook in this process; record a failure; return the result status.

    The kernel's stdout and stderr are copied to this process's as they arrive. A
    KeyboardInterrupt (here or in the kernel) propagates; nothing is recorded then.
    """
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    def fail(error: str, **extra) -> None:
        _record_failure(run, device, results, cache, error, **extra)

    output = run.notebook_path(cache)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            jupytext.read(_notebook(run.experiment)),
            str(output),
            parameters=_parameters(run, device, threads, results, cache),
            kernel_name="python3",
            language="python",
            cwd=str(PROJECT),
            progress_bar=False,
            stdout_file=sys.stdout,
            stderr_file=sys.stderr,
        )
    except PapermillExecutionError as error:
        if error.ename == "KeyboardInterrupt":
            raise KeyboardInterrupt from error
        fail(_last_line(error), traceback="".join(error.traceback)[-4000:])
    except Exception as error:  # the kernel died, the notebook is broken: record, go on
        fail(_last_line(error), traceback=traceback.format_exc(limit=3)[-4000:])
    if result_status(run.result_path(results)) is None:
        fail("the notebook ended without calling write_result(result_path, ...)")
    return result_status(run.result_path(results))


def execute_spec(spec: str) -> int:
    """Entry point of a run's subprocess (``python -m spectral _execute SPEC``).

    ``spec`` is JSON with ``run`` (experiment, run_id, params), ``device``, ``threads``,
    ``results`` and ``cache``. Returns the exit code: 0 once a result is written, 130
    when interrupted (the checkpoint is kept, no result is written).
    """
    spec = json.loads(spec)
    run = Run(**spec["run"])
    logging.getLogger("papermill").setLevel(logging.ERROR)  # expand() checked the names
    try:
        _papermill(run, spec["device"], spec["threads"], Path(spec["results"]), Path(spec["cache"]))
    except KeyboardInterrupt:
        return 130
    return 0


def _job(run: Run, device: str, results: Path, cache: Path) -> str:
    """One run as a submitit job: lock, retire stale checkpoints, execute in-process."""
    with _claim(run, cache) as claimed:
        if not claimed:
            return RUNNING_ELSEWHERE
        status = result_status(run.recorded_path(results))
        if status in _FINISHED:
            return status
        _retire_stale_checkpoints(run, cache, print)
        logging.getLogger("papermill").setLevel(logging.ERROR)  # expand() checked the names
        return _papermill(run, device, _cpu_count(), results, cache)


# --- the local executor: one subprocess per run, stoppable with Ctrl-C -----------------------


class _Children:
    """The runs' subprocesses, so that Ctrl-C reaches each of them exactly once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._procs: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self, run_id: str, command: list[str], **kwargs) -> subprocess.Popen | None:
        """Start ``command`` unless Ctrl-C came; ``None`` then."""
        with self._lock:
            if self.stopping:
                return None
            proc = subprocess.Popen(command, **kwargs)
            self._procs[run_id] = proc
            return proc

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._procs.pop(run_id, None)

    def signal(self, signum: int) -> list[str]:
        """Send ``signum`` to every running child, start no more; return their run ids."""
        with self._lock:
            self.stopping = True
            procs = dict(self._procs)
        for proc in procs.values():
            try:
                proc.send_signal(signum)
            except ProcessLookupError:
                pass
        return list(procs)


def _spawn(run, device, threads, results, cache, children, log, prefix) -> str | None:
    """Execute ``run`` in a subprocess, forwarding its output lines to ``log``.

    Returns its result status, ``"interrupted"``, or ``None`` if Ctrl-C came first.
    """
    spec = {
        "run": {"experiment": run.experiment, "run_id": run.run_id, "params": run.params},
        "device": device,
        "threads": threads,
        "results": str(results),
        "cache": str(cache),
    }
    proc = children.start(
        run.run_id,
        [sys.executable, "-m", "spectral", "_execute", json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=PROJECT,
        env=os.environ | {"SPECTRAL_PROJECT": str(PROJECT), "PYTHONUNBUFFERED": "1"},
        start_new_session=True,  # a terminal's Ctrl-C reaches the runner only, which forwards it
    )
    if proc is None:
        return None
    tail: deque[str] = deque(maxlen=5)
    for line in proc.stdout:
        tail.append(line.rstrip("\n"))
        if not children.stopping:  # after Ctrl-C, spare the user the kernels' shutdown noise
            log(f"[{run.run_id}] {tail[-1]}" if prefix else tail[-1])
    code = proc.wait()
    children.forget(run.run_id)
    if code == 130 or (children.stopping and code != 0):
        return _INTERRUPTED
    if code != 0:
        last = next((t for t in reversed(tail) if t.strip()), "no output")
        _record_failure(
            run, device, results, cache, f"the run's process exited with code {code}: {last}"
        )
    return result_status(run.result_path(results))


def _local_run(run, slots: Queue, threads, results, cache, children, log, prefix) -> str | None:
    """Take a device slot and the run's lock, retire stale checkpoints, execute."""
    device = slots.get()
    try:
        with _claim(run, cache) as claimed:
            if not claimed:
                return RUNNING_ELSEWHERE
            status = result_status(run.recorded_path(results))
            if status in _FINISHED:
                return status
            if children.stopping:
                return None
            _retire_stale_checkpoints(run, cache, log)
            log(f"start {run.run_id} on {device} ({threads} threads)")
            return _spawn(run, device, threads, results, cache, children, log, prefix)
    finally:
        slots.put(device)


def _skip_line(run: Run, status: str, results: Path) -> str:
    path = run.recorded_path(results)
    where = "" if path == run.result_path(results) else f" (recorded as {path.name})"
    return f"skip {run.run_id}: {status}{where}"


def _outcome(run: Run, status: str, results: Path) -> str:
    """The line that reports a finished run: the error's last line for a failure."""
    if status == RUNNING_ELSEWHERE:
        return f"skip {run.run_id}: running elsewhere"
    if status != "failed":
        return f"{run.run_id}: {status}"
    extra = (_read_record(run.result_path(results)) or {}).get("extra") or {}
    return f"{run.run_id}: failed: {extra.get('error')} (notebook: {extra.get('notebook')})"


def _runs(n: int) -> str:
    return "1 run" if n == 1 else f"{n} runs"


def _stop(futures: dict, children: _Children, pool: ThreadPoolExecutor, cache: Path) -> str:
    """After Ctrl-C: interrupt the running kernels, wait for them, say what happened."""
    pool.shutdown(wait=False, cancel_futures=True)
    children.signal(signal.SIGINT)
    try:
        wait_futures(futures)
    except KeyboardInterrupt:  # a second Ctrl-C: do not wait for the kernels' clean exit
        children.signal(signal.SIGKILL)
        wait_futures(futures)
    done = [(futures[f], f.result()) for f in futures if not f.cancelled() and not f.exception()]
    finished = sum(s in _STATUSES for _, s in done)
    stopped = [
        f"{r.run_id} stopped ("
        f"{'checkpoint kept' if r.checkpoint_path(cache).exists() else 'no checkpoint yet'})"
        for r, s in done
        if s == _INTERRUPTED
    ]
    return f"interrupted: {_runs(finished)} finished, {', '.join(stopped) or 'none was running'}"


def _run_local(pending, devices, results, cache, log, bar) -> dict[str, str]:
    slots: Queue = Queue()
    for device in devices:
        slots.put(device)
    children = _Children()
    args = (slots, _threads(devices), results, cache, children, log, len(devices) > 1)
    out, futures = {}, {}
    pool = ThreadPoolExecutor(max_workers=len(devices))
    try:
        for run in pending:
            futures[pool.submit(_local_run, run, *args)] = run
        for future in as_completed(futures):
            run = futures[future]
            out[run.run_id] = future.result()
            log(_outcome(run, out[run.run_id], results))
            bar.update()
    except KeyboardInterrupt:
        raise Interrupted(_stop(futures, children, pool, cache)) from None
    pool.shutdown()
    return out


# --- submitit executors -----------------------------------------------------------------------


def _submitit_executor(executor: str, slurm: dict, cache: Path):
    import submitit

    folder = cache / "submitit"
    if executor == "submitit-local":
        ex = submitit.LocalExecutor(folder=folder)
        ex.update_parameters(timeout_min=slurm.get("timeout_min", 60))
        return ex
    ex = submitit.AutoExecutor(folder=folder)
    if ex.cluster != "slurm":  # submitit falls back to a local run without saying so
        raise ExperimentError(
            "--executor slurm: no SLURM cluster reachable from here (sbatch not found); "
            "submit from a cluster login node, or use --executor local"
        )
    ex.update_parameters(**slurm)
    return ex


def _run_submitit(pending, devices, results, cache, executor, slurm, log, bar) -> dict:
    ex = _submitit_executor(executor, slurm, cache)
    jobs = [
        (run, ex.submit(_job, run, devices[i % len(devices)], results, cache))
        for i, run in enumerate(pending)
    ]
    out = {}
    for run, job in jobs:
        try:
            out[run.run_id] = job.result()
        except Exception as error:  # the job itself died (time limit, node failure)
            _record_failure(run, devices[0], results, cache, _last_line(error))
            out[run.run_id] = "failed"
        log(_outcome(run, out[run.run_id], results))
        bar.update()
    return out


# --- the grid -------------------------------------------------------------------------------


def _folders(results, cache) -> tuple[Path, Path]:
    results = Path(results) if results is not None else PROJECT / "data" / "results"
    cache = Path(cache) if cache is not None else PROJECT / "data" / "cache"
    return results, cache


def _check_writable(folder: Path) -> None:
    """Create ``folder`` and write and delete a probe file in it, or raise ExperimentError."""
    probe = folder / f".write-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ExperimentError(
            f"results folder {folder} is not writable ({error.strerror or error}); "
            "fix its permissions or choose another with --results"
        ) from None


def _devices(devices: Sequence[str] | None) -> list[str]:
    devices = [d.strip() for d in (devices or DEFAULT_CPU_DEVICES.split(",")) if d.strip()]
    if not devices:
        raise ExperimentError("--devices is empty; give e.g. cpu, cpu,cpu or cuda:0,cuda:1")
    return devices


def run_experiment(
    runs: Iterable[Run],
    *,
    devices: Sequence[str] | None = None,
    results: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    executor: str = "local",
    slurm: dict | None = None,
    log: Callable[[str], object] = print,
    progress: bool = False,
) -> dict[str, str]:
    """Execute the unfinished ``runs``, one at a time per device slot; return run → status.

    Parameters
    ----------
    runs : iterable of Run
        From :func:`expand`.
    devices : sequence of str, optional
        Slots, one concurrent run each: ``("cpu",)``, ``("cpu", "cpu")`` (two CPU runs
        side by side) or e.g. ``("cuda:0", "cuda:1")``; default
        :data:`DEFAULT_CPU_DEVICES`. Each run gets ``max(1, cores // slots)`` torch
        threads (the injected ``threads``).
    results, cache : path, optional
        Default ``data/results`` and ``data/cache`` of the project.
    executor : {"local", "submitit-local", "slurm"}
        ``local`` runs each notebook in a subprocess of this one. ``slurm`` submits each
        run as a SLURM job through ``submitit`` (``slurm`` holds its parameters, e.g.
        ``{"partition": "gpu", "gpus_per_node": 1, "timeout_min": 600}``) and fails if no
        cluster is reachable; ``submitit-local`` is submitit's local executor.
    log : callable
        Receives each line: skips, starts, outcomes (a failure with its error's last line
        and the executed notebook) and the runs' own output (``[run_id] `` first when
        several slots run at once).
    progress : bool
        Show a bar over the grid (runs finished / total) on stderr.

    Returns
    -------
    dict
        Run id → ``complete``, ``diverged``, ``failed`` or ``running elsewhere`` (another
        runner holds its lock).

    Raises
    ------
    ExperimentError
        Before running anything: an unknown executor, no SLURM cluster, an unwritable
        results folder.
    Interrupted
        On Ctrl-C (local executor): the running kernels are interrupted, their
        checkpoints kept; the message says what finished and what was stopped.
    """
    from tqdm import tqdm

    if executor not in ("local", "submitit-local", "slurm"):
        raise ExperimentError(f"executor must be local, submitit-local or slurm, got {executor!r}")
    results, cache = _folders(results, cache)
    runs, devices = list(runs), _devices(devices)
    statuses = {r.run_id: result_status(r.recorded_path(results)) for r in runs}
    pending = [r for r in runs if statuses[r.run_id] not in _FINISHED]
    done = {k: v for k, v in statuses.items() if v in _FINISHED}
    for run in runs:
        if run.run_id in done:
            log(_skip_line(run, done[run.run_id], results))
    if not pending:
        return done
    for experiment in sorted({r.experiment for r in pending}):
        _check_writable(results / experiment)
    desc = pending[0].experiment
    with tqdm(
        total=len(runs),
        initial=len(done),
        desc=desc,
        unit="run",
        file=sys.stderr,
        disable=None if progress else True,
    ) as bar:  # None: only on a terminal
        if executor == "local":
            return done | _run_local(pending, devices, results, cache, log, bar)
        return done | _run_submitit(
            pending, devices, results, cache, executor, slurm or {}, log, bar
        )


# --- dry run --------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _epoch_times(runs: Sequence[Run], results: Path) -> list[float]:
    """Measured ``epoch_time_s`` of every result of the runs' experiments and profiles."""
    cells = {(r.experiment, r.params.get("profile")) for r in runs}
    times = []
    for experiment in sorted({e for e, _ in cells}):
        for record in load_results(experiment, results):
            if (experiment, record["params"].get("profile")) in cells:
                times += [m.get("epoch_time_s") for m in record["metrics"] if isinstance(m, dict)]
    return [t for t in times if isinstance(t, int | float) and math.isfinite(t)]


def _eta(pending: Sequence[Run], slots: int, results: Path) -> str:
    if not pending:
        return "ETA: nothing to run"
    times = _epoch_times(pending, results)
    if not times:
        return "ETA: no measured epoch times yet"
    per_epoch = sum(times) / len(times)
    defaults = {e: notebook_parameters(e) for e in {r.experiment for r in pending}}
    epochs = sum(r.params.get("epochs", defaults[r.experiment].get("epochs") or 1) for r in pending)
    return (
        f"ETA: {_duration(per_epoch * epochs / slots)} ({epochs} pending epochs × "
        f"{per_epoch:.1f} s/epoch measured over {len(times)} epochs ÷ {slots} slot(s))"
    )


def describe(
    runs: Iterable[Run],
    *,
    devices: Sequence[str] | None = None,
    results: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
) -> list[str]:
    """The dry run: one line per run (id, done/pending/running, parameters), the count, an ETA.

    The ETA is the mean measured ``epoch_time_s`` of the existing results of the same
    experiment and profile, times the pending runs' epochs, divided by the slots.
    """
    results, cache = _folders(results, cache)
    runs, devices = list(runs), _devices(devices)
    lines, pending, counts = [], [], {"done": 0, "pending": 0, "running": 0}
    for run in runs:
        if result_status(run.recorded_path(results)) in _FINISHED:
            state = "done"
        elif _is_running(run, cache):
            state = "running"
        else:
            state = "pending"
            pending.append(run)
        counts[state] += 1
        lines.append(f"{run.run_id}  {state}  {json.dumps(run.params)}")
    lines.append(f"{_runs(len(runs))}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    lines.append(_eta(pending, len(devices), results))
    return lines


# --- report ---------------------------------------------------------------------------------


def report(
    experiment: str,
    *,
    metrics: Sequence[str] = ("test_accuracy", "test_loss"),
    results: str | os.PathLike | None = None,
):
    """Per configuration: run counts by status, and mean ± std over its complete runs.

    Diverged and failed runs are counted (columns ``diverged``, ``failed``) but never
    enter the means and standard deviations, which are over complete runs only.

    Returns
    -------
    pandas.DataFrame
        Index: the parameters that vary between configurations (plus ``profile``);
        columns: ``runs``, ``complete``, ``diverged``, ``failed`` and
        ``<metric>_mean``/``<metric>_std``.
    """
    import numpy as np
    import pandas as pd

    records = load_results(experiment, results)
    if not records:
        raise FileNotFoundError(f"no results for {experiment!r} in {results or 'data/results'}")
    rows = []
    for r in records:
        row = {
            k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in r["params"].items()
        }
        row["status"] = r["status"]
        row |= {m: r["final"].get(m) if r["status"] == "complete" else np.nan for m in metrics}
        rows.append(row)
    frame = pd.DataFrame(rows)
    params = [c for c in frame.columns if c not in ("seed", "status", *metrics)]
    varying = [c for c in params if frame[c].nunique(dropna=False) > 1]
    keys = ["profile", *[c for c in varying if c != "profile"]] if "profile" in frame else varying
    grouped = frame.groupby(keys, dropna=False) if keys else frame.groupby(lambda _: "all")
    counts = {s: ("status", lambda col, s=s: int((col == s).sum())) for s in _STATUSES}
    table = grouped.agg(runs=("status", "size"), **counts)
    for m in metrics:
        table[f"{m}_mean"] = grouped[m].mean()
        table[f"{m}_std"] = grouped[m].std(ddof=1)
    return table
