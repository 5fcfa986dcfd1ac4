"""spectral.norm: SpectralBatchNorm2d against Algorithm 1 of Cakaj et al. (2023).

The reference below transcribes Algorithm 1 line by line in complex128 with dense DFT
matrices (spectral.fft.dft_matrix) and explicit per-channel sums; it shares no code with
spectral.norm. For 1×1 maps SBN reduces to nn.BatchNorm2d, a second independent check.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from spectral._repr import wrapped_options
from spectral.fft import dft_matrix
from spectral.norm import SpectralBatchNorm2d, _row_blocks, _spatial_bases

F64 = torch.float64
C128 = torch.complex128
IMPLS = ["spatial", "fft"]
NORMS = ["backward", "ortho", "forward"]
WEIGHTINGS = ["half", "full"]
VARIANCES = ["batch", "running"]
UNBIASED = ["count", "paper", "none"]
OPTIONS = [
    dict(fft_norm=n, weighting=w, variance=v, unbiased=u, complex_running_mean=c)
    for n, w, v, u, c in itertools.product(NORMS, WEIGHTINGS, VARIANCES, UNBIASED, [True, False])
]
# odd, even, even × odd, odd × even (non-square); 1×5 and 3×1 are thin maps
SIZES = [(5, 5), (6, 6), (4, 7), (7, 6), (1, 5), (3, 1)]


pytestmark = pytest.mark.usefixtures("one_thread")


def option_id(options: dict) -> str:
    return "-".join(str(v) for v in options.values())


# --- an independent transcription of Algorithm 1 -------------------------------------


def dft_scale(norm: str, h: int, w: int) -> float:
    """Factor of the forward transform relative to eq. (1) (unnormalised)."""
    return {"backward": 1.0, "ortho": (h * w) ** -0.5, "forward": 1.0 / (h * w)}[norm]


def forward_dft(x: torch.Tensor, norm: str, weighting: str) -> torch.Tensor:
    """Line 1: eq. (1) by dense matrices, scaled per ``norm``; the rfft2 half for "half"."""
    h, w = x.shape[-2:]
    unnormalised = dft_matrix(h) @ x.to(C128) @ dft_matrix(w) * math.sqrt(h * w)
    spectrum = unnormalised * dft_scale(norm, h, w)
    return spectrum[..., : w // 2 + 1] if weighting == "half" else spectrum


def inverse_dft(spectrum: torch.Tensor, norm: str, weighting: str, w: int) -> torch.Tensor:
    """Line 8: the real inverse DFT.

    "half": what a real inverse of a one-sided spectrum computes, for any (not
    necessarily conjugate-symmetric) half-plane ``Y``:
    ``x[m, n] = a · Σ_{k,l} c_l Re(Y[k, l] e^{2πi(km/H + ln/W)})`` with ``c_l = 1`` for
    ``l = 0`` and ``l = W/2`` and ``2`` otherwise. "full": the real part of the inverse.
    """
    h = spectrum.shape[-2]
    inverse_scale = 1.0 / (dft_scale(norm, h, w) * h * w)
    rows = dft_matrix(h).conj() * math.sqrt(h)  # e^{+2πi km/H}
    cols = dft_matrix(w).conj() * math.sqrt(w)
    if weighting == "full":
        return (rows @ spectrum @ cols).real * inverse_scale
    weights = torch.full((w // 2 + 1,), 2.0, dtype=F64)
    weights[0] = 1.0
    if w % 2 == 0:
        weights[-1] = 1.0
    half_cols = cols[: w // 2 + 1, :] * weights[:, None]
    return (rows @ spectrum @ half_cols.to(C128)).real * inverse_scale


def reference_sbn(x, gamma, beta, state, *, training, momentum, eps, options):
    """Algorithm 1 (training) or its inference form; returns y and the new state.

    ``state``: dict with complex ``mean`` (C,), real ``var`` (C,) and int ``batches``.
    """
    norm, weighting = options["fft_norm"], options["weighting"]
    b, c, h, w = x.shape
    spectrum = forward_dft(x, norm, weighting)
    state = dict(state)
    if training:
        # lines 2–3, eq. (3)–(4), one channel at a time
        mean = torch.stack([spectrum[:, j].reshape(-1).mean() for j in range(c)])
        var = torch.stack(
            [(spectrum[:, j].reshape(-1) - mean[j]).abs().square().mean() for j in range(c)]
        )
        count = spectrum[:, 0].numel()
        state["batches"] += 1
        lam = 1.0 / state["batches"] if momentum is None else momentum
        n = {"count": count, "paper": c * h * w / 2, "none": None}[options["unbiased"]]
        bessel = 1.0 if n is None else n / (n - 1)
        kept_mean = mean if options["complex_running_mean"] else mean.real.to(C128)
        state["mean"] = lam * kept_mean.detach() + (1 - lam) * state["mean"]  # line 4
        running_var = lam * var * bessel + (1 - lam) * state["var"]  # line 5
        state["var"] = running_var.detach()
        used_mean = mean
        used_var = running_var if options["variance"] == "running" else var
    else:
        used_mean, used_var = state["mean"], state["var"]
    parts = options.get("parts", "all")
    centred = spectrum if parts in ("no_pattern", "scale") else spectrum - used_mean[:, None, None]
    divisor = 1.0 if parts == "center" else torch.sqrt(used_var + eps)[:, None, None]
    normalized = centred / divisor  # line 6 (or the ablation's part of it)
    shift = 0.0 if parts == "no_pattern" else beta[:, None, None]
    shifted = gamma[:, None, None] * normalized + shift  # line 7
    return inverse_dft(shifted, norm, weighting, w), state  # line 8


def fresh_state(c: int) -> dict:
    return {"mean": torch.zeros(c, dtype=C128), "var": torch.ones(c, dtype=F64), "batches": 0}


def module_state(module: SpectralBatchNorm2d) -> dict:
    imag = module.running_mean_imag
    return {
        "mean": torch.complex(
            module.running_mean.to(F64),
            imag.to(F64) if imag is not None else torch.zeros_like(module.running_mean, dtype=F64),
        ),
        "var": module.running_var.to(F64),
        "batches": int(module.num_batches_tracked),
    }


def make_sbn(c: int, impl: str, dtype=F64, **options) -> SpectralBatchNorm2d:
    module = SpectralBatchNorm2d(c, impl=impl, dtype=dtype, **options)
    with torch.no_grad():
        module.weight.copy_(torch.linspace(0.5, 1.5, c))
        module.bias.copy_(torch.linspace(-0.7, 0.4, c))
    return module


def batch(shape, seed, dtype=F64) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    offset = torch.linspace(-1.0, 2.0, shape[1])[:, None, None]  # a non-zero spectral mean
    return (torch.randn(shape, generator=generator, dtype=F64) * 1.7 + offset).to(dtype)


def run_steps(module, xs, grads, training):
    """Outputs and gradients (input, γ, β) for each batch; the module's state changes."""
    module.train(training)
    results = []
    for x, g in zip(xs, grads, strict=True):
        x = x.clone().requires_grad_(True)
        y = module(x)
        gx, gw, gb = torch.autograd.grad(y, [x, module.weight, module.bias], g)
        results.append((y.detach(), gx, gw, gb))
    return results


