"""Maximum Gain curves (Stamatescu & McDonnell §IV): their measures, page R6's tables and
the paper's four rules, decided from result records.

* **Measures of one curve**: :func:`variability` (back-and-forth beyond the net change),
  :func:`curvature`, :func:`slope`, :func:`fraction_up`, :func:`spearman`,
  :func:`plateau_epoch`, :func:`overfit_index`.
* **Tables of a learning-rate sweep** (page R6): :func:`gain_curves` (one row per run
  and epoch, the rate as a factor of the base rate, :func:`factor_label`),
  :func:`gain_run_table`, :func:`curve_measures`, :func:`schedule_measures`,
  :func:`mnist_observations`; :func:`lr_factors` and :func:`run_at` select from them.
* **The four rules** of §IV-C1 (:data:`RULES`), each tested on a sweep by
  :func:`rule_1` … :func:`rule_4` (:func:`rule_verdicts`: all four),
  :func:`rule_consistency` over several sweeps, and the page's other statements about a
  sweep (:func:`sweep_findings`).

The recorded curves come from :class:`spectral.gain.MaxGainTracker`. Needs pandas (the
``book`` extra).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from spectral.results import _as_float, epoch_table

__all__ = [
    "RULES",
    "curvature",
    "curve_measures",
    "factor_label",
    "fraction_up",
    "gain_curves",
    "gain_run_table",
    "lr_factors",
    "mnist_observations",
    "overfit_index",
    "plateau_epoch",
    "rule_1",
    "rule_2",
    "rule_3",
    "rule_4",
    "rule_consistency",
    "rule_verdicts",
    "run_at",
    "schedule_measures",
    "slope",
    "spearman",
    "sweep_findings",
    "variability",
]


# --- measures of one curve ------------------------------------------------------


def variability(g: Sequence[float]) -> float:
    """Back-and-forth per epoch: the total variation beyond the net change.

    ``(Σ|g_{e+1} − g_e| − |g_n − g_1|) / (n − 1)``: zero for every monotone curve; NaN
    for fewer than two values.
    """
    g = np.asarray(g, dtype=float)
    if len(g) < 2:
        return math.nan
    return float((np.abs(np.diff(g)).sum() - abs(g[-1] - g[0])) / (len(g) - 1))


def curvature(g: Sequence[float]) -> float:
    """Mean absolute second difference ``|g_{e+1} − 2g_e + g_{e−1}|`` (NaN below 3 values)."""
    g = np.asarray(g, dtype=float)
    return float(np.abs(np.diff(g, 2)).mean()) if len(g) >= 3 else math.nan


def slope(y: Sequence[float]) -> float:
    """Least-squares slope of ``y`` per step (NaN below 2 values)."""
    y = np.asarray(y, dtype=float)
    return float(np.polyfit(np.arange(len(y)), y, 1)[0]) if len(y) >= 2 else math.nan


def fraction_up(g: Sequence[float]) -> float:
    """The fraction of steps in which ``g`` increased."""
    return float((np.diff(np.asarray(g, dtype=float)) > 0).mean())


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get their mean rank)."""
    ranks_a, ranks_b = pd.Series(a).rank(), pd.Series(b).rank()
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def plateau_epoch(
    g: Sequence[float],
    epochs: Sequence[int] | None = None,
    *,
    tolerance: float = 1.0,
    window: int = 5,
) -> int | None:
    """The first epoch from which ``g`` stays within ``tolerance`` of its final level.

    The level is the median of the last ``window`` values; ``epochs`` names the epochs
    (default 1, 2, …). None if even the last value is farther than ``tolerance``.
    """
    g = np.asarray(g, dtype=float)
    epochs = np.arange(1, len(g) + 1) if epochs is None else np.asarray(epochs)
    inside = np.abs(g - np.median(g[-window:])) <= tolerance
    first = next((i for i in range(len(g)) if inside[i:].all()), None)
    return None if first is None else int(epochs[first])


