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
# # 05 · Spectral parameterization
#
# {cite:t}`rippel2015spectral` (§4) propose to learn the filters of a convolutional
# network as their discrete Fourier coefficients. The network computes exactly the same
# function; only the coordinates the optimiser sees change. Their claim (§4.1, §5.2,
# Fig. 5): with Adam {cite:p}`kingma2015adam` the spectrally parameterized nets reach the
# spatial nets' final test error 2.2× (3×3 filters) to 5.1× (5×5) sooner, because trained
# filters are sparse in the Fourier basis and Adam's per-coordinate step sizes exploit
# that; with plain SGD nothing would change ("exactly the same filters", §4.1). The
# student reproduction {cite:p}`jain2017ecbm` names back-propagating into complex filters
# as one of its difficulties, did not find the speed-up, and guessed that the authors'
# filter initialisation made the difference.
#
# This chapter makes the construction precise and checks each step in float64: which
# real coordinates a real filter's spectrum has (§2.1), the map from them to the filter and
# why it must be *orthogonal* for the SGD claim to hold, what registering it does to a
# layer, its gradient (§2.2), the SGD trajectories that coincide to rounding, the Adam
# trajectories that do not (and the closed form of where they part), and the paper's
# Fig. 3 on a small CIFAR-10 run. The training reproduction of Fig. 5 is on the results
# page {doc}`R3_spectral_parameterization_results`.
#
# Conventions (notation page): unitary DFT $F$ = `fft2(·, norm="ortho")`, DC at $[0,0]$;
# the mirror of bin $(k,l)$ of an $h\times w$ grid is $((-k) \bmod h, (-l) \bmod w)$.

# %% tags=["hide-input"]
import copy
import math
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn

from spectral import basis_comparison as bc
from spectral import results as res
from spectral.checks import check_close, check_true
from spectral.data import balanced_split, load_arrays
from spectral.fft import (
    CONJUGATE,
    FREE,
    REAL,
    centered,
    naive_dft2,
    naive_idft2,
    symmetry_pattern,
    uncentered,
)
from spectral.models import rippel_deep, rippel_generic
from spectral.parametrize import (
    SpectralWeight,
    is_spectral,
    spectral_basis,
    spectral_coefficients,
    spectral_parametrize,
)
from spectral.plotting import TEXT_WIDTH, use_book_style

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
use_book_style()
pd.options.display.float_format = "{:.3f}".format
KERNELS = [(3, 3), (5, 5), (2, 2), (4, 4), (3, 4), (2, 5), (1, 3)]

# %% [markdown]
# ## 1. How many real numbers a filter has
#
# A real $h\times w$ filter $f$ has $hw$ real degrees of freedom. Its spectrum $X = Ff$
# has $hw$ *complex* bins, but it is conjugate-symmetric, $X[k,l] = \overline{X[-k,-l]}$
# (Rippel et al., eq. 3): a bin that is its own mirror (`REAL`) is real, and of every
# other mirror pair one bin (`FREE`) fixes its partner (`CONJUGATE`). Chapter 02 derived
# the pattern; here we only need the count $\#\text{REAL} + 2\,\#\text{FREE} = hw$.

# %%
rows = []
for h, w in KERNELS:
    pattern = symmetry_pattern(h, w)
    counts = {name: int((pattern == code).sum())
              for name, code in [("FREE", FREE), ("REAL", REAL), ("CONJUGATE", CONJUGATE)]}
    rows.append({"kernel": f"{h}×{w}", **counts, "h·w": h * w})
    check_true(f"{h}×{w}: #REAL + 2·#FREE == h·w", counts["REAL"] + 2 * counts["FREE"] == h * w)
display(pd.DataFrame(rows).set_index("kernel"))

# %% [markdown]
# ## 2. The coordinates and the map back to the filter
#
# We keep exactly those $hw$ real numbers, laid out on the same $h\times w$ grid as the
# filter (uncentred), one per bin:
#
# $$
# \theta[k,l] = \begin{cases}
#   \sqrt2\,\operatorname{Re} X[k,l] & (k,l)\ \text{FREE},\\
#   \sqrt2\,\operatorname{Im} X[k',l'] & (k,l)\ \text{CONJUGATE, mirror of the FREE }(k',l'),\\
#   \operatorname{Re} X[k,l] & (k,l)\ \text{REAL},
# \end{cases}
# $$
#
# and the map back rebuilds the conjugate-symmetric spectrum and inverts it,
# $X[k,l] = (\theta[k,l] + i\,\theta[k',l'])/\sqrt2$ on a FREE bin, its conjugate on the
# partner, $\theta[k,l]$ on a REAL bin, then $f = F^{-1}X$ (§4: "we simply compute its
# inverse DFT"). Check: the package's coordinates against this definition computed with
# dense DFT matrices, and the filter rebuilt from them.

