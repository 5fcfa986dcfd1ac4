"""Learned binarized frequency masks on convolution spectra (the mask paper, §3.2, Alg. 1).

For a convolution layer the mask paper writes the spectrum of its output as
``S[ω] = F(x)[ω] · F(w)[ω]`` (§3.1, circular convolution) and restricts it with a mask::

    forward   M_b = Binarize(M) = (M >= threshold),   S ← M_b ⊙ S
    backward  dM = Re(conj(dS) · S)   (summed over what the mask is shared across)
              dS ← M_b ⊙ dS
    update    M ← Clip(Update(M, η, dM), 0, 1)

``M`` is a real-valued latent mask that accumulates the gradients (as BinaryConnect's
real-valued weights do); only its binarized version is used in the forward pass.
``Binarize`` has zero derivative almost everywhere, so autograd alone would never move
``M``: the straight-through estimator (:class:`_StraightThrough`) passes the gradient of
the binary mask to ``M`` unchanged. ``dM = dS·S`` of Alg. 1 is, in PyTorch's convention
for a real parameter multiplying a complex tensor (gradient ``∂L/∂Re + i ∂L/∂Im``), the
real part of ``conj(dS) · S``: exactly the gradient of ``m ↦ m ⊙ S`` at ``m = M_b``, i.e.
of the continuous relaxation evaluated at the binary mask.

Choices where the paper is silent (chapter 07 discusses them):

* The layer masks the spectrum of the convolution's *output map* (``rfft2`` of the
  ``H × W`` output, unitary or not does not matter for a mask), which equals masking
  ``F(x)·F(w)`` only for a circular, stride-1 convolution; see :class:`MaskedConv2d`.
* One mask per layer, shared by all channels (``M_k`` of Alg. 1), shape ``(H, W//2+1)``
  on the half-plane of ``rfft2``; ``channels=c`` gives one per channel (the ``M_c`` of
  §3.2's text), ``(c, H, W//2+1)``.
* Alg. 1's backward ``dS ← dS ∗ M_k`` is read as the binarized mask (the true gradient
  of the forward pass), as BinaryConnect propagates through the binarized weights.
* "normal distribution with mean 0.8 and variance 0.2": the package's default is a
  *standard deviation* of 0.2 (``init_std``), under which about 7 % of the frequencies
  start masked ("we don't drop any frequency at beginning"); pass
  ``init_std=0.2 ** 0.5`` for the literal variance. The latent mask is not clipped at
  initialisation; :func:`clip_masks_` after each optimizer step keeps it in [0, 1].

Models are built without masks; :func:`add_masks_` attaches them afterwards, e.g.
``add_masks_(resnet20(), (32, 32), init_mean=0.6, init_std=0.1)``.

Two implementations compute ``y = irfft2(m ⊙ rfft2(x), s=(H, W))`` (:func:`mask_spectrum`):

``impl="fft"``
    The readable reference: ``torch.fft`` and autograd.
``impl="matrix"`` (default)
    Real matrix products (chapter 07, §7, derives and checks it). With ``z = x A_Wᵀ`` the
    real and imaginary parts of the ``rfft`` of every row (``A_W``: ``2(W//2+1) × W``),
    the mask's column ``l`` acts on the column ``z_l`` of ``H`` complex values as the
    circulant ``T_l = F_H⁻¹ diag(m[:, l]) F_H``, whose first column is ``ifft(m[:, l])``;
    then ``y = u S_W`` with ``S_W`` the weighted ``irfft`` rows. So the forward pass is
    one ``(NCH × W) · (W × 2(W//2+1))`` product, ``W//2+1`` batched ``(NC × H) · (H × H)``
    complex products (four real ones) and one ``(NCH × 2(W//2+1)) · (… × W)`` product.
    The map ``x ↦ y`` is real, symmetric and circulant (its effective full-plane mask is
    real and even, :func:`full_plane`), so the input gradient is the same three products
    applied to the output gradient. The mask gradient ``dm = c_l/(HW) · Σ Re(conj(G) X)``
    (``X``, ``G`` the ``rfft2`` of the input and of the output gradient; ``c_l = 2``
    except in column 0 and, for even ``W``, column ``W/2``) is built from the row
    transforms already at hand: ``Q_l = Σ_maps conj(z_g,l)ᵀ z_x,l`` (``H × H``, batched
    products over the maps) and ``dm[k, l] = c_l/(HW) · Re Σ_{h,h'} e^{2πik(h−h')/H}
    Q_l[h, h']``. Equal to the FFT form to rounding; on a 2-core CPU 1.5–2× faster than
    ``rfft2``/``irfft2`` at ResNet-20's map sizes (``benchmarks/masks.py`` measures both).

:class:`FrequencyMask` hands ``channels_last`` maps to either form as contiguous ones,
converted in their own dtype (bfloat16 under autocast: half the bytes) before the cast to
float32, and returns its output (and input gradient) in the input's memory format, so
the convolutions, norms and additions around it keep ``channels_last``.
"""

