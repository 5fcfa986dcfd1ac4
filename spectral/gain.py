"""The spectral response of a CNN and its Maximum Gain (Stamatescu & McDonnell, §III).

A CNN ``f`` is linearised at an input ``x₀`` by one backward pass: the *projected data
derivative* (their Eq. 4)

.. math:: \\frac{dz}{dx} = \\left.\\frac{d\\langle p, f(x)\\rangle}{dx}\\right|_{x_0}

is the impulse response of the linear system that approximates ``f`` near ``x₀``; its
amplitude spectrum in dB (Eq. 5), ``|H| = 20·log₁₀|F(dz/dx)|``, is the network's
*frequency response*, and the surface maximum of ``|H|`` over frequencies is its
**Maximum Gain** (§III-C), one number per input channel.

The projection ``p`` (§III-C): for a classifier, zero except at the winning class
``i = argmax softmax``, where ``p_i = 1/score`` with ``score = max softmax``. The paper's
``f`` ends in the softmax (``z`` is "the output vector of class probabilities"), so with
``softmax=True`` (default) ``dz/dx = ∇ softmax_i / score = ∇ log softmax_i``;
``softmax=False`` projects the model's logits instead (``dz/dx = ∇ logit_i / score``),
under which scaling the logits by ``a`` shifts the gain by exactly ``20·log₁₀ a``. For a
model whose output is a map rather than logits (the paper's toy CNN, §III-B), ``p = 1``
everywhere unless ``target`` picks one output element.

The *impulse image* (§III-B, Fig. 4) is zero except one pixel, whose Fourier transform is
constant: its response is that of the network alone. A Hann window is applied to
``dz/dx`` before the FFT of an impulse response, to reduce edge effects. Spectra are
unnormalised DFTs (``torch.fft.fft2``: the DFT of a filter's taps *is* its transfer
function), centred with zero frequency at ``(H // 2, W // 2)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch
from torch import nn

from spectral._validate import check_floating, check_int
from spectral.fft import centered

__all__ = [
    "MaxGainTracker",
    "data_derivative",
    "frequency_response",
    "hann_window2d",
    "impulse_image",
    "maximum_gain",
]


def impulse_image(
    shape: Sequence[int],
    *,
    value: float = 1.0,
    position: tuple[int, int] | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """An image that is zero except one pixel, set to ``value`` in every channel (§III-B).

    Parameters
    ----------
    shape : sequence of int
        ``(C, H, W)`` or ``(N, C, H, W)``.
    value : float
        The pixel's value; the paper uses 255 in MatConvNet's unnormalised units.
    position : (int, int), optional
        ``(row, column)`` of the pixel; default the centre ``(H // 2, W // 2)``, which is
        also where a centred spectrum puts zero frequency.
    dtype, device
        Of the returned tensor.

    Returns
    -------
    Tensor, shape ``shape``
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (3, 4) or any(s < 1 for s in shape):
        raise ValueError(f"shape must be (C, H, W) or (N, C, H, W) of positive sizes, got {shape}")
    h, w = shape[-2:]
    row, col = position if position is not None else (h // 2, w // 2)
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"position {(row, col)} lies outside the {h}×{w} image")
    image = torch.zeros(shape, dtype=dtype, device=device)
    image[..., row, col] = value
    return image


def hann_window2d(
    height: int,
    width: int,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The separable 2-D Hann window ``w[m, n] = hann_H[m] · hann_W[n]``, shape ``(H, W)``.

    The periodic ("DFT-even") Hann window, ``hann_N[n] = sin²(πn / N)`` for
    ``n = 0, …, N−1`` (``torch.hann_window``'s default), which is 1 at ``n = N / 2`` for
    even ``N``: the default impulse position keeps its full weight.
    """
    check_int("height", height, minimum=1)
    check_int("width", width, minimum=1)
    rows = torch.hann_window(height, periodic=True, dtype=torch.float64)
    cols = torch.hann_window(width, periodic=True, dtype=torch.float64)
    return torch.outer(rows, cols).to(dtype=dtype, device=device)


def _batched(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    check_floating("x", x)
    if x.dim() not in (3, 4):
        raise ValueError(f"x must be (C, H, W) or (N, C, H, W), got shape {tuple(x.shape)}")
    return (x.unsqueeze(0), True) if x.dim() == 3 else (x, False)


def _projected_derivative(
    model: nn.Module,
    x: torch.Tensor,
    target: int | Sequence[int] | torch.Tensor | None,
    scale_by_score: bool,
    softmax: bool,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """``(dz/dx, winning classes, scores)``; the last two are ``None`` for map outputs."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    xb, unbatched = _batched(x)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            xb = xb.detach().clone().requires_grad_(True)
            out = model(xb)
            if not torch.isfinite(out).all():
                raise ValueError(
                    "the model's output is not finite (NaN or inf) at this input; the "
                    "network cannot be linearised there (check its weights and input scale)"
                )
            n = out.shape[0]
            classes = scores = None
            if out.dim() == 2:  # a classifier: (N, K) logits
                probs = out.softmax(dim=1)
                scores, classes = probs.detach().max(dim=1)
                if target is not None:
                    classes = torch.as_tensor(target, device=out.device).long().expand(n)
                    if (classes < 0).any() or (classes >= out.shape[1]).any():
                        raise ValueError(f"target must be a class in [0, {out.shape[1]})")
                    scores = probs.detach().gather(1, classes[:, None])[:, 0]
                z = probs if softmax else out
                picked = z.gather(1, classes[:, None])[:, 0]
                weights = 1.0 / scores if scale_by_score else torch.ones_like(scores)
                projected = (picked * weights).sum()
            else:  # a map: p = 1 everywhere, or at one flat index per sample
                flat = out.reshape(n, -1)
                if target is None:
                    projected = flat.sum()
                else:
                    index = torch.as_tensor(target, device=out.device).long().expand(n)
                    if (index < 0).any() or (index >= flat.shape[1]).any():
                        raise ValueError(
                            f"target must be a flat index into the output, in [0, {flat.shape[1]})"
                        )
                    projected = flat.gather(1, index[:, None]).sum()
            (grad,) = torch.autograd.grad(projected, xb)
    finally:
        model.train(was_training)
    if unbatched:
        grad = grad[0]
        classes = classes[0] if classes is not None else None
        scores = scores[0] if scores is not None else None
    return grad.detach(), classes, scores


def data_derivative(
    model: nn.Module,
    x: torch.Tensor,
    *,
    target: int | Sequence[int] | torch.Tensor | None = None,
    scale_by_score: bool = True,
    softmax: bool = True,
) -> torch.Tensor:
    """The projected data derivative ``dz/dx = d⟨p, f(x)⟩/dx`` at ``x`` (Eq. 4).

    One forward and one backward pass in eval mode; the model's mode is restored and no
    parameter's ``.grad`` is touched (only the input's derivative is computed).

    Parameters
    ----------
    model : nn.Module
        Maps ``(N, C, H, W)`` to ``(N, K)`` logits (a classifier) or to any other output,
        e.g. a feature map (the toy CNN).
    x : Tensor, shape ``(C, H, W)`` or ``(N, C, H, W)``
        The operating point(s); each sample is linearised on its own.
    target : int, sequence of int or Tensor, optional
        Classifier: the class to project on (default: the winning class
        ``argmax softmax``, §III-C). Map output: one flat index into each sample's output
        where ``p = 1`` (default: ``p = 1`` everywhere, as in Fig. 3b and 4).
    scale_by_score : bool
        Classifier: ``p_i = 1/score`` (the paper's normalisation) instead of ``p_i = 1``,
        where ``score`` is the softmax probability of class ``i``. Ignored for maps.
    softmax : bool
        Classifier: ``f`` ends in the softmax, as in the paper (default); ``False``
        projects the logits. Ignored for maps.

    Returns
    -------
    Tensor, shape of ``x``

    Raises
    ------
    TypeError, ValueError
        ``x`` not a floating tensor of 3 or 4 dimensions; a ``target`` out of range; a
        model output that is not finite.
    """
    grad, _, _ = _projected_derivative(model, x, target, scale_by_score, softmax)
    return grad


def _spectrum_db(derivative: torch.Tensor, window: bool, db: bool) -> torch.Tensor:
    if window:
        h, w = derivative.shape[-2:]
        derivative = derivative * hann_window2d(
            h, w, dtype=derivative.dtype, device=derivative.device
        )
    amplitude = centered(torch.fft.fft2(derivative)).abs()
    return 20.0 * torch.log10(amplitude) if db else amplitude


def frequency_response(
    model: nn.Module, x: torch.Tensor, *, window: bool = True, db: bool = True, **kwargs
) -> torch.Tensor:
    """The network's frequency response at ``x``: ``|H| = 20·log₁₀|F(dz/dx)|`` (Eq. 5).

    Parameters
    ----------
    model, x
        As in :func:`data_derivative`.
    window : bool
        Multiply ``dz/dx`` by :func:`hann_window2d` before the FFT (the paper does so for
        impulse images, §III-B).
    db : bool
        Return ``20·log₁₀`` of the amplitude (dB; ``-inf`` where it is exactly zero),
        else the amplitude itself.
    **kwargs
        Passed to :func:`data_derivative` (``target``, ``scale_by_score``, ``softmax``).

    Returns
    -------
    Tensor, shape of ``x``
        Per channel, the centred spectrum (``torch.fft.fftshift``: zero frequency at
        ``(H // 2, W // 2)``) of the unnormalised 2-D DFT of ``dz/dx``.
    """
    return _spectrum_db(data_derivative(model, x, **kwargs), window, db)


def _input_shape(model: nn.Module, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    shape = input_shape if input_shape is not None else getattr(model, "input_shape", None)
    if shape is None:
        raise ValueError(
            "cannot infer the model's input shape: pass x or input_shape=(C, H, W) "
            "(models from spectral.models carry an input_shape attribute)"
        )
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {shape}")
    return shape


def _model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    for p in model.parameters():
        return p.device, p.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def maximum_gain(
    model: nn.Module,
    x: torch.Tensor | None = None,
    *,
    input_shape: Sequence[int] | None = None,
    value: float = 1.0,
    **kwargs,
) -> torch.Tensor:
    """The Maximum Gain: the maximum over frequencies of the frequency response (§III-C).

    Parameters
    ----------
    model : nn.Module
    x : Tensor, shape ``(C, H, W)`` or ``(N, C, H, W)``, optional
        Default: :func:`impulse_image` of shape ``input_shape`` with ``value``.
    input_shape : (C, H, W), optional
        Needed for the default impulse when the model has no ``input_shape`` attribute.
    value : float
        The default impulse's pixel value (the paper: 255 in unnormalised units).
    **kwargs
        Passed to :func:`frequency_response` (``target``, ``window``, ``db``,
        ``scale_by_score``, ``softmax``).

    Returns
    -------
    Tensor, shape ``(C,)`` (or ``(N, C)`` for a batch ``x``)
        Per input channel, in dB (unless ``db=False``).
    """
    if x is None:
        device, dtype = _model_device_dtype(model)
        x = impulse_image(_input_shape(model, input_shape), value=value, dtype=dtype, device=device)
    return frequency_response(model, x, **kwargs).amax(dim=(-2, -1))


class MaxGainTracker:
    """An engine callback: the Maximum Gain of an impulse image after every epoch (§IV).

    ``tracker(epoch, model, metrics)`` returns ``{key: mean over channels,
    key + "_per_channel": [per channel], key + "_class": winning class,
    key + "_score": its softmax probability, key + "_time_s": seconds taken}`` (pass it
    in ``callbacks`` of :func:`spectral.train.fit`). The model's mode is restored and no
    parameter gradient is left behind.

    Parameters
    ----------
    x : Tensor, shape ``(C, H, W)``, optional
        The probe image; default an impulse image of ``input_shape`` with ``value``.
    input_shape : (C, H, W), optional
        Default: the model's ``input_shape`` attribute.
    value : float
        Impulse value (255 is the paper's, in MatConvNet's unnormalised input units).
    key : str
        Prefix of the returned metric names.
    window, scale_by_score, softmax : bool
        As in :func:`frequency_response`.
    """

    def __init__(
        self,
        x: torch.Tensor | None = None,
        *,
        input_shape: Sequence[int] | None = None,
        value: float = 1.0,
        key: str = "max_gain",
        window: bool = True,
        scale_by_score: bool = True,
        softmax: bool = True,
    ):
        if x is not None:
            _batched(x)
            if x.dim() != 3:
                raise ValueError(f"x must be one image (C, H, W), got shape {tuple(x.shape)}")
        if not isinstance(key, str) or not key:
            raise ValueError(f"key must be a non-empty string, got {key!r}")
        self.x, self.input_shape, self.value, self.key = x, input_shape, value, key
        self.window, self.scale_by_score, self.softmax = window, scale_by_score, softmax

    def probe(self, model: nn.Module) -> torch.Tensor:
        """The probe image on the model's device and dtype, shape ``(C, H, W)``."""
        device, dtype = _model_device_dtype(model)
        if self.x is not None:
            return self.x.to(device=device, dtype=dtype)
        shape = _input_shape(model, self.input_shape)
        return impulse_image(shape, value=self.value, dtype=dtype, device=device)

    def __call__(self, epoch: int, model: nn.Module, metrics: dict | None = None) -> dict:
        start = time.perf_counter()
        derivative, cls, score = _projected_derivative(
            model, self.probe(model), None, self.scale_by_score, self.softmax
        )
        gains = _spectrum_db(derivative, self.window, db=True).amax(dim=(-2, -1))
        per_channel = [float(g) for g in gains.double().cpu()]
        k = self.key
        out = {
            k: math.fsum(per_channel) / len(per_channel),
            f"{k}_per_channel": per_channel,
            f"{k}_class": int(cls) if cls is not None else None,
            f"{k}_score": float(score) if score is not None else None,
        }
        out[f"{k}_time_s"] = time.perf_counter() - start
        return out