# %%
def reference_theta(f):
    """θ of a real filter by the definition above, with the dense DFT (complex128)."""
    h, w = f.shape[-2:]
    X, pattern = naive_dft2(f), symmetry_pattern(h, w)
    theta = torch.zeros_like(f)
    for k in range(h):
        for l in range(w):  # noqa: E741 (the usual frequency index)
            if pattern[k, l] == REAL:
                theta[..., k, l] = X[..., k, l].real
            elif pattern[k, l] == FREE:
                theta[..., k, l] = math.sqrt(2) * X[..., k, l].real
                theta[..., (-k) % h, (-l) % w] = math.sqrt(2) * X[..., k, l].imag
    return theta


for kernel in KERNELS:
    f = torch.randn(4, 3, *kernel)
    param = SpectralWeight(kernel)
    theta = param.right_inverse(f)
    check_close(f"{kernel[0]}×{kernel[1]}: right_inverse(f) == θ by the dense DFT",
                theta, reference_theta(f))
    check_close(f"{kernel[0]}×{kernel[1]}: SpectralWeight(θ) == f", param(theta), f)
    conv = nn.Conv2d(3, 4, kernel, bias=False)
    conv.weight.data = f.clone()
    spectral_parametrize(conv)
    spectrum = spectral_coefficients(conv).detach()
    check_close(f"{kernel[0]}×{kernel[1]}: spectral_coefficients == centred dense DFT of f",
                spectrum, centered(naive_dft2(f)))
    check_close(f"{kernel[0]}×{kernel[1]}: its inverse DFT is real",
                naive_idft2(uncentered(spectrum)).imag, torch.zeros_like(f))

# %% [markdown]
# ## 3. Why √2: the map is a rotation
#
# Write the map as $f = B\theta$ with $B\in\mathbb R^{hw\times hw}$ (filters flattened).
# Column $j$ of $B$ is the filter of the unit coordinate on bin $j$: with the unitary basis
# function $\varphi_{kl}[m,n] = e^{2\pi i(km/h+ln/w)}/\sqrt{hw}$ (Rippel Fig. 1a) it is
# $\sqrt2\operatorname{Re}\varphi_{kl}$ for a FREE bin, $-\sqrt2\operatorname{Im}\varphi_{kl}$
# for the partner of a FREE $(k,l)$, and $\varphi_{kl}$ (real) for a REAL bin. The
# $\varphi_{kl}$ are orthonormal (unitarity); so are $\sqrt2\operatorname{Re}\varphi$ and
# $\sqrt2\operatorname{Im}\varphi$, since $\operatorname{Re}\varphi =
# (\varphi + \bar\varphi)/2$ and $\varphi \perp \bar\varphi$ for a FREE bin. Hence
# $B^\top B = I$: Parseval in these coordinates, $\|f\|^2 = \|X\|^2 = \sum\theta^2$.
# Without the $\sqrt2$ (storing $\operatorname{Re}X$, $\operatorname{Im}X$ directly, as a
# complex parameter would) the map is orthogonal only up to a per-coordinate scale, and
# even plain SGD would take different steps. Check: the Gram matrix in float64.

# %%
for kernel in KERNELS:
    B = spectral_basis(kernel)
    check_close(f"{kernel[0]}×{kernel[1]}: Bᵀ B == I (float64)", B.T @ B,
                torch.eye(B.shape[0]))
theta = torch.randn(100, 5, 5)
parseval_error = check_close("Parseval in coordinates: ‖Bθ‖² == Σθ² per filter (5×5)",
                             SpectralWeight(5)(theta).pow(2).sum((-2, -1)),
                             theta.pow(2).sum((-2, -1)))

