"""The local executor: one subprocess per run, as many at once as device slots, Ctrl-C.

Each run executes in ``python -m spectral _execute SPEC`` (see
:func:`spectral.experiments.execute.execute_spec`), in a session of its own so that a
terminal's Ctrl-C reaches this runner only; the runner then interrupts every running
kernel once, waits for them (a second Ctrl-C kills them) and raises
:class:`~spectral.experiments.errors.Interrupted` saying what finished and what was
stopped. The runs' output lines go to ``log``, with ``[run_id]`` first when several
slots run at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import wait as wait_futures
from queue import Queue

from spectral.experiments import paths
from spectral.experiments.budget import NOT_STARTED
from spectral.experiments.claims import retire_stale_checkpoints, run_claimed
from spectral.experiments.errors import Interrupted
from spectral.experiments.execute import record_failure
from spectral.experiments.messages import count, outcome
from spectral.experiments.records import STATUSES, result_status
from spectral.experiments.slots import threads_per_slot

__all__ = ["run_local"]

_INTERRUPTED = "interrupted"


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
        """Drop ``run_id``'s process, which has ended."""
        with self._lock:
            self._procs.pop(run_id, None)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to every running child and start no more."""
        with self._lock:
            self.stopping = True
            procs = list(self._procs.values())
        for proc in procs:
            try:
                proc.send_signal(signum)
            except ProcessLookupError:
                pass


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
    project = paths.project()
    proc = children.start(
        run.run_id,
        [sys.executable, "-m", "spectral", "_execute", json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=project,
        env=os.environ | {"SPECTRAL_PROJECT": str(project), "PYTHONUNBUFFERED": "1"},
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
        record_failure(
            run, device, results, cache, f"the run's process exited with code {code}: {last}"
        )
    return result_status(run.result_path(results))


def _local_run(
    run, slots: Queue, threads, results, cache, children, log, prefix, budget
) -> str | None:
    """Take a device slot and the run's lock, retire stale checkpoints, execute (unless
    the ``budget``, if any, says the run cannot finish in time: :data:`NOT_STARTED`)."""
    device = slots.get()

    def start() -> str | None:
        if children.stopping:
            return None
        if budget is not None:
            admitted, line = budget.admits(run, device)
            if line:
                log(line)
            if not admitted:
                return NOT_STARTED
        retire_stale_checkpoints(run, cache, log)
        log(f"start {run.run_id} on {device} ({threads} threads)")
        return _spawn(run, device, threads, results, cache, children, log, prefix)

    try:
        return run_claimed(run, results, cache, start)
    finally:
        slots.put(device)


def _stop(futures: dict, children: _Children, pool: ThreadPoolExecutor, cache) -> str:
    """After Ctrl-C: interrupt the running kernels, wait for them, say what happened."""
    pool.shutdown(wait=False, cancel_futures=True)
    children.signal(signal.SIGINT)
    try:
        wait_futures(futures)
    except KeyboardInterrupt:  # a second Ctrl-C: do not wait for the kernels' clean exit
        children.signal(signal.SIGKILL)
        wait_futures(futures)
    done = [(futures[f], f.result()) for f in futures if not f.cancelled() and not f.exception()]
    finished = sum(s in STATUSES for _, s in done)
    stopped = [
        f"{r.run_id} stopped ("
        f"{'checkpoint kept' if r.checkpoint_path(cache).exists() else 'no checkpoint yet'})"
        for r, s in done
        if s == _INTERRUPTED
    ]
    return f"interrupted: {count(finished)} finished, {', '.join(stopped) or 'none was running'}"


def run_local(pending, devices, results, cache, log, bar, budget=None) -> dict[str, str]:
    """Execute ``pending`` in subprocesses, one per device slot at a time; run id → status.

    Each outcome goes to ``log`` and advances the progress ``bar``. With a
    :class:`~spectral.experiments.budget.Budget`, a run that cannot finish in it is not
    started (:data:`~spectral.experiments.budget.NOT_STARTED`).

    Raises
    ------
    Interrupted
        On Ctrl-C, once the running kernels have stopped (their checkpoints kept).
    """
    slots: Queue = Queue()
    for device in devices:
        slots.put(device)
    children = _Children()
    threads = threads_per_slot(devices)
    args = (slots, threads, results, cache, children, log, len(devices) > 1, budget)
    out, futures = {}, {}
    pool = ThreadPoolExecutor(max_workers=len(devices))
    try:
        for run in pending:
            futures[pool.submit(_local_run, run, *args)] = run
        for future in as_completed(futures):
            run = futures[future]
            out[run.run_id] = future.result()
            log(outcome(run, out[run.run_id], results))
            bar.update()
    except KeyboardInterrupt:
        raise Interrupted(_stop(futures, children, pool, cache)) from None
    pool.shutdown()
    return out
