"""Per-epoch measurements of the experiments, as callbacks of :func:`spectral.train.fit`.

A callback is called as ``callback(epoch, model, metrics)`` after each epoch's evaluation
and returns a dict of JSON-friendly values (floats, ints, lists and dicts of those) that
the loop merges into that epoch's metrics:

* :class:`FeatureMapStatistics`: per-sample L2 norm and the distribution of ``|values|``
  after each normalisation layer on a fixed probe batch (SBN paper, Fig. 1–2), and
  optionally the :func:`spectral_flatness` of those maps;
* :class:`FilterSparsity`: energy share of the largest coefficients of the first
  convolution's filters in the spatial and the spectral basis (Rippel et al., Fig. 3b),
  and optionally the fraction of coordinates that moved materially since the last epoch;
* :class:`MaskStatistics`: fraction of frequencies each learned mask drops (mask paper,
  Table 3).

:func:`corruption_accuracy` is not a callback: it evaluates a trained model on the test
set corrupted as CIFAR-10-C (mask paper, Table 2), the same images for every run.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from spectral._io import derive_seed
from spectral.corruptions import CORRUPTIONS, corrupt
from spectral.data import TensorLoader
from spectral.masks import mask_sparsity
from spectral.norm import SpectralBatchNorm2d
from spectral.parametrize import SpectralWeight, is_spectral, spectral_basis
from spectral.train import evaluate

__all__ = [
    "NORM_TYPES",
    "FeatureMapStatistics",
    "FilterSparsity",
    "MaskStatistics",
    "corruption_accuracy",
    "spectral_flatness",
    "top_energy",
]

#: The modules :class:`FeatureMapStatistics` treats as normalisation layers by default.
NORM_TYPES: tuple[type[nn.Module], ...] = (_BatchNorm, SpectralBatchNorm2d)


def _model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of the model's first parameter or buffer (else CPU, default)."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.get_default_dtype()


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode inside; afterwards every submodule gets back its own ``training`` flag."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _check_model(model: nn.Module) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")


def _percentiles(values: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Percentiles ``q`` (in [0, 100]) of a 1-D tensor, linear interpolation (NumPy's default).

    By a sort, not ``torch.quantile``, which refuses inputs of more than 2²⁴ elements.
    """
    ordered = values.sort().values
    position = q.to(torch.float64) / 100 * (len(ordered) - 1)
    lower = position.floor().long()
    upper = position.ceil().long()
    weight = (position - lower).to(ordered.dtype).to(ordered.device)
    lower, upper = lower.to(ordered.device), upper.to(ordered.device)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * weight


