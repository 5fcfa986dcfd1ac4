"""What the results pages compute from result records: tables, statistics and verdicts.

The book's results pages (R1–R6) read the records that :mod:`spectral.experiments`
writes, ``data/results/<experiment>/<run_id>.json``, and decide verdicts from them. All
the code that decides is here, tested on synthetic records; a page only calls it and
shows tables, plots and prose.

* **Loading.** :func:`profiles` lists the profiles that have results (``smoke`` left out),
  largest scale first (:func:`scale`), so a page shows a new ``full`` or GPU ``paper`` run
  without being edited; :func:`records` selects one profile's records;
  :func:`pilot_choice` applies a pilot's rule (the setting with the best validation score).
* **Tables.** :func:`final_table` (one row per run) and :func:`epoch_table` (one row per
  run and epoch). A non-finite metric is ``NaN`` in JSON written by Python and ``null``
  in stricter JSON; both become ``NaN`` here.
* **Comparing two arms.** :func:`paired_difference` matches two arms' runs by seed and
  gives the mean difference with a Student-t confidence interval (:func:`t_quantile`);
  :func:`two_se_gap` is the unpaired test "difference of means beyond twice its standard
  error".
* **Speed-up** (Rippel et al. §5.2): :func:`first_epoch_reaching` and :func:`speedup`.
* **Maximum Gain curves** (page R6) have their own module,
  :mod:`spectral.gain_diagnostics`.
* **The verdict box** that opens each results page (:func:`verdict_box`, HTML) and what
  fills it: the scale beside the paper's (:func:`scale_rows`, :func:`below_scale`,
  :func:`scale_verdict`) and what a scale decides (:func:`paired_verdict`,
  :func:`speedup_verdict`, :func:`compaction_verdict`,
  :func:`ratio_verdict`, :func:`reproduction_verdict`, :func:`moved_verdict`,
  :func:`at_chance`); :func:`wrap` keeps
  printed text within the book's column.

Needs pandas (the ``book`` extra).
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd

from spectral._selection import best_epoch_index
from spectral.experiments import load_results

__all__ = [
    "TEXT_WIDTH",
    "Gap",
    "PairedDifference",
    "PilotChoice",
    "Speedup",
    "at_chance",
    "below_scale",
    "compaction_verdict",
    "epoch_table",
    "final_table",
    "first_epoch_reaching",
    "moved_verdict",
    "paired_difference",
    "paired_verdict",
    "pilot_choice",
    "reproduction_verdict",
    "profile_order",
    "profiles",
    "ratio_verdict",
    "records",
    "scale",
    "scale_rows",
    "scale_verdict",
    "seed_values",
    "shared_params",
    "speedup",
    "speedup_verdict",
    "t_cdf",
    "t_quantile",
    "training_images",
    "two_se_gap",
    "varying_params",
    "verdict_box",
    "wrap",
]

#: The profile of the engine's own tests; never a result to show.
SMOKE = "smoke"


# --- loading -------------------------------------------------------------------------------


def scale(params: Mapping) -> tuple[bool, float]:
    """How much training one run did, as a sort key: larger is more.

    Parameters
    ----------
    params : mapping
        A record's ``params``: ``epochs`` (required), ``train_subset`` (0 or missing: the
        whole training split) and ``val_fraction`` (default 0).

    Returns
    -------
    (bool, float)
        ``(whole, amount)``. ``whole`` is true for a run on the whole training split; it
        ranks above every run on a subset (a profile's subset is always smaller than its
        data set). ``amount`` is the number of training images seen,
        ``train_subset × epochs``, for a subset run, and ``epochs × (1 − val_fraction)``,
        the passes over the data set, for a whole-split run.
    """
    if "epochs" not in params:
        raise KeyError(f"the record's params have no 'epochs' (keys: {sorted(params)})")
    epochs = params["epochs"]
    subset = params.get("train_subset") or 0
    if subset:
        return False, float(subset * epochs)
    return True, float(epochs * (1.0 - (params.get("val_fraction") or 0.0)))


def profile_order(runs: Iterable[Mapping]) -> list[str]:
    """The profiles of ``runs`` except ``smoke``, largest :func:`scale` first.

    A profile's scale is that of its largest run; equal scales are ordered by name.
    """
    largest: dict[str, tuple[bool, float]] = {}
    for run in runs:
        name = run["params"]["profile"]
        if name != SMOKE:
            largest[name] = max(largest.get(name, (False, -math.inf)), scale(run["params"]))
    return sorted(largest, key=lambda name: (not largest[name][0], -largest[name][1], name))


def profiles(experiment: str, *, results=None) -> list[str]:
    """The profiles of ``experiment`` that have results, ``smoke`` left out, largest first.

    ``results`` is the results folder (default ``data/results``); see :func:`scale` for
    the order.
    """
    return profile_order(load_results(experiment, results))


def records(
    experiment: str,
    profile: str | None = None,
    *,
    status: str | Iterable[str] | None = None,
    results=None,
) -> list[dict]:
    """The valid result records of ``experiment``, sorted by run id.

    Parameters
    ----------
    experiment : str
        The experiment's name (a folder of ``results``).
    profile : str, optional
        Keep only this profile's runs.
    status : {"complete", "diverged", "failed"} or a collection of them, optional
        Keep only runs of this status (these statuses); e.g.
        :data:`spectral.experiments.FINISHED`, the runs whose curves count.
    results : path, optional
        The results folder, default ``data/results``.
    """
    statuses = None if status is None else {status} if isinstance(status, str) else set(status)
    return [
        r
        for r in load_results(experiment, results)
        if (profile is None or r["params"].get("profile") == profile)
        and (statuses is None or r["status"] in statuses)
    ]


def shared_params(runs: Sequence[Mapping], defaults: Mapping | None = None) -> dict:
    """The parameters that every run of ``runs`` has, with the same value.

    ``defaults`` (e.g. :func:`spectral.experiments.notebook_parameters`) fills in what no
    run names: a record holds only the parameters its profile set, not the notebook's
    defaults. A parameter some runs name and others do not is left out.
    """
    common = {}
    if runs:
        first = runs[0]["params"]
        common = {k: v for k, v in first.items() if all(r["params"].get(k, ...) == v for r in runs)}
    named = {k for r in runs for k in r["params"]}
    return {k: v for k, v in (defaults or {}).items() if k not in named} | common


def varying_params(runs: Sequence[Mapping], ignore: Iterable[str] = ("seed",)) -> list[str]:
    """The parameters whose value differs between runs (or that some runs lack), sorted.

    What tells a profile's configurations apart, e.g. its grid axes; ``ignore`` names
    parameters left out (the seed, by default).
    """
    shared = shared_params(runs)
    names = {k for r in runs for k in r["params"]} - shared.keys() - set(ignore)
    return sorted(names)


@dataclass(frozen=True)
class PilotChoice:
    """What :func:`pilot_choice` decided: the chosen ``value`` and the ``table`` behind it."""

    value: object
    table: pd.DataFrame


def pilot_choice(
    runs: Sequence[Mapping], param: str, *, metric: str = "val_accuracy", prefer: str = "smaller"
) -> PilotChoice:
    """The value of ``param`` whose run reached the highest ``metric`` at any epoch.

    A pilot's rule, e.g. "the weight decay with the higher best validation accuracy".
    Each run's score is the maximum of ``metric`` over its epochs (non-finite values
    skipped); a tie goes to the ``prefer``-red value (``"smaller"`` or ``"larger"``).

    Parameters
    ----------
    runs : sequence of result records
        One run per value of ``param`` (e.g. one pilot seed); failed runs and runs
        without a finite ``metric`` cannot be chosen.
    param : str
    metric : str
        Higher is better.
    prefer : {"smaller", "larger"}

    Returns
    -------
    PilotChoice
        ``table``: one row per run, sorted by ``param``: the value, ``status``, the best
        ``metric``, its epoch and ``test_accuracy`` at that epoch.

    Raises
    ------
    ValueError
        No run has a finite ``metric``; two runs share a value of ``param``; a bad
        ``prefer``.
    """
    if prefer not in ("smaller", "larger"):
        raise ValueError(f"prefer must be 'smaller' or 'larger', got {prefer!r}")
    rows = []
    for run in runs:
        index = best_epoch_index(run["metrics"], metric)
        best = None if index is None else run["metrics"][index]
        rows.append({
            param: run["params"].get(param),
            "status": run["status"],
            f"best {metric}": best[metric] if best else math.nan,
            "epoch": best["epoch"] if best else None,
            "test_accuracy there": best.get("test_accuracy", math.nan) if best else math.nan,
        })
    table = pd.DataFrame(rows)
    if table.empty or table[f"best {metric}"].isna().all():
        raise ValueError(f"no run has a finite {metric!r}: nothing to choose {param} by")
    if table[param].duplicated().any():
        raise ValueError(f"more than one run per {param} value: pass one pilot seed's runs")
    table = table.sort_values(param, ascending=prefer == "smaller", ignore_index=True)
    chosen = table.loc[table[f"best {metric}"].idxmax(), param]  # idxmax: the first of ties
    return PilotChoice(chosen, table.sort_values(param, ignore_index=True))


# --- tables --------------------------------------------------------------------------------


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, str | bool | Real)


def _as_float(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Columns holding only numbers and missing values (None, NaN) become float."""
    for c in columns:
        values = frame[c].dropna()
        if all(isinstance(v, Real) and not isinstance(v, bool) for v in values):
            frame[c] = frame[c].astype(float)
    return frame


