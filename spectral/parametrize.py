"""Spectral parameterization of convolution filters (Rippel, Snoek & Adams 2015, §4).

The filters of a convolution are learned as coordinates in a Fourier basis: the model is
unchanged, only the basis that the optimiser sees. A real ``h × w`` filter ``f`` has a
conjugate-symmetric unitary spectrum ``X = F f`` (Rippel et al., eq. 3, §2.1), so of its
``h·w`` complex bins only ``h·w`` *real* numbers are free (:func:`spectral.fft.symmetry_pattern`):

* a ``REAL`` bin (its own mirror) contributes its real part ``Re X[k, l]``;
* of each mirror pair, the ``FREE`` bin ``(k, l)`` contributes ``√2 Re X[k, l]`` and its
  ``CONJUGATE`` partner ``(k', l')`` stores ``√2 Im X[k, l]``.

The coordinates ``θ`` therefore live on the same ``h × w`` grid as the filter
(uncentred, DC at ``[0, 0]``), one real number per bin, and the map back is::

    X[k, l]   = (θ[k, l] + i θ[k', l']) / √2      (k, l) FREE, (k', l') its mirror
    X[k', l'] = conj X[k, l]                      the CONJUGATE partner
    X[k, l]   = θ[k, l]                           (k, l) REAL
    f         = F⁻¹ X                             real, Rippel et al. §4

The √2 makes the map orthogonal: ``‖f‖² = ‖X‖² = Σ θ²`` (Parseval and the two bins of
each pair), so it is a rotation ``f = B θ`` of ``R^{hw}`` with ``Bᵀ B = I``
(:func:`spectral_basis`; chapter 05 checks the Gram matrix in float64). Hence:

* plain SGD, with momentum and (coupled) weight decay, follows the *same* trajectory of
  filters in either basis (Rippel et al., §4.1: "exactly the same filters");
* Adam's per-coordinate second moments are not rotation-invariant, so its trajectory
  differs; that difference is the whole effect the paper measures (§5.2, Fig. 5).

:class:`SpectralWeight` is the map as a ``torch.nn.utils.parametrize`` parametrization:
``forward(θ) = B θ`` (one real matrix product over all the filters per call, with ``B``
built once per kernel size in float64), and ``right_inverse(f) = Bᵀ f``, so registering
it keeps the layer's current filters and hence its function. :func:`spectral_parametrize`
registers it on every eligible ``nn.Conv2d`` of a model;
``torch.nn.utils.parametrize.remove_parametrizations(conv, "weight")`` undoes it.

The random-rotation control
---------------------------
Any orthogonal ``B`` leaves SGD's trajectory unchanged, so Adam's speed-up in the Fourier
basis could come from the Fourier basis or from *any* rotation away from the pixel axes.
``basis="random"`` asks which: the same parametrization with a fixed Haar-random
orthogonal ``B`` (:func:`random_basis`, seeded; :func:`spectral_parametrize` derives one
seed per layer from its name), whose coordinates are no frequencies at all.

1×1 kernels: the DFT of a single number is that number (``B = [[1]]``), so the spectral
basis *is* the spatial one and the parameterization would change nothing. Asking for it
on a 1×1 convolution directly raises ``ValueError``; when :func:`spectral_parametrize`
walks a model it skips 1×1 convolutions (e.g. the heads of Rippel's nets (5) and (7)),
which is exactly equivalent to parameterizing them. Kernels with one side 1 (``1 × k``)
are parameterized by the 1-D DFT of the other side.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn
from torch.nn.utils import parametrize

from spectral._io import derive_seed
from spectral._validate import (
    check_choice,
    check_floating,
    check_floating_dtype,
    check_int,
    check_pair,
    compute_dtype,
    in_compute_dtype,
)
from spectral.fft import CONJUGATE, FREE, centered, mirror, symmetry_pattern

__all__ = [
    "BASES",
    "SpectralWeight",
    "is_spectral",
    "random_basis",
    "spectral_basis",
    "spectral_coefficients",
    "spectral_parametrize",
]

#: The bases :class:`SpectralWeight` can learn filters in: the orthogonal real DFT
#: basis, or a seeded random rotation (the control; see the module doc).
BASES = ("spectral", "random")


def _spectrum(theta: torch.Tensor) -> torch.Tensor:
    """The conjugate-symmetric spectrum encoded by coordinates ``θ`` (see the module doc).

    ``theta`` has shape ``(..., h, w)``, real; returns the uncentred complex spectrum.
    """
    h, w = theta.shape[-2:]
    rows, cols = mirror(h, w)
    partner = theta.index_select(-2, rows.to(theta.device)).index_select(-1, cols.to(theta.device))
    pattern = symmetry_pattern(h, w).to(theta.device)
    s = 1 / math.sqrt(2)
    free = torch.complex(theta * s, partner * s)  # (θ + i θ[mirror]) / √2
    conjugate = torch.complex(partner * s, -theta * s)  # conj of the FREE partner
    real = torch.complex(theta, torch.zeros_like(theta))
    return torch.where(pattern == FREE, free, torch.where(pattern == CONJUGATE, conjugate, real))


@functools.cache
def _basis64(h: int, w: int) -> torch.Tensor:
    eye = torch.eye(h * w, dtype=torch.float64).reshape(h * w, h, w)
    filters = torch.fft.ifft2(_spectrum(eye), norm="ortho")
    # Each unit coordinate gives a conjugate-symmetric spectrum, so a real filter.
    assert float(filters.imag.abs().max()) < 1e-12
    return filters.real.reshape(h * w, h * w).T.contiguous()


def spectral_basis(
    kernel_size: int | tuple[int, int],
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The orthogonal matrix ``B`` of the spectral parameterization, ``f = B θ``.

    Parameters
    ----------
    kernel_size : int or (int, int)
        Filter size ``(h, w)``.
    dtype : torch.dtype, default float64
        Built in float64, then cast.
    device : torch.device or str, optional

    Returns
    -------
    Tensor, shape ``(h·w, h·w)``
        Column ``j`` is the real filter (flattened row-major) of the unit coordinate on
        bin ``j`` of the uncentred grid: ``√2 Re φ_kl`` for a ``FREE`` bin, ``-√2 Im φ_kl``
        (of its ``FREE`` mirror ``(k, l)``) for a ``CONJUGATE`` one and ``φ_kl`` (real) for
        a ``REAL`` one, with ``φ_kl[m, n] = e^{2πi(km/h + ln/w)} / √(hw)`` the unitary DFT
        basis function (Rippel et al., §2, eq. 1). ``Bᵀ B = I``.
    """
    h, w = check_pair("kernel_size", kernel_size)
    check_floating_dtype("dtype", dtype)
    return _basis64(h, w).to(dtype=dtype, device=device)


