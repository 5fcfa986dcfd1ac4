"""Tests of spectral.parametrize against dense float64 DFT references."""

from __future__ import annotations

import copy
import io
import json
import math
import os
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import parametrize

from spectral import experiments as ex
from spectral._io import derive_seed
from spectral._validate import FLOATING, check_floating_dtype
from spectral.fft import CONJUGATE, FREE, REAL, centered, naive_dft2, symmetry_pattern
from spectral.parametrize import (
    SpectralWeight,
    is_spectral,
    random_basis,
    spectral_basis,
    spectral_coefficients,
    spectral_parametrize,
)
from spectral.testing import randn

# Odd, even, mixed and non-square kernels, and kernels with one side 1.
KERNELS = [(3, 3), (5, 5), (2, 2), (4, 4), (3, 4), (4, 3), (2, 5), (1, 3), (4, 1), (7, 6)]
kernels = pytest.mark.parametrize("kernel", KERNELS, ids=[f"{h}x{w}" for h, w in KERNELS])
TOL = {torch.float32: 1e-5, torch.float64: 1e-12}


def reference_coordinates(weight: torch.Tensor) -> torch.Tensor:
    """θ of the module doc from the dense DFT: √2 Re / √2 Im of FREE bins, Re of REAL ones."""
    h, w = weight.shape[-2:]
    X = naive_dft2(weight.to(torch.float64))
    pattern = symmetry_pattern(h, w)
    theta = torch.zeros(weight.shape, dtype=torch.float64)
    for k in range(h):
        for l in range(w):  # noqa: E741
            mk, ml = (-k) % h, (-l) % w
            if pattern[k, l] == REAL:
                theta[..., k, l] = X[..., k, l].real
            elif pattern[k, l] == FREE:
                theta[..., k, l] = math.sqrt(2) * X[..., k, l].real
                theta[..., mk, ml] = math.sqrt(2) * X[..., k, l].imag
            else:
                assert pattern[k, l] == CONJUGATE
    return theta