from __future__ import annotations

import functools
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
    check_pair,
    in_compute_dtype,
)
from spectral.fft import dft_matrix

__all__ = [
    "FrequencyMask",
    "MaskedConv2d",
    "add_masks_",
    "attach_mask_clipping_",
    "clip_masks_",
    "full_plane",
    "mask_param_group_",
    "mask_sparsity",
    "mask_spectrum",
    "named_masks",
]

Impl = Literal["matrix", "fft"]
_IMPLS = ("matrix", "fft")


# --- the masked map, two implementations --------------------------------------------------


class _Transforms(NamedTuple):
    """The constant matrices of ``impl="matrix"`` for ``H × W`` maps (one dtype, device).

    ``analysis`` ``(2, Wr, W)``: ``[cos; −sin](2π l w / W)``, so ``analysis @ row`` is the
    real and imaginary part of the row's ``rfft``. ``synthesis`` ``(2, Wr, W)``: the
    same rows times ``c_l / W``, so ``Σ_{p,l} u[p, l] synthesis[p, l]`` is ``irfft(u)``.
    ``phases`` ``(H, 2·H·H)``: ``[cos | sin](2π q (k − h) / H)`` at ``[q, p·H·H + h·H + k]``.
    ``weights`` ``(Wr,)``: ``c_l / (HW)`` of the mask gradient.
    """

    analysis: torch.Tensor
    synthesis: torch.Tensor
    phases: torch.Tensor
    weights: torch.Tensor


@functools.lru_cache(maxsize=64)
def _transforms(
    height: int, width: int, dtype: torch.dtype, device: torch.device
) -> _Transforms:
    """:class:`_Transforms` for ``height × width`` maps, built in float64 and cached."""
    with torch.inference_mode(False):  # cached tensors must be usable by autograd later
        half = width // 2 + 1
        rows = width**0.5 * dft_matrix(width)[:half]  # e^{-2πi lw/W}, (Wr, W)
        analysis = torch.stack([rows.real, rows.imag])
        weights = torch.full((half,), 2.0, dtype=torch.float64)
        weights[0] = 1.0
        if width % 2 == 0:
            weights[-1] = 1.0
        synthesis = analysis * (weights / width)[:, None]
        dft = dft_matrix(height)
        phases = height * torch.einsum("qh,qk->qhk", dft, dft.conj())  # e^{2πi q(k-h)/H}
        phases = torch.cat([phases.real.reshape(height, -1), phases.imag.reshape(height, -1)], 1)
        return _Transforms(
            *(
                t.to(dtype=dtype, device=device).contiguous()
                for t in (analysis, synthesis, phases, weights / (height * width))
            )
        )


def _rows_forward(maps: torch.Tensor, analysis: torch.Tensor) -> torch.Tensor:
    """``rfft`` of every row as real products: ``(G, R, H, W)`` → ``(2, Wr, G·R·H)``."""
    two, half, width = analysis.shape
    return (analysis.view(two * half, width) @ maps.reshape(-1, width).mT).view(two, half, -1)


