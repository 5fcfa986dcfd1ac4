"""Tests of spectral.models: shapes, parameter counts, the norm_layer hook, widths, errors.

Parameter counts are checked against closed forms written from the papers' layer tables
(not from the implementation) and against the published totals.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from spectral.models import (
    MODELS,
    StagewiseNorm,
    batch_norm,
    create,
    lenet_cifar,
    lenet_mnist,
    resnet18,
    resnet20,
    resnet50,
    rippel_deep,
    rippel_generic,
    rippel_spectral_pool_net,
    stagewise,
    vgg16_bn,
    vgg19_bn,
)
from spectral.models.resnet import ZeroPadShortcut
from spectral.models.rippel import pooled_sizes
from spectral.pooling import SpectralPool2d

NAMES = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet20",
    "vgg16_bn",
    "vgg19_bn",
    "lenet_mnist",
    "lenet_cifar",
    "rippel_generic",
    "rippel_deep",
    "rippel_spectral_pool_net",
]
#: Image size each model is built for (MNIST 28, CIFAR 32).
SIZE = {name: 28 if name == "lenet_mnist" else 32 for name in NAMES}
#: Small widths that keep forward passes fast; None = width 1.
SMALL = {name: 0.125 for name in NAMES} | {"lenet_mnist": 0.5, "lenet_cifar": 0.5}
#: Every model, plus net (5) with its max-pool controls: id -> (name, extra kwargs).
CASES = {name: (name, {}) for name in NAMES} | {
    f"rippel_spectral_pool_net[{pool}]": ("rippel_spectral_pool_net", {"pool": pool})
    for pool in ("max", "max_matched")
}
cases = pytest.mark.parametrize("case", list(CASES))


pytestmark = pytest.mark.usefixtures("one_thread")


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build(case: str, **kwargs) -> nn.Module:
    """Model ``case`` (a key of CASES) at width SMALL unless ``kwargs`` say otherwise."""
    name, extra = CASES[case]
    return create(name, **({"width": SMALL[name]} | extra | kwargs))


def example(case: str, n: int = 2) -> torch.Tensor:
    """A batch of the images model ``case`` is built for."""
    name = CASES[case][0]
    return images(n, 1 if name == "lenet_mnist" else 3, SIZE[name])


def images(n: int, c: int, size: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, c, size, size, generator=torch.Generator().manual_seed(seed))


# --- closed-form parameter counts (from the papers' layer tables) ------------------------


def conv(cin: int, cout: int, k: int, bias: bool) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def fc(cin: int, cout: int) -> int:
    return cin * cout + cout


def bn(c: int) -> int:
    return 2 * c


def resnet_count(blocks, bottleneck, width=1.0, classes=10, cin=3, norm=True, base=64):
    """He et al. (2016) with a 3×3 stem and projection shortcuts (or option A if base=16)."""
    s = lambda c: max(1, round(c * width))  # noqa: E731
    b = bn if norm else (lambda c: 0)
    channels = s(base)
    total = conv(cin, channels, 3, False) + b(channels)
    for i, n in enumerate(blocks):
        planes = s(base * 2**i)
        out = 4 * planes if bottleneck else planes
        for j in range(n):
            if bottleneck:
                total += conv(channels, planes, 1, False) + b(planes)
                total += conv(planes, planes, 3, False) + b(planes)
                total += conv(planes, out, 1, False) + b(out)
            else:
                total += conv(channels, planes, 3, False) + b(planes)
                total += conv(planes, planes, 3, False) + b(planes)
            shape_changes = (j == 0 and i > 0) or channels != out
            if shape_changes and base == 64:  # option B; option A (ResNet-20) is free
                total += conv(channels, out, 1, False) + b(out)
            channels = out
    return total + fc(channels, classes)


def vgg_count(config, width=1.0, classes=10, norm=True):
    """Simonyan & Zisserman configs D/E, biased convs, CIFAR classifier 512-512-classes."""
    s = lambda c: max(1, round(c * width))  # noqa: E731
    total, channels = 0, 3
    for c in config:
        total += conv(channels, s(c), 3, True) + (bn(s(c)) if norm else 0)
        channels = s(c)
    hidden = s(512)
    return total + fc(channels, hidden) + fc(hidden, hidden) + fc(hidden, classes)


VGG16 = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
VGG19 = [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512]


def rippel5_count(m_layers, width=1.0, k=3, classes=10):
    """Net (5): C^{min(96+32m, 288)}_{k×k} for m = 1..M, C_{1×1} of the last width, C^classes."""
    s = lambda c: max(1, round(c * width))  # noqa: E731
    total, channels = 0, 3
    for m in range(1, m_layers + 1):
        total += conv(channels, s(min(96 + 32 * m, 288)), k, True)
        channels = s(min(96 + 32 * m, 288))
    head = s(min(96 + 32 * m_layers, 288))
    return total + conv(channels, head, 1, True) + conv(head, classes, 1, True)


EXPECTED_COUNTS = {
    "resnet18": resnet_count((2, 2, 2, 2), False),
    "resnet34": resnet_count((3, 4, 6, 3), False),
    "resnet50": resnet_count((3, 4, 6, 3), True),
    "resnet20": resnet_count((3, 3, 3), False, base=16),
    "vgg16_bn": vgg_count(VGG16),
    "vgg19_bn": vgg_count(VGG19),
    # MatConvNet cnn_mnist_init.m / cnn_cifar_init.m
    "lenet_mnist": sum(
        [conv(1, 20, 5, True), conv(20, 50, 5, True), conv(50, 500, 4, True), fc(500, 10)]
    ),
    "lenet_cifar": sum(
        [conv(3, 32, 5, True), conv(32, 32, 5, True), conv(32, 64, 5, True)]
        + [conv(64, 64, 4, True), fc(64, 10)]
    ),
    # Rippel et al. (6): 32 -> 16 -> 8 after the two max-pools
    "rippel_generic": sum(
        [conv(3, 96, 3, True), conv(96, 192, 3, True)]
        + [fc(192 * 8 * 8, 1024), fc(1024, 512), fc(512, 10)]
    ),
    # Rippel et al. (7)
    "rippel_deep": sum(
        [conv(3, 96, 3, True), conv(96, 96, 3, True), conv(96, 192, 3, True)]
        + [conv(192, 192, 3, True)] * 2
        + [conv(192, 192, 1, True), conv(192, 10, 1, True)]
    ),
    "rippel_spectral_pool_net": rippel5_count(6),
}

#: Published totals (millions, as printed): He et al. (2016) Table 6 for ResNet-20; the
#: CIFAR ResNets' usual totals; Li et al. (2017) Table 1 for the CIFAR VGG-16 (1.5e7).
PUBLISHED_MILLIONS = {
    "resnet20": (0.27, 2),
    "resnet18": (11.17, 2),
    "resnet34": (21.3, 1),
    "resnet50": (23.5, 1),
    "vgg16_bn": (15.0, 0),
}


# --- registry ----------------------------------------------------------------------------


def test_registry_has_every_factory():
    assert list(MODELS) == NAMES


def test_create_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match="unknown model 'resnet19'.*resnet18.*rippel_deep"):
        create("resnet19")


def test_create_passes_keyword_arguments():
    model = create("resnet20", num_classes=100, width=0.5)
    assert model.fc.out_features == 100 and model.conv1.out_channels == 8
    with pytest.raises(TypeError, match="unexpected keyword argument 'depth'"):
        create("resnet20", depth=32)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_factory_rejects_a_misspelt_option_by_name(name):
    """One check for the shared options: the message names the factory and the options."""
    message = (rf"{name}\(\) got an unexpected keyword argument 'widht'; every factory "
               r"takes num_classes, in_channels, width, norm_layer, besides its own")
    with pytest.raises(TypeError, match=message):
        create(name, widht=0.5)


def test_a_factory_keeps_its_own_keywords_beside_the_shared_options():
    net = create("rippel_generic", kernel_size=5, width=0.125, num_classes=7)
    assert net.features[0].kernel_size == (5, 5) and net.classifier[-1].out_features == 7
    with pytest.raises(TypeError, match="unexpected keyword argument 'kernel_sise'"):
        create("rippel_deep", kernel_sise=5)


@pytest.mark.parametrize("name", ["resnet20", "lenet_cifar"])
def test_models_take_no_masks_argument(name):
    """Masks are attached after construction (spectral.masks.add_masks_), not built in."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'masks'"):
        create(name, masks=True)


