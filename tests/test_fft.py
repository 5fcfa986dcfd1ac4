"""Tests of spectral.fft and of spectral.testing's dense references, against numpy.fft,
closed forms and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral.fft import (
    CONJUGATE,
    FREE,
    REAL,
    centered,
    dft_matrix,
    hermitian_part,
    is_hermitian,
    mirror,
    naive_dft2,
    naive_idft2,
    symmetry_pattern,
    uncentered,
)
from spectral.testing import (
    centred_resize,
    conv_model,
    dft_amplitude,
    pool_gradient_reference,
    randn,
    resize_reference,
)

SIZES = [(1, 1), (1, 6), (6, 1), (2, 2), (3, 5), (4, 4), (5, 5), (8, 8), (7, 10), (10, 7), (6, 9)]
BATCHES = [(), (3,), (2, 3)]
REAL_DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: 1e-5, torch.float64: 1e-12, torch.complex64: 1e-5, torch.complex128: 1e-12}

sizes = pytest.mark.parametrize("h, w", SIZES, ids=[f"{h}x{w}" for h, w in SIZES])


def random_map(batch, h, w, dtype, seed=0):
    if dtype.is_complex:
        return torch.view_as_complex(randn(*batch, h, w, 2, seed=seed)).to(dtype)
    return randn(*batch, h, w, seed=seed, dtype=dtype)


def ortho_numpy(x: torch.Tensor) -> np.ndarray:
    return np.fft.fft2(x.to(torch.complex128).numpy(), norm="ortho")


# --- dft_matrix -----------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 13, 64])
def test_dft_matrix_entries_match_closed_form(n):
    d = dft_matrix(n)
    j = np.arange(n)
    expected = np.exp(-2j * np.pi * np.outer(j, j) / n) / np.sqrt(n)
    assert d.dtype == torch.complex128 and d.shape == (n, n)
    np.testing.assert_allclose(d.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 5, 8, 31])
def test_dft_matrix_is_unitary_and_symmetric(n):
    d = dft_matrix(n)
    eye = torch.eye(n, dtype=torch.complex128)
    torch.testing.assert_close(d.conj().T @ d, eye, atol=1e-12, rtol=0)
    torch.testing.assert_close(d, d.T)


@pytest.mark.parametrize("n", [1, 4, 7, 16])
def test_dft_matrix_applies_numpy_ortho_fft(n):
    x = np.random.default_rng(n).standard_normal(n)
    got = dft_matrix(n) @ torch.from_numpy(x).to(torch.complex128)
    np.testing.assert_allclose(got.numpy(), np.fft.fft(x, norm="ortho"), atol=1e-12)


def test_dft_matrix_complex64():
    d = dft_matrix(6, dtype=torch.complex64)
    assert d.dtype == torch.complex64
    np.testing.assert_allclose(d.numpy(), dft_matrix(6).numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "n, error", [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)]
)
def test_dft_matrix_rejects_bad_size(n, error):
    with pytest.raises(error, match="n must be a positive int"):
        dft_matrix(n)


def test_dft_matrix_rejects_real_dtype():
    with pytest.raises(TypeError, match="dtype must be torch.complex64 or torch.complex128"):
        dft_matrix(4, dtype=torch.float64)


# --- naive_dft2 / naive_idft2 ---------------------------------------------------------


@sizes
@pytest.mark.parametrize("batch", BATCHES, ids=str)
@pytest.mark.parametrize("dtype", REAL_DTYPES + [torch.complex64, torch.complex128], ids=str)
def test_naive_dft2_matches_numpy_ortho(h, w, batch, dtype):
    x = random_map(batch, h, w, dtype)
    got = naive_dft2(x)
    assert got.dtype == torch.complex128 and got.shape == x.shape
    np.testing.assert_allclose(got.numpy(), ortho_numpy(x), atol=TOL[dtype] * 10)


@sizes
@pytest.mark.parametrize("batch", BATCHES, ids=str)
def test_naive_idft2_matches_numpy_and_inverts(h, w, batch):
    X = random_map(batch, h, w, torch.complex128)
    got = naive_idft2(X)
    np.testing.assert_allclose(got.numpy(), np.fft.ifft2(X.numpy(), norm="ortho"), atol=1e-12)
    torch.testing.assert_close(naive_dft2(got), X, atol=1e-12, rtol=0)


@sizes
def test_naive_dft2_matches_torch_fft(h, w):
    x = random_map((2,), h, w, torch.float64)
    torch.testing.assert_close(naive_dft2(x), torch.fft.fft2(x, norm="ortho"), atol=1e-12, rtol=0)


def test_naive_dft2_parseval():
    x = random_map((4,), 7, 10, torch.float64)
    torch.testing.assert_close(
        naive_dft2(x).abs().square().sum(), x.square().sum().to(torch.complex128).real
    )


@pytest.mark.parametrize("fn", [naive_dft2, naive_idft2, hermitian_part, centered, uncentered])
def test_transforms_reject_vectors(fn):
    with pytest.raises(ValueError, match=r"at least 2 dims \(\.\.\., H, W\)"):
        fn(torch.zeros(5))


@pytest.mark.parametrize("fn", [naive_dft2, naive_idft2, hermitian_part])
def test_transforms_reject_integer_tensors(fn):
    with pytest.raises(TypeError, match="floating or complex dtype, got torch.int64"):
        fn(torch.zeros(3, 3, dtype=torch.int64))


def test_transforms_reject_non_tensors():
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        naive_dft2(np.zeros((3, 3)))


def test_transforms_reject_empty_maps():
    with pytest.raises(ValueError, match="non-empty H and W"):
        naive_dft2(torch.zeros(3, 0))


# --- symmetry_pattern -----------------------------------------------------------------


def brute_force_pattern(h: int, w: int) -> torch.Tensor:
    """Independent reference: walk the bins in rfft2 order, label each pair once."""
    pattern = torch.full((h, w), -1, dtype=torch.int64)
    for l in range(w):  # noqa: E741
        for k in range(h):
            mk, ml = (-k) % h, (-l) % w
            if pattern[k, l] >= 0:
                continue
            if (mk, ml) == (k, l):
                pattern[k, l] = REAL
            else:
                pattern[k, l] = FREE
                pattern[mk, ml] = CONJUGATE
    return pattern


def expected_real_count(h: int, w: int) -> int:
    return (2 if h % 2 == 0 else 1) * (2 if w % 2 == 0 else 1)


@pytest.mark.parametrize("h", range(1, 13))
@pytest.mark.parametrize("w", range(1, 13))
def test_symmetry_pattern_matches_brute_force(h, w):
    pattern = symmetry_pattern(h, w)
    assert pattern.dtype == torch.int64 and pattern.shape == (h, w)
    torch.testing.assert_close(pattern, brute_force_pattern(h, w))


@given(h=st.integers(1, 40), w=st.integers(1, 40))
@settings(max_examples=200, deadline=None)
def test_symmetry_pattern_counts(h, w):
    pattern = symmetry_pattern(h, w)
    n_real = int((pattern == REAL).sum())
    n_free = int((pattern == FREE).sum())
    n_conj = int((pattern == CONJUGATE).sum())
    assert n_real + 2 * n_free == h * w
    assert n_free == n_conj
    assert n_real == expected_real_count(h, w)


@given(h=st.integers(1, 24), w=st.integers(1, 24))
@settings(max_examples=100, deadline=None)
def test_free_and_real_bins_lie_in_rfft_half_plane(h, w):
    pattern = symmetry_pattern(h, w)
    assert bool((pattern[:, w // 2 + 1 :] == CONJUGATE).all())


@pytest.mark.parametrize("h, w", [(4, 4), (4, 6), (6, 4), (8, 8)])
def test_even_pattern_real_bins_are_rippels_four(h, w):
    real = {tuple(ix) for ix in (symmetry_pattern(h, w) == REAL).nonzero().tolist()}
    assert real == {(0, 0), (h // 2, 0), (0, w // 2), (h // 2, w // 2)}


@sizes
def test_free_coordinates_determine_a_real_map(h, w):
    """A real map is recovered from its REAL and FREE bins alone."""
    x = random_map((), h, w, torch.float64)
    X = torch.fft.fft2(x, norm="ortho")
    pattern = symmetry_pattern(h, w)
    rows, cols = mirror(h, w)
    kept = torch.where(pattern == CONJUGATE, torch.zeros_like(X), X)
    rebuilt = torch.where(pattern == CONJUGATE, kept[rows[:, None], cols].conj(), kept)
    torch.testing.assert_close(torch.fft.ifft2(rebuilt, norm="ortho").real, x, atol=1e-12, rtol=0)


@pytest.mark.parametrize("h, w", [(0, 3), (3, -1)])
def test_symmetry_pattern_rejects_bad_sizes(h, w):
    with pytest.raises(ValueError, match="must be a positive int"):
        symmetry_pattern(h, w)


# --- mirror -------------------------------------------------------------------------


@sizes
def test_mirror_is_an_involution(h, w):
    rows, cols = mirror(h, w)
    assert rows[rows].tolist() == list(range(h)) and cols[cols].tolist() == list(range(w))
    assert rows.tolist() == [(-k) % h for k in range(h)]


# --- hermitian_part / is_hermitian ----------------------------------------------------


@sizes
@pytest.mark.parametrize("dtype", REAL_DTYPES, ids=str)
def test_spectrum_of_real_map_is_hermitian(h, w, dtype):
    x = random_map((3,), h, w, dtype)
    X = torch.fft.fft2(x, norm="ortho")
    assert is_hermitian(X, atol=TOL[dtype])
    torch.testing.assert_close(hermitian_part(X), X, atol=TOL[dtype], rtol=0)


@pytest.mark.parametrize("h, w", [(2, 2), (3, 5), (8, 8), (7, 10)])
def test_random_complex_spectrum_is_not_hermitian(h, w):
    assert not is_hermitian(random_map((), h, w, torch.complex128))


@sizes
@pytest.mark.parametrize("batch", BATCHES, ids=str)
def test_hermitian_part_equals_spectrum_of_real_part(h, w, batch):
    X = random_map(batch, h, w, torch.complex128)
    expected = np.fft.fft2(np.fft.ifft2(X.numpy(), norm="ortho").real, norm="ortho")
    np.testing.assert_allclose(hermitian_part(X).numpy(), expected, atol=1e-12)


def test_hermitian_part_of_real_tensor_symmetrises():
    X = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    P = hermitian_part(X)
    rows, cols = mirror(3, 4)
    torch.testing.assert_close(P, (X + X[rows[:, None], cols]) / 2)


@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=150, deadline=None)
def test_hermitian_projection_laws(h, w, seed):
    X = random_map((2,), h, w, torch.complex128, seed=seed)
    P = hermitian_part(X)
    # idempotent
    torch.testing.assert_close(hermitian_part(P), P, atol=1e-12, rtol=0)
    # its inverse DFT is real
    assert float(torch.fft.ifft2(P, norm="ortho").imag.abs().max()) < 1e-12
    assert is_hermitian(P, atol=1e-12)
    # orthogonal: the residual is orthogonal (real inner product) to every Hermitian Y
    Y = hermitian_part(random_map((2,), h, w, torch.complex128, seed=seed + 1))
    inner = torch.sum((X - P).conj() * Y).real
    assert abs(float(inner)) < 1e-10


@given(h=st.integers(1, 9), w=st.integers(1, 9), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=100, deadline=None)
def test_hermitian_part_is_nearest_hermitian_spectrum(h, w, seed):
    X = random_map((), h, w, torch.complex128, seed=seed)
    P = hermitian_part(X)
    Y = P + 0.1 * hermitian_part(random_map((), h, w, torch.complex128, seed=seed + 7))
    assert float((X - P).abs().norm()) <= float((X - Y).abs().norm()) + 1e-12


def test_is_hermitian_respects_atol():
    X = torch.fft.fft2(random_map((), 4, 4, torch.float64), norm="ortho")
    X[1, 1] += 1e-6
    assert not is_hermitian(X, atol=1e-8)
    assert is_hermitian(X, atol=1e-5)
    with pytest.raises(ValueError, match="atol must be >= 0"):
        is_hermitian(X, atol=-1.0)


# --- centered / uncentered ------------------------------------------------------------


@sizes
@pytest.mark.parametrize("batch", BATCHES, ids=str)
def test_centered_matches_numpy_fftshift_and_inverts(h, w, batch):
    X = random_map(batch, h, w, torch.complex128)
    np.testing.assert_array_equal(centered(X).numpy(), np.fft.fftshift(X.numpy(), axes=(-2, -1)))
    torch.testing.assert_close(uncentered(centered(X)), X, atol=0, rtol=0)


@sizes
def test_centered_puts_dc_in_the_middle(h, w):
    X = torch.zeros(h, w, dtype=torch.complex128)
    X[0, 0] = 1
    assert centered(X)[h // 2, w // 2] == 1


def test_centered_accepts_integer_patterns():
    pattern = centered(symmetry_pattern(5, 5))
    assert pattern.dtype == torch.int64 and pattern[2, 2] == REAL


@pytest.mark.parametrize("n", [5, 8])
def test_centered_index_holds_signed_frequency(n):
    freqs = torch.fft.fftfreq(n) * n
    shifted = centered(freqs.expand(1, n))[0]
    assert shifted.tolist() == [i - n // 2 for i in range(n)]
    assert math.isclose(shifted[0].item(), -(n // 2))


# --- spectral.testing: the dense references the tests and chapters share -------------

grids = st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), st.integers(1, 9))


def numpy_resize(Xc: np.ndarray, h: int, w: int) -> np.ndarray:
    """Centred resize by frequency labels: index i of a centred n-grid holds i - n // 2."""
    H, W = Xc.shape[-2:]
    out = np.zeros((*Xc.shape[:-2], h, w), dtype=complex)
    for i in range(h):
        for j in range(w):
            k, m = i - h // 2 + H // 2, j - w // 2 + W // 2  # same frequency, input index
            if 0 <= k < H and 0 <= m < W:
                out[..., i, j] = Xc[..., k, m]
    return out


