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
# filters learned either spatially (`param="spatial"`) or as spectral coordinates
# (`param="spectral"`, :func:`spectral.parametrize.spectral_parametrize`; 1×1
# convolutions stay spatial, their two bases coincide). Nets (6) `rippel_generic`,
# (7) `rippel_deep` or (5) `rippel_spectral_pool_net`, filter size `kernel_size`, with
# flips and small translations (random crop after zero-padding by 4 pixels). A run with
# `param="spectral"` starts from exactly the filters of the `spatial` run of the same seed
# (same initialisation, re-expressed), and sees the same batches, so the two differ only
# in the basis Adam works in. The speed-up is computed from pairs of runs on the results
# page. One run writes one result file:
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
param = "spectral"  # "spatial" or "spectral"
width = 1.0
epochs = 100
optimizer = "adam"
lr = 1e-3  # Adam; the paper does not report its hyper-parameters for Fig. 5
weight_decay = 0.0
snapshot_filters = 8  # first-layer filters stored at the last epoch (for plots)
# Shared settings not listed here keep spectral.recipe.StandardRun's defaults.

# %%
from torch import nn

from spectral.callbacks import FilterSparsity
from spectral.models import create
from spectral.parametrize import is_spectral, spectral_parametrize
from spectral.recipe import StandardRun

if param not in ("spatial", "spectral"):
    raise ValueError(f"param must be 'spatial' or 'spectral', got {param!r}")
run = StandardRun.from_namespace(globals())
loaders = run.loaders()
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels,
             width=width, kernel_size=kernel_size)
if param == "spectral":
    spectral_parametrize(net)
convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
print(f"{kernel_size}×{kernel_size} filters, {param}: "
      f"{sum(is_spectral(c) for c in convs)} of {len(convs)} convolutions spectral")

# %% [markdown]
# After every epoch: the sparsity of the first-layer filters in both orthonormal bases
# (Rippel Fig. 3b); the filters themselves at the last epoch.

# %%
sparsity = FilterSparsity(snapshot=snapshot_filters, snapshot_epoch=epochs)
run.save(run.train(net, loaders, callbacks=[sparsity]))
