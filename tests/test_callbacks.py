"""Tests of spectral.callbacks against hand computations, NumPy and direct forward passes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from spectral._io import derive_seed
from spectral.callbacks import (
    FeatureMapStatistics,
    FilterSparsity,
    MaskStatistics,
    _percentiles,
    corruption_accuracy,
    spectral_flatness,
    top_energy,
)
from spectral.corruptions import corrupt
from spectral.data import TensorLoader
from spectral.masks import FrequencyMask, add_masks_, named_masks
from spectral.models import create, norm_variant
from spectral.norm import SpectralBatchNorm2d
from spectral.parametrize import spectral_parametrize
from spectral.train import TrainConfig, fit


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --- spectral_flatness ---------------------------------------------------------------


@pytest.mark.parametrize("size", [(4, 4), (5, 3), (1, 7)])
def test_flatness_of_an_impulse_is_one_and_of_a_constant_is_zero(size):
    impulse = torch.zeros(2, 3, *size)
    impulse[:, :, size[0] // 2, size[1] // 2] = 2.5  # |fft2| of any impulse is constant
    constant = torch.full((2, 3, *size), -1.5)  # all magnitude in the zero frequency
    assert torch.allclose(spectral_flatness(impulse), torch.ones(2, 3), atol=1e-6)
    assert torch.allclose(spectral_flatness(constant), torch.zeros(2, 3), atol=1e-6)


def test_flatness_of_a_two_pixel_map_by_hand():
    # x = [3, 1]: DFT [4, 2], p = [2/3, 1/3], entropy / log 2.
    x = torch.tensor([3.0, 1.0]).view(1, 1, 1, 2)
    p = np.array([2 / 3, 1 / 3])
    expected = -(p * np.log(p)).sum() / math.log(2)
    assert spectral_flatness(x).item() == pytest.approx(expected, rel=1e-6)


def test_flatness_matches_numpy_per_sample_and_channel():
    x = randn(3, 2, 6, 5, seed=1).double()
    mag = np.abs(np.fft.fft2(x.numpy()))
    p = mag / mag.sum(axis=(-2, -1), keepdims=True)
    expected = -(p * np.log(p)).sum(axis=(-2, -1)) / math.log(30)
    got = spectral_flatness(x)
    assert got.shape == (3, 2) and got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    assert (got > 0).all() and (got < 1).all()


def test_flatness_of_a_zero_map_is_nan_and_bfloat16_is_computed_in_float32():
    x = torch.zeros(1, 2, 4, 4)
    x[0, 1, 0, 0] = 1.0
    got = spectral_flatness(x)
    assert math.isnan(got[0, 0]) and got[0, 1].item() == pytest.approx(1.0)
    y = randn(2, 2, 4, 4, seed=2).bfloat16()
    assert spectral_flatness(y).dtype == torch.float32
    assert torch.allclose(spectral_flatness(y), spectral_flatness(y.float()))


@pytest.mark.parametrize(
    "x, error, match",
    [
        (torch.zeros(2, 4, 4), ValueError, r"\(N, C, H, W\)"),
        (torch.zeros(1, 1, 1, 1), ValueError, "at least 2 frequencies"),
        (torch.zeros(1, 1, 4, 4, dtype=torch.int64), TypeError, "floating"),
    ],
)
def test_flatness_rejects_bad_input(x, error, match):
    with pytest.raises(error, match=match):
        spectral_flatness(x)


# --- FeatureMapStatistics ------------------------------------------------------------


def tiny_net(second=SpectralBatchNorm2d) -> nn.Sequential:
    """conv → BN → ReLU → (BN → second) chain → conv → BN, with non-trivial BN buffers."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.Sequential(nn.BatchNorm2d(3), second(3)),
        nn.Conv2d(3, 2, 3, padding=1),
        nn.BatchNorm2d(2),
    )
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(randn(4, 2, 6, 6, seed=10) * 3 + 1)  # running statistics away from 0, 1
    return net


def expected_stats(name: str, y: torch.Tensor, percentiles) -> dict:
    flat = y.double().flatten(1).numpy()
    values = np.abs(flat).ravel()
    out = {f"norm/{name}": np.linalg.norm(flat, axis=1).mean()}
    out |= {f"abs_p{q:g}/{name}": np.percentile(values, q) for q in percentiles}
    out[f"absmax/{name}"] = values.max()
    return out


