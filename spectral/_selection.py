"""Best-epoch selection: the one rule by which the package picks an epoch of a run.

The best epoch of a history (a list of per-epoch metric records, as :func:`spectral.train.fit`
returns in ``history["epochs"]``) is the first one with the highest finite value of a metric;
an epoch without the metric, or where it is not a finite number (a diverged epoch's NaN), is
never the best. :func:`spectral.recipe.best_validation`, the early-stopping rule of
:func:`spectral.train.fit` (``TrainConfig.patience``) and
:func:`spectral.results.pilot_choice` all choose by :func:`best_epoch_index`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real

__all__ = ["best_epoch_index"]


def best_epoch_index(epochs: Sequence[Mapping], metric: str) -> int | None:
    """Position in ``epochs`` of the record with the highest finite ``metric``.

    Parameters
    ----------
    epochs : sequence of mapping
        Per-epoch records, in training order.
    metric : str
        The key to maximise (higher is better), e.g. ``"val_accuracy"``.

    Returns
    -------
    int or None
        The list index (not the record's ``"epoch"`` field) of the best record, the
        earliest of ties; ``None`` if no record holds a finite number under ``metric``.
    """
    scored = [
        i for i, m in enumerate(epochs)
        if isinstance(m.get(metric), Real) and math.isfinite(m[metric])
    ]
    return max(scored, key=lambda i: epochs[i][metric], default=None)  # max keeps the first