def test_models_do_not_import_the_mask_layers():
    script = "import sys, spectral.models; print('spectral.masks' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, check=True)
    assert done.stdout.strip() == "False"


# --- parameter counts at width 1 (construction only, no forward) ---------------------------


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_matches_the_papers_layer_table(name):
    assert n_params(create(name)) == EXPECTED_COUNTS[name]


@pytest.mark.parametrize("name", sorted(PUBLISHED_MILLIONS))
def test_parameter_count_matches_the_published_total(name):
    millions, digits = PUBLISHED_MILLIONS[name]
    assert round(EXPECTED_COUNTS[name] / 1e6, digits) == millions


def test_parameter_counts_with_five_by_five_filters():
    assert n_params(rippel_deep(kernel_size=5)) == sum(
        [conv(3, 96, 5, True), conv(96, 96, 5, True), conv(96, 192, 5, True)]
        + [conv(192, 192, 5, True)] * 2
        + [conv(192, 192, 1, True), conv(192, 10, 1, True)]
    )
    assert n_params(rippel_generic(kernel_size=5)) == sum(
        [conv(3, 96, 5, True), conv(96, 192, 5, True)]
        + [fc(192 * 8 * 8, 1024), fc(1024, 512), fc(512, 10)]
    )
    assert n_params(rippel_spectral_pool_net(pool="max", kernel_size=5)) == rippel5_count(6, k=5)


