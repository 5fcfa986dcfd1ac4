"""Tests of spectral.pooling against dense float64 DFT references, scipy and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral.fft import centered, naive_dft2, naive_idft2, uncentered
from spectral.pooling import (
    NYQUIST_RULES,
    SpectralPool2d,
    freq_dropout_schedule,
    spectral_pool,
    spectral_resize,
)
from spectral.testing import pool_gradient_reference, randn, resize_reference

IMPLS = ["matrix", "fft"]
TOL = {torch.float32: 2e-5, torch.float64: 1e-12}
# (H, W, h, w): odd/even input × odd/even output, non-square, 1×1, identity, h = H.
CASES = [
    (9, 9, 5, 5),  # odd → odd
    (8, 8, 5, 5),  # even → odd
    (9, 9, 4, 4),  # odd → even
    (8, 8, 4, 4),  # even → even (Nyquist row, column and corner)
    (8, 9, 5, 4),  # non-square, mixed parities
    (9, 8, 4, 5),
    (7, 10, 6, 3),
    (10, 7, 3, 6),
    (12, 10, 6, 8),  # both even, non-square
    (8, 9, 1, 1),  # 1×1 output: the mean
    (6, 7, 6, 7),  # identity
    (8, 9, 8, 4),  # h = H (even), w even < W
    (2, 2, 1, 1),
    (1, 5, 1, 2),
]
# spectral_resize also enlarges, per axis: odd/even small size, mixed directions.
RESIZE_CASES = CASES + [
    (5, 5, 9, 9),  # odd → odd, up
    (4, 4, 9, 9),  # even → odd, up (the Nyquist bin is split)
    (5, 5, 8, 8),  # odd → even, up
    (4, 4, 8, 8),  # even → even, up (Nyquist row, column and corner split)
    (4, 5, 9, 8),
    (7, 10, 12, 6),  # rows up, columns down
    (10, 7, 6, 12),
    (1, 1, 4, 5),  # a constant
]
cases = pytest.mark.parametrize(
    "H, W, h, w", CASES, ids=[f"{a}x{b}to{c}x{d}" for a, b, c, d in CASES]
)
resize_cases = pytest.mark.parametrize(
    "H, W, h, w", RESIZE_CASES, ids=[f"{a}x{b}to{c}x{d}" for a, b, c, d in RESIZE_CASES]
)
rules = pytest.mark.parametrize("nyquist", NYQUIST_RULES)
SEPARABLE = ["fold", "sqrt_half"]  # the rules whose enlargement inverts the shrink


pytestmark = pytest.mark.usefixtures("one_thread")


# --- independent references ------------------------------------------------------------------
# "hermitian": spectral.testing's dense complex128 DFT matrices, centred crop / zero-pad,
# real part. "fold": scipy.signal.resample along each axis. "sqrt_half": the same with the
# Nyquist bin of the smaller grid reweighted by √½ (shrink: after; enlarge: √2 before).


def nyquist_scaled(v: np.ndarray, axis: int, factor: float) -> np.ndarray:
    """``v`` with the Nyquist frequency of its (even) ``axis`` multiplied by ``factor``."""
    spectrum = np.fft.fft(v, axis=axis)
    index = [slice(None)] * v.ndim
    index[axis] = v.shape[axis] // 2
    spectrum[tuple(index)] *= factor
    return np.fft.ifft(spectrum, axis=axis).real


def scipy_reference(x: torch.Tensor, h: int, w: int, nyquist: str) -> torch.Tensor:
    y = x.to(torch.float64).numpy()
    for axis, n in ((-2, h), (-1, w)):
        n_in = y.shape[axis]
        reweight = nyquist == "sqrt_half" and n != n_in and min(n, n_in) % 2 == 0
        if reweight and n > n_in:
            y = nyquist_scaled(y, axis, math.sqrt(2))
        y = scipy.signal.resample(y, n, axis=axis)
        if reweight and n < n_in:
            y = nyquist_scaled(y, axis, math.sqrt(0.5))
    return torch.from_numpy(np.ascontiguousarray(y))


def reference_resize(x, h, w, nyquist):
    if nyquist == "hermitian":
        return resize_reference(x, h, w)
    return scipy_reference(x, h, w, nyquist)


def reference_pool(x, h, w, nyquist, radius=None):
    if radius is None:
        return reference_resize(x, h, w, nyquist)
    return reference_resize(reference_resize(x, *radius, nyquist), h, w, nyquist)


def dense_operator(f, H, W):
    """The matrix ``(h·w, H·W)`` of the real-linear map ``f`` on ``H × W`` maps."""
    basis = torch.eye(H * W, dtype=torch.float64).reshape(H * W, H, W)
    return f(basis).reshape(H * W, -1).T


def nyquist_lines(h, w, H, W):
    """Centred boolean (h, w): the bins on the Nyquist row / column of the smaller grid."""
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[0] |= h % 2 == 0 and h != H
    mask[:, 0] |= w % 2 == 0 and w != W
    return mask


# --- the operator ----------------------------------------------------------------------------


@cases
@rules
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("impl", IMPLS)
def test_pool_matches_reference(H, W, h, w, nyquist, dtype, impl):
    x = randn(2, 3, H, W, dtype=dtype)
    y = spectral_pool(x, (h, w), nyquist=nyquist, impl=impl)
    assert y.shape == (2, 3, h, w) and y.dtype == dtype
    expected = reference_pool(x, h, w, nyquist)
    torch.testing.assert_close(y.double(), expected, atol=TOL[dtype], rtol=0)


@resize_cases
@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_resize_matches_reference(H, W, h, w, nyquist, impl):
    x = randn(2, H, W)
    y = spectral_resize(x, (h, w), nyquist=nyquist, impl=impl)
    torch.testing.assert_close(y, reference_resize(x, h, w, nyquist), atol=1e-12, rtol=0)


def test_default_is_fold_and_fold_is_scipy_resample():
    x = randn(3, 12, 9)
    for size in [(6, 4), (7, 5), (6, 18), (17, 4)]:  # every parity, down and up
        expected = scipy.signal.resample(
            scipy.signal.resample(x.numpy(), size[0], axis=-2), size[1], axis=-1
        )
        torch.testing.assert_close(spectral_resize(x, size), torch.from_numpy(expected))
    torch.testing.assert_close(spectral_pool(x, (6, 4)), spectral_resize(x, (6, 4)))


@settings(max_examples=60, deadline=None)
@given(
    H=st.integers(1, 11),
    W=st.integers(1, 11),
    h=st.integers(1, 14),
    w=st.integers(1, 14),
    nyquist=st.sampled_from(NYQUIST_RULES),
    batch=st.sampled_from([(), (2,), (2, 1)]),
)
def test_resize_impls_and_reference_agree_for_any_sizes(H, W, h, w, nyquist, batch):
    x = randn(*batch, H, W, seed=H * 100 + W)
    y = spectral_resize(x, (h, w), nyquist=nyquist)
    torch.testing.assert_close(
        y, spectral_resize(x, (h, w), nyquist=nyquist, impl="fft"), atol=1e-12, rtol=0
    )
    torch.testing.assert_close(y, reference_resize(x, h, w, nyquist), atol=1e-12, rtol=0)


@settings(max_examples=60, deadline=None)
@given(
    H=st.integers(1, 11),
    W=st.integers(1, 11),
    data=st.data(),
    nyquist=st.sampled_from(NYQUIST_RULES),
)
def test_pool_impls_agree_for_any_sizes_and_radius(H, W, data, nyquist):
    h, w = data.draw(st.integers(1, H)), data.draw(st.integers(1, W))
    radius = data.draw(st.none() | st.tuples(st.integers(1, h), st.integers(1, w)))
    x = randn(2, H, W, seed=H * 100 + W)
    y = spectral_pool(x, (h, w), radius=radius, nyquist=nyquist)
    torch.testing.assert_close(
        y, spectral_pool(x, (h, w), radius=radius, nyquist=nyquist, impl="fft"), atol=1e-12, rtol=0
    )
    torch.testing.assert_close(y, reference_pool(x, h, w, nyquist, radius), atol=1e-12, rtol=0)


@rules
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("size", [(1, 1), (4, 4), (5, 5), (6, 9)])
def test_full_output_size_is_identity(size, nyquist, impl):
    x = randn(3, *size)
    for f in (spectral_pool, spectral_resize):
        torch.testing.assert_close(f(x, size, nyquist=nyquist, impl=impl), x, atol=1e-12, rtol=0)


@resize_cases
@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_constant_map_stays_the_same_constant(H, W, h, w, nyquist, impl):
    x = torch.full((H, W), 2.5, dtype=torch.float64)
    expected = torch.full((h, w), 2.5, dtype=torch.float64)
    y = spectral_resize(x, (h, w), nyquist=nyquist, impl=impl)
    torch.testing.assert_close(y, expected, atol=1e-12, rtol=0)
    if h <= H and w <= W:
        radius = (max(1, h - 1), max(1, w - 2))
        y = spectral_pool(x, (h, w), radius=radius, nyquist=nyquist, impl=impl)
        torch.testing.assert_close(y, expected, atol=1e-12, rtol=0)


def trig_map(terms, rows, cols):
    """Σ a·cos(2π(k·s + j·t) + φ) sampled at s = i/rows, t = n/cols (a real trig polynomial)."""
    s = torch.arange(rows, dtype=torch.float64)[:, None] / rows
    t = torch.arange(cols, dtype=torch.float64)[None, :] / cols
    return sum(a * torch.cos(2 * math.pi * (k * s + j * t) + phi) for a, k, j, phi in terms)


def random_terms(k_max, j_max, seed):
    gen = torch.Generator().manual_seed(seed)
    terms = []
    for k in range(-k_max, k_max + 1):
        for j in range(-j_max, j_max + 1):
            a, phi = torch.rand(2, generator=gen, dtype=torch.float64).tolist()
            terms.append((a, k, j, 2 * math.pi * phi))
    return terms


POOL_SIZES = [(16, 15, 7, 6), (15, 16, 8, 9), (12, 12, 6, 6), (13, 9, 5, 4), (9, 13, 4, 4)]


@pytest.mark.parametrize("H, W, h, w", POOL_SIZES)
@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_open_band_map_comes_back_as_its_samples(H, W, h, w, nyquist, impl):
    x = trig_map(terms := random_terms((h - 1) // 2, (w - 1) // 2, H * W), H, W)  # |k| < h/2
    expected = trig_map(terms, h, w)  # the same function sampled on the coarse grid
    y = spectral_pool(x, (h, w), nyquist=nyquist, impl=impl)
    torch.testing.assert_close(y, expected, atol=1e-11, rtol=0)


@pytest.mark.parametrize("H, W, h, w", POOL_SIZES)
@pytest.mark.parametrize("impl", IMPLS)
def test_fold_samples_the_closed_band_nyquist_sines_included(H, W, h, w, impl):
    # |k| <= h/2 with any phase: the fold of the aliases is exact sampling; the other rules
    # are not (a Nyquist cosine is scaled by ½ or √½).
    x = trig_map(terms := random_terms(h // 2, w // 2, H + W), H, W)
    expected = trig_map(terms, h, w)
    torch.testing.assert_close(spectral_pool(x, (h, w), impl=impl), expected, atol=1e-11, rtol=0)
    for nyquist in ("hermitian", "sqrt_half"):
        assert (spectral_pool(x, (h, w), nyquist=nyquist, impl=impl) - expected).abs().max() > 0.1


def nyquist_interpolant(h, w, seed):
    """A map of V_h ⊗ V_w (|k| < n/2, or the Nyquist cosine cos(π n s)) as a function."""
    gen = torch.Generator().manual_seed(seed)

    def axis_terms(n):
        terms = [
            (lambda s, k=k, p=p: torch.cos(2 * math.pi * k * s + p))
            for k in range((n + 1) // 2)
            for p in (2 * math.pi * torch.rand(1, generator=gen, dtype=torch.float64),)
        ]
        return terms + ([lambda s: torch.cos(math.pi * n * s)] if n % 2 == 0 else [])

    pairs = [
        (f, g, float(torch.randn(1, generator=gen, dtype=torch.float64)))
        for f in axis_terms(h)
        for g in axis_terms(w)
    ]

    def sampled(rows, cols):
        s = torch.arange(rows, dtype=torch.float64)[:, None] / rows
        t = torch.arange(cols, dtype=torch.float64)[None, :] / cols
        return sum(a * f(s) * g(t) for f, g, a in pairs)

    return sampled


INTERPOLATION_SIZES = [(6, 7, 16, 15), (8, 9, 15, 16), (6, 6, 12, 13), (4, 4, 9, 9)]


@pytest.mark.parametrize("h, w, H, W", INTERPOLATION_SIZES)
@pytest.mark.parametrize("impl", IMPLS)
def test_fold_enlarging_is_trigonometric_interpolation(h, w, H, W, impl):
    # The standard interpolant (Nyquist split evenly) of samples of V_h ⊗ V_w is the
    # function itself: enlarging gives its samples on the fine grid, and passes through y.
    f = nyquist_interpolant(h, w, seed=h * w)
    up = spectral_resize(f(h, w), (H, W), impl=impl)
    torch.testing.assert_close(up, f(H, W), atol=1e-11, rtol=0)


# Gains of the Nyquist rules, H×W = 12×10 → 6×4, on: the row cosine cos(π h m/H), the row
# sine, the corner cosine of bins (∓h/2, ∓w/2) and of the aliases (±h/2, ∓w/2).
GAINS = {
    "fold": (1.0, 0.0, 1.0, 1.0),
    "hermitian": (0.5, 0.0, 0.5, 0.0),
    "sqrt_half": (math.sqrt(0.5), 0.0, 0.5, 0.5),
}


@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_nyquist_gains_of_each_rule(nyquist, impl):
    H, W, h, w = 12, 10, 6, 4
    m = torch.arange(H, dtype=torch.float64)[:, None]
    n = torch.arange(W, dtype=torch.float64)[None, :]
    row_sign = ((-1) ** torch.arange(h)[:, None].expand(h, w)).double()
    sign = ((-1) ** (torch.arange(h)[:, None] + torch.arange(w)[None, :])).double()
    maps = [
        (torch.cos(math.pi * h * m / H).expand(H, W), row_sign),
        (torch.sin(math.pi * h * m / H).expand(H, W), row_sign),
        (torch.cos(math.pi * (h * m / H + w * n / W)), sign),
        (torch.cos(math.pi * (h * m / H - w * n / W)), sign),
    ]
    for (x, pattern), gain in zip(maps, GAINS[nyquist], strict=True):
        y = spectral_pool(x, (h, w), nyquist=nyquist, impl=impl)
        torch.testing.assert_close(y, gain * pattern, atol=1e-12, rtol=0)


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    data=st.data(),
    nyquist=st.sampled_from(SEPARABLE),
    impl=st.sampled_from(IMPLS),
)
def test_enlarging_then_shrinking_is_the_identity(h, w, data, nyquist, impl):
    H, W = data.draw(st.integers(h, 14)), data.draw(st.integers(w, 14))
    y = randn(2, h, w, seed=h * 20 + w)
    up = spectral_resize(y, (H, W), nyquist=nyquist, impl=impl)
    torch.testing.assert_close(spectral_pool(up, (h, w), nyquist=nyquist, impl=impl), y)
    # and the other way round a projection: shrinking a shrunk-and-enlarged map changes nothing
    x = randn(2, H, W, seed=H * 20 + W)
    projected = spectral_resize(spectral_pool(x, (h, w), nyquist=nyquist), (H, W), nyquist=nyquist)
    torch.testing.assert_close(
        spectral_pool(projected, (h, w), nyquist=nyquist), spectral_pool(x, (h, w), nyquist=nyquist)
    )


@pytest.mark.parametrize("h, w, H, W", [(4, 4, 8, 8), (4, 5, 9, 8), (5, 6, 10, 13), (3, 3, 7, 6)])
@pytest.mark.parametrize("impl", IMPLS)
def test_hermitian_round_trip_halves_the_nyquist_lines(h, w, H, W, impl):
    y = randn(2, h, w, seed=9)
    up = spectral_resize(y, (H, W), nyquist="hermitian", impl=impl)
    back = spectral_pool(up, (h, w), nyquist="hermitian", impl=impl)
    spectrum = centered(naive_dft2(y))
    spectrum[..., nyquist_lines(h, w, H, W)] /= 2  # the corner too, not by 4
    torch.testing.assert_close(back, naive_idft2(uncentered(spectrum)).real, atol=1e-12, rtol=0)


@pytest.mark.parametrize("nyquist, error", [("fold", 0.0), ("hermitian", 0.1), ("sqrt_half", 0.05)])
def test_band_limited_round_trip_the_standard_way(nyquist, error):
    # A random 16×16 map, enlarged to 32×32 by band-limited interpolation (scipy's) and
    # pooled back: only the fold returns it (the issue's comparison).
    y = randn(16, 16, seed=4)
    up = torch.from_numpy(
        scipy.signal.resample(scipy.signal.resample(y.numpy(), 32, axis=0), 32, axis=1)
    )
    err = float((spectral_pool(up, 16, nyquist=nyquist) - y).abs().max())
    assert err < 1e-12 if error == 0.0 else err > error


@settings(max_examples=30, deadline=None)
@given(
    H=st.integers(2, 10),
    W=st.integers(2, 10),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    a=st.floats(-3, 3),
    b=st.floats(-3, 3),
    nyquist=st.sampled_from(NYQUIST_RULES),
)
def test_linear(H, W, h, w, a, b, nyquist):
    x, y = randn(2, H, W, seed=1), randn(2, H, W, seed=2)

    def f(v):
        return spectral_resize(v, (h, w), nyquist=nyquist)

    torch.testing.assert_close(f(a * x + b * y), a * f(x) + b * f(y), atol=1e-11, rtol=0)


def norm_bound(H, W, h, w, nyquist):
    """The operator norm of pooling: √(hw/HW), times √2 per reduced even axis for the fold."""
    even = (h % 2 == 0 and h < H) + (w % 2 == 0 and w < W)
    return math.sqrt(h * w / (H * W) * (2**even if nyquist == "fold" else 1))


@cases
@rules
def test_operator_norm_closed_form(H, W, h, w, nyquist):
    P = dense_operator(lambda v: spectral_pool(v, (h, w), nyquist=nyquist), H, W)
    top = float(torch.linalg.matrix_norm(P, ord=2))
    assert top == pytest.approx(norm_bound(H, W, h, w, nyquist), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    H=st.integers(1, 12),
    W=st.integers(1, 12),
    data=st.data(),
    seed=st.integers(0, 2**16),
    nyquist=st.sampled_from(NYQUIST_RULES),
)
def test_norm_never_exceeds_the_bound(H, W, data, seed, nyquist):
    h, w = data.draw(st.integers(1, H)), data.draw(st.integers(1, W))
    x = randn(H, W, seed=seed)
    y = spectral_pool(x, (h, w), nyquist=nyquist)
    assert float(y.norm()) <= norm_bound(H, W, h, w, nyquist) * float(x.norm()) * (1 + 1e-12)


@cases
def test_sqrt_half_is_a_scaled_coisometry_with_its_enlargement_as_adjoint(H, W, h, w):
    P = dense_operator(lambda v: spectral_pool(v, (h, w), nyquist="sqrt_half"), H, W)
    scale = h * w / (H * W)
    torch.testing.assert_close(P @ P.T, scale * torch.eye(h * w, dtype=torch.float64))
    U = dense_operator(lambda v: spectral_resize(v, (H, W), nyquist="sqrt_half"), h, w)
    torch.testing.assert_close(U, P.T / scale, atol=1e-12, rtol=0)


@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_noncontiguous_input(nyquist, impl):
    x = randn(3, 10, 9).transpose(-1, -2)  # (3, 9, 10), strided
    y = spectral_pool(x, (4, 7), nyquist=nyquist, impl=impl)
    torch.testing.assert_close(y, reference_pool(x, 4, 7, nyquist), atol=1e-12, rtol=0)


@rules
def test_empty_batch(nyquist):  # the default impl; torch.fft itself rejects empty inputs on MKL
    x = torch.zeros(0, 3, 8, 8, requires_grad=True)
    y = spectral_pool(x, 4, nyquist=nyquist)
    assert y.shape == (0, 3, 4, 4)
    y.sum().backward()
    assert x.grad.shape == x.shape


# --- radius ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "H, W, h, w, radius",
    [(12, 12, 10, 10, 6), (12, 11, 9, 8, (5, 8)), (9, 9, 8, 8, (7, 4)), (8, 8, 8, 8, 3)],
)
@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_radius_is_resizing_to_the_radius_and_back(H, W, h, w, radius, nyquist, impl):
    x = randn(2, H, W)
    pair = (radius, radius) if isinstance(radius, int) else radius
    y = spectral_pool(x, (h, w), radius=radius, nyquist=nyquist, impl=impl)
    torch.testing.assert_close(y, reference_pool(x, h, w, nyquist, pair), atol=1e-12, rtol=0)
    back = spectral_resize(spectral_resize(x, pair, nyquist=nyquist), (h, w), nyquist=nyquist)
    torch.testing.assert_close(y, back, atol=1e-12, rtol=0)
    # its spectrum vanishes at all frequencies |f| > r/2 (±r/2 share an even r's Nyquist)
    rh, rw = pair
    inside_h = (torch.arange(h) - h // 2).abs() <= rh / 2
    inside_w = (torch.arange(w) - w // 2).abs() <= rw / 2
    spectrum = centered(naive_dft2(y))
    assert float(spectrum[..., ~(inside_h[:, None] & inside_w[None, :])].abs().max()) < 1e-12


@rules
def test_radius_equal_to_output_size_is_plain_pooling(nyquist):
    x = randn(2, 11, 10)
    torch.testing.assert_close(
        spectral_pool(x, (7, 6), radius=(7, 6), nyquist=nyquist),
        spectral_pool(x, (7, 6), nyquist=nyquist),
    )


@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_radius_output_spaces_have_r_h_times_r_w_dims_and_are_nested(nyquist, impl):
    # The rank of the real-linear map x ↦ spectral_pool(x, (h, w), radius=(rh, rw)), and the
    # outputs of radius (rh − 1, rw − 1) lie in those of radius (rh, rw).
    previous = None
    for h, w, rh, rw in [
        (8, 7, 1, 1),
        (8, 7, 2, 2),
        (8, 7, 3, 3),
        (8, 7, 4, 4),
        (8, 7, 5, 5),
        (8, 7, 6, 6),
        (8, 7, 7, 7),
    ]:
        P = dense_operator(
            lambda v, s=(h, w), r=(rh, rw): spectral_pool(
                v, s, radius=r, nyquist=nyquist, impl=impl
            ),
            9,
            9,
        )
        assert int(torch.linalg.matrix_rank(P)) == rh * rw
        if previous is not None:
            assert int(torch.linalg.matrix_rank(torch.cat([P, previous], dim=1))) == rh * rw
        previous = P


@pytest.mark.parametrize("nyquist", SEPARABLE)
def test_radius_is_a_projection_for_the_separable_rules(nyquist):
    x = randn(2, 10, 10)
    once = spectral_pool(x, 10, radius=(6, 5), nyquist=nyquist)
    torch.testing.assert_close(spectral_pool(once, 10, radius=(6, 5), nyquist=nyquist), once)
    # …the orthogonal one: the truncated part is orthogonal to every map the radius keeps
    other = spectral_pool(randn(2, 10, 10, seed=1), 10, radius=(6, 5), nyquist=nyquist)
    assert abs(float(((x - once) * other).sum())) < 1e-12


# --- gradients (Alg. 2) ----------------------------------------------------------------------


@cases
@pytest.mark.parametrize("impl", IMPLS)
def test_hermitian_gradient_is_zero_padding_and_real_part(H, W, h, w, impl):
    # Alg. 2 with PADSPECTRUM = zero padding and RECOVERMAP = real part: the adjoint.
    x = randn(2, H, W, seed=3).requires_grad_(True)
    g = randn(2, h, w, seed=4)
    (grad,) = torch.autograd.grad(spectral_pool(x, (h, w), nyquist="hermitian", impl=impl), x, g)
    torch.testing.assert_close(grad, pool_gradient_reference(g, H, W), atol=1e-12, rtol=0)


@cases
@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_gradient_is_the_adjoint_of_the_reference(H, W, h, w, nyquist, impl):
    x = randn(2, H, W, seed=3).requires_grad_(True)
    g = randn(2, h, w, seed=4)
    (grad,) = torch.autograd.grad(spectral_pool(x, (h, w), nyquist=nyquist, impl=impl), x, g)
    P = dense_operator(lambda v: reference_pool(v, h, w, nyquist), H, W)
    torch.testing.assert_close(grad, (g.flatten(-2) @ P).reshape(2, H, W), atol=1e-12, rtol=0)


@cases
@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_gradcheck(H, W, h, w, nyquist, impl):
    x = randn(1, H, W, seed=5).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda v: spectral_pool(v, (h, w), nyquist=nyquist, impl=impl), (x,)
    )


@rules
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("size", [(9, 12), (12, 6), (13, 13)])
def test_gradcheck_resize_up_and_mixed(size, nyquist, impl):
    x = randn(1, 8, 7, seed=8).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda v: spectral_resize(v, size, nyquist=nyquist, impl=impl), (x,)
    )


@rules
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("radius", [(3, 2), (4, 4), (5, 3)])
def test_gradcheck_with_radius(radius, nyquist, impl):
    x = randn(1, 9, 8, seed=6).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda v: spectral_pool(v, (6, 6), radius=radius, nyquist=nyquist, impl=impl), (x,)
    )


def test_gradgradcheck_through_the_corner_step():
    x = randn(1, 8, 6, seed=7).requires_grad_(True)
    assert torch.autograd.gradgradcheck(
        lambda v: spectral_pool(v, (4, 4), nyquist="hermitian") ** 2, (x,)
    )


def test_operators_built_under_inference_mode_still_support_autograd():
    for nyquist in NYQUIST_RULES:
        with torch.inference_mode():
            spectral_pool(torch.randn(1, 23, 19), (14, 10), nyquist=nyquist)  # first use
        x = torch.randn(1, 23, 19, requires_grad=True)
        spectral_pool(x, (14, 10), nyquist=nyquist).sum().backward()
        assert x.grad is not None and x.grad.shape == x.shape


# --- dtypes and autocast ---------------------------------------------------------------------


@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_autocast_bfloat16_computes_in_float32(nyquist, impl):
    x = randn(2, 3, 12, 12, dtype=torch.float32).requires_grad_(True)

    def pool(v):
        return spectral_pool(v, 8, nyquist=nyquist, impl=impl)

    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, y_low = pool(x), pool(x.bfloat16())
    # the autocast policy (spectral._validate): float32 in, float32 out; bf16 in, bf16 out
    assert y.dtype == torch.float32 and y_low.dtype == torch.bfloat16
    torch.testing.assert_close(y, pool(x.detach()), atol=0, rtol=0)
    expected_low = pool(x.detach().bfloat16().float()).bfloat16()
    torch.testing.assert_close(y_low, expected_low, atol=0, rtol=0)  # rounded once
    y.float().sum().backward()
    assert x.grad.dtype == torch.float32 and torch.isfinite(x.grad).all()


def test_autocast_leaves_float64_alone():
    x = randn(8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert spectral_pool(x, 5).dtype == torch.float64
        assert spectral_resize(x, 11).dtype == torch.float64


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("f, size", [(spectral_pool, 6), (spectral_resize, 14)])
def test_half_inputs_return_their_dtype(dtype, f, size):
    x = randn(2, 10, 10, dtype=torch.float32)
    y = f(x.to(dtype), size, impl="fft")
    assert y.dtype == dtype
    torch.testing.assert_close(y.float(), f(x.to(dtype).float(), size), atol=1e-2, rtol=1e-2)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, kwargs, error, match",
    [
        (torch.ones(4, 4, dtype=torch.int64), {"output_size": 2}, TypeError, "real floating"),
        (torch.ones(4, 4, dtype=torch.complex64), {"output_size": 2}, TypeError, "imaginary parts"),
        (torch.ones(4, 4, dtype=torch.bool), {"output_size": 2}, TypeError, "real floating"),
        ([[1.0, 2.0]], {"output_size": 1}, TypeError, "torch.Tensor"),
        (torch.ones(4), {"output_size": 2}, ValueError, "at least 2 dims"),
        (torch.ones(4, 4), {"output_size": 0}, ValueError, ">= 1"),
        (torch.ones(4, 4), {"output_size": (2, 0)}, ValueError, ">= 1"),
        (torch.ones(4, 4), {"output_size": 5}, ValueError, "spectral_resize"),
        (torch.ones(4, 6), {"output_size": (2, 7)}, ValueError, "exceeds the input"),
        (torch.ones(4, 4), {"output_size": 2.5}, TypeError, "int or a pair"),
        (torch.ones(4, 4), {"output_size": True}, TypeError, "int or a pair"),
        (torch.ones(4, 4), {"output_size": (1, 2, 3)}, TypeError, "int or a pair"),
        (torch.ones(4, 4), {"output_size": 3, "radius": 0}, ValueError, ">= 1"),
        (torch.ones(4, 4), {"output_size": 3, "radius": (2, 4)}, ValueError, "exceeds output_size"),
        (torch.ones(4, 4), {"output_size": 3, "radius": 1.5}, TypeError, "int or a pair"),
        (torch.ones(4, 4), {"output_size": 3, "impl": "cuFFT"}, ValueError, "impl must be"),
        (torch.ones(4, 4), {"output_size": 2, "nyquist": "sum"}, ValueError, "nyquist must be"),
    ],
)
def test_bad_input_raises_clearly(x, kwargs, error, match):
    with pytest.raises(error, match=match):
        spectral_pool(x, **kwargs)


@pytest.mark.parametrize(
    "x, kwargs, error, match",
    [
        (torch.ones(4, 4, dtype=torch.int32), {"output_size": 8}, TypeError, "real floating"),
        (torch.ones(4), {"output_size": 8}, ValueError, r"at least 2 dims \(\.\.\., H, W\)"),
        (torch.ones(4, 4), {"output_size": (8, 0)}, ValueError, ">= 1"),
        (torch.ones(4, 4), {"output_size": "8"}, TypeError, "int or a pair"),
        (torch.ones(4, 4), {"output_size": 8, "nyquist": None}, ValueError, "'fold', 'hermitian'"),
        (torch.ones(4, 4), {"output_size": 8, "impl": "dft"}, ValueError, "impl must be"),
    ],
)
def test_resize_bad_input_raises_clearly(x, kwargs, error, match):
    with pytest.raises(error, match=match):
        spectral_resize(x, **kwargs)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((0,), {}, ValueError, ">= 1"),
        (((3, 3, 3),), {}, TypeError, "int or a pair"),
        ((3, -0.1), {}, ValueError, r"\[0, 1\]"),
        ((3, 1.5), {}, ValueError, r"\[0, 1\]"),
        ((3, float("nan")), {}, ValueError, "finite"),
        ((3, "0.3"), {}, TypeError, "number"),
        ((3,), {"impl": "dft"}, ValueError, "impl must be"),
        ((3,), {"nyquist": "Hermitian"}, ValueError, "nyquist must be"),
        ((3,), {"generator": 0}, TypeError, "torch.Generator"),
    ],
)
def test_module_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        SpectralPool2d(*args, **kwargs)


def test_module_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        SpectralPool2d(3)(torch.ones(8, 8))


# --- the module and frequency dropout --------------------------------------------------------


@rules
@pytest.mark.parametrize("impl", IMPLS)
def test_module_eval_and_no_dropout_equal_the_function(nyquist, impl):
    x = randn(2, 3, 16, 15)
    expected = spectral_pool(x, (8, 8), nyquist=nyquist, impl=impl)
    for pool in [
        SpectralPool2d((8, 8), 0.3, nyquist=nyquist, impl=impl).eval(),
        SpectralPool2d((8, 8), nyquist=nyquist, impl=impl),
        SpectralPool2d((8, 8), 1.0, nyquist=nyquist, impl=impl),
    ]:
        torch.testing.assert_close(pool(x), expected, atol=0, rtol=0)
    pool = SpectralPool2d((8, 8), nyquist=nyquist, impl=impl)
    torch.testing.assert_close(pool(x[0]), expected[0], atol=0, rtol=0)
    assert f"freq_dropout=0.3, nyquist={nyquist!r}" in repr(SpectralPool2d(8, 0.3, nyquist=nyquist))


def test_module_default_rule_is_fold():
    assert SpectralPool2d(4).nyquist == "fold"
    x = randn(1, 2, 8, 8)
    torch.testing.assert_close(SpectralPool2d(4)(x), spectral_pool(x, 4, nyquist="fold"))


@pytest.mark.parametrize(
    "c, size, low", [(0.3, 10, 3), (0.5, 7, 3), (0.29, 100, 29), (0.0, 5, 1), (0.05, 12, 1)]
)
def test_radius_is_uniform_on_the_issue_range(c, size, low):
    pool = SpectralPool2d(size, c, generator=torch.Generator().manual_seed(1))
    assert pool.radius_range() == ((low, low), (size, size))
    draws = [pool.sample_radius() for _ in range(300 * (size - low + 1))]
    assert all(r_h == r_w for r_h, r_w in draws)
    counts = torch.bincount(torch.tensor([r for r, _ in draws]), minlength=size + 1)
    assert counts[:low].sum() == 0 and (counts[low:] > 0).all()
    assert float(counts[low:].float().std() / counts[low:].float().mean()) < 0.2  # ~uniform


def test_non_square_radius_is_proportional():
    pool = SpectralPool2d((6, 12), 0.5, generator=torch.Generator().manual_seed(0))
    draws = {pool.sample_radius() for _ in range(500)}
    assert {r_w for _, r_w in draws} == set(range(6, 13))  # sampled along the longer side
    assert all(r_h == min(max(round(r_w / 2), 3), 6) for r_h, r_w in draws)


@rules
def test_training_forward_truncates_with_the_drawn_radius(nyquist):
    x = randn(2, 3, 12, 12, dtype=torch.float32)
    pool = SpectralPool2d(10, 0.3, nyquist=nyquist, generator=torch.Generator().manual_seed(3))
    twin = SpectralPool2d(10, 0.3, generator=torch.Generator().manual_seed(3))
    outputs = set()
    for _ in range(20):
        radius = twin.sample_radius()
        y = pool(x)
        expected = spectral_pool(x, 10, radius=radius, nyquist=nyquist)
        torch.testing.assert_close(y, expected, atol=0, rtol=0)
        outputs.add(radius)
    assert len(outputs) > 1  # the radius really changes between calls


def test_global_seed_makes_dropout_repeatable():
    x = randn(1, 2, 12, 12, dtype=torch.float32)
    pool = SpectralPool2d(9, 0.2)
    torch.manual_seed(0)
    first = [pool(x) for _ in range(5)]
    torch.manual_seed(0)
    second = [pool(x) for _ in range(5)]
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_freq_dropout_schedule_closed_form():
    assert freq_dropout_schedule(3, 0.3, 0.15) == pytest.approx([0.25, 0.2, 0.15])
    assert freq_dropout_schedule(1, 0.8, 0.1) == pytest.approx([0.1])
    assert freq_dropout_schedule(4, 0.2, 0.2) == pytest.approx([0.2] * 4)
    with pytest.raises(ValueError, match=">= 1"):
        freq_dropout_schedule(0, 0.3, 0.15)
    with pytest.raises(TypeError, match="num_layers must be an int"):
        freq_dropout_schedule(2.0, 0.3, 0.15)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        freq_dropout_schedule(3, 1.3, 0.15)