def largest(t: torch.Tensor) -> float:
    """``max |t|``, 0 for an empty tensor."""
    return float(t.detach().abs().max()) if t.numel() else 0.0


def assert_close(actual, expected, tol, what=""):
    scale = max(1.0, largest(torch.as_tensor(expected)))
    torch.testing.assert_close(
        torch.as_tensor(actual).to(F64),
        torch.as_tensor(expected).to(F64),
        atol=tol * scale,
        rtol=tol,
        msg=lambda m: f"{what}: {m}",
    )


# --- against the transcription ---------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("index", range(len(OPTIONS)), ids=[option_id(o) for o in OPTIONS])
def test_matches_algorithm_1_reference(impl, index):
    """Two training steps and one eval step; each option set on two of the sizes, in turn."""
    options, c = OPTIONS[index], 3
    for h, w in (SIZES[index % 3], SIZES[3 + index % 3]):
        module = make_sbn(c, impl, **options)
        gamma, beta = module.weight.detach().clone(), module.bias.detach().clone()
        xs = [batch((2, c, h, w), seed) for seed in range(3)]
        grads = [batch((2, c, h, w), 10 + seed) for seed in range(3)]
        state = fresh_state(c)
        for training, x, g in [(True, xs[0], grads[0]), (True, xs[1], grads[1])] + [
            (False, xs[2], grads[2])
        ]:
            ((y, gx, gw, gb),) = run_steps(module, [x], [g], training)
            xr = x.clone().requires_grad_(True)
            gr, br = gamma.clone().requires_grad_(True), beta.clone().requires_grad_(True)
            yr, state = reference_sbn(
                xr, gr, br, state, training=training, momentum=0.1, eps=1e-5, options=options
            )
            ref_grads = torch.autograd.grad(yr, [xr, gr, br], g)
            where = f"{h}x{w} training={training}"
            assert_close(y, yr, 1e-12, f"output {where}")
            for name, got, want in zip(("dx", "dγ", "dβ"), (gx, gw, gb), ref_grads, strict=True):
                assert_close(got, want, 1e-11, f"{name} {where}")
            got_state = module_state(module)
            assert_close(got_state["mean"].real, state["mean"].real, 1e-12, f"μ_r {where}")
            assert_close(got_state["mean"].imag, state["mean"].imag, 1e-12, f"Im μ_r {where}")
            assert_close(got_state["var"], state["var"], 1e-12, f"σ_r² {where}")
            assert got_state["batches"] == state["batches"]


@pytest.mark.parametrize("options", OPTIONS[::7], ids=option_id)
def test_fft_and_spatial_agree_in_float32(options):
    c, shape = 16, (8, 16, 12, 10)
    xs = [batch(shape, seed, torch.float32) for seed in range(3)]
    grads = [batch(shape, 20 + seed, torch.float32) for seed in range(3)]
    runs = {}
    for impl in IMPLS:
        module = make_sbn(c, impl, torch.float32, **options)
        runs[impl] = run_steps(module, xs[:2], grads[:2], True) + run_steps(
            module, xs[2:], grads[2:], False
        )
        runs[impl].append((module.running_mean, module.running_var))
    for got, want in zip(runs["spatial"], runs["fft"], strict=True):
        for a, b in zip(got, want, strict=True):
            assert a.dtype == torch.float32
            assert_close(a, b, 2e-5)


