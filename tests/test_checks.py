"""spectral.checks: the notebook checks must fail loudly and print one line."""

import pytest
import torch

from spectral.checks import WIDTH, check_close, check_true


def test_check_close_passes_and_prints(capsys):
    a = torch.ones(3, dtype=torch.float64)
    err = check_close("ones", a, a + 1e-14, atol=1e-12)
    assert err == pytest.approx(1e-14, rel=0.1)
    assert capsys.readouterr().out.startswith("✓ ones: max |Δ| = 1.0e-14 ≤ 1e-12")


def test_check_close_raises_beyond_tolerance():
    with pytest.raises(AssertionError, match="✗ far: max"):
        check_close("far", torch.zeros(2), torch.ones(2), atol=1e-3)


def test_check_close_compares_complex_and_nan():
    z = torch.tensor([1 + 1j], dtype=torch.complex128)
    check_close("complex", z, z, atol=1e-15)
    with pytest.raises(AssertionError):
        check_close("nan", torch.tensor([float("nan")]), torch.tensor([0.0]), atol=1.0)


def test_check_close_rejects_bad_tolerance():
    with pytest.raises(ValueError, match="atol must be > 0"):
        check_close("x", torch.zeros(1), torch.zeros(1), atol=0)


def test_check_true(capsys):
    check_true("fact", True)
    assert capsys.readouterr().out == "✓ fact\n"
    with pytest.raises(AssertionError, match="✗ lie"):
        check_true("lie", False)


def test_check_close_accepts_tensors_that_require_grad(recwarn):
    x = torch.ones(3, requires_grad=True)
    assert check_close("x == 1", x * 1.0, torch.ones(3), atol=1e-12) == 0.0
    assert not [w for w in recwarn if "requires_grad" in str(w.message)]


def test_long_lines_wrap_within_the_column(capsys):
    name = "a comparison whose name alone runs long enough " * 3
    check_close(name.strip(), torch.zeros(1), torch.zeros(1), atol=1e-12)
    check_true(name.strip(), True)
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= WIDTH for line in lines)
    assert lines[0].startswith("✓ a comparison") and lines[1].startswith("  ")
    close = lines[: lines.index("  max |Δ| = 0.0e+00 ≤ 1e-12") + 1]
    assert " ".join(part.strip() for part in close[:-1]) == f"✓ {name.strip()}:"
    assert " ".join(part.strip() for part in lines[len(close):]) == f"✓ {name.strip()}"


def test_a_short_line_stays_one_line(capsys):
    check_close("short", torch.zeros(1), torch.zeros(1), atol=1e-12)
    assert capsys.readouterr().out == "✓ short: max |Δ| = 0.0e+00 ≤ 1e-12\n"