def test_feature_map_statistics_match_a_direct_forward_pass():
    net, probe = tiny_net(), randn(5, 2, 6, 6, seed=3)
    percentiles = (1, 50, 99, 99.9)
    stats = FeatureMapStatistics(probe, flatness=True)(1, net, {})
    net.eval()
    with torch.no_grad():  # by hand: the outputs of modules "1", "3" (the chain), "5"
        y1 = net[1](net[0](probe))
        y3 = net[3](net[2](y1))
        y5 = net[5](net[4](y3))
    expected = {}
    for name, y in (("1", y1), ("3", y3), ("5", y5)):
        expected |= expected_stats(name, y, percentiles)
        expected[f"flatness/{name}"] = float(spectral_flatness(y).mean())
    assert stats.keys() == expected.keys()
    for key, value in expected.items():
        assert stats[key] == pytest.approx(float(value), rel=1e-5), key
    assert all(type(v) is float for v in stats.values())
    json.dumps(stats, allow_nan=False)


def test_feature_map_statistics_restore_modes_and_leave_buffers_alone():
    net = tiny_net()
    net[1].eval()  # a frozen BN inside a training model keeps its own mode
    before = {k: v.clone() for k, v in net.state_dict().items()}
    modes = [m.training for m in net.modules()]
    FeatureMapStatistics(randn(3, 2, 6, 6))(1, net, {})
    assert [m.training for m in net.modules()] == modes
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not any(m._forward_hooks for m in net.modules())


def resnet(variant: str) -> nn.Module:
    return create("resnet18", num_classes=3, width=0.0625, norm_layer=norm_variant(variant))


@pytest.mark.parametrize("variant", ["BN", "2BN34", "SBN34"])
def test_feature_map_statistics_record_each_norm_chain_once(variant):
    reference = FeatureMapStatistics(torch.zeros(1, 3, 8, 8)).layers(resnet("BN"))
    bn_names = [name for name, _ in reference]
    assert len(bn_names) == 20  # stem, 16 block norms, 3 projection shortcuts
    layers = FeatureMapStatistics(torch.zeros(1, 3, 8, 8)).layers(resnet(variant))
    assert [name for name, _ in layers] == bn_names  # same keys for every variant
    chains = [name for name, m in layers if isinstance(m, nn.Sequential)]
    if variant == "BN":
        assert chains == []
    else:
        assert chains and all(name.startswith(("layer3", "layer4")) for name in chains)
        assert len(chains) == sum(name.startswith(("layer3", "layer4")) for name in bn_names)


def test_feature_map_statistics_where_filter_and_custom_types():
    net, probe = resnet("SBN34"), randn(2, 3, 8, 8)
    late = FeatureMapStatistics(probe, where=lambda n: n.startswith(("layer3", "layer4")))
    stats = late(1, net, {})
    names = {key.split("/", 1)[1] for key in stats}
    assert names and all(n.startswith(("layer3", "layer4")) for n in names)
    assert "norm/layer3.0.bn1" in stats and "norm/layer3.0.bn1.1" not in stats
    only_sbn = FeatureMapStatistics(probe, types=SpectralBatchNorm2d, percentiles=())
    keys = only_sbn(1, net, {}).keys()
    assert {k.split("/", 1)[0] for k in keys} == {"norm", "absmax"}
    assert "norm/layer3.0.bn1.1" in keys  # no chain of SBNs only: the SBN itself


def test_feature_map_statistics_on_bfloat16_outputs_use_float32():
    net, probe = tiny_net(), randn(4, 2, 6, 6, seed=4)
    net = net.to(torch.bfloat16)
    stats = FeatureMapStatistics(probe, percentiles=(50,))(1, net, {})
    net.eval()
    with torch.no_grad():
        y1 = net[1](net[0](probe.bfloat16()))
    assert y1.dtype == torch.bfloat16
    flat = y1.float().flatten(1)
    assert stats["norm/1"] == pytest.approx(float(flat.norm(dim=1).mean()), rel=1e-6)
    assert stats["absmax/1"] == float(flat.abs().max())


