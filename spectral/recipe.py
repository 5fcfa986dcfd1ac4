"""The standard run of an experiment notebook: data, training, selection, result.

Every experiment notebook (``notebooks/experiments/*.py``) is its parameters cell, its
model and callback choice, and these calls::

    run = StandardRun.from_namespace(globals())   # the parameters papermill injected
    loaders = run.loaders()
    outcome = run.train(model, loaders, callbacks=[...])
    run.save(outcome)

:class:`StandardRun` reads the parameters every experiment shares (data set and split,
optimiser and schedule, the fast path, seed, device, threads, and the runner's
``experiment``/``run_id``/``run_params``/``result_path``/``checkpoint_path``), builds the
loaders, trains with :func:`spectral.train.fit` (evaluating the validation split after
each epoch when there is one), selects the test accuracy at the best validation epoch
(the SBN paper's §IV-A protocol) and writes the result with
:func:`spectral.experiments.write_result`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import torch
from torch import nn

from spectral._selection import best_epoch_index
from spectral.data import Loaders, make_loaders
from spectral.memory import keep_freed_memory
from spectral.train import TrainConfig, evaluate, fit, seed_everything

__all__ = ["Outcome", "StandardRun", "best_validation"]


@dataclass
class Outcome:
    """What :meth:`StandardRun.train` returns and :meth:`StandardRun.save` records.

    Attributes
    ----------
    status : {"complete", "diverged"}
    epochs : list of dict
        Per-epoch metrics (see :func:`spectral.train.fit`).
    final : dict
        The last epoch's scalar metrics, plus ``best_val_epoch`` and
        ``test_accuracy_at_best_val`` when a validation split was evaluated; callers may
        add entries (e.g. robustness results) before saving.
    wall_time_s : float
        Training time summed over every resumed segment, plus this segment's set-up
        (data loading, model building).
    """

    status: str
    epochs: list[dict]
    final: dict
    wall_time_s: float


#: StandardRun's fields that profiles set (the others are the runner's).
_SHARED = ("dataset", "epochs", "batch_size", "augment", "train_subset", "val_fraction",
           "test_subset", "units", "data_root")
#: The fields passed to :func:`spectral.data.make_loaders` under their own names.
_LOADER_OPTIONS = ("batch_size", "augment", "train_subset", "val_fraction", "test_subset",
                   "units", "device", "seed")


def _scalar(value) -> bool:
    return isinstance(value, int | float | str | bool) or value is None


def best_validation(epochs: list[dict]) -> dict:
    """``best_val_epoch`` and ``test_accuracy_at_best_val`` of the best validation epoch.

    Epochs without a finite ``val_accuracy`` (e.g. one that diverged) are ignored; ties
    go to the earliest epoch; ``{}`` if no epoch was validated.
    """
    best = best_epoch_index(epochs, "val_accuracy")
    if best is None:
        return {}
    return {
        "best_val_epoch": epochs[best]["epoch"],
        "test_accuracy_at_best_val": epochs[best]["test_accuracy"],
    }


@dataclass
class StandardRun:
    """One run's shared settings; see the module docstring for the four calls.

    Attributes
    ----------
    dataset : str
    epochs : int
    batch_size : int
    augment : bool
    train_subset, test_subset : int
        0 means the whole split (see :func:`spectral.data.make_loaders`).
    val_fraction : float
        Fraction of the training split held out for validation and model selection.
    units : {"standard", "matconvnet"}
        Input scale (see :func:`spectral.data.make_loaders`).
    config_params : dict
        The :class:`~spectral.train.TrainConfig` fields (optimizer, lr, momentum,
        weight_decay, schedule, milestones, step_size, lr_decay, amp, channels_last,
        torch_compile, ...) found in the namespace.
    seed, device, threads, data_root
        ``threads`` > 0 sets ``torch.set_num_threads``; 0 leaves torch's default. On a
        CPU ``device`` the run also calls :func:`spectral.memory.keep_freed_memory`.
    experiment, run_id, run_params, result_path, checkpoint_path
        Set by the runner; ``result_path=None`` keeps nothing.
    """

    dataset: str = "cifar10"
    epochs: int = 1
    batch_size: int = 128
    augment: bool = True
    train_subset: int = 0
    val_fraction: float = 0.0
    test_subset: int = 0
    units: str = "standard"
    config_params: dict = field(default_factory=dict)
    seed: int = 0
    device: str = "cpu"
    threads: int = 0
    data_root: str | None = None
    experiment: str = "interactive"
    run_id: str = "interactive"
    run_params: dict = field(default_factory=dict)
    result_path: str | None = None
    checkpoint_path: str | None = None
    started: float = field(default_factory=time.perf_counter, repr=False)

    @classmethod
    def parameters(cls) -> dict[str, Any]:
        """The shared settings a profile may set, with their defaults.

        Every experiment notebook accepts these besides its own parameters cell; the
        runner's settings (``seed``, ``device``, ``threads``, ``experiment``, ``run_id``,
        ``run_params``, ``result_path``, ``checkpoint_path``) are not among them.
        """
        out = {f.name: f.default for f in fields(cls) if f.name in _SHARED}
        out |= {
            f.name: f.default if f.default_factory is MISSING else list(f.default_factory())
            for f in fields(TrainConfig) if f.name != "epochs"
        }
        return out

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> StandardRun:
        """The run described by the same-named entries of ``namespace`` (a notebook's
        ``globals()`` after papermill injected its parameters); other names are ignored."""
        own = {f.name for f in fields(cls)} - {"config_params", "started"}
        config_names = {f.name for f in fields(TrainConfig)} - {"epochs"}
        return cls(
            **{k: namespace[k] for k in own if k in namespace},
            config_params={k: namespace[k] for k in config_names if k in namespace},
        )

    def __post_init__(self):
        if self.threads:
            torch.set_num_threads(self.threads)
        if torch.device(self.device).type == "cpu":
            keep_freed_memory()
        self.config = TrainConfig.from_params({"epochs": self.epochs, **self.config_params})
        seed_everything(self.seed)

    def loaders(self) -> Loaders:
        """The train / validation / test loaders; prints the split sizes."""
        options = {name: getattr(self, name) for name in _LOADER_OPTIONS}
        loaders = make_loaders(self.dataset, root=self.data_root, **options)
        n_val = 0 if loaders.val is None else len(loaders.val.labels)
        print(f"{self.dataset}: {len(loaders.train.labels)} train, {n_val} validation, "
              f"{len(loaders.test.labels)} test")
        return loaders

    def _validation(self, loaders: Loaders):
        def validation(epoch, model, metrics):
            result = evaluate(model, loaders.val, self.device, self.config.amp,
                              channels_last=self.config.channels_last)
            return {"val_loss": result["loss"], "val_accuracy": result["accuracy"]}

        return validation

    def train(
        self,
        model: nn.Module,
        loaders: Loaders,
        *,
        train_loader=None,
        callbacks: Iterable[Callable] = (),
        optimizer_hooks: Iterable[Callable] = (),
    ) -> Outcome:
        """Train ``model`` on ``loaders`` (or ``train_loader`` in place of ``loaders.train``).

        The validation split, if any, is evaluated after every epoch before
        ``callbacks``. Prints the model's parameter count, one line per epoch and the
        outcome.
        """
        print(f"{type(model).__name__}: {sum(p.numel() for p in model.parameters()):,} "
              f"parameters; {self.config}")
        validate = [self._validation(loaders)] if loaders.val is not None else []
        setup_s = time.perf_counter() - self.started  # data loading, model building
        history = fit(
            model,
            train_loader if train_loader is not None else loaders.train,
            loaders.test,
            self.config,
            device=self.device,
            checkpoint=self.checkpoint_path,
            callbacks=[*validate, *callbacks],
            optimizer_hooks=optimizer_hooks,
            progress=False,
        )
        final = {k: v for k, v in history["final"].items() if _scalar(v) and "/" not in k}
        final |= best_validation(history["epochs"])
        outcome = Outcome(history["status"], history["epochs"], final,
                          history["wall_time_s"] + setup_s)
        print(outcome.status, {k: round(v, 4) if isinstance(v, float) else v
                               for k, v in final.items()})
        return outcome

    def save(self, outcome: Outcome, extra: dict | None = None) -> None:
        """Write the result file (nothing if ``result_path`` is None)."""
        if self.result_path is None:
            return
        from spectral.experiments import write_result

        write_result(
            self.result_path,
            experiment=self.experiment,
            run_id=self.run_id,
            params=self.run_params,
            status=outcome.status,
            metrics=outcome.epochs,
            final=outcome.final,
            wall_time_s=outcome.wall_time_s,
            device=self.device,
            extra=extra,
        )