@pytest.mark.parametrize("width", [0.3, 0.7])
def test_parameter_counts_at_other_widths(width):
    assert n_params(resnet18(width=width)) == resnet_count((2, 2, 2, 2), False, width)
    assert n_params(resnet50(width=width)) == resnet_count((3, 4, 6, 3), True, width)
    assert n_params(vgg19_bn(width=width)) == vgg_count(VGG19, width)


@settings(max_examples=25, deadline=None)
@given(width=st.floats(0.01, 2.0), classes=st.integers(1, 200))
def test_resnet20_count_follows_the_width_rule(width, classes):
    model = resnet20(width=width, num_classes=classes)
    assert n_params(model) == resnet_count((3, 3, 3), False, width, classes, base=16)


@settings(max_examples=25, deadline=None)
@given(width=st.floats(0.01, 2.0), m_layers=st.integers(1, 12), k=st.sampled_from([1, 3, 5]))
def test_spectral_pool_net_filters_are_capped_then_scaled(width, m_layers, k):
    model = rippel_spectral_pool_net(pool="max", width=width, num_layers=m_layers, kernel_size=k)
    assert n_params(model) == rippel5_count(m_layers, width, k)


# --- output shapes -------------------------------------------------------------------------


@cases
@pytest.mark.parametrize("classes", [10, 100])
def test_output_shape(case, classes):
    assert build(case, num_classes=classes)(example(case)).shape == (2, classes)


@cases
def test_in_channels(case):
    cin = 3 if case == "lenet_mnist" else 1
    model = build(case, in_channels=cin)
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == cin
    x = example(case)
    assert model(images(2, cin, x.shape[-1])).shape == (2, 10)


