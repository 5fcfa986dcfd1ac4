"""An experiment's results as a table: run counts by status, mean ± std per configuration."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from spectral.experiments.records import STATUSES, load_results

__all__ = ["report"]


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

    Raises
    ------
    FileNotFoundError
        If ``experiment`` has no valid result in ``results``.
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
    counts = {s: ("status", lambda col, s=s: int((col == s).sum())) for s in STATUSES}
    table = grouped.agg(runs=("status", "size"), **counts)
    for m in metrics:
        table[f"{m}_mean"] = grouped[m].mean()
        table[f"{m}_std"] = grouped[m].std(ddof=1)
    return table
