# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · DFT basics
#
# Section 2 of {cite}`rippel2015spectral` rests everything that follows (spectral pooling,
# spectral parameterisation of filters) on four facts about the 2-D discrete Fourier
# transform $\mathcal F$ of an $M\times N$ map:
#
# 1. $\mathcal F$ is linear and **unitary**, so $\mathcal F^{-1} = \mathcal F^{*}$;
# 2. its basis functions are 2-D complex sinusoids, and natural images concentrate their
#    energy at low frequencies (Fig. 1a, 1b of the paper);
# 3. **Parseval**: $\lVert x-\hat x\rVert_2^2 = \lVert \mathcal F(x)-\mathcal F(\hat x)\rVert_2^2$
#    (eq. 2), so errors made on the spectrum are errors on the image;
# 4. the **convolution theorem** $\mathcal F(x * f) = \mathcal F(x)\odot\mathcal F(f)$ (eq. 1),
#    computed in $O(MN\log MN)$ by the FFT {cite}`cooley1965fft`.
#
# This chapter derives each fact in small steps and checks every step numerically in
# float64 against an independent reference: dense DFT matrices, explicit sums, closed
# forms and `torch.nn.functional.conv2d` {cite}`paszke2019pytorch`. Two of the paper's
# statements turn out to be imprecise: eq. 1 holds for the *unnormalised* DFT, not for the
# unitary one the paper defines (a factor $\sqrt{MN}$ is missing), and the "convolution"
# of a CNN layer is a cross-correlation, which conjugates the filter spectrum.
#
# Conventions (notation page): for $x\in\mathbb R^{H\times W}$,
#
# $$
# \begin{gathered}
# X[k,l] = \frac{1}{\sqrt{HW}}\sum_{m=0}^{H-1}\sum_{n=0}^{W-1} x[m,n]\,
#          e^{-2\pi i\,(km/H + ln/W)},\\
# k\in\{0..H-1\},\ l\in\{0..W-1\},
# \end{gathered}
# $$
#
# DC at $[0,0]$ ("uncentred"); `centered` (= `fftshift`) moves it to $[H/\!/2, W/\!/2]$, so
# centred index $i$ holds frequency $i - H/\!/2$.

# %% tags=["hide-input"]
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle

from spectral.checks import check_close, check_true
from spectral.data import sample_images
from spectral.fft import (
    REAL,
    centered,
    dft_matrix,
    mirror,
    naive_dft2,
    naive_idft2,
    symmetry_pattern,
)
from spectral.plotting import TEXT_WIDTH, use_book_style

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
use_book_style()

SIZES = [(5, 5), (8, 8), (7, 10), (1, 6)]  # odd, even, non-square, degenerate


def fft2u(x):
    """Unitary 2-D DFT (the book's convention)."""
    return torch.fft.fft2(x, norm="ortho")


def ifft2u(X):
    """Unitary inverse 2-D DFT."""
    return torch.fft.ifft2(X, norm="ortho")


# %% [markdown]
# ## 1 · The unitary DFT as a matrix product
#
# Write $D_n[j,k] = e^{-2\pi i jk/n}/\sqrt n$ (`dft_matrix(n)`). The double sum factorises
# into a sum over rows and one over columns, so
#
# $$
# X = D_H\, x\, D_W^{\mathsf T} = D_H\, x\, D_W ,
# $$
#
# because $D_n$ is symmetric ($jk = kj$). If $D_n$ is unitary, $D_n^{\mathsf H} D_n = I$,
# the inverse is $x = D_H^{\mathsf H} X\, \overline{D_W} = \overline{D_H}\, X\, \overline{D_W}$:
# the inverse transform is the *complex conjugate* of the forward one, which is what the
# paper means by $\mathcal F^{-1}(\cdot) = \mathcal F(\cdot)^*$. Unitarity is the geometric
# sum $\frac1n\sum_{j} e^{2\pi i j(k-k')/n} = \delta_{kk'}$. We check it, the symmetry, and
# that `dft_matrix` agrees with the formula written out directly.

# %%
for n in [1, 2, 5, 8, 10]:
    D = dft_matrix(n)
    j = torch.arange(n, dtype=torch.float64)
    direct = torch.exp(-2j * math.pi * torch.outer(j, j) / n) / math.sqrt(n)
    check_close(f"dft_matrix({n:2d}) == formula", D, direct, atol=1e-13)
    check_close(f"D^H D == I (n={n:2d})", D.conj().T @ D, torch.eye(n, dtype=D.dtype))
    check_close(f"D == D^T   (n={n:2d})", D, D.T, atol=1e-15)

# %% [markdown]
# `torch.fft.fft2(x, norm="ortho")` computes the same transform by FFT. Checked against
# `naive_dft2` (the dense product above), against the double sum written with `einsum`,
# and against `numpy.fft.fft2`, for odd, even, non-square and degenerate sizes; the inverse
# likewise, plus the round trip.

# %%
for h, w in SIZES:
    x = torch.randn(3, h, w)  # a batch of three maps
    X = fft2u(x)
    m, k = torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64)
    phase_h = torch.exp(-2j * math.pi * torch.outer(m, m) / h)  # [k, m]
    phase_w = torch.exp(-2j * math.pi * torch.outer(k, k) / w)  # [n, l]
    double_sum = torch.einsum("km,bmn,nl->bkl", phase_h, x.to(phase_h.dtype), phase_w)
    double_sum = double_sum / math.sqrt(h * w)
    tag = f"{h}x{w}"
    check_close(f"{tag:>5}: fft2(ortho) == naive_dft2", X, naive_dft2(x))
    check_close(f"{tag:>5}: fft2(ortho) == double sum", X, double_sum)
    check_close(
        f"{tag:>5}: fft2(ortho) == numpy.fft.fft2(ortho)",
        X, torch.from_numpy(np.fft.fft2(x.numpy(), norm="ortho")),
    )
    Z = torch.randn(3, h, w, dtype=torch.complex128)
    check_close(f"{tag:>5}: ifft2(ortho) == naive_idft2", ifft2u(Z), naive_idft2(Z))
    check_close(f"{tag:>5}: naive_idft2(naive_dft2(x)) == x", naive_idft2(naive_dft2(x)), x)

