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
# # Experiment: Spectral Batch Normalization against BatchNorm
#
# Cakaj et al. (2023), §IV-A: a CIFAR ResNet (or VGG-BN) with one normalisation variant,
# trained with SGD (momentum 0.9, lr 0.1, step decay, weight decay, crop + flip). `variant`
# is a name of `spectral.models.norm_variant` (`"BN"`, `"2BN34"`, `"2BN34-scaled"`,
# `"SBN34"`, `"SBN4"`, ...), an `"SBN…"` name optionally followed by `-<parts>` for an SBN
# ablation of `SpectralBatchNorm2d(parts=...)` (`"SBN34-no_pattern"`, `"SBN34-center"`,
# `"SBN34-scale"`). After every epoch the
# per-sample L2 norm and the largest absolute value of the output of each normalisation
# (the whole BN → SBN or BN → BN chain after a convolution) are recorded on a fixed test
# batch in eval mode (the paper's Fig. 1–2 quantities).
#
# ```bash
# python -m spectral run sbn --profile cpu
# python -m spectral run sbn --profile paper --devices cuda:0
# python -m spectral report sbn
# ```

# %% tags=["parameters"]
model = "resnet18"
variant = "SBN34"  # BN, 2BN34, 2BN34-scaled, SBN34 or SBN34-<part> (an SBN ablation)
sbn_impl = "spatial"
width = 1.0
epochs = 200
weight_decay = 1e-4
schedule = "multistep"
milestones = [90, 136]
val_fraction = 0.1  # §IV-A: 9/1 train/validation split, test at the best validation epoch
# Shared settings not listed here keep spectral.recipe.StandardRun's defaults.

# %%
from spectral.callbacks import FeatureMapStatistics
from spectral.models import create, norm_variant
from spectral.recipe import StandardRun

run = StandardRun.from_namespace(globals())
loaders = run.loaders()
probe = next(iter(loaders.test))[0]  # a fixed test batch; its size sizes 2BN…-scaled
input_size = tuple(probe.shape[-2:])
if variant.startswith("SBN"):
    name, _, parts = variant.partition("-")
    options = {"impl": sbn_impl} | ({"parts": parts} if parts else {})
    norm_layer = norm_variant(name, input_size=input_size, **options)
else:
    norm_layer = norm_variant(variant, input_size=input_size)
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels,
             width=width, norm_layer=norm_layer)

# %% [markdown]
# After every epoch, on a fixed test batch: the per-sample L2 norm and the distribution
# of |values| after each normalisation (the paper's Fig. 1–2).

# %%
statistics = FeatureMapStatistics(probe)
run.save(run.train(net, loaders, callbacks=[statistics]))
