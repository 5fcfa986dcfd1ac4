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
# # 04 · Spectral pooling
#
# Pooling projects a map onto a smaller set of basis functions. {cite:t}`rippel2015spectral`
# (§3) choose the Fourier basis and truncate it: *spectral pooling* keeps the central
# $h\times w$ block of the centred spectrum of an $H\times W$ map and transforms back. Their
# claims: (i) for the same number of parameters it keeps far more of the input than max
# pooling (their Fig. 4a), (ii) the output size is arbitrary, so maps can shrink gradually,
# and (iii) randomly lowering the cut-off ("frequency dropout", §3.2) regularises well
# enough for 8.6 % / 31.6 % test error on CIFAR-10/100 without augmentation or dropout.
#
# Algorithm 1 (forward) and Algorithm 2 (backward) name three steps whose definitions sit
# in a supplement our copy does not contain: TREATCORNERCASES, REMOVEREDUNDANCY and
# RECOVERMAP. The student reproduction {cite:p}`jain2017ecbm` never describes its
# TREATCORNERCASES and ended at 18.76 % / 51.83 %. Public implementations disagree about
# it: one returns `abs(ifft2(·))`, which discards the sign of the map; one multiplies the
# Nyquist lines by $\sqrt{1/2}$ without saying why; several use un-normalised FFTs and so
# scale the output by $HW/hw$. Chapter 02 compared the candidate repairs and adopted one;
# this chapter derives both algorithms with it, checks every step in float64, shows that
# the package's fast matrix implementation is the same operator, reproduces Fig. 2 and
# Fig. 4a, and defines frequency dropout precisely.
#
# Conventions (notation page): unitary DFT $F$ = `fft2(·, norm="ortho")`, DC at $[0,0]$;
# centred index $i$ holds frequency $i-\lfloor H/2\rfloor$; the crop keeps frequencies
# $-\lfloor h/2\rfloor..\lceil h/2\rceil-1$. All checks run in float64.

# %%
import math

import matplotlib.cbook as cbook
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch, Rectangle

from spectral.checks import check_close, check_true
from spectral.data import balanced_split, load_arrays, sample_images
from spectral.fft import (
    CONJUGATE,
    FREE,
    REAL,
    centered,
    dft_matrix,
    hermitian_part,
    is_hermitian,
    naive_dft2,
    naive_idft2,
    symmetry_pattern,
    uncentered,
)
from spectral.pooling import SpectralPool2d, freq_dropout_schedule, spectral_pool

torch.manual_seed(0)
rng = np.random.default_rng(0)
torch.set_default_dtype(torch.float64)
plt.rcParams.update({"figure.dpi": 90, "axes.titlesize": 10, "axes.labelsize": 9})
C128 = torch.complex128

# (H, W, h, w): odd/even input × odd/even output, non-square, h = H
CASES = [(9, 9, 5, 5), (8, 8, 5, 5), (9, 9, 4, 4), (8, 8, 4, 4), (9, 8, 4, 5), (8, 9, 8, 4)]


def freqs(n):
    """Integer frequencies of an n-grid in uncentred order (0, 1, …, -1)."""
    return torch.fft.fftfreq(n, d=1 / n).round().long()


def crop(Xc, h, w):
    """CROPSPECTRUM: the central h×w block of a centred spectrum."""
    H, W = Xc.shape[-2:]
    r, c = H // 2 - h // 2, W // 2 - w // 2
    return Xc[..., r : r + h, c : c + w]


def pad(Yc, H, W):
    """PADSPECTRUM: a centred h×w spectrum at its own frequencies in an H×W one, zeros elsewhere."""
    h, w = Yc.shape[-2:]
    out = torch.zeros(*Yc.shape[:-2], H, W, dtype=C128)
    r, c = H // 2 - h // 2, W // 2 - w // 2
    out[..., r : r + h, c : c + w] = Yc
    return out


def reference_pool(x, h, w):
    """Alg. 1 with dense DFT matrices and the adopted repair (real part), mean-preserving."""
    H, W = x.shape[-2:]
    y = naive_idft2(uncentered(crop(centered(naive_dft2(x)), h, w))).real
    return y * math.sqrt(h * w / (H * W))


def upsample(y, H, W):
    """Band-limited interpolation back to H×W: zero-pad the spectrum, × √(HW/hw)."""
    h, w = y.shape[-2:]
    z = naive_idft2(uncentered(pad(centered(naive_dft2(y)), H, W))).real
    return z * math.sqrt(H * W / (h * w))


def rel_err(approx, x):
    """‖approx − x‖ / ‖x‖ over the last three dims (channels and pixels)."""
    return (approx - x).flatten(-3).norm(dim=-1) / x.flatten(-3).norm(dim=-1)


# %% [markdown]
# ## 1 · Algorithm 1, step by step
#
# **Step 1**, $y\leftarrow F(x)$, is the unitary DFT of chapter 01. **Step 2**,
# CROPSPECTRUM, keeps the central $h\times w$ block of the centred spectrum. In terms of
# the uncentred spectrum it selects the rows of frequencies $-\lfloor h/2\rfloor..\lceil
# h/2\rceil-1$, i.e. indices $f \bmod H$, and likewise for columns; we check both readings
# agree for every parity combination.

# %%
for H, W, h, w in CASES:
    x = torch.randn(2, H, W)
    X = torch.fft.fft2(x, norm="ortho")
    by_index = X[..., (freqs(h) % H)[:, None], freqs(w) % W]  # uncentred h×w spectrum
    check_close(f"{H}×{W} → {h}×{w}: centred crop == bins of frequencies −⌊h/2⌋..⌈h/2⌉−1",
                uncentered(crop(centered(naive_dft2(x)), h, w)), by_index)

# %% [markdown]
# **Step 3**, TREATCORNERCASES. Inside the block, a bin with $|k|<h/2$ has its mirror
# $-k$ inside too, so these bins keep the conjugate symmetry of a real map. For even $h$
# the block holds row $-h/2$ but not row $+h/2$; on the $h$-grid row $-h/2$ is its own
# mirror, so the block pairs $X[-\tfrac h2,l]$ with $X[-\tfrac h2,-l]=\overline{X[+\tfrac h2,
# l]}$, two unrelated numbers. So the **broken bins are exactly the Nyquist row of an even
# $h$ and the Nyquist column of an even $w$** (whatever the input's parity), unless that
# axis is not reduced ($h=H$). The figure marks them on the symmetry pattern of the output
# grid (`symmetry_pattern`): broken bins are REAL bins that are no longer real and FREE/
# CONJUGATE pairs that are no longer conjugate.

