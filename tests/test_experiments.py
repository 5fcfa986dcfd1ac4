"""spectral.experiments: grids, papermill runs, resume/redo, executors, reports."""

import json
import logging
import math
import os
import re
from pathlib import Path
from queue import Queue

import filelock
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spectral.experiments as ex
from spectral.experiments import claims, execute, grid, local, paths, provenance
from spectral.experiments.slots import cpu_count

TINY = """# %% tags=["parameters"]
value = 1.0
fail = False
sleep = 0.0
steps = 10
label = "a"
milestones = [1]
anything = None
seed = 0
profile = "interactive"
threads = 1
experiment = None
run_id = None
run_params = {}
device = None
result_path = None
checkpoint_path = None

# %%
import os
import time
from pathlib import Path

from spectral.experiments import write_result

resumed = os.path.exists(checkpoint_path)
Path(checkpoint_path).parent.mkdir(parents=True, exist_ok=True)
Path(checkpoint_path).write_text(str(os.getpid()))
print(f"score {value + seed}", flush=True)
time.sleep(sleep)
if fail:
    raise RuntimeError("asked to fail")
write_result(result_path, experiment=experiment, run_id=run_id, params=run_params,
             status="complete", metrics=[{"epoch": 1, "epoch_time_s": 2.0}],
             final={"score": value + seed, "threads": threads, "resumed": resumed},
             wall_time_s=0.0, device=device)
"""

PROFILES = {
    "profiles": {
        "smoke": {
            "params": {"value": 1.0, "epochs": 3},
            "grid": {"fail": [False]},
            "seeds": [0, 1],
        }
    }
}


def make_project(tmp_path: Path, monkeypatch) -> Path:
    """A project folder holding only the TINY experiment, used as ``paths.PROJECT``."""
    folder = tmp_path / "notebooks" / "experiments"
    folder.mkdir(parents=True)
    (folder / "tiny.py").write_text(TINY)
    (folder / "tiny.json").write_text(json.dumps(PROFILES))
    monkeypatch.setattr(paths, "PROJECT", tmp_path)
    monkeypatch.setenv("SPECTRAL_PROJECT", str(tmp_path))  # for the runs' subprocesses
    return tmp_path


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, monkeypatch)


def _result(folder: Path, run_id: str, status: str = "complete", **fields) -> Path:
    record = {
        "experiment": "tiny",
        "run_id": run_id,
        "params": {"profile": "smoke", "seed": 0},
        "status": status,
        "metrics": [],
        "final": {},
    }
    path = folder / "tiny" / f"{run_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record | fields))
    return path


# --- grids, run ids and parameters -------------------------------------------------------------


def test_expand_real_baseline_profile():
    runs = ex.expand("baseline", "smoke", seeds=[5], overrides={"width": 0.5})
    assert [r.run_id for r in runs] == ["smoke-width=0.5-s5"]
    assert runs[0].params["width"] == 0.5 and runs[0].params["seed"] == 5


def test_expand_errors():
    with pytest.raises(ValueError, match="no experiment 'nope'; known: baseline"):
        ex.expand("nope", "cpu")
    with pytest.raises(ValueError, match="no profile 'huge' for baseline; choose one of smoke"):
        ex.expand("baseline", "huge")


def test_grid_override_replaces_an_axis(project):
    runs = ex.expand("tiny", "smoke", overrides={"fail": [False, True]}, seeds=[0])
    assert [r.run_id for r in runs] == ["smoke-fail=False-s0", "smoke-fail=True-s0"]


def _add_profile(project: Path, name: str, spec: dict) -> None:
    path = project / "notebooks" / "experiments" / "tiny.json"
    profiles = json.loads(path.read_text())
    profiles["profiles"][name] = spec
    path.write_text(json.dumps(profiles))


PER = {"fail": {"False": {"value": 2.0, "label": "x"}, "True": {"value": 3}}}