@functools.cache
def _random64(h: int, w: int, seed: int) -> torch.Tensor:
    gaussian = torch.randn(
        h * w, h * w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    q, r = torch.linalg.qr(gaussian)
    return (q * torch.sign(torch.diagonal(r))).contiguous()  # Haar: fix R's signs


def random_basis(
    kernel_size: int | tuple[int, int],
    *,
    seed: int,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A seeded Haar-random orthogonal matrix ``B``, the control basis ``f = B θ``.

    The Q factor of the QR decomposition of a ``(h·w) × (h·w)`` standard Gaussian matrix
    (drawn from ``torch.Generator().manual_seed(seed)``), its columns' signs fixed so that
    ``R`` has a positive diagonal, which makes ``B`` uniformly (Haar) distributed on the
    orthogonal group (Mezzadri 2007, "How to generate random matrices from the classical
    compact groups", §5). Built in float64, then cast; ``Bᵀ B = I``.

    Parameters
    ----------
    kernel_size : int or (int, int)
        Filter size ``(h, w)``.
    seed : int
        The same seed gives the same matrix on every machine.
    dtype : torch.dtype, default float64
    device : torch.device or str, optional

    Returns
    -------
    Tensor, shape ``(h·w, h·w)``
    """
    h, w = check_pair("kernel_size", kernel_size)
    check_int("seed", seed, minimum=0)
    check_floating_dtype("dtype", dtype)
    return _random64(h, w, seed).to(dtype=dtype, device=device)


class SpectralWeight(nn.Module):
    """Parametrization ``θ ↦ f = F⁻¹ X(θ)`` of ``h × w`` filters by their spectra.

    Register it with ``torch.nn.utils.parametrize.register_parametrization(conv,
    "weight", SpectralWeight(conv.kernel_size))`` or through :func:`spectral_parametrize`.
    The stored parameter ``θ`` has the weight's shape ``(out, in/groups, h, w)``: exactly
    ``h·w`` real numbers per filter, laid out on the uncentred frequency grid (see the
    module doc; Rippel et al., §2.1 and §4).

    Parameters
    ----------
    kernel_size : int or (int, int)
        ``(h, w)``, not ``(1, 1)`` (where the map is the identity; see the module doc).
    basis : {"spectral", "random"}
        ``"spectral"``: ``B`` is :func:`spectral_basis` and ``θ`` are the filter's
        spectral coordinates; ``"random"``: ``B`` is :func:`random_basis` of ``seed``, the
        rotation control (``θ`` are then no frequencies, only ``h·w`` rotated coordinates).
    seed : int, optional
        The random basis's seed; required with ``basis="random"``, refused otherwise.

    Notes
    -----
    The map is the matrix product with :func:`spectral_basis` (orthogonal, float64-built,
    cast to the compute dtype and device and cached there), equal to the FFT construction
    up to rounding; its gradient is ``Bᵀ``, i.e. the DFT of the filter gradient in these
    coordinates (Rippel et al., §2.2). Dtypes follow the package's policy
    (:mod:`spectral._validate`): under autocast the float32 ``θ`` gives float32 filters,
    computed with autocast off, which the convolution then casts as it casts any weight.
    ``θ`` may have any memory format. The filters have ``θ``'s layout when it is
    contiguous or ``channels_last`` (after ``model.to(memory_format=torch.channels_last)``),
    computed without a copy either way, so a ``channels_last`` model gets the
    ``channels_last`` filters its convolutions expect; other layouts give contiguous
    filters. ``right_inverse`` keeps the layout in the same way.
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        basis: str = "spectral",
        seed: int | None = None,
    ):
        super().__init__()
        self.kernel_size = check_pair("kernel_size", kernel_size)
        if self.kernel_size == (1, 1):
            raise ValueError(
                "a 1×1 kernel's spectrum is the kernel itself, so spectral parameterization "
                "would change nothing; leave 1×1 convolutions spatial (spectral_parametrize "
                "skips them when it walks a model)"
            )
        self.basis_name = check_choice("basis", basis, BASES)
        if basis == "random":
            if seed is None:
                raise ValueError("basis='random' needs seed=, the int that fixes the rotation")
            check_int("seed", seed, minimum=0)
        elif seed is not None:
            raise ValueError(
                f"seed={seed!r} is only for basis='random'; the {basis!r} basis is fixed"
            )
        self.seed = seed
        self._cache: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}

    def extra_repr(self) -> str:
        seed = "" if self.seed is None else f", seed={self.seed}"
        return f"kernel_size={self.kernel_size}, basis={self.basis_name!r}{seed}"

    def basis(self, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """``B`` in ``dtype`` on ``device``, shape ``(h·w, h·w)`` (cached)."""
        key = (dtype, torch.device(device))
        if key not in self._cache:
            options = {"dtype": dtype, "device": device}
            self._cache[key] = (
                spectral_basis(self.kernel_size, **options)
                if self.basis_name == "spectral"
                else random_basis(self.kernel_size, seed=self.seed, **options)
            )
        return self._cache[key]

    def _check(self, name: str, x: torch.Tensor) -> None:
        check_floating(name, x)
        if x.dim() < 2 or tuple(x.shape[-2:]) != self.kernel_size:
            raise ValueError(
                f"{name} must have shape (..., {self.kernel_size[0]}, {self.kernel_size[1]}) "
                f"for this SpectralWeight, got {tuple(x.shape)}; build it with the "
                f"conv's kernel_size"
            )

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        """Filters from spectral coordinates.

        Parameters
        ----------
        theta : Tensor, shape ``(..., h, w)``
            Real coordinates on the uncentred frequency grid.

        Returns
        -------
        Tensor, shape ``(..., h, w)``
            The real spatial filters ``F⁻¹ X(θ)``, same dtype.
        """
        self._check("theta", theta)
        return in_compute_dtype(self._change_basis, theta, to_spatial=True)

    def right_inverse(self, weight: torch.Tensor) -> torch.Tensor:
        """Spectral coordinates of ``weight`` (shape ``(..., h, w)``): ``θ = Bᵀ f``."""
        self._check("weight", weight)
        return in_compute_dtype(self._change_basis, weight, to_spatial=False)

    def _change_basis(self, x: torch.Tensor, *, to_spatial: bool) -> torch.Tensor:
        """``f = B θ`` (``to_spatial``) or ``θ = Bᵀ f`` for each ``h × w`` filter of ``x``.

        One (batched) matrix product over all filters, in ``x``'s memory layout: a
        contiguous ``x`` is a matrix with one filter per row (``B θ`` is ``rows @ Bᵀ``); a
        ``channels_last`` one is, per output channel, an ``(h·w, in)`` matrix with one
        filter per column (``B @ columns``). Neither copies ``x``, and the result has
        ``x``'s layout; other layouts are copied to rows.
        """
        basis = self.basis(x.dtype, x.device)
        matrix = basis if to_spatial else basis.T
        if _is_channels_last(x):
            out, channels, h, w = x.shape
            columns = x.permute(0, 2, 3, 1).reshape(out, h * w, channels)
            return (matrix @ columns).view(out, h, w, channels).permute(0, 3, 1, 2)
        return (x.reshape(-1, matrix.shape[0]) @ matrix.T).view(x.shape)


def _is_channels_last(x: torch.Tensor) -> bool:
    """Whether ``x`` is a 4-D ``channels_last`` tensor that is not also contiguous."""
    return (
        x.dim() == 4
        and not x.is_contiguous()
        and x.is_contiguous(memory_format=torch.channels_last)
    )


def is_spectral(conv: nn.Module) -> bool:
    """Whether ``conv``'s ``weight`` is parametrized by a :class:`SpectralWeight` (in
    either basis; its ``basis_name`` says which)."""
    if not isinstance(conv, nn.Module):
        raise TypeError(f"conv must be an nn.Module, got {type(conv).__name__}")
    if not parametrize.is_parametrized(conv, "weight"):
        return False
    return any(isinstance(p, SpectralWeight) for p in conv.parametrizations["weight"])


def _eligible(module: nn.Module) -> list[nn.Conv2d]:
    return [
        m for m in module.modules() if isinstance(m, nn.Conv2d) and tuple(m.kernel_size) != (1, 1)
    ]


def spectral_parametrize(
    module: nn.Module, *, basis: str = "spectral", seed: int = 0
) -> nn.Module:
    """Learn every ``nn.Conv2d`` filter of ``module`` by its spectrum, in place.

    Registers :class:`SpectralWeight` on the ``weight`` of ``module`` itself if it is a
    ``nn.Conv2d``, else on every ``nn.Conv2d`` inside it whose kernel is not 1×1 (those
    are skipped: their spectral and spatial bases coincide). The function of the model is
    unchanged (``right_inverse``); only the optimiser's coordinates change (Rippel et
    al., §4). Undo with ``torch.nn.utils.parametrize.remove_parametrizations(conv,
    "weight")``.

    Parameters
    ----------
    module : nn.Module
        A ``nn.Conv2d`` or a model containing some.
    basis : {"spectral", "random"}
        The coordinates (see :class:`SpectralWeight`): ``"random"`` gives each layer its
        own fixed random rotation instead of the DFT, the control for the basis.
    seed : int
        With ``basis="random"``, the layer named ``name`` (as in ``named_modules()``;
        ``""`` for ``module`` itself) gets ``random_basis(seed=derive_seed(seed, name))``,
        so a model's rotations are fixed by ``seed`` and its structure; ignored for
        ``"spectral"``.

    Returns
    -------
    nn.Module
        ``module`` itself. Create the optimiser *after* this call: the trainable tensor of
        each converted convolution is now ``conv.parametrizations.weight.original``.

    Raises
    ------
    TypeError
        ``module`` is not an ``nn.Module``.
    ValueError
        ``module`` is a 1×1 ``nn.Conv2d``; it holds no ``nn.Conv2d`` with a larger kernel;
        or one of them is already spectral (nothing is changed then).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    check_choice("basis", basis, BASES)
    check_int("seed", seed, minimum=0)
    if isinstance(module, nn.Conv2d) and tuple(module.kernel_size) == (1, 1):
        raise ValueError(
            "a 1×1 convolution's spectrum is its weight, so spectral parameterization "
            "would change nothing; leave it spatial"
        )
    convs = [module] if isinstance(module, nn.Conv2d) else _eligible(module)
    if not convs:
        raise ValueError(
            f"{type(module).__name__} holds no nn.Conv2d with a kernel larger than 1×1 "
            f"to parameterize spectrally"
        )
    done = [name for name, m in module.named_modules() if m in convs and is_spectral(m)]
    if done:
        raise ValueError(
            f"already spectral: {', '.join(n or type(module).__name__ for n in done)}; "
            f"call spectral_parametrize once (remove with "
            f"torch.nn.utils.parametrize.remove_parametrizations(conv, 'weight'))"
        )
    names = {m: name for name, m in module.named_modules()}
    for conv in convs:
        layer_seed = derive_seed(seed, names[conv]) if basis == "random" else None
        parametrize.register_parametrization(
            conv, "weight", SpectralWeight(conv.kernel_size, basis, layer_seed)
        )
    return module


def spectral_coefficients(conv: nn.Module) -> torch.Tensor:
    """The centred complex unitary spectra of a convolution's filters, for plots.

    Parameters
    ----------
    conv : nn.Conv2d
        Spectral or not; the spectra are those of its current filters ``conv.weight``.

    Returns
    -------
    Tensor, shape ``(out, in/groups, h, w)``, complex
        ``centered(fft2(weight, norm="ortho"))``: DC at ``[h//2, w//2]``. For a spectral
        layer these are the complex numbers its coordinates encode (``X(θ)``, module
        doc); half-precision weights are transformed in float32.
    """
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv must be an nn.Conv2d, got {type(conv).__name__}")
    weight = conv.weight
    return centered(torch.fft.fft2(weight.to(compute_dtype(weight)), norm="ortho"))
