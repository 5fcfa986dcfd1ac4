"""spectral.train: determinism, resume after a kill, divergence, callbacks, config errors."""

import math

import pytest
import torch
from torch import nn

from spectral.train import TrainConfig, evaluate, fit, seed_everything


def toy_problem(seed=0, n=96):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 6, 6, generator=generator)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    batches = [(x[i : i + 32], y[i : i + 32]) for i in range(0, n, 32)]
    return batches, batches[:1]


class Killed(Exception):
    """Stands for a kill: raised by a callback after the checkpoint of ``epoch - 1``."""


def kill_at(epoch):
    def callback(e, model, metrics):
        if e == epoch:
            raise Killed

    return callback


def train_until_killed(model, train, test, config, checkpoint, epoch=2, **kwargs):
    with pytest.raises(Killed):
        fit(model, train, test, config, checkpoint=checkpoint, progress=False,
            callbacks=[kill_at(epoch)], **kwargs)


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
    train_until_killed(toy_model(), train, test, CONFIG, checkpoint)  # after epoch 1
    resumed_model = toy_model()
    resumed = fit(resumed_model, train, test, CONFIG, checkpoint=checkpoint, progress=False)
    assert len(torch.load(checkpoint, weights_only=False)["history"]) == 4
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
    first = fit(toy_model(), train, test, CONFIG, checkpoint=checkpoint, progress=False)
    batches = []

    class Counting(list):
        def __iter__(self):
            batches.append(1)
            return super().__iter__()

    again = fit(toy_model(), Counting(train), test, CONFIG, checkpoint=checkpoint,
                progress=False, callbacks=[kill_at(1)])  # any epoch trained would raise
    assert batches == [] and again["epochs"] == first["epochs"]


def test_a_finished_run_can_be_extended(tmp_path):
    train, test = toy_problem()
    checkpoint = tmp_path / "run.pt"
    short = TrainConfig(**{**CONFIG.__dict__, "epochs": 3})
    fit(toy_model(), train, test, short, checkpoint=checkpoint, progress=False)
    longer = fit(toy_model(), train, test, CONFIG, checkpoint=checkpoint, progress=False)
    expected = fit(toy_model(), train, test, CONFIG, progress=False)
    assert [m["train_loss"] for m in longer["epochs"]] == [
        m["train_loss"] for m in expected["epochs"]
    ]


@pytest.mark.parametrize(
    "changed", [{"lr": 0.2}, {"epochs": 2}, {"weight_decay": 0.0}, {"momentum": 0.5}]
)
def test_a_checkpoint_of_other_settings_is_moved_aside_not_resumed(tmp_path, changed):
    """Defect: after editing a profile (epochs=1, lr=0.2) the old checkpoint was resumed."""
    train, test = toy_problem()
    checkpoint = tmp_path / "run.pt"
    fit(toy_model(), train, test, CONFIG, checkpoint=checkpoint, progress=False)
    config = TrainConfig(**{**CONFIG.__dict__, "milestones": (1,), **changed})
    messages = []
    result = fit(toy_model(), train, test, config, checkpoint=checkpoint, progress=False,
                 log=messages.append)
    fresh = fit(toy_model(), train, test, config, progress=False, log=lambda _: None)
    assert [m["train_loss"] for m in result["epochs"]] == [
        m["train_loss"] for m in fresh["epochs"]
    ]
    assert any("moved to" in m and "stale" in m for m in messages)
    assert len(list((tmp_path / "stale").glob("run-*.pt"))) == 1


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", "truncated", "foreign"])
def test_a_broken_checkpoint_is_moved_aside_and_training_restarts(tmp_path, content):
    """Defect: a truncated, empty or incompatible checkpoint failed the run on every rerun."""
    train, test = toy_problem()
    checkpoint = tmp_path / "run.pt"
    if content == "truncated":
        fit(toy_model(), train, test, CONFIG, checkpoint=checkpoint, progress=False)
        checkpoint.write_bytes(checkpoint.read_bytes()[:200])
    elif content == "foreign":
        torch.save({"weights": torch.zeros(3)}, checkpoint)
    else:
        checkpoint.write_bytes(content)
    messages = []
    result = fit(toy_model(), train, test, CONFIG, checkpoint=checkpoint, progress=False,
                 log=messages.append)
    assert result["status"] == "complete" and len(result["epochs"]) == 4
    assert any(str(checkpoint) in m and "stale" in m for m in messages)
    assert torch.load(checkpoint, weights_only=False)["status"] == "complete"


