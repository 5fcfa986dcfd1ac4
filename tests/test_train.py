"""spectral.train: determinism, resume after a kill, divergence, callbacks, config errors."""

import math

import pytest
import torch
from torch import nn

from spectral.train import TrainConfig, fit, seed_everything


def toy_problem(seed=0, n=96):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 6, 6, generator=generator)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    batches = [(x[i : i + 32], y[i : i + 32]) for i in range(0, n, 32)]
    return batches, batches[:1]


def toy_model(dropout=0.2):
    seed_everything(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Dropout(dropout), nn.Flatten(), nn.Linear(64, 2)
    )


CONFIG = TrainConfig(epochs=4, lr=0.05, schedule="multistep", milestones=(2,), weight_decay=1e-3)


def test_fit_is_deterministic_and_learns():
    train, test = toy_problem()
    a = fit(toy_model(), train, test, CONFIG, progress=False)
    b = fit(toy_model(), train, test, CONFIG, progress=False)
    assert a["status"] == "complete" and len(a["epochs"]) == 4
    assert [m["train_loss"] for m in a["epochs"]] == [m["train_loss"] for m in b["epochs"]]
    assert a["epochs"][-1]["train_loss"] < a["epochs"][0]["train_loss"]
    assert [m["lr"] for m in a["epochs"]] == pytest.approx([0.05, 0.05, 0.005, 0.005])


def test_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path):
    train, test = toy_problem()
    straight = toy_model()
    expected = fit(straight, train, test, CONFIG, progress=False)
    checkpoint = tmp_path / "run.pt"
    first = toy_model()
    fit(
        first,
        train,
        test,
        TrainConfig(**{**CONFIG.__dict__, "epochs": 1}),
        checkpoint=checkpoint,
        progress=False,
    )
    del first  # "killed" after epoch 1: only the checkpoint survives
    resumed_model = toy_model()
    resumed = fit(resumed_model, train, test, CONFIG, checkpoint=checkpoint, progress=False)
    strip = [{k: v for k, v in m.items() if k != "epoch_time_s"} for m in resumed["epochs"]]
    assert strip == [
        {k: v for k, v in m.items() if k != "epoch_time_s"} for m in expected["epochs"]
    ]
    for p, q in zip(
        straight.state_dict().values(), resumed_model.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q)


def test_a_finished_checkpoint_is_not_retrained(tmp_path):
    train, test = toy_problem()
    checkpoint = tmp_path / "run.pt"
    fit(toy_model(), train, test, CONFIG, checkpoint=checkpoint, progress=False)
    again = fit(toy_model(), train, test, CONFIG, checkpoint=checkpoint, progress=False)
    assert len(again["epochs"]) == 4


def test_divergence_is_recorded_not_raised():
    train, test = toy_problem()
    bad = TrainConfig(epochs=3, lr=1e30, momentum=0.0, weight_decay=0.0)
    result = fit(toy_model(0.0), train, test, bad, progress=False)
    assert result["status"] == "diverged"
    assert len(result["epochs"]) < 3 or math.isnan(result["final"]["train_loss"])


def test_callbacks_add_metrics():
    train, test = toy_problem()
    seen = []

    def norm_of_weights(epoch, model, metrics):
        seen.append(epoch)
        return {"weight_norm": float(sum(p.norm() for p in model.parameters()))}

    result = fit(toy_model(), train, test, CONFIG, callbacks=[norm_of_weights], progress=False)
    assert seen == [1, 2, 3, 4] and "weight_norm" in result["final"]


def test_adam_and_step_schedule():
    train, test = toy_problem()
    config = TrainConfig(
        epochs=4, optimizer="adam", lr=1e-2, schedule="step", step_size=2, gamma=0.5
    )
    result = fit(toy_model(), train, test, config, progress=False)
    assert [m["lr"] for m in result["epochs"]] == pytest.approx([1e-2, 1e-2, 5e-3, 5e-3])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"epochs": 1, "optimizer": "rmsprop"}, "optimizer must be"),
        ({"epochs": 1, "schedule": "cosine"}, "schedule must be"),
        ({"epochs": 1, "schedule": "step"}, "step_size"),
        ({"epochs": 1, "amp": "fp8"}, "amp must be"),
        ({"epochs": 1, "lr": 0}, "lr must be > 0"),
    ],
)
def test_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)
