"""One array vocabulary for three number systems: float64 numpy, torch (autograd), and mpmath.

Losses and claims are written once against these functions. The same code then runs

* on float64 numpy arrays (random search),
* on torch tensors, keeping autograd (adversarial search, optimisation, training),
* on numpy ``object`` arrays of ``mpmath.mpf`` (confirmation of a counterexample at 50+
  significant digits).

Dispatch is on the type of the first array argument. Plain Python ``@``, ``+``, ``*``, ``.T``
and indexing already work for all three; only transcendental functions and reductions
need this module.

Examples
--------
>>> import numpy as np, mpmath
>>> from theorycheck import backend as xp
>>> float(xp.logsumexp(np.array([0.0, 0.0]))) == float(np.log(2.0))
True
>>> with mpmath.workdps(60):
...     v = xp.logsumexp(xp.to_mp(np.array([0.0, 0.0])))
...     mpmath.nstr(v - mpmath.log(2), 5)
'0.0'
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from ._validation import is_mp_array, is_torch



class _LazyTorch:
    """Import torch on first use, so numpy- and mpmath-only callers never pay for it."""

    def __getattr__(self, name: str):
        import torch as _torch

        return getattr(_torch, name)


torch = _LazyTorch()

__all__ = [
    "kind",
    "to_mp",
    "to_numpy",
    "exp",
    "log",
    "log1p",
    "sqrt",
    "abs",
    "sum",
    "mean",
    "max",
    "min",
    "logsumexp",
    "where",
    "stack",
    "concatenate",
    "logaddexp",
    "xlogy",
    "astype",
    "norm",
    "diag",
    "eye_like",
    "zeros_like",
    "scalar",
    "asfloat",
]

_mp_exp = np.frompyfunc(mpmath.exp, 1, 1)
_mp_log = np.frompyfunc(mpmath.log, 1, 1)
_mp_log1p = np.frompyfunc(mpmath.log1p, 1, 1)
_mp_sqrt = np.frompyfunc(mpmath.sqrt, 1, 1)
_mp_fabs = np.frompyfunc(mpmath.fabs, 1, 1)


def _is_mp(x: Any) -> bool:
    return is_mp_array(x) or isinstance(x, mpmath.mpf)


def kind(x: Any) -> str:
    """``"torch"``, ``"mp"`` or ``"numpy"``: which number system ``x`` lives in."""
    if is_torch(x):
        return "torch"
    if _is_mp(x):
        return "mp"
    return "numpy"


def to_mp(x: Any) -> Any:
    """Convert an array (numpy/torch/list) or scalar to mpmath at the current ``mpmath.mp.dps``.

    Floats are converted exactly (every binary64 number is representable), so the
    high-precision evaluation sees exactly the input the float search found.
    """
    if is_torch(x):
        x = x.detach().cpu().numpy()
    if isinstance(x, (int, float, np.floating, np.integer)):
        return mpmath.mpf(float(x)) if isinstance(x, (float, np.floating)) else mpmath.mpf(int(x))
    arr = np.asarray(x)
    if arr.dtype == object:
        return np.vectorize(mpmath.mpf, otypes=[object])(arr) if arr.size else arr
    if np.issubdtype(arr.dtype, np.integer):
        return np.vectorize(lambda v: mpmath.mpf(int(v)), otypes=[object])(arr) if arr.size else arr.astype(object)
    return np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])(arr) if arr.size else arr.astype(object)


def to_numpy(x: Any) -> np.ndarray:
    """float64 numpy copy of any supported array (detached from autograd)."""
    if is_torch(x):
        return x.detach().cpu().to(torch.float64).numpy()
    if _is_mp(x):
        return np.asarray(np.vectorize(float, otypes=[np.float64])(np.asarray(x, dtype=object)))
    return np.asarray(x, dtype=np.float64)


def asfloat(x: Any) -> float:
    """A Python float from a 0-d array, tensor or mpf."""
    if is_torch(x):
        return float(x.detach().cpu())
    if isinstance(x, np.ndarray):
        x = x.reshape(()).item() if x.size == 1 else x
    return float(x)


def exp(x):
    if is_torch(x):
        return torch.exp(x)
    if _is_mp(x):
        return _mp_exp(x)
    return np.exp(x)


def log(x):
    if is_torch(x):
        return torch.log(x)
    if _is_mp(x):
        return _mp_log(x)
    return np.log(x)


def log1p(x):
    if is_torch(x):
        return torch.log1p(x)
    if _is_mp(x):
        return _mp_log1p(x)
    return np.log1p(x)


def sqrt(x):
    if is_torch(x):
        return torch.sqrt(x)
    if _is_mp(x):
        return _mp_sqrt(x)
    return np.sqrt(x)


def abs(x):  # noqa: A001 - mirrors the numpy name on purpose
    if is_torch(x):
        return torch.abs(x)
    if _is_mp(x):
        return _mp_fabs(x)
    return np.abs(x)


def sum(x, axis=None, keepdims: bool = False):  # noqa: A001
    if is_torch(x):
        if axis is None:
            return x.sum()
        return x.sum(dim=axis, keepdim=keepdims)
    out = np.sum(x, axis=axis, keepdims=keepdims)
    return out


def mean(x, axis=None, keepdims: bool = False):
    if is_torch(x):
        if axis is None:
            return x.mean()
        return x.mean(dim=axis, keepdim=keepdims)
    if _is_mp(x):
        n = np.asarray(x).size if axis is None else np.asarray(x).shape[axis]
        return np.sum(x, axis=axis, keepdims=keepdims) / mpmath.mpf(n)
    return np.mean(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False):  # noqa: A001
    if is_torch(x):
        if axis is None:
            return x.max()
        return torch.amax(x, dim=axis, keepdim=keepdims)
    return np.max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims: bool = False):  # noqa: A001
    if is_torch(x):
        if axis is None:
            return x.min()
        return torch.amin(x, dim=axis, keepdim=keepdims)
    return np.min(x, axis=axis, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims: bool = False):
    """log(sum(exp(x))) without overflow; ``-inf`` entries (masked terms) are allowed."""
    if is_torch(x):
        if axis is None:
            return torch.logsumexp(x.reshape(-1), dim=0)
        return torch.logsumexp(x, dim=axis, keepdim=keepdims)
    if _is_mp(x):
        arr = np.asarray(x, dtype=object)
        m = np.max(arr, axis=axis, keepdims=True)
        s = np.sum(_mp_exp(arr - m), axis=axis, keepdims=True)
        out = _mp_log(s) + m
        if not keepdims:
            out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(()).item()
        return out
    from scipy.special import logsumexp as _lse

    return _lse(x, axis=axis, keepdims=keepdims)


def where(cond, a, b):
    """``a`` where ``cond`` else ``b``, in the number system of ``a``/``b``/``cond``.

    Either branch may be a plain number; ``cond`` may be a numpy, torch or mpmath
    comparison. On torch the gradient flows only through the chosen branch, but a branch
    that is NaN or infinite *where it is not chosen* still poisons the gradient (autograd
    multiplies by zero): make both branches finite everywhere (e.g. ``xlogy`` rather than
    ``where(p > 0, p * log(p), 0)``).
    """
    if is_torch(cond) and not (is_torch(a) or is_torch(b)):
        a = torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, device=cond.device)
    if is_torch(a) or is_torch(b):
        ref = _torch_ref((a, b))
        cond_t = cond if is_torch(cond) else torch.as_tensor(np.asarray(cond, dtype=bool), device=ref.device)
        return torch.where(cond_t, _tensor_like(a, ref), _tensor_like(b, ref))
    if _is_mp(a) or _is_mp(b) or _is_mp(cond):
        return _mp_unwrap(np.where(np.asarray(cond, dtype=bool), _mp_like(a), _mp_like(b)))
    return np.where(cond, a, b)


def _mp_like(x):
    """``x`` as mpmath (floats converted exactly; mpmath values kept)."""
    if _is_mp(x):
        return np.asarray(x, dtype=object)
    return np.asarray(to_mp(x), dtype=object)


def _mp_unwrap(out):
    """An object array of mpmath values, or its single value when it is 0-dimensional."""
    return out if np.ndim(out) else (out.item() if isinstance(out, np.ndarray) else out)


def _torch_ref(arrays):
    """The first tensor among ``arrays`` (whose dtype and device the others take), or None."""
    return next((a for a in arrays if is_torch(a)), None)


def _tensor_like(x, ref):
    """``x`` as a tensor of ``ref``'s dtype and device (a tensor is returned as it is)."""
    if is_torch(x):
        return x
    return torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=ref.dtype, device=ref.device)


