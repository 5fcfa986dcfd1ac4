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


def pilot_run(param, lr, accuracies, **extra):
    run = record(param, accuracies, run_id=f"{param}-{lr}", **extra)
    run["params"]["lr"] = lr
    return run


def test_full_data_runs_are_the_pilots_at_their_rates_until_the_campaign_runs():
    pilot = [pilot_run("spatial", 1e-4, [0.5, 0.6]), pilot_run("spatial", 3e-4, [0.5, 0.7]),
             pilot_run("spectral", 1e-4, [0.6, 0.7]), pilot_run("spectral", 3e-4, [0.6, 0.7]),
             pilot_run("random", 1e-3, [0.1, 0.1], status="failed")]
    data = bc.full_data_runs(pilot, [])
    assert data.provisional and data.rates == {"spatial": 3e-4, "spectral": 1e-4}  # tie: smaller
    assert [r["run_id"] for r in data.runs] == ["spatial-0.0003", "spectral-0.0001"]
    campaign = [record("spatial", [0.5]), record("spectral", [0.5], status="failed")]
    data = bc.full_data_runs(pilot, campaign)
    assert not data.provisional and [r["run_id"] for r in data.runs] == ["spatial-0"]
    assert bc.full_data_runs([], []).runs == []


def test_verdicts_answer_the_three_questions_from_the_runs():
    energy = {"conv1_top25_energy_spatial": [0.60] * 3, "conv1_top25_energy_spectral": [0.70] * 3,
              "conv1_moved_spatial": [0.5] * 3, "conv1_moved_spectral": [0.5] * 3,
              "conv1_top25_energy_random": [0.6] * 3, "conv1_moved_random": [0.5] * 3}
    runs = [record(basis, curve, seed=seed, model="rippel_generic", **energy)
            for seed in (0, 1)
            for basis, curve in (("spatial", [0.5, 0.6, 0.7]), ("spectral", [0.6, 0.7, 0.7]),
                                 ("random", [0.5, 0.6, 0.7]))]
    v = bc.verdicts(bc.FullData(runs, False, {}))
    assert v["a"].startswith("Generic (6) 5×5: spectral faster than spatial in all 2 seeds")
    assert "against the paper's factors, faster, but smaller than the paper's" in v["a"]
    assert v["b"].startswith("Generic (6) 5×5: spectral faster than random in all 2 seeds")
    assert "random and spatial equally fast in all 2 seeds" in v["b"]
    assert v["c"].startswith("Fig. 3b, sparser in the spectral basis (+0.100)")
    assert "Fig. 3c, no difference beyond ±0.05" in v["c"]
    provisional = bc.verdicts(bc.FullData(runs[:3], True, {}))
    assert all(text.startswith("pending the campaign") for text in provisional.values())
    assert "untested: 1 seed" in provisional["a"]
    assert set(bc.verdicts(bc.FullData([], True, {})).values()) == {"untested: no runs"}