def numpy_pool(x: np.ndarray, h: int, w: int) -> np.ndarray:
    H, W = x.shape[-2:]
    Xc = np.fft.fftshift(np.fft.fft2(x, norm="ortho"), axes=(-2, -1))
    Yc = numpy_resize(Xc, h, w)
    y = np.fft.ifft2(np.fft.ifftshift(Yc, axes=(-2, -1)), norm="ortho").real
    return y * math.sqrt(h * w / (H * W))


def test_randn_is_seeded_the_same_in_every_dtype_and_leaves_the_global_generator():
    state = torch.get_rng_state()
    a = randn(3, 4, seed=1)
    assert a.dtype == torch.float64 and torch.equal(a, randn(3, 4, seed=1))
    assert torch.equal(randn(3, 4, seed=1, dtype=torch.float32), a.float())
    assert not torch.equal(a, randn(3, 4, seed=2))
    assert torch.equal(torch.get_rng_state(), state)


@settings(max_examples=40, deadline=None)
@given(grid=grids, seed=st.integers(0, 1000))
def test_centred_resize_keeps_the_shared_frequencies_and_zeros_the_rest(grid, seed):
    H, W, h, w = grid
    Xc = random_map((2,), H, W, torch.complex128, seed=seed)
    got = centred_resize(Xc, h, w)
    np.testing.assert_array_equal(got.numpy(), numpy_resize(Xc.numpy(), h, w))
    back = centred_resize(got, H, W)  # there and back: the shared block survives
    np.testing.assert_array_equal(back.numpy(), numpy_resize(numpy_resize(Xc.numpy(), h, w), H, W))


