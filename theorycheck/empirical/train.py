"""Training loop of the empirical checks: encoders trained with CE, CE-fix or SC, geometry over time.

One function, :func:`train`, takes a :class:`TrainConfig` and returns a
:class:`TrainResult` with the metric history. What it does, step by step:

1. Resolve the device (``auto``: CUDA if available, else CPU; ``cuda`` without a GPU is
   an error that says so), seed everything (model initialisation, batch sampler,
   augmentation each have their seeded generator), and set the number of CPU threads
   and, on CUDA, deterministic cuDNN kernels for the duration of the run (restored
   afterwards).
2. Load the data (:func:`theorycheck.empirical.data.load_dataset`) and keep it as one
   tensor on the device; batches are drawn by :class:`BatchSampler` -- i.i.d. with
   replacement (the ``ordered`` batch set of docs/theory.md section 3) or as consecutive
   chunks of a fresh permutation each epoch (uniformly random ``subset`` batches; the
   last incomplete chunk of an epoch is dropped so every batch has b samples).
3. Build the encoder (projecting to the sphere of radius rho when the objective needs
   it) and the objective (:func:`theorycheck.empirical.objectives.make_objective`).
4. Train with SGD (momentum, weight decay) or Adam, constant or cosine learning rate;
   optionally under mixed precision (``amp``: float16 with a gradient scaler on CUDA,
   bfloat16 on CPU -- the same code path, so the CPU tests exercise the GPU one).
   Under ``torchrun`` the model is wrapped in DDP and contrastive losses see the global
   batch (:mod:`theorycheck.empirical.distributed`).
5. Every ``eval_every`` iterations (and at the end) measure the geometry of the whole
   training set in eval mode, in float64 (:mod:`theorycheck.empirical.metrics`), append it
   to the history and, with ``out``, to ``metrics.jsonl`` (one JSON object per line).

Determinism: with the same seed, torch version, device and number of CPU threads, two
CPU runs give identical histories (tested).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from .._validation import InvalidArgumentError, check_choice, check_int, check_real, fail, fail_type
from .data import DataSet, RandomCropFlip, load_dataset
from .distributed import (DistributedContext, gather_for_loss, init_distributed, local_slice, shutdown_distributed,
                          synchronise_batchnorm)
from .metrics import (
    GeometryTracker,
    NearestClassMeanAgreement,
    ce_loss_gap,
    class_mean_cosines,
    expected_batch_loss,
    sc_loss_gap,
)
from .models import MODEL_NAMES, Encoder, build_encoder
from .objectives import OBJECTIVE_NAMES, make_objective

__all__ = [
    "TrainConfig",
    "TrainResult",
    "TrainingModule",
    "BatchSampler",
    "resolve_device",
    "train",
    "evaluate",
    "DEVICES",
]

DEVICES = ("auto", "cpu", "cuda")
_OPTIMIZERS = ("adam", "sgd")
_SCHEDULES = ("constant", "cosine")
_AMP_DTYPES = ("auto", "float16", "bfloat16")


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` / ``"cuda:N"`` must exist.

    Raises
    ------
    InvalidArgumentError
        ``cuda`` requested on a machine where ``torch.cuda.is_available()`` is False, or an
        unknown device name.
    """
    caller = "train"
    if not isinstance(device, str):
        raise fail("device", caller, "one of 'auto', 'cpu', 'cuda' (or 'cuda:N')", device)
    name = device.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise fail("device", caller, "'cpu' or 'auto' on this machine: CUDA was requested but no GPU is "
                       "available (torch.cuda.is_available() is False"
                       + (", this torch build has no CUDA support" if torch.version.cuda is None else "")
                       + ")", device)
        if name.startswith("cuda:"):
            index = name.split(":", 1)[1]
            if not index.isdigit() or int(index) >= torch.cuda.device_count():
                raise fail("device", caller, f"'cuda:N' with N < {torch.cuda.device_count()} (GPUs present)", device)
        return torch.device(name)
    raise fail("device", caller, "one of 'auto', 'cpu', 'cuda' (or 'cuda:N')", device)


