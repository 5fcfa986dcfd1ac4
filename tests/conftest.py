"""Shared fixtures and markers of the unit tests.

- ``one_thread``: a module-scoped fixture that runs a test file's tiny tensors on one
  torch thread; use it with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
- ``@pytest.mark.requires_data("cifar10", ...)``: skip the test where a data set is not
  in ``$SPECTRAL_DATA`` (see :func:`spectral.data.available`), naming what is missing.

The shared dense references (seeded ``randn``, centred crop/pad, spectral pooling and
its gradient, conv models) are in :mod:`spectral.testing`, which the chapters use too.
"""

from __future__ import annotations

import pytest
import torch

from spectral.data import available


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_data(*names): skip unless these data sets are in $SPECTRAL_DATA",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers("requires_data"):
        if not marker.args:
            raise pytest.UsageError(f"{item.nodeid}: requires_data needs a data set name")
        missing = [name for name in marker.args if not available(name)]
        if missing:
            pytest.skip(
                f"needs {', '.join(missing)} in $SPECTRAL_DATA (the offline archive or "
                "torchvision's files; see data/README.md)"
            )


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for the module's tests, restored afterwards.

    Tiny tensors gain nothing from a second thread, and on a busy machine MKL's FFT and
    OpenMP's barriers wait for the other core (~15 ms per call), which made whole test
    files take minutes.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
