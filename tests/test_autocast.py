"""Every spectral layer under CPU bfloat16 autocast and channels_last, forward and backward.

The package's policy (spectral._validate): a layer computes in float32 for bfloat16 or
float16 input (in the input's dtype for float32 and float64), autocast off inside, and
returns the input's dtype. Each case runs one layer on an input in one memory format,
with autocast off (float32 input) or on (bfloat16 input, as the convolution before it
would give), and compares output, input gradient, parameter gradients and updated
buffers with the same layer in float64 on the same inputs (the bfloat16 input and the
float32 parameters, up-cast), by the relative error ``‖a − ref‖ / ‖ref‖``:

* float32 computation: ``<= 1e-6`` (float32 rounding, ``2⁻²⁴ ≈ 6e-8`` per operation,
  grown by the sums and FFTs of these small maps);
* bfloat16 autocast: ``<= 1e-2``. Rounding the output (and the input gradient) to
  bfloat16 alone costs up to ``2⁻⁹ ≈ 2e-3`` per element; the convolutions of
  MaskedConv2d and of the spectral filters also round their weights to bfloat16.

The upstream gradient is bfloat16-representable, so both runs start from the same one.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable

import pytest
import torch
from torch import nn

from spectral.masks import FrequencyMask, MaskedConv2d
from spectral.models import norm_variant, resnet18
from spectral.norm import SpectralBatchNorm2d
from spectral.parametrize import spectral_parametrize
from spectral.pooling import SpectralPool2d
from spectral.testing import FixedRadiusPool, randomized_sbn

BF16, F32, F64 = torch.bfloat16, torch.float32, torch.float64
TOLERANCE = {F32: 1e-6, BF16: 1e-2}
FORMATS = ["contiguous", "channels_last", "strided"]


pytestmark = pytest.mark.usefixtures("one_thread")


def sbn(impl: str, train: bool) -> nn.Module:
    return randomized_sbn(4, impl, train)


def relaxed(mask: FrequencyMask) -> FrequencyMask:
    """``mask`` with the continuous relaxation instead of the binarized mask."""
    mask.binarize = False
    return mask


def masked_conv() -> nn.Module:
    """A masked convolution whose mask passes the DC term (else the bias gradient is 0)."""
    conv = MaskedConv2d(3, 4, 3, padding=1, input_size=(6, 7))
    with torch.no_grad():
        conv.mask.latent[0, 0] = 1.0
    return conv


def spectral_conv() -> nn.Module:
    return spectral_parametrize(nn.Conv2d(4, 3, 3, padding=1))


# name: (layer factory, input shape (N, C, H, W))
CASES: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "sbn-spatial-train-even": (lambda: sbn("spatial", True), (3, 4, 6, 8)),
    "sbn-spatial-train-odd": (lambda: sbn("spatial", True), (3, 4, 5, 7)),
    "sbn-spatial-eval": (lambda: sbn("spatial", False), (3, 4, 6, 8)),
    "sbn-fft-train": (lambda: sbn("fft", True), (3, 4, 6, 7)),
    "sbn-fft-eval": (lambda: sbn("fft", False), (3, 4, 6, 7)),
    "pool-odd": (lambda: SpectralPool2d(5), (2, 3, 9, 9)),
    "pool-even": (lambda: SpectralPool2d(4), (2, 3, 8, 8)),
    "pool-non-square": (lambda: SpectralPool2d((6, 5)), (2, 3, 9, 8)),
    "pool-fft-non-square": (lambda: SpectralPool2d((6, 5), impl="fft"), (2, 3, 9, 8)),
    "spectral_pool-radius": (lambda: FixedRadiusPool((6, 6), radius=(4, 3)), (2, 3, 8, 9)),
    "mask-shared": (lambda: FrequencyMask(6, 7), (2, 3, 6, 7)),
    "mask-per-channel-relaxed": (lambda: relaxed(FrequencyMask(6, 8, channels=3)), (2, 3, 6, 8)),
    "masked_conv": (masked_conv, (2, 3, 6, 7)),
    "spectral_conv": (spectral_conv, (2, 4, 7, 6)),
}


def in_format(x: torch.Tensor, memory_format: str) -> torch.Tensor:
    """``x`` (same values) as a contiguous, channels_last or strided (sliced) tensor."""
    if memory_format == "channels_last":
        return x.contiguous(memory_format=torch.channels_last)
    if memory_format == "strided":
        wide = x.new_zeros(*x.shape[:-1], 2 * x.shape[-1])
        wide[..., ::2] = x
        return wide[..., ::2]
    return x.contiguous()


def relative_error(a: torch.Tensor, ref: torch.Tensor) -> float:
    """``‖a − ref‖ / ‖ref‖`` (Frobenius norms, float64)."""
    ref = ref.detach().to(F64)
    return float((a.detach().to(F64) - ref).norm() / ref.norm().clamp_min(1e-300))


def step(
    layer: nn.Module,
    x: torch.Tensor,
    upstream: torch.Tensor | None,
    autocast: bool,
    memory_format: str = "contiguous",
):
    """One forward and backward pass of ``layer`` on a copy of ``x`` that requires grad.

    ``upstream`` is the gradient of the output (``None``: a fixed random one, drawn in
    bfloat16), passed in ``memory_format`` as the layer after this one would pass it.
    Returns the output, the input gradient, the parameter gradients, the floating
    buffers after the step and the upstream gradient used.
    """
    x = x.detach().requires_grad_(True)
    context = torch.autocast("cpu", dtype=BF16) if autocast else contextlib.nullcontext()
    with context:
        y = layer(x)
    if upstream is None:
        upstream = torch.randn(y.shape, generator=torch.Generator().manual_seed(1)).to(BF16)
    y.backward(in_format(upstream.to(y.dtype), memory_format))
    grads = {name: p.grad for name, p in layer.named_parameters()}
    buffers = {name: b for name, b in layer.named_buffers() if b.is_floating_point()}
    return y, x.grad, grads, buffers, upstream


@pytest.mark.parametrize("autocast", [False, True], ids=["float32", "bf16-autocast"])
@pytest.mark.parametrize("memory_format", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
def test_matches_float64_reference(case, memory_format, autocast):
    factory, shape = CASES[case]
    torch.manual_seed(0)
    layer = factory()
    reference = copy.deepcopy(layer).to(F64)
    dtype = BF16 if autocast else F32
    x = torch.randn(shape, generator=torch.Generator().manual_seed(2)).to(dtype)
    want, want_grad, want_grads, want_buffers, upstream = step(reference, x.to(F64), None, False)
    if memory_format == "channels_last":
        layer.to(memory_format=torch.channels_last)
    y, grad, grads, buffers, _ = step(
        layer, in_format(x, memory_format), upstream, autocast, memory_format
    )
    assert y.dtype == dtype and grad.dtype == dtype  # the policy: the input's dtype
    tolerance = TOLERANCE[dtype]
    errors = {"output": relative_error(y, want), "input grad": relative_error(grad, want_grad)}
    errors |= {f"grad {n}": relative_error(g, want_grads[n]) for n, g in grads.items()}
    errors |= {f"buffer {n}": relative_error(b, want_buffers[n]) for n, b in buffers.items()}
    assert all(math.isfinite(e) and e <= tolerance for e in errors.values()), errors
    assert all(g.dtype == F32 for g in grads.values())  # parameters stay float32


# --- the dtype policy ----------------------------------------------------------------------


POLICY_LAYERS = {
    "sbn-spatial": lambda: SpectralBatchNorm2d(3),
    "sbn-fft": lambda: SpectralBatchNorm2d(3, impl="fft"),
    "pool": lambda: SpectralPool2d((5, 4)),
    "pool-fft": lambda: SpectralPool2d((5, 4), impl="fft"),
    "mask": lambda: FrequencyMask(6, 8),
}


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", list(POLICY_LAYERS))
def test_float32_and_float64_inputs_are_untouched_by_autocast(name, dtype):
    layer = POLICY_LAYERS[name]().to(dtype)
    x = torch.randn(2, 3, 6, 8, dtype=dtype)
    want = copy.deepcopy(layer)(x)
    with torch.autocast("cpu", dtype=BF16):
        y = layer(x)
    assert y.dtype == dtype
    torch.testing.assert_close(y, want, atol=0, rtol=0)


@pytest.mark.parametrize("autocast", [False, True], ids=["plain", "bf16-autocast"])
@pytest.mark.parametrize("dtype", [torch.float16, BF16])
@pytest.mark.parametrize("name", list(POLICY_LAYERS))
def test_half_inputs_compute_in_float32_and_keep_their_dtype(name, dtype, autocast):
    layer = POLICY_LAYERS[name]()
    x = torch.randn(2, 3, 6, 8).to(dtype)
    want = copy.deepcopy(layer)(x.float()).to(dtype)  # float32 result, rounded once
    context = torch.autocast("cpu", dtype=BF16) if autocast else contextlib.nullcontext()
    with context:
        y = layer(x)
    assert y.dtype == dtype
    torch.testing.assert_close(y, want, atol=0, rtol=0)


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_spectral_filters_are_float32_under_autocast(memory_format):
    conv = spectral_conv().to(memory_format=memory_format)
    want = conv.weight
    with torch.autocast("cpu", dtype=BF16):
        weight = conv.weight
        y = conv(torch.randn(1, 4, 5, 5))
    assert weight.dtype == F32 and y.dtype == BF16
    torch.testing.assert_close(weight, want, atol=0, rtol=0)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_spatial_sbn_keeps_channels_last(train):
    layer = sbn("spatial", train)
    x = torch.randn(3, 4, 6, 8).contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    y = layer(x)
    y.backward(torch.randn(y.shape).contiguous(memory_format=torch.channels_last))
    for t in (y, x.grad):
        assert t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()


# --- a network ------------------------------------------------------------------------------


@pytest.mark.parametrize("impl", ["spatial", "fft"])
def test_resnet18_sbn34_step_on_channels_last_under_bf16_autocast(impl):
    """The engine's fast path: channels_last model and batch, bf16 autocast, one step."""
    torch.manual_seed(0)
    model = resnet18(width=0.125, norm_layer=norm_variant("SBN34", impl=impl))
    model.to(memory_format=torch.channels_last)
    x = torch.randn(4, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=BF16):
        logits = model(x)
    assert logits.dtype == BF16 and logits.shape == (4, 10)
    nn.functional.cross_entropy(logits.float(), torch.arange(4)).backward()
    sbns = [m for m in model.modules() if isinstance(m, SpectralBatchNorm2d)]
    assert sbns and all(m.num_batches_tracked == 1 for m in sbns)
    for name, p in model.named_parameters():
        assert p.grad is not None and bool(torch.isfinite(p.grad).all()), name