# %% [markdown]
# The 2-D transform is itself one unitary matrix acting on the flattened image: with
# row-major flattening, $\operatorname{vec}(D_H x D_W) = (D_H\otimes D_W)\operatorname{vec}(x)$.
# This dense $(HW)\times(HW)$ matrix is the "naive DFT" whose cost is $O((HW)^2)$
# (section 6); the separable form above costs $O(HW(H+W))$.

# %%
h, w = 7, 10
x = torch.randn(h, w)
D2 = torch.kron(dft_matrix(h), dft_matrix(w))
check_close("kron(D_H, D_W) @ vec(x) == vec(fft2(x))", D2 @ x.flatten().to(D2.dtype),
            fft2u(x).flatten())
_ = check_close("kron(D_H, D_W) is unitary", D2.conj().T @ D2, torch.eye(h * w, dtype=D2.dtype))

# %% [markdown]
# ### Normalisations: `"ortho"`, `"backward"`, `"forward"`
#
# PyTorch and NumPy default to `norm="backward"`: no factor on the forward transform and
# $1/(HW)$ on the inverse. It is $\sqrt{HW}$ times the unitary transform (and its inverse
# $1/\sqrt{HW}$ times the unitary inverse); `norm="forward"` puts $1/(HW)$ on the forward
# transform. Any pipeline that goes forward at one size and back at another (spectral
# pooling: transform $H\times W$, crop to $h\times w$, invert) inherits a stray factor from
# mixing these. With the default norm the mean of the output is scaled by $HW/(hw)$; with
# `"ortho"` the *energy* of the kept coefficients is preserved and a constant map is scaled
# by $\sqrt{HW/(hw)}$. Public spectral-pooling code that forgets this returns maps $4\times$
# too bright after a $2\times$ pooling. We check the factors, and the constant-map example
# (its spectrum is the DC bin alone, so the crop keeps all of it).

# %%
x = torch.randn(4, 7, 10)
hw = 7 * 10
check_close("fft2(backward) == sqrt(HW) * fft2(ortho)", torch.fft.fft2(x),
            math.sqrt(hw) * fft2u(x), atol=1e-11)
check_close("fft2(forward)  == fft2(ortho) / sqrt(HW)", torch.fft.fft2(x, norm="forward"),
            fft2u(x) / math.sqrt(hw))
Z = torch.fft.fft2(x)
check_close("ifft2(backward) == ifft2(ortho) / sqrt(HW)", torch.fft.ifft2(Z),
            ifft2u(Z) / math.sqrt(hw))


def crop_dc_pool(x, h, w, norm):
    """Transform, keep only the DC bin in an h x w spectrum, invert (constant maps only)."""
    X = torch.fft.fft2(x, norm=norm)
    Y = torch.zeros(*x.shape[:-2], h, w, dtype=X.dtype)
    Y[..., 0, 0] = X[..., 0, 0]
    return torch.fft.ifft2(Y, norm=norm).real


const = torch.full((8, 8), 0.5)
for norm, factor in [("backward", 64 / 16), ("ortho", math.sqrt(64 / 16))]:
    out = crop_dc_pool(const, 4, 4, norm)
    print(f"8x8 -> 4x4, norm={norm!r:>10}: constant 0.5 becomes {out.mean().item():.4f}")
    check_close(f"  factor is {factor:.1f}", out, 0.5 * factor * torch.ones(4, 4))

# %% [markdown]
# ## 2 · The basis functions (Rippel et al., Fig. 1a)
#
# The inverse transform writes the image as a combination of the basis images
#
# $$
# e_{kl}[m,n] = \frac{1}{\sqrt{HW}}\, e^{2\pi i (km/H + ln/W)},\qquad
# x = \sum_{k,l} X[k,l]\; e_{kl},
# $$
#
# so $e_{kl}$ is the inverse DFT of the one-hot spectrum $\delta_{kl}$, and the $e_{kl}$ are
# orthonormal (they are the columns of the unitary matrix $\overline{D_H\otimes D_W}$).
# Since $e_{-k,-l} = \overline{e_{kl}}$, the real parts of a bin and of its mirror
# $((-k)\bmod H, (-l)\bmod W)$ coincide and the imaginary parts differ in sign: this is
# the "equivalence of some of these due to conjugate symmetry" in the paper's caption.
# Bins that are their own mirror (for $8\times 8$: frequencies $(0,0), (0,-4), (-4,0),
# (-4,-4)$) have purely real basis images.

# %%
S = 8
basis = torch.empty(S, S, S, S, dtype=torch.complex128)  # [k, l, m, n], uncentred k, l
mm, nn_ = torch.meshgrid(torch.arange(S), torch.arange(S), indexing="ij")
for k in range(S):
    for l in range(S):
        basis[k, l] = torch.exp(2j * math.pi * (k * mm + l * nn_) / S) / S
check_close("e_kl == naive_idft2(one-hot at (k,l)) for all 64 bins",
            naive_idft2(torch.eye(S * S, dtype=torch.complex128).reshape(S * S, S, S)),
            basis.reshape(S * S, S, S))
flat = basis.reshape(S * S, S * S)
check_close("basis is orthonormal: <e_a, e_b> == delta_ab", flat.conj() @ flat.T,
            torch.eye(S * S, dtype=flat.dtype))

rows, cols = mirror(S, S)
mirrored = basis[rows][:, cols]  # basis at the mirror bin
check_close("Re e_mirror(k,l) == Re e_kl", mirrored.real, basis.real, atol=1e-14)
check_close("Im e_mirror(k,l) == -Im e_kl", mirrored.imag, -basis.imag, atol=1e-14)

