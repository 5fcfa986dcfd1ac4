"""VGG-16-BN and VGG-19-BN for CIFAR, as the SBN paper trains them.

Simonyan & Zisserman (2015)'s configurations D and E (3×3 convolutions, five blocks
separated by 2×2 max-pools) with a batch norm after every convolution; on 32×32 inputs the
five max-pools leave a 1×1×512 map, and the classifier is the CIFAR one the SBN paper
describes (Cakaj et al., 2023, §IV-A): dropout 0.5 → linear 512 → ReLU → dropout 0.5 →
linear 512 → ReLU → linear ``num_classes`` (as in Fu's widely used ``pytorch-vgg-cifar10``).
Initialisation as the paper states: convolutions ``N(0, sqrt(2 / n))`` with
``n = kernel_h * kernel_w * out_channels`` and zero bias; linear layers "Kaiming-uniform",
i.e. PyTorch's default. (The paper's text says "standard deviation 2/n"; we read it as
variance 2/n, He et al. (2015)'s rule, which is what that code does.)

Stages (see :mod:`spectral.models`): the convolution blocks 1–5, block ``b`` at
resolution ``32 / 2**(b - 1)``. So the SBN paper's "VGG16-BN + SBN4" is block 4 and
"VGG19-BN + SBN34" blocks 3 and 4 (the paper does not define VGG's "modules"; this is our
reading).
"""

from __future__ import annotations

from torch import nn

from spectral._validate import check_number
from spectral.models._layers import (
    ConvNet,
    NormLayer,
    batch_norm,
    conv_norm_relu,
    kaiming_normal_convs_,
    model_options,
    scaled,
)

__all__ = ["VGG", "vgg16_bn", "vgg19_bn"]

#: Channels of the 3×3 convolutions; "M" is a 2×2 max-pool (Simonyan & Zisserman, Table 1).
_CONFIGS = {
    "D": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "E": (
        *(64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"),
        *(512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
    ),
}


class VGG(ConvNet):
    """VGG for 32×32 images: ``features`` (conv blocks) then ``classifier`` (MLP)."""


def _features(
    config: tuple[int | str, ...], in_channels: int, width: float, norm_layer: NormLayer | None
) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    stage, channels = 1, in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            stage += 1
            continue
        out_channels = scaled(item, width)
        layers += conv_norm_relu(channels, out_channels, 3, norm_layer, stage)
        channels = out_channels
    return nn.Sequential(*layers), channels


def _vgg(name: str, config: str, dropout: float, options: dict) -> VGG:
    num_classes, in_channels, width, norm_layer = model_options(
        name, options, stages=range(1, 6), norm_layer=batch_norm
    )
    if not 0 <= check_number("dropout", dropout) < 1:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout}")
    features, channels = _features(_CONFIGS[config], in_channels, width, norm_layer)
    hidden = scaled(512, width)
    classifier = nn.Sequential(
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(channels, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )
    model = VGG(features, classifier, input_shape=(in_channels, 32, 32))
    kaiming_normal_convs_(model, mode="fan_out")
    return model


def vgg16_bn(*, dropout: float = 0.5, **options) -> VGG:
    """VGG-16-BN for CIFAR (configuration D); 15,253,578 parameters for 10 classes.

    Parameters
    ----------
    dropout : float
        Dropout probability before the two hidden linear layers (0.5 in the paper).
    **options
        The :class:`~spectral.models.ModelOptions`: ``num_classes`` (default 10),
        ``in_channels`` (default 3), ``width`` (multiplies every convolution's channels
        and the 512 hidden units), ``norm_layer`` (after every convolution, stages 1–5,
        the convolution blocks; default batch norm; ``None``: plain VGG-16).

    Returns
    -------
    VGG
        ``(N, in_channels, 32, 32) -> (N, num_classes)``.

    Notes
    -----
    Li et al. (2017, "Pruning Filters for Efficient ConvNets", Table 1) give 1.5e7
    parameters for the same CIFAR VGG-16; torchvision's ImageNet classifier (4096 units)
    would make it 33.6 M.
    """
    return _vgg("vgg16_bn", "D", dropout, options)


def vgg19_bn(*, dropout: float = 0.5, **options) -> VGG:
    """VGG-19-BN for CIFAR (configuration E); 20,565,834 parameters for 10 classes.

    Parameters, stages and return value as :func:`vgg16_bn`.
    """
    return _vgg("vgg19_bn", "E", dropout, options)
