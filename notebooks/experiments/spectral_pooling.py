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
# # Experiment: spectral pooling net (5) against max pooling
#
# Rippel et al. (2015), §5.1: net (5), `M` pairs of a 3×3 convolution and a spectral pool
# to `⌊γ H_m⌋` with frequency dropout `c_m = α + (m/M)(β − α)`, a 1×1 head and global
# averaging; SGD with momentum, weight decay, no augmentation, no dropout. `pool` picks
# the pooling: `"spectral"` (the paper), `"max"` (3×3 max pool with stride 2 in each pool's
# place, the control) or `"max_matched"` (adaptive max pooling to the spectral
# pools' sizes). One run writes one result file:
#
# ```bash
# python -m spectral run spectral_pooling --profile cpu
# python -m spectral run spectral_pooling --profile paper --devices cuda:0
# python -m spectral report spectral_pooling
# ```

# %% tags=["parameters"]
dataset = "cifar10"
pool = "spectral"
width = 1.0
num_layers = 6  # M: not reported by the paper; the student used 6
gamma = 0.85
alpha = 0.30
beta = 0.15
epochs = 150
batch_size = 128
lr = 0.0088
momentum = 0.95
weight_decay = 3e-4  # not reported by the paper; the student's value
schedule = "multistep"
milestones = [100, 140]
gamma_lr = 0.1
augment = False  # §5.1: no augmentation
train_subset = 0
test_subset = 0
amp = None
seed = 0
device = "cpu"
data_root = None
experiment = "spectral_pooling"
run_id = "interactive"
profile = "interactive"
run_params = {}
result_path = None
checkpoint_path = None

# %%
import time

from spectral.data import make_loaders
from spectral.experiments import write_result
from spectral.models import rippel_spectral_pool_net
from spectral.train import TrainConfig, fit, seed_everything

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
net = rippel_spectral_pool_net(
    num_classes=loaders.num_classes,
    in_channels=loaders.in_channels,
    width=width,
    num_layers=num_layers,
    gamma=gamma,
    alpha=alpha,
    beta=beta,
    pool=pool,
)
print(f"{dataset}: {len(loaders.train.labels)} train, {len(loaders.test.labels)} test")
print(f"net (5), pool={pool}, M={num_layers}, width {width}: "
      f"{sum(p.numel() for p in net.parameters()):,} parameters")

# %%
config = TrainConfig(
    epochs=epochs,
    optimizer="sgd",
    lr=lr,
    momentum=momentum,
    weight_decay=weight_decay,
    schedule=schedule,
    milestones=tuple(milestones),
    gamma=gamma_lr,
    amp=amp,
)
history = fit(net, loaders.train, loaders.test, config, device=device,
              checkpoint=checkpoint_path)
print(history["status"], {k: round(v, 4) if isinstance(v, float) else v
                          for k, v in history["final"].items()})

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
