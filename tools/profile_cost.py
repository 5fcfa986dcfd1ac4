"""Measure what a profile costs on this machine and record it in the profile.

Usage: ``.venv/bin/python tools/profile_cost.py EXPERIMENT PROFILE [--threads T]``

Runs the profile's first grid point for one epoch (constant learning rate; same data,
model, batch size and fast path), through the experiment notebook as the runner would,
and writes into ``notebooks/experiments/EXPERIMENT.json`` under the profile a ``cost``
entry: the measured seconds per epoch and of set-up, the estimated hours per run
(``epochs`` epochs) and per grid (all runs one at a time with ``T`` threads), the date,
the machine and the thread count. Never run it on a profile whose runs are in flight.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import jupytext
import papermill

from spectral.experiments import PROJECT, expand


def measure(experiment: str, profile: str, threads: int) -> dict:
    runs = expand(experiment, profile)
    run = runs[0]
    load = os.getloadavg()[0]
    params = dict(run.params) | {"epochs": 1, "schedule": "constant", "milestones": []}
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        papermill.execute_notebook(
            jupytext.read(PROJECT / "notebooks" / "experiments" / f"{experiment}.py"),
            str(Path(folder) / "out.ipynb"),
            parameters=params | {
                "experiment": experiment, "run_id": "cost", "run_params": params,
                "threads": threads, "result_path": str(result),
                "checkpoint_path": str(Path(folder) / "run.pt"),
            },
            kernel_name="python3", language="python", cwd=str(PROJECT), progress_bar=False,
        )
        record = json.loads(result.read_text())
    load_end = os.getloadavg()[0]
    epoch_s = record["metrics"][0]["epoch_time_s"]
    setup_s = record["wall_time_s"] - epoch_s
    epochs = run.params["epochs"]
    run_h = (setup_s + epochs * epoch_s) / 3600
    return {
        "epoch_s": round(epoch_s, 1),
        "setup_s": round(setup_s, 1),
        "run_h": round(run_h, 2),
        "runs": len(runs),
        "grid_h": round(run_h * len(runs), 1),
        "measured": f"{time.strftime('%Y-%m-%d')}, {platform.machine()} CPU, {threads} threads, "
                    f"one run at a time, point {run.run_id}, load average {load:.1f} at start, "
                    f"{load_end:.1f} at the end (a load above the thread count inflates "
                    "the times)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment")
    parser.add_argument("profile")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    cost = measure(args.experiment, args.profile, args.threads)
    path = PROJECT / "notebooks" / "experiments" / f"{args.experiment}.json"
    spec = json.loads(path.read_text())
    spec["profiles"][args.profile]["cost"] = cost
    path.write_text(json.dumps(spec, indent=1) + "\n")
    print(args.experiment, args.profile, cost)


if __name__ == "__main__":
    main()