@settings(max_examples=40, deadline=None)
@given(grid=grids, seed=st.integers(0, 1000))
def test_resize_reference_matches_numpy(grid, seed):
    H, W, h, w = grid
    x = randn(3, H, W, seed=seed)
    np.testing.assert_allclose(
        resize_reference(x, h, w).numpy(), numpy_pool(x.numpy(), h, w), atol=1e-12, rtol=0
    )


@sizes
def test_resize_reference_keeps_a_constant_and_its_own_size(h, w):
    torch.testing.assert_close(
        resize_reference(torch.full((7, 6), 2.5), h, w),
        torch.full((h, w), 2.5, dtype=torch.float64),
        atol=1e-12,
        rtol=0,
    )
    x = randn(2, h, w)
    torch.testing.assert_close(resize_reference(x, h, w), x, atol=1e-12, rtol=0)


@settings(max_examples=40, deadline=None)
@given(grid=grids, seed=st.integers(0, 1000))
def test_pool_gradient_reference_is_the_adjoint_of_pooling(grid, seed):
    H, W, h, w = grid
    x, g = randn(2, H, W, seed=seed), randn(2, h, w, seed=seed + 1)
    forward = (resize_reference(x, h, w) * g).sum()
    backward = (x * pool_gradient_reference(g, H, W)).sum()
    torch.testing.assert_close(forward, backward, atol=1e-12, rtol=0)
    (autograd,) = torch.autograd.grad(resize_reference(x.requires_grad_(), h, w), x, g)
    torch.testing.assert_close(autograd, pool_gradient_reference(g, H, W), atol=1e-12, rtol=0)


@pytest.mark.parametrize("dtype", REAL_DTYPES)
def test_conv_model_is_a_same_padded_correlation_with_the_taps(dtype):
    taps, x = randn(3, 3, dtype=dtype), randn(1, 1, 6, 7, seed=1, dtype=dtype)
    expected = torch.nn.functional.conv2d(x, taps.view(1, 1, 3, 3), padding=1)
    torch.testing.assert_close(conv_model(taps)(x), expected, atol=TOL[dtype], rtol=0)
    torch.testing.assert_close(
        conv_model(taps, relu=True)(x), expected.clamp_min(0), atol=TOL[dtype], rtol=0
    )
    assert conv_model(taps).weight.dtype == dtype and conv_model(taps).bias is None


@sizes
def test_dft_amplitude_is_numpys_centred_unnormalised_magnitude(h, w):
    x = randn(2, h, w)
    expected = np.abs(np.fft.fftshift(np.fft.fft2(x.numpy()), axes=(-2, -1)))
    np.testing.assert_allclose(dft_amplitude(x).numpy(), expected, atol=1e-12, rtol=0)
