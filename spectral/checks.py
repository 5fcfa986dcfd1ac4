"""Numerical checks that the book's chapters print after each derivation step.

Each check computes a maximum absolute error against an independent reference, raises
``AssertionError`` if it exceeds the tolerance (so a wrong derivation stops the notebook
and fails ``make test``), and prints one line::

    ✓ FFT == naive DFT: max |Δ| = 4.4e-16 ≤ 1e-12

The ``max |Δ| = …`` figure is roundoff whose last digits depend on the FFT/BLAS backend;
the nbval sanitiser masks it, the tolerance stays checked.
"""

from __future__ import annotations

import torch

from spectral._validate import check_number

__all__ = ["check_close", "check_true"]


def check_close(
    name: str, actual: torch.Tensor, expected: torch.Tensor, *, atol: float = 1e-12
) -> float:
    """Assert ``max |actual - expected| <= atol`` and print one result line.

    Parameters
    ----------
    name : str
        What is compared, e.g. ``"FFT == naive DFT"``.
    actual, expected : Tensor
        Broadcastable real or complex tensors (detached); compared in float64/complex128.
    atol : float
        Absolute tolerance, ``> 0``.

    Returns
    -------
    float
        The maximum absolute error.
    """
    if check_number("atol", atol) <= 0:
        raise ValueError(f"atol must be > 0, got {atol}")
    a = torch.as_tensor(actual).detach()  # values only: outputs of modules may carry grads
    e = torch.as_tensor(expected).detach()
    wide = torch.complex128 if (a.is_complex() or e.is_complex()) else torch.float64
    err = float(torch.max(torch.abs(a.to(wide) - e.to(wide)))) if a.numel() else 0.0
    if not err <= atol:
        raise AssertionError(f"✗ {name}: max |Δ| = {err:.1e} > {atol:.0e}")
    print(f"✓ {name}: max |Δ| = {err:.1e} ≤ {atol:.0e}")
    return err


def check_true(name: str, condition: bool) -> None:
    """Assert a boolean fact and print ``✓ name``."""
    if not bool(condition):
        raise AssertionError(f"✗ {name}")
    print(f"✓ {name}")
