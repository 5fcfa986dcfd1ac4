"""One small training loop for every experiment of the book.

:func:`fit` trains a classifier with the papers' optimisers (SGD with momentum and
weight decay, Adam) and learning-rate schedules (multi-step decay at given epochs, step
decay every ``k`` epochs), evaluates after every epoch, calls user callbacks, prints one
line per epoch, writes a checkpoint after every epoch (atomically, fsynced) and resumes
from it. With a fixed seed it is deterministic on the CPU, and a resumed run equals an
uninterrupted one.

The fast path (:class:`TrainConfig` ``amp``, ``channels_last``, ``torch_compile``) is
the same on the CPU and on CUDA: bfloat16 autocast (CPU: AMX/AVX-512 bf16 kernels
through oneDNN; :func:`native_bf16` says whether the device has them, and ``fit`` warns
when it does not), channels-last model and batches, and optionally ``torch.compile``. The
spectral layers follow the package's autocast policy (:mod:`spectral._validate`): they
compute their FFTs in float32 and return the dtype they were given.

Divergence rule
---------------
A run is recorded ``diverged`` (and stops) when a training batch has a non-finite loss,
or when an epoch's mean training loss exceeds ``divergence_factor × ln(K)`` for ``K``
classes: the loss of uniform guessing is ``ln(K)``, so ten times it (the default) is
a network far worse than chance that no schedule in this book recovers from.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from torch import nn

from spectral._io import atomic_write
from spectral._selection import best_epoch_index

__all__ = ["Callback", "TrainConfig", "evaluate", "fit", "native_bf16", "seed_everything"]

#: ``callback(epoch, model, metrics) -> dict | None``: called after each epoch's
#: evaluation, before the checkpoint; a returned dict is merged into that epoch's metrics
#: (e.g. feature-map norms, Maximum Gain, mask statistics). Values must be JSON-friendly.
Callback = Callable[[int, nn.Module, dict], dict | None]


def _is_real(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int)


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule and run settings.

    Attributes
    ----------
    epochs : int
    optimizer : {"sgd", "adam"}
    lr : float
        Base learning rate, finite and > 0.
    momentum : float
        SGD's, in ``[0, 1)``; Adam uses its default betas.
    weight_decay : float
        Finite and >= 0.
    nesterov : bool
    schedule : {"constant", "multistep", "step"}
        ``multistep``: multiply the rate by ``lr_decay`` after each epoch in
        ``milestones``; ``step``: multiply it by ``lr_decay`` every ``step_size`` epochs.
    milestones : tuple of int
        Strictly increasing, each in ``[1, epochs)`` (a milestone at or after the last
        epoch would never take effect).
    step_size : int
    lr_decay : float
        In ``(0, 1]``.
    amp : {None, "bf16", "fp16"}
        Autocast dtype, on the CPU (bf16 only) as on CUDA (fp16 adds a gradient scaler).
    channels_last : bool
        Model and batches in ``torch.channels_last`` memory format.
    torch_compile : bool
        Run the model through ``torch.compile``; if compiling fails, ``fit`` prints one
        line and trains eagerly.
    divergence_factor : float
        See the module's divergence rule.
    patience : int
        Stopping rule: end the run once ``patience`` epochs in a row brought no new best
        ``val_accuracy`` (a callback must record it, as :class:`spectral.recipe.StandardRun`
        does for its validation split); ``epochs`` is then the most it trains. 0 (the
        default) trains all ``epochs``.
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
    lr_decay: float = 0.1
    amp: str | None = None
    channels_last: bool = False
    torch_compile: bool = False
    divergence_factor: float = 10.0
    patience: int = 0

    def __post_init__(self):
        object.__setattr__(self, "milestones", tuple(self.milestones))
        for problem in self._problems():
            raise ValueError(problem)

    def _problems(self):
        if not _is_int(self.epochs) or self.epochs < 1:
            yield f"epochs must be an int >= 1, got {self.epochs!r}"
        if self.optimizer not in ("sgd", "adam"):
            yield f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}"
        if not _is_real(self.lr) or self.lr <= 0:
            yield f"lr must be a finite number > 0, got {self.lr!r}"
        if not _is_real(self.momentum) or not 0 <= self.momentum < 1:
            yield f"momentum must lie in [0, 1), got {self.momentum!r}"
        if not _is_real(self.weight_decay) or self.weight_decay < 0:
            yield f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}"
        if self.schedule not in ("constant", "multistep", "step"):
            yield f"schedule must be 'constant', 'multistep' or 'step', got {self.schedule!r}"
        if self.schedule == "step" and (not _is_int(self.step_size) or self.step_size < 1):
            yield f"schedule='step' needs an int step_size >= 1, got {self.step_size!r}"
        if self.schedule == "multistep":
            yield from self._milestone_problems()
        if not _is_real(self.lr_decay) or not 0 < self.lr_decay <= 1:
            yield f"lr_decay must lie in (0, 1], got {self.lr_decay!r}"
        if self.amp not in (None, "bf16", "fp16"):
            yield f"amp must be None, 'bf16' or 'fp16', got {self.amp!r}"
        if not _is_real(self.divergence_factor) or self.divergence_factor <= 1:
            yield f"divergence_factor must be a finite number > 1, got {self.divergence_factor!r}"
        if not _is_int(self.patience) or self.patience < 0:
            yield f"patience must be an int >= 0 (0: no early stop), got {self.patience!r}"

    def _milestone_problems(self):
        m = self.milestones
        if not m or not all(_is_int(x) for x in m):
            yield f"schedule='multistep' needs int milestones, got {list(m)}"
        elif any(b <= a for a, b in zip(m, m[1:], strict=False)):
            yield f"milestones must be strictly increasing, got {list(m)}"
        elif m[0] < 1 or m[-1] >= self.epochs:
            yield (
                f"milestones must lie in [1, epochs={self.epochs}), got {list(m)}: a decay "
                "at or after the last epoch never happens; scale the milestones with epochs "
                "(e.g. -p milestones=[...]) or use schedule='constant'"
            )

    @classmethod
    def from_params(cls, params: Mapping) -> TrainConfig:
        """The config whose fields are the same-named entries of ``params``.

        Entries that are not fields (data set, model, seed, ...) are ignored; missing
        fields keep their defaults. ``epochs`` is required.
        """
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in params.items() if k in names})


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
            optimizer, list(config.milestones), gamma=config.lr_decay
        )
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, config.step_size, gamma=config.lr_decay
        )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


def native_bf16(device="cpu") -> bool:
    """Whether ``device`` runs bfloat16 autocast in hardware (the fast path's premise).

    CPU: oneDNN's bf16 kernels, which need AVX-512-BF16 or AMX (Intel Cooper Lake,
    Sapphire Rapids and later; AMD Zen 4 and later). Without them autocast still computes
    in bfloat16, but convolutions and matrix products fall back to reference kernels,
    many times slower than float32 (``benchmarks/engine.py`` prints the ratio). CUDA:
    ``torch.cuda.is_bf16_supported()``.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return True  # other backends: autocast decides