def spectral_flatness(x: torch.Tensor) -> torch.Tensor:
    """Normalised spectral entropy of each feature map's magnitude spectrum, in [0, 1].

    For one map ``x`` (one sample, one channel) of ``H × W = n`` pixels, with
    ``X = fft2(x)`` its full 2-D DFT (all ``n`` bins, the zero frequency included) and
    ``p[k, l] = |X[k, l]| / Σ |X|`` its magnitudes as a distribution,

    .. math:: \\operatorname{flatness}(x) = -\\frac{1}{\\log n}\\sum_{k,l} p[k,l]\\,
              \\log p[k,l] \\qquad (0 \\log 0 = 0).

    1 means a perfectly flat spectrum (all ``|X|`` equal, e.g. an impulse map); 0 means
    all the magnitude in one bin (e.g. a constant map, all in the zero frequency). The
    DFT normalisation cancels in ``p``. Cakaj et al. (SBN, 2023) claim SBN makes the
    frequency components of the feature maps more uniform: a higher flatness.

    Parameters
    ----------
    x : Tensor, shape ``(N, C, H, W)``
        Real feature maps with ``H·W >= 2``. Computed in float32 (float64 for float64
        input), so bfloat16/float16 maps are fine.

    Returns
    -------
    Tensor, shape ``(N, C)``
        Flatness per sample and channel; NaN where a map is all zeros (no spectrum to
        speak of).

    Raises
    ------
    TypeError, ValueError
        ``x`` not a real floating tensor of shape ``(N, C, H, W)`` with ``H·W >= 2``.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"x must be a real floating-point tensor, got {got}")
    if x.dim() != 4:
        raise ValueError(f"x must be feature maps (N, C, H, W), got shape {tuple(x.shape)}")
    n = x.shape[-2] * x.shape[-1]
    if n < 2:
        raise ValueError(
            f"x has {tuple(x.shape[-2:])} maps: flatness needs at least 2 frequencies "
            "(H·W >= 2); leave out layers with 1×1 maps"
        )
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    with torch.autocast(x.device.type, enabled=False):
        magnitude = torch.fft.fft2(x.to(dtype)).abs().flatten(2)
    total = magnitude.sum(-1, keepdim=True)
    p = magnitude / total.clamp_min(torch.finfo(dtype).tiny)
    flatness = (-torch.xlogy(p, p).sum(-1) / math.log(n)).clamp(0.0, 1.0)
    return torch.where(total[..., 0] > 0, flatness, torch.full_like(flatness, math.nan))


def _is_norm(module: nn.Module, types: tuple[type[nn.Module], ...]) -> bool:
    """An instance of ``types``, or a non-empty ``nn.Sequential`` made only of such norms."""
    if isinstance(module, types):
        return True
    return (
        isinstance(module, nn.Sequential)
        and len(module) > 0
        and all(_is_norm(child, types) for child in module)
    )


class FeatureMapStatistics:
    """A callback: statistics of each normalisation layer's output on a fixed probe batch.

    ``stats(epoch, model, metrics)`` runs ``model`` on the probe in eval mode under
    ``torch.no_grad`` (each submodule's train/eval flag is restored afterwards, so no
    running statistic moves) and returns, for each recorded layer ``name``:

    * ``f"norm/{name}"``: the mean over samples of the per-sample L2 norm of the output
      (``(B, ...)`` flattened to ``(B, D)``);
    * ``f"abs_p{q:g}/{name}"`` for each ``q`` of ``percentiles``: that percentile of
      ``|output|`` over all its elements (linear interpolation, as ``numpy.percentile``),
      e.g. ``"abs_p99.9/layer3.0.bn1"``;
    * ``f"absmax/{name}"``: the largest ``|output|``;
    * with ``flatness=True``, ``f"flatness/{name}"``: the mean over samples and channels
      of :func:`spectral_flatness` (maps that are all zero left out).

    Statistics are computed in float32 (float64 for float64 outputs) whatever the
    output's dtype, e.g. bfloat16 under autocast.

    Which layers (see :meth:`layers`): a module is a *norm* if it is an instance of one of
    ``types``, or a non-empty ``nn.Sequential`` whose children are all norms (the
    ``BN → SBN`` and ``BN → BN`` chains of the "SBN34" and "2BN34" variants, see
    :func:`spectral.models.norm_variant`). The *outermost* norms are recorded, each once,
    by their module name: a chain ``layer3.0.bn1 = Sequential(BN, SBN)`` gives the keys
    of ``layer3.0.bn1`` (its output, after the SBN), never those of ``layer3.0.bn1.0``,
    so the keys are the same for "BN", "2BN34" and "SBN34". Projection shortcuts' norms
    (``layer2.0.downsample.1``) are norms too; ``where`` can leave them out. A module
    called more than once in one forward pass is recorded at its last call.

    Parameters
    ----------
    probe : Tensor, shape ``(B, C, H, W)``
        The fixed input batch (e.g. the first test batch); moved to the model's device
        and floating dtype at each call.
    types : type or tuple of types
        The normalisation classes; default :data:`NORM_TYPES` (``nn.BatchNorm*d`` and
        :class:`~spectral.norm.SpectralBatchNorm2d`).
    where : callable ``(name) -> bool``, optional
        Records only the outermost norms whose module name it accepts, e.g.
        ``lambda name: name.startswith(("layer3", "layer4"))``. Default: all.
    percentiles : sequence of float
        In [0, 100], distinct; ``()`` records none.
    flatness : bool
        Also record the spectral flatness (needs ``(B, C, H, W)`` outputs).

    Raises
    ------
    TypeError, ValueError
        At construction, for a bad argument; at a call, when no layer is selected.
    """

    def __init__(
        self,
        probe: torch.Tensor,
        *,
        types: type[nn.Module] | tuple[type[nn.Module], ...] = NORM_TYPES,
        where: Callable[[str], bool] | None = None,
        percentiles: Sequence[float] = (1, 50, 99, 99.9),
        flatness: bool = False,
    ) -> None:
        if not isinstance(probe, torch.Tensor) or not probe.is_floating_point():
            got = probe.dtype if isinstance(probe, torch.Tensor) else type(probe).__name__
            raise TypeError(
                f"probe must be a floating-point image batch (B, C, H, W), got {got}; "
                "pass e.g. next(iter(test_loader))[0]"
            )
        if probe.dim() != 4 or probe.shape[0] < 1:
            raise ValueError(f"probe must be a batch (B, C, H, W), got shape {tuple(probe.shape)}")
        types = types if isinstance(types, tuple) else (types,)
        if not types or not all(isinstance(t, type) and issubclass(t, nn.Module) for t in types):
            raise TypeError(
                f"types must be an nn.Module subclass or a non-empty tuple of them, e.g. "
                f"(nn.BatchNorm2d,), got {types!r}"
            )
        if where is not None and not callable(where):
            raise TypeError(
                f"where must be None or a callable (name) -> bool, got {type(where).__name__}"
            )
        q = tuple(percentiles)
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in q):
            raise TypeError(f"percentiles must be numbers in [0, 100], got {q!r}")
        if any(not 0 <= v <= 100 for v in q) or len({f"{v:g}" for v in q}) != len(q):
            raise ValueError(f"percentiles must be distinct numbers in [0, 100], got {q!r}")
        self.probe, self.types, self.where = probe.detach(), types, where
        self.percentiles, self.flatness = q, bool(flatness)

    def layers(self, model: nn.Module) -> list[tuple[str, nn.Module]]:
        """``(name, module)`` of the outermost norms of ``model`` that ``where`` accepts.

        In module order; submodules of ``model`` only (not ``model`` itself).
        """
        _check_model(model)
        found: list[tuple[str, nn.Module]] = []

        def visit(prefix: str, module: nn.Module) -> None:
            for child_name, child in module.named_children():
                name = f"{prefix}.{child_name}" if prefix else child_name
                if not _is_norm(child, self.types):
                    visit(name, child)
                elif self.where is None or self.where(name):
                    found.append((name, child))

        visit("", model)
        return found

    def statistics(self, name: str, output: torch.Tensor) -> dict[str, float]:
        """The recorded values of one layer's output ``(B, ...)``, keyed as in the class doc."""
        if not isinstance(output, torch.Tensor) or not output.is_floating_point():
            raise TypeError(
                f"layer {name!r} returned {type(output).__name__}, not a floating tensor; "
                "exclude it with where="
            )
        dtype = torch.float64 if output.dtype == torch.float64 else torch.float32
        flat = output.detach().to(dtype).flatten(1)
        magnitude = flat.abs().flatten()
        stats = {
            f"norm/{name}": float(torch.linalg.vector_norm(flat, dim=1).mean()),
        }
        if self.percentiles:
            q = torch.tensor(self.percentiles, dtype=torch.float64)
            values = _percentiles(magnitude, q).tolist()
            stats |= {
                f"abs_p{p:g}/{name}": v for p, v in zip(self.percentiles, values, strict=True)
            }
        stats[f"absmax/{name}"] = float(magnitude.max())
        if self.flatness:
            if output.dim() != 4:
                raise ValueError(
                    f"flatness needs (B, C, H, W) maps, but layer {name!r} outputs shape "
                    f"{tuple(output.shape)}; exclude it with where= or pass flatness=False"
                )
            stats[f"flatness/{name}"] = float(spectral_flatness(output.detach()).nanmean())
        return stats

    def __call__(self, epoch: int, model: nn.Module, metrics: dict | None = None) -> dict:
        layers = self.layers(model)
        if not layers:
            raise ValueError(
                f"no normalisation layer selected in {type(model).__name__}: none is an "
                f"instance of {[t.__name__ for t in self.types]} or a chain of them"
                + (" that where accepts" if self.where is not None else "")
                + "; check types= and where="
            )
        stats: dict[str, float] = {}

        def hook(name: str):
            def record(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
                stats.update(self.statistics(name, output))

            return record

        device, dtype = _model_device_dtype(model)
        handles = [module.register_forward_hook(hook(name)) for name, module in layers]
        try:
            with _eval_mode(model), torch.no_grad():
                model(self.probe.to(device=device, dtype=dtype))
        finally:
            for handle in handles:
                handle.remove()
        return stats


def top_energy(coefficients: torch.Tensor, fraction: float = 0.25) -> float:
    """Mean over filters of the energy share of each filter's largest coefficients.

    Parameters
    ----------
    coefficients : Tensor, shape ``(..., D)``
        One filter per row, in an orthonormal basis (``D = k·k`` coordinates), so that
        ``Σ c²`` is the filter's energy in any of them.
    fraction : float in (0, 1]
        The top ``max(1, round(fraction·D))`` squared coefficients are summed.

    Returns
    -------
    float
        The mean over rows of ``top / Σ c²`` (an all-zero row counts as 0), in [0, 1].
    """
    energy = coefficients.detach().to(torch.float64).square()
    k = max(1, round(fraction * energy.shape[-1]))
    top = energy.sort(dim=-1, descending=True).values[..., :k].sum(-1)
    return float((top / energy.sum(-1).clamp_min(1e-300)).mean())


def _moved_fraction(new: torch.Tensor, old: torch.Tensor, threshold: float) -> float:
    """Fraction of entries with ``|new − old| > threshold·|old|``."""
    return float(((new - old).abs() > threshold * old.abs()).to(torch.float64).mean())


class FilterSparsity:
    """A callback: how sparse the first convolution's filters are, spatially and spectrally.

    ``sparsity(epoch, model, metrics)`` takes the first ``nn.Conv2d`` of
    ``model.modules()`` and its current filters ``f = conv.weight`` (``(out, in, k, k)``;
    for a spectral layer the filters its coordinates encode), each 2-D filter flattened to
    ``k·k`` values, and its coordinates in the spectral basis ``θ = Bᵀ f`` of
    :func:`spectral.parametrize.spectral_basis` (orthonormal, the coordinates Adam moves
    under :func:`spectral.parametrize.spectral_parametrize`). It returns (``key`` default
    ``"conv1"``, ``T = f"{100·fraction:g}"``):

    * ``f"{key}_top{T}_energy_spatial"``, ``f"{key}_top{T}_energy_spectral"``:
      :func:`top_energy` of ``f`` and of ``θ`` (Rippel et al., Fig. 3b);
    * ``f"{key}_filters"``, at epoch ``snapshot_epoch`` only: the first ``snapshot``
      output channels' filters, nested lists of shape ``(snapshot, in, k, k)``;
    * with ``moved_threshold=t``, ``f"{key}_moved_spatial"``, ``f"{key}_moved_spectral"``:
      the fraction of coordinates that moved *materially* since the previous epoch,
      ``|c_e − c_{e−1}| > t·|c_{e−1}|`` per coordinate (a coordinate that was exactly 0
      counts as moved if it changed at all), in each basis: the "fraction of coordinates
      Adam moves" of Rippel et al., Fig. 3c, in this reading. The callback keeps a copy
      of the filters of the epoch it last saw; the values appear from the epoch after the
      first call (or after :meth:`remember`, e.g. on the initial model for epoch 1) and
      are skipped when the last call was not the previous epoch (after a resume);
    * when the layer is parametrized with ``basis="random"``
      (:func:`spectral.parametrize.spectral_parametrize`), the same energy and movement
      values with suffix ``_random``, in the layer's own rotated coordinates.

    Parameters
    ----------
    fraction : float in (0, 1]
        Share of the coordinates counted as "top" (Rippel et al.: a quarter).
    snapshot : int
        How many filters to store; 0 stores none.
    snapshot_epoch : int, optional
        The epoch at which to store them (e.g. the last one); needed when ``snapshot > 0``.
    moved_threshold : float > 0, optional
        ``t`` above; ``None`` does not measure movement.
    key : str
        Prefix of the metric names.
    """

    def __init__(
        self,
        *,
        fraction: float = 0.25,
        snapshot: int = 0,
        snapshot_epoch: int | None = None,
        moved_threshold: float | None = None,
        key: str = "conv1",
    ) -> None:
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            raise TypeError(f"fraction must be a number in (0, 1], got {fraction!r}")
        if not 0 < fraction <= 1:
            raise ValueError(
                f"fraction must be in (0, 1] (0.25 is Rippel's quarter), got {fraction}"
            )
        if isinstance(snapshot, bool) or not isinstance(snapshot, int) or snapshot < 0:
            raise ValueError(f"snapshot must be an int >= 0 (filters to store), got {snapshot!r}")
        if snapshot and (isinstance(snapshot_epoch, bool) or not isinstance(snapshot_epoch, int)):
            raise ValueError(
                f"snapshot={snapshot} needs snapshot_epoch, the int epoch at which to store "
                f"the filters (e.g. the last epoch), got {snapshot_epoch!r}"
            )
        if moved_threshold is not None and (
            isinstance(moved_threshold, bool)
            or not isinstance(moved_threshold, int | float)
            or not moved_threshold > 0
        ):
            raise ValueError(
                f"moved_threshold must be None or a relative change > 0 (e.g. 0.01), "
                f"got {moved_threshold!r}"
            )
        if not isinstance(key, str) or not key:
            raise ValueError(f"key must be a non-empty string, got {key!r}")
        self.fraction, self.snapshot, self.snapshot_epoch = (
            float(fraction),
            snapshot,
            snapshot_epoch,
        )
        self.moved_threshold, self.key = moved_threshold, key
        self._previous: tuple[int, dict[str, torch.Tensor]] | None = None

    @staticmethod
    def conv(model: nn.Module) -> nn.Conv2d:
        """The first ``nn.Conv2d`` of ``model.modules()``."""
        _check_model(model)
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                return module
        raise ValueError(
            f"{type(model).__name__} holds no nn.Conv2d; FilterSparsity measures the first "
            "convolution's filters"
        )

    def coordinates(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """The first convolution's filters in each basis: float64 CPU ``(out, in, k·k)``.

        Keys ``"spatial"`` (``f``) and ``"spectral"`` (``θ = Bᵀ f``), and ``"random"``
        (``f`` in the layer's own rotation) when the layer is parametrized with
        ``basis="random"``: the coordinates its optimiser moves.
        """
        conv = self.conv(model)
        with torch.no_grad():
            spatial = conv.weight.detach().to(device="cpu", dtype=torch.float64).flatten(-2)
        out = {"spatial": spatial, "spectral": spatial @ spectral_basis(tuple(conv.kernel_size))}
        for param in conv.parametrizations["weight"] if is_spectral(conv) else ():
            if isinstance(param, SpectralWeight) and param.basis_name == "random":
                out["random"] = spatial @ param.basis(torch.float64, torch.device("cpu"))
        return out

    def remember(self, model: nn.Module, epoch: int = 0) -> None:
        """Keep ``model``'s filters as those of ``epoch`` (default 0: before training)."""
        self._previous = (epoch, self.coordinates(model))

    def __call__(self, epoch: int, model: nn.Module, metrics: dict | None = None) -> dict:
        coordinates = self.coordinates(model)
        top, k = f"top{100 * self.fraction:g}", self.key
        out: dict = {
            f"{k}_{top}_energy_{basis}": top_energy(c, self.fraction)
            for basis, c in coordinates.items()
        }
        if self.moved_threshold is not None:
            if self._previous is not None and self._previous[0] == epoch - 1:
                old = self._previous[1]
                for basis, c in coordinates.items():
                    if basis in old:
                        t = self.moved_threshold
                        out[f"{k}_moved_{basis}"] = _moved_fraction(c, old[basis], t)
            self._previous = (epoch, coordinates)
        if self.snapshot and epoch == self.snapshot_epoch:
            kernel = tuple(self.conv(model).kernel_size)
            spatial = coordinates["spatial"]
            out[f"{k}_filters"] = spatial[: self.snapshot].unflatten(-1, kernel).tolist()
        return out


class MaskStatistics:
    """A callback: fraction of frequencies each learned mask drops, and their mean.

    ``stats(epoch, model, metrics)`` returns ``{key: {name: fraction}, key + "_mean":
    mean over masks}`` from :func:`spectral.masks.mask_sparsity` (names as
    :func:`spectral.masks.named_masks` gives them; the mean weighs every mask alike,
    whatever its size), the mask paper's Table 3.

    Parameters
    ----------
    key : str
        Prefix of the metric names.

    Raises
    ------
    ValueError
        At a call, when the model holds no :class:`~spectral.masks.FrequencyMask`.
    """

    def __init__(self, *, key: str = "mask_fraction") -> None:
        if not isinstance(key, str) or not key:
            raise ValueError(f"key must be a non-empty string, got {key!r}")
        self.key = key

    def __call__(self, epoch: int, model: nn.Module, metrics: dict | None = None) -> dict:
        _check_model(model)
        fractions = mask_sparsity(model)
        if not fractions:
            raise ValueError(
                f"{type(model).__name__} holds no FrequencyMask; attach masks first "
                "(spectral.masks.add_masks_(model, input_size)) or leave MaskStatistics out"
            )
        return {
            self.key: fractions,
            f"{self.key}_mean": math.fsum(fractions.values()) / len(fractions),
        }


def corruption_accuracy(
    model: nn.Module,
    test_loader: TensorLoader,
    kinds: Sequence[str],
    severities: Sequence[int],
    *,
    seed: int,
    device: torch.device | str,
    amp: str | None = None,
    batch_size: int = 500,
) -> dict[str, dict[str, float]]:
    """Accuracy of ``model`` on the test images corrupted by each kind and severity.

    The uint8 test images (on the CPU) are corrupted by :func:`spectral.corruptions.corrupt`
    with a generator seeded by ``derive_seed(seed, kind, severity)``
    (:func:`spectral._io.derive_seed`), so every run with the same ``seed`` sees the same
    corrupted images and no two (kind, severity) streams share a seed; they are then
    normalised with the loader's own mean and std (a :class:`~spectral.data.TensorLoader`,
    no augmentation, in order) and scored by :func:`spectral.train.evaluate`. Each
    submodule's train/eval flag is restored afterwards.

    Parameters
    ----------
    model : nn.Module
        On ``device``.
    test_loader : TensorLoader
        The clean test loader: its ``images`` (uint8 ``(N, C, H, W)``), ``labels``,
        ``mean`` and ``std`` are used.
    kinds : sequence of str
        Names from :data:`spectral.corruptions.CORRUPTIONS`, distinct.
    severities : sequence of int
        In 1..5, distinct.
    seed : int
        The corruption seed (the same for every run that should see the same images).
    device : torch.device or str
    amp : {None, "bf16", "fp16"}
        Autocast dtype for the evaluation, as in :class:`spectral.train.TrainConfig`.
    batch_size : int
        Evaluation batch size.

    Returns
    -------
    dict
        ``{kind: {str(severity): accuracy}}``, accuracies in [0, 1], in the given order.

    Raises
    ------
    TypeError, ValueError
        A loader without ``images``, ``labels``, ``mean``, ``std``; an unknown or
        repeated kind or severity; a bad ``batch_size``. Checked before any evaluation.
    """
    _check_model(model)
    missing = [a for a in ("images", "labels", "mean", "std") if not hasattr(test_loader, a)]
    if missing:
        raise TypeError(
            f"test_loader must be a spectral.data.TensorLoader (it lacks {', '.join(missing)}); "
            "pass loaders.test from spectral.data.make_loaders"
        )
    kinds, severities = list(kinds), list(severities)
    unknown = [k for k in kinds if k not in CORRUPTIONS]
    if not kinds or unknown or len(set(kinds)) != len(kinds):
        raise ValueError(
            f"kinds must be distinct names from {CORRUPTIONS}, at least one; got {kinds!r}"
        )
    if (
        not severities
        or any(isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= 5 for s in severities)
        or len(set(severities)) != len(severities)
    ):
        raise ValueError(
            f"severities must be distinct ints in 1..5, at least one; got {severities!r}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    images = test_loader.images.cpu()
    mean, std = test_loader.mean.flatten().cpu(), test_loader.std.flatten().cpu()
    results: dict[str, dict[str, float]] = {}
    with _eval_mode(model):
        for kind in kinds:
            results[kind] = {}
            for severity in severities:
                generator = torch.Generator().manual_seed(derive_seed(seed, kind, severity))
                corrupted = corrupt(images, kind, severity, generator=generator)
                loader = TensorLoader(
                    corrupted,
                    test_loader.labels,
                    batch_size=batch_size,
                    mean=mean,
                    std=std,
                    device=device,
                )
                results[kind][str(severity)] = evaluate(model, loader, device, amp)["accuracy"]
    return results
