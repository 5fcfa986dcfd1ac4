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
# # Results · Spectral Batch Normalization
#
# {cite:t}`cakaj2023sbn` report, for ResNet-18 on CIFAR-10 (Table I; 200 epochs, 45,000
# training images, best-on-validation model, 5 seeds), 94.04 % ± 0.08 % for the baseline,
# 93.90 % ± 0.26 % with a second batch norm after each batch norm of modules 3 and 4
# ("2BN34", the control for the extra layer) and 94.43 % ± 0.11 % with an SBN there
# ("SBN34"). This page trains the three variants at this machine's scale, plus three
# ablations that chapter 06's identity `SBN(x) = s·x + irfft2(c·𝟙)` suggests
# (`SpectralBatchNorm2d(parts=...)`):
#
# * `no_pattern`: `s·x` only, a channel-wise rescaling by the spectral standard deviation;
# * `center`: subtract the spectral mean only, `γ·x + irfft2((β − γμ)·𝟙)` (§V-D);
# * `scale`: divide by the spectral standard deviation only, `s·x + irfft2(β·𝟙)` (§V-E).
#
# Every number is read from `data/results/sbn/`. Regenerate with
#
# ```bash
# python -m spectral run sbn --profile cpu      # this page's scale
# python -m spectral run sbn --profile paper --devices cuda:0
# ```

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from spectral import results as res
from spectral.experiments import notebook_parameters

EXPERIMENT = "sbn"
DEFAULTS = notebook_parameters(EXPERIMENT)  # what a record does not name
ORDER = ["BN", "2BN34", "SBN34", "SBN34-no_pattern", "SBN34-center", "SBN34-scale"]
PROFILES = res.profiles(EXPERIMENT)  # every profile with results, largest scale first


def setting(params: dict) -> str:
    held_out = params.get("val_fraction") or 0
    test = (
        f"tested at the best validation epoch ({held_out:.0%} of the training split held out)"
        if held_out
        else "final model tested"
    )
    return (
        f"{params['model']} width {params['width']} on CIFAR-10, "
        f"{params['train_subset'] or 'all'} training images (class-balanced), crop + flip, "
        f"{params['epochs']} epochs, batch {params['batch_size']}, SGD momentum 0.9, "
        f"lr {params['lr']} ÷10 at epochs {params['milestones']}, weight decay "
        f"{params['weight_decay']}; {test} on {params['test_subset'] or 'all'} test images"
        + ("" if held_out else " (no validation split at this scale)")
    )


runs = {profile: res.records(EXPERIMENT, profile) for profile in PROFILES}
for profile, records in runs.items():
    print(
        f"{len(records)} {profile}-profile runs: "
        + ", ".join(f"{r['run_id']} ({r['status']})" for r in records)
    )
    print(f"setting: {setting(res.shared_params(records, DEFAULTS))}")
if not PROFILES:
    print("no results: run `python -m spectral run sbn --profile cpu`")

# %% [markdown]
# ## Accuracy, mean ± standard deviation over seeds

# %%
PAPER = pd.Series({"BN": "94.04 ± 0.08", "2BN34": "93.90 ± 0.26", "SBN34": "94.43 ± 0.11"})
finals = {
    profile: res.final_table(
        [r for r in records if r["status"] == "complete"],
        params=("variant", "seed"),
        metrics=("test_accuracy", "train_accuracy"),
    )
    for profile, records in runs.items()
}
for profile, final in finals.items():
    ours = final.groupby("variant").agg(
        runs=("seed", "size"),
        test_mean=("test_accuracy", "mean"),
        test_std=("test_accuracy", "std"),
        train_mean=("train_accuracy", "mean"),
    )
    ours = ours.reindex([v for v in ORDER if v in ours.index])
    table = pd.DataFrame(
        {
            "paper (Table I), %": PAPER.reindex(ours.index).fillna("—"),
            "ours, test %": [
                f"{100 * m:.2f} ± {100 * s:.2f}"
                for m, s in zip(ours["test_mean"], ours["test_std"], strict=True)
            ],
            "ours, train %": (100 * ours["train_mean"]).round(2),
            "seeds": ours["runs"],
        }
    )
    print(f"{profile} profile")
    print(table.to_string())

# %% [markdown]
# ## Learning curves

# %%
curves = {
    profile: res.epoch_table(records, params=("variant", "seed"))
    for profile, records in runs.items()
}
for profile, curve in curves.items():
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, column in zip(axes, ["train_accuracy", "test_accuracy"], strict=True):
        sns.lineplot(
            data=curve, x="epoch", y=column, hue="variant", hue_order=ORDER, errorbar=None, ax=ax
        )
        ax.set_title(f"{column.replace('_', ' ')} ({profile} profile)")
    axes[0].set_ylim(0, 1)
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## Feature-map norms (the paper's Fig. 1)
#
# The per-sample L2 norm of the output of the normalisation after the last convolution
# of each stage-4 block (`layer4.*.bn2`: BN, BN → BN or BN → SBN), measured after each
# epoch on a fixed batch of 500 test images in eval mode. The paper finds SBN's output
# norm much smaller than that of one or two batch norms.

