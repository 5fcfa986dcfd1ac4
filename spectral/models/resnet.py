"""CIFAR residual networks: ResNet-18/34/50 (3×3 stem, no max-pool) and ResNet-20.

ResNet-18/34/50 are He et al. (2016)'s ImageNet networks adapted to 32×32 images the way
the SBN paper uses them (Cakaj et al., 2023, §IV-A): a 3×3 stride-1 stem without max-pool,
four stages of torchvision's ``BasicBlock``/``Bottleneck`` (stride 1, 2, 2, 2; projection
shortcuts), global average pooling and one linear layer. ResNet-20 is He et al. (2016)
§4.2's CIFAR network (the mask paper's Table 2): three stages of three basic blocks with
16, 32, 64 channels and parameter-free identity shortcuts (option A: subsample, then
zero-pad the new channels).

Stages (see :mod:`spectral.models`): 0 is the stem, 1–4 (1–3 for ResNet-20)
the residual stages ``layer1``, ``layer2``, ...; module names follow torchvision
(``layer3.0.bn1``, ``layer3.0.downsample.1``, ``fc``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1, conv3x3

from spectral.models._layers import (
    NormLayer,
    batch_norm,
    kaiming_normal_convs_,
    make_norm,
    model_options,
    scaled,
    stage_norm,
)

__all__ = ["CifarResNet", "ZeroPadShortcut", "resnet18", "resnet20", "resnet34", "resnet50"]


class ZeroPadShortcut(nn.Module):
    """Parameter-free shortcut "option A" (He et al., 2016, §3.3 and §4.2).

    Subsamples ``(N, C_in, H, W)`` with ``stride`` and zero-pads the channels to
    ``out_channels``, split evenly before and after: ``(N, out_channels, ⌈H/s⌉, ⌈W/s⌉)``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"cannot pad {in_channels} channels down to {out_channels}")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_channels - self.in_channels
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class CifarResNet(nn.Module):
    """A residual network for small images: 3×3 stem, residual stages, pooling, linear.

    Parameters
    ----------
    block : type
        ``torchvision.models.resnet.BasicBlock`` or ``Bottleneck``.
    blocks_per_stage : sequence of int
        Number of blocks in each stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
    stage_planes : sequence of int
        Planes of each stage (a block outputs ``planes * block.expansion`` channels);
        the first stage has stride 1, every later one stride 2.
    stem_channels : int
        Output channels of the 3×3 stride-1 stem.
    num_classes, in_channels : int
        Logits and image channels.
    norm_layer : callable or None
        ``(num_features, stage) -> nn.Module`` after every convolution, including the
        projection shortcuts; ``None``: no normalisation (``nn.Identity`` placeholders).
    shortcut : {"projection", "zero_pad"}
        Shortcut where the shape changes: 1×1 convolution + norm (option B) or
        :class:`ZeroPadShortcut` (option A).

    Notes
    -----
    Input ``(N, in_channels, H, W)`` of any size; output ``(N, num_classes)``.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        blocks_per_stage: Sequence[int],
        stage_planes: Sequence[int],
        *,
        stem_channels: int,
        num_classes: int,
        in_channels: int,
        norm_layer: NormLayer | None,
        shortcut: str = "projection",
    ) -> None:
        super().__init__()
        if shortcut not in ("projection", "zero_pad"):
            raise ValueError(f"shortcut must be 'projection' or 'zero_pad', got {shortcut!r}")
        self.conv1 = conv3x3(in_channels, stem_channels)
        self.bn1 = make_norm(norm_layer, stem_channels, stage=0)
        self.relu = nn.ReLU()
        self.stage_names: tuple[str, ...] = ()
        channels = stem_channels
        for index, (blocks, planes) in enumerate(zip(blocks_per_stage, stage_planes, strict=True)):
            stage = index + 1
            layer = nn.Sequential()
            for position in range(blocks):
                stride = 2 if position == 0 and stage > 1 else 1
                out_channels = planes * block.expansion
                downsample = None
                if stride != 1 or channels != out_channels:
                    if shortcut == "zero_pad":
                        downsample = ZeroPadShortcut(channels, out_channels, stride)
                    else:
                        downsample = nn.Sequential(
                            conv1x1(channels, out_channels, stride),
                            make_norm(norm_layer, out_channels, stage),
                        )
                layer.append(
                    block(
                        channels,
                        planes,
                        stride,
                        downsample,
                        norm_layer=stage_norm(norm_layer, stage),
                    )
                )
                channels = out_channels
            self.add_module(f"layer{stage}", layer)
            self.stage_names += (f"layer{stage}",)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _cifar_resnet(
    name: str,
    block: type[BasicBlock] | type[Bottleneck],
    blocks_per_stage: tuple[int, ...],
    stem_channels: int,
    options: dict,
    shortcut: str = "projection",
) -> CifarResNet:
    """A :class:`CifarResNet` from a factory's keywords, planes doubling by stage.

    ``layer{k}`` has ``stem_channels * 2**(k - 1)`` planes, every channel count scaled by
    ``width``; the initialisation is PyTorch's default, the SBN paper's "Kaiming-uniform"
    (see :func:`resnet18`'s Notes).
    """
    num_classes, in_channels, width, norm_layer = model_options(
        name, options, stages=range(len(blocks_per_stage) + 1), norm_layer=batch_norm
    )
    return CifarResNet(
        block,
        blocks_per_stage,
        [scaled(stem_channels * 2**i, width) for i in range(len(blocks_per_stage))],
        stem_channels=scaled(stem_channels, width),
        num_classes=num_classes,
        in_channels=in_channels,
        norm_layer=norm_layer,
        shortcut=shortcut,
    )


def resnet18(**options) -> CifarResNet:
    """CIFAR ResNet-18: basic blocks (2, 2, 2, 2); 11,173,962 parameters for 10 classes.

    Parameters
    ----------
    **options
        The :class:`~spectral.models.ModelOptions`: ``num_classes`` (default 10),
        ``in_channels`` (default 3), ``width`` (1.0 = the paper's network),
        ``norm_layer`` (after every convolution, projection shortcuts included; default
        batch norm; ``None``: no normalisation).

    Returns
    -------
    CifarResNet
        ``(N, in_channels, H, W) -> (N, num_classes)`` for any ``H, W``.

    Notes
    -----
    Stages: 0 (stem), 1–4 (``layer1``–``layer4``). Channels at width ``w``:
    ``max(1, round(c * w))`` for ``c`` = 64 (stem), 64, 128, 256, 512 (stage planes).

    Initialisation: PyTorch's default, ``kaiming_uniform_(a=sqrt(5))`` for convolutions and
    the linear layer, batch norms at weight 1, bias 0. The SBN paper says its ResNets are
    "initialized Kaiming-uniform" (§IV-A); its VGG description, whose linear layers it also
    calls Kaiming-uniform, matches code that leaves those at PyTorch's default, so we read
    "Kaiming-uniform" as that default rather than He et al.'s ``sqrt(6 / fan_in)`` bound.
    """
    return _cifar_resnet("resnet18", BasicBlock, (2, 2, 2, 2), 64, options)


def resnet34(**options) -> CifarResNet:
    """CIFAR ResNet-34: basic blocks (3, 4, 6, 3); 21,282,122 parameters for 10 classes.

    Options, stages and initialisation as :func:`resnet18`.
    """
    return _cifar_resnet("resnet34", BasicBlock, (3, 4, 6, 3), 64, options)


def resnet50(**options) -> CifarResNet:
    """CIFAR ResNet-50: bottleneck blocks (3, 4, 6, 3); 23,520,842 parameters for 10 classes.

    Options, stages and initialisation as :func:`resnet18` (a stage outputs 4 × its
    planes). torchvision's ``Bottleneck`` strides its 3×3 convolution ("ResNet v1.5"), as
    do the common CIFAR implementations.
    """
    return _cifar_resnet("resnet50", Bottleneck, (3, 4, 6, 3), 64, options)


def resnet20(**options) -> CifarResNet:
    """He et al. (2016) §4.2 CIFAR ResNet-20: 3 × 3 basic blocks, 16/32/64 channels, 0.27 M.

    Parameters
    ----------
    **options
        As :func:`resnet18` (``width`` multiplies the 16, 32, 64 channels).

    Returns
    -------
    CifarResNet
        ``(N, in_channels, H, W) -> (N, num_classes)``; 269,722 parameters for 10 classes.

    Notes
    -----
    Stages: 0 (stem), 1–3 (``layer1``–``layer3``, 16, 32, 64 channels times ``width``).
    Shortcuts are option A (:class:`ZeroPadShortcut`), so they hold no normalisation.
    Initialisation: He et al. (2015) normal, ``std = sqrt(2 / (9 * out_channels))``, for the
    convolutions (as torchvision), PyTorch's default for the linear layer.

    The mask paper's network (Table 2) is this model with learned frequency masks
    attached after construction: ``spectral.masks.add_masks_(resnet20(), (32, 32))``
    turns all 19 convolutions into masked ones (one mask per layer, before its norm),
    sized for 32×32 inputs.
    """
    model = _cifar_resnet("resnet20", BasicBlock, (3, 3, 3), 16, options, shortcut="zero_pad")
    kaiming_normal_convs_(model, mode="fan_out")
    return model
