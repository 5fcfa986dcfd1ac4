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

``fft_norm`` selects the DFT normalisation: ``"backward"`` is eq. (1) (unnormalised forward
DFT, inverse scaled by ``1/(HW)``) and PyTorch's default, which the paper says it uses;
``"ortho"`` (the unitary DFT) removes the ``1/√(HW)`` rescaling that eq. (1) makes SBN
apply to batch-normalised maps (chapter 06, §4).

Ablations (``parts``) keep only some of the spatial form's pieces ``s·x`` and
``irfft2(c·𝟙)`` below, with the same statistics (§V-D–F asks these questions of the
spectral form): ``"all"`` is SBN; ``"no_pattern"`` is ``s·x``, a pure channel-wise
rescaling by the spectral standard deviation (no centring, no ``β``); ``"center"``
subtracts the spectral mean only, ``γ·x + irfft2((β − γμ)·𝟙)`` (§V-D); ``"scale"``
divides by the spectral standard deviation only, ``s·x + irfft2(β·𝟙)`` (§V-E). They run
on plain autograd (statistics through ``rfft2``) for either ``impl``.

The two implementations
-----------------------
``impl="fft"`` is Algorithm 1 with ``torch.fft``. ``impl="spatial"`` (the default) uses
that ``γ, β, μ, σ`` are per-channel scalars and ``irfft2(rfft2(x)) = x``: with
``s = γ/√(σ² + ε)`` and ``c = β − s·μ`` (complex), lines 6–8 are
``y = s·x + irfft2(c·𝟙)``, and ``irfft2(c·𝟙)`` lives on the first row of each map (one
pixel at ``(0, 0)`` for ``Re c``, an odd row-0 pattern for ``Im c``). The statistics need
no transform either: ``μ`` is row 0 against a fixed kernel, and ``σ²`` follows by
Parseval from ``Σx²`` and the sums of each row (and, for even ``W``, its alternating
sums). Chapter 06 (``notebooks/06_spectral_batch_norm.py``, §3, Steps 1–5) derives these
identities and checks them numerically; :class:`_SpatialBatchSBN` lists the formulas it
computes. Both implementations give the same outputs, gradients and running statistics.

``irfft2`` of a half-plane that is not conjugate-symmetric is taken as PyTorch's CPU
backend computes it: a complex inverse DFT over ``H``, then the real inverse over ``W``
that keeps the real part of columns ``0`` and ``W/2``. The spatial form is that map.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from spectral._repr import wrapped_options
from spectral._validate import (
    check_choice,
    check_floating,
    check_fraction,
    check_int,
    check_number,
    in_compute_dtype,
)

__all__ = ["SpectralBatchNorm2d"]

Impl = Literal["spatial", "fft"]
FFTNorm = Literal["backward", "ortho", "forward"]
Weighting = Literal["half", "full"]
Variance = Literal["batch", "running"]
Unbiased = Literal["count", "paper", "none"]
Parts = Literal["all", "no_pattern", "center", "scale"]

_CHOICES = {
    "impl": ("spatial", "fft"),
    "fft_norm": ("backward", "ortho", "forward"),
    "weighting": ("half", "full"),
    "variance": ("batch", "running"),
    "unbiased": ("count", "paper", "none"),
    "parts": ("all", "no_pattern", "center", "scale"),
}


class _Statistics(NamedTuple):
    """Per-channel statistics of eq. (3)–(4): ``mean`` ``(C, 2)`` as ``[Re μ, Im μ]``, ``var``
    ``(C,)``."""

    mean: torch.Tensor
    var: torch.Tensor


class _RunningUpdate(NamedTuple):
    """Algorithm 1, lines 4–5 for one training batch.

    ``μ_r ← μ_r + factor·(μ − μ_r)`` and ``σ_r² ← gain·σ² + offset``, with ``factor = λ``,
    ``gain = λ·n/(n−1)`` and ``offset = (1 − λ)·σ_r²`` (a ``(C,)`` tensor).
    """

    factor: float
    gain: float
    offset: torch.Tensor


