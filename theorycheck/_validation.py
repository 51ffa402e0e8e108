"""Validation at the boundary, in one place.

Every public function of theorycheck validates its arguments here and gets back
clean arrays (float64 numpy, float64 torch keeping autograd, or mpmath object
arrays for high-precision re-evaluation). Internals trust what they receive.

All errors use one template::

    `{param}` of `{caller}` must be {constraint}; got {value!r}

and one exception family: :class:`InvalidArgumentError` (a ``ValueError``) and
:class:`InvalidArgumentTypeError` (also a ``TypeError``).
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any, Iterable


class _LazyNumpy:
    """numpy, imported on first use, so that ``theorycheck --version`` (which imports this
    module through the CLI and the registry) does not pay for it; the first attribute
    lookup rebinds the module-level name ``np`` to numpy itself."""

    def __getattr__(self, name: str):
        import numpy

        globals()["np"] = numpy
        return getattr(numpy, name)


np = _LazyNumpy()

__all__ = [
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "MissingDependencyError",
    "require_module",
    "fail",
    "fail_type",
    "describe",
    "is_torch",
    "is_mp_array",
    "check_array",
    "check_labels",
    "check_int",
    "check_real",
    "check_choice",
    "check_bool",
    "check_probability_vector",
    "check_same_length",
    "check_size",
    "check_finite_result",
    "non_finite_path",
    "MAX_ELEMENTS",
    "MAX_BATCH_SIZE",
    "MAX_DPS",
    "MAX_ITERS",
]

#: The most entries an array that a public function builds from its size arguments may
#: have (2**27: 1 GiB of float64). Above it the size argument is refused by name, in
#: microseconds, instead of a numpy MemoryError or a machine that swaps.
MAX_ELEMENTS = 1 << 27
#: The largest batch size ``b`` of the functions that enumerate batch configurations
#: (their cost grows with b; 10**4 runs in about a second).
MAX_BATCH_SIZE = 10_000
#: The most decimal digits an mpmath re-check may be asked for.
MAX_DPS = 10_000
#: The most solver iterations (the solvers store it in a C int).
MAX_ITERS = 2**31 - 1


def _rebuild_error(cls: type, args: tuple, state: dict) -> BaseException:
    """Unpickle an error of :class:`PicklableError` without calling its ``__init__``."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class PicklableError:
    """Mixin: the exception pickles with its message and attributes although its
    ``__init__`` takes other arguments than the message (the default pickling of an
    exception calls ``cls(*args)``, which fails for ours). Errors raised on a Dask worker
    travel back to the main process this way."""

    def __reduce__(self):
        return _rebuild_error, (type(self), self.args, dict(self.__dict__))


class InvalidArgumentError(PicklableError, ValueError):
    """A public function received an argument it cannot work with."""

    def __init__(self, param: str, caller: str, constraint: str, value: Any):
        self.param = param
        self.caller = caller
        self.constraint = constraint
        self.value = value
        super().__init__(f"`{param}` of `{caller}` must be {constraint}; got {describe(value)}")


class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """The argument has the wrong type (also a ``TypeError``)."""


class MissingDependencyError(PicklableError, ImportError):
    """An optional dependency that a feature needs is not installed; says which extra brings it."""

    def __init__(self, package: str, extra: str, purpose: str):
        self.package = package
        self.extra = extra
        super().__init__(f"{purpose} needs {package}, which is not installed; "
                         f"install it with: pip install 'theorycheck[{extra}]'")


