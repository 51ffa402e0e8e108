"""Data sets for the empirical checks, with no downloads.

Built in:

* ``digits`` -- scikit-learn's bundled 8x8 handwritten digits (1797 samples, K = 10),
  pixel values scaled to [0, 1]; the default, because it ships with scikit-learn.
* ``gaussian`` -- a synthetic mixture of K isotropic Gaussians in any dimension.

Local copies of public image sets (never fetched from the network):

* ``cifar10:PATH`` / ``cifar100:PATH`` -- the official *python* version
  (``cifar-10-batches-py`` / ``cifar-100-python``), read with a **restricted unpickler**
  that only rebuilds dicts, lists, strings, numbers and numpy arrays: a pickle that
  names any other global (``os.system``, ``builtins.eval``, ...) is refused before
  anything runs.
* ``mnist:PATH`` -- the IDX files (``train-images-idx3-ubyte`` and
  ``train-labels-idx1-ubyte``, optionally gzipped).

Every loader returns a :class:`DataSet` holding the whole training set as numpy
arrays: the sets used here fit in memory (CIFAR-10 is 150 MB as uint8), and keeping
them as one tensor on the device avoids a DataLoader and its worker processes.

Augmentation for images (random crop with zero padding, horizontal flip) is written in
torch on whole batches, so it runs on the GPU when training does (:class:`RandomCropFlip`).
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_int, check_real, fail, fail_type, require_module

try:
    import torch
except ImportError:  # pragma: no cover - torch is a runtime dependency
    torch = None  # type: ignore[assignment]

__all__ = [
    "DataSet",
    "DATA_NAMES",
    "load_dataset",
    "load_digits",
    "make_gaussian",
    "load_cifar",
    "load_mnist",
    "read_idx",
    "balance_classes",
    "UnsafePickleError",
    "restricted_pickle_load",
    "RandomCropFlip",
    "MAX_LOAD_BYTES",
]

#: The most bytes a loader allocates for one file's arrays (1 GiB). The largest set read
#: here (CIFAR-10/100 training, 150 MB as uint8; MNIST, 47 MB) is far below it; a file whose
#: header or pickle declares more is refused before anything is allocated. Every loader
#: takes ``max_bytes=`` to lower (tests) or raise it.
MAX_LOAD_BYTES = 1 << 30

# The largest expansion DEFLATE can achieve is about 1032:1; a .gz whose declared content
# is larger than this many times its compressed size cannot hold it, whatever its header says.
_GZIP_MAX_RATIO = 1032

#: Data names accepted by :func:`load_dataset` (those with ``:PATH`` need a local copy).
DATA_NAMES = ("digits", "gaussian", "cifar10:PATH", "cifar100:PATH", "mnist:PATH")

# Per-channel statistics of the CIFAR training sets (the values the reference training
# code uses); images are standardised with them after augmentation.
_CIFAR_MEAN = {10: (0.4914, 0.4822, 0.4465), 100: (0.5071, 0.4865, 0.4409)}
_CIFAR_STD = {10: (0.2470, 0.2435, 0.2616), 100: (0.2673, 0.2564, 0.2762)}
_MNIST_MEAN, _MNIST_STD = (0.1307,), (0.3081,)


@dataclass
class DataSet:
    """A labelled training set held in memory.

    Attributes
    ----------
    name : str
        What was loaded (``"digits"``, ``"cifar10:/data/cifar-10-batches-py"``, ...).
    x : numpy.ndarray
        Inputs: ``(N, D)`` float32 vectors, or ``(N, C, H, W)`` images (uint8 for the
        image sets, scaled to [0, 1] and standardised per batch by :meth:`prepare`).
    y : numpy.ndarray
        ``(N,)`` int64 labels in ``[0, num_classes)``.
    num_classes : int
        K.
    mean, std : tuple of float, optional
        Per-channel standardisation applied to image batches after scaling to [0, 1].
    class_names : list of str, optional
        Human-readable class names where the files carry them.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    num_classes: int
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    class_names: list[str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (f"DataSet(name={self.name!r}, n={self.n}, num_classes={self.num_classes}, "
                f"input_shape={self.input_shape}, balanced={self.balanced})")

    @property
    def n(self) -> int:
        """Number of samples N."""
        return int(self.y.shape[0])

    @property
    def is_image(self) -> bool:
        """True for ``(N, C, H, W)`` inputs."""
        return self.x.ndim == 4

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input (``(D,)`` or ``(C, H, W)``)."""
        return tuple(int(s) for s in self.x.shape[1:])

    @property
    def class_counts(self) -> np.ndarray:
        """Samples per class, length K."""
        return np.bincount(self.y, minlength=self.num_classes)

    @property
    def balanced(self) -> bool:
        """Every class has exactly N/K samples (the theorems' assumption)."""
        counts = self.class_counts
        return bool(np.all(counts == counts[0]))

    def with_labels(self, y: np.ndarray, name: str | None = None) -> "DataSet":
        """The same inputs with other labels (e.g. partly flipped ones)."""
        return DataSet(name or self.name, self.x, np.asarray(y, dtype=np.int64), self.num_classes,
                       self.mean, self.std, self.class_names)

    def subset(self, index: np.ndarray, name: str | None = None) -> "DataSet":
        """The samples at ``index`` (a copy)."""
        index = np.asarray(index)
        return DataSet(name or self.name, self.x[index], self.y[index], self.num_classes,
                       self.mean, self.std, self.class_names)

    def tensors(self, device: Any = "cpu") -> tuple["torch.Tensor", "torch.Tensor"]:
        """Inputs and labels as torch tensors on ``device`` (inputs keep their dtype)."""
        return torch.from_numpy(np.ascontiguousarray(self.x)).to(device), torch.from_numpy(self.y).to(device)

    def prepare(self, batch: "torch.Tensor") -> "torch.Tensor":
        """Turn a batch of stored inputs into float32 network inputs.

        uint8 images are scaled to [0, 1] and standardised per channel; float vectors
        are returned as float32 unchanged.
        """
        if batch.dtype == torch.uint8:
            batch = batch.to(torch.float32).div_(255.0)
        else:
            batch = batch.to(torch.float32)
        if self.mean is not None and batch.ndim == 4:
            mean = torch.tensor(self.mean, dtype=batch.dtype, device=batch.device).view(1, -1, 1, 1)
            std = torch.tensor(self.std, dtype=batch.dtype, device=batch.device).view(1, -1, 1, 1)
            batch = (batch - mean) / std
        return batch


# -- parsing of data names --------------------------------------------------------------

def load_dataset(spec: str, *, seed: int = 0, as_images: bool = False, balance: bool = False,
                 max_samples: int | None = None, gaussian_classes: int = 10, gaussian_dim: int = 32,
                 gaussian_per_class: int = 100, train: bool = True) -> DataSet:
    """Load a data set by name.

    Parameters
    ----------
    spec : str
        ``"digits"``, ``"gaussian"``, ``"cifar10:PATH"``, ``"cifar100:PATH"`` or
        ``"mnist:PATH"`` (PATH: a local directory holding the files).
    seed : int
        Seed for the synthetic set and for subsampling.
    as_images : bool
        digits only: return ``(N, 1, 8, 8)`` images (for the CNN) instead of 64-vectors.
    balance : bool
        Subsample every class to the size of the smallest one, so that the labels are
        balanced as the theorems assume (digits: 174 per class, N = 1740).
    max_samples : int, optional
        Keep a random subset of this many samples (stratified by class), for quick runs.
    gaussian_classes, gaussian_dim, gaussian_per_class : int
        Sizes of the ``gaussian`` set.
    train : bool
        Image sets: the training split (default) or the test split.

    Raises
    ------
    InvalidArgumentError
        Unknown names, missing paths, malformed files.
    """
    caller = "load_dataset"
    if not isinstance(spec, str):
        raise fail_type("data", caller, "a data name such as 'digits' or 'cifar10:PATH'", spec)
    name, _, path = spec.partition(":")
    name = name.strip().lower()
    if name in ("digits", "gaussian") and path:
        raise fail("data", caller, f"'{name}' without a path (it needs no files)", spec)
    if name == "digits":
        data = load_digits(as_images=as_images)
    elif name == "gaussian":
        data = make_gaussian(gaussian_classes, gaussian_dim, gaussian_per_class, seed=seed)
    elif name in ("cifar10", "cifar100", "mnist"):
        if not path:
            raise fail("data", caller, f"'{name}:PATH' with PATH the directory holding the local copy", spec)
        if name == "mnist":
            data = load_mnist(path, train=train)
        else:
            data = load_cifar(path, num_classes=10 if name == "cifar10" else 100, train=train)
    else:
        listed = ", ".join(repr(n) for n in DATA_NAMES)
        raise fail("data", caller, f"one of {listed}", spec)
    if balance:
        data = balance_classes(data, seed=seed)
    if max_samples is not None:
        max_samples = check_int(max_samples, "max_samples", caller, min_value=data.num_classes)
        if max_samples < data.n:
            data = _stratified_subset(data, max_samples, seed)
    return data


def load_digits(*, as_images: bool = False) -> DataSet:
    """scikit-learn's bundled digits (no download): 1797 samples, 10 classes, pixels in [0, 1].

    scikit-learn is optional (``pip install 'theorycheck[digits]'``, also in ``[dev]``): it
    is 50+ MB and only this loader needs it. Without it this raises
    :class:`theorycheck.MissingDependencyError` naming the extra.
    """
    datasets = require_module("sklearn.datasets", "scikit-learn", "digits",
                              "the digits data set (scikit-learn's bundled copy)")
    bunch = datasets.load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    if as_images:
        x = x.reshape(-1, 1, 8, 8)
    return DataSet("digits", x, bunch.target.astype(np.int64), 10,
                   class_names=[str(i) for i in range(10)])


def make_gaussian(num_classes: int = 10, dim: int = 32, per_class: int = 100, *, separation: float = 3.0,
                  seed: int = 0) -> DataSet:
    """A balanced mixture of K isotropic unit-variance Gaussians in R^dim.

    Class centres are drawn i.i.d. from N(0, separation^2 / dim * I), so that two centres are
    about ``separation * sqrt(2)`` apart whatever ``dim`` is.
    """
    caller = "make_gaussian"
    num_classes = check_int(num_classes, "num_classes", caller, min_value=2)
    dim = check_int(dim, "dim", caller, min_value=1)
    per_class = check_int(per_class, "per_class", caller, min_value=1)
    separation = check_real(separation, "separation", caller, ge=0.0)
    rng = np.random.default_rng(check_int(seed, "seed", caller, min_value=0))
    centres = rng.normal(0.0, separation / np.sqrt(dim), size=(num_classes, dim))
    y = np.repeat(np.arange(num_classes), per_class)
    # the noise is scaled like the centres so the classes overlap equally in any dimension
    x = centres[y] + rng.normal(0.0, 1.0 / np.sqrt(dim), size=(y.size, dim))
    perm = rng.permutation(y.size)
    return DataSet("gaussian", x[perm].astype(np.float32), y[perm].astype(np.int64), num_classes)


def balance_classes(data: DataSet, *, seed: int = 0) -> DataSet:
    """Subsample every class to the size of the smallest one (a seeded choice)."""
    counts = data.class_counts
    if np.any(counts == 0):
        raise fail("data", "balance_classes", "a data set in which every class has a sample",
                   f"class counts {counts.tolist()}")
    rng = np.random.default_rng(seed)
    m = int(counts.min())
    index = np.sort(np.concatenate([rng.choice(np.flatnonzero(data.y == k), m, replace=False)
                                    for k in range(data.num_classes)]))
    return data.subset(index)


def _stratified_subset(data: DataSet, size: int, seed: int) -> DataSet:
    rng = np.random.default_rng(seed)
    per_class = size // data.num_classes
    parts = []
    for k in range(data.num_classes):
        members = np.flatnonzero(data.y == k)
        parts.append(rng.choice(members, min(per_class, members.size), replace=False))
    index = np.concatenate(parts)
    rest = np.setdiff1d(np.arange(data.n), index)
    extra = size - index.size
    if extra > 0:
        index = np.concatenate([index, rng.choice(rest, extra, replace=False)])
    return data.subset(np.sort(index))


# -- CIFAR: restricted unpickling ---------------------------------------------------------

class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for something other than arrays, lists, dicts, strings and numbers."""


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, "latin1");
    # only that exact call is allowed, so the codec machinery cannot be steered.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError("refusing _codecs.encode with anything but (str, 'latin1')")
    return text.encode("latin1")


def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _numpy_frombuffer():
    try:
        from numpy._core.numeric import _frombuffer  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.numeric import _frombuffer
    return _frombuffer


def _declared_nbytes(shape: Any, dtype: Any) -> int | None:
    """Bytes an array of ``shape`` and ``dtype`` would take, in Python ints (no overflow);
    None when the pair does not describe an array at all."""
    try:
        dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
        itemsize = np.dtype(dtype).itemsize
    except Exception:
        return None
    if any(d < 0 for d in dims):
        return None
    count = 1
    for d in dims:
        count *= d
    return count * itemsize


class _AllocationGuard:
    """What a pickle may allocate: arrays built by the allow-listed constructors must be
    backed by bytes that are in the file. numpy rebuilds a pickled array as an empty
    ``_reconstruct(ndarray, (0,), ...)`` whose data then comes from the pickle, so an
    honest file never asks a constructor for more than it carries; a hostile one can
    call ``numpy.ndarray((1000000, 3072), 'u1')`` in 115 bytes and get 3 GB of
    uninitialised memory. Each constructor call is checked against the budget (the file
    size, at most ``max_bytes``) before numpy allocates anything."""

    def __init__(self, source: str, budget: int):
        self.source = source
        self.budget = budget

    def charge(self, shape: Any, dtype: Any) -> None:
        nbytes = _declared_nbytes(shape, dtype)
        if nbytes is None:
            raise UnsafePickleError(f"refusing to load {self.source}: it builds an array from an invalid "
                                    f"shape {shape!r} or dtype {dtype!r}")
        if nbytes > self.budget:
            raise UnsafePickleError(
                f"refusing to load {self.source}: it declares an array of shape {shape!r} ({nbytes} bytes) "
                f"but only {self.budget} bytes may be allocated for it (the data present in the file, "
                "at most max_bytes)")
        self.budget -= nbytes

    def reconstruct(self):
        real = _numpy_reconstruct()

        def _reconstruct(subtype, shape, dtype):
            if not isinstance(subtype, _GuardedNdarray):
                raise UnsafePickleError(f"refusing to load {self.source}: _reconstruct of {subtype!r}")
            self.charge(shape, dtype.decode("latin1") if isinstance(dtype, bytes) else dtype)
            return real(np.ndarray, shape, dtype)
        return _reconstruct

    def dtype(self):
        def _dtype(*args, **kwargs):
            out = np.dtype(*args, **kwargs)
            # a sub-array dtype such as ('u1', (10**6, 3072)) makes every element huge
            if out.itemsize > self.budget:
                raise UnsafePickleError(f"refusing to load {self.source}: dtype {out} has {out.itemsize}-byte "
                                        f"elements, more than the {self.budget} bytes that may be allocated")
            return out
        return _dtype


class _GuardedNdarray:
    """``numpy.ndarray`` as a pickle sees it: the class argument of the guarded
    ``_reconstruct`` (which alone accepts it), and, called directly, a constructor that is
    charged to the file's budget before numpy allocates."""

    def __init__(self, guard: _AllocationGuard):
        self._guard = guard

    def __call__(self, shape, dtype=float, *args, **kwargs):
        self._guard.charge(shape, dtype)
        return np.ndarray(shape, dtype, *args, **kwargs)


# The only globals a CIFAR pickle needs: the pieces numpy uses to rebuild an ndarray
# (under the numpy 1 and numpy 2 module names) and the bytes shim of protocol 2. The
# constructors that allocate are wrapped by the file's _AllocationGuard.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): lambda guard: guard.reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): lambda guard: guard.reconstruct(),
    ("numpy.core.numeric", "_frombuffer"): lambda guard: _numpy_frombuffer(),
    ("numpy._core.numeric", "_frombuffer"): lambda guard: _numpy_frombuffer(),
    ("numpy", "ndarray"): _GuardedNdarray,
    ("numpy", "dtype"): lambda guard: guard.dtype(),
    ("_codecs", "encode"): lambda guard: _latin1_encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str, budget: int):
        super().__init__(file, encoding="bytes")
        self._source = source
        self._guard = _AllocationGuard(source, budget)

    def find_class(self, module: str, name: str):  # noqa: D401 - pickle hook
        factory = _ALLOWED_GLOBALS.get((module, name))
        if factory is None:
            raise UnsafePickleError(
                f"refusing to load {self._source}: it asks for the global {module}.{name}, but a CIFAR "
                "file holds only dicts, lists, strings, numbers and numpy arrays (this file is not an "
                "official CIFAR batch, and unpickling it could run arbitrary code)")
        return factory(self._guard)

    def persistent_load(self, pid):
        raise UnsafePickleError(f"refusing to load {self._source}: persistent ids are not allowed")


def restricted_pickle_load(path: str | os.PathLike, *, max_bytes: int | None = None) -> Any:
    """Unpickle a file allowing only dicts, lists, strings, numbers and numpy arrays.

    Any other global (a function or class such as ``os.system``) raises
    :class:`UnsafePickleError` before it is called. Bytes keys are kept as bytes (the
    CIFAR files were written by Python 2).

    Allocation is bounded: a file larger than ``max_bytes`` (default
    :data:`MAX_LOAD_BYTES`) is refused unread, and every array the pickle asks numpy to
    allocate is charged against the bytes actually present in the file, so a short file
    cannot declare a huge uninitialised array (:class:`UnsafePickleError`).
    """
    caller = "restricted_pickle_load"
    max_bytes = _max_bytes(max_bytes, caller)
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise fail("path", caller, f"a readable pickle file ({exc})", str(path)) from exc
    if size > max_bytes:
        raise fail("path", caller, f"a file of at most max_bytes = {max_bytes} bytes (it has {size}; "
                   "pass a larger max_bytes to read it)", str(path))
    with open(path, "rb") as fh:
        try:
            return _RestrictedUnpickler(fh, str(path), size).load()
        except UnsafePickleError:
            raise
        except Exception as exc:  # truncated or not a pickle at all
            raise fail("path", caller, "a readable pickle file (official CIFAR python format; "
                       f"reading it failed with {type(exc).__name__}: {exc})", str(path)) from exc


def _max_bytes(max_bytes: Any, caller: str) -> int:
    return MAX_LOAD_BYTES if max_bytes is None else check_int(max_bytes, "max_bytes", caller, min_value=1)


def _key(d: dict, name: str, path: Path) -> Any:
    for k in (name.encode(), name):
        if k in d:
            return d[k]
    raise fail("path", "load_cifar", f"a CIFAR batch with the key {name!r} (its keys are {sorted(map(str, d))})",
               str(path))


def _read_cifar_batch(path: Path, label_key: str, max_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    obj = restricted_pickle_load(path, max_bytes=max_bytes)
    if not isinstance(obj, dict):
        raise fail("path", "load_cifar", f"a CIFAR batch (a pickled dict; this file holds a {type(obj).__name__})",
                   str(path))
    data = _key(obj, "data", path)
    labels = _key(obj, label_key, path)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise fail("path", "load_cifar", "a CIFAR batch whose 'data' is a uint8 array of shape (n, 3072) (here: "
                   f"{type(data).__name__} {getattr(data, 'shape', '')} {getattr(data, 'dtype', '')})", str(path))
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != data.shape[0] or not np.issubdtype(labels.dtype, np.integer):
        raise fail("path", "load_cifar", f"a CIFAR batch with one integer '{label_key}' per row of 'data' (here: "
                   f"{labels.shape} labels for {data.shape[0]} rows)", str(path))
    # rows are stored channel-major: 1024 red, 1024 green, 1024 blue values of a 32x32 image
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def load_cifar(path: str | os.PathLike, *, num_classes: int = 10, train: bool = True,
               max_bytes: int | None = None) -> DataSet:
    """Load a local copy of CIFAR-10 or CIFAR-100 in the official python (pickle) format.

    Parameters
    ----------
    path : path
        The directory ``cifar-10-batches-py`` (``data_batch_1`` ... ``data_batch_5``,
        ``test_batch``, ``batches.meta``) or ``cifar-100-python`` (``train``, ``test``,
        ``meta``), or its parent.
    num_classes : {10, 100}
    train : bool
        Training split (default) or test split.
    max_bytes : int, optional
        The most bytes read and allocated per file (default :data:`MAX_LOAD_BYTES`).

    Notes
    -----
    Files are read with :func:`restricted_pickle_load`: a file that names any global
    besides numpy's array reconstruction is refused (:class:`UnsafePickleError`).
    CIFAR-100 uses the 100 fine labels.
    """
    caller = "load_cifar"
    if num_classes not in (10, 100):
        raise fail("num_classes", caller, "10 or 100", num_classes)
    root = Path(path).expanduser()
    sub = "cifar-10-batches-py" if num_classes == 10 else "cifar-100-python"
    if (root / sub).is_dir():
        root = root / sub
    if not root.is_dir():
        raise fail("path", caller, f"an existing directory holding the CIFAR-{num_classes} python files ({sub})",
                   str(path))
    if num_classes == 10:
        names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        label_key, meta_name, names_key = "labels", "batches.meta", "label_names"
    else:
        names = ["train"] if train else ["test"]
        label_key, meta_name, names_key = "fine_labels", "meta", "fine_label_names"
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise fail("path", caller, f"a CIFAR-{num_classes} directory containing {', '.join(names)} "
                   f"(missing: {', '.join(missing)})", str(root))
    max_bytes = _max_bytes(max_bytes, caller)
    xs, ys = zip(*(_read_cifar_batch(root / n, label_key, max_bytes) for n in names))
    x, y = np.concatenate(xs), np.concatenate(ys)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise fail("path", caller, f"a CIFAR-{num_classes} set with labels in [0, {num_classes}) (found "
                   f"{y.min()}..{y.max()})", str(root))
    class_names = None
    if (root / meta_name).is_file():
        meta = restricted_pickle_load(root / meta_name, max_bytes=max_bytes)
        if isinstance(meta, dict):
            raw = meta.get(names_key.encode(), meta.get(names_key))
            if isinstance(raw, list) and len(raw) == num_classes:
                class_names = [v.decode() if isinstance(v, bytes) else str(v) for v in raw]
    return DataSet(f"cifar{num_classes}:{path}", x, y, num_classes, _CIFAR_MEAN[num_classes],
                   _CIFAR_STD[num_classes], class_names)


# -- MNIST: IDX files -----------------------------------------------------------------------

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike, *, max_bytes: int | None = None) -> np.ndarray:
    """Read one IDX file (``.gz`` allowed): magic ``0 0 dtype ndim``, big-endian sizes, data.

    The size the header declares is computed in Python integers (no overflow) and checked
    before any data is read: against ``max_bytes`` (default :data:`MAX_LOAD_BYTES`), against
    the file size (a plain file must hold exactly that many data bytes; a ``.gz`` cannot
    inflate to more than 1032 times its compressed size), and a ``.gz`` is inflated as a
    stream that stops one byte past the declared size, so a decompression bomb costs at
    most the declared size in memory.
    """
    caller = "read_idx"
    max_bytes = _max_bytes(max_bytes, caller)
    path = Path(path)
    compressed = path.suffix == ".gz"
    try:
        file_size = path.stat().st_size
        with (gzip.open if compressed else open)(path, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_DTYPES:
                raise fail("path", caller, "an IDX file (magic bytes 0 0 <dtype> <ndim>)", str(path))
            ndim = head[3]
            dims = fh.read(4 * ndim)
            if len(dims) < 4 * ndim:
                raise fail("path", caller, "an IDX file with a complete header (this one is truncated)", str(path))
            shape = struct.unpack(f">{ndim}I", dims)
            dtype = np.dtype(_IDX_DTYPES[head[2]])
            count = 1
            for d in shape:  # Python ints: (2**31, 2**31, 4) must not wrap around to 0
                count *= d
            nbytes = count * dtype.itemsize
            header = 4 + 4 * ndim
            if nbytes > max_bytes:
                raise fail("path", caller, f"an IDX file declaring at most max_bytes = {max_bytes} bytes of data "
                           f"(its header declares shape {shape}, {nbytes} bytes; pass a larger max_bytes to "
                           "read it)", str(path))
            present = file_size - header if not compressed else None
            if compressed and nbytes + header > _GZIP_MAX_RATIO * file_size + 1024:
                raise fail("path", caller, f"an IDX file whose declared shape {shape} ({nbytes} bytes) fits in "
                           f"its compressed size ({file_size} bytes; gzip inflates at most "
                           f"{_GZIP_MAX_RATIO}:1)", str(path))
            if present is not None and present != nbytes:
                raise fail("path", caller, f"an IDX file with {count} values of shape {shape} (it has "
                           f"{present} data bytes)", str(path))
            # one byte more than declared: enough to see trailing data, never more
            raw = fh.read(nbytes + 1)
    except OSError as exc:  # also gzip.BadGzipFile and EOFError's cousins from zlib
        raise fail("path", caller, f"a readable IDX file ({exc})", str(path)) from exc
    except (EOFError, zlib.error) as exc:  # a truncated or corrupt .gz stream
        raise fail("path", caller, f"a readable IDX file ({type(exc).__name__}: {exc})", str(path)) from exc
    if len(raw) != nbytes:
        raise fail("path", caller, f"an IDX file with {count} values of shape {shape} (it has "
                   f"{len(raw)}{'+' if len(raw) > nbytes else ''} data bytes)", str(path))
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def _find_idx(root: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (root / name).is_file():
            return root / name
    return None


def load_mnist(path: str | os.PathLike, *, train: bool = True, max_bytes: int | None = None) -> DataSet:
    """Load MNIST from its IDX files in a local directory (``.gz`` or plain).

    Looks for ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``t10k-...`` for
    the test split). Returns ``(N, 1, 28, 28)`` uint8 images and labels in [0, 10).
    Each file is read by :func:`read_idx` with ``max_bytes`` (default :data:`MAX_LOAD_BYTES`).
    """
    caller = "load_mnist"
    root = Path(path).expanduser()
    if not root.is_dir():
        raise fail("path", caller, "an existing directory holding the MNIST IDX files", str(path))
    prefix = "train" if train else "t10k"
    images_path = _find_idx(root, f"{prefix}-images-idx3-ubyte")
    labels_path = _find_idx(root, f"{prefix}-labels-idx1-ubyte")
    if images_path is None or labels_path is None:
        raise fail("path", caller, f"a directory containing {prefix}-images-idx3-ubyte and "
                   f"{prefix}-labels-idx1-ubyte (optionally .gz)", str(root))
    images, labels = read_idx(images_path, max_bytes=max_bytes), read_idx(labels_path, max_bytes=max_bytes)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise fail("path", caller, f"an images file of uint8 with 3 dimensions (n, rows, cols) (here: shape "
                   f"{images.shape}, dtype {images.dtype})", str(images_path))
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise fail("path", caller, f"a labels file with one label per image (here: "
                   f"{labels.shape[0] if labels.ndim else 0} labels, {images.shape[0]} images)", str(labels_path))
    y = labels.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() > 9):
        raise fail("path", caller, f"a labels file with labels in [0, 10) (found {y.min()}..{y.max()})",
                   str(labels_path))
    return DataSet(f"mnist:{path}", images[:, None, :, :].copy(), y, 10, _MNIST_MEAN, _MNIST_STD,
                   [str(i) for i in range(10)])


# -- augmentation ---------------------------------------------------------------------------

class RandomCropFlip:
    """Random crop after zero padding, and a horizontal flip with probability 1/2, per image.

    The standard CIFAR augmentation (pad 4, crop back to H x W, flip), applied to a whole
    ``(B, C, H, W)`` batch at once with advanced indexing, on whatever device it lives.

    Parameters
    ----------
    padding : int
        Zero padding on each side before cropping (0 disables the crop).
    flip : bool
        Flip horizontally with probability 1/2.
    """

    def __init__(self, padding: int = 4, flip: bool = True):
        self.padding = check_int(padding, "padding", "RandomCropFlip", min_value=0)
        self.flip = bool(flip)

    def __repr__(self) -> str:
        return f"RandomCropFlip(padding={self.padding}, flip={self.flip})"

    def __call__(self, batch: "torch.Tensor", generator: "torch.Generator | None" = None) -> "torch.Tensor":
        if batch.ndim != 4:
            raise fail("batch", "RandomCropFlip", "a (B, C, H, W) image batch", batch)
        b, _, h, w = batch.shape
        p = self.padding
        device = batch.device
        # random numbers are drawn on the CPU generator so runs match across devices
        oy = torch.randint(0, 2 * p + 1, (b,), generator=generator).to(device)
        ox = torch.randint(0, 2 * p + 1, (b,), generator=generator).to(device)
        flips = (torch.rand(b, generator=generator) < 0.5).to(device) if self.flip else None
        padded = torch.nn.functional.pad(batch, (p, p, p, p)) if p else batch
        rows = oy[:, None] + torch.arange(h, device=device)[None, :]
        cols = ox[:, None] + torch.arange(w, device=device)[None, :]
        if flips is not None:
            cols = torch.where(flips[:, None], cols.flip(1), cols)
        out = padded[torch.arange(b, device=device)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
        return out.permute(0, 3, 1, 2).contiguous()  # advanced indexing put channels last
