"""Papermill-driven experiments: grids of runs, resume, atomic results, reports.

An experiment family ``X`` is a Jupytext notebook ``notebooks/experiments/X.py`` with a
cell tagged ``parameters`` and a profile file ``notebooks/experiments/X.json``::

    {"profiles": {"smoke": {"params": {...}, "grid": {"model": ["a", "b"]}, "seeds": [0]},
                  "cpu": {...}, "paper": {...}}}

A *run* is one point of ``params × grid × seeds`` (:func:`expand`).
:func:`run_experiment` executes each run through papermill, in a subprocess per run so
that Ctrl-C can stop it, injecting the run's parameters plus ``experiment``, ``run_id``,
``run_params`` (the parameters as recorded), ``device``, ``threads`` (torch threads for
the run), ``result_path`` and ``checkpoint_path``; the notebook trains (resuming from
``checkpoint_path`` if it exists) and ends with :func:`write_result`. Runs whose result
file is complete (or diverged) are skipped; a missing, corrupt or failed result is
redone. Results are ``data/results/<experiment>/<run_id>.json``, written atomically.

Checkpoints are ``data/cache/checkpoints/<experiment>/<run_id>-<key>.pt``, where ``key``
hashes the run's parameters and the notebook's source, so that a run never resumes a
checkpoint trained under other settings (such checkpoints are moved to ``stale/``). A
per-run lock (``data/cache/locks/<experiment>/<run_id>.lock``) lets several runners
share one grid.

Modules, one idea each:

- :mod:`~spectral.experiments.paths` — the project folder (``PROJECT``), notebooks,
  profiles and default folders
- :mod:`~spectral.experiments.parameters` — a notebook's parameters, ``-p`` overrides
- :mod:`~spectral.experiments.grid` — runs, their ids and files, :func:`expand`
- :mod:`~spectral.experiments.records` — result files: :func:`write_result`,
  :func:`result_status`, :func:`load_results`
- :mod:`~spectral.experiments.provenance` — git revision, versions, device of a result
- :mod:`~spectral.experiments.reports` — :func:`report`, mean ± std per configuration
- :mod:`~spectral.experiments.slots` — device slots and threads per run
- :mod:`~spectral.experiments.claims` — a run's lock and stale checkpoints
- :mod:`~spectral.experiments.execute` — one run in-process through papermill
- :mod:`~spectral.experiments.local` — the local executor: a subprocess per run, Ctrl-C
- :mod:`~spectral.experiments.jobs` — the submitit executors (SLURM, submitit-local)
- :mod:`~spectral.experiments.messages` — the lines that report runs
- :mod:`~spectral.experiments.runner` — :func:`run_experiment`
- :mod:`~spectral.experiments.dryrun` — :func:`describe`, the dry run and its ETA
- :mod:`~spectral.experiments.errors` — :class:`ExperimentError`, :class:`Interrupted`

``PROJECT`` here always reads ``spectral.experiments.paths.PROJECT``, the one
variable every module consults; set that one to move the project (the
``SPECTRAL_PROJECT`` environment variable sets it at import, also in the runs'
subprocesses).
"""

from __future__ import annotations

from spectral.experiments import paths
from spectral.experiments.budget import NOT_STARTED, parse_budget
from spectral.experiments.claims import RUNNING_ELSEWHERE
from spectral.experiments.dryrun import describe
from spectral.experiments.errors import ExperimentError, Interrupted
from spectral.experiments.execute import execute_spec
from spectral.experiments.grid import Run, expand
from spectral.experiments.parameters import RESERVED, notebook_parameters, parse_overrides
from spectral.experiments.records import FINISHED, load_results, result_status, write_result
from spectral.experiments.reports import report
from spectral.experiments.runner import run_experiment
from spectral.experiments.slots import DEFAULT_CPU_DEVICES

__all__ = [
    "DEFAULT_CPU_DEVICES",
    "FINISHED",
    "NOT_STARTED",
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
    "parse_budget",
    "parse_overrides",
    "report",
    "result_status",
    "run_experiment",
    "write_result",
]


def __getattr__(name: str):
    """``PROJECT``: the current :data:`spectral.experiments.paths.PROJECT`."""
    if name == "PROJECT":
        return paths.PROJECT
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