def test_per_sets_parameters_by_the_value_of_an_axis(project):
    _add_profile(project, "arms", {"grid": {"fail": [False, True]}, "per": PER, "seeds": [0]})
    runs = ex.expand("tiny", "arms")
    assert [r.run_id for r in runs] == [
        "arms-fail=False-value=2.0-label=x-s0",
        "arms-fail=True-value=3.0-s0",
    ]
    assert [r.params["value"] for r in runs] == [2.0, 3.0]  # an int coerced to the float type
    assert isinstance(runs[1].params["value"], float) and "label" not in runs[1].params


def test_an_override_replaces_a_per_value_and_is_named(project):
    _add_profile(project, "arms", {"grid": {"fail": [False, True]}, "per": PER, "seeds": [0]})
    runs = ex.expand("tiny", "arms", overrides={"value": 7.0, "fail": [True]})
    assert [r.run_id for r in runs] == ["arms-fail=True-value=7.0-s0"]
    assert runs[0].params["value"] == 7.0


@pytest.mark.parametrize(
    ("per", "message"),
    [
        ({"label": {"a": {"value": 1.0}}}, r"'per' names 'label', which is not a grid axis"),
        ({"fail": {"False": {"value": 1.0}}}, r"no parameters for fail=True; add an entry"),
        ({"fail": {"False": {"fail": True}, "True": {}}}, r"sets the grid axis fail"),
        ({"fail": {"False": {"valu": 1.0}, "True": {}}}, r"unknown parameter 'valu'.*'value'"),
        ({"fail": {"False": {"value": "x"}, "True": {}}}, r"value takes a float"),
    ],
)
def test_bad_per_tables_are_errors_that_say_what_to_fix(project, per, message):
    _add_profile(project, "arms", {"grid": {"fail": [False, True]}, "per": per})
    with pytest.raises(ex.ExperimentError, match=message):
        ex.expand("tiny", "arms")


def test_run_ids_differ_for_distinct_values(project):
    def run_id(**overrides):
        return ex.expand("tiny", "smoke", seeds=[0], overrides=overrides)[0].run_id

    assert run_id(sleep=-0.5) == "smoke-fail=False-sleep=m0.5-s0"
    assert run_id(sleep=0.5) == "smoke-fail=False-sleep=0.5-s0"
    assert run_id(label="a-b") != run_id(label="a_b") == "smoke-fail=False-label=a_b-s0"
    assert run_id(value=1.0) == "smoke-fail=False-s0"  # the profile's own value: same run
    assert run_id(steps=3, label="x") == "smoke-fail=False-label=x-steps=3-s0"  # sorted


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.sampled_from(["1.0", "m0.5", "True", "inf", "a-b", "a_b", "a__b", "_a", "2BN34"]),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_VALUES, min_size=2, max_size=6, unique_by=lambda v: json.dumps(v)))
def test_slugs_are_injective_and_file_safe(values):
    slugs = [grid._slug(v) for v in values]
    assert len(set(slugs)) == len(values)
    assert all(re.fullmatch(r"[A-Za-z0-9._~]*", s) for s in slugs)


@pytest.mark.parametrize(
    ("name", "flag"),
    [
        ("seed", "--seeds"),
        ("profile", "--profile"),
        ("device", "--devices"),
        ("threads", "--devices"),
        ("run_id", "the runner sets it"),
    ],
)
def test_reserved_names_name_the_flag_to_use(project, name, flag):
    with pytest.raises(ex.ExperimentError, match=f"{name}.*cannot be set with -p: .*{flag}"):
        ex.expand("tiny", "smoke", overrides={name: 5})


def test_unknown_parameter_lists_the_valid_ones(project):
    with pytest.raises(ex.ExperimentError) as info:
        ex.parse_overrides("tiny", "smoke", ["valu=2"])
    message = str(info.value)
    assert "unknown parameter 'valu' for tiny; did you mean 'value'?" in message
    assert "value (float), fail (bool)" in message and "anything (any)" in message
    assert "seed (" not in message and "run_id (" not in message  # reserved: not offered


