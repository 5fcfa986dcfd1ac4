"""Tests of spectral.gain against dense float64 DFTs, closed forms and autograd references."""

from __future__ import annotations

import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from spectral.fft import centered, naive_dft2
from spectral.gain import (
    MaxGainTracker,
    data_derivative,
    frequency_response,
    hann_window2d,
    impulse_image,
    maximum_gain,
)
from spectral.testing import conv_model, dft_amplitude, randn
from spectral.train import TrainConfig, fit

SIZES = [(9, 9), (8, 8), (8, 11), (11, 8), (12, 10)]  # odd, even, non-square
sizes = pytest.mark.parametrize("H, W", SIZES, ids=[f"{h}x{w}" for h, w in SIZES])
TOL = {torch.float32: 1e-3, torch.float64: 1e-9}  # dB


def reference_db(taps: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """20·log₁₀|DFT| of the k × k taps zero-padded to H × W, centred, by a dense DFT matrix."""
    padded = torch.zeros(H, W, dtype=torch.float64)
    k = taps.shape[-1]
    padded[:k, :k] = taps.double()
    return 20 * torch.log10(dft_amplitude(padded))


def gaussian_taps(k: int = 7, sigma: float = 1.0) -> torch.Tensor:
    n = torch.arange(k, dtype=torch.float64) - k // 2
    g = torch.exp(-(n**2) / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)


def gaussian_transfer_db(k: int, sigma: float, H: int, W: int) -> torch.Tensor:
    """Closed form of the separable symmetric filter's DFT: Σₙ g[n] cos(2πfn), centred."""
    n = torch.arange(k, dtype=torch.float64) - k // 2
    g = torch.exp(-(n**2) / (2 * sigma**2))
    g = g / g.sum()

    def one_d(size):
        f = (torch.arange(size, dtype=torch.float64) - size // 2) / size  # centred frequencies
        return (g[None, :] * torch.cos(2 * math.pi * f[:, None] * n[None, :])).sum(1)

    return 20 * torch.log10(torch.outer(one_d(H), one_d(W)).abs())


# --- impulse image and Hann window -------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 9, 7), (2, 1, 5, 6)])
def test_impulse_image_centre_value_and_shape(shape):
    x = impulse_image(shape, value=255.0)
    h, w = shape[-2:]
    assert x.shape == shape and x.dtype == torch.float32
    assert torch.all(x[..., h // 2, w // 2] == 255.0) and x.sum() == 255.0 * x[..., 0, 0].numel()


def test_impulse_image_position_dtype_and_flat_spectrum():
    x = impulse_image((2, 6, 7), position=(1, 5), dtype=torch.float64)
    assert x.dtype == torch.float64 and x[:, 1, 5].tolist() == [1.0, 1.0] and x.sum() == 2.0
    amplitude = naive_dft2(x).abs() * math.sqrt(42)  # an impulse's spectrum is constant
    torch.testing.assert_close(amplitude, torch.ones_like(amplitude, dtype=torch.float64))


@sizes
def test_hann_window_matches_the_formula(H, W):
    rows = torch.sin(math.pi * torch.arange(H, dtype=torch.float64) / H) ** 2
    cols = torch.sin(math.pi * torch.arange(W, dtype=torch.float64) / W) ** 2
    window = hann_window2d(H, W, dtype=torch.float64)
    torch.testing.assert_close(window, torch.outer(rows, cols), rtol=0, atol=1e-15)
    assert hann_window2d(H, W).dtype == torch.float32
    if H % 2 == 0 and W % 2 == 0:
        assert window[H // 2, W // 2] == 1.0  # the default impulse keeps its full weight


# --- the linear case: response == the filter's transfer function -------------------------


@sizes
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_linear_conv_response_is_the_filters_dft(H, W, dtype):
    taps = randn(3, 3, dtype=dtype)
    model = conv_model(taps)
    x = randn(1, H, W, seed=1, dtype=dtype)
    target = (H // 2) * W + W // 2  # one output pixel, far from the borders
    response = frequency_response(model, x, target=target, window=False)
    assert response.shape == x.shape and response.dtype == dtype
    torch.testing.assert_close(
        response[0].double(), reference_db(taps, H, W), rtol=0, atol=TOL[dtype]
    )


@settings(max_examples=15, deadline=None)
@given(
    H=st.integers(5, 12),
    W=st.integers(5, 12),
    seed=st.integers(0, 10_000),
    scale=st.floats(0.1, 10.0),
)
def test_linear_response_does_not_depend_on_the_operating_point(H, W, seed, scale):
    taps = randn(3, 3, seed=seed)
    model = conv_model(taps)
    target = (H // 2) * W + W // 2
    a = data_derivative(model, randn(1, H, W, seed=seed + 1), target=target)
    b = data_derivative(model, scale * randn(1, H, W, seed=seed + 2), target=target)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    expected = torch.zeros(H, W, dtype=torch.float64)  # correlation: the taps themselves
    expected[H // 2 - 1 : H // 2 + 2, W // 2 - 1 : W // 2 + 2] = taps
    torch.testing.assert_close(a[0], expected, rtol=0, atol=1e-12)


# --- the toy CNN: 7×7 Gaussian (σ = 1) then ReLU (§III-B) --------------------------------


@pytest.mark.parametrize("H, W", [(32, 32), (31, 40)])
def test_toy_gaussian_cnn_on_an_impulse_matches_the_analytic_response(H, W):
    model = conv_model(gaussian_taps(), relu=True)
    x = impulse_image((1, H, W), value=255.0, dtype=torch.float64)
    active = (H // 2) * W + W // 2  # the ReLU is active at the impulse (output > 0)
    response = frequency_response(model, x, target=active, window=False)
    torch.testing.assert_close(response[0], gaussian_transfer_db(7, 1.0, H, W), rtol=0, atol=1e-9)
    inactive = 0  # the corner: the Gaussian does not reach it, the ReLU is off
    assert data_derivative(model, x, target=inactive).abs().max() == 0
    # p = 1 everywhere: a superposition of filter copies over the 7×7 active region (Fig. 4c)
    everywhere = data_derivative(model, x)
    box = torch.zeros(1, 1, H, W, dtype=torch.float64)
    box[..., H // 2 - 3 : H // 2 + 4, W // 2 - 3 : W // 2 + 4] = 1.0
    superposed = nn.functional.conv_transpose2d(box, gaussian_taps().view(1, 1, 7, 7), padding=3)
    torch.testing.assert_close(everywhere, superposed[0], rtol=0, atol=1e-12)


def test_the_window_multiplies_the_derivative_before_the_fft():
    model = conv_model(gaussian_taps(), relu=True)
    x = impulse_image((1, 16, 12), dtype=torch.float64)
    derivative = data_derivative(model, x)
    expected = centered(naive_dft2(derivative * hann_window2d(16, 12, dtype=torch.float64)))
    got = frequency_response(model, x, db=False)
    torch.testing.assert_close(got, expected.abs() * math.sqrt(16 * 12), rtol=0, atol=1e-12)
    assert not torch.allclose(got, frequency_response(model, x, db=False, window=False))


# --- classifiers: projection on the winning class, 1/score, softmax ----------------------


class Scaled(nn.Module):
    def __init__(self, base: nn.Module, a: float):
        super().__init__()
        self.base, self.a = base, a

    def forward(self, x):
        return self.a * self.base(x)


def classifier(seed=0, dropout=0.0, dtype=torch.float64):
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Flatten(),
        nn.Linear(4 * 7 * 5, 5),
    )
    return model.to(dtype)


@pytest.mark.parametrize("a", [0.25, 3.0])
def test_scaling_the_logits_shifts_the_gain_by_20_log10_a(a):
    base = classifier()
    x = randn(2, 9, 7, seed=3)
    kwargs = {"scale_by_score": False, "softmax": False}
    plain = maximum_gain(base, x, **kwargs)
    scaled = maximum_gain(Scaled(base, a), x, **kwargs)
    assert plain.shape == (2,)
    torch.testing.assert_close(scaled - plain, torch.full_like(plain, 20 * math.log10(a)))


def test_softmax_projection_is_the_gradient_of_log_probability():
    model = classifier()
    x = randn(3, 2, 9, 7, seed=4)
    xr = x.clone().requires_grad_(True)
    logp = torch.log_softmax(model(xr), dim=1)
    winners = logp.argmax(1)
    logp.gather(1, winners[:, None]).sum().backward()
    torch.testing.assert_close(data_derivative(model, x), xr.grad, rtol=0, atol=1e-12)
    # without 1/score: the gradient of the probability itself, gain lower by 20·log₁₀ score
    scores = logp.detach().exp().gather(1, winners[:, None])[:, 0]
    shift = maximum_gain(model, x, scale_by_score=False) - maximum_gain(model, x)
    torch.testing.assert_close(shift, 20 * torch.log10(scores)[:, None].expand(3, 2))
    # logits, 1/score: ∇ logit_i / score
    xl = x.clone().requires_grad_(True)
    model(xl).gather(1, winners[:, None]).sum().backward()
    expected = xl.grad / scores[:, None, None, None]
    got = data_derivative(model, x, softmax=False)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


def test_target_overrides_the_winning_class_and_batches_are_per_sample():
    model = classifier()
    x = randn(3, 2, 9, 7, seed=5)
    batch = data_derivative(model, x, target=2)
    for n in range(3):
        torch.testing.assert_close(batch[n], data_derivative(model, x[n], target=2))
    xr = x.clone().requires_grad_(True)
    torch.log_softmax(model(xr), dim=1)[:, 2].sum().backward()
    torch.testing.assert_close(batch, xr.grad, rtol=0, atol=1e-12)


# --- the model is left as it was ---------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
def test_mode_and_gradients_are_restored(training):
    model = classifier(dropout=0.5)
    model.train(training)
    x = randn(2, 9, 7, seed=6)
    first = data_derivative(model, x)
    assert model.training is training
    assert all(p.grad is None for p in model.parameters())
    torch.testing.assert_close(first, data_derivative(model, x), rtol=0, atol=0)  # eval: no dropout
    model(x[None]).sum().backward()  # existing gradients are not changed either
    before = [p.grad.clone() for p in model.parameters()]
    with torch.no_grad():  # works under no_grad too
        maximum_gain(model, x)
    for p, g in zip(model.parameters(), before, strict=True):
        assert torch.equal(p.grad, g)


# --- the tracker ------------------------------------------------------------------------


def test_tracker_writes_one_value_per_epoch_through_fit():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    x = torch.randn(64, 2, 6, 6)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    batches = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
    tracker = MaxGainTracker(input_shape=(2, 6, 6), value=255.0)
    result = fit(
        model,
        batches,
        batches[:1],
        TrainConfig(epochs=3, lr=0.05),
        callbacks=[tracker],
        progress=False,
    )
    gains = [m["max_gain"] for m in result["epochs"]]
    assert len(gains) == 3 and all(math.isfinite(g) for g in gains)
    last = result["epochs"][-1]
    assert len(last["max_gain_per_channel"]) == 2
    assert last["max_gain"] == pytest.approx(sum(last["max_gain_per_channel"]) / 2)
    assert last["max_gain_class"] in (0, 1) and 0.5 <= last["max_gain_score"] <= 1.0
    assert last["max_gain_time_s"] > 0
    expected = maximum_gain(model, impulse_image((2, 6, 6), value=255.0))
    assert last["max_gain_per_channel"] == pytest.approx(expected.tolist(), abs=1e-4)
    assert json.loads(json.dumps(last)) == last  # JSON-friendly


def test_tracker_with_a_given_probe_and_key():
    model = classifier()
    probe = randn(2, 9, 7, seed=7)
    out = MaxGainTracker(probe, key="g", softmax=False)(1, model, {})
    assert set(out) == {"g", "g_per_channel", "g_class", "g_score", "g_time_s"}
    expected = maximum_gain(model, probe, softmax=False)
    assert out["g_per_channel"] == pytest.approx(expected.tolist(), abs=1e-9)


# --- bad inputs ------------------------------------------------------------------------


class NaNModel(nn.Module):
    def forward(self, x):
        return x.flatten(1)[:, :3] * float("nan")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: impulse_image((8, 8)), ValueError, "shape must be"),
        (lambda: impulse_image((1, 8, 8), position=(8, 0)), ValueError, "outside"),
        (lambda: hann_window2d(0, 4), ValueError, "height must be"),
        (lambda: data_derivative(classifier(), randn(9, 7)), ValueError, "x must be"),
        (
            lambda: data_derivative(classifier(), torch.ones(2, 9, 7, dtype=torch.long)),
            TypeError,
            "floating-point",
        ),
        (lambda: data_derivative(classifier(), [[1.0]]), TypeError, "torch.Tensor"),
        (lambda: data_derivative(NaNModel(), randn(1, 4, 4)), ValueError, "not finite"),
        (lambda: data_derivative(classifier(), randn(2, 9, 7), target=5), ValueError, "target"),
        (lambda: maximum_gain(classifier()), ValueError, "input_shape"),
        (lambda: MaxGainTracker(randn(1, 2, 9, 7)), ValueError, "one image"),
        (lambda: MaxGainTracker(key=""), ValueError, "key"),
    ],
)
def test_bad_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_bad_model_is_rejected_and_mode_restored_after_an_error():
    model = NaNModel().train()
    with pytest.raises(ValueError, match="not finite"):
        maximum_gain(model, input_shape=(1, 4, 4))
    assert model.training


# --- the experiment, end to end --------------------------------------------------------


@pytest.mark.requires_data("mnist")  # the maximum_gain smoke run trains on MNIST
def test_maximum_gain_smoke_profile_runs_end_to_end(tmp_path):
    import spectral.experiments as ex

    runs = ex.expand("maximum_gain", "smoke", overrides={"lr": [0.004]})
    statuses = ex.run_experiment(
        runs, results=tmp_path, cache=tmp_path / "cache", log=lambda _: None
    )
    assert statuses == {"smoke-lr=0.004-s0": "complete"}
    record = json.loads((tmp_path / "maximum_gain" / "smoke-lr=0.004-s0.json").read_text())
    assert [m["epoch"] for m in record["metrics"]] == [1, 2]
    assert all(math.isfinite(m["max_gain"]) for m in record["metrics"])
    assert "max_gain" in record["final"]["init"] and record["params"]["lr"] == 0.004
