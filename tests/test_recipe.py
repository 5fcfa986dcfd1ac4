"""spectral.recipe: the standard run every experiment notebook makes, and the notebooks."""

import json
import math

import jupytext
import papermill
import pytest
import torch
from torch import nn

from spectral.experiments import PROJECT
from spectral.recipe import StandardRun, best_validation
from spectral.train import TrainConfig


def tiny_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 8 * 8, 10))


def test_from_namespace_takes_shared_and_config_names_and_ignores_the_rest():
    run = StandardRun.from_namespace({
        "dataset": "synthetic", "epochs": 3, "lr": 0.2, "schedule": "multistep",
        "milestones": [1, 2], "variant": "SBN34", "val_fraction": 0.2, "seed": 3,
    })
    assert run.dataset == "synthetic" and run.val_fraction == 0.2 and run.seed == 3
    assert run.config == TrainConfig(epochs=3, lr=0.2, schedule="multistep", milestones=(1, 2))


@pytest.mark.parametrize("device, calls", [("cpu", 1), ("cuda:0", 0)])
def test_a_cpu_run_keeps_freed_memory(device, calls, monkeypatch):
    seen = []
    monkeypatch.setattr("spectral.recipe.keep_freed_memory", lambda: seen.append(1))
    StandardRun(device=device)
    assert len(seen) == calls


def test_parameters_lists_every_shared_setting_with_its_default():
    params = StandardRun.parameters()
    assert params["lr"] == 0.1 and params["milestones"] == [] and params["amp"] is None
    assert {"dataset", "epochs", "val_fraction", "channels_last", "torch_compile"} <= set(params)
    assert not {"seed", "device", "threads", "run_id", "result_path"} & set(params)
    json.dumps(params)  # profiles are JSON: every default must be too


def test_a_run_with_validation_records_the_test_accuracy_at_the_best_validation_epoch(tmp_path):
    result = tmp_path / "r.json"
    run = StandardRun(dataset="synthetic", epochs=3, batch_size=64, val_fraction=0.2,
                      result_path=str(result), experiment="e", run_id="r",
                      run_params={"lr": 0.1}, config_params={"lr": 0.05})
    loaders = run.loaders()
    assert len(loaders.val.labels) == 128 and len(loaders.train.labels) == 512
    outcome = run.train(tiny_net(), loaders)
    run.save(outcome)
    record = json.loads(result.read_text())
    assert record["status"] == "complete" and record["params"] == {"lr": 0.1}
    epochs = record["metrics"]
    best = max(epochs, key=lambda m: m["val_accuracy"])
    assert record["final"]["best_val_epoch"] == best["epoch"]
    assert record["final"]["test_accuracy_at_best_val"] == best["test_accuracy"]
    assert record["wall_time_s"] >= sum(m["epoch_time_s"] for m in epochs)


def test_a_run_diverging_in_its_first_epoch_with_validation_is_recorded_diverged(tmp_path):
    """Defect: with a validation split it was recorded 'failed' (KeyError) and redone."""
    result = tmp_path / "r.json"
    run = StandardRun(dataset="synthetic", epochs=3, batch_size=64, val_fraction=0.2,
                      result_path=str(result), config_params={"lr": 1e30, "momentum": 0.0})
    outcome = run.train(tiny_net(), run.loaders())
    run.save(outcome)
    record = json.loads(result.read_text())
    assert record["status"] == "diverged" and len(record["metrics"]) == 1
    assert "best_val_epoch" not in record["final"]


@pytest.mark.parametrize(
    "epochs, expected",
    [
        ([], {}),
        ([{"epoch": 1, "train_loss": math.nan}], {}),
        ([{"epoch": 1, "val_accuracy": 0.5, "test_accuracy": 0.4},
          {"epoch": 2, "val_accuracy": 0.7, "test_accuracy": 0.6},
          {"epoch": 3, "val_accuracy": 0.7, "test_accuracy": 0.9}],
         {"best_val_epoch": 2, "test_accuracy_at_best_val": 0.6}),
        ([{"epoch": 1, "val_accuracy": math.nan, "test_accuracy": 0.9},
          {"epoch": 2, "val_accuracy": 0.1, "test_accuracy": 0.2}],
         {"best_val_epoch": 2, "test_accuracy_at_best_val": 0.2}),
    ],
)
def test_best_validation(epochs, expected):
    assert best_validation(epochs) == expected


def smoke_parameters(experiment: str) -> dict:
    """The experiment's smoke profile on the synthetic data, one epoch."""
    spec = json.loads((PROJECT / f"notebooks/experiments/{experiment}.json").read_text())
    smoke = spec["profiles"]["smoke"]
    params = dict(smoke["params"]) | {k: v[0] for k, v in smoke.get("grid", {}).items()}
    params |= {"dataset": "synthetic", "epochs": 1, "schedule": "constant", "milestones": []}
    if experiment == "maximum_gain":
        params["model"] = "lenet_cifar"
    if experiment == "masks":
        params["severities"] = [1]
    return params


EXPERIMENTS = sorted(p.stem for p in (PROJECT / "notebooks/experiments").glob("*.py"))


SBN_ARMS = ["SBN34-ortho", "2BN34-scaled", "BN-logit-scale"]  # the campaign's controls


@pytest.mark.parametrize(
    "experiment, overrides",
    [(e, {}) for e in EXPERIMENTS] + [("sbn", {"variant": v}) for v in SBN_ARMS],
)
def test_every_experiment_notebook_runs_on_synthetic_data(experiment, overrides, tmp_path):
    result = tmp_path / "result.json"
    params = smoke_parameters(experiment) | overrides | {
        "experiment": experiment, "run_id": "smoke", "run_params": {}, "threads": 1,
        "result_path": str(result), "checkpoint_path": str(tmp_path / "run.pt"),
    }
    papermill.execute_notebook(
        jupytext.read(PROJECT / f"notebooks/experiments/{experiment}.py"),
        str(tmp_path / "out.ipynb"), parameters=params, kernel_name="python3",
        language="python", cwd=str(PROJECT), progress_bar=False,
    )
    record = json.loads(result.read_text())
    assert record["status"] == "complete" and len(record["metrics"]) == 1
    assert 0 <= record["final"]["test_accuracy"] <= 1
    if overrides.get("variant") == "BN-logit-scale":
        assert 0 < record["final"]["logit_scale"] < 1
