"""Numerical checks that the book's chapters print after each derivation step.

Each check computes a maximum absolute error against an independent reference, raises
``AssertionError`` if it exceeds the tolerance (so a wrong derivation stops the notebook
and fails ``make test``), and prints one line::

    ✓ FFT == naive DFT: max |Δ| = 4.4e-16 ≤ 1e-12

A line longer than :data:`WIDTH` characters (the book's column, in its monospace font)
is wrapped, the error on a line of its own, indented::

    ✓ conv2d(circular pad) == explicit circular cross-correlation, all kernel
      sizes and paddings:
      max |Δ| = 3.6e-15 ≤ 1e-12

The ``max |Δ| = …`` figure is roundoff whose last digits depend on the FFT/BLAS backend;
the nbval sanitiser masks it, the tolerance stays checked.
"""

from __future__ import annotations

import textwrap

import torch

from spectral._validate import check_number

__all__ = ["WIDTH", "check_close", "check_true"]

#: The longest printed line (characters) that fits the book's content column.
WIDTH = 78


def _report(*parts: str) -> None:
    """Print ``parts`` joined by ``": "`` on one line if it fits :data:`WIDTH`, else the
    first part wrapped and each further part on its own indented line."""
    line = ": ".join(parts)
    if len(line) <= WIDTH:
        print(line)
        return
    head = textwrap.wrap(parts[0] + (":" if len(parts) > 1 else ""), WIDTH,
                         subsequent_indent="  ", break_on_hyphens=False)
    print("\n".join([*head, *(f"  {part}" for part in parts[1:])]))


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
    _report(f"✓ {name}", f"max |Δ| = {err:.1e} ≤ {atol:.0e}")
    return err


def check_true(name: str, condition: bool) -> None:
    """Assert a boolean fact and print ``✓ name`` (wrapped as :func:`check_close`'s line)."""
    if not bool(condition):
        raise AssertionError(f"✗ {name}")
    _report(f"✓ {name}")