# %%
PATTERN_CMAP = ListedColormap(["tab:blue", "tab:orange", "0.78"])  # FREE, REAL, CONJUGATE


def broken_bins(x, h, w, tol=1e-9):
    """Centred boolean h×w mask: bins of the crop that violate conjugate symmetry."""
    C = uncentered(crop(centered(naive_dft2(x)), h, w))
    return centered((C - hermitian_part(C)).abs().amax(dim=0) > tol)


def predicted_broken(H, W, h, w):
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[0, :] |= h % 2 == 0 and h < H  # centred row 0 holds frequency −h/2
    mask[:, 0] |= w % 2 == 0 and w < W
    return mask


fig, axes = plt.subplots(1, len(CASES), figsize=(15, 3.3))
ok = True
for ax, (H, W, h, w) in zip(axes, CASES, strict=True):
    broken = broken_bins(torch.randn(4, H, W), h, w)
    ok &= torch.equal(broken, predicted_broken(H, W, h, w))
    ax.imshow(centered(symmetry_pattern(h, w)), cmap=PATTERN_CMAP, vmin=-0.5, vmax=2.5)
    for i, j in broken.nonzero().tolist():
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
    ax.set_xticks(range(w), [j - w // 2 for j in range(w)], fontsize=7)
    ax.set_yticks(range(h), [i - h // 2 for i in range(h)], fontsize=7)
    ax.set(title=f"{H}×{W} → {h}×{w}", xlabel="column frequency", ylabel="row frequency")
check_true("broken bins == Nyquist row/column of each even, reduced output dim", ok)
fig.legend(handles=[Patch(color=PATTERN_CMAP(FREE), label="FREE"),
                    Patch(color=PATTERN_CMAP(REAL), label="REAL"),
                    Patch(color=PATTERN_CMAP(CONJUGATE), label="CONJUGATE"),
                    Patch(fill=False, ec="red", lw=2, label="broken by the crop")],
           loc="lower center", ncol=4)
fig.suptitle("Which bins of the cropped spectrum break conjugate symmetry (output grid, centred)")
fig.tight_layout(rect=(0, 0.08, 1, 1))
plt.show()

# %% [markdown]
# The repair adopted in chapter 02 replaces the block by its Hermitian part, the orthogonal
# projection onto conjugate-symmetric spectra; by Parseval its inverse is the real map
# closest to $F^{-1}(\hat y)$, and it equals the real part of $F^{-1}(\hat y)$. It changes only
# the broken bins: each Nyquist bin is averaged with the conjugate of its in-block mirror,
# $\tfrac12(X[-\tfrac h2,l]+X[+\tfrac h2,l])$, and the corner becomes
# $\mathrm{Re}\,X[-\tfrac h2,-\tfrac w2]$. **Step 4** transforms back; the factor
# $\sqrt{hw/HW}$ makes the layer mean-preserving (unitary DFTs would otherwise return a
# constant $c$ as $c\sqrt{HW/hw}$). The package computes exactly this, with either
# implementation.

# %%
ok_fix = ok_rest = True
for H, W, h, w in CASES:
    x = torch.randn(3, H, W)
    C = uncentered(crop(centered(naive_dft2(x)), h, w))
    fixed = hermitian_part(C)
    ok_fix &= is_hermitian(fixed, atol=1e-12)
    untouched = ~uncentered(predicted_broken(H, W, h, w))
    ok_rest &= bool((fixed - C)[..., untouched].abs().max() < 1e-12)
    check_close(f"{H}×{W} → {h}×{w}: F⁻¹(hermitian_part(crop)) == Re F⁻¹(crop)",
                naive_idft2(fixed), naive_idft2(C).real + 0j)
    for impl in ("matrix", "fft"):
        check_close(f"   spectral_pool(impl={impl!r}) == dense reference",
                    spectral_pool(x, (h, w), impl=impl), reference_pool(x, h, w))
check_true("the repaired block is conjugate-symmetric", ok_fix)
check_true("… and differs from the crop only at the broken bins", ok_rest)
const = torch.full((3, 8, 9), 2.5)
_ = check_close("constant 2.5 on 8×9 → 2.5 on 5×4 (mean-preserving)", spectral_pool(const, (5, 4)),
            torch.full((3, 5, 4), 2.5))

# %% [markdown]
# ## 2 · Algorithm 2: the backward pass
#
# Write the layer as $P = s\,\mathrm{Re}\,F_h^{-1} C F_H$ with the crop $C$ and
# $s=\sqrt{hw/HW}$. For real $x$ and $g$, $\langle Px,g\rangle = s\,\mathrm{Re}\langle
# CF_Hx, F_h g\rangle = \langle x, s\,\mathrm{Re}\,F_H^{-1}C^{\top}F_h g\rangle$ since $F$ is
# unitary; $C^\top$ is zero-padding. So
#
# $$\frac{\partial R}{\partial x} = s\,\mathrm{Re}\,F^{-1}_H\Big(\mathrm{pad}\big(F_h
# \tfrac{\partial R}{\partial\hat x}\big)\Big) = s\,F_H^{-1}\,\mathcal H\Big(
# \mathrm{pad}\big(F_h\tfrac{\partial R}{\partial\hat x}\big)\Big),$$
#
# with $\mathcal H$ = `hermitian_part`: Alg. 2 with PADSPECTRUM = zero padding and
# RECOVERMAP = $\mathcal H$. The
# padded spectrum is not Hermitian for even $h$ (the Nyquist row sits at $-h/2$ only), so
# RECOVERMAP is not optional. In the `rfft2` half-plane (chapter 02 §4) the steps read:
#
# 1. $\hat z\leftarrow F(\partial R/\partial\hat x)$ and 2. REMOVEREDUNDANCY: `rfft2`;
# 3. PADSPECTRUM: rows of frequencies $-\lfloor h/2\rfloor..\lceil h/2\rceil-1$, columns
#    $0..\lfloor w/2\rfloor$ of an $H\times(\lfloor W/2\rfloor+1)$ zero array;
# 4. RECOVERMAP: the half-plane of the Hermitian part, which means: the Nyquist row
#    $-h/2$ is split, half stays, half goes to row $+h/2$; the Nyquist column $w/2$ is
#    halved (its other half is the mirrored column $-w/2$, which `irfft2` rebuilds); the
#    **corner is not separable**: all of $\tfrac12\hat z[-\tfrac h2,\tfrac w2]$ goes to
#    $(+\tfrac h2,+\tfrac w2)$ and nothing to $(-\tfrac h2,+\tfrac w2)$, because the zero
#    pad has nothing at $(+\tfrac h2,-\tfrac w2)$;
# 5. $F^{-1}$: `irfft2(·, s=(H, W))`, times $s$.
#
# We check it against autograd through both package implementations and against the
# dense adjoint.

# %%
def algorithm2(g, H, W):
    """Rippel et al. Alg. 2 for the adopted repair, in the rfft2 half-plane."""
    h, w = g.shape[-2:]
    z_hat = torch.fft.rfft2(g, norm="ortho")  # 1-2: F, REMOVEREDUNDANCY
    z = torch.zeros(*g.shape[:-2], H, W // 2 + 1, dtype=C128)  # 3: PADSPECTRUM
    z[..., freqs(h) % H, : w // 2 + 1] = z_hat
    row, col = h % 2 == 0 and h < H, w % 2 == 0 and w < W  # 4: RECOVERMAP
    if row:
        z[..., H - h // 2, :] /= 2
        z[..., h // 2, :] = z[..., H - h // 2, :]
    if col:
        z[..., :, w // 2] /= 2
    if row and col:
        z[..., h // 2, w // 2] *= 2
        z[..., H - h // 2, w // 2] = 0
    return torch.fft.irfft2(z, s=(H, W), norm="ortho") * math.sqrt(h * w / (H * W))  # 5


def autograd_grad(pool, x, g):
    x = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad(pool(x), x, g)[0]


for H, W, h, w in CASES:
    x, g = torch.randn(3, H, W), torch.randn(3, h, w)
    dense = naive_idft2(uncentered(pad(centered(naive_dft2(g)), H, W))).real
    check_close(f"{H}×{W} → {h}×{w}: Alg. 2 (half-plane) == s·Re F⁻¹(pad(F g))",
                algorithm2(g, H, W), dense * math.sqrt(h * w / (H * W)))
    for impl in ("matrix", "fft"):
        check_close(f"   autograd through spectral_pool(impl={impl!r}) == Alg. 2",
                    autograd_grad(lambda v, i=impl, s=(h, w): spectral_pool(v, s, impl=i), x, g),
                    algorithm2(g, H, W))

# %% [markdown]
# The forward pass can be written in the half-plane too, with `rfft2` and `irfft2`, and
# autograd through *that* is Alg. 2 as well. TREATCORNERCASES then has to be spelled out:
# `irfft2(·, s=(h, w))` symmetrises columns $0$ and $w/2$ by itself but trusts every other
# column (chapter 02 §4), so the Nyquist row must be filled with the average
# $\tfrac12(X[-\tfrac h2,l]+X[+\tfrac h2,l])$ of the two rows `rfft2` provides, except in
# the corner, which must hold $X[+\tfrac h2,+\tfrac w2]$, the conjugate of the block's
# $X[-\tfrac h2,-\tfrac w2]$. Dropping the averaging (keeping the row $-h/2$ of `rfft2` as
# it is, chapter 02's candidate (f)) gives a different map and a different gradient.

# %%
def pool_half(x, h, w, average=True):
    """Alg. 1 in the rfft2 half-plane (the adopted repair when average=True)."""
    H, W = x.shape[-2:]
    X = torch.fft.rfft2(x, norm="ortho")
    Z = X[..., freqs(h) % H, : w // 2 + 1]
    if average and h % 2 == 0 and h < H:
        Z = Z.clone()
        Z[..., h // 2, :] = (X[..., H - h // 2, : w // 2 + 1] + X[..., h // 2, : w // 2 + 1]) / 2
        if w % 2 == 0 and w < W:
            Z[..., h // 2, w // 2] = X[..., h // 2, w // 2]
    return torch.fft.irfft2(Z, s=(h, w), norm="ortho") * math.sqrt(h * w / (H * W))


for H, W, h, w in CASES:
    x, g = torch.randn(3, H, W), torch.randn(3, h, w)
    check_close(f"{H}×{W} → {h}×{w}: rfft2/irfft2 forward == spectral_pool", pool_half(x, h, w),
                spectral_pool(x, (h, w)))
    check_close("   autograd through rfft2/irfft2 == Alg. 2",
                autograd_grad(lambda v, s=(h, w): pool_half(v, *s), x, g), algorithm2(g, H, W))
x, g = torch.randn(3, 8, 8), torch.randn(3, 4, 4)
check_true("without the averaging (candidate (f)): different forward and gradient",
           (pool_half(x, 4, 4, average=False) - spectral_pool(x, 4)).abs().max() > 0.1
           and (autograd_grad(lambda v: pool_half(v, 4, 4, average=False), x, g)
                - algorithm2(g, 8, 8)).abs().max() > 0.1)

# %% [markdown]
# So REMOVEREDUNDANCY is `rfft2`, RECOVERMAP is the Hermitian part of the zero-padded
# spectrum (in the half-plane: split, halve, and the corner rule above), and autograd
# through `torch.fft` computes Alg. 2 with no hand-written backward, whichever form the
# forward takes.
#
# ## 3 · The Nyquist treatments, recapped
#
# Chapter 02 compared the candidate TREATCORNERCASES in detail; here is the short version
# for $32\times32\to16\times16$ (both dims even: Nyquist row, column and corner). "Real
# part" and "mirror average" are the same operator (chapter 02 §5), the package's. "Sum"
# folds the cut-off row $+h/2$ onto $-h/2$ (subsampling of the band-limited map), "√½"
# is the same fold with weight $\sqrt{1/2}$; we add the two public-code variants, `abs` of
# the complex inverse and un-normalised FFTs. Criteria: (1) distance to $F^{-1}(\hat y)$,
# the real map Alg. 1 asks for; (2) the error of reconstructing $x$ by band-limited
# interpolation of the pooled map (`upsample`, which splits a Nyquist value evenly between
# $\pm h/2$); the gain on a pure Nyquist cosine $\cos(\pi h m/H)$ and on a constant map.

# %%
def fold(x, h, w, t):
    """Nyquist row/column ← t·(sum of the ±h/2 aliases), corner from its four aliases."""
    H, W = x.shape[-2:]
    Xc = centered(naive_dft2(x))
    r, c = H // 2 - h // 2, W // 2 - w // 2
    K = Xc[..., r : r + h + 1, c : c + w + 1]  # the block plus row +h/2 and column +w/2
    K = torch.cat([t * (K[..., :1, :] + K[..., -1:, :]), K[..., 1:-1, :]], dim=-2)
    K = torch.cat([t * (K[..., :1] + K[..., -1:]), K[..., 1:-1]], dim=-1)
    return naive_idft2(uncentered(K)).real * math.sqrt(h * w / (H * W))


def raw_block(x, h, w):  # F⁻¹(crop) before any repair, complex
    H, W = x.shape[-2:]
    return naive_idft2(uncentered(crop(centered(naive_dft2(x)), h, w))) * math.sqrt(h * w / (H * W))


TREATMENTS = {
    "real part ≡ mirror average (package)": lambda x: spectral_pool(x, 16),
    "sum of the aliases (fold)": lambda x: fold(x, 16, 16, 1.0),
    "√½ · sum": lambda x: fold(x, 16, 16, 0.5**0.5),
    "abs(ifft2(crop))": lambda x: raw_block(x, 16, 16).abs(),
    "real part, unnormalised FFTs": lambda x: torch.fft.ifft2(  # torch's default norm
        uncentered(crop(centered(torch.fft.fft2(x)), 16, 16))).real,
}


def scores(x):
    """Mean criterion-1 and criterion-2 errors, relative to ‖x‖, per treatment."""
    out = {}
    for name, f in TREATMENTS.items():
        y = f(x)
        crit1 = (y - raw_block(x, 16, 16)).flatten(-2).norm(dim=-1) / x.flatten(-2).norm(dim=-1)
        crit2 = (upsample(y, 32, 32) - x).flatten(-2).norm(dim=-1) / x.flatten(-2).norm(dim=-1)
        out[name] = (crit1.mean().item(), crit2.mean().item())
    return out


m = torch.arange(32.0)[:, None].expand(32, 32)
nyquist_cos, sign16 = torch.cos(math.pi * 16 * m / 32), (-1.0) ** torch.arange(16.0)[:, None]
white = scores(torch.randn(200, 32, 32))
rows = {}
for name, f in TREATMENTS.items():
    gain_nyq = (f(nyquist_cos[None])[0] * sign16).mean().item()
    gain_const = f(torch.ones(1, 32, 32))[0].mean().item()
    rows[name] = [*white[name], gain_nyq, gain_const]
recap = pd.DataFrame.from_dict(rows, orient="index",
                               columns=["crit 1 (white)", "crit 2 (white)", "Nyquist cos gain",
                                        "constant gain"])
print((recap.round(4) + 0.0).to_string())  # + 0.0: no "-0.0000"

# %% tags=["nbval-ignore-output"]
images, labels, source = sample_images(10)
real = scores(images.reshape(-1, 32, 32))
print(f"{source}, {images.shape[0]} images × 3 channels:")
print(pd.DataFrame.from_dict(real, orient="index", columns=["crit 1 (real)", "crit 2 (real)"])
      .round(4).to_string())

# %%
best1 = min(white, key=lambda k: white[k][0])
best2 = min(white, key=lambda k: white[k][1])
check_true(f"criterion 1 (white and real images): best is {best1!r}",
           best1 == min(real, key=lambda k: real[k][0]) == "real part ≡ mirror average (package)")
check_true(f"criterion 2 (white and real images): best is {best2!r}",
           best2 == min(real, key=lambda k: real[k][1]) == "sum of the aliases (fold)")
check_close("Nyquist cosine gains: package ½, fold 1, √½ fold √½",
            torch.tensor(recap["Nyquist cos gain"].iloc[:3].to_numpy()),
            torch.tensor([0.5, 1.0, 0.5**0.5]))
noise = torch.randn(3, 32, 32)
check_close("unnormalised FFTs == package × HW/hw = 4",
            TREATMENTS["real part, unnormalised FFTs"](noise), 4 * spectral_pool(noise, 16))
check_true("abs() loses the sign: a Nyquist cosine comes back as a constant ½",
           bool(torch.allclose(TREATMENTS["abs(ifft2(crop))"](nyquist_cos[None]),
                               torch.full((1, 16, 16), 0.5))))

# %% [markdown]
# The package keeps the least-squares choice (criterion 1) for the reasons of chapter 02:
# it needs only the block Alg. 1 crops, it is an orthogonal projection (non-expansive), its
# adjoint is the clean Alg. 2 above, and for odd sizes it is the plain crop. Its price is
# the halved Nyquist cosine, visible in criterion 2, where the fold is best; the gap is
# small on real images, whose Nyquist bins carry little energy. `abs` is not a repair (it
# returns the magnitude of a complex map, signs lost) and the un-normalised variant is the
# package's map times $HW/hw=4$ (chapter 02 §5).
#
# ## 4 · The FFT is the idea, the matrix is the implementation
#
# Pooling is linear and separable up to the real part. With the complex $h\times H$ matrix
#
# $$A = \sqrt{h/H}\;F_h^{-1}\,S\,F_H,\qquad A[m,n]=\frac1H\sum_{k=-\lfloor h/2\rfloor}^{\lceil
# h/2\rceil-1} e^{2\pi i k(m/h-n/H)}$$
#
# ($S$ selects the kept frequencies) and its $w\times W$ twin $B$, the pooled map is
# $\hat x = \mathrm{Re}(A\,x\,B^\top) = A_r x B_r^\top - A_i x B_i^\top$ ($A = A_r + iA_i$).
# The sum over symmetric frequencies is real; only the unpaired $k=-h/2$ of an even $h$
# is not, so
#
# $$A_i[m,n] = \frac{(-1)^m}{H}\sin\frac{\pi h n}{H}\quad(h\text{ even}),\qquad A_i=0\quad
# (h\text{ odd}),$$
#
# a rank-1 matrix. The second term is therefore a rank-1 correction that only exists when
# *both* $h$ and $w$ are even, and costs one extra row of $A$ and column of $B$: the
# package computes $V = [A_r; a^\top]\,x\,[B_r; b^\top]^\top$ and subtracts $V_{hw}\,
# u v^\top$ from its top-left block. Dropping it, i.e. the per-axis operator $A_r x B_r^\top$,
# changes exactly one bin, the corner $(-\tfrac h2,-\tfrac w2)$, and makes the layer read
# frequencies outside the block (the aliases $(\pm\tfrac h2,\mp\tfrac w2)$).

# %%
def pooling_matrix(H, h):
    """The complex h×H operator A = √(h/H) F_h⁻¹ S F_H, from dense DFT matrices."""
    S = (freqs(h)[:, None] == freqs(H)[None, :]).to(C128)
    return math.sqrt(h / H) * dft_matrix(h).conj() @ S @ dft_matrix(H)


for H, h in [(32, 26), (32, 27), (15, 8), (9, 4)]:
    A = pooling_matrix(H, h)
    closed = (-1.0) ** torch.arange(h)[:, None] * torch.sin(math.pi * h * torch.arange(H) / H) / H
    check_close(f"{H} → {h}: A_i == closed form", A.imag, closed * (h % 2 == 0))
    sv = torch.linalg.svdvals(A.imag)
    check_true(f"   rank(A_i) = {int((sv > 1e-12).sum())}", int((sv > 1e-12).sum()) == 1 - h % 2)

for H, W, h, w in CASES:
    x = torch.randn(3, H, W)
    A, B = pooling_matrix(H, h), pooling_matrix(W, w)
    two_terms = A.real @ x @ B.real.T - A.imag @ x @ B.imag.T
    check_close(f"{H}×{W} → {h}×{w}: A_r x B_rᵀ − A_i x B_iᵀ == spectral_pool", two_terms,
                spectral_pool(x, (h, w)))
    per_axis = A.real @ x @ B.real.T
    diff = centered(naive_dft2(per_axis - spectral_pool(x, (h, w)))).abs().amax(0) > 1e-10
    corner_only = torch.zeros(h, w, dtype=torch.bool)
    corner_only[0, 0] = h % 2 == 0 and w % 2 == 0 and h < H and w < W
    check_true("   per-axis A_r x B_rᵀ differs exactly at the corner bin (−h/2, −w/2) if any",
               torch.equal(diff, corner_only))
mm, nn_ = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
alias = torch.cos(math.pi * (8 * mm / 16 - 8 * nn_ / 16))  # bins (±8, ∓8): outside the 8×8 block
A8 = pooling_matrix(16, 8)
check_close("alias (+h/2, −w/2): spectral_pool ignores it", spectral_pool(alias, 8),
            torch.zeros(8, 8))
check_true("… the per-axis operator does not", (A8.real @ alias @ A8.real.T).abs().max() > 0.1)

# %%
A = pooling_matrix(32, 26)
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6), gridspec_kw={"width_ratios": [1, 1, 1.3]})
for ax, M, title in [(axes[0], A.real, "A_r (26×32)"), (axes[1], A.imag, "A_i (26×32): rank 1")]:
    lim = float(M.abs().max())
    im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set(title=title, xlabel="input index n", ylabel="output index m")
    fig.colorbar(im, ax=ax, shrink=0.8)
n_ax = torch.arange(32)
axes[2].plot(n_ax, pooling_matrix(32, 16).real[8], "o-", ms=3, label="spectral, 32 → 16: row m = 8")
box = torch.zeros(32)
box[16:18] = 0.5
axes[2].step(n_ax, box, where="mid", color="k", lw=1, label="average pooling 2, output 8")
axes[2].set(title="one row of A: a periodic sinc, not a box", xlabel="input index n",
            ylabel="weight")
axes[2].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Each row of $A_r$ is a periodic sinc centred on input position $mH/h$: spectral pooling is
# a weighted average with oscillating, slowly decaying weights, not a box (and its sampling
# grid sits half an input pixel from that of 2×2 average pooling).
#
# Cost. Per map the FFT route needs a real 2-D FFT of $H\times W$ and an inverse of
# $h\times w$ plus the crop and, for autograd, the same again backwards; the matrix route
# needs $h\,W(H+w)$ multiply-adds, ≈ 51k for $32\to27$, which CPUs do at BLAS speed. The
# matrices are built once per size in float64 from the DFT matrices above and cached per
# dtype and device. A quick forward+backward timing on this machine (float32; ratios to
# `max_pool2d` 2×2; machine-dependent, not compared); `benchmarks/pooling.py` runs the
# full table at batch 128.

# %% tags=["nbval-ignore-output"]
from torch.utils.benchmark import Timer  # its import prints a CUDA notice on CPU-only machines


def fwd_bwd_ms(f, x):
    grad = torch.randn_like(f(x))
    timer = Timer("torch.autograd.grad(f(x), x, grad)",
                  globals={"f": f, "x": x, "grad": grad, "torch": torch})
    return timer.blocked_autorange(min_run_time=0.1).median * 1e3


bench = {}
for shape, h in [((8, 96, 32, 32), 27), ((8, 256, 16, 16), 8)]:
    x = torch.randn(*shape, dtype=torch.float32, requires_grad=True)
    methods = {
        "max_pool2d 2×2": lambda v: F.max_pool2d(v, 2),
        "avg_pool2d 2×2": lambda v: F.avg_pool2d(v, 2),
        "spectral_pool (matrix)": lambda v, h=h: spectral_pool(v, h),
        "spectral_pool (fft)": lambda v, h=h: spectral_pool(v, h, impl="fft"),
        "rfft2+irfft2 pair": lambda v: torch.fft.irfft2(torch.fft.rfft2(v), s=v.shape[-2:]),
    }
    times = {name: fwd_bwd_ms(f, x) for name, f in methods.items()}
    bench[f"{'×'.join(map(str, shape))} → {h}"] = {k: t / times["max_pool2d 2×2"]
                                                   for k, t in times.items()}
    print(f"{shape} → {h}: " + ", ".join(f"{k} {t:.1f} ms" for k, t in times.items()))
print(f"threads: {torch.get_num_threads()}")
pd.DataFrame(bench).plot.barh(figsize=(9, 3.4), logx=True)
plt.axvline(1, color="k", lw=0.8)
plt.xlabel("forward+backward time / max_pool2d (log scale)")
plt.title("Spectral pooling: the matrix form against the FFT form (float32, this CPU)")
plt.show()

# %% [markdown]
# ## 5 · Information preservation (Rippel Fig. 2 and Fig. 4a)
#
# Max pooling can only shrink by integer strides; spectral pooling reaches any size. Fig. 2
# of the paper shows an image at several sizes; here a CIFAR-10 image ($32\times32$) and a
# larger natural image (the $512\times512$ centre of matplotlib's sample photograph of Grace
# Hopper). Every pooled map is drawn at the same size (nearest-neighbour display).

# %%
hopper = torch.from_numpy(plt.imread(cbook.get_sample_data("grace_hopper.jpg")).copy())
hopper = hopper[44:556].permute(2, 0, 1).to(torch.float32) / 255  # (3, 512, 512), float32
rows_fig2 = [(images[8], [32, 24, 16, 12, 8, 4], f"CIFAR-10 ({labels[8]})"),
             (hopper, [512, 128, 64, 32, 16, 8], "Grace Hopper, 512×512")]
fig, axes = plt.subplots(4, 6, figsize=(13, 9.4))
for r, (img, sizes, name) in enumerate(rows_fig2):
    H = img.shape[-1]
    for c, n in enumerate(sizes):
        spec = spectral_pool(img, n).clamp(0, 1)
        mx = F.max_pool2d(img[None], H // n)[0] if H % n == 0 else None
        for ax, im, kind in [(axes[2 * r, c], spec, "spectral"), (axes[2 * r + 1, c], mx, "max")]:
            ax.set(xticks=[], yticks=[])
            if im is None:
                ax.text(0.5, 0.5, f"{n}×{n}:\nno integer stride", ha="center", va="center",
                        transform=ax.transAxes, fontsize=9)
                continue
            ax.imshow(im.permute(1, 2, 0), interpolation="nearest")
            ax.set_title(f"{kind} {n}×{n}" if n < H else f"{name}", fontsize=9)
fig.suptitle("Spectral pooling (rows 1, 3) vs max pooling (rows 2, 4) to several sizes")
fig.tight_layout()
plt.show()

# %% [markdown]
# Fig. 4a measures the information kept: the average relative $\ell_2$ error
# $\lVert x-\tilde x\rVert/\lVert x\rVert$ against the fraction of parameters kept,
# $hw/HW$. A pooled map must be mapped back to $H\times W$ to be compared with $x$; the
# paper does not say how. We use each method's natural inverse: band-limited interpolation
# (zero-padding the spectrum, `upsample`) for spectral pooling, which is
# `spectral_pool(x, (H, W), radius=h)` in one call, and nearest-neighbour (each pooled value
# copied over its $s\times s$ block) for max and average pooling with stride $s$. For a
# piecewise-constant reconstruction average pooling is the $\ell_2$-optimal choice, so it
# is the fairer baseline; the paper's red line is max pooling's best, stride 2. Images:
# 500 images of the CIFAR-10 test set (50 per class, all channels; the ten training images
# above where the archive is absent), and four $256\times256$ tiles of the Hopper image.

# %% tags=["nbval-ignore-output"]
try:
    test_images, test_labels = load_arrays("cifar10", train=False)
    chosen, _ = balanced_split(test_labels, first=500)
    cifar_eval, cifar_source = test_images[chosen].to(torch.float32) / 255, "CIFAR-10 test set"
except FileNotFoundError:
    cifar_eval, cifar_source = images, source
print(f"Fig. 4a images: {cifar_source}, {len(cifar_eval)} images")

# %%
check_close("spectral_pool(x, (H, W), radius=h) == upsample(spectral_pool(x, h))",
            spectral_pool(images[:2], 32, radius=12),
            upsample(spectral_pool(images[:2], 12), 32, 32))


def block_error(x, stride, pool):
    """Relative error of stride-s pooling followed by nearest-neighbour upsampling."""
    y = pool(x, stride)
    back = y.repeat_interleave(stride, dim=-2).repeat_interleave(stride, dim=-1)
    return rel_err(back, x).mean().item()


tiles = hopper.reshape(3, 2, 256, 2, 256).permute(1, 3, 0, 2, 4).reshape(4, 3, 256, 256)
curves = {}
for name, data, sizes in [("CIFAR-10", cifar_eval, range(1, 33)),
                          ("Hopper tiles 256×256", tiles,
                           [2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 160, 192, 256])]:
    H = data.shape[-1]
    spec = [(n * n / H**2, rel_err(spectral_pool(data, H, radius=n), data).mean().item())
            for n in sizes]
    blocks = {kind: [(1 / s**2, block_error(data, s, pool)) for s in (2, 4, 8)]
              for kind, pool in [("max", F.max_pool2d), ("avg", F.avg_pool2d)]}
    curves[name] = (spec, blocks)

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.3))
for ax, (name, (spec, blocks)) in zip(axes, curves.items(), strict=True):
    ax.plot(*zip(*spec, strict=True), "o-", ms=3,
            label="spectral pooling + band-limited upsampling")
    for kind, marker, color in [("max", "s", "tab:red"), ("avg", "^", "tab:green")]:
        ax.plot(*zip(*blocks[kind], strict=True), marker, color=color, ms=7,
                label=f"{kind} pooling stride 2, 4, 8 + nearest upsampling")
    ax.axhline(blocks["max"][0][1], color="tab:red", lw=1, ls="--", label="max pooling, stride 2")
    ax.set(xscale="log", xlabel="fraction of parameters kept  hw/HW",
           ylabel="average ‖x − x̃‖ / ‖x‖", title=name, ylim=(0, None))
axes[0].legend(fontsize=8)
fig.suptitle(f"Information preservation (Rippel Fig. 4a); images: {cifar_source}")
fig.tight_layout()
plt.show()

# %% tags=["nbval-ignore-output"]
for name, (spec, blocks) in curves.items():
    errors = dict(spec)
    table4a = pd.DataFrame({"spectral": [errors[1 / s**2] for s in (2, 4, 8)],
                            "average": [e for _, e in blocks["avg"]],
                            "max": [e for _, e in blocks["max"]]},
                           index=pd.Index(["1/4", "1/16", "1/64"], name="fraction kept"))
    reach = next(f for f, e in sorted(spec) if e <= blocks["max"][0][1])
    print(f"{name}: relative error; spectral reaches max pooling's stride-2 error at "
          f"{reach:.3f} of the parameters\n{table4a.round(3).to_string()}\n")

# %% [markdown]
# Both claims of §3.1 hold here (numbers in the table above): at each of max pooling's
# three fractions spectral pooling loses much less (about half the error), it reaches max
# pooling's stride-2 error with a few per cent of the parameters instead of 25 %, and its
# curve is smooth where max pooling has three points. Average pooling is the stronger
# baseline: it stays above the spectral curve at 1/4 and 1/16 and catches up at 1/64 on
# CIFAR-10, where the two coincide. Why a low-pass block does so well: for a stationary
# image model the best $hw$-dimensional linear approximation keeps the $hw$ Fourier modes
# of largest power (the principal components of a stationary process are Fourier modes),
# and the power of natural images falls with frequency, so the central block is close to
# that optimum. None of this says that the kept information is what a classifier needs
# (the student's caveat about edges, {cite:p}`jain2017ecbm`).
#
# ## 6 · Frequency dropout
#
# §3.2 zeroes "all frequencies outside the central $R_H\times R_W$ square" while keeping
# the output size. For even $R$ that square is asymmetric again, and "zero, then take the
# real part" (call it *mask-Re*) keeps half of the $\pm R/2$ pair *including its sine
# part*: its output space has dimension $(R+1)^2-2$, almost that of radius $R+1$. The
# package defines
#
# $$\texttt{spectral\_pool}(x, (h,w), \texttt{radius}=(r_h,r_w)) =
# \mathrm{upsample}_{h\times w}\big(\texttt{spectral\_pool}(x, (r_h, r_w))\big),$$
#
# pool to the radius with the adopted repair, then zero-pad the spectrum back (the
# adjoint of pooling $h\times w\to r_h\times r_w$, rescaled to keep the mean). Its output
# is real, has exactly $r_h r_w$ degrees of freedom, the spaces are nested in $r$ (nested
# dropout on both axes, as §3.2 says), and `radius = output_size` is plain pooling.

# %%
def mask_re(x, h, w, r):
    """The other reading: zero outside the central r×r block of the pooled spectrum, real part."""
    H, W = x.shape[-2:]
    C = crop(centered(naive_dft2(x)), h, w) * math.sqrt(h * w / (H * W))
    return naive_idft2(uncentered(pad(crop(C, r, r), h, w))).real


basis = torch.eye(144).reshape(144, 12, 12)
ranks, nested, previous = {}, True, None
for r in range(1, 11):
    ours = spectral_pool(basis, 10, radius=r).reshape(144, -1)
    other = mask_re(basis, 10, 10, r).reshape(144, -1)
    ranks[r] = (int(torch.linalg.matrix_rank(ours)), int(torch.linalg.matrix_rank(other)))
    if previous is not None:  # the outputs of radius r − 1 lie in those of radius r
        nested &= int(torch.linalg.matrix_rank(torch.cat([ours, previous], dim=1))) == r * r
    previous = ours
print(pd.DataFrame(ranks, index=["rank, package", "rank, mask-Re"]).rename_axis("radius r")
      .to_string())
check_true("package: rank r² for every radius r (12×12 → 10×10)",
           all(a == r * r for r, (a, _) in ranks.items()))
check_true("package: nested output spaces, radius r − 1 inside radius r", nested)
check_true("mask-Re: rank (r+1)² − 2 for even r < 10", all(b == (r + 1) ** 2 - 2 for r, (_, b) in
                                                         ranks.items() if r % 2 == 0 and r < 10))
x = torch.randn(2, 12, 12)
check_close("radius = output size is plain pooling", spectral_pool(x, 10, radius=10),
            spectral_pool(x, 10))
_ = check_close("radius 6 == upsample(spectral_pool(x, 6))", spectral_pool(x, 10, radius=6),
                upsample(reference_pool(x, 6, 6), 10, 10))

# %% [markdown]
# Sampling (Rippel §5.1): layer $m$ of $M$ draws its radius uniformly from the integers
# $[\lfloor c_m H_m\rfloor, H_m]$ with $c_m=\alpha+\tfrac mM(\beta-\alpha)$, once per
# forward call, for the whole batch; `SpectralPool2d(h, freq_dropout=c)` does this in
# training mode and never truncates in eval mode. We raise the lower end to 1 (radius 0
# would erase the map, mean included; it only matters for $c_m H_m<1$). For non-square
# outputs the radius is drawn along the longer side and the other side follows
# proportionally. The schedule of the paper's best net (γ = 0.85, α ≈ 0.30, β ≈ 0.15; the
# paper does not give $M$, the student used 6):

# %%
sizes_m, size = [], 32
for _ in range(6):
    size = math.floor(0.85 * size)
    sizes_m.append(size)
schedule = freq_dropout_schedule(6, 0.30, 0.15)
table = pd.DataFrame({"H_m": sizes_m, "c_m": schedule,
                      "radius range": [SpectralPool2d(n, c).radius_range()[0][0] for n, c in
                                       zip(sizes_m, schedule, strict=True)]},
                     index=pd.RangeIndex(1, 7, name="layer m"))
table["radius range"] = [f"[{lo}, {n}]"
                         for lo, n in zip(table["radius range"], sizes_m, strict=True)]
print(table.round(3).to_string())
check_close("c_m = α + (m/M)(β − α)", torch.tensor(schedule),
            0.30 + torch.arange(1, 7) / 6 * (0.15 - 0.30))

pool = SpectralPool2d(27, freq_dropout=schedule[0], generator=torch.Generator().manual_seed(0))
draws = torch.tensor([pool.sample_radius()[0] for _ in range(4000)])
counts = torch.bincount(draws, minlength=28)
check_true("4000 draws cover exactly [⌊0.275·27⌋, 27] = [7, 27]",
           counts[:7].sum() == 0 and bool((counts[7:] > 0).all()))
x = images[:4].float()
pool.eval()
_ = check_close("eval mode: no truncation", pool(x), spectral_pool(x, 27), atol=1e-6)

# %%
img = images[8]
radii = [27, 21, 15, 9]
fig = plt.figure(figsize=(14, 5.6))
grid = fig.add_gridspec(2, 6, width_ratios=[1, 1, 1, 1, 0.15, 1.8])
for c, r in enumerate(radii):
    pooled = spectral_pool(img, 27, radius=r)
    ax = fig.add_subplot(grid[0, c])
    ax.imshow(pooled.clamp(0, 1).permute(1, 2, 0), interpolation="nearest")
    ax.set(title=f"27×27, radius {r}", xticks=[], yticks=[])
    ax = fig.add_subplot(grid[1, c])
    amp = centered(torch.fft.fft2(pooled.mean(0), norm="ortho")).abs().clamp_min(1e-6).log10()
    ax.imshow(amp, cmap="magma", vmin=-4, vmax=1, extent=(-13.5, 13.5, 13.5, -13.5))
    ax.add_patch(Rectangle((-r / 2, -r / 2), r, r, fill=False, ec="cyan", lw=1))
    ax.set(title="log₁₀|spectrum|", xlabel="l", ylabel="k" if c == 0 else None)
ax = fig.add_subplot(grid[:, 5])
ax.bar(range(28), counts.numpy() / len(draws), color="tab:blue")
ax.axhline(1 / 21, color="k", ls="--", lw=1, label="uniform on [7, 27]")
ax.set(xlabel="sampled radius", ylabel="frequency", title="SpectralPool2d(27, 0.275): 4000 draws")
ax.legend(fontsize=8)
fig.suptitle("Frequency dropout: the same layer at four radii (training mode draws one per call)")
plt.show()

# %% [markdown]
# ## 7 · The package in use
#
# `spectral_pool(x, output_size, radius=None, impl="matrix")` for any `(..., H, W)` real
# tensor; `SpectralPool2d(output_size, freq_dropout=None, impl="matrix", generator=None)` as
# a layer; `freq_dropout_schedule(M, α, β)` for the per-layer $c_m$. Gradients come from
# autograd (a small hand-written backward only for the rank-1 corner step of the matrix
# form, gradchecked in the tests). Under `torch.autocast` it follows the package's policy
# (`spectral._validate`): a half-precision input (a convolution's bf16 output) is pooled in
# float32 and returned in its own dtype; a float32 input stays float32. FFTs in half
# precision are not available on CPUs and only for power-of-two sizes on CUDA.

# %%
net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 8, 3, padding=1), SpectralPool2d(27, schedule[0]), torch.nn.ReLU(),
    torch.nn.Conv2d(8, 8, 3, padding=1), SpectralPool2d(22, schedule[1]), torch.nn.ReLU(),
).float()
x = images[:4].float()
train_a, train_b = net(x), net(x)
net.eval()
eval_a, eval_b = net(x), net(x)
print(f"output {tuple(eval_a.shape)}; two training calls differ: "
      f"{not torch.equal(train_a, train_b)}; two eval calls equal: {torch.equal(eval_a, eval_b)}")
with torch.autocast("cpu", dtype=torch.bfloat16):
    out = net(x)
print(f"under autocast(bfloat16): output dtype {out.dtype}")
net.train()
net(x).square().mean().backward()
check_true("gradients reach the first convolution", net[0].weight.grad.abs().sum() > 0)

# %% [markdown]
# ## Summary
#
# | step | what it is | checked against |
# |---|---|---|
# | CROPSPECTRUM | frequencies $-\lfloor h/2\rfloor..\lceil h/2\rceil-1$ | frequency indexing |
# | TREATCORNERCASES | Hermitian part = real part of $F^{-1}$ | `symmetry_pattern`, dense DFT |
# | scale | $\sqrt{hw/HW}$, mean-preserving | constant maps |
# | REMOVEREDUNDANCY | `rfft2` | Alg. 2 == autograd |
# | PADSPECTRUM | zero-padding | dense adjoint |
# | RECOVERMAP | Hermitian part of the padded spectrum | autograd, both forms |
# | implementation | $A_r x B_r^\top - A_i x B_i^\top$, rank-1 $A_i$ | FFT form, $10^{-12}$ |
# | frequency dropout | pool to the radius, zero-pad back | dense reference, ranks |
#
# **Verdict.** Algorithms 1 and 2 are sound once the three deferred steps are defined, and
# they can be defined so that the forward pass is the least-squares real map and the
# backward pass is its exact adjoint; autograd needs no help. The subtlety is confined to
# the Nyquist lines of even output sizes, and in 2-D to one corner bin that a per-axis
# implementation gets wrong. The paper is imprecise in two places that matter for a
# reimplementation: TREATCORNERCASES (left to a supplement) and what "zero the frequencies
# outside the central square" means for an even radius (here: pool to the radius and
# zero-pad back, so that a radius $r$ really leaves $r	imes r$ degrees of freedom). On
# information preservation (Fig. 2, Fig. 4a) the paper is right: at equal parameter counts
# spectral pooling keeps much more of natural images than max pooling, and somewhat more
# than average pooling. Speed is an implementation question: "the DFTs are the
# computational bottlenecks" (§3) only if one uses them; on a CPU the equivalent matrix
# form costs about as much as max pooling (`benchmarks/pooling.py`).
#
# ## Reproduction
#
# The classification claim (8.6 % / 31.6 % error for net (5) with frequency dropout, no
# augmentation) is tested in the experiment notebook `notebooks/experiments/
# spectral_pooling.py`: net (5) trained on CIFAR-10 at CPU scale against the same net with
# max pooling, several seeds; its results page follows with the training engine.
#
# ## Exercises
#
# 1. Derive the closed form of the zero-padding operator $\sqrt{H/h}\,F_H^{-1}S^\top F_h$
#    and show that its imaginary part is rank 1 too, with the real factor $(-1)^n$ on the
#    input side. Which bins of its output does the rank-1 term touch?
# 2. Show that `spectral_pool(spectral_pool(x, h), r) == spectral_pool(x, r)` for $r<h$ in
#    both dims, and find a counterexample when $r_w = w$ is even while $r_h<h$. Which bin
#    is responsible?
# 3. Replace the adopted repair by the fold (sum of aliases) and redo §2: what are
#    PADSPECTRUM and RECOVERMAP now, and is the layer still non-expansive?
# 4. Fig. 4a with `upsample` replaced by bilinear interpolation for max pooling and by the
#    fold-adjoint for spectral pooling: how much do the curves move? Which reconstruction
#    would you report, and why does the paper's figure need to say?
