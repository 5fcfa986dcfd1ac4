"""Image corruptions of CIFAR-10-C (Hendrycks & Dietterich, 2019).

:func:`corrupt` re-implements, in torch and batched, the four corruptions that the mask
paper's Table 2 uses (plus Gaussian noise), with the parameters of the CIFAR-10-C
generator (``make_cifar_c.py`` of Hendrycks & Dietterich's release) for severities 1–5.
Pixel values ``x`` are in [0, 1]; ``c`` is the severity's parameter:

``gaussian_noise``
    ``clip(x + N(0, c²))``, ``c = 0.04, 0.06, 0.08, 0.09, 0.10``
``impulse_noise``
    salt-and-pepper (scikit-image ``random_noise(mode="s&p")``): each value (pixel *and*
    channel) is replaced with probability ``c`` by 0 or 1 (equally likely),
    ``c = 0.01, 0.02, 0.03, 0.05, 0.07``
``contrast``
    ``clip((x − μ) c + μ)`` with ``μ`` the per-image, per-channel mean,
    ``c = 0.75, 0.5, 0.4, 0.3, 0.15``
``fog``
    ``clip((x + a·P) · m / (m + a))`` with ``P`` a plasma fractal in [0, 1]
    (diamond-square, one per image, shared by the channels, roughness ``d``), ``m`` the
    image's maximum, ``(a, d) = (0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)``

Each kind is one function of the float64 pixels and its severity's parameter, looked up
in one table; :data:`CORRUPTIONS` lists the kinds in the table's order.

The random draws come from a ``torch.Generator`` instead of NumPy's global state, so the
images are CIFAR-10-C's in distribution, not bit for bit. For uint8 images the result is
truncated to uint8 as the generator's ``np.uint8(...)`` does.
"""

from __future__ import annotations

import warnings

import torch

from spectral._validate import check_choice, check_int

__all__ = ["CORRUPTIONS", "corrupt", "plasma_fractal"]


def _generator_device(generator: torch.Generator | None, fallback: torch.device):
    return generator.device if generator is not None else fallback


