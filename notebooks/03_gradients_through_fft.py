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
# # 03 · Gradients through the FFT
#
# Everything spectral in {cite:t}`rippel2015spectral` is trained by back-propagation
# through DFT layers: spectral pooling (Alg. 1, back-propagated by Alg. 2) and filters
# parameterised by their spectrum (§4). Their §2.2 settles the gradient in one line,
#
# $$
# \frac{\partial R}{\partial x} = F^{-1}\!\left(\frac{\partial R}{\partial y}\right),
# \qquad y = F(x), \tag{4}
# $$
#
# and then defers the "intricacy" of conjugate symmetry to two routines,
# REMOVEREDUNDANCY and RECOVERMAP, which live in a supplement that our copy of the paper
# does not contain. The student reproduction {cite:p}`jain2017ecbm` names back-propagation
# into filters parameterised by complex frequency-domain coefficients as one of its four
# main difficulties, without saying how it was resolved.
#
# This chapter makes §2.2 precise and checks every step in float64:
#
# 1. what "the gradient" with respect to a complex tensor is, and which one PyTorch
#    returns {cite:p}`paszke2019pytorch` (finite differences, closed forms);
# 2. eq. (4) as the adjoint of a unitary map — exact for complex $x$, but for real $x$
#    it needs a real part the paper omits;
# 3. why a hand-written backward must use the adjoint of the *same* normalisation;
# 4. `rfft2`, whose backward is **not** `irfft2` of the gradient;
# 5. `irfft2`, the core of spectral parameterisation: the gradient with respect to the
#    half-plane is `rfft2(g)` times a per-column factor $2$/$1$, and *zero* on the
#    imaginary parts of the real (self-conjugate) bins — checked by finite differences on
#    every real coordinate;
# 6. that autograd through `torch.fft` reproduces Rippel's Alg. 2 exactly, so the package
#    needs no hand-written backward.
#
# Conventions (notation page): unitary DFT $F$ = `fft2(·, norm="ortho")`, DC at $[0,0]$,
# mirror of $(k,l)$ is $((-k) \bmod H, (-l) \bmod W)$; all checks use float64/complex128.

# %% tags=["hide-input"]
import math

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.patches import Rectangle

from spectral.checks import check_close, check_true
from spectral.fft import (
    CONJUGATE,
    FREE,
    REAL,
    centered,
    dft_matrix,
    hermitian_part,
    is_hermitian,
    mirror,
    naive_dft2,
    naive_idft2,
    symmetry_pattern,
    uncentered,
)
from spectral.plotting import TEXT_WIDTH, use_book_style

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
use_book_style()

SIZES = [(5, 5), (6, 6), (5, 8), (6, 7)]  # odd, even, odd×even, even×odd (non-square)
CPLX = torch.complex128


def fd_partials(f, z, h=1e-6):
    """Central differences of ``f`` (real output, any shape) w.r.t. every real coordinate of z.

    Returns ``(d_re, d_im)`` of shape ``z.shape + f(z).shape``: the derivatives along the
    real and the imaginary part of each entry (``d_im`` is None for real ``z``).
    """
    z = z.detach()
    flat = z.reshape(-1)
    out_shape = f(z).shape
    units = (1.0, 1j) if z.is_complex() else (1.0,)
    parts = []
    for unit in units:
        d = torch.empty(flat.numel(), *out_shape)
        for j in range(flat.numel()):
            e = torch.zeros_like(flat)
            e[j] = unit * h
            d[j] = (f((flat + e).reshape(z.shape)) - f((flat - e).reshape(z.shape))) / (2 * h)
        parts.append(d.reshape(*z.shape, *out_shape))
    return parts[0], (parts[1] if z.is_complex() else None)


def fd_grad(loss, z, h=1e-6):
    """Finite-difference gradient dL/dRe z + i dL/dIm z of a real scalar loss."""
    d_re, d_im = fd_partials(loss, z, h)
    return d_re if d_im is None else torch.complex(d_re, d_im)


def autograd_grad(loss, z):
    """``z.grad`` after ``loss(z).backward()`` for a fresh leaf copy of ``z``."""
    z = z.detach().clone().requires_grad_(True)
    loss(z).backward()
    return z.grad


def check_all(name, actual, expected, atol=1e-12):
    """One check over a list of tensors of different shapes (e.g. one per size)."""
    flat = lambda ts: torch.cat([torch.as_tensor(t).detach().to(CPLX).reshape(-1) for t in ts])  # noqa: E731
    check_close(name, flat(actual), flat(expected), atol=atol)


# %% [markdown]
# ## 1 · Which gradient? PyTorch's convention for complex tensors
#
# A real loss $L$ of $z = a + ib \in \mathbb C^n$ is never holomorphic, so its gradient
# needs a convention. Three are in use:
#
# * the **real gradient** $\nabla_z L = \partial L/\partial a + i\,\partial L/\partial b$,
#   i.e. $\mathbb C^n$ treated as $\mathbb R^{2n}$;
# * the Wirtinger derivative $\partial L/\partial z = \tfrac12(\partial_a - i\partial_b)L$;
# * the conjugate Wirtinger derivative
#   $\partial L/\partial \bar z = \tfrac12(\partial_a + i\partial_b)L$.
#
# For real $L$: $\nabla_z L = 2\,\partial L/\partial\bar z = 2\,\overline{\partial L/\partial z}$.
# The steepest-descent direction in $\mathbb R^{2n}$ is $-\nabla_z L$. PyTorch's autograd
# note calls `z.grad` the conjugate Wirtinger derivative, while its gradcheck note says
# that backward mode computes *twice* it; the factor is a learning-rate factor, so we
# measure it. Closed forms, with $\partial/\partial\bar z$ treating $z,\bar z$ as
# independent, for $L_1 = \sum \lvert z\rvert^2 = \sum z\bar z$,
# $L_2 = \sum \operatorname{Re}(a z) = \tfrac12\sum (az + \bar a\bar z)$ and the mixed
# (neither holomorphic nor quadratic) $L_3 = \sum \log(1+z\bar z) + \operatorname{Re}(b z^3)$:
#
# | loss | $\partial L/\partial \bar z$ | claim for `z.grad` |
# |---|---|---|
# | $L_1$ | $z$ | $2z$ |
# | $L_2$ | $\bar a/2$ | $\bar a$ |
# | $L_3$ | $z/(1+z\bar z) + \tfrac32\bar b\bar z^2$ | $2z/(1+z\bar z) + 3\bar b\bar z^2$ |
#
# The check compares `z.grad` with central finite differences (step $10^{-6}$) taken
# separately along $\operatorname{Re} z$ and $\operatorname{Im} z$, and with the closed forms.

# %%
z0 = torch.randn(7, dtype=CPLX)
a = torch.randn(7, dtype=CPLX)
b = torch.randn(7, dtype=CPLX)

losses = {
    "Σ|z|²": (lambda z: (z.abs() ** 2).sum(), 2 * z0),
    "Σ Re(a z)": (lambda z: (a * z).real.sum(), a.conj()),
    "Σ log(1+|z|²) + Re(b z³)": (
        lambda z: torch.log1p(z.abs() ** 2).sum() + (b * z**3).real.sum(),
        2 * z0 / (1 + z0.abs() ** 2) + 3 * b.conj() * z0.conj() ** 2,
    ),
}
for name, (loss, closed_form) in losses.items():
    g_auto = autograd_grad(loss, z0)
    check_close(f"{name}: z.grad == ∂L/∂Re z + i ∂L/∂Im z (FD)", g_auto, fd_grad(loss, z0),
                atol=1e-8)
    check_close(f"{name}: z.grad == closed form (= 2 ∂L/∂z̄)", g_auto, closed_form)

