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
# # R2 · Spectral pooling
#
# Rippel et al.'s net (5) ({cite:t}`rippel2015spectral`, §5.1; chapter 04 builds its
# pooling layer) reaches 8.6 % test error on CIFAR-10 after 150 epochs on all 50,000
# images, without data augmentation. The paper sets that figure beside other published
# methods (its Fig. 4(b): stochastic pooling, Maxout, network-in-network, deeply
# supervised nets), not beside a max-pooled version of the same net; the student
# re-implementation {cite:p}`jain2017ecbm` reached 18.76 %. This page trains the net at
# this machine's scale, with spectral pooling and frequency dropout, and adds two
# max-pooling controls under the same budget:
#
# * `max`: a 3×3 max pool with stride 2 in place of each spectral pool, which halves the
#   map at every pool (32 → 1 after five pools with M = 6);
# * `max_matched`: max pooling to the same sizes ⌊γ H_m⌋ as the spectral pools, so that
#   only the kind of pooling differs.
#
# Every number here is read from `data/results/spectral_pooling/`. Regenerate with
#
# ```bash
# python -m spectral run spectral_pooling --profile cpu     # this page's scale
# python -m spectral run spectral_pooling --profile paper --devices cuda:0
# ```

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import HTML, display

from spectral import results as res
from spectral.experiments import expand, notebook_parameters
from spectral.plotting import TEXT_WIDTH, use_book_style

use_book_style()
pd.options.display.max_colwidth = None  # tables show whole texts

EXPERIMENT = "spectral_pooling"
DEFAULTS = notebook_parameters(EXPERIMENT)  # what a record does not name
PAPER = DEFAULTS | expand(EXPERIMENT, "paper")[0].params | {"model": "net (5)"}
FIG_4B = 0.086  # Rippel et al., Fig. 4(b): CIFAR-10 test error of net (5)
STUDENT = 0.1876  # Jain et al. (2017)
POOLS = ["spectral", "max", "max_matched"]
PROFILES = res.profiles(EXPERIMENT)  # every profile with results, largest scale first
runs, lower_lr = {}, []  # the profiles' own runs; extra control runs at other learning rates
for profile in PROFILES:
    profile_lr = expand(EXPERIMENT, profile)[0].params["lr"]
    everything = res.records(EXPERIMENT, profile)
    runs[profile] = [r for r in everything if r["params"]["lr"] == profile_lr]
    lower_lr += [r for r in everything if r["params"]["lr"] != profile_lr]