def _param_columns(run: Mapping, params: Sequence[str]) -> dict:
    values = {k: run["params"].get(k) for k in params}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def _check_overlap(params: Sequence[str], metrics: Sequence[str] | None) -> None:
    clash = sorted(set(params) & set(metrics or ()) | {"run_id", "status"} & set(params))
    if clash:
        raise ValueError(
            f"{clash} named both as a parameter and as a metric (or reserved): "
            "a column can hold only one; drop it from one of the two lists"
        )


def _metric_columns(values: Mapping, params: Sequence[str], metrics: Sequence[str] | None):
    if metrics is not None:
        return {m: values.get(m) for m in metrics}
    reserved = {*params, "run_id", "status"}
    return {k: v for k, v in values.items() if k not in reserved and _is_scalar(v)}


def final_table(
    runs: Sequence[Mapping],
    params: Sequence[str] = ("profile", "seed"),
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per run: ``run_id``, ``status``, the chosen ``params`` and final metrics.

    Parameters
    ----------
    runs : sequence of dict
        Result records (:func:`records`).
    params : sequence of str
        Parameters to show as columns (a list value becomes a tuple; missing: None).
    metrics : sequence of str, optional
        Final metrics to show (missing: NaN). Default: every scalar final metric whose
        name is not among ``params`` (the parameter wins).

    Returns
    -------
    pandas.DataFrame
        Numeric metric columns are float, with NaN for ``NaN``/``null``.
    """
    _check_overlap(params, metrics)
    rows = [
        {"run_id": r["run_id"], "status": r["status"], **_param_columns(r, params)}
        | _metric_columns(r["final"], params, metrics)
        for r in runs
    ]
    frame = pd.DataFrame(rows, columns=None if rows else ["run_id", "status", *params])
    return _as_float(frame, [c for c in frame.columns if c not in ("run_id", "status", *params)])


def epoch_table(
    runs: Sequence[Mapping],
    params: Sequence[str] = ("profile", "seed"),
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per run and epoch: ``run_id``, ``status``, ``params`` and that epoch's metrics.

    As :func:`final_table`, over each record's per-epoch ``metrics`` (which include
    ``epoch``); rows are in record order, then epoch order.
    """
    _check_overlap(params, metrics)
    rows = [
        {"run_id": r["run_id"], "status": r["status"], **_param_columns(r, params)}
        | _metric_columns(m, params, metrics)
        for r in runs
        for m in r["metrics"]
    ]
    frame = pd.DataFrame(rows, columns=None if rows else ["run_id", "status", *params])
    return _as_float(frame, [c for c in frame.columns if c not in ("run_id", "status", *params)])


def seed_values(table: pd.DataFrame, column: str, **where) -> pd.Series:
    """``column`` of the rows of ``table`` that match ``where``, indexed by ``seed``.

    A float criterion matches to ``numpy.isclose`` (learning rates computed on a page
    match those read from a file). One arm of :func:`paired_difference`.
    """
    keep = pd.Series(True, index=table.index)
    for key, value in where.items():
        if key not in table:
            raise KeyError(f"no column {key!r} to select on; columns: {list(table.columns)}")
        if isinstance(value, float):
            keep &= np.isclose(table[key].astype(float), value)
        else:
            keep &= table[key] == value
    picked = table[keep]
    if picked["seed"].duplicated().any():
        raise ValueError(
            f"several rows per seed match {where}: add the parameter that tells them apart"
        )
    return picked.set_index("seed")[column]


# --- comparing two arms --------------------------------------------------------------------


def _check_df(df) -> None:
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"degrees of freedom must be a positive integer, got {df!r}")