def _join(arrays, axis: int, torch_join, numpy_join):
    """Join arrays with ``torch_join`` when any is a tensor (the others converted to its dtype
    and device, autograd kept), else with ``numpy_join`` (mpmath entries as object arrays)."""
    arrays = list(arrays)
    ref = _torch_ref(arrays)
    if ref is not None:
        return torch_join([_tensor_like(a, ref) for a in arrays], dim=axis)
    if any(_is_mp(a) for a in arrays):
        return numpy_join([_mp_like(a) for a in arrays], axis=axis)
    return numpy_join(arrays, axis=axis)


def stack(arrays, axis: int = 0):
    """Stack arrays along a new ``axis`` (numpy, torch keeping autograd, or mpmath)."""
    return _join(arrays, axis, lambda xs, dim: torch.stack(xs, dim=dim), np.stack)


def concatenate(arrays, axis: int = 0):
    """Join arrays along an existing ``axis`` (numpy, torch keeping autograd, or mpmath)."""
    return _join(arrays, axis, lambda xs, dim: torch.cat(xs, dim=dim), np.concatenate)


def _mp_logaddexp(a, b):
    if a == mpmath.ninf:
        return b
    if b == mpmath.ninf:
        return a
    m = a if a > b else b
    return m + mpmath.log(mpmath.exp(a - m) + mpmath.exp(b - m))


