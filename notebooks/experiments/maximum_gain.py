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
# # Experiment: Maximum Gain during training
#
# Trains one MatConvNet LeNet with SGD (momentum, weight decay, constant learning rate)
# as in Stamatescu & McDonnell §IV, and after every epoch measures the Maximum Gain of
# an impulse image (`spectral.gain.MaxGainTracker`) beside the training and validation
# loss and error. The paper's "validation" set is the data set's test split (MatConvNet's
# `cnn_mnist`/`cnn_cifar` evaluate on it every epoch); so is ours.
#
# Inputs are in MatConvNet's units: pixel values 0–255 minus the mean (MatConvNet
# subtracts the per-pixel mean image; we subtract the per-channel mean of the training
# images), not divided by a standard deviation. This is the scale the paper's learning
# rates and N(0, 0.01²) initialisation were tuned for, and in it the paper's impulse of
# value 255 is an impulse of 255 above the mean grey level.
#
# Recipes (MatConvNet's examples): MNIST `cnn_mnist`: batch 100, momentum 0.9, weight
# decay 5·10⁻⁴, constant lr 0.001, 20 epochs. CIFAR-10 `cnn_cifar` (LeNet): batch 100,
# weight decay 10⁻⁴, lr 0.05 for 30 epochs, ÷10 for 10, ÷100 for 5 (45 epochs), with the
# per-parameter lr multipliers of `lenet_cifar` (honoured by `fit`); MatConvNet's CIFAR
# contrast normalisation and ZCA whitening are not reproduced.
#
# ```bash
# python -m spectral run maximum_gain --profile cpu          # MNIST subset, 6 learning rates
# python -m spectral run maximum_gain --profile cpu_cifar10  # CIFAR-10 subset, 6 rates
# python -m spectral run maximum_gain --profile paper --devices cuda:0          # full MNIST
# python -m spectral run maximum_gain --profile paper_cifar10 --devices cuda:0  # CIFAR-10
# ```

# %% tags=["parameters"]
dataset = "mnist"
model = "lenet_mnist"
epochs = 20
batch_size = 100
lr = 0.001
momentum = 0.9
weight_decay = 5e-4
schedule = "constant"  # CIFAR-10 (MatConvNet's cnn_cifar LeNet): "multistep", ÷10 at 30, 40
milestones = []
train_subset = 0  # 0: all 60,000 (MNIST) / 50,000 (CIFAR-10) training images
test_subset = 0  # 0: the whole test split (the paper's "validation" set)
impulse_value = 255.0  # the paper's impulse, in MatConvNet's input units
seed = 0
device = "cpu"
data_root = None
experiment = "maximum_gain"
run_id = "interactive"
profile = "interactive"
run_params = {}  # the engine sets these three: the run's parameters as recorded,
result_path = None  # where its result goes (None: keep nothing)
checkpoint_path = None  # and its checkpoint (resumed from if present)

# %%
import time

import torch

from spectral.data import TensorLoader, balanced_split, channel_stats, load_arrays
from spectral.experiments import write_result
from spectral.gain import MaxGainTracker
from spectral.models import create
from spectral.train import TrainConfig, fit, seed_everything

seed_everything(seed)
start = time.perf_counter()
train_images, train_labels = load_arrays(dataset, train=True, root=data_root)
test_images, test_labels = load_arrays(dataset, train=False, root=data_root)
train_ix, _ = balanced_split(train_labels, first=train_subset)
if test_subset:
    test_ix, _ = balanced_split(test_labels, first=test_subset)
    test_images, test_labels = test_images[test_ix], test_labels[test_ix]
mean, _ = channel_stats(train_images[train_ix])
units = torch.full_like(mean, 1 / 255)  # (x/255 - mean) / (1/255) = x - 255·mean


def loader(images, labels, train):
    return TensorLoader(
        images,
        labels,
        batch_size=batch_size if train else 500,
        mean=mean,
        std=units,
        shuffle=train,
        device=device,
        seed=seed,
    )


train_loader = loader(train_images[train_ix], train_labels[train_ix], True)
test_loader = loader(test_images, test_labels, False)
print(f"{dataset}: {len(train_loader.labels)} train, {len(test_loader.labels)} validation (test)")
net = create(model, num_classes=10, in_channels=train_images.shape[1])
print(f"{model}: {sum(p.numel() for p in net.parameters()):,} parameters, "
      f"lr multipliers {net.lr_multipliers or 'none'}")

# %%
# The paper's measure (f ends in the softmax, p_i = 1/score) and, for comparison, the
# same projection on the logits.
trackers = [
    MaxGainTracker(value=impulse_value, key="max_gain"),
    MaxGainTracker(value=impulse_value, key="max_gain_logit", softmax=False),
]
init_gain = {}
for tracker in trackers:
    init_gain |= tracker(0, net, {})
print({k: v for k, v in init_gain.items() if not k.endswith("time_s")})

config = TrainConfig(
    epochs=epochs,
    optimizer="sgd",
    lr=lr,
    momentum=momentum,
    weight_decay=weight_decay,
    schedule=schedule,
    milestones=tuple(milestones),
)
history = fit(
    net,
    train_loader,
    test_loader,
    config,
    device=device,
    checkpoint=checkpoint_path,
    callbacks=trackers,
)
final = dict(history["final"]) | {"init": init_gain}
print(history["status"], {k: round(v, 4) for k, v in final.items() if isinstance(v, float)})

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
        extra={"torch_threads": torch.get_num_threads()},
    )
