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
# # Experiment: baseline classifier
#
# Trains one model on one data set with the SBN paper's recipe (SGD, momentum 0.9,
# lr 0.1, step decay, weight decay, random crop + flip) and writes one result file.
# Run it through the engine, which fills in the parameters below:
#
# ```bash
# python -m spectral run baseline --profile cpu            # this machine's scale
# python -m spectral run baseline --profile paper --devices cuda:0
# python -m spectral report baseline
# ```

# %% tags=["parameters"]
dataset = "cifar10"
model = "resnet18"
width = 1.0
epochs = 200
batch_size = 128
optimizer = "sgd"
lr = 0.1
momentum = 0.9
weight_decay = 1e-4
schedule = "multistep"
milestones = [90, 136]
gamma = 0.1
augment = True
train_subset = 0  # 0: the whole training split (minus validation)
val_fraction = 0.1  # SBN paper: 9/1 train/validation split, test at the best validation epoch
test_subset = 0  # 0: the whole test split
amp = None
seed = 0
device = "cpu"
data_root = None
experiment = "baseline"
run_id = "interactive"
profile = "interactive"
run_params = {}  # the engine sets these three: the run's parameters as recorded,
result_path = None  # where its result goes (None: keep nothing)
checkpoint_path = None  # and its checkpoint (resumed from if present)

# %%
import time

from spectral.data import make_loaders
from spectral.experiments import write_result
from spectral.models import create
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
train_loader, val_loader, test_loader = loaders.train, loaders.val, loaders.test
n_val = len(val_loader.labels) if val_loader is not None else 0
print(f"{dataset}: {len(train_loader.labels)} train, {n_val} validation, "
      f"{len(test_loader.labels)} test")
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels, width=width)
print(f"{model} (width {width}): {sum(p.numel() for p in net.parameters()):,} parameters")

# %%
def validation(epoch, model_, metrics):
    if val_loader is None:
        return None
    result = evaluate(model_, val_loader, device, amp)
    return {"val_loss": result["loss"], "val_accuracy": result["accuracy"]}


config = TrainConfig(
    epochs=epochs,
    optimizer=optimizer,
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
    callbacks=[validation],
)
final = dict(history["final"])
if val_loader is not None and history["epochs"]:
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
