"""Tests of spectral.corruptions: CIFAR-10-C corruptions and Gaussian augmentation."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import spectral.data
from spectral.corruptions import CORRUPTIONS, GaussianNoiseLoader, corrupt, plasma_fractal
from spectral.data import TensorLoader

SHAPES = [(4, 3, 32, 32), (3, 32, 32), (2, 1, 28, 28), (2, 3, 9, 16)]


def images(shape=(16, 3, 32, 32), seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, shape, generator=generator, dtype=torch.uint8)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("kind", CORRUPTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
def test_shape_dtype_range(kind, shape, dtype):
    x = images(shape)
    x = x if dtype == torch.uint8 else x.to(dtype) / 255
    for severity in (1, 5):
        y = corrupt(x, kind, severity, generator=gen())
        assert y.shape == x.shape and y.dtype == dtype
        if dtype != torch.uint8:
            assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_deterministic_under_a_seed(kind):
    x = images()
    a = corrupt(x, kind, 3, generator=gen(5))
    b = corrupt(x, kind, 3, generator=gen(5))
    assert torch.equal(a, b)
    if kind != "contrast":  # contrast is deterministic by definition
        assert not torch.equal(a, corrupt(x, kind, 3, generator=gen(6)))


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_severity_monotone_in_distortion(kind):
    x = images((64, 3, 32, 32), seed=1)
    distortion = [
        float((corrupt(x, kind, s, generator=gen(s)).float() - x.float()).abs().mean())
        for s in range(1, 6)
    ]
    assert all(a < b for a, b in zip(distortion, distortion[1:], strict=False)), distortion
    assert distortion[0] > 0


def test_uint8_and_float_agree():
    x = images()
    for kind in CORRUPTIONS:
        a = corrupt(x, kind, 4, generator=gen(2))
        b = corrupt(x.double() / 255, kind, 4, generator=gen(2))
        assert torch.equal(a, (b * 255).floor().to(torch.uint8))


def test_closed_forms():
    x = images((8, 3, 32, 32)).double() / 255
    # contrast: per-image, per-channel mean preserved where nothing clips (c < 1 never clips)
    y = corrupt(x, "contrast", 2)
    torch.testing.assert_close(y.mean(dim=(-2, -1)), x.mean(dim=(-2, -1)))
    torch.testing.assert_close(
        y - y.mean((-2, -1), keepdim=True), 0.5 * (x - x.mean((-2, -1), keepdim=True))
    )
    # impulse noise: a fraction ≈ amount of values replaced, each by 0 or 1
    x = torch.full((64, 3, 32, 32), 0.5, dtype=torch.float64)
    y = corrupt(x, "impulse_noise", 5, generator=gen())
    changed = y != 0.5
    assert abs(float(changed.double().mean()) - 0.07) < 0.005
    assert set(y[changed].unique().tolist()) == {0.0, 1.0}
    # gaussian noise at mid-grey: the std of the change is c (no clipping at 0.5 ± 5c)
    y = corrupt(x, "gaussian_noise", 5, generator=gen())
    assert abs(float((y - x).std()) - 0.10) < 0.003
    # fog of a constant image: (x + a P) m / (m + a), P in [0, 1] → values in [m²/(m+a), m]
    y = corrupt(x, "fog", 5, generator=gen())
    a, m = 1.5, 0.5
    assert float(y.min()) >= m * m / (m + a) - 1e-12 and float(y.max()) <= m + 1e-12
    # the fog is the same in every channel
    torch.testing.assert_close(y[:, 0], y[:, 2])


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 3), log_size=st.integers(1, 6), decay=st.floats(1.5, 4.0))
def test_plasma_fractal_range(n, log_size, decay):
    p = plasma_fractal(n, 2**log_size, decay=decay, generator=gen(n))
    assert p.shape == (n, 2**log_size, 2**log_size)
    torch.testing.assert_close(p.amin(dim=(1, 2)), torch.zeros(n, dtype=torch.float64))
    torch.testing.assert_close(p.amax(dim=(1, 2)), torch.ones(n, dtype=torch.float64))


def test_plasma_is_smoother_with_larger_decay():
    def roughness(decay):
        p = plasma_fractal(32, 32, decay=decay, generator=gen(0))
        return float((p - p.roll(1, dims=-1)).abs().mean())

    assert roughness(3.0) < roughness(1.75)


def test_bad_inputs_raise():
    x = images()
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(x, "snow", 1)
    with pytest.raises(ValueError, match="1..5"):
        corrupt(x, "fog", 0)
    with pytest.raises(ValueError, match="1..5"):
        corrupt(x, "fog", 6)
    with pytest.raises(TypeError, match="int"):
        corrupt(x, "fog", 2.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        corrupt(x.float(), "fog", 1)  # 0..255 floats: un-normalised pixels expected in [0, 1]
    with pytest.raises(TypeError, match="uint8"):
        corrupt(x.to(torch.int32), "fog", 1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        corrupt(x[0, 0], "fog", 1)
    with pytest.raises(ValueError, match="power of two"):
        plasma_fractal(1, 12)


def test_reexported_from_data():
    assert spectral.data.corrupt is corrupt


def test_gaussian_noise_loader():
    x = images((40, 3, 8, 8))
    labels = torch.arange(40) % 10
    mean, std = torch.full((3,), 0.5), torch.full((3,), 0.25)
    base = TensorLoader(x, labels, batch_size=16, mean=mean, std=std, shuffle=True, seed=3)
    noisy = GaussianNoiseLoader(base, 0.1, seed=3)
    assert len(noisy) == len(base) == 3
    noisy.set_epoch(2)
    first = [(a.clone(), b.clone()) for a, b in noisy]
    again = list(noisy)
    clean = list(base)
    for (a, ya), (b, _yb), (c, yc) in zip(first, again, clean, strict=True):
        assert torch.equal(a, b) and torch.equal(ya, yc)
        pixels = a * 0.25 + 0.5
        assert float(pixels.min()) >= -1e-6 and float(pixels.max()) <= 1 + 1e-6
        change = (a - c) * 0.25  # in pixel units
        assert 0 < float(change.abs().max()) <= 0.1 * 6
    zero = GaussianNoiseLoader(base, 0.0)
    for (a, _), (c, _) in zip(zero, base, strict=True):
        torch.testing.assert_close(a, c)
    with pytest.raises(ValueError, match="sigma_max"):
        GaussianNoiseLoader(base, -1.0)