def _autocast(device: torch.device, amp: str | None):
    if amp is None:
        return contextlib.nullcontext()
    if device.type == "cpu" and amp == "fp16":
        raise ValueError("amp='fp16' needs a CUDA device; on the CPU use amp='bf16'")
    return torch.autocast(device.type, dtype=torch.bfloat16 if amp == "bf16" else torch.float16)


def _to_device(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    device,
    amp: str | None = None,
    *,
    channels_last: bool = False,
) -> dict:
    """Mean cross-entropy and accuracy of ``model`` (eval mode) over ``loader``.

    Raises
    ------
    ValueError
        If ``loader`` yields no examples.
    """
    model.eval()
    device = torch.device(device)
    total, loss_sum, correct = 0, 0.0, 0
    for x, y in loader:
        x, y = _to_device(x, device, channels_last), y.to(device)
        with _autocast(device, amp):
            logits = model(x)
        loss_sum += float(nn.functional.cross_entropy(logits.float(), y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
        total += len(y)
    if total == 0:
        raise ValueError(
            "evaluate() got an empty loader: check the test/validation split sizes "
            "(test_subset, val_fraction)"
        )
    return {"loss": loss_sum / total, "accuracy": correct / total}


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


_CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "rng", "history", "status", "config")


def _move_aside(path: Path, reason: str, log: Callable[[str], object]) -> None:
    stale = path.parent / "stale" / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}"
    stale.parent.mkdir(parents=True, exist_ok=True)
    path.replace(stale)
    log(f"checkpoint {path} {reason}: moved to {stale}; training from scratch")


