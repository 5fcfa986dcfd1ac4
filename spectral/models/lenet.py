"""The LeNets of the Maximum Gain paper (Stamatescu & McDonnell, §IV-B) and the mask paper.

Both are MatConvNet's example networks, which that paper trains (its footnote 2):

* MNIST (``cnn_mnist_init.m``), "three conv layers and one fully-connected layer,
  interspersed with ... two max pool layers and a relu layer":
  ``conv 5×5 20 → max 2/2 → conv 5×5 50 → max 2/2 → conv 4×4 500 → ReLU → fc 10``.
  28×28 → 24 → 12 → 8 → 4 → 1. Weights ``N(0, 0.01²)``, zero biases.
* CIFAR-10 (``cnn_cifar_init.m``, Caffe's "CIFAR10-quick"), "four conv layers, two average
  pool layers and one fully-connected layer together with two max pool layers and four
  relu layers": ``conv 5×5 32 → max 3/2 → ReLU → conv 5×5 32 → ReLU → avg 3/2 →
  conv 5×5 64 → ReLU → avg 3/2 → conv 4×4 64 → ReLU → fc 10``. 32×32 → 16 → 8 → 4 → 1.
  The code has *one* max pool, not two as the paper's text says; we follow the code.
  Weights ``N(0, 0.01²)`` for the first convolution, ``N(0, 0.05²)`` for the others,
  zero biases. The 3/2 pools use Caffe's ceil rounding, which MatConvNet emulates with
  one row and column of padding that the pools ignore (``ceil_mode=True`` here).

MatConvNet's "fully-connected" layer is a 1×1 convolution on a 1×1 map; here it is the
equivalent ``nn.Linear``. Stages (see :mod:`spectral.models`): the ``k``-th
convolution is stage ``k`` (each sits at its own resolution); the fc layer has none.
"""

from __future__ import annotations

from torch import nn

from spectral.models._layers import ConvNet, model_options, norms, scaled

__all__ = ["LeNet", "lenet_cifar", "lenet_mnist"]


class LeNet(ConvNet):
    """A MatConvNet LeNet: ``features`` (convolutions and pools) then ``classifier`` (fc).

    Attributes
    ----------
    lr_multipliers : dict of str to float
        Per-parameter learning-rate multipliers of MatConvNet's training recipe, keyed by
        ``named_parameters()`` name; parameters not listed use 1.
    """

    lr_multipliers: dict[str, float]


def _normal_init_(layer: nn.Conv2d | nn.Linear, std: float) -> None:
    nn.init.normal_(layer.weight, std=std)
    nn.init.zeros_(layer.bias)


def lenet_mnist(**options) -> LeNet:
    """MatConvNet's MNIST LeNet (3 conv + 1 fc, two max-pools, one ReLU); 431,080 parameters.

    Parameters
    ----------
    **options
        The :class:`~spectral.models.ModelOptions`: ``num_classes`` (default 10),
        ``in_channels`` (default 1, for MNIST), ``width`` (multiplies the 20, 50, 500
        convolution channels), ``norm_layer`` (default ``None``: none, as in the paper;
        stages 1–3, right after each convolution, as MatConvNet's ``useBnorm`` option
        inserts batch norm).

    Returns
    -------
    LeNet
        ``(N, in_channels, 28, 28) -> (N, num_classes)``; other sizes raise ``ValueError``.
    """
    num_classes, in_channels, width, norm_layer = model_options(
        "lenet_mnist", options, stages=range(1, 4), in_channels=1
    )
    c1, c2, c3 = scaled(20, width), scaled(50, width), scaled(500, width)
    convs = [
        nn.Conv2d(in_channels, c1, kernel_size=5),
        nn.Conv2d(c1, c2, kernel_size=5),
        nn.Conv2d(c2, c3, kernel_size=4),
    ]
    features = nn.Sequential(
        convs[0],
        *norms(norm_layer, c1, 1),
        nn.MaxPool2d(kernel_size=2, stride=2),
        convs[1],
        *norms(norm_layer, c2, 2),
        nn.MaxPool2d(kernel_size=2, stride=2),
        convs[2],
        *norms(norm_layer, c3, 3),
        nn.ReLU(),
    )
    fc = nn.Linear(c3, num_classes)
    for layer in (*convs, fc):
        _normal_init_(layer, std=0.01)
    model = LeNet(features, nn.Sequential(nn.Flatten(), fc), input_shape=(in_channels, 28, 28))
    model.lr_multipliers = {}
    return model


def lenet_cifar(**options) -> LeNet:
    """MatConvNet's CIFAR-10 LeNet (4 conv + 1 fc, max and average pools); 145,578 parameters.

    Parameters
    ----------
    **options
        The :class:`~spectral.models.ModelOptions`: ``num_classes`` (default 10),
        ``in_channels`` (default 3), ``width`` (multiplies the 32, 32, 64, 64 convolution
        channels), ``norm_layer`` (default ``None``: none, as in the paper; stages 1–4).

    Returns
    -------
    LeNet
        ``(N, in_channels, 32, 32) -> (N, num_classes)``; other sizes raise ``ValueError``.
        Its ``lr_multipliers`` are MatConvNet's: 0.1 for the convolutions' weights and 2
        for their biases, 0.01 and 0.2 for the fc layer (the paper's learning rates,
        0.05 and its multiples, are the base rates these multiply).

    Notes
    -----
    The mask paper's Table 1 network is this model with learned frequency masks attached
    after construction, ``spectral.masks.add_masks_(lenet_cifar(), (32, 32))``: every
    convolution becomes a masked one (a shared mask on its output spectrum, before the
    norm) under the same name, so ``lr_multipliers`` still apply, and the masks' latent
    parameters, not listed, get multiplier 1.
    """
    num_classes, in_channels, width, norm_layer = model_options(
        "lenet_cifar", options, stages=range(1, 5)
    )
    c1, c2, c3, c4 = scaled(32, width), scaled(32, width), scaled(64, width), scaled(64, width)
    convs = [
        nn.Conv2d(in_channels, c1, kernel_size=5, padding=2),
        nn.Conv2d(c1, c2, kernel_size=5, padding=2),
        nn.Conv2d(c2, c3, kernel_size=5, padding=2),
        nn.Conv2d(c3, c4, kernel_size=4),
    ]
    features = nn.Sequential(
        convs[0],
        *norms(norm_layer, c1, 1),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        nn.ReLU(),
        convs[1],
        *norms(norm_layer, c2, 2),
        nn.ReLU(),
        nn.AvgPool2d(kernel_size=3, stride=2, ceil_mode=True),
        convs[2],
        *norms(norm_layer, c3, 3),
        nn.ReLU(),
        nn.AvgPool2d(kernel_size=3, stride=2, ceil_mode=True),
        convs[3],
        *norms(norm_layer, c4, 4),
        nn.ReLU(),
    )
    fc = nn.Linear(c4, num_classes)
    for layer, std in zip((*convs, fc), (0.01, 0.05, 0.05, 0.05, 0.05), strict=True):
        _normal_init_(layer, std)
    model = LeNet(features, nn.Sequential(nn.Flatten(), fc), input_shape=(in_channels, 32, 32))
    names = {module: name for name, module in model.named_modules()}
    model.lr_multipliers = {}
    for layer, (weight, bias) in zip((*convs, fc), [(0.1, 2.0)] * 4 + [(0.01, 0.2)], strict=True):
        model.lr_multipliers[f"{names[layer]}.weight"] = weight
        model.lr_multipliers[f"{names[layer]}.bias"] = bias
    return model
