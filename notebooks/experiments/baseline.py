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
# # Experiment: baseline classifier
#
# Trains one model on one data set with the SBN paper's recipe (SGD, momentum 0.9,
# lr 0.1, step decay, weight decay, random crop + flip) and writes one result file.
# Run it through the engine, which fills in the parameters below:
#
# ```bash
# python -m spectral run baseline --profile cpu            # this machine's scale
# python -m spectral run baseline --profile paper --devices cuda:0
# python -m spectral report baseline
# ```

# %% tags=["parameters"]
val_fraction = 0.1  # SBN paper: 9/1 train/validation split, test at the best validation epoch
model = "resnet18"
width = 1.0
epochs = 200
weight_decay = 1e-4
schedule = "multistep"
milestones = [90, 136]
# Shared settings not listed here keep spectral.recipe.StandardRun's defaults.

# %%
from spectral.models import create
from spectral.recipe import StandardRun

run = StandardRun.from_namespace(globals())
loaders = run.loaders()
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels, width=width)
run.save(run.train(net, loaders))