@dataclass
class TrainConfig:
    """Everything a training run depends on (written to ``config.json``).

    Attributes
    ----------
    loss : {"ce", "ce-fix", "supcon"}
    data : str
        ``digits`` (default), ``gaussian``, ``cifar10:PATH``, ``cifar100:PATH``, ``mnist:PATH``.
    model : {"mlp", "cnn", "resnet18"}
    dim : int, optional
        Embedding dimension h (default 512 for resnet18, else 128).
    hidden : tuple of int
        MLP hidden widths.
    iterations, epochs : int / float, optional
        Length of the run; give at most one (default 500 iterations). An epoch is N // b
        iterations.
    batch_size : int
        Global batch size b (divided among processes under DDP).
    replacement : bool
        Sample batches i.i.d. with replacement (batch set ``ordered``) instead of as random
        subsets (``subset``, the default).
    optimizer, lr, momentum, weight_decay, schedule
        Adam (default, lr 1e-3) or SGD (the paper: lr 0.1, momentum 0.9, weight decay 1e-4),
        constant or cosine learning rate.
    rho : float, optional
        Radius of the sphere the features are projected to (graf2021's rho). Default 1.0.
        ``None`` together with ``temperature`` for supcon (unit sphere, khosla2020); for CE
        and CE-fix pass ``unconstrained=True`` to train without a projection.
    temperature, base_temperature : float, optional
        SupCon temperature on unit features (rho = 1/sqrt(temperature)) and khosla2020's scaling.
    weight_radius : float
        Row norm of the fixed simplex classifier of CE-fix.
    unconstrained : bool
        CE/CE-fix: no projection of the features (the bound then uses the largest feature norm).
    augment : bool, optional
        Random crop (padding 4) and horizontal flip for images; default on for the
        CIFAR sets, off otherwise.
    balance : bool
        Subsample classes to equal size (the theorems assume balanced labels).
    max_samples : int, optional
        Train on a stratified random subset.
    device : {"auto", "cpu", "cuda"}
    amp : bool
        Mixed precision (autocast; float16 + GradScaler on CUDA, bfloat16 on CPU).
    amp_dtype : {"auto", "float16", "bfloat16"}
    seed : int
    deterministic : bool
        On CUDA, ask cuDNN for deterministic kernels (and no autotuning). CPU runs are
        reproducible from the seed alone for a fixed number of threads.
    threads : int, optional
        torch intra-op CPU threads for the run (restored afterwards); default: torch's
        setting. One thread is often fastest for the small models on a busy machine.
    eval_every : int
        Iterations between geometry measurements (also measured at iteration 0 and at the end).
    eval_batch_size : int
        Batch size of the evaluation passes.
    sc_eval_batches : int
        Random batches for the Monte-Carlo estimate of the mean per-batch SC loss.
    metrics : {"full", "accuracy"}
        ``accuracy`` measures only what the random-label experiment needs.
    stop_at_accuracy : float, optional
        Stop at the first evaluation whose train accuracy (CE: classifier argmax; SC:
        nearest class mean) is at least this.
    max_seconds : float, optional
        Wall-time limit of the training loop: training stops after the step that passes it
        and the geometry is measured once more (``TrainResult.stopped_by == "time"``).
    out : str, optional
        Directory for ``config.json``, ``metrics.jsonl``, ``summary.json`` and figures.
    figures : bool
        Write PNG figures into ``out``.
    progress : bool, optional
        Progress bar on stderr; default: only when stderr is a terminal.
    """

    loss: str = "supcon"
    data: str = "digits"
    model: str = "mlp"
    dim: int | None = None
    hidden: tuple = (256, 256)
    iterations: int | None = None
    epochs: float | None = None
    batch_size: int = 256
    replacement: bool = False
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"
    rho: float | None = 1.0
    temperature: float | None = None
    base_temperature: float | None = None
    weight_radius: float = 1.0
    unconstrained: bool = False
    augment: bool | None = None
    balance: bool = False
    max_samples: int | None = None
    device: str = "auto"
    amp: bool = False
    amp_dtype: str = "auto"
    seed: int = 0
    deterministic: bool = True
    threads: int | None = None
    eval_every: int = 100
    eval_batch_size: int = 1024
    sc_eval_batches: int = 16
    metrics: str = "full"
    stop_at_accuracy: float | None = None
    max_seconds: float | None = None
    out: str | None = None
    figures: bool = True
    progress: bool | None = None

    def validated(self) -> "TrainConfig":
        """A checked copy with defaults filled in; raises InvalidArgumentError naming the field."""
        caller = "train"
        c = dataclasses.replace(self)
        check_choice(c.loss, "loss", caller, OBJECTIVE_NAMES)
        check_choice(c.model, "model", caller, MODEL_NAMES)
        check_choice(c.optimizer, "optimizer", caller, _OPTIMIZERS)
        check_choice(c.schedule, "schedule", caller, _SCHEDULES)
        check_choice(c.amp_dtype, "amp_dtype", caller, _AMP_DTYPES)
        check_choice(c.metrics, "metrics", caller, ("full", "accuracy"))
        if c.dim is None:
            c.dim = 512 if c.model == "resnet18" else 128
        c.dim = check_int(c.dim, "dim", caller, min_value=1)
        c.hidden = tuple(check_int(w, "hidden", caller, min_value=1) for w in c.hidden)
        if c.iterations is not None and c.epochs is not None:
            raise fail("epochs", caller, "left out when iterations is given (give one of them)", c.epochs)
        if c.iterations is not None:
            c.iterations = check_int(c.iterations, "iterations", caller, min_value=0)
        if c.epochs is not None:
            c.epochs = check_real(c.epochs, "epochs", caller, gt=0.0)
        c.batch_size = check_int(c.batch_size, "batch_size", caller, min_value=2)
        if c.lr is None:
            c.lr = 1e-3 if c.optimizer == "adam" else 0.1
        c.lr = check_real(c.lr, "lr", caller, gt=0.0)
        c.momentum = check_real(c.momentum, "momentum", caller, ge=0.0, lt=1.0)
        c.weight_decay = check_real(c.weight_decay, "weight_decay", caller, ge=0.0)
        if c.temperature is not None:
            c.temperature = check_real(c.temperature, "temperature", caller, gt=0.0)
            if c.loss != "supcon":
                raise fail("temperature", caller, "given only with loss 'supcon' (use rho for CE)", c.temperature)
            c.rho = None  # a temperature means unit features: rho = 1/sqrt(tau) in graf2021's form
        if c.rho is not None:
            c.rho = check_real(c.rho, "rho", caller, gt=0.0)
        if c.unconstrained:
            if c.loss == "supcon":
                raise fail("unconstrained", caller, "False for loss 'supcon' (SC needs features on a sphere)", True)
            c.rho = None
        c.weight_radius = check_real(c.weight_radius, "weight_radius", caller, gt=0.0)
        c.seed = check_int(c.seed, "seed", caller, min_value=0)
        if c.threads is not None:
            c.threads = check_int(c.threads, "threads", caller, min_value=1)
        c.eval_every = check_int(c.eval_every, "eval_every", caller, min_value=1)
        c.eval_batch_size = check_int(c.eval_batch_size, "eval_batch_size", caller, min_value=1)
        c.sc_eval_batches = check_int(c.sc_eval_batches, "sc_eval_batches", caller, min_value=2)
        if c.stop_at_accuracy is not None:
            c.stop_at_accuracy = check_real(c.stop_at_accuracy, "stop_at_accuracy", caller, gt=0.0, le=1.0)
        if c.max_seconds is not None:
            c.max_seconds = check_real(c.max_seconds, "max_seconds", caller, gt=0.0)
        if c.max_samples is not None:
            c.max_samples = check_int(c.max_samples, "max_samples", caller, min_value=2)
        return c

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    config : TrainConfig
        The validated configuration (defaults filled in).
    history : list of dict
        One record per evaluation: ``iteration``, ``seconds``, ``train_loss`` (running mean
        of the training objective since the previous record) and the geometry metrics.
    final : dict
        The last record.
    final_cosines : numpy.ndarray
        The K(K-1)/2 pairwise cosines of the final class means.
    iterations : int
        Iterations actually run (fewer with ``stop_at_accuracy``).
    fitted_at : int or None
        The iteration at which training stopped early (``stop_at_accuracy`` or ``stop_when``).
    seconds : float
        Wall time of the training loop (evaluations included).
    device : str
    amp_dtype : str or None
        The autocast dtype used (None without ``amp``).
    stopped_by : str
        ``"iterations"``, ``"accuracy"`` (``stop_at_accuracy`` reached), ``"stop_when"`` or
        ``"time"`` (``max_seconds``).
    files : dict
        Paths written (``metrics``, ``config``, ``summary``, figures).
    """

    config: TrainConfig
    history: list = field(repr=False)
    final: dict = field(repr=False)
    final_cosines: np.ndarray = field(repr=False)
    iterations: int
    fitted_at: int | None
    seconds: float
    device: str
    amp_dtype: str | None
    stopped_by: str = "iterations"
    files: dict = field(default_factory=dict)
    encoder: Any = field(default=None, repr=False)
    objective: Any = field(default=None, repr=False)

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(iterations, values) of one metric over training (None values dropped)."""
        pairs = [(r["iteration"], r[key]) for r in self.history if r.get(key) is not None]
        if not pairs:
            return np.zeros(0), np.zeros(0)
        it, val = zip(*pairs)
        return np.asarray(it), np.asarray(val, dtype=np.float64)


