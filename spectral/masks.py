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
``M``: the straight-through gradient is written as a ``torch.autograd.Function``
(:class:`_BinarizedMask`). ``dM = dS·S`` of Alg. 1 is, in PyTorch's convention for a real
parameter multiplying a complex tensor (gradient ``∂L/∂Re + i ∂L/∂Im``), the real part of
``conj(dS) · S``: exactly the gradient of ``m ↦ m ⊙ S`` at ``m = M_b``, i.e. of the
continuous relaxation evaluated at the binary mask.

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
"""

from __future__ import annotations

import torch
from torch import nn

from spectral._validate import FLOATING, in_compute_dtype

__all__ = [
    "FrequencyMask",
    "MaskedConv2d",
    "add_masks_",
    "attach_mask_clipping",
    "clip_masks_",
    "full_plane",
    "mask_param_group_",
    "mask_sparsity",
    "named_masks",
    "set_random_drop_",
]


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def _number(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if value != value:  # NaN
        raise ValueError(f"{name} must not be NaN")
    return float(value)


class _BinarizedMask(torch.autograd.Function):
    """``out = B ⊙ S`` with ``B = (M >= threshold)``; straight-through gradient to ``M``.

    Inputs: ``spectrum`` complex ``(N, C, H, Wr)``, ``latent`` real ``(H, Wr)`` or
    ``(C, H, Wr)``. Backward: ``dS_in = B ⊙ dS`` and ``dM = Re(conj(dS) ⊙ S)`` summed
    over the batch (and the channels for a shared mask), Alg. 1 of the mask paper.
    """

    @staticmethod
    def forward(ctx, spectrum: torch.Tensor, latent: torch.Tensor, threshold: float):
        binary = (latent >= threshold).to(latent.dtype)
        ctx.save_for_backward(spectrum, binary)
        ctx.latent_shape = latent.shape
        return spectrum * binary

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        spectrum, binary = ctx.saved_tensors
        grad_spectrum = grad * binary if ctx.needs_input_grad[0] else None
        grad_latent = None
        if ctx.needs_input_grad[1]:
            grad_latent = (grad.conj() * spectrum).real.sum_to_size(ctx.latent_shape)
        return grad_spectrum, grad_latent, None


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

    Attributes
    ----------
    latent : nn.Parameter, shape ``(H, W//2+1)`` or ``(C, H, W//2+1)``
        The real-valued mask ``M``; clip it with :func:`clip_masks_`.
    random_drop : float
        In training mode each forward pass also drops every frequency independently with
        this probability (one draw of the mask's shape per pass, no rescaling): the
        "random drop" control of the paper's Table 1 and §5.2. Default 0; set it with
        :func:`set_random_drop_`.
    binarize : bool
        ``True`` (default): the paper's binarized mask with the straight-through gradient.
        ``False``: the continuous relaxation ``clamp(M, 0, 1) ⊙ S`` with its ordinary
        gradient (§5.1's alternative, measured in chapter 07); set it per instance.

    Shape
    -----
    ``(N, C, H, W)`` real floating point, any memory format → same shape and dtype. The
    FFTs run in float32 for float16/bfloat16 input (float64 for float64), autocast
    disabled: the package's dtype policy, :mod:`spectral._validate` (bf16 in, bf16 out).

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

    random_drop: float = 0.0
    binarize: bool = True

    def __init__(
        self,
        height: int,
        width: int,
        *,
        channels: int | None = None,
        init_mean: float = 0.8,
        init_std: float = 0.2,
        threshold: float = 0.5,
    ) -> None:
        super().__init__()
        self.height = _positive_int("height", height)
        self.width = _positive_int("width", width)
        self.channels = None if channels is None else _positive_int("channels", channels)
        self.init_mean = _number("init_mean", init_mean)
        self.init_std = _number("init_std", init_std)
        if self.init_std < 0:
            raise ValueError(f"init_std must be >= 0, got {init_std}")
        self.threshold = _number("threshold", threshold)
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

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"FrequencyMask expects a torch.Tensor, got {type(x).__name__}")
        if x.dtype not in FLOATING:
            raise TypeError(
                f"FrequencyMask expects real floating-point maps, got {x.dtype}; "
                "convert them first, e.g. x.float()"
            )
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
        return in_compute_dtype(self._masked, x)

    def _masked(self, x: torch.Tensor) -> torch.Tensor:
        """The layer on ``x`` already in its compute dtype, autocast off."""
        spectrum = torch.fft.rfft2(x)
        if self.training and self.random_drop > 0:
            keep = torch.rand(self.latent.shape[-2:], device=x.device) >= self.random_drop
            spectrum = spectrum * keep.to(x.dtype)
        latent = self.latent.to(x.dtype)
        if self.binarize:
            masked = _BinarizedMask.apply(spectrum, latent, self.threshold)
        else:
            masked = spectrum * latent.clamp(0.0, 1.0)
        return torch.fft.irfft2(masked, s=(self.height, self.width))

    def extra_repr(self) -> str:
        shared = "shared" if self.channels is None else f"channels={self.channels}"
        return (
            f"{self.height}, {self.width}, {shared}, init=N({self.init_mean}, "
            f"{self.init_std}²), threshold={self.threshold}, random_drop={self.random_drop}"
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
    _positive_int("width", width)
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
    init_mean, init_std, threshold : float
        As :class:`FrequencyMask`.

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
        init_mean: float = 0.8,
        init_std: float = 0.2,
        threshold: float = 0.5,
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
        h, w = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
        self.input_size = (_positive_int("input_size[0]", h), _positive_int("input_size[1]", w))
        with torch.no_grad():
            probe = super().forward(torch.zeros(1, in_channels, *self.input_size))
        out_h, out_w = probe.shape[-2:]
        self.mask = FrequencyMask(
            out_h,
            out_w,
            channels=out_channels if per_channel else None,
            init_mean=init_mean,
            init_std=init_std,
            threshold=threshold,
        )

    @classmethod
    def from_conv(
        cls, conv: nn.Conv2d, input_size: int | tuple[int, int], **mask_kwargs
    ) -> MaskedConv2d:
        """A :class:`MaskedConv2d` with ``conv``'s settings and a copy of its parameters.

        ``mask_kwargs``: ``per_channel``, ``init_mean``, ``init_std``, ``threshold``.
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
            **mask_kwargs,
        )
        masked.to(device=conv.weight.device, dtype=conv.weight.dtype)
        with torch.no_grad():
            masked.weight.copy_(conv.weight)
            if conv.bias is not None:
                masked.bias.copy_(conv.bias)
        return masked

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mask(super().forward(x))