# %% tags=["hide-input"]
B = spectral_basis(5)
pattern = symmetry_pattern(5, 5)
kind = {FREE: "√2 Re", CONJUGATE: "−√2 Im", REAL: "real"}
fig, axes = plt.subplots(5, 5, figsize=(7, 7.4))
for j, ax in enumerate(axes.flat):
    k, l = divmod(j, 5)  # noqa: E741
    ax.imshow(B[:, j].reshape(5, 5), cmap="RdBu_r", vmin=-0.5, vmax=0.5)
    ax.set_title(f"({k},{l}) {kind[int(pattern[k, l])]}", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("The 25 orthonormal basis filters of the 5×5 spectral coordinates (uncentred)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Registering it on a layer leaves the network unchanged
#
# `spectral_parametrize(model)` registers `SpectralWeight` with
# `torch.nn.utils.parametrize` on every `nn.Conv2d` whose kernel is larger than 1×1; its
# `right_inverse` stores $\theta = B^\top f$ of the current filters, so the model computes
# the same function, with exactly $hw$ trainable reals per filter. A 1×1 kernel's
# spectrum *is* the kernel ($B=[1]$), so such layers (the heads of nets (5) and (7)) are
# skipped; calling it on a single 1×1 convolution raises. Checks on nets (6) and (7),
# against the definition of section 2 computed with dense DFT matrices rather than with
# the package: the coordinates each registered layer stores are $\theta$ of its original
# filters, the filters it computes from them are the definition's map back (the
# conjugate-symmetric spectrum rebuilt bin by bin, then the dense inverse DFT), and the
# network's output is that of the original net.

# %%
def reference_filter(theta):
    """f from θ by the definition of section 2: rebuild X bin by bin, dense inverse DFT."""
    h, w = theta.shape[-2:]
    pattern = symmetry_pattern(h, w)
    X = torch.zeros(theta.shape, dtype=torch.complex128)
    for k in range(h):
        for l in range(w):  # noqa: E741 (the usual frequency index)
            if pattern[k, l] == REAL:
                X[..., k, l] = theta[..., k, l]
            elif pattern[k, l] == FREE:
                mk, ml = (-k) % h, (-l) % w
                X[..., k, l] = (theta[..., k, l] + 1j * theta[..., mk, ml]) / math.sqrt(2)
                X[..., mk, ml] = X[..., k, l].conj()
    return naive_idft2(X).real


x = torch.randn(2, 3, 32, 32)
for build in (rippel_generic, rippel_deep):
    spatial = build(width=0.125, kernel_size=5).double()
    spectral = spectral_parametrize(copy.deepcopy(spatial))
    convs = {name: m for name, m in spectral.named_modules() if isinstance(m, nn.Conv2d)}
    flags = ", ".join(f"{c.kernel_size[0]}×{c.kernel_size[1]}:{'S' if is_spectral(c) else '-'}"
                      for c in convs.values())
    print(f"{build.__name__}: convolutions (S = spectral)\n   {flags}")
    originals = dict(spatial.named_modules())
    registered = {name: c for name, c in convs.items() if is_spectral(c)}
    stored = [c.parametrizations.weight.original.detach() for c in registered.values()]
    check_close(f"{build.__name__}: stored θ == θ of the original filters (dense DFT)",
                torch.cat([t.flatten() for t in stored]),
                torch.cat([reference_theta(originals[name].weight.detach()).flatten()
                           for name in registered]))
    check_close(f"{build.__name__}: computed filters == θ mapped back (dense inverse DFT)",
                torch.cat([c.weight.detach().flatten() for c in registered.values()]),
                torch.cat([reference_filter(t).flatten() for t in stored]))
    with torch.no_grad():
        check_close(f"{build.__name__}: spectral copy computes the same function",
                    spectral(x), spatial(x))

# %% [markdown]
# ## 5. The gradient
#
# Since $f = B\theta$, the chain rule gives $\partial L/\partial\theta = B^\top\,\partial
# L/\partial f$: the gradient of the coordinates is the *coordinates of the filter
# gradient*, i.e. the DFT of $\partial L/\partial f$ read off with the same √2 rule. This is
# Rippel's §2.2 ("the gradient through the inverse DFT is the DFT") with the
# conjugate-symmetry bookkeeping of §2.1 done once and for all by the real map; nothing
# complex is differentiated, which sidesteps the student report's difficulty. Checks:
# autograd against $B^\top\,\partial L/\partial f$ computed on the spatial twin, and
# `gradcheck` (finite differences).

# %%
spatial = rippel_generic(width=0.125, kernel_size=5).double()
spectral = spectral_parametrize(copy.deepcopy(spatial))
labels = torch.tensor([1, 7])
F.cross_entropy(spatial(x), labels).backward()
F.cross_entropy(spectral(x), labels).backward()
conv_sp, conv_sf = spatial.features[0], spectral.features[0]
check_close("∂L/∂θ == Bᵀ ∂L/∂f (= coordinates of the filter gradient)",
            conv_sf.parametrizations.weight.original.grad,
            SpectralWeight(5).right_inverse(conv_sp.weight.grad))
check_true("gradcheck of SpectralWeight (float64, finite differences)",
           torch.autograd.gradcheck(SpectralWeight((4, 3)), torch.randn(2, 4, 3).requires_grad_()))

# %% [markdown]
# ## 6. Plain SGD: the same trajectory in both bases
#
# SGD with momentum $\mu$ and (coupled) weight decay $\lambda$ updates
# $b \leftarrow \mu b + g + \lambda p$, $p \leftarrow p - \eta b$. Every operation is
# linear, so if $\theta_t = B^\top f_t$ and $b^\theta_t = B^\top b^f_t$, then
# $g^\theta = B^\top g^f$ (section 5) and $\lambda\theta = B^\top\lambda f$ give
# $\theta_{t+1} = B^\top f_{t+1}$: by induction the spectral net follows exactly the
# spatial net's filters (§4.1; true for any orthogonal $B$, and for weight decay it needs
# orthogonality, not just invertibility). Check: a small float64 net, 200 steps on
# random data, both copies from the same initial filters.

# %%
def tiny_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 6, 5, padding=2), nn.Tanh(), nn.Conv2d(6, 6, 3, padding=1), nn.Tanh(),
        nn.Conv2d(6, 4, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )


def trajectories(make_optimizer, steps=200, seed=0, basis="spectral"):
    """Train a spatial copy and one in ``basis`` side by side; max filter difference per
    step. The second copy is keyed "spectral" whatever its basis."""
    nets = {"spatial": tiny_net(seed)}
    nets["spectral"] = spectral_parametrize(copy.deepcopy(nets["spatial"]), basis=basis)
    optimizers = {name: make_optimizer(net.parameters()) for name, net in nets.items()}
    generator = torch.Generator().manual_seed(seed)
    gap = []
    for _ in range(steps):
        xb = torch.randn(16, 3, 10, 10, generator=generator)
        yb = torch.randint(0, 4, (16,), generator=generator)
        for name, net in nets.items():
            optimizers[name].zero_grad()
            F.cross_entropy(net(xb), yb).backward()
            optimizers[name].step()
        gap.append(max(float((a.weight - b.weight).detach().abs().max())
                       for a, b in zip(nets["spatial"][::2][:3], nets["spectral"][::2][:3],
                                       strict=True)))
    return nets, gap


sgd_nets, sgd_gap = trajectories(
    lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4))