@pytest.mark.parametrize(
    ("pair", "value"),
    [
        ("value=2", 2.0),  # a float parameter takes an int
        ("steps=5000", 5000),
        ("label=hello world", "hello world"),  # a str parameter takes the text itself
        ('label="quoted"', "quoted"),
        ("milestones=[2, 3]", [2, 3]),
        ("fail=[false, true]", [False, True]),  # a grid axis takes a list
        ("anything=bf16", "bf16"),  # a None default takes any JSON, or a bare word
        ("anything=[1]", [1]),
    ],
)
def test_override_values_are_parsed_by_type(project, pair, value):
    name = pair.partition("=")[0]
    parsed = ex.parse_overrides("tiny", "smoke", [pair])[name]
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("steps=5e3", "steps takes an int .* got 5000.0 .*write it as an integer: steps=5000"),
        ("steps=true", "steps takes an int"),
        ("value=[1,", "value=\\[1,: not valid JSON; value takes a float"),
        ("milestones=3", "milestones takes a list"),
        ("anything=[1,", "not valid JSON"),
        ("value", "-p expects KEY=VALUE"),
    ],
)
def test_bad_override_values_are_errors(project, pair, message):
    with pytest.raises(ex.ExperimentError, match=message):
        ex.parse_overrides("tiny", "smoke", [pair])


def test_expand_checks_override_types(project):
    with pytest.raises(ex.ExperimentError, match="write it as an integer"):
        ex.expand("tiny", "smoke", overrides={"steps": 5000.0})


def test_results_under_pre_injective_ids_still_count(project):
    results, cache = project / "results", project / "cache"
    run = ex.expand("tiny", "smoke", seeds=[0], overrides={"label": "a-b"})[0]
    assert run.legacy_id == "smoke-fail=False-label=a_b-s0" != run.run_id
    legacy = _result(results, run.legacy_id, params=run.params)
    log = []
    assert ex.run_experiment([run], results=results, cache=cache, log=log.append) == {
        run.run_id: "complete"
    }
    assert log == [f"skip {run.run_id}: complete (recorded as {legacy.name})"]
    _result(results, run.legacy_id, params=run.params | {"label": "a_b"})  # another run's
    assert ex.describe([run], results=results, cache=cache)[0].split("  ")[1] == "pending"


# --- checkpoints, locks, folders ---------------------------------------------------------------


def test_checkpoint_path_is_keyed_by_params_and_notebook(project):
    cache = project / "cache"
    a, b = (ex.expand("tiny", "smoke", seeds=[0], overrides={"value": v})[0] for v in (1, 2))
    path = a.checkpoint_path(cache)
    assert path.parent == cache / "checkpoints" / "tiny"
    assert re.fullmatch(r"smoke-fail=False-s0-[0-9a-f]{12}\.pt", path.name)
    assert a.key != ex.Run(a.experiment, a.run_id, b.params).key
    notebook = project / "notebooks" / "experiments" / "tiny.py"
    notebook.write_text(notebook.read_text() + "\n# edited\n")
    assert a.checkpoint_path(cache) != path


def test_stale_checkpoints_are_moved_aside(project):
    run = ex.expand("tiny", "smoke", seeds=[0])[0]
    cache = project / "cache"
    current = run.checkpoint_path(cache)
    current.parent.mkdir(parents=True)
    legacy = current.parent / f"{run.run_id}.pt"
    other_key = current.parent / f"{run.run_id}-0123456789ab.pt"
    other_run = current.parent / "smoke-fail=False-s1.pt"
    for path in (current, legacy, other_key, other_run):
        path.write_text("state")
    log = []
    claims.retire_stale_checkpoints(run, cache, log.append)
    assert current.exists() and other_run.exists()
    assert not legacy.exists() and not other_key.exists()
    assert sorted(p.name for p in (current.parent / "stale").iterdir()) == sorted(
        [legacy.name, other_key.name]
    )
    assert len(log) == 2 and "moved checkpoint" in log[0] and "not resumed" in log[0]


