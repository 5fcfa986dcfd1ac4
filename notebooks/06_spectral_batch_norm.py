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
# # 06 · Spectral batch normalization
#
# {cite:t}`cakaj2023sbn` normalise feature maps "in the frequency domain": Spectral Batch
# Normalization (SBN) takes the real 2-D DFT of every map, subtracts a per-channel complex
# mean and divides by a per-channel standard deviation taken over the mini-batch *and all
# frequencies*, scales and shifts by learned real $\gamma, \beta$, and transforms back
# (their Algorithm 1). Placed after the batch norms of the last two ResNet stages
# ("SBN34") it is reported to raise CIFAR-10 accuracy of ResNet-18 from 94.04 % to
# 94.43 % (Table I), and to work by (i) preventing large feature maps (Fig. 1–2),
# (ii) injecting noise in the frequency domain, (iii) "weighting channels in the frequency
# domain" and (iv) making the frequency components "more uniformly distributed" (Fig. 3),
# which "discourages the network to rely on single frequency components".
#
# This chapter
#
# 1. runs Algorithm 1 line by line, each line checked against an independent reference
#    (dense DFT matrices, `numpy`);
# 2. lists what the paper leaves open and what each reading does, numerically;
# 3. derives what SBN is in the spatial domain — because $\gamma, \beta, \mu, \sigma$
#    are per-channel scalars, SBN is a channel-wise rescaling plus a fixed pattern on
#    the first row of each map, and its statistics need no transform at all;
# 4. and draws the consequences for claims (i) and (iv): the smaller feature maps are
#    the DFT's normalisation constant, and a per-channel rescaling cannot change how
#    uniformly the magnitudes are distributed — only $\beta$ can, by lighting one pixel.
#
# Conventions: the paper's DFT is eq. (1), the unnormalised transform with inverse
# $\frac1{HW}\mathcal F^*$ — `torch.fft`'s default `norm="backward"`, which the paper says
# it uses. ($\alpha$ below is the factor of the forward transform relative to eq. (1):
# $1$, $1/\sqrt{HW}$ or $1/HW$ for `"backward"`, `"ortho"`, `"forward"`.) Everything is
# checked in float64.

# %% tags=["hide-input"]
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display
from torch import nn

from spectral.checks import check_close, check_true
from spectral.data import sample_images
from spectral.fft import centered, naive_dft2, naive_idft2
from spectral.norm import SpectralBatchNorm2d
from spectral.plotting import TEXT_WIDTH, use_book_style

use_book_style()
torch.manual_seed(0)
F64, C128 = torch.float64, torch.complex128
EPS = 1e-5


def normal(*shape, generator_seed):
    """Standard normal float64 tensor from its own seeded generator."""
    generator = torch.Generator().manual_seed(generator_seed)
    return torch.randn(*shape, generator=generator, dtype=F64)


# %% [markdown]
# ## 1 · Algorithm 1, line by line
#
# ```text
# Parameter: momentum λ, epsilon ε, running mean μ_r ∈ R^C = 0, running variance σ_r² ∈ R^C = 1
# 1  x̂ = F(x)                              // 2-D DFT of the last two dims
# 2  μ = mean(x̂, dim=[0,2,3])
# 3  σ² = var(x̂, dim=[0,2,3])
# 4  μ_r = λ·μ + (1−λ)·μ_r
# 5  σ_r² = λ·σ²·n/(n−1) + (1−λ)·σ_r²       // running unbiased variance, n = CHW/2
# 6  x̄ = (x̂ − μ) / sqrt(σ_r² + ε)           // normalize
# 7  ŷ = γ·x̄ + β                            // scale and shift channel-wise
# 8  y = F⁻¹(ŷ)
# ```
#
# The text specifies the real DFT, $\hat{\mathbf X}\in\mathbb C^{B\times C\times H\times W/2}$:
# PyTorch's `rfft2`, which keeps columns $0..\lfloor W/2\rfloor$ — that is
# $\lfloor W/2\rfloor+1$ columns, not $W/2$. Our test batch is non-square with even $W$
# (so the half-plane has a Nyquist column) and has per-channel offsets and scales.
#
# **Line 1** against eq. (1) written as dense DFT matrices and against `numpy.fft.rfft2`:

# %%
B, C, H, W = 16, 3, 6, 8
x = normal(B, C, H, W, generator_seed=1) * torch.tensor([1.0, 2.0, 0.5])[:, None, None]
x = x + torch.tensor([0.0, 1.0, -0.5])[:, None, None]