@settings(max_examples=40, deadline=None)
@given(
    b=st.integers(1, 3),
    c=st.integers(1, 3),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    options=st.sampled_from(OPTIONS),
    scale=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**16),
)
def test_fft_equals_spatial_for_any_shape(b, c, h, w, options, scale, seed):
    assume(b * h * (w // 2 + 1) > 1)
    assume(options["unbiased"] != "paper" or c * h * w > 2)
    x = batch((b, c, h, w), seed) * scale
    g = batch((b, c, h, w), seed + 1)
    runs = {}
    for impl in IMPLS:
        module = make_sbn(c, impl, **options)
        runs[impl] = run_steps(module, [x, x * 0.5], [g, g], True) + run_steps(
            module, [x], [g], False
        )
        runs[impl].append((module.running_mean, module.running_var))
    for got, want in zip(runs["spatial"], runs["fft"], strict=True):
        for a, b_ in zip(got, want, strict=True):
            assert_close(a, b_, 1e-10)


# --- the spatial identity itself ---------------------------------------------------------


@pytest.mark.parametrize("h, w", SIZES)
@pytest.mark.parametrize("complex_mean", [True, False])
def test_fft_output_is_rescaling_plus_first_row_pattern(h, w, complex_mean):
    """Algorithm 1 (impl="fft") = s·x off row 0; a real mean leaves only pixel (0, 0)."""
    module = make_sbn(2, "fft", complex_running_mean=complex_mean)
    module(batch((4, 2, h, w), 0))  # one training step sets a complex running mean
    module.eval()
    x = batch((3, 2, h, w), 1)
    scale = module.weight / torch.sqrt(module.running_var + module.eps)
    residual = (module(x) - scale[:, None, None] * x).detach()
    assert largest(residual[:, :, 1:, :]) < 1e-12
    if not complex_mean:
        assert largest(residual[:, :, 0, 1:]) < 1e-12
    # the pattern does not depend on the sample
    assert_close(residual[0], residual[2], 1e-12)


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_one_by_one_maps_reduce_to_batch_norm(weighting, momentum):
    """For 1×1 maps every DFT is the identity: SBN is nn.BatchNorm2d, state included."""
    sbn = make_sbn(4, "spatial", weighting=weighting, momentum=momentum)
    bn = nn.BatchNorm2d(4, momentum=momentum, dtype=F64)
    bn.load_state_dict({k: v for k, v in sbn.state_dict().items() if k != "running_mean_imag"})
    xs = [batch((5, 4, 1, 1), s) for s in range(3)]
    gs = [batch((5, 4, 1, 1), 9 + s) for s in range(3)]
    for got, want in zip(
        run_steps(sbn, xs, gs, True) + run_steps(sbn, xs[:1], gs[:1], False),
        run_steps(bn, xs, gs, True) + run_steps(bn, xs[:1], gs[:1], False),
        strict=True,
    ):
        for a, b in zip(got, want, strict=True):
            assert_close(a, b, 1e-12)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert_close(getattr(sbn, name), getattr(bn, name), 1e-12, name)


def test_cumulative_average_when_momentum_is_none():
    module = make_sbn(2, "spatial", momentum=None)
    xs = [batch((3, 2, 6, 5), s) for s in range(4)]
    stats = []
    for x in xs:
        _, step_state = reference_sbn(
            x,
            module.weight.detach(),
            module.bias.detach(),
            fresh_state(2),
            training=True,
            momentum=1.0,
            eps=1e-5,
            options=dict(OPTIONS[0]),
        )
        stats.append(step_state)
        module(x)
    assert_close(module.running_mean, torch.stack([s["mean"].real for s in stats]).mean(0), 1e-12)
    assert_close(
        module.running_mean_imag, torch.stack([s["mean"].imag for s in stats]).mean(0), 1e-12
    )
    assert_close(module.running_var, torch.stack([s["var"] for s in stats]).mean(0), 1e-12)


# --- gradients --------------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    "options, training",
    [
        (dict(weighting="half", variance="batch"), True),
        (dict(weighting="half", variance="running", fft_norm="ortho"), True),
        (dict(weighting="full", variance="batch", fft_norm="forward"), True),
        (dict(weighting="full", variance="running"), True),
        (dict(weighting="half"), False),
    ],
)
@pytest.mark.parametrize("h, w", [(4, 5), (5, 4)])
def test_gradcheck(impl, options, training, h, w):
    module = make_sbn(2, impl, **options)
    module(batch((3, 2, h, w), 5))  # non-trivial running statistics
    module.train(training)
    buffers = {name: buf.clone() for name, buf in module.named_buffers()}

    def call(x, weight, bias):
        fresh = {name: buf.clone() for name, buf in buffers.items()}
        params = {"weight": weight, "bias": bias}
        return torch.func.functional_call(module, {**params, **fresh}, (x,))

    x = batch((2, 2, h, w), 6).requires_grad_(True)
    weight = module.weight.detach().clone().requires_grad_(True)
    bias = module.bias.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(call, (x, weight, bias), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("impl", IMPLS)
def test_without_affine_parameters(impl):
    module = SpectralBatchNorm2d(3, affine=False, impl=impl, dtype=F64)
    assert module.weight is None and module.bias is None
    x = batch((2, 3, 5, 6), 0).requires_grad_(True)
    ones, zeros = torch.ones(3, dtype=F64), torch.zeros(3, dtype=F64)
    want, _ = reference_sbn(
        x, ones, zeros, fresh_state(3), training=True, momentum=0.1, eps=1e-5, options=OPTIONS[0]
    )
    assert_close(module(x), want, 1e-12)
    assert torch.autograd.gradcheck(
        lambda t: SpectralBatchNorm2d(3, affine=False, impl=impl, dtype=F64)(t), (x,)
    )


# --- running statistics and modes --------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("variance", VARIANCES)
def test_running_buffers_carry_no_autograd_history(impl, variance):
    module = make_sbn(3, impl, variance=variance)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    for step in range(4):
        x = batch((2, 3, 6, 6), step).requires_grad_(True)
        loss = module(x).square().mean()
        optimizer.zero_grad()
        loss.backward()  # a graph kept in the buffers would fail here on the second step
        optimizer.step()
        for name, buf in module.named_buffers():
            assert buf.grad_fn is None and not buf.requires_grad, name
    assert int(module.num_batches_tracked) == 4


@pytest.mark.parametrize("impl", IMPLS)
def test_eval_is_deterministic_and_per_sample(impl):
    module = make_sbn(3, impl)
    for seed in range(3):
        module(batch((4, 3, 5, 6), seed))
    module.eval()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    x = batch((4, 3, 5, 6), 7)
    y1, y2 = module(x), module(x)
    torch.testing.assert_close(y1, y2, atol=0, rtol=0)
    assert_close(module(x[1:2]), y1[1:2], 1e-13)  # no batch statistics in eval mode
    for key, value in module.state_dict().items():
        torch.testing.assert_close(value, before[key], atol=0, rtol=0)


@pytest.mark.parametrize("impl", IMPLS)
def test_without_running_stats_eval_uses_the_batch(impl):
    module = make_sbn(3, impl, track_running_stats=False)
    assert module.running_mean is None and module.running_var is None
    assert module.num_batches_tracked is None
    x = batch((3, 3, 6, 5), 0)
    y_train = module(x)
    module.eval()
    assert_close(module(x), y_train, 1e-13)


def test_reset_running_stats_and_parameters():
    module = make_sbn(3, "spatial")
    module(batch((2, 3, 4, 4), 0))
    module.reset_running_stats()
    assert torch.equal(module.running_mean, torch.zeros(3, dtype=F64))
    assert torch.equal(module.running_mean_imag, torch.zeros(3, dtype=F64))
    assert torch.equal(module.running_var, torch.ones(3, dtype=F64))
    assert int(module.num_batches_tracked) == 0
    assert not torch.equal(module.weight, torch.ones(3, dtype=F64))
    module.reset_parameters()
    assert torch.equal(module.weight, torch.ones(3, dtype=F64))
    assert torch.equal(module.bias, torch.zeros(3, dtype=F64))


def test_real_running_mean_has_no_imaginary_buffer():
    module = SpectralBatchNorm2d(3, complex_running_mean=False)
    assert module.running_mean_imag is None
    assert "running_mean_imag" not in module.state_dict()


@pytest.mark.parametrize("impl", IMPLS)
def test_state_dict_round_trip(impl):
    module = make_sbn(3, impl)
    for seed in range(2):
        module(batch((2, 3, 5, 5), seed))
    copy = SpectralBatchNorm2d(3, impl=impl, dtype=F64)
    copy.load_state_dict(module.state_dict())
    module.eval(), copy.eval()
    x = batch((2, 3, 5, 5), 9)
    torch.testing.assert_close(copy(x), module(x), atol=0, rtol=0)


@pytest.mark.parametrize("impl", IMPLS)
def test_channels_last_and_strided_input(impl):
    module = make_sbn(3, impl)
    x = batch((2, 3, 6, 8), 0)
    want = module(x)
    module.reset_running_stats()
    assert_close(module(x.to(memory_format=torch.channels_last)), want, 1e-13)
    module.reset_running_stats()
    wide = torch.cat([x, x], dim=-1)[..., ::2]  # a non-contiguous view
    assert_close(module(wide), make_sbn(3, impl)(wide.contiguous()), 1e-13)


def in_layout(x: torch.Tensor, layout: str) -> torch.Tensor:
    """``x`` (same values) as a channels_last or a strided (sliced, non-dense) tensor."""
    if layout == "channels_last":
        return x.contiguous(memory_format=torch.channels_last)
    wide = x.new_zeros(*x.shape[:-1], 2 * x.shape[-1])
    wide[..., ::2] = x
    return wide[..., ::2]


def layout_steps(module, xs, grads, layout):
    """Two training steps and an eval step on inputs and upstream gradients in ``layout``."""
    results = []
    for training, x, g in zip((True, True, False), xs, grads, strict=True):
        module.train(training)
        x = in_layout(x, layout).detach().requires_grad_(True)
        y = module(x)
        gx, gw, gb = torch.autograd.grad(y, [x, module.weight, module.bias], in_layout(g, layout))
        results.append((y, gx, gw, gb))
    return results, [b.clone() for b in module.buffers()]


@pytest.mark.parametrize("dtype, tol", [(F64, 1e-12), (torch.float32, 2e-5)], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", ["channels_last", "strided"])
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("h, w", SIZES)
def test_spatial_form_is_the_same_in_every_memory_layout(h, w, weighting, layout, dtype, tol):
    """Outputs, gradients and buffers equal the contiguous ones; channels_last is kept."""
    c = 4
    xs = [batch((3, c, h, w), seed, dtype) for seed in range(3)]
    grads = [batch((3, c, h, w), 10 + seed, dtype) for seed in range(3)]
    runs = {
        name: layout_steps(make_sbn(c, "spatial", dtype, weighting=weighting), xs, grads, name)
        for name in ("contiguous", layout)
    }
    (want, want_buffers), (got, got_buffers) = runs["contiguous"], runs[layout]
    for step, (got_step, want_step) in enumerate(zip(got, want, strict=True)):
        for name, a, b in zip(("y", "dx", "dγ", "dβ"), got_step, want_step, strict=True):
            assert_close(a, b, tol, f"{name} step {step}")
    for a, b in zip(got_buffers, want_buffers, strict=True):
        assert_close(a, b, tol, "buffers")
    if layout == "channels_last" and h * w > 1:  # else channels_last is also contiguous
        for y, gx, _, _ in got:
            assert y.is_contiguous(memory_format=torch.channels_last) and not y.is_contiguous()
            assert gx.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_gradcheck_on_channels_last_input(weighting):
    module = make_sbn(3, "spatial", weighting=weighting, variance="running")

    def call(x, weight, bias):
        fresh = {name: buf.clone() for name, buf in module.named_buffers()}
        params = {"weight": weight, "bias": bias}
        return torch.func.functional_call(module, {**params, **fresh}, (x,))

    x = batch((2, 3, 4, 6), 3).contiguous(memory_format=torch.channels_last)
    weight = module.weight.detach().clone().requires_grad_(True)
    bias = module.bias.detach().clone().requires_grad_(True)
    inputs = (x.requires_grad_(True), weight, bias)
    assert torch.autograd.gradcheck(call, inputs, eps=1e-6, atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(
    b=st.integers(1, 3),
    c=st.integers(1, 3),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    fft_norm=st.sampled_from(["ortho", "forward"]),
    impl=st.sampled_from(IMPLS),
    weighting=st.sampled_from(WEIGHTINGS),
    seed=st.integers(0, 2**16),
)
def test_dft_normalisation_only_rescales_the_output(b, c, h, w, fft_norm, impl, weighting, seed):
    """fft_norm with forward scale α (ε scaled by α²) gives 1/α times SBN under eq. (1):
    μ and σ scale by α, so s = γ/σ by 1/α, and the shift c/α is unchanged (chapter 06, §4:
    the 1/√(HW) that eq. (1) makes SBN apply, which fft_norm="ortho" removes)."""
    assume(b * h * (w // 2 + 1) > 1)
    alpha = {"ortho": (h * w) ** -0.5, "forward": 1.0 / (h * w)}[fft_norm]
    x, g = batch((b, c, h, w), seed), batch((b, c, h, w), seed + 1)
    eq1 = make_sbn(c, impl, weighting=weighting)
    other = make_sbn(c, impl, weighting=weighting, fft_norm=fft_norm, eps=1e-5 * alpha**2)
    ((y_eq1, *grads_eq1),) = run_steps(eq1, [x], [g], True)
    ((y_other, *grads_other),) = run_steps(other, [x], [g], True)
    assert_close(y_other * alpha, y_eq1, 1e-10, "output")
    for name, a, b_ in zip(("dx", "dγ", "dβ"), grads_other, grads_eq1, strict=True):
        assert_close(a * alpha, b_, 1e-9, name)
    assert_close(other.running_mean, eq1.running_mean * alpha, 1e-12, "running mean")
    assert_close(other.running_mean_imag, eq1.running_mean_imag * alpha, 1e-12, "imag")


def test_module_conversions_keep_the_layer_working():
    """nn.Module.to/float/double (their _apply) on the layer, then a channels_last step."""
    module = make_sbn(3, "spatial").float().to(memory_format=torch.channels_last)
    assert module.weight.dtype == torch.float32 and module.running_var.dtype == torch.float32
    x = batch((2, 3, 4, 4), 0, torch.float32).contiguous(memory_format=torch.channels_last)
    assert module(x).dtype == torch.float32
    assert module.double().running_mean.dtype == F64


# --- dtypes and autocast ------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_autocast_computes_in_float32(impl):
    """The autocast policy (spectral._validate): float32 inside, the input's dtype out."""
    module = make_sbn(4, impl, dtype=torch.float32)
    x = batch((4, 4, 8, 8), 0, torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = module(x)
    assert y.dtype == torch.bfloat16
    module.reset_running_stats()
    torch.testing.assert_close(y, module(x.float()).bfloat16(), atol=0, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_input_keeps_its_dtype(dtype):
    module = make_sbn(2, "spatial", dtype=torch.float32)
    x = batch((2, 2, 6, 6), 0, dtype)
    y = module(x)
    assert y.dtype == dtype
    module.reset_running_stats()
    assert_close(y, module(x.float()), 1e-2)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, error, match",
    [
        (torch.zeros(2, 3, 4), ValueError, "4-D input"),
        (torch.zeros(1, 2, 3, 4, 4), ValueError, "4-D input"),
        (torch.zeros(2, 5, 4, 4), ValueError, "expected 3 channels"),
        (torch.zeros(2, 3, 4, 4, dtype=torch.int64), TypeError, "real floating"),
        (torch.zeros(2, 3, 4, 4, dtype=torch.complex64), TypeError, "real floating"),
        (torch.zeros(2, 3, 0, 4), ValueError, "H and W must be >= 1"),
        (torch.zeros(1, 3, 1, 1), ValueError, "more than 1 DFT coefficient"),
        ([[1.0]], TypeError, "torch.Tensor"),
    ],
)
def test_bad_input_is_rejected(x, error, match):
    with pytest.raises(error, match=match):
        SpectralBatchNorm2d(3)(x)


def test_batch_of_one_trains_on_larger_maps():
    """One sample still has H·(W//2+1) coefficients per channel to take statistics over."""
    module = make_sbn(2, "spatial")
    x = batch((1, 2, 4, 4), 0)
    want, _ = reference_sbn(
        x,
        module.weight.detach(),
        module.bias.detach(),
        fresh_state(2),
        training=True,
        momentum=0.1,
        eps=1e-5,
        options=OPTIONS[0],
    )
    assert_close(module(x), want, 1e-12)


def test_paper_bessel_factor_needs_more_than_two_values():
    module = SpectralBatchNorm2d(1, unbiased="paper")
    with pytest.raises(ValueError, match="n = C·H·W/2"):
        module(torch.randn(4, 1, 1, 2))
    assert int(module.num_batches_tracked) == 0  # nothing changed


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(num_features=0), ValueError, "num_features"),
        (dict(num_features=2.0), TypeError, "num_features"),
        (dict(num_features=True), TypeError, "num_features"),
        (dict(num_features=2, eps=-1.0), ValueError, "eps must lie in"),
        (dict(num_features=2, eps="small"), TypeError, "eps must be a number"),
        (dict(num_features=2, momentum=1.5), ValueError, r"momentum \(or None\) must lie in"),
        (dict(num_features=2, impl="dft"), ValueError, "impl"),
        (dict(num_features=2, fft_norm="unitary"), ValueError, "fft_norm must be one of"),
        (dict(num_features=2, norm="ortho"), TypeError, "norm"),  # renamed fft_norm
        (dict(num_features=2, weighting="both"), ValueError, "weighting"),
        (dict(num_features=2, variance="sample"), ValueError, "variance"),
        (dict(num_features=2, unbiased=True), ValueError, "unbiased"),
        (
            dict(num_features=2, variance="running", track_running_stats=False),
            ValueError,
            "track_running_stats",
        ),
    ],
)
def test_bad_construction_is_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        SpectralBatchNorm2d(**kwargs)


def test_repr_names_every_option():
    text = repr(SpectralBatchNorm2d(8, impl="fft", variance="running", weighting="full"))
    parts = ("8,", "impl='fft'", "variance='running'", "weighting='full'", "fft_norm='backward'")
    for part in parts:
        assert part in text
    assert max(map(len, text.splitlines())) <= 78  # fits the book's column


def test_wrapped_options_break_between_options_only():
    options = [f"option_{i}={i * 1000}" for i in range(11)] + ["init=N(0.8, 0.2²)"]
    text = wrapped_options(*options, width=40)
    assert all(len(line) <= 40 for line in text.splitlines()) and "\n" in text
    assert " ".join(text.split()) == ", ".join(options)


# --- model variants (spectral.models.variants) ----------------------------------------------


@pytest.fixture(scope="module")
def models():
    """spectral.models (it needs torchvision)."""
    return pytest.importorskip("spectral.models")


def layer_kinds(model: nn.Module, stage: int) -> list[tuple[str, ...]]:
    """The type names of every norm module (a BN or a Sequential of two) in one stage."""
    stage_module = getattr(model, f"layer{stage}")
    kinds = []
    for name, module in stage_module.named_modules():
        if name.split(".")[-1].startswith("bn") or name.endswith("downsample.1"):
            if isinstance(module, nn.Sequential):
                kinds.append(tuple(type(m).__name__ for m in module))
            else:
                kinds.append((type(module).__name__,))
    return kinds


@pytest.mark.parametrize(
    "variant, extra_stages, second",
    [
        ("BN", set(), None),
        ("SBN34", {3, 4}, "SpectralBatchNorm2d"),
        ("SBN4", {4}, "SpectralBatchNorm2d"),
        ("2BN34", {3, 4}, "BatchNorm2d"),
        ("2BN34-scaled", {3, 4}, "BatchNorm2d"),
    ],
)
def test_norm_variants_build_the_papers_resnet18(models, variant, extra_stages, second):
    norm_layer = models.norm_variant(variant)
    model = models.resnet18(num_classes=10, width=0.125, norm_layer=norm_layer)
    for stage in range(1, 5):
        kinds = layer_kinds(model, stage)
        # two blocks of two norms, plus the projection shortcut's norm from stage 2 on
        assert len(kinds) == (4 if stage == 1 else 5)
        expected = ("BatchNorm2d", second) if stage in extra_stages else ("BatchNorm2d",)
        assert all(kind == expected for kind in kinds), (stage, kinds)
    assert type(model.bn1) is nn.BatchNorm2d  # the stem (stage 0) is never changed
    y = model(torch.randn(2, 3, 32, 32))
    assert y.shape == (2, 10)


def test_norm_variant_forwards_options_and_rejects_bad_names(models):
    norm_variant = models.norm_variant
    layer = norm_variant("SBN3", impl="fft", variance="running")(16, 3)
    assert isinstance(layer[1], SpectralBatchNorm2d)
    assert layer[1].impl == "fft" and layer[1].variance == "running"
    assert isinstance(norm_variant("SBN3")(16, 2), nn.BatchNorm2d)
    bad_names = ("SBN", "BN34", "sbn34", "3SBN", "SBN33", "", "SBN34-scaled", "BN-scaled",
                 "2BN-scaled", "2BN34-scale", "2BN34scaled", 34)
    for bad in bad_names:
        with pytest.raises(ValueError, match="norm variant"):
            norm_variant(bad)
    with pytest.raises(ValueError, match="only apply"):
        norm_variant("2BN34", impl="fft")
    with pytest.raises(ValueError, match="only apply"):
        norm_variant("2BN34-scaled", fft_norm="ortho")
    with pytest.raises(ValueError, match="impl"):
        norm_variant("SBN34", impl="dft")
    with pytest.raises(ValueError, match="input_size"):
        norm_variant("2BN34-scaled", input_size=(0, 32))
    with pytest.raises(TypeError, match="input_size"):
        norm_variant("BN", input_size="32")


@pytest.mark.parametrize("fft_norm", NORMS)
def test_norm_variant_takes_the_dft_normalisation(models, fft_norm):
    """The issue-16 arm SBN34-ortho: every SBN of the model gets fft_norm."""
    model = models.resnet18(width=0.125, norm_layer=models.norm_variant("SBN34", fft_norm=fft_norm))
    sbns = [m for m in model.modules() if isinstance(m, SpectralBatchNorm2d)]
    assert len(sbns) == 10 and all(m.fft_norm == fft_norm for m in sbns)


def recorded_map_sizes(model: nn.Module, input_size: tuple[int, int]) -> dict[str, tuple]:
    """``{module name: (H, W)}`` of the input every BatchNorm2d of ``model`` sees."""
    sizes, hooks = {}, []
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            def record(module, inputs, output, name=name):
                sizes[name] = tuple(inputs[0].shape[-2:])
            hooks.append(module.register_forward_hook(record))
    model(torch.randn(2, 3, *input_size))
    for hook in hooks:
        hook.remove()
    return sizes


@pytest.mark.parametrize("input_size", [(32, 32), (30, 22), (7, 9)])
@pytest.mark.parametrize("model_name, stages", [("resnet18", "34"), ("resnet20", "23")])
def test_scaled_2bn_starts_at_one_over_sqrt_hw_of_its_maps(models, model_name, stages,
                                                           input_size):
    """2BN…-scaled: γ of each second BN is 1/√(H·W) of the maps it actually receives."""
    norm_layer = models.norm_variant(f"2BN{stages}-scaled", input_size=input_size)
    model = models.create(model_name, width=0.125, norm_layer=norm_layer)
    sizes = recorded_map_sizes(model, input_size)
    seconds = {  # the second BN of each BN → BN pair
        f"{name}.1"
        for name, module in model.named_modules()
        if isinstance(module, nn.Sequential) and [type(m) for m in module] == [nn.BatchNorm2d] * 2
    }
    assert len(seconds) == {"resnet18": 10, "resnet20": 12}[model_name]
    for name, module in model.named_modules():
        if not isinstance(module, nn.BatchNorm2d):
            continue
        h, w = sizes[name]
        want = 1 / math.sqrt(h * w) if name in seconds else 1.0
        torch.testing.assert_close(module.weight, torch.full_like(module.weight, want),
                                   atol=0, rtol=1e-7, msg=name)
        assert torch.equal(module.bias, torch.zeros_like(module.bias)), name
        stage = int(name[len("layer")]) if name.startswith("layer") else 0
        assert models.stage_map_size(stage, input_size) == (h, w), name


def test_stage_map_size_rounds_up_per_stride_two_stage(models):
    assert [models.stage_map_size(s, (32, 32)) for s in range(5)] == [
        (32, 32), (32, 32), (16, 16), (8, 8), (4, 4)]
    assert models.stage_map_size(4, (7, 30)) == (1, 4)


# --- ablations (parts) ---------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("parts", ["no_pattern", "center", "scale"])
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("h, w", [(5, 5), (4, 6), (6, 3)])
def test_ablations_match_their_spectral_definition(impl, parts, weighting, h, w):
    """Each ablation against Algorithm 1 with the dropped pieces removed (float64, dense DFT)."""
    options = dict(fft_norm="backward", weighting=weighting, unbiased="count", variance="batch",
                   complex_running_mean=True, parts=parts)
    c = 3
    module = make_sbn(c, impl, **options)
    gamma, beta = module.weight.detach().clone(), module.bias.detach().clone()
    state = fresh_state(c)
    for step, training in enumerate([True, True, False]):
        module.train(training)
        x = batch((2, c, h, w), step).requires_grad_(True)
        g = batch((2, c, h, w), 10 + step)
        y = module(x)
        got = torch.autograd.grad(y, [x, module.weight, module.bias], g, allow_unused=True)
        xr = x.detach().clone().requires_grad_(True)
        gr, br = gamma.clone().requires_grad_(True), beta.clone().requires_grad_(True)
        yr, state = reference_sbn(
            xr, gr, br, state, training=training, momentum=0.1, eps=1e-5, options=options
        )
        want = torch.autograd.grad(yr, [xr, gr, br], g, allow_unused=True)
        assert_close(y, yr, 1e-12, f"output step {step}")
        for name, a, b in zip(("dx", "dγ", "dβ"), got, want, strict=True):
            a = torch.zeros(c, dtype=F64) if a is None else a
            b = torch.zeros(c, dtype=F64) if b is None else b
            assert_close(a, b, 1e-11, f"{name} step {step}")
        assert_close(module_state(module)["var"], state["var"], 1e-12, f"σ_r² step {step}")


def test_no_pattern_ablation_is_a_channel_rescaling():
    module = make_sbn(3, "spatial", parts="no_pattern")
    x = batch((4, 3, 6, 5), 0)
    ratio = module(x) / x
    assert_close(ratio, ratio[:1, :, :1, :1].expand_as(ratio), 1e-12, "y / x per channel")


@pytest.mark.parametrize("parts", ["no_pattern", "center", "scale"])
def test_ablation_gradcheck(parts):
    module = make_sbn(2, "spatial", parts=parts)

    def call(x, weight, bias):
        return torch.func.functional_call(module, {"weight": weight, "bias": bias}, (x,))

    x = batch((2, 2, 4, 5), 6).requires_grad_(True)
    weight = module.weight.detach().clone().requires_grad_(True)
    bias = module.bias.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(call, (x, weight, bias), eps=1e-6, atol=1e-7)


def test_unknown_parts_is_rejected():
    with pytest.raises(ValueError, match="parts must be one of"):
        SpectralBatchNorm2d(3, parts="shift")


def test_contiguous_maps_are_multiplied_in_blocks_of_rows():
    """Block-diagonal row products (``r > 1``) are what the reference tests above run."""
    blocks = {(h, w): _row_blocks(torch.empty(2, 3, h, w)) for h, w in SIZES}
    assert blocks == {(5, 5): (2, 2), (6, 6): (4, 2), (4, 7): (8, 2), (7, 6): (2, 2),
                      (1, 5): (2, 2), (3, 1): (2, 2)}
    assert _row_blocks(torch.empty(128, 512, 4, 4)) == (8, 4)
    assert _row_blocks(torch.empty(128, 256, 8, 8)) == (8, 2)
    channels_last = torch.empty(2, 3, 6, 6).contiguous(memory_format=torch.channels_last)
    assert _row_blocks(channels_last) == (1, 1)
    bases = _spatial_bases("half", 8, torch.float64, torch.device("cpu"), (8, 2))
    assert bases.columns.shape == (64, 16) and bases.parseval.shape == (16, 16)


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("shape", [(1, 3, 5, 5), (3, 1, 3, 40), (1, 1, 7, 6)])
def test_spatial_form_without_row_blocks_matches_the_fft_form(shape, weighting):
    """An odd number of rows ``B·C·H`` takes the unblocked products: same as ``impl="fft"``."""
    assert _row_blocks(torch.empty(shape)) == (1, 1)
    c = shape[1]
    xs = [batch(shape, seed) for seed in range(2)]
    grads = [batch(shape, 10 + seed) for seed in range(2)]
    spatial, fft = (make_sbn(c, impl, weighting=weighting) for impl in IMPLS)
    for training in (True, False):
        got = run_steps(spatial, xs, grads, training)
        want = run_steps(fft, xs, grads, training)
        for got_step, want_step in zip(got, want, strict=True):
            for name, a, b in zip(("y", "dx", "dγ", "dβ"), got_step, want_step, strict=True):
                assert_close(a, b, 1e-11, f"{name} training={training}")
