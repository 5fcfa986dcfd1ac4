"""spectral.results on synthetic records: loading, tables, paired t-intervals, speed-up
and the verdicts of the results pages (Maximum Gain curves: test_gain_diagnostics.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral import results as res
from spectral.experiments import FINISHED


def record(profile="cpu", seed=0, status="complete", metrics=None, final=None, **params):
    """A result record as spectral.experiments writes it (only the keys the module reads)."""
    params = {"epochs": 3, "train_subset": 100} | params | {"profile": profile, "seed": seed}
    grid = "-".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("profile", "seed"))
    metrics = metrics if metrics is not None else [{"epoch": 1, "score": 0.5}]
    return {
        "experiment": "toy",
        "run_id": f"{profile}-{grid}-s{seed}",
        "params": params,
        "status": status,
        "metrics": metrics,
        "final": final if final is not None else dict(metrics[-1]),
    }


def write(folder, rec, text=None):
    path = folder / "toy" / f"{rec['run_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else json.dumps(rec))


# --- loading -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "larger, smaller",
    [
        ({"epochs": 1, "train_subset": 0}, {"epochs": 100, "train_subset": 49_000}),  # whole
        ({"epochs": 20}, {"epochs": 10, "train_subset": 0}),  # more passes over the whole
        ({"epochs": 10, "train_subset": 0}, {"epochs": 10, "val_fraction": 0.1}),
        ({"epochs": 4, "train_subset": 3000}, {"epochs": 10, "train_subset": 1000}),  # seen
    ],
)
def test_scale_ranks_more_training_higher(larger, smaller):
    assert res.scale(larger) > res.scale(smaller)


def test_scale_needs_epochs():
    with pytest.raises(KeyError, match="no 'epochs'"):
        res.scale({"train_subset": 10})


@pytest.mark.parametrize(
    "setting, order",
    [
        (
            {
                "smoke": {"epochs": 1, "train_subset": 0},  # never shown, however large
                "cpu": {"epochs": 10, "train_subset": 5000},
                "paper": {"epochs": 200, "train_subset": 0},
                "full": {"epochs": 30, "train_subset": 0},
            },
            ["paper", "full", "cpu"],
        ),
        (
            {"a": {"epochs": 12, "train_subset": 1000}, "b": {"epochs": 6, "train_subset": 4000}},
            ["b", "a"],  # more images seen, though fewer epochs
        ),
        (
            {"b": {"epochs": 12, "train_subset": 2000}, "a": {"epochs": 12, "train_subset": 2000}},
            ["a", "b"],  # equal scale: by name
        ),
    ],
)
def test_profile_order_largest_first_smoke_left_out(setting, order):
    runs = [record(name, seed=s, **params) for name, params in setting.items() for s in (0, 1)]
    assert res.profile_order(runs) == order


def test_profile_scale_is_its_largest_run():
    runs = [record("a", epochs=5), record("a", seed=1, epochs=50), record("b", epochs=20)]
    assert res.profile_order(runs) == ["a", "b"]


def test_profiles_and_records_read_the_results_folder(tmp_path):
    for rec in [
        record("cpu", 0),
        record("cpu", 1, status="diverged"),
        record("cpu", 3, status="failed"),
        record("paper", 0, train_subset=0),
        record("smoke", 0),
    ]:
        write(tmp_path, rec)
    write(tmp_path, record("cpu", 2), text='{"experiment": "to')  # half-written: not valid
    assert res.profiles("toy", results=tmp_path) == ["paper", "cpu"]
    seeds = [r["params"]["seed"] for r in res.records("toy", "cpu", results=tmp_path)]
    assert seeds == [0, 1, 3]
    complete = res.records("toy", "cpu", status="complete", results=tmp_path)
    assert [r["run_id"] for r in complete] == ["cpu-epochs=3-train_subset=100-s0"]
    finished = res.records("toy", "cpu", status=FINISHED, results=tmp_path)
    assert [r["params"]["seed"] for r in finished] == [0, 1]
    assert len(res.records("toy", results=tmp_path)) == 5


def test_shared_params_keeps_the_common_values():
    runs = [record(seed=0, lr=0.1, width=1), record(seed=1, lr=0.2, width=1)]
    assert res.shared_params(runs) == {
        "epochs": 3,
        "train_subset": 100,
        "width": 1,
        "profile": "cpu",
    }
    assert res.shared_params([]) == {}


@pytest.mark.parametrize(
    "extra, expected",
    [
        ([{}, {}], []),  # one configuration, two seeds
        ([{"amp": None}, {"amp": "bf16"}], ["amp"]),
        ([{"amp": None}, {}], ["amp"]),  # named by one run only
        ([{"pool": "max", "lr": 0.1}, {"pool": "max", "lr": 0.2}], ["lr"]),
    ],
)
def test_varying_params(extra, expected):
    runs = [record(seed=s, **e) for s, e in enumerate(extra)]
    assert res.varying_params(runs) == expected
    assert "seed" in res.varying_params(runs, ignore=())


def test_shared_params_fill_in_defaults_no_run_names():
    runs = [record(seed=0, lr=0.1), record(seed=1, lr=0.2)]
    defaults = {"dataset": "cifar10", "lr": 0.5, "epochs": 200}
    shared = res.shared_params(runs, defaults=defaults)
    assert shared["dataset"] == "cifar10" and shared["epochs"] == 3 and "lr" not in shared
    assert res.shared_params([], defaults=defaults) == defaults


# --- tables --------------------------------------------------------------------------------


@pytest.mark.parametrize("non_finite", ["NaN", "null"])
def test_final_table_reads_nan_and_null_as_nan(tmp_path, non_finite):
    rec = record(final={"accuracy": 0.5, "loss": 1.0}, milestones=[2, 3])
    text = json.dumps(rec).replace('"loss": 1.0', f'"loss": {non_finite}')
    write(tmp_path, rec, text=text)
    table = res.final_table(res.records("toy", results=tmp_path), params=("seed", "milestones"))
    assert table["loss"].dtype == float and np.isnan(table["loss"].iloc[0])
    assert table["accuracy"].iloc[0] == 0.5 and table["milestones"].iloc[0] == (2, 3)
    assert list(table.columns[:4]) == ["run_id", "status", "seed", "milestones"]


def test_final_table_metric_missing_in_one_run_is_nan():
    runs = [record(seed=0, final={"a": 1.0, "b": 2.0}), record(seed=1, final={"a": 3.0})]
    table = res.final_table(runs, metrics=("a", "b"))
    assert table["a"].tolist() == [1.0, 3.0] and np.isnan(table["b"].iloc[1])


def test_tables_default_metrics_skip_lists_and_the_named_params():
    runs = [record(lr=0.1, final={"lr": 0.001, "per_channel": [1, 2], "loss": 0.3})]
    table = res.final_table(runs, params=("lr",))
    assert table["lr"].tolist() == [0.1] and "per_channel" not in table
    assert table["loss"].tolist() == [0.3]


@pytest.mark.parametrize("table", [res.final_table, res.epoch_table])
@pytest.mark.parametrize("params, metrics", [(("lr",), ("lr",)), (("status",), None)])
def test_tables_refuse_a_column_that_is_both(table, params, metrics):
    with pytest.raises(ValueError, match="a column can hold only one"):
        table([record(lr=0.1)], params=params, metrics=metrics)


@pytest.mark.parametrize("table", [res.final_table, res.epoch_table])
def test_tables_of_no_runs_have_the_key_columns(table):
    assert list(table([], params=("variant", "seed")).columns) == [
        "run_id", "status", "variant", "seed"
    ]  # fmt: skip


def test_epoch_table_one_row_per_run_and_epoch():
    curve = [{"epoch": e, "loss": 1 / e, "norm": None} for e in (1, 2, 3)]
    runs = [record(seed=s, metrics=curve) for s in (0, 1)]
    table = res.epoch_table(runs, params=("seed",))
    assert table[["seed", "epoch"]].values.tolist() == [[s, e] for s in (0, 1) for e in (1, 2, 3)]
    assert table["loss"].iloc[2] == pytest.approx(1 / 3) and table["norm"].isna().all()


def test_seed_values_matches_floats_to_roundoff():
    table = pd.DataFrame({"seed": [0, 1, 0], "lr": [0.001 / 3, 0.001 / 3, 0.001], "x": [1, 2, 3]})
    picked = res.seed_values(table, "x", lr=(0.1 / 3) / 100)
    assert picked.to_dict() == {0: 1, 1: 2}


def test_seed_values_errors_name_the_problem():
    table = pd.DataFrame({"seed": [0, 0], "variant": ["a", "a"], "x": [1, 2]})
    with pytest.raises(ValueError, match="several rows per seed"):
        res.seed_values(table, "x", variant="a")
    with pytest.raises(KeyError, match="no column 'pool'"):
        res.seed_values(table, "x", pool="max")


# --- Student t -----------------------------------------------------------------------------

# Two-sided 95 % (and one 90 %, one 99 %) critical values from a printed t table.
T_TABLE = [
    (0.975, 1, 12.706),
    (0.975, 2, 4.303),
    (0.975, 3, 3.182),
    (0.975, 4, 2.776),
    (0.975, 5, 2.571),
    (0.975, 9, 2.262),
    (0.975, 10, 2.228),
    (0.975, 30, 2.042),
    (0.95, 4, 2.132),
    (0.995, 2, 9.925),
]


@pytest.mark.parametrize("p, df, expected", T_TABLE)
def test_t_quantile_matches_the_table(p, df, expected):
    assert res.t_quantile(p, df) == pytest.approx(expected, abs=5e-4)
    assert res.t_quantile(1 - p, df) == pytest.approx(-expected, abs=5e-4)


def test_t_quantile_tends_to_the_normal():
    assert res.t_quantile(0.975, 2000) == pytest.approx(1.959964, abs=2e-3)
    assert res.t_quantile(0.5, 7) == 0.0


@given(t=st.floats(-50, 50), df=st.integers(1, 60))
@settings(max_examples=200, deadline=None)
def test_t_cdf_is_symmetric_and_inverted_by_the_quantile(t, df):
    assert res.t_cdf(-t, df) == pytest.approx(1 - res.t_cdf(t, df), abs=1e-12)
    p = res.t_cdf(t, df)
    if 1e-6 < p < 1 - 1e-6:
        assert res.t_quantile(p, df) == pytest.approx(t, rel=1e-7, abs=1e-7)


@given(t=st.floats(-1e3, 1e3), dt=st.floats(1e-3, 10), df=st.integers(1, 40))
@settings(max_examples=200, deadline=None)
def test_t_cdf_increases(t, dt, df):
    low, high = res.t_cdf(t, df), res.t_cdf(t + dt, df)
    assert high >= low - 1e-15  # up to roundoff
    if min(low, 1 - low) > 1e-9:  # strictly, away from where it rounds to 0 or 1
        assert high > low


@given(t=st.floats(-100, 100))
@settings(max_examples=50, deadline=None)
def test_t_cdf_one_degree_is_cauchy(t):
    assert res.t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)


@pytest.mark.parametrize("p, df", [(0.0, 3), (1.0, 3), (0.5, 0), (0.5, 2.5), (0.5, True)])
def test_t_quantile_rejects_bad_arguments(p, df):
    with pytest.raises(ValueError, match="must be"):
        res.t_quantile(p, df)


# --- paired difference ---------------------------------------------------------------------


def test_paired_difference_by_hand():
    # differences 1, 2, 3: mean 2, standard deviation 1, half-width t_{0.975,2}/√3 = 2.48
    d = res.paired_difference({0: 2.0, 1: 4.0, 2: 6.0}, {0: 1.0, 1: 2.0, 2: 3.0})
    half = 4.302653 / math.sqrt(3)
    assert (d.mean, d.n) == (2.0, 3)
    assert d.low == pytest.approx(2 - half, abs=1e-5) and d.high == pytest.approx(
        2 + half, abs=1e-5
    )
    assert not d.excludes_zero  # three seeds: a mean of 2 ± 1 is not resolved


@pytest.mark.parametrize("gap, found", [(5.0, True), (-5.0, True), (0.0, False)])
@pytest.mark.parametrize("seeds", [3, 5])
def test_paired_difference_finds_a_known_gap_and_no_gap(gap, found, seeds):
    rng = np.random.default_rng(seeds)
    level = rng.normal(50, 10, seeds)  # seed-to-seed spread far above the gap's noise
    noise = {3: [-0.5, 0.5, 0.0], 5: [-0.5, 0.5, -0.25, 0.25, 0.0]}[seeds]  # mean 0
    a = pd.Series(level + gap + noise)
    b = pd.Series(level)
    d = res.paired_difference(a, b)
    assert d.excludes_zero is found and d.mean == pytest.approx(gap, abs=1e-9)
    assert d.low <= d.mean <= d.high


def test_paired_difference_matches_seeds_and_drops_non_finite():
    a = {2: 10.0, 0: 1.0, 1: None, 3: 5.0, 7: 1.0}
    b = pd.Series({0: 0.0, 1: 1.0, 2: 9.0, 3: math.nan, 4: 2.0})
    d = res.paired_difference(a, b)
    assert d.n == 2 and d.mean == 1.0  # seeds 0 and 2 only
    assert (d.low, d.high) == (1.0, 1.0) and d.excludes_zero  # both differences 1


@pytest.mark.parametrize("a, n", [({}, 0), ({0: 1.0}, 1)])
def test_paired_difference_without_an_interval(a, n):
    d = res.paired_difference(a, {0: 0.0})
    assert d.n == n and math.isnan(d.low) and math.isnan(d.high) and not d.excludes_zero
    assert "no interval" in d.describe()


values = st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=8)


@given(a=values, b=values, shift=st.floats(-100, 100))
@settings(max_examples=100, deadline=None)
def test_paired_difference_is_antisymmetric_and_shifts(a, b, shift):
    n = min(len(a), len(b))
    a, b = dict(enumerate(a[:n])), dict(enumerate(b[:n]))
    ab, ba = res.paired_difference(a, b), res.paired_difference(b, a)
    assert ba.mean == pytest.approx(-ab.mean, abs=1e-9)
    assert ba.low == pytest.approx(-ab.high, abs=1e-6) and ab.n == n
    moved = res.paired_difference({s: v + shift for s, v in a.items()}, b)
    assert moved.mean == pytest.approx(ab.mean + shift, abs=1e-6)
    assert moved.high - moved.low == pytest.approx(ab.high - ab.low, abs=1e-6)


def test_paired_difference_wider_at_higher_confidence():
    a, b = {0: 1.0, 1: 3.0, 2: 2.5}, {0: 0.0, 1: 0.0, 2: 0.0}
    d90, d99 = (res.paired_difference(a, b, confidence=c) for c in (0.90, 0.99))
    assert d99.low < d90.low and d99.high > d90.high


def test_paired_difference_describe():
    d = res.paired_difference({0: 0.52, 1: 0.54, 2: 0.53}, {0: 0.50, 1: 0.50, 2: 0.50})
    text = d.describe(100, " points")
    assert text.startswith("+3.00 points, 95 % CI [+") and text.endswith("3 seeds: resolved")


def test_paired_difference_rejects_bad_input():
    with pytest.raises(ValueError, match="confidence must be in"):
        res.paired_difference({0: 1.0}, {0: 1.0}, confidence=95)
    with pytest.raises(TypeError, match="must map seed"):
        res.paired_difference([1.0, 2.0], {0: 1.0})


# --- unpaired 2·SE gap ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, resolved",
    [
        ([10.0, 10.2, 9.8], [5.0, 5.2, 4.8], True),  # known gap of 5, spread 0.2
        ([5.1, 4.9, 5.0], [5.0, 5.2, 4.8], False),  # no gap
        ([1.0, 3.0], [0.0, 0.0, 0.1], False),  # gap 2 with a large spread in one arm
    ],
)
def test_two_se_gap(a, b, resolved):
    gap = res.two_se_gap(a, b)
    assert gap.resolved is resolved
    assert gap.difference == pytest.approx(np.mean(a) - np.mean(b))
    se = math.sqrt(np.var(a, ddof=1) / len(a) + np.var(b, ddof=1) / len(b))
    assert gap.standard_error == pytest.approx(se)


def test_two_se_gap_needs_two_values_per_arm():
    with pytest.raises(ValueError, match="run more seeds"):
        res.two_se_gap([1.0], [1.0, 2.0])


# --- speed-up ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "errors, target, epoch",
    [([0.5, 0.4, 0.3], 0.4, 2), ([0.5, 0.4, 0.3], 0.6, 1), ([0.5, 0.4], 0.1, None)],
)
def test_first_epoch_reaching(errors, target, epoch):
    assert res.first_epoch_reaching(errors, target) == epoch


@pytest.mark.parametrize(
    "reference, comparison, expected",
    [
        ([0.9, 0.6, 0.4, 0.3, 0.3, 0.35], [0.8, 0.3, 0.2, 0.25, 0.3, 0.3], (0.3, 4, 2, 2.0)),
        ([0.9, 0.5, 0.4], [0.9, 0.6, 0.4], (0.4, 3, 3, 1.0)),
        ([0.9, 0.5, 0.4], [0.9, 0.9, 0.5], (0.4, 3, None, math.nan)),
    ],
)
def test_speedup(reference, comparison, expected):
    s = res.speedup(reference, comparison)
    assert (s.best, s.t_reference, s.t_comparison) == expected[:3]
    assert s.factor == pytest.approx(expected[3], nan_ok=True)


def test_speedup_needs_a_reference_curve():
    with pytest.raises(ValueError, match="reference error curve is empty"):
        res.speedup([], [0.1])


# --- the verdict box and what fills it -----------------------------------------------------


def test_wrap_keeps_lines_within_the_width_and_indents_continuations():
    text = "setting: " + " ".join(f"word{i}" for i in range(40)) + "\n\n  short"
    wrapped = res.wrap(text, width=40)
    lines = wrapped.split("\n")
    assert all(len(line) <= 40 for line in lines)
    assert lines[1].startswith("   word")  # continuation of the first line
    assert "" in lines and lines[-1] == "  short"  # blank line and indentation kept
    assert res.wrap("a-very-long-hyphenated-word " * 3, width=20).count("\n") == 2


def test_verdict_box_escapes_text_and_lays_out_every_field():
    box = res.verdict_box(
        claim="SBN <helps>",
        paper=["Table I: 94.43 %", "BN 94.04 %"],
        ours="`SBN34` − BN: −2.35 points",
        scale={"model": ("resnet18", "resnet18"), "epochs": ("8", "200")},
        verdict="untested & small",
    )
    assert box.startswith('<div class="admonition important')
    assert "SBN &lt;helps&gt;" in box and "untested &amp; small" in box
    assert "<li>Table I: 94.43 %</li><li>BN 94.04 %</li>" in box
    assert "<code>SBN34</code>" in box
    assert "<tr><th>epochs</th><td>8</td><td>200</td></tr>" in box
    for name in ("Claim", "Paper", "Ours", "Scale", "Verdict"):
        assert f"<dt>{name}</dt>" in box
    assert box.index("<dt>Claim</dt>") < box.index("<dt>Verdict</dt>")
    assert "<dd>a plain scale</dd>" in res.verdict_box(
        claim="c", paper="p", ours="o", scale="a plain scale", verdict="v"
    )


@pytest.mark.parametrize(
    "params, images",
    [
        ({"train_subset": 5000, "val_fraction": 0.1}, 5000),
        ({"train_subset": 0, "val_fraction": 0.1}, 45000),
        ({}, 50000),
        ({"train_subset": None, "val_fraction": None}, 50000),
    ],
)
def test_training_images(params, images):
    assert res.training_images(params, 50000) == images


def test_scale_rows_and_below_scale():
    ours = {"model": "resnet20", "width": 0.5, "epochs": 4, "train_subset": 3000}
    paper = {"model": "resnet20", "width": 1.0, "epochs": 200, "train_subset": 0}
    rows = res.scale_rows(ours, paper, dataset_size=50000, seeds=(2, "not stated"),
                          baseline=("39.0 %", "93.5 %"))
    assert rows == {
        "model": ("resnet20", "resnet20"),
        "width": ("0.5", "1"),
        "training images": ("3,000", "50,000"),
        "epochs": ("4", "200"),
        "seeds": ("2", "not stated"),
        "baseline": ("39.0 %", "93.5 %"),
    }
    assert "baseline" not in res.scale_rows(ours, paper, dataset_size=50000, seeds=(1, 1))
    named = res.scale_rows(ours, paper, dataset_size=50000, seeds=(1, 1),
                           baseline=("1", "2"), baseline_label="test error")
    assert list(named)[-1] == "test error" and named["test error"] == ("1", "2")
    assert res.below_scale(ours, paper, dataset_size=50000) == [
        "width", "training images", "epochs"
    ]
    assert res.below_scale(paper, paper, dataset_size=50000) == []
    assert res.below_scale({**paper, "model": "resnet18"}, paper, dataset_size=50000) == [
        "model"
    ]


def test_scale_rows_and_below_scale_take_missing_widths_and_texts():
    ours = {"model": "lenet", "width": None, "epochs": 12, "train_subset": 2000}
    paper = {"model": "lenet", "epochs": "not stated", "train_subset": 0}
    rows = res.scale_rows(ours, paper, dataset_size=60000, seeds=(4, "1 per rate"))
    assert rows["width"] == ("1", "1") and rows["epochs"] == ("12", "not stated")
    assert res.below_scale(ours, paper, dataset_size=60000) == ["training images"]


def test_scale_verdict():
    assert res.scale_verdict([]) == "at the paper's scale"
    assert res.scale_verdict([], baseline_gap=-0.01) == "at the paper's scale"
    assert res.scale_verdict(["epochs"]) == (
        "untested at the paper's scale: ours is smaller in epochs"
    )
    text = res.scale_verdict(["width", "epochs"], baseline_gap=-0.5)
    assert "ours is smaller in width, epochs; our baseline is 50.0 points below" in text
    assert res.scale_verdict(["model", "epochs"]).endswith(
        "ours uses another model and is smaller in epochs"
    )
    assert res.scale_verdict(["model"]).endswith("ours uses another model")
    assert res.scale_verdict([], baseline_gap=-0.03).endswith("3.0 points below the paper's")


def diff(mean, low, high, n=3):
    return res.PairedDifference(mean, low, high, n, 0.95)


@pytest.mark.parametrize(
    "d, paper, verdict",
    [
        (diff(0.5, math.nan, math.nan, n=1), 0.4, "untested: 1 paired seed, no interval"),
        (diff(math.nan, math.nan, math.nan, n=0), None, "untested: 0 paired seeds, no interval"),
        (diff(1.0, 0.5, 1.5), 0.4, "resolved (positive), in the paper's direction"),
        (diff(-1.0, -1.5, -0.5), 0.4, "resolved (negative), against the paper's direction"),
        (diff(-1.0, -1.5, -0.5), None, "resolved (negative)"),
        (diff(0.1, -2.0, 2.0), 0.4, "undecided: the interval holds both zero and the paper's"
         " difference"),
        (diff(0.0, -0.2, 0.2), 0.4, "not resolved, and the interval excludes a difference as"
         " large as the paper's"),
        (diff(0.0, -0.2, 0.2), None, "not resolved: within the seed-to-seed noise"),
    ],
)
def test_paired_verdict(d, paper, verdict):
    assert res.paired_verdict(d, paper) == verdict


def test_paired_verdict_on_a_computed_difference():
    d = res.paired_difference({0: 0.60, 1: 0.62, 2: 0.61}, {0: 0.50, 1: 0.51, 2: 0.50})
    assert res.paired_verdict(d, 0.004) == "resolved (positive), in the paper's direction"


UP, DOWN, NONE = diff(1.0, 0.5, 1.5), diff(-1.0, -1.5, -0.5), diff(0.1, -0.5, 0.7)


@pytest.mark.parametrize(
    "target, candidate, gap, start",
    [
        (UP, UP, NONE, "reproduces it"),
        (DOWN, DOWN, NONE, "reproduces it"),
        (UP, DOWN, NONE, "undecided"),  # opposite directions, gap unresolved: too noisy
        (UP, NONE, NONE, "undecided"),
        (UP, NONE, UP, "does not reproduce it: M − C excludes 0"),
        (NONE, NONE, NONE, "nothing to reproduce at this scale"),
        (NONE, DOWN, UP, "C differs from M"),
        (diff(1.0, math.nan, math.nan, n=1), UP, NONE, "untested"),
    ],
)
def test_reproduction_verdict(target, candidate, gap, start):
    verdict = res.reproduction_verdict(target, candidate, gap, method="M", control="C")
    assert verdict.startswith(start), verdict


def test_reproduction_verdict_on_computed_differences():
    bn = {0: 0.90, 1: 0.91, 2: 0.905}
    sbn = {0: 0.88, 1: 0.89, 2: 0.884}
    scaled = {0: 0.881, 1: 0.889, 2: 0.885}  # the same drop as SBN, seed by seed
    verdict = res.reproduction_verdict(
        res.paired_difference(sbn, bn), res.paired_difference(scaled, bn),
        res.paired_difference(sbn, scaled), method="SBN34", control="2BN34-scaled")
    assert verdict.startswith("reproduces it")


def test_at_chance():
    assert res.at_chance([2.35, 2.303, 2.3026], 10)
    assert not res.at_chance([2.35, 1.9], 10)
    assert not res.at_chance([2.3, math.nan], 10)
    assert res.at_chance([0.70], 2, tolerance=0.02)
    with pytest.raises(ValueError, match="no losses"):
        res.at_chance([], 10)


@pytest.mark.parametrize(
    "factors, start",
    [
        ([2.5, 3.0, 2.2], "as large as the paper's"),
        ([1.1, 1.2, 1.0, math.nan], "faster, but smaller than the paper's smallest factor (2.2)"),
        ([1.0, 1.0, 1.1, 0.9], "no speed-up at the median"),
        ([0.8, math.nan, 1.0], "slower at the median"),
        ([], "untested: no pairs"),
    ],
)
def test_speedup_verdict(factors, start):
    assert res.speedup_verdict(factors, [2.2, 5.1]).startswith(start)


def test_speedup_verdict_counts():
    text = res.speedup_verdict([1.1, 1.0, 0.8, math.nan], [2.2])
    assert text == (
        "slower at the median: median 0.90 over 4 pairs; 1 faster, 1 equal, 2 slower or never "
        "reached"
    )


def test_compaction_verdict():
    assert res.compaction_verdict(0.60, 0.70).startswith("sparser in the spectral basis")
    assert res.compaction_verdict(0.70, 0.60).startswith("sparser in the pixel basis")
    assert res.compaction_verdict(0.690, 0.684).startswith("no difference beyond ±0.05 (-0.006)")
    assert res.compaction_verdict(0.6, 0.62, margin=0.01).startswith("sparser in the spectral")
    assert res.compaction_verdict(0.6, math.nan).startswith("untested")


def test_ratio_verdict():
    assert res.ratio_verdict([0.24, 0.27, 0.25]) == "below 1 in all 3 (0.24–0.27)"
    assert res.ratio_verdict([0.5, 1.5, math.nan]) == "below 1 in 1 of 2 (0.50–1.50)"
    assert res.ratio_verdict([0.98, 1.03], above=1) == "above 1 in 1 of 2 (0.98–1.03)"
    assert res.ratio_verdict([1.2, 1.03], above=1) == "above 1 in all 2 (1.03–1.20)"
    assert res.ratio_verdict([math.nan]) == "untested: no finite ratio"


def test_moved_verdict():
    start = 0.067
    assert res.moved_verdict([0.10, 0.12, 0.03], start, [0.69, 0.40, 0.02]) == (
        "still near the start (2 of 3 nearer their initial value than the paper's): the "
        "comparison with the paper is untested"
    )
    assert res.moved_verdict([0.60, 0.30, 0.03], start, [0.69, 0.40, 0.02]).startswith(
        "moved toward the paper's values (0 of 3"
    )
    with pytest.raises(ValueError, match="as many targets"):
        res.moved_verdict([0.1], start, [0.2, 0.3])


def pilot_run(value, val, status="complete", param="weight_decay"):
    metrics = [{"epoch": e + 1, "val_accuracy": v, "test_accuracy": v - 0.01}
               for e, v in enumerate(val)]
    return {"params": {param: value, "seed": 0}, "status": status, "metrics": metrics}


def test_pilot_choice_takes_the_best_epoch_of_each_run():
    runs = [pilot_run(5e-4, [0.5, 0.8, 0.7]), pilot_run(1e-4, [0.6, 0.79, math.nan])]
    choice = res.pilot_choice(runs, "weight_decay")
    assert choice.value == 5e-4
    assert list(choice.table["weight_decay"]) == [1e-4, 5e-4]
    assert list(choice.table["epoch"]) == [2, 2]
    assert choice.table["test_accuracy there"].tolist() == pytest.approx([0.78, 0.79])


@pytest.mark.parametrize(("prefer", "chosen"), [("smaller", 1e-4), ("larger", 1e-3)])
def test_pilot_choice_breaks_ties_as_told(prefer, chosen):
    runs = [pilot_run(v, [0.7], param="lr") for v in (1e-3, 1e-4, 3e-4)]
    runs[2]["metrics"][0]["val_accuracy"] = 0.6
    assert res.pilot_choice(runs, "lr", prefer=prefer).value == chosen


def test_pilot_choice_refuses_what_it_cannot_decide():
    with pytest.raises(ValueError, match="no run has a finite"):
        res.pilot_choice([pilot_run(1e-4, [math.nan], status="diverged")], "weight_decay")
    with pytest.raises(ValueError, match="one pilot seed"):
        res.pilot_choice([pilot_run(1e-4, [0.5]), pilot_run(1e-4, [0.6])], "weight_decay")
    with pytest.raises(ValueError, match="prefer must be"):
        res.pilot_choice([pilot_run(1e-4, [0.5])], "weight_decay", prefer="best")
    diverged = [pilot_run(1e-3, [math.nan], status="diverged"), pilot_run(1e-4, [0.5])]
    assert res.pilot_choice(diverged, "weight_decay").value == 1e-4
