"""Spectral Batch Normalization (Cakaj, Mehnert & Yang 2023, Algorithm 1).

SBN takes the real 2-D DFT of each feature map, normalises the DFT coefficients with a
per-channel complex mean and real variance taken over the mini-batch and all frequencies
(eq. 3–4), scales and shifts them by real per-channel ``γ``, ``β`` and transforms back.

The paper leaves four points open; each reading is an option of
:class:`SpectralBatchNorm2d` (default first):

``variance``
    ``"batch"``: normalise with the mini-batch variance, as the text says ("like in batch
    normalization", §III-B; the "noise injection" of §III-C2). ``"running"``: with the
    running variance just updated in line 5, as Algorithm 1, line 6 prints it.
``unbiased``
    Bessel factor ``n/(n-1)`` for the running variance (line 5). ``"count"``: ``n`` is
    the number of coefficients averaged per channel, as in ``nn.BatchNorm2d``;
    ``"paper"``: ``n = C·H·W/2`` as printed (it counts channels, not the batch, most
    likely a slip for ``B·H·W/2``); ``"none"``: no factor.
``complex_running_mean``
    ``True``: keep the complex batch mean ``μ`` (real part in ``running_mean``, imaginary
    part in ``running_mean_imag``), so evaluation subtracts what training subtracts.
    ``False``: keep only ``Re μ``, as the declaration ``μ_r ∈ R^C`` reads.
``weighting``
    ``"half"``: statistics over the ``rfft2`` coefficients, each counted once (the
    literal ``X̂ ∈ C^{B×C×H×W/2}``). ``"full"``: over the full ``fft2`` spectrum, i.e.
    the interior ``rfft2`` columns count twice, as the bins they stand for.

Ablations (``parts``) keep only some of the spatial form's pieces ``s·x`` and
``irfft2(c·𝟙)``, with ``s = γ/√(σ² + ε)`` and the same statistics (§V-D–F asks these
questions of the spectral form): ``"all"`` is SBN; ``"no_pattern"`` is ``s·x``, a pure
channel-wise rescaling by the spectral standard deviation (no centring, no ``β``);
``"center"`` subtracts the spectral mean only, ``γ·x + irfft2((β − γμ)·𝟙)`` (§V-D);
``"scale"`` divides by the spectral standard deviation only, ``s·x + irfft2(β·𝟙)``
(§V-E). They run on plain autograd (statistics through ``rfft2``) for either ``impl``.

``norm`` selects the DFT normalisation: ``"backward"`` is eq. (1) (unnormalised forward
DFT, inverse scaled by ``1/(HW)``) and PyTorch's default, which the paper says it uses.

The spatial form (``impl="spatial"``)
-------------------------------------
``γ, β, μ, σ`` are per-channel scalars and ``irfft2(rfft2(x)) = x``, so with
``s = γ/√(σ² + ε)`` and ``c = β − s·μ`` (complex) lines 6–8 are

.. math:: y = s\\,x + \\operatorname{irfft2}(c\\,\\mathbb 1),

and ``irfft2`` of a constant half-plane lives on the first row only: with ``α`` the
forward scale (``rfft2(x) = α·DFT(x)``: ``1``, ``1/√(HW)``, ``1/(HW)``),

.. math:: \\operatorname{irfft2}(c\\,\\mathbb 1)[0, n] = \\frac{\\operatorname{Re} c}{α}\\,
          δ[n] + \\frac{2\\operatorname{Im} c}{α W}\\,\\operatorname{Im} K[n],\\qquad
          K[n] = \\sum_{l=0}^{\\lfloor W/2\\rfloor} e^{-2πi\\,ln/W},

zero on every other row: the real part of the shift is one pixel, ``(0, 0)``; only the
imaginary part, which the half-plane mean has, spreads along row 0. (``"full"``
weighting gives a real ``μ`` and the pixel alone.) The statistics need no transform
either: ``Σ_k X̂[k, l]`` is ``α·H`` times the 1-D DFT of row 0, so ``μ`` is the first row
against ``K``; ``Σ|X̂|²`` over the half-plane is, by Parseval, half of
``α²·H·(W·Σx² + Σ_m r_m² + Σ_m a_m²)`` with row sums ``r`` and (even ``W``) alternating row
sums ``a`` (the self-conjugate columns ``l = 0`` and ``l = W/2``). Both implementations give
the same outputs, gradients and running statistics; chapter 06 derives this step by step.

``irfft2`` of a half-plane that is not conjugate-symmetric is taken as PyTorch's CPU
backend computes it: a complex inverse DFT over ``H``, then the real inverse over ``W``
that keeps the real part of columns ``0`` and ``W/2``. The spatial form is that map.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from spectral._validate import in_compute_dtype

__all__ = ["SpectralBatchNorm2d", "norm_variant"]

Impl = Literal["spatial", "fft"]
Norm = Literal["backward", "ortho", "forward"]
Weighting = Literal["half", "full"]
Variance = Literal["batch", "running"]
Unbiased = Literal["count", "paper", "none"]
Parts = Literal["all", "no_pattern", "center", "scale"]

_CHOICES = {
    "impl": ("spatial", "fft"),
    "norm": ("backward", "ortho", "forward"),
    "weighting": ("half", "full"),
    "variance": ("batch", "running"),
    "unbiased": ("count", "paper", "none"),
    "parts": ("all", "no_pattern", "center", "scale"),
}


def _forward_scale(norm: str, h: int, w: int) -> float:
    """``α`` with ``rfft2(x, norm=norm) == α · (unnormalised DFT of eq. (1))``."""
    return {"backward": 1.0, "ortho": 1.0 / math.sqrt(h * w), "forward": 1.0 / (h * w)}[norm]


@functools.lru_cache(maxsize=64)
def _first_row_kernel(w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Re K, Im K)``, float64, shape ``(w,)``, ``K[n] = Σ_{l=0}^{w//2} exp(-2πi·ln/w)``."""
    n = torch.arange(w, dtype=torch.int64)
    l = torch.arange(w // 2 + 1, dtype=torch.int64)  # noqa: E741 (the usual frequency index)
    angle = (2.0 * math.pi / w) * torch.remainder(torch.outer(l, n), w).to(torch.float64)
    return torch.cos(angle).sum(0), -torch.sin(angle).sum(0)


@functools.lru_cache(maxsize=64)
def _spatial_bases(
    weighting: str, w: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """Row vectors of length ``w`` that the spatial form applies to rows of the maps.

    Returns
    -------
    columns : Tensor ``(w, 1 or 2)`` or None
        Sums of a row that give the self-conjugate DFT columns: ``[1]`` (``l = 0``), and
        for even ``w`` also ``[(-1)^n]`` (``l = w/2``). None for ``"full"``.
    mean_kernel : Tensor ``(w, 2)`` or ``(w, 1)``
        ``[Re K, Im K]`` (``"half"``), or ``[δ]`` (``"full"``): row 0 against it gives the
        spectral mean up to a factor.
    pattern : Tensor ``(w, 2)`` or ``(w, 1)``
        ``[δ, 2·Im K/w]`` (``"half"``) or ``[δ]`` (``"full"``): row 0 of ``irfft2`` of a
        constant ``c`` (times ``α``) is ``pattern @ [Re c, Im c]``.
    """
    delta = torch.zeros(w, dtype=torch.float64)
    delta[0] = 1.0
    if weighting == "full":
        columns, mean_kernel, pattern = None, delta[:, None], delta[:, None]
    else:
        kernel_re, kernel_im = _first_row_kernel(w)
        ones = torch.ones(w, dtype=torch.float64)
        if w % 2:
            columns = ones[:, None]
        else:
            columns = torch.stack([ones, (-1.0) ** torch.arange(w, dtype=torch.float64)], 1)
        mean_kernel = torch.stack([kernel_re, kernel_im], 1)
        pattern = torch.stack([delta, 2 * kernel_im / w], 1)
    move = functools.partial(torch.Tensor.to, dtype=dtype, device=device)
    return (None if columns is None else move(columns)), move(mean_kernel), move(pattern)


def _coefficient_count(weighting: str, b: int, h: int, w: int) -> int:
    """Number of DFT coefficients per channel that the batch statistics average."""
    return b * h * (w // 2 + 1) if weighting == "half" else b * h * w


def _spectral_statistics(spectrum: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. (3)–(4): complex mean and ``mean |X̂ − μ|²`` over dims 0, 2, 3; shapes ``(C,)``."""
    mean = spectrum.mean(dim=(0, 2, 3))
    centred = spectrum - mean[:, None, None]
    var = (centred.real.square() + centred.imag.square()).mean(dim=(0, 2, 3))
    return mean, var


def _channel_energy(a: torch.Tensor) -> torch.Tensor:
    """``Σ a²`` over all dims but dim 1 of a ``(B, C, ...)`` tensor, shape ``(C,)``."""
    return torch.linalg.vector_norm(a.flatten(2), dim=-1).square().sum(0)


def _channel_dot(a: torch.Tensor, b: torch.Tensor, chunk: int = 1 << 20) -> torch.Tensor:
    """``Σ a·b`` over all dims but dim 1 of two ``(B, C, ...)`` tensors, shape ``(C,)``.

    In batch slices of about ``chunk`` elements: the elementwise product then never needs
    a large fresh allocation, which on CPU costs more than the arithmetic.
    """
    step = max(1, chunk // a[0].numel())
    parts = [
        torch.linalg.vecdot(a[i : i + step].flatten(2), b[i : i + step].flatten(2)).sum(0)
        for i in range(0, a.shape[0], step)
    ]
    return torch.stack(parts).sum(0)


@dataclass(frozen=True)
class _SpatialSpec:
    """Constants of one spatial-form call: ``var_used = var_gain·σ² + var_offset``."""

    weighting: str
    alpha: float
    eps: float
    var_gain: float


def _memory_format(x: torch.Tensor) -> torch.memory_format:
    """``channels_last`` for a ``channels_last`` (and not contiguous) ``x``, else contiguous."""
    if not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


class _SpatialBatchSBN(torch.autograd.Function):
    """SBN with batch statistics in the spatial domain, with a hand-derived fused backward.

    ``forward(ctx, x, weight, bias, var_offset, spec)``: ``x`` ``(B, C, H, W)``;
    ``weight``, ``bias`` ``(C,)`` or None; ``var_offset`` ``(C,)`` or None (the
    ``(1 − λ)·σ_r²`` share of Algorithm 1, line 5, when normalising with the running
    variance). Returns ``y``, the batch mean ``μ`` as ``(C, 2)`` ``[Re, Im]`` and the batch
    variance ``σ²`` ``(C,)``; the last two carry no gradient (they feed the buffers).

    With the per-channel sums ``E = Σ x²``, ``S = Σ_{b,m} |row_m @ columns|²`` and
    ``F = Σ_b row_0 @ mean_kernel`` (see :func:`_spatial_bases`), ``μ = α·g_μ·F`` and
    ``σ² = α²·((p_E·E + p_S·S)/N − |g_μ·F|²)`` (``"half"``: ``g_μ = H/N``,
    ``p_E = HW/2``, ``p_S = H/2``; ``"full"``: ``g_μ = 1/B``, ``p_E = HW``, ``p_S = 0``).
    The full-size work is, forward, ``Σ x²``, one matrix product over the rows and the
    output; backward, ``Σ g·x`` and the input gradient built in place (scaled ``g``, plus
    ``x`` and the row sums times per-channel factors, plus a row-0 term). The backward is
    hand-derived and once-differentiable; use ``impl="fft"`` for higher-order gradients.
    A ``channels_last`` ``x`` (or gradient, or any other strides) is computed on a
    contiguous copy: the row products need rows, and strided reductions are many times
    slower than the copies; ``y`` and the input gradient come back ``channels_last`` for
    a ``channels_last`` ``x``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, var_offset, spec):
        ctx.memory_format = _memory_format(x)
        x = x.contiguous()
        b, c, h, w = x.shape
        count = _coefficient_count(spec.weighting, b, h, w)
        columns, mean_kernel, pattern = _spatial_bases(spec.weighting, w, x.dtype, x.device)
        energy = _channel_energy(x)
        first_row = (x[:, :, 0, :] @ mean_kernel).sum(0)
        if columns is None:
            row_sums, self_conjugate = None, torch.zeros_like(energy)
            mean_gain, energy_gain, self_conjugate_gain = 1 / b, h * w, 0.0
        else:
            row_sums = (x.reshape(-1, w) @ columns).view(b, c, h, -1)
            self_conjugate = _channel_energy(row_sums)
            mean_gain, energy_gain, self_conjugate_gain = h / count, h * w / 2, h / 2
        mean = mean_gain * first_row  # μ / α, (C, k)
        raw_var = (energy_gain * energy + self_conjugate_gain * self_conjugate) / count - (
            mean.square().sum(1)
        )
        var = spec.alpha**2 * raw_var.clamp_min(0)
        var_used = spec.var_gain * var + (0 if var_offset is None else var_offset)
        inv_std = torch.rsqrt(var_used + spec.eps)
        scale = inv_std if weight is None else inv_std * weight
        shift = -scale[:, None] * mean  # c / α = (β − s·μ) / α
        if bias is not None:
            shift[:, 0] += bias / spec.alpha
        y = x * scale[:, None, None]
        y[:, :, 0, :] += shift @ pattern.T
        ctx.spec, ctx.gains = spec, (count, mean_gain, energy_gain, self_conjugate_gain)
        ctx.has_bias = bias is not None
        ctx.save_for_backward(x, weight, row_sums, mean, inv_std, scale, raw_var > 0)
        mean_out = torch.zeros(c, 2, dtype=x.dtype, device=x.device)
        mean_out[:, : mean.shape[1]] = spec.alpha * mean
        ctx.mark_non_differentiable(mean_out, var)
        return y.contiguous(memory_format=ctx.memory_format), mean_out, var

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y, _grad_mean, _grad_var):
        x, weight, row_sums, mean, inv_std, scale, positive = ctx.saved_tensors
        grad_y = grad_y.contiguous()  # e.g. channels_last from the next convolution
        spec = ctx.spec
        count, mean_gain, energy_gain, self_conjugate_gain = ctx.gains
        w = x.shape[-1]
        columns, mean_kernel, pattern = _spatial_bases(spec.weighting, w, x.dtype, x.device)
        d_shift = grad_y[:, :, 0, :].sum(0) @ pattern  # ∂L/∂(c/α), (C, k)
        d_scale = _channel_dot(grad_y, x) - (d_shift * mean).sum(1)
        d_var_used = -0.5 * d_scale * scale * inv_std.square()
        d_raw_var = d_var_used * (spec.var_gain * spec.alpha**2) * positive
        d_mean = -scale[:, None] * d_shift - 2 * mean * d_raw_var[:, None]
        grad_x = grad_y * scale[:, None, None]
        grad_x.addcmul_(x, (2 * energy_gain / count * d_raw_var)[:, None, None])
        if row_sums is not None:  # + (coefficient · row_sums) @ columns.T, in place
            coefficient = (2 * self_conjugate_gain / count * d_raw_var)[:, None, None]
            weighted = (row_sums * coefficient).view(-1, row_sums.shape[-1])
            grad_x.view(-1, w).addmm_(weighted, columns.T)
        grad_x[:, :, 0, :] += (mean_gain * d_mean) @ mean_kernel.T
        grad_weight = None if weight is None else d_scale * inv_std
        grad_bias = d_shift[:, 0] / spec.alpha if ctx.has_bias else None
        grad_x = grad_x.contiguous(memory_format=ctx.memory_format)
        return grad_x, grad_weight, grad_bias, None, None


def _spatial_affine(
    x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, weighting: str, alpha: float
) -> torch.Tensor:
    """``scale·x + irfft2(shift·𝟙)`` for given (running) statistics, by plain autograd."""
    _, _, pattern = _spatial_bases(weighting, x.shape[-1], x.dtype, x.device)
    parts = torch.stack([shift.real, shift.imag], dim=1)[:, : pattern.shape[1]] / alpha
    y = x * scale[:, None, None]
    y[:, :, 0, :] += parts @ pattern.T
    return y


class SpectralBatchNorm2d(nn.Module):
    """Spectral Batch Normalization of ``(N, C, H, W)`` feature maps (SBN, Algorithm 1).

    Parameters
    ----------
    num_features : int
        ``C``, the number of channels.
    eps : float, default 1e-5
        Added to the variance, ``>= 0``.
    momentum : float or None, default 0.1
        ``λ`` of Algorithm 1, lines 4–5: ``running = (1 − λ)·running + λ·batch``, as in
        ``nn.BatchNorm2d``; ``None`` keeps the cumulative average over all batches.
    affine : bool, default True
        Learn real per-channel ``γ`` (``weight``, init 1) and ``β`` (``bias``, init 0).
    track_running_stats : bool, default True
        Keep running statistics for evaluation; without them evaluation uses the batch.
    impl : {"spatial", "fft"}, default "spatial"
        ``"fft"``: Algorithm 1 literally with ``torch.fft``. ``"spatial"``: the exact
        FFT-free form (module docstring). Same outputs, gradients and running statistics.
    norm : {"backward", "ortho", "forward"}, default "backward"
        DFT normalisation; ``"backward"`` is eq. (1).
    weighting : {"half", "full"}, default "half"
        Statistics over the ``rfft2`` half-plane (literal) or the full spectrum.
    variance : {"batch", "running"}, default "batch"
        Normalise training batches with the batch variance (text) or with the updated
        running variance (Algorithm 1, line 6; gradients flow through the batch's share
        ``λ·σ²·n/(n−1)``). ``"running"`` needs ``track_running_stats``.
    unbiased : {"count", "paper", "none"}, default "count"
        ``n`` of the factor ``n/(n−1)`` in line 5: the per-channel coefficient count
        (``B·H·(W//2+1)``, or ``B·H·W`` for ``"full"``), ``C·H·W/2`` as printed, or none.
    complex_running_mean : bool, default True
        Keep the imaginary part of ``μ`` in ``running_mean_imag`` (else evaluation uses
        ``Re μ`` only, the paper's real ``μ_r``).
    parts : {"all", "no_pattern", "center", "scale"}, default "all"
        SBN, or one of the ablations of the module docstring (rescaling only, centring
        only, scaling with the shift ``β`` but no centring).
    device, dtype
        Of the parameters and buffers.

    Shape
    -----
    Input ``(N, C, H, W)`` real, any ``H, W >= 1``; output the same. Training needs more
    than one coefficient per channel (``N = 1`` is fine unless ``H = W = 1``): the
    spectral variance is taken over frequencies as well as the batch.

    Notes
    -----
    Dtypes and autocast follow the package's policy (:mod:`spectral._validate`): float64
    input computes in float64, any other in float32, with autocast disabled inside, and
    the output has the input's dtype (bf16 in, bf16 out under autocast). Any memory
    format is accepted; ``impl="spatial"`` keeps it (``channels_last`` in, out and input
    gradient), ``impl="fft"`` returns a contiguous output. Buffers:
    ``running_mean``, ``running_mean_imag`` (if complex), ``running_var``,
    ``num_batches_tracked``; they never carry autograd history. With batch statistics
    ``impl="spatial"`` has a hand-derived, once-differentiable backward (double backward
    needs ``impl="fft"``).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        impl: Impl = "spatial",
        norm: Norm = "backward",
        weighting: Weighting = "half",
        variance: Variance = "batch",
        unbiased: Unbiased = "count",
        complex_running_mean: bool = True,
        parts: Parts = "all",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int):
            raise TypeError(f"num_features must be an int, got {type(num_features).__name__}")
        if num_features < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}")
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1] or None, got {momentum}")
        options = {
            "impl": impl,
            "norm": norm,
            "weighting": weighting,
            "variance": variance,
            "unbiased": unbiased,
            "parts": parts,
        }
        for name, value in options.items():
            if value not in _CHOICES[name]:
                raise ValueError(f"{name} must be one of {_CHOICES[name]}, got {value!r}")
        if variance == "running" and not track_running_stats:
            raise ValueError(
                'variance="running" normalises with the running variance, which needs '
                "track_running_stats=True"
            )
        self.num_features = num_features
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.impl, self.norm, self.weighting = impl, norm, weighting
        self.variance, self.unbiased = variance, unbiased
        self.complex_running_mean = complex_running_mean
        self.parts = parts
        factory = {"device": device, "dtype": dtype}
        if affine:
            self.weight = nn.Parameter(torch.empty(num_features, **factory))
            self.bias = nn.Parameter(torch.empty(num_features, **factory))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            imag = torch.zeros(num_features, **factory) if complex_running_mean else None
            self.register_buffer("running_mean_imag", imag)
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            for name in ("running_mean", "running_mean_imag", "running_var"):
                self.register_buffer(name, None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0 (real and imaginary), running variance 1, batch count 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            if self.running_mean_imag is not None:
                self.running_mean_imag.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """:meth:`reset_running_stats`, then ``γ = 1``, ``β = 0``."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}, "
            f"impl={self.impl!r}, norm={self.norm!r}, weighting={self.weighting!r}, "
            f"variance={self.variance!r}, unbiased={self.unbiased!r}, "
            f"complex_running_mean={self.complex_running_mean}, parts={self.parts!r}"
        )

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"input must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 4:
            raise ValueError(
                f"expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}; "
                "add the batch dimension with x[None] for a single sample"
            )
        if not x.is_floating_point():
            raise TypeError(
                f"input must be a real floating tensor, got {x.dtype}; SBN takes the real "
                "DFT of real feature maps (convert with x.float())"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"expected {self.num_features} channels (dim 1), got input of shape "
                f"{tuple(x.shape)}; construct SpectralBatchNorm2d({x.shape[1]}) for it"
            )
        if x.shape[2] == 0 or x.shape[3] == 0:
            raise ValueError(f"H and W must be >= 1, got input of shape {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply SBN to ``x`` of shape ``(N, C, H, W)``; returns the same shape."""
        self._check_input(x)
        return in_compute_dtype(self._normalize, x)

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        if self.weighting == "half":
            return torch.fft.rfft2(x, norm=self.norm)
        return torch.fft.fft2(x, norm=self.norm)

    def _inverse(self, spectrum: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        if self.weighting == "half":
            return torch.fft.irfft2(spectrum, s=size, norm=self.norm)
        return torch.fft.ifft2(spectrum, norm=self.norm).real

    def _bessel_factor(self, b: int, c: int, h: int, w: int) -> float:
        if self.unbiased == "none":
            return 1.0
        if self.unbiased == "count":
            n = _coefficient_count(self.weighting, b, h, w)
        else:
            n = c * h * w / 2
        if n <= 1:
            raise ValueError(
                f'unbiased="paper" uses n = C·H·W/2 = {n}, and n/(n-1) needs n > 1; '
                'use unbiased="count" or "none" for such small inputs'
            )
        return n / (n - 1)

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        alpha = _forward_scale(self.norm, h, w)
        weight = self.weight.to(x.dtype) if self.affine else None
        bias = self.bias.to(x.dtype) if self.affine else None
        if not self.training and self.track_running_stats:
            imag = self.running_mean_imag
            mean = torch.complex(
                self.running_mean.to(x.dtype),
                imag.to(x.dtype) if imag is not None else x.new_zeros(c),
            )
            var = self.running_var.to(x.dtype)
            if self.parts != "all":
                return self._ablation_output(x, mean, var, weight, bias, alpha)
            if self.impl == "fft":
                return self._algorithm_1_output(self._transform(x), mean, var, weight, bias, (h, w))
            scale = (
                torch.rsqrt(var + self.eps)
                if weight is None
                else weight * torch.rsqrt(var + self.eps)
            )
            shift = -scale * mean if bias is None else bias - scale * mean
            return _spatial_affine(x, scale, shift, self.weighting, alpha)

        count = _coefficient_count(self.weighting, b, h, w)
        if count <= 1:
            raise ValueError(
                f"expected more than 1 DFT coefficient per channel for batch statistics, "
                f"got input of shape {tuple(x.shape)}; use a larger batch or map, or "
                "eval() with running statistics"
            )
        update = self.training and self.track_running_stats
        gain, offset, factor = 1.0, None, 0.0
        if update:  # Algorithm 1, line 5: σ_r² ← λ·n/(n−1)·σ² + (1 − λ)·σ_r²
            bessel = self._bessel_factor(b, c, h, w)
            self.num_batches_tracked.add_(1)
            factor = self.momentum
            if factor is None:
                factor = 1.0 / float(self.num_batches_tracked)
            gain, offset = factor * bessel, (1 - factor) * self.running_var.to(x.dtype)
        normalise_with_running = update and self.variance == "running"
        if self.parts != "all":
            mean, var = _spectral_statistics(self._transform(x))
            var_used = gain * var + offset if normalise_with_running else var
            y = self._ablation_output(x, mean, var_used, weight, bias, alpha)
        elif self.impl == "fft":
            spectrum = self._transform(x)
            mean, var = _spectral_statistics(spectrum)
            var_used = gain * var + offset if normalise_with_running else var
            y = self._algorithm_1_output(spectrum, mean, var_used, weight, bias, (h, w))
        else:
            spec = _SpatialSpec(
                self.weighting, alpha, self.eps, gain if normalise_with_running else 1.0
            )
            y, mean_parts, var = _SpatialBatchSBN.apply(
                x, weight, bias, offset if normalise_with_running else None, spec
            )
            mean = torch.complex(mean_parts[:, 0], mean_parts[:, 1])
        if update:  # lines 4–5 on detached buffers: no autograd history across steps
            with torch.no_grad():
                self.running_mean.lerp_(mean.real.to(self.running_mean.dtype), factor)
                if self.running_mean_imag is not None:
                    imag = mean.imag.to(self.running_mean_imag.dtype)
                    self.running_mean_imag.lerp_(imag, factor)
                self.running_var.copy_(gain * var + offset)
        return y

    def _ablation_output(
        self,
        x: torch.Tensor,
        mean: torch.Tensor,
        var: torch.Tensor,
        weight: torch.Tensor | None,
        bias: torch.Tensor | None,
        alpha: float,
    ) -> torch.Tensor:
        """The ``parts`` ablations: ``scale·x + irfft2(shift·𝟙)`` with some pieces dropped."""
        gamma = weight if weight is not None else torch.ones_like(var)
        beta = bias if bias is not None else torch.zeros_like(var)
        divided = gamma * torch.rsqrt(var + self.eps)
        scale, shift = {
            "no_pattern": (divided, torch.zeros_like(mean)),
            "center": (gamma, beta - gamma * mean),
            "scale": (divided, beta.to(mean.dtype)),
        }[self.parts]
        return _spatial_affine(x, scale, shift, self.weighting, alpha)

    def _algorithm_1_output(
        self,
        spectrum: torch.Tensor,
        mean: torch.Tensor,
        var: torch.Tensor,
        weight: torch.Tensor | None,
        bias: torch.Tensor | None,
        size: tuple[int, int],
    ) -> torch.Tensor:
        """Algorithm 1, lines 6–8: normalise, scale and shift every coefficient, invert."""
        normalized = (spectrum - mean[:, None, None]) * torch.rsqrt(var + self.eps)[:, None, None]
        if weight is not None:
            normalized = weight[:, None, None] * normalized + bias[:, None, None]
        return self._inverse(normalized, size)


_VARIANT = re.compile(r"(?P<kind>BN|2BN|SBN)(?P<stages>[0-9]*)")


def norm_variant(name: str, **sbn_options) -> Callable[[int, int], nn.Module]:
    """The ``norm_layer`` of one of the paper's model variants, selected by name (§IV).

    Parameters
    ----------
    name : str
        ``"BN"``: ``nn.BatchNorm2d`` after every convolution (the baseline).
        ``"SBN<stages>"``, e.g. ``"SBN34"``: a :class:`SpectralBatchNorm2d` after each batch
        norm of the listed stages (the paper's modules; one digit per stage, see
        :mod:`spectral.models`); ``"2BN<stages>"``, e.g. ``"2BN34"``: a second
        ``nn.BatchNorm2d`` there instead (the paper's control).
    **sbn_options
        Keyword arguments of :class:`SpectralBatchNorm2d` for ``"SBN…"`` (e.g.
        ``impl="fft"``); checked now.

    Returns
    -------
    callable ``(num_features, stage) -> nn.Module``
        For the ``norm_layer`` argument of the factories in :mod:`spectral.models`; the
        ``"SBN…"``/``"2BN…"`` variants are :func:`spectral.models.stagewise` objects, so a
        factory rejects stages its model does not have.
    """
    from spectral.models import batch_norm, stagewise  # the models import torchvision

    match = _VARIANT.fullmatch(name) if isinstance(name, str) else None
    if match is None or (match["kind"] == "BN") != (match["stages"] == ""):
        raise ValueError(
            f"unknown norm variant {name!r}; use 'BN', or 'SBN'/'2BN' followed by the stage "
            "digits, e.g. 'SBN34', '2BN34', 'SBN4'"
        )
    if len(set(match["stages"])) != len(match["stages"]):
        raise ValueError(f"norm variant {name!r} names a stage twice")
    if sbn_options and match["kind"] != "SBN":
        raise ValueError(
            f"options {sorted(sbn_options)} only apply to 'SBN…' variants, not {name!r}"
        )
    if match["kind"] == "BN":
        return batch_norm
    stages = {int(digit) for digit in match["stages"]}
    if match["kind"] == "2BN":
        return stagewise(nn.BatchNorm2d, stages)
    SpectralBatchNorm2d(1, **sbn_options)  # fail on a bad option here, not at model build
    return stagewise(functools.partial(SpectralBatchNorm2d, **sbn_options), stages)