start = tiny_net()[0].weight
moved = float((sgd_nets["spatial"][0].weight - start).detach().norm() / start.detach().norm())
check_true("SGD moved the filters (‖f_200 − f_0‖ > 0.1 ‖f_0‖)", moved > 0.1)
for i in (0, 2):
    check_close(f"SGD + momentum + weight decay, 200 steps: conv {i // 2 + 1} filters agree",
                sgd_nets["spectral"][i].weight.detach(), sgd_nets["spatial"][i].weight.detach(),
                atol=1e-10)

# %% [markdown]
# "True for any orthogonal $B$" is also what makes the control of the results page
# possible: `spectral_parametrize(net, basis="random", seed=...)` learns each layer's
# filters in a fixed Haar-random rotation instead of the DFT
# ({func}`spectral.parametrize.random_basis`), coordinates that are no frequencies at all.
# SGD cannot tell it from the other two either:

# %%
random_nets, _ = trajectories(
    lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4), basis="random")
for i in (0, 2):
    check_close(f"SGD in a random rotation, 200 steps: conv {i // 2 + 1} filters agree",
                random_nets["spectral"][i].weight.detach(),
                random_nets["spatial"][i].weight.detach(), atol=1e-10)

# %% [markdown]
# ## 7. Adam: where the trajectories part, and why
#
# Adam keeps per-coordinate moments $m \leftarrow \beta_1 m + (1-\beta_1)g$ and
# $v \leftarrow \beta_2 v + (1-\beta_2)\,g\odot g$ and steps
# $-\eta\,\hat m/(\sqrt{\hat v}+\epsilon)$. The square is taken coordinate by coordinate,
# and $(B^\top g)\odot(B^\top g) \neq B^\top(g\odot g)$: the second moments of a rotated
# gradient are not the rotated second moments, so the preconditioner — and the step —
# depends on the basis. The first step shows it in closed form: with bias correction
# $\hat m_1 = g$, $\hat v_1 = g\odot g$, so
#
# $$
# \Delta f^{\text{spatial}} = -\eta\,\frac{g}{|g|+\epsilon},\qquad
# \Delta f^{\text{spectral}} = B\,\Delta\theta = -\eta\,B\,\frac{B^\top g}{|B^\top g|+\epsilon},
# $$
#
# a (nearly) sign step of size $\eta$ per *pixel* in one case and per *Fourier
# coordinate* in the other. Check both against the optimiser.

