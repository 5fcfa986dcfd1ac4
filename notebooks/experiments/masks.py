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
dataset = "cifar10"
model = "resnet20"
variant = "masks"
width = 1.0
epochs = 200
batch_size = 128
lr = 0.01  # the paper: SGD, momentum 0.9, lr 0.01 for CIFAR, weight decay 1e-4
momentum = 0.9
weight_decay = 1e-4
schedule = "multistep"
milestones = [100, 150]
gamma = 0.1
augment = True
gauss_sigma = 0.1
drop_p = 0.2
mask_init_mean = 0.8
mask_init_std = 0.2
mask_lr_scale = 1.0  # learning rate of the latent masks relative to the weights'
mask_weight_decay = 0.0
corruptions = ["impulse_noise", "fog", "contrast", "gaussian_noise"]
severities = [1, 2, 3, 4, 5]
corruption_seed = 0
train_subset = 0
val_fraction = 0.0
test_subset = 0
amp = None
seed = 0
device = "cpu"
data_root = None
experiment = "masks"
run_id = "interactive"
profile = "interactive"
run_params = {}
result_path = None
checkpoint_path = None

# %%
import time

import torch

from spectral.corruptions import GaussianNoiseLoader, corrupt
from spectral.data import TensorLoader, make_loaders
from spectral.experiments import write_result
from spectral.masks import (
    FrequencyMask,
    attach_mask_clipping,
    mask_param_group_,
    mask_sparsity,
    named_masks,
    set_random_drop_,
)
from spectral.models import create
from spectral.train import TrainConfig, evaluate, fit, seed_everything

VARIANTS = ("natural", "gauss", "masks", "masks_random_drop", "masks_continuous")
if variant not in VARIANTS:
    raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
masked = variant.startswith("masks")

seed_everything(seed)
start = time.perf_counter()
loaders = make_loaders(
    dataset,
    batch_size=batch_size,
    augment=augment,
    train_subset=train_subset,
    val_fraction=val_fraction,
    test_subset=test_subset,
    device=device,
    seed=seed,
    root=data_root,
)
test_loader = loaders.test
train_loader = loaders.train
if variant == "gauss":
    train_loader = GaussianNoiseLoader(loaders.train, gauss_sigma, seed=seed)
print(f"{dataset}: {len(loaders.train.labels)} train, {len(test_loader.labels)} test; "
      f"variant {variant}")

extra = {"masks": True} if masked else {}
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels,
             width=width, **extra)
if masked:
    for module in net.modules():
        if isinstance(module, FrequencyMask):
            module.init_mean, module.init_std = mask_init_mean, mask_init_std
            module.reset_parameters()
            module.binarize = variant != "masks_continuous"
    if variant == "masks_random_drop":
        set_random_drop_(net, drop_p)
print(f"{model} (width {width}): {sum(p.numel() for p in net.parameters()):,} parameters")


# %%
def mask_hook(optimizer):
    """Masks in their own parameter group, clipped to [0, 1] after every step (Alg. 1)."""
    mask_param_group_(optimizer, net, lr_scale=mask_lr_scale, weight_decay=mask_weight_decay)
    attach_mask_clipping(optimizer, net)


def mask_stats(epoch, model_, metrics):
    if not masked:
        return None
    fractions = mask_sparsity(model_)
    return {"mask_fraction": fractions,
            "mask_fraction_mean": sum(fractions.values()) / len(fractions)}


config = TrainConfig(
    epochs=epochs,
    optimizer="sgd",
    lr=lr,
    momentum=momentum,
    weight_decay=weight_decay,
    schedule=schedule,
    milestones=tuple(milestones),
    gamma=gamma,
    amp=amp,
)
history = fit(
    net,
    train_loader,
    test_loader,
    config,
    device=device,
    checkpoint=checkpoint_path,
    callbacks=[mask_stats],
    optimizer_hooks=[mask_hook] if masked else [],
)
final = dict(history["final"])
print(history["status"], {k: round(v, 4) for k, v in final.items() if isinstance(v, float)})

# %% [markdown]
# Robustness: the test images corrupted at every severity (uint8 → corrupted uint8 →
# normalised with the training statistics), accuracy per kind and severity.

# %%
corrupted = {}
if history["status"] == "complete":
    for k_index, kind in enumerate(corruptions):
        corrupted[kind] = {}
        for severity in severities:
            generator = torch.Generator().manual_seed(
                corruption_seed * 1_000_003 + 10 * k_index + severity
            )
            images = corrupt(test_loader.images.cpu(), kind, severity, generator=generator)
            loader = TensorLoader(images, test_loader.labels, batch_size=500,
                                  mean=test_loader.mean.flatten(), std=test_loader.std.flatten(),
                                  device=device)
            corrupted[kind][str(severity)] = evaluate(net, loader, device, amp)["accuracy"]
        mean = sum(corrupted[kind].values()) / len(corrupted[kind])
        print(f"{kind:>15}: " + " ".join(f"{a:.3f}" for a in corrupted[kind].values())
              + f"  mean {mean:.3f}")
    final["corruption_accuracy"] = corrupted
    final["corruption_mean"] = {k: sum(v.values()) / len(v) for k, v in corrupted.items()}
    if masked:
        final["mask_fraction"] = mask_sparsity(net)
        final["masks"] = {
            name: module.binary().to(torch.int8).tolist() for name, module in named_masks(net)
        }
        final["mask_latent_quantiles"] = {
            name: torch.quantile(module.latent.detach().flatten().float(),
                                 torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0])).tolist()
            for name, module in named_masks(net)
        }

# %%
if result_path is not None:
    write_result(
        result_path,
        experiment=experiment,
        run_id=run_id,
        params=run_params,
        status=history["status"],
        metrics=history["epochs"],
        final=final,
        wall_time_s=time.perf_counter() - start,
        device=device,
    )