def test_wall_time_sums_every_resumed_segment(tmp_path):
    """Defect: ``wall_time_s`` of a resumed run counted only its last segment."""
    train, test = toy_problem()
    checkpoint = tmp_path / "run.pt"
    train_until_killed(toy_model(), train, test, CONFIG, checkpoint, epoch=3)
    first = torch.load(checkpoint, weights_only=False)["wall_time_s"]
    resumed = fit(toy_model(), train, test, CONFIG, checkpoint=checkpoint, progress=False)
    assert first > 0 and resumed["wall_time_s"] > first
    assert resumed["wall_time_s"] >= sum(m["epoch_time_s"] for m in resumed["epochs"])


def test_divergence_is_recorded_not_raised():
    train, test = toy_problem()
    bad = TrainConfig(epochs=3, lr=1e30, momentum=0.0, weight_decay=0.0)
    result = fit(toy_model(0.0), train, test, bad, progress=False)
    assert result["status"] == "diverged"
    assert len(result["epochs"]) < 3 or math.isnan(result["final"]["train_loss"])


class Exploding(nn.Module):
    """Finite logits that grow without bound: train loss finite but far above ln(K)."""

    def __init__(self, scale):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))
        self.scale = scale

    def forward(self, x):
        wrong = torch.stack([x.flatten(1).mean(1), -x.flatten(1).mean(1)], 1)
        return self.scale * self.weight * wrong.sign()  # always the wrong class


@pytest.mark.parametrize("scale, status", [(1e9, "diverged"), (1.0, "complete")])
def test_a_finite_but_exploding_loss_is_divergence(scale, status):
    """Defect: lr=1e3 gave train loss 2e18 and was recorded complete."""
    train, test = toy_problem()
    config = TrainConfig(epochs=2, lr=1e-9, momentum=0.0, weight_decay=0.0)
    result = fit(Exploding(scale), train, test, config, progress=False, log=lambda _: None)
    assert result["status"] == status
    assert math.isfinite(result["epochs"][0]["train_loss"])
    assert len(result["epochs"]) == (1 if status == "diverged" else 2)


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
        epochs=4, optimizer="adam", lr=1e-2, schedule="step", step_size=2, lr_decay=0.5
    )
    result = fit(toy_model(), train, test, config, progress=False)
    assert [m["lr"] for m in result["epochs"]] == pytest.approx([1e-2, 1e-2, 5e-3, 5e-3])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be an int >= 1"),
        ({"epochs": 2.5}, "epochs must be an int >= 1"),
        ({"epochs": True}, "epochs must be an int >= 1"),
        ({"epochs": 1, "optimizer": "rmsprop"}, "optimizer must be"),
        ({"epochs": 1, "schedule": "cosine"}, "schedule must be"),
        ({"epochs": 1, "schedule": "step"}, "step_size"),
        ({"epochs": 1, "amp": "fp8"}, "amp must be"),
        ({"epochs": 1, "lr": 0}, "lr must be a finite number > 0"),
        ({"epochs": 1, "lr": math.inf}, "lr must be a finite number > 0"),
        ({"epochs": 1, "lr": math.nan}, "lr must be a finite number > 0"),
        ({"epochs": 1, "momentum": 1.0}, r"momentum must lie in \[0, 1\)"),
        ({"epochs": 1, "momentum": -0.1}, r"momentum must lie in \[0, 1\)"),
        ({"epochs": 1, "weight_decay": -1e-4}, "weight_decay must be a finite number >= 0"),
        ({"epochs": 1, "lr_decay": 0.0}, r"lr_decay must lie in \(0, 1\]"),
        ({"epochs": 1, "lr_decay": -0.5}, r"lr_decay must lie in \(0, 1\]"),
        ({"epochs": 10, "schedule": "multistep", "milestones": (6, 3)}, "strictly increasing"),
        ({"epochs": 20, "schedule": "multistep", "milestones": (90, 136)}, "never happens"),
        ({"epochs": 20, "schedule": "multistep", "milestones": (0, 5)}, "lie in"),
        ({"epochs": 20, "schedule": "multistep", "milestones": ()}, "needs int milestones"),
        ({"epochs": 20, "schedule": "multistep", "milestones": (2.5,)}, "needs int"),
        ({"epochs": 1, "divergence_factor": 0.5}, "divergence_factor"),
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
    train_until_killed(toy_model(), train, test, CONFIG, checkpoint, optimizer_hooks=[hook])
    assert len(calls) == 1 and isinstance(calls[0], torch.optim.SGD)
    assert len(steps) == 2 * len(train)  # registered before the first step; killed in epoch 2
    fit(
        toy_model(),
        train,
        test,
        CONFIG,
        optimizer_hooks=[hook],
        checkpoint=checkpoint,
        progress=False,
    )  # resumed: the hook runs again on the new optimiser
    assert len(calls) == 2 and len(steps) == len(train) * (CONFIG.epochs + 1)


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
    train_until_killed(first, train, test, CONFIG, checkpoint)
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


