"""Tests of spectral.corruptions: the CIFAR-10-C corruptions."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import spectral.corruptions
import spectral.data
from spectral.corruptions import CORRUPTIONS, corrupt, plasma_fractal

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


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(CORRUPTIONS),
    severity=st.integers(1, 5),
    seed=st.integers(0, 2**31),
    shape=st.sampled_from(SHAPES),
)
def test_uint8_and_float_agree(kind, severity, seed, shape):
    x = images(shape, seed=seed)
    a = corrupt(x, kind, severity, generator=gen(seed))
    b = corrupt(x.double() / 255, kind, severity, generator=gen(seed))
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
    with pytest.raises(ValueError, match="kind must be one of 'gaussian_noise', .*got 'snow'"):
        corrupt(x, "snow", 1)
    with pytest.raises(ValueError, match="severity must be one of 1, 2, 3, 4, 5, got 0"):
        corrupt(x, "fog", 0)
    with pytest.raises(ValueError, match="severity must be one of 1, 2, 3, 4, 5, got 6"):
        corrupt(x, "fog", 6)
    with pytest.raises(TypeError, match="severity must be an int"):
        corrupt(x, "fog", 2.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        corrupt(x.float(), "fog", 1)  # 0..255 floats: un-normalised pixels expected in [0, 1]
    with pytest.raises(TypeError, match="uint8"):
        corrupt(x.to(torch.int32), "fog", 1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        corrupt(x[0, 0], "fog", 1)
    with pytest.raises(ValueError, match="power of two"):
        plasma_fractal(1, 12)


def test_the_kinds_keep_their_order():
    # corruption_accuracy and the committed results list the kinds in this order
    assert CORRUPTIONS == ("gaussian_noise", "impulse_noise", "fog", "contrast")


def test_no_longer_reexported_from_data():
    assert not hasattr(spectral.data, "corrupt")


def test_gaussian_noise_loader_moved_to_data_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="import it from spectral.data"):
        moved = spectral.corruptions.GaussianNoiseLoader
    assert moved is spectral.data.GaussianNoiseLoader
    with pytest.raises(AttributeError, match="no attribute 'TensorLoader'"):
        spectral.corruptions.TensorLoader  # noqa: B018
