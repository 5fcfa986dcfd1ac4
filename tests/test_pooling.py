"""Tests of spectral.pooling against dense float64 DFT references and closed forms."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral.fft import centered, naive_dft2, naive_idft2, uncentered
from spectral.pooling import SpectralPool2d, freq_dropout_schedule, spectral_pool

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
cases = pytest.mark.parametrize(
    "H, W, h, w", CASES, ids=[f"{a}x{b}to{c}x{d}" for a, b, c, d in CASES]
)


def randn(*shape, dtype=torch.float64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64).to(dtype)


# --- independent references: dense complex128 DFT matrices, centred crop / zero-pad ----------


def crop_or_pad(Xc: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Centred spectrum Xc resized to (h, w): keep the shared frequencies, zeros elsewhere."""
    H, W = Xc.shape[-2:]
    out = torch.zeros(*Xc.shape[:-2], h, w, dtype=torch.complex128)
    rh, rw = min(h, H), min(w, W)
    out[..., h // 2 - rh // 2 : h // 2 - rh // 2 + rh, w // 2 - rw // 2 : w // 2 - rw // 2 + rw] = (
        Xc[..., H // 2 - rh // 2 : H // 2 - rh // 2 + rh, W // 2 - rw // 2 : W // 2 - rw // 2 + rw]
    )
    return out


def reference_resize(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """√(hw/HW) · Re F⁻¹(crop or pad of the centred F x), all by dense DFT matrices."""
    H, W = x.shape[-2:]
    spectrum = crop_or_pad(centered(naive_dft2(x.to(torch.float64))), h, w)
    return naive_idft2(uncentered(spectrum)).real * math.sqrt(h * w / (H * W))


def reference_pool(x, h, w, radius=None):
    if radius is None:
        return reference_resize(x, h, w)
    return reference_resize(reference_resize(x, *radius), h, w)


# --- the operator ----------------------------------------------------------------------------


@cases
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("impl", IMPLS)
def test_matches_dense_reference(H, W, h, w, dtype, impl):
    x = randn(2, 3, H, W, dtype=dtype)
    y = spectral_pool(x, (h, w), impl=impl)
    assert y.shape == (2, 3, h, w) and y.dtype == dtype
    torch.testing.assert_close(y.double(), reference_pool(x, h, w), atol=TOL[dtype], rtol=0)


@cases
def test_matrix_and_fft_agree_to_rounding(H, W, h, w):
    x = randn(4, H, W)
    torch.testing.assert_close(
        spectral_pool(x, (h, w)), spectral_pool(x, (h, w), impl="fft"), atol=1e-12, rtol=0
    )


@settings(max_examples=40, deadline=None)
@given(
    H=st.integers(1, 11),
    W=st.integers(1, 11),
    data=st.data(),
    batch=st.sampled_from([(), (2,), (2, 1)]),
)
def test_impls_agree_for_any_sizes_and_radius(H, W, data, batch):
    h, w = data.draw(st.integers(1, H)), data.draw(st.integers(1, W))
    radius = data.draw(st.none() | st.tuples(st.integers(1, h), st.integers(1, w)))
    x = randn(*batch, H, W, seed=H * 100 + W)
    y = spectral_pool(x, (h, w), radius=radius)
    torch.testing.assert_close(
        y, spectral_pool(x, (h, w), radius=radius, impl="fft"), atol=1e-12, rtol=0
    )
    torch.testing.assert_close(y, reference_pool(x, h, w, radius), atol=1e-12, rtol=0)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("size", [(1, 1), (4, 4), (5, 5), (6, 9)])
def test_full_output_size_is_identity(size, impl):
    x = randn(3, *size)
    torch.testing.assert_close(spectral_pool(x, size, impl=impl), x, atol=1e-12, rtol=0)


@cases
@pytest.mark.parametrize("impl", IMPLS)
def test_constant_map_stays_the_same_constant(H, W, h, w, impl):
    x = torch.full((H, W), 2.5, dtype=torch.float64)
    expected = torch.full((h, w), 2.5, dtype=torch.float64)
    torch.testing.assert_close(spectral_pool(x, (h, w), impl=impl), expected, atol=1e-12, rtol=0)
    radius = (max(1, h - 1), max(1, w - 2))
    torch.testing.assert_close(
        spectral_pool(x, (h, w), radius=radius, impl=impl), expected, atol=1e-12, rtol=0
    )


def trig_map(terms, rows, cols):
    """Σ a·cos(2π(k·s + j·t) + φ) sampled at s = i/rows, t = n/cols (a real trig polynomial)."""
    s = torch.arange(rows, dtype=torch.float64)[:, None] / rows
    t = torch.arange(cols, dtype=torch.float64)[None, :] / cols
    return sum(a * torch.cos(2 * math.pi * (k * s + j * t) + phi) for a, k, j, phi in terms)


@pytest.mark.parametrize(
    "H, W, h, w", [(16, 15, 7, 6), (15, 16, 8, 9), (12, 12, 6, 6), (13, 9, 5, 4)]
)
@pytest.mark.parametrize("impl", IMPLS)
def test_band_limited_map_comes_back_as_its_samples(H, W, h, w, impl):
    gen = torch.Generator().manual_seed(H * W)
    terms = []
    for k in range(-((h - 1) // 2), (h - 1) // 2 + 1):  # |k| < h/2, |l| < w/2: inside the band
        for j in range(-((w - 1) // 2), (w - 1) // 2 + 1):
            a, phi = torch.rand(2, generator=gen, dtype=torch.float64).tolist()
            terms.append((a, k, j, 2 * math.pi * phi))
    x = trig_map(terms, H, W)
    expected = trig_map(terms, h, w)  # the same function sampled on the coarse grid
    torch.testing.assert_close(spectral_pool(x, (h, w), impl=impl), expected, atol=1e-11, rtol=0)


@pytest.mark.parametrize("impl", IMPLS)
def test_nyquist_lines_keep_half_the_cosine_and_only_the_central_block(impl):
    # The adopted repair (chapter 02) averages each Nyquist bin with its in-crop mirror:
    # a pure Nyquist cosine comes back at half amplitude, its sine part vanishes, and
    # frequencies outside the central h×w block (the corner aliases) do not leak in.
    H, W, h, w = 12, 10, 6, 4
    m = torch.arange(H, dtype=torch.float64)[:, None]
    n = torch.arange(W, dtype=torch.float64)[None, :]
    sign = ((-1) ** (torch.arange(h)[:, None] + torch.arange(w)[None, :])).double()
    row_sign = ((-1) ** torch.arange(h)[:, None].expand(h, w)).double()
    cases = [
        (torch.cos(math.pi * h * m / H).expand(H, W), row_sign / 2),
        (torch.sin(math.pi * h * m / H).expand(H, W), 0 * sign),
        (torch.cos(math.pi * (h * m / H + w * n / W)), sign / 2),  # bins (∓h/2, ∓w/2)
        (torch.cos(math.pi * (h * m / H - w * n / W)), 0 * sign),  # bins (±h/2, ∓w/2): outside
    ]
    for x, expected in cases:
        torch.testing.assert_close(
            spectral_pool(x, (h, w), impl=impl), expected, atol=1e-12, rtol=0
        )


@settings(max_examples=30, deadline=None)
@given(
    H=st.integers(2, 10),
    W=st.integers(2, 10),
    data=st.data(),
    a=st.floats(-3, 3),
    b=st.floats(-3, 3),
)
def test_linear(H, W, data, a, b):
    h, w = data.draw(st.integers(1, H)), data.draw(st.integers(1, W))
    x, y = randn(2, H, W, seed=1), randn(2, H, W, seed=2)
    torch.testing.assert_close(
        spectral_pool(a * x + b * y, (h, w)),
        a * spectral_pool(x, (h, w)) + b * spectral_pool(y, (h, w)),
        atol=1e-11,
        rtol=0,
    )


@settings(max_examples=30, deadline=None)
@given(H=st.integers(1, 12), W=st.integers(1, 12), data=st.data(), seed=st.integers(0, 2**16))
def test_non_expansive_up_to_the_mean_scale(H, W, data, seed):
    # Crop and Hermitian projection never increase the 2-norm; the scale is √(hw/HW).
    h, w = data.draw(st.integers(1, H)), data.draw(st.integers(1, W))
    x = randn(H, W, seed=seed)
    bound = math.sqrt(h * w / (H * W)) * float(x.norm())
    assert float(spectral_pool(x, (h, w)).norm()) <= bound * (1 + 1e-12)


@pytest.mark.parametrize("impl", IMPLS)
def test_noncontiguous_input(impl):
    x = randn(3, 10, 9).transpose(-1, -2)  # (3, 9, 10), strided
    torch.testing.assert_close(
        spectral_pool(x, (4, 7), impl=impl), reference_pool(x, 4, 7), atol=1e-12, rtol=0
    )


def test_empty_batch():  # the default impl; torch.fft itself rejects empty inputs on MKL
    x = torch.zeros(0, 3, 8, 8, requires_grad=True)
    y = spectral_pool(x, 4)
    assert y.shape == (0, 3, 4, 4)
    y.sum().backward()
    assert x.grad.shape == x.shape


# --- radius ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "H, W, h, w, radius",
    [(12, 12, 10, 10, 6), (12, 11, 9, 8, (5, 8)), (9, 9, 8, 8, (7, 4)), (8, 8, 8, 8, 3)],
)
@pytest.mark.parametrize("impl", IMPLS)
def test_radius_is_pooling_then_zero_padding_back(H, W, h, w, radius, impl):
    x = randn(2, H, W)
    pair = (radius, radius) if isinstance(radius, int) else radius
    y = spectral_pool(x, (h, w), radius=radius, impl=impl)
    torch.testing.assert_close(y, reference_pool(x, h, w, pair), atol=1e-12, rtol=0)
    # its spectrum vanishes at all frequencies |f| > r/2 (±r/2 share an even r's Nyquist)
    rh, rw = pair
    inside_h = (torch.arange(h) - h // 2).abs() <= rh / 2
    inside_w = (torch.arange(w) - w // 2).abs() <= rw / 2
    spectrum = centered(naive_dft2(y))
    assert float(spectrum[..., ~(inside_h[:, None] & inside_w[None, :])].abs().max()) < 1e-12


def test_radius_equal_to_output_size_is_plain_pooling():
    x = randn(2, 11, 10)
    torch.testing.assert_close(spectral_pool(x, (7, 6), radius=(7, 6)), spectral_pool(x, (7, 6)))


@pytest.mark.parametrize("impl", IMPLS)
def test_radius_output_has_exactly_r_h_times_r_w_degrees_of_freedom(impl):
    # The rank of the real-linear map x ↦ spectral_pool(x, (h, w), radius=(rh, rw)).
    H = W = 9
    basis = torch.eye(H * W, dtype=torch.float64).reshape(H * W, H, W)
    for h, w, rh, rw in [(8, 8, 1, 1), (8, 8, 4, 4), (8, 8, 5, 5), (8, 7, 6, 3), (8, 8, 8, 8)]:
        operator = spectral_pool(basis, (h, w), radius=(rh, rw), impl=impl).reshape(H * W, -1)
        assert int(torch.linalg.matrix_rank(operator)) == rh * rw


# --- gradients (Alg. 2) ----------------------------------------------------------------------


@cases
@pytest.mark.parametrize("impl", IMPLS)
def test_gradient_is_zero_padding_and_real_part(H, W, h, w, impl):
    # Alg. 2 with PADSPECTRUM = zero padding and RECOVERMAP = real part: the adjoint.
    x = randn(2, H, W, seed=3).requires_grad_(True)
    g = randn(2, h, w, seed=4)
    (grad,) = torch.autograd.grad(spectral_pool(x, (h, w), impl=impl), x, g)
    expected = naive_idft2(uncentered(crop_or_pad(centered(naive_dft2(g)), H, W))).real
    torch.testing.assert_close(grad, expected * math.sqrt(h * w / (H * W)), atol=1e-12, rtol=0)


@cases
@pytest.mark.parametrize("impl", IMPLS)
def test_gradcheck(H, W, h, w, impl):
    x = randn(1, H, W, seed=5).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: spectral_pool(v, (h, w), impl=impl), (x,))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("radius", [(3, 2), (4, 4), (5, 3)])
def test_gradcheck_with_radius(radius, impl):
    x = randn(1, 9, 8, seed=6).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda v: spectral_pool(v, (6, 6), radius=radius, impl=impl), (x,)
    )


def test_gradgradcheck_through_the_corner_step():
    x = randn(1, 8, 6, seed=7).requires_grad_(True)
    assert torch.autograd.gradgradcheck(lambda v: spectral_pool(v, (4, 4)) ** 2, (x,))


def test_operators_built_under_inference_mode_still_support_autograd():
    with torch.inference_mode():
        spectral_pool(torch.randn(1, 23, 19), (14, 10))  # first use of these sizes
    x = torch.randn(1, 23, 19, requires_grad=True)
    spectral_pool(x, (14, 10)).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


# --- dtypes and autocast ---------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_autocast_bfloat16_computes_in_float32(impl):
    x = randn(2, 3, 12, 12, dtype=torch.float32).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = spectral_pool(x, 8, impl=impl)
        y_low = spectral_pool(x.bfloat16(), 8, impl=impl)
    # the autocast policy (spectral._validate): float32 in, float32 out; bf16 in, bf16 out
    assert y.dtype == torch.float32 and y_low.dtype == torch.bfloat16
    torch.testing.assert_close(y, spectral_pool(x.detach(), 8, impl=impl), atol=0, rtol=0)
    expected_low = spectral_pool(x.detach().bfloat16().float(), 8, impl=impl).bfloat16()
    torch.testing.assert_close(y_low, expected_low, atol=0, rtol=0)  # rounded once
    y.float().sum().backward()
    assert x.grad.dtype == torch.float32 and torch.isfinite(x.grad).all()


def test_autocast_leaves_float64_alone():
    x = randn(8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = spectral_pool(x, 5)
    assert y.dtype == torch.float64


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_inputs_return_their_dtype(dtype):
    x = randn(2, 10, 10, dtype=torch.float32)
    y = spectral_pool(x.to(dtype), 6, impl="fft")
    assert y.dtype == dtype
    torch.testing.assert_close(
        y.float(), spectral_pool(x.to(dtype).float(), 6), atol=1e-2, rtol=1e-2
    )


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
        (torch.ones(4, 4), {"output_size": 5}, ValueError, "exceeds the input"),
        (torch.ones(4, 6), {"output_size": (2, 7)}, ValueError, "exceeds the input"),
        (torch.ones(4, 4), {"output_size": 2.5}, TypeError, "int or a pair"),
        (torch.ones(4, 4), {"output_size": True}, TypeError, "int or a pair"),
        (torch.ones(4, 4), {"output_size": (1, 2, 3)}, TypeError, "int or a pair"),
        (torch.ones(4, 4), {"output_size": 3, "radius": 0}, ValueError, ">= 1"),
        (torch.ones(4, 4), {"output_size": 3, "radius": (2, 4)}, ValueError, "exceeds output_size"),
        (torch.ones(4, 4), {"output_size": 3, "radius": 1.5}, TypeError, "int or a pair"),
        (torch.ones(4, 4), {"output_size": 3, "impl": "cuFFT"}, ValueError, "impl must be"),
    ],
)
def test_bad_input_raises_clearly(x, kwargs, error, match):
    with pytest.raises(error, match=match):
        spectral_pool(x, **kwargs)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((0,), {}, ValueError, ">= 1"),
        (((3, 3, 3),), {}, TypeError, "int or a pair"),
        ((3, -0.1), {}, ValueError, r"\[0, 1\]"),
        ((3, 1.5), {}, ValueError, r"\[0, 1\]"),
        ((3, float("nan")), {}, ValueError, r"\[0, 1\]"),
        ((3, "0.3"), {}, TypeError, "number"),
        ((3,), {"impl": "dft"}, ValueError, "impl must be"),
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


@pytest.mark.parametrize("impl", IMPLS)
def test_module_eval_and_no_dropout_equal_the_function(impl):
    x = randn(2, 3, 16, 15)
    expected = spectral_pool(x, (9, 8), impl=impl)
    for pool in [
        SpectralPool2d((9, 8), 0.3, impl=impl).eval(),
        SpectralPool2d((9, 8), impl=impl),
        SpectralPool2d((9, 8), 1.0, impl=impl),
    ]:
        torch.testing.assert_close(pool(x), expected, atol=0, rtol=0)
    torch.testing.assert_close(SpectralPool2d((9, 8), impl=impl)(x[0]), expected[0], atol=0, rtol=0)
    assert "freq_dropout=0.3" in repr(SpectralPool2d((9, 8), 0.3))


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


def test_training_forward_truncates_with_the_drawn_radius():
    x = randn(2, 3, 12, 12, dtype=torch.float32)
    pool = SpectralPool2d(10, 0.3, generator=torch.Generator().manual_seed(3))
    twin = SpectralPool2d(10, 0.3, generator=torch.Generator().manual_seed(3))
    outputs = set()
    for _ in range(20):
        radius = twin.sample_radius()
        y = pool(x)
        torch.testing.assert_close(y, spectral_pool(x, 10, radius=radius), atol=0, rtol=0)
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
    with pytest.raises(TypeError, match="positive int"):
        freq_dropout_schedule(2.0, 0.3, 0.15)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        freq_dropout_schedule(3, 1.3, 0.15)
