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
# # Experiment: spectral pooling net (5) against max pooling
#
# Rippel et al. (2015), §5.1: net (5), `M` pairs of a 3×3 convolution and a spectral pool
# to `⌊γ H_m⌋` with frequency dropout `c_m = α + (m/M)(β − α)`, a 1×1 head and global
# averaging; SGD with momentum, weight decay, no augmentation, no dropout. `pool` picks
# the pooling: `"spectral"` (the paper), `"max"` (3×3 max pool with stride 2 in each pool's
# place, the control) or `"max_matched"` (adaptive max pooling to the spectral
# pools' sizes). One run writes one result file:
#
# ```bash
# python -m spectral run spectral_pooling --profile cpu
# python -m spectral run spectral_pooling --profile paper --devices cuda:0
# python -m spectral report spectral_pooling
# ```

# %% tags=["parameters"]
pool = "spectral"
width = 1.0
num_layers = 6  # M: not reported by the paper; the student used 6
gamma = 0.85  # Rippel's map decay rate γ (the learning-rate decay is lr_decay)
alpha = 0.30
beta = 0.15
epochs = 150
lr = 0.0088
momentum = 0.95
weight_decay = 3e-4  # not reported by the paper; the student's value
schedule = "multistep"
milestones = [100, 140]
augment = False  # §5.1: no augmentation
# Shared settings not listed here keep spectral.recipe.StandardRun's defaults.

# %%
from spectral.models import rippel_spectral_pool_net
from spectral.recipe import StandardRun

run = StandardRun.from_namespace(globals())
loaders = run.loaders()
net = rippel_spectral_pool_net(num_classes=loaders.num_classes, in_channels=loaders.in_channels,
                               width=width, num_layers=num_layers, gamma=gamma, alpha=alpha,
                               beta=beta, pool=pool)
run.save(run.train(net, loaders))
