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
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from spectral import results as res
from spectral.experiments import notebook_parameters

EXPERIMENT = "baseline"
DEFAULTS = notebook_parameters(EXPERIMENT)  # what a record does not name
PROFILES = res.profiles(EXPERIMENT)  # every profile with results, largest scale first
runs = {profile: res.records(EXPERIMENT, profile) for profile in PROFILES}
for profile, records in runs.items():
    params = res.shared_params(records, DEFAULTS)
    print(
        f"{len(records)} {profile}-profile runs: "
        + ", ".join(f"{r['run_id']} ({r['status']})" for r in records)
    )
    print(
        f"setting: {params['model']} width {params['width']} on {params['dataset']}, "
        f"{params['train_subset'] or 'all'} training images, {params['epochs']} epochs, "
        f"batch {params['batch_size']}, lr {params['lr']} ÷10 at epochs "
        f"{params['milestones']}, weight decay {params['weight_decay']}; "
        f"test on {params['test_subset'] or 10000} test images (class-balanced)"
    )

# %% [markdown]
# ## Final accuracy, mean ± standard deviation over seeds

# %%
METRICS = ["test_accuracy", "train_accuracy"]
pd.options.display.float_format = "{:.4f}".format
for records in runs.values():
    keys = ["profile", *res.varying_params(records)]  # e.g. a precision profile's amp
    final = res.final_table(records, params=[*keys, "seed"], metrics=METRICS)
    complete = final[final["status"] == "complete"].groupby(keys, dropna=False)
    table = final.groupby(keys, dropna=False).agg(
        runs=("status", "size"), complete=("status", lambda s: int((s == "complete").sum()))
    )
    for m in METRICS:
        table[f"{m}_mean"], table[f"{m}_std"] = complete[m].mean(), complete[m].std(ddof=1)
    print(table.to_string(), "\n")

# %% [markdown]
# ## The fast path does not cost accuracy
#
# The engine trains on this CPU in bfloat16 autocast with channels-last tensors
# (`TrainConfig(amp="bf16", channels_last=True)`), about three times faster than
# float32 (`benchmarks/engine.py`). The `precision` profile asks whether that costs
# accuracy: the same ResNet-20 runs (same seeds, same batches) in float32 and in bf16,
# and the paired difference of their final test accuracies is read below.

# %%
if "precision" in runs:
    final = res.final_table(runs["precision"], params=["amp", "seed"],
                            metrics=["test_accuracy"])
    final["amp"] = final["amp"].fillna("float32")
    print(final.pivot(index="seed", columns="amp", values="test_accuracy").to_string())
    bf16 = res.seed_values(final, "test_accuracy", amp="bf16")
    float32 = res.seed_values(final, "test_accuracy", amp="float32")
    print("bf16 − float32 test accuracy:",
          res.paired_difference(bf16, float32).describe(100, " points"))

# %% [markdown]
# ## Learning curves
#
# Per-epoch training and test accuracy of each run (thin lines) and their mean.

# %%
for profile, records in runs.items():
    params = res.shared_params(records, DEFAULTS)
    curves = res.epoch_table(records, params=()).melt(
        id_vars=["run_id", "epoch"], value_vars=["train_accuracy", "test_accuracy"],
        var_name="split", value_name="accuracy",
    )
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=curves, x="epoch", y="accuracy", hue="split", units="run_id",
                 estimator=None, lw=0.8, alpha=0.5, ax=ax, legend=False)
    sns.lineplot(data=curves, x="epoch", y="accuracy", hue="split", errorbar=None, lw=2, ax=ax)
    for milestone in params["milestones"]:
        ax.axvline(milestone + 0.5, color="gray", ls=":", lw=1)
    ax.set_title(
        f"{params['model']} on {params['train_subset'] or 'all'} CIFAR-10 images "
        f"({profile} profile)"
    )
    ax.set_ylim(0, 1)
    plt.show()

# %% [markdown]
# ## Cost on this machine

# %%
for profile, records in runs.items():
    epoch_times = res.epoch_table(records, metrics=("epoch_time_s",))["epoch_time_s"]
    print(f"{profile} profile, devices: {sorted({r['device'] for r in records})}")
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
# GPU; its results appear on this page, above the `cpu` ones, once they are in
# `data/results/baseline/`.

