"""One run in this process: its notebook through papermill, or a ``failed`` result.

papermill injects the run's parameters plus ``experiment``, ``run_id``, ``run_params``
(the parameters as recorded), ``device``, ``threads``, ``result_path`` and
``checkpoint_path``; the notebook trains (resuming from ``checkpoint_path`` if it
exists) and ends with :func:`spectral.experiments.write_result`. papermill's warnings
about passed parameters that a notebook's ``parameters`` cell does not list are dropped
for the names that are expected there: the shared settings of
:meth:`spectral.recipe.StandardRun.parameters` and the runner's own
(:data:`~spectral.experiments.parameters.RESERVED`); any other warning stays.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spectral.experiments import paths
from spectral.experiments.grid import Run
from spectral.experiments.parameters import RESERVED
from spectral.experiments.records import FINISHED, result_status, write_result

__all__ = [
    "execute_spec",
    "expected_parameters_quiet",
    "last_line",
    "record_failure",
    "run_notebook",
]

_UNKNOWN = "Passed unknown parameter: "


def last_line(error: BaseException) -> str:
    """``Type: message`` of ``error``'s last non-blank line (a notebook error's own)."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        return f"{error.ename}: {error.evalue}"
    lines = [line for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1]}" if lines else type(error).__name__


def record_failure(run: Run, device: str, results: Path, cache: Path, error: str, **extra):
    """Write a ``failed`` result for ``run`` unless a finished one is there already.

    Its ``extra`` holds ``error``, the executed ``notebook`` and the keywords ``extra``.
    """
    path = run.result_path(results)
    if result_status(path) in FINISHED:
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


def _injected(run: Run, device: str, threads: int, results: Path, cache: Path) -> dict:
    return run.params | {
        "experiment": run.experiment,
        "run_id": run.run_id,
        "run_params": run.params,
        "device": device,
        "threads": threads,
        "result_path": str(run.result_path(results)),
        "checkpoint_path": str(run.checkpoint_path(cache)),
    }


@functools.cache
def _expected() -> frozenset[str]:
    """The names every run may pass though its notebook's cell omits them."""
    from spectral.recipe import StandardRun

    return frozenset(StandardRun.parameters()) | frozenset(RESERVED)


def _worth_showing(record: logging.LogRecord) -> bool:
    """``False`` for papermill's warning that an expected name is not in the cell."""
    message = record.getMessage()
    name = message.removeprefix(_UNKNOWN)
    return name == message or name not in _expected()


@contextmanager
def expected_parameters_quiet() -> Iterator[None]:
    """Drop papermill's "Passed unknown parameter" warnings for shared and runner names."""
    logger = logging.getLogger("papermill")
    logger.addFilter(_worth_showing)
    try:
        yield
    finally:
        logger.removeFilter(_worth_showing)


def run_notebook(run: Run, device: str, threads: int, results: Path, cache: Path) -> str | None:
    """Run the notebook in this process; record a failure; return the result status.

    The kernel's stdout and stderr are copied to this process's as they arrive. A
    KeyboardInterrupt (here or in the kernel) propagates; nothing is recorded then.
    """
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    def fail(error: str, **extra) -> None:
        record_failure(run, device, results, cache, error, **extra)

    output = run.notebook_path(cache)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with expected_parameters_quiet():
            papermill.execute_notebook(
                jupytext.read(paths.notebook(run.experiment)),
                str(output),
                parameters=_injected(run, device, threads, results, cache),
                kernel_name="python3",
                language="python",
                cwd=str(paths.project()),
                progress_bar=False,
                stdout_file=sys.stdout,
                stderr_file=sys.stderr,
            )
    except PapermillExecutionError as error:
        if error.ename == "KeyboardInterrupt":
            raise KeyboardInterrupt from error
        fail(last_line(error), traceback="".join(error.traceback)[-4000:])
    except Exception as error:  # the kernel died, the notebook is broken: record, go on
        fail(last_line(error), traceback=traceback.format_exc(limit=3)[-4000:])
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
    try:
        run_notebook(
            Run(**spec["run"]),
            spec["device"],
            spec["threads"],
            Path(spec["results"]),
            Path(spec["cache"]),
        )
    except KeyboardInterrupt:
        return 130
    return 0
