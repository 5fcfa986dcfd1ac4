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
# # Experiment: spectral parameterization of filters under Adam
#
# Rippel et al. (2015), §5.2 and Fig. 5: the same net trained with Adam, its convolution
# filters learned either spatially (`param="spatial"`), as spectral coordinates
# (`param="spectral"`, :func:`spectral.parametrize.spectral_parametrize`; 1×1
# convolutions stay spatial, their two bases coincide) or, as the control, in a fixed
# random rotation of each layer's filters (`param="random"`, seeded by the run's seed):
# any orthogonal basis leaves SGD unchanged, so only the random basis can tell whether
# Adam profits from the Fourier basis or from any rotation. Nets (6) `rippel_generic`,
# (7) `rippel_deep` or (5) `rippel_spectral_pool_net`, filter size `kernel_size`, with
# flips and small translations (random crop after zero-padding by 4 pixels). A run with
# `param="spectral"` or `"random"` starts from exactly the filters of the `spatial` run of
# the same seed (same initialisation, re-expressed), and sees the same batches, so the runs
# differ only in the basis Adam works in. A profile's `patience` stops a run once its
# validation accuracy has not improved for that many epochs. The speed-up is computed
# from pairs of runs on the results page. One run writes one result file:
#
# ```bash
# python -m spectral run spectral_parameterization --profile cpu       # net (6), width 0.25
# python -m spectral run spectral_parameterization --profile cpu_deep  # net (7), width 0.125
# python -m spectral run spectral_parameterization --profile paper --devices cuda:0
# python -m spectral report spectral_parameterization
# ```

# %% tags=["parameters"]
model = "rippel_generic"
kernel_size = 3
param = "spectral"  # the basis of the filters: "spatial", "spectral" or "random"
width = 1.0
epochs = 100
optimizer = "adam"
lr = 1e-3  # Adam; the paper does not report its hyper-parameters for Fig. 5
weight_decay = 0.0
snapshot_filters = 8  # first-layer filters stored at epoch snapshot_epoch (for plots)
snapshot_epoch = 0  # 0: the last of `epochs`; Rippel's Fig. 3 shows epoch 10
moved_threshold = 0.01  # a coordinate "moved" in an epoch if it changed by > 1 % (Fig. 3c)
# Shared settings not listed here keep spectral.recipe.StandardRun's defaults.

# %%
from torch import nn

from spectral.callbacks import FilterSparsity
from spectral.models import create
from spectral.parametrize import BASES, is_spectral, spectral_parametrize
from spectral.recipe import StandardRun

if param not in ("spatial", *BASES):
    raise ValueError(f"param must be 'spatial', 'spectral' or 'random', got {param!r}")
run = StandardRun.from_namespace(globals())
loaders = run.loaders()
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels,
             width=width, kernel_size=kernel_size)
if param != "spatial":
    spectral_parametrize(net, basis=param, seed=run.seed)
convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
print(f"{kernel_size}×{kernel_size} filters, {param}: "
      f"{sum(is_spectral(c) for c in convs)} of {len(convs)} convolutions re-parameterized")

# %% [markdown]
# After every epoch: the sparsity of the first-layer filters in each orthonormal basis
# (Rippel Fig. 3b: the energy share of the top quarter of coefficients) and the fraction
# of their coordinates that moved by more than `moved_threshold` since the epoch before
# (Fig. 3c, from the initial filters for epoch 1); the filters themselves at epoch
# `snapshot_epoch`.

# %%
sparsity = FilterSparsity(snapshot=snapshot_filters, snapshot_epoch=snapshot_epoch or epochs,
                          moved_threshold=moved_threshold)
sparsity.remember(net)
run.save(run.train(net, loaders, callbacks=[sparsity]))