# %%
lr, eps = 1e-2, 1e-8
pair = {"spatial": tiny_net()}
pair["spectral"] = spectral_parametrize(copy.deepcopy(pair["spatial"]))
xb, yb = torch.randn(16, 3, 10, 10), torch.randint(0, 4, (16,))
before = pair["spatial"][0].weight.detach().clone()
steps = {}
for name, net in pair.items():
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, eps=eps)
    F.cross_entropy(net(xb), yb).backward()
    optimizer.step()
    steps[name] = net[0].weight.detach() - before
g = pair["spatial"][0].weight.grad
Bt_g = SpectralWeight(5).right_inverse(g)
check_close("Adam step 1, spatial: Δf == −η g/(|g|+ε)", steps["spatial"], -lr * g / (g.abs() + eps))
check_close("Adam step 1, spectral: Δf == −η B (Bᵀg/(|Bᵀg|+ε))", steps["spectral"],
            SpectralWeight(5)(-lr * Bt_g / (Bt_g.abs() + eps)))
gap_1 = float((steps["spatial"] - steps["spectral"]).norm() / steps["spatial"].norm())
check_true("the two first steps differ (relative gap > 0.5)", gap_1 > 0.5)

# %% tags=["hide-input"]
adam_nets, adam_gap = trajectories(lambda p: torch.optim.Adam(p, lr=1e-3))
fig, ax = plt.subplots(figsize=(TEXT_WIDTH, 3.6))
ax.semilogy(np.maximum(sgd_gap, 1e-17), label="SGD (momentum, weight decay)")
ax.semilogy(adam_gap, label="Adam")
ax.set_xlabel("step")
ax.set_ylabel("max |f_spatial − f_spectral|")
ax.set_title("Same model, same data, same start: filters of the two parameterizations")
ax.legend()
plt.show()

# %% [markdown]
# SGD's gap is rounding (float64, about $10^{-16}$ relative, growing slowly), Adam's is
# of the order of the learning rate from the first step on. Which basis is *better* for
# Adam is an empirical question: the paper's argument is that trained filters are sparse
# in the Fourier basis, so that Adam's per-coordinate normalisation moves the few relevant
# coordinates fast. A random rotation changes Adam's trajectory as much, with no sparsity
# argument behind it; so a speed-up of the Fourier basis over the spatial one supports the
# paper's argument only if it is also a speed-up over the random basis. The next section
# looks at sparsity on real images; the results page measures whether either basis buys
# epochs.

# %% [markdown]
# ## 8. Trained filters in both bases (Rippel Fig. 3)
#
# A small version of the paper's setting: net (6) with 5×5 filters at width 0.25, trained
# with Adam (learning rate $3\cdot10^{-3}$, batch 32) on 512 class-balanced CIFAR-10 images
# (from the test split, which chapter 04 has already decoded; we look only at the filters,
# not at accuracy) for 3 epochs, once spatially and once spectrally from the same
# initial filters and batches. We record the first layer's filters after each epoch and
# Adam's first moments at the end. Everything here depends on the data, so its printed
# numbers are not checked by nbval.

# %% tags=["hide-input", "nbval-ignore-output"]
try:
    images, targets = load_arrays("cifar10", train=False)
    chosen, _ = balanced_split(targets, first=512)
    images, targets = images[chosen].float() / 255, targets[chosen]
    source = "CIFAR-10 test split"
except FileNotFoundError:  # no archive: random images, only the figures change
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(512, 3, 32, 32, generator=generator, dtype=torch.float32)
    targets = torch.randint(0, 10, (512,), generator=generator)
    source = "synthetic"
