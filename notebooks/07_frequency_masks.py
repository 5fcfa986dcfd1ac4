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
# # 07 · Learned frequency masks
#
# The masks paper {cite:p}`maskreg` regularises a CNN by restricting the *spectrum of each
# convolution*:
# a real-valued mask $M$ per layer is binarized in the forward pass, learns through a
# straight-through gradient, and is clipped to $[0,1]$ after every update, as the
# real-valued weights of BinaryConnect {cite:p}`courbariaux2015binaryconnect` are. Their
# claims: ResNet-20 on CIFAR-10 gains clean accuracy (93.5 → 94.06 %) and robustness to
# CIFAR-10-C corruptions {cite:p}`hendrycks2019benchmarking` (impulse noise 50.4 → 57.3,
# fog 85.1 → 86.8, contrast 70.9 → 73.4; their Table 2); the learned masks drop most
# frequencies in the first layers and few in the last (Table 3: 0.69 → 0.02); randomly
# dropping frequencies on top does not help (Table 1, §5.2).
#
# The paper is four pages of method and leaves much open. This chapter states each choice
# the package makes, derives every step with a float64 check, and then looks at masks that
# our CPU-scale experiment learned ({doc}`R5_masks_results` has the accuracies). The
# choices, in the order they come up:
#
# 1. **Where the mask acts.** $S[\omega]=F(x)[\omega]\cdot F(w)[\omega]$ (§3.1) is the
#    spectrum of a *circular*, stride-1 convolution. A network's convolutions are
#    zero-padded and some have stride 2; the package masks the spectrum of the
#    convolution's **output map** (`MaskedConv2d`), and §1 measures what that changes.
# 2. **One mask per layer**, shared by the channels ($M_k$ of Algorithm 1; the text's
#    $M_c$ could mean per channel, which `channels=` offers), on the `rfft2` half-plane.
# 3. **The backward pass.** Algorithm 1 writes $dM_k \leftarrow dS_k * S_k$ and
#    $dS_k \leftarrow dS_k * M_k$; we read the second with the *binarized* mask (the true
#    gradient of the forward pass, as BinaryConnect) and the first as
#    $\operatorname{Re}(\overline{dS}\,S)$, PyTorch's convention (§2).
# 4. **Initialisation** "$N(0.8, 0.2)$" with "variance 0.2": we use standard deviation 0.2
#    (§3 shows why); threshold 0.5 (the paper never names one; 0.5 is the midpoint of the
#    clip range).

# %% tags=["hide-input"]
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from spectral.checks import check_close, check_true
from spectral.corruptions import CORRUPTIONS, corrupt
from spectral.data import sample_images
from spectral.experiments import load_results
from spectral.fft import centered, naive_dft2, naive_idft2
from spectral.masks import (
    FrequencyMask,
    MaskedConv2d,
    attach_mask_clipping_,
    clip_masks_,
    full_plane,
    mask_spectrum,
)
from spectral.plotting import TEXT_WIDTH, use_book_style

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
use_book_style()


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# %% [markdown]
# ## 1 · The spectrum of a convolution layer
#
# PyTorch's `conv2d` is a cross-correlation, $y[n]=\sum_k w[k]\,x[n+k-p]$ with padding
# $p$. With *circular* padding the indices wrap, and substituting $m=p-k$ turns it into
# the circular convolution $y = x \circledast g$ with $g[m]=w[p-m]$ (indices mod $H, W$).
# The convolution theorem for the unitary DFT $F$ then gives, per output channel $o$,
#
# $$Y_o = \sqrt{HW}\,\sum_c X_c\, G_{o,c}, \qquad
#   G_{o,c}[\omega] = F\big(w_{o,c}[p-\cdot\,]\big)[\omega].$$
#
# The paper's $S = F(x)\cdot F(w)$ is this product without the $\sqrt{HW}$ (which a mask
# does not see) and with one input channel. We check it with the dense float64 DFT.

# %%
H, W, K = 9, 8, 3
p = K // 2
x = randn(2, 3, H, W, seed=1)
w = randn(4, 3, K, K, seed=2)
y_circular = F.conv2d(F.pad(x, (p, p, p, p), mode="circular"), w)
g = torch.zeros(4, 3, H, W)
for a in range(K):
    for b in range(K):
        g[:, :, (p - a) % H, (p - b) % W] = w[:, :, a, b]
product = math.sqrt(H * W) * torch.einsum("nchw,ochw->nohw", naive_dft2(x), naive_dft2(g))
_ = check_close("F(conv2d, circular padding) == √(HW)·Σ_c F(x_c)·F(g_oc)",
                naive_dft2(y_circular), product, atol=1e-12)

