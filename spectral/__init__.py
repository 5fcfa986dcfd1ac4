"""Spectral (Fourier-domain) methods for convolutional networks.

Modules, one idea each:

- :mod:`spectral.fft` — unitary DFT references and Hermitian (conjugate-symmetry) tools
- :mod:`spectral.pooling` — spectral pooling and frequency dropout (Rippel et al. §3)
- :mod:`spectral.parametrize` — filters learned by their spectra (Rippel et al. §4)
- :mod:`spectral.norm` — Spectral Batch Normalization (Cakaj et al., Algorithm 1)
- :mod:`spectral.masks` — learned binarized frequency masks on convolution outputs
- :mod:`spectral.corruptions` — CIFAR-10-C style image corruptions
- :mod:`spectral.gain` — a CNN's spectral response and the Maximum Gain diagnostic
- :mod:`spectral.models` — the papers' architectures
- :mod:`spectral.data` — MNIST / CIFAR arrays and a tensor loader
- :mod:`spectral.train` — the training loop (and its fast path: bf16 autocast, channels_last)
- :mod:`spectral.callbacks` — per-epoch measurements (feature maps, filters, masks), robustness
- :mod:`spectral.recipe` — the standard run every experiment notebook makes
- :mod:`spectral.experiments` — papermill experiment grids and results
- :mod:`spectral.results` — loading results, tables and the tested verdict statistics
- :mod:`spectral.checks` — the numerical checks the book prints
"""

__version__ = "0.1.0"