def overfit_index(
    val_loss: Sequence[float], train_loss: Sequence[float], *, rise: float = 0.10
) -> int | None:
    """Index of the validation-loss minimum if the run overfits there, else None.

    Overfits: the minimum is before the last two epochs, the validation loss ends at
    least ``rise`` (10 %) above it, and the training loss ends below its value there.
    """
    v, t = np.asarray(val_loss, dtype=float), np.asarray(train_loss, dtype=float)
    i = int(np.argmin(v))
    if i < len(v) - 2 and v[-1] >= (1 + rise) * v[i] and t[-1] < t[i]:
        return i
    return None


# --- Maximum Gain tables (page R6) ---------------------------------------------------------


def factor_label(factor: float) -> str:
    """``×2`` for a learning rate twice the base rate, ``×1/3`` for a third of it."""
    return f"×{factor:.0f}" if factor >= 1 else f"×1/{1 / factor:.0f}"


def gain_curves(runs: Sequence[Mapping], base: float) -> pd.DataFrame:
    """One row per (run, epoch) of Maximum Gain runs; epoch 0 holds the gain at init.

    Columns: the metrics, ``lr`` and ``seed`` (parameters), ``factor`` (``lr / base``),
    ``train_error`` and ``val_error`` (%, from the accuracies), ``val_loss`` (the
    ``test_loss``: the test split is the validation set, as in the paper).
    """
    frames = []
    for r in runs:
        init = r["final"].get("init", {})
        zero = {"epoch": 0, "max_gain": init.get("max_gain")}
        zero["max_gain_logit"] = init.get("max_gain_logit")
        epochs = epoch_table([r], params=(), metrics=None).drop(columns=["run_id", "status"])
        m = pd.concat([pd.DataFrame([zero]), epochs], ignore_index=True)
        m = _as_float(m, ["max_gain", "max_gain_logit"])
        m["lr"] = r["params"]["lr"]
        m["seed"] = r["params"]["seed"]
        m["factor"] = r["params"]["lr"] / base
        m["train_error"] = 100 * (1 - m["train_accuracy"])
        m["val_error"] = 100 * (1 - m["test_accuracy"])
        frames.append(m.rename(columns={"test_loss": "val_loss"}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def lr_factors(table: pd.DataFrame) -> list[float]:
    """The learning-rate factors of :func:`gain_curves`' table, ascending."""
    return sorted({float(x) for x in table.get("factor", [])})


def run_at(table: pd.DataFrame, factor: float) -> pd.DataFrame | None:
    """The trained epochs (1, 2, …) of the run at ``factor`` × the base rate, if any."""
    if table.empty:
        return None
    run = table[np.isclose(table["factor"], factor) & (table["epoch"] >= 1)]
    return run.reset_index(drop=True) if len(run) else None


def _median_tracker_share(metrics: Sequence[Mapping]) -> float:
    tracker_s = [x.get("max_gain_time_s", 0) + x.get("max_gain_logit_time_s", 0) for x in metrics]
    epoch_s = [x["epoch_time_s"] for x in metrics]
    return 100 * float(np.median(np.array(tracker_s) / epoch_s))


def _accuracy(x: Mapping, default: float) -> float:
    value = x.get("test_accuracy", default)
    return default if value is None else value


def gain_run_table(runs: Sequence[Mapping], base: float) -> pd.DataFrame:
    """Final numbers of Maximum Gain runs, one row per learning rate (the index).

    Errors in %, gains in dB; ``tracker % of epoch`` is the median share of an epoch's
    time spent measuring the Maximum Gain.
    """
    rows = []
    for r in runs:
        m = r["metrics"]
        last = m[-1]
        rows.append(
            {
                "lr": r["params"]["lr"],
                "factor": factor_label(r["params"]["lr"] / base),
                "status": r["status"],
                "epochs": len(m),
                "train loss": last["train_loss"],
                "val loss": last.get("test_loss"),
                "val error %": 100 * (1 - _accuracy(last, np.nan)),
                "best val error %": 100 * (1 - max(_accuracy(x, 0) for x in m)),
                "init gain dB": r["final"].get("init", {}).get("max_gain"),
                "final gain dB": last.get("max_gain"),
                "median epoch s": float(np.median([x["epoch_time_s"] for x in m])),
                "tracker % of epoch": _median_tracker_share(m),
            }
        )
    return _as_float(pd.DataFrame(rows), ["val loss", "init gain dB", "final gain dB"]).set_index(
        "lr"
    )


def _quiet_non_finite(function: Callable) -> Callable:
    """``function`` without numpy's warnings on a −∞ or NaN gain (the measure is then NaN)."""

    @functools.wraps(function)
    def quiet(*args, **kwargs):
        with np.errstate(invalid="ignore", divide="ignore"):
            return function(*args, **kwargs)

    return quiet


@_quiet_non_finite
def curve_measures(table: pd.DataFrame) -> pd.DataFrame:
    """The measures behind the rules, one row per learning-rate factor of a sweep."""
    rows = []
    for f in lr_factors(table):
        run = run_at(table, f)
        g = run["max_gain"].to_numpy()
        half = len(g) // 2
        i = overfit_index(run["val_loss"], run["train_loss"])
        rows.append(
            {
                "factor": factor_label(f),
                "variability dB/epoch": variability(g),
                "2nd-difference dB": curvature(g),
                "largest drop dB": float(-np.diff(g).min()),
                "epoch of largest drop": int(run["epoch"][int(np.argmin(np.diff(g))) + 1]),
                "slope dB/epoch": slope(g),
                "fraction up": fraction_up(g),
                "slope 1st half": slope(g[:half]),
                "slope 2nd half": slope(g[half:]),
                "overfits after epoch": None if i is None else int(run["epoch"][i]),
                "ρ(gain, −val loss)": spearman(g, -run["val_loss"].to_numpy()),
            }
        )
    return pd.DataFrame(rows).set_index("factor") if rows else pd.DataFrame()


def _variability_around(g: np.ndarray, i: int | None) -> tuple[float, float]:
    """Variability up to and from index ``i`` (NaN where fewer than 3 epochs remain)."""
    before = variability(g[: i + 1]) if i is not None and i >= 3 else math.nan
    after = variability(g[i:]) if i is not None and len(g) - i >= 3 else math.nan
    return before, after


@_quiet_non_finite
def schedule_measures(table: pd.DataFrame, milestone: int | None = None) -> pd.DataFrame:
    """:func:`curve_measures`' kind for runs that can collapse, or whose lr steps.

    Adds what a collapsing run shows: epochs whose gain is not finite (−∞ dB: the data
    derivative is zero; NaN/``null`` in the file), the logit gain and impulse score, and
    the variability up to and from the validation-loss minimum. With a ``milestone``
    (the learning rate steps after that epoch), also the variability before and after it.
    """
    rows = []
    for f in lr_factors(table):
        m = run_at(table, f)
        g = m["max_gain"].to_numpy()
        i = overfit_index(m["val_loss"], m["train_loss"])
        before, after = _variability_around(g, i)
        row = {
            "factor": factor_label(f),
            "epochs at −∞ dB": int((~np.isfinite(g)).sum()),
            "final gain dB": g[-1],
            "final logit gain dB": m["max_gain_logit"].iloc[-1],
            "final impulse score": m["max_gain_score"].iloc[-1],
            "final val error %": m["val_error"].iloc[-1],
            "best val error %": m["val_error"].min(),
            "variability dB/epoch": variability(g),
            "slope dB/epoch": slope(g),
            "fraction up": fraction_up(g),
            "overfits after epoch": None if i is None else int(m["epoch"][i]),
            "variability before / after": f"{before:.3g} / {after:.3g}",
        }
        if milestone is not None:
            last = int(m["epoch"].iloc[-1])
            row[f"variability epochs 1–{milestone} / {milestone + 1}–{last}"] = (
                f"{variability(g[:milestone]):.3g} / {variability(g[milestone:]):.3g}"
            )
        row["ρ(gain, −val loss)"] = spearman(g, -m["val_loss"].to_numpy())
        rows.append(row)
    return pd.DataFrame(rows).set_index("factor") if rows else pd.DataFrame()


def mnist_observations(table: pd.DataFrame) -> dict[str, str]:
    """The paper's four observations on its MNIST runs (§IV-A), measured on one sweep."""
    found = {}
    if (r1 := run_at(table, 1)) is not None:
        found["×1: the gain rises, then is flat after ~10 epochs"] = (
            f"plateau from epoch {plateau_epoch(r1['max_gain'], r1['epoch'])}"
        )
        found["×1: validation loss decreases up to epoch ~12, then flat"] = (
            f"validation loss lowest at epoch {int(r1['epoch'][r1['val_loss'].idxmin()])}"
        )
    if (r4 := run_at(table, 4)) is not None:
        i = int(r4["train_loss"].idxmin())
        found["×4: training and validation losses rise beyond epoch 7"] = (
            f"training loss lowest at epoch {int(r4['epoch'][i])}, final/lowest = "
            f"{r4['train_loss'].iloc[-1] / r4['train_loss'][i]:.2f}; validation loss lowest "
            f"at epoch {int(r4['epoch'][r4['val_loss'].idxmin()])}"
        )
    if r1 is not None and (r3 := run_at(table, 1 / 3)) is not None:
        better = r1["val_error"].iloc[-1] < r3["val_error"].iloc[-1]
        found["after 20 epochs lr 0.001 has a lower validation error than 0.001/3"] = (
            f"{'yes' if better else 'no'}: {r1['val_error'].iloc[-1]:.2f} % vs "
            f"{r3['val_error'].iloc[-1]:.2f} %"
        )
    return found


# --- the paper's four rules (Stamatescu & McDonnell §IV-C1) --------------------------------

#: The four rules, in the paper's order; the keys of :func:`rule_verdicts`.
RULES = (
    "Rule 1 (high variability ⇒ lr too high)",
    "Rule 2 (smooth rise ⇒ lr too low / train longer)",
    "Rule 3 (rise then flattening ⇒ converging)",
    "Rule 4 (flat then variable ⇒ overfitting)",
)


def _verdict(ok: bool | None, why: str) -> tuple[str, str]:
    return ("untested" if ok is None else "holds" if ok else "does not hold"), why


def _labels(factors: Iterable[float]) -> list[str]:
    return [factor_label(f) for f in factors]


def rule_1(table: pd.DataFrame) -> tuple[str, str]:
    """Variability grows with the lr over ×1…×4 (Spearman ρ > 0.5) and the most variable
    run ends with a worse validation loss than ×1. Runs with a non-finite gain are left
    out; fewer than 3 finite runs, or no ×1, leave the rule untested."""
    ran = [f for f in (1, 2, 3, 4) if run_at(table, f) is not None]
    collapsed = [f for f in ran if not np.isfinite(run_at(table, f)["max_gain"]).all()]
    high = [f for f in ran if f not in collapsed]
    left_out = (
        f"; left out, gain not finite at every epoch: {_labels(collapsed)}" if collapsed else ""
    )
    if len(high) < 3 or 1 not in high:
        return _verdict(None, "fewer than 3 of ×1…×4 ran, or ×1 missing" + left_out)
    v = [variability(run_at(table, f)["max_gain"]) for f in high]
    rho = spearman(high, v)
    most = high[int(np.argmax(v))]
    worse = most != 1 and (
        run_at(table, most)["val_loss"].iloc[-1] > run_at(table, 1)["val_loss"].iloc[-1]
    )
    return _verdict(
        rho > 0.5 and bool(worse),
        f"Spearman ρ(lr, variability) = {rho:.2f} over {_labels(high)}; most variable: "
        f"{factor_label(most)}, its final validation loss {'is' if worse else 'is not'} "
        "worse than the base rate's" + left_out,
    )


def rule_2(table: pd.DataFrame) -> tuple[str, str]:
    """The ×1/10 gain rises (positive slope, ≥ 60 % of epochs up) no more variably than
    ×1's, and its validation loss still falls over the last 5 epochs and ends above ×1's.
    The evidence also gives the verdict under the 2nd-difference measure."""
    base, low = run_at(table, 1), run_at(table, 1 / 10)
    if low is None or base is None:
        return _verdict(None, "×1/10 or ×1 missing")
    g, g1 = low["max_gain"].to_numpy(), base["max_gain"].to_numpy()
    rises = slope(g) > 0 and fraction_up(g) >= 0.6
    smooth = variability(g) <= variability(g1)
    val_tail = slope(low["val_loss"].to_numpy()[-5:])
    behind = low["val_loss"].iloc[-1] > base["val_loss"].iloc[-1]
    by_curvature = curvature(g) <= curvature(g1)
    return _verdict(
        bool(rises and smooth and val_tail < 0 and behind),
        f"×1/10: slope {slope(g):.3g} dB/epoch, {100 * fraction_up(g):.0f} % "
        f"of epochs up, variability {variability(g):.3g} vs base "
        f"{variability(g1):.3g} dB/epoch; validation loss slope over the last 5 "
        f"epochs {val_tail:.3g}, final {'above' if behind else 'not above'} base. "
        f"(With the 2nd-difference measure the ×1/10 curve is "
        f"{'as smooth as' if by_curvature else 'less smooth than'} the base rate's, "
        f"{curvature(g):.3g} vs {curvature(g1):.3g} dB, so the rule would "
        f"{'hold' if rises and by_curvature and val_tail < 0 and behind else 'not hold'}"
        ".)",
    )


def rule_3(table: pd.DataFrame) -> tuple[str, str]:
    """At ×1 the gain's slope over the first half is positive and at least twice that of
    the second half, and the validation loss flattens (second-half slope below a quarter
    of the first-half slope, in magnitude)."""
    base = run_at(table, 1)
    if base is None:
        return _verdict(None, "base rate missing")
    g, v = base["max_gain"].to_numpy(), base["val_loss"].to_numpy()
    half = len(g) // 2
    s1, s2 = slope(g[:half]), slope(g[half:])
    flat_gain = s1 > 0 and s1 >= 2 * abs(s2)
    flat_val = abs(slope(v[half:])) < 0.25 * abs(slope(v[:half]))
    return _verdict(
        bool(flat_gain and flat_val),
        f"base rate: gain slope {s1:.3g} → {s2:.3g} dB/epoch (first → second half); "
        f"validation loss slope {slope(v[:half]):.3g} → {slope(v[half:]):.3g} per "
        "epoch",
    )


def _variability_jump(g: np.ndarray, i: int) -> float:
    before, after = variability(g[: i + 1]), variability(g[i:])
    return after / before if before > 0 else (math.inf if after else 1.0)


def rule_4(table: pd.DataFrame) -> tuple[str, str]:
    """In every run that overfits (:func:`overfit_index`, at least 3 epochs from either
    end) the variability after the validation-loss minimum is ≥ 1.5 × that before it;
    untested if no run overfits."""
    jumps, checked = {}, []
    for f in lr_factors(table):
        run = run_at(table, f)
        i = overfit_index(run["val_loss"], run["train_loss"])
        g = run["max_gain"].to_numpy()
        if i is not None and i >= 3 and len(g) - i >= 3:
            jumps[factor_label(f)] = _variability_jump(g, i)
        checked.append(factor_label(f))
    if not jumps:
        return _verdict(
            None,
            f"no run among {checked} overfits by the definition above (or too close to an end)",
        )
    return _verdict(
        all(j >= 1.5 for j in jumps.values()),
        "variability after / before the validation-loss minimum: "
        + ", ".join(f"{k} {j:.2f}" for k, j in jumps.items()),
    )


_RULE_TESTS: tuple[Callable[[pd.DataFrame], tuple[str, str]], ...] = (
    rule_1,
    rule_2,
    rule_3,
    rule_4,
)


@_quiet_non_finite
def rule_verdicts(table: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Each rule of :data:`RULES` → (``holds``/``does not hold``/``untested``, evidence)."""
    return {rule: test(table) for rule, test in zip(RULES, _RULE_TESTS, strict=True)}


def rule_consistency(statuses: Sequence[str]) -> str:
    """Over several sweeps, how a rule of :func:`rule_verdicts` fares: ``holds in every
    tested sweep``, ``depends on the sweep`` (holds in some), ``holds in none`` or
    ``untested``; with the counts."""
    tested = [s for s in statuses if s != "untested"]
    untested = len(statuses) - len(tested)
    note = f" (untested in {untested})" if untested else ""
    if not tested:
        n = len(statuses)
        return f"untested in {'the' if n == 1 else f'all {n}'} sweep{'s' if n != 1 else ''}"
    held = sum(s == "holds" for s in tested)
    if held == len(tested):
        word = "holds in every tested sweep"
    elif held == 0:
        word = "holds in none of the tested sweeps"
    else:
        word = "depends on the sweep"
    return f"{word}: {held} of {len(tested)}{note}"




def sweep_findings(table: pd.DataFrame) -> dict[str, str]:
    """Page R6's statements about one learning-rate sweep beside the four rules, measured
    on :func:`gain_curves`' table (missing runs: ``"no run"``).

    * the base rate's rise of the Maximum Gain from initialisation to epoch 1 (dB);
    * whether the ×1/10 gain stays below the base rate's at every trained epoch;
    * which run has the most variable gain curve (:func:`variability`; runs with a
      non-finite gain left out);
    * whether the base rate ends with a lower validation error than ×1/3 (the paper's
      observation after 20 epochs).
    """
    found = {}
    base, low, third = run_at(table, 1), run_at(table, 1 / 10), run_at(table, 1 / 3)
    init = table[(table["epoch"] == 0) & np.isclose(table["factor"], 1)]["max_gain"]
    found["×1: rise of the gain from initialisation to epoch 1"] = (
        f"{base['max_gain'].iloc[0] - init.iloc[0]:+.1f} dB"
        if base is not None and len(init) else "no run"
    )
    if base is not None and low is not None:
        n = min(len(base), len(low))
        below = int((low["max_gain"].to_numpy()[:n] < base["max_gain"].to_numpy()[:n]).sum())
        found["×1/10: gain below ×1's at every epoch"] = (
            f"{'yes' if below == n else 'no'} ({below} of {n} epochs)"
        )
    else:
        found["×1/10: gain below ×1's at every epoch"] = "no run"
    finite = {f: variability(run_at(table, f)["max_gain"]) for f in lr_factors(table)
              if np.isfinite(run_at(table, f)["max_gain"]).all()}
    found["most variable gain curve"] = (
        f"{factor_label(max(finite, key=finite.get))} ({max(finite.values()):.3g} dB/epoch)"
        if finite else "no finite curve"
    )
    if base is not None and third is not None:
        a, b = base["val_error"].iloc[-1], third["val_error"].iloc[-1]
        found["final validation error: ×1 below ×1/3"] = (
            f"{'yes' if a < b else 'no'} ({a:.2f} % vs {b:.2f} %)"
        )
    else:
        found["final validation error: ×1 below ×1/3"] = "no run"
    return found