def test_unwritable_results_folder_fails_before_running(project):
    results = project / "results-is-a-file"
    results.write_text("")
    log = []
    runs = ex.expand("tiny", "smoke")
    with pytest.raises(ex.ExperimentError, match="results folder .* is not writable.*--results"):
        ex.run_experiment(runs, results=results, cache=project / "cache", log=log.append)
    assert log == []


def test_locked_run_is_left_to_the_other_runner(project):
    results, cache = project / "results", project / "cache"
    runs = ex.expand("tiny", "smoke", seeds=[0])
    path = runs[0].lock_path(cache)
    path.parent.mkdir(parents=True)
    log = []
    with filelock.FileLock(path, timeout=0):
        statuses = ex.run_experiment(runs, results=results, cache=cache, log=log.append)
        dry = ex.describe(runs, results=results, cache=cache)
    assert statuses == {"smoke-fail=False-s0": ex.RUNNING_ELSEWHERE}
    assert log == ["skip smoke-fail=False-s0: running elsewhere"]
    assert dry[0].startswith("smoke-fail=False-s0  running  ")


def test_status_is_checked_again_once_the_lock_is_taken(project):
    results, cache = project / "results", project / "cache"
    run = ex.expand("tiny", "smoke", seeds=[0])[0]
    _result(results, run.run_id)  # finished by another runner after this one looked
    slots = Queue()
    slots.put("cpu")
    args = (slots, 1, results, cache, local._Children(), print, False, None)
    assert local._local_run(run, *args) == "complete"


def test_slurm_without_a_cluster_is_an_error(project):
    results = project / "results"
    runs = ex.expand("tiny", "smoke", seeds=[0])
    with pytest.raises(ex.ExperimentError, match="no SLURM cluster reachable"):
        ex.run_experiment(runs, results=results, executor="slurm", log=lambda _: None)
    assert not list(results.rglob("*.json"))


# --- runs ---------------------------------------------------------------------------------------


