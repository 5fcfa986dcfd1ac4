"""spectral.gain_diagnostics on synthetic Maximum Gain curves: the measures of a curve,
page R6's sweep tables, the paper's four rules and the statements over several sweeps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral import gain_diagnostics as mg

BASE = 0.001


def record(seed=0, metrics=(), final=None, **params):
    """A result record of the maximum_gain experiment (only the keys the module reads)."""
    grid = "-".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {
        "experiment": "maximum_gain",
        "run_id": f"cpu-{grid}-s{seed}",
        "params": params | {"profile": "cpu", "seed": seed},
        "status": "complete",
        "metrics": list(metrics),
        "final": final if final is not None else dict(metrics[-1]),
    }


# --- curve measures ------------------------------------------------------------------------


@given(st.lists(st.floats(-100, 100), min_size=2, max_size=30))
def test_variability_is_zero_for_every_monotone_curve(g):
    assert mg.variability(sorted(g)) == pytest.approx(0, abs=1e-9)
    assert mg.variability(sorted(g, reverse=True)) == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize(
    "g, expected",
    [([0, 2, 0, 2], (6 - 2) / 3), ([0, 1, 2, 1], 2 / 3), ([5.0], math.nan), ([], math.nan)],
)
def test_variability_counts_reversals(g, expected):
    assert mg.variability(g) == pytest.approx(expected, nan_ok=True)


@pytest.mark.parametrize(
    "g, expected", [([0, 1, 2, 3], 0.0), ([0, 1, 0, 1], 2.0), ([1, 2], math.nan)]
)
def test_curvature(g, expected):
    assert mg.curvature(g) == pytest.approx(expected, nan_ok=True)


@given(a=st.floats(-100, 100), b=st.floats(-10, 10), n=st.integers(2, 40))
@settings(deadline=None)
def test_slope_of_a_line(a, b, n):
    assert mg.slope(a + b * np.arange(n)) == pytest.approx(b, abs=1e-6)


@given(st.lists(st.integers(-1000, 1000), min_size=3, max_size=20, unique=True))
def test_spearman_ignores_monotone_transforms(x):
    y = np.exp(np.asarray(x) / 500)
    assert mg.spearman(x, y) == pytest.approx(1.0)
    assert mg.spearman(x, -y) == pytest.approx(-1.0)


def test_fraction_up():
    assert mg.fraction_up([0, 1, 0, 2, 3]) == 0.75


@pytest.mark.parametrize("plateau", [3, 7, 12])
def test_plateau_epoch_finds_a_known_plateau(plateau):
    rise = -60 + 5 * np.arange(plateau)  # 5 dB per epoch up to the plateau
    flat = rise[-1] + 0.3 * np.array([1, -1] * 10)[: 20 - plateau]  # then ±0.3 dB
    g = np.concatenate([rise, flat])
    assert mg.plateau_epoch(g) == plateau
    assert mg.plateau_epoch(g, epochs=np.arange(11, 31)) == plateau + 10


def test_plateau_epoch_none_when_the_curve_ends_off_its_level():
    assert mg.plateau_epoch([0, 0, 0, 0, 0, 10]) is None


@pytest.mark.parametrize(
    "val, train, expected",
    [
        ([1.0, 0.8, 0.6, 0.5, 0.6, 0.7], [1.0, 0.8, 0.6, 0.4, 0.3, 0.2], 3),  # overfits
        ([1.0, 0.8, 0.6, 0.5, 0.52, 0.53], [1.0, 0.8, 0.6, 0.4, 0.3, 0.2], None),  # < 10 %
        ([1.0, 0.8, 0.6, 0.5, 0.6, 0.7], [1.0, 0.8, 0.6, 0.4, 0.5, 0.6], None),  # degrades
        ([1.0, 0.8, 0.6, 0.5, 0.4, 0.9], [1.0, 0.8, 0.6, 0.4, 0.3, 0.2], None),  # minimum late
    ],
)
def test_overfit_index(val, train, expected):
    assert mg.overfit_index(val, train) == expected


@pytest.mark.parametrize(
    "factor, text", [(1.0, "×1"), (4.0, "×4"), (1 / 3, "×1/3"), (0.1, "×1/10"), (1 / 3 * 3, "×1")]
)
def test_factor_label(factor, text):
    assert mg.factor_label(factor) == text


# --- Maximum Gain sweeps and rules ---------------------------------------------------------

EPOCHS = 20
rise_then_flat = -40 + 20 * (1 - np.exp(-np.arange(1, EPOCHS + 1) / 3))  # smooth, flattens
zigzag = np.array([1.0, -1.0] * (EPOCHS // 2))


def gain_run(factor, gain, val_loss=None, train_loss=None, seed=0, init=-63.0):
    """A Maximum Gain record at ``factor`` × BASE with the given curves."""
    val_loss = np.linspace(0.5, 0.1, EPOCHS) if val_loss is None else val_loss
    train_loss = np.linspace(0.6, 0.01, EPOCHS) if train_loss is None else train_loss
    metrics = [
        {
            "epoch": e + 1,
            "lr": factor * BASE,
            "train_loss": float(train_loss[e]),
            "train_accuracy": 0.9,
            "test_loss": float(val_loss[e]),
            "test_accuracy": 1 - float(val_loss[e]) / 10,
            "max_gain": None if gain[e] is None else float(gain[e]),
            "max_gain_logit": 0.0,
            "max_gain_score": 0.5,
            "max_gain_time_s": 0.01,
            "max_gain_logit_time_s": 0.01,
            "epoch_time_s": 10.0,
        }
        for e in range(EPOCHS)
    ]
    final = metrics[-1] | {"init": {"max_gain": init, "max_gain_logit": init + 1}}
    return record(seed=seed, metrics=metrics, final=final, lr=factor * BASE, epochs=EPOCHS)


def sweep(gains: dict, **curves) -> pd.DataFrame:
    """gain_curves of one run per factor; ``curves`` maps factor → (val_loss, train_loss)."""
    runs = [gain_run(f, g, *curves.get(str(f), (None, None))) for f, g in gains.items()]
    return mg.gain_curves(runs, BASE)


def test_gain_curves_prepend_the_initial_gain():
    table = sweep({1.0: rise_then_flat, 4.0: rise_then_flat})
    assert len(table) == 2 * (EPOCHS + 1)
    first = table.iloc[0]
    assert (first["epoch"], first["max_gain"], first["max_gain_logit"]) == (0, -63.0, -62.0)
    assert mg.lr_factors(table) == [1.0, 4.0]
    run = mg.run_at(table, 4.0)
    assert run["epoch"].tolist() == list(range(1, EPOCHS + 1))
    assert run["val_error"].iloc[-1] == pytest.approx(100 * 0.1 / 10)
    assert mg.run_at(table, 2.0) is None and mg.run_at(pd.DataFrame(), 1.0) is None


def test_gain_curves_read_null_gains_as_nan():
    table = sweep({1.0: [None] * EPOCHS})
    assert table["max_gain"].dtype == float and table["max_gain"].iloc[1:].isna().all()


def test_gain_run_table():
    runs = [gain_run(f, rise_then_flat) for f in (1.0, 0.1)]
    table = mg.gain_run_table(runs, BASE)
    assert table["factor"].tolist() == ["×1", "×1/10"]
    assert table["tracker % of epoch"].tolist() == pytest.approx([0.2, 0.2])
    assert table.loc[BASE, "final gain dB"] == pytest.approx(rise_then_flat[-1])
    assert table.loc[BASE, "best val error %"] == pytest.approx(1.0)


def test_curve_measures_one_row_per_factor():
    table = sweep({1.0: rise_then_flat, 2.0: rise_then_flat + 3 * zigzag})
    measures = mg.curve_measures(table)
    assert measures.index.tolist() == ["×1", "×2"]
    assert measures.loc["×1", "variability dB/epoch"] == pytest.approx(0, abs=1e-12)
    assert measures.loc["×2", "variability dB/epoch"] > 1
    assert (
        measures.loc["×1", "fraction up"] == 1.0 and measures.loc["×1", "ρ(gain, −val loss)"] == 1
    )


def test_schedule_measures_count_non_finite_gains_in_either_spelling():
    minus_inf = [-math.inf] * EPOCHS
    table = sweep({1.0: rise_then_flat, 3.0: [None] * EPOCHS, 4.0: minus_inf})
    measures = mg.schedule_measures(table, milestone=15)
    assert measures["epochs at −∞ dB"].tolist() == [0, EPOCHS, EPOCHS]
    assert "variability epochs 1–15 / 16–20" in measures
    assert measures.loc["×1", "variability epochs 1–15 / 16–20"] == "0 / 0"
    assert "variability epochs 1–15 / 16–20" not in mg.schedule_measures(table)


def test_mnist_observations_report_the_plateau_and_the_comparison():
    base = np.concatenate([-60 + 5 * np.arange(8), np.full(EPOCHS - 8, -25.0)])
    found = mg.mnist_observations(sweep({1.0: base, 1 / 3: rise_then_flat}))
    assert found["×1: the gain rises, then is flat after ~10 epochs"] == "plateau from epoch 8"
    assert found["after 20 epochs lr 0.001 has a lower validation error than 0.001/3"].startswith(
        "no: 1.00 % vs 1.00 %"
    )
    assert len(mg.mnist_observations(sweep({2.0: base}))) == 0


def verdict(table, rule):
    return mg.rule_verdicts(table)[mg.RULES[rule - 1]][0]


def worsening(factor):
    """Validation loss that ends higher the larger the factor."""
    return np.linspace(0.5, 0.1 * factor, EPOCHS)


@pytest.mark.parametrize(
    "amplitudes, expected",
    [
        ({1.0: 0.0, 2.0: 1.0, 3.0: 2.0, 4.0: 4.0}, "holds"),  # variability grows with the lr
        ({1.0: 4.0, 2.0: 2.0, 3.0: 1.0, 4.0: 0.0}, "does not hold"),  # shrinks
        ({2.0: 1.0, 3.0: 2.0, 4.0: 4.0}, "untested"),  # no base rate
        ({1.0: 0.0, 4.0: 4.0}, "untested"),  # fewer than three rates
    ],
)
def test_rule_1(amplitudes, expected):
    gains = {f: rise_then_flat + a * zigzag for f, a in amplitudes.items()}
    curves = {str(f): (worsening(f), None) for f in amplitudes}
    assert verdict(sweep(gains, **curves), 1) == expected


def test_rule_1_leaves_out_collapsed_runs():
    gains = {1.0: rise_then_flat, 2.0: rise_then_flat + zigzag, 3.0: [None] * EPOCHS}
    gains[4.0] = [-math.inf] * EPOCHS
    status, why = mg.rule_verdicts(sweep(gains))[mg.RULES[0]]
    assert status == "untested" and "['×3', '×4']" in why


@pytest.mark.parametrize(
    "low_gain, low_val, expected",
    [
        (np.linspace(-60, -40, EPOCHS), np.linspace(0.6, 0.3, EPOCHS), "holds"),  # slow
        (
            np.linspace(-60, -40, EPOCHS) + 2 * zigzag,
            np.linspace(0.6, 0.3, EPOCHS),
            "does not hold",
        ),
        (np.linspace(-60, -40, EPOCHS), np.linspace(0.6, 0.05, EPOCHS), "does not hold"),  # best
        (np.linspace(-40, -60, EPOCHS), np.linspace(0.6, 0.3, EPOCHS), "does not hold"),  # falls
    ],
)
def test_rule_2(low_gain, low_val, expected):
    table = sweep({0.1: low_gain, 1.0: rise_then_flat + 0.5 * zigzag}, **{"0.1": (low_val, None)})
    assert verdict(table, 2) == expected
    assert verdict(sweep({1.0: rise_then_flat}), 2) == "untested"


flattening_loss = 0.1 + 0.5 * np.exp(-np.arange(EPOCHS) / 2)


@pytest.mark.parametrize(
    "gain, val, expected",
    [
        (rise_then_flat, flattening_loss, "holds"),
        (np.linspace(-60, -20, EPOCHS), flattening_loss, "does not hold"),  # still rising
        (rise_then_flat, np.linspace(0.6, 0.1, EPOCHS), "does not hold"),  # loss still falling
    ],
)
def test_rule_3(gain, val, expected):
    assert verdict(sweep({1.0: gain}, **{"1.0": (val, None)}), 3) == expected
    assert verdict(sweep({2.0: gain}), 3) == "untested"


overfitting_val = np.concatenate([np.linspace(0.6, 0.2, 8), np.linspace(0.22, 0.5, EPOCHS - 8)])


@pytest.mark.parametrize(
    "after, expected",
    [(3 * zigzag[: EPOCHS - 8], "holds"), (np.zeros(EPOCHS - 8), "does not hold")],
)
def test_rule_4(after, expected):
    gain = np.concatenate([np.full(8, -30.0) + 0.1 * zigzag[:8], -30 + after])
    table = sweep({1.0: gain, 2.0: rise_then_flat}, **{"1.0": (overfitting_val, None)})
    assert verdict(table, 4) == expected


def test_rule_4_untested_without_overfitting():
    status, why = mg.rule_verdicts(sweep({1.0: rise_then_flat, 4.0: rise_then_flat}))[mg.RULES[3]]
    assert status == "untested" and "['×1', '×4']" in why


# --- over several sweeps ---------------------------------------------------------------


@pytest.mark.parametrize(
    "statuses, verdict",
    [
        (["holds", "holds"], "holds in every tested sweep: 2 of 2"),
        (["holds", "untested", "holds"], "holds in every tested sweep: 2 of 2 (untested in 1)"),
        (["holds", "does not hold", "holds"], "depends on the sweep: 2 of 3"),
        (["does not hold"], "holds in none of the tested sweeps: 0 of 1"),
        (["untested", "untested"], "untested in all 2 sweeps"),
        (["untested"], "untested in the sweep"),
    ],
)
def test_rule_consistency(statuses, verdict):
    assert mg.rule_consistency(statuses) == verdict


def test_sweep_findings():
    rising = np.linspace(-30, -10, EPOCHS)
    noisy = rising + np.where(np.arange(EPOCHS) % 2, 3.0, -3.0)
    table = sweep({1.0: rising, 0.1: rising - 5, 1 / 3: rising, 4.0: noisy,
                   3.0: [None] * EPOCHS},
                  **{str(1 / 3): (np.linspace(0.5, 0.2, EPOCHS), None)})
    found = mg.sweep_findings(table)
    assert found["×1: rise of the gain from initialisation to epoch 1"] == "+33.0 dB"
    assert found["×1/10: gain below ×1's at every epoch"] == f"yes ({EPOCHS} of {EPOCHS} epochs)"
    assert found["most variable gain curve"].startswith("×4 ")  # ×3 (no finite gain) left out
    assert found["final validation error: ×1 below ×1/3"] == "yes (1.00 % vs 2.00 %)"
    crossing = sweep({1.0: rising, 0.1: rising[::-1]})
    assert mg.sweep_findings(crossing)["×1/10: gain below ×1's at every epoch"].startswith("no")
    lonely = mg.sweep_findings(sweep({2.0: rising}))
    assert lonely["×1: rise of the gain from initialisation to epoch 1"] == "no run"
    assert lonely["final validation error: ×1 below ×1/3"] == "no run"
    assert lonely["most variable gain curve"].startswith("×2")
