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
# # Results · Spectral parameterization under Adam (Rippel Fig. 5)
#
# {cite:t}`rippel2015spectral` (§5.2, Fig. 5) train nets (5), (6) and (7) with 3×3 and
# 5×5 filters, once with spatial and once with spectrally parameterized filters, with
# Adam and data augmentation, and report *speed-up factors*: the epoch at which the
# spatial net reaches its best ("asymptotic") test error, divided by the epoch at which
# the spectral net first reaches that error. Chapter 05 showed that the two runs are the
# same model in two bases, that plain SGD cannot tell them apart and that Adam can. This
# page measures the speed-up at this book's CPU scale. Every number is read from
# `data/results/spectral_parameterization/`; regenerate them with
#
# ```bash
# python -m spectral run spectral_parameterization --profile cpu       # net (6)
# python -m spectral run spectral_parameterization --profile cpu_deep  # net (7), narrower
# python -m spectral report spectral_parameterization
# ```
#
# and at the paper's scale (width 1, all 50,000 training images, nets (5)–(7)) on a GPU:
#
# ```bash
# python -m spectral run spectral_parameterization --profile paper --devices cuda:0
# ```
#
# The paper reports neither its learning rate, its number of epochs for Fig. 5 nor its
# initialisation; our runs use Adam with learning rate $10^{-3}$, the nets' He
# initialisation, and a spectral run starts from exactly the filters of the spatial run
# of the same seed (re-expressed by `right_inverse`) and sees the same batches, so each
# pair differs *only* in the basis Adam works in.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from spectral import results as res
from spectral.experiments import expand, notebook_parameters

EXPERIMENT = "spectral_parameterization"
DEFAULTS = notebook_parameters(EXPERIMENT)  # what a record does not name
PROFILES = res.profiles(EXPERIMENT)  # every profile with results, largest scale first
records = [r for profile in PROFILES for r in res.records(EXPERIMENT, profile)]
for profile in PROFILES:
    mine = [r for r in records if r["params"]["profile"] == profile]
    params = res.shared_params(mine, DEFAULTS)
    status = pd.Series([r["status"] for r in mine], dtype=object).value_counts().to_dict()
    models = sorted({r["params"]["model"] for r in mine})
    kernels = sorted({r["params"]["kernel_size"] for r in mine})
    print(f"profile {profile}: {len(mine)} of {len(expand(EXPERIMENT, profile))} runs present "
          f"{status}")
    print(
        f"  {', '.join(models)}, filters {kernels}, width {params['width']} (channels and "
        f"hidden units × {params['width']}), CIFAR-10, {params['train_subset'] or 'all'} "
        f"training images (class-balanced), {params['epochs']} epochs, batch "
        f"{params['batch_size']}, Adam lr {params['lr']}, weight decay "
        f"{params['weight_decay']}, random crop (pad 4) + horizontal flip; test error on "
        f"{params['test_subset'] or 'all'} test images; seeds "
        f"{sorted({r['params']['seed'] for r in mine})}"
    )

# %% [markdown]
# ## Speed-up factors, the paper's way
#
# For each net, filter size and seed: $E^\ast$ is the spatial run's lowest test error and
# $t_{\text{spatial}}$ the first epoch at which it occurs; $t_{\text{spectral}}$ is the first
# epoch at which the spectral run of the same seed has test error $\le E^\ast$; the
# speed-up is $t_{\text{spatial}}/t_{\text{spectral}}$. Where the spectral run never reaches
# $E^\ast$ the speed-up is below $t_{\text{spatial}}/T$ ($T$ the number of epochs) and is
# listed as not reached. The last column applies the same rule to the seed-averaged
# curves, which smooths some of the test-set noise.

# %%
PAPER = {("rippel_deep", 3): 2.2, ("rippel_deep", 5): 4.8, ("rippel_generic", 3): 2.2,
         ("rippel_generic", 5): 5.1, ("rippel_spectral_pool_net", 3): 2.4,
         ("rippel_spectral_pool_net", 5): 4.8}
NAMES = {"rippel_deep": "Deep (7)", "rippel_generic": "Generic (6)",
         "rippel_spectral_pool_net": "Sp. Pooling (5)"}
RANK = {profile: i for i, profile in enumerate(PROFILES)}