def require_module(module: str, package: str, extra: str, purpose: str) -> Any:
    """Import an optional dependency, or raise :class:`MissingDependencyError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(package, extra, purpose) from exc


def fail(param: str, caller: str, constraint: str, value: Any) -> InvalidArgumentError:
    """Build (not raise) the error, so call sites read ``raise fail(...)``."""
    return InvalidArgumentError(param, caller, constraint, value)


def fail_type(param: str, caller: str, constraint: str, value: Any) -> InvalidArgumentTypeError:
    return InvalidArgumentTypeError(param, caller, constraint, value)


def describe(value: Any) -> str:
    """A short description of a value for an error message (arrays by shape, not content)."""
    if is_torch(value):
        return f"torch.Tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return f"array {value.tolist()!r} (shape {value.shape}, dtype {value.dtype})"
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_torch(x: Any) -> bool:
    # torch is imported lazily: if it was never imported, x cannot be a tensor. This keeps
    # `import theorycheck` (and the proof scripts) free of torch's ~2 s import cost.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_mp_array(x: Any) -> bool:
    """An object-dtype numpy array (used for mpmath high-precision evaluation)."""
    return isinstance(x, np.ndarray) and x.dtype == object


def _finite_mask_ok(arr: np.ndarray) -> bool:
    if arr.dtype == object:
        import mpmath

        return all(mpmath.isfinite(v) for v in arr.flat)
    return bool(np.all(np.isfinite(arr)))


def check_array(
    x: Any,
    name: str,
    caller: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple[int | None, ...] | None = None,
    min_rows: int = 0,
    allow_torch: bool = True,
    allow_mp: bool = True,
    keep_torch_dtype: bool = False,
):
    """Validate a real array and return it as float64 (numpy or torch), or as an mpmath object array.

    float32/float16/integer inputs are accepted and converted to float64; torch tensors keep
    their autograd graph (``.to(torch.float64)`` is differentiable) and their device.
    NaN or inf is an error, never a silent result.

    With ``keep_torch_dtype=True`` a floating torch tensor is returned as it is (same
    object: no copy, no up-cast; for callers that compute in the input's dtype, such as
    the fused SupCon); integer tensors are still converted to float64. A float64 numpy
    array is never copied either way.
    """
    if is_torch(x):
        import torch

        if not allow_torch:
            raise fail_type(name, caller, "a numpy array (torch tensors are not supported here)", x)
        _check_has_data(x, name, caller)
        if x.is_complex() or x.dtype == torch.bool:
            raise fail_type(name, caller, "a real floating or integer tensor", x)
        out = x if keep_torch_dtype and x.is_floating_point() else x.to(torch.float64)
        # reads the values without copying them (a boolean reduction, no float64 copy)
        if not bool(torch.isfinite(out.detach()).all()):
            raise fail(name, caller, "finite (no NaN or inf)", x)
        arr_shape = tuple(out.shape)
    else:
        if isinstance(x, (str, bytes)) or x is None:
            raise fail_type(name, caller, "an array of real numbers", x)
        try:
            arr = np.asarray(x)
        except Exception as exc:  # ragged nested lists and the like
            raise fail_type(name, caller, "an array of real numbers", x) from exc
        if arr.dtype == object:
            if not allow_mp:
                raise fail_type(name, caller, "an array of real numbers", x)
            import mpmath

            if not all(isinstance(v, (mpmath.mpf, numbers.Real)) for v in arr.flat):
                raise fail_type(name, caller, "an array of real numbers", x)
            arr = np.vectorize(mpmath.mpf, otypes=[object])(arr) if arr.size else arr
        elif arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise fail_type(name, caller, "an array of real numbers", x)
        else:
            arr = arr.astype(np.float64, copy=False)
        if not _finite_mask_ok(arr):
            raise fail(name, caller, "finite (no NaN or inf)", x)
        out = arr
        arr_shape = arr.shape
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(arr_shape) not in allowed:
            want = " or ".join(f"{d}-dimensional" for d in allowed)
            raise fail(name, caller, want, x)
    if shape is not None:
        if len(arr_shape) != len(shape) or any(
            want is not None and got != want for got, want in zip(arr_shape, shape)
        ):
            pretty = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
            raise fail(name, caller, f"of shape {pretty}", x)
    if min_rows and (len(arr_shape) == 0 or arr_shape[0] < min_rows):
        raise fail(name, caller, f"an array with at least {min_rows} row(s)", x)
    return out


def _check_has_data(x: Any, name: str, caller: str) -> None:
    # A meta tensor has a shape and a dtype but no values: nothing can be computed from it
    # (and .cpu() of a huge one would try to allocate it).
    if x.device.type == "meta":
        raise fail_type(name, caller, "a tensor with values (this one is on the 'meta' device, which holds "
                        "only a shape)", x)


def check_labels(
    y: Any,
    name: str,
    caller: str,
    *,
    n: int | None = None,
    num_classes: int | None = None,
) -> np.ndarray:
    """Validate a label vector: 1-D integers in [0, num_classes). Returns int64 numpy."""
    if is_torch(y):
        import torch

        _check_has_data(y, name, caller)
        if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise fail_type(name, caller, "a 1-D array of integer class labels", y)
        arr = y.detach().cpu().numpy()
    else:
        if isinstance(y, (str, bytes)) or y is None:
            raise fail_type(name, caller, "a 1-D array of integer class labels", y)
        arr = np.asarray(y)
    if arr.dtype == bool:
        raise fail_type(name, caller, "a 1-D array of integer class labels", y)
    if arr.ndim != 1:
        raise fail(name, caller, "a 1-D array of integer class labels", y)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise fail_type(name, caller, "a 1-D array of integer class labels", y)
    elif not np.issubdtype(arr.dtype, np.integer):
        raise fail_type(name, caller, "a 1-D array of integer class labels", y)
    arr = arr.astype(np.int64)
    if n is not None and arr.shape[0] != n:
        raise fail(name, caller, f"of length {n} (one label per row of the embeddings)", y)
    if arr.size and arr.min() < 0:
        raise fail(name, caller, "labels in [0, K) (non-negative integers)", y)
    if num_classes is not None and arr.size and arr.max() >= num_classes:
        raise fail(name, caller, f"labels in [0, {num_classes})", y)
    return arr


def check_int(value: Any, name: str, caller: str, *, min_value: int | None = None,
              max_value: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral,)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise fail_type(name, caller, "an integer", value)
    value = int(value)
    if min_value is not None and value < min_value:
        raise fail(name, caller, f"an integer >= {min_value}", value)
    if max_value is not None and value > max_value:
        raise fail(name, caller, f"an integer <= {max_value}", value)
    return value


def check_real(value: Any, name: str, caller: str, *, gt: float | None = None,
               ge: float | None = None, le: float | None = None, lt: float | None = None) -> float:
    if is_torch(value) and value.ndim == 0:
        value = float(value.detach())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail_type(name, caller, "a real number", value)
    value = float(value)
    if not np.isfinite(value):
        raise fail(name, caller, "a finite real number", value)
    if gt is not None and not value > gt:
        raise fail(name, caller, f"> {gt:g}", value)
    if ge is not None and not value >= ge:
        raise fail(name, caller, f">= {ge:g}", value)
    if lt is not None and not value < lt:
        raise fail(name, caller, f"< {lt:g}", value)
    if le is not None and not value <= le:
        raise fail(name, caller, f"<= {le:g}", value)
    return value


def check_choice(value: Any, name: str, caller: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise fail(name, caller, f"one of {listed}", value)
    return value


def check_bool(value: Any, name: str, caller: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise fail_type(name, caller, "True or False", value)
    return bool(value)


def check_probability_vector(p: Any, name: str, caller: str, *, strictly_positive: bool = False,
                             atol: float = 1e-9) -> np.ndarray:
    arr = check_array(p, name, caller, ndim=1, allow_torch=False, allow_mp=False)
    if arr.size == 0:
        raise fail(name, caller, "a non-empty probability vector", p)
    if np.any(arr < 0) or (strictly_positive and np.any(arr <= 0)):
        sign = "> 0" if strictly_positive else ">= 0"
        raise fail(name, caller, f"a probability vector with every entry {sign}", p)
    if abs(float(arr.sum()) - 1.0) > atol:
        raise fail(name, caller, f"a probability vector summing to 1 (sum is {float(arr.sum())!r})", p)
    return arr


def check_same_length(a_len: int, b_len: int, a_name: str, b_name: str, caller: str, value: Any) -> None:
    if a_len != b_len:
        raise fail(b_name, caller, f"of the same length as `{a_name}` ({a_len})", value)


def check_size(count: int, name: str, caller: str, value: Any, what: str) -> None:
    """Refuse a size argument whose array (``what``, ``count`` entries, a Python int) would
    exceed :data:`MAX_ELEMENTS`."""
    if count > MAX_ELEMENTS:
        raise fail(name, caller, f"small enough that {what} has at most {MAX_ELEMENTS} entries "
                   f"(MAX_ELEMENTS; it would have {count})", value)


def non_finite_path(value: Any, path: str = "result", depth: int = 0) -> str | None:
    """Where ``value`` holds a NaN or an infinity (recursively through tuples, lists, dicts
    and dataclasses; arrays, tensors and mpmath numbers), or None if nowhere."""
    if value is None or isinstance(value, (str, bytes, bool)) or depth > 4:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if is_torch(value):
        if value.device.type == "meta" or not (value.is_floating_point() or value.is_complex()):
            return None
        if value.numel() == 1:  # a loss: one read (~2 us on CPU) instead of an isfinite kernel (~50 us)
            return None if math.isfinite(abs(complex(value.detach().reshape(()).item()))) else path
        import torch

        return None if bool(torch.isfinite(value.detach()).all()) else path
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        if value.dtype == object:
            for i, v in enumerate(np.asarray(value).flat):
                found = non_finite_path(v, f"{path}[{i}]", depth + 1)
                if found:
                    return found
            return None
        if np.issubdtype(value.dtype, np.inexact):
            return None if bool(np.all(np.isfinite(value))) else path
        return None
    if isinstance(value, numbers.Number):
        try:
            import mpmath

            return None if mpmath.isfinite(value) else path
        except (TypeError, ValueError):
            return None
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    elif isinstance(value, tuple) and hasattr(value, "_fields"):
        items = list(zip(value._fields, value))
    elif isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, (tuple, list)):
        items = list(enumerate(value))
    else:
        return None
    for key, item in items:
        found = non_finite_path(item, f"{path}.{key}", depth + 1)
        if found:
            return found
    return None


def _magnitude(value: Any) -> float:
    """The largest |entry| of a number or array (inf when it cannot be read), for blame."""
    try:
        if is_torch(value):
            value = value.detach().abs().max().item() if value.numel() else 0.0
        arr = np.asarray(value, dtype=np.float64)
        return float(np.max(np.abs(arr))) if arr.size else 0.0
    except Exception:
        return 0.0


def check_finite_result(value: Any, caller: str, arguments: dict[str, Any]) -> Any:
    """Return ``value`` if every number in it is finite; else raise the named error.

    Called on the result of a public function whose finite inputs produced NaN or inf
    (an overflow of float64 somewhere inside): the error blames the argument of
    ``arguments`` with the largest magnitude, says the result is not representable in
    float64 at that scale, and where it went non-finite. The check itself is one
    ``isfinite`` reduction over the (small) result.
    """
    where = non_finite_path(value)
    if where is None:
        return value
    name = max(arguments, key=lambda k: _magnitude(arguments[k])) if arguments else "arguments"
    raise fail(name, caller, f"of a magnitude at which the result is representable in float64 ({where} "
               f"overflowed to inf or NaN; largest |entry| of `{name}` is {_magnitude(arguments.get(name)):.3g})",
               arguments.get(name))


def representable(*names: str, field: str | None = None):
    """Decorate a public function so that a non-finite result from finite arguments becomes
    the named error of :func:`check_finite_result` (blaming the largest of ``names``).

    ``field`` checks only that attribute of the result (for results that document an
    ``inf`` elsewhere, such as ``SCLossResult.value``). The successful path costs one
    finiteness test of the result; arguments are bound only when it fails.
    """
    import functools
    import inspect

    def decorate(func):
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            out = func(*args, **kwargs)
            checked = out if field is None else getattr(out, field)
            if non_finite_path(checked) is None:
                return out
            bound = signature.bind(*args, **kwargs)
            arguments = {n: bound.arguments[n] for n in names if bound.arguments.get(n) is not None}
            check_finite_result(checked, func.__name__, arguments)
            return out  # pragma: no cover - check_finite_result raised

        return wrapper

    return decorate