def _rows_inverse(u: torch.Tensor, synthesis: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """``irfft`` of every row: ``(2, Wr, G·R·H)`` → ``(G, R, H, W)``."""
    two, half, width = synthesis.shape
    return (u.view(two * half, -1).mT @ synthesis.view(two * half, width)).view(shape)


def _column_operators(mask: torch.Tensor, t: _Transforms) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Re, Im)`` of ``T_lᵀ`` for every column and mask group, each ``(Wr·G, H, H)``.

    ``T_l[k, h] = (1/H) Σ_q m[q, l] e^{2πi q(k−h)/H}``: the circulant
    ``F_H⁻¹ diag(m[:, l]) F_H``; ``mask`` is ``(G, H, Wr)``.
    """
    groups, height, half = mask.shape
    columns = mask.permute(2, 0, 1).reshape(half * groups, height) / height
    operators = (columns @ t.phases).view(half * groups, 2, height, height)
    return operators[:, 0], operators[:, 1]


def _columns_apply(z: torch.Tensor, real: torch.Tensor, imag: torch.Tensor) -> torch.Tensor:
    """``u_l = T_l z_l`` for every column ``l``, in real arithmetic: ``(2, Wr, G·R·H)``."""
    batch, height, _ = real.shape
    zr, zi = (part.view(batch, -1, height) for part in z.view(2, batch, -1))
    u = torch.empty_like(z)
    ur, ui = (part.view(batch, -1, height) for part in u.view(2, batch, -1))
    torch.bmm(zr, real, out=ur).baddbmm_(zi, imag, alpha=-1)
    torch.bmm(zr, imag, out=ui).baddbmm_(zi, real)
    return u


def _mask_gradient(
    zx: torch.Tensor, zg: torch.Tensor, t: _Transforms, groups: int
) -> torch.Tensor:
    """``dm = c_l/(HW) · Σ_maps Re(conj(G) X)`` from the row transforms: ``(G, H, Wr)``."""
    _, half, _ = zx.shape
    height = t.phases.shape[0]
    batch = half * groups
    xr, xi = (part.view(batch, -1, height) for part in zx)
    gr, gi = (part.view(batch, -1, height) for part in zg)
    real = torch.bmm(gr.mT, xr).baddbmm_(gi.mT, xi)  # Re Q = Σ conj(g)ᵀ x, (Wr·G, H, H)
    imag = torch.bmm(gr.mT, xi).baddbmm_(gi.mT, xr, alpha=-1)
    cos, sin = t.phases.view(height, 2, -1).unbind(1)
    phase_sum = cos @ real.view(batch, -1).mT + sin @ imag.view(batch, -1).mT  # (H, Wr·G)
    return (phase_sum.view(height, half, groups) * t.weights[:, None]).permute(2, 0, 1)


class _MatrixMask(torch.autograd.Function):
    """``irfft2(m ⊙ rfft2(x))`` by real matrix products, with its exact backward.

    Inputs: ``maps`` ``(G, R, H, W)`` contiguous (``G`` mask groups of ``R`` maps each)
    and ``mask`` ``(G, H, Wr)``, same dtype. The backward (input gradient: the same
    symmetric operator; mask gradient: see the module doc) is once-differentiable; use
    ``impl="fft"`` for higher-order gradients.
    """

    @staticmethod
    def forward(ctx, maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        t = _transforms(*maps.shape[-2:], maps.dtype, maps.device)
        real, imag = _column_operators(mask, t)
        z = _rows_forward(maps, t.analysis)
        ctx.shape, ctx.groups = maps.shape, mask.shape[0]
        ctx.save_for_backward(real, imag, z if ctx.needs_input_grad[1] else None)
        return _rows_inverse(_columns_apply(z, real, imag), t.synthesis, maps.shape)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        real, imag, zx = ctx.saved_tensors
        t = _transforms(*ctx.shape[-2:], grad.dtype, grad.device)
        zg = _rows_forward(grad.contiguous(), t.analysis)
        grad_maps = grad_mask = None
        if ctx.needs_input_grad[0]:
            u = _columns_apply(zg, real, imag)
            grad_maps = _rows_inverse(u, t.synthesis, ctx.shape)
        if ctx.needs_input_grad[1]:
            grad_mask = _mask_gradient(zx, zg, t, ctx.groups)
        return grad_maps, grad_mask


def _memory_format(x: torch.Tensor) -> torch.memory_format:
    """``channels_last`` for a ``channels_last`` (and not contiguous) ``x``, else contiguous."""
    if not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


class _Relayout(torch.autograd.Function):
    """``x`` in ``memory_format``; the gradient goes back in ``x``'s own format."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, memory_format: torch.memory_format) -> torch.Tensor:
        ctx.memory_format = _memory_format(x)
        return x.contiguous(memory_format=memory_format)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad.contiguous(memory_format=ctx.memory_format), None