# Real parts coincide exactly for (a, a) and (a, mirror(a)), and never otherwise.
re = basis.real.reshape(S * S, S * S)
same = (re[:, None, :] - re[None, :, :]).abs().amax(dim=-1) < 1e-9
partner = (rows[:, None] * S + cols[None, :]).flatten()
expected = torch.eye(S * S, dtype=torch.bool)
expected[torch.arange(S * S), partner] = True
check_true("Re e_a == Re e_b  <=>  b in {a, mirror(a)}", torch.equal(same, expected))
pattern = symmetry_pattern(S, S)
n_real, n_pairs = int((pattern == REAL).sum()), int((pattern != REAL).sum()) // 2
print(f"self-mirror bins: {n_real}, mirror pairs: {n_pairs};\n"
      f"distinct real parts: {n_real + n_pairs}, distinct (±) imaginary parts: {n_pairs}")
check_true("distinct real parts == number of distinct rows of Re(basis)",
           int((same.int().argmax(dim=1) == torch.arange(S * S)).sum()) == n_real + n_pairs)
check_true("imaginary part vanishes exactly on the REAL bins of symmetry_pattern",
           torch.equal(basis.imag.abs().amax(dim=(-2, -1)) < 1e-12, pattern == REAL))

# %% [markdown]
# The figure arranges the 64 basis images by centred frequency (vertical frequency $k$
# down, horizontal frequency $l$ across, DC in the middle). Boxed tiles are self-mirror
# bins (real basis image). Tiles placed point-symmetrically about DC have identical real
# parts and opposite imaginary parts — except in the top row and left column: frequency
# $-4$ is the Nyquist frequency, $-4 \equiv 4 \pmod 8$, so the partner of $(-4, l)$ is
# $(-4, -l)$ in the *same* row (and likewise in the column), and the Nyquist sinusoid
# $(-1)^m$ is real. These wrapped pairs and the four real bins are the corner cases of
# even sizes treated in chapter 02.


# %% tags=["hide-input"]
def mosaic(tiles, gap=1):
    """(R, C, h, w) array -> one image with NaN gaps between tiles."""
    r, c, h, w = tiles.shape
    out = np.full((r * (h + gap) - gap, c * (w + gap) - gap), np.nan)
    for i in range(r):
        for j in range(c):
            out[i * (h + gap):i * (h + gap) + h, j * (w + gap):j * (w + gap) + w] = tiles[i, j]
    return out


freqs = np.arange(S) - S // 2  # centred index i holds frequency i - S//2
# centre the (k, l) axes (dims 0, 1), not the pixel axes
centred_basis = torch.fft.fftshift(basis, dim=(0, 1)).numpy()
centred_pattern = centered(pattern).numpy()
cmap = plt.get_cmap("RdBu_r").copy()
cmap.set_bad("white")
fig, axes = plt.subplots(1, 2, figsize=(TEXT_WIDTH, 4.0), layout="constrained")
for ax, part, name in [(axes[0], centred_basis.real, "real part"),
                       (axes[1], centred_basis.imag, "imaginary part")]:
    im = ax.imshow(mosaic(part), cmap=cmap, vmin=-1 / S, vmax=1 / S, interpolation="nearest")
    ticks = np.arange(S) * (S + 1) + (S - 1) / 2
    ax.set_xticks(ticks, freqs)
    ax.set_yticks(ticks, freqs)
    ax.set_xlabel("horizontal frequency $l$")
    ax.set_ylabel("vertical frequency $k$")
    ax.set_title(f"8×8 DFT basis $e_{{kl}}$, {name}")
    for i, j in zip(*np.nonzero(centred_pattern == REAL), strict=True):
        ax.add_patch(Rectangle((j * (S + 1) - 1, i * (S + 1) - 1), S + 1, S + 1,
                               fill=False, edgecolor="orange", linewidth=2))
fig.colorbar(im, ax=axes, shrink=0.7, label="value ($|e_{kl}[m,n]| = 1/8$)")
plt.show()

# %% [markdown]
# ## 3 · Images and their spectra (Rippel et al., Fig. 1b)
#
# Six CIFAR-10 {cite}`krizhevsky2009cifar` training images (one per class; a deterministic
# synthetic stand-in where the offline archive is absent), converted to grayscale with the
# BT.601 luma weights $0.299R + 0.587G + 0.114B$. We show $\log_{10}|X|$ of the unitary,
# centred spectrum. Natural images put most energy near DC with a roughly $1/|f|$
# amplitude fall-off. The bright horizontal and vertical lines through DC are largely an
# artefact: the DFT treats the image as periodic, so any mismatch between opposite borders
# is an edge, and edges produce rays perpendicular to themselves (checked below).
# Multiplying by a separable Hann window before the transform (as
# {cite}`stamatescu2019maxgain` do) tapers the borders and removes most of the cross.

