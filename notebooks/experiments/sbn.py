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
# is a name of `spectral.norm.norm_variant` (`"BN"`, `"2BN34"`, `"SBN34"`, `"SBN4"`, ...),
# optionally followed by `-<parts>` for an SBN ablation of `SpectralBatchNorm2d(parts=...)`
# (`"SBN34-no_pattern"`, `"SBN34-center"`, `"SBN34-scale"`). After every epoch the
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
dataset = "cifar10"
model = "resnet18"
variant = "SBN34"
sbn_impl = "spatial"
width = 1.0
epochs = 200
batch_size = 128
lr = 0.1
momentum = 0.9
weight_decay = 1e-4
schedule = "multistep"
milestones = [90, 136]
gamma = 0.1
augment = True
train_subset = 0
val_fraction = 0.1  # §IV-A: 9/1 train/validation split, test at the best validation epoch
test_subset = 0
amp = None
seed = 0
device = "cpu"
data_root = None
experiment = "sbn"
run_id = "interactive"
profile = "interactive"
run_params = {}
result_path = None
checkpoint_path = None

# %%
import re
import time

import torch

from spectral.data import make_loaders
from spectral.experiments import write_result
from spectral.models import create
from spectral.norm import norm_variant
from spectral.train import TrainConfig, evaluate, fit, seed_everything

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
name, _, parts = variant.partition("-")
options = {"impl": sbn_impl} | ({"parts": parts} if parts else {})
norm_layer = norm_variant(name, **options) if name.startswith("SBN") else norm_variant(name)
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels,
             width=width, norm_layer=norm_layer)
print(f"{dataset}: {len(loaders.train.labels)} train, "
      f"{0 if loaders.val is None else len(loaders.val.labels)} validation, "
      f"{len(loaders.test.labels)} test")
print(f"{model} + {variant} (width {width}): {sum(p.numel() for p in net.parameters()):,} "
      "parameters")

# %%
probe = next(iter(loaders.test))[0]
NORM_OUTPUT = re.compile(r"(bn\d|layer\d\.\d+\.bn\d|features\.\d+)")


def feature_map_statistics(epoch, model_, metrics):
    """Per-sample L2 norm and max |value| after each normalisation, on a fixed batch."""
    layers = {
        n: m for n, m in model_.named_modules()
        if NORM_OUTPUT.fullmatch(n) and any(
            isinstance(x, torch.nn.modules.batchnorm._NormBase)
            or type(x).__name__ == "SpectralBatchNorm2d" for x in m.modules()
        )
    }
    stats, hooks = {}, []
    for layer_name, module in layers.items():
        def record(_, __, output, layer_name=layer_name):
            flat = output.detach().flatten(1).float()
            stats[f"norm/{layer_name}"] = float(flat.norm(dim=1).mean())
            stats[f"absmax/{layer_name}"] = float(flat.abs().max())
        hooks.append(module.register_forward_hook(record))
    was_training = model_.training
    model_.eval()
    with torch.no_grad():
        model_(probe)
    model_.train(was_training)
    for hook in hooks:
        hook.remove()
    return stats


def validation(epoch, model_, metrics):
    if loaders.val is None:
        return None
    result = evaluate(model_, loaders.val, device, amp)
    return {"val_loss": result["loss"], "val_accuracy": result["accuracy"]}


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
history = fit(net, loaders.train, loaders.test, config, device=device,
              checkpoint=checkpoint_path, callbacks=[validation, feature_map_statistics])
final = {k: v for k, v in history["final"].items() if "/" not in k}
if loaders.val is not None and history["epochs"]:
    best = max(history["epochs"], key=lambda m: m.get("val_accuracy", -1.0))
    final |= {"best_val_epoch": best["epoch"], "test_accuracy_at_best_val": best["test_accuracy"]}
print(history["status"], {k: round(v, 4) if isinstance(v, float) else v for k, v in final.items()})

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
