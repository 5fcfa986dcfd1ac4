"""Unitary 2-D DFT references and conjugate-symmetry (Hermitian) tools.

Conventions (see the book's notation page): for a map ``x`` of shape ``(..., H, W)``
the unitary DFT is

.. math:: X[k, l] = \\frac{1}{\\sqrt{HW}} \\sum_{m=0}^{H-1} \\sum_{n=0}^{W-1}
          x[m, n] \\, e^{-2\\pi i (km/H + ln/W)},

indices ``k in 0..H-1``, ``l in 0..W-1`` with the DC term at ``[0, 0]`` ("uncentred");
this is ``torch.fft.fft2(x, norm="ortho")`` and Rippel et al. (2015), §2. The mirror of
bin ``(k, l)`` is ``((-k) mod H, (-l) mod W)``; a real map has a conjugate-symmetric
spectrum, ``X[k, l] == conj(X[mirror(k, l)])`` (Rippel et al., eq. 3).

The naive transforms here use dense DFT matrices in complex128: slow, obviously correct
references for tests and notebooks, not for use inside models.
"""

from __future__ import annotations

import math

import torch

from spectral._validate import FLOATING, check_number

__all__ = [
    "CONJUGATE",
    "FREE",
    "REAL",
    "centered",
    "dft_matrix",
    "hermitian_part",
    "is_hermitian",
    "mirror",
    "naive_dft2",
    "naive_idft2",
    "symmetry_pattern",
    "uncentered",
]

#: Bin that carries free information: its mirror is a different bin, fixed by this one.
FREE = 0
#: Bin that is its own mirror: it must be real for a real map.
REAL = 1
#: Bin whose value is the complex conjugate of its (``FREE``) mirror.
CONJUGATE = 2

_COMPLEX_DTYPES = (torch.complex64, torch.complex128)


