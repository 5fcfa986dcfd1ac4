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
# # Experiment: learned frequency masks and robustness to corruptions
#
# The mask paper's Table 2 (ResNet-20 on CIFAR-10: natural training, Gaussian data
# augmentation, learned binarized frequency masks; clean accuracy and CIFAR-10-C impulse
# noise / fog / contrast), its Table 3 (fraction masked per layer) and the "random drop"
# control of its Table 1, plus a continuous-mask variant for its §5.1 question. One run
# trains one `variant`:
#
# - `natural`: the plain network (random crop + flip);
# - `gauss`: plus Gaussian noise on every training image, `σ ~ U[0, gauss_sigma]`;
# - `masks`: every convolution followed by a learned binarized frequency mask;
# - `masks_random_drop`: masks, plus each forward pass in training drops every frequency
#   with probability `drop_p` (§5.2);
# - `masks_continuous`: masks used as `clamp(M, 0, 1)` without binarization (§5.1).
#
# After training it evaluates the clean test set and every corruption at severities 1–5
# (the same corrupted images for every run: `corruption_seed`), and stores the accuracies,
# the per-layer mask fractions and the final binarized masks in the result.
#
# ```bash
# python -m spectral run masks --profile cpu
# python -m spectral run masks --profile paper --devices cuda:0
# python -m spectral report masks
# ```

# %% tags=["parameters"]
model = "resnet20"
variant = "masks"
width = 1.0
epochs = 200
lr = 0.01  # the paper: SGD, momentum 0.9, lr 0.01 for CIFAR, weight decay 1e-4
weight_decay = 1e-4
schedule = "multistep"
milestones = [100, 150]
gauss_sigma = 0.1
drop_p = 0.2
mask_init_mean = 0.8
mask_init_std = 0.2
mask_lr_scale = 1.0  # learning rate of the latent masks relative to the weights'
mask_weight_decay = 0.0
corruptions = ["impulse_noise", "fog", "contrast", "gaussian_noise"]
severities = [1, 2, 3, 4, 5]
corruption_seed = 0
# Shared settings not listed here keep spectral.recipe.StandardRun's defaults.

# %%
import torch

from spectral.callbacks import MaskStatistics, corruption_accuracy
from spectral.corruptions import GaussianNoiseLoader
from spectral.masks import (
    add_masks_,
    attach_mask_clipping_,
    mask_param_group_,
    mask_sparsity,
    named_masks,
)
from spectral.models import create
from spectral.recipe import StandardRun

VARIANTS = ("natural", "gauss", "masks", "masks_random_drop", "masks_continuous")
if variant not in VARIANTS:
    raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
masked = variant.startswith("masks")
run = StandardRun.from_namespace(globals())
loaders = run.loaders()
train_loader = GaussianNoiseLoader(loaders.train, gauss_sigma, seed=run.seed) \
    if variant == "gauss" else None
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels,
             width=width)
if masked:  # every convolution gets a mask on its output spectrum, sized for 32×32 images
    add_masks_(net, (32, 32), init_mean=mask_init_mean, init_std=mask_init_std,
               binarize=variant != "masks_continuous",
               random_drop=drop_p if variant == "masks_random_drop" else 0.0)


# %%
def mask_hook(optimizer):
    """Masks in their own parameter group, clipped to [0, 1] after every step (Alg. 1)."""
    mask_param_group_(optimizer, net, lr_scale=mask_lr_scale, weight_decay=mask_weight_decay)
    attach_mask_clipping_(optimizer, net)


outcome = run.train(net, loaders, train_loader=train_loader,
                    callbacks=[MaskStatistics()] if masked else [],
                    optimizer_hooks=[mask_hook] if masked else [])

# %% [markdown]
# Robustness: the test images corrupted at every severity (uint8 → corrupted uint8 →
# normalised with the training statistics; the same images for every run), accuracy per
# kind and severity.

# %%
if outcome.status == "complete":
    corrupted = corruption_accuracy(net, loaders.test, corruptions, severities,
                                    seed=corruption_seed, device=run.device,
                                    amp=run.config.amp)
    for kind, accuracy in corrupted.items():
        print(f"{kind:>15}: " + " ".join(f"{a:.3f}" for a in accuracy.values())
              + f"  mean {sum(accuracy.values()) / len(accuracy):.3f}")
    outcome.final["corruption_accuracy"] = corrupted
    outcome.final["corruption_mean"] = {k: sum(v.values()) / len(v)
                                        for k, v in corrupted.items()}
    if masked:
        outcome.final["mask_fraction"] = mask_sparsity(net)
        outcome.final["masks"] = {name: module.binary().to(torch.int8).tolist()
                                  for name, module in named_masks(net)}
        outcome.final["mask_latent_quantiles"] = {
            name: torch.quantile(module.latent.detach().flatten().float(),
                                 torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0])).tolist()
            for name, module in named_masks(net)
        }
run.save(outcome)