def test_runs_skip_done_redo_corrupt_and_record_failures(project):
    results, cache = project / "data" / "results", project / "data" / "cache"
    runs = ex.expand("tiny", "smoke", overrides={"fail": [False, True]}, seeds=[0])
    legacy = cache / "checkpoints" / "tiny" / "smoke-fail=False-s0.pt"  # before keyed paths
    legacy.parent.mkdir(parents=True)
    legacy.write_text("old state")
    log = []
    statuses = ex.run_experiment(
        runs, devices=["cpu", "cpu"], results=results, cache=cache, log=log.append
    )
    assert statuses == {"smoke-fail=False-s0": "complete", "smoke-fail=True-s0": "failed"}
    good = results / "tiny" / "smoke-fail=False-s0.json"
    record = json.loads(good.read_text())
    threads = max(1, cpu_count() // 2)
    assert record["final"] == {"score": 1.0, "threads": threads, "resumed": False}
    assert record["params"]["fail"] is False and record["device"].startswith("cpu (")
    assert set(record) >= {"git_sha", "versions", "device", "wall_time_s", "metrics"}
    assert (cache / "checkpoints" / "tiny" / "stale" / legacy.name).is_file()
    failed = json.loads((results / "tiny" / "smoke-fail=True-s0.json").read_text())
    assert failed["extra"]["error"] == "RuntimeError: asked to fail"
    notebook = cache / "runs" / "tiny" / "smoke-fail=True-s0.ipynb"
    assert f"smoke-fail=True-s0: failed: RuntimeError: asked to fail (notebook: {notebook})" in log
    assert "[smoke-fail=False-s0] score 1.0" in log  # the run's output, with its id
    assert not list((results / "tiny").glob(".*tmp*"))  # no temp files left behind

    good.write_text('{"experiment": "tiny", "run_id": "smo')  # a half-written file
    assert ex.result_status(good) is None
    log.clear()
    statuses = ex.run_experiment(runs[:1], devices=["cpu"], results=results, cache=cache,
                                 log=log.append)  # one slot: the run's lines unprefixed
    assert statuses == {"smoke-fail=False-s0": "complete"} and ex.result_status(good) == "complete"
    assert "score 1.0" in log and json.loads(good.read_text())["final"]["resumed"] is True
    log.clear()
    ex.run_experiment(runs[:1], devices=["cpu"], results=results, cache=cache, log=log.append)
    assert log == ["skip smoke-fail=False-s0: complete"]


def test_submitit_local_executor(project):
    results = project / "data" / "results"
    runs = ex.expand("tiny", "smoke", seeds=[3])
    statuses = ex.run_experiment(
        runs, results=results, executor="submitit-local", log=lambda _: None
    )
    assert statuses == {"smoke-fail=False-s3": "complete"}
    record = json.loads((results / "tiny" / "smoke-fail=False-s3.json").read_text())
    assert record["final"]["score"] == 4.0


def test_papermill_warns_of_unknown_parameters_except_shared_and_injected_ones(caplog):
    logger = logging.getLogger("papermill")
    with execute.expected_parameters_quiet():
        for name in ("epochs", "lr", "threads", "run_id", "seed", "epoch"):
            logger.warning(f"Passed unknown parameter: {name}")
        logger.warning("Input notebook does not contain a cell with tag parameters")
    logger.warning("Passed unknown parameter: epochs")  # outside the block: the filter is gone
    assert [r.getMessage() for r in caplog.records] == [
        "Passed unknown parameter: epoch",
        "Input notebook does not contain a cell with tag parameters",
        "Passed unknown parameter: epochs",
    ]


def test_a_run_logs_the_unknown_parameter_of_a_profile_only(project):
    path = project / "notebooks" / "experiments" / "tiny.json"
    spec = json.loads(path.read_text())
    spec["profiles"]["smoke"]["params"]["epoch"] = 3  # a typo; ``epochs`` is shared
    path.write_text(json.dumps(spec))
    log = []
    runs = ex.expand("tiny", "smoke", seeds=[0])
    ex.run_experiment(runs, devices=["cpu"], results=project / "results",
                      cache=project / "cache", log=log.append)
    assert [line for line in log if "unknown parameter" in line] == [
        "Passed unknown parameter: epoch"
    ]


# --- result files and reports --------------------------------------------------------------------


def _write(path, **fields):
    args = {
        "experiment": "fx",
        "run_id": path.stem,
        "params": {},
        "status": "complete",
        "metrics": [],
        "final": {},
    }
    return ex.write_result(path, **(args | fields))


def test_write_result_is_strict_json_without_nan(tmp_path):
    path = _write(
        tmp_path / "x.json",
        metrics=[{"epoch": 1, "train_loss": math.nan}],
        final={"test_loss": math.inf, "nested": [1.0, -math.inf, {"a": math.nan}]},
    )

    def refuse(constant):
        raise ValueError(f"bare {constant} in the file")

    record = json.loads(path.read_text(), parse_constant=refuse)
    assert record["metrics"][0]["train_loss"] is None and record["wall_time_s"] is None
    assert record["final"] == {"test_loss": None, "nested": [1.0, None, {"a": None}]}


def test_write_result_rejects_unknown_status(tmp_path):
    with pytest.raises(ValueError, match="status must be"):
        _write(tmp_path / "x.json", status="ok")


def test_write_result_records_the_device_and_its_name(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: f"Fake GPU {device}")
    gpu = json.loads(_write(tmp_path / "g.json", device="cuda:1").read_text())
    assert gpu["device"] == "cuda:1 (Fake GPU cuda:1)"
    cpu = json.loads(_write(tmp_path / "c.json", device="cpu").read_text())
    bf16 = "native bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "no native bf16"
    assert cpu["device"].startswith("cpu (") and cpu["device"].endswith(f" threads, {bf16})")
    monkeypatch.setattr(provenance, "_cpu_model", lambda: "Some CPU")
    cpu = json.loads(_write(tmp_path / "d.json", device="cpu").read_text())
    assert cpu["device"].startswith("cpu (Some CPU, ")


@pytest.mark.parametrize(
    "fields",
    [{"final": [0.5]}, {"params": "lr=0.1"}, {"metrics": {}}, {"status": "ok"}],
)
def test_malformed_records_are_not_results(tmp_path, fields):
    path = _result(tmp_path, "bad", **fields)
    _result(tmp_path, "good")
    assert ex.result_status(path) is None
    assert [r["run_id"] for r in ex.load_results("tiny", tmp_path)] == ["good"]


def test_report_counts_statuses_and_averages_complete_runs_only(tmp_path):
    runs = {
        ("a", 0): ("complete", 0.5),
        ("a", 1): ("complete", 0.7),
        ("a", 2): ("diverged", 0.1),
        ("a", 3): ("failed", None),
        ("b", 0): ("complete", 0.9),
        ("b", 1): ("complete", 0.9),
    }
    for (model, seed), (status, score) in runs.items():
        _write(
            tmp_path / "fx" / f"{model}-s{seed}.json",
            params={"model": model, "seed": seed, "profile": "cpu", "lr": 0.1},
            status=status,
            final={} if score is None else {"test_accuracy": score},
            wall_time_s=1.0,
        )
    table = ex.report("fx", metrics=["test_accuracy"], results=tmp_path)
    a, b = table.loc[("cpu", "a")], table.loc[("cpu", "b")]
    assert (a["runs"], a["complete"], a["diverged"], a["failed"]) == (4, 2, 1, 1)
    assert a["test_accuracy_mean"] == pytest.approx(0.6)
    assert a["test_accuracy_std"] == pytest.approx(0.1414, abs=1e-4)
    assert b["runs"] == 2 and "lr" not in table.index.names
    with pytest.raises(FileNotFoundError, match="no results"):
        ex.report("empty", results=tmp_path)


# --- dry run -----------------------------------------------------------------------------------


def test_describe_lists_states_count_and_eta(project):
    results, cache = project / "results", project / "cache"
    runs = ex.expand("tiny", "smoke", overrides={"fail": [False, True]})
    _result(results, "smoke-fail=True-s1")  # done, but no epoch times
    lines = ex.describe(runs, devices=["cpu", "cpu"], results=results, cache=cache)
    assert [line.split("  ")[:2] for line in lines[:4]] == [
        ["smoke-fail=False-s0", "pending"],
        ["smoke-fail=False-s1", "pending"],
        ["smoke-fail=True-s0", "pending"],
        ["smoke-fail=True-s1", "done"],
    ]
    assert lines[4:] == ["4 runs: 1 done, 3 pending, 0 running", "ETA: no measured epoch times yet"]
    times = [{"epoch": 1, "epoch_time_s": 2.0}, {"epoch": 2, "epoch_time_s": 4.0}]
    _result(results, "smoke-fail=True-s1", metrics=times, device="cpu (Some CPU, 2 threads)")
    _result(results, "other-profile", metrics=[{"epoch_time_s": 100.0}], params={"profile": "x"})
    eta = ex.describe(runs, devices=["cpu", "cpu"], results=results, cache=cache)[-1]
    # 3 pending runs × 3 epochs × 3 s per epoch ÷ 2 slots
    assert eta == (
        "ETA: 14s (9 pending epochs × 3.0 s/epoch measured over 2 epochs on "
        "cpu (Some CPU, 2 threads) ÷ 2 slot(s))"
    )


# --- the time budget ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2h", 7200), ("90m", 5400), ("1h30m", 5400), ("45s", 45), ("1h0m5s", 3605)],
)
def test_budgets_parse(text, seconds):
    assert ex.parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["", "90", "1.5h", "30m1h", "0m", "two hours"])