def test_from_params_takes_the_config_fields_and_ignores_the_rest():
    params = {"epochs": 3, "lr": 0.2, "milestones": [1, 2], "schedule": "multistep",
              "model": "resnet20", "seed": 4}
    config = TrainConfig.from_params(params)
    assert config == TrainConfig(epochs=3, lr=0.2, schedule="multistep", milestones=(1, 2))


def test_empty_splits_are_errors_not_nan_results():
    """Defect: an empty test loader raised ZeroDivisionError; an empty training split
    gave a 'complete' NaN result."""
    train, test = toy_problem()
    with pytest.raises(ValueError, match="test_loader is empty"):
        fit(toy_model(), train, [], CONFIG, progress=False)
    with pytest.raises(ValueError, match="train_loader is empty"):
        fit(toy_model(), [], test, CONFIG, progress=False)
    with pytest.raises(ValueError, match="empty loader"):
        evaluate(toy_model(), iter([]), "cpu")


def test_one_line_per_epoch_with_losses_lr_and_eta():
    train, test = toy_problem()
    lines = []
    fit(toy_model(), train, test, CONFIG, progress=False, log=lines.append)
    assert len(lines) == 4
    assert lines[0].startswith("epoch 1/4  train loss ") and "test loss" in lines[0]
    assert "lr 0.05" in lines[0] and "lr 0.005" in lines[3]
    assert "ETA" in lines[0] and lines[3].endswith("ETA 0m00s")


def test_fp16_on_the_cpu_is_a_clear_error():
    train, test = toy_problem()
    with pytest.raises(ValueError, match="amp='fp16' needs a CUDA device"):
        fit(toy_model(), train, test, TrainConfig(epochs=1, amp="fp16"), progress=False)


def small_cnn():
    seed_everything(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))


@pytest.mark.parametrize("fast", [{"amp": "bf16"}, {"channels_last": True},
                                  {"amp": "bf16", "channels_last": True}])
def test_the_fast_path_trains_close_to_float32(fast):
    train, test = toy_problem()
    config = TrainConfig(epochs=3, lr=0.05)
    plain = fit(small_cnn(), train, test, config, progress=False, log=lambda _: None)
    model = small_cnn()
    quick = fit(model, train, test, TrainConfig(**{**config.__dict__, **fast}),
                progress=False, log=lambda _: None)
    assert quick["status"] == "complete"
    if fast.get("channels_last"):
        assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    for a, b in zip(plain["epochs"], quick["epochs"], strict=True):
        tolerance = 0.05 if "amp" in fast else 1e-4
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=tolerance)