# %% [markdown]
# So for a circular, stride-1 convolution, masking the output spectrum *is* masking
# $S=F(x)\cdot F(w)$. Two things break this in a real network:
#
# - **zero padding**: the output differs from the circular one in a band of $p$ pixels
#   along the border, so its spectrum is $S$ plus the spectrum of that border difference;
# - **stride 2**: the output is the stride-1 output subsampled, and subsampling folds the
#   spectrum: with the unnormalised DFT,
#   $\mathrm{DFT}_{H/2\times W/2}(y[::2,::2])[k,l]
#    = \tfrac14\sum_{a,b\in\{0,1\}} Y[k+aH/2,\;l+bW/2]$.
#   One mask entry of a strided layer acts on four frequencies of $S$ at once.
#
# We check the folding identity, and measure the border effect on real images.

# %%
H2, W2 = 8, 10
x2 = randn(1, 1, H2, W2, seed=3)
full = torch.fft.fft2(x2)
folded = sum(
    full[..., a * H2 // 2 : (a + 1) * H2 // 2, b * W2 // 2 : (b + 1) * W2 // 2]
    for a in (0, 1)
    for b in (0, 1)
) / 4
check_close("DFT(y[::2, ::2]) == ¼ Σ of the four aliased blocks of DFT(y)",
            torch.fft.fft2(x2[..., ::2, ::2]), folded, atol=1e-12)

images, labels, source = sample_images(6)
images = images.to(torch.float64)
w3 = randn(8, 3, 3, 3, seed=4) / 3
zero = F.conv2d(images, w3, padding=1)
circ = F.conv2d(F.pad(images, (1, 1, 1, 1), mode="circular"), w3)
relative = (torch.fft.fft2(zero - circ).abs().norm() / torch.fft.fft2(circ).abs().norm()).item()
inner = (zero - circ)[..., 1:-1, 1:-1].abs().max().item()
check_true("zero vs circular padding differ only in the 1-pixel border", inner < 1e-12)

# %% tags=["nbval-ignore-output"]
print(f"images: {source}")  # synthetic where the CIFAR-10 archive is absent
print(f"relative size of the border term in the output spectrum: {relative:.3f}")

# %% [markdown]
# The border term is not small on 32×32 images (its size depends on the images; the
# figure above is printed from the data). This is the first modelling choice: the package
# masks what the layer actually outputs. Masking the circular product instead would need
# circular padding in every layer, i.e. a different network from the ResNet-20 the paper
# names.
#
# `MaskedConv2d` is the package's form: an `nn.Conv2d` (same parameter names, so it drops
# into any model) with a `FrequencyMask` on its output. Models are built without masks
# and get them afterwards: `add_masks_(resnet20(), (32, 32))` replaces all 19
# convolutions (its keyword arguments `init_mean`, `init_std`, `threshold`, `binarize`,
# `random_drop` set every mask).

# %%
conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
layer = MaskedConv2d.from_conv(conv, (32, 32)).double()
print(layer)
print("mask shape (H_out, W_out//2+1):", tuple(layer.mask.latent.shape))
torch.nn.init.ones_(layer.mask.latent)
with torch.no_grad():
    _ = check_close("an all-ones mask is the identity", layer(images),
                    conv.double()(images), atol=1e-12)

# %% [markdown]
# ## 2 · The binarized mask and its straight-through gradient
#
# The layer computes $y=\mathrm{irfft2}(B\odot S)$ with $S=\mathrm{rfft2}(x)$ and
# $B=\mathrm{Binarize}(M)=[M\ge 0.5]$. The half-plane hides a detail: in column 0 (and
# column $W/2$ for even $W$) both $(k,l)$ and $(-k,l)$ are stored, and `irfft2` keeps the
# Hermitian part, so the layer equals $\operatorname{Re}F^{-1}(B_\text{full}\odot Fx)$ with
# $B_\text{full}$ the conjugate-symmetric extension of $B$ (`full_plane`). Check against
# the naive DFT, for odd and even sizes:

# %%
for h, w_ in [(8, 8), (7, 9), (6, 5)]:
    torch.manual_seed(h)
    mask = FrequencyMask(h, w_).double()
    xm = randn(2, 3, h, w_, seed=h)
    expected = naive_idft2(full_plane(mask.binary(), w_) * naive_dft2(xm)).real
    check_close(f"FrequencyMask == Re F⁻¹(B_full ⊙ F x), {h}×{w_}", mask(xm).detach(),
                expected, atol=1e-12)

# %% [markdown]
# **Gradient.** $\mathrm{Binarize}$ is a step function: its derivative is 0 almost
# everywhere, so autograd on `(M >= 0.5).float()` gives the latent mask *no* gradient
# (`>=` does not even record a graph). The straight-through estimator replaces the step's
# derivative by 1, so $M$ receives the gradient that $B$ would get if it were a
# continuous variable: the gradient of $m\mapsto m\odot S$ at $m=B$. For a real $m$ and
# complex $S$, PyTorch's gradient of a real loss $L$ w.r.t. a complex tensor $z$ is
# $\partial L/\partial\operatorname{Re}z + i\,\partial L/\partial\operatorname{Im}z$
# (chapter 03), and the chain rule through $z = mS$ gives
#
# $$\frac{\partial L}{\partial m} = \operatorname{Re}z'\operatorname{Re}S
#   + \operatorname{Im}z'\operatorname{Im}S
#   = \operatorname{Re}\big(\overline{dS}\,S\big),\qquad dS := \frac{\partial L}{\partial z},$$
#
# summed over the batch and, for a shared mask, the channels: the paper's $dM = dS\cdot S$.
# Three independent references: the formula with $dS$ from autograd, autograd on the
# continuous relaxation, and central finite differences of the relaxed loss.

# %%
check_true("autograd sees no path through Binarize",
           not (torch.rand(3, requires_grad=True) >= 0.5).requires_grad)

for channels in (None, 3):
    torch.manual_seed(1)
    mask = FrequencyMask(7, 6, channels=channels).double()
    xg, weight = randn(4, 3, 7, 6, seed=5), randn(4, 3, 7, 6, seed=6)
    (mask(xg) * weight).sum().backward()
    S = torch.fft.rfft2(xg)
    Sb = (mask.binary() * S).requires_grad_(True)
    (torch.fft.irfft2(Sb, s=(7, 6)) * weight).sum().backward()
    formula = (Sb.grad.conj() * S).real.sum_to_size(mask.latent.shape)
    label = "shared" if channels is None else "per-channel"
    check_close(f"STE gradient == Re(conj(dS)·S), {label}", mask.latent.grad, formula,
                atol=1e-10)

    def relaxed(m, S=S, weight=weight):
        return (torch.fft.irfft2(m * S, s=(7, 6)) * weight).sum()

    m = mask.binary().clone().requires_grad_(True)
    relaxed(m).backward()
    check_close(f"STE gradient == autograd of the relaxation m ⊙ S at m = B, {label}",
                mask.latent.grad, m.grad, atol=1e-10)
    eps, idx = 1e-6, [(0, 0, 0), (1, 3, 2), (2, 6, 3)] if channels else [(0, 0), (3, 2), (6, 3)]
    fd = []
    for i in idx:
        bump = torch.zeros_like(m)
        bump[i] = eps
        fd.append((relaxed(m.detach() + bump) - relaxed(m.detach() - bump)) / (2 * eps))
    check_close(f"STE gradient == finite differences of the relaxation, {label}",
                torch.stack([mask.latent.grad[i] for i in idx]), torch.stack(fd), atol=1e-6)

# %% [markdown]
# A masked frequency ($B=0$) still has $S\neq 0$, so its latent value keeps receiving
# gradient and can come back: the mask is not a one-way pruning. The input gradient is
# $dS\odot B$, the exact gradient of the forward pass.
#
# ## 3 · Initialisation, threshold and clipping
#
# With $M\sim N(\mu,\sigma^2)$ and threshold $t$ a fraction $\Phi((t-\mu)/\sigma)$ of the
# frequencies starts masked. The paper says its initialisation means "we don't drop any
# frequency at beginning"; with $\sigma = 0.2$ that is about 7 %, with the literal
# variance 0.2 ($\sigma\approx0.45$) it would be a quarter, so we read 0.2 as $\sigma$.

# %%
normal = torch.distributions.Normal(0.0, 1.0)
for mu, sigma, what in [(0.8, 0.2, "from scratch, σ = 0.2"),
                        (0.8, math.sqrt(0.2), "from scratch, variance 0.2"),
                        (0.6, 0.1, "fine-tuning, σ = 0.1")]:
    closed = float(normal.cdf(torch.tensor((0.5 - mu) / sigma)))
    torch.manual_seed(0)
    sampled = FrequencyMask(256, 510, init_mean=mu, init_std=sigma).fraction_masked()
    print(f"{what:>28}: Φ((0.5 − μ)/σ) = {closed:.3f}")
    check_close(f"sampled fraction masked ≈ closed form ({what})", torch.tensor(sampled),
                torch.tensor(closed), atol=5e-3)

# %% [markdown]
# Algorithm 1 clips $M$ to $[0,1]$ after every update. Without clipping a latent value can
# run far past the threshold and would need as many steps to come back; with it, every
# value is at most $0.5$ from flipping. `attach_mask_clipping_` registers `clip_masks_` as
# an optimizer step post-hook (with `spectral.train.fit`: `optimizer_hooks=[...]`).

# %%
def drift(clip, steps=20):
    torch.manual_seed(0)
    mask = clip_masks_(FrequencyMask(8, 8))  # start inside [0, 1] in both runs
    optimizer = torch.optim.SGD(mask.parameters(), lr=50.0)
    if clip:
        attach_mask_clipping_(optimizer, mask)
    target = randn(16, 2, 8, 8, seed=7).float()
    for step in range(steps):
        optimizer.zero_grad()
        loss = (mask(randn(16, 2, 8, 8, seed=step).float()) - target).square().mean()
        loss.backward()
        optimizer.step()
    return mask.latent.detach()


unclipped, clipped = drift(False), drift(True)
print(f"without clipping: latent in [{unclipped.min():.2f}, {unclipped.max():.2f}]")
check_true("without clipping the latent mask leaves [0, 1]",
           unclipped.min() < 0 or unclipped.max() > 1)
check_true("with the post-step hook it stays in [0, 1]",
           clipped.min() >= 0 and clipped.max() <= 1)

# %% [markdown]
# ## 4 · The corruptions
#
# Table 2 evaluates on CIFAR-10-C. `spectral.data.corrupt` re-implements the generator's
# four relevant corruptions in torch with the published severity parameters (the module
# docstring lists them): **impulse noise** (salt and pepper per value), **Gaussian noise**,
# **contrast** (shrink towards the per-channel mean) and **fog** (a diamond-square plasma
# fractal added and the image rescaled). The draws come from a `torch.Generator`, so the
# images follow CIFAR-10-C's distribution but are not its files, which we do not have.

# %% tags=["hide-input"]
u8 = (images.clamp(0, 1) * 255).round().to(torch.uint8)
fig, axes = plt.subplots(4, 6, figsize=(TEXT_WIDTH, 5.6))
for row, kind in enumerate(["impulse_noise", "gaussian_noise", "fog", "contrast"]):
    axes[row, 0].imshow(u8[1].permute(1, 2, 0).numpy())
    axes[row, 0].set_ylabel(kind.replace("_", "\n"))
    for severity in range(1, 6):
        out = corrupt(u8[1:2], kind, severity, generator=torch.Generator().manual_seed(0))
        axes[row, severity].imshow(out[0].permute(1, 2, 0).numpy())
        if row == 0:
            axes[row, severity].set_title(f"severity {severity}")
    axes[0, 0].set_title("clean")
for ax in axes.flat:
    ax.set_xticks([]), ax.set_yticks([])
plt.tight_layout()
plt.show()

# %% [markdown]
# Where in the spectrum do they act? {cite:t}`yin2019fourier` observed that noise sits at
# high frequencies and fog and contrast at low ones, which is why Gaussian augmentation
# helps against the first and hurts against the second. The mean power of
# $F(\text{corrupted} - \text{clean})$ over the sample images, per radial frequency band,
# at severity 3:

# %%
radius = torch.fft.fftfreq(32).abs()[:, None].maximum(torch.fft.fftfreq(32).abs()[None, :])
bands = {"low (|f| < 1/8)": radius < 0.125, "mid": (radius >= 0.125) & (radius < 0.3125),
         "high (|f| ≥ 5/16)": radius >= 0.3125}
rows = {}
for kind in CORRUPTIONS:
    diff = corrupt(u8, kind, 3, generator=torch.Generator().manual_seed(0)).double() - u8
    power = (torch.fft.fft2(diff / 255, norm="ortho").abs() ** 2).mean(dim=(0, 1))
    rows[kind] = {name: float(power[sel].sum() / power.sum()) for name, sel in bands.items()}
spectrum_share = pd.DataFrame(rows).T
check_true("noise puts most of its power above the low band",
           spectrum_share.loc["gaussian_noise", "low (|f| < 1/8)"] < 0.5)
check_true("fog and contrast put most of theirs in the low band",
           min(spectrum_share.loc[["fog", "contrast"], "low (|f| < 1/8)"]) > 0.5)

# %% tags=["nbval-ignore-output"]
spectrum_share.round(3)

# %% [markdown]
# ## 5 · What a trained ResNet-20 masks
#
# The experiment `notebooks/experiments/masks.py` stores, for every mask variant, the
# final binarized masks and their per-layer fractions in its result files, so this
# section draws them from `data/results/masks/` on a fresh clone. Our scale (CPU profile;
# {doc}`R5_masks_results` gives the details) is a few epochs on a few thousand images, far
# from the paper's 200 epochs, and the latent masks there learn with a larger learning
# rate than the weights (`mask_lr_scale`) so that they can move at all in so few steps.
#
# The paper's Table 3 lists 16 layers named `layer1conv1.1` … `layer4conv2.2`: four
# stages of two blocks of two convolutions, which is a ResNet-18's layout, not ResNet-20's
# (three stages of three blocks, plus the stem: 19 convolutions). We show ours per layer
# and the paper's per its own layer, side by side in depth order.

# %% tags=["hide-input"]
records = [r for r in load_results("masks") if r["status"] == "complete"]
cpu = [r for r in records if r["params"].get("profile") == "cpu"]
shown = cpu if cpu else [r for r in records if r["params"].get("profile") == "smoke"]
binarized = [r for r in shown if r["params"].get("variant") == "masks"]
print(f"{len(binarized)} run(s) of the binarized-mask variant, profile "
      f"{binarized[0]['params']['profile'] if binarized else '—'}")

PAPER_TABLE3 = [0.6938, 0.5810, 0.5213, 0.4889, 0.3354, 0.3696, 0.3124, 0.2644,
                0.2082, 0.2621, 0.2453, 0.1477, 0.0810, 0.0455, 0.0337, 0.0175]

# %%
if binarized:
    ours = pd.DataFrame([r["final"]["mask_fraction"] for r in binarized]).T
    table = pd.DataFrame({"ours (mean over seeds)": ours.mean(axis=1),
                          "ours (min)": ours.min(axis=1), "ours (max)": ours.max(axis=1)})
    check_true("every stored mask agrees with its stored fraction", all(
        abs(1 - np.mean(r["final"]["masks"][n]) - f) < 1e-6
        for r in binarized for n, f in r["final"]["mask_fraction"].items()))
    fig, ax = plt.subplots(figsize=(TEXT_WIDTH, 3.4))
    depth = np.linspace(0, 1, len(table))
    ax.plot(depth, table["ours (mean over seeds)"], "o-", label="ours (ResNet-20, 19 convs)")
    ax.fill_between(depth, table["ours (min)"], table["ours (max)"], alpha=0.2)
    ax.plot(np.linspace(0, 1, 16), PAPER_TABLE3, "s--", label="paper Table 3 (16 convs)")
    ax.set_xlabel("relative depth of the convolution")
    ax.set_ylabel("fraction of frequencies masked")
    ax.legend()
    plt.show()

# %% tags=["nbval-ignore-output"]
table.round(3) if binarized else None

# %% [markdown]
# The masks themselves, one panel per convolution, on the full (conjugate-symmetric)
# plane with the zero frequency at the centre; black = masked. The first seed's run:

# %% tags=["hide-input"]
if binarized:
    stored = binarized[0]["final"]["masks"]
    names = list(stored)
    fig, axes = plt.subplots(3, math.ceil(len(names) / 3), figsize=(TEXT_WIDTH, 4.2))
    for ax, name in zip(axes.flat, names, strict=False):
        half = torch.tensor(stored[name], dtype=torch.float64)
        side = half.shape[-2]  # ResNet-20's maps are square: W = H
        ax.imshow(centered(full_plane(half, side)).numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(name.replace("layer", "L").replace(".conv", "c"))
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# **A spectral view of what is masked.** For each layer, the fraction masked in the low,
# mid and high radial bands of its own map size (the same bands as in §4, relative to
# the Nyquist frequency of that layer):

# %%
if binarized:
    band_rows = {}
    for name, half in stored.items():
        half = torch.tensor(half, dtype=torch.float64)
        n = half.shape[-2]
        full_mask = full_plane(half, n)
        f = torch.fft.fftfreq(n).abs()
        r = f[:, None].maximum(f[None, :])
        band_rows[name] = {b: float(1 - full_mask[sel].mean())
                           for b, sel in {"low": r < 0.125, "mid": (r >= 0.125) & (r < 0.3125),
                                          "high": r >= 0.3125}.items()}
    by_band = pd.DataFrame(band_rows).T

# %% tags=["nbval-ignore-output"]
by_band.round(3) if binarized else None

# %% [markdown]
# ## 6 · The open question: binarized or continuous masks?
#
# §5.1 argues for binarized masks (a hard mask in the *spatial* domain creates edges, in
# the spectral domain "this kind of side effect is not obvious") but does not compare the
# two. Our experiment trains a third variant, `masks_continuous`, that uses the clipped
# latent mask $\operatorname{clip}(M,0,1)$ itself as a soft mask with its ordinary
# gradient, everything else equal. Accuracies (mean over seeds, our scale):

# %%
def summary(variant):
    runs = [r for r in shown if r["params"].get("variant") == variant]
    if not runs:
        return None
    row = {"clean": np.mean([r["final"]["test_accuracy"] for r in runs])}
    for kind in ("impulse_noise", "fog", "contrast"):
        row[kind] = np.mean([r["final"]["corruption_mean"].get(kind, np.nan) for r in runs])
    row["runs"] = len(runs)
    return row


variants = ["natural", "masks", "masks_continuous", "masks_random_drop"]
compare = pd.DataFrame({v: summary(v) for v in variants if summary(v)}).T
print("variants with results:", ", ".join(compare.index))

# %% tags=["nbval-ignore-output"]
compare.round(3)

# %%
if {"masks", "masks_continuous"} <= set(compare.index):
    gap = compare.loc["masks", ["clean", "impulse_noise", "fog", "contrast"]] - compare.loc[
        "masks_continuous", ["clean", "impulse_noise", "fog", "contrast"]]
    spread = max(np.std([r["final"]["test_accuracy"] for r in shown
                         if r["params"].get("variant") == v], ddof=1)
                 for v in ("masks", "masks_continuous"))
    print("binarized − continuous (accuracy points):\n  ",
          ", ".join(f"{k} {100 * v:+.1f}" for k, v in gap.items()))
    print(f"largest seed-to-seed std of clean accuracy in the two: {100 * spread:.1f} points")

# %% [markdown]
# The answer at our scale is in the two lines above, printed from the result files: the
# difference between binarized and continuous masks, against the seed-to-seed spread. A
# difference smaller than the spread is no evidence either way; the paper-scale run
# (`python -m spectral run masks --profile paper`) answers it properly.
#
# ## 7 · The fast form: three real matrix products
#
# Written with FFTs, a masked layer costs an `rfft2` and an `irfft2` of every map of
# every convolution, forward, and as much again backward; on a CPU these transforms of
# small maps spend their time copying (PyTorch's `irfft2` transposes and clones its
# input), and a masked ResNet-20 step took 3.9 times the plain one on the book's
# bf16 fast path. `FrequencyMask` (default `impl="matrix"`) computes the same map
# $y = \mathrm{irfft2}(m \odot \mathrm{rfft2}(x))$, for any real half-plane mask $m$, as
# three matrix products over the rows and columns of the maps; `impl="fft"` is the
# definition. We derive it on an odd-by-even map, each step checked in float64.
#
# **Rows.** The `rfft` of a row is a product with the $2(W/\!/2+1) \times W$ matrix
# $A_W = [\cos;\,-\sin](2\pi l w / W)$, $l = 0 \dots W/\!/2$: $z = x A_W^\top$ holds the
# real and imaginary parts of every row's transform. One product for all maps and rows.

# %%
H7, W7 = 7, 6  # odd H, even W: a Nyquist column
half7 = W7 // 2 + 1
x7, g7 = randn(3, 2, H7, W7, seed=11), randn(3, 2, H7, W7, seed=12)
m7 = torch.rand(H7, half7, generator=torch.Generator().manual_seed(13))  # any real mask
angle = 2 * math.pi * ((torch.arange(half7)[:, None] * torch.arange(W7)) % W7) / W7
A_W = torch.cat([torch.cos(angle), -torch.sin(angle)])  # (2·half, W)
z7 = x7 @ A_W.T
rows = torch.fft.rfft(x7, dim=-1)
_ = check_close("x A_Wᵀ == [Re | Im] of rfft along W", z7,
                torch.cat([rows.real, rows.imag], -1), atol=1e-12)

# %% [markdown]
# **Columns.** The masked spectrum's column $l$ is $m[:, l] \odot F_H z_l$ ($z_l$ the
# column of $H$ complex row transforms), and the way back along $H$ multiplies by
# $F_H^{-1}$. So column $l$ meets the circulant
# $T_l = F_H^{-1}\,\mathrm{diag}(m[:, l])\,F_H$, with $T_l[k, h] = t_l[(k - h) \bmod H]$ and
# first column $t_l = \mathrm{ifft}(m[:, l])$: one batch of $W/\!/2+1$ products of
# $(NC \times H)$ by $(H \times H)$ complex matrices, four real ones each.

# %%
zc = torch.complex(z7[..., :half7], z7[..., half7:])  # (N, C, H, half)
t7 = torch.fft.ifft(m7.to(torch.complex128), dim=0)  # column l: the first column of T_l
h7 = torch.arange(H7)
T7 = t7[(h7[:, None] - h7[None, :]) % H7]  # T7[k, h, l] = t_l[(k - h) mod H]
u7 = torch.einsum("khl,nchl->nckl", T7, zc)
_ = check_close("T_l z_l == ifft_H(m[:, l] ⊙ fft_H(z_l)) for every column l", u7,
                torch.fft.ifft(m7 * torch.fft.fft(zc, dim=-2), dim=-2), atol=1e-12)

# %% [markdown]
# **Rows again.** `irfft` along $W$ is a product too: $y[w] = \sum_l \frac{c_l}{W}
# (\operatorname{Re} u_l \cos - \operatorname{Im} u_l \sin)(2\pi lw/W)$ with $c_l = 2$,
# except $c_l = 1$ in column 0 and (even $W$) column $W/2$, where the sine vanishes: the
# imaginary part that $T_0$ leaves in those columns drops out, which is §2's Hermitian
# part. So $y = [\operatorname{Re} u \mid \operatorname{Im} u]\,S_W$ with
# $S_W = \mathrm{diag}(c/W)\,A_W$, and the three products are the layer:

# %%
weights7 = torch.full((half7,), 2.0)
weights7[0] = 1.0
if W7 % 2 == 0:
    weights7[-1] = 1.0
S_W = A_W * torch.cat([weights7, weights7])[:, None] / W7
y7 = torch.cat([u7.real, u7.imag], -1) @ S_W
check_close("u S_W == irfft along W", y7, torch.fft.irfft(u7, n=W7, dim=-1), atol=1e-12)
check_close("x A_Wᵀ, then T_l, then S_W == irfft2(m ⊙ rfft2(x))", y7,
            torch.fft.irfft2(m7 * torch.fft.rfft2(x7), s=(H7, W7)), atol=1e-12)
_ = check_close("the package's mask_spectrum(impl='matrix') == the three products",
                mask_spectrum(x7, m7, impl="matrix"), y7, atol=1e-12)

# %% [markdown]
# **Backward.** The map $P: x \mapsto y$ is real and circulant with the real, even
# full-plane mask of §2, so its kernel is real and even and $P = P^\top$: the input
# gradient $P^\top g$ is the same three products applied to the output gradient. The
# mask gradient of §2, $\operatorname{Re}(\overline{dS}\,S)$ with
# $dS = \frac{c_l}{HW}\,\mathrm{rfft2}(g)$ (the adjoint of `irfft2`), is
# $dm[k, l] = \frac{c_l}{HW}\sum \operatorname{Re}(\overline{G}X)[k, l]$; the matrix form
# takes it from the row transforms it already has, through the $H \times H$ matrices
# $Q_l = \sum_{\text{maps}} \overline{z_{g,l}}\,z_{x,l}^\top$:
# $dm[k, l] = \frac{c_l}{HW}\operatorname{Re}\sum_{h,h'} e^{2\pi i k(h-h')/H} Q_l[h, h']$.

# %%
basis = torch.eye(H7 * W7).view(H7 * W7, 1, H7, W7)
P7 = mask_spectrum(basis, m7).view(H7 * W7, H7 * W7)  # row j: the image of the j-th pixel
check_close("P == Pᵀ", P7, P7.T, atol=1e-12)
x_leaf, m_leaf = x7.clone().requires_grad_(True), m7.clone().requires_grad_(True)
fft_grads = torch.autograd.grad(torch.fft.irfft2(m_leaf * torch.fft.rfft2(x_leaf), s=(H7, W7)),
                                (x_leaf, m_leaf), g7)
check_close("input gradient of the FFT form == P g (the same products)", fft_grads[0],
            mask_spectrum(g7, m7), atol=1e-12)
X7, G7 = torch.fft.rfft2(x7), torch.fft.rfft2(g7)
check_close("mask gradient == c_l/(HW)·Σ Re(conj(G)·X)", fft_grads[1],
            weights7 / (H7 * W7) * (G7.conj() * X7).real.sum((0, 1)), atol=1e-12)
zg = torch.fft.rfft(g7, dim=-1)
Q7 = torch.einsum("nchl,nckl->lhk", zg.conj(), rows)  # Q_l[h, h'] = Σ conj(z_g[h]) z_x[h']
phase = torch.exp(2j * math.pi * torch.arange(H7)[:, None, None]
                  * (h7[:, None] - h7[None, :]) / H7)  # [k, h, h']
from_rows = weights7 / (H7 * W7) * torch.einsum("khj,lhj->kl", phase, Q7).real
check_close("… == c_l/(HW)·Re Σ e^{2πik(h−h')/H} Q_l[h, h']", fft_grads[1], from_rows,
            atol=1e-12)
matrix_grads = torch.autograd.grad(mask_spectrum(x_leaf, m_leaf, impl="matrix"),
                                   (x_leaf, m_leaf), g7)
for name, got, want in zip(("input", "mask"), matrix_grads, fft_grads, strict=True):
    check_close(f"impl='matrix' backward == autograd on the FFT form, {name} gradient",
                got, want, atol=1e-12)

# %% [markdown]
# The layer in both forms, shared and per channel, on the three map sizes of ResNet-20
# (binarized masks, straight-through gradient):

# %%
for (h, w_, c), channels in [((32, 32, 16), None), ((16, 16, 32), 32), ((8, 8, 64), None)]:
    torch.manual_seed(h)
    fast = FrequencyMask(h, w_, channels=channels).double()
    reference = FrequencyMask(h, w_, channels=channels, impl="fft").double()
    reference.load_state_dict(fast.state_dict())
    xm = randn(2, c, h, w_, seed=h).requires_grad_(True)
    (out_fast, out_ref) = (layer(xm) for layer in (fast, reference))
    label = f"{h}×{w_}, {'shared' if channels is None else 'per channel'}"
    check_close(f"impl='matrix' == impl='fft', output, {label}", out_fast, out_ref,
                atol=1e-12)
    for out in (out_fast, out_ref):
        out.backward(randn(2, c, h, w_, seed=h + 1))
    check_close(f"… latent gradient, {label}", fast.latent.grad, reference.latent.grad,
                atol=1e-9)

# %% [markdown]
# The products do more arithmetic than FFTs (per map, $4HW(W/\!/2+1)$ multiply-adds for
# the rows and $4H^2(W/\!/2+1)$ for the columns), but they are large batched matrix
# products that run near a CPU's peak, against many small transforms and copies.
# `benchmarks/masks.py` times the layer in both forms and the ResNet-20 step with and
# without masks. On this book's 2-core CPU the matrix form makes the layer 1.5–2× faster
# and a masked ResNet-20 training step costs about 1.6× the plain one in float32 (2.0×
# with FFTs) and 2.7× on the bf16 `channels_last` fast path (3.3–3.9× with FFTs). What
# remains there is float32 arithmetic against convolutions that run in bfloat16: the
# package computes spectral layers in float32 under autocast, and one masked 32×32 layer
# in float32 costs more than its convolution, batch norm and ReLU together.
#
# ## Summary
#
# - Masking the output spectrum of a layer equals masking $F(x)\cdot F(w)$ only for
#   circular, stride-1 convolutions; zero padding adds a border term and stride 2 folds
#   four frequencies into one mask entry (both checked above).
# - The straight-through gradient is $\operatorname{Re}(\overline{dS}\,S)$, the gradient
#   of the continuous relaxation at the binary mask; checked against autograd and finite
#   differences, shared and per channel.
# - "Variance 0.2" would start with a quarter of the frequencies masked; standard
#   deviation 0.2 matches the paper's "we don't drop any frequency at beginning".
# - Table 3's layer names describe a ResNet-18, not the ResNet-20 of Table 2.
# - The layer's default form is three real matrix products (row `rfft`, one circulant
#   $F_H^{-1}\mathrm{diag}(m[:, l])F_H$ per column, row `irfft`), equal to the FFT form
#   to rounding, forward and backward (the map is symmetric, so the input gradient is the
#   same products); checked above in float64.
#
# **Exercises.** (1) Derive the gradient for a *per-sample* mask and explain why the
# paper's inter-class masks (§5.3) need the label at test time. (2) Show that masking
# column 0 of the half-plane with an asymmetric pair $(k,0)\neq(-k,0)$ acts as the mean of
# the two entries. (3) Re-run the experiment with `mask_lr_scale=1` and count how many
# latent values cross the threshold in the CPU schedule.
