"""Data sets of the papers: MNIST, CIFAR-10, CIFAR-100, as uint8 arrays and tensors.

The modules, one idea each:

- :mod:`~spectral.data.specs` — the data sets (classes, shapes, sizes, files) and
  :func:`data_root`, the folder to look in (``root`` or ``$SPECTRAL_DATA``)
- :mod:`~spectral.data.sources` — :func:`load_arrays`: a split from generated images,
  torchvision's files or an offline archive, in that order
- :mod:`~spectral.data.archive` — the offline archives: SHA-256 check, decoding
- :mod:`~spectral.data.cache` — the decoded-data cache, checked on every read
- :mod:`~spectral.data.synthetic` — the ``synthetic`` data set and figure stand-ins
- :mod:`~spectral.data.samples` — :func:`sample_images`, a few images for figures
- :mod:`~spectral.data.datasets` — :func:`get_dataset`, a ``torch`` ``Dataset`` view
- :mod:`~spectral.data.loaders` — :class:`TensorLoader` (whole split on the device,
  batch-wise crop and flip) and :class:`GaussianNoiseLoader` on top of it
- :mod:`~spectral.data.splits` — :func:`make_loaders`: class-balanced train, validation
  and test splits with their statistics and loaders, as every experiment builds them
"""

from spectral.data.datasets import ArrayDataset, get_dataset
from spectral.data.loaders import GaussianNoiseLoader, TensorLoader
from spectral.data.samples import sample_images
from spectral.data.sources import available, load_arrays
from spectral.data.specs import DATASETS, SYNTHETIC, data_root
from spectral.data.splits import Loaders, balanced_split, channel_stats, make_loaders

__all__ = [
    "DATASETS",
    "SYNTHETIC",
    "ArrayDataset",
    "GaussianNoiseLoader",
    "Loaders",
    "TensorLoader",
    "available",
    "balanced_split",
    "channel_stats",
    "data_root",
    "get_dataset",
    "load_arrays",
    "make_loaders",
    "sample_images",
]