def error_curve(record):
    return np.array([1 - m["test_accuracy"] for m in record["metrics"]])


runs = {(r["params"]["profile"], r["params"]["model"], r["params"]["kernel_size"],
         r["params"]["param"], r["params"]["seed"]): r
        for r in records if r["status"] == "complete"}
pairs = []
for (profile, model, k, param, seed), spatial in runs.items():
    spectral = runs.get((profile, model, k, "spectral", seed))
    if param != "spatial" or spectral is None:
        continue
    e_spatial, e_spectral = error_curve(spatial), error_curve(spectral)
    s = res.speedup(e_spatial, e_spectral)
    pairs.append({
        "profile": profile, "model": model, "kernel": k, "seed": seed,
        "best_spatial_error": s.best, "t_spatial": s.t_reference, "t_spectral": s.t_comparison,
        "speedup": s.factor, "epochs": len(e_spatial),
        "final_error_spatial": e_spatial[-1], "final_error_spectral": e_spectral[-1],
        "best_error_spectral": e_spectral.min(),
    })
pairs = pd.DataFrame(pairs, columns=["profile", "model", "kernel", "seed"] if not pairs else None)
pairs["rank"] = pairs["profile"].map(RANK)
pairs = pairs.sort_values(["model", "kernel", "rank", "seed"]).drop(columns="rank")
pairs["t_spectral"] = pairs["t_spectral"].astype("Int64")
pd.options.display.float_format = "{:.3f}".format
print(pairs.drop(columns="epochs").to_string(index=False))

# %%
def mean_curve_speedup(cell: tuple) -> float:
    """The speed-up of the seed-averaged test-error curves (less noisy than one pair)."""
    curves = {param: [error_curve(r) for key, r in runs.items() if key[:4] == (*cell, param)]
              for param in ("spatial", "spectral")}
    if not curves["spatial"] or not curves["spectral"]:
        return np.nan
    return res.speedup(np.mean(curves["spatial"], 0), np.mean(curves["spectral"], 0)).factor


def paired_final_error(cell: pd.DataFrame) -> res.PairedDifference:
    """Final test error spectral − spatial over the seeds of one cell."""
    by_seed = cell.set_index("seed")
    return res.paired_difference(by_seed["final_error_spectral"], by_seed["final_error_spatial"])


rows = []
for (model, k), paper in PAPER.items():
    ran = [p for p in PROFILES if ((pairs.model == model) & (pairs.kernel == k)
                                   & (pairs.profile == p)).any()] or [None]
    for profile in ran:
        cell = pairs[(pairs.model == model) & (pairs.kernel == k) & (pairs.profile == profile)]
        rows.append({
            "architecture": NAMES[model], "filter": f"{k}×{k}", "profile": profile or "—",
            "paper speed-up": paper, "ours: pairs": len(cell),
            "ours: reached": int(cell.t_spectral.notna().sum()),
            "ours: speed-up (mean)": cell.speedup.mean() if len(cell) else np.nan,
            "ours: per seed": ", ".join("—" if np.isnan(s) else f"{s:.2f}" for s in cell.speedup),
            "ours: seed-mean curves": mean_curve_speedup((profile, model, k)),
            "final error spectral − spatial": (
                paired_final_error(cell).describe(100, " pt") if len(cell) else "—"
            ),
        })
table = pd.DataFrame(rows)
with pd.option_context("display.width", 250):
    print(table.to_string(index=False, na_rep="—"))
print("—: cell not run (0 pairs), or the spectral run never reached the spatial best error;")
print("final error: mean over seeds (percentage points) with its paired 95 % t-interval")

# %% [markdown]
# ## Training curves (Fig. 5a)
#
# Test error per epoch; thin lines are seeds, the marker on each spatial curve is its
# best epoch $t_{\text{spatial}}$, the marker on the spectral curve of the same seed the
# epoch $t_{\text{spectral}}$ at which it first matches that error.

# %%
cells = sorted({(p, m, k) for (p, m, k, _, _) in runs}, key=lambda c: (RANK[c[0]], c[1:]))
fig, axes = plt.subplots(1, max(len(cells), 1), figsize=(3.6 * max(len(cells), 1), 3.4),
                         sharey=True, squeeze=False)