def test_percentiles_match_numpy_at_the_edges_and_between():
    values = randn(101, seed=5).abs()
    q = (0, 0.5, 1, 33.3, 50, 99.9, 100)
    got = _percentiles(values.double(), torch.tensor(q, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), np.percentile(values.double().numpy(), q), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"probe": torch.zeros(3, 8, 8)}, ValueError, r"\(B, C, H, W\)"),
        ({"probe": torch.zeros(1, 3, 8, 8, dtype=torch.uint8)}, TypeError, "floating"),
        ({"types": "BatchNorm2d"}, TypeError, "nn.Module subclass"),
        ({"types": (int,)}, TypeError, "nn.Module subclass"),
        ({"where": "layer3"}, TypeError, "callable"),
        ({"percentiles": (50, 101)}, ValueError, r"\[0, 100\]"),
        ({"percentiles": (50, 50.0)}, ValueError, "distinct"),
        ({"percentiles": ("p99",)}, TypeError, "numbers"),
    ],
)
def test_feature_map_statistics_reject_bad_arguments(kwargs, error, match):
    kwargs = {"probe": torch.zeros(1, 3, 8, 8)} | kwargs
    with pytest.raises(error, match=match):
        FeatureMapStatistics(**kwargs)


def test_feature_map_statistics_without_a_selected_layer_say_so():
    net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU())
    with pytest.raises(ValueError, match="no normalisation layer"):
        FeatureMapStatistics(torch.zeros(1, 3, 8, 8))(1, net, {})
    with pytest.raises(ValueError, match="that where accepts"):
        FeatureMapStatistics(randn(1, 3, 8, 8), where=lambda n: False)(1, resnet("BN"), {})
    flat_output = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(12).eval())
    with pytest.raises(ValueError, match="flatness needs"):
        FeatureMapStatistics(randn(2, 3, 2, 2), flatness=True)(1, flat_output, {})


# --- FilterSparsity ------------------------------------------------------------------


def conv_with(weight: torch.Tensor) -> nn.Sequential:
    out, inp, k, _ = weight.shape
    conv = nn.Conv2d(inp, out, k, bias=False)
    with torch.no_grad():
        conv.weight.copy_(weight)
    return nn.Sequential(conv, nn.ReLU(), nn.Conv2d(out, 1, 1))


def test_filter_sparsity_by_hand_on_a_2x2_filter():
    # f = [[3, 0], [0, 1]]: energies 9, 0, 0, 1, top quarter (1 of 4) = 9 / 10. The 2×2
    # orthonormal real DFT is the Hadamard basis / 2: θ = ±[2, 1, 1, 2], top = 4 / 10.
    net = conv_with(torch.tensor([[[[3.0, 0.0], [0.0, 1.0]]]]))
    out = FilterSparsity()(1, net, {})
    assert out == {
        "conv1_top25_energy_spatial": pytest.approx(0.9),
        "conv1_top25_energy_spectral": pytest.approx(0.4),
    }


def test_filter_sparsity_spectral_coordinates_are_the_parametrized_ones():
    torch.manual_seed(1)
    net = create("rippel_generic", num_classes=3, width=0.05, kernel_size=3, input_size=8)
    spatial = FilterSparsity(fraction=0.5)(1, net, {})
    spectral_parametrize(net)
    first = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    theta = first.parametrizations.weight.original.detach().flatten(-2)  # what Adam moves
    out = FilterSparsity(fraction=0.5)(1, net, {})
    expected = top_energy(theta, 0.5)  # θ is stored in float32: agreement to its rounding
    assert out["conv1_top50_energy_spectral"] == pytest.approx(expected, rel=1e-6)
    assert out == pytest.approx(spatial, rel=1e-6)  # same filters, re-expressed


def test_filter_sparsity_reports_the_random_rotation_it_is_trained_in():
    torch.manual_seed(1)
    net = create("rippel_generic", num_classes=3, width=0.05, kernel_size=3, input_size=8)
    spectral_parametrize(net, basis="random", seed=2)
    first = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    sparsity = FilterSparsity(fraction=0.5, moved_threshold=0.01)
    sparsity.remember(net)
    with torch.no_grad():
        first.parametrizations.weight.original[0, 0, 0, 0] += 1.0  # one rotated coordinate
    out = sparsity(1, net, {})
    theta = first.parametrizations.weight.original.detach().flatten(-2)  # what Adam moves
    assert out["conv1_top50_energy_random"] == pytest.approx(top_energy(theta, 0.5), rel=1e-6)
    n = theta.numel()
    assert out["conv1_moved_random"] == pytest.approx(1 / n)  # only that coordinate moved
    assert out["conv1_moved_spatial"] > 1 / n  # a rotated coordinate moves many pixels
    spectral = create("rippel_generic", num_classes=3, width=0.05, kernel_size=3, input_size=8)
    spectral_parametrize(spectral)
    assert set(FilterSparsity(fraction=0.5)(1, spectral, {})) == {
        "conv1_top50_energy_spatial", "conv1_top50_energy_spectral"}