images = (images - images.mean((0, 2, 3), keepdim=True)) / images.std((0, 2, 3), keepdim=True)
torch.set_default_dtype(torch.float32)
torch.manual_seed(0)
runs = {"spatial": rippel_generic(width=0.25, kernel_size=5)}
runs["spectral"] = spectral_parametrize(copy.deepcopy(runs["spatial"]))
snapshots = {name: [runs[name].features[0].weight.detach().clone()] for name in runs}
optimizers = {name: torch.optim.Adam(net.parameters(), lr=3e-3) for name, net in runs.items()}
start = time.perf_counter()
for epoch in range(3):
    order = torch.randperm(len(targets), generator=torch.Generator().manual_seed(epoch))
    for name, net in runs.items():
        for batch in order.split(32):
            optimizers[name].zero_grad()
            F.cross_entropy(net(images[batch]), targets[batch]).backward()
            optimizers[name].step()
        snapshots[name].append(net.features[0].weight.detach().clone())
print(f"{source}: trained both nets for 3 epochs in {time.perf_counter() - start:.1f} s")

# %% tags=["hide-input"]
def rgb(filt):
    """A 3×k×k filter as an RGB image scaled to [0, 1] (symmetric around grey)."""
    return (0.5 + 0.5 * filt / filt.abs().max()).permute(1, 2, 0).clamp(0, 1).numpy()


shown = 6
fig, axes = plt.subplots(4, 2 * shown, figsize=(TEXT_WIDTH, 3.6))
for row, snap in enumerate(snapshots["spectral"]):
    spectra = centered(torch.fft.fft2(snap.double(), norm="ortho")).abs().sum(1)
    for i in range(shown):
        axes[row, 2 * i].imshow(spectra[i].numpy(), cmap="magma")
        axes[row, 2 * i + 1].imshow(rgb(snap[i]))
    axes[row, 0].set_ylabel(f"epoch {row}")
for i in range(shown):
    axes[0, 2 * i].set_title(f"|F f{i}|", fontsize=8)
    axes[0, 2 * i + 1].set_title(f"f{i}", fontsize=8)
for ax in axes.flat:
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("Fig. 3a: first-layer filters of the spectral run over epochs\n"
             "(centred |spectrum| summed over RGB, and the filter)")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Sparsity (Fig. 3b).** For each first-layer filter (one 5×5 slice per input channel),
# sort its 25 squared coordinates and accumulate: the share of the filter's energy held by
# its $m$ largest coordinates, in the pixel basis and in the spectral basis $\theta$, at
# initialisation and after training. A rotation of i.i.d. Gaussian initial filters is
# again i.i.d. Gaussian, so at initialisation the two bases must look alike — the control
# that the measure is fair. Three epochs on 512 images move the first-layer filters only a
# little, so expect the trained curves to stay close to the initial ones here; the results
# page shows the same measure (the energy share of the top quarter of coordinates) after
# every epoch of each run of its CPU reproduction.

# %% tags=["hide-input"]
def energy_curve(filters, basis):
    """Mean over filter slices of the cumulative sorted energy share, for m = 1..k·k."""
    coords = filters.double().flatten(-2).reshape(-1, filters.shape[-1] * filters.shape[-2])
    if basis == "spectral":
        coords = coords @ spectral_basis(filters.shape[-2:])
    energy = coords.pow(2).sort(dim=-1, descending=True).values
    return (energy.cumsum(-1) / energy.sum(-1, keepdim=True)).mean(0).numpy()


curves = {
    ("initial", "spatial"): energy_curve(snapshots["spatial"][0], "spatial"),
    ("initial", "spectral"): energy_curve(snapshots["spatial"][0], "spectral"),
    ("trained (spatial run)", "spatial"): energy_curve(snapshots["spatial"][-1], "spatial"),
    ("trained (spatial run)", "spectral"): energy_curve(snapshots["spatial"][-1], "spectral"),
    ("trained (spectral run)", "spatial"): energy_curve(snapshots["spectral"][-1], "spatial"),
    ("trained (spectral run)", "spectral"): energy_curve(snapshots["spectral"][-1], "spectral"),
}
fig, ax = plt.subplots(figsize=(TEXT_WIDTH, 4))
styles = {"initial": ":", "trained (spatial run)": "--", "trained (spectral run)": "-"}
for (when, basis), curve in curves.items():
    ax.plot(range(1, 26), curve, styles[when], color="C0" if basis == "spatial" else "C3",
            label=f"{when}, {basis} basis")
