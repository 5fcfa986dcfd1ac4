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
# # Results · Baseline classifier
#
# The first experiment of the engine: a plain CIFAR-10 classifier trained with the
# recipe of {cite:t}`cakaj2023sbn` (§IV-A: SGD, momentum 0.9, learning rate 0.1 with
# step decay, weight decay, random crop with padding 4 and horizontal flip). It is the
# reference that later chapters' variants (SBN, masks, spectral parameterization) are
# compared against. Every number on this page is read from the result files in
# `data/results/baseline/`; regenerate them with
#
# ```bash
# python -m spectral run baseline --profile cpu      # this book's scale, 3 seeds
# python -m spectral report baseline
# ```
#
# and, on a GPU at the paper's scale (ResNet-18, 200 epochs, 9/1 train/validation
# split, test accuracy at the best validation epoch, 5 seeds):
#
# ```bash
# python -m spectral run baseline --profile paper --devices cuda:0
# ```

# %%
import json

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from spectral.experiments import PROJECT, load_results, report

profiles = json.loads((PROJECT / "notebooks/experiments/baseline.json").read_text())["profiles"]
records = [r for r in load_results("baseline") if r["params"]["profile"] == "cpu"]
cpu = profiles["cpu"]["params"]
runs = ", ".join(f"{r['run_id']} ({r['status']})" for r in records)
print(f"{len(records)} cpu-profile runs: {runs}")
print(
    f"setting: {cpu['model']} width {cpu['width']} on {cpu['dataset']}, "
    f"{cpu['train_subset']} training images, {cpu['epochs']} epochs, batch {cpu['batch_size']}, "
    f"lr {cpu['lr']} ÷10 at epochs {cpu['milestones']}, weight decay {cpu['weight_decay']}; "
    f"test on {cpu['test_subset'] or 10000} test images (class-balanced)"
)

# %% [markdown]
# ## Final accuracy, mean ± standard deviation over seeds

# %%
table = report("baseline", metrics=["test_accuracy", "train_accuracy"])
cpu_row = table.loc["cpu"] if "cpu" in table.index else table
pd.options.display.float_format = "{:.4f}".format
print(table[["runs", "complete", "test_accuracy_mean", "test_accuracy_std",
             "train_accuracy_mean", "train_accuracy_std"]].to_string())

# %% [markdown]
# ## Learning curves
#
# Per-epoch training and test accuracy of each seed (thin lines) and their mean.

# %%
rows = [
    {"seed": r["params"]["seed"], **m}
    for r in records
    for m in r["metrics"]
]
curves = pd.DataFrame(rows).melt(
    id_vars=["seed", "epoch"], value_vars=["train_accuracy", "test_accuracy"],
    var_name="split", value_name="accuracy",
)
fig, ax = plt.subplots(figsize=(7, 4))
sns.lineplot(data=curves, x="epoch", y="accuracy", hue="split", units="seed",
             estimator=None, lw=0.8, alpha=0.5, ax=ax, legend=False)
sns.lineplot(data=curves, x="epoch", y="accuracy", hue="split", errorbar=None, lw=2, ax=ax)
for milestone in cpu["milestones"]:
    ax.axvline(milestone + 0.5, color="gray", ls=":", lw=1)
ax.set_title(f"{cpu['model']} on {cpu['train_subset']} CIFAR-10 images (cpu profile)")
ax.set_ylim(0, 1)
plt.show()

# %% [markdown]
# ## Cost on this machine

# %%
epoch_times = pd.DataFrame(rows)["epoch_time_s"]
print(f"devices: {sorted({r['device'] for r in records})}")
print(f"median epoch (train + test evaluation): {epoch_times.median():.0f} s")

# %% [markdown]
# ## Verdict
#
# This page is a *reference point*, not a reproduction: the paper's ResNet-18 baseline
# reaches 94.04 % ± 0.08 % on CIFAR-10 (Table I of {cite:t}`cakaj2023sbn`) after 200
# epochs on 45,000 images at width 1, a budget this 2-core CPU cannot afford. The `cpu`
# profile trains a ResNet-20 on a small class-balanced subset for a few epochs, so
# its accuracy above is far lower and is only comparable with the variants run at the
# same scale in later chapters. The `paper` profile reproduces the paper's setting on a
# GPU.
