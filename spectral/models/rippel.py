"""Rippel, Snoek & Adams (2015)'s networks: (5) spectral pooling, (6) generic, (7) deep.

Notation of the paper (§5): ``C^F_S`` a convolution with ``F`` filters of size ``S``,
``MP^2_{3×3}`` a 3×3 max-pool with stride 2, ``SP↓S`` spectral pooling to ``S×S``,
``FC^F`` a fully-connected layer, ``GA`` global averaging.

* (5): ``(C^{96+32m}_{3×3} → SP↓⌊γH_m⌋×⌊γH_m⌋)`` for ``m = 1..M``, then
  ``C^{96+32M}_{1×1} → C^{10/100}_{1×1} → GA → softmax``; at most 288 filters per layer;
  "every convolution and pooling layer is followed by a ReLU"; the ``m``-th spectral pool
  has frequency dropout with ``c_m = α + (m/M)(β − α)`` (§5.1).
* (6): ``C^{96}_{3×3} → MP^2_{3×3} → C^{192}_{3×3} → MP^2_{3×3} → FC^{1024} → FC^{512} →
  softmax`` (§5.2).
* (7): ``C^{96}_{3×3} → C^{96}_{3×3} → MP^2_{3×3} → C^{192}_{3×3} ×3 → MP^2_{3×3} →
  C^{192}_{1×1} → C^{10/100}_{1×1} → GA → softmax`` (§5.2).

Choices where the paper is silent, the same in all three: convolutions keep the map size
(padding ``kernel_size // 2``); ``MP^2_{3×3}`` pads by 1, so it maps ``H`` to ``⌈H/2⌉``;
a ReLU follows every convolution and hidden fc layer, including (5)'s and (7)'s last
1×1 convolution (as the paper states for (5), and as in the all-convolutional nets (7)
comes from); "softmax" is the cross-entropy loss on the logits, not a layer. The nets have
no normalisation; they are initialised He et al. (2015) normal, ``std = sqrt(2 / fan_in)``
for convolutions (forward-variance preserving, which a net without normalisation needs),
PyTorch's default for fc layers.

Stages (see :mod:`spectral.models`) count resolutions from the input: in (5) the
``m``-th 3×3 convolution is stage ``m`` and the first 1×1 stage ``M + 1``; in (6) the two
convolutions are stages 1, 2; in (7) the convolutions are stages 1, 1, 2, 2, 2, 3. The
last (class) convolution of (5) and (7) gets no ``norm_layer``.
"""

from __future__ import annotations

import math

from torch import nn

from spectral._validate import check_fraction
from spectral.models._layers import (
    ConvNet,
    check_kernel_size,
    check_positive_int,
    conv_norm_relu,
    kaiming_normal_convs_,
    model_options,
    pair,
    scaled,
)

__all__ = [
    "MAX_FILTERS",
    "RippelNet",
    "pooled_sizes",
    "rippel_deep",
    "rippel_generic",
    "rippel_spectral_pool_net",
]

#: Upper bound on the filters per layer of net (5) (Rippel et al., §5.1).
MAX_FILTERS = 288


class RippelNet(ConvNet):
    """One of Rippel et al.'s nets: ``features`` then ``classifier`` (see the module doc)."""


def _max_pool() -> nn.MaxPool2d:
    """``MP^2_{3×3}``: 3×3 max-pool, stride 2, padding 1: ``H -> ⌈H/2⌉``."""
    return nn.MaxPool2d(kernel_size=3, stride=2, padding=1)