def _load_checkpoint(path: Path | None, config: TrainConfig, device, log) -> dict | None:
    """The checkpoint's state if it exists, is readable and continues ``config``.

    It continues ``config`` if it was written with the same settings but perhaps fewer
    ``epochs`` (so a finished run can be extended). A truncated, empty or foreign file,
    one written with other settings or holding more epochs is moved to ``stale/``
    beside it (with a message naming it) and ``None`` is returned.
    """
    if path is None or not path.is_file():
        return None
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as error:  # truncated, empty, not a torch file
        _move_aside(path, f"is unreadable ({type(error).__name__})", log)
        return None
    if not isinstance(state, dict) or any(k not in state for k in _CHECKPOINT_KEYS):
        _move_aside(path, "is not a checkpoint of this training loop", log)
        return None
    saved, wanted = dict(state["config"]), asdict(config)
    # A field the checkpoint lacks was added to TrainConfig later: at its default it
    # describes the behaviour the run had.
    saved = asdict(TrainConfig(epochs=config.epochs)) | saved
    changed = sorted(k for k in wanted if k != "epochs" and saved[k] != wanted[k])
    if changed:
        _move_aside(path, f"was written with other settings ({', '.join(changed)})", log)
        return None
    if len(state["history"]) > config.epochs:
        _move_aside(path, f"holds {len(state['history'])} epochs, more than {config.epochs}", log)
        return None
    return state


def _plateaued(history: list[dict], patience: int) -> bool:
    """Whether the last ``patience`` epochs of ``history`` brought no new best
    ``val_accuracy`` (never with ``patience`` 0; NaN scores count as no improvement)."""
    if not patience or len(history) <= patience:
        return False
    best = best_epoch_index(history, "val_accuracy")
    # No finite score yet: count from the first epoch.
    return len(history) - 1 - (0 if best is None else best) >= patience


def _restore(state: dict, model, optimizer, scheduler, scaler) -> None:
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and "scaler" in state:
        scaler.load_state_dict(state["scaler"])
    _set_rng_state(state["rng"])


def _save_checkpoint(
    path: Path, model, optimizer, scheduler, scaler, history, status, config, wall_time_s
):
    state = {
        "wall_time_s": wall_time_s,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": _rng_state(),
        "history": history,
        "status": status,
        "config": asdict(config),
    }
    if scaler is not None:
        state["scaler"] = scaler.state_dict()
    atomic_write(path, lambda f: torch.save(state, f))


def _compiled(model: nn.Module, log) -> Callable:
    """``torch.compile(model)``, or ``model`` itself (with one line) if that fails."""
    try:
        return torch.compile(model)
    except Exception as error:
        log(f"torch.compile unavailable ({type(error).__name__}: {error}); training eagerly")
        return model


class _Forward:
    """Calls the compiled model, falling back to eager on its first failure (one line)."""

    def __init__(self, model: nn.Module, compile_: bool, log):
        self.model, self.log = model, log
        self.call = _compiled(model, log) if compile_ else model

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.call is self.model:
            return self.model(x)
        try:
            return self.call(x)
        except Exception as error:
            self.log(f"torch.compile failed ({type(error).__name__}); training eagerly")
            self.call = self.model
            return self.model(x)


