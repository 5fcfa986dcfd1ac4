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
* :func:`in_own_basis`, :func:`own_basis_table` and :func:`updates_verdict`: Fig. 3b and
  3c read in the basis each run was trained in (Fig. 3b's verdict is
  :func:`spectral.results.compaction_verdict`).
* :func:`full_data_runs` (the campaign's runs, or until it has run the pilot's runs at
  each basis's chosen rate) and :func:`verdicts`, the three questions of page R3, which
  chapter 05 quotes too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spectral.experiments import FINISHED
from spectral.results import compaction_verdict, pilot_choice, speedup, speedup_verdict

__all__ = [
    "BASES",
    "COMPARISONS",
    "NET_NAMES",
    "PAPER_SPEEDUP",
    "FullData",
    "cell_name",
    "direction_verdict",
    "error_curve",
    "full_data_runs",
    "in_own_basis",
    "needs_another_seed",
    "own_basis_table",
    "speedup_table",
    "updates_verdict",
    "verdicts",
]

#: The bases a run's filters can be trained in (``param`` of the experiment).
BASES = ("spatial", "spectral", "random")
#: Speed-up of spectral over spatial filters per net and filter size (Rippel et al., Fig. 5b).
PAPER_SPEEDUP = {("rippel_deep", 3): 2.2, ("rippel_deep", 5): 4.8, ("rippel_generic", 3): 2.2,
                 ("rippel_generic", 5): 5.1, ("rippel_spectral_pool_net", 3): 2.4,
                 ("rippel_spectral_pool_net", 5): 4.8}
#: The paper's names of its nets (5)-(7).
NET_NAMES = {"rippel_deep": "Deep (7)", "rippel_generic": "Generic (6)",
             "rippel_spectral_pool_net": "Sp. Pooling (5)"}

#: ``(comparison, reference)`` pairs of bases: is the first faster than the second?
COMPARISONS = (("spectral", "spatial"), ("random", "spatial"), ("spectral", "random"))


def cell_name(model: str, kernel_size: int) -> str:
    """``Generic (6) 5×5``: a net and filter size as the paper names them."""
    return f"{NET_NAMES.get(model, model)} {kernel_size}×{kernel_size}"


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
        if record["status"] not in FINISHED:
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


def own_basis_table(records: Iterable[Mapping], prefix: str, *, epoch: int = 10) -> pd.DataFrame:
    """:func:`in_own_basis` of every record: columns ``model``, ``kernel_size``,
    ``basis``, ``seed`` and ``value``."""
    return pd.DataFrame(
        [{"model": r["params"]["model"], "kernel_size": r["params"]["kernel_size"],
          "basis": r["params"]["param"], "seed": r["params"]["seed"],
          "value": in_own_basis(r, prefix, epoch=epoch)} for r in records],
        columns=["model", "kernel_size", "basis", "seed", "value"],
    )


@dataclass(frozen=True)
class FullData:
    """The runs that answer page R3's questions at full data (:func:`full_data_runs`)."""

    runs: list
    #: True while they are the pilot's runs (one seed, 10 epochs), not the campaign's.
    provisional: bool
    #: basis -> the learning rate the pilot chose for it.
    rates: dict


def full_data_runs(pilot: Sequence[Mapping], campaign: Sequence[Mapping]) -> FullData:
    """The campaign's finished runs; until there are any, the pilot's runs at each
    basis's chosen rate (:func:`spectral.results.pilot_choice`, ties to the smaller rate).

    Parameters
    ----------
    pilot, campaign : sequence of result records
        The ``pilot`` and ``campaign`` profiles' records; only complete or diverged ones
        count.
    """
    usable = [r for r in pilot if r["status"] in FINISHED]
    rates = {}
    for basis in BASES:
        mine = [r for r in usable if r["params"]["param"] == basis]
        if mine:
            rates[basis] = pilot_choice(mine, "lr", prefer="smaller").value
    done = [r for r in campaign if r["status"] in FINISHED]
    if done:
        return FullData(done, False, rates)
    chosen = [r for r in usable if r["params"]["lr"] == rates[r["params"]["param"]]]
    return FullData(chosen, True, rates)


def _mean(table: pd.DataFrame, basis: str) -> float:
    values = table.value[table.basis == basis]
    return float(values.mean()) if len(values) else math.nan


def verdicts(data: FullData) -> dict[str, str]:
    """Page R3's three verdicts at full data, from :func:`full_data_runs`.

    Returns
    -------
    dict
        ``"a"``: does the spectral basis speed up Adam (per net and filter size,
        :func:`direction_verdict`, and against the paper's factors,
        :func:`spectral.results.speedup_verdict`)? ``"b"``: is it faster than a random
        rotation (and the rotation than the pixels)? ``"c"``: are trained filters sparser
        in the spectral basis (Fig. 3b, :func:`spectral.results.compaction_verdict`), and
        does Adam move fewer coordinates there (Fig. 3c, :func:`updates_verdict`)? Each
        starts with ``pending the campaign`` while the runs are the pilot's.
    """
    if not data.runs:
        return dict.fromkeys("abc", "untested: no runs")
    table = speedup_table(data.runs)
    cells = sorted({(r["params"]["model"], r["params"]["kernel_size"]) for r in data.runs})
    pending = "pending the campaign; provisional, one pilot seed: " if data.provisional else ""

    def direction(comparison: str, reference: str) -> str:
        parts = []
        for model, k in cells:
            rows = table[(table.comparison == comparison) & (table.reference == reference)
                         & (table.model == model) & (table.kernel_size == k)]
            parts.append(f"{cell_name(model, k)}: " + direction_verdict(
                rows.speedup.to_numpy(), comparison=comparison, reference=reference))
        return "; ".join(parts)

    spectral = table[(table.comparison == "spectral") & (table.reference == "spatial")]
    paper = [PAPER_SPEEDUP[c] for c in cells if c in PAPER_SPEEDUP]
    energy = own_basis_table(data.runs, "conv1_top25_energy")
    moved = own_basis_table(data.runs, "conv1_moved")
    return {
        "a": f"{pending}{direction('spectral', 'spatial')}; against the paper's factors, "
             + (speedup_verdict(spectral.speedup.to_numpy(), paper) if paper
                else "untested: no net of the paper"),
        "b": f"{pending}{direction('spectral', 'random')} (and "
             f"{direction('random', 'spatial')})",
        "c": f"{pending}Fig. 3b, "
             + compaction_verdict(_mean(energy, "spatial"), _mean(energy, "spectral"))
             + "; Fig. 3c, " + updates_verdict(_mean(moved, "spatial"), _mean(moved, "spectral")),
    }