def _class_head(in_channels: int, num_classes: int) -> nn.Sequential:
    """``C^{classes}_{1×1} → ReLU → GA``: ``(N, C, H, W) -> (N, num_classes)``."""
    return nn.Sequential(
        nn.Conv2d(in_channels, num_classes, kernel_size=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )


def _he_init(model: RippelNet) -> RippelNet:
    kaiming_normal_convs_(model, mode="fan_in")
    return model


def rippel_generic(
    *, kernel_size: int = 3, input_size: int | tuple[int, int] = 32, **options
) -> RippelNet:
    """Net (6), "generic": two convolutions and max-pools, fc 1024 and 512.

    Parameters
    ----------
    kernel_size : int
        Odd filter size of the convolutions; the paper's Fig. 5 uses 3 and 5.
    input_size : int or (int, int)
        Image height and width, which fix the first fc layer's inputs.
    **options
        The :class:`~spectral.models.ModelOptions`: ``num_classes`` (default 10),
        ``in_channels`` (default 3), ``width`` (multiplies the 96, 192 filters and the
        1024, 512 hidden units), ``norm_layer`` (after each convolution, stages 1, 2;
        default ``None``: none, as in the paper).

    Returns
    -------
    RippelNet
        ``(N, in_channels, *input_size) -> (N, num_classes)``; 13,282,634 parameters for
        10 classes, 3×3 filters and 32×32 inputs (the fc 1024 layer holds 95 % of them).
    """
    num_classes, in_channels, width, norm_layer = model_options(
        "rippel_generic", options, stages=(1, 2)
    )
    check_kernel_size(kernel_size)
    h, w = pair("input_size", input_size)
    c1, c2 = scaled(96, width), scaled(192, width)
    features = nn.Sequential(
        *conv_norm_relu(in_channels, c1, kernel_size, norm_layer, stage=1),
        _max_pool(),
        *conv_norm_relu(c1, c2, kernel_size, norm_layer, stage=2),
        _max_pool(),
    )
    h4, w4 = math.ceil(math.ceil(h / 2) / 2), math.ceil(math.ceil(w / 2) / 2)
    f1, f2 = scaled(1024, width), scaled(512, width)
    classifier = nn.Sequential(
        nn.Flatten(),
        nn.Linear(c2 * h4 * w4, f1),
        nn.ReLU(),
        nn.Linear(f1, f2),
        nn.ReLU(),
        nn.Linear(f2, num_classes),
    )
    return _he_init(RippelNet(features, classifier, input_shape=(in_channels, h, w)))


def rippel_deep(*, kernel_size: int = 3, **options) -> RippelNet:
    """Net (7), "deep" (Snoek et al., 2015): six convolutions, two max-pools, 1×1 head, GA.

    Parameters
    ----------
    kernel_size : int
        As :func:`rippel_generic`.
    **options
        The :class:`~spectral.models.ModelOptions`: ``width`` scales the 96 and 192
        filters; ``norm_layer`` comes after each convolution but the last (stages 1, 1,
        2, 2, 2, 3; default ``None``: none, as in the paper); the others as
        :func:`rippel_generic`.

    Returns
    -------
    RippelNet
        ``(N, in_channels, H, W) -> (N, num_classes)`` for any ``H, W``; 954,730 parameters
        for 10 classes and 3×3 filters.
    """
    num_classes, in_channels, width, norm_layer = model_options(
        "rippel_deep", options, stages=(1, 2, 3)
    )
    check_kernel_size(kernel_size)
    c1, c2 = scaled(96, width), scaled(192, width)
    features = nn.Sequential(
        *conv_norm_relu(in_channels, c1, kernel_size, norm_layer, stage=1),
        *conv_norm_relu(c1, c1, kernel_size, norm_layer, stage=1),
        _max_pool(),
        *conv_norm_relu(c1, c2, kernel_size, norm_layer, stage=2),
        *conv_norm_relu(c2, c2, kernel_size, norm_layer, stage=2),
        *conv_norm_relu(c2, c2, kernel_size, norm_layer, stage=2),
        _max_pool(),
        *conv_norm_relu(c2, c2, 1, norm_layer, stage=3),
    )
    return _he_init(RippelNet(features, _class_head(c2, num_classes)))


def pooled_sizes(
    input_size: int | tuple[int, int], num_layers: int, gamma: float
) -> list[tuple[int, int]]:
    """Map sizes after each spectral pool of net (5): ``H_{m+1} = ⌊γ H_m⌋``, ``H_1`` = input.

    Parameters
    ----------
    input_size : int or (int, int)
        ``(H_1, W_1)``.
    num_layers : int
        ``M``.
    gamma : float
        The map decay rate ``γ`` (Rippel et al., §5.1; not the learning-rate decay), in
        (0, 1).

    Returns
    -------
    list of (int, int)
        ``[(H_2, W_2), ..., (H_{M+1}, W_{M+1})]``.

    Raises
    ------
    ValueError
        If a size reaches 0 (too many layers for this ``γ`` and input size).
    """
    h, w = pair("input_size", input_size)
    check_positive_int("num_layers", num_layers)
    gamma = check_fraction("gamma (the map decay rate γ)", gamma, inclusive=False)
    sizes = []
    for m in range(1, num_layers + 1):
        # The tiny offset makes e.g. 0.85 * 20 floor to 17 whatever its binary rounding.
        h, w = math.floor(gamma * h + 1e-9), math.floor(gamma * w + 1e-9)
        if h < 1 or w < 1:
            raise ValueError(
                f"with gamma={gamma} the map of spectral pool {m} of {num_layers} would be "
                f"{h}×{w}: use fewer layers (num_layers ≤ {m - 1}), a larger gamma or larger "
                f"inputs"
            )
        sizes.append((h, w))
    return sizes


def rippel_spectral_pool_net(
    *,
    num_layers: int = 6,
    gamma: float = 0.85,
    alpha: float = 0.30,
    beta: float = 0.15,
    kernel_size: int = 3,
    input_size: int | tuple[int, int] = 32,
    pool: str = "spectral",
    **options,
) -> RippelNet:
    """Net (5): ``M`` convolution + spectral-pooling pairs with frequency dropout, 1×1 head, GA.

    Parameters
    ----------
    num_layers : int
        ``M``. The paper searched 1–15 and does not report its choice; the default 6 is
        the student re-implementation's CIFAR-10 value (Jain et al., §5.1.2).
    gamma : float
        The map decay rate ``γ`` (Rippel et al., §5.1; not the learning-rate decay), in
        (0, 1): each pool maps ``H_m`` to ``H_{m+1} = ⌊γ H_m⌋``; the paper's optimum 0.85.
    alpha, beta : float
        Frequency-dropout schedule ``c_m = α + (m/M)(β − α)``; the paper's optimum
        α ≈ 0.30, β ≈ 0.15. In training, pool ``m`` keeps a random square of frequencies
        at least ``c_m`` times its output size.
    kernel_size : int
        Odd filter size of the ``M`` convolutions (3 in §5.1; Fig. 5 also uses 5).
    input_size : int or (int, int)
        Image height and width, which fix the pools' output sizes.
    pool : {"spectral", "max", "max_matched"}
        ``"spectral"``: :class:`spectral.pooling.SpectralPool2d` as in the paper.
        ``"max"``: the issue's control, ``MP^2_{3×3}`` (stride 2, ``H -> ⌈H/2⌉``) in each
        pool's place; ``gamma``, ``alpha``, ``beta`` and ``input_size`` are then unused.
        With ``M = 6`` this halves 32 to 1 by the fifth pool, so the control also loses
        resolution far faster than the spectral net.
        ``"max_matched"``: a resolution-matched control, ``nn.AdaptiveMaxPool2d`` to the
        same sizes ``⌊γH_m⌋`` as the spectral pools (no frequency dropout).
    **options
        The :class:`~spectral.models.ModelOptions`: ``num_classes`` (default 10),
        ``in_channels`` (default 3), ``width`` (multiplies the filters
        ``min(96 + 32m, 288)``), ``norm_layer`` (after the ``m``-th 3×3 convolution,
        stage ``m``, and the first 1×1 convolution, stage ``M + 1``; default ``None``).

    Returns
    -------
    RippelNet
        ``(N, in_channels, *input_size) -> (N, num_classes)``; other sizes raise
        ``ValueError`` (``pool="max"`` accepts any size).
    """
    check_positive_int("num_layers", num_layers)
    num_classes, in_channels, width, norm_layer = model_options(
        "rippel_spectral_pool_net", options, stages=range(1, num_layers + 2)
    )
    check_kernel_size(kernel_size)
    if pool not in ("spectral", "max", "max_matched"):
        raise ValueError(
            f"pool must be 'spectral' (the paper), 'max' or 'max_matched' (controls), got {pool!r}"
        )
    if pool == "max_matched":
        sizes = pooled_sizes(input_size, num_layers, gamma)
        pools = [nn.AdaptiveMaxPool2d(s) for s in sizes]
        input_shape = (in_channels, *pair("input_size", input_size))
    elif pool == "spectral":
        from spectral.pooling import SpectralPool2d, freq_dropout_schedule

        sizes = pooled_sizes(input_size, num_layers, gamma)
        schedule = freq_dropout_schedule(num_layers, alpha, beta)
        pools = [SpectralPool2d(s, freq_dropout=c) for s, c in zip(sizes, schedule, strict=True)]
        input_shape = (in_channels, *pair("input_size", input_size))
    else:
        pools = [_max_pool() for _ in range(num_layers)]
        input_shape = None
    layers: list[nn.Module] = []
    channels = in_channels
    for m, pool_layer in enumerate(pools, start=1):
        filters = scaled(min(96 + 32 * m, MAX_FILTERS), width)
        layers += conv_norm_relu(channels, filters, kernel_size, norm_layer, stage=m)
        layers += [pool_layer, nn.ReLU()]
        channels = filters
    head = scaled(min(96 + 32 * num_layers, MAX_FILTERS), width)
    layers += conv_norm_relu(channels, head, 1, norm_layer, stage=num_layers + 1)
    return _he_init(RippelNet(nn.Sequential(*layers), _class_head(head, num_classes), input_shape))
