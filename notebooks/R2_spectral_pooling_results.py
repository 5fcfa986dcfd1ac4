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
# # Results · Spectral pooling against max pooling
#
# Rippel et al.'s net (5) ({cite:t}`rippel2015spectral`, §5.1; chapter 04 builds its
# pooling layer) reports 8.6 % test error on CIFAR-10 after 150 epochs on all 50,000
# images; the student re-implementation {cite:p}`jain2017ecbm` reached 18.76 %. This page
# trains the same net at this machine's scale, with spectral pooling and frequency dropout
# and with two max-pooling controls under the same budget:
#
# * `max`: a 3×3 max pool with stride 2 in place of each spectral pool (the control the
#   issue names), which halves the map at every pool (32 → 1 after five pools with M = 6);
# * `max_matched`: max pooling to the same sizes ⌊γ H_m⌋ as the spectral pools, so that
#   only the kind of pooling differs.
#
# Every number here is read from `data/results/spectral_pooling/`. Regenerate with
#
# ```bash
# python -m spectral run spectral_pooling --profile cpu     # this page's scale
# python -m spectral run spectral_pooling --profile paper --devices cuda:0
# ```

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from spectral import results as res
from spectral.experiments import expand, notebook_parameters

EXPERIMENT = "spectral_pooling"
DEFAULTS = notebook_parameters(EXPERIMENT)  # what a record does not name
POOLS = ["spectral", "max", "max_matched"]
PROFILES = res.profiles(EXPERIMENT)  # every profile with results, largest scale first
runs, lower_lr = {}, []  # the profiles' own runs; extra control runs at other learning rates
for profile in PROFILES:
    profile_lr = expand(EXPERIMENT, profile)[0].params["lr"]
    everything = res.records(EXPERIMENT, profile)
    runs[profile] = [r for r in everything if r["params"]["lr"] == profile_lr]
    lower_lr += [r for r in everything if r["params"]["lr"] != profile_lr]
    p = res.shared_params(runs[profile], DEFAULTS)
    print(f"{len(runs[profile])} {profile}-profile runs: "
          + ", ".join(f"{r['run_id']} ({r['status']})" for r in runs[profile]))
    print(
        f"setting: net (5), M = {p['num_layers']}, width {p['width']} (filters × width), "
        f"CIFAR-10, {p['train_subset'] or 'all'} training images (class-balanced), no "
        f"augmentation, {p['epochs']} epochs, batch {p['batch_size']}, SGD momentum "
        f"{p['momentum']}, lr {p['lr']} ÷10 at epochs {p['milestones']}, weight decay "
        f"{p['weight_decay']}; test on {p['test_subset'] or 'all'} test images"
    )

# %% [markdown]
# ## Test error, mean ± standard deviation over seeds
#
# Beside the two published figures (full data, 150 epochs, width 1). Our rows are not
# comparable with those in absolute terms; they compare the three poolings with each other
# under one small budget.

# %%
published = pd.DataFrame(
    {"source": ["Rippel et al. (2015), Table 1", "Jain et al. (2017), student"],
     "CIFAR-10 test error": ["8.6 %", "18.76 %"], "scale": ["full", "full"]}
)
print(published.to_string(index=False))
finals, summaries = {}, {}
for profile, records in runs.items():
    final = res.final_table(
        [r for r in records if r["status"] == "complete"],
        params=("pool", "seed"),
        metrics=("test_accuracy", "train_accuracy"),
    )
    final["test_error"] = 1 - final["test_accuracy"]
    final["train_error"] = 1 - final["train_accuracy"]
    final["epoch_time_s"] = [
        pd.Series([m["epoch_time_s"] for m in r["metrics"]]).median()
        for r in records if r["status"] == "complete"
    ]
    ours = final.groupby("pool").agg(
        runs=("seed", "size"),
        test_error_mean=("test_error", "mean"), test_error_std=("test_error", "std"),
        train_error_mean=("train_error", "mean"),
    ).reindex(POOLS)
    finals[profile], summaries[profile] = final, ours
    print(f"\n{profile} profile")
    print((ours * [1, 100, 100, 100]).round(2).rename(
        columns=lambda c: c.replace("_error", " error %") if "error" in c else c).to_string())

# %% [markdown]
# ## Learning curves
#
# Test error per epoch for each seed (thin) and the mean over seeds (thick).