def plasma_fractal(
    n: int, size: int = 32, *, decay: float = 3.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` plasma fractals by the diamond-square algorithm (CIFAR-10-C's fog).

    The periodic diamond-square of ``make_cifar_c.py``: start from a ``size × size``
    grid with value 0 at the corner; for step ``s = size, size/2, …, 2`` set the centre of
    every square to the mean of its 4 corners plus ``U(−w, w)·w`` ("square" step), then
    the midpoints of the edges to the mean of their 4 diamond neighbours plus the same
    noise ("diamond" step), with wrap-around; ``w`` starts at 100 and is divided by
    ``decay`` after each step. Finally each map is rescaled to [0, 1].

    Parameters
    ----------
    n : int
        Number of maps.
    size : int
        Side, a power of two (32 for CIFAR).
    decay : float
        ``wibbledecay``: larger is smoother.
    generator : torch.Generator, optional

    Returns
    -------
    Tensor, shape ``(n, size, size)``, float64, each map's min 0 and max 1.
    """
    if size < 2 or size & (size - 1):
        raise ValueError(f"size must be a power of two >= 2, got {size}")
    device = _generator_device(generator, torch.device("cpu"))
    grid = torch.zeros(n, size, size, dtype=torch.float64, device=device)
    wibble, step = 100.0, size

    def noisy_mean(total: torch.Tensor) -> torch.Tensor:
        noise = torch.rand(total.shape, generator=generator, dtype=torch.float64, device=device)
        return total / 4 + wibble * (2 * noise - 1) * wibble

    while step >= 2:
        half = step // 2
        corners = grid[:, ::step, ::step]  # square step: centres from 4 corners
        total = corners + corners.roll(-1, dims=1)
        total = total + total.roll(-1, dims=2)
        grid[:, half::step, half::step] = noisy_mean(total)
        centres = grid[:, half::step, half::step]  # diamond step: edge midpoints
        corners = grid[:, ::step, ::step]
        total = centres + centres.roll(1, dims=1) + corners + corners.roll(-1, dims=2)
        grid[:, ::step, half::step] = noisy_mean(total)
        total = centres + centres.roll(1, dims=2) + corners + corners.roll(-1, dims=1)
        grid[:, half::step, ::step] = noisy_mean(total)
        step //= 2
        wibble /= decay
    low = grid.amin(dim=(1, 2), keepdim=True)
    grid = grid - low
    return grid / grid.amax(dim=(1, 2), keepdim=True)


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() not in (3, 4):
        raise ValueError(f"images must be (N, C, H, W) or (C, H, W), got {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return
    if images.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"images must be uint8 (0..255) or float32/float64 in [0, 1], got {images.dtype}"
        )
    if images.numel() and (images.min() < 0 or images.max() > 1 or images.isnan().any()):
        raise ValueError(
            "float images must lie in [0, 1] (un-normalised pixels); got values in "
            f"[{float(images.min()):.3g}, {float(images.max()):.3g}]: undo the normalisation "
            "or pass the uint8 images"
        )


def _gaussian_noise(x: torch.Tensor, c: float, generator, draw_on) -> torch.Tensor:
    noise = torch.randn(x.shape, generator=generator, dtype=torch.float64, device=draw_on)
    return (x + c * noise.to(x.device)).clamp(0, 1)


def _impulse_noise(x: torch.Tensor, amount: float, generator, draw_on) -> torch.Tensor:
    flipped = torch.rand(x.shape, generator=generator, device=draw_on) < amount
    salted = torch.rand(x.shape, generator=generator, device=draw_on) < 0.5
    flipped, salted = flipped.to(x.device), salted.to(x.device)
    return torch.where(flipped, salted.to(x.dtype), x)


def _contrast(x: torch.Tensor, c: float, generator, draw_on) -> torch.Tensor:
    mean = x.mean(dim=(-2, -1), keepdim=True)
    return ((x - mean) * c + mean).clamp(0, 1)


def _fog(x: torch.Tensor, parameters: tuple[float, float], generator, draw_on) -> torch.Tensor:
    strength, decay = parameters
    h, w = x.shape[-2:]
    size = 1 << max(1, (max(h, w) - 1).bit_length())
    fractal = plasma_fractal(len(x), size, decay=decay, generator=generator)
    fractal = fractal[:, None, :h, :w].to(x.device)
    peak = x.amax(dim=(1, 2, 3), keepdim=True)
    return ((x + strength * fractal) * peak / (peak + strength)).clamp(0, 1)


# kind -> (function of float64 pixels in [0, 1], its parameter for severities 1..5)
_TABLE = {
    "gaussian_noise": (_gaussian_noise, (0.04, 0.06, 0.08, 0.09, 0.10)),
    "impulse_noise": (_impulse_noise, (0.01, 0.02, 0.03, 0.05, 0.07)),
    "fog": (_fog, ((0.2, 3.0), (0.5, 3.0), (0.75, 2.5), (1.0, 2.0), (1.5, 1.75))),
    "contrast": (_contrast, (0.75, 0.5, 0.4, 0.3, 0.15)),
}

#: The corruption kinds :func:`corrupt` knows.
CORRUPTIONS = tuple(_TABLE)


def corrupt(
    images: torch.Tensor,
    kind: str,
    severity: int,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Corrupt images as CIFAR-10-C does (Hendrycks & Dietterich, 2019).

    Parameters
    ----------
    images : Tensor, shape ``(N, C, H, W)`` or ``(C, H, W)``
        uint8 in 0..255, or float32/float64 in [0, 1] (pixels, not normalised).
    kind : {"gaussian_noise", "impulse_noise", "fog", "contrast"}
        See the module docstring for the definitions and parameters.
    severity : int
        1 (mild) to 5 (strong).
    generator : torch.Generator, optional
        Source of the random draws (noise, fog); on the images' device or the CPU.
        Default: torch's global generator. The same seed gives the same images.

    Returns
    -------
    Tensor
        Same shape and dtype as ``images``; uint8 results are truncated (``floor``) like
        ``np.uint8`` in the CIFAR-10-C generator. Fog for non-square or non-power-of-two
        maps uses the top-left corner of a fractal of the next power of two.

    Raises
    ------
    ValueError
        Unknown ``kind``, ``severity`` outside 1..5, float images outside [0, 1], bad shape.
    TypeError
        ``images`` not a uint8/float32/float64 tensor, ``severity`` not an int.
    """
    _check_images(images)
    function, parameters = _TABLE[check_choice("kind", kind, CORRUPTIONS)]
    check_choice("severity", check_int("severity", severity), range(1, 6))
    single = images.dim() == 3
    batch = images[None] if single else images
    x = batch.to(torch.float64)
    if images.dtype == torch.uint8:
        x = x / 255
    draw_on = _generator_device(generator, images.device)
    out = function(x, parameters[severity - 1], generator, draw_on)
    if images.dtype == torch.uint8:
        out = (out * 255).floor().to(torch.uint8)
    else:
        out = out.to(images.dtype)
    return out[0] if single else out


def __getattr__(name: str):
    """``GaussianNoiseLoader``, deprecated here: it moved to :mod:`spectral.data`."""
    if name == "GaussianNoiseLoader":
        warnings.warn(
            "spectral.corruptions.GaussianNoiseLoader moved: import it from spectral.data",
            DeprecationWarning,
            stacklevel=2,
        )
        from spectral.data import GaussianNoiseLoader

        return GaussianNoiseLoader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