# The same gradient as for a real (..., 2) parameter viewed as complex:
p = torch.view_as_real(z0).clone().requires_grad_(True)
losses["Σ log(1+|z|²) + Re(b z³)"][0](torch.view_as_complex(p)).backward()
_ = check_close(
    "view_as_real parameter: p.grad == view_as_real(z.grad)",
    p.grad,
    torch.view_as_real(autograd_grad(losses["Σ log(1+|z|²) + Re(b z³)"][0], z0)),
)

# %% [markdown]
# So `z.grad` $= \partial L/\partial\operatorname{Re}z + i\,\partial L/\partial\operatorname{Im}z
# = 2\,\partial L/\partial\bar z$, and a complex parameter behaves exactly like the pair
# of real parameters `view_as_real(z)`: SGD and Adam updates agree with the real-valued
# picture. The figure shows why the conjugate matters: on the contours of
# $L(z) = \lvert z - a\rvert^2 + \operatorname{Re}(b z^2)$, $-$`z.grad` is normal to the
# level sets, whereas the unconjugated Wirtinger derivative $\partial L/\partial z$
# (what a naive "complex chain rule" produces) points elsewhere.

# %% tags=["hide-input"]
a_s, b_s = 0.5 + 0.3j, 0.6 * complex(math.cos(math.pi / 5), math.sin(math.pi / 5))
L_scalar = lambda z: (z - a_s).abs() ** 2 + (b_s * z**2).real  # noqa: E731
re, im = torch.meshgrid(torch.linspace(-1, 2, 200), torch.linspace(-1.2, 1.8, 200), indexing="xy")
zq = torch.complex(*torch.meshgrid(torch.linspace(-0.6, 1.6, 7), torch.linspace(-0.8, 1.4, 7),
                                   indexing="xy"))
gq = autograd_grad(lambda z: L_scalar(z).sum(), zq)
wirtinger = gq.conj() / 2  # ∂L/∂z = conj(∂L/∂z̄) for real L


def unit(v, length=0.2):
    return length * v / v.abs().clamp_min(1e-12)


fig, ax = plt.subplots(figsize=(5.6, 5))
cs = ax.contour(re, im, L_scalar(torch.complex(re, im)), levels=14, cmap="viridis",
                linewidths=1)
for v, color, label in [(-gq, "tab:blue", "−z.grad (PyTorch)"),
                        (-wirtinger, "tab:red", "−∂L/∂z (unconjugated Wirtinger)")]:
    d = unit(v)
    ax.quiver(zq.real, zq.imag, d.real, d.imag, color=color, angles="xy", scale_units="xy",
              scale=1, width=0.006, label=label)
ax.set(xlabel="Re z", ylabel="Im z", aspect="equal",
       title="Level sets of L(z) = |z − a|² + Re(b z²)\nand unit descent directions")
ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
plt.show()

# %% [markdown]
# ## 2 · Eq. (4): the backward of a unitary DFT is its inverse
#
# Identify $\mathbb C^n$ with $\mathbb R^{2n}$ and use the real inner product
# $\langle u, v\rangle = \operatorname{Re}(u^H v)$. The real gradient of §1 is the Riesz
# representer of the differential: $dR = \langle \nabla_z R, dz\rangle$
# (indeed $\operatorname{Re}(\overline{(\partial_a + i\partial_b)R}\,(da + i\,db)) =
# \partial_a R\,da + \partial_b R\,db$). For a complex-linear $y = Ax$,
#
# $$
# \begin{gathered}
# dR = \langle \nabla_y R, A\,dx\rangle = \operatorname{Re}\big((\nabla_y R)^H A\,dx\big)
#    = \langle A^H \nabla_y R, dx\rangle\\
# \Longrightarrow\quad \nabla_x R = A^H\,\nabla_y R .
# \end{gathered}
# $$
#
# With $A = F$ unitary, $F^H = F^{-1}$: this is eq. (4), and backward of
# `fft2(·, norm="ortho")` is `ifft2(·, norm="ortho")`; as a dense map, $F(x) = D_H x D_W$
# has adjoint $G \mapsto \bar D_H G \bar D_W$ (`naive_idft2`).
#
# Two refinements the paper glosses over:
#
# * **Real input.** The paper states eq. (4) for $x\in\mathbb R^{M\times N}$ (and types
#   $R$ as a function on $\mathbb R^{M\times N}$, though it is applied to the complex $y$).
#   Then $dx$ is real, $\langle v, dx\rangle = \langle \operatorname{Re} v, dx\rangle$, and
#   $\nabla_x R = \operatorname{Re} F^{-1}(\nabla_y R)$. The imaginary part of
#   $F^{-1}(\nabla_y R)$ vanishes only if $\nabla_y R$ is Hermitian, which an arbitrary
#   loss of $y$ does not guarantee.
# * **Convention.** Eq. (4) holds for the (conjugate) real gradient. In the unconjugated
#   Wirtinger convention the chain rule reads $\partial R/\partial x = F^T\,\partial R/\partial y
#   = F(\partial R/\partial y)$ ($F$ is symmetric) — the forward transform, not the inverse.
#   The paper's "this gradient is conjugated" is the right instinct.
#
# Test loss: $R(y) = \sum \operatorname{Re}(c\odot y) + \sum w\odot\lvert y\rvert^2$ with
# random complex $c$ and positive $w$, so $\nabla_y R = \bar c + 2 w\odot y$.

# %%
res = {k: ([], []) for k in ["y.grad", "ifft2", "dense", "fd", "real", "real fd", "wirt"]}
imag_parts, herm_imag = [], []
for H, W in SIZES:
    c = torch.randn(H, W, dtype=CPLX)
    w = torch.rand(H, W) + 0.5
    R = lambda y, c=c, w=w: (c * y).real.sum() + (w * y.abs() ** 2).sum()  # noqa: E731

    x = torch.randn(H, W, dtype=CPLX, requires_grad=True)
    y = torch.fft.fft2(x, norm="ortho")
    y.retain_grad()
    R(y).backward()
    for key, act, exp in [
        ("y.grad", y.grad, c.conj() + 2 * w * y.detach()),
        ("ifft2", x.grad, torch.fft.ifft2(y.grad, norm="ortho")),
        ("dense", x.grad, dft_matrix(H).conj() @ y.grad @ dft_matrix(W).conj()),
        ("fd", x.grad, fd_grad(lambda v, R=R: R(torch.fft.fft2(v, norm="ortho")), x)),
        ("wirt", x.grad.conj() / 2, naive_dft2(y.grad.conj() / 2)),
    ]:
        res[key][0].append(act)
        res[key][1].append(exp)

    xr = torch.randn(H, W, requires_grad=True)
    yr = torch.fft.fft2(xr, norm="ortho")
    yr.retain_grad()
    R(yr).backward()
    full = torch.fft.ifft2(yr.grad, norm="ortho")
    res["real"][0].append(xr.grad)
    res["real"][1].append(full.real)
    res["real fd"][0].append(xr.grad)
    res["real fd"][1].append(fd_grad(lambda v, R=R: R(torch.fft.fft2(v, norm="ortho")), xr))
    imag_parts.append(full.imag.abs().max())

    # A loss with a symmetric weight has a Hermitian gradient: then eq. (4) is real.
    rows, cols = mirror(H, W)
    w_sym = w + w[rows[:, None], cols]
    yh = torch.fft.fft2(xr.detach(), norm="ortho").requires_grad_(True)
    (w_sym * yh.abs() ** 2).sum().backward()
    herm_imag.append((is_hermitian(yh.grad, 1e-12), torch.fft.ifft2(yh.grad, norm="ortho").imag))