def _train_epoch(forward, model, loader, optimizer, scaler, config, device, bar) -> dict:
    """One pass over ``loader``; ``status`` is ``"diverged"`` on a non-finite batch loss."""
    model.train()
    seen, loss_sum, correct, classes = 0, 0.0, 0, 2
    for x, y in bar(loader):
        x, y = _to_device(x, device, config.channels_last), y.to(device, non_blocking=True)
        with _autocast(device, config.amp):
            logits = forward(x)
        loss = nn.functional.cross_entropy(logits.float(), y)
        if not torch.isfinite(loss):
            return {"status": "diverged", "seen": seen, "loss_sum": math.nan, "correct": correct,
                    "classes": logits.shape[1]}
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
        classes = logits.shape[1]
    return {"status": "complete", "seen": seen, "loss_sum": loss_sum, "correct": correct,
            "classes": classes}


def _format_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _epoch_line(metrics: dict, epochs: int, elapsed: float) -> str:
    """``epoch 3/30  train 1.234 0.567  val …  test …  lr 0.1  12.3 s  elapsed …  ETA …``."""
    parts = [f"epoch {metrics['epoch']}/{epochs}"]
    for split in ("train", "val", "test"):
        if f"{split}_loss" in metrics:
            loss, acc = metrics[f"{split}_loss"], metrics.get(f"{split}_accuracy", math.nan)
            parts.append(f"{split} loss {loss:.4f} acc {acc:.4f}")
    remaining = elapsed / metrics["epoch"] * (epochs - metrics["epoch"])
    parts += [
        f"lr {metrics['lr']:.3g}",
        f"{metrics['epoch_time_s']:.1f} s",
        f"elapsed {_format_duration(elapsed)}",
        f"ETA {_format_duration(remaining)}",
    ]
    return "  ".join(parts)


