"""The architectures of the five works, built by name.

* :func:`resnet18`, :func:`resnet34`, :func:`resnet50`: CIFAR ResNets with a 3×3 stem
  and no max-pool (SBN paper);
* :func:`resnet20`: He et al. (2016)'s CIFAR ResNet-20 (mask paper);
* :func:`vgg16_bn`, :func:`vgg19_bn`: CIFAR VGG with batch norm and dropout 0.5 (SBN paper);
* :func:`lenet_mnist`, :func:`lenet_cifar`: MatConvNet's LeNets (Maximum Gain paper);
* :func:`rippel_generic`, :func:`rippel_deep`, :func:`rippel_spectral_pool_net`: Rippel
  et al. (2015)'s nets (6), (7) and (5).

Every factory takes the keyword options ``num_classes``, ``in_channels``, ``width`` and
``norm_layer`` (:class:`ModelOptions`, checked in one place; a misspelt option raises
``TypeError``), besides any of its own, and returns a freshly initialised ``nn.Module``
mapping ``(N, C, H, W)`` images to ``(N, num_classes)`` logits. A layer with ``c``
channels (or hidden units) in the paper gets ``max(1, round(c * width))``; inputs and
logits are never scaled.

The ``norm_layer`` hook
-----------------------
``norm_layer`` is a callable ``(num_features, stage) -> nn.Module`` that builds the
normalisation placed right after a convolution (before its ReLU); ``num_features`` is
that convolution's output channels and ``stage`` says where the convolution sits:

* stage ``s >= 1`` is the ``s``-th group of layers that share one spatial resolution,
  counted from the input; a downsampling layer (pooling, or the stride-2 convolution that
  opens a ResNet stage) starts the next stage. A ResNet's projection shortcut belongs to
  the stage of its block.
* stage ``0`` is the ResNet stem (the first 3×3 convolution), which shares the input
  resolution with stage 1 but is conventionally not part of it (He et al., 2016).

So a CIFAR ResNet-18/34/50 has stages 0–4 (the SBN paper's "modules" 1–4 are stages 1–4),
ResNet-20 has 0–3, VGG has its five convolution blocks 1–5; each factory's docstring lists
its stages. ``norm_layer=None`` means no normalisation; the default is
:func:`batch_norm` for the ResNets and VGGs and ``None`` for the LeNets and Rippel's nets,
as in the papers.

This lets other modules change the normalisation by stage without editing a model: the
SBN paper's "ResNet + SBN34" (a spectral batch norm after each batch norm of modules 3
and 4; Cakaj et al., 2023, §IV) is ``norm_layer=stagewise(SpectralBatchNorm2d, {3, 4})``
and its "2BN34" control is ``stagewise(nn.BatchNorm2d, {3, 4})``; see :func:`stagewise`.
:func:`norm_variant` (:mod:`spectral.models.variants`) builds these from their names.

>>> from spectral.models import create
>>> model = create("resnet20", num_classes=100, width=0.5)
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from spectral.models._layers import ModelOptions, NormLayer, StagewiseNorm, batch_norm, stagewise
from spectral.models.lenet import lenet_cifar, lenet_mnist
from spectral.models.resnet import resnet18, resnet20, resnet34, resnet50
from spectral.models.rippel import rippel_deep, rippel_generic, rippel_spectral_pool_net
from spectral.models.variants import norm_variant, stage_map_size
from spectral.models.vgg import vgg16_bn, vgg19_bn

__all__ = [
    "MODELS",
    "ModelOptions",
    "NormLayer",
    "StagewiseNorm",
    "batch_norm",
    "create",
    "lenet_cifar",
    "lenet_mnist",
    "norm_variant",
    "resnet18",
    "resnet20",
    "resnet34",
    "resnet50",
    "rippel_deep",
    "rippel_generic",
    "rippel_spectral_pool_net",
    "stage_map_size",
    "stagewise",
    "vgg16_bn",
    "vgg19_bn",
]

#: Factory of each model name.
MODELS: dict[str, Callable[..., nn.Module]] = {
    factory.__name__: factory
    for factory in (
        resnet18,
        resnet34,
        resnet50,
        resnet20,
        vgg16_bn,
        vgg19_bn,
        lenet_mnist,
        lenet_cifar,
        rippel_generic,
        rippel_deep,
        rippel_spectral_pool_net,
    )
}


def create(name: str, **kwargs) -> nn.Module:
    """Build the model ``name`` with the factory's keyword arguments.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`, e.g. ``"resnet18"``.
    **kwargs
        Passed to the factory (``num_classes``, ``width``, ``norm_layer``, ...).

    Returns
    -------
    nn.Module
        The freshly initialised model.

    Raises
    ------
    ValueError
        If ``name`` is not a model; the message lists the names.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name](**kwargs)