ax.set_xlabel("m largest coordinates")
ax.set_ylabel("share of filter energy")
ax.set_title("Fig. 3b: energy compaction of first-layer 5×5 filters")
ax.legend(fontsize=9)
plt.show()

# %% tags=["nbval-ignore-output"]
TOP = max(1, round(0.25 * 25))  # the top quarter of a 5×5 filter's coordinates, as in R3
display(pd.DataFrame({f"{when}, {basis}": {"top 3": c[2], f"top {TOP} (a quarter)": c[TOP - 1]}
                      for (when, basis), c in curves.items()}).T)
print(res.wrap("Fig. 3b on this toy run, top-quarter energy share, spectral run in the "
               "spectral basis against spatial run in the pixel basis: "
               + res.compaction_verdict(curves["trained (spatial run)", "spatial"][TOP - 1],
                                        curves["trained (spectral run)", "spectral"][TOP - 1])))

# %% [markdown]
# The same comparison on the runs of the results page
# {doc}`R3_spectral_parameterization_results` (longer training, nets (6) and (7), 3×3 and
# 5×5 filters), read from its result files: after the last epoch, the top-quarter share of
# the runs trained spectrally, in the spectral basis, against that of the runs trained
# spatially, in the pixel basis, mean over seeds.

# %% tags=["hide-input"]
trained = res.final_table(  # the small-scale profiles; the full-data test is at the end
    [r for r in res.records("spectral_parameterization") if r["status"] == "complete"
     and r["params"]["profile"] not in ("pilot", "campaign")],
    params=("profile", "model", "kernel_size", "param", "seed"),
    metrics=("conv1_top25_energy_spatial", "conv1_top25_energy_spectral"),
)
if len(trained):
    cells = trained.groupby(["profile", "model", "kernel_size", "param"])[
        ["conv1_top25_energy_spatial", "conv1_top25_energy_spectral"]].mean()
    by_cell = pd.DataFrame({
        "spatial run, pixel basis": cells.xs("spatial", level="param")[
            "conv1_top25_energy_spatial"],
        "spectral run, spectral basis": cells.xs("spectral", level="param")[
            "conv1_top25_energy_spectral"],
    })
    by_cell["Fig. 3b"] = [res.compaction_verdict(a, b).split(":")[0]
                          for a, b in zip(by_cell.iloc[:, 0], by_cell.iloc[:, 1], strict=True)]
    display(by_cell)
else:
    print("no results of the spectral_parameterization experiment: see R3")

# %% [markdown]
# **Verdict on Fig. 3b.** Rippel et al. write that spectral representations of trained
# filters "tend to be considerably sparser". The rule applied above
# (`spectral.results.compaction_verdict`) calls a difference of more than 5 points of
# top-quarter energy share a difference; the toy run (the line under its table) and every
# run of the results page (the table just above) say whether the spectral filters clear
# it. Where they do not, the paper's proposed mechanism, compact filters that Adam's
# per-coordinate steps can exploit, is not what drives any difference between the two
# parameterizations at these scales; section 7's first step shows the difference that is
# there, Adam's basis dependence.

# %% [markdown]
# **Adam's moments (Fig. 3c).** The paper plots the distribution of momenta across
# parameters and reads off that "in the spectral parametrization considerably fewer
# parameters are updated". Below: Adam's first moment $|m|$ of every first-layer
# coordinate at the end of training, normalised by its layer's root-mean-square, in the
# coordinates each run optimises (pixels for the spatial run, $\theta$ for the spectral
# one). A heavier-tailed distribution with more mass near zero is the paper's "fewer
# parameters updated".

# %% tags=["hide-input"]
moments = {}
for name, net in runs.items():
    conv = net.features[0]
    param = conv.parametrizations.weight.original if is_spectral(conv) else conv.weight
    m = optimizers[name].state[param]["exp_avg"].abs().flatten()
    moments[name] = (m / m.pow(2).mean().sqrt()).numpy()
fig, ax = plt.subplots(figsize=(TEXT_WIDTH, 3.6))
bins = np.logspace(-4, 1.2, 60)
for name, values in moments.items():
    ax.hist(values, bins=bins, histtype="step", lw=1.5, label=f"{name} coordinates")
ax.set_xscale("log")
ax.set_xlabel("|Adam first moment| / RMS over the layer")
ax.set_ylabel("coordinates")
ax.set_title("Fig. 3c: Adam's first moments across first-layer coordinates")
ax.legend()
plt.show()

