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
]


class InvalidArgumentError(ValueError):
    """A public function received an argument it cannot work with."""

    def __init__(self, param: str, caller: str, constraint: str, value: Any):
        self.param = param
        self.caller = caller
        self.constraint = constraint
        self.value = value
        super().__init__(f"`{param}` of `{caller}` must be {constraint}; got {describe(value)}")


class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """The argument has the wrong type (also a ``TypeError``)."""


class MissingDependencyError(ImportError):
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