# %%
for profile, records in runs.items():
    curves = res.epoch_table(records, params=("pool", "seed"))
    curves["test error"] = 1 - curves["test_accuracy"]
    curves["train error"] = 1 - curves["train_accuracy"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, column in zip(axes, ["train error", "test error"], strict=True):
        sns.lineplot(data=curves, x="epoch", y=column, hue="pool", units="seed",
                     estimator=None, lw=0.7, alpha=0.4, ax=ax, legend=False)
        sns.lineplot(data=curves, x="epoch", y=column, hue="pool", errorbar=None, lw=2, ax=ax)
        ax.set_title(f"{column} ({profile} profile)")
    axes[0].set_ylim(0, 1)
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## Why the max-pooling controls do not train
#
# Both controls sit at chance (training loss ln 10 ≈ 2.303, a constant prediction) from the
# first epoch on. Net (5) has no normalisation. To see how the collapse happens, the cell
# below repeats the first 12 SGD steps of each net (the profile's width, learning rate,
# momentum and weight decay, on 1,000 training images) and measures after steps 1, 4 and
# 12: the fraction of *dead* channels of the last three ReLUs (zero for every image of the
# batch) and the standard deviation of the logits across images (zero means the output no
# longer depends on the input). Early training of an unnormalised net is chaotic, so these
# figures change in their last digits with the machine's floating-point reduction order;
# the notebook checks do not compare them.

# %% tags=["nbval-ignore-output"]
import torch  # noqa: E402 (used only for this diagnosis)

from spectral.data import make_loaders  # noqa: E402
from spectral.models import rippel_spectral_pool_net  # noqa: E402

cpu = expand(EXPERIMENT, "cpu")[0].params  # the diagnosis is at the cpu profile's settings

try:
    loaders = make_loaders("cifar10", batch_size=128, augment=False, train_subset=1000, seed=0)
    batches = list(loaders.train)
except FileNotFoundError as missing:  # the page still renders without the archive
    print(f"diagnosis skipped, it trains on CIFAR-10 images: {missing}")
    batches = []
rows = []
for pool in ("spectral", "max", "max_matched") if batches else ():
    torch.manual_seed(0)
    net = rippel_spectral_pool_net(width=cpu["width"], num_layers=cpu["num_layers"], pool=pool)
    sgd = torch.optim.SGD(net.parameters(), lr=cpu["lr"], momentum=cpu["momentum"],
                          weight_decay=cpu["weight_decay"])
    for step in range(1, 13):
        x, y = batches[(step - 1) % len(batches)]
        loss = torch.nn.functional.cross_entropy(net(x), y)
        sgd.zero_grad()
        loss.backward()
        sgd.step()
        if step in (1, 4, 12):
            net.eval()
            with torch.no_grad():
                h, dead = x, []
                for layer in net.features:
                    h = layer(h)
                    if isinstance(layer, torch.nn.ReLU):
                        dead.append((h.amax(dim=(0, 2, 3)) == 0).float().mean().item())
                logits = net(x)
            net.train()
            rows.append({"pool": pool, "step": step, "loss": loss.item(),
                         "dead channels, last 3 ReLUs": " ".join(f"{d:.2f}" for d in dead[-3:]),
                         "logit std across images": logits.std(dim=0).mean().item()})
if rows:
    print(pd.DataFrame(rows).set_index(["pool", "step"]).round(3).to_string())

# %% [markdown]
# The spectral net keeps almost all of its channels alive and its output keeps depending
# on the input. The max-pooled nets lose many of their deep channels within these few
# steps and their logits stop varying across images: a constant prediction, from which
# the gradient (zero through dead ReLUs) cannot bring them back. The stride-2 control
# starts with many dead channels already (its last maps are 2×2 and 1×1, so a channel
# is dead as soon as a handful of values are negative); the matched control starts with
# inflated logits (a max of non-negative values grows the activations at each of the six
# pools, which the He initialisation does not compensate) and dies within the first steps.

# %% [markdown]
# Does a smaller learning rate rescue them? The stride-2 control, run again with the
# profile's settings but lower learning rates (training loss per epoch):

# %%
for r in sorted(lower_lr, key=lambda r: -r["params"]["lr"]):
    losses = ", ".join(f"{m['train_loss']:.3f}" for m in r["metrics"])
    print(f"pool={r['params']['pool']}, lr {r['params']['lr']}: train loss {losses}; "
          f"final test accuracy {r['final']['test_accuracy']:.3f}")

# %% [markdown]
# The controls would need their own initialisation (or a normalisation layer), which is no
# longer "the same net with a different pool". What this page can compare is therefore
# limited: at the paper's hyperparameters and initialisation, spectral pooling trains and
# max pooling does not.
#
# ## What each pooling costs here

# %% tags=["nbval-ignore-output"]
for profile, final in finals.items():
    print(f"{profile} profile, median epoch time (s):")
    print(final.groupby("pool")["epoch_time_s"].median().round(1).to_string())

# %% [markdown]
# ## Verdict

# %%
for profile, ours in summaries.items():
    final = finals[profile]
    gap = ours["test_error_mean"] - ours.loc["spectral", "test_error_mean"]
    spectral = res.seed_values(final, "test_error", pool="spectral")
    print(f"{profile} profile")
    for pool in ("max", "max_matched"):
        paired = res.paired_difference(res.seed_values(final, "test_error", pool=pool), spectral)
        print(f"{pool} − spectral test error: {100 * gap[pool]:+.2f} points "
              f"(seed std {100 * ours.loc[pool, 'test_error_std']:.2f} / "
              f"{100 * ours.loc['spectral', 'test_error_std']:.2f}); paired over seeds: "
              f"{paired.describe(100, ' points')}")

# %% [markdown]
# **Verdict.** The paper's 8.6 % and the student's 18.76 % are errors after 150 epochs on
# the full training set at width 1; our runs train a quarter-width net for a few epochs on
# a tenth of the data, and their error (printed above) says nothing about either figure.
# What this scale does show:
#
# 1. The net trains as specified (frequency dropout, the paper's optimiser settings), with
#    the slow start that the small learning rate 0.0088 implies: the budget ends long
#    before it converges (its training error, printed above, is still high).
# 2. Replacing spectral pooling by max pooling, either the stride-2 control or a
#    control matched to the spectral pools' sizes, makes this unnormalised net untrainable
#    at the paper's settings and at lower learning rates. The "spectral vs max" error
#    comparison of Rippel et al.'s Table 1 is between separately tuned nets; a like-for-like
#    swap inside net (5) is not possible without changing its initialisation.
# 3. Spectral pooling therefore has a property the book can state and test: being linear and
#    low-pass, it does not inflate activations from pool to pool, so a deep pooling stack
#    without normalisation stays trainable.
#
# The `paper` profile (150 epochs, full data, width 1, three seeds) is the run that tests
# the 8.6 % claim; it needs a GPU.