def summary(records: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-run final errors and epoch times, and their mean/std per pooling."""
    done = [r for r in records if r["status"] == "complete"]
    final = res.final_table(done, params=("pool", "seed"),
                            metrics=("test_accuracy", "train_accuracy"))
    final["test_error"] = 1 - final["test_accuracy"]
    final["train_error"] = 1 - final["train_accuracy"]
    final["at_chance"] = [res.at_chance([m["train_loss"] for m in r["metrics"]], 10)
                          for r in done]
    final["epoch_time_s"] = [pd.Series([m["epoch_time_s"] for m in r["metrics"]]).median()
                             for r in done]
    ours = final.groupby("pool").agg(
        runs=("seed", "size"), at_chance=("at_chance", "sum"),
        test_error_mean=("test_error", "mean"), test_error_std=("test_error", "std"),
        train_error_mean=("train_error", "mean"),
    ).reindex(POOLS)
    return final, ours


finals, summaries = {}, {}
for profile, records in runs.items():
    finals[profile], summaries[profile] = summary(records)

if PROFILES:
    MAIN = PROFILES[0]
    ours_params = res.shared_params(runs[MAIN], DEFAULTS) | {"model": "net (5)"}
    s = summaries[MAIN]
    spectral_text = (f"{100 * s.loc['spectral', 'test_error_mean']:.2f} % ± "
                     f"{100 * s.loc['spectral', 'test_error_std']:.2f} %")
    dead = [p for p in POOLS[1:] if s.loc[p, "at_chance"] == s.loc[p, "runs"]]
    dead_lower = sum(res.at_chance([m["train_loss"] for m in r["metrics"]], 10)
                     for r in lower_lr if r["params"]["profile"] == MAIN)
    if dead:
        comparison = (
            f"undecided: the {' and '.join(f'`{p}`' for p in dead)} control"
            f"{'s' if len(dead) > 1 else ''} never left chance level (final training loss "
            "within 1 % of ln 10) in any seed"
            + (f", nor in {dead_lower} runs at lower learning rates" if dead_lower else "")
            + ", so the difference in error measures their failure to train at this "
            "initialisation, not their pooling"
        )
    else:
        d = res.paired_difference(res.seed_values(finals[MAIN], "test_error", pool="max"),
                                  res.seed_values(finals[MAIN], "test_error", pool="spectral"))
        comparison = f"{res.paired_verdict(d)} ({d.describe(100, ' points')})"
    display(HTML(res.verdict_box(
        claim="Rippel et al. §5.1: the tuned spectral-pooling net (5) attains “classification "
        "rates of 8.6% on CIFAR-10”, “competitive results among approaches that do not "
        "employ data augmentation”.",
        paper=[f"Fig. 4(b): net (5), {100 * FIG_4B:.1f} % CIFAR-10 test error, beside other "
               "published methods (not beside a max-pooled net (5)).",
               f"Jain et al. (2017), student re-implementation: {100 * STUDENT:.2f} %."],
        ours=[f"`{MAIN}` profile, spectral pooling: test error {spectral_text} over "
              f"{int(s.loc['spectral', 'runs'])} seeds."]
        + [f"`{p}` control: test error {100 * s.loc[p, 'test_error_mean']:.2f} %, "
           f"{int(s.loc[p, 'at_chance'])} of {int(s.loc[p, 'runs'])} runs at chance level."
           for p in POOLS[1:]],
        scale=res.scale_rows(ours_params, PAPER, dataset_size=50000,
                             seeds=(int(s.loc["spectral", "runs"]), "not stated"),
                             baseline=(spectral_text, f"{100 * FIG_4B:.1f} %"),
                             baseline_label="spectral-pooling test error"),
        verdict=[
            f"The paper's {100 * FIG_4B:.1f} %: "
            f"{res.scale_verdict(res.below_scale(ours_params, PAPER, dataset_size=50000))}.",
            f"Spectral against max pooling inside net (5), at the paper's hyper-parameters: "
            f"{comparison}.",
        ],
    )))
else:
    print("no results: run `python -m spectral run spectral_pooling --profile cpu`")

# %% [markdown]
# ## Setting

# %% tags=["hide-input"]
for profile in PROFILES:
    p = res.shared_params(runs[profile], DEFAULTS)
    print(res.wrap(f"{len(runs[profile])} {profile}-profile runs: "
                   + ", ".join(f"{r['run_id']} ({r['status']})" for r in runs[profile])))
    print(res.wrap(
        f"setting: net (5), M = {p['num_layers']}, width {p['width']} (filters × width), "
        f"CIFAR-10, {p['train_subset'] or 'all'} training images (class-balanced), no "
        f"augmentation, {p['epochs']} epochs, batch {p['batch_size']}, SGD momentum "
        f"{p['momentum']}, lr {p['lr']} ÷10 at epochs {p['milestones']}, weight decay "
        f"{p['weight_decay']}; test on {p['test_subset'] or 'all'} test images"
    ))

# %% [markdown]
# ## Test error, mean ± standard deviation over seeds
#
# Beside the two published figures (full data, 150 epochs, width 1). Our rows are not
# comparable with those in absolute terms; they compare the three poolings with each other
# under one small budget. "At chance": runs whose final training loss is within 1 % of
# ln 10, the loss of a constant prediction.

# %% tags=["hide-input"]
published = pd.DataFrame(
    {"source": ["Rippel et al. (2015), Fig. 4(b)", "Jain et al. (2017), student"],
     "CIFAR-10 test error": [f"{100 * FIG_4B:.1f} %", f"{100 * STUDENT:.2f} %"],
     "scale": ["full", "full"]}
).set_index("source")
display(published)
for profile, ours in summaries.items():
    print(f"{profile} profile")
    shown = ours.copy()
    for column in ("test_error_mean", "test_error_std", "train_error_mean"):
        shown[column] = (100 * shown[column]).round(2)
    display(shown.rename(columns=lambda c: c.replace("_error", " error %").replace("_", " ")))

# %% [markdown]
# ## Learning curves
#
# Test error per epoch for each seed (thin) and the mean over seeds (thick).

# %% tags=["hide-input"]
for profile, records in runs.items():
    curves = res.epoch_table(records, params=("pool", "seed"))
    curves["test error"] = 1 - curves["test_accuracy"]
    curves["train error"] = 1 - curves["train_accuracy"]
    fig, axes = plt.subplots(1, 2, figsize=(TEXT_WIDTH, 3.6), sharey=True)
    for ax, column in zip(axes, ["train error", "test error"], strict=True):
        sns.lineplot(data=curves, x="epoch", y=column, hue="pool", units="seed",
                     estimator=None, lw=0.7, alpha=0.4, ax=ax, legend=False)
        sns.lineplot(data=curves, x="epoch", y=column, hue="pool", errorbar=None, lw=2, ax=ax,
                     legend=ax is axes[1])
        ax.set_title(f"{column} ({profile} profile)")
    axes[0].set_ylim(0, 1)
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## How the max-pooling controls fail
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

# %% tags=["hide-input", "nbval-ignore-output"]
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
for pool in POOLS if batches else ():
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
    display(pd.DataFrame(rows).set_index(["pool", "step"]).round(3))

# %% [markdown]
# In this diagnosis the max-pooled nets lose many of their deep channels within a few
# steps and their logits vary less and less across images; the stride-2 control starts
# with many dead channels already (its last maps are 2×2 and 1×1, so a channel is dead as
# soon as a handful of values are negative), and the matched control starts with inflated
# logits (a max of non-negative values grows the activations at each of the six pools,
# which the He initialisation does not compensate). It does not show that spectral pooling
# protects a deep stack in general: after 12 steps the spectral net's loss is also close
# to ln 10 (the table), it is one configuration (one width, one initialisation, the
# profile's learning rate), and the controls would need another initialisation, or a
# normalisation layer, to train at all.

# %% [markdown]
# Does a smaller learning rate rescue them? The stride-2 control, run again with the
# profile's settings but lower learning rates (training loss per epoch):

# %% tags=["hide-input"]
for r in sorted(lower_lr, key=lambda r: -r["params"]["lr"]):
    losses = ", ".join(f"{m['train_loss']:.3f}" for m in r["metrics"])
    print(res.wrap(f"pool={r['params']['pool']}, lr {r['params']['lr']}: train loss {losses}; "
                   f"final test accuracy {r['final']['test_accuracy']:.3f}; at chance: "
                   f"{res.at_chance([m['train_loss'] for m in r['metrics']], 10)}"))

# %% [markdown]
# ## What each pooling costs here

# %% tags=["hide-input", "nbval-ignore-output"]
for profile, final in finals.items():
    print(f"{profile} profile, median epoch time (s):")
    display(final.groupby("pool")["epoch_time_s"].median().round(1).to_frame())

# %% [markdown]
# ## Verdict
#
# The differences in test error against the spectral net, for the record (with the
# controls at chance they measure the controls' collapse, not their pooling):

# %% tags=["hide-input"]
for profile, final in finals.items():
    spectral = res.seed_values(final, "test_error", pool="spectral")
    print(f"{profile} profile")
    for pool in POOLS[1:]:
        paired = res.paired_difference(res.seed_values(final, "test_error", pool=pool), spectral)
        print(res.wrap(f"{pool} − spectral test error: {paired.describe(100, ' points')}"))

# %% [markdown]
# The paper's 8.6 % and the student's 18.76 % are errors after 150 epochs on the full
# training set at width 1; our runs train a narrower net for a few epochs on a subset
# (the scale in the box at the top), and their error says nothing about either figure.
# What this scale shows is limited to this one configuration: the spectral net trains
# slowly, as the paper's small learning rate implies (its training error is still high
# when the budget ends), while both max-pooling controls, at the same hyper-parameters
# and initialisation, never leave chance level, also at lower learning rates. A
# like-for-like swap of the pooling inside net (5) therefore needs another initialisation
# or a normalisation layer, and then it is no longer the same net; whether spectral pooling
# itself makes an unnormalised stack easier to train is not decided here. The `paper`
# profile (150 epochs, full data, width 1, three seeds) is the run that tests the 8.6 %
# claim; it needs a GPU.