def test_bad_budgets_say_what_a_budget_looks_like(text):
    with pytest.raises(ex.ExperimentError, match="--budget"):
        ex.parse_budget(text)


def test_a_run_starts_only_if_its_measured_epochs_fit_the_budget(project):
    from spectral.experiments.budget import Budget

    results = project / "results"
    run = ex.expand("tiny", "smoke", seeds=[0])[0]  # the profile's 3 epochs
    now = [0.0]
    budget = Budget(100.0, results, {"cpu": "cpu (Some CPU)"}, clock=lambda: now[0])
    admitted, line = budget.admits(run, "cpu")
    assert admitted and "no epoch time measured on cpu (Some CPU)" in line
    times = [{"epoch_time_s": 20.0}, {"epoch_time_s": 40.0}]  # 30 s per epoch
    _result(results, "smoke-fail=False-s1", metrics=times, device="cpu (Some CPU)")
    _result(results, "elsewhere", metrics=[{"epoch_time_s": 1.0}], device="cpu (Other CPU)")
    _result(results, "broken", status="failed", metrics=[{"epoch_time_s": 1.0}],
            device="cpu (Some CPU)")
    assert budget.admits(run, "cpu") == (True, None)  # 3 × 30 s = 90 s ≤ 100 s
    now[0] = 20.0
    admitted, line = budget.admits(run, "cpu")
    assert not admitted
    assert line == (f"not started {run.run_id}: expected 1m 30s (3 epochs × 30 s on "
                    "cpu (Some CPU)), 1m 20s of the budget left")


