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
variant = "SBN34"  # BN, 2BN34, 2BN34-scaled, SBN34, SBN34-ortho, SBN34-<part>, BN-logit-scale
sbn_impl = "spatial"
width = 1.0
epochs = 200
weight_decay = 1e-4
schedule = "multistep"
milestones = [90, 136]
val_fraction = 0.1  # §IV-A: 9/1 train/validation split, test at the best validation epoch
record_stages = []  # e.g. ["layer3", "layer4"]: feature-map statistics there only ([]: all)
# Shared settings not listed here keep spectral.recipe.StandardRun's defaults.

# %% [markdown]
# The arms. `SBN34-ortho` is SBN with the unitary DFT (`fft_norm="ortho"`), which
# removes the 1/√(HW) factor; `2BN34-scaled` is the 2BN34 control whose second batch
# norm starts at γ = 1/√(HW); `BN-logit-scale` is BN with a fixed factor before the
# classifier, SBN34's classifier-input ratio to BN at initialisation (same
# convolutions, the fixed test batch, training mode). The last two are the rescalings
# chapter 06 derives SBN to perform, without any FFT.

# %%
from spectral.callbacks import FeatureMapStatistics
from spectral.models import create, norm_variant
from spectral.models.variants import classifier_input_norm, scale_classifier_input_
from spectral.recipe import StandardRun

run = StandardRun.from_namespace(globals())
loaders = run.loaders()
probe = next(iter(loaders.test))[0]  # a fixed test batch; its size sizes 2BN…-scaled
input_size = tuple(probe.shape[-2:])


def network(name: str):
    if name.startswith("SBN"):
        base, _, option = name.partition("-")
        options = {"impl": sbn_impl} | (
            {"fft_norm": "ortho"} if option == "ortho" else {"parts": option} if option else {}
        )
        norm_layer = norm_variant(base, input_size=input_size, **options)
    else:
        norm_layer = norm_variant(name, input_size=input_size)
    return create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels,
                  width=width, norm_layer=norm_layer)


extra = {}
if variant == "BN-logit-scale":
    net = network("BN")
    reference = network("SBN34")
    reference.load_state_dict(net.state_dict(), strict=False)  # the same convolutions
    factor = classifier_input_norm(reference, probe) / classifier_input_norm(net, probe)
    scale_classifier_input_(net, factor)
    extra["logit_scale"] = factor
    print(f"classifier input scaled by {factor:.4f} (SBN34 / BN at initialisation)")
else:
    net = network(variant)

# %% [markdown]
# After every epoch, on the fixed test batch: the per-sample L2 norm, the distribution
# of |values| (1st, 50th, 99th, 99.9th percentiles and the max) and the spectral
# flatness of the feature maps after each normalisation (the paper's Fig. 1–3).

# %%
where = (lambda name: name.split(".")[0] in record_stages) if record_stages else None
statistics = FeatureMapStatistics(probe, where=where, flatness=True)
outcome = run.train(net, loaders, callbacks=[statistics])
outcome.final |= extra
run.save(outcome)