def t_cdf(t: float, df: int) -> float:
    """Student-t distribution function ``P(T ≤ t)`` for ``df`` (a positive integer).

    Exact closed forms (Abramowitz & Stegun 26.7.3–4): with ``θ = atan(t/√df)``,
    ``P(|T| ≤ t)`` is a finite sum of powers of ``cos θ``.
    """
    _check_df(df)
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:  # odd: (2/π)(θ + sin θ cos θ (1 + 2/3 cos²θ + 2·4/(3·5) cos⁴θ + …))
        term, total = 1.0, 1.0 if df > 1 else 0.0
        for k in range(1, (df - 1) // 2):
            term *= 2 * k / (2 * k + 1) * c2
            total += term
        inside = 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    else:  # even: sin θ (1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + …)
        term, total = 1.0, 1.0
        for k in range(1, df // 2):
            term *= (2 * k - 1) / (2 * k) * c2
            total += term
        inside = math.sin(theta) * total
    return 0.5 + math.copysign(0.5 * min(inside, 1.0), t)  # the sum can round above 1


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (bisection on
    :func:`t_cdf`, to 1e-12 relative), e.g. ``t_quantile(0.975, 2) = 4.303``."""
    _check_df(df)
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, 2 * high
    while high - low > 1e-12 * high:
        middle = 0.5 * (low + high)
        low, high = (middle, high) if t_cdf(middle, df) < p else (low, middle)
    return 0.5 * (low + high)


@dataclass(frozen=True)
class PairedDifference:
    """Mean over seeds of ``a − b`` with its confidence interval (:func:`paired_difference`).

    ``low`` and ``high`` are NaN when fewer than two seeds pair up.
    """

    mean: float
    low: float
    high: float
    n: int
    confidence: float

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly above or wholly below zero."""
        return bool(self.low > 0 or self.high < 0)

    def describe(self, factor: float = 1.0, unit: str = "", digits: int = 2) -> str:
        """E.g. ``+1.20 points, 95 % CI [+0.40, +2.00], 3 seeds: resolved``.

        ``factor`` multiplies the numbers (100 for fractions shown in percentage points).
        """

        def number(x: float) -> str:
            return f"{factor * x:+.{digits}f}"

        if self.n < 2:
            return f"{number(self.mean)}{unit}, {self.n} seed: no interval"
        verdict = "resolved" if self.excludes_zero else "within noise"
        return (
            f"{number(self.mean)}{unit}, {100 * self.confidence:.0f} % CI "
            f"[{number(self.low)}, {number(self.high)}], {self.n} seeds: {verdict}"
        )


def _finite_by_seed(values: Mapping | pd.Series, name: str) -> dict:
    items = values.items() if hasattr(values, "items") else None
    if items is None:
        raise TypeError(f"{name} must map seed → value (a dict or a Series indexed by seed)")
    out = {}
    for seed, value in items:
        if value is not None and math.isfinite(value):
            out[seed] = float(value)
    return out


def paired_difference(
    a: Mapping | pd.Series, b: Mapping | pd.Series, *, confidence: float = 0.95
) -> PairedDifference:
    """Mean of ``a[seed] − b[seed]`` over the seeds both arms have, with a t-interval.

    Parameters
    ----------
    a, b : mapping or pandas.Series
        One value per seed (e.g. :func:`seed_values`). Seeds in only one arm, and values
        that are missing or not finite (``None``, NaN, ±∞), are left out.
    confidence : float
        Coverage of the two-sided interval ``mean ± t_{(1+c)/2, n−1} · s/√n``, where
        ``s`` is the standard deviation of the ``n`` paired differences.

    Returns
    -------
    PairedDifference
        ``n = 0`` gives a NaN mean; ``n = 1`` a mean without an interval.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    left, right = _finite_by_seed(a, "a"), _finite_by_seed(b, "b")
    seeds = sorted(set(left) & set(right))
    d = np.array([left[s] - right[s] for s in seeds])
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    if n < 2:
        return PairedDifference(mean, math.nan, math.nan, n, confidence)
    half = t_quantile((1 + confidence) / 2, n - 1) * float(d.std(ddof=1)) / math.sqrt(n)
    return PairedDifference(mean, mean - half, mean + half, n, confidence)


@dataclass(frozen=True)
class Gap:
    """Difference of two arms' means and its standard error (:func:`two_se_gap`)."""

    difference: float
    standard_error: float

    @property
    def resolved(self) -> bool:
        """Whether the difference exceeds twice its standard error."""
        return bool(abs(self.difference) > 2 * self.standard_error)


def two_se_gap(a: Sequence[float], b: Sequence[float]) -> Gap:
    """Unpaired: ``mean(a) − mean(b)`` and its standard error ``√(s_a²/n_a + s_b²/n_b)``.

    Sample standard deviations (``ddof=1``); each arm needs two values or more.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if min(len(a), len(b)) < 2:
        raise ValueError(
            f"each arm needs at least 2 values for a standard deviation, got {len(a)} and "
            f"{len(b)}; run more seeds"
        )
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return Gap(float(a.mean() - b.mean()), se)


# --- speed-up ------------------------------------------------------------------------------


def first_epoch_reaching(errors: Sequence[float], target: float) -> int | None:
    """The first epoch (1-based) at which ``errors`` is at most ``target``, or None."""
    reached = np.asarray(errors, dtype=float) <= target
    return int(np.argmax(reached)) + 1 if reached.any() else None


@dataclass(frozen=True)
class Speedup:
    """Rippel et al.'s speed-up of a comparison run over a reference run (:func:`speedup`)."""

    best: float  # the reference run's lowest error
    t_reference: int  # the first epoch at which the reference run has it
    t_comparison: int | None  # the first epoch the comparison run is at or below it

    @property
    def factor(self) -> float:
        """``t_reference / t_comparison``; NaN if the comparison never reaches ``best``."""
        return self.t_reference / self.t_comparison if self.t_comparison else math.nan


def speedup(reference: Sequence[float], comparison: Sequence[float]) -> Speedup:
    """When ``comparison`` first reaches the lowest error of ``reference`` (error curves
    per epoch, epoch 1 first), against when ``reference`` itself first did."""
    reference = np.asarray(reference, dtype=float)
    if not len(reference) or np.isnan(reference).all():
        raise ValueError("the reference error curve is empty or all NaN: nothing to reach")
    best = float(np.nanmin(reference))
    return Speedup(
        best, first_epoch_reaching(reference, best), first_epoch_reaching(comparison, best)
    )


# --- the verdict box at the top of each results page ---------------------------------------

#: Characters of printed text that fit the book's column (monospace output, ~780 px).
TEXT_WIDTH = 78


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "   ") -> str:
    """``text`` with each of its lines wrapped to ``width`` characters.

    Continuation lines start with ``indent``, so a wrapped item stays readable as one;
    blank lines are kept. Printed output stays within the book's column this way.
    """
    out = []
    for line in text.split("\n"):
        lead = line[: len(line) - len(line.lstrip())]
        out.append(
            textwrap.fill(
                line, width, subsequent_indent=lead + indent, break_on_hyphens=False,
                break_long_words=False,
            )
            if line.strip()
            else line
        )
    return "\n".join(out)


def _html(value) -> str:
    """A text (escaped; `code` in backticks becomes <code>) or a list of texts (<ul>)."""
    if isinstance(value, str):
        parts = html.escape(value).split("`")
        return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    items = "".join(f"<li>{_html(v)}</li>" for v in value)
    return f"<ul>{items}</ul>"


def _scale_html(scale) -> str:
    if isinstance(scale, Mapping):
        rows = "".join(
            f"<tr><th>{_html(name)}</th><td>{_html(str(ours))}</td><td>{_html(str(paper))}</td>"
            "</tr>"
            for name, (ours, paper) in scale.items()
        )
        return (
            '<table class="table verdict-scale"><thead><tr><th></th><th>ours</th>'
            f"<th>paper</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return _html(scale)


def verdict_box(
    *, claim, paper, ours, scale, verdict, title: str = "Claim and verdict"
) -> str:
    """HTML for the admonition that opens a results page: claim, numbers, scale, verdict.

    Parameters
    ----------
    claim : str or sequence of str
        The paper's claim, in its words.
    paper : str or sequence of str
        The paper's numbers behind the claim (with their table or figure).
    ours : str or sequence of str
        What our runs give for the same quantities (read from the result files).
    scale : mapping or str
        ``{row: (ours, paper's)}`` (e.g. :func:`scale_rows`), shown as a table, or a text.
    verdict : str or sequence of str
        What this scale decides (e.g. :func:`paired_verdict`, :func:`scale_verdict`).
    title : str
        The admonition's title.

    Returns
    -------
    str
        A ``<div class="admonition important">`` (the themes' admonition style), for
        ``IPython.display.HTML``. Texts are HTML-escaped; text between backticks is set
        as code; a sequence of texts becomes a bulleted list.
    """
    fields = [("Claim", _html(claim)), ("Paper", _html(paper)), ("Ours", _html(ours)),
              ("Scale", _scale_html(scale)), ("Verdict", _html(verdict))]
    body = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in fields)
    return (
        f'<div class="admonition important verdict-box"><p class="admonition-title">'
        f"{html.escape(title)}</p><dl>{body}</dl></div>"
    )


def training_images(params: Mapping, dataset_size: int) -> int:
    """The number of images a run trains on.

    ``train_subset`` when set (non-zero), else the training split of ``dataset_size``
    images less its validation share ``val_fraction``.
    """
    subset = params.get("train_subset") or 0
    if subset:
        return int(subset)
    return int(round(dataset_size * (1.0 - (params.get("val_fraction") or 0.0))))


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _text(value) -> str:
    return f"{value:g}" if isinstance(value, Real) and not isinstance(value, bool) else str(value)


def _width(params: Mapping):
    """A run's width multiplier: 1 where the model has none (``None`` or missing)."""
    width = params.get("width")
    return 1.0 if width is None else width


def _smaller(a, b) -> bool:
    """``a < b`` for two numbers; False where either is a text (``"not stated"``)."""
    numbers = all(isinstance(v, Real) and not isinstance(v, bool) for v in (a, b))
    return bool(numbers and a < b)


def scale_rows(
    ours: Mapping,
    paper: Mapping,
    *,
    dataset_size: int,
    seeds: tuple,
    baseline: tuple | None = None,
    baseline_label: str = "baseline",
) -> dict[str, tuple[str, str]]:
    """The scale table of a verdict box: model, width, training images, epochs, seeds and
    the baseline's result, ours beside the paper's.

    Parameters
    ----------
    ours, paper : mapping
        Run parameters (``model``, ``width``, ``epochs``, ``train_subset``,
        ``val_fraction``); for the paper, e.g. the experiment's ``paper`` profile.
    dataset_size : int
        The training split's size (:func:`training_images`).
    seeds : (ours, paper's)
        Numbers of seeds (or texts such as ``"not stated"``).
    baseline : (ours, paper's), optional
        The baseline's accuracy or error as texts.
    baseline_label : str
        The name of that row.
    """
    rows = {
        "model": (str(ours["model"]), str(paper["model"])),
        "width": tuple(_text(_width(p)) for p in (ours, paper)),
        "training images": tuple(
            _count(training_images(p, dataset_size)) for p in (ours, paper)
        ),
        "epochs": (str(ours["epochs"]), str(paper["epochs"])),
        "seeds": tuple(_count(s) for s in seeds),
    }
    if baseline is not None:
        rows[baseline_label] = tuple(str(b) for b in baseline)
    return rows


def below_scale(ours: Mapping, paper: Mapping, *, dataset_size: int) -> list[str]:
    """Where ``ours`` trains less than ``paper``: ``model`` (if it differs), ``width``,
    ``training images`` and ``epochs`` (if smaller), in that order. A value given as a
    text (e.g. the paper's epochs ``"not stated"``) is not compared."""
    gaps = ["model"] if ours["model"] != paper["model"] else []
    if _smaller(_width(ours), _width(paper)):
        gaps.append("width")
    if training_images(ours, dataset_size) < training_images(paper, dataset_size):
        gaps.append("training images")
    if _smaller(ours["epochs"], paper["epochs"]):
        gaps.append("epochs")
    return gaps


def scale_verdict(gaps: Sequence[str], *, baseline_gap: float | None = None,
                  tolerance: float = 0.02) -> str:
    """Whether a claim made at the paper's scale can be tested at ours.

    Parameters
    ----------
    gaps : sequence of str
        :func:`below_scale`'s list.
    baseline_gap : float, optional
        Our baseline's accuracy minus the paper's (fractions). A baseline more than
        ``tolerance`` below the paper's is a different regime, whatever the settings.
    tolerance : float
        See ``baseline_gap``; default 2 points.

    Returns
    -------
    str
        ``"at the paper's scale"`` or ``"untested at the paper's scale: ours uses another
        model and is smaller in …"`` (and/or ``"our baseline is N points below the
        paper's"``).
    """
    smaller = [g for g in gaps if g != "model"]
    parts = (["uses another model"] if "model" in gaps else []) + (
        [f"is smaller in {', '.join(smaller)}"] if smaller else []
    )
    reasons = [f"ours {' and '.join(parts)}"] if parts else []
    if baseline_gap is not None and baseline_gap < -tolerance:
        reasons.append(f"our baseline is {-100 * baseline_gap:.1f} points below the paper's")
    if not reasons:
        return "at the paper's scale"
    return "untested at the paper's scale: " + "; ".join(reasons)


def paired_verdict(d: PairedDifference, paper: float | None = None) -> str:
    """What a paired difference decides, beside the paper's difference of the same sign
    convention and units (``paper``; None when the paper states none).

    * fewer than 2 seeds: ``untested``;
    * the interval excludes 0: resolved, in or against the paper's direction;
    * it contains 0 and the paper's difference: ``undecided``: the scale cannot tell an
      effect of the paper's size from none;
    * it contains 0 but not the paper's difference: no effect of the paper's size here.
    """
    if d.n < 2:
        return f"untested: {d.n} paired seed{'s' if d.n != 1 else ''}, no interval"
    if d.excludes_zero:
        sign = "positive" if d.mean > 0 else "negative"
        if paper is None or paper == 0:
            return f"resolved ({sign})"
        same = (d.mean > 0) == (paper > 0)
        return f"resolved ({sign}), {'in' if same else 'against'} the paper's direction"
    if paper is None:
        return "not resolved: within the seed-to-seed noise"
    if d.low <= paper <= d.high:
        return "undecided: the interval holds both zero and the paper's difference"
    return "not resolved, and the interval excludes a difference as large as the paper's"


def at_chance(losses: Sequence[float], classes: int, *, tolerance: float = 0.01) -> bool:
    """Whether a run's last training loss is within ``tolerance`` (relative) of
    ``ln(classes)``, the loss of a constant uniform prediction: a run that did not train."""
    if not len(losses):
        raise ValueError("no losses: the run has no epochs")
    last = float(losses[-1])
    chance = math.log(classes)
    return bool(math.isfinite(last) and abs(last - chance) <= tolerance * chance)


def speedup_verdict(factors: Sequence[float], paper: Sequence[float]) -> str:
    """Measured speed-up factors (NaN: the comparison run never reached the reference's
    best error, counted as slower) against the paper's factors.

    The median over all pairs decides: at least the paper's smallest factor, ``as large
    as the paper's``; above 1, ``faster, but smaller than the paper's``; 1, ``no
    speed-up``; below 1, ``slower``. The counts behind it are part of the text.
    """
    f = np.asarray(factors, dtype=float)
    if not len(f):
        return "untested: no pairs"
    slower_or_not = int((f < 1).sum() + np.isnan(f).sum())
    median = float(np.median(np.where(np.isnan(f), 0.0, f)))
    smallest = min(paper)
    if median >= smallest:
        word = "as large as the paper's"
    elif median > 1:
        word = f"faster, but smaller than the paper's smallest factor ({smallest:g})"
    elif median == 1:
        word = "no speed-up at the median"
    else:
        word = "slower at the median"
    return (
        f"{word}: median {median:.2f} over {len(f)} pair{'s' if len(f) != 1 else ''}; "
        f"{int((f > 1).sum())} faster, "
        f"{int((f == 1).sum())} equal, {slower_or_not} slower or never reached"
    )


def compaction_verdict(pixel: float, spectral: float, *, margin: float = 0.05) -> str:
    """Rippel et al.'s Fig. 3b claim ("spectral representations tend to be considerably
    sparser") tested on one energy share: the share of a filter's energy in its largest
    coordinates, in the pixel and in the spectral basis. A difference of at most
    ``margin`` (default 5 points of energy share) counts as none; a NaN share (no run, or
    not recorded) leaves the claim untested."""
    d = spectral - pixel
    if not math.isfinite(d):
        return "untested: the energy share of one basis is not recorded"
    if d > margin:
        return f"sparser in the spectral basis (+{d:.3f}), as the paper says"
    if d < -margin:
        return f"sparser in the pixel basis ({d:+.3f}), against the paper"
    return (
        f"no difference beyond ±{margin:g} ({d:+.3f}): the paper's 'considerably sparser' "
        "is not seen"
    )


def reproduction_verdict(
    target: PairedDifference,
    candidate: PairedDifference,
    gap: PairedDifference,
    *,
    method: str = "the method",
    control: str = "the control",
) -> str:
    """Whether a control reproduces a method's effect against a common baseline.

    ``target`` is method − baseline, ``candidate`` control − baseline and ``gap`` method −
    control, each paired by seed (e.g. SBN34 − BN, 2BN34-scaled − BN, SBN34 −
    2BN34-scaled). The control *reproduces* the effect when the method's effect is
    resolved, the control's is resolved in the same direction and the gap is not; it
    *does not* when the gap is resolved. With the method's effect unresolved there is
    nothing to reproduce, and a resolved gap only says the two differ.
    """
    if min(target.n, candidate.n, gap.n) < 2:
        return "untested: fewer than 2 paired seeds"
    if gap.excludes_zero:
        if target.excludes_zero:
            return f"does not reproduce it: {method} − {control} excludes 0"
        return f"{control} differs from {method}, though {method} − baseline is not resolved"
    if not target.excludes_zero:
        return (f"nothing to reproduce at this scale: {method} − baseline is not resolved; "
                f"{control} is indistinguishable from {method}")
    if candidate.excludes_zero and (candidate.mean > 0) == (target.mean > 0):
        return f"reproduces it: {control} − baseline is resolved in the same direction and " \
               f"{method} − {control} is not"
    return (f"undecided: {method} − {control} is not resolved, but neither is {control} − "
            "baseline")


def ratio_verdict(
    ratios: Sequence[float], *, below: float = 1.0, above: float | None = None
) -> str:
    """How many of ``ratios`` lie below ``below`` (or, given ``above``, above it), with
    their range: ``below 1 in all 6 (0.24–0.27)``, ``above 1 in 2 of 6 (0.98–1.03)``."""
    r = np.asarray(ratios, dtype=float)
    r = r[np.isfinite(r)]
    if not len(r):
        return "untested: no finite ratio"
    side, bound = ("above", above) if above is not None else ("below", below)
    k = int((r > bound).sum() if above is not None else (r < bound).sum())
    share = f"all {len(r)}" if k == len(r) else f"{k} of {len(r)}"
    return f"{side} {bound:g} in {share} ({r.min():.2f}–{r.max():.2f})"


def moved_verdict(values: Sequence[float], start: float, targets: Sequence[float]) -> str:
    """Whether learned quantities (e.g. each layer's fraction of frequencies masked) have
    moved away from their common initial value ``start`` toward the paper's trained
    values ``targets`` (one per value), or are still nearer where they started.

    Counts the values nearer ``start`` than their target. If most are, a comparison with
    the targets is untested (the quantities have not trained far enough to say where they
    settle); otherwise the values have moved toward them.
    """
    v, t = np.asarray(values, dtype=float), np.asarray(targets, dtype=float)
    if v.shape != t.shape or not len(v):
        raise ValueError(f"need as many targets as values, got {len(t)} for {len(v)}")
    near = int((np.abs(v - start) < np.abs(v - t)).sum())
    counts = f"{near} of {len(v)} nearer their initial value than the paper's"
    if 2 * near > len(v):
        return f"still near the start ({counts}): the comparison with the paper is untested"
    return f"moved toward the paper's values ({counts})"