def test_the_runner_starts_only_what_the_budget_can_fit(project):
    from spectral.experiments.provenance import device_name
    from spectral.experiments.slots import threads_per_slot

    results, cache = project / "results", project / "cache"
    name = device_name("cpu", threads_per_slot(["cpu"]))
    runs = ex.expand("tiny", "smoke", seeds=[0, 1])  # 3 epochs each
    kwargs = {"devices": ["cpu"], "results": results, "cache": cache, "log": lambda _: None}
    _result(results, "measured", metrics=[{"epoch_time_s": 3600.0}], device=name)
    statuses = ex.run_experiment(runs, budget_s=600, **kwargs)  # 3 h expected, 10 min given
    assert statuses == dict.fromkeys([r.run_id for r in runs], ex.NOT_STARTED)
    assert not any(r.result_path(results).exists() for r in runs)
    assert not (cache / "runs").exists()
    _result(results, "measured", metrics=[{"epoch_time_s": 1.0}], device=name)
    statuses = ex.run_experiment(runs, budget_s=600, **kwargs)
    assert statuses == dict.fromkeys([r.run_id for r in runs], "complete")
    with pytest.raises(ex.ExperimentError, match="local executor only"):
        ex.run_experiment(runs, executor="slurm", results=results, budget_s=60)


# --- bf16 runs on a CPU without native bfloat16 -------------------------------------------------


def _with_amp(runs, amps):
    pairs = zip(runs, amps, strict=True)
    return [ex.Run(r.experiment, r.run_id, {**r.params, "amp": a}) for r, a in pairs]


@pytest.mark.parametrize(
    ("native", "devices", "amps", "refused"),
    [
        (False, ["cpu"], ["bf16", None], True),
        (False, ["cuda:0", "cpu"], ["bf16", "bf16"], True),
        (False, ["cuda:0"], ["bf16", "bf16"], False),  # GPU slots only: the GPU decides
        (False, ["cpu", "cpu"], [None, "fp16"], False),
        (True, ["cpu"], ["bf16", "bf16"], False),
    ],
)
def test_bf16_runs_are_refused_for_cpu_slots_without_native_bf16(
    project, monkeypatch, native, devices, amps, refused
):
    from spectral import train
    from spectral.experiments import slots

    monkeypatch.setattr(train, "native_bf16", lambda device="cpu": native)
    runs = _with_amp(ex.expand("tiny", "smoke"), amps)
    if not refused:
        slots.check_bf16(runs, devices)
        return
    expected = f"{amps.count('bf16')} of the 2 runs to do use amp='bf16'"
    with pytest.raises(ex.ExperimentError, match=expected) as error:
        slots.check_bf16(runs, devices)
    for fix in ("--devices cuda:0", "-p amp=null", "--allow-emulated-bf16"):
        assert fix in str(error.value)