class BatchSampler:
    """Indices of training batches, with or without replacement, from a seeded generator.

    * ``replacement=True``: each batch is b i.i.d. uniform draws from [N] (the ``ordered``
      batch set: every ordered b-tuple equally likely).
    * ``replacement=False``: each epoch is a fresh permutation cut into consecutive chunks
      of b; the last incomplete chunk is dropped, so every batch is a uniformly random
      b-subset (the ``subset`` batch set).
    """

    def __init__(self, n: int, batch_size: int, *, replacement: bool, seed: int = 0):
        caller = "BatchSampler"
        self.n = check_int(n, "n", caller, min_value=1)
        self.batch_size = check_int(batch_size, "batch_size", caller, min_value=1)
        self.replacement = bool(replacement)
        if not self.replacement and self.batch_size > self.n:
            raise fail("batch_size", "train", f"<= N = {self.n} when sampling without replacement "
                       "(or sample with replacement)", self.batch_size)
        self.rng = np.random.default_rng(seed)
        self._perm = np.zeros(0, dtype=np.int64)
        self._pos = 0

    def __repr__(self) -> str:
        return f"BatchSampler({self.n}, {self.batch_size}, replacement={self.replacement})"

    @property
    def batch_set(self) -> str:
        """The batch set of docs/theory.md section 3 this sampler draws uniformly from."""
        return "ordered" if self.replacement else "subset"

    @property
    def batches_per_epoch(self) -> int:
        return max(1, self.n // self.batch_size)

    def next(self) -> np.ndarray:
        b = self.batch_size
        if self.replacement:
            return self.rng.integers(0, self.n, size=b)
        if self._pos + b > self._perm.size:
            self._perm = self.rng.permutation(self.n)
            self._pos = 0
        out = self._perm[self._pos:self._pos + b]
        self._pos += b
        return out


class TrainingModule(nn.Module):
    """Encoder + objective as one module, so DDP synchronises every trainable parameter (W included).

    ``forward(inputs, labels)`` returns the loss of the batch: features are computed under
    autocast when enabled, contrastive objectives gather the global batch across processes
    (differentiably), and the loss itself is computed outside autocast, on float32 features
    (SupCon stays in float32 through the fused function; CE computes in float64).
    """

    def __init__(self, encoder: Encoder, objective: nn.Module, *, autocast_dtype: torch.dtype | None = None):
        super().__init__()
        self.encoder = encoder
        self.objective = objective
        self.autocast_dtype = autocast_dtype

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.autocast_dtype is not None:
            with torch.autocast(device_type=inputs.device.type, dtype=self.autocast_dtype):
                features = self.encoder(inputs)
            features = features.float()  # losses are computed outside autocast, from float32
        else:
            features = self.encoder(inputs)
        if not self.objective.has_classifier:
            features, labels = gather_for_loss(features, labels)
        return self.objective(features, labels)


def _amp_settings(device: torch.device, amp: bool, amp_dtype: str) -> tuple[torch.dtype | None, bool]:
    """(autocast dtype or None, whether to use a GradScaler)."""
    if not amp:
        return None, False
    if amp_dtype == "auto":
        amp_dtype = "float16" if device.type == "cuda" else "bfloat16"
    dtype = torch.float16 if amp_dtype == "float16" else torch.bfloat16
    # float16 has a narrow exponent range: small gradients underflow without loss scaling
    return dtype, dtype == torch.float16


@contextlib.contextmanager
def _run_settings(device: torch.device, deterministic: bool, threads: int | None):
    # Global torch switches, set for the run only and restored for the caller. CPU kernels
    # are deterministic for a fixed thread count, so seeding is enough there (and
    # torch.use_deterministic_algorithms would import the compiler stack, seconds of start-up);
    # on CUDA, cuDNN is told to pick deterministic kernels.
    previous_threads = torch.get_num_threads()
    cudnn = torch.backends.cudnn
    previous_cudnn = (cudnn.deterministic, cudnn.benchmark)
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        if device.type == "cuda":
            cudnn.deterministic, cudnn.benchmark = (True, False) if deterministic else (False, True)
        yield
    finally:
        if threads is not None:
            torch.set_num_threads(previous_threads)
        cudnn.deterministic, cudnn.benchmark = previous_cudnn


def _features(encoder: nn.Module, data: DataSet, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    chunks = []
    for start in range(0, x.shape[0], batch_size):
        chunks.append(encoder(data.prepare(x[start:start + batch_size])).detach().to(torch.float64))
    return torch.cat(chunks)


@torch.no_grad()
def evaluate(encoder: nn.Module, objective: nn.Module, data: DataSet, x: torch.Tensor, y: torch.Tensor, *,
             batch_size: int = 1024, full: bool = True, sc_batch_size: int = 256, replacement: bool = False,
             sc_batches: int = 16, seed: int = 0, sphere_radius: float | None = None) -> dict[str, Any]:
    """Geometry of the whole training set in eval mode (no augmentation), in float64.

    Two passes over the features (:class:`GeometryTracker`, then
    :class:`NearestClassMeanAgreement`). ``train_accuracy`` is the classifier's for CE and
    CE-fix and the nearest-class-mean classifier's for SC. The loss gap is added: CE against
    graf2021's bound at the current ||W||_F with rho the sphere radius (or, unconstrained,
    the largest feature norm), SC against the closed-form minimum for the batch
    distribution of training, estimated from ``sc_batches`` random batches. With
    ``full=False`` only the train accuracy is measured (what the random-label experiment
    needs; a class left without samples is then allowed).
    """
    was_training = encoder.training
    encoder.eval()
    try:
        features = _features(encoder, data, x, batch_size)
    finally:
        encoder.train(was_training)
    W = objective.classifier.detach() if objective.has_classifier else None
    if not full:
        return _accuracy(features, y, data.num_classes, W, batch_size)
    tracker = GeometryTracker(data.num_classes, classifier=W)
    for start in range(0, features.shape[0], batch_size):
        tracker.update(features[start:start + batch_size], y[start:start + batch_size])
    out = tracker.compute()
    second = NearestClassMeanAgreement(tracker.class_means(), classifier=W)
    for start in range(0, features.shape[0], batch_size):
        second.update(features[start:start + batch_size], y[start:start + batch_size])
    out.update(second.compute())
    if not objective.has_classifier:
        out["train_accuracy"] = out["ncc_accuracy"]
    out["class_mean_cosines"] = class_mean_cosines(tracker.class_means()).tolist()
    # the loss against its theoretical minimum
    balanced = data.balanced
    if objective.has_classifier:
        rho = sphere_radius if sphere_radius is not None else tracker.max_norm
        if rho > 0:
            out.update(ce_loss_gap(out["ce_loss"], data.num_classes, rho, out["w_norm"], balanced=balanced))
    else:
        rho = objective.effective_radius
        # features of a temperature-tau objective live on the unit sphere; graf2021's form
        # has them on the sphere of radius 1/sqrt(tau)
        mean, se = expected_batch_loss(features, y, sc_batch_size, replacement=replacement,
                                       num_batches=sc_batches, seed=seed, radius=rho)
        out.update(sc_loss_gap(mean, se, data.n, data.num_classes, sc_batch_size, rho,
                               replacement=replacement, balanced=balanced and data.n % data.num_classes == 0))
    return out


def _accuracy(features: torch.Tensor, y: torch.Tensor, num_classes: int, W: torch.Tensor | None,
              batch_size: int) -> dict[str, Any]:
    """Train accuracy only: classifier argmax, or nearest class mean over the classes present.

    Relabelled sets (random labels) can leave a class without samples; it then has no mean
    and the nearest-class-mean rule chooses among the others.
    """
    counts = torch.bincount(y, minlength=num_classes).to(features.dtype)
    sums = torch.zeros(num_classes, features.shape[1], dtype=features.dtype, device=features.device)
    sums.index_add_(0, y, features)
    present = counts > 0
    means = sums[present] / counts[present, None]
    classes = torch.nonzero(present)[:, 0]
    correct_ncc = correct_w = 0
    for start in range(0, features.shape[0], batch_size):
        z, labels = features[start:start + batch_size], y[start:start + batch_size]
        sq = (z * z).sum(1)[:, None] - 2.0 * z @ means.T + (means * means).sum(1)[None, :]
        correct_ncc += int((classes[sq.argmin(dim=1)] == labels).sum())
        if W is not None:
            correct_w += int(((z @ W.to(z.dtype).T).argmax(dim=1) == labels).sum())
    n = features.shape[0]
    out = {"n": n, "num_classes": num_classes, "ncc_accuracy": correct_ncc / n}
    out["train_accuracy"] = correct_w / n if W is not None else out["ncc_accuracy"]
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _total_iterations(config: TrainConfig, sampler: BatchSampler) -> int:
    if config.iterations is not None:
        return config.iterations
    if config.epochs is not None:
        return max(1, int(math.ceil(config.epochs * sampler.batches_per_epoch)))
    return 500


def train(config: TrainConfig | None = None, *, dataset: DataSet | None = None,
          on_record: Callable[[dict], None] | None = None, stop_when: Callable[[dict], bool] | None = None,
          **overrides: Any) -> TrainResult:
    """Train an encoder and track its geometry (see the module docstring).

    Parameters
    ----------
    config : TrainConfig, optional
        The run; keyword ``overrides`` replace its fields (``train(loss="ce-fix", iterations=200)``).
    dataset : DataSet, optional
        Use this data set instead of loading ``config.data`` (e.g. with flipped labels).
    on_record : callable, optional
        Called with every history record as it is made.
    stop_when : callable, optional
        ``stop_when(record) -> bool``: stop at the first evaluation for which it is true
        (``TrainResult.stopped_by == "stop_when"``), e.g. when the cosines reach a target.

    Returns
    -------
    TrainResult
    """
    config = dataclasses.replace(config or TrainConfig(), **overrides) if overrides else (config or TrainConfig())
    config = config.validated()
    device = resolve_device(config.device)
    data = dataset
    if data is not None and not isinstance(data, DataSet):
        raise fail_type("dataset", "train", "a theorycheck.empirical.data.DataSet (or None to load config.data)",
                        data)
    if data is None:
        data = load_dataset(config.data, seed=config.seed, as_images=config.model in ("cnn", "resnet18"),
                            balance=config.balance, max_samples=config.max_samples)
    if config.model in ("cnn", "resnet18") and not data.is_image:
        raise fail("model", "train", f"'mlp' for the vector data set {data.name!r} ('{config.model}' needs images)",
                   config.model)
    if config.loss == "ce-fix" and config.dim < data.num_classes - 1:
        raise fail("dim", "train", f">= K - 1 = {data.num_classes - 1} for ce-fix (the fixed regular simplex "
                   "needs K - 1 dimensions)", config.dim)
    context = init_distributed(device.type)
    try:
        with _run_settings(device, config.deterministic, config.threads):
            return _train(config, data, device, context, on_record, stop_when)
    finally:
        shutdown_distributed(context)


def _train(config: TrainConfig, data: DataSet, device: torch.device, context: DistributedContext,
           on_record: Callable[[dict], None] | None, stop_when: Callable[[dict], bool] | None) -> TrainResult:
    from ..progress import Progress

    if config.batch_size % context.world_size:
        raise fail("batch_size", "train", f"divisible by the number of processes ({context.world_size})",
                   config.batch_size)
    # the initialisation draws from torch's global generator: seed it inside a fork, so the
    # caller's random state is left as it was
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else [], device_type=device.type):
        torch.manual_seed(config.seed)
        objective, radius = make_objective(config.loss, data.num_classes, config.dim, rho=config.rho,
                                           temperature=config.temperature, base_temperature=config.base_temperature,
                                           weight_radius=config.weight_radius, seed=config.seed)
        encoder = build_encoder(config.model, data.input_shape, config.dim, radius=radius, hidden=config.hidden)
    autocast_dtype, use_scaler = _amp_settings(device, config.amp, config.amp_dtype)
    module = TrainingModule(encoder, objective, autocast_dtype=autocast_dtype).to(device)
    model: nn.Module = module
    if context.enabled:
        module = synchronise_batchnorm(module, device)
        model = nn.parallel.DistributedDataParallel(
            module, device_ids=[context.local_rank] if device.type == "cuda" else None)
    params = [p for p in module.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    sampler = BatchSampler(data.n, config.batch_size, replacement=config.replacement, seed=config.seed)
    total = _total_iterations(config, sampler)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total, 1))
                 if config.schedule == "cosine" else None)
    scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
    augment = config.augment if config.augment is not None else data.name.startswith(("cifar10", "cifar100"))
    augmenter = RandomCropFlip() if augment and data.is_image else None
    aug_generator = torch.Generator().manual_seed(config.seed + 1)
    x_all, y_all = data.tensors(device)

    files: dict[str, str] = {}
    out_dir = Path(config.out) if config.out else None
    metrics_file = None
    if out_dir is not None and context.is_main:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise fail("out", "train", f"a directory that can be created and written ({exc.strerror or exc})",
                       str(out_dir)) from exc
        from ..report.durable import atomic_write_text  # a failed write leaves the previous file intact

        atomic_write_text(out_dir / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")
        files["config"] = str(out_dir / "config.json")
        files["metrics"] = str(out_dir / "metrics.jsonl")
        metrics_file = open(out_dir / "metrics.jsonl", "w")

    history: list[dict] = []
    stopped_by = "iterations"
    running_loss, running_count = 0.0, 0
    started = time.perf_counter()
    fitted_at: int | None = None
    last_eval: dict | None = None

    def record(iteration: int) -> dict:
        nonlocal running_loss, running_count, last_eval
        # only rank 0 evaluates (the full training set, single process: no collectives)
        metrics = evaluate(module.encoder, module.objective, data, x_all, y_all,
                           batch_size=config.eval_batch_size, full=config.metrics == "full",
                           sc_batch_size=config.batch_size, replacement=config.replacement,
                           sc_batches=config.sc_eval_batches, seed=config.seed + iteration,
                           sphere_radius=radius)
        rec = {"iteration": iteration, "seconds": time.perf_counter() - started,
               "lr": optimizer.param_groups[0]["lr"],
               "train_loss": float(running_loss) / running_count if running_count else None}
        rec.update(metrics)
        running_loss, running_count = 0.0, 0
        history.append(rec)
        last_eval = rec
        if metrics_file is not None:
            metrics_file.write(json.dumps(rec, default=_json_default) + "\n")
            metrics_file.flush()
        if on_record is not None:
            on_record(rec)
        return rec

    def fitted(rec: dict) -> bool:
        nonlocal stopped_by
        if config.stop_at_accuracy is not None and rec["train_accuracy"] >= config.stop_at_accuracy:
            stopped_by = "accuracy"
            return True
        if stop_when is not None and stop_when(rec):
            stopped_by = "stop_when"
            return True
        return False

    iteration = 0
    # the bar is drawn only by rank 0, and by default only when stderr is a terminal
    progress = Progress(total, enabled=config.progress if context.is_main else False, delay=1.0)
    def agree(flag: bool) -> bool:
        # rank 0 measures and decides; every process must leave the loop at the same iteration
        if not context.enabled:
            return flag
        tensor = torch.tensor([1 if flag else 0], device=device)
        torch.distributed.broadcast(tensor, src=0)
        return bool(int(tensor))

    may_stop_early = config.stop_at_accuracy is not None or stop_when is not None
    try:
        stop = context.is_main and fitted(record(0))
        if (agree(stop) if may_stop_early else stop):
            fitted_at = 0
        while iteration < total and fitted_at is None:
            global_index = sampler.next()
            index = torch.as_tensor(global_index, device=device)
            if context.enabled:
                index = local_slice(index, context)
            inputs = data.prepare(x_all[index])
            if augmenter is not None:
                inputs = augmenter(inputs, aug_generator)
            try:
                loss = model(inputs, y_all[index])
            except InvalidArgumentError as exc:
                if "finite" not in str(exc):
                    raise
                raise fail("lr", "train", f"small enough for training to stay finite (the features became NaN or "
                           f"inf at iteration {iteration + 1}; lower the learning rate)", config.lr) from exc
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None:
                scheduler.step()
            iteration += 1
            # accumulated on the device: reading a CUDA loss every step would synchronise
            running_loss = running_loss + loss.detach()
            running_count += 1
            progress.advance(f"{config.loss} loss {float(loss.detach()):.4f}" if progress.enabled else None)
            out_of_time = config.max_seconds is not None and time.perf_counter() - started > config.max_seconds
            if config.max_seconds is not None:
                out_of_time = agree(out_of_time)  # clocks differ between processes
            stop = False
            if context.is_main and (iteration % config.eval_every == 0 or iteration == total or out_of_time):
                stop = fitted(record(iteration))
            if may_stop_early:
                stop = agree(stop)
            if stop:
                fitted_at = iteration
            elif out_of_time:
                stopped_by = "time"
                break
    finally:
        progress.close()
        if metrics_file is not None:
            metrics_file.close()
    seconds = time.perf_counter() - started
    final = last_eval if last_eval is not None else {}
    final_cosines = np.asarray(final.get("class_mean_cosines", []), dtype=np.float64)
    result = TrainResult(config, history, final, final_cosines, iteration, fitted_at, seconds, str(device),
                         None if autocast_dtype is None else str(autocast_dtype).replace("torch.", ""),
                         stopped_by, files, module.encoder, module.objective)
    if out_dir is not None and context.is_main:
        summary = {"config": config.to_dict(), "device": str(device), "iterations": iteration,
                   "fitted_at": fitted_at, "stopped_by": stopped_by, "seconds": seconds, "amp_dtype": result.amp_dtype,
                   "data": {"name": data.name, "n": data.n, "num_classes": data.num_classes,
                            "balanced": data.balanced},
                   "final": final}
        from ..report.durable import atomic_write_text

        atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2, default=_json_default) + "\n")
        files["summary"] = str(out_dir / "summary.json")
        if config.figures and history:
            from .figures import training_figures

            files.update(training_figures(result, out_dir))
    return result
