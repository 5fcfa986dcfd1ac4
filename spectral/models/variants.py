"""The normalisation variants of Cakaj et al. (2023), §IV, by name: a model's ``norm_layer``.

The SBN paper compares a CIFAR ResNet with batch norm after every convolution (``"BN"``)
with the same network plus a :class:`~spectral.norm.SpectralBatchNorm2d` after each batch
norm of some stages (``"SBN34"``: stages 3 and 4, the paper's "modules"), and with the
control that has a second ``nn.BatchNorm2d`` there instead (``"2BN34"``).
``"2BN34-scaled"`` is that control with the second batch norm's ``γ`` starting at
``1/√(H·W)`` of its stage's maps: the rescaling that SBN with eq. (1)'s DFT applies to
batch-normalised maps (chapter 06, §4), without anything spectral.
:func:`scale_classifier_input_` builds the other control of issue 16, ``BN-logit-scale``:
a BN network whose classifier input is scaled by a fixed factor (SBN34's ratio to BN at
initialisation, :func:`classifier_input_norm`).

>>> from spectral.models import resnet18
>>> from spectral.models.variants import norm_variant
>>> model = resnet18(norm_layer=norm_variant("SBN34", fft_norm="ortho"))
"""

from __future__ import annotations

import copy
import functools
import math
import re
from dataclasses import dataclass

import torch
from torch import nn

from spectral._validate import check_number, check_pair
from spectral.models._layers import NormLayer, StagewiseNorm, batch_norm, stagewise
from spectral.norm import SpectralBatchNorm2d

__all__ = [
    "FixedScale",
    "classifier_input_norm",
    "norm_variant",
    "scale_classifier_input_",
    "stage_map_size",
]

_VARIANT = re.compile(r"(?P<kind>BN|2BN|SBN)(?P<stages>[0-9]*)(?P<scaled>-scaled)?")


