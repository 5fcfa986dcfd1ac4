"""The one dtype, autocast and memory-format policy of the spectral layers, and its checks.

Autocast and dtype policy
-------------------------
A spectral layer computes in float32 when its input is bfloat16 or float16 (and in the
input's own dtype when it is float32 or float64), with autocast disabled inside the
layer, and returns its output in the input's dtype. So under autocast the layer is
transparent: bf16 in, bf16 out, like the convolutions around it; outside autocast
nothing changes.

The reasons: ``torch.fft`` has no bfloat16 kernels on the CPU and half-precision FFTs
are inaccurate, and autocast would otherwise run the matrix products inside a layer
(spectral pooling's operators, the basis of the spectral filters) in the low precision.
Parameters and buffers stay in their own dtype (float32 under autocast) and are cast to
the compute dtype inside the layer, so their gradients have their dtype; gradients with
respect to the input have the input's dtype.
:func:`in_compute_dtype` implements the policy, and these layers call it:
:class:`~spectral.norm.SpectralBatchNorm2d`, :func:`~spectral.pooling.spectral_pool`
(so :class:`~spectral.pooling.SpectralPool2d`), :class:`~spectral.masks.FrequencyMask`
(so the mask of :class:`~spectral.masks.MaskedConv2d`, whose convolution runs as any
``nn.Conv2d`` does) and :class:`~spectral.parametrize.SpectralWeight`.

Memory format
-------------
Every layer accepts inputs of any strides (``channels_last`` or other non-contiguous
views), forward and backward, with the values of the contiguous input. Spectral Batch
Normalization's spatial form (``impl="spatial"``, the default), which sits between
convolutions, returns its output and input gradient ``channels_last`` for a
``channels_last`` input (it computes on contiguous copies, which cost less than its
reductions over strided maps); so do frequency masks. Layers that end in an FFT or a
matrix product over ``(H, W)`` (SBN's ``impl="fft"``, spectral pooling) return contiguous
tensors rather than pay a copy (the spectral filters keep the layout of their
coefficients, so a ``channels_last`` model gets ``channels_last`` filters); a following convolution
takes them as they are, and its output is ``channels_last`` when its weight is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

__all__ = [
    "FLOATING",
    "HALF",
    "check_choice",
    "check_floating",
    "check_floating_dtype",
    "check_fraction",
    "check_int",
    "check_number",
    "check_pair",
    "compute_dtype",
    "in_compute_dtype",
]

#: The real floating dtypes the spectral layers accept.
FLOATING = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
#: The dtypes that a spectral layer computes in float32 (see the module doc).
HALF = (torch.float16, torch.bfloat16)

_Result = TypeVar("_Result", bound=torch.Tensor)


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype a spectral layer computes in for input ``x`` (the module doc's policy).

    Parameters
    ----------
    x : Tensor
        Real floating point (a dtype of :data:`FLOATING`).

    Returns
    -------
    torch.dtype
        float32 for float16 and bfloat16 input, else ``x.dtype`` (float32 or float64).

    Raises
    ------
    TypeError
        ``x`` is not a real floating-point tensor.
    """
    if not isinstance(x, torch.Tensor) or x.dtype not in FLOATING:
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(
            f"expected a real floating-point tensor ({', '.join(map(str, FLOATING))}), got "
            f"{got}; convert it first, e.g. x.float()"
        )
    return torch.float32 if x.dtype in HALF else x.dtype


def in_compute_dtype(function: Callable[..., _Result], x: torch.Tensor, *args, **kwargs) -> _Result:
    """``function(x, *args, **kwargs)`` under the module doc's dtype policy.

    ``x`` is cast to :func:`compute_dtype` (keeping its memory format), ``function`` runs
    with autocast disabled for ``x``'s device type, and its result is cast back to
    ``x.dtype``. Both casts are differentiable and free when the dtypes already agree.

    Parameters
    ----------
    function : callable
        Computes the layer from its input; casts its own parameters to the dtype of the
        input it receives.
    x : Tensor
        The layer's input, real floating point.
    *args, **kwargs
        Passed on to ``function``.

    Returns
    -------
    Tensor
        ``function``'s result in ``x.dtype``.
    """
    dtype = compute_dtype(x)
    with torch.autocast(x.device.type, enabled=False):
        result = function(x.to(dtype), *args, **kwargs)
    return result.to(x.dtype)


# --- argument checks: one message style for every layer ------------------------------------
# Each returns the checked value (normalised) so callers write ``self.k = check_int("k", k)``.
# TypeError for a wrong type, ValueError for a wrong value; messages name the argument, say
# what it must be and what it got.


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(name: str, value, *, minimum: int | None = None) -> int:
    """``value`` if it is an int (not a bool) ``>= minimum``; else a TypeError/ValueError."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_number(
    name: str,
    value,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    open_interval: bool = False,
) -> float:
    """``value`` as a float if it is a finite real number within the given bounds.

    With ``open_interval=True`` the bounds themselves are excluded.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}")
    low_bad = minimum is not None and (value <= minimum if open_interval else value < minimum)
    high_bad = maximum is not None and (value >= maximum if open_interval else value > maximum)
    if low_bad or high_bad:
        left, right = ("(", ")") if open_interval else ("[", "]")
        low = "-inf" if minimum is None else f"{minimum:g}"
        high = "inf" if maximum is None else f"{maximum:g}"
        raise ValueError(f"{name} must lie in {left}{low}, {high}{right}, got {value:g}")
    return value


def check_fraction(name: str, value, *, inclusive: bool = True) -> float:
    """``value`` as a float in ``[0, 1]`` (``(0, 1)`` with ``inclusive=False``)."""
    return check_number(name, value, minimum=0.0, maximum=1.0, open_interval=not inclusive)


def check_pair(name: str, value, *, minimum: int = 1) -> tuple[int, int]:
    """``value`` as ``(int, int)``, each ``>= minimum``; an int means a square size."""
    pair = (value, value) if _is_int(value) else value
    if not isinstance(pair, tuple | list) or len(pair) != 2 or not all(map(_is_int, pair)):
        raise TypeError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum} in both dims, got {value!r}")
    return int(pair[0]), int(pair[1])


def check_choice(name: str, value, choices) -> object:
    """``value`` if it is one of ``choices``; else a ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_floating(name: str, x, *, min_dim: int = 0, shape_hint: str = "") -> torch.Tensor:
    """``x`` if it is a real floating-point tensor with at least ``min_dim`` dims.

    ``shape_hint`` (e.g. ``"(..., H, W)"``) is named in the message for too few dims.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in FLOATING:
        hint = "treat the real and imaginary parts separately" if x.is_complex() else (
            "convert it first, e.g. x.float()"
        )
        raise TypeError(f"{name} must be a real floating-point tensor, got {x.dtype}; {hint}")
    if x.dim() < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} dims {shape_hint}".rstrip()
            + f", got shape {tuple(x.shape)}"
        )
    return x


def check_floating_dtype(name: str, dtype) -> torch.dtype:
    """``dtype`` if it is a real floating dtype (one of :data:`FLOATING`); else a TypeError."""
    if dtype not in FLOATING:
        got = dtype if isinstance(dtype, torch.dtype) else f"{type(dtype).__name__} {dtype!r}"
        raise TypeError(
            f"{name} must be a real floating dtype ({', '.join(map(str, FLOATING))}), got "
            f"{got}; pass one of those, e.g. torch.float32"
        )
    return dtype
