"""One small training loop for every experiment of the book.

:func:`fit` trains a classifier with the papers' optimisers (SGD with momentum and
weight decay, Adam) and learning-rate schedules (multi-step decay at given epochs, step
decay every ``k`` epochs), evaluates after every epoch, writes a checkpoint after every
epoch (atomically) and resumes from it, stops a diverging run (non-finite loss) and
records it as a result, calls user callbacks, and shows a tqdm progress bar. With a
fixed seed it is deterministic on the CPU, and a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

__all__ = ["Callback", "TrainConfig", "evaluate", "fit", "seed_everything"]

#: ``callback(epoch, model, metrics) -> dict | None``: called after each epoch's
#: evaluation, before the checkpoint; a returned dict is merged into that epoch's metrics
#: (e.g. feature-map norms, Maximum Gain, mask statistics). Values must be JSON-friendly.
Callback = Callable[[int, nn.Module, dict], dict | None]


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule and run settings.

    Attributes
    ----------
    epochs : int
    optimizer : {"sgd", "adam"}
    lr, momentum, weight_decay : float
        ``momentum`` is SGD's; Adam uses its default betas.
    nesterov : bool
    schedule : {"constant", "multistep", "step"}
        ``multistep``: multiply by ``gamma`` at each epoch in ``milestones``;
        ``step``: multiply by ``gamma`` every ``step_size`` epochs.
    milestones : tuple of int
    step_size : int
    gamma : float
    amp : {None, "bf16", "fp16"}
        Autocast dtype on CUDA (fp16 adds a gradient scaler); ignored on the CPU.
    """

    epochs: int
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    nesterov: bool = False
    schedule: str = "constant"
    milestones: tuple[int, ...] = field(default_factory=tuple)
    step_size: int = 0
    gamma: float = 0.1
    amp: str | None = None

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.schedule not in ("constant", "multistep", "step"):
            raise ValueError(
                f"schedule must be 'constant', 'multistep' or 'step', got {self.schedule!r}"
            )
        if self.schedule == "step" and self.step_size < 1:
            raise ValueError("schedule='step' needs step_size >= 1")
        if self.amp not in (None, "bf16", "fp16"):
            raise ValueError(f"amp must be None, 'bf16' or 'fp16', got {self.amp!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's global and torch's (CPU and CUDA) generators."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (third-party code draws from it)
    torch.manual_seed(seed)


def _param_groups(model: nn.Module, lr: float) -> list[dict]:
    """One group per distinct ``model.lr_multipliers`` value, each with ``lr_multiplier``."""
    multipliers = dict(getattr(model, "lr_multipliers", None) or {})
    names = {name for name, _ in model.named_parameters()}
    unknown = sorted(set(multipliers) - names)
    if unknown:
        raise ValueError(
            f"lr_multipliers names unknown parameters {unknown}; use names from "
            "model.named_parameters()"
        )
    groups: dict[float, list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            groups.setdefault(float(multipliers.get(name, 1.0)), []).append(p)
    return [{"params": ps, "lr": lr * m, "lr_multiplier": m} for m, ps in groups.items()]


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = _param_groups(model, config.lr)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(
        params,
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=config.nesterov,
    )


def _scheduler(optimizer, config: TrainConfig):
    if config.schedule == "multistep":
        return torch.optim.lr_scheduler.MultiStepLR(
            optimizer, list(config.milestones), gamma=config.gamma
        )
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, config.step_size, gamma=config.gamma)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


def _autocast(device: torch.device, amp: str | None):
    if device.type != "cuda" or amp is None:
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast("cuda", dtype=dtype)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, device, amp: str | None = None) -> dict:
    """Mean cross-entropy and accuracy of ``model`` (eval mode) over ``loader``."""
    model.eval()
    device = torch.device(device)
    total, loss_sum, correct = 0, 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        with _autocast(device, amp):
            logits = model(x)
        loss_sum += float(nn.functional.cross_entropy(logits.float(), y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
        total += len(y)
    return {"loss": loss_sum / total, "accuracy": correct / total}


def _save_atomically(state: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(state, partial)
    partial.replace(path)


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def fit(
    model: nn.Module,
    train_loader,
    test_loader,
    config: TrainConfig,
    *,
    device: torch.device | str = "cpu",
    checkpoint: str | os.PathLike | None = None,
    callbacks: Iterable[Callback] = (),
    optimizer_hooks: Iterable[Callable[[torch.optim.Optimizer], object]] = (),
    progress: bool = True,
) -> dict:
    """Train ``model`` for ``config.epochs`` epochs, resuming from ``checkpoint``.

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, C, H, W)`` images to ``(B, classes)`` logits; moved to ``device``.
        An ``lr_multipliers`` attribute (dict: ``named_parameters()`` name to float, as
        :func:`spectral.models.lenet_cifar` sets) gives those parameters the learning
        rate ``multiplier × config.lr`` (MatConvNet's per-parameter rates); the recorded
        ``lr`` is the base rate.
    train_loader, test_loader
        Iterables of ``(images, labels)``; a ``set_epoch(e)`` method, if present, is
        called before each epoch (see :class:`spectral.data.TensorLoader`).
    config : TrainConfig
    device : torch.device or str
    checkpoint : path, optional
        Written after every epoch (model, optimiser, scheduler, RNG states, history);
        if it exists when ``fit`` starts, training resumes after its last epoch.
    callbacks : iterable of Callback
    optimizer_hooks : iterable of callable
        Each is called once as ``hook(optimizer)`` right after ``fit`` builds the
        optimiser and before it resumes from ``checkpoint`` (e.g. to register a step
        post-hook with ``optimizer.register_step_post_hook``); return values are ignored.
    progress : bool
        Show a tqdm bar over batches (``TQDM_DISABLE=1`` silences it too).

    Returns
    -------
    dict
        ``status`` (``"complete"`` or ``"diverged"``), ``epochs`` (list of per-epoch
        metric dicts: ``epoch``, ``lr``, ``train_loss``, ``train_accuracy``,
        ``test_loss``, ``test_accuracy``, ``epoch_time_s`` and callback values),
        ``final`` (the last epoch's metrics) and ``config``.
    """
    from tqdm import tqdm

    device = torch.device(device)
    model.to(device)
    optimizer = _optimizer(model, config)
    for hook in optimizer_hooks:
        hook(optimizer)
    scheduler = _scheduler(optimizer, config)
    scaler = (
        torch.amp.GradScaler("cuda") if device.type == "cuda" and config.amp == "fp16" else None
    )
    history: list[dict] = []
    status = "complete"
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.is_file():
        state = torch.load(path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and "scaler" in state:
            scaler.load_state_dict(state["scaler"])
        _set_rng_state(state["rng"])
        history, status = state["history"], state["status"]

    for epoch in range(len(history) + 1, config.epochs + 1):
        if status != "complete":
            break
        for loader in (train_loader, test_loader):
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(epoch)
        model.train()
        start = time.perf_counter()
        group = optimizer.param_groups[0]
        lr = group["lr"] / group["lr_multiplier"]  # the base rate, before multipliers
        seen, loss_sum, correct = 0, 0.0, 0
        quiet = {} if progress else {"disable": True}  # else tqdm obeys TQDM_DISABLE
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{config.epochs}", leave=False, **quiet)
        for x, y in bar:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with _autocast(device, config.amp):
                logits = model(x)
            loss = nn.functional.cross_entropy(logits.float(), y)
            if not torch.isfinite(loss):
                status = "diverged"
                break
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            seen += len(y)
            loss_sum += float(loss.detach()) * len(y)
            correct += int((logits.argmax(1) == y).sum())
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        scheduler.step()
        metrics = {
            "epoch": epoch,
            "lr": lr,
            "train_loss": loss_sum / seen if seen else math.nan,
            "train_accuracy": correct / seen if seen else math.nan,
        }
        if status == "complete":
            test = evaluate(model, test_loader, device, config.amp)
            metrics |= {"test_loss": test["loss"], "test_accuracy": test["accuracy"]}
            for callback in callbacks:
                metrics |= callback(epoch, model, metrics) or {}
        metrics["epoch_time_s"] = time.perf_counter() - start
        history.append(metrics)
        if path is not None:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": _rng_state(),
                "history": history,
                "status": status,
            }
            if scaler is not None:
                state["scaler"] = scaler.state_dict()
            _save_atomically(state, path)
    return {
        "status": status,
        "epochs": history,
        "final": history[-1] if history else {},
        "config": asdict(config),
    }
