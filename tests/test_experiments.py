"""spectral.experiments: grids, papermill runs, resume/redo, executors, reports."""

import json
import os
from pathlib import Path

import pytest

import spectral.experiments as ex
from spectral.__main__ import main

TINY = """# %% tags=["parameters"]
value = 1.0
fail = False
seed = 0
experiment = run_id = result_path = checkpoint_path = device = None
run_params = {}

# %%
from spectral.experiments import write_result

if fail:
    raise RuntimeError("asked to fail")
write_result(result_path, experiment=experiment, run_id=run_id, params=run_params,
             status="complete", metrics=[{"epoch": 1, "score": value + seed}],
             final={"score": value + seed}, wall_time_s=0.0, device=device)
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks" / "experiments"
    folder.mkdir(parents=True)
    (folder / "tiny.py").write_text(TINY)
    profiles = {
        "profiles": {
            "smoke": {"params": {"value": 1.0}, "grid": {"fail": [False]}, "seeds": [0, 1]}
        }
    }
    (folder / "tiny.json").write_text(json.dumps(profiles))
    monkeypatch.setattr(ex, "PROJECT", tmp_path)
    monkeypatch.setenv("SPECTRAL_PROJECT", str(tmp_path))  # for submitit's subprocess
    return tmp_path


def test_expand_real_baseline_profiles():
    runs = ex.expand("baseline", "cpu")
    assert [r.run_id for r in runs] == ["cpu-s0", "cpu-s1", "cpu-s2"]
    assert runs[0].params["model"] == "resnet20" and runs[1].params["seed"] == 1
    runs = ex.expand("baseline", "smoke", seeds=[5], overrides={"width": 0.5})
    assert [r.run_id for r in runs] == ["smoke-width=0.5-s5"] and runs[0].params["width"] == 0.5


def test_expand_errors():
    with pytest.raises(ValueError, match="no experiment 'nope'; known: baseline"):
        ex.expand("nope", "cpu")
    with pytest.raises(ValueError, match="choose one of smoke, cpu, paper"):
        ex.expand("baseline", "huge")


def test_grid_override_replaces_an_axis(project):
    runs = ex.expand("tiny", "smoke", overrides={"fail": [False, True]}, seeds=[0])
    assert [r.run_id for r in runs] == ["smoke-fail=False-s0", "smoke-fail=True-s0"]


def test_runs_skip_done_redo_corrupt_and_record_failures(project):
    results = project / "data" / "results"
    runs = ex.expand("tiny", "smoke", overrides={"fail": [False, True]}, seeds=[0])
    log = []
    statuses = ex.run_experiment(runs, results=results, log=log.append)
    assert statuses == {"smoke-fail=False-s0": "complete", "smoke-fail=True-s0": "failed"}
    good = results / "tiny" / "smoke-fail=False-s0.json"
    record = json.loads(good.read_text())
    assert record["final"] == {"score": 1.0} and record["params"]["fail"] is False
    assert set(record) >= {"git_sha", "versions", "device", "wall_time_s", "metrics"}
    failed = json.loads((results / "tiny" / "smoke-fail=True-s0.json").read_text())
    assert "asked to fail" in failed["extra"]["error"]
    assert not list((results / "tiny").glob(".*tmp*"))  # no temp files left behind

    good.write_text('{"experiment": "tiny", "run_id": "smo')  # a half-written file
    assert ex.result_status(good) is None
    log.clear()
    statuses = ex.run_experiment(runs[:1], results=results, log=log.append)
    assert statuses == {"smoke-fail=False-s0": "complete"} and ex.result_status(good) == "complete"
    log.clear()
    ex.run_experiment(runs[:1], results=results, log=log.append)
    assert log == ["skip smoke-fail=False-s0: complete"]


def test_submitit_local_executor(project):
    results = project / "data" / "results"
    runs = ex.expand("tiny", "smoke", seeds=[3])
    statuses = ex.run_experiment(
        runs, results=results, executor="submitit-local", log=lambda _: None
    )
    assert statuses == {"smoke-fail=False-s3": "complete"}
    assert (
        json.loads((results / "tiny" / "smoke-fail=False-s3.json").read_text())["final"]["score"]
        == 4.0
    )


def test_report_aggregates_over_seeds(tmp_path):
    for model, scores in {"a": [0.5, 0.7], "b": [0.9, 0.9]}.items():
        for seed, score in enumerate(scores):
            ex.write_result(
                tmp_path / "fx" / f"{model}-s{seed}.json",
                experiment="fx",
                run_id=f"{model}-s{seed}",
                params={"model": model, "seed": seed, "profile": "cpu", "lr": 0.1},
                status="complete",
                metrics=[],
                final={"test_accuracy": score},
                wall_time_s=1.0,
            )
    table = ex.report("fx", metrics=["test_accuracy"], results=tmp_path)
    assert table.loc[("cpu", "a"), "test_accuracy_mean"] == pytest.approx(0.6)
    assert table.loc[("cpu", "a"), "test_accuracy_std"] == pytest.approx(0.1414, abs=1e-4)
    assert table.loc[("cpu", "b"), "runs"] == 2 and "lr" not in table.index.names
    with pytest.raises(FileNotFoundError, match="no results"):
        ex.report("empty", results=tmp_path)


def test_write_result_rejects_unknown_status(tmp_path):
    with pytest.raises(ValueError, match="status must be"):
        ex.write_result(
            tmp_path / "x.json",
            experiment="x",
            run_id="x",
            params={},
            status="ok",
            metrics=[],
            final={},
            wall_time_s=0.0,
        )


def test_cli_dry_run_and_bad_parameter(capsys):
    assert main(["run", "baseline", "--profile", "cpu", "--dry-run", "-p", "epochs=2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("cpu-epochs=2-s0 ") and '"epochs": 2' in out[0]
    with pytest.raises(SystemExit, match="key=value"):
        main(["run", "baseline", "-p", "epochs"])


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
    assert (tmp_path / "cache" / "checkpoints" / "baseline" / "smoke-s0.pt").is_file()
