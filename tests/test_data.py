"""spectral.data: real CIFAR-10 images when the archive is there, synthetic otherwise."""

import os
from pathlib import Path

import pytest
import torch

from spectral.data import CIFAR10_ARCHIVE, data_root, sample_images

ARCHIVE_ROOT = os.environ.get("SPECTRAL_DATA") or ""
has_archive = bool(ARCHIVE_ROOT) and (Path(ARCHIVE_ROOT) / CIFAR10_ARCHIVE).is_file()


@pytest.mark.skipif(not has_archive, reason="CIFAR-10 archive not found via $SPECTRAL_DATA")
def test_sample_images_reads_the_cifar10_archive():
    images, labels, source = sample_images(10, root=ARCHIVE_ROOT)
    assert source == "CIFAR-10 offline archive"
    assert images.shape == (10, 3, 32, 32) and images.dtype == torch.float64
    assert sorted(labels) == sorted(
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    )
    assert 0.0 <= float(images.min()) and float(images.max()) <= 1.0
    assert float(images.std()) > 0.1  # real pictures, not blank


def test_sample_images_falls_back_to_synthetic(tmp_path, monkeypatch):
    monkeypatch.delenv("SPECTRAL_DATA", raising=False)
    images, labels, source = sample_images(4, root=tmp_path)
    assert source == "synthetic" and len(labels) == 4
    assert images.shape == (4, 3, 32, 32)
    assert float(images.amin()) == 0.0 and float(images.amax()) == 1.0
    again, _, _ = sample_images(4, root=tmp_path)
    torch.testing.assert_close(images, again)


def test_sample_images_rejects_bad_count():
    with pytest.raises(ValueError, match="n must be an int in 1..10"):
        sample_images(0)


def test_data_root_reports_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        data_root(tmp_path / "nope")


def test_data_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRAL_DATA", str(tmp_path))
    assert data_root() == tmp_path
    monkeypatch.setenv("SPECTRAL_DATA", "")
    assert data_root() is None
