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
        return {"weight_norm": float(sum(p.detach().norm() for p in model.parameters()))}

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


def test_optimizer_hooks_are_called_once_before_training(tmp_path):
    train, test = toy_problem()
    calls, steps = [], []

    def hook(optimizer):
        assert not optimizer.state  # called before the checkpoint's state is loaded
        calls.append(optimizer)
        optimizer.register_step_post_hook(lambda opt, args, kwargs: steps.append(1))

    checkpoint = tmp_path / "run.pt"
    config = TrainConfig(**{**CONFIG.__dict__, "epochs": 1})
    fit(
        toy_model(),
        train,
        test,
        config,
        optimizer_hooks=[hook],
        checkpoint=checkpoint,
        progress=False,
    )
    assert len(calls) == 1 and isinstance(calls[0], torch.optim.SGD)
    assert len(steps) == len(train)  # registered before the first step
    fit(
        toy_model(),
        train,
        test,
        CONFIG,
        optimizer_hooks=[hook],
        checkpoint=checkpoint,
        progress=False,
    )  # resumed: the hook runs again on the new optimiser
    assert len(calls) == 2 and len(steps) == len(train) * CONFIG.epochs


def test_lr_multipliers_scale_each_parameters_step():
    train, test = toy_problem()
    config = TrainConfig(epochs=1, lr=0.05, momentum=0.0, weight_decay=0.0)
    plain, scaled_model = toy_model(0.0), toy_model(0.0)
    scaled_model.lr_multipliers = {"0.weight": 0.1, "4.bias": 2.0}
    start = {k: v.clone() for k, v in plain.state_dict().items()}
    one_batch = train[:1]
    a = fit(plain, one_batch, test, config, progress=False)
    b = fit(scaled_model, one_batch, test, config, progress=False)
    # one plain SGD step from the same start on the same batch: the updates scale exactly
    for name, multiplier in [("0.weight", 0.1), ("4.bias", 2.0), ("0.bias", 1.0)]:
        step_plain = plain.state_dict()[name] - start[name]
        step_scaled = scaled_model.state_dict()[name] - start[name]
        assert step_plain.abs().max() > 0
        torch.testing.assert_close(step_scaled, multiplier * step_plain)
    assert a["final"]["lr"] == 0.05 and b["final"]["lr"] == pytest.approx(0.05)


def test_lr_multipliers_resume_and_reject_unknown_names(tmp_path):
    train, test = toy_problem()
    multipliers = {"0.weight": 0.5, "4.weight": 3.0}
    straight = toy_model()
    straight.lr_multipliers = multipliers
    expected = fit(straight, train, test, CONFIG, progress=False)
    checkpoint = tmp_path / "run.pt"
    first = toy_model()
    first.lr_multipliers = multipliers
    fit(
        first,
        train,
        test,
        TrainConfig(**{**CONFIG.__dict__, "epochs": 1}),
        checkpoint=checkpoint,
        progress=False,
    )
    resumed_model = toy_model()
    resumed_model.lr_multipliers = multipliers
    resumed = fit(resumed_model, train, test, CONFIG, checkpoint=checkpoint, progress=False)
    assert [m["train_loss"] for m in resumed["epochs"]] == [
        m["train_loss"] for m in expected["epochs"]
    ]
    assert [m["lr"] for m in resumed["epochs"]] == pytest.approx([0.05, 0.05, 0.005, 0.005])
    bad = toy_model()
    bad.lr_multipliers = {"conv.weight": 0.1}
    with pytest.raises(ValueError, match="unknown parameters"):
        fit(bad, train, test, CONFIG, progress=False)