def add_masks_(model: nn.Module, input_size: tuple[int, int], **mask_kwargs) -> nn.Module:
    """Replace every ``nn.Conv2d`` of ``model`` by a :class:`MaskedConv2d`, in place.

    The input size of each convolution is recorded with one forward pass of a zero
    batch ``(1, C, *input_size)`` (``C`` the first convolution's input channels), so the
    masks fit images of ``input_size`` only. Weights are copied; the masks draw their
    initial values from the global RNG in module order.

    Returns
    -------
    nn.Module
        ``model``, for chaining.
    """
    convs = [(n, m) for n, m in model.named_modules() if type(m) is nn.Conv2d]
    if not convs:
        raise ValueError("model has no nn.Conv2d to mask")
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
            model(torch.zeros(1, convs[0][1].in_channels, *input_size))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    for name, conv in convs:
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, attr, MaskedConv2d.from_conv(conv, sizes[name], **mask_kwargs))
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


def attach_mask_clipping(optimizer: torch.optim.Optimizer, module: nn.Module):
    """Call :func:`clip_masks_` on ``module`` after every ``optimizer.step()``.

    Registered with ``optimizer.register_step_post_hook``; with :func:`spectral.train.fit`
    pass ``optimizer_hooks=[lambda opt: attach_mask_clipping(opt, net)]``.

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
        No mask in ``module``; the masks are not in ``optimizer``; it has stepped already.
    """
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
    settings["lr"] = source["lr"] * _number("lr_scale", lr_scale)
    if weight_decay is not None:
        settings["weight_decay"] = _number("weight_decay", weight_decay)
    optimizer.add_param_group({"params": list(latents.values()), **settings})
    return optimizer


def mask_sparsity(module: nn.Module) -> dict[str, float]:
    """Fraction of frequencies masked (binarized to 0) per mask, in module order (Table 3).

    Keys are module names (a :class:`MaskedConv2d`'s mask under the convolution's name);
    values in [0, 1], over the stored half-plane entries of each mask.
    """
    return {name: mask.fraction_masked() for name, mask in named_masks(module)}


def set_random_drop_(module: nn.Module, p: float) -> nn.Module:
    """Set :attr:`FrequencyMask.random_drop` of every mask in ``module`` to ``p`` in [0, 1)."""
    p = _number("p", p)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p must lie in [0, 1), got {p}")
    masks = named_masks(module)
    if not masks:
        raise ValueError("module has no FrequencyMask")
    for _, mask in masks:
        mask.random_drop = p
    return module