def stage_map_size(stage: int, input_size: tuple[int, int]) -> tuple[int, int]:
    """``(H, W)`` of the maps in ``stage`` of a CIFAR ResNet for ``input_size`` images.

    The stem (stage 0) and stage 1 keep the input size; every later stage opens with a
    stride-2 convolution (3×3 with padding 1, and the 1×1 projection), which maps a size
    ``n`` to ``⌈n/2⌉`` (:mod:`spectral.models.resnet`). The VGGs' stage ``s`` has the same
    size when ``input_size`` is divisible by ``2^(s−1)`` (their max-pools round down).
    """
    h, w = input_size
    for _ in range(max(0, stage - 1)):
        h, w = -(-h // 2), -(-w // 2)
    return h, w


@dataclass(frozen=True)
class _ScaledStagewise(StagewiseNorm):
    """A :class:`~spectral.models.StagewiseNorm` whose second norm starts at ``γ = 1/√(H·W)``.

    ``(H, W)`` is :func:`stage_map_size` of the stage for ``input_size``; ``β`` stays 0.
    """

    input_size: tuple[int, int] = (32, 32)

    def __call__(self, num_features: int, stage: int) -> nn.Module:
        module = super().__call__(num_features, stage)
        if stage in self.stages:
            h, w = stage_map_size(stage, self.input_size)
            nn.init.constant_(module[1].weight, 1 / math.sqrt(h * w))
        return module


def _parse(name: str) -> tuple[str, frozenset[int], bool]:
    """``(kind, stages, scaled)`` of a variant name; ValueError for anything else."""
    match = _VARIANT.fullmatch(name) if isinstance(name, str) else None
    if (
        match is None
        or (match["kind"] == "BN") != (match["stages"] == "")
        or (match["scaled"] and match["kind"] != "2BN")
    ):
        raise ValueError(
            f"unknown norm variant {name!r}; use 'BN', or 'SBN'/'2BN' followed by the stage "
            "digits, e.g. 'SBN34', '2BN34', 'SBN4', or '2BN34-scaled'"
        )
    if len(set(match["stages"])) != len(match["stages"]):
        raise ValueError(f"norm variant {name!r} names a stage twice")
    return match["kind"], frozenset(map(int, match["stages"])), bool(match["scaled"])


def norm_variant(
    name: str, *, input_size: int | tuple[int, int] = (32, 32), **sbn_options
) -> NormLayer:
    """The ``norm_layer`` of one of the paper's model variants, selected by name (§IV).

    Parameters
    ----------
    name : str
        ``"BN"``: ``nn.BatchNorm2d`` after every convolution (the baseline).
        ``"SBN<stages>"``, e.g. ``"SBN34"``: a :class:`~spectral.norm.SpectralBatchNorm2d`
        after each batch norm of the listed stages (one digit per stage, see
        :mod:`spectral.models`). ``"2BN<stages>"``, e.g. ``"2BN34"``: a second
        ``nn.BatchNorm2d`` there instead (the paper's control). ``"2BN<stages>-scaled"``:
        that control with the second batch norm initialised to ``γ = 1/√(H·W)``,
        ``β = 0``, for the ``H × W`` maps of its stage (:func:`stage_map_size`).
    input_size : int or (int, int), default (32, 32)
        Image size the model will see; only ``"…-scaled"`` variants use it, every variant
        accepts it (so callers can pass it for all arms).
    **sbn_options
        Keyword arguments of :class:`~spectral.norm.SpectralBatchNorm2d` for ``"SBN…"``,
        e.g. ``impl="fft"``, ``fft_norm="ortho"`` or ``parts="center"``; checked now.

    Returns
    -------
    callable ``(num_features, stage) -> nn.Module``
        For the ``norm_layer`` argument of the factories in :mod:`spectral.models`; the
        ``"SBN…"``/``"2BN…"`` variants are :class:`~spectral.models.StagewiseNorm`
        objects, so a factory rejects stages its model does not have.

    Raises
    ------
    ValueError
        An unknown name, a stage named twice, options for a variant without an SBN, or a
        bad SBN option.
    """
    kind, stages, scaled = _parse(name)
    size = check_pair("input_size", input_size)
    if sbn_options and kind != "SBN":
        raise ValueError(
            f"options {sorted(sbn_options)} only apply to 'SBN…' variants, not {name!r}"
        )
    if kind == "BN":
        return batch_norm
    if kind == "2BN" and scaled:
        return _ScaledStagewise(nn.BatchNorm2d, stages, size)
    if kind == "2BN":
        return stagewise(nn.BatchNorm2d, stages)
    SpectralBatchNorm2d(1, **sbn_options)  # fail on a bad option here, not at model build
    return stagewise(functools.partial(SpectralBatchNorm2d, **sbn_options), stages)


# --- the logit-scale control: BN with SBN's rescaling of the classifier input, fixed ------


class FixedScale(nn.Module):
    """``x ↦ factor · x`` with a fixed (not learned) ``factor``, kept in the state dict."""

    def __init__(self, factor: float):
        super().__init__()
        self.register_buffer("factor", torch.tensor(check_number("factor", factor)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor.to(x.dtype)

    def extra_repr(self) -> str:
        return f"factor={float(self.factor):.6g}"


def _last_linear(model: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    """The parent, attribute name and module of the last ``nn.Linear`` of ``model``."""
    found = [
        (parent, child_name, child)
        for parent in model.modules()
        for child_name, child in parent.named_children()
        if isinstance(child, nn.Linear)
    ]
    if not found:
        raise ValueError(f"{type(model).__name__} has no nn.Linear classifier to scale")
    return found[-1]


@torch.no_grad()
def classifier_input_norm(model: nn.Module, x: torch.Tensor) -> float:
    """Mean per-sample L2 norm of the input of ``model``'s last ``nn.Linear`` on ``x``.

    Measured in training mode (batch statistics, as at the first training step) on a copy
    of ``model``, so neither its running statistics nor its mode change.

    Parameters
    ----------
    model : nn.Module
    x : Tensor, shape ``(B, C, H, W)``
    """
    probe = copy.deepcopy(model).train()
    seen: list[torch.Tensor] = []
    _, _, linear = _last_linear(probe)
    handle = linear.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    try:
        probe(x)
    finally:
        handle.remove()
    return float(seen[-1].flatten(1).float().norm(dim=1).mean())


def scale_classifier_input_(model: nn.Module, factor: float) -> nn.Module:
    """Put a :class:`FixedScale` of ``factor`` before ``model``'s last ``nn.Linear``.

    Issue 16's ``BN-logit-scale`` arm: a BN network whose classifier input is scaled as
    SBN34's is at initialisation (chapter 06 derives that SBN34 is nearly a BN network
    with a rescaled classifier input), to test whether that rescaling alone reproduces
    what SBN does to accuracy. Returns ``model``, changed in place.
    """
    parent, name, linear = _last_linear(model)
    setattr(parent, name, nn.Sequential(FixedScale(factor), linear))
    return model