def _mask_matrix(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``impl="matrix"``: ``x`` ``(N, C, H, W)``, ``mask`` ``(H, Wr)`` or ``(C, H, Wr)``."""
    if mask.dim() == 2:  # one group of N·C maps
        n, c, h, w = x.shape
        return _MatrixMask.apply(x.reshape(1, n * c, h, w), mask[None]).view(x.shape)
    # one group per channel: the maps of channel c are the rows of group c
    per_channel = _MatrixMask.apply(x.transpose(0, 1).contiguous(), mask)
    return per_channel.transpose(0, 1).contiguous()


def _mask_fft(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``impl="fft"``: the definition, with autograd's gradients."""
    return torch.fft.irfft2(mask * torch.fft.rfft2(x), s=x.shape[-2:])


_MASKED = {"matrix": _mask_matrix, "fft": _mask_fft}


def mask_spectrum(x: torch.Tensor, mask: torch.Tensor, *, impl: Impl = "matrix") -> torch.Tensor:
    """``irfft2(mask ⊙ rfft2(x), s=(H, W))``: a real mask on the half-plane spectrum.

    The masking step ``S ← M_b ⊙ S`` of the mask paper's Alg. 1 for any real ``mask``
    (binary, continuous, or a product of both), differentiable in ``x`` and ``mask``:
    the mask gradient is ``Re(conj(dS) · S)`` summed over the batch (and the channels for
    a shared mask), the input gradient ``irfft2``'s adjoint of ``mask ⊙ dS``.

    Parameters
    ----------
    x : Tensor, shape ``(N, C, H, W)``
        Real floating point, any strides.
    mask : Tensor, shape ``(H, W//2+1)`` or ``(C, H, W//2+1)``
        Shared by the channels, or one per channel; real floating point.
    impl : {"matrix", "fft"}
        Real matrix products (default, see the module doc) or ``torch.fft``; equal to
        rounding, forward and backward.

    Returns
    -------
    Tensor, shape ``(N, C, H, W)``, ``x``'s dtype
        Computed under the package's dtype policy (:mod:`spectral._validate`): float32
        for half-precision ``x``, autocast off. ``mask`` is cast to that dtype.

    Raises
    ------
    TypeError
        ``x`` or ``mask`` is not a real floating-point tensor.
    ValueError
        Wrong shapes (the message names the expected one) or unknown ``impl``.
    """
    check_floating("x", x)
    check_floating("mask", mask)
    check_choice("impl", impl, _IMPLS)
    if x.dim() != 4:
        raise ValueError(f"x must be (N, C, H, W) maps, got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    if tuple(mask.shape) not in ((h, w // 2 + 1), (c, h, w // 2 + 1)):
        raise ValueError(
            f"mask must have shape ({h}, {w // 2 + 1}) (shared) or ({c}, {h}, {w // 2 + 1}) "
            f"(per channel) for {tuple(x.shape)} maps, got {tuple(mask.shape)}"
        )
    return in_compute_dtype(_masked_in, x, mask, impl)


def _masked_in(x: torch.Tensor, mask: torch.Tensor, impl: str) -> torch.Tensor:
    """The masked map with ``x`` in its compute dtype and ``mask`` cast to it."""
    return _MASKED[impl](x, mask.to(x.dtype))


# --- the layer ----------------------------------------------------------------------------


class _StraightThrough(torch.autograd.Function):
    """``Binarize(M) = (M >= threshold)`` forward; the gradient passes to ``M`` unchanged."""

    @staticmethod
    def forward(ctx, latent: torch.Tensor, threshold: float) -> torch.Tensor:
        return (latent >= threshold).to(latent.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad, None


class FrequencyMask(nn.Module):
    """A learned binarized mask on the ``rfft2`` spectrum of ``(N, C, H, W)`` maps.

    ``y = irfft2(Binarize(M) ⊙ rfft2(x), s=(H, W))`` with ``Binarize(M) = (M >= threshold)``
    in the forward pass and the straight-through gradient ``dM = Re(conj(dS)·S)`` (mask
    paper, Alg. 1); see the module docstring. A mask of all ones is the identity.

    Parameters
    ----------
    height, width : int
        ``H, W`` of the maps the mask applies to (fixed: the mask has one entry per
        frequency of an ``H × W`` map).
    channels : int, optional
        ``None`` (default): one mask ``(H, W//2+1)`` shared by all channels. An int
        ``C``: one mask per channel, ``(C, H, W//2+1)``; inputs must have ``C`` channels.
    init_mean, init_std : float
        The latent mask starts as ``N(init_mean, init_std²)``: 0.8, 0.2 from scratch
        (the paper's fine-tuning setting is 0.6, 0.1). ``init_std >= 0``.
    threshold : float
        Frequencies with ``M >= threshold`` pass.
    binarize : bool
        ``True`` (default): the paper's binarized mask with the straight-through gradient.
        ``False``: the continuous relaxation ``clamp(M, 0, 1) ⊙ S`` with its ordinary
        gradient (§5.1's alternative, measured in chapter 07).
    random_drop : float in [0, 1]
        In training mode each forward pass also drops every frequency independently with
        this probability (one draw of the mask's ``(H, W//2+1)`` shape per pass, no
        rescaling): the "random drop" control of the paper's Table 1 and §5.2. Default 0.
    impl : {"matrix", "fft"}
        How the masked map is computed (:func:`mask_spectrum`); equal to rounding.

    Attributes
    ----------
    latent : nn.Parameter, shape ``(H, W//2+1)`` or ``(C, H, W//2+1)``
        The real-valued mask ``M``; clip it with :func:`clip_masks_`.

    Shape
    -----
    ``(N, C, H, W)`` real floating point, any memory format → same shape, dtype and
    memory format (``channels_last`` in, ``channels_last`` out; other strides:
    contiguous). The products run in float32 for float16/bfloat16 input (float64 for
    float64), autocast disabled: the package's dtype policy, :mod:`spectral._validate`
    (bf16 in, bf16 out).

    Notes
    -----
    The half-plane ``(H, W//2+1)`` holds each frequency pair ``(k, l), (-k, -l)`` once,
    except in column 0 (and column ``W/2`` for even ``W``), where ``(k, l)`` and
    ``(-k, l)`` both appear: there ``irfft2`` keeps the Hermitian part, so the map is
    real and the two entries act as their mean (see :func:`full_plane` and chapter 07).

    Examples
    --------
    >>> mask = FrequencyMask(8, 8)
    >>> mask.latent.shape
    torch.Size([8, 5])
    >>> _ = nn.init.ones_(mask.latent)
    >>> x = torch.randn(2, 3, 8, 8)
    >>> torch.allclose(mask(x), x, atol=1e-6)
    True
    """

    def __init__(
        self,
        height: int,
        width: int,
        *,
        channels: int | None = None,
        init_mean: float = 0.8,
        init_std: float = 0.2,
        threshold: float = 0.5,
        binarize: bool = True,
        random_drop: float = 0.0,
        impl: Impl = "matrix",
    ) -> None:
        super().__init__()
        self.height = check_int("height", height, minimum=1)
        self.width = check_int("width", width, minimum=1)
        self.channels = None if channels is None else check_int("channels", channels, minimum=1)
        self.init_mean = check_number("init_mean", init_mean)
        self.init_std = check_number("init_std", init_std, minimum=0.0)
        self.threshold = check_number("threshold", threshold)
        self.binarize = bool(check_choice("binarize", binarize, (True, False)))
        self.random_drop = check_fraction("random_drop", random_drop)
        self.impl = check_choice("impl", impl, _IMPLS)
        shape = (height, width // 2 + 1)
        if channels is not None:
            shape = (channels, *shape)
        self.latent = nn.Parameter(torch.empty(shape))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the latent mask from ``N(init_mean, init_std²)`` (global RNG)."""
        with torch.no_grad():
            self.latent.normal_(self.init_mean, self.init_std)

    def binary(self) -> torch.Tensor:
        """``Binarize(M)`` as 0./1. floats, latent's shape (what the forward pass uses)."""
        return (self.latent.detach() >= self.threshold).to(self.latent.dtype)

    def fraction_masked(self) -> float:
        """Fraction of the latent mask's entries below the threshold (dropped).

        For a continuous mask (``binarize=False``): the fraction below the threshold too,
        so the two kinds are counted alike.
        """
        return 1.0 - float(self.binary().mean())

    def forward_mask(self) -> torch.Tensor:
        """The mask the forward pass multiplies the spectrum by, latent's shape.

        ``Binarize(M)`` (straight-through gradient) or ``clamp(M, 0, 1)``, times a fresh
        random-drop pattern in training mode when ``random_drop > 0``.
        """
        if self.binarize:
            values = _StraightThrough.apply(self.latent, self.threshold)
        else:
            values = self.latent.clamp(0.0, 1.0)
        if self.training and self.random_drop > 0:
            shape = self.latent.shape[-2:]
            keep = torch.rand(shape, device=self.latent.device) >= self.random_drop
            values = values * keep.to(values.dtype)
        return values

    def _check_input(self, x: torch.Tensor) -> None:
        check_floating("FrequencyMask input", x)
        if x.dim() != 4:
            raise ValueError(f"FrequencyMask expects (N, C, H, W) maps, got {tuple(x.shape)}")
        if tuple(x.shape[-2:]) != (self.height, self.width):
            raise ValueError(
                f"FrequencyMask was built for {self.height}×{self.width} maps, got "
                f"{tuple(x.shape[-2:])}; build it with the size of the maps it masks"
            )
        if self.channels is not None and x.shape[1] != self.channels:
            raise ValueError(
                f"FrequencyMask has one mask per channel for {self.channels} channels, "
                f"got {x.shape[1]}; pass channels={x.shape[1]} or channels=None (shared)"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        memory_format = _memory_format(x)
        x = _Relayout.apply(x, torch.contiguous_format)  # in x's dtype: half the bytes
        y = in_compute_dtype(_masked_in, x, self.forward_mask(), self.impl)
        return _Relayout.apply(y, memory_format)

    def extra_repr(self) -> str:
        shared = "shared" if self.channels is None else f"channels={self.channels}"
        return wrapped_options(
            f"{self.height}", f"{self.width}", shared,
            f"init=N({self.init_mean}, {self.init_std}²)",
            f"threshold={self.threshold}", f"binarize={self.binarize}",
            f"random_drop={self.random_drop}", f"impl={self.impl!r}",
        )


def full_plane(half: torch.Tensor, width: int) -> torch.Tensor:
    """The full-plane ``(..., H, W)`` mask that a half-plane ``(..., H, W//2+1)`` mask means.

    ``full[k, l] = half[k, l]`` for ``l <= W//2`` and ``full[k, l] = half[-k mod H, W - l]``
    otherwise (the conjugate partner of ``(k, l)``), so that
    ``irfft2(half ⊙ rfft2(x)) = Re F⁻¹(full ⊙ F x)`` for real ``x`` (chapter 07 checks it).

    Parameters
    ----------
    half : Tensor, shape ``(..., H, W//2+1)``
    width : int
        ``W`` (``half.shape[-1]`` must equal ``W//2 + 1``).

    Returns
    -------
    Tensor, shape ``(..., H, W)``
    """
    check_int("width", width, minimum=1)
    if half.dim() < 2 or half.shape[-1] != width // 2 + 1:
        raise ValueError(
            f"half must have shape (..., H, {width // 2 + 1}) for width {width}, "
            f"got {tuple(half.shape)}"
        )
    height = half.shape[-2]
    rest = torch.arange(width // 2 + 1, width)  # columns l > W//2 come from W - l
    rows = (-torch.arange(height)) % height
    mirrored = half[..., rows, :][..., width - rest]
    return torch.cat([half, mirrored], dim=-1)


class MaskedConv2d(nn.Conv2d):
    """``nn.Conv2d`` followed by a :class:`FrequencyMask` on its output spectrum.

    The package's choice between ``masked_conv(...)`` and a module: this module. It *is*
    an ``nn.Conv2d`` (same ``weight``/``bias`` names, same init hooks), with a submodule
    ``mask`` sized for the output of an ``input_size`` input. For a stride-1 convolution
    with ``padding_mode="circular"`` and 'same' padding the output spectrum is exactly
    ``F(x) · F(w)`` of §3.1 (the mask paper's ``S``); with zero padding the border makes
    it differ, and with stride 2 the output spectrum is the aliased (folded) sum of
    ``F(x)·F(w)``; chapter 07 measures both.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
    padding_mode
        As ``nn.Conv2d``.
    input_size : int or (int, int)
        ``(H, W)`` of the input maps; fixes the mask's size (the output's).
    per_channel : bool
        One mask per output channel instead of one shared mask.
    **mask_options
        ``init_mean``, ``init_std``, ``threshold``, ``binarize``, ``random_drop``,
        ``impl``: as :class:`FrequencyMask` (its defaults when left out).

    Shape
    -----
    ``(N, in_channels, H, W) → (N, out_channels, H_out, W_out)``. The convolution runs as
    ``nn.Conv2d`` does (in the autocast dtype under autocast), the mask follows the
    package's dtype policy (:mod:`spectral._validate`), so the output has the
    convolution's dtype.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        input_size: int | tuple[int, int],
        per_channel: bool = False,
        **mask_options,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
            padding_mode=padding_mode,
        )
        self.input_size = check_pair("input_size", input_size)
        with torch.no_grad():
            probe = super().forward(torch.zeros(1, in_channels, *self.input_size))
        out_h, out_w = probe.shape[-2:]
        self.mask = FrequencyMask(
            out_h,
            out_w,
            channels=out_channels if per_channel else None,
            **mask_options,
        )

    @classmethod
    def from_conv(
        cls, conv: nn.Conv2d, input_size: int | tuple[int, int], **mask_options
    ) -> MaskedConv2d:
        """A :class:`MaskedConv2d` with ``conv``'s settings and a copy of its parameters.

        ``mask_options``: ``per_channel``, ``init_mean``, ``init_std``, ``threshold``,
        ``binarize``, ``random_drop``, ``impl``.
        """
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(f"conv must be an nn.Conv2d, got {type(conv).__name__}")
        masked = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=conv.bias is not None,
            padding_mode=conv.padding_mode,
            input_size=input_size,
            **mask_options,
        )
        masked.to(device=conv.weight.device, dtype=conv.weight.dtype)
        with torch.no_grad():
            masked.weight.copy_(conv.weight)
            if conv.bias is not None:
                masked.bias.copy_(conv.bias)
        return masked

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mask(super().forward(x))


def _conv_input_sizes(
    model: nn.Module, convs: list[tuple[str, nn.Conv2d]], input_size: tuple[int, int]
) -> dict[str, tuple[int, int]]:
    """The input ``(H, W)`` of each convolution, from one eval-mode pass of a zero batch."""
    sizes: dict[str, tuple[int, int]] = {}

    def record(name: str):
        def hook(module: nn.Module, args: tuple) -> None:
            sizes.setdefault(name, tuple(args[0].shape[-2:]))

        return hook

    hooks = [m.register_forward_pre_hook(record(n)) for n, m in convs]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            weight = convs[0][1].weight
            model(weight.new_zeros(1, convs[0][1].in_channels, *input_size))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return sizes


def add_masks_(
    model: nn.Module, input_size: int | tuple[int, int], **mask_options
) -> nn.Module:
    """Replace every ``nn.Conv2d`` of ``model`` by a :class:`MaskedConv2d`, in place.

    The way to build the mask paper's networks (Table 1: ``lenet_cifar``, Table 2:
    ``resnet20``): construct the model, then attach the masks. The input size of each
    convolution is recorded with one forward pass of a zero batch ``(1, C, *input_size)``
    (``C`` the first convolution's input channels), so the masks fit images of
    ``input_size`` only. Weights are copied (the model's initialisation is kept); the
    masks draw their initial values from the global RNG in module order.

    Parameters
    ----------
    model : nn.Module
        Holds at least one ``nn.Conv2d`` (subclasses, e.g. an existing
        :class:`MaskedConv2d`, are left alone).
    input_size : int or (int, int)
        ``(H, W)`` of the model's input images.
    **mask_options
        ``per_channel``, ``init_mean``, ``init_std``, ``threshold``, ``binarize``,
        ``random_drop``, ``impl``: as :class:`MaskedConv2d` and :class:`FrequencyMask`
        (their defaults when left out): e.g. ``init_mean=0.6,
        init_std=0.1`` for the paper's fine-tuning, ``binarize=False`` for the continuous
        relaxation, ``random_drop=0.2`` for the random-drop control.

    Returns
    -------
    nn.Module
        ``model``, for chaining.

    Raises
    ------
    ValueError
        ``model`` holds no ``nn.Conv2d``, or a mask setting is out of range (raised
        before any convolution is replaced).
    """
    size = check_pair("input_size", input_size)
    convs = [(n, m) for n, m in model.named_modules() if type(m) is nn.Conv2d]
    if not convs:
        raise ValueError("model has no nn.Conv2d to mask")
    sizes = _conv_input_sizes(model, convs, size)
    for name, conv in convs:
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, attr, MaskedConv2d.from_conv(conv, sizes[name], **mask_options))
    return model


def named_masks(module: nn.Module) -> list[tuple[str, FrequencyMask]]:
    """``(name, mask)`` of every :class:`FrequencyMask` in ``module``, in module order.

    A :class:`MaskedConv2d`'s mask is named as the convolution (``"layer1.0.conv1"``),
    any other mask by its own module name.
    """
    owned = {
        id(sub.mask): name for name, sub in module.named_modules() if isinstance(sub, MaskedConv2d)
    }
    return [
        (owned.get(id(sub), name), sub)
        for name, sub in module.named_modules()
        if isinstance(sub, FrequencyMask)
    ]


def clip_masks_(module: nn.Module) -> nn.Module:
    """Clamp every latent mask in ``module`` to [0, 1] in place (Alg. 1's ``Clip``)."""
    with torch.no_grad():
        for _, mask in named_masks(module):
            mask.latent.clamp_(0.0, 1.0)
    return module


def attach_mask_clipping_(optimizer: torch.optim.Optimizer, module: nn.Module):
    """Call :func:`clip_masks_` on ``module`` after every ``optimizer.step()``.

    Registers ``optimizer.register_step_post_hook`` on ``optimizer`` (which it changes,
    hence the underscore); with :func:`spectral.train.fit` pass
    ``optimizer_hooks=[lambda opt: attach_mask_clipping_(opt, net)]``.

    Returns
    -------
    torch.utils.hooks.RemovableHandle

    Raises
    ------
    ValueError
        ``module`` holds no mask, or a latent mask is not among the optimizer's
        parameters (it would never be updated).
    """
    masks = named_masks(module)
    if not masks:
        raise ValueError("module has no FrequencyMask: nothing to clip")
    optimized = {id(p) for group in optimizer.param_groups for p in group["params"]}
    missing = [name or "<module>" for name, m in masks if id(m.latent) not in optimized]
    if missing:
        raise ValueError(
            f"the latent masks of {missing} are not optimized by this optimizer; build it "
            "from model.parameters() so that the masks are learned"
        )
    return optimizer.register_step_post_hook(lambda opt, args, kwargs: clip_masks_(module))


def mask_param_group_(
    optimizer: torch.optim.Optimizer,
    module: nn.Module,
    *,
    lr_scale: float = 1.0,
    weight_decay: float | None = None,
) -> torch.optim.Optimizer:
    """Move the latent masks of ``module`` into their own optimizer parameter group.

    The new group copies the settings of the group the masks came from, with
    ``lr × lr_scale`` and, if given, its own ``weight_decay``. Call it before the first
    step and before building a learning-rate scheduler (with :func:`spectral.train.fit`:
    in ``optimizer_hooks``), so that schedules scale the new group too.

    Returns
    -------
    torch.optim.Optimizer
        ``optimizer``.

    Raises
    ------
    ValueError
        No mask in ``module``; the masks are not in ``optimizer``; it has stepped already;
        a negative ``lr_scale`` or ``weight_decay``.
    """
    lr_scale = check_number("lr_scale", lr_scale, minimum=0.0)
    if weight_decay is not None:
        weight_decay = check_number("weight_decay", weight_decay, minimum=0.0)
    latents = {id(m.latent): m.latent for _, m in named_masks(module)}
    if not latents:
        raise ValueError("module has no FrequencyMask")
    if any(optimizer.state.get(p) for p in latents.values()):
        raise ValueError("the optimizer has state for the masks already: regroup before stepping")
    source = None
    for group in optimizer.param_groups:
        kept = [p for p in group["params"] if id(p) not in latents]
        if len(kept) != len(group["params"]):
            source = source if source is not None else group
            group["params"] = kept
    if source is None:
        raise ValueError("the latent masks are not among the optimizer's parameters")
    settings = {k: v for k, v in source.items() if k not in ("params", "initial_lr")}
    settings["lr"] = source["lr"] * lr_scale
    if weight_decay is not None:
        settings["weight_decay"] = weight_decay
    optimizer.add_param_group({"params": list(latents.values()), **settings})
    return optimizer


def mask_sparsity(module: nn.Module) -> dict[str, float]:
    """Fraction of frequencies masked (binarized to 0) per mask, in module order (Table 3).

    Keys are module names (a :class:`MaskedConv2d`'s mask under the convolution's name);
    values in [0, 1], over the stored half-plane entries of each mask.
    """
    return {name: mask.fraction_masked() for name, mask in named_masks(module)}