sizes = ", ".join(f"{H}×{W}" for H, W in SIZES)
print(f"sizes: {sizes}")
check_all("y.grad == c̄ + 2w·y (closed form)", *res["y.grad"])
check_all("complex x: x.grad == ifft2(y.grad, ortho)  [eq. 4]", *res["ifft2"])
check_all("complex x: x.grad == D̄_H · y.grad · D̄_W (dense adjoint)", *res["dense"])
check_all("complex x: x.grad == finite differences", *res["fd"], atol=1e-8)
check_all("Wirtinger form: ∂R/∂x == F(∂R/∂y), not F⁻¹", *res["wirt"])
check_all("real x: x.grad == Re ifft2(y.grad)", *res["real"])
check_all("real x: x.grad == finite differences", *res["real fd"], atol=1e-8)
check_true(
    f"real x: Im ifft2(y.grad) is NOT negligible (min over sizes {min(imag_parts):.2f})",
    min(imag_parts) > 0.1,
)
check_true("symmetric weight: y.grad is Hermitian", all(h for h, _ in herm_imag))
check_all("symmetric weight: Im ifft2(y.grad) == 0", [i for _, i in herm_imag],
          [torch.zeros_like(i) for _, i in herm_imag])

# %% [markdown]
# ## 3 · Non-unitary norms: the adjoint swaps "forward" and "backward"
#
# `torch.fft` offers three scalings. With $n = HW$: `fft2(norm="backward")` (the default)
# is $\sqrt n\,F$, `"ortho"` is $F$, `"forward"` is $F/\sqrt n$; `ifft2` with the same
# names is $F^H/\sqrt n$, $F^H$, $\sqrt n\,F^H$. The adjoint of $c\,F$ is $c\,F^H$, so
#
# $$
# \begin{aligned}
# \big(\texttt{fft2}(\cdot,\texttt{"backward"})\big)^* &= \sqrt n\,F^H
# = n\cdot\texttt{ifft2}(\cdot,\texttt{"backward"})\\
# &= \texttt{ifft2}(\cdot,\texttt{"forward"}),
# \end{aligned}
# $$
#
# and in general the adjoint of `fft2(norm=m)` is `ifft2(norm=swap(m))` with
# forward ↔ backward and ortho fixed. A hand-written backward that calls
# `ifft2(grad)` with the *same* norm as its forward is wrong by a factor $n^{\pm1}$ unless
# the norm is `"ortho"`. We check autograd against these adjoints, then show that a custom
# `autograd.Function` with the mismatched scaling fails `gradcheck`.

# %%
SWAP = {"backward": "forward", "ortho": "ortho", "forward": "backward"}
act, exp_swap, act_bw, exp_bw = [], [], [], []
for H, W in SIZES:
    for norm in SWAP:
        G = torch.randn(H, W, dtype=CPLX)
        g = autograd_grad(lambda v, G=G, m=norm: (G.conj() * torch.fft.fft2(v, norm=m)).real.sum(),
                          torch.randn(H, W, dtype=CPLX))
        act.append(g)
        exp_swap.append(torch.fft.ifft2(G, norm=SWAP[norm]))
        if norm == "backward":
            act_bw.append(g)
            exp_bw.append(H * W * torch.fft.ifft2(G))
check_all("autograd of fft2(norm=m) == ifft2(norm=swap(m)), all m", act, exp_swap)
check_all("autograd of fft2 (default norm) == HW · ifft2 (default norm)", act_bw, exp_bw)


class HandFFT2(torch.autograd.Function):
    """fft2 with the default norm and a hand-written backward using ``bwd_norm``."""

    @staticmethod
    def forward(ctx, x, bwd_norm):
        ctx.bwd_norm = bwd_norm
        return torch.fft.fft2(x)

    @staticmethod
    def backward(ctx, grad):
        return torch.fft.ifft2(grad, norm=ctx.bwd_norm), None


xg = torch.randn(5, 8, dtype=CPLX, requires_grad=True)
ok_same = torch.autograd.gradcheck(lambda v: HandFFT2.apply(v, "backward"), (xg,),
                                   raise_exception=False)
ok_swap = torch.autograd.gradcheck(lambda v: HandFFT2.apply(v, "forward"), (xg,))
check_true("hand backward ifft2(grad) with the forward's norm FAILS gradcheck", not ok_same)
check_true("hand backward ifft2(grad, norm='forward') passes gradcheck", ok_swap)

# %% [markdown]
# The size of the error grows with the map: below, the ratio of the norm of the naive
# hand-written gradient (`ifft2` with the forward's `norm`) to the true one, for square
# maps. Under `"ortho"` the two coincide, which is one reason the book uses it everywhere.

# %%
ns = [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
ratios = {m: [] for m in SWAP}
for n in ns:
    G = torch.randn(n, n, dtype=CPLX)
    for m in SWAP:
        true = autograd_grad(lambda v, G=G, m=m: (G.conj() * torch.fft.fft2(v, norm=m)).real.sum(),
                             torch.zeros(n, n, dtype=CPLX))
        ratios[m].append(torch.linalg.norm(torch.fft.ifft2(G, norm=m)) / torch.linalg.norm(true))
hw = torch.tensor([n * n for n in ns], dtype=torch.float64)
expected_log = {"backward": -torch.log(hw), "ortho": torch.zeros_like(hw), "forward": torch.log(hw)}
label = {"backward": "1/(HW)", "ortho": "1", "forward": "HW"}
for m in SWAP:
    check_close(f"norm={m!r}: naive/true gradient ratio == {label[m]}",
                torch.log(torch.tensor(ratios[m])), expected_log[m], atol=1e-10)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(TEXT_WIDTH, 3.8))
for m, style in zip(SWAP, ["o-", "s-", "^-"], strict=True):
    ax.loglog(hw, ratios[m], style, label=f'norm="{m}"', ms=4)
ax.set(xlabel="map size HW", ylabel="‖ifft2(G, norm=m)‖ / ‖true gradient‖",
       title="Hand-written backward with the forward's norm")
ax.legend()
ax.grid(True, which="both", alpha=0.3)
plt.show()