X = torch.fft.rfft2(x)  # line 1 (norm="backward" = eq. (1))
eq1 = naive_dft2(x)[..., : W // 2 + 1] * math.sqrt(H * W)  # unitary -> eq. (1)
check_close("line 1: rfft2(x) == eq. (1) by dense DFT matrices (columns 0..W/2)", X, eq1)
check_close("line 1: rfft2(x) == numpy.fft.rfft2", X, torch.from_numpy(np.fft.rfft2(x.numpy())))
print(f"x {tuple(x.shape)} -> x̂ {tuple(X.shape)}: W//2 + 1 = {W // 2 + 1} columns")

# %% [markdown]
# **Lines 2–3** are eq. (3)–(4): the complex mean and $\hat\sigma^2=\frac1N\sum|\hat z-\hat\mu|^2$
# over the $N = B\cdot H\cdot(\lfloor W/2\rfloor+1)$ coefficients of each channel. `numpy.var`
# of complex data is exactly eq. (4). A literal `torch.var(x̂, dim=[0, 2, 3])` is not: its
# default is Bessel-corrected, $\times N/(N-1)$, and line 5 would then correct a second time.
# We follow eq. (4).

# %%
mu = X.mean(dim=(0, 2, 3))  # line 2
var = (X - mu[:, None, None]).abs().square().mean(dim=(0, 2, 3))  # line 3, eq. (4)
per_channel = X.numpy().transpose(1, 0, 2, 3).reshape(C, -1)
N = per_channel.shape[1]
check_close("line 2, eq. (3): complex mean == numpy.mean", mu, np.mean(per_channel, axis=1))
check_close("line 3, eq. (4): σ² == numpy.var (ddof=0)", var, np.var(per_channel, axis=1))
check_close(
    "torch.var(x̂) is Bessel-corrected: == σ²·N/(N−1)",
    torch.var(X, dim=(0, 2, 3)),
    var * N / (N - 1),
)
for channel in range(C):
    z = mu[channel]
    print(f"channel {channel}: μ = {z.real:8.3f} {z.imag:+8.3f}i   σ² = {var[channel]:8.3f}")
print(f"N = {N} coefficients per channel")

# %% [markdown]
# **Lines 4–5** keep running averages with $\lambda$ multiplying the *new* value —
# `nn.BatchNorm2d`'s convention. Line 5's $n = CHW/2$ counts channels, not the batch, so
# it is not the number of values the variance averages ($N = BH(\lfloor W/2\rfloor+1)$);
# most likely a slip for $BHW/2$. Line 4 stores a complex $\mu$ in $\mu_r\in\mathbb R^C$.
# **Line 6** normalises with the *running* variance $\sigma_r^2$, while the text says the
# maps are normalised "using the computed mean and standard deviation (like in batch
# normalization)" and §III-C2 attributes SBN's noise injection to dividing by "the
# standard deviation of the mini-batch". **Lines 7–8** add the real $\beta$ to every
# coefficient and invert.
#
# We run lines 4–8 by hand for both readings of line 6 and compare with the package's
# `SpectralBatchNorm2d(impl="fft")` (Algorithm 1 with `torch.fft`) and with its
# FFT-free `impl="spatial"` (derived in §3).

# %%
lam = 0.1
gamma = torch.tensor([1.0, 0.5, 2.0], dtype=F64)
beta = torch.tensor([0.0, 0.3, -0.2], dtype=F64)
n_paper = C * H * W / 2
running_mean = lam * mu + (1 - lam) * 0  # line 4 (complex; see §2 for the real reading)
running_var = lam * var * n_paper / (n_paper - 1) + (1 - lam) * 1.0  # line 5, as printed


def lines_6_to_8(mean, variance):
    normalized = (X - mean[:, None, None]) / torch.sqrt(variance + EPS)[:, None, None]
    shifted = gamma[:, None, None] * normalized + beta[:, None, None]
    return torch.fft.irfft2(shifted, s=(H, W))


def package(impl, variance):
    layer = SpectralBatchNorm2d(C, impl=impl, variance=variance, unbiased="paper", dtype=F64)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
    return layer(x).detach(), layer


by_hand = {"batch": lines_6_to_8(mu, var), "running": lines_6_to_8(mu, running_var)}
for reading, y_hand in by_hand.items():
    for impl in ("fft", "spatial"):
        y_pkg, layer = package(impl, reading)
        check_close(f"variance={reading!r}: lines 6–8 by hand == impl={impl!r}", y_pkg, y_hand)
check_close("line 4: running_mean (real part) == λ·Re μ", layer.running_mean, running_mean.real)
check_close("line 4: running_mean_imag == λ·Im μ", layer.running_mean_imag, running_mean.imag)
check_close("line 5: running_var == λ·σ²·n/(n−1) + (1−λ)", layer.running_var, running_var)
y = by_hand["batch"]

# %% [markdown]
# ## 2 · What the paper leaves open
#
# | question | default reading | other readings |
# |---|---|---|
# | variance in line 6 (training) | batch $\sigma^2$ (text) | running $\sigma_r^2$ (as printed) |
# | $n$ of the factor in line 5 | coefficients per channel $N$ | $CHW/2$ as printed; none |
# | running mean | complex | real part only ($\mu_r\in\mathbb R^C$) |
# | statistics over | `rfft2` half-plane (literal) | full spectrum |
# | DFT normalisation | eq. (1), `"backward"` | `"ortho"`, `"forward"` |
#
# The package options are `variance` (`"batch"`, `"running"`), `unbiased` (`"count"`,
# `"paper"`, `"none"`), `complex_running_mean`, `weighting` (`"half"`, `"full"`) and
# `fft_norm` (`torch.fft`'s `norm`).
#
# The first question matters most at the start of training: the running variance starts
# at 1, while the spectral variance of a map with unit-variance pixels is about $HW$ under
# eq. (1) (§4). With `"running"` the first steps normalise by
# $\sqrt{0.1\,\sigma^2 + 0.9}$ instead of $\sqrt{\sigma^2}$; the two agree only after
# $\sim 1/\lambda$ steps. Because SBN is exactly $y = s\cdot x$ off the first row (§3), we
# can read the effective scale $s$ off any output as $\sum y x / \sum x^2$ over rows
# $1..H-1$.

# %%
steps, shape = 40, (32, 8, 8, 8)
scales = {}
for reading in ("batch", "running"):
    layer = SpectralBatchNorm2d(8, variance=reading, dtype=F64)
    history = []
    for step in range(steps):
        xb = normal(*shape, generator_seed=100 + step)
        yb = layer(xb).detach()
        rows = slice(1, None)
        s = (yb[:, :, rows] * xb[:, :, rows]).sum() / xb[:, :, rows].square().sum()
        history.append(float(s))
    scales[reading] = np.array(history)
hw = shape[2] * shape[3]
print(f"8×8 maps of unit variance; 1/sqrt(HW) = {1 / math.sqrt(hw):.4f}")
for reading, history in scales.items():
    print(f"variance={reading!r:10}: s at step 1 = {history[0]:.4f}, "
          f"step {steps} = {history[-1]:.4f}")
check_true("step 1: the running reading scales by > 2.5× the batch reading",
           scales["running"][0] > 2.5 * scales["batch"][0])
check_true(f"step {steps}: the readings agree within 3 %",
           abs(scales["running"][-1] / scales["batch"][-1] - 1) < 0.03)

fig, ax = plt.subplots(figsize=(TEXT_WIDTH, 3.4))
ax.plot(np.arange(1, steps + 1), scales["batch"], "o-", ms=3, label='variance="batch" (text)')
ax.plot(np.arange(1, steps + 1), scales["running"], "s-", ms=3,
        label='variance="running" (Alg. 1, line 6)')
ax.axhline(1 / math.sqrt(hw), color="gray", ls=":", label=r"$1/\sqrt{HW}$")
ax.set_xlabel("training step (fresh layer, momentum 0.1)")
ax.set_ylabel(r"effective scale $s$ of $y = s\,x$")
ax.set_title("Line 6 as printed normalises the first steps by the running variance (init 1)")
ax.legend()
plt.show()

# %% [markdown]
# The other readings change little. $n/(n-1)$ differs from 1 by $\approx 1/n$, and at
# ResNet-18's stage-3/4 shapes both $n$ are in the thousands:

# %%
rows = []
for b, c, h, w in [(128, 256, 8, 8), (128, 512, 4, 4), (128, 64, 32, 32)]:
    n_count, n_paper_shape = b * h * (w // 2 + 1), c * h * w / 2
    rows.append({
        "shape": f"{b}×{c}×{h}×{w}",
        "n = N (count)": n_count,
        "n = CHW/2 (paper)": int(n_paper_shape),
        "factor − 1 (count)": f"{1 / (n_count - 1):.1e}",
        "factor − 1 (paper)": f"{1 / (n_paper_shape - 1):.1e}",
    })
display(pd.DataFrame(rows).set_index("shape"))

# %% [markdown]
# A real running mean (the declaration $\mu_r\in\mathbb R^C$) drops $\operatorname{Im}\mu$
# at inference only, so evaluation differs from training by a pattern that §3 shows lives
# on the first row; and the half-plane vs full-spectrum statistics differ in both $\mu$
# (complex vs real) and $\sigma^2$:

# %%
trained = {}
for complex_mean in (True, False):
    layer = SpectralBatchNorm2d(C, complex_running_mean=complex_mean, dtype=F64)
    for step in range(5):
        layer(normal(B, C, H, W, generator_seed=200 + step) + 1.0)
    trained[complex_mean] = layer.eval()(x).detach()
gap = trained[True] - trained[False]
print(f"eval output, complex vs real running mean: max |Δ| = {gap.abs().max():.4f} "
      f"(max |y| = {trained[True].abs().max():.4f})")
check_true("the difference lies on row 0, off pixel (0, 0)",
           gap[:, :, 1:].abs().max() == 0 and gap[:, :, 0, 0].abs().max() < 1e-12)

X_full = torch.fft.fft2(x)
mu_full = X_full.mean(dim=(0, 2, 3))
var_full = (X_full - mu_full[:, None, None]).abs().square().mean(dim=(0, 2, 3))
table = pd.DataFrame({
    "Re μ half": mu.real.numpy(), "Im μ half": mu.imag.numpy(),
    "μ full (real)": mu_full.real.numpy(),
    "σ² half": var.numpy(), "σ² full": var_full.numpy(),
})
print(table.round(4).to_string())

# %% [markdown]
# ## 3 · SBN in the spatial domain
#
# **Step 1: SBN is a rescaling plus the inverse DFT of a constant.** $\gamma,\beta,\mu,\sigma$
# are per channel, and `irfft2(rfft2(x)) = x` for real $x$. With
# $s = \gamma/\sqrt{\sigma^2+\varepsilon}$ and $c = \beta - s\mu$ (complex), lines 6–8 are
#
# $$
# y = \mathcal F^{-1}\big(s\hat x + c\,\mathbb 1\big) = s\,x + \mathcal F^{-1}(c\,\mathbb 1),
# $$
#
# with $\mathbb 1$ the all-ones half-plane: $\beta$ is added to *every* coefficient, not
# only to DC.

# %%
s = gamma / torch.sqrt(var + EPS)
c = beta - s * mu
constant = c[:, None, None] * torch.ones(C, H, W // 2 + 1, dtype=C128)
_ = check_close("y − s·x == irfft2(c·𝟙)", y - s[:, None, None] * x,
                torch.fft.irfft2(constant, s=(H, W)).expand(B, C, H, W))

# %% [markdown]
# **Step 2: the inverse DFT of a constant half-plane.** `irfft2` of a one-sided spectrum
# $Y$ is a complex inverse DFT over $H$ and then a real inverse over $W$ that uses the real
# part of the self-conjugate columns $l=0$ (and $l=W/2$). For constant $Y = c$ the first
# step gives $H c\,\delta[m]$, so only **row 0** is non-zero, and there
#
# $$
# \begin{aligned}
# \mathcal F^{-1}(c\mathbb 1)[0,n]
# &= \frac{1}{\alpha W}\Big(\operatorname{Re}c\,\big(1 + 2\!\!\sum_{l=1}^{\lceil W/2\rceil-1}\!\!
#   \cos\tfrac{2\pi ln}{W} + [W\text{ even}](-1)^n\big)\\
# &\qquad\quad - 2\operatorname{Im}c\!\!\sum_{l=1}^{\lceil W/2\rceil-1}\!\!
#   \sin\tfrac{2\pi ln}{W}\Big)\\
# &= \frac{\operatorname{Re}c}{\alpha}\,\delta[n] + \frac{2\operatorname{Im}c}{\alpha W}\,
#   \operatorname{Im}K[n],
# \end{aligned}
# $$
#
# with $K[n] = \sum_{l=0}^{\lfloor W/2\rfloor} e^{-2\pi i ln/W}$. The real part of the
# shift is **one pixel**, $(0,0)$; only the imaginary part spreads along row 0, as an odd
# pattern ($n \leftrightarrow W-n$ flips its sign) that sums to zero. "Non-zero only on
# the first row" is right as a bound, but a real shift — $\beta$ alone, or any shift with
# the full-spectrum mean — is a single pixel; and it is not a constant map, which would
# need the shift on DC only. The half-plane $c\mathbb 1$ is not conjugate-symmetric
# (column 0 holds $c$ at $k$ and at $-k$), so this is a statement about how `irfft2`
# treats such input; we check the closed form against `numpy.fft.irfft2` and
# `torch.fft.irfft2` on the CPU (both pocketfft) for odd, even and non-square sizes and all
# three normalisations. A GPU backend may treat non-symmetric input differently; the
# spatial form below fixes this one reading.

# %%
def first_row_kernel(w):
    """K[n] = sum_{l=0}^{w//2} exp(-2πi ln/w), complex128 of length w."""
    n = torch.arange(w, dtype=F64)
    return sum(torch.exp(-2j * math.pi * l * n / w) for l in range(w // 2 + 1))


def shift_pattern(c_value, h, w, norm):
    """The closed form above: irfft2 of a constant half-plane c, shape (h, w)."""
    alpha = {"backward": 1.0, "ortho": (h * w) ** -0.5, "forward": 1.0 / (h * w)}[norm]
    pattern = torch.zeros(h, w, dtype=F64)
    pattern[0] = 2 * c_value.imag / (alpha * w) * first_row_kernel(w).imag
    pattern[0, 0] += c_value.real / alpha
    return pattern


errors, off_row = [], []
c_test = complex(0.7, -1.3)
for h, w in [(5, 5), (6, 6), (5, 8), (6, 7), (1, 4), (4, 1)]:
    for norm in ("backward", "ortho", "forward"):
        numpy_pattern = np.fft.irfft2(np.full((h, w // 2 + 1), c_test), s=(h, w), norm=norm)
        torch_pattern = torch.fft.irfft2(torch.full((h, w // 2 + 1), c_test, dtype=C128),
                                         s=(h, w), norm=norm)
        closed = shift_pattern(c_test, h, w, norm)
        errors.append((closed - torch.from_numpy(numpy_pattern)).abs().max())
        errors.append((closed - torch_pattern).abs().max())
        off_row.append(torch.from_numpy(numpy_pattern)[1:].abs().max()
                       if h > 1 else torch.tensor(0.0, dtype=F64))
check_close("irfft2(c·𝟙) == closed form (numpy and torch, 6 sizes × 3 norms)",
            torch.stack(errors), torch.zeros(len(errors)), atol=1e-12)
_ = check_close("irfft2(c·𝟙) vanishes off row 0", torch.stack(off_row), torch.zeros(len(off_row)))

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 3, figsize=(TEXT_WIDTH, 5.4), layout="constrained")
for col, (h, w) in enumerate([(6, 8), (5, 7), (8, 8)]):
    for row, (c_value, label) in enumerate([(1.0 + 0j, "c = 1"), (1j, "c = i")]):
        pattern = shift_pattern(c_value, h, w, "backward")
        ax = axes[row, col]
        bound = float(pattern.abs().max())
        image = ax.imshow(pattern, cmap="RdBu_r", vmin=-bound, vmax=bound)
        ax.set_title(f"{label}, {h}×{w} map")
        ax.set_xlabel("column n")
        ax.set_ylabel("row m")
        fig.colorbar(image, ax=ax, shrink=0.8)
fig.suptitle("irfft2(c·𝟙): the shift c = β − sμ added to every coefficient is\n"
             "one pixel (real part) or a row-0 pattern (imaginary part)")
plt.show()

# %% [markdown]
# **Step 3: the mean from the first row.** Summing eq. (1) over $k$ gives
# $\sum_k \hat x[k,l] = \alpha H\sum_n x[0,n]e^{-2\pi iln/W}$: rows $m\ge 1$ cancel. So the
# half-plane mean is row 0 against $K$,
# $\mu = \frac{\alpha}{B(\lfloor W/2\rfloor+1)}\sum_b\sum_n x_b[0,n]\,K[n]$, and does not
# change when rows $1..H-1$ do:

# %%
row_mean = (x[:, :, 0, :].to(C128) @ first_row_kernel(W)).sum(0) / (B * (W // 2 + 1))
check_close("μ == first row against K", row_mean, mu)
x_other = x.clone()
x_other[:, :, 1:] = normal(B, C, H - 1, W, generator_seed=3)
_ = check_close("μ unchanged when rows 1..H−1 are replaced",
                torch.fft.rfft2(x_other).mean(dim=(0, 2, 3)), mu)

# %% [markdown]
# **Step 4: the variance by Parseval.** Over the full spectrum
# $\sum|\hat x|^2 = \alpha^2 HW\sum x^2$. The half-plane holds the self-conjugate columns
# $l=0$ and (even $W$) $l=W/2$ once and every other column once for two; column $0$ is the
# DFT over $m$ of the row sums $r_m = \sum_n x[m,n]$ and column $W/2$ that of the
# alternating sums $a_m=\sum_n(-1)^nx[m,n]$, so by 1-D Parseval
#
# $$
# \begin{gathered}
# \sum_{\text{half}}|\hat x|^2 = \frac{\alpha^2 H}{2}\Big(W\sum x^2 + \sum_m r_m^2
# + [W\text{ even}]\sum_m a_m^2\Big),\\
# \sigma^2 = \frac1N\sum_{\text{half}}|\hat x|^2-|\mu|^2 .
# \end{gathered}
# $$

# %%
row_sums, alt_sums = x.sum(-1), (x * (-1.0) ** torch.arange(W, dtype=F64)).sum(-1)
half_power = H / 2 * (W * x.square().sum(dim=(0, 2, 3)) + row_sums.square().sum(dim=(0, 2))
                      + alt_sums.square().sum(dim=(0, 2)))
check_close("Σ_half |x̂|² by Parseval", half_power, X.abs().square().sum(dim=(0, 2, 3)),
            atol=1e-9)
_ = check_close("σ² == Σ_half|x̂|²/N − |μ|² without a transform",
                half_power / N - mu.abs().square(), var, atol=1e-10)

# %% [markdown]
# **Step 5: the full-spectrum reading is simpler still.** Over all $HW$ bins,
# $\sum_{k,l}\hat x[k,l] = \alpha HW\,x[0,0]$: the "spectral mean" is the batch mean of the
# **top-left pixel**, $\mu = \alpha\,\overline{x_b[0,0]}$, real; and
# $\sigma^2 = \alpha^2\sum x^2/B - \mu^2$. The shift is then real, i.e. one pixel.

# %%
check_close("full spectrum: μ == α · mean_b x[b, c, 0, 0]", mu_full, x[:, :, 0, 0].mean(0).to(C128))
_ = check_close("full spectrum: σ² == Σx²/B − μ²", var_full,
                x.square().sum(dim=(0, 2, 3)) / B - x[:, :, 0, 0].mean(0).square(), atol=1e-10)

# %% [markdown]
# **In short**: SBN (every reading) is $y = s\,x + $ (a pixel at $(0,0)$ and, for the
# half-plane mean, an odd row-0 pattern), with $s$ and the shift computed from $\sum x^2$,
# row sums and row 0. That is the package's `impl="spatial"`: two reductions and one
# elementwise pass, like `nn.BatchNorm2d`, with a hand-derived backward. It agrees with
# Algorithm 1 in `torch.fft` (`impl="fft"`) in outputs, input and parameter gradients and
# running statistics, for every reading, in training and evaluation:

# %%
option_sets = [
    {},
    {"variance": "running", "unbiased": "paper"},
    {"weighting": "full", "fft_norm": "ortho"},
    {"complex_running_mean": False, "fft_norm": "forward", "unbiased": "none"},
]
worst = {"output": 0.0, "gradients": 0.0, "running stats": 0.0}
for options in option_sets:
    results = {}
    for impl in ("fft", "spatial"):
        layer = SpectralBatchNorm2d(C, impl=impl, dtype=F64, **options)
        with torch.no_grad():
            layer.weight.copy_(gamma)
            layer.bias.copy_(beta)
        outputs, grads = [], []
        for mode, seed in [("train", 10), ("train", 11), ("eval", 12)]:
            layer.train(mode == "train")
            xb = (normal(B, C, H, W, generator_seed=seed) + 0.5).requires_grad_(True)
            yb = layer(xb)
            g = normal(B, C, H, W, generator_seed=seed + 50)
            outputs.append(yb.detach())
            grads += list(torch.autograd.grad(yb, [xb, layer.weight, layer.bias], g))
        results[impl] = (outputs, grads, [layer.running_mean, layer.running_var])
    for key, index in (("output", 0), ("gradients", 1), ("running stats", 2)):
        pairs = zip(results["fft"][index], results["spatial"][index], strict=True)
        worst[key] = max(worst[key], max(float((a - b).abs().max()) for a, b in pairs))
for key, value in worst.items():
    check_close(f"impl='spatial' == impl='fft': {key} (4 option sets, train and eval)",
                torch.tensor(value), torch.tensor(0.0), atol=1e-11)

# %% [markdown]
# ## 4 · Claim (i): "SBN prevents large feature maps"
#
# After a batch norm the pixels of each channel have mean 0 and variance 1 over the batch.
# For such maps, with uncorrelated pixels, $\sum x^2\approx BHW$,
# $\sum r^2\approx\sum a^2\approx BHW$ and $\mu\approx 0$, so Step 4 gives
# $\sigma^2\approx\alpha^2 HW$ and at initialisation ($\gamma=1$, $\beta=0$)
#
# $$
# y \approx \frac{x}{\alpha\sqrt{HW}} = \frac{x}{\sqrt{HW}}\quad\text{under eq. (1)}.
# $$
#
# SBN after BN shrinks the map by the DFT's normalisation constant: $4\times$ at $4\times4$
# (ResNet-18 stage 4), $8\times$ at $8\times8$ (stage 3), $32\times$ on a $32\times32$
# map. With the unitary DFT (`fft_norm="ortho"`) the same layer leaves the norm unchanged.

# %%
sizes = [4, 8, 16, 32]
ratios = {"backward": [], "ortho": []}
for size in sizes:
    features = normal(32, 16, size, size, generator_seed=300 + size) * 3 + 1
    after_bn = nn.BatchNorm2d(16, dtype=F64)(features).detach()
    for fft_norm in ratios:
        after_sbn = SpectralBatchNorm2d(16, fft_norm=fft_norm, dtype=F64)(after_bn).detach()
        ratios[fft_norm].append(float(after_sbn.norm() / after_bn.norm()))
for size, r_back, r_ortho in zip(sizes, ratios["backward"], ratios["ortho"], strict=True):
    print(f"{size:2d}×{size:<2d}: ‖SBN(BN x)‖/‖BN x‖ = {r_back:.4f} (eq. (1)), "
          f"1/sqrt(HW) = {1 / size:.4f};\n       with fft_norm='ortho' {r_ortho:.4f}")
check_close("eq. (1): norm ratio == 1/sqrt(HW) within 3 %",
            torch.tensor(ratios["backward"]) * torch.tensor(sizes, dtype=F64),
            torch.ones(len(sizes), dtype=F64), atol=0.03)
check_close("fft_norm='ortho': norm ratio == 1 within 3 %", torch.tensor(ratios["ortho"]),
            torch.ones(len(sizes), dtype=F64), atol=0.03)

fig, ax = plt.subplots(figsize=(0.8 * TEXT_WIDTH, 3.6))
ax.loglog([s * s for s in sizes], ratios["backward"], "o-",
          label='fft_norm="backward" (eq. (1))')
ax.loglog([s * s for s in sizes], ratios["ortho"], "s-", label='fft_norm="ortho"')
ax.loglog([s * s for s in sizes], [1 / s for s in sizes], "k:", label=r"$1/\sqrt{HW}$")
ax.set_xlabel("map size HW")
ax.set_ylabel("‖SBN(BN x)‖ / ‖BN x‖ at init")
ax.set_title("SBN after BN shrinks the map by the DFT's normalisation")
ax.legend()
plt.show()

# %% [markdown]
# So the smaller feature-map norms of the paper's Fig. 1 are, at least at initialisation,
# a constant factor $1/\sqrt{HW}$ per stage, produced by the choice of eq. (1) over the
# unitary DFT. Spatially, that is a second batch-norm-like rescaling whose $\gamma$ starts
# at $1/\sqrt{HW}$ instead of 1. Whether this explains Table I is an experimental question,
# and the `parts` ablations of §6 cannot answer it: `"no_pattern"` (the pure channel-wise
# rescaling $s\,x$) and `"scale"` keep the division by the spectral standard deviation, and
# with it the factor $1/\sqrt{HW}$; `"center"` drops the division, and with it the factor
# together with the rest of the rescaling. They test which piece of SBN carries its effect
# — the row-0 shift pattern and $\beta$ (`"no_pattern"`), the spectral centring alone
# (`"center"`, §V-D), the spectral scaling with $\beta$ but no centring (`"scale"`, §V-E) —
# not whether the factor does. Three other arms can, and the SBN campaign of
# {doc}`R4_sbn_results` trains them on all of CIFAR-10 beside BN, 2BN34 and SBN34:
# **SBN34-ortho**, SBN with the unitary DFT (`fft_norm="ortho"`), is SBN without the
# factor (verdict (b) there); **2BN34-scaled**, the 2BN34 control whose second batch norm
# starts at $\gamma = 1/\sqrt{HW}$ of its stage's maps, is the factor without SBN, and
# **BN-logit-scale**, BN with a fixed factor before the classifier equal to SBN34's ratio
# to BN at initialisation, is the factor's effect on the logits alone (verdict (c));
# `norm_variant` and `scale_classifier_input_` build them (§6).
#
# ## 5 · Claim (iv): "more uniformly distributed frequency components"
#
# Transform Step 1 back: `rfft2` of the row-0 pattern is constant down every column, so
#
# $$
# \widehat{y}[k,l] = s\,\hat x[k,l] + \begin{cases} c, & 0 < l < W/2,\\
# \operatorname{Re} c, & l\in\{0, W/2\}. \end{cases}
# $$
#
# In the frequency domain SBN multiplies every coefficient of a channel by the same $s$
# and adds the same constant. A common factor cannot change how the magnitudes are
# distributed *relative to each other*: every scale-invariant measure of uniformity
# (normalised entropy of $|\hat y|/\sum|\hat y|$, max/median, Gini) is exactly unchanged
# by $s$. Only the additive constant can change it, and at initialisation it is
# $-s\mu$, a small number (§2); later it is dominated by the learned $\beta$, which lifts
# every magnitude towards $|\beta|$ — making them "more uniform" by adding the spectrum of
# a single bright pixel at $(0,0)$.

# %%
spectrum_y = torch.fft.rfft2(y)
expected = s[:, None, None] * X + c[:, None, None]
expected[..., 0] = s[:, None] * X[..., 0] + c.real[:, None]
expected[..., W // 2] = s[:, None] * X[..., W // 2] + c.real[:, None]
check_close("rfft2(SBN(x)) == s·x̂ + c (Re c on the self-conjugate columns)", spectrum_y, expected)


def spectral_entropy(maps):
    """Normalised entropy of |fft2| per map (1: all magnitudes equal); (..., H, W) -> (...)."""
    magnitude = torch.fft.fft2(maps).abs().flatten(-2)
    p = magnitude / magnitude.sum(-1, keepdim=True)
    return -(p * torch.log(p.clamp_min(1e-300))).sum(-1) / math.log(p.shape[-1])


_ = check_close("entropy is invariant to the scale s (exact)", spectral_entropy(3.7 * x),
                spectral_entropy(x))

# %% [markdown]
# We now look at spectra of real feature maps the way the paper's Fig. 3 does — magnitudes
# after a BN layer and after the SBN layer behind it, centred, one panel per channel — with
# CIFAR-10 images through a randomly initialised $3\times3$ convolution with 8 channels,
# BN and SBN. Fig. 3 comes from a trained network; the algebra above holds for any input,
# and training changes only the values of $\gamma$ and $\beta$, so we show SBN at
# initialisation ($\beta = 0$) and with $\beta = 0.5$ in every channel.

# %% tags=["nbval-ignore-output"]
images, labels, source = sample_images(6)
print(f"{len(labels)} images from: {source}")

# %%
conv = nn.Conv2d(3, 8, 3, padding=1, bias=False, dtype=F64)
with torch.no_grad():
    conv.weight.copy_(normal(8, 3, 3, 3, generator_seed=7) / math.sqrt(27))
after_bn = nn.BatchNorm2d(8, dtype=F64)(conv(images)).detach()
sbn_init = SpectralBatchNorm2d(8, dtype=F64)
after_sbn = sbn_init(after_bn).detach()
sbn_beta = SpectralBatchNorm2d(8, dtype=F64)
with torch.no_grad():
    sbn_beta.bias.fill_(0.5)
after_sbn_beta = sbn_beta(after_bn).detach()

entropy = {
    "after BN": spectral_entropy(after_bn),
    "after SBN, β = 0": spectral_entropy(after_sbn),
    "after SBN, β = 0.5": spectral_entropy(after_sbn_beta),
}
pixel_gap = after_sbn_beta - after_sbn
check_true("β = 0: the mean change of normalised entropy is below 0.02 (the offset −sμ)",
           abs(float((entropy["after SBN, β = 0"] - entropy["after BN"]).mean())) < 0.02)
check_true("β = 0.5 raises it in every map",
           bool((entropy["after SBN, β = 0.5"] > entropy["after BN"]).all()))
expected_gap = torch.zeros_like(pixel_gap)
expected_gap[:, :, 0, 0] = 0.5
_ = check_close("… and β = 0.5 changes the output only at pixel (0, 0), by β",
                pixel_gap, expected_gap)

# %% tags=["nbval-ignore-output"]
for name, values in entropy.items():
    print(f"{name:20}: normalised spectral entropy {values.mean():.4f} ± {values.std():.4f}\n"
          f"{'':22}(min {values.min():.4f}, max {values.max():.4f}) over {values.numel()} maps")

# %% tags=["hide-input"]
image_index, channels = 0, [0, 1, 2, 3]
stages = [("after BN", after_bn), ("after SBN (β = 0)", after_sbn),
          ("after SBN (β = 0.5)", after_sbn_beta)]
fig, axes = plt.subplots(3, 4, figsize=(TEXT_WIDTH, 6.8), layout="constrained")
for row, (name, maps) in enumerate(stages):
    for col, channel in enumerate(channels):
        magnitude = centered(torch.fft.fft2(maps[image_index, channel])).abs()
        ax = axes[row, col]
        picture = ax.imshow(torch.log10(magnitude.clamp_min(1e-6)), cmap="magma",
                            extent=(-16.5, 15.5, 15.5, -16.5))
        fig.colorbar(picture, ax=ax, shrink=0.75)
        ax.set_title(f"channel {channel}" if row == 0 else "")
        ax.set_xticks([-16, 0, 15])
        ax.set_yticks([-16, 0, 15])
    axes[row, 0].set_ylabel(f"{name}\nfrequency k")
for ax in axes[-1]:
    ax.set_xlabel("frequency l")
fig.suptitle("log10 |fft2| of feature maps of one image, each panel on its own\n"
             "colour scale (as in Fig. 3): β = 0 rescales (and shifts by −sμ);\n"
             "β = 0.5 adds 0.5 to every bin")
plt.show()

# %% [markdown]
# With each panel on its own colour scale — the natural way to draw Fig. 3 — the first
# two rows are the same picture up to the colour bar, except where the small offset
# $-s\mu$ lifts the weakest bins. A learned $\beta$ flattens the spectrum visibly, and
# the next figures show what that flattening is in the image — one pixel — and how the
# uniformity grows with $\beta$ and only with $\beta$.

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 2, figsize=(TEXT_WIDTH, 6.4), layout="constrained")
panels = [("after BN", after_bn[image_index, 0]), ("after SBN (β = 0)", after_sbn[image_index, 0]),
          ("after SBN (β = 0.5)", after_sbn_beta[image_index, 0]),
          ("difference, top-left 8×8", pixel_gap[image_index, 0, :8, :8])]
for ax, (name, panel) in zip(axes.flat, panels, strict=True):
    bound = float(panel.abs().max())
    picture = ax.imshow(panel, cmap="RdBu_r", vmin=-bound, vmax=bound)
    fig.colorbar(picture, ax=ax, shrink=0.8)
    ax.set_title(name)
    ax.set_xlabel("column n")
    ax.set_ylabel("row m")
axes[1, 0].add_patch(plt.Circle((0, 0), 2.5, fill=False, color="black", lw=1.2))
fig.suptitle("Channel 0 in the spatial domain:\nthe flatter spectrum of β = 0.5 is pixel (0, 0)")
plt.show()

# %% tags=["hide-input"]
betas = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0]
curve = []
for value in betas:
    layer = SpectralBatchNorm2d(8, dtype=F64)
    with torch.no_grad():
        layer.bias.fill_(value)
    curve.append(spectral_entropy(layer(after_bn).detach()))
curve = torch.stack(curve).flatten(1)  # (len(betas), images · channels)
fig, ax = plt.subplots(figsize=(0.85 * TEXT_WIDTH, 3.6))
ax.plot(betas, curve.mean(1), "o-", label="after SBN, mean over maps")
ax.fill_between(betas, curve.amin(1), curve.amax(1), alpha=0.25, label="min–max over maps")
ax.axhline(float(entropy["after BN"].mean()), color="gray", ls=":", label="after BN, mean")
ax.set_xlabel("β (same in every channel)")
ax.set_ylabel("normalised spectral entropy")
ax.set_title("Uniformity of the magnitudes is set by β, not by the normalisation")
ax.legend()
plt.show()

# %% [markdown]
# ## 6 · The package
#
# `SpectralBatchNorm2d` is a drop-in for `nn.BatchNorm2d` (same `eps`, `momentum`
# — including `None` for a cumulative average —, `affine`, `track_running_stats`,
# `reset_parameters`, `reset_running_stats`; buffers without autograd history; under
# autocast it computes in float32) with the readings of §2 as keyword options, and
# `spectral.models.norm_variant` builds the paper's model variants for the factories of
# `spectral.models`, with SBN options (e.g. `fft_norm="ortho"`) and the `"2BN…-scaled"`
# control of §4, whose second batch norms start at $\gamma = 1/\sqrt{HW}$ of their stage
# (stage 3 of a CIFAR ResNet-18 sees $8\times8$ maps, stage 4 $4\times4$).
# A batch of one is allowed in training (the statistics still average $H(\lfloor W/2\rfloor+1)$
# coefficients); only $1\times1$ maps with one sample are rejected.

# %%
from spectral.models import norm_variant, resnet18  # noqa: E402 (shown where it is used)

layer = SpectralBatchNorm2d(64)
print(layer)
model = resnet18(num_classes=10, width=0.25, norm_layer=norm_variant("SBN34"))
sbn_layers = [name for name, m in model.named_modules() if isinstance(m, SpectralBatchNorm2d)]
print(f"ResNet-18 + SBN34: {len(sbn_layers)} SBN layers, e.g. {sbn_layers[0]}, {sbn_layers[-1]}")
check_true("SBN34 puts one SBN after each of the 5 BNs of stages 3 and 4",
           len(sbn_layers) == 10 and all(n.startswith(("layer3", "layer4")) for n in sbn_layers))
ortho = resnet18(width=0.25, norm_layer=norm_variant("SBN34", fft_norm="ortho"))
ortho_sbns = [m for m in ortho.modules() if isinstance(m, SpectralBatchNorm2d)]
check_true("SBN34-ortho: all 10 SBNs use the unitary DFT",
           len(ortho_sbns) == 10 and all(m.fft_norm == "ortho" for m in ortho_sbns))
scaled = resnet18(width=0.25, norm_layer=norm_variant("2BN34-scaled", input_size=(32, 32)))
starts = {stage: {gamma for name, pair in scaled.named_modules()  # γ of every BN → BN pair
                  if name.startswith(f"layer{stage}") and isinstance(pair, nn.Sequential)
                  and len(pair) == 2 and isinstance(pair[0], nn.BatchNorm2d)
                  for gamma in pair[1].weight.detach().tolist()}
          for stage in (3, 4)}
print(f"2BN34-scaled: second BNs start at γ = {starts[3]} (stage 3), {starts[4]} (stage 4)")
check_true("2BN34-scaled: γ = 1/√(H·W) = 1/8 on 8×8 and 1/4 on 4×4 maps",
           starts == {3: {1 / 8}, 4: {1 / 4}})

# %% [markdown]
# The reproduction also trains three **ablations**, the option `parts`: each keeps some
# of the pieces of $y = s\,x + \operatorname{irfft2}(c\,\mathbb 1)$ with the same
# statistics: `"no_pattern"` is $s\,x$ (a pure channel-wise rescaling: no centring, no
# $\beta$), `"center"` only subtracts the spectral mean
# ($\hat y = \gamma(\hat x - \mu) + \beta$, §V-D of the paper) and `"scale"` only divides by
# the spectral standard deviation ($\hat y = \gamma\hat x/\sigma + \beta$, §V-E). Each is
# checked here against its spectral definition, computed with dense unitary DFT matrices
# (full spectrum, `fft_norm="ortho"`, `weighting="full"`) in float64.

# %%
generator = torch.Generator().manual_seed(11)
x64 = torch.randn(4, 3, 6, 5, dtype=torch.float64, generator=generator) + 0.5
spectrum = naive_dft2(x64)
mu = spectrum.mean(dim=(0, 2, 3))[:, None, None]
sd = torch.sqrt((spectrum - mu).abs().square().mean(dim=(0, 2, 3)) + 1e-5)[:, None, None]
gamma_, beta_ = torch.tensor([0.5, 1.0, 1.5])[:, None, None], torch.tensor([-0.3, 0.0, 0.2])
spectral_definition = {
    "no_pattern": gamma_ * spectrum / sd,
    "center": gamma_ * (spectrum - mu) + beta_[:, None, None],
    "scale": gamma_ * spectrum / sd + beta_[:, None, None],
}
for parts, target in spectral_definition.items():
    ablation = SpectralBatchNorm2d(3, parts=parts, fft_norm="ortho", weighting="full",
                                   dtype=torch.float64)
    with torch.no_grad():
        ablation.weight.copy_(gamma_.flatten())
        ablation.bias.copy_(beta_)
    check_close(f'parts="{parts}" == its spectral definition (dense DFT)',
                ablation(x64), naive_idft2(target).real, atol=1e-12)

# %% [markdown]
# Speed is measured outside the book, by `benchmarks/norm.py`: the layer at ResNet-18's
# stage shapes against `nn.BatchNorm2d`, and the whole ResNet-18 training step, baseline
# vs 2BN34 vs SBN34 with either implementation.
#
# ## Summary and verdict
#
# * **Algorithm 1** is reproduced line by line; it is ambiguous in four places. We default
#   to the text's batch variance (line 6 prints the running one, which at the first steps
#   normalises by $\sqrt{0.1\sigma^2+0.9}$ instead of $\sigma$), to the coefficient count
#   for the Bessel factor (line 5's $n = CHW/2$ is a slip, numerically irrelevant), to a
#   complex running mean (a real one makes evaluation differ from training on row 0) and
#   to the literal half-plane statistics; every reading is an option and tested.
# * **In the spatial domain SBN is $y = s\,x + $ a shift pattern**: $s$ per channel; the
#   shift is the single pixel $(0,0)$ for its real part and an odd row-0 pattern for the
#   imaginary part of the half-plane mean. The statistics are $\sum x^2$, row sums and row
#   0. The FFT-free implementation equals Algorithm 1 in outputs, gradients and running
#   statistics to float64 roundoff.
# * **Claim (i), smaller feature maps**: after BN, SBN divides the map by $\approx\sqrt{HW}$
#   at initialisation — the factor between eq. (1) and the unitary DFT. Not a property of
#   frequency-domain normalisation; with `fft_norm="ortho"` it vanishes.
# * **Claim (iv), more uniform frequency components**: not supported as a mechanism. SBN
#   multiplies all coefficients of a channel by one number, which leaves every
#   scale-invariant measure of uniformity unchanged; the only change comes from the
#   constant $\beta - s\mu$ added to every bin, which in the image is one pixel (plus a
#   row-0 pattern). At initialisation that constant is $-s\mu$ and raises the normalised
#   entropy by about 0.01 (of 0.87) on average.
# * **Claim (ii), noise injection**: the noise is that of a batch statistic of
#   $\sum x^2$ (with row-sum terms) and of row 0 — BN-like noise on one scale per channel,
#   not frequency-specific. **Claim (iii), weighting channels in the frequency domain**:
#   a real per-channel $\gamma$ weights all frequencies equally; it is a spatial
#   per-channel scale.
#
# Whatever SBN does for accuracy, it does as a second BN-like per-channel rescaling
# (with a different normalising statistic and initial scale $1/\sqrt{HW}$) plus a learned
# offset at one pixel. That is testable: the ablations test its pieces, and the arms
# SBN34-ortho, 2BN34-scaled and BN-logit-scale of §4 test whether the initial scale is the
# point. {doc}`R4_sbn_results` states what the full-data campaign decides: (a) whether
# SBN34 beats BN, (b) whether the effect survives without the factor, (c) whether the
# rescalings reproduce it, (d)–(e) claims (i) and (iv) on trained networks and (f) the
# training-time cost.
#
# ## Exercises
#
# 1. Derive $\sigma^2$ for `weighting="half"` when the pixels of a map are correlated
#    (e.g. a constant map, or a map constant along rows). How far can $s$ move from
#    $1/\sqrt{HW}$, and when does the row-sum term dominate?
# 2. Show that with `weighting="full"`,
#    $s = \gamma/\sqrt{\alpha^2(HW\,m_2 - m_{00}^2)+\varepsilon}$, with $m_2$ the mean of
#    $x^2$ over batch and pixels and $m_{00}$ the batch mean of pixel $(0,0)$, and that the
#    shift acts on pixel $(0,0)$ alone. Which invariance of batch norm does SBN lose
#    (hint: add a constant to the input)?
# 3. The CPU `irfft2` ignores the imaginary parts of the self-conjugate bins and treats
#    column 0 as written. Write the row-0 pattern for a backend that first projects the
#    half-plane onto its Hermitian part (Chapter 02's `hermitian_part`). Does the
#    imaginary part of $\mu$ then leave any trace?
# 4. Zero-padding the feature map before SBN changes $HW$. Predict from §4 how the output
#    norm changes, and check it.
#
# ## Reproduction
#
# The experiment notebook `notebooks/experiments/sbn.py` (papermill, via the experiment
# engine) trains a CIFAR-10 ResNet-18 with one normalisation arm per run. Its `campaign`
# profile holds the design of the full-data test, fixed before the arms ran: ResNet-18 at
# width 0.25 on all 50,000 training images (45k/5k train/validation), the paper's
# schedule compressed to 30 epochs, the weight decay chosen by a pilot of the BN arm, the
# six arms BN, 2BN34, SBN34, SBN34-ortho, 2BN34-scaled and BN-logit-scale over the same
# three seeds; each run records, per epoch, the norms, the distribution of absolute values
# and the spectral flatness after every stage-3/4 normalisation (the quantities behind
# the paper's Fig. 1–3). {doc}`R4_sbn_results` reads the result files: Table I at this
# scale, the paired differences to BN, and the verdicts (a)–(f). The earlier small runs of
# the `cpu` profile (5,000 images, 8 epochs) also trained the ablations of §6.