def test_top_energy_by_hand():
    rows = torch.tensor([[3.0, 4.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    # top 2 of 4: 25/25, 2/4, 0 (an all-zero row counts as 0)
    assert top_energy(rows, 0.5) == pytest.approx((1.0 + 0.5 + 0.0) / 3)
    assert top_energy(rows, 0.01) == pytest.approx((16 / 25 + 1 / 4 + 0.0) / 3)


def test_filter_sparsity_snapshot_at_its_epoch_only():
    weight = randn(4, 2, 3, 3, seed=6)
    net, sparsity = conv_with(weight), FilterSparsity(snapshot=2, snapshot_epoch=3)
    assert "conv1_filters" not in sparsity(2, net, {})
    snap = sparsity(3, net, {})["conv1_filters"]
    assert np.allclose(np.array(snap), weight[:2].numpy(), atol=1e-7)
    json.dumps(snap)


def test_filter_sparsity_moved_fraction_by_hand():
    # θ₀ = ±[2, 1, 1, 2]; adding 0.5 at pixel (0, 0) moves every θ by ±0.25: relative
    # changes 0.125, 0.25, 0.25, 0.125. The pixel moves by 0.5 / 3 = 0.167, the others 0.
    w0 = torch.tensor([[[[3.0, 0.0], [0.0, 1.0]]]])
    net = conv_with(w0)
    strict, loose = FilterSparsity(moved_threshold=0.2), FilterSparsity(moved_threshold=0.1)
    for sparsity in (strict, loose):
        sparsity.remember(net)
    with torch.no_grad():
        net[0].weight[0, 0, 0, 0] += 0.5
    out_strict, out_loose = strict(1, net, {}), loose(1, net, {})
    assert out_strict["conv1_moved_spatial"] == 0.0
    assert out_strict["conv1_moved_spectral"] == pytest.approx(0.5)
    assert out_loose["conv1_moved_spatial"] == pytest.approx(0.25)
    assert out_loose["conv1_moved_spectral"] == pytest.approx(1.0)
    assert strict(2, net, {})["conv1_moved_spatial"] == 0.0  # unchanged since epoch 1
    assert "conv1_moved_spatial" not in strict(5, net, {})  # not consecutive: skipped
    fresh = FilterSparsity(moved_threshold=0.1)
    assert "conv1_moved_spatial" not in fresh(1, net, {})  # no earlier copy yet


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fraction": 0.0}, r"\(0, 1\]"),
        ({"fraction": 1.5}, r"\(0, 1\]"),
        ({"snapshot": -1}, "snapshot"),
        ({"snapshot": 4}, "snapshot_epoch"),
        ({"moved_threshold": 0}, "moved_threshold"),
        ({"key": ""}, "key"),
    ],
)
def test_filter_sparsity_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FilterSparsity(**kwargs)


def test_filter_sparsity_needs_a_conv():
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        FilterSparsity()(1, nn.Linear(2, 2), {})


# --- MaskStatistics ------------------------------------------------------------------


def test_mask_statistics_fractions_and_mean():
    net = nn.Sequential(FrequencyMask(4, 4), nn.ReLU(), FrequencyMask(2, 6))
    with torch.no_grad():
        net[0].latent.fill_(1.0)
        net[0].latent[0, :3] = 0.0  # 3 of 4·3 = 12 entries dropped
        net[2].latent.fill_(0.0)
        net[2].latent[1, :] = 1.0  # 4 of 2·4 = 8 kept, 4 dropped
    out = MaskStatistics()(1, net, {})
    assert out == {
        "mask_fraction": {"0": pytest.approx(0.25), "2": pytest.approx(0.5)},
        "mask_fraction_mean": pytest.approx(0.375),
    }
    json.dumps(out)


def test_mask_statistics_without_masks_and_bad_key():
    with pytest.raises(ValueError, match="no FrequencyMask"):
        MaskStatistics()(1, nn.Conv2d(1, 1, 3), {})
    with pytest.raises(ValueError, match="key"):
        MaskStatistics(key="")


# --- corruption_accuracy -------------------------------------------------------------


class ConstantLogits(nn.Module):
    def forward(self, x):
        logits = torch.zeros(len(x), 3)
        logits[:, 1] = 1.0
        return logits


def tiny_loader(n=24, seed=7) -> TensorLoader:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 8, 8), generator=g, dtype=torch.uint8)
    labels = torch.randint(0, 3, (n,), generator=g)
    return TensorLoader(
        images,
        labels,
        batch_size=5,
        mean=torch.tensor([0.5, 0.4, 0.3]),
        std=torch.tensor([0.2, 0.25, 0.3]),
    )


