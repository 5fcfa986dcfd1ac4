"""Dense references that the tests and the book's chapters share.

Each function computes by the slow, obvious route (dense complex128 DFT matrices of
:func:`spectral.fft.naive_dft2`, an explicit centred crop or zero-pad) what a fast layer
should compute, so that the unit tests and the chapters check the package against one
definition. Conventions as in :mod:`spectral.fft`: unitary DFT, DC at ``[0, 0]``,
centred spectra with DC at ``[H // 2, W // 2]``.

- :func:`randn` — seeded standard normal draws, the same values for every dtype
- :func:`centred_resize` — Rippel et al.'s CROPSPECTRUM / PADSPECTRUM on centred spectra
- :func:`resize_reference` — Algorithm 1 (spectral pooling) with the real-part repair;
  to a larger size, band-limited interpolation
- :func:`pool_gradient_reference` — Algorithm 2 (its backward): the adjoint of Alg. 1
- :func:`conv_model` — a bias-free single-channel convolution with given taps
- :func:`dft_amplitude` — ``|DFT|`` (unnormalised), centred
"""

from __future__ import annotations

import math

import torch
from torch import nn

from spectral.fft import centered, naive_dft2, naive_idft2, uncentered

__all__ = [
    "FixedRadiusPool",
    "centred_resize",
    "conv_model",
    "dft_amplitude",
    "pool_gradient_reference",
    "randn",
    "randomized_sbn",
    "resize_reference",
]


def randn(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Standard normal draws from their own generator seeded with ``seed``.

    Drawn in float64 and cast, so every dtype gets the same values up to rounding, and
    torch's global generator is left alone.
    """
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64).to(dtype)


def centred_resize(spectrum: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """A centred spectrum resized to ``(h, w)`` about its centre, as complex128.

    The frequencies both sizes share keep their values; the rest are dropped (a crop,
    CROPSPECTRUM) or zero (a pad, PADSPECTRUM). Each dimension is cropped or padded on
    its own.
    """
    H, W = spectrum.shape[-2:]
    out = torch.zeros(*spectrum.shape[:-2], h, w, dtype=torch.complex128)
    rh, rw = min(h, H), min(w, W)
    r, c = h // 2 - rh // 2, w // 2 - rw // 2
    R, C = H // 2 - rh // 2, W // 2 - rw // 2
    out[..., r : r + rh, c : c + rw] = spectrum[..., R : R + rh, C : C + rw]
    return out


def resize_reference(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """``√(hw/HW) · Re F⁻¹(centred_resize(F x))`` of a real map, in float64.

    To a smaller size this is Rippel et al.'s Algorithm 1 (spectral pooling) with the
    real part as the repair of the cropped spectrum; to a larger one, band-limited
    interpolation. The factor keeps a constant map the same constant.
    """
    H, W = x.shape[-2:]
    spectrum = centred_resize(centered(naive_dft2(x.to(torch.float64))), h, w)
    return naive_idft2(uncentered(spectrum)).real * math.sqrt(h * w / (H * W))


def pool_gradient_reference(grad: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """Rippel et al.'s Algorithm 2: the input gradient of :func:`resize_reference`.

    ``√(hw/HW) · Re F⁻¹(centred_resize(F g))`` for an output gradient ``g`` of size
    ``(h, w)``: the adjoint of Algorithm 1 (PADSPECTRUM by zeros, RECOVERMAP by the real
    part), in float64.
    """
    h, w = grad.shape[-2:]
    spectrum = centred_resize(centered(naive_dft2(grad.to(torch.float64))), H, W)
    return naive_idft2(uncentered(spectrum)).real * math.sqrt(h * w / (H * W))


def conv_model(taps: torch.Tensor, relu: bool = False) -> nn.Module:
    """A bias-free single-channel convolution with these ``k × k`` taps, 'same' padding.

    In ``taps``' dtype; followed by a ReLU with ``relu=True``.
    """
    k = taps.shape[-1]
    conv = nn.Conv2d(1, 1, k, padding=k // 2, bias=False).to(taps.dtype)
    with torch.no_grad():
        conv.weight.copy_(taps.view(1, 1, k, k))
    return nn.Sequential(conv, nn.ReLU()) if relu else conv


def dft_amplitude(x: torch.Tensor) -> torch.Tensor:
    """``|DFT|`` (unnormalised) of the last two dims, centred, by dense DFT matrices."""
    h, w = x.shape[-2:]
    return centered(naive_dft2(x)).abs() * math.sqrt(h * w)


class FixedRadiusPool(torch.nn.Module):
    """:func:`~spectral.pooling.spectral_pool` with a fixed frequency-dropout radius.

    Deterministic, unlike :class:`~spectral.pooling.SpectralPool2d`'s sampled radius: for
    comparing the layer under autocast or another memory format with a reference.
    """

    def __init__(self, size, radius=None, impl: str = "matrix"):
        super().__init__()
        self.size, self.radius, self.impl = size, radius, impl

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from spectral.pooling import spectral_pool

        return spectral_pool(x, self.size, radius=self.radius, impl=self.impl)


def randomized_sbn(channels: int, impl: str, train: bool) -> torch.nn.Module:
    """A :class:`~spectral.norm.SpectralBatchNorm2d` with random affine parameters and
    random running statistics (used in eval mode), so no term of the layer is trivial."""
    from spectral.norm import SpectralBatchNorm2d

    module = SpectralBatchNorm2d(channels, impl=impl)
    with torch.no_grad():
        module.weight.uniform_(0.5, 1.5)
        module.bias.normal_()
        module.running_mean.normal_()
        module.running_mean_imag.normal_()
        module.running_var.uniform_(0.5, 2.0)
    return module.train(train)
