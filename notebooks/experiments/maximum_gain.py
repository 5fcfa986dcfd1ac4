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
augment = False
units = "matconvnet"  # pixel values 0–255 minus the per-channel mean
impulse_value = 255.0  # the paper's impulse, in MatConvNet's input units
# Shared settings not listed here keep spectral.recipe.StandardRun's defaults.

# %%
from spectral.gain import MaxGainTracker
from spectral.models import create
from spectral.recipe import StandardRun

run = StandardRun.from_namespace(globals())
loaders = run.loaders()
net = create(model, num_classes=loaders.num_classes, in_channels=loaders.in_channels)
print(f"lr multipliers: {net.lr_multipliers or 'none'}")

# %% [markdown]
# The paper's measure (f ends in the softmax, p_i = 1/score) and, for comparison, the
# same projection on the logits; measured once before training and after every epoch.

# %%
trackers = [
    MaxGainTracker(value=impulse_value, key="max_gain"),
    MaxGainTracker(value=impulse_value, key="max_gain_logit", softmax=False),
]
init_gain = {k: v for tracker in trackers for k, v in tracker(0, net, {}).items()}
print({k: v for k, v in init_gain.items() if not k.endswith("time_s")})
outcome = run.train(net, loaders, callbacks=trackers)
outcome.final["init"] = init_gain
run.save(outcome)