# %% [markdown]
# ## 4 · `rfft2`: the backward is not `irfft2` of the gradient
#
# `rfft2` keeps the half-plane of columns $0..\lfloor W/2\rfloor$. As a composition of
# maps whose adjoints we know, with $\iota$ the embedding $\mathbb R^{H\times W}\to
# \mathbb C^{H\times W}$ and $C$ the column crop,
#
# $$
# \texttt{rfft2} = C\,F\,\iota
# \quad\Longrightarrow\quad
# \texttt{rfft2}^* = \iota^*\,F^H\,C^* = \operatorname{Re}\circ F^{-1}\circ P,
# $$
#
# where $P = C^*$ zero-pads the half-plane back to $H\times W$ and $\iota^* =
# \operatorname{Re}$. Since $\operatorname{Re} F^{-1}(A) = F^{-1}(\texttt{hermitian\_part}(A))$
# and the Hermitian part of a zero-padded half-plane holds $G/2$ at interior bins,
# $\bar G/2$ at their mirrors and the Hermitian projection of the self-mirrored columns
# $0$ and $W/2$ — which is exactly how `irfft2` completes a half-plane (§5) — we get
#
# $$
# \begin{gathered}
# \nabla_x R = \operatorname{Re} F^{-1}(P\,G) = \texttt{irfft2}(G \oslash D),\\
# D[\cdot, l] = \begin{cases} 2 & 1 \le l \le \lceil W/2\rceil - 1 \ \ \text{(interior columns)}\\
# 1 & l = 0,\ \text{and } l = W/2 \text{ for even } W. \end{cases}
# \end{gathered}
# $$
#
# `irfft2(G)` itself counts every interior bin twice: the "obvious" backward is wrong.