# %% tags=["nbval-ignore-output"]
for name, values in moments.items():
    print(f"{name:>8}: share of coordinates with |m| < 0.1·RMS: {np.mean(values < 0.1):.3f}")

# %% [markdown]
# ## 9. What it costs
#
# The transform is one real $(hw \times hw)$ matrix product per layer and step (built once
# per kernel size in float64), and the same again for its gradient; an FFT would be slower
# for such tiny sizes and needs the symmetry bookkeeping in autograd. Its cost grows with
# the number of filter weights, not with batch or image size, so relative to the
# convolutions it is small. A quick measurement of one Adam training step (forward,
# backward, update) of net (6), 5×5, width 0.25, batch 64, on this machine (volatile; the
# full comparison, including ResNet-18, is `python benchmarks/parametrize.py`):

# %% tags=["hide-input", "nbval-ignore-output"]
import logging  # noqa: E402

# torch.utils.benchmark imports cpp_extension, which logs a CUDA notice on CPU-only machines
logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
from torch.utils.benchmark import Timer  # noqa: E402

torch.manual_seed(0)
bench = {"spatial": rippel_generic(width=0.25, kernel_size=5)}
bench["spectral"] = spectral_parametrize(copy.deepcopy(bench["spatial"]))
xb, yb = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))


def step_of(net):
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(net(xb), yb).backward()
        optimizer.step()

    return step


timings = {name: [] for name in bench}
for _ in range(3):  # alternate, so that load from other processes hits both alike
    for name, net in bench.items():
        timer = Timer("step()", globals={"step": step_of(net)}, num_threads=1)
        timings[name].append(timer.blocked_autorange(min_run_time=0.3).median)
medians = {name: float(np.median(t)) for name, t in timings.items()}
print({name: f"{1e3 * t:.1f} ms" for name, t in medians.items()})
print(f"ratio spectral/spatial = {medians['spectral'] / medians['spatial']:.3f} "
      f"({os.cpu_count()} CPUs, 1 thread)")

# %% [markdown]
# ## 10. Summary and where the reproduction is
#
# - The spectral coordinates of a real $h\times w$ filter are exactly $hw$ reals: the real
#   parts of the self-conjugate bins and √2-scaled real and imaginary parts of one bin per
#   mirror pair; with the √2 the map to the filter is orthogonal (section 3).
# - Registering the map changes neither the function nor the parameter count (section 4);
#   the gradient in the new coordinates is the DFT of the filter gradient read with the
#   same rule (section 5).
# - Plain SGD, even with momentum and weight decay, then produces the same filters to
#   rounding (section 6), as Rippel et al. state. Adam does not: its coordinate-wise second
#   moments are not rotation-invariant, already visible in its first step (section 7).
# - Any orthogonal basis gives SGD the same filters, a random rotation included
#   (section 6), and any basis other than the pixels changes Adam's. Whether the Fourier
#   basis is the better one for Adam is an empirical question; Fig. 3's panels above show
#   sparsity on a toy run, and {doc}`R3_spectral_parameterization_results` measures the
#   Fig. 5 speed-up on all of CIFAR-10 in three bases (spatial, spectral, random), each at
#   the learning rate its pilot chose, with the command for the paper's scale:
#
# ```bash
# python -m spectral run spectral_parameterization --profile pilot     # lr per basis
# python -m spectral run spectral_parameterization --profile paper --devices cuda:0
# ```
#
# **Exercises.** (1) Replace the √2 by 1 and show that SGD trajectories now differ; which
# coordinates move faster? (2) Adam with a *random* orthogonal $B$ also changes the
# trajectory; does it change the speed? This separates "a different basis" from "the
# Fourier basis". (The random basis is `basis="random"`; its runs on the results page
# answer the question at full data, below.) (3) Which bins of a 4×4 filter are REAL, and
# what does that imply for even-sized filters' Nyquist coordinates?
#
# **Exercise 2 at full data.** The verdicts of {doc}`R3_spectral_parameterization_results`
# on all of CIFAR-10, read here from its result files by the same code
# ({func}`spectral.basis_comparison.verdicts`): (a) spectral against spatial, (b) spectral
# against the random rotation (the exercise), (c) sparsity and movement of the filters.

# %% tags=["hide-input"]
full_data = bc.full_data_runs(res.records("spectral_parameterization", "pilot"),
                              res.records("spectral_parameterization", "campaign"))
for key, text in bc.verdicts(full_data).items():
    print(res.wrap(f"({key}) {text}"))
