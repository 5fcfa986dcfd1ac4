"""spectral.data: real archives (skipped where absent), tiny fake archives, the cache, loaders."""

from __future__ import annotations

import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import tarfile
import textwrap
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spectral.data
from spectral._project import project_root
from spectral.data import (
    DATASETS,
    GaussianNoiseLoader,
    TensorLoader,
    available,
    balanced_split,
    cache,
    channel_stats,
    data_root,
    get_dataset,
    load_arrays,
    make_loaders,
    sample_images,
    sources,
    specs,
)

CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip


# --- the real archives ----------------------------------------------------------------


@pytest.mark.requires_data("cifar10")
@pytest.mark.parametrize("train, size", [(True, 50_000), (False, 10_000)])
def test_cifar10_archive_decodes_to_the_official_counts(train, size):
    images, labels = load_arrays("cifar10", train=train)
    assert images.shape == (size, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.bincount().tolist() == [size // 10] * 10
    mean, _ = channel_stats(images)
    torch.testing.assert_close(mean, torch.tensor([0.491, 0.482, 0.447]), atol=5e-3, rtol=0)


@pytest.mark.requires_data("mnist")
def test_mnist_archive_decodes_to_the_official_counts():
    images, labels = load_arrays("mnist", train=True)
    assert images.shape == (60_000, 1, 28, 28)
    counts = labels.bincount().tolist()
    assert counts[0] == 5923 and counts[1] == 6742 and sum(counts) == 60_000
    test_images, _ = load_arrays("mnist", train=False)
    assert test_images.shape == (10_000, 1, 28, 28)


@pytest.mark.requires_data("cifar10")
def test_get_dataset_yields_float_images_and_int_labels():
    ds = get_dataset("cifar10", train=False)
    image, label = ds[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0 and isinstance(label, int)
    assert len(ds) == 10_000 and ds.classes[0] == "airplane"


@pytest.mark.requires_data("cifar10")
def test_sample_images_reads_the_cifar10_archive():
    images, labels, source = sample_images(10)
    assert source == "CIFAR-10 offline archive"
    assert images.shape == (10, 3, 32, 32) and images.dtype == torch.float64
    assert sorted(labels) == CIFAR10_CLASSES
    assert float(images.std()) > 0.1  # real pictures, not blank


@pytest.mark.requires_data("mnist")
def test_make_loaders_builds_balanced_disjoint_splits():
    loaders = make_loaders(
        "mnist", batch_size=32, augment=True, train_subset=200, val_fraction=0.01,
        test_subset=100, seed=3,
    )  # fmt: skip
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
    without = make_loaders("mnist", batch_size=32, augment=False, train_subset=50)
    assert without.val is None and len(without.test.labels) == 10_000


# --- names, folders, errors ------------------------------------------------------------


def test_the_public_names():
    assert DATASETS == ("mnist", "cifar10", "cifar100", "synthetic")
    assert not hasattr(spectral.data, "corrupt")  # spectral.corruptions.corrupt only
    assert set(spectral.data.__all__) <= set(dir(spectral.data))


def test_checksum_mismatch_is_detected(tmp_path):
    (tmp_path / "cifar10-jpeg.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(ValueError, match="SHA-256"):
        load_arrays("cifar10", train=True, root=tmp_path, cache_dir=tmp_path / "cache")


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="mnist, cifar10, cifar100, synthetic"):
        load_arrays("imagenet", train=True)


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


def test_available_looks_for_the_archive_or_torchvisions_folder(tmp_path):
    assert available("synthetic") and not available("cifar10", tmp_path)
    (tmp_path / "cifar10-jpeg.tar.gz").write_bytes(b"")  # presence only, not checked
    (tmp_path / "cifar-100-python").mkdir()
    assert available("cifar10", tmp_path) and available("cifar100", tmp_path)
    assert not available("mnist", tmp_path)
    with pytest.raises(ValueError, match="unknown data set"):
        available("imagenet", tmp_path)


def test_project_root_is_the_environment_else_the_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv("SPECTRAL_PROJECT", raising=False)
    checkout = Path(spectral.__file__).resolve().parent.parent
    assert project_root() == (checkout if (checkout / "pyproject.toml").is_file() else None)
    monkeypatch.setenv("SPECTRAL_PROJECT", str(tmp_path))
    assert project_root() == tmp_path
    monkeypatch.delenv("SPECTRAL_CACHE", raising=False)
    path = cache.cache_path("cifar10", specs.SPECS["cifar10"], False, None)
    assert path == tmp_path / "data" / "cache" / "cifar10-test-5bbd2193f3b9.pt"
    monkeypatch.setenv("SPECTRAL_CACHE", str(tmp_path / "elsewhere"))
    assert cache.cache_path("cifar10", specs.SPECS["cifar10"], True, None).parent == (
        tmp_path / "elsewhere"
    )
    monkeypatch.setenv("SPECTRAL_PROJECT", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match=r"\$SPECTRAL_PROJECT points to .*nope"):
        project_root()


# --- the synthetic data set and figure images -----------------------------------------


def test_synthetic_data_set_is_fixed_and_cifar_shaped():
    images, labels = load_arrays("synthetic", train=True)
    assert images.shape == (640, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.bincount().tolist() == [64] * 10
    test_images, _ = load_arrays("synthetic", train=False)
    assert test_images.shape == (200, 3, 32, 32)
    assert torch.equal(images, load_arrays("synthetic", train=True)[0])
    dataset = get_dataset("synthetic", train=False)
    assert len(dataset) == 200 and len(dataset.classes) == 10


def test_sample_images_falls_back_to_synthetic(tmp_path):
    images, labels, source = sample_images(4, root=tmp_path)
    assert source == "synthetic" and len(labels) == 4
    assert float(images.amin()) == 0.0 and float(images.amax()) == 1.0
    torch.testing.assert_close(images, sample_images(4, root=tmp_path)[0])


def test_sample_images_rejects_bad_count():
    with pytest.raises(ValueError, match="n must be an int in 1..10"):
        sample_images(0)


# --- tiny fake archives: decoding and the cache ---------------------------------------


@dataclass
class Tiny:
    """A tiny offline archive standing in for the real one (its spec patched to match)."""

    name: str
    root: Path
    cache: Path
    sha256: str
    sizes: tuple[int, int]
    expected: dict  # train -> (images, labels) in the decoded order

    def load(self, train: bool = True):
        return load_arrays(self.name, train=train, root=self.root, cache_dir=self.cache)

    def cache_file(self, train: bool = True) -> Path:
        return cache.cache_path(self.name, specs.SPECS[self.name], train, self.cache)

    def assert_loads(self, train: bool = True) -> None:
        images, labels = self.load(train)
        assert torch.equal(images, self.expected[train][0])
        assert torch.equal(labels, self.expected[train][1])


def write_archive(path: Path, spec: specs.Spec, sizes: tuple[int, int]) -> dict:
    """A tar.gz in the offline archives' layout, ``<split>/<class>/<i>.png``, of random
    images; returns ``{train: (images, labels)}`` in decoding order (by class, then i)."""
    from PIL import Image

    generator = torch.Generator().manual_seed(0)
    c, h, w = spec.shape
    expected = {}
    with tarfile.open(path, "w:gz") as tar:
        for train, folder, n in zip((True, False), spec.splits, sizes, strict=True):
            pixels = torch.randint(0, 256, (n, c, h, w), dtype=torch.uint8, generator=generator)
            labels = torch.arange(n) % len(spec.classes)
            for i in range(n):
                array = pixels[i].permute(1, 2, 0).squeeze(-1).numpy()
                buffer = io.BytesIO()
                Image.fromarray(array).save(buffer, format="PNG")
                member = tarfile.TarInfo(f"{folder}/{spec.classes[labels[i]]}/{i}.png")
                member.size = buffer.tell()
                tar.addfile(member, io.BytesIO(buffer.getvalue()))
            order = sorted(range(n), key=lambda i: (int(labels[i]), i))
            expected[train] = (pixels[order], labels[order])
    return expected


@pytest.fixture
def make_tiny(tmp_path, monkeypatch):
    def make(name: str = "cifar10", sizes: tuple[int, int] = (20, 10)) -> Tiny:
        root = tmp_path / "data"
        root.mkdir(exist_ok=True)
        original = specs.SPECS[name]
        archive = root / original.archive
        expected = write_archive(archive, original, sizes)
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        monkeypatch.setitem(specs.SPECS, name, replace(original, sha256=digest, sizes=sizes))
        monkeypatch.setenv("SPECTRAL_CACHE", str(tmp_path / "cache"))  # also for make_loaders
        return Tiny(name, root, tmp_path / "cache", digest, sizes, expected)

    return make


@pytest.fixture
def tiny(make_tiny) -> Tiny:
    return make_tiny()


def no_decoding(*args, **kwargs):
    raise AssertionError("decoded the archive although a usable cache exists")


def test_a_tiny_archive_decodes_in_order_and_is_read_back_from_the_cache(tiny, monkeypatch):
    for train in (True, False):
        tiny.assert_loads(train)
        assert tiny.cache_file(train).is_file()
    monkeypatch.setattr(sources, "decode_split", no_decoding)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny.assert_loads(True)
        tiny.assert_loads(False)


def test_a_tiny_mnist_archive_decodes_grey_images(make_tiny):
    tiny = make_tiny("mnist", (10, 10))
    images, _ = tiny.load(False)
    assert images.shape == (10, 1, 28, 28)
    tiny.assert_loads(False)


def test_a_truncated_cache_is_decoded_again_and_replaced(tiny):
    tiny.load()
    path = tiny.cache_file()
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.warns(UserWarning, match=re.escape(str(path)) + ".*cannot be read"):
        tiny.assert_loads()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the file was replaced by a good one
        tiny.assert_loads()


def _few(images, labels):
    return images[:3], labels[:3]


def _channels_last(images, labels):
    return images.permute(0, 2, 3, 1).contiguous(), labels


def _labels_out_of_range(images, labels):
    return images, labels + 10


def _float_images(images, labels):
    return images.float(), labels


@pytest.mark.parametrize(
    "damage, problem",
    [
        (_few, r"shape \(3, 3, 32, 32\), expected \(20, 3, 32, 32\)"),
        (_channels_last, r"shape \(20, 32, 32, 3\)"),
        (_labels_out_of_range, "labels leave the range 0..9"),
        (_float_images, "torch.float32, not uint8"),
    ],
)
def test_a_well_formed_cache_of_other_arrays_is_decoded_again(tiny, damage, problem):
    cache.write(tiny.cache_file(), *damage(*tiny.expected[True]))
    with pytest.warns(UserWarning, match=problem):
        tiny.assert_loads()
    tiny.assert_loads()


@pytest.mark.parametrize(
    "payload, problem",
    [
        (lambda images, labels: {"images": images, "labels": labels}, "older version"),
        (lambda images, labels: images, "holds Tensor"),
        (
            lambda images, labels: {
                "images": images.flip(0),
                "labels": labels.flip(0),
                "sha256": "0" * 64,
            },
            "do not match the SHA-256",
        ),
    ],
    ids=["no checksum", "not a dict", "wrong checksum"],
)
def test_a_cache_without_a_matching_checksum_is_decoded_again(tiny, payload, problem):
    path = tiny.cache_file()
    path.parent.mkdir(parents=True)
    torch.save(payload(*tiny.expected[True]), path)
    with pytest.warns(UserWarning, match=problem):
        tiny.assert_loads()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_damage_to_the_cache_file_still_gives_the_archives_arrays(tiny, data):
    path = tiny.cache_file()
    if not path.is_file():
        tiny.load()
    good = path.read_bytes()
    if data.draw(st.booleans(), label="truncate"):
        damaged = good[: data.draw(st.integers(0, len(good) - 1), label="length")]
    else:
        at = data.draw(st.integers(0, len(good) - 1), label="byte")
        damaged = bytearray(good)
        damaged[at] ^= data.draw(st.integers(1, 255), label="xor")
    path.write_bytes(bytes(damaged))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a warning or not: the bytes may not matter
        tiny.assert_loads()


def _unwritable(folder: Path, how: str) -> None:
    if how == "a file in the way":
        folder.write_text("")
    else:
        folder.mkdir()
        folder.chmod(0o555)


@pytest.mark.parametrize(
    "how",
    [
        "a file in the way",
        pytest.param(
            "read-only",
            marks=pytest.mark.skipif(
                hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anyway"
            ),
        ),
    ],
)
def test_an_unwritable_cache_keeps_the_split_in_memory_with_a_warning(tiny, how, monkeypatch):
    _unwritable(tiny.cache, how)
    with pytest.warns(UserWarning, match=r"cannot write the decoded-data cache .*in memory"):
        tiny.assert_loads()
    monkeypatch.setattr(sources, "decode_split", no_decoding)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny.assert_loads()  # from memory: no second decoding, no second warning
        images, _ = tiny.load()
        images.zero_()  # a caller's change does not reach the kept copy
        tiny.assert_loads()


def test_a_writer_killed_mid_write_leaves_no_temp_file_behind(tiny):
    script = textwrap.dedent(
        f"""
        import os, signal, torch
        from dataclasses import replace
        from spectral.data import load_arrays, specs

        specs.SPECS["cifar10"] = replace(
            specs.SPECS["cifar10"], sha256={tiny.sha256!r}, sizes={tiny.sizes!r}
        )

        def killed(payload, f, *args, **kwargs):
            f.write(b"the first half of a cache")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)

        torch.save = killed
        load_arrays("cifar10", train=True, root={str(tiny.root)!r}, cache_dir={str(tiny.cache)!r})
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    assert len(list(tiny.cache.glob(".*.tmp*"))) == 1  # what SIGKILL leaves
    alive = tiny.cache / f".{tiny.cache_file().name}.tmp{os.getppid()}"
    alive.write_bytes(b"another process, still writing")
    tiny.assert_loads()
    assert list(tiny.cache.glob(".*.tmp*")) == [alive]


def _broken_mnist_files(root: Path) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        for kind in ("images-idx3", "labels-idx1"):
            (raw / f"{split}-{kind}-ubyte").write_bytes(b"")


def test_broken_torchvision_files_next_to_an_archive_are_skipped_for_it(make_tiny):
    tiny = make_tiny("mnist", (10, 10))
    _broken_mnist_files(tiny.root)
    pattern = r"torchvision could not read MNIST in .*MNIST \(ValueError.*using .*mnist-png"
    with pytest.warns(UserWarning, match=pattern):
        tiny.assert_loads()


def test_broken_torchvision_files_without_an_archive_name_their_folder(tmp_path):
    _broken_mnist_files(tmp_path)
    with pytest.raises(ValueError, match=r"could not read MNIST in .*MNIST.*download=True"):
        load_arrays("mnist", train=True, root=tmp_path)
    (tmp_path / "cifar-100-python").mkdir()
    with pytest.raises(ValueError, match=r"could not read CIFAR100 in .*cifar-100-python"):
        load_arrays("cifar100", train=False, root=tmp_path)


def test_tiny_archives_feed_make_loaders(make_tiny):
    tiny = make_tiny("cifar10", (40, 20))
    loaders = make_loaders(
        "cifar10", batch_size=8, augment=True, val_fraction=0.25, seed=1, root=tiny.root
    )
    assert len(loaders.train.labels) == 30 and len(loaders.val.labels) == 10
    assert len(loaders.test.labels) == 20 and loaders.num_classes == 10


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


# --- TensorLoader and GaussianNoiseLoader ---------------------------------------------


def tiny_split(n=20, size=8):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=generator)
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
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        TensorLoader(images, labels, batch_size=0, mean=0, std=1)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        TensorLoader(images, labels, batch_size=4.0, mean=0, std=1)
    with pytest.raises(ValueError, match="pad must be >= 0"):
        TensorLoader(images, labels, batch_size=4, mean=0, std=1, pad=-1)


def test_make_loaders_rejects_bad_arguments():
    with pytest.raises(ValueError, match="val_fraction"):
        make_loaders("mnist", batch_size=8, augment=False, val_fraction=1.0)
    with pytest.raises(ValueError, match="units must be one of 'standard', 'matconvnet'"):
        make_loaders("synthetic", batch_size=8, augment=False, units="pixels")


def test_gaussian_noise_loader():
    x, labels = tiny_split(40)
    mean, std = torch.full((3,), 0.5), torch.full((3,), 0.25)
    base = TensorLoader(x, labels, batch_size=16, mean=mean, std=std, shuffle=True, seed=3)
    noisy = GaussianNoiseLoader(base, 0.1, seed=3)
    assert len(noisy) == len(base) == 3
    noisy.set_epoch(2)
    first = [(a.clone(), b.clone()) for a, b in noisy]
    again = list(noisy)
    clean = list(base)
    for (a, ya), (b, _yb), (c, yc) in zip(first, again, clean, strict=True):
        assert torch.equal(a, b) and torch.equal(ya, yc)
        pixels = a * 0.25 + 0.5
        assert float(pixels.min()) >= -1e-6 and float(pixels.max()) <= 1 + 1e-6
        change = (a - c) * 0.25  # in pixel units
        assert 0 < float(change.abs().max()) <= 0.1 * 6
    zero = GaussianNoiseLoader(base, 0.0)
    for (a, _), (c, _) in zip(zero, base, strict=True):
        torch.testing.assert_close(a, c)


@pytest.mark.parametrize(
    "sigma_max, error", [(-1.0, ValueError), (float("nan"), ValueError), ("0.1", TypeError)]
)
def test_gaussian_noise_loader_rejects_a_bad_sigma(sigma_max, error):
    images, labels = tiny_split()
    base = TensorLoader(images, labels, batch_size=4, mean=torch.zeros(3), std=torch.ones(3))
    with pytest.raises(error, match="sigma_max"):
        GaussianNoiseLoader(base, sigma_max)
    with pytest.raises(TypeError, match="TensorLoader"):
        GaussianNoiseLoader([images], 0.1)
