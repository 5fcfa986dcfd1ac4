"""Building blocks shared by the models: the ``norm_layer`` hook, widths, checks, init.

See :mod:`spectral.models` for the ``norm_layer`` contract and the definition of a stage.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn

__all__ = [
    "ConvNet",
    "ModelOptions",
    "NormLayer",
    "StagewiseNorm",
    "batch_norm",
    "stagewise",
]

#: ``(num_features, stage) -> nn.Module``: the normalisation after a convolution.
NormLayer = Callable[[int, int], nn.Module]


def batch_norm(num_features: int, stage: int) -> nn.BatchNorm2d:
    """The default ``norm_layer``: ``nn.BatchNorm2d(num_features)`` in every stage."""
    return nn.BatchNorm2d(num_features)


@dataclass(frozen=True)
class StagewiseNorm:
    """``norm_layer``: ``BatchNorm2d`` then ``extra`` in ``stages``, ``BatchNorm2d`` elsewhere.

    Build it with :func:`stagewise`. Calling it with ``(num_features, stage)`` returns
    ``nn.Sequential(nn.BatchNorm2d(num_features), extra(num_features))`` when ``stage`` is
    in ``stages`` and ``nn.BatchNorm2d(num_features)`` otherwise.
    """

    extra: Callable[[int], nn.Module]
    stages: frozenset[int]

    def __call__(self, num_features: int, stage: int) -> nn.Module:
        bn = nn.BatchNorm2d(num_features)
        if stage not in self.stages:
            return bn
        return nn.Sequential(bn, self.extra(num_features))


def stagewise(extra: Callable[[int], nn.Module], stages: Iterable[int]) -> StagewiseNorm:
    """A ``norm_layer`` that follows every batch norm of ``stages`` with ``extra``.

    Parameters
    ----------
    extra : callable
        ``extra(num_features) -> nn.Module``, e.g. a spectral batch norm class ("SBN34")
        or ``nn.BatchNorm2d`` (the "2BN34" control of Cakaj et al., 2023, §IV-A).
    stages : iterable of int
        The stages (see :mod:`spectral.models`) that get ``extra``; e.g. ``{3, 4}``.
        A factory raises ``ValueError`` if one of them is not a stage of its model.

    Returns
    -------
    StagewiseNorm
        Callable ``(num_features, stage) -> nn.Module`` for the ``norm_layer`` argument.

    Examples
    --------
    >>> from torch import nn
    >>> from spectral.models import resnet18, stagewise
    >>> model = resnet18(norm_layer=stagewise(nn.BatchNorm2d, {3, 4}))  # "ResNet18 + 2BN34"
    >>> [type(m).__name__ for m in model.layer3[0].bn1]
    ['BatchNorm2d', 'BatchNorm2d']
    """
    if not callable(extra):
        raise TypeError(
            f"extra must be callable as extra(num_features) -> nn.Module, e.g. nn.BatchNorm2d; "
            f"got {type(extra).__name__}"
        )
    stages = tuple(stages)
    for stage in stages:
        if isinstance(stage, bool) or not isinstance(stage, int) or stage < 0:
            raise ValueError(f"stages must be non-negative ints, e.g. {{3, 4}}; got {stages!r}")
    if not stages:
        raise ValueError("stages is empty: name at least one stage, e.g. {3, 4}")
    return StagewiseNorm(extra, frozenset(stages))


def check_norm_layer(norm_layer: NormLayer | None, valid_stages: Iterable[int], model: str) -> None:
    """Raise unless ``norm_layer`` is ``None`` or callable and names only stages of ``model``."""
    if norm_layer is None:
        return
    if not callable(norm_layer):
        raise TypeError(
            f"norm_layer must be None or callable as norm_layer(num_features, stage) -> "
            f"nn.Module; got {type(norm_layer).__name__}"
        )
    if isinstance(norm_layer, StagewiseNorm):
        valid = sorted(valid_stages)
        unknown = sorted(set(norm_layer.stages) - set(valid))
        if unknown:
            raise ValueError(f"{model} has stages {valid}; stagewise() names stages {unknown}")


def make_norm(norm_layer: NormLayer | None, num_features: int, stage: int) -> nn.Module:
    """``norm_layer(num_features, stage)``, checked; ``nn.Identity()`` when it is ``None``."""
    if norm_layer is None:
        return nn.Identity()
    module = norm_layer(num_features, stage)
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"norm_layer({num_features}, {stage}) must return an nn.Module, "
            f"got {type(module).__name__}"
        )
    return module


def norms(norm_layer: NormLayer | None, num_features: int, stage: int) -> list[nn.Module]:
    """``[norm_layer(num_features, stage)]``, or ``[]`` when ``norm_layer`` is ``None``.

    For models built as ``nn.Sequential``: no normalisation leaves no placeholder layer.
    """
    return [] if norm_layer is None else [make_norm(norm_layer, num_features, stage)]


def conv_norm_relu(
    in_channels: int, out_channels: int, kernel_size: int, norm_layer: NormLayer | None, stage: int
) -> list[nn.Module]:
    """``Conv2d`` with 'same' padding (``kernel_size // 2``, odd sizes), its norm, ReLU.

    The layers as a list, for models built as ``nn.Sequential``; no norm layer when
    ``norm_layer`` is ``None`` (see :func:`norms`).
    """
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
        *norms(norm_layer, out_channels, stage),
        nn.ReLU(),
    ]


def stage_norm(norm_layer: NormLayer | None, stage: int) -> Callable[[int], nn.Module]:
    """``norm_layer`` with its stage fixed: the one-argument form torchvision's blocks call."""

    def build(num_features: int) -> nn.Module:
        return make_norm(norm_layer, num_features, stage)

    return build


def scaled(channels: int, width: float) -> int:
    """Channels of a layer at width multiplier ``width``: ``max(1, round(channels * width))``."""
    return max(1, round(channels * width))


def check_width(width: float) -> None:
    """Raise unless ``width`` is a finite number > 0."""
    if isinstance(width, bool) or not isinstance(width, int | float):
        raise TypeError(f"width must be a number > 0, got {type(width).__name__} {width!r}")
    if not math.isfinite(width) or width <= 0:
        raise ValueError(f"width must be a finite number > 0 (1.0 = the paper's net), got {width}")


def check_positive_int(name: str, value: int) -> None:
    """Raise unless ``value`` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")


def check_common(num_classes: int, in_channels: int, width: float) -> None:
    """Raise unless the arguments every factory takes are valid (``norm_layer`` aside).

    ``num_classes`` and ``in_channels`` must be ints >= 1 and ``width`` a finite number > 0
    (see :func:`check_positive_int` and :func:`check_width`).
    """
    check_positive_int("num_classes", num_classes)
    check_positive_int("in_channels", in_channels)
    check_width(width)


class ModelOptions(NamedTuple):
    """The keyword options every model factory takes, checked, with the factory's defaults.

    A layer with ``c`` channels or hidden units in the paper gets
    ``max(1, round(c * width))``; ``norm_layer`` builds the normalisation after a
    convolution (see :mod:`spectral.models`).
    """

    #: Output logits (default 10).
    num_classes: int
    #: Image channels (default 3; 1 for :func:`~spectral.models.lenet_mnist`).
    in_channels: int
    #: Channel multiplier (default 1.0, the paper's network).
    width: float
    #: ``(num_features, stage) -> nn.Module`` or ``None``; default :func:`batch_norm` for
    #: the ResNets and VGGs, ``None`` (no normalisation) for the LeNets and Rippel's nets.
    norm_layer: NormLayer | None


def model_options(
    model: str,
    options: dict[str, Any],
    *,
    stages: Iterable[int],
    in_channels: int = 3,
    norm_layer: NormLayer | None = None,
) -> ModelOptions:
    """The :class:`ModelOptions` a call of factory ``model`` asked for, checked.

    ``options`` are the call's keywords, over the defaults ``num_classes=10``,
    ``width=1.0`` and the factory's ``in_channels`` and ``norm_layer``; ``stages`` are
    the model's stages, the only ones a :func:`stagewise` ``norm_layer`` may name.

    Raises
    ------
    TypeError
        A keyword that is neither one of :class:`ModelOptions`' fields nor the factory's
        own (the message lists the fields), or an option of the wrong type.
    ValueError
        An option out of range (see :func:`check_common`, :func:`check_norm_layer`).
    """
    unknown = sorted(set(options) - set(ModelOptions._fields))
    if unknown:
        raise TypeError(
            f"{model}() got an unexpected keyword argument {unknown[0]!r}; every factory "
            f"takes {', '.join(ModelOptions._fields)}, besides its own (help({model}))"
        )
    defaults = ModelOptions(10, in_channels, 1.0, norm_layer)
    chosen = defaults._replace(**options)
    check_common(chosen.num_classes, chosen.in_channels, chosen.width)
    check_norm_layer(chosen.norm_layer, stages, model)
    return chosen


def check_kernel_size(kernel_size: int) -> None:
    """Raise unless ``kernel_size`` is an odd int >= 1 (so 'same' padding is symmetric)."""
    check_positive_int("kernel_size", kernel_size)
    if kernel_size % 2 == 0:
        raise ValueError(
            f"kernel_size must be odd (the papers use 3 or 5) so that padding kernel_size // 2 "
            f"keeps the map size; got {kernel_size}"
        )


def pair(name: str, size: int | tuple[int, int]) -> tuple[int, int]:
    """``size`` as ``(h, w)``: an int ``n`` means ``(n, n)``; both must be positive ints."""
    h, w = (size, size) if isinstance(size, int) and not isinstance(size, bool) else size
    check_positive_int(f"{name}[0]", h)
    check_positive_int(f"{name}[1]", w)
    return h, w


def kaiming_normal_convs_(model: nn.Module, mode: str) -> None:
    """He et al. (2015) normal init of every ``Conv2d``: std ``sqrt(2 / n)``, zero bias.

    ``n`` is ``kernel_h * kernel_w * out_channels`` for ``mode="fan_out"`` and
    ``kernel_h * kernel_w * in_channels`` for ``mode="fan_in"``.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode=mode, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)


class ConvNet(nn.Module):
    """A plain feed-forward classifier: ``classifier(features(x))``.

    Parameters
    ----------
    features : nn.Module
        Maps ``(N, C, H, W)`` images to feature maps.
    classifier : nn.Module
        Maps the feature maps to ``(N, num_classes)`` logits.
    input_shape : tuple of int, optional
        ``(C, H, W)`` the network is built for; inputs of another shape raise
        ``ValueError`` (its fully-connected layers fix the size). ``None``: any size.
    """

    def __init__(
        self,
        features: nn.Module,
        classifier: nn.Module,
        input_shape: tuple[int, int, int] | None = None,
    ) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier
        self.input_shape = input_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_shape is not None and (
            x.dim() != 4 or tuple(x.shape[1:]) != self.input_shape
        ):
            c, h, w = self.input_shape
            raise ValueError(
                f"{type(self).__name__} was built for (N, {c}, {h}, {w}) inputs, got shape "
                f"{tuple(x.shape)}; resize the images or build the model for their size"
            )
        return self.classifier(self.features(x))