def test_corruption_accuracy_of_constant_logits_is_the_class_share():
    loader = tiny_loader()
    share = float((loader.labels == 1).double().mean())
    out = corruption_accuracy(
        ConstantLogits(), loader, ["contrast", "impulse_noise"], [1, 5], seed=0, device="cpu"
    )
    assert out == {
        "contrast": {"1": pytest.approx(share), "5": pytest.approx(share)},
        "impulse_noise": {"1": pytest.approx(share), "5": pytest.approx(share)},
    }


def test_corruption_accuracy_uses_the_derived_seed_streams():
    loader, net = tiny_loader(), nn.Sequential(nn.Flatten(), nn.Linear(192, 3))
    torch.manual_seed(2)
    nn.init.normal_(net[1].weight, std=1.0)
    net.train()
    kinds, severities = ["gaussian_noise", "fog", "impulse_noise"], [2, 4]
    out = corruption_accuracy(net, loader, kinds, severities, seed=11, device="cpu")
    assert net.training  # mode restored
    mean, std = loader.mean.view(1, 3, 1, 1), loader.std.view(1, 3, 1, 1)
    for kind in kinds:
        for severity in severities:  # by hand: corrupt, normalise, argmax
            g = torch.Generator().manual_seed(derive_seed(11, kind, severity))
            images = corrupt(loader.images, kind, severity, generator=g)
            with torch.no_grad():
                logits = net((images.float() / 255 - mean) / std)
            expected = float((logits.argmax(1) == loader.labels).double().mean())
            assert out[kind][str(severity)] == pytest.approx(expected), (kind, severity)
    again = corruption_accuracy(net, loader, kinds, severities, seed=11, device="cpu")
    assert again == out


@pytest.mark.parametrize(
    "kinds, severities, match",
    [
        (["blur"], [1], "kinds"),
        (["fog", "fog"], [1], "kinds"),
        ([], [1], "kinds"),
        (["fog"], [0], "severities"),
        (["fog"], [2, 2], "severities"),
        (["fog"], [True], "severities"),
    ],
)
def test_corruption_accuracy_rejects_bad_arguments(kinds, severities, match):
    with pytest.raises(ValueError, match=match):
        corruption_accuracy(
            ConstantLogits(), tiny_loader(), kinds, severities, seed=0, device="cpu"
        )


def test_corruption_accuracy_needs_a_tensor_loader():
    plain = [(torch.zeros(2, 3, 8, 8), torch.zeros(2, dtype=torch.long))]
    with pytest.raises(TypeError, match="TensorLoader"):
        corruption_accuracy(ConstantLogits(), plain, ["fog"], [1], seed=0, device="cpu")


# --- in the training loop ------------------------------------------------------------


def test_callbacks_in_fit_give_json_metrics_every_epoch():
    torch.manual_seed(3)
    net = add_masks_(create("resnet20", num_classes=3, width=0.125), (32, 32))
    g = torch.Generator().manual_seed(8)
    images = torch.randint(0, 256, (12, 3, 32, 32), generator=g, dtype=torch.uint8)
    labels = torch.randint(0, 3, (12,), generator=g)
    stats = (torch.tensor([0.5] * 3), torch.tensor([0.25] * 3))
    train = TensorLoader(images, labels, batch_size=6, mean=stats[0], std=stats[1])
    test = TensorLoader(images[:6], labels[:6], batch_size=6, mean=stats[0], std=stats[1])
    sparsity = FilterSparsity(snapshot=1, snapshot_epoch=2, moved_threshold=0.01)
    sparsity.remember(net)
    callbacks = [
        FeatureMapStatistics(next(iter(test))[0], where=lambda n: n.startswith("layer3")),
        sparsity,
        MaskStatistics(),
    ]
    history = fit(
        net,
        train,
        test,
        TrainConfig(epochs=2, optimizer="adam", lr=1e-2),
        callbacks=callbacks,
        progress=False,
    )
    first, last = history["epochs"]
    for metrics in (first, last):
        assert "norm/layer3.0.bn1" in metrics and "absmax/layer3.2.bn2" in metrics
        assert 0 < metrics["conv1_moved_spectral"] <= 1  # Adam moved some coordinates
        assert set(metrics["mask_fraction"]) == {name for name, _ in named_masks(net)}
    assert "conv1_filters" in last and "conv1_filters" not in first
    json.dumps(history["epochs"])