def _check_loaders(train_loader, test_loader) -> None:
    for name, loader in (("train_loader", train_loader), ("test_loader", test_loader)):
        if hasattr(loader, "__len__") and len(loader) == 0:
            raise ValueError(
                f"{name} is empty: check the split sizes (train_subset, val_fraction, "
                "test_subset) and batch_size"
            )


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
    log: Callable[[str], object] | None = None,
) -> dict:
    """Train ``model`` for ``config.epochs`` epochs, resuming from ``checkpoint``.

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, C, H, W)`` images to ``(B, classes)`` logits; moved to ``device``
        (and to channels-last with ``config.channels_last``). An ``lr_multipliers``
        attribute (dict: ``named_parameters()`` name to float, as
        :func:`spectral.models.lenet_cifar` sets) gives those parameters the learning
        rate ``multiplier × config.lr`` (MatConvNet's per-parameter rates); the recorded
        ``lr`` is the base rate.
    train_loader, test_loader
        Iterables of ``(images, labels)``; a ``set_epoch(e)`` method, if present, is
        called before each epoch (see :class:`spectral.data.TensorLoader`).
    config : TrainConfig
    device : torch.device or str
    checkpoint : path, optional
        Written after every epoch (model, optimiser, scheduler, RNG states, history,
        config, elapsed time); if it exists when ``fit`` starts and was written with the
        same ``config`` (``epochs`` may be larger now), training resumes after its last
        epoch. An unreadable checkpoint, or one written with other settings, is moved to
        ``stale/`` beside it (with a message) and training starts from scratch.
    callbacks : iterable of Callback
    optimizer_hooks : iterable of callable
        Each is called once as ``hook(optimizer)`` right after ``fit`` builds the
        optimiser and before it resumes from ``checkpoint`` (e.g. to register a step
        post-hook with ``optimizer.register_step_post_hook``); return values are ignored.
    progress : bool
        Show a tqdm bar over batches (``TQDM_DISABLE=1`` silences it too).
    log : callable, optional
        Receives one line per epoch and the loop's messages; default ``print`` (flushed).

    Returns
    -------
    dict
        ``status`` (``"complete"`` or ``"diverged"``), ``epochs`` (list of per-epoch
        metric dicts: ``epoch``, ``lr``, ``train_loss``, ``train_accuracy``,
        ``test_loss``, ``test_accuracy``, ``epoch_time_s`` and callback values),
        ``final`` (the last epoch's metrics), ``config`` and ``wall_time_s`` (training
        time summed over every resumed segment).
    """
    from tqdm import tqdm

    log = log or (lambda line: print(line, flush=True))
    _check_loaders(train_loader, test_loader)
    device = torch.device(device)
    _autocast(device, config.amp)  # fails early for fp16 on the CPU
    if config.amp == "bf16" and not native_bf16(device):
        log(f"warning: amp='bf16' on a {device.type} without native bfloat16 (see "
            "spectral.train.native_bf16): expect many times float32's time; amp=None trains "
            "in float32")
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = _optimizer(model, config)
    for hook in optimizer_hooks:
        hook(optimizer)
    scheduler = _scheduler(optimizer, config)
    scaler = torch.amp.GradScaler("cuda") if config.amp == "fp16" else None
    path = Path(checkpoint) if checkpoint is not None else None
    state = _load_checkpoint(path, config, device, log)
    history, status, previous_time = [], "complete", 0.0
    if state is not None:
        _restore(state, model, optimizer, scheduler, scaler)
        history, status = state["history"], state["status"]
        previous_time = state.get("wall_time_s", 0.0)
    forward = _Forward(model, config.torch_compile, log)
    segment_start = time.perf_counter()
    quiet = {} if progress else {"disable": True}  # else tqdm obeys TQDM_DISABLE

    for epoch in range(len(history) + 1, config.epochs + 1):
        if status != "complete":
            break
        if _plateaued(history, config.patience):
            log(f"no new best val_accuracy in {config.patience} epochs: stopped after "
                f"epoch {epoch - 1} (patience={config.patience})")
            break
        for loader in (train_loader, test_loader):
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(epoch)
        start = time.perf_counter()
        group = optimizer.param_groups[0]
        lr = group["lr"] / group["lr_multiplier"]  # the base rate, before multipliers

        def bar(loader, epoch=epoch):
            return tqdm(loader, desc=f"epoch {epoch}/{config.epochs}", leave=False, **quiet)

        seen = _train_epoch(forward, model, train_loader, optimizer, scaler, config, device, bar)
        scheduler.step()
        n = seen["seen"]
        metrics = {
            "epoch": epoch,
            "lr": lr,
            "train_loss": seen["loss_sum"] / n if n else math.nan,
            "train_accuracy": seen["correct"] / n if n else math.nan,
        }
        status = seen["status"]
        if status == "complete" and not (
            metrics["train_loss"] <= config.divergence_factor * math.log(seen["classes"])
        ):
            status = "diverged"
        if status == "complete":
            test = evaluate(model, test_loader, device, config.amp,
                            channels_last=config.channels_last)
            metrics |= {"test_loss": test["loss"], "test_accuracy": test["accuracy"]}
            for callback in callbacks:
                metrics |= callback(epoch, model, metrics) or {}
            if config.patience and "val_accuracy" not in metrics:
                raise ValueError(
                    f"patience={config.patience} stops on val_accuracy, which no callback "
                    "recorded; give the run a validation split (StandardRun's val_fraction "
                    "> 0) or set patience=0"
                )
        metrics["epoch_time_s"] = time.perf_counter() - start
        history.append(metrics)
        elapsed = previous_time + time.perf_counter() - segment_start
        log(_epoch_line(metrics, config.epochs, elapsed)
            + ("" if status == "complete" else f"  {status.upper()}"))
        if path is not None:
            _save_checkpoint(
                path, model, optimizer, scheduler, scaler, history, status, config, elapsed
            )
    return {
        "status": status,
        "epochs": history,
        "final": history[-1] if history else {},
        "config": asdict(config),
        "wall_time_s": previous_time + time.perf_counter() - segment_start,
    }
