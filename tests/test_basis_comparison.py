"""spectral.basis_comparison: speed-ups between bases, and the verdicts of page R3."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spectral import basis_comparison as bc


def record(param, accuracies, *, seed=0, epochs=None, status="complete", model="m",
           kernel=5, run_id=None, **extra):
    metrics = [{"epoch": e, "val_accuracy": a, **{k: v[e - 1] for k, v in extra.items()}}
               for e, a in enumerate(accuracies, 1)]
    params = {"model": model, "kernel_size": kernel, "param": param, "seed": seed,
              "epochs": epochs or len(accuracies)}
    return {"run_id": run_id or f"{param}-{seed}", "status": status, "params": params,
            "metrics": metrics}


def test_speedup_table_matches_runs_by_cell_and_seed():
    runs = [
        record("spatial", [0.5, 0.6, 0.7, 0.7], epochs=40),  # best error 0.3 at epoch 3
        record("spectral", [0.6, 0.71, 0.72, 0.72]),  # reaches 0.3 at epoch 2
        record("random", [0.5, 0.55, 0.6, 0.65]),  # never
        record("spatial", [0.5, 0.6], seed=1),  # no partner for seed 1
    ]
    table = bc.speedup_table(runs)
    assert list(zip(table.comparison, table.reference, strict=True)) == list(bc.COMPARISONS)
    first = table.iloc[0]
    assert (first.t_reference, first.t_comparison, first.speedup) == (3, 2, 1.5)
    assert first.best_error == pytest.approx(0.3)
    assert first.stopped_early and first.epochs == 4
    assert table.t_comparison.isna().tolist() == [False, True, False]
    assert math.isnan(table.speedup[1])
    # spectral over random: random's best error 0.35 (epoch 4), spectral reaches it at 2
    assert table.speedup[2] == pytest.approx(2.0)


def test_speedup_table_skips_failed_runs_and_rejects_duplicates():
    runs = [record("spatial", [0.5, 0.6]), record("spectral", [0.7, 0.7], status="failed")]
    assert bc.speedup_table(runs).empty
    with pytest.raises(ValueError, match="two records for .*pass one profile's records"):
        bc.speedup_table([record("spatial", [0.5]), record("spatial", [0.6], run_id="b")])


def test_speedup_table_is_empty_with_its_columns_without_pairs():
    table = bc.speedup_table([])
    assert table.empty and {"speedup", "t_comparison", "stopped_early"} <= set(table.columns)


@pytest.mark.parametrize(
    ("factors", "expected"),
    [
        ([1.2], "untested: 1 seed (spectral over spatial: 1.20)"),
        ([], "untested: 0 seeds"),
        ([1.5, 2.0], "spectral faster than spatial in all 2 seeds (speed-ups 1.50, 2.00)"),
        ([0.5, math.nan], "spectral slower than spatial in all 2 seeds (speed-ups 0.50, never)"),
        ([1.0, 1.0], "spectral and spatial equally fast in all 2 seeds"),
        ([1.5, 0.8, 1.1], "undecided: the 3 seeds disagree (speed-ups 1.50, 0.80, 1.10)"),
    ],
)
def test_direction_verdict(factors, expected):
    verdict = bc.direction_verdict(factors, comparison="spectral", reference="spatial")
    assert verdict.startswith(expected)


@pytest.mark.parametrize(
    ("factors", "needed"),
    [([1.5, 2.0], False), ([0.5, math.nan], False), ([1.0, 1.0], False),
     ([1.5, 0.9], True), ([1.5, math.nan], True), ([1.0, 1.2], True)],
)
def test_needs_another_seed_when_signs_of_log_speedup_disagree(factors, needed):
    assert bc.needs_another_seed(factors) is needed


@given(st.lists(st.floats(0.05, 20) | st.just(math.nan), min_size=2, max_size=5))
def test_a_third_seed_is_needed_exactly_when_the_verdict_is_undecided(factors):
    verdict = bc.direction_verdict(factors, comparison="a", reference="b")
    assert bc.needs_another_seed(factors) == verdict.startswith("undecided")


def test_in_own_basis_reads_the_trained_basis_at_epoch_ten_or_the_last():
    energy = {"e_spatial": np.linspace(0.3, 0.4, 12), "e_spectral": np.linspace(0.5, 0.6, 12)}
    run = record("spectral", [0.5] * 12, **energy)
    assert bc.in_own_basis(run, "e") == pytest.approx(energy["e_spectral"][9])
    short = record("spatial", [0.5] * 3, **{k: v[:3] for k, v in energy.items()})
    assert bc.in_own_basis(short, "e") == pytest.approx(energy["e_spatial"][2])
    assert math.isnan(bc.in_own_basis(record("random", [0.5] * 3), "e"))
    assert math.isnan(bc.in_own_basis(record("random", []), "e"))


@pytest.mark.parametrize(
    ("pixel", "spectral", "start"),
    [(0.5, 0.3, "fewer coordinates moved in the spectral basis (-0.200), as the paper says"),
     (0.3, 0.5, "more coordinates moved in the spectral basis (+0.200), against the paper"),
     (0.5, 0.47, "no difference beyond ±0.05 (-0.030)"),
     (0.5, math.nan, "untested")],
)
def test_updates_verdict(pixel, spectral, start):
    assert bc.updates_verdict(pixel, spectral).startswith(start)