# %%
for h, w in [(7, 7), (8, 10)]:  # centred index i holds frequency i - H//2, odd and even
    k_freq = (torch.fft.fftfreq(h, d=1 / h)[:, None]).expand(h, w)
    l_freq = (torch.fft.fftfreq(w, d=1 / w)[None, :]).expand(h, w)
    check_true(f"{h}x{w}: centered() puts frequency (i - H//2, j - W//2) at [i, j]",
               torch.equal(centered(k_freq)[:, 0], torch.arange(h) - h // 2.0)
               and torch.equal(centered(l_freq)[0], torch.arange(w) - w // 2.0))

# %% tags=["nbval-ignore-output"]
images, labels, source = sample_images(6)
print(f"source: {source}\nimages {tuple(images.shape)} {images.dtype}\nclasses: {labels}")

# %% tags=["hide-input"]
LUMA = torch.tensor([0.299, 0.587, 0.114])
gray = torch.einsum("c,bchw->bhw", LUMA, images)
hann = torch.hann_window(32, periodic=False)
window = torch.outer(hann, hann)


def log_amplitude(x, floor=1e-4):
    """log10 |centred unitary spectrum|."""
    return torch.log10(centered(fft2u(x)).abs().clamp_min(floor))


def freq_extent(h, w):
    """imshow extent putting centred frequencies on the axes (k down, l across)."""
    return (-(w // 2) - 0.5, (w - 1) // 2 + 0.5, (h - 1) // 2 + 0.5, -(h // 2) - 0.5)


spec = log_amplitude(gray)
spec_hann = log_amplitude((gray - gray.mean(dim=(-2, -1), keepdim=True)) * window)
fig, axes = plt.subplots(3, 6, figsize=(TEXT_WIDTH, 5.0), layout="constrained")
for i in range(6):
    axes[0, i].imshow(images[i].permute(1, 2, 0).numpy())
    axes[0, i].set_title(labels[i], fontsize=10)
    axes[0, i].axis("off")
    a = axes[1, i].imshow(spec[i], cmap="magma", vmin=-3, vmax=1.5, extent=freq_extent(32, 32))
    axes[2, i].imshow(spec_hann[i], cmap="magma", vmin=-3, vmax=1.5, extent=freq_extent(32, 32))
    for ax in axes[1:, i]:  # frequency ticks on the outer panels only
        ax.set_xticks([-16, 0, 15] if ax in axes[2] else [])
        ax.set_yticks([-16, 0, 15] if i == 0 else [])
axes[1, 0].set_ylabel("log₁₀|X|\n$k$")
axes[2, 0].set_ylabel("Hann window\n$k$")
for ax in axes[2]:
    ax.set_xlabel("$l$")
fig.colorbar(a, ax=axes[1:], shrink=0.8, label="log₁₀ amplitude")
fig.suptitle(f"Grayscale images and centred log-amplitude spectra\n({source})")
plt.show()

# %% [markdown]
# ### Predictable spectra: bars, edges and the periodic boundary
#
# Three synthetic $64\times 64$ images whose spectra we can predict.
#
# **A Gaussian bar.** $g(u,v) = \exp\!\big(-u^2/2\sigma_u^2 - v^2/2\sigma_v^2\big)$ with
# $u$ along the bar (at angle $\theta$) and $v$ across it. Its continuous Fourier transform
# is $2\pi\sigma_u\sigma_v\exp\!\big(-2\pi^2(\sigma_u^2 f_u^2 + \sigma_v^2 f_v^2)\big)$:
# narrow in space across the bar means wide in frequency *across* the bar, so the spectrum
# is a ridge perpendicular to the bar. Sampled on a grid that is large compared to
# $\sigma_u$ and with $\sigma_v$ a few pixels (negligible aliasing), the unitary DFT
# amplitude is this closed form divided by $\sqrt{HW}$, with $f$ in cycles per pixel.
#
# **A sawtooth ramp** $x[m,n] = n/W$ is smooth inside but jumps from $1-1/W$ to $0$ at the
# periodic border: a vertical edge. Using $\sum_{n=0}^{W-1} n z^n = W/(z-1)$ for $z^W=1\neq z$,
#
# $$
# X[k,l] = \delta_{k0}\,\sqrt{H/W}\;\frac{1}{e^{-2\pi i l/W}-1}\quad(l\neq 0),\qquad
# |X[0,l]| = \frac{\sqrt{H/W}}{2\,|\sin(\pi l/W)|},
# $$
#
# a horizontal line through DC (perpendicular to the edge) decaying like $1/|l|$: the slow
# decay of a discontinuity.

# %%
H = W = 64
sigma_u, sigma_v, theta = 6.0, 2.0, math.radians(30)
yy, xx = torch.meshgrid(torch.arange(H) - H / 2, torch.arange(W) - W / 2, indexing="ij")
u = xx * math.cos(theta) - yy * math.sin(theta)  # along the bar (y axis points down)
v = xx * math.sin(theta) + yy * math.cos(theta)  # across the bar
bar = torch.exp(-(u**2) / (2 * sigma_u**2) - v**2 / (2 * sigma_v**2))

fk = torch.fft.fftfreq(H)[:, None]  # cycles/pixel, uncentred order
fl = torch.fft.fftfreq(W)[None, :]
f_u = fl * math.cos(theta) - fk * math.sin(theta)
f_v = fl * math.sin(theta) + fk * math.cos(theta)
closed = 2 * math.pi * sigma_u * sigma_v * torch.exp(
    -2 * math.pi**2 * (sigma_u**2 * f_u**2 + sigma_v**2 * f_v**2)) / math.sqrt(H * W)
check_close("Gaussian bar: |DFT| == closed form / sqrt(HW)", fft2u(bar).abs(), closed,
            atol=1e-8)

# Principal axis of the power spectrum (second moments over centred frequencies)
power = fft2u(bar).abs() ** 2
fx, fy = fl.expand(H, W), -fk.expand(H, W)  # horizontal / upward frequency
moments = torch.stack([fx.flatten(), fy.flatten()])
cov = (moments * power.flatten()) @ moments.T / power.sum()
evals, evecs = torch.linalg.eigh(cov)  # ascending: last column = widest direction
ridge = math.degrees(math.atan2(evecs[1, -1], evecs[0, -1])) % 180
bar_angle = math.degrees(theta)
print(f"bar at {bar_angle:.1f}°, spectral ridge at {ridge:.1f}° "
      f"(difference {(ridge - bar_angle) % 180:.1f}°)")
check_close("ridge ⟂ bar", torch.tensor((ridge - bar_angle) % 180), torch.tensor(90.0),
            atol=1e-6)

ramp = (torch.arange(W) / W).expand(H, W)
z = torch.exp(-2j * math.pi * torch.arange(1, W) / W)
expected = torch.zeros(H, W, dtype=torch.complex128)
expected[0, 0] = math.sqrt(H * W) * (W - 1) / (2 * W)  # sqrt(HW) * mean
expected[0, 1:] = math.sqrt(H / W) / (z - 1)
_ = check_close("ramp: DFT == closed form (one line k = 0)", fft2u(ramp), expected)

# %% [markdown]
# The figure adds an anti-aliased square rotated by 20° (four edges: rays along
# $20^\circ + 90^\circ$ and $20^\circ$, each perpendicular to a pair of edges), and the
# same square on the ramp, whose wrap-around edge adds the horizontal ray through DC — the
# same mechanism as the cross in the CIFAR spectra above.

# %% tags=["hide-input"]
def rotated_square(size, half, angle_deg, supersample=8):
    """Anti-aliased filled square (side 2*half, centred), area-sampled by supersampling."""
    t = math.radians(angle_deg)
    s = (torch.arange(size * supersample) + 0.5) / supersample - size / 2
    ys, xs = torch.meshgrid(s, s, indexing="ij")
    a = xs * math.cos(t) - ys * math.sin(t)
    b = xs * math.sin(t) + ys * math.cos(t)
    inside = ((a.abs() <= half) & (b.abs() <= half)).to(torch.float64)
    return inside.reshape(size, supersample, size, supersample).mean(dim=(1, 3))


square = rotated_square(64, 12, 20)
panels = [("Gaussian bar, 30°", bar), ("square, 20°", square),
          ("ramp (edge at border)", ramp), ("square + ramp", square + ramp)]
fig, axes = plt.subplots(2, 4, figsize=(TEXT_WIDTH, 4.6), layout="constrained")
for j, (name, img) in enumerate(panels):
    axes[0, j].imshow(img, cmap="gray")
    axes[0, j].set_title(name, fontsize=10)
    axes[0, j].set_xlabel("column $n$")
    a = axes[1, j].imshow(log_amplitude(img, floor=1e-6), cmap="magma", vmin=-5, vmax=1.5,
                          extent=freq_extent(H, W))
    axes[1, j].set_xlabel("frequency $l$")
axes[0, 0].set_ylabel("row $m$")
axes[1, 0].set_ylabel("frequency $k$")
# draw the predicted ray directions (perpendicular to the bar / the square's edges)
for ax, angles in [(axes[1, 0], [120]), (axes[1, 1], [110, 20]), (axes[1, 3], [110, 20, 0])]:
    for ang in angles:  # short marks near the border, leaving the ray itself visible
        for r in (np.array([24.0, 31.0]), np.array([-31.0, -24.0])):
            ax.plot(r * math.cos(math.radians(ang)), -r * math.sin(math.radians(ang)), "-",
                    color="cyan", linewidth=2)
fig.colorbar(a, ax=axes[1], shrink=0.8, label="log10 |X|")
fig.suptitle("Synthetic images and their centred spectra;\ncyan marks: predicted rays "
             "(perpendicular to edges)")
plt.show()

# %% [markdown]
# ## 4 · Parseval's theorem (Rippel et al., eq. 2)
#
# For a unitary $\mathcal F$, $\langle \mathcal F a, \mathcal F b\rangle = \langle a,
# D^{\mathsf H} D\, b\rangle = \langle a, b\rangle$ (Plancherel), and with $a = b = x-\hat x$
# and linearity,
#
# $$
# \lVert x-\hat x\rVert_2^2 = \lVert \mathcal F(x)-\mathcal F(\hat x)\rVert_2^2 .
# $$
#
# The same holds for $\mathcal F^{-1}$ (also unitary). With the default `"backward"` norm
# the right-hand side is $HW$ times too large.

# %%
for h, w in SIZES:
    x, x_hat = torch.randn(h, w), torch.randn(h, w)
    lhs = (x - x_hat).pow(2).sum()
    rhs = (fft2u(x) - fft2u(x_hat)).abs().pow(2).sum()
    check_close(f"{h}x{w}: ||x - x̂||² == ||F x - F x̂||²", lhs, rhs, atol=1e-11)
    check_close(f"{h}x{w}: <x, x̂> == Re <F x, F x̂>", (x * x_hat).sum(),
                (fft2u(x).conj() * fft2u(x_hat)).sum().real, atol=1e-11)
    Z1, Z2 = torch.randn(h, w, dtype=torch.complex128), torch.randn(h, w, dtype=torch.complex128)
    check_close(f"{h}x{w}: ||Z1 - Z2||² == ||F⁻¹Z1 - F⁻¹Z2||²", (Z1 - Z2).abs().pow(2).sum(),
                (ifft2u(Z1) - ifft2u(Z2)).abs().pow(2).sum(), atol=1e-11)
    ratio = (torch.fft.fft2(x) - torch.fft.fft2(x_hat)).abs().pow(2).sum() / lhs
    check_close(f"{h}x{w}: norm='backward' ratio == HW = {h * w}", ratio,
                torch.tensor(float(h * w)), atol=1e-10)

# %% [markdown]
# The useful consequence: if $\hat x$ is obtained by zeroing a set $Z$ of coefficients
# (keeping the result real, i.e. zeroing mirror pairs together), then
# $\lVert x - \hat x\rVert^2 = \sum_{(k,l)\in Z}|X[k,l]|^2$, the energy of what was discarded.
# This is how the approximation error of spectral pooling is assessed. Below, a
# low-pass mask keeping $|f_k|, |f_l| \le 5$ on a $32\times 32$ map (symmetric under
# mirroring, so $\hat x$ is real).

# %%
x = torch.randn(32, 32)
kf = torch.fft.fftfreq(32, d=1 / 32)  # integer frequencies, uncentred order
keep = (kf.abs()[:, None] <= 5) & (kf.abs()[None, :] <= 5)
rows, cols = mirror(32, 32)
check_true("mask is mirror-symmetric", torch.equal(keep, keep[rows][:, cols]))
X = fft2u(x)
x_hat_c = ifft2u(X * keep)
check_close("x̂ is real", x_hat_c.imag, torch.zeros(32, 32), atol=1e-14)
err = (x - x_hat_c.real).pow(2).sum()
check_close("||x - x̂||² == energy of discarded bins", err, X[~keep].abs().pow(2).sum(),
            atol=1e-10)
print(f"kept {int(keep.sum())}/{32 * 32} bins; relative error "
      f"{(err / x.pow(2).sum()).item():.4f}")

# %% [markdown]
# ## 5 · The convolution theorem (Rippel et al., eq. 1)
#
# ### Circular convolution
#
# The DFT diagonalises **circular** convolution,
# $(x \circledast f)[m,n] = \sum_{a,b} f[a,b]\; x[(m-a)\bmod H,\ (n-b)\bmod W]$. Substituting
# the definition and re-indexing $m' = m-a$, $n' = n-b$ (allowed because everything is
# periodic),
#
# $$
# \begin{aligned}
# \sum_{m,n}(x\circledast f)[m,n]\, e^{-2\pi i(km/H+ln/W)}
# &= \Big(\sum_{a,b} f[a,b]\,e^{-2\pi i(ka/H+lb/W)}\Big)\\
# &\quad\cdot\Big(\sum_{m',n'} x[m',n']\,e^{-2\pi i(km'/H+ln'/W)}\Big).
# \end{aligned}
# $$
#
# Both factors on the right carry one $1/\sqrt{HW}$ under the unitary convention, the left
# side only one, hence
#
# $$
# \mathcal F(x\circledast f) = \sqrt{HW}\;\mathcal F(x)\odot\mathcal F(f),\qquad
# x\circledast f = \sqrt{HW}\;\mathcal F^{-1}\big(\mathcal F(x)\odot \mathcal F(f)\big).
# $$
#
# Rippel et al.'s eq. 1 omits the $\sqrt{MN}$: it is exact only for the unnormalised
# (`"backward"`) DFT, while the paper defines $\mathcal F$ as unitary. The reference below
# is the explicit double sum over shifts, `sum_ab f[a, b] * roll(x, (a, b))`
# (`roll(x, (a, b))[m, n] = x[m - a, n - b]`). A $3\times 3$ filter is zero-padded to the
# map size with its taps at the top-left corner.

# %%
def circular_conv_naive(x, f):
    """Explicit double sum over the taps of f (shape <= x's), periodic boundary."""
    out = torch.zeros_like(x)
    for a in range(f.shape[-2]):
        for b in range(f.shape[-1]):
            out = out + f[..., a, b, None, None] * torch.roll(x, (a, b), dims=(-2, -1))
    return out


def embed(f, h, w):
    """Zero-pad a small filter to h x w, taps at the top-left corner."""
    return F.pad(f, (0, w - f.shape[-1], 0, h - f.shape[-2]))


for h, w in [(8, 8), (7, 10), (5, 5)]:
    x, f = torch.randn(h, w), torch.randn(3, 3)
    ref = circular_conv_naive(x, f)
    fe = embed(f, h, w)
    spectral = math.sqrt(h * w) * ifft2u(fft2u(x) * fft2u(fe))
    check_close(f"{h}x{w}: x ⊛ f == sqrt(HW) F⁻¹(F x · F f)", spectral, ref)
    check_close(f"{h}x{w}: same with norm='backward', no factor",
                torch.fft.ifft2(torch.fft.fft2(x) * torch.fft.fft2(fe)), ref)
    g = torch.randn(h, w)  # a full-size filter needs no embedding
    check_close(f"{h}x{w}: full-size filter", math.sqrt(h * w) * ifft2u(fft2u(x) * fft2u(g)),
                circular_conv_naive(x, g))
    without = ifft2u(fft2u(x) * fft2u(fe))
    print(f"   without the factor the result is off by sqrt(HW) = "
          f"{(ref.norm() / without.abs().norm()).item():.4f}")

# %% [markdown]
# ### Cross-correlation: what `nn.Conv2d` computes
#
# A CNN layer computes $y[m,n] = \sum_{a,b} f[a,b]\, x[m+a, n+b]$, a cross-correlation
# (no flip). With circular padding this is $(x\star f)[m,n] = \sum_{a,b} f[a,b]\,
# x[(m+a)\bmod H, (n+b)\bmod W]$, i.e. circular convolution with the reversed filter
# $f[-a,-b]$, whose DFT is $\overline{\mathcal F(f)}$ for real $f$:
#
# $$
# \mathcal F(x\star f) = \sqrt{HW}\;\mathcal F(x)\odot\overline{\mathcal F(f)} .
# $$
#
# Two details matter when matching `conv2d` with `padding=p` ("same" for a $K\times K$
# filter, $p = (K-1)/2$): the output index $m$ reads inputs $m-p \dots m+p$, so the filter
# must be embedded with its **centre** tap at $[0,0]$, tap $(a,b)$ at $((a-p)\bmod H,
# (b-p)\bmod W)$; embedding at the corner instead shifts the output by $p$ pixels (a phase
# ramp in the spectrum). And a multi-channel layer sums over input channels, which in the
# spectrum is a small matrix product per frequency:
# $Y[b,o] = \sqrt{HW}\sum_c X[b,c]\odot\overline{\mathcal F(f_{o,c})}$.

# %%
def embed_centred(f, h, w):
    """Zero-pad a K x K filter to h x w with its centre tap at [0, 0] (circular 'same')."""
    p = f.shape[-1] // 2
    return torch.roll(embed(f, h, w), (-p, -p), dims=(-2, -1))


h, w, K = 9, 12, 3
x = torch.randn(2, 3, h, w)  # batch 2, 3 input channels
weight = torch.randn(4, 3, K, K)  # 4 output channels
p = K // 2
ref = F.conv2d(F.pad(x, (p, p, p, p), mode="circular"), weight)
naive = torch.zeros(2, 4, h, w)  # y[b,o,m,n] = Σ_{c,a,b'} w[o,c,a,b'] x[b,c,m+a-p,n+b'-p]
for a in range(K):
    for b in range(K):
        shifted = torch.roll(x, (p - a, p - b), dims=(-2, -1))  # [m, n] -> x[m+a-p, n+b-p]
        naive += torch.einsum("oc,bchw->bohw", weight[:, :, a, b], shifted)
check_close("conv2d(circular pad) == explicit circular cross-correlation", ref, naive)
Xs = fft2u(x)
Fw = fft2u(embed_centred(weight, h, w))
spectral = math.sqrt(h * w) * ifft2u(torch.einsum("bchw,ochw->bohw", Xs, Fw.conj()))
check_close("conv2d(circular) == sqrt(HW) F⁻¹(Σ_c F x_c · conj(F f_oc))", spectral, ref)
wrong_conj = math.sqrt(h * w) * ifft2u(torch.einsum("bchw,ochw->bohw", Xs, Fw))
wrong_embed = math.sqrt(h * w) * ifft2u(
    torch.einsum("bchw,ochw->bohw", Xs, fft2u(embed(weight, h, w)).conj()))
check_close("corner embedding == output shifted by p", wrong_embed,
            torch.roll(ref, (-p, -p), dims=(-2, -1)))
print(f"max |error| without the conjugate: {(wrong_conj - ref).abs().max().item():.2f}; "
      f"with corner embedding: {(wrong_embed - ref).abs().max().item():.2f}")

# %% [markdown]
# ### From circular to linear convolution: zero-padding
#
# The full linear convolution of an $H\times W$ map with a $K\times L$ filter has size
# $(H+K-1)\times(W+L-1)$. Zero-padding both to (at least) that size before the DFT leaves
# no room for wrap-around, so the circular convolution of the padded arrays *is* the linear
# one (`torch.fft.fft2(x, s=...)` pads; under `"ortho"` the factor becomes $\sqrt{PQ}$ of the
# padded size). Without padding, the circular result is the linear one with its overhang
# folded back: $(x\circledast f)[m,n] = \sum_{i,j}(x * f)_{\text{full}}[m+iH,\ n+jW]$; it
# agrees with the linear result only where the filter does not wrap, $m\ge K-1$, $n\ge L-1$.
# References: an explicit sum of shifted copies, and `conv2d` with the flipped filter and
# padding $(K-1, L-1)$.

# %%
def linear_conv_full(x, f):
    """Full linear convolution by explicitly adding shifted, weighted copies of x."""
    (h, w), (k, l) = x.shape, f.shape
    out = torch.zeros(h + k - 1, w + l - 1)
    for a in range(k):
        for b in range(l):
            out[a:a + h, b:b + w] += f[a, b] * x
    return out


h, w, K, L = 6, 9, 3, 4
x, f = torch.randn(h, w), torch.randn(K, L)
full = linear_conv_full(x, f)
P, Q = h + K - 1, w + L - 1
via_fft = math.sqrt(P * Q) * torch.fft.ifft2(
    torch.fft.fft2(x, s=(P, Q), norm="ortho") * torch.fft.fft2(f, s=(P, Q), norm="ortho"),
    norm="ortho")
check_close("zero-padded circular == linear (explicit sum)", via_fft, full)
check_close("explicit sum == conv2d(x, flip(f), padding=(K-1, L-1))", full, F.conv2d(
    x[None, None], torch.flip(f, dims=(0, 1))[None, None], padding=(K - 1, L - 1))[0, 0])

circ = circular_conv_naive(x, f)
folded = F.pad(full, (0, 2 * w - Q, 0, 2 * h - P)).reshape(2, h, 2, w).sum(dim=(0, 2))
check_close("unpadded circular == linear folded back (wrap-around)", circ, folded)
check_close("circular == linear where nothing wraps (m ≥ K-1, n ≥ L-1)",
            circ[K - 1:, L - 1:], full[K - 1:h, L - 1:w])
print(f"max |circular - linear| over the wrapped border: "
      f"{(circ - full[:h, :w]).abs().max().item():.2f}")

# %% [markdown]
# ## 6 · Cost: FFT versus matrix DFT
#
# Three ways to compute the $n\times n$ unitary DFT:
#
# | method | operations | log-log slope |
# |---|---|---|
# | dense $(HW)\times(HW)$ matrix times $\operatorname{vec}(x)$ | $(HW)^2 = n^4$ | 4 |
# | separable $D_H\,x\,D_W$ (as in `naive_dft2`) | $HW(H+W) = 2n^3$ | 3 |
# | FFT (`torch.fft.fft2`) | $O(HW\log HW) = O(n^2\log n)$ | $\approx 2$–$2.3$ |
#
# Rippel et al. quote the FFT's $O(MN\log MN)$; the "naive DFT" it replaces is the dense
# matrix, but nobody computes a 2-D DFT that way: the separable product is already one
# power of $n$ cheaper. We time all three single-threaded (`torch.set_num_threads(1)`
# inside the timing, restored afterwards; the dense matrix only up to $n = 64$, where it
# takes 256 MiB). `naive_dft2` also builds its two $n\times n$ matrices on every call;
# that is $O(n^2)$ but with a large constant (complex exponentials), so we time it both as
# called and with the matrices precomputed. Timings vary between machines, so this cell's
# output is not compared. Below $n\approx 64$ every method is dominated by per-call
# overhead and the curves are flat; slopes are therefore fitted on $n\ge 64$ ($n\ge 16$
# for the dense matrix), and even there BLAS and FFT efficiency still change with $n$, so
# read the fitted slopes as rough, not as exponents.

# %% tags=["hide-input", "nbval-ignore-output"]
def best_time(fn, repeats=5, min_block=0.01):
    """Min over repeats of the mean time per call, each block lasting >= min_block s."""
    fn()
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        if time.perf_counter() - t0 >= min_block:
            break
        loops *= 4
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - t0) / loops)
    return best


NS = [8, 16, 32, 64, 128, 256]
NS_DENSE = [8, 16, 32, 64]
FFT, SEP, NAIVE, DENSE = ("FFT (torch.fft.fft2)", "separable D_H x D_W",
                          "naive_dft2 (builds D per call)", "dense (HW)×(HW) matrix")
timings = {FFT: {}, SEP: {}, NAIVE: {}, DENSE: {}}
threads = torch.get_num_threads()
t_start = time.perf_counter()
try:
    torch.set_num_threads(1)
    for n in NS:
        x = torch.randn(n, n)
        D, xc = dft_matrix(n), x.to(torch.complex128)
        timings[FFT][n] = best_time(lambda x=x: torch.fft.fft2(x, norm="ortho"))
        timings[SEP][n] = best_time(lambda D=D, xc=xc: D @ xc @ D)
        timings[NAIVE][n] = best_time(lambda x=x: naive_dft2(x))
        if n in NS_DENSE:
            D2 = torch.kron(D, D)
            xv = xc.flatten()
            timings[DENSE][n] = best_time(lambda D2=D2, xv=xv: D2 @ xv)
            del D2
finally:
    torch.set_num_threads(threads)

fit_from = {FFT: 64, SEP: 64, NAIVE: 64, DENSE: 16}
slopes = {}
print("time per transform [µs]")
print(f"{'n':>4} " + " ".join(f"{name:>12}" for name in ["FFT", "separable", "naive_dft2",
                                                          "dense"]))
for n in NS:
    cells = [f"{t[n] * 1e6:>12.1f}" if n in t else f"{'—':>12}" for t in timings.values()]
    print(f"{n:>4} " + " ".join(cells))
for name, t in timings.items():
    ns = [n for n in t if n >= fit_from[name]]
    slopes[name] = np.polyfit(np.log(ns), np.log([t[n] for n in ns]), 1)[0]
    print(f"fitted log-log slope, {name}: {slopes[name]:.2f}")
print(f"timing took {time.perf_counter() - t_start:.1f} s")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(TEXT_WIDTH, 5.0), layout="constrained")
references = {FFT: (lambda n: n**2 * np.log2(n), "$n^2\\log n$"),
              SEP: (lambda n: n**3, "$n^3$"), NAIVE: None,
              DENSE: (lambda n: n**4, "$n^4$")}
for (name, t), color in zip(timings.items(), ["C0", "C1", "C3", "C2"], strict=True):
    ns = np.array(sorted(t))
    ts = np.array([t[n] for n in ns])
    ax.loglog(ns, ts, "o-", color=color, label=f"{name} (fit slope {slopes[name]:.2f})")
    if references[name] is None:
        continue
    ref, ref_label = references[name]
    scale = ts[-1] / ref(ns[-1])  # anchor the reference at the largest measured n
    ax.loglog(ns, scale * ref(ns.astype(float)), "--", color=color, alpha=0.6,
              label=f"∝ {ref_label}")
ax.set_xticks(NS, [str(n) for n in NS])
ax.set_xlabel("image size $n$ ($n\\times n$, float64 in, complex128 out)")
ax.set_ylabel("time per transform [s], 1 thread")
ax.set_title("Cost of the unitary 2-D DFT")
ax.legend(fontsize=9)
plt.show()

# %% [markdown]
# ## Summary
#
# ```{list-table} Rippel et al. §2, statement by statement
# :header-rows: 1
# :widths: 35 65
#
# * - statement
#   - verdict in this chapter
# * - $\mathcal F$ is unitary; $\mathcal F^{-1}$ is the conjugate of $\mathcal F$
#   - ✓ for `norm="ortho"`; "conjugate" (rather than conjugate transpose) is right because
#     $D_n$ is symmetric
# * - `fft2(norm="ortho")` is that transform
#   - ✓ against dense matrices, explicit sums and NumPy, for odd, even, non-square and
#     $1\times n$ sizes; the default `"backward"` norm is $\sqrt{HW}$ times larger
# * - basis functions coincide by conjugate symmetry (Fig. 1a)
#   - ✓ real parts coincide exactly for mirror pairs and only for them; $8\times 8$ has 34
#     distinct real parts and 30 distinct (±) imaginary parts: 64 real degrees of freedom
# * - rays in the spectrum are perpendicular to edges (Fig. 1b)
#   - ✓ closed forms for a Gaussian bar and for the wrap-around edge of a ramp; the cross
#     in natural-image spectra comes largely from the periodic border
# * - Parseval, eq. 2
#   - ✓ for the unitary transform only; `"backward"` inflates squared errors by $HW$
# * - convolution theorem, eq. 1
#   - **imprecise**: for the unitary $\mathcal F$,
#     $\mathcal F(x\circledast f) = \sqrt{MN}\,\mathcal F(x)\odot\mathcal F(f)$, and only
#     for *circular* convolution; a CNN layer (cross-correlation) needs
#     $\overline{\mathcal F(f)}$ and a centre-tap embedding of the filter
# * - FFT cost $O(MN\log MN)$
#   - ✓ asymptotically; at CNN map sizes ($n\le 64$) per-call overhead dominates, and the
#     measured curves only separate into their $n^2\log n$, $n^3$, $n^4$ regimes for larger $n$
# ```
#
# Package API used: `dft_matrix`, `naive_dft2`, `naive_idft2` (references),
# `mirror`, `symmetry_pattern` and `REAL` (conjugate symmetry, developed in chapter 02),
# `centered` (DC in the middle), `check_close` / `check_true` (every ✓ above), and
# `sample_images` for the figures.
#
# ## Exercises
#
# 1. Spectral pooling crops an $H\times W$ spectrum to $h\times w$. Show that with
#    `norm="ortho"` on both transforms the output of a constant map is
#    $\sqrt{HW/(hw)}$ times the input, and decide which normalisation makes spectral pooling
#    agree with average pooling on constant maps. Check it with `crop_dc_pool`.
# 2. Prove $e_{-k,-l} = \overline{e_{kl}}$ and use it to show that $\mathcal F(x)$ of a
#    real $x$ satisfies $X[k,l] = \overline{X[(-k)\bmod H, (-l)\bmod W]}$ (eq. 3 of the
#    paper; the slides drop the conjugate). Verify it numerically with `mirror`.
# 3. The gradient of a real loss $R$ through $y = \mathcal F(x)$ is
#    $\partial R/\partial x = \mathcal F^{-1}(\partial R/\partial y)$ (eq. 4). Using
#    `torch.autograd` on $R = \sum_{k,l} |c_{kl}\,y_{kl}|^2$ with random real $c$, check this
#    for the unitary transform, and find the extra factor for `norm="backward"`.
# 4. A $K\times K$ cross-correlation over an $n\times n$ map with $C_{in}$ input and
#    $C_{out}$ output channels costs $n^2K^2C_{in}C_{out}$ multiply-adds directly. Count the
#    operations of the FFT route of section 5 (transforms plus per-frequency channel
#    products) and find the filter size $K$ above which it wins, for $n = 32$ and
#    $C_{in} = C_{out} = 64$.
