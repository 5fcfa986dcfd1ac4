"""The best-epoch rule shared by best_validation, the patience stop and pilot_choice."""

import math

import pytest

from spectral._selection import best_epoch_index


def records(*scores):
    """Epoch records with ``val_accuracy = score``; ``None`` leaves the key out."""
    return [{"epoch": e} if s is None else {"epoch": e, "val_accuracy": s}
            for e, s in enumerate(scores, start=1)]


@pytest.mark.parametrize(
    ("epochs", "expected"),
    [
        ([], None),
        (records(0.5, 0.7, 0.6), 1),
        (records(0.5, 0.7, 0.7), 1),  # ties: the earliest
        (records(math.nan, 0.1), 1),  # NaN is never best, even first
        (records(0.2, math.nan, 0.1), 0),
        (records(None, 0.3, None), 1),  # a missing score is skipped
        (records(math.inf, -math.inf, 0.0), 2),  # only finite numbers count
        (records(math.nan, None), None),
        ([{"epoch": 1, "val_accuracy": None}, {"epoch": 2, "val_accuracy": "0.9"}], None),
        ([{"epoch": 1, "val_accuracy": 0}, {"epoch": 2, "val_accuracy": 1}], 1),  # ints count
    ],
    ids=["empty", "max", "tie", "nan-first", "nan-later", "missing", "infinite", "none-scored",
         "not-numbers", "ints"],
)
def test_best_epoch_index(epochs, expected):
    assert best_epoch_index(epochs, "val_accuracy") == expected


def test_best_epoch_index_reads_only_the_metric_named():
    epochs = [{"val_accuracy": 0.9, "test_accuracy": 0.1},
              {"val_accuracy": 0.1, "test_accuracy": 0.9}]
    assert best_epoch_index(epochs, "val_accuracy") == 0
    assert best_epoch_index(epochs, "test_accuracy") == 1
    assert best_epoch_index(epochs, "val_loss") is None