def test_bf16_on_a_device_without_native_bf16_warns_once(monkeypatch):
    import spectral.train

    monkeypatch.setattr(spectral.train, "native_bf16", lambda device="cpu": False)
    train, test = toy_problem()
    lines = []
    fit(toy_model(), train, test, TrainConfig(epochs=1, amp="bf16"), progress=False,
        log=lines.append)
    warnings = [line for line in lines if "without native bfloat16" in line]
    assert len(warnings) == 1 and "amp=None" in warnings[0]
    lines.clear()
    fit(toy_model(), train, test, TrainConfig(epochs=1), progress=False, log=lines.append)
    assert not any("bfloat16" in line for line in lines)


def test_native_bf16_answers_per_device_type():
    from spectral.train import native_bf16

    assert native_bf16("cpu") == bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert native_bf16(torch.device("meta")) is True


def test_a_failing_compile_falls_back_to_eager_with_one_line(monkeypatch):
    def broken(model, **kwargs):
        def call(x):
            raise RuntimeError("no compiler")

        return call

    monkeypatch.setattr(torch, "compile", broken)
    train, test = toy_problem()
    lines = []
    result = fit(toy_model(), train, test, TrainConfig(epochs=1, torch_compile=True),
                 progress=False, log=lines.append)
    assert result["status"] == "complete"
    assert sum("torch.compile failed" in line for line in lines) == 1


# --- the plateau stopping rule (patience) -----------------------------------------------------


def scripted_validation(scores):
    """A callback recording ``val_accuracy = scores[epoch - 1]``."""
    def validation(epoch, model, metrics):
        return {"val_accuracy": scores[epoch - 1]}

    return validation


SCORES = [0.5, 0.6, 0.6, 0.55, 0.7, 0.65, 0.69, 0.7, 0.7, 0.9]  # best 0.7 at epoch 5


@pytest.mark.parametrize(("patience", "trained"), [(0, 10), (1, 3), (2, 4), (3, 8), (5, 10)])
def test_patience_stops_after_that_many_epochs_without_a_new_best(patience, trained):
    train, test = toy_problem()
    config = TrainConfig(epochs=10, lr=0.05, patience=patience)
    messages = []
    result = fit(toy_model(), train, test, config, callbacks=[scripted_validation(SCORES)],
                 progress=False, log=messages.append)
    assert result["status"] == "complete" and len(result["epochs"]) == trained
    assert any("stopped after epoch" in m for m in messages) == (trained < 10)


def test_a_stopped_run_stays_stopped_on_resume(tmp_path):
    train, test = toy_problem()
    config = TrainConfig(epochs=10, lr=0.05, patience=3)
    checkpoint = tmp_path / "run.pt"
    first = fit(toy_model(), train, test, config, checkpoint=checkpoint, progress=False,
                callbacks=[scripted_validation(SCORES)], log=lambda _: None)
    again = fit(toy_model(), train, test, config, checkpoint=checkpoint, progress=False,
                callbacks=[kill_at(9)], log=lambda _: None)  # epoch 9 would raise
    assert len(again["epochs"]) == len(first["epochs"]) == 8


def test_patience_without_validation_says_what_to_do():
    train, test = toy_problem()
    with pytest.raises(ValueError, match="val_fraction > 0"):
        fit(toy_model(), train, test, TrainConfig(epochs=3, patience=1), progress=False)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="patience must be an int >= 0"):
            TrainConfig(epochs=3, patience=bad)


def test_a_checkpoint_from_before_a_new_field_resumes_at_its_default(tmp_path):
    train, test = toy_problem()
    checkpoint = tmp_path / "run.pt"
    train_until_killed(toy_model(), train, test, CONFIG, checkpoint, epoch=3)
    state = torch.load(checkpoint, weights_only=False)
    del state["config"]["patience"]  # as written before TrainConfig had the field
    torch.save(state, checkpoint)
    messages = []
    resumed = fit(toy_model(), train, test, CONFIG, checkpoint=checkpoint, progress=False,
                  log=messages.append)
    assert len(resumed["epochs"]) == 4 and not any("stale" in m for m in messages)
    assert resumed["epochs"][:2] == state["history"]