# %%
def plot_per_epoch(curve: pd.DataFrame, statistic: str, label: str) -> pd.DataFrame:
    """One panel per layer of ``statistic`` (``norm`` or ``absmax``) per epoch, log scale."""
    stage_4 = f"{statistic}/layer4"
    columns = [c for c in curve.columns if c.startswith(stage_4) and c.endswith("bn2")]
    frame = curve.melt(
        id_vars=["variant", "seed", "epoch"], value_vars=columns, var_name="layer", value_name=label
    )
    frame["layer"] = frame["layer"].str.removeprefix(f"{statistic}/")
    grid = sns.relplot(
        data=frame, x="epoch", y=label, hue="variant", hue_order=ORDER, col="layer",
        kind="line", errorbar=None, height=3.5, aspect=1.2,
    )
    grid.set(yscale="log")
    plt.show()
    return frame


for profile, curve in curves.items():
    long = plot_per_epoch(curve, "norm", "L2 norm")
    last = long[long["epoch"] == long["epoch"].max()]
    print(f"{profile} profile, L2 norm after the last epoch, mean over seeds:")
    print(
        last.groupby(["layer", "variant"])["L2 norm"].mean().unstack()
        .reindex(columns=[v for v in ORDER if v in set(last["variant"])]).round(1).to_string()
    )

# %% [markdown]
# The largest absolute value in the same feature maps (the top of the distribution that
# the paper's Fig. 2 shows as histograms), per epoch:

# %%
for curve in curves.values():
    plot_per_epoch(curve, "absmax", "max |value|")

# %% [markdown]
# The paper's Fig. 1 observation reproduces at this scale: the output of an SBN layer has a
# several times smaller norm than the output of one or of two batch norms. The ablations
# locate it: the variants that divide by the spectral standard deviation (`no_pattern`,
# `scale`) show the same small norm, the one that only subtracts the spectral mean
# (`center`) does not. This is chapter 06's prediction: the smaller maps are the
# per-channel factor $s \approx \gamma/\sqrt{HW}$ of the unnormalised DFT, not a property of
# frequency-domain processing.
#
# ## Verdict


# %%
PAIRS = [("SBN34", "BN"), ("SBN34", "2BN34"), ("2BN34", "BN")]
PAIRS += [(ablation, "SBN34") for ablation in ORDER[3:]]


def paper_gap(a: str, b: str) -> str:
    if a not in PAPER or b not in PAPER:
        return "—"
    return f"{float(PAPER[a].split()[0]) - float(PAPER[b].split()[0]):+.2f}"


def paired(final: pd.DataFrame, a: str, b: str) -> res.PairedDifference:
    """Test accuracy of ``a`` minus ``b``, paired by seed."""
    return res.paired_difference(
        res.seed_values(final, "test_accuracy", variant=a),
        res.seed_values(final, "test_accuracy", variant=b),
    )


def compare(final: pd.DataFrame, a: str, b: str) -> str:
    """Difference of mean test accuracy, 2·SE test and paired 95 % t-interval, in points."""
    arms = [final.loc[final["variant"] == v, "test_accuracy"] for v in (a, b)]
    if min(len(arm) for arm in arms) < 2:
        return "n/a (fewer than 2 seeds of one arm)"
    gap = res.two_se_gap(*arms)
    return (
        f"{100 * gap.difference:+.2f} points (paper: {paper_gap(a, b)}); standard error "
        f"{100 * gap.standard_error:.2f} points: "
        f"{'resolved' if gap.resolved else 'within noise'}; paired over seeds: "
        f"{paired(final, a, b).describe(100, ' points')}"
    )


for profile, final in finals.items():
    print(f"{profile} profile")
    present = [(a, b) for a, b in PAIRS if {a, b} <= set(final["variant"])]
    for a, b in present:
        print(f"{a} − {b}: {compare(final, a, b)}")
    resolved = [f"{a} − {b}" for a, b in present if paired(final, a, b).excludes_zero]
    print(f"resolved by the paired interval: {', '.join(resolved) or 'none'}\n")

# %% [markdown]
# The lines above are the verdict at each scale, computed from the result files, by two
# tests. The first is unpaired: a difference of the means counts as *resolved* only if it
# exceeds twice its standard error over seeds. The second pairs the runs by seed (a seed
# fixes the data order for every variant) and gives the mean of the per-seed differences
# with its 95 % Student-t interval, resolved when the interval excludes zero; it uses
# only the seeds both variants ran, so for the ablations, run with fewer seeds, its mean
# differs from the unpaired one, and with two or three seeds the interval is wide (the t
# quantile is 12.7 for two seeds, 4.3 for three).
#
# The paper's gains (+0.39 points for SBN34 over the baseline, +0.53 over 2BN34) are
# differences of a few tenths of a point between 94 % models; our runs are short,
# small-data and narrow, their accuracies are far lower, and their seed-to-seed spread
# is several points, so they can neither confirm nor refute gains of that size. Where
# pairing removes the seed-to-seed spread enough to resolve a difference at the `cpu`
# scale (the list under each profile), it does not go the paper's way: SBN34 is then
# below its 2BN34 control, not above it. That is a statement about the `cpu` profile's
# short budget (its settings are printed at the top), not about the paper's 200 epochs.
# The `paper` profile (ResNet-18 width 1, 200 epochs, 9/1 split, 5 seeds) runs the real
# test on a GPU; its results appear on this page, above the `cpu` ones, once they are in
# `data/results/sbn/`.
# Chapter 06's analysis predicts what to look for there: SBN acts as a per-channel
# rescaling by the spectral standard deviation (a factor ≈ 1/√(HW) at initialisation)
# plus a one-pixel shift, so if the gain is real, the `no_pattern` ablation, which keeps
# only the rescaling, should retain most of it.
