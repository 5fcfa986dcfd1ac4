"""Comparing the bases Adam trains filters in: the speed-up table and verdicts of page R3.

Rippel et al. (§3.3, §5.2, Fig. 5) train the same net with filters in the pixel basis
(``param="spatial"``) and in the orthonormal real DFT basis (``"spectral"``); the book
adds a fixed random rotation per layer (``"random"``,
:func:`spectral.parametrize.random_basis`) as the control that asks whether any
rotation, rather than the Fourier basis, helps Adam. Result records of the
``spectral_parameterization`` experiment carry, per epoch, the validation accuracy and
(:class:`spectral.callbacks.FilterSparsity`) the first layer's filter energy share and
fraction of coordinates moved, in each basis.

* :func:`speedup_table`: for every net, filter size and seed, the speed-up
  (:func:`spectral.results.speedup`) of one basis over another on the validation error.
* :func:`direction_verdict`: whether one basis is faster than another over the seeds;
  :func:`needs_another_seed`: the campaign's rule for adding a seed.
* :func:`in_own_basis` and :func:`updates_verdict`: Fig. 3b and 3c read in the basis each
  run was trained in (Fig. 3b's verdict is :func:`spectral.results.compaction_verdict`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from spectral.results import speedup

__all__ = [
    "COMPARISONS",
    "direction_verdict",
    "error_curve",
    "in_own_basis",
    "needs_another_seed",
    "speedup_table",
    "updates_verdict",
]

#: ``(comparison, reference)`` pairs of bases: is the first faster than the second?
COMPARISONS = (("spectral", "spatial"), ("random", "spatial"), ("spectral", "random"))
#: Records whose curves count: a diverged run's curve ends where it diverged.
_USABLE = ("complete", "diverged")


def error_curve(record: Mapping, metric: str = "val_accuracy") -> np.ndarray:
    """``1 − metric`` per epoch of a result record (epoch 1 first); NaN where missing."""
    return np.array([1 - m.get(metric, math.nan) for m in record["metrics"]], dtype=float)


def speedup_table(
    records: Iterable[Mapping],
    *,
    comparisons: Sequence[tuple[str, str]] = COMPARISONS,
    metric: str = "val_accuracy",
    cell: Sequence[str] = ("model", "kernel_size"),
) -> pd.DataFrame:
    """Speed-ups of one basis over another, per cell and seed.

    Records are matched by the parameters ``cell`` and ``seed``; ``param`` names the
    basis. For each ``(comparison, reference)`` pair of bases present for a cell and seed,
    one row: ``best_error`` (the reference run's lowest ``1 − metric``), ``t_reference``
    (its first epoch at that error), ``t_comparison`` (the comparison run's first epoch at
    or below it; ``<NA>`` if never), ``speedup`` (their ratio, NaN if never reached),
    ``epochs`` (how many epochs the reference ran) and ``stopped_early`` (whether it
    stopped before its ``epochs`` budget, i.e. its error had plateaued under
    ``TrainConfig.patience``). Only complete or diverged records count.

    Parameters
    ----------
    records : iterable of mapping
        Result records (``params``, ``status``, ``metrics``).
    comparisons : sequence of (str, str)
        Pairs of bases, comparison first.
    metric : str
        The per-epoch accuracy whose error is matched (Rippel et al. use the test error;
        the book's full-data runs use the validation error and keep the test set for the
        final numbers).
    cell : sequence of str
        The parameters that name a cell (a net and filter size).

    Returns
    -------
    pandas.DataFrame
        One row per cell, seed and pair: the ``cell`` columns, ``seed``, ``comparison``,
        ``reference`` and the columns above; sorted by cell, pair and seed.

    Raises
    ------
    ValueError
        If two usable records share a cell, seed and basis.
    """
    runs: dict[tuple, Mapping] = {}
    for record in records:
        if record["status"] not in _USABLE:
            continue
        p = record["params"]
        key = (*(p[c] for c in cell), p["seed"], p["param"])
        if key in runs:
            raise ValueError(
                f"two records for {dict(zip([*cell, 'seed', 'param'], key, strict=True))}: "
                f"{runs[key]['run_id']} and {record['run_id']}; pass one profile's records"
            )
        runs[key] = record
    rows = []
    for key in sorted({k[:-1] for k in runs}):
        for order, (comparison, reference) in enumerate(comparisons):
            a, b = runs.get((*key, comparison)), runs.get((*key, reference))
            if a is None or b is None:
                continue
            s = speedup(error_curve(b, metric), error_curve(a, metric))
            epochs = len(b["metrics"])
            rows.append({
                **dict(zip(cell, key[:-1], strict=True)), "seed": key[-1],
                "comparison": comparison, "reference": reference, "order": order,
                "best_error": s.best, "t_reference": s.t_reference,
                "t_comparison": s.t_comparison, "speedup": s.factor, "epochs": epochs,
                "stopped_early": epochs < b["params"].get("epochs", epochs),
            })
    columns = [*cell, "seed", "comparison", "reference", "order", "best_error", "t_reference",
               "t_comparison", "speedup", "epochs", "stopped_early"]
    table = pd.DataFrame(rows, columns=columns)
    table["t_comparison"] = table["t_comparison"].astype("Int64")
    table["speedup"] = table["speedup"].astype(float)
    return (table.sort_values([*cell, "order", "seed"]).drop(columns="order")
            .reset_index(drop=True))


def _signs(factors: Sequence[float]) -> np.ndarray:
    """The sign of ``log(factor)`` per factor; a NaN factor (never reached) counts as −1."""
    f = np.asarray(factors, dtype=float)
    return np.where(np.isnan(f), -1.0, np.sign(np.log(np.where(np.isnan(f), 1.0, f))))


def needs_another_seed(factors: Sequence[float]) -> bool:
    """The campaign's rule for a third seed: the seeds' speed-ups disagree on the sign of
    ``log(speed-up)`` (faster, equal, slower; never reached counts as slower)."""
    return len(set(_signs(factors))) > 1


def direction_verdict(factors: Sequence[float], *, comparison: str, reference: str) -> str:
    """Whether basis ``comparison`` reaches ``reference``'s best error sooner, over seeds.

    ``factors`` are per-seed speed-ups of ``comparison`` over ``reference`` (NaN: never
    reached, counted as slower). With fewer than two seeds the question is untested; with
    every seed on the same side of 1 the direction is consistent (``faster`` or
    ``slower``); otherwise the seeds disagree and the direction is undecided.
    """
    f = np.asarray(factors, dtype=float)
    shown = ", ".join("never" if np.isnan(x) else f"{x:.2f}" for x in f)
    if len(f) < 2:
        return (f"untested: {len(f)} seed{'s' if len(f) != 1 else ''}"
                + (f" ({comparison} over {reference}: {shown})" if len(f) else ""))
    signs = set(_signs(f))
    if signs == {1.0}:
        word = f"{comparison} faster than {reference} in all {len(f)} seeds"
    elif signs == {-1.0}:
        word = f"{comparison} slower than {reference} in all {len(f)} seeds"
    elif signs == {0.0}:
        word = f"{comparison} and {reference} equally fast in all {len(f)} seeds"
    else:
        word = f"undecided: the {len(f)} seeds disagree"
    return f"{word} (speed-ups {shown})"


def in_own_basis(record: Mapping, prefix: str, *, epoch: int = 10) -> float:
    """A first-layer measure of a run in the basis it was trained in, at ``epoch``.

    Reads ``f"{prefix}_{param}"`` (e.g. ``conv1_top25_energy_spectral`` for a spectral
    run) from the metrics of ``epoch`` (Rippel et al.'s Fig. 3 histograms are taken after
    10 epochs), or of the last epoch if the run is shorter; NaN if it is not recorded.
    """
    metrics = record["metrics"]
    if not metrics:
        return math.nan
    row = next((m for m in metrics if m.get("epoch") == epoch), metrics[-1])
    return float(row.get(f"{prefix}_{record['params']['param']}", math.nan))


def updates_verdict(pixel: float, spectral: float, *, margin: float = 0.05) -> str:
    """Rippel et al.'s Fig. 3c claim ("in the spectral parametrization considerably fewer
    parameters are updated") tested on one pair of fractions: the share of coordinates
    Adam moves materially per epoch, in the basis each run is trained in
    (:func:`in_own_basis` of ``conv1_moved``). A difference of at most ``margin``
    (default 5 points) counts as none."""
    d = spectral - pixel
    if not math.isfinite(d):
        return "untested: the fraction of coordinates moved is not recorded"
    if d < -margin:
        return f"fewer coordinates moved in the spectral basis ({d:+.3f}), as the paper says"
    if d > margin:
        return f"more coordinates moved in the spectral basis ({d:+.3f}), against the paper"
    return f"no difference beyond ±{margin:g} ({d:+.3f}): the paper's 'fewer' is not seen"