def conv_pair(kernel=(3, 3), groups=1, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    conv = nn.Conv2d(4, 6, kernel, padding=(kernel[0] // 2, kernel[1] // 2), groups=groups)
    conv = conv.to(dtype)
    return conv, spectral_parametrize(copy.deepcopy(conv))


def small_net(kernel=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 5, kernel, padding=kernel // 2),
        nn.Tanh(),
        nn.Conv2d(5, 4, kernel, padding=kernel // 2, groups=1),
        nn.Tanh(),
        nn.Conv2d(4, 3, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    ).double()


# --- the map --------------------------------------------------------------------------------


def test_basis_accepts_a_torch_size():
    torch.testing.assert_close(spectral_basis(torch.Size([3, 4])), spectral_basis((3, 4)))


@kernels
def test_basis_is_orthogonal(kernel):
    B = spectral_basis(kernel)
    n = kernel[0] * kernel[1]
    assert B.shape == (n, n) and B.dtype == torch.float64
    torch.testing.assert_close(B.T @ B, torch.eye(n, dtype=torch.float64), atol=1e-13, rtol=0)
    torch.testing.assert_close(B @ B.T, torch.eye(n, dtype=torch.float64), atol=1e-13, rtol=0)


@kernels
def test_random_basis_is_orthogonal_seeded_and_not_the_dft(kernel):
    n = kernel[0] * kernel[1]
    B = random_basis(kernel, seed=3)
    eye = torch.eye(n, dtype=torch.float64)
    assert B.shape == (n, n) and B.dtype == torch.float64
    torch.testing.assert_close(B.T @ B, eye, atol=1e-13, rtol=0)
    torch.testing.assert_close(B @ B.T, eye, atol=1e-13, rtol=0)
    torch.testing.assert_close(random_basis(kernel, seed=3), B, atol=0, rtol=0)
    assert float((random_basis(kernel, seed=4) - B).abs().max()) > 0.1
    # No column is (up to sign) a column of the DFT basis: these are no frequencies.
    overlap = (spectral_basis(kernel).T @ B).abs().max()
    assert float(overlap) < 1 - 1e-3
    assert random_basis(kernel, seed=3, dtype=torch.float32).dtype == torch.float32


def test_random_basis_is_haar_distributed():
    """Haar-uniform: every entry has mean 0 and variance 1/n, and the first column's
    first entry is as often positive as negative (unsigned QR breaks all three)."""
    n, draws = 9, 2000
    entries = torch.stack([random_basis(3, seed=s) for s in range(draws)])  # (draws, n, n)
    se_mean = 1 / math.sqrt(n * draws)  # std of a mean of `draws` entries of variance 1/n
    assert float(entries.mean(0).abs().max()) < 5 * se_mean
    variance = entries.square().mean(0) * n  # → 1 for every entry
    assert float((variance - 1).abs().max()) < 0.25
    assert abs(float((entries[:, 0, 0] > 0).double().mean()) - 0.5) < 0.05


@kernels
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_random_weight_round_trip_and_map(kernel, dtype):
    param = SpectralWeight(kernel, "random", seed=7)
    weight = randn(3, 2, *kernel, dtype=dtype, seed=1)
    theta = param.right_inverse(weight)
    torch.testing.assert_close(param(theta), weight, atol=TOL[dtype], rtol=0)
    expected = weight.double().flatten(-2) @ random_basis(kernel, seed=7)  # θ = Bᵀ f per row
    torch.testing.assert_close(theta.double().flatten(-2), expected, atol=TOL[dtype], rtol=0)
    assert "basis='random', seed=7" in repr(param)


@kernels
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_coordinates_match_dense_dft_reference(kernel, dtype):
    weight = randn(6, 4, *kernel, dtype=dtype)
    theta = SpectralWeight(kernel).right_inverse(weight)
    assert theta.shape == weight.shape and theta.dtype == dtype
    torch.testing.assert_close(
        theta.double(), reference_coordinates(weight), atol=TOL[dtype], rtol=0
    )


@kernels
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_round_trip_both_ways(kernel, dtype):
    param = SpectralWeight(kernel)
    weight = randn(3, 2, *kernel, dtype=dtype, seed=1)
    theta = randn(3, 2, *kernel, dtype=dtype, seed=2)
    torch.testing.assert_close(param(param.right_inverse(weight)), weight, atol=TOL[dtype], rtol=0)
    torch.testing.assert_close(param.right_inverse(param(theta)), theta, atol=TOL[dtype], rtol=0)


@kernels
def test_spectral_coefficients_are_the_encoded_spectra(kernel):
    _, spectral = conv_pair(kernel)
    theta = spectral.parametrizations.weight.original.detach()
    expected = centered(naive_dft2(spectral.weight.detach()))
    got = spectral_coefficients(spectral)
    assert got.shape == (6, 4, *kernel) and got.is_complex()
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)
    # Parseval through the orthogonal map: Σθ² = ‖X‖² = ‖f‖² per filter.
    torch.testing.assert_close(
        theta.pow(2).sum((-2, -1)), got.abs().pow(2).sum((-2, -1)), atol=1e-12, rtol=0
    )


@settings(max_examples=30, deadline=None)
@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_map_is_a_linear_isometry(h, w, seed):
    if (h, w) == (1, 1):
        return
    param = SpectralWeight((h, w))
    a, b = randn(2, h, w, seed=seed), randn(2, h, w, seed=seed + 1)
    torch.testing.assert_close(param(2.5 * a - b), 2.5 * param(a) - param(b), atol=1e-12, rtol=0)
    torch.testing.assert_close(param(a).pow(2).sum(), a.pow(2).sum(), atol=1e-12, rtol=0)
    torch.testing.assert_close((param(a) * param(b)).sum(), (a * b).sum(), atol=1e-12, rtol=0)


@pytest.mark.parametrize("basis", ["spectral", "random"])
@pytest.mark.parametrize("kernel", [(3, 3), (4, 4), (2, 3)])
def test_gradcheck(kernel, basis):
    param = SpectralWeight(kernel, basis, seed=0 if basis == "random" else None)
    theta = randn(2, 2, *kernel).requires_grad_()
    assert torch.autograd.gradcheck(param, (theta,))
    assert torch.autograd.gradgradcheck(param, (theta,))
    weight = randn(2, 2, *kernel).requires_grad_()
    assert torch.autograd.gradcheck(param.right_inverse, (weight,))


CHANNELS_LAST = torch.channels_last


@kernels
def test_channels_last_coordinates_give_channels_last_filters(kernel):
    param = SpectralWeight(kernel)
    theta = randn(6, 4, *kernel, seed=3)
    weight = randn(6, 4, *kernel, seed=4)
    filters = param(theta.contiguous(memory_format=CHANNELS_LAST))
    coordinates = param.right_inverse(weight.contiguous(memory_format=CHANNELS_LAST))
    for got, want in ((filters, param(theta)), (coordinates, param.right_inverse(weight))):
        assert got.is_contiguous(memory_format=CHANNELS_LAST)
        torch.testing.assert_close(got, want, atol=1e-15, rtol=0)


def test_channels_last_gradient_is_the_transposed_map():
    param = SpectralWeight((3, 4))
    theta = randn(5, 3, 3, 4).contiguous(memory_format=CHANNELS_LAST).requires_grad_()
    grad = randn(5, 3, 3, 4, seed=1).contiguous(memory_format=CHANNELS_LAST)
    param(theta).backward(grad)
    torch.testing.assert_close(theta.grad, param.right_inverse(grad), atol=1e-15, rtol=0)
    assert torch.autograd.gradcheck(param, (theta.detach().clone().requires_grad_(),))


def test_other_layouts_give_contiguous_filters():
    param = SpectralWeight(3)
    theta = randn(4, 6, 3, 3).transpose(0, 1)  # neither contiguous nor channels_last
    filters = param(theta)
    assert filters.is_contiguous()
    torch.testing.assert_close(filters, param(theta.contiguous()), atol=1e-15, rtol=0)


# --- registration ---------------------------------------------------------------------------


@kernels
@pytest.mark.parametrize("groups", [1, 2])
def test_registration_keeps_function_and_counts(kernel, groups):
    spatial, spectral = conv_pair(kernel, groups=groups)
    assert is_spectral(spectral) and not is_spectral(spatial)
    theta = spectral.parametrizations.weight.original
    assert theta.shape == spatial.weight.shape  # exactly h·w reals per filter
    assert theta.numel() == spatial.weight.numel() == 6 * (4 // groups) * kernel[0] * kernel[1]
    assert sum(p.numel() for p in spectral.parameters()) == sum(
        p.numel() for p in spatial.parameters()
    )
    x = randn(2, 4, 9, 8)
    torch.testing.assert_close(spectral(x), spatial(x), atol=1e-12, rtol=0)


def test_float32_registration_and_dtype_moves():
    spatial, spectral = conv_pair((5, 5), dtype=torch.float32)
    x = randn(2, 4, 8, 8, dtype=torch.float32)
    torch.testing.assert_close(spectral(x), spatial(x), atol=1e-5, rtol=0)
    spectral.double(), spatial.double()
    assert spectral.weight.dtype == torch.float64
    torch.testing.assert_close(spectral(x.double()), spatial(x.double()), atol=1e-5, rtol=0)


def test_channels_last_model_keeps_function_and_sgd_trajectory():
    spatial = small_net().to(memory_format=CHANNELS_LAST)
    spectral = spectral_parametrize(copy.deepcopy(spatial))
    theta = spectral[0].parametrizations.weight.original
    assert theta.is_contiguous(memory_format=CHANNELS_LAST)
    assert spectral[0].weight.is_contiguous(memory_format=CHANNELS_LAST)
    x = randn(3, 3, 10, 9).contiguous(memory_format=CHANNELS_LAST)
    torch.testing.assert_close(spectral(x), spatial(x), atol=1e-12, rtol=0)

    def sgd(net):
        return torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9)

    after_spatial = _train(spatial, sgd(spatial))
    after_spectral = _train(spectral, sgd(spectral))
    for a, b in zip(after_spatial, after_spectral, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_walking_a_model_skips_1x1_and_keeps_outputs():
    net = small_net(kernel=5)
    spatial = copy.deepcopy(net)
    assert spectral_parametrize(net) is net
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [is_spectral(c) for c in convs] == [True, True, False]
    x = randn(3, 3, 10, 9)
    torch.testing.assert_close(net(x), spatial(x), atol=1e-12, rtol=0)


def test_remove_parametrizations_restores_a_plain_conv():
    spatial, spectral = conv_pair((3, 4))
    with torch.no_grad():
        spectral.parametrizations.weight.original.mul_(0.5)
    expected = spectral.weight.detach().clone()
    parametrize.remove_parametrizations(spectral, "weight")
    assert not is_spectral(spectral) and isinstance(spectral.weight, nn.Parameter)
    torch.testing.assert_close(spectral.weight.detach(), expected)


def test_state_dict_round_trip():
    _, source = conv_pair((5, 4), seed=1)
    _, target = conv_pair((5, 4), seed=2)
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer)
    assert "parametrizations.weight.original" in state
    assert not any("basis" in key or "_cache" in key for key in state)
    target.load_state_dict(state)
    x = randn(2, 4, 7, 7)
    torch.testing.assert_close(target(x), source(x), atol=0, rtol=0)


def test_torch_compile_eager_backend():
    spatial, spectral = conv_pair((3, 3))
    compiled = torch.compile(spectral, backend="eager", fullgraph=True)
    x = randn(2, 4, 8, 8)
    torch.testing.assert_close(compiled(x), spatial(x), atol=1e-12, rtol=0)


# --- what the optimisers do with the new basis (Rippel et al., §4.1) -------------------------


def _train(net, optimizer, steps=25, seed=0):
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(8, 3, 8, 8, generator=generator, dtype=torch.float64)
        y = torch.randint(0, 3, (8,), generator=generator)
        loss = nn.functional.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [m.weight.detach().clone() for m in net.modules() if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize("basis", ["spectral", "random"])
def test_sgd_trajectory_is_basis_independent(basis):
    spatial = small_net()
    spectral = spectral_parametrize(copy.deepcopy(spatial), basis=basis)

    def sgd(net):
        return torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9, weight_decay=1e-2)

    before = _train(spatial, sgd(spatial), steps=0)
    after_spatial = _train(spatial, sgd(spatial))
    after_spectral = _train(spectral, sgd(spectral))
    assert (
        min(float((a - b).abs().max()) for a, b in zip(after_spatial, before, strict=True)) > 1e-2
    )
    for a, b in zip(after_spatial, after_spectral, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_adam_trajectory_depends_on_the_basis():
    nets = {"spatial": small_net()}
    for basis in ("spectral", "random"):
        nets[basis] = spectral_parametrize(copy.deepcopy(nets["spatial"]), basis=basis)
    after = {k: _train(net, torch.optim.Adam(net.parameters(), lr=1e-2)) for k, net in nets.items()}
    for a, b in [("spatial", "spectral"), ("spatial", "random"), ("spectral", "random")]:
        differences = [float((x - y).abs().max()) for x, y in zip(after[a], after[b], strict=True)]
        assert min(differences) > 1e-3, (a, b, differences)


def test_random_parametrize_gives_each_layer_its_own_seeded_rotation():
    net = spectral_parametrize(small_net(), basis="random", seed=5)
    first, second = (net[i].parametrizations.weight[0] for i in (0, 2))
    assert (first.basis_name, first.seed) == ("random", derive_seed(5, "0"))
    assert second.seed == derive_seed(5, "2") != first.seed
    again = spectral_parametrize(small_net(), basis="random", seed=5)
    assert again[0].parametrizations.weight[0].seed == first.seed
    other = spectral_parametrize(small_net(), basis="random", seed=6)
    assert other[0].parametrizations.weight[0].seed != first.seed
    x = randn(3, 3, 10, 9)
    torch.testing.assert_close(net(x), small_net()(x), atol=1e-12, rtol=0)  # same function
    conv = spectral_parametrize(nn.Conv2d(2, 3, 3), basis="random", seed=5)
    assert conv.parametrizations.weight[0].seed == derive_seed(5, "")


# --- bad input ------------------------------------------------------------------------------


def test_bad_inputs():
    with pytest.raises(TypeError, match="nn.Module"):
        spectral_parametrize("conv")
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        spectral_parametrize(nn.Linear(3, 4))
    with pytest.raises(ValueError, match="1×1"):
        spectral_parametrize(nn.Conv2d(3, 4, 1))
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        spectral_parametrize(nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU()))
    with pytest.raises(ValueError, match="1×1"):
        SpectralWeight(1)
    with pytest.raises(TypeError, match="kernel_size"):
        SpectralWeight("3")
    with pytest.raises(TypeError, match=r"kernel_size must be an int or a pair"):
        spectral_basis((3, 3.0))
    with pytest.raises(ValueError, match=">= 1"):
        SpectralWeight((0, 3))
    with pytest.raises(ValueError, match="shape"):
        SpectralWeight(3)(torch.zeros(2, 3, 5, 5))
    with pytest.raises(TypeError, match="real floating"):
        SpectralWeight(3)(torch.zeros(2, 3, 3, 3, dtype=torch.int64))
    with pytest.raises(TypeError, match="nn.Conv2d"):
        spectral_coefficients(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="nn.Module"):
        is_spectral(3)
    with pytest.raises(ValueError, match="basis must be one of 'spectral', 'random'"):
        spectral_parametrize(small_net(), basis="fourier")
    with pytest.raises(ValueError, match="seed must be >= 0"):
        spectral_parametrize(small_net(), basis="random", seed=-1)
    with pytest.raises(ValueError, match="needs seed="):
        SpectralWeight(3, "random")
    with pytest.raises(ValueError, match="only for basis='random'"):
        SpectralWeight(3, seed=1)
    with pytest.raises(TypeError, match="seed must be an int"):
        random_basis(3, seed=1.0)
    with pytest.raises(TypeError, match="real floating"):
        random_basis(3, seed=1, dtype=torch.int32)
    _, spectral = conv_pair()
    with pytest.raises(ValueError, match="already spectral"):
        spectral_parametrize(spectral)
    net = small_net()
    spectral_parametrize(net[0])
    with pytest.raises(ValueError, match="already spectral: 0"):
        spectral_parametrize(net)
    assert not is_spectral(net[2])  # nothing changed by the failed call


@pytest.mark.parametrize("dtype", FLOATING)
def test_check_floating_dtype_returns_a_real_floating_dtype(dtype):
    assert check_floating_dtype("dtype", dtype) is dtype


@pytest.mark.parametrize(
    ("dtype", "got"),
    [(torch.int32, "got torch.int32;"), (torch.complex64, "got torch.complex64;"),
     (torch.bool, "got torch.bool;"), ("float32", "got str 'float32';"), (None, "got NoneType")],
)
@pytest.mark.parametrize(
    "basis", [spectral_basis, lambda kernel, dtype: random_basis(kernel, seed=1, dtype=dtype)],
    ids=["spectral_basis", "random_basis"],
)
def test_bases_take_only_real_floating_dtypes(basis, dtype, got):
    with pytest.raises(TypeError, match="dtype must be a real floating dtype") as error:
        basis(3, dtype=dtype)
    message = str(error.value)
    assert got in message and "e.g. torch.float32" in message
    assert all(str(d) in message for d in FLOATING)


# --- the experiment, end to end -------------------------------------------------------------


@pytest.mark.skipif(
    not (Path(os.environ.get("SPECTRAL_DATA", "")) / "cifar10-jpeg.tar.gz").is_file(),
    reason="the smoke run trains on CIFAR-10: cifar10-jpeg.tar.gz not in $SPECTRAL_DATA",
)
def test_smoke_profile_runs_end_to_end(tmp_path):
    runs = ex.expand("spectral_parameterization", "smoke")
    statuses = ex.run_experiment(runs, results=tmp_path, cache=tmp_path / "cache", log=lambda _: 0)
    assert set(statuses.values()) == {"complete"} and len(statuses) == 3
    records = {r.params["param"]: json.loads(r.result_path(tmp_path).read_text()) for r in runs}
    for record in records.values():
        assert len(record["metrics"]) == record["params"]["epochs"]
        assert "conv1_top25_energy_spectral" in record["metrics"][-1]
        assert 0 < record["metrics"][0]["conv1_moved_spatial"] <= 1  # from the initial filters
        assert len(record["metrics"][-1]["conv1_filters"]) == 8  # final holds scalars only
    # same initial filters and batches, different basis for Adam: different filters
    filters = {k: torch.tensor(r["metrics"][-1]["conv1_filters"]) for k, r in records.items()}
    for a, b in [("spatial", "spectral"), ("spatial", "random"), ("spectral", "random")]:
        assert filters[a].shape == filters[b].shape
        assert not torch.allclose(filters[a], filters[b])
    assert "conv1_moved_random" in records["random"]["metrics"][-1]
