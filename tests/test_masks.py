"""Tests of spectral.masks: binarized frequency masks with straight-through gradients."""

from __future__ import annotations

import json

import jupytext
import papermill
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
    attach_mask_clipping_,
    clip_masks_,
    full_plane,
    mask_param_group_,
    mask_sparsity,
    mask_spectrum,
    named_masks,
)
from spectral.models import lenet_cifar, resnet20

pytestmark = pytest.mark.usefixtures("one_thread")

SIZES = [(8, 8), (7, 7), (8, 9), (9, 6), (1, 1), (2, 5), (5, 1)]
sizes = pytest.mark.parametrize("H, W", SIZES, ids=[f"{h}x{w}" for h, w in SIZES])
impls = pytest.mark.parametrize("impl", ["matrix", "fft"])
TOL = {torch.float32: 1e-5, torch.float64: 1e-12}


def randn(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def make_mask(H, W, channels=None, seed=0, dtype=torch.float64, **kwargs):
    torch.manual_seed(seed)
    return FrequencyMask(H, W, channels=channels, **kwargs).to(dtype)


def mask_shape(C, H, W, per_channel):
    return (C, H, W // 2 + 1) if per_channel else (H, W // 2 + 1)


def fft_form(x, mask):
    """The definition, by autograd through torch.fft: irfft2(mask ⊙ rfft2(x))."""
    return torch.fft.irfft2(mask * torch.fft.rfft2(x), s=x.shape[-2:])


def relative(a, b):
    """``‖a − b‖ / ‖b‖``."""
    a, b = a.detach(), b.detach()
    return float((a - b).norm() / b.norm().clamp_min(1e-300))


# --- forward -----------------------------------------------------------------------------


@sizes
@impls
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("channels", [None, 3])
def test_all_ones_mask_is_identity(H, W, dtype, channels, impl):
    mask = make_mask(H, W, channels, dtype=dtype, impl=impl)
    nn.init.ones_(mask.latent)
    x = randn(2, 3, H, W, dtype=dtype)
    y = mask(x)
    assert y.dtype == dtype and y.shape == x.shape
    torch.testing.assert_close(y, x, atol=TOL[dtype], rtol=0)


@sizes
@impls
@pytest.mark.parametrize("channels", [None, 3])
def test_forward_uses_binarized_mask_against_naive_dft(H, W, channels, impl):
    """y = Re F⁻¹(B_full ⊙ F x) with the naive float64 DFT and the Hermitian extension."""
    mask = make_mask(H, W, channels, seed=1, impl=impl)
    x = randn(2, 3, H, W, seed=2)
    binary = (mask.latent.detach() >= 0.5).double()
    full = full_plane(binary, W)
    expected = naive_idft2(full * naive_dft2(x)).real
    torch.testing.assert_close(mask(x), expected, atol=1e-12, rtol=0)
    # the latent values themselves are not used: a different latent, same binary, same y
    other = make_mask(H, W, channels, seed=1, impl=impl)
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


# --- the matrix form against the FFT form ------------------------------------------------


@sizes
@pytest.mark.parametrize("per_channel", [False, True], ids=["shared", "per-channel"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matrix_form_equals_fft_form_forward_and_backward(H, W, per_channel, dtype):
    """Output, input gradient and mask gradient of impl="matrix" against autograd on FFTs."""
    x = randn(3, 4, H, W, seed=1, dtype=dtype).requires_grad_(True)
    mask = torch.rand(mask_shape(4, H, W, per_channel), generator=torch.Generator().manual_seed(2))
    mask = mask.to(dtype).requires_grad_(True)
    upstream = randn(3, 4, H, W, seed=3, dtype=dtype)
    got = mask_spectrum(x, mask, impl="matrix")
    got_grads = torch.autograd.grad(got, (x, mask), upstream)
    # the reference in float64 whatever the dtype: the error is then the tested form's own
    x64, mask64 = (t.detach().double().requires_grad_(True) for t in (x, mask))
    want = fft_form(x64, mask64)
    want_grads = torch.autograd.grad(want, (x64, mask64), upstream.double())
    tolerance = 1e-13 if dtype == torch.float64 else 1e-6
    assert relative(got.double(), want) <= tolerance
    for g, w in zip(got_grads, want_grads, strict=True):
        assert g.dtype == dtype and g.shape == w.shape
        assert relative(g.double(), w) <= tolerance


@pytest.mark.parametrize("H, W", [(4, 4), (3, 5), (5, 2), (1, 3), (2, 1)])
@pytest.mark.parametrize("per_channel", [False, True], ids=["shared", "per-channel"])
def test_matrix_form_gradcheck(H, W, per_channel):
    """The hand-written backward of the matrix form, input and mask, in float64."""
    x = randn(2, 3, H, W, seed=4).requires_grad_(True)
    mask = torch.rand(mask_shape(3, H, W, per_channel), dtype=torch.float64,
                      generator=torch.Generator().manual_seed(5)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, m: mask_spectrum(a, m, impl="matrix"), (x, mask))


@pytest.mark.parametrize("wants", [(True, False), (False, True)], ids=["input", "mask"])
def test_matrix_form_gradient_of_one_input_only(wants):
    x = randn(2, 3, 6, 5, seed=6).requires_grad_(wants[0])
    mask = torch.rand(6, 3, dtype=torch.float64).requires_grad_(wants[1])
    upstream = randn(2, 3, 6, 5, seed=7)
    (got,) = torch.autograd.grad(mask_spectrum(x, mask), [x if wants[0] else mask], upstream)
    x64, mask64 = x.detach().requires_grad_(True), mask.detach().requires_grad_(True)
    want = torch.autograd.grad(fft_form(x64, mask64), (x64, mask64), upstream)
    torch.testing.assert_close(got, want[0] if wants[0] else want[1], atol=1e-12, rtol=0)


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    per_channel=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_matrix_form_is_the_fft_form_and_symmetric(h, w, n, c, per_channel, seed):
    """For every size and real mask: the same map, and ⟨P x, g⟩ = ⟨x, P g⟩ (P = Pᵀ)."""
    x, g = randn(n, c, h, w, seed=seed), randn(n, c, h, w, seed=seed + 1)
    mask = randn(*mask_shape(c, h, w, per_channel), seed=seed + 2)  # any real values
    y = mask_spectrum(x, mask)
    torch.testing.assert_close(y, fft_form(x, mask), atol=1e-12, rtol=0)
    torch.testing.assert_close((y * g).sum(), (x * mask_spectrum(g, mask)).sum(),
                               atol=1e-10, rtol=0)


@pytest.mark.parametrize("impl", ["matrix", "fft"])
def test_layer_keeps_channels_last(impl):
    mask = make_mask(6, 7, impl=impl, dtype=torch.float32)
    x = randn(2, 3, 6, 7, dtype=torch.float32).contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    y = mask(x)
    y.backward(randn(2, 3, 6, 7, seed=1, dtype=torch.float32)
               .contiguous(memory_format=torch.channels_last))
    for t in (y, x.grad):
        assert t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()
    torch.testing.assert_close(y, mask(x.detach().contiguous()), atol=1e-6, rtol=0)


def test_mask_spectrum_bad_inputs():
    x = randn(2, 3, 6, 7)
    with pytest.raises(ValueError, match=r"\(6, 4\) \(shared\) or \(3, 6, 4\)"):
        mask_spectrum(x, torch.ones(6, 7, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        mask_spectrum(x[0], torch.ones(6, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match="mask must be a real floating"):
        mask_spectrum(x, torch.ones(6, 4, dtype=torch.complex64))
    with pytest.raises(ValueError, match="impl must be one of 'matrix', 'fft'"):
        mask_spectrum(x, torch.ones(6, 4), impl="dft")


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
@impls
@pytest.mark.parametrize("channels", [None, 3])
def test_latent_gradient_equals_formula(H, W, channels, impl):
    mask = make_mask(H, W, channels, seed=3, impl=impl)
    x = randn(4, 3, H, W, seed=4).requires_grad_(True)
    weight = randn(4, 3, H, W, seed=5)
    (mask(x) * weight).sum().backward()
    relaxed, formula, dx = _formula_grads(mask, x.detach(), weight)
    assert mask.latent.grad.shape == mask.latent.shape
    torch.testing.assert_close(mask.latent.grad, formula, atol=1e-10, rtol=0)
    torch.testing.assert_close(mask.latent.grad, relaxed, atol=1e-10, rtol=0)
    torch.testing.assert_close(x.grad, dx, atol=1e-12, rtol=0)


@impls
def test_latent_gradient_is_not_zero_even_where_masked(impl):
    """A pure Binarize would give zero gradient; the STE passes Re(conj(dS)·S) everywhere."""
    mask = make_mask(6, 6, seed=0, impl=impl)
    with torch.no_grad():
        mask.latent.fill_(0.1)  # everything masked: output 0
    x = randn(2, 2, 6, 6)
    (mask(x) * randn(2, 2, 6, 6, seed=1)).sum().backward()
    assert mask.latent.grad.abs().min() > 0


@impls
@pytest.mark.parametrize("channels", [None, 2])
def test_input_gradcheck(channels, impl):
    mask = make_mask(5, 6, channels, seed=6, impl=impl)
    mask.latent.requires_grad_(False)
    x = randn(2, 2, 5, 6, seed=7).requires_grad_(True)
    assert torch.autograd.gradcheck(mask, (x,))


def test_straight_through_passes_the_mask_gradient_unchanged():
    """The latent receives exactly the gradient that the binary mask values receive."""
    mask = make_mask(5, 4, seed=8)
    x, upstream = randn(2, 3, 5, 4, seed=9), randn(2, 3, 5, 4, seed=10)
    values = mask.forward_mask()
    values.retain_grad()
    mask_spectrum(x, values).backward(upstream)
    torch.testing.assert_close(values, mask.binary(), atol=0, rtol=0)
    torch.testing.assert_close(mask.latent.grad, values.grad, atol=0, rtol=0)


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
    net = add_masks_(resnet20(width=0.25), (32, 32))
    with torch.no_grad():
        for _, m in named_masks(net):
            m.latent.normal_(0.5, 2.0)  # far outside [0, 1]
    optimizer = torch.optim.SGD(net.parameters(), lr=10.0)
    handle = attach_mask_clipping_(optimizer, net)
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
    net = add_masks_(resnet20(width=0.25), (32, 32))
    with pytest.raises(ValueError, match="not optimized"):
        attach_mask_clipping_(torch.optim.SGD([net.fc.weight], lr=0.1), net)
    plain = resnet20(width=0.25)
    with pytest.raises(ValueError, match="no FrequencyMask"):
        attach_mask_clipping_(torch.optim.SGD(plain.parameters(), lr=0.1), plain)


def test_mask_sparsity_values():
    model = nn.Sequential(FrequencyMask(4, 6), FrequencyMask(4, 6, channels=2))
    with torch.no_grad():
        model[0].latent.fill_(1.0)
        model[0].latent[0, :2] = 0.0  # 2 of 16 masked
        model[1].latent.fill_(0.0)
        model[1].latent[1] = 0.7  # half of the channels' entries pass
    assert mask_sparsity(model) == {"0": 2 / 16, "1": 0.5}


# --- attaching masks to models -----------------------------------------------------------


def test_add_masks_to_resnet20_keeps_names_and_weights():
    torch.manual_seed(0)
    net = add_masks_(resnet20(width=0.5), (32, 32))
    names = list(mask_sparsity(net))
    assert len(names) == 19 and names[0] == "conv1" and names[-1] == "layer3.2.conv2"
    sizes_ = [net.get_submodule(n).mask.latent.shape for n in names]
    assert sizes_[0] == (32, 17) and sizes_[-1] == (8, 5)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    torch.manual_seed(0)
    plain = resnet20(width=0.5)
    torch.manual_seed(0)
    masked = add_masks_(resnet20(width=0.5), (32, 32))
    # attaching masks keeps the model's initialisation (masks are drawn after it)
    torch.testing.assert_close(masked.conv1.weight, plain.conv1.weight)
    with torch.no_grad():
        for _, m in named_masks(masked):
            m.latent.fill_(1.0)
    plain.eval(), masked.eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(masked(x), plain(x), atol=1e-4, rtol=1e-4)
    lenet = add_masks_(lenet_cifar(), (32, 32))
    assert list(mask_sparsity(lenet)) == ["features.0", "features.3", "features.6", "features.9"]
    assert isinstance(lenet.features[0], MaskedConv2d) and "features.0.weight" in dict(
        lenet.named_parameters()
    )


def test_add_masks_passes_every_setting_to_every_mask():
    torch.manual_seed(0)
    net = add_masks_(resnet20(width=0.25), (32, 32), init_mean=0.6, init_std=0.0,
                     threshold=0.7, binarize=False, random_drop=0.25, impl="fft")
    masks = [m for _, m in named_masks(net)]
    assert len(masks) == 19
    for mask in masks:
        assert (mask.init_mean, mask.init_std, mask.threshold) == (0.6, 0.0, 0.7)
        assert (mask.binarize, mask.random_drop, mask.impl) == (False, 0.25, "fft")
        assert torch.all(mask.latent == 0.6)
    assert "binarize=False, random_drop=0.25, impl='fft'" in " ".join(repr(net.conv1).split())
    per_channel = add_masks_(resnet20(width=0.25), (32, 32), per_channel=True)
    assert per_channel.layer2[0].conv1.mask.latent.shape == (8, 16, 9)


def test_add_masks_rejects_bad_settings_before_changing_the_model():
    net = resnet20(width=0.25)
    for kwargs, match in [({"random_drop": 1.5}, r"random_drop must lie in \[0, 1\]"),
                          ({"init_std": -0.1}, "init_std must lie in"),
                          ({"binarize": "yes"}, "binarize must be one of True, False"),
                          ({"impl": "dft"}, "impl must be one of")]:
        with pytest.raises(ValueError, match=match):
            add_masks_(net, (32, 32), **kwargs)
    with pytest.raises(TypeError, match="unexpected keyword argument 'init_men'"):
        add_masks_(net, (32, 32), init_men=0.6)  # a misspelt setting is not ignored
    assert not named_masks(net) and type(net.conv1) is nn.Conv2d
    with pytest.raises(TypeError, match="input_size must be an int or a pair"):
        add_masks_(net, "32")
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        add_masks_(nn.Sequential(nn.Linear(2, 2)), (2, 2))


def test_masked_conv_from_conv_and_sizes():
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    masked = MaskedConv2d.from_conv(conv, (9, 8), per_channel=True)
    assert masked.mask.latent.shape == (5, 5, 3)  # output 5 × 4
    nn.init.ones_(masked.mask.latent)
    x = torch.randn(2, 3, 9, 8)
    torch.testing.assert_close(masked(x), conv(x), atol=1e-5, rtol=1e-5)
    with pytest.raises(TypeError, match="nn.Conv2d"):
        MaskedConv2d.from_conv(nn.Linear(2, 2), 8)


def test_param_group():
    torch.manual_seed(0)
    net = add_masks_(resnet20(width=0.25), (32, 32))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=1e-4)
    mask_param_group_(optimizer, net, lr_scale=10.0, weight_decay=0.0)
    assert len(optimizer.param_groups) == 2
    group = optimizer.param_groups[1]
    assert group["lr"] == pytest.approx(1.0) and group["weight_decay"] == 0.0
    assert len(group["params"]) == 19
    assert all(p.dim() != 2 or p.shape != (32, 17) for p in optimizer.param_groups[0]["params"])
    with pytest.raises(ValueError, match="lr_scale must lie in"):
        mask_param_group_(optimizer, net, lr_scale=-1.0)


# --- random drop and the continuous relaxation -------------------------------------------


@impls
def test_random_drop_acts_in_training_only(impl):
    mask = make_mask(8, 8, random_drop=0.5, impl=impl)
    assert "random_drop=0.5" in " ".join(repr(mask).split())
    nn.init.ones_(mask.latent)
    xs = randn(1, 1, 8, 8)
    mask.eval()
    torch.testing.assert_close(mask(xs), xs, atol=1e-12, rtol=0)  # no drop in eval mode
    mask.train()
    torch.manual_seed(3)
    dropped = mask(xs)
    torch.manual_seed(3)
    keep = (torch.rand(8, 5) >= 0.5).double()  # the pattern that forward pass drew
    assert not torch.allclose(dropped, xs)
    torch.testing.assert_close(dropped, fft_form(xs, keep), atol=1e-12, rtol=0)


@impls
def test_continuous_relaxation_uses_autograd_gradient(impl):
    mask = make_mask(6, 5, seed=2, binarize=False, impl=impl)
    assert "binarize=False" in " ".join(repr(mask).split())
    x = randn(3, 2, 6, 5)
    weight = randn(3, 2, 6, 5, seed=9)
    (mask(x) * weight).sum().backward()
    m = mask.latent.detach().clamp(0, 1).requires_grad_(True)
    (torch.fft.irfft2(m * torch.fft.rfft2(x), s=(6, 5)) * weight).sum().backward()
    inside = (mask.latent.detach() >= 0) & (mask.latent.detach() <= 1)  # clamp's gradient
    torch.testing.assert_close(mask.latent.grad, m.grad * inside, atol=1e-12, rtol=0)


# --- bad input, autocast -----------------------------------------------------------------


def test_bad_inputs_raise():
    with pytest.raises(TypeError, match="height must be an int"):
        FrequencyMask(8.0, 8)
    with pytest.raises(ValueError, match=">= 1"):
        FrequencyMask(0, 8)
    with pytest.raises(ValueError, match="init_std"):
        FrequencyMask(8, 8, init_std=-1.0)
    with pytest.raises(ValueError, match="random_drop"):
        FrequencyMask(8, 8, random_drop=-0.1)
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


@impls
def test_autocast_runs_in_float32(impl):
    mask = FrequencyMask(8, 8, impl=impl)
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


@pytest.mark.parametrize("variant", ["masks", "masks_random_drop", "masks_continuous"])
def test_experiment_notebook_attaches_the_variants_masks(variant, tmp_path):
    """The masks notebook on synthetic data, one epoch, each masked variant."""
    spec = json.loads((ex.PROJECT / "notebooks/experiments/masks.json").read_text())
    result = tmp_path / "result.json"
    params = spec["profiles"]["smoke"]["params"] | {
        "variant": variant, "dataset": "synthetic", "epochs": 1, "schedule": "constant",
        "milestones": [], "severities": [1], "corruptions": ["fog"], "experiment": "masks",
        "run_id": "smoke", "run_params": {}, "threads": 1, "result_path": str(result),
        "checkpoint_path": str(tmp_path / "run.pt"),
    }
    papermill.execute_notebook(
        jupytext.read(ex.PROJECT / "notebooks/experiments/masks.py"),
        str(tmp_path / "out.ipynb"), parameters=params, kernel_name="python3",
        language="python", cwd=str(ex.PROJECT), progress_bar=False,
    )
    final = json.loads(result.read_text())["final"]
    assert len(final["mask_fraction"]) == 19 and list(final["masks"]) == list(
        final["mask_fraction"]
    )
    assert all(0.0 <= f <= 1.0 for f in final["mask_fraction"].values())
    lowest, *_, highest = final["mask_latent_quantiles"]["conv1"]
    assert 0.0 <= lowest <= highest <= 1.0  # clipped after every step




@pytest.mark.requires_data("cifar10")
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