colors = {"spatial": "C0", "spectral": "C3"}
for ax, (profile, model, k) in zip(axes[0], cells, strict=False):
    mine = {key: r for key, r in runs.items() if key[:3] == (profile, model, k)}
    first = min(key[4] for key in mine)
    for (_, _, _, param, seed), record in mine.items():
        curve = error_curve(record)
        epochs = np.arange(1, len(curve) + 1)
        ax.plot(epochs, curve, color=colors[param], lw=1, label=param if seed == first else None)
    cell = pairs[(pairs.profile == profile) & (pairs.model == model) & (pairs.kernel == k)]
    for _, p in cell.iterrows():
        ax.plot(p.t_spatial, p.best_spatial_error, "D", color="C0", ms=5)
        if not pd.isna(p.t_spectral):
            ax.plot(p.t_spectral, p.best_spatial_error, "D", color="C3", ms=5)
    ax.set_title(f"{NAMES[model]}, {k}×{k} ({profile})")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
axes[0, 0].set_ylabel("test error")
axes[0, 0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## How sparse the learned filters are (Fig. 3b at this scale)
#
# Each run records, after every epoch, the share of first-layer filter energy held by the
# largest quarter of a filter's coordinates, measured both in the pixel basis and in the
# spectral coordinates $\theta$ (the two orthonormal bases of chapter 05), whichever basis
# the run was trained in. Rippel et al. argue that trained filters are more compact in
# the spectral basis; at initialisation both bases give the same value up to sampling.

# %%
energy = res.epoch_table(
    list(runs.values()),
    params=("profile", "model", "kernel_size", "param", "seed"),
    metrics=("epoch", "conv1_top25_energy_spatial", "conv1_top25_energy_spectral"),
).rename(columns={"kernel_size": "kernel", "param": "trained in",
                  "conv1_top25_energy_spatial": "pixel basis",
                  "conv1_top25_energy_spectral": "spectral basis"})
fig, axes = plt.subplots(1, max(len(cells), 1), figsize=(3.6 * max(len(cells), 1), 3.4),
                         sharey=True, squeeze=False)
for ax, (profile, model, k) in zip(axes[0], cells, strict=False):
    sub = energy[(energy.profile == profile) & (energy.model == model) & (energy.kernel == k)]
    for (trained, basis), style in {("spatial", "pixel basis"): ("C0", "--"),
                                    ("spatial", "spectral basis"): ("C3", "--"),
                                    ("spectral", "pixel basis"): ("C0", "-"),
                                    ("spectral", "spectral basis"): ("C3", "-")}.items():
        mean = sub[sub["trained in"] == trained].groupby("epoch")[basis].mean()
        ax.plot(mean.index, mean.values, style[1], color=style[0],
                label=f"trained {trained}, {basis}")
    ax.set_title(f"{NAMES[model]}, {k}×{k} ({profile})")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
axes[0, 0].set_ylabel("energy share of top 25 % coordinates")
axes[0, 0].legend(fontsize=7)
plt.tight_layout()
plt.show()

last_epoch = energy.groupby("profile")["epoch"].transform("max")
final_energy = energy[energy.epoch == last_epoch].groupby(
    ["profile", "model", "kernel", "trained in"]
)[["pixel basis", "spectral basis"]].mean()
print(final_energy.to_string())

# %% [markdown]
# ## Cost on this machine

# %%
times = res.epoch_table(
    list(runs.values()),
    params=("profile", "model", "kernel_size", "param"),
    metrics=("epoch_time_s",),
).rename(columns={"kernel_size": "kernel"})
print(f"devices: {sorted({r['device'] for r in records})}")
print(times.groupby(["profile", "model", "kernel", "param"]).epoch_time_s.median()
      .unstack("param").to_string())
for profile in PROFILES:
    wall = sum(r["wall_time_s"] for r in records if r["params"]["profile"] == profile)
    print(f"total wall time of the {profile} profile: {wall / 60:.0f} min")

# %% [markdown]
# ## Verdict
#
# The summary below is computed from the table above, not typed in.

# %%
done = table[table["ours: pairs"] > 0]
measured = pairs.speedup.dropna()
print(f"cells run: {len(done)} of the paper's {len(table)} "
      f"(net (5) is in the paper profile only)")
print(f"seed pairs: {len(pairs)}, spectral run reached the spatial best error in "
      f"{int(pairs.t_spectral.notna().sum())}")
if len(measured):
    print(f"speed-up over pairs that reached it: median {measured.median():.2f}, "
          f"range {measured.min():.2f}–{measured.max():.2f}; pairs with speed-up > 1: "
          f"{int((measured > 1).sum())}, = 1: {int((measured == 1).sum())}, "
          f"< 1 or not reached: "
          f"{int((measured < 1).sum() + pairs.speedup.isna().sum())}")
    ratio = (pairs.final_error_spectral / pairs.final_error_spatial)
    print(f"final test error spectral / spatial: median {ratio.median():.3f} over pairs; "
          f"spectral lower in {int((ratio < 1).sum())} of {len(ratio)} pairs")
    print(f"paper's speed-ups for the same cells: "
          f"{', '.join(f'{v:.1f}' for v in done['paper speed-up'])}")
    print(f"spatial runs whose best epoch is one of the last two: "
          f"{int((pairs.t_spatial >= pairs.epochs - 1).sum())} of {len(pairs)}")
    spread = pairs.groupby(["profile", "model", "kernel"]).final_error_spatial.std(ddof=1).mean()
    gap = (pairs.final_error_spectral - pairs.final_error_spatial).abs().mean()
    print(f"seed-to-seed std of the spatial final error (mean over cells): {spread:.3f}; "
          f"mean |spectral − spatial| final error within a pair: {gap:.3f}")
    resolved = {
        f"{model} {k}×{k} ({profile})": d
        for (profile, model, k), cell in pairs.groupby(["profile", "model", "kernel"])
        if (d := paired_final_error(cell)).excludes_zero
    }
    print("cells whose final-error difference the paired interval resolves: "
          + (", ".join(f"{name} ({'spectral' if d.mean < 0 else 'spatial'} lower)"
                       for name, d in resolved.items()) or "none"))

# %% [markdown]
# **Reading the numbers.** This is a small-scale test of the claim, not a reproduction at
# the paper's scale: net (6) at a quarter and net (7) at an eighth of the paper's width
# (the deep net was narrowed, and net (5) left out, to fit the CPU time this machine had),
# a few thousand training images, a dozen epochs, the seeds listed above, on a 2-core CPU
# shared with other jobs. Three caveats weigh on the measure itself. (i) With so few
# epochs a spatial net whose best epoch is one of the last (counted above) is still
# improving, so its "best" error is not the asymptotic one the paper matches against, and
# the speed-up is bounded by the number of epochs. (ii) On 1,000 test images one test
# error step is 0.1 %; compare the seed-to-seed spread printed above with the gap between
# the two parameterizations before reading much into a single pair's speed-up; the
# per-seed values in the table show how much they vary. (iii) The paper tuned its
# hyper-parameters with Bayesian optimisation and reports none of them for Fig. 5; ours
# are Adam's defaults for both parameterizations.
#
# **Verdict: the direction reproduces at this scale, the size does not.** In most seed
# pairs the spectrally parameterized net reaches the spatial net's best test error at
# the same epoch or a little earlier and ends with a lower test error (the counts are
# printed above): Adam does profit from the Fourier basis here, as the paper claims, for
# net (7) with both filter sizes and for net (6) with 5×5 filters. Over the seeds of a
# cell, the paired interval of the final-error difference resolves that gain for the
# cells listed last above; where a cell is not listed, its difference is within the
# seed-to-seed noise of so few seeds. Net (6) with 3×3 filters shows no advantage; some
# of its spectral runs never reach the spatial best.
# The measured factors stay close to 1 (median and range above), far from the paper's
# 2.2–5.1×; the 5×5 cells come out somewhat ahead of the 3×3 ones, in the paper's
# direction, but nothing like its jump from about 2× to about 5×. Caveat (i) limits
# what this small budget can show: the factor is a ratio of two epoch numbers no larger
# than the profile's epoch count, taken where most spatial nets have not converged.
# Whether the paper's factors hold at full width, on all 50,000 images and for net (5),
# is what the `paper` profile is for; it has not been run.
#
# Chapter 05 (section 8, Fig. 3c) shows the mechanism the paper proposes on a toy run:
# how unequally Adam's first moments are spread over spectral coordinates compared with
# pixels. Fig. 3b at this scale (the energy table above) shows little difference in how
# compact the trained first-layer filters are in either basis at the last epoch.

