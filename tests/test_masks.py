"""Tests of spectral.masks: binarized frequency masks with straight-through gradients."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import spectral.experiments as ex
from spectral.fft import naive_dft2, naive_idft2
from spectral.masks import (
    FrequencyMask,
    MaskedConv2d,
    add_masks_,
    attach_mask_clipping,
    clip_masks_,
    full_plane,
    mask_param_group_,
    mask_sparsity,
    named_masks,
    set_random_drop_,
)
from spectral.models import lenet_cifar, resnet20

SIZES = [(8, 8), (7, 7), (8, 9), (9, 6), (1, 1), (2, 5)]
sizes = pytest.mark.parametrize("H, W", SIZES, ids=[f"{h}x{w}" for h, w in SIZES])
TOL = {torch.float32: 1e-5, torch.float64: 1e-12}


def randn(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def make_mask(H, W, channels=None, seed=0, dtype=torch.float64, **kwargs):
    torch.manual_seed(seed)
    return FrequencyMask(H, W, channels=channels, **kwargs).to(dtype)


# --- forward -----------------------------------------------------------------------------


@sizes
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("channels", [None, 3])
def test_all_ones_mask_is_identity(H, W, dtype, channels):
    mask = make_mask(H, W, channels, dtype=dtype)
    nn.init.ones_(mask.latent)
    x = randn(2, 3, H, W, dtype=dtype)
    y = mask(x)
    assert y.dtype == dtype and y.shape == x.shape
    torch.testing.assert_close(y, x, atol=TOL[dtype], rtol=0)


@sizes
@pytest.mark.parametrize("channels", [None, 3])
def test_forward_uses_binarized_mask_against_naive_dft(H, W, channels):
    """y = Re F⁻¹(B_full ⊙ F x) with the naive float64 DFT and the Hermitian extension."""
    mask = make_mask(H, W, channels, seed=1)
    x = randn(2, 3, H, W, seed=2)
    binary = (mask.latent.detach() >= 0.5).double()
    full = full_plane(binary, W)
    expected = naive_idft2(full * naive_dft2(x)).real
    torch.testing.assert_close(mask(x), expected, atol=1e-12, rtol=0)
    # the latent values themselves are not used: a different latent, same binary, same y
    other = make_mask(H, W, channels, seed=1)
    with torch.no_grad():
        other.latent.copy_(torch.where(binary.bool(), 0.99, 0.01))
    torch.testing.assert_close(other(x), mask(x), atol=1e-12, rtol=0)


def test_threshold_is_inclusive():
    mask = make_mask(4, 4, threshold=0.5)
    with torch.no_grad():
        mask.latent.fill_(0.5)
    assert mask.fraction_masked() == 0.0
    with torch.no_grad():
        mask.latent.fill_(0.4999)
    assert mask.fraction_masked() == 1.0
    torch.testing.assert_close(
        mask(randn(1, 2, 4, 4)), torch.zeros(1, 2, 4, 4, dtype=torch.float64)
    )


# --- straight-through gradient -----------------------------------------------------------


def _formula_grads(mask, x, weight):
    """dM = Re(conj(dS)·S) summed over the sharing dims; dx by autograd on m ⊙ S."""
    spectrum = torch.fft.rfft2(x)
    binary = mask.binary().detach().clone().requires_grad_(True)  # continuous relaxation at B
    xx = x.detach().clone().requires_grad_(True)
    s = torch.fft.rfft2(xx)
    y = torch.fft.irfft2(binary * s, s=x.shape[-2:])
    (y * weight).sum().backward()
    # the same gradient by the formula: dS (gradient at the masked spectrum S_b = B ⊙ S)
    # from autograd, then Re(conj(dS)·S)
    masked = (mask.binary() * spectrum).detach().requires_grad_(True)
    (torch.fft.irfft2(masked, s=x.shape[-2:]) * weight).sum().backward()
    formula = (masked.grad.conj() * spectrum).real.sum_to_size(mask.latent.shape)
    return binary.grad, formula, xx.grad


@sizes
@pytest.mark.parametrize("channels", [None, 3])
def test_latent_gradient_equals_formula(H, W, channels):
    mask = make_mask(H, W, channels, seed=3)
    x = randn(4, 3, H, W, seed=4).requires_grad_(True)
    weight = randn(4, 3, H, W, seed=5)
    (mask(x) * weight).sum().backward()
    relaxed, formula, dx = _formula_grads(mask, x.detach(), weight)
    assert mask.latent.grad.shape == mask.latent.shape
    torch.testing.assert_close(mask.latent.grad, formula, atol=1e-10, rtol=0)
    torch.testing.assert_close(mask.latent.grad, relaxed, atol=1e-10, rtol=0)
    torch.testing.assert_close(x.grad, dx, atol=1e-12, rtol=0)


def test_latent_gradient_is_not_zero_even_where_masked():
    """A pure Binarize would give zero gradient; the STE passes Re(conj(dS)·S) everywhere."""
    mask = make_mask(6, 6, seed=0)
    with torch.no_grad():
        mask.latent.fill_(0.1)  # everything masked: output 0
    x = randn(2, 2, 6, 6)
    (mask(x) * randn(2, 2, 6, 6, seed=1)).sum().backward()
    assert mask.latent.grad.abs().min() > 0


@pytest.mark.parametrize("channels", [None, 2])
def test_input_gradcheck(channels):
    mask = make_mask(5, 6, channels, seed=6)
    mask.latent.requires_grad_(False)
    x = randn(2, 2, 5, 6, seed=7).requires_grad_(True)
    assert torch.autograd.gradcheck(mask, (x,))


@settings(max_examples=20, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    n=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)
def test_gradient_formula_property(h, w, n, seed):
    mask = make_mask(h, w, seed=seed)
    x = randn(n, 2, h, w, seed=seed + 1)
    weight = randn(n, 2, h, w, seed=seed + 2)
    (mask(x) * weight).sum().backward()
    _, formula, _ = _formula_grads(mask, x, weight)
    torch.testing.assert_close(mask.latent.grad, formula, atol=1e-10, rtol=0)


# --- init, clipping, sparsity ------------------------------------------------------------


def test_init_statistics():
    torch.manual_seed(0)
    mask = FrequencyMask(64, 126, channels=4)  # 4 × 64 × 64 = 16,384 entries
    values = mask.latent.detach()
    assert values.shape == (4, 64, 64)
    assert abs(float(values.mean()) - 0.8) < 0.01 and abs(float(values.std()) - 0.2) < 0.01
    torch.manual_seed(0)
    finetune = FrequencyMask(64, 126, init_mean=0.6, init_std=0.1).latent.detach()
    assert abs(float(finetune.mean()) - 0.6) < 0.01 and abs(float(finetune.std()) - 0.1) < 0.01
    expected = float(torch.distributions.Normal(0.8, 0.2).cdf(torch.tensor(0.5)))
    assert abs(mask.fraction_masked() - expected) < 0.01


def test_clipping_through_optimizer_step_with_hook():
    torch.manual_seed(0)
    net = resnet20(width=0.25, masks=True)
    with torch.no_grad():
        for _, m in named_masks(net):
            m.latent.normal_(0.5, 2.0)  # far outside [0, 1]
    optimizer = torch.optim.SGD(net.parameters(), lr=10.0)
    handle = attach_mask_clipping(optimizer, net)
    loss = net(randn(4, 3, 32, 32, dtype=torch.float32)).square().mean()
    loss.backward()
    optimizer.step()
    for _, m in named_masks(net):
        assert 0.0 <= float(m.latent.detach().min()) and float(m.latent.detach().max()) <= 1.0
    handle.remove()
    with torch.no_grad():
        net.conv1.mask.latent.fill_(3.0)
    optimizer.step()  # no hook any more
    assert float(net.conv1.mask.latent.detach().max()) > 1.0
    clip_masks_(net)
    assert float(net.conv1.mask.latent.detach().max()) == 1.0


def test_attach_mask_clipping_errors():
    net = resnet20(width=0.25, masks=True)
    with pytest.raises(ValueError, match="not optimized"):
        attach_mask_clipping(torch.optim.SGD([net.fc.weight], lr=0.1), net)
    plain = resnet20(width=0.25)
    with pytest.raises(ValueError, match="no FrequencyMask"):
        attach_mask_clipping(torch.optim.SGD(plain.parameters(), lr=0.1), plain)


def test_mask_sparsity_values():
    model = nn.Sequential(FrequencyMask(4, 6), FrequencyMask(4, 6, channels=2))
    with torch.no_grad():
        model[0].latent.fill_(1.0)
        model[0].latent[0, :2] = 0.0  # 2 of 16 masked
        model[1].latent.fill_(0.0)
        model[1].latent[1] = 0.7  # half of the channels' entries pass
    assert mask_sparsity(model) == {"0": 2 / 16, "1": 0.5}


def test_model_switches_and_names():
    torch.manual_seed(0)
    net = resnet20(width=0.5, masks=True)
    names = list(mask_sparsity(net))
    assert len(names) == 19 and names[0] == "conv1" and names[-1] == "layer3.2.conv2"
    sizes_ = [net.get_submodule(n).mask.latent.shape for n in names]
    assert sizes_[0] == (32, 17) and sizes_[-1] == (8, 5)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    torch.manual_seed(0)
    plain = resnet20(width=0.5)
    torch.manual_seed(0)
    masked = resnet20(width=0.5, masks=True)
    # masks=True keeps the weights of masks=False (masks are drawn after the init)
    torch.testing.assert_close(masked.conv1.weight, plain.conv1.weight)
    with torch.no_grad():
        for _, m in named_masks(masked):
            m.latent.fill_(1.0)
    plain.eval(), masked.eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(masked(x), plain(x), atol=1e-4, rtol=1e-4)
    lenet = lenet_cifar(masks=True)
    assert list(mask_sparsity(lenet)) == ["features.0", "features.3", "features.6", "features.9"]
    assert isinstance(lenet.features[0], MaskedConv2d) and "features.0.weight" in dict(
        lenet.named_parameters()
    )


def test_masked_conv_from_conv_and_sizes():
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    masked = MaskedConv2d.from_conv(conv, (9, 8), per_channel=True)
    assert masked.mask.latent.shape == (5, 5, 3)  # output 5 × 4
    nn.init.ones_(masked.mask.latent)
    x = torch.randn(2, 3, 9, 8)
    torch.testing.assert_close(masked(x), conv(x), atol=1e-5, rtol=1e-5)
    with pytest.raises(TypeError, match="nn.Conv2d"):
        MaskedConv2d.from_conv(nn.Linear(2, 2), 8)
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        add_masks_(nn.Sequential(nn.Linear(2, 2)), (2, 2))


def test_param_group_and_random_drop():
    torch.manual_seed(0)
    net = resnet20(width=0.25, masks=True)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=1e-4)
    mask_param_group_(optimizer, net, lr_scale=10.0, weight_decay=0.0)
    assert len(optimizer.param_groups) == 2
    group = optimizer.param_groups[1]
    assert group["lr"] == pytest.approx(1.0) and group["weight_decay"] == 0.0
    assert len(group["params"]) == 19
    assert all(p.dim() != 2 or p.shape != (32, 17) for p in optimizer.param_groups[0]["params"])
    set_random_drop_(net, 0.5)
    x = torch.randn(2, 3, 32, 32)
    net.eval()
    torch.testing.assert_close(net(x), net(x))  # no drop in eval mode
    mask = make_mask(8, 8)
    nn.init.ones_(mask.latent)
    set_random_drop_(mask, 0.5)
    mask.train()
    xs = randn(1, 1, 8, 8)
    assert not torch.allclose(mask(xs), xs)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        set_random_drop_(mask, 1.0)


def test_continuous_relaxation_uses_autograd_gradient():
    mask = make_mask(6, 5, seed=2)
    mask.binarize = False
    x = randn(3, 2, 6, 5)
    weight = randn(3, 2, 6, 5, seed=9)
    (mask(x) * weight).sum().backward()
    m = mask.latent.detach().clamp(0, 1).requires_grad_(True)
    (torch.fft.irfft2(m * torch.fft.rfft2(x), s=(6, 5)) * weight).sum().backward()
    inside = (mask.latent.detach() >= 0) & (mask.latent.detach() <= 1)  # clamp's gradient
    torch.testing.assert_close(mask.latent.grad, m.grad * inside, atol=1e-12, rtol=0)


# --- bad input, autocast -----------------------------------------------------------------


def test_bad_inputs_raise():
    with pytest.raises(TypeError, match="positive int"):
        FrequencyMask(8.0, 8)
    with pytest.raises(ValueError, match=">= 1"):
        FrequencyMask(0, 8)
    with pytest.raises(ValueError, match="init_std"):
        FrequencyMask(8, 8, init_std=-1.0)
    mask = FrequencyMask(8, 8)
    with pytest.raises(ValueError, match="8×8"):
        mask(torch.randn(1, 1, 8, 9))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        mask(torch.randn(8, 8))
    with pytest.raises(TypeError, match="real floating"):
        mask(torch.ones(1, 1, 8, 8, dtype=torch.int64))
    with pytest.raises(ValueError, match="channels"):
        FrequencyMask(8, 8, channels=3)(torch.randn(1, 2, 8, 8))
    with pytest.raises(ValueError, match="shape"):
        full_plane(torch.ones(4, 3), 8)


def test_autocast_runs_fft_in_float32():
    mask = FrequencyMask(8, 8)
    nn.init.ones_(mask.latent)
    x = torch.randn(2, 3, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = mask(x)
        y16 = mask(x.bfloat16())
    assert y.dtype == torch.float32 and y16.dtype == torch.bfloat16  # the autocast policy
    torch.testing.assert_close(y, x, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(y16.float(), x, atol=0.05, rtol=0.02)
    y.float().sum().backward()
    assert mask.latent.grad is not None and mask.latent.grad.dtype == torch.float32


# --- the experiment ----------------------------------------------------------------------


@pytest.mark.skipif(
    not (Path(os.environ.get("SPECTRAL_DATA") or "/nonexistent") / "cifar10-jpeg.tar.gz").is_file(),
    reason="the masks smoke run trains on CIFAR-10: cifar10-jpeg.tar.gz not in $SPECTRAL_DATA",
)
def test_masks_smoke_profile_runs_end_to_end(tmp_path):
    runs = ex.expand("masks", "smoke", overrides={"variant": "masks"})
    statuses = ex.run_experiment(
        runs, results=tmp_path, cache=tmp_path / "cache", log=lambda _: None
    )
    assert statuses == {"smoke-variant=masks-s0": "complete"}
    record = json.loads((tmp_path / "masks" / "smoke-variant=masks-s0.json").read_text())
    final = record["final"]
    assert set(final["corruption_accuracy"]) == {"impulse_noise", "fog"}
    assert all(0.0 <= a <= 1.0 for a in final["corruption_accuracy"]["fog"].values())
    assert len(final["mask_fraction"]) == 19 and list(final["masks"]) == list(
        final["mask_fraction"]
    )
    first = torch.tensor(final["masks"]["conv1"])
    assert first.shape == (32, 17) and set(first.unique().tolist()) <= {0, 1}
    assert 1 - first.float().mean().item() == pytest.approx(final["mask_fraction"]["conv1"])
