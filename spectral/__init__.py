"""Spectral (Fourier-domain) methods for convolutional networks.

The modules, one idea each: :mod:`spectral.fft` (unitary DFT references and Hermitian
tools) and :mod:`spectral.checks` (the numerical checks the book prints).
"""

__version__ = "0.1.0"
