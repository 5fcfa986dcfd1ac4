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
# # Experiment: spectral parameterization of filters under Adam
#
# Rippel et al. (2015), §5.2 and Fig. 5: the same net trained with Adam, its convolution
# filters learned either spatially (`param="spatial"`) or as spectral coordinates
# (`param="spectral"`, :func:`spectral.parametrize.spectral_parametrize`; 1×1
# convolutions stay spatial, their two bases coincide). Nets (6) `rippel_generic`,
# (7) `rippel_deep` or (5) `rippel_spectral_pool_net`, filter size `kernel_size`, with
# flips and small translations (random crop after zero-padding by 4 pixels). A run with
# `param="spectral"` starts from exactly the filters of the `spatial` run of the same seed
# (same initialisation, re-expressed), and sees the same batches, so the two differ only
# in the basis Adam works in. The speed-up is computed from pairs of runs on the results
# page. One run writes one result file:
#
# ```bash
# python -m spectral run spectral_parameterization --profile cpu       # net (6), width 0.25
# python -m spectral run spectral_parameterization --profile cpu_deep  # net (7), width 0.125
# python -m spectral run spectral_parameterization --profile paper --devices cuda:0
# python -m spectral report spectral_parameterization
# ```

# %% tags=["parameters"]
dataset = "cifar10"
model = "rippel_generic"
kernel_size = 3
param = "spectral"  # "spatial" or "spectral"
width = 1.0
epochs = 100
batch_size = 128
lr = 1e-3  # Adam; the paper does not report its hyper-parameters for Fig. 5
weight_decay = 0.0
schedule = "constant"
milestones = []
gamma_lr = 0.1
augment = True  # §5.2: "All experiments include data augmentation" (flips, translations)
train_subset = 0
test_subset = 0
snapshot_filters = 8  # first-layer filters stored at the last epoch (for plots)
amp = None
seed = 0
device = "cpu"
data_root = None
experiment = "spectral_parameterization"
run_id = "interactive"
profile = "interactive"
run_params = {}
result_path = None
checkpoint_path = None

# %%
import time

import torch
from torch import nn

from spectral.data import make_loaders
from spectral.experiments import write_result
from spectral.models import create
from spectral.parametrize import is_spectral, spectral_basis, spectral_parametrize
from spectral.train import TrainConfig, fit, seed_everything

if param not in ("spatial", "spectral"):
    raise ValueError(f"param must be 'spatial' or 'spectral', got {param!r}")
seed_everything(seed)
start = time.perf_counter()
loaders = make_loaders(
    dataset,
    batch_size=batch_size,
    augment=augment,
    train_subset=train_subset,
    test_subset=test_subset,
    device=device,
    seed=seed,
    root=data_root,
)
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels,
             width=width, kernel_size=kernel_size)
if param == "spectral":
    spectral_parametrize(net)
convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
print(f"{dataset}: {len(loaders.train.labels)} train, {len(loaders.test.labels)} test")
print(f"{model} {kernel_size}×{kernel_size}, {param}, width {width}: "
      f"{sum(p.numel() for p in net.parameters()):,} parameters, "
      f"{sum(is_spectral(c) for c in convs)} of {len(convs)} convolutions spectral")


# %%
def top_energy(coefficients: torch.Tensor, fraction: float = 0.25) -> float:
    """Mean over filters (rows) of the energy share of their largest ``fraction`` entries."""
    energy = coefficients.pow(2)
    k = max(1, round(fraction * energy.shape[-1]))
    top = energy.sort(dim=-1, descending=True).values[..., :k].sum(-1)
    return float((top / energy.sum(-1).clamp_min(1e-30)).mean())


def filter_stats(epoch, model_, metrics):
    """Sparsity of the first-layer filters (Rippel Fig. 3b) in both orthonormal bases.

    Spatial: the ``k·k`` pixels; spectral: the ``k·k`` coordinates ``θ = Bᵀ f`` of
    :class:`~spectral.parametrize.SpectralWeight`, whatever ``param`` the run trains with.
    """
    first = next(m for m in model_.modules() if isinstance(m, nn.Conv2d))
    with torch.no_grad():
        weight = first.weight.detach().double().cpu()
        theta = weight.flatten(-2) @ spectral_basis(first.kernel_size)
    out = {"conv1_top25_energy_spatial": top_energy(weight.flatten(-2)),
           "conv1_top25_energy_spectral": top_energy(theta)}
    if epoch == epochs:
        out["conv1_filters"] = weight[:snapshot_filters].tolist()
    return out


config = TrainConfig(
    epochs=epochs,
    optimizer="adam",
    lr=lr,
    weight_decay=weight_decay,
    schedule=schedule,
    milestones=tuple(milestones),
    gamma=gamma_lr,
    amp=amp,
)
history = fit(net, loaders.train, loaders.test, config, device=device,
              checkpoint=checkpoint_path, callbacks=[filter_stats])
final = {k: v for k, v in history["final"].items() if k != "conv1_filters"}
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
        final=history["final"],
        wall_time_s=time.perf_counter() - start,
        device=device,
    )