_mp_logaddexp_u = np.frompyfunc(_mp_logaddexp, 2, 1)


def logaddexp(a, b):
    """``log(exp(a) + exp(b))`` without overflow; ``-inf`` (a masked term) allowed."""
    if is_torch(a) or is_torch(b):
        ref = _torch_ref((a, b))
        return torch.logaddexp(_tensor_like(a, ref), _tensor_like(b, ref))
    if _is_mp(a) or _is_mp(b):
        return _mp_unwrap(_mp_logaddexp_u(_mp_like(a), _mp_like(b)))
    return np.logaddexp(a, b)


def _mp_xlogy(x, y):
    return mpmath.mpf(0) if x == 0 else x * mpmath.log(y)


_mp_xlogy_u = np.frompyfunc(_mp_xlogy, 2, 1)


def xlogy(x, y):
    """``x * log(y)``, and 0 wherever ``x == 0`` (even at ``y == 0``): so ``xlogy(p, p)`` is
    ``p log p`` with ``0 log 0 = 0`` (entropies, KL divergences)."""
    if is_torch(x) or is_torch(y):
        ref = _torch_ref((x, y))
        return torch.xlogy(_tensor_like(x, ref), _tensor_like(y, ref))
    if _is_mp(x) or _is_mp(y):
        return _mp_unwrap(_mp_xlogy_u(_mp_like(x), _mp_like(y)))
    from scipy.special import xlogy as _xlogy

    return _xlogy(x, y)


def astype(x, dtype):
    """``x`` rounded to a float type (``"float32"``, ``"float16"``, ``"float64"``, or the
    numpy / torch type) in float arithmetic; mpmath values are returned unchanged, so the
    high-precision re-evaluation computes the exact mathematics at the same inputs."""
    name = np.dtype(str(dtype).replace("torch.", "")).name
    if is_torch(x):
        return x.to(getattr(torch, name))
    if _is_mp(x):
        return x
    return np.asarray(x).astype(name)


def norm(x, axis=None, keepdims: bool = False):
    """Euclidean norm (Frobenius for matrices when ``axis`` is None)."""
    return sqrt(sum(x * x, axis=axis, keepdims=keepdims))


def diag(x):
    """Diagonal of a matrix, or the diagonal matrix of a vector."""
    if is_torch(x):
        return torch.diag(x)
    return np.diag(x)


def eye_like(x, n: int):
    """Identity matrix of size n in the number system of ``x``."""
    if is_torch(x):
        return torch.eye(n, dtype=x.dtype, device=x.device)
    if _is_mp(x):
        out = np.empty((n, n), dtype=object)
        out[...] = mpmath.mpf(0)
        for i in range(n):
            out[i, i] = mpmath.mpf(1)
        return out
    return np.eye(n)


def zeros_like(x):
    if is_torch(x):
        return torch.zeros_like(x)
    if _is_mp(x):
        out = np.empty(np.shape(x), dtype=object)
        out[...] = mpmath.mpf(0)
        return out
    return np.zeros_like(x, dtype=np.float64)


def scalar(value: Any, like: Any):
    """A constant (number or array) in the number system of ``like``.

    For mpmath the float is converted exactly (``mpf(0.1)`` is the binary64 value of 0.1, the
    same number the float search used); for torch the dtype and device of ``like``.
    """
    arr = np.asarray(value, dtype=np.float64)
    if _is_mp(like):
        return to_mp(arr) if arr.ndim else mpmath.mpf(float(arr))
    if is_torch(like):
        return torch.as_tensor(arr, dtype=like.dtype, device=like.device)
    return arr if arr.ndim else np.float64(arr)