def _check_size(name: str, n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{name} must be a positive int, got {type(n).__name__} {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be a positive int, got {n}")


def _check_map(name: str, x: torch.Tensor, *, any_dtype: bool = False) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not any_dtype and x.dtype not in FLOATING + _COMPLEX_DTYPES:
        raise TypeError(
            f"{name} must have a floating or complex dtype, got {x.dtype}; "
            f"convert it first, e.g. {name}.to(torch.float64)"
        )
    if x.dim() < 2:
        raise ValueError(
            f"{name} must have at least 2 dims (..., H, W), got shape {tuple(x.shape)}"
        )
    if x.shape[-1] == 0 or x.shape[-2] == 0:
        raise ValueError(f"{name} must have non-empty H and W, got shape {tuple(x.shape)}")


def dft_matrix(
    n: int, *, dtype: torch.dtype = torch.complex128, device: torch.device | str | None = None
) -> torch.Tensor:
    """The unitary ``n × n`` DFT matrix.

    Parameters
    ----------
    n : int
        Transform length, ``n >= 1``.
    dtype : torch.dtype, default ``torch.complex128``
        A complex dtype.
    device : torch.device or str, optional

    Returns
    -------
    Tensor, shape ``(n, n)``
        ``D[j, k] = exp(-2πi·jk/n) / √n``, so ``D @ x`` is the unitary DFT of a vector
        ``x`` and ``D.conj().T`` (= ``D.conj()``, ``D`` is symmetric) its inverse.
    """
    _check_size("n", n)
    if dtype not in _COMPLEX_DTYPES:
        raise TypeError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
    j = torch.arange(n, dtype=torch.float64, device=device)
    # Reduce jk mod n in integers before scaling: keeps the angle exact for large n.
    jk = torch.remainder(torch.outer(j, j), n)
    angle = -2.0 * math.pi * jk / n
    matrix = torch.polar(torch.full_like(angle, 1.0 / math.sqrt(n)), angle)
    return matrix.to(dtype)


def _as_complex128(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.complex128)


def naive_dft2(x: torch.Tensor) -> torch.Tensor:
    """Unitary 2-D DFT over the last two dims by dense matrix products.

    Parameters
    ----------
    x : Tensor, shape ``(..., H, W)``
        Real or complex.

    Returns
    -------
    Tensor, shape ``(..., H, W)``, complex128
        ``D_H @ x @ D_W`` (``D_n`` from :func:`dft_matrix`); equals
        ``torch.fft.fft2(x, norm="ortho")`` up to rounding.
    """
    _check_map("x", x)
    h, w = x.shape[-2:]
    d_h = dft_matrix(h, device=x.device)
    d_w = dft_matrix(w, device=x.device)
    return d_h @ _as_complex128(x) @ d_w


def naive_idft2(X: torch.Tensor) -> torch.Tensor:
    """Unitary inverse 2-D DFT over the last two dims by dense matrix products.

    Parameters
    ----------
    X : Tensor, shape ``(..., H, W)``
        Real or complex spectrum, DC at ``[0, 0]``.

    Returns
    -------
    Tensor, shape ``(..., H, W)``, complex128
        ``conj(D_H) @ X @ conj(D_W)``; equals ``torch.fft.ifft2(X, norm="ortho")``.
    """
    _check_map("X", X)
    h, w = X.shape[-2:]
    d_h = dft_matrix(h, device=X.device).conj()
    d_w = dft_matrix(w, device=X.device).conj()
    return d_h @ _as_complex128(X) @ d_w


def mirror(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column indices of each bin's mirror ``((-k) mod h, (-l) mod w)``.

    Returns
    -------
    (Tensor, Tensor)
        int64 index vectors of lengths ``h`` and ``w``; ``X[..., rows][..., cols]`` or
        ``X[..., rows[:, None], cols]`` gathers ``X`` at the mirrored bins.
    """
    _check_size("h", h)
    _check_size("w", w)
    rows = torch.remainder(-torch.arange(h), h)
    cols = torch.remainder(-torch.arange(w), w)
    return rows, cols


def symmetry_pattern(h: int, w: int) -> torch.Tensor:
    """Which bins of an ``h × w`` spectrum of a real map are free, real or fixed.

    A bin that is its own mirror is ``REAL``. Of every other mirror pair, the bin that
    comes first in the ``rfft2`` order (smaller column, then smaller row) is ``FREE``
    and its partner is ``CONJUGATE``. Hence every ``FREE`` and ``REAL`` bin lies in the
    ``rfft2`` half-plane (columns ``0..w//2``), and ``#REAL + 2·#FREE == h·w``: the real
    degrees of freedom of an ``h × w`` real map (Rippel et al., §2.1, Fig. 1c).

    Parameters
    ----------
    h, w : int
        Spectrum height and width, ``>= 1``.

    Returns
    -------
    Tensor, shape ``(h, w)``, int64
        Uncentred (DC at ``[0, 0]``); values in ``{FREE, REAL, CONJUGATE}``. Use
        :func:`centered` to draw it with DC in the middle.
    """
    rows, cols = mirror(h, w)
    k = torch.arange(h)[:, None]
    l = torch.arange(w)[None, :]  # noqa: E741 (the usual frequency index)
    mk, ml = rows[:, None], cols[None, :]
    self_mirror = (k == mk) & (l == ml)
    first = (l < ml) | ((l == ml) & (k < mk))
    pattern = torch.full((h, w), CONJUGATE, dtype=torch.int64)
    pattern[first] = FREE
    pattern[self_mirror] = REAL
    return pattern


def _mirrored(X: torch.Tensor) -> torch.Tensor:
    rows, cols = mirror(*X.shape[-2:])
    rows, cols = rows.to(X.device), cols.to(X.device)
    return X.index_select(-2, rows).index_select(-1, cols)


def hermitian_part(X: torch.Tensor) -> torch.Tensor:
    """Orthogonal projection of a spectrum onto conjugate-symmetric spectra.

    ``(X + conj(X[mirror]))/2`` over the last two dims. It is the spectrum of the real
    part of the inverse DFT, ``hermitian_part(X) == fft2(ifft2(X).real)``, so by
    Parseval it is the conjugate-symmetric spectrum nearest to ``X`` in the 2-norm.

    Parameters
    ----------
    X : Tensor, shape ``(..., H, W)``
        Complex (or real) spectrum, DC at ``[0, 0]``.

    Returns
    -------
    Tensor, shape ``(..., H, W)``
        Same dtype as ``X`` (complex for complex input).
    """
    _check_map("X", X)
    partner = _mirrored(X)
    if X.is_complex():
        partner = partner.conj()
    return (X + partner) / 2


def is_hermitian(X: torch.Tensor, atol: float = 1e-8) -> bool:
    """Whether ``X`` (shape ``(..., H, W)``, DC at ``[0, 0]``) is conjugate-symmetric.

    True when ``|X - conj(X[mirror])| <= atol`` at every bin. Then the imaginary part of
    the unitary inverse DFT of ``X`` is at most ``sqrt(H*W) * atol / 2`` in magnitude.
    """
    _check_map("X", X)
    if check_number("atol", atol) < 0:
        raise ValueError(f"atol must be >= 0, got {atol}")
    partner = _mirrored(X)
    if X.is_complex():
        partner = partner.conj()
    return bool(torch.all(torch.abs(X - partner) <= atol))


def centered(X: torch.Tensor) -> torch.Tensor:
    """Move the DC bin of ``X`` (shape ``(..., H, W)``) to ``[H//2, W//2]``.

    ``torch.fft.fftshift`` over the last two dims: centred index ``i`` holds frequency
    ``i - H//2``, i.e. frequencies ``-(H//2) .. (H-1)//2``; correct for odd sizes.
    Any dtype (so a :func:`symmetry_pattern` can be centred too).
    """
    _check_map("X", X, any_dtype=True)
    return torch.fft.fftshift(X, dim=(-2, -1))


def uncentered(X: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`centered`: DC from ``[H//2, W//2]`` back to ``[0, 0]``."""
    _check_map("X", X, any_dtype=True)
    return torch.fft.ifftshift(X, dim=(-2, -1))