# %%
def column_factor(w):
    """D of the text: 2 on the interior half-plane columns 1..ceil(w/2)-1, else 1."""
    d = torch.ones(w // 2 + 1)
    d[1 : w - w // 2] = 2.0
    return d


def pad_half(Z, w):
    """P: zero-pad a half-plane (H, w//2+1) to the full (H, w)."""
    full = torch.zeros(*Z.shape[:-1], w, dtype=CPLX)
    full[..., : w // 2 + 1] = Z
    return full


keys = ["re-ifft2-pad", "herm", "irfft2/D", "dense", "fd"]
res = {k: ([], []) for k in keys}
naive_err = []
for H, W in SIZES:
    Wh = W // 2 + 1
    c = torch.randn(H, Wh, dtype=CPLX)
    w = torch.rand(H, Wh) + 0.5
    R = lambda y, c=c, w=w: (c * y).real.sum() + (w * y.abs() ** 2).sum()  # noqa: E731
    x = torch.randn(H, W, requires_grad=True)
    y = torch.fft.rfft2(x, norm="ortho")
    y.retain_grad()
    R(y).backward()
    G = y.grad
    pairs = {
        "re-ifft2-pad": (x.grad, torch.fft.ifft2(pad_half(G, W), norm="ortho").real),
        "herm": (x.grad, torch.fft.ifft2(hermitian_part(pad_half(G, W)), norm="ortho")),
        "irfft2/D": (x.grad, torch.fft.irfft2(G / column_factor(W), s=(H, W), norm="ortho")),
        "dense": (x.grad, naive_idft2(pad_half(G, W)).real),
        "fd": (x.grad, fd_grad(lambda v, R=R: R(torch.fft.rfft2(v, norm="ortho")), x)),
    }
    for k, (u, v) in pairs.items():
        res[k][0].append(u)
        res[k][1].append(v)
    wrong = torch.fft.irfft2(G, s=(H, W), norm="ortho")
    naive_err.append(float(torch.linalg.norm(wrong - x.grad) / torch.linalg.norm(x.grad)))

check_all("rfft2 backward == Re ifft2(P G)", *res["re-ifft2-pad"])
check_all("Re ifft2(P G) == ifft2(hermitian_part(P G))", *res["herm"])
check_all("rfft2 backward == irfft2(G / D)", *res["irfft2/D"])
check_all("rfft2 backward == Re of dense adjoint D̄_H (P G) D̄_W", *res["dense"])
check_all("rfft2 backward == finite differences", *res["fd"], atol=1e-8)
print("relative error of the naive backward irfft2(G):\n   "
      + ", ".join(f"{H}×{W}: {e:.2f}" for (H, W), e in zip(SIZES, naive_err, strict=True)))
check_true("naive backward irfft2(G) is wrong on every size (rel. error > 0.2)",
           min(naive_err) > 0.2)

# %% [markdown]
# ## 5 · `irfft2`: factor 2, factor 1, and the self-conjugate bins
#
# This is the map used to parameterise a real filter by its half-plane spectrum
# $Z\in\mathbb C^{H\times(\lfloor W/2\rfloor+1)}$: $x = \texttt{irfft2}(Z, s=(H,W))$.
# $Z$ has $2H(\lfloor W/2\rfloor+1)$ real coordinates but $x$ only $HW$, so some
# coordinates must be redundant or dead. Which, and what gradient do they get?
#
# ### 5.1 What `irfft2` computes on an arbitrary (non-Hermitian) half-plane
#
# `irfft2` is an inverse complex DFT along the rows followed by a complex-to-real inverse
# DFT along the last dimension. The latter reads a length-$(\lfloor W/2\rfloor+1)$ vector
# $v$ as the half of a Hermitian spectrum:
# $x[n] = \tfrac{1}{\sqrt W}\big(\operatorname{Re} v_0 + 2\sum_{\text{interior } l}
# \operatorname{Re}(v_l e^{2\pi i ln/W}) + \operatorname{Re}(v_{W/2}(-1)^n)\big)
# = \operatorname{Re}\big[\tfrac1{\sqrt W}\sum_l D_l v_l e^{2\pi i ln/W}\big]$, where the
# $v_{W/2}$ term exists for even $W$ only.
# The row transform commutes with the column-wise $P$ and $D$, so
#
# \begin{align}
# \texttt{irfft2}(Z) &= \operatorname{Re} F^{-1}\big(P(D\odot Z)\big) \notag\\
#   &= F^{-1}\big(\texttt{hermitian\_part}(P(D\odot Z))\big). \tag{$\ast$}
# \end{align}
#
# Consequences: interior bins act twice (themselves and, conjugated, their mirror);
# columns $0$ and $W/2$ enter only through their 1-D Hermitian part
# $(Z[k,l] + \overline{Z[-k,l]})/2$; in particular the imaginary parts of the four (or
# fewer) REAL bins are ignored. The check below compares `irfft2` with $(\ast)$ built
# from dense DFT matrices, and with `irfft2` after projecting columns $0$ and $W/2$.
#
# ```{warning}
# This is how the CPU backend treats non-Hermitian input, verified here. PyTorch does not
# document it, and [pytorch/pytorch#154496](https://github.com/pytorch/pytorch/issues/154496)
# reports CUDA results that differ for some sizes. Parameters whose forward depends on
# such backend details should be kept Hermitian-consistent (see 5.4).
# ```

# %%
def project_self_mirrored_columns(Z, w):
    """Replace columns 0 and (even w) w/2 of a half-plane by their 1-D Hermitian part."""
    Zp = Z.clone()
    rows = mirror(Z.shape[-2], 1)[0]
    for col in {0, w // 2} if w % 2 == 0 else {0}:
        Zp[..., col] = (Z[..., col] + Z[..., rows, col].conj()) / 2
    return Zp


res = {k: ([], []) for k in ["dense", "proj", "imreal"]}
for H, W in SIZES:
    Z = torch.randn(H, W // 2 + 1, dtype=CPLX)
    x = torch.fft.irfft2(Z, s=(H, W), norm="ortho")
    half_pattern = symmetry_pattern(H, W)[:, : W // 2 + 1]
    Z_im = Z + 1j * torch.randn(H, W // 2 + 1) * (half_pattern == REAL)
    for k, v in [
        ("dense", naive_idft2(pad_half(column_factor(W) * Z, W)).real),
        ("proj", torch.fft.irfft2(project_self_mirrored_columns(Z, W), s=(H, W), norm="ortho")),
        ("imreal", torch.fft.irfft2(Z_im, s=(H, W), norm="ortho")),
    ]:
        res[k][0].append(x)
        res[k][1].append(v)
check_all("irfft2(Z) == Re F⁻¹(P(D⊙Z)) (dense matrices)  [(∗)]", *res["dense"])
check_all("irfft2(Z) == irfft2(Hermitian projection of columns 0, W/2)", *res["proj"])
check_all("irfft2 ignores Im Z at REAL bins", *res["imreal"])

# %% [markdown]
# ### 5.2 The gradient: $\nabla_Z L = D\odot\texttt{rfft2}(g)$
#
# Take adjoints in $(\ast)$ right to left: $\operatorname{Re}^* = \iota$, $(F^{-1})^* = F$,
# $P^* = C$, $D^* = D$. With $g = \nabla_x L$,
#
# $$
# \nabla_Z L = D\odot C\,F\,\iota(g) = D\odot\texttt{rfft2}(g).
# $$
#
# Interior columns get **twice** `rfft2(g)` (each coefficient stands for two bins of the
# full spectrum); columns $0$ and $W/2$ get it once. Since $g$ is real, `rfft2(g)` is real
# at the REAL bins, so the imaginary parts there get **zero** gradient, in agreement with
# 5.1. This is PyTorch's built-in backward of `irfft2` (it doubles columns
# $1..W-\lfloor W/2\rfloor-1$ of `rfft2(grad)`). Test loss:
# $L = \sum u\odot x + \tfrac12\sum x^2$, so $g = u + x$; the reference is the finite
# difference along every real coordinate of $Z$.

# %%
res = {k: ([], []) for k in ["formula", "dense", "fd", "imreal"]}
no_d_ratio = []
for H, W in SIZES:
    Z = torch.randn(H, W // 2 + 1, dtype=CPLX)
    u = torch.randn(H, W)

    def loss(Z, u=u, s=(H, W)):
        x = torch.fft.irfft2(Z, s=s, norm="ortho")
        return (u * x).sum() + 0.5 * (x**2).sum()

    grad = autograd_grad(loss, Z)
    g = u + torch.fft.irfft2(Z, s=(H, W), norm="ortho")
    D = column_factor(W)
    real_bins = symmetry_pattern(H, W)[:, : W // 2 + 1] == REAL
    for k, (p_, q_) in {
        "formula": (grad, D * torch.fft.rfft2(g, norm="ortho")),
        "dense": (grad, D * naive_dft2(g)[:, : W // 2 + 1]),
        "fd": (grad, fd_grad(loss, Z)),
        "imreal": (grad.imag[real_bins], torch.zeros(int(real_bins.sum()))),
    }.items():
        res[k][0].append(p_)
        res[k][1].append(q_)
    # a hand-written backward without D ("eq. 4 on the half-plane")
    interior = D == 2
    if interior.any():
        no_d = torch.fft.rfft2(g, norm="ortho")
        no_d_ratio.append((no_d[:, interior] / grad[:, interior]).real)
check_all("irfft2 backward == D ⊙ rfft2(g)", *res["formula"])
check_all("irfft2 backward == D ⊙ C(D_H g D_W) (dense)", *res["dense"])
check_all("irfft2 backward == finite differences on every Re/Im coordinate", *res["fd"],
          atol=1e-8)
check_all("Im of the gradient at REAL bins == 0", *res["imreal"])
check_all("rfft2(g) without D is exactly half the gradient on interior columns", no_d_ratio,
          [torch.full_like(r, 0.5) for r in no_d_ratio])

# %% [markdown]
# ### 5.3 Per-coordinate factors, measured
#
# For every real coordinate of $Z$ we compute $\partial x/\partial(\cdot)$ by finite
# differences and ask how many bins of the full spectrum $F(x)$ it moves, counted as
# $\lVert F(\partial x/\partial\cdot)\rVert_1$: an interior coefficient moves its own bin
# and the mirror (1 + 1 = 2); a coefficient in column 0 or $W/2$ moves its bin and its
# mirror by one half each (½ + ½ = 1, or 1 for a REAL bin); the imaginary part of a REAL
# bin moves nothing (0). These are exactly the factors of $D$ (and zero), so the gradient
# factor of each coordinate equals the number of spectral bins it stands for. The same
# finite-difference Jacobian shows the mirror pairs $(k,0), (-k,0)$ acting through their
# average: $\partial x/\partial\operatorname{Re}Z[k,0] =
# \partial x/\partial\operatorname{Re}Z[-k,0]$ and $\partial x/\partial\operatorname{Im}Z[k,0]
# = -\partial x/\partial\operatorname{Im}Z[-k,0]$.
# Finally the rank of the Jacobian is $HW = \#\mathrm{REAL} + 2\,\#\mathrm{FREE}$: `irfft2`
# reaches every real map, and the remaining $2H(\lfloor W/2\rfloor+1) - HW$ coordinates
# span its null space.

# %%
factor_maps = {}
res = {k: ([], []) for k in ["re", "im", "pair_re", "pair_im"]}
ranks = []
for H, W in SIZES:
    Wh = W // 2 + 1
    Z = torch.randn(H, Wh, dtype=CPLX)
    J_re, J_im = fd_partials(lambda v, s=(H, W): torch.fft.irfft2(v, s=s, norm="ortho"), Z)
    f_re = torch.fft.fft2(J_re, norm="ortho").abs().sum(dim=(-2, -1))
    f_im = torch.fft.fft2(J_im, norm="ortho").abs().sum(dim=(-2, -1))
    pat = symmetry_pattern(H, W)[:, :Wh]
    D = column_factor(W).expand(H, Wh)
    res["re"][0].append(f_re)
    res["re"][1].append(D)
    res["im"][0].append(f_im)
    res["im"][1].append(D * (pat != REAL))
    factor_maps[(H, W)] = (f_re, f_im, pat)
    rows = mirror(H, 1)[0]
    for col in {0, W // 2} if W % 2 == 0 else {0}:
        res["pair_re"][0].append(J_re[:, col])
        res["pair_re"][1].append(J_re[rows, col])
        res["pair_im"][0].append(J_im[:, col])
        res["pair_im"][1].append(-J_im[rows, col] * (pat[:, col] != REAL)[:, None, None])
    J = torch.cat([J_re.reshape(H * Wh, -1), J_im.reshape(H * Wh, -1)])
    n_free = int((symmetry_pattern(H, W) == FREE).sum())
    n_real = int((symmetry_pattern(H, W) == REAL).sum())
    ranks.append((int(torch.linalg.matrix_rank(J, atol=1e-6)), H * W, n_real + 2 * n_free))

check_all("‖F ∂x/∂Re Z‖₁ == D (2 interior, 1 on columns 0, W/2)", *res["re"], atol=1e-8)
check_all("‖F ∂x/∂Im Z‖₁ == D, but 0 at REAL bins", *res["im"], atol=1e-8)
check_all("column pairs: ∂x/∂Re Z[k,l] == ∂x/∂Re Z[−k,l]  (l = 0, W/2)", *res["pair_re"],
          atol=1e-8)
check_all("column pairs: ∂x/∂Im Z[k,l] == −∂x/∂Im Z[−k,l] (l = 0, W/2)", *res["pair_im"],
          atol=1e-8)
for (H, W), (rank, hw_, dof) in zip(SIZES, ranks, strict=True):
    check_true(f"{H}×{W}: rank of FD Jacobian = {rank} = HW = #REAL + 2·#FREE = {dof};"
               f" null space dim {2 * H * (W // 2 + 1) - rank}", rank == hw_ == dof)

# %% [markdown]
# The measured factor maps; letters mark `symmetry_pattern` restricted to the half-plane
# (F = FREE, R = REAL, C = CONJUGATE: the partner of a FREE bin that `rfft2` also stores,
# in column 0 or $W/2$). Red frames mark REAL bins.

# %% tags=["hide-input"]
letters = {FREE: "F", REAL: "R", CONJUGATE: "C"}
fig, axes = plt.subplots(2, len(SIZES), figsize=(TEXT_WIDTH, 5.2),
                         gridspec_kw={"width_ratios": [W // 2 + 1 for _, W in SIZES]})
for j, (H, W) in enumerate(SIZES):
    f_re, f_im, pat = factor_maps[(H, W)]
    for i, (fmap, part) in enumerate([(f_re, "Re Z"), (f_im, "Im Z")]):
        ax = axes[i, j]
        annot = np.array([[f"{fmap[r, c]:.0f}\n{letters[int(pat[r, c])]}"
                           for c in range(W // 2 + 1)] for r in range(H)])
        sns.heatmap(fmap.numpy(), ax=ax, vmin=0, vmax=2, cmap="viridis", cbar=False,
                    annot=annot, fmt="", annot_kws={"fontsize": 8}, linewidths=0.5,
                    linecolor="white")
        for r, c in (pat == REAL).nonzero().tolist():
            ax.add_patch(Rectangle((c, r), 1, 1, fill=False, ec="tab:red", lw=2))
        ax.set_title(f"{H}×{W}, {part}", fontsize=10)
        ax.set(xlabel="column l" if i else "", ylabel="row k" if j == 0 else "")
fig.suptitle("Gradient factor of irfft2 per half-plane coordinate (finite differences)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 5.4 The null space, and what the gradient does in column 0
#
# In columns $0$ and $W/2$ write $Z = Z_h + Z_a$, Hermitian plus anti-Hermitian part
# along the column. By 5.1, $x$ depends on $Z_h$ only; by 5.2 the gradient is
# $\texttt{rfft2}(g)$ there, which is Hermitian along those columns:
# $\nabla_{Z[-k,0]}L = \overline{\nabla_{Z[k,0]}L}$, both equal to the full-spectrum
# gradient of their own bin. So a gradient step changes a mirror pair consistently, and
# $Z_a$ (including $\operatorname{Im}Z$ at REAL bins) receives exactly zero gradient and
# keeps its initial value forever (or decays to zero under weight decay): harmless on the
# CPU backend, but wasted parameters and a forward pass that relies on the undocumented
# projection of 5.1. Initialise spectral parameters as `rfft2` of a real map (then
# $Z_a = 0$) or project once with 5.1.

# %%
res = {k: ([], []) for k in ["null", "orth", "herm"]}
for H, W in SIZES:
    Wh = W // 2 + 1
    Z = torch.randn(H, Wh, dtype=CPLX)
    A = torch.randn(H, Wh, dtype=CPLX)
    N = torch.zeros_like(A)
    for col in {0, W // 2} if W % 2 == 0 else {0}:
        N[:, col] = A[:, col] - project_self_mirrored_columns(A, W)[:, col]  # anti-Hermitian part
    u = torch.randn(H, W)
    grad = autograd_grad(
        lambda v, u=u, s=(H, W): (u * torch.fft.irfft2(v, s=s, norm="ortho")).sum(), Z
    )
    rows = mirror(H, 1)[0]
    x0 = torch.fft.irfft2(Z, s=(H, W), norm="ortho")
    res["null"][0].append(torch.fft.irfft2(Z + N, s=(H, W), norm="ortho"))
    res["null"][1].append(x0)
    res["orth"][0].append((grad.conj() * N).real.sum())
    res["orth"][1].append(torch.zeros(()))
    for col in {0, W // 2} if W % 2 == 0 else {0}:
        res["herm"][0].append(grad[:, col])
        res["herm"][1].append(grad[rows, col].conj())
check_all("anti-Hermitian column parts are in the null space of irfft2", *res["null"])
check_all("the gradient is orthogonal to that null space", *res["orth"])
check_all("gradient columns 0, W/2 are Hermitian: ∇Z[−k,l] == conj ∇Z[k,l]", *res["herm"])

# %% [markdown]
# ### 5.5 `gradcheck` for the four transforms
#
# `torch.autograd.gradcheck` perturbs real and imaginary parts of complex inputs
# separately, so it is an independent test of all of the above. Float64, all sizes,
# `norm="ortho"`; for `irfft2` the input is a random, non-Hermitian half-plane.

# %%
gc = torch.autograd.gradcheck
complex_map = lambda H, W: torch.randn(H, W, dtype=CPLX)  # noqa: E731
ops = {
    "fft2": (lambda v: torch.fft.fft2(v, norm="ortho"), complex_map),
    "ifft2": (lambda v: torch.fft.ifft2(v, norm="ortho"), complex_map),
    "rfft2": (lambda v: torch.fft.rfft2(v, norm="ortho"), lambda H, W: torch.randn(H, W)),
}
for name, (fn, make) in ops.items():
    passed = all(gc(fn, (make(H, W).requires_grad_(True),)) for H, W in SIZES)
    check_true(f"gradcheck {name}: {sizes}", passed)
passed = all(
    gc(lambda v, s=(H, W): torch.fft.irfft2(v, s=s, norm="ortho"),
       (torch.randn(H, W // 2 + 1, dtype=CPLX, requires_grad=True),))
    for H, W in SIZES
)
check_true(f"gradcheck irfft2 (non-Hermitian input): {sizes}", passed)

# %% [markdown]
# ## 6 · Algorithm 2 is what autograd already does
#
# Spectral pooling (Alg. 1) maps $x\in\mathbb R^{H\times W}$ to $\hat x\in\mathbb
# R^{h\times w}$ by cropping the central $h\times w$ block of the centred spectrum. For
# **odd** $h, w$ the block is symmetric about DC, hence Hermitian, and no
# TREATCORNERCASES is needed (even sizes are the subject of the spectral-pooling chapter).
# Alg. 2 back-propagates by
#
# 1. $\hat z \leftarrow F(\partial R/\partial\hat x)$;
# 2. $\hat z \leftarrow$ REMOVEREDUNDANCY($\hat z$) — keep the non-redundant half-plane,
#    i.e. `rfft2`;
# 3. $z \leftarrow$ PADSPECTRUM($\hat z$, $H\times W$) — zero-pad (adjoint of the crop);
# 4. $z \leftarrow$ RECOVERMAP($z$) — rebuild the full spectrum from the half by conjugate
#    symmetry (fill each CONJUGATE bin with the conjugate of its FREE partner);
# 5. $\partial R/\partial x \leftarrow F^{-1}(z)$.
#
# We implement it literally and compare with autograd through two forward
# implementations: the paper's full-plane one (`fft2` → `fftshift` → crop → `ifft2` →
# real part) and a half-plane one (`rfft2` → crop → `irfft2`). In the half-plane form the
# factor treatment of §5 *is* RECOVERMAP: the backward of `irfft2` doubles the interior
# columns (steps 1–2 with $D_{h\times w}$), the backward of `rfft2` halves them again
# before completing the spectrum (steps 4–5 as `irfft2(· ⊘ D_{H×W})`). For odd $w$ every
# interior column of the small grid is interior in the large one, so the factors cancel
# and the whole backward is `irfft2(P(rfft2(g)))`: spectral pooling's backward is
# spectral zero-padding.

# %%
def crop_rows(h, H):
    """Row indices in an H-grid of the frequencies of an uncentred h-grid (h odd)."""
    k = torch.arange(h)
    return torch.remainder(torch.where(k <= h // 2, k, k - h), H)


def pool_full(x, h, w):
    """Alg. 1 as in the paper: centred spectrum, central crop, inverse DFT (odd h, w)."""
    H, W = x.shape[-2:]
    Y = centered(torch.fft.fft2(x, norm="ortho"))
    r0, c0 = H // 2 - h // 2, W // 2 - w // 2
    return torch.fft.ifft2(uncentered(Y[..., r0 : r0 + h, c0 : c0 + w]), norm="ortho").real


def pool_half(x, h, w, keep=None):
    """The same on the rfft2 half-plane; ``keep`` collects the cropped half-spectrum."""
    H = x.shape[-2]
    Zc = torch.fft.rfft2(x, norm="ortho")[..., crop_rows(h, H), : w // 2 + 1]
    if keep is not None:
        Zc.retain_grad()
        keep.append(Zc)
    return torch.fft.irfft2(Zc, s=(h, w), norm="ortho")


def recover_map(half, W):
    """RECOVERMAP: full H×W spectrum from its rfft2 half-plane via conjugate symmetry."""
    H = half.shape[-2]
    full = pad_half(half, W)
    rows, cols = mirror(H, W)
    fill = symmetry_pattern(H, W) == CONJUGATE
    fill[:, : W // 2 + 1] = False  # bins stored in the half-plane stay as they are
    full[fill] = full[rows[:, None], cols][fill].conj()
    return full


def algorithm2(grad_out, H, W):
    """Rippel et al. Alg. 2, step by step (odd output size)."""
    h, w = grad_out.shape[-2:]
    z_hat = torch.fft.fft2(grad_out, norm="ortho")  # 1: F(∂R/∂x̂)
    z_hat = z_hat[..., : w // 2 + 1]  # 2: REMOVEREDUNDANCY
    z = torch.zeros(H, W // 2 + 1, dtype=CPLX)  # 3: PADSPECTRUM
    z[crop_rows(h, H), : w // 2 + 1] = z_hat
    z = recover_map(z, W)  # 4: RECOVERMAP
    return torch.fft.ifft2(z, norm="ortho")  # 5: F⁻¹ (complex; imaginary part ≈ 0)


CASES = [((16, 14), (7, 5)), ((15, 13), (5, 7)), ((12, 9), (9, 3))]
res = {k: ([], []) for k in ["fwd", "fwd dense", "A", "B", "imag", "rfft2", "half", "Zc", "fd"]}
crop_hermitian = []
for (H, W), (h, w) in CASES:
    x = torch.randn(H, W, requires_grad=True)
    target = torch.randn(h, w)
    R = lambda xh, t=target: 0.5 * ((xh - t) ** 2).sum() + (xh**3).sum() / 3  # noqa: E731
    xa = pool_full(x, h, w)
    keep = []
    xb = pool_half(x, h, w, keep)
    r0, c0 = H // 2 - h // 2, W // 2 - w // 2
    Yd = uncentered(centered(naive_dft2(x.detach()))[r0 : r0 + h, c0 : c0 + w])
    crop_hermitian.append(is_hermitian(Yd, 1e-12))
    g_out = (xa - target + xa**2).detach()  # ∂R/∂x̂
    grad_a = torch.autograd.grad(R(xa), x)[0]
    R(xb).backward()
    grad_b = x.grad
    hand = algorithm2(g_out, H, W)
    z_pad = torch.zeros(H, W // 2 + 1, dtype=CPLX)  # steps 1-3 on the half-plane
    z_pad[crop_rows(h, H), : w // 2 + 1] = torch.fft.rfft2(g_out, norm="ortho")
    for k, (p_, q_) in {
        "fwd": (xa, xb),
        "fwd dense": (xa, naive_idft2(Yd).real),
        "A": (grad_a, hand.real),
        "B": (grad_b, hand.real),
        "imag": (hand.imag, torch.zeros(H, W)),
        "rfft2": (torch.fft.rfft2(g_out, norm="ortho"),
                  torch.fft.fft2(g_out, norm="ortho")[:, : w // 2 + 1]),
        "half": (hand.real, torch.fft.irfft2(z_pad, s=(H, W), norm="ortho")),
        "Zc": (keep[0].grad, column_factor(w) * torch.fft.rfft2(g_out, norm="ortho")),
        "fd": (grad_a, fd_grad(lambda v, h=h, w=w, R=R: R(pool_full(v, h, w)), x)),
    }.items():
        res[k][0].append(p_)
        res[k][1].append(q_)
print("cases: " + ", ".join(f"{H}×{W} → {h}×{w}" for (H, W), (h, w) in CASES))
check_all("forward: full-plane crop == half-plane crop (rfft2 → crop → irfft2)", *res["fwd"])
check_all("forward: == dense-matrix crop", *res["fwd dense"])
check_true("odd crop of a Hermitian spectrum is Hermitian (no corner cases)", all(crop_hermitian))
check_all("Alg. 2 by hand == autograd, full-plane forward", *res["A"])
check_all("Alg. 2 by hand == autograd, half-plane forward", *res["B"])
check_all("Alg. 2 step 5 output is real", *res["imag"])
check_all("REMOVEREDUNDANCY(F g) == rfft2(g)", *res["rfft2"])
check_all("steps 3–5 == irfft2 of the zero-padded half-plane", *res["half"])
check_all("half-plane forward: grad at the crop == D_(h×w) ⊙ rfft2(∂R/∂x̂)", *res["Zc"])
check_all("autograd == finite differences", *res["fd"], atol=1e-7)

# %% [markdown]
# The same on a $32\times32$ test image pooled to $9\times9$: the gradient that reaches
# the input is a band-limited interpolation of $\partial R/\partial\hat x$, and its
# spectrum is exactly zero outside the kept $9\times9$ window.

# %%
H = W = 32
h = w = 9
yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
img = (((xx - 12) ** 2 + (yy - 14) ** 2) < 50).double()
img = img + 0.4 * torch.sin(2 * math.pi * (xx / 9 + yy / 13)) + 0.6 * (xx > 23)
x = img.clone().requires_grad_(True)
x_hat = pool_full(x, h, w)
target = pool_full(torch.roll(img, shifts=(2, 3), dims=(0, 1)), h, w)
R = 0.5 * ((x_hat - target) ** 2).sum()
R.backward()
g_out = (x_hat - target).detach()
spec = centered(torch.fft.fft2(x.grad, norm="ortho")).abs()
r0, c0 = H // 2 - h // 2, W // 2 - w // 2
outside = spec.clone()
outside[r0 : r0 + h, c0 : c0 + w] = 0
check_close("pooling backward == Alg. 2 (32×32 → 9×9)", x.grad, algorithm2(g_out, H, W).real)
_ = check_close("spectrum of ∂R/∂x is zero outside the kept window", outside,
                torch.zeros_like(outside))

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 3, figsize=(TEXT_WIDTH, 5.6))
axes = axes.ravel()
axes[5].set_visible(False)
panels = [
    (img, "input x (32×32)", "gray"),
    (x_hat.detach(), "pooled x̂ (9×9)", "gray"),
    (g_out, "∂R/∂x̂ (9×9)", "RdBu_r"),
    (x.grad, "∂R/∂x = Alg. 2 = autograd", "RdBu_r"),
]
for ax, (im_, title, cmap) in zip(axes[:4], panels, strict=True):
    lim = float(im_.abs().max()) if cmap == "RdBu_r" else None
    ax.imshow(im_, cmap=cmap, vmin=-lim if lim else None, vmax=lim)
    ax.set_title(title, fontsize=10)
    ax.set(xticks=[], yticks=[])
axes[4].imshow(torch.log10(spec + 1e-17), cmap="magma", vmin=-17, vmax=0,
               extent=(-(W // 2) - 0.5, W - W // 2 - 0.5, H - H // 2 - 0.5, -(H // 2) - 0.5))
axes[4].add_patch(Rectangle((-(w // 2) - 0.5, -(h // 2) - 0.5), w, h, fill=False, ec="cyan",
                            lw=1))
axes[4].set_title("log₁₀|F(∂R/∂x)|, 0 outside", fontsize=10)
axes[4].set(xlabel="frequency l", ylabel="frequency k")
fig.suptitle("Spectral pooling back-propagation (Rippel et al., Alg. 2)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 7 · Summary
#
# Every row below is checked once more by comparing autograd's vector–Jacobian product
# for a random cotangent with the stated adjoint (float64, `norm="ortho"` unless stated,
# $H\times W = 6\times7$ and $5\times8$).
#
# | forward op | autograd backward (= adjoint) | remark |
# |---|---|---|
# | `fft2`, complex $x$ | `ifft2(G)` | eq. (4) |
# | `fft2`, real $x$ | `Re ifft2(G)` | eq. (4) needs the real part |
# | `ifft2` | `fft2(G)` | |
# | `fft2(norm=m)` | `ifft2(G, norm=swap(m))` | default norm: $HW\cdot$`ifft2(G)` |
# | `rfft2` | `Re ifft2(P G)` = `irfft2(G ⊘ D)` | not `irfft2(G)` |
# | `irfft2(·, s)` | `D ⊙ rfft2(g)` | Im at REAL bins → 0; column 0, $W/2$ Hermitian |
# | spectral pooling, odd $h,w$ | `irfft2(P rfft2(g))` | = Alg. 2 |

# %%
def vjp(fn, inp, cot):
    inp = inp.detach().clone().requires_grad_(True)
    return torch.autograd.grad(fn(inp), inp, grad_outputs=cot)[0]


for H, W in [(6, 7), (5, 8)]:
    Wh = W // 2 + 1
    D = column_factor(W)
    xc, xr = torch.randn(H, W, dtype=CPLX), torch.randn(H, W)
    Gc, Gh, gr = torch.randn(H, W, dtype=CPLX), torch.randn(H, Wh, dtype=CPLX), torch.randn(H, W)
    zh = torch.randn(H, Wh, dtype=CPLX)
    rows = [
        ("fft2, complex x", vjp(lambda v: torch.fft.fft2(v, norm="ortho"), xc, Gc),
         torch.fft.ifft2(Gc, norm="ortho")),
        ("fft2, real x", vjp(lambda v: torch.fft.fft2(v, norm="ortho"), xr, Gc),
         torch.fft.ifft2(Gc, norm="ortho").real),
        ("ifft2", vjp(lambda v: torch.fft.ifft2(v, norm="ortho"), xc, Gc),
         torch.fft.fft2(Gc, norm="ortho")),
        ("fft2 default norm", vjp(torch.fft.fft2, xc, Gc), H * W * torch.fft.ifft2(Gc)),
        ("rfft2", vjp(lambda v: torch.fft.rfft2(v, norm="ortho"), xr, Gh),
         torch.fft.irfft2(Gh / D, s=(H, W), norm="ortho")),
        ("irfft2", vjp(lambda v, s=(H, W): torch.fft.irfft2(v, s=s, norm="ortho"), zh, gr),
         D * torch.fft.rfft2(gr, norm="ortho")),
    ]
    for name, actual, expected in rows:
        check_close(f"{H}×{W} {name}", actual, expected)
for (H, W), (h, w) in CASES:
    gp = torch.randn(h, w)
    pad = torch.zeros(H, W // 2 + 1, dtype=CPLX)
    pad[crop_rows(h, H), : w // 2 + 1] = torch.fft.rfft2(gp, norm="ortho")
    check_close(f"pooling {H}×{W} → {h}×{w}", vjp(lambda v, h=h, w=w: pool_full(v, h, w),
                                                  torch.randn(H, W), gp),
                torch.fft.irfft2(pad, s=(H, W), norm="ortho"))

# %% [markdown]
# **Verdict.** Eq. (4) is the adjoint of a unitary map and is exact for complex inputs
# in the conjugate (real-gradient) convention that PyTorch uses, `z.grad`
# $= \partial_{\operatorname{Re}} + i\,\partial_{\operatorname{Im}} = 2\,\partial/\partial\bar z$.
# For the real inputs the paper writes it for, it needs a real part. The "intricacy" of
# §2.2 reduces to one diagonal factor $D$ on the half-plane: `irfft2` backward is
# $D\odot$`rfft2`, `rfft2` backward is `irfft2`$(\cdot\oslash D)$, and the imaginary
# parts of REAL bins as well as the anti-Hermitian part of columns $0$ and $W/2$ are dead
# coordinates with zero gradient. REMOVEREDUNDANCY is `rfft2`, RECOVERMAP is the Hermitian
# completion inside `irfft2`, and autograd through `torch.fft` reproduces Alg. 2 to
# rounding. The package therefore defines no custom backward for its spectral layers —
# the place where hand-written gradients go wrong (norm mismatch, `irfft2` as the
# backward of `rfft2`, a missing factor 2) simply does not exist.
#
# ## Exercises
#
# 1. **Spectral parameterisation rescales SGD.** For a filter $x = \texttt{irfft2}(Z)$,
#    show that one SGD step on $Z$ moves $x$ by $-\eta\,\texttt{irfft2}(D\odot
#    \texttt{rfft2}(g))$, i.e. it doubles the step on all frequencies except columns $0$
#    and $W/2$. Find the reparameterisation $Z = V \oslash \sqrt D$ under which SGD on $V$
#    equals SGD on $x$, and check it numerically. What does this imply for Rippel's claim
#    that spectral parameterisation helps Adam but not SGD?
# 2. **Even output sizes.** Repeat §6 with $h$ or $w$ even. Show that `pool_full` and
#    `pool_half` now compute different functions, find which bins break Hermitian
#    symmetry, and show where the factors of `irfft2` and `rfft2` no longer cancel
#    (column $w/2$). Derive the adjoint of a TREATCORNERCASES that halves the Nyquist
#    bins and check it against autograd.
# 3. **Other dimensions.** Derive the factor for `torch.fft.irfft` (1-D) and for `irfftn`
#    over three dimensions (only the last transformed dimension carries $D$) and confirm
#    with `gradcheck`.
# 4. **A custom `rfft2`.** Write an `autograd.Function` for `rfft2(norm="ortho")` whose
#    backward is `irfft2(G / D)`; confirm it with `gradcheck`, then remove `/ D` and
#    explain the failure from §4.