def test_the_runner_refuses_emulated_bf16_before_running_and_the_dry_run_warns(
    project, monkeypatch
):
    from spectral import train

    monkeypatch.setattr(train, "native_bf16", lambda device="cpu": False)
    results, cache = project / "results", project / "cache"
    runs = _with_amp(ex.expand("tiny", "smoke"), ["bf16", "bf16"])
    with pytest.raises(ex.ExperimentError, match="no native bfloat16"):
        ex.run_experiment(runs, devices=["cpu"], results=results, cache=cache, log=print)
    assert not list(results.glob("tiny/*.json")) and not (cache / "runs").exists()
    lines = ex.describe(runs, devices=["cpu"], results=results, cache=cache)
    assert lines[-1].startswith("warning: 2 of the 2 runs to do use amp='bf16'")
    monkeypatch.setattr(train, "native_bf16", lambda device="cpu": True)
    assert ex.describe(runs, devices=["cpu"], results=results, cache=cache)[-1].startswith("ETA")


def test_the_cli_passes_the_bf16_flag_and_the_budget(project, monkeypatch):
    from spectral import __main__ as cli

    seen = {}
    monkeypatch.setattr(ex, "run_experiment", lambda runs, **kw: seen.update(kw) or {})
    assert cli.main(["run", "tiny", "--allow-emulated-bf16"]) == 0
    assert seen["allow_emulated_bf16"] is True
    assert cli.main(["run", "tiny"]) == 0 and seen["allow_emulated_bf16"] is False
    assert seen["budget_s"] is None
    assert cli.main(["run", "tiny", "--budget", "1h30m"]) == 0 and seen["budget_s"] == 5400
    assert cli.main(["run", "tiny", "--budget", "soon"]) == 2


@pytest.mark.skipif(
    not (Path(os.environ.get("SPECTRAL_DATA") or "/nonexistent") / "cifar10-jpeg.tar.gz").is_file(),
    reason="the baseline smoke run trains on CIFAR-10: cifar10-jpeg.tar.gz not in $SPECTRAL_DATA",
)
def test_baseline_smoke_profile_runs_end_to_end(tmp_path):
    runs = ex.expand("baseline", "smoke")
    statuses = ex.run_experiment(
        runs, results=tmp_path, cache=tmp_path / "cache", log=lambda _: None
    )
    assert statuses == {"smoke-s0": "complete"}
    record = json.loads((tmp_path / "baseline" / "smoke-s0.json").read_text())
    assert len(record["metrics"]) == 2 and 0.0 <= record["final"]["test_accuracy"] <= 1.0
    assert runs[0].checkpoint_path(tmp_path / "cache").is_file()


def test_an_installed_package_outside_a_checkout_says_where_the_experiments_are(monkeypatch):
    monkeypatch.setattr(paths, "PROJECT", None)
    with pytest.raises(ex.ExperimentError, match="clone the repository"):
        ex.expand("baseline", "smoke")


def test_the_default_cpu_arrangement_is_two_slots_with_half_the_cores_each(monkeypatch):
    """benchmarks/engine.py: two one-thread runs finish a grid sooner on 2 cores."""
    from spectral.experiments import slots

    monkeypatch.setattr(slots, "cpu_count", lambda: 2)
    assert slots.devices(None) == ["cpu", "cpu"]
    assert slots.threads_per_slot(slots.devices(None)) == 1