@cases
def test_every_parameter_gets_a_finite_gradient(case):
    model = build(case)
    model(example(case)).square().sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
    assert any(p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("size", [32, 33, 40, 17])
def test_resnets_and_rippel_deep_take_any_image_size(size):
    for model in (resnet20(width=0.25), rippel_deep(width=0.125)):
        assert model(images(2, 3, size)).shape == (2, 10)


def test_generic_net_is_built_for_its_input_size():
    model = rippel_generic(width=0.125, input_size=(28, 20), in_channels=1)
    assert model(torch.randn(2, 1, 28, 20)).shape == (2, 10)
    # 28 x 20 -> 14 x 10 -> 7 x 5 maps of 24 channels
    assert model.classifier[1].in_features == 24 * 7 * 5


@pytest.mark.parametrize(
    "model, bad",
    [
        (lambda: lenet_mnist(width=0.5), (2, 1, 32, 32)),
        (lambda: lenet_cifar(width=0.5), (2, 3, 28, 28)),
        (lambda: vgg16_bn(width=0.125), (2, 3, 64, 64)),
        (lambda: rippel_generic(width=0.125), (2, 3, 28, 28)),
        (lambda: lenet_cifar(width=0.5), (3, 32, 32)),
    ],
    ids=["lenet_mnist", "lenet_cifar", "vgg16_bn", "rippel_generic", "unbatched"],
)
def test_wrong_image_size_raises(model, bad):
    with pytest.raises(ValueError, match=r"was built for \(N, \d, \d+, \d+\) inputs"):
        model()(torch.randn(*bad))


def test_lenet_maps_reach_one_by_one():
    """MatConvNet's sizes: MNIST 28 -> 24 -> 12 -> 8 -> 4 -> 1, CIFAR 32 -> 16 -> 8 -> 4 -> 1."""
    mnist, cifar = lenet_mnist(), lenet_cifar()
    assert mnist.features(torch.randn(2, 1, 28, 28)).shape == (2, 500, 1, 1)
    assert cifar.features(torch.randn(2, 3, 32, 32)).shape == (2, 64, 1, 1)
    pools = [m for m in cifar.features if isinstance(m, nn.MaxPool2d | nn.AvgPool2d)]
    x, sizes = torch.ones(1, 1, 32, 32), []
    for pool in pools:
        x = pool(x)
        sizes.append(x.shape[-1])
    assert sizes == [16, 8, 4]
    # ceil-mode windows that hang over the edge average only the pixels inside (as Caffe)
    assert torch.equal(x, torch.ones_like(x))


# --- the norm_layer hook -------------------------------------------------------------------


class Recorder(nn.Module):
    """Identity that logs (stage, num_features, channels seen) when it runs."""

    def __init__(self, log: list, num_features: int, stage: int) -> None:
        super().__init__()
        self.log, self.num_features, self.stage = log, num_features, stage

    def forward(self, x):
        self.log.append((self.stage, self.num_features, x.shape[1]))
        return x


class Marker(nn.Identity):
    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features


#: Stage of each normalisation in forward order: the papers' block tables.
STAGES = {
    "resnet18": [0] + [1] * 4 + [2] * 5 + [3] * 5 + [4] * 5,
    "resnet34": [0] + [1] * 6 + [2] * 9 + [3] * 13 + [4] * 7,
    "resnet50": [0] + [1] * 10 + [2] * 13 + [3] * 19 + [4] * 10,
    "resnet20": [0] + [1] * 6 + [2] * 6 + [3] * 6,
    "vgg16_bn": [1] * 2 + [2] * 2 + [3] * 3 + [4] * 3 + [5] * 3,
    "vgg19_bn": [1] * 2 + [2] * 2 + [3] * 4 + [4] * 4 + [5] * 4,
    "lenet_mnist": [1, 2, 3],
    "lenet_cifar": [1, 2, 3, 4],
    "rippel_generic": [1, 2],
    "rippel_deep": [1, 1, 2, 2, 2, 3],
    "rippel_spectral_pool_net": [1, 2, 3, 4, 5, 6, 7],
}


@cases
def test_norm_layer_runs_after_every_convolution_with_its_stage(case):
    log = []
    model = build(case, norm_layer=lambda c, s: Recorder(log, c, s))
    model(example(case))
    assert [stage for stage, _, _ in log] == STAGES[CASES[case][0]]
    assert all(num_features == seen for _, num_features, seen in log)


@cases
def test_stagewise_accepts_exactly_the_models_stages(case):
    stages = sorted(set(STAGES[CASES[case][0]]))
    build(case, norm_layer=stagewise(Marker, stages))
    for bad in (min(stages) - 1, max(stages) + 1):
        if bad >= 0:
            message = re.escape(f"has stages {stages}; stagewise() names stages [{bad}]")
            with pytest.raises(ValueError, match=message):
                build(case, norm_layer=stagewise(Marker, {bad}))


def test_sbn34_layout_in_resnet18():
    model = resnet18(width=0.125, norm_layer=stagewise(Marker, {3, 4}))
    for name, module in model.named_modules():
        is_norm_slot = name.endswith(("bn1", "bn2", "downsample.1"))
        if not is_norm_slot:
            continue
        if name.startswith(("layer3", "layer4")):
            assert isinstance(module, nn.Sequential), name
            assert [type(m) for m in module] == [nn.BatchNorm2d, Marker], name
            assert module[0].num_features == module[1].num_features, name
        else:
            assert type(module) is nn.BatchNorm2d, name


def test_2bn34_adds_one_batch_norm_per_norm_of_stages_3_and_4():
    plain = n_params(resnet18())
    doubled = n_params(resnet18(norm_layer=stagewise(nn.BatchNorm2d, {3, 4})))
    # stage 3: 2 blocks x 2 norms + 1 shortcut norm of 256; stage 4 the same with 512
    assert doubled - plain == bn(256) * 5 + bn(512) * 5


def test_sbn4_layout_in_vgg16():
    model = vgg16_bn(width=0.125, norm_layer=stagewise(Marker, {4}))
    after_conv = [
        type(model.features[i + 1])
        for i, m in enumerate(model.features)
        if isinstance(m, nn.Conv2d)
    ]
    assert after_conv == [nn.BatchNorm2d] * 7 + [nn.Sequential] * 3 + [nn.BatchNorm2d] * 3


def test_default_norm_is_plain_batch_norm():
    assert isinstance(batch_norm(7, 3), nn.BatchNorm2d) and batch_norm(7, 3).num_features == 7
    model = resnet18(width=0.125)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == len(STAGES["resnet18"])


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnet20"])
def test_resnet_without_normalisation(name):
    model = create(name, norm_layer=None)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    blocks = {"resnet18": (2, 2, 2, 2), "resnet50": (3, 4, 6, 3), "resnet20": (3, 3, 3)}[name]
    base = 16 if name == "resnet20" else 64
    assert n_params(model) == resnet_count(blocks, name == "resnet50", norm=False, base=base)
    assert build(name, norm_layer=None)(images(2, 3, 32)).shape == (2, 10)


def test_vgg_without_normalisation():
    assert n_params(vgg16_bn(norm_layer=None)) == vgg_count(VGG16, norm=False)


def test_norm_layer_for_the_nets_without_normalisation():
    model = lenet_mnist(norm_layer=batch_norm)
    assert [type(m) for m in model.features] == [
        nn.Conv2d,
        nn.BatchNorm2d,
        nn.MaxPool2d,
        nn.Conv2d,
        nn.BatchNorm2d,
        nn.MaxPool2d,
        nn.Conv2d,
        nn.BatchNorm2d,
        nn.ReLU,
    ]


def test_stagewise_norm_is_a_readable_value():
    norm = stagewise(Marker, [3, 4, 4])
    assert norm == StagewiseNorm(Marker, frozenset({3, 4}))
    assert type(norm(5, 2)) is nn.BatchNorm2d
    assert [type(m) for m in norm(5, 3)] == [nn.BatchNorm2d, Marker]


@pytest.mark.parametrize(
    "extra, stages, error, match",
    [
        (Marker, [], ValueError, "stages is empty"),
        (Marker, [-1], ValueError, "non-negative ints"),
        (Marker, [2.0], ValueError, "non-negative ints"),
        (Marker, [True], ValueError, "non-negative ints"),
        ("sbn", [3], TypeError, "extra must be callable"),
    ],
)
def test_stagewise_bad_arguments(extra, stages, error, match):
    with pytest.raises(error, match=match):
        stagewise(extra, stages)


def test_norm_layer_must_build_modules():
    with pytest.raises(TypeError, match="norm_layer must be None or callable"):
        resnet18(norm_layer="bn")
    with pytest.raises(TypeError, match=r"norm_layer\(64, 0\) must return an nn.Module"):
        resnet18(norm_layer=lambda c, s: None)
    with pytest.raises(TypeError, match=r"norm_layer\(32, 1\) must return an nn.Module"):
        lenet_cifar(norm_layer=lambda c, s: c)


# --- width -----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [0.3, 0.45, 1e-3])
def test_width_multiplies_every_hidden_layer(width):
    s = lambda c: max(1, round(c * width))  # noqa: E731
    net = resnet18(width=width)
    assert net.conv1.out_channels == s(64) and net.fc.in_features == s(512)
    assert net.layer3[0].conv1.out_channels == s(256)
    vgg = vgg19_bn(width=width)
    assert vgg.features[0].out_channels == s(64) and vgg.classifier[2].out_features == s(512)
    generic = rippel_generic(width=width)
    assert generic.classifier[1].out_features == s(1024)
    assert resnet50(width=width).fc.in_features == 4 * s(512)


def test_tiny_width_keeps_one_channel_everywhere():
    model = resnet20(width=1e-3)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert {c.out_channels for c in convs} == {1}
    assert model(images(2, 3, 32)).shape == (2, 10)


# --- bad arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_classes": 0}, ValueError, "num_classes must be a positive int, got 0"),
        ({"num_classes": 2.5}, TypeError, "num_classes must be a positive int"),
        ({"in_channels": 0}, ValueError, "in_channels must be a positive int"),
        ({"in_channels": True}, TypeError, "in_channels must be a positive int"),
        ({"width": 0}, ValueError, "width must be a finite number > 0"),
        ({"width": -0.5}, ValueError, "width must be a finite number > 0"),
        ({"width": math.nan}, ValueError, "width must be a finite number > 0"),
        ({"width": math.inf}, ValueError, "width must be a finite number > 0"),
        ({"width": "half"}, TypeError, "width must be a number"),
    ],
)
def test_common_bad_arguments(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        create(name, **kwargs)


@pytest.mark.parametrize(
    "factory, kwargs, error, match",
    [
        (rippel_generic, {"kernel_size": 4}, ValueError, "kernel_size must be odd"),
        (rippel_deep, {"kernel_size": 0}, ValueError, "kernel_size must be a positive int"),
        (rippel_generic, {"input_size": (0, 32)}, ValueError, r"input_size\[0\] must be"),
        (rippel_spectral_pool_net, {"pool": "avg"}, ValueError, "pool must be 'spectral'"),
        (rippel_spectral_pool_net, {"pool": "max", "num_layers": 0}, ValueError, "num_layers"),
        (vgg16_bn, {"dropout": 1.0}, ValueError, r"dropout must be a probability in \[0, 1\)"),
    ],
)
def test_model_specific_bad_arguments(factory, kwargs, error, match):
    with pytest.raises(error, match=match):
        factory(**kwargs)


def test_zero_pad_shortcut_cannot_drop_channels():
    with pytest.raises(ValueError, match="cannot pad 8 channels down to 4"):
        ZeroPadShortcut(8, 4, 2)


# --- initialisation (as the papers state; see the modules' docstrings) ---------------------


def sample_std(t: torch.Tensor) -> float:
    return t.detach().double().std().item()


def test_vgg_convolutions_follow_the_sbn_papers_init():
    torch.manual_seed(0)
    model = vgg16_bn()
    for m in model.features:
        if isinstance(m, nn.Conv2d) and m.weight.numel() > 100_000:
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            assert sample_std(m.weight) == pytest.approx(math.sqrt(2 / n), rel=0.02)
            assert not m.bias.any()
    fc1 = model.classifier[2]  # PyTorch default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert sample_std(fc1.weight) == pytest.approx(1 / math.sqrt(3 * 512), rel=0.02)


def test_lenet_init_is_matconvnets():
    torch.manual_seed(0)
    mnist, cifar = lenet_mnist(), lenet_cifar()
    conv3 = [m for m in mnist.features if isinstance(m, nn.Conv2d)][2]  # 400k weights
    assert sample_std(conv3.weight) == pytest.approx(0.01, rel=0.02)
    cifar_convs = [m for m in cifar.features if isinstance(m, nn.Conv2d)]
    assert sample_std(cifar_convs[0].weight) == pytest.approx(0.01, rel=0.05)
    assert sample_std(cifar_convs[3].weight) == pytest.approx(0.05, rel=0.02)  # 65k
    for m in [*cifar_convs, cifar.classifier[1], mnist.classifier[1]]:
        assert not m.bias.any()


def test_resnet20_and_rippel_nets_use_he_normal_init():
    torch.manual_seed(0)
    conv3 = resnet20().layer3[2].conv2  # 64 x 64 x 3 x 3, fan_out = 576
    assert sample_std(conv3.weight) == pytest.approx(math.sqrt(2 / 576), rel=0.03)
    deep = rippel_deep()
    conv = [m for m in deep.features if isinstance(m, nn.Conv2d)][2]  # fan_in = 96 * 9
    assert conv.in_channels == 96 and conv.out_channels == 192
    assert sample_std(conv.weight) == pytest.approx(math.sqrt(2 / 864), rel=0.02)
    assert not conv.bias.any()


def test_cifar_resnets_keep_pytorchs_default_init():
    torch.manual_seed(0)
    conv = resnet18().layer4[1].conv2  # 512 x 512 x 3 x 3, bound 1/sqrt(fan_in)
    assert sample_std(conv.weight) == pytest.approx(1 / math.sqrt(3 * 512 * 9), rel=0.01)


def test_lenet_cifar_learning_rate_multipliers_are_matconvnets():
    for norm in (None, batch_norm):
        model = lenet_cifar(norm_layer=norm)
        layers = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
        expected = {}
        for name, (weight, bias) in zip(layers, [(0.1, 2.0)] * 4 + [(0.01, 0.2)], strict=True):
            expected |= {f"{name}.weight": weight, f"{name}.bias": bias}
        assert model.lr_multipliers == expected
        assert set(expected) <= dict(model.named_parameters()).keys()
    assert lenet_mnist().lr_multipliers == {}


# --- ResNet-20's option-A shortcut --------------------------------------------------------


@pytest.mark.parametrize("cin, cout, stride", [(16, 32, 2), (3, 8, 2), (4, 4, 1), (5, 6, 2)])
def test_zero_pad_shortcut_subsamples_and_pads(cin, cout, stride):
    x = torch.randn(2, cin, 7, 6)
    expected = torch.zeros(2, cout, math.ceil(7 / stride), math.ceil(6 / stride))
    lo = (cout - cin) // 2
    for i in range(expected.shape[2]):
        for j in range(expected.shape[3]):
            expected[:, lo : lo + cin, i, j] = x[:, :, stride * i, stride * j]
    assert torch.equal(ZeroPadShortcut(cin, cout, stride)(x), expected)


# --- net (5): map sizes, spectral pooling, max-pool control --------------------------------


def test_pooled_sizes_follow_the_map_decay():
    # 32 * 0.85 = 27.2 -> 27 -> 22.95 -> 22 -> 18.7 -> 18 -> 15.3 -> 15 -> 12.75 -> 12 -> 10.2
    assert pooled_sizes(32, 6, 0.85) == [(27, 27), (22, 22), (18, 18), (15, 15), (12, 12), (10, 10)]
    assert pooled_sizes((32, 20), 3, 0.5) == [(16, 10), (8, 5), (4, 2)]
    assert pooled_sizes(20, 1, 0.85) == [(17, 17)]  # 0.85 * 20 is 17 despite binary rounding


@pytest.mark.parametrize(
    "args, match",
    [
        ((32, 15, 0.85), r"spectral pool 14 of 15 would be 0×0.*num_layers ≤ 13"),
        ((32, 3, 1.0), r"gamma .* must lie in \(0, 1\)"),
        ((32, 3, 0), r"gamma .* must lie in \(0, 1\)"),
        ((32, 0, 0.5), "num_layers must be a positive int"),
    ],
)
def test_pooled_sizes_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        pooled_sizes(*args)


def test_max_pool_control_halves_each_map():
    model = rippel_spectral_pool_net(pool="max", num_layers=6, width=0.125)
    sizes, x = [], images(2, 3, 32)
    for layer in model.features:
        x = layer(x)
        if isinstance(layer, nn.MaxPool2d):
            sizes.append(x.shape[-1])
    assert sizes == [16, 8, 4, 2, 1, 1]
    assert model(images(2, 3, 24)).shape == (2, 10)  # built for no particular size


def test_spectral_pool_net_layers_sizes_and_schedule():
    m_layers, alpha, beta = 4, 0.30, 0.15
    model = rippel_spectral_pool_net(num_layers=m_layers, width=0.125, alpha=alpha, beta=beta)
    pools = [m for m in model.features if isinstance(m, SpectralPool2d)]
    assert len(pools) == m_layers
    # c_m = alpha + (m / M)(beta - alpha), Rippel et al. §5.1
    expected = [alpha + m / m_layers * (beta - alpha) for m in range(1, m_layers + 1)]
    assert [p.freq_dropout for p in pools] == pytest.approx(expected)
    sizes, x = [], images(2, 3, 32)
    for layer in model.features:
        x = layer(x)
        if isinstance(layer, SpectralPool2d):
            sizes.append(tuple(x.shape[-2:]))
    assert sizes == [(27, 27), (22, 22), (18, 18), (15, 15)]
    with pytest.raises(ValueError, match="was built for"):
        model(images(2, 3, 28))


def test_spectral_pool_net_frequency_dropout_only_in_training():
    torch.manual_seed(0)
    model = rippel_spectral_pool_net(num_layers=3, width=0.125, alpha=0.0, beta=0.0)
    x = images(4, 3, 32)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()  # c_m = 0: each pool keeps a random 1..h square of frequencies
    outputs = [model(x) for _ in range(4)]
    assert any(not torch.equal(outputs[0], o) for o in outputs[1:])


def test_spectral_pool_net_non_square_input():
    model = rippel_spectral_pool_net(num_layers=2, width=0.125, input_size=(32, 24))
    assert model(torch.randn(2, 3, 32, 24)).shape == (2, 10)


# --- with the SBN layer (issue 6) ------------------------------------------------------------


@pytest.mark.parametrize("factory", [resnet18, vgg16_bn])
def test_sbn34_with_spectral_batch_norm_trains(factory):
    """torchvision's blocks apply ReLU and the residual sum in place to the norm's output."""
    from spectral.norm import SpectralBatchNorm2d

    model = factory(width=0.125, norm_layer=stagewise(SpectralBatchNorm2d, {3, 4}))
    sbn = [m for m in model.modules() if isinstance(m, SpectralBatchNorm2d)]
    assert len(sbn) == {resnet18: 10, vgg16_bn: 6}[factory]
    model(images(4, 3, 32)).square().sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_matched_max_control_pools_to_the_spectral_sizes():
    spectral_net = rippel_spectral_pool_net(width=0.125)
    matched = rippel_spectral_pool_net(width=0.125, pool="max_matched")
    shapes = []
    for net in (spectral_net, matched):
        net.eval()
        x, sizes = torch.randn(1, 3, 32, 32), []
        for layer in net.features:
            x = layer(x)
            sizes.append(tuple(x.shape[-2:]))
        shapes.append(sizes)
    assert shapes[0] == shapes[1] and shapes[0][-1] == (10, 10)  # 32·0.85⁶ -> 10
    assert n_params(spectral_net) == n_params(matched)