def _forward_scale(fft_norm: str, h: int, w: int) -> float:
    """``α`` with ``rfft2(x, norm=fft_norm) == α · (unnormalised DFT of eq. (1))``."""
    return {"backward": 1.0, "ortho": 1.0 / math.sqrt(h * w), "forward": 1.0 / (h * w)}[fft_norm]


def _coefficient_count(weighting: str, b: int, h: int, w: int) -> int:
    """Number of DFT coefficients per channel that the batch statistics average."""
    return b * h * (w // 2 + 1) if weighting == "half" else b * h * w


def _spectral_statistics(spectrum: torch.Tensor) -> _Statistics:
    """Eq. (3)–(4): complex mean and ``mean |X̂ − μ|²`` over dims 0, 2, 3; shapes ``(C,)``."""
    mean = spectrum.mean(dim=(0, 2, 3))
    centred = spectrum - mean[:, None, None]
    var = (centred.real.square() + centred.imag.square()).mean(dim=(0, 2, 3))
    return _Statistics(torch.view_as_real(mean), var)


# --- the spatial form ---------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _first_row_kernel(w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Re K, Im K)``, float64, shape ``(w,)``, ``K[n] = Σ_{l=0}^{w//2} exp(-2πi·ln/w)``."""
    n = torch.arange(w, dtype=torch.int64)
    l = torch.arange(w // 2 + 1, dtype=torch.int64)  # noqa: E741 (the usual frequency index)
    angle = (2.0 * math.pi / w) * torch.remainder(torch.outer(l, n), w).to(torch.float64)
    return torch.cos(angle).sum(0), -torch.sin(angle).sum(0)


class _Bases(NamedTuple):
    """Matrices over a row of length ``w`` that the spatial form applies to rows of the maps.

    Attributes
    ----------
    columns : Tensor ``(w, 1 or 2)`` or None
        A row against them gives the self-conjugate DFT columns of that row: ``[1]``
        (``l = 0``), and for even ``w`` also ``[(-1)^n]`` (``l = w/2``). None for ``"full"``.
    mean_kernel : Tensor ``(w, 2)``
        ``[Re K, Im K]`` (``"half"``) or ``[δ, 0]`` (``"full"``): row 0 against it gives the
        spectral mean ``[Re μ, Im μ]`` up to a factor (chapter 06, Steps 3 and 5).
    pattern : Tensor ``(w, 2)``
        ``[δ, 2·Im K/w]`` (``"half"``) or ``[δ, 0]`` (``"full"``): row 0 of ``irfft2`` of a
        constant ``c`` (times ``α``) is ``pattern @ [Re c, Im c]`` (Step 2).
    parseval : Tensor ``(w, w)`` or None
        ``w·I + columns @ columns.T``: the half-plane power is, by Parseval (Step 4),
        ``Σ|X̂|² = α²·(H/2)·Σ_rows row @ parseval @ row``. None for ``"full"``, where it is
        ``α²·H·W·Σx²``.
    """

    columns: torch.Tensor | None
    mean_kernel: torch.Tensor
    pattern: torch.Tensor
    parseval: torch.Tensor | None


@functools.lru_cache(maxsize=64)
def _spatial_bases(
    weighting: str,
    w: int,
    dtype: torch.dtype,
    device: torch.device,
    blocks: tuple[int, int] = (1, 1),
) -> _Bases:
    """The :class:`_Bases` of ``weighting`` for rows of length ``w``, in ``dtype`` on ``device``.

    ``blocks`` ``(r, s)``: ``columns`` is block-diagonal over runs of ``r`` rows and
    ``parseval`` over runs of ``s`` rows (:func:`_row_blocks`), so that a run of ``r·w``
    numbers of contiguous maps against it gives the products of each of its rows.
    """
    delta = torch.zeros(w, dtype=torch.float64)
    delta[0] = 1.0
    if weighting == "full":
        single = torch.stack([delta, torch.zeros_like(delta)], 1)
        bases = _Bases(None, single, single, None)
    else:
        kernel_re, kernel_im = _first_row_kernel(w)
        ones = torch.ones(w, dtype=torch.float64)
        if w % 2:
            columns = ones[:, None]
        else:
            columns = torch.stack([ones, (-1.0) ** torch.arange(w, dtype=torch.float64)], 1)
        bases = _Bases(
            columns,
            torch.stack([kernel_re, kernel_im], 1),
            torch.stack([delta, 2 * kernel_im / w], 1),
            w * torch.eye(w, dtype=torch.float64) + columns @ columns.T,
        )
    if bases.columns is not None:
        r, s = blocks
        bases = bases._replace(
            columns=torch.block_diag(*[bases.columns] * r),
            parseval=torch.block_diag(*[bases.parseval] * s),
        )
    return _Bases(*(None if t is None else t.to(dtype=dtype, device=device) for t in bases))


def _block_rows(rows: int, w: int, k: int) -> int:
    """Rows multiplied as one block by a ``(w, k)`` matrix, of ``rows`` contiguous rows.

    A product of every row with a ``(w, k)`` matrix is a tall, thin matrix product; for
    narrow maps it is several times faster as a product of runs of ``r`` rows with the
    block-diagonal ``(r·w, r·k)`` matrix (a run may span maps: the rows of ``(B, C, H, W)``
    contiguous maps follow each other in memory). Measured on 2 CPU cores (float32,
    128×256×8×8): ``(w, 2)`` 3.1× faster at ``r = 8``, ``(w, w)`` 2.2× at ``r = 2``;
    products about 16 wide were the fastest. ``r`` is the largest power of two dividing
    ``rows`` with ``r·k <= 16`` and ``r·w <= 128``.
    """
    fits = [r for r in (16, 8, 4, 2) if rows % r == 0 and r * k <= 16 and r * w <= 128]
    return max(fits, default=1)


def _row_blocks(x: torch.Tensor) -> tuple[int, int]:
    """``blocks`` of :func:`_spatial_bases` for maps ``x``; ``(1, 1)`` unless contiguous.

    ``x`` is ``(B, C, H, W)``; ``columns`` has 1 (odd ``W``) or 2 columns, ``parseval`` ``W``.
    """
    if _memory_format(x) != torch.contiguous_format:
        return 1, 1
    b, c, h, w = x.shape
    return _block_rows(b * c * h, w, 2 - w % 2), _block_rows(b * c * h, w, w)


class _Gains(NamedTuple):
    """Constants of the spatial statistics of a ``(B, C, H, W)`` batch (:class:`_SpatialBatchSBN`).

    ``count`` is ``N``, the coefficients per channel the statistics average; ``mean`` is
    ``g_μ`` in ``μ = α·g_μ·F``; ``energy`` (``p_E``) and ``rows`` (``p_S``) weigh ``Σx²``
    and the squared row sums ``S`` in ``Σ|X̂|² = α²·(p_E·Σx² + p_S·S)``.
    """

    count: int
    mean: float
    energy: float
    rows: float


def _gains(weighting: str, b: int, h: int, w: int) -> _Gains:
    """The :class:`_Gains` of a ``(b, ·, h, w)`` batch."""
    count = _coefficient_count(weighting, b, h, w)
    if weighting == "full":
        return _Gains(count, 1 / b, h * w, 0.0)
    return _Gains(count, h / count, h * w / 2, h / 2)


def _memory_format(x: torch.Tensor) -> torch.memory_format:
    """``channels_last`` for a ``channels_last`` (and not contiguous) ``x``, else contiguous."""
    if not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


def _per_channel(v: torch.Tensor) -> torch.Tensor:
    """A ``(C,)`` vector as ``(C, 1, 1)``, to broadcast over ``(B, C, H, W)``."""
    return v.view(-1, 1, 1)


def _rows(x: torch.Tensor, matrix: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``x @ m`` for ``x`` ``(B, C, H, W)`` and ``m`` ``(W, k)``, ``k <= W``.

    ``matrix`` is ``m``, or for contiguous ``x`` its block-diagonal form over ``r`` rows
    (``(r·W, r·k)``, ``r`` dividing ``B·C·H``; see :func:`_block_rows`). Written to the start
    of the storage of ``out`` (a buffer shaped and laid out like ``x``; the product reuses
    it rather than allocate) and returned as ``(B, C, H, k)`` in ``x``'s memory format. A
    ``channels_last`` ``x`` is multiplied in its physical ``(B·H, W, C)`` layout, without
    a copy.
    """
    b, c, h, w = x.shape
    if _memory_format(x) == torch.contiguous_format:
        block, k_block = matrix.shape
        k = k_block * w // block
        product = out.view(-1)[: b * c * h * k].view(-1, k_block)
        torch.mm(x.view(-1, block), matrix, out=product)
        return product.view(b, c, h, k)
    k = matrix.shape[1]
    product = out.permute(0, 2, 3, 1).reshape(-1)[: b * h * k * c].view(b * h, k, c)
    torch.matmul(matrix.T, x.permute(0, 2, 3, 1).reshape(b * h, w, c), out=product)
    return product.view(b, h, k, c).permute(0, 3, 1, 2)


def _channel_sum(a: torch.Tensor) -> torch.Tensor:
    """``Σ a`` over all dims but dim 1 of a ``(B, C, H, W)`` tensor, shape ``(C,)``.

    Over the batch first (a vectorised reduction across rows of memory), then per channel.
    """
    if _memory_format(a) == torch.channels_last:
        return a.permute(0, 2, 3, 1).reshape(-1, a.shape[1]).sum(0)
    return a.reshape(a.shape[0], -1).sum(0).view(a.shape[1], -1).sum(1)


def _channel_energy(a: torch.Tensor, scratch: torch.Tensor) -> torch.Tensor:
    """``Σ a²`` over all dims but dim 1 of a ``(B, C, H, W)`` tensor, shape ``(C,)``.

    ``scratch`` (shaped and laid out like ``a``, may be ``a``) takes ``a²`` where the
    reduction needs it (``channels_last``); contiguous maps are reduced as norms.
    """
    if _memory_format(a) == torch.channels_last:
        return _channel_sum(torch.mul(a, a, out=scratch))
    norms = torch.linalg.vector_norm(a.flatten(2), dim=-1)
    return torch.linalg.vecdot(norms, norms, dim=0)


def _spatial_moments(
    x: torch.Tensor, bases: _Bases, gains: _Gains, scratch: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. (3)–(4) without a transform: ``[Re μ, Im μ]/α`` ``(C, 2)``, unclamped ``σ²/α²``.

    ``μ/α = g_μ·Σ_b row_0 @ mean_kernel`` and
    ``σ²/α² = (p_E·Σx² + p_S·Σ|rows @ columns|²)/N − |μ/α|²`` (chapter 06, Steps 3–5).
    ``scratch`` is a buffer like ``x`` for the intermediate products.
    """
    mean = (x.select(2, 0).sum(0) @ bases.mean_kernel).mul_(gains.mean)
    power = _channel_energy(x, scratch)  # Σ|X̂|²/(α²·p_E), first Σx²
    if bases.columns is not None:
        row_sums = _rows(x, bases.columns, out=scratch)
        power.add_(_channel_energy(row_sums, row_sums), alpha=gains.rows / gains.energy)
    return mean, power.mul_(gains.energy / gains.count).sub_(torch.linalg.vecdot(mean, mean))


def _power_gradient(
    x: torch.Tensor, weight: torch.Tensor, bases: _Bases, gains: _Gains, out: torch.Tensor
) -> torch.Tensor:
    """``weight · ∂(Σx² + (p_S/p_E)·S)/∂x / 2`` into ``out`` (like ``x``); ``weight`` ``(C,)``.

    ``"half"``: ``x @ parseval / W`` per row, as ``p_E = W·p_S``; ``"full"``: ``x``.
    """
    if bases.parseval is None:
        return torch.mul(x, _per_channel(weight), out=out)
    product = _rows(x, bases.parseval, out=out)
    return product.mul_(_per_channel(weight / x.shape[-1]))


def _spatial_output(
    x: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
    pattern: torch.Tensor,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """``scale·x + irfft2(shift·𝟙)``: ``scale`` ``(C,)``, ``shift`` ``(C, 2)`` = ``c/α`` parts.

    The inverse transform of the constant is ``shift @ pattern.T`` on row 0 (Step 2). The
    output (``out`` if given) has ``x``'s memory format.
    """
    y = torch.mul(x, _per_channel(scale), out=out)
    y.select(2, 0).add_(shift @ pattern.T)
    return y


def _shift(mean: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``[Re c, Im c]`` ``(C, 2)`` of ``c = β − gain·μ``; ``mean`` ``(C, 2)``, ``β = 0`` if None."""
    shift = mean * -gain[:, None]
    if bias is not None:
        shift.select(1, 0).add_(bias)
    return shift


@dataclass(frozen=True)
class _SpatialSpec:
    """Constants of one spatial-form call: ``var_used = var_gain·σ² + var_offset``."""

    weighting: str
    alpha: float
    eps: float
    var_gain: float


class _SpatialBatchSBN(torch.autograd.Function):
    """SBN with batch statistics in the spatial domain, with a hand-derived fused backward.

    ``forward(ctx, x, weight, bias, var_offset, spec)``: ``x`` ``(B, C, H, W)``;
    ``weight``, ``bias`` ``(C,)`` or None; ``var_offset`` ``(C,)`` or None (the
    ``(1 − λ)·σ_r²`` share of Algorithm 1, line 5, when normalising with the running
    variance). Returns ``y``, the batch mean ``μ`` as ``(C, 2)`` ``[Re, Im]`` and the batch
    variance ``σ²`` ``(C,)``; the last two carry no gradient (they feed the buffers).

    The forward computes :func:`_spatial_moments` (``Σx²``, ``Σ_b`` row 0 and, for
    ``"half"``, the ``k ≤ 2`` self-conjugate row sums: two reductions and one product
    with ``k`` outputs per row), then ``y = s·x`` plus the row-0 shift (one pass). The
    backward needs ``Σ g·x`` (a product and a reduction) and builds the input gradient as
    ``(∂σ²/∂x)·(…) + s·g`` plus a row-0 term: one product of each row with the
    ``(W, W)`` Parseval matrix (:func:`_power_gradient`) and an in-place ``addcmul``.
    Each pass allocates only its output (``y``; the input gradient), reusing it for the
    intermediate products, and nothing but ``x`` and ``(C,)`` vectors is saved. The
    backward is once-differentiable; use ``impl="fft"`` for higher-order gradients.
    ``channels_last`` ``x`` (and gradient) is computed in its own layout; any other
    strides on a contiguous copy.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, var_offset, spec):
        ctx.memory_format = _memory_format(x)
        x = x.contiguous(memory_format=ctx.memory_format)
        b, c, h, w = x.shape
        gains = _gains(spec.weighting, b, h, w)
        bases = _spatial_bases(spec.weighting, w, x.dtype, x.device, _row_blocks(x))
        y = torch.empty_like(x)  # first the scratch of the statistics, then the output
        mean, raw_var = _spatial_moments(x, bases, gains, y)  # μ/α (C, 2), σ²/α² (C,)
        var = raw_var.clamp_min(0).mul_(spec.alpha**2)
        if var_offset is None:
            var_used = var if spec.var_gain == 1 else var * spec.var_gain
        else:
            var_used = torch.add(var_offset, var, alpha=spec.var_gain)
        inv_std = torch.rsqrt(var_used + spec.eps)
        scale = inv_std if weight is None else inv_std * weight
        shift = _shift(mean, scale, None if bias is None else bias / spec.alpha)  # c/α
        y = _spatial_output(x, scale, shift, bases.pattern, out=y)
        ctx.spec, ctx.gains, ctx.has_bias = spec, gains, bias is not None
        ctx.save_for_backward(x, weight, mean, inv_std, scale, raw_var > 0)
        mean_out = mean * spec.alpha
        ctx.mark_non_differentiable(mean_out, var)
        return y, mean_out, var

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y, _grad_mean, _grad_var):
        x, weight, mean, inv_std, scale, positive = ctx.saved_tensors
        spec, gains = ctx.spec, ctx.gains
        grad_y = grad_y.contiguous(memory_format=ctx.memory_format)
        bases = _spatial_bases(spec.weighting, x.shape[-1], x.dtype, x.device, _row_blocks(x))
        d_shift = grad_y.select(2, 0).sum(0) @ bases.pattern  # ∂L/∂(c/α), (C, 2)
        grad_x = torch.mul(grad_y, x)  # first the products of Σ g·x, then the gradient
        d_scale = _channel_sum(grad_x) - torch.linalg.vecdot(d_shift, mean)
        # ∂L/∂(σ²/α²) = ∂L/∂s · ∂s/∂σ_used² · var_gain·α², zero where σ² was clamped
        d_raw_var = (d_scale * scale).mul_(inv_std.square()).mul_(positive)
        d_raw_var.mul_(-0.5 * spec.var_gain * spec.alpha**2)
        # ∂L/∂(μ/α) = −s·∂L/∂(c/α) − 2·(μ/α)·∂L/∂(σ²/α²)
        d_mean = torch.addcmul(mean * (-2 * d_raw_var)[:, None], d_shift, -scale[:, None])
        power_weight = d_raw_var * (2 * gains.energy / gains.count)
        grad_x = _power_gradient(x, power_weight, bases, gains, out=grad_x)
        grad_x.addcmul_(grad_y, _per_channel(scale))
        grad_x.select(2, 0).add_(d_mean @ bases.mean_kernel.T, alpha=gains.mean)
        grad_weight = None if weight is None else d_scale * inv_std
        grad_bias = d_shift.select(1, 0) / spec.alpha if ctx.has_bias else None
        return grad_x, grad_weight, grad_bias, None, None


def _spatial_affine(
    x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, weighting: str, alpha: float
) -> torch.Tensor:
    """``scale·x + irfft2(c·𝟙)`` for given statistics, ``shift`` = ``[Re c, Im c]``; autograd."""
    pattern = _spatial_bases(weighting, x.shape[-1], x.dtype, x.device).pattern
    return _spatial_output(x, scale, shift / alpha, pattern)


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
    fft_norm : {"backward", "ortho", "forward"}, default "backward"
        DFT normalisation (``torch.fft``'s ``norm``); ``"backward"`` is eq. (1).
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
        fft_norm: FFTNorm = "backward",
        weighting: Weighting = "half",
        variance: Variance = "batch",
        unbiased: Unbiased = "count",
        complex_running_mean: bool = True,
        parts: Parts = "all",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.num_features = check_int("num_features", num_features, minimum=1)
        self.eps = check_number("eps", eps, minimum=0.0)
        self.momentum = (
            None if momentum is None else check_fraction("momentum (or None)", momentum)
        )
        self.impl = check_choice("impl", impl, _CHOICES["impl"])
        self.fft_norm = check_choice("fft_norm", fft_norm, _CHOICES["fft_norm"])
        self.weighting = check_choice("weighting", weighting, _CHOICES["weighting"])
        self.variance = check_choice("variance", variance, _CHOICES["variance"])
        self.unbiased = check_choice("unbiased", unbiased, _CHOICES["unbiased"])
        self.parts = check_choice("parts", parts, _CHOICES["parts"])
        if variance == "running" and not track_running_stats:
            raise ValueError(
                'variance="running" normalises with the running variance, which needs '
                "track_running_stats=True"
            )
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.complex_running_mean = complex_running_mean
        self._make_parameters_and_buffers({"device": device, "dtype": dtype})
        self.reset_parameters()

    def _make_parameters_and_buffers(self, factory: dict) -> None:
        c = self.num_features
        if self.affine:
            self.weight = nn.Parameter(torch.empty(c, **factory))
            self.bias = nn.Parameter(torch.empty(c, **factory))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if not self.track_running_stats:
            for name in ("running_mean", "running_mean_imag", "running_var"):
                self.register_buffer(name, None)
            self.register_buffer("num_batches_tracked", None)
            return
        self.register_buffer("running_mean", torch.zeros(c, **factory))
        imag = torch.zeros(c, **factory) if self.complex_running_mean else None
        self.register_buffer("running_mean_imag", imag)
        self.register_buffer("running_var", torch.ones(c, **factory))
        self.register_buffer(
            "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=factory["device"])
        )

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
        return wrapped_options(
            f"{self.num_features}", f"eps={self.eps}", f"momentum={self.momentum}",
            f"affine={self.affine}", f"track_running_stats={self.track_running_stats}",
            f"impl={self.impl!r}", f"fft_norm={self.fft_norm!r}", f"weighting={self.weighting!r}",
            f"variance={self.variance!r}", f"unbiased={self.unbiased!r}",
            f"complex_running_mean={self.complex_running_mean}", f"parts={self.parts!r}",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply SBN to ``x`` of shape ``(N, C, H, W)``; returns the same shape."""
        self._check_input(x)
        return in_compute_dtype(self._normalize, x)

    def _check_input(self, x: torch.Tensor) -> None:
        check_floating("input", x)
        if x.dim() != 4:
            raise ValueError(
                f"expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}; "
                "add the batch dimension with x[None] for a single sample"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"expected {self.num_features} channels (dim 1), got input of shape "
                f"{tuple(x.shape)}; construct SpectralBatchNorm2d({x.shape[1]}) for it"
            )
        if x.shape[2] == 0 or x.shape[3] == 0:
            raise ValueError(f"H and W must be >= 1, got input of shape {tuple(x.shape)}")

    # --- Algorithm 1: statistics, then their application -----------------------------------

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        """The layer on ``x`` in its compute dtype: running or batch statistics, applied."""
        if not self.training and self.track_running_stats:
            return self._output(x, self._running_statistics(x.dtype))
        self._check_batch(x.shape)
        update = self._running_update(x.shape, x.dtype)
        if self.impl == "spatial" and self.parts == "all":
            y, statistics = self._spatial_batch(x, update)
        else:
            spectrum = self._transform(x)
            statistics = _spectral_statistics(spectrum)
            y = self._output(x, self._normalising(statistics, update), spectrum)
        if update is not None:
            self._update_buffers(update, statistics)
        return y

    def _running_statistics(self, dtype: torch.dtype) -> _Statistics:
        real, imag = self.running_mean, self.running_mean_imag
        mean = torch.stack([real, torch.zeros_like(real) if imag is None else imag], 1)
        return _Statistics(mean.to(dtype), self.running_var.to(dtype))

    def _check_batch(self, shape: torch.Size) -> None:
        b, _, h, w = shape
        if _coefficient_count(self.weighting, b, h, w) <= 1:
            raise ValueError(
                f"expected more than 1 DFT coefficient per channel for batch statistics, "
                f"got input of shape {tuple(shape)}; use a larger batch or map, or "
                "eval() with running statistics"
            )

    def _running_update(self, shape: torch.Size, dtype: torch.dtype) -> _RunningUpdate | None:
        """Lines 4–5's constants for a training batch (and count it); None otherwise."""
        if not (self.training and self.track_running_stats):
            return None
        bessel = self._bessel_factor(*shape)
        self.num_batches_tracked.add_(1)
        factor = self.momentum
        if factor is None:
            factor = 1.0 / float(self.num_batches_tracked)
        return _RunningUpdate(factor, factor * bessel, (1 - factor) * self.running_var.to(dtype))

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

    def _normalising(self, batch: _Statistics, update: _RunningUpdate | None) -> _Statistics:
        """The statistics of line 6: the batch's, or with ``variance="running"`` the
        running variance just updated in line 5."""
        if update is None or self.variance == "batch":
            return batch
        return _Statistics(batch.mean, update.gain * batch.var + update.offset)

    def _update_buffers(self, update: _RunningUpdate, batch: _Statistics) -> None:
        """Lines 4–5 on the buffers, detached: no autograd history across steps."""
        with torch.no_grad():
            mean = batch.mean.to(self.running_mean.dtype)
            self.running_mean.lerp_(mean.select(1, 0), update.factor)
            if self.running_mean_imag is not None:
                self.running_mean_imag.lerp_(mean.select(1, 1), update.factor)
            torch.add(update.offset, batch.var, alpha=update.gain, out=self.running_var)

    def _affine(self, dtype: torch.dtype) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if not self.affine:
            return None, None
        return self.weight.to(dtype), self.bias.to(dtype)

    def _spatial_batch(
        self, x: torch.Tensor, update: _RunningUpdate | None
    ) -> tuple[torch.Tensor, _Statistics]:
        """Statistics and lines 6–8 at once in the spatial form, with its fused backward."""
        h, w = x.shape[-2:]
        alpha = _forward_scale(self.fft_norm, h, w)
        running = update is not None and self.variance == "running"
        spec = _SpatialSpec(self.weighting, alpha, self.eps, update.gain if running else 1.0)
        weight, bias = self._affine(x.dtype)
        offset = update.offset if running else None
        y, mean, var = _SpatialBatchSBN.apply(x, weight, bias, offset, spec)
        return y, _Statistics(mean, var)

    def _output(
        self, x: torch.Tensor, statistics: _Statistics, spectrum: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Lines 6–8 with given statistics, by plain autograd (``spectrum``: ``x``'s DFT)."""
        if self.parts != "all":
            return self._ablation(x, statistics)
        if self.impl == "fft":
            return self._algorithm_1_output(x, statistics, spectrum)
        weight, bias = self._affine(x.dtype)
        scale = torch.rsqrt(statistics.var + self.eps)
        if weight is not None:
            scale = weight * scale
        alpha = _forward_scale(self.fft_norm, *x.shape[-2:])
        shift = _shift(statistics.mean, scale, bias)
        return _spatial_affine(x, scale, shift, self.weighting, alpha)

    def _ablation(self, x: torch.Tensor, statistics: _Statistics) -> torch.Tensor:
        """The ``parts`` ablations: ``scale·x + irfft2(shift·𝟙)`` with some pieces dropped."""
        mean, var = statistics
        weight, bias = self._affine(x.dtype)
        gamma = weight if weight is not None else torch.ones_like(var)
        if self.parts == "center":  # γ·x + irfft2((β − γμ)·𝟙)
            scale, shift = gamma, _shift(mean, gamma, bias)
        else:  # s·x, plus irfft2(β·𝟙) for "scale"
            scale = gamma * torch.rsqrt(var + self.eps)
            shift = _shift(torch.zeros_like(mean), gamma, bias if self.parts == "scale" else None)
        alpha = _forward_scale(self.fft_norm, *x.shape[-2:])
        return _spatial_affine(x, scale, shift, self.weighting, alpha)

    def _algorithm_1_output(
        self, x: torch.Tensor, statistics: _Statistics, spectrum: torch.Tensor | None
    ) -> torch.Tensor:
        """Algorithm 1, lines 6–8: normalise, scale and shift every coefficient, invert."""
        spectrum = self._transform(x) if spectrum is None else spectrum
        mean, var = torch.view_as_complex(statistics.mean), statistics.var
        normalized = (spectrum - mean[:, None, None]) * torch.rsqrt(var + self.eps)[:, None, None]
        weight, bias = self._affine(x.dtype)
        if weight is not None:
            normalized = weight[:, None, None] * normalized + bias[:, None, None]
        return self._inverse(normalized, x.shape[-2:])

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        if self.weighting == "half":
            return torch.fft.rfft2(x, norm=self.fft_norm)
        return torch.fft.fft2(x, norm=self.fft_norm)

    def _inverse(self, spectrum: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        if self.weighting == "half":
            return torch.fft.irfft2(spectrum, s=size, norm=self.fft_norm)
        return torch.fft.ifft2(spectrum, norm=self.fft_norm).real
