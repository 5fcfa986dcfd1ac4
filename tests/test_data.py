"""spectral.data: real archives (skipped where absent), errors, loader, splits."""

import os
from pathlib import Path

import pytest
import torch

from spectral.data import (
    DATASETS,
    TensorLoader,
    balanced_split,
    channel_stats,
    data_root,
    get_dataset,
    load_arrays,
    sample_images,
)

ARCHIVE_ROOT = os.environ.get("SPECTRAL_DATA") or ""
has_cifar = bool(ARCHIVE_ROOT) and (Path(ARCHIVE_ROOT) / "cifar10-jpeg.tar.gz").is_file()
has_mnist = bool(ARCHIVE_ROOT) and (Path(ARCHIVE_ROOT) / "mnist-png.tar.gz").is_file()
needs_cifar = pytest.mark.skipif(not has_cifar, reason="cifar10-jpeg.tar.gz not in $SPECTRAL_DATA")
needs_mnist = pytest.mark.skipif(not has_mnist, reason="mnist-png.tar.gz not in $SPECTRAL_DATA")


@needs_cifar
@pytest.mark.parametrize("train, size", [(True, 50_000), (False, 10_000)])
def test_cifar10_archive_decodes_to_the_official_counts(train, size):
    images, labels = load_arrays("cifar10", train=train)
    assert images.shape == (size, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.bincount().tolist() == [size // 10] * 10
    mean, _ = channel_stats(images)
    torch.testing.assert_close(mean, torch.tensor([0.491, 0.482, 0.447]), atol=5e-3, rtol=0)


@needs_mnist
def test_mnist_archive_decodes_to_the_official_counts():
    images, labels = load_arrays("mnist", train=True)
    assert images.shape == (60_000, 1, 28, 28)
    counts = labels.bincount().tolist()
    assert counts[0] == 5923 and counts[1] == 6742 and sum(counts) == 60_000
    test_images, _ = load_arrays("mnist", train=False)
    assert test_images.shape == (10_000, 1, 28, 28)


@needs_cifar
def test_get_dataset_yields_float_images_and_int_labels():
    ds = get_dataset("cifar10", train=False)
    image, label = ds[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0 and isinstance(label, int)
    assert len(ds) == 10_000 and ds.classes[0] == "airplane"


def test_checksum_mismatch_is_detected(tmp_path):
    (tmp_path / "cifar10-jpeg.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(ValueError, match="SHA-256"):
        load_arrays("cifar10", train=True, root=tmp_path, cache_dir=tmp_path / "cache")


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="mnist, cifar10, cifar100"):
        load_arrays("imagenet", train=True)
    assert DATASETS == ("mnist", "cifar10", "cifar100", "synthetic")


@pytest.mark.parametrize("name", ["mnist", "cifar10", "cifar100"])
def test_absent_data_says_how_to_get_it(name, tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_arrays(name, train=False, root=tmp_path)


def test_absent_root_and_environment(monkeypatch):
    monkeypatch.delenv("SPECTRAL_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"\$SPECTRAL_DATA unset"):
        load_arrays("cifar10", train=True)


def test_data_root_reports_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        data_root(tmp_path / "nope")


def test_data_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRAL_DATA", str(tmp_path))
    assert data_root() == tmp_path.resolve()
    monkeypatch.setenv("SPECTRAL_DATA", "")
    assert data_root() is None


# --- sample_images --------------------------------------------------------------------


@needs_cifar
def test_sample_images_reads_the_cifar10_archive():
    images, labels, source = sample_images(10)
    assert source == "CIFAR-10 offline archive"
    assert images.shape == (10, 3, 32, 32) and images.dtype == torch.float64
    assert sorted(labels) == sorted(
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    )
    assert float(images.std()) > 0.1  # real pictures, not blank


def test_sample_images_falls_back_to_synthetic(tmp_path):
    images, labels, source = sample_images(4, root=tmp_path)
    assert source == "synthetic" and len(labels) == 4
    assert float(images.amin()) == 0.0 and float(images.amax()) == 1.0
    torch.testing.assert_close(images, sample_images(4, root=tmp_path)[0])


def test_sample_images_rejects_bad_count():
    with pytest.raises(ValueError, match="n must be an int in 1..10"):
        sample_images(0)


# --- balanced_split -------------------------------------------------------------------


def test_balanced_split_is_disjoint_balanced_and_seeded():
    labels = torch.arange(10).repeat_interleave(50)
    first, second = balanced_split(labels, first=100, second=50, seed=3)
    assert len(first) == 100 and len(second) == 50
    assert not set(first.tolist()) & set(second.tolist())
    assert labels[first].bincount().tolist() == [10] * 10
    assert labels[second].bincount().tolist() == [5] * 10
    again = balanced_split(labels, first=100, second=50, seed=3)
    assert torch.equal(first, again[0]) and torch.equal(second, again[1])
    rest, _ = balanced_split(labels, first=0, second=50)
    assert len(rest) == 450


def test_balanced_split_rejects_impossible_sizes():
    with pytest.raises(ValueError, match="first \\+ second"):
        balanced_split(torch.zeros(10, dtype=torch.int64), first=8, second=5)


# --- TensorLoader ---------------------------------------------------------------------


def tiny_split(n=20):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=generator)
    return images, torch.arange(n) % 10


def test_loader_without_augmentation_normalises_in_order():
    images, labels = tiny_split()
    mean, std = channel_stats(images)
    loader = TensorLoader(images, labels, batch_size=8, mean=mean, std=std)
    batches = list(loader)
    assert [len(y) for _, y in batches] == [8, 8, 4] and len(loader) == 3
    x = torch.cat([b[0] for b in batches])
    expected = (images.float() / 255 - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    torch.testing.assert_close(x, expected)
    assert torch.equal(torch.cat([b[1] for b in batches]), labels)


def test_augmentation_is_a_shifted_window_or_its_mirror():
    images, labels = tiny_split(64)
    zero, one = torch.zeros(3), torch.ones(3)
    loader = TensorLoader(images, labels, batch_size=64, mean=zero, std=one, augment=True, pad=2)
    ((x, _),) = list(loader)
    padded = torch.nn.functional.pad(images.float() / 255, (2, 2, 2, 2))
    for i in range(64):
        windows = [padded[i, :, dy : dy + 8, dx : dx + 8] for dy in range(5) for dx in range(5)]
        candidates = windows + [w.flip(-1) for w in windows]
        assert any(torch.equal(x[i], c) for c in candidates)
    assert not torch.equal(x, images.float() / 255)  # something moved


def test_loader_epochs_are_reproducible_and_differ():
    images, labels = tiny_split()
    zero, one = torch.zeros(3), torch.ones(3)
    loader = TensorLoader(
        images, labels, batch_size=20, mean=zero, std=one, augment=True, shuffle=True, seed=1
    )
    loader.set_epoch(3)
    a = next(iter(loader))
    loader.set_epoch(4)
    b = next(iter(loader))
    loader.set_epoch(3)
    c = next(iter(loader))
    assert torch.equal(a[0], c[0]) and torch.equal(a[1], c[1])
    assert not torch.equal(a[1], b[1])


def test_loader_rejects_bad_input():
    images, labels = tiny_split()
    with pytest.raises(ValueError, match="uint8"):
        TensorLoader(images.float(), labels, batch_size=4, mean=0, std=1)
    with pytest.raises(ValueError, match="batch_size"):
        TensorLoader(images, labels, batch_size=0, mean=0, std=1)


@needs_mnist
def test_make_loaders_builds_balanced_disjoint_splits():
    from spectral.data import make_loaders

    loaders = make_loaders(
        "mnist", batch_size=32, augment=True, train_subset=200, val_fraction=0.01,
        test_subset=100, seed=3, root=ARCHIVE_ROOT,
    )
    assert (loaders.in_channels, loaders.num_classes) == (1, 10)
    assert len(loaders.train.labels) == 200 and len(loaders.test.labels) == 100
    assert len(loaders.val.labels) == 600  # 1 % of 60,000
    assert torch.bincount(loaders.train.labels).tolist() == [20] * 10
    assert loaders.train.augment and not loaders.val.augment and not loaders.test.augment
    assert loaders.train.shuffle and not loaders.test.shuffle
    train_pixels = {tuple(row.tolist()) for row in loaders.train.images.flatten(1)[:, ::7]}
    val_pixels = {tuple(row.tolist()) for row in loaders.val.images.flatten(1)[:, ::7]}
    assert not train_pixels & val_pixels
    images = loaders.train.images.float().div(255)
    torch.testing.assert_close(loaders.train.mean.flatten(), images.mean((0, 2, 3)))
    without = make_loaders("mnist", batch_size=32, augment=False, train_subset=50,
                           root=ARCHIVE_ROOT)
    assert without.val is None and len(without.test.labels) == 10_000


def test_make_loaders_rejects_a_bad_validation_fraction():
    from spectral.data import make_loaders

    with pytest.raises(ValueError, match="val_fraction"):
        make_loaders("mnist", batch_size=8, augment=False, val_fraction=1.0)
