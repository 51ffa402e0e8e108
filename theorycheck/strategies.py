"""Input spaces of claims: what the engine draws, projects onto, and simplifies.

Each function returns a :class:`Space`. A space knows

* how to draw inputs: ``sample(rng)`` (seeded numpy) and ``strategy()`` (a hypothesis
  ``SearchStrategy`` of numpy arrays);
* how to bring an arbitrary array back into itself: ``project(x)`` (numpy or torch; for
  torch, differentiable where the map is, e.g. row normalisation) for adversarial search;
* whether a value belongs to it: ``contains(x, atol=1e-9)``;
* its structured inputs, ``special()`` (collapsed, degenerate, extreme), and simpler
  neighbours of a value, ``simplify(x)``, for shrinking a counterexample.

Every value a space produces satisfies the space's constraints. A space whose
constraints cannot be met at the requested sizes raises :class:`Unsatisfiable` when it
is built; the engine turns that into the verdict VACUOUS.

``repr(space)`` is the call that rebuilds it.

Examples
--------
>>> import numpy as np
>>> from theorycheck import strategies as st
>>> s = st.sphere(4, 3, radius=2.0)
>>> s
sphere(N=4, h=3, radius=2.0)
>>> x = s.sample(np.random.default_rng(0))
>>> bool(np.allclose(np.linalg.norm(x, axis=1), 2.0)), s.contains(x)
(True, True)
>>> st.doubly_normalized(2, 3)
Traceback (most recent call last):
...
theorycheck.strategies.Unsatisfiable: a 2 x 3 matrix cannot have unit-norm rows and unit-norm columns: the squared Frobenius norm would be 2 (rows) and 3 (columns); it needs M == N
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from ._validation import (check_array, check_int, check_labels, check_real, check_size, fail, fail_type,
                          is_torch)
from . import geometry as _geometry

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None  # type: ignore[assignment]

__all__ = [
    "Unsatisfiable",
    "Space",
    "labels",
    "balanced_labels",
    "imbalanced_labels",
    "sphere",
    "ball",
    "real_matrix",
    "simplex_configuration",
    "perturbed_simplex",
    "collapsed_on_simplex",
    "psd",
    "elliptope",
    "unit_rows",
    "unit_columns",
    "doubly_normalized",
    "probability_vector",
    "real",
    "fixed",
    "regular_simplex",
    "box",
    # building blocks for user-written Space subclasses
    "float_arrays",
    "normalize_rows",
    "straight_through",
]

_TINY = 1e-300


class Unsatisfiable(Exception):
    """No value can satisfy a space's constraints at the requested sizes."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


# --------------------------------------------------------------------------- helpers


def _hyp():
    """hypothesis.strategies and hypothesis.extra.numpy, imported when first needed."""
    import hypothesis.extra.numpy as hnp
    import hypothesis.strategies as hst

    return hst, hnp


def float_arrays(shape: tuple, bound: float):
    """Hypothesis arrays of finite float64 in [-bound, bound] (zeros, repeats and edges included).

    ``shape`` is a tuple of non-negative ints with at most ``MAX_ELEMENTS`` entries in all;
    ``bound`` a finite real >= 0.
    """
    caller = "float_arrays"
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, tuple):
        raise fail_type("shape", caller, "a tuple of non-negative integers", shape)
    shape = tuple(check_int(d, f"shape[{i}]", caller, min_value=0) for i, d in enumerate(shape))
    check_size(math.prod(shape), "shape", caller, shape, "one array")
    bound = check_real(bound, "bound", caller, ge=0.0)
    hst, hnp = _hyp()
    elements = hst.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                          width=64)
    return hnp.arrays(np.float64, shape, elements=elements)


def _round_sig(x: np.ndarray, digits: int) -> np.ndarray:
    """Round every entry to ``digits`` significant digits (zeros stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    nz = x != 0
    if np.any(nz):
        mags = np.floor(np.log10(np.abs(x[nz])))
        scale = 10.0 ** (digits - 1 - mags)
        out[nz] = np.round(x[nz] * scale) / scale
    return out


def _rounding_candidates(x: np.ndarray, project) -> list[np.ndarray]:
    """Simplifications of a float array: integers, then 1..4 significant digits, each projected."""
    x = np.asarray(x, dtype=np.float64)
    seen: list[np.ndarray] = []
    raw = [np.round(x)] + [_round_sig(x, d) for d in (1, 2, 3, 4)]
    # decimal grids relative to the largest entry: 0.5, 0.1, 0.01 steps of it
    top = float(np.max(np.abs(x))) if x.size else 0.0
    if top > 0:
        for step in (0.5, 0.1, 0.01):
            unit = _round_sig(np.array([top * step]), 1)[0]
            if unit > 0:
                raw.append(np.round(x / unit) * unit)
    for cand in raw:
        try:
            cand = project(cand)
        except Exception:  # a candidate that cannot be projected is simply not offered
            continue
        cand = np.asarray(cand, dtype=np.float64)
        if not np.all(np.isfinite(cand)) or np.array_equal(cand, x):
            continue
        if any(np.array_equal(cand, s) for s in seen):
            continue
        seen.append(cand)
    return seen


def normalize_rows(x, radius: float = 1.0):
    """Rows scaled to norm ``radius``; zero rows (numpy) become ``radius * e_1``. Torch: differentiable.

    ``x`` is a finite real array (1-D: one row) or tensor; ``radius`` a finite real >= 0.
    Rows of any magnitude are scaled by their largest entry first, so 1e300 and 1e-300
    entries give unit rows too.
    """
    caller = "normalize_rows"
    x = check_array(x, "x", caller, ndim=(1, 2), allow_mp=False, keep_torch_dtype=True)
    radius = check_real(radius, "radius", caller, ge=0.0)
    return _normalize_rows(x, radius)


def _normalize_rows(x, radius: float):
    if is_torch(x):
        norms = torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min(1e-150)
        return x / norms * radius
    x = np.array(x, dtype=np.float64, copy=True)
    if x.ndim == 1:
        return _normalize_rows(x[None, :], radius)[0]
    # Divide by each row's largest entry first: for rows of tiny entries (1e-162) the sum of
    # squares is subnormal and the plain norm loses most of its digits.
    peak = np.max(np.abs(x), axis=-1, keepdims=True)
    zero = peak[..., 0] == 0
    if np.any(zero):
        x[zero] = 0.0
        x[zero, 0] = 1.0
        peak[zero] = 1.0
    x = x / peak
    return x / np.linalg.norm(x, axis=-1, keepdims=True) * radius


def _exact_squared_norms(a: np.ndarray, axis: int) -> list[Fraction]:
    """Squared norms of the rows (axis=1) or columns (axis=0) of a float matrix, exactly."""
    lines = a if axis == 1 else a.T
    return [sum((Fraction(float(v)) ** 2 for v in line), Fraction(0)) for line in lines]


def _random_orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    return _orthogonal_from(rng.standard_normal((n, n)))


def _orthogonal_from(a: np.ndarray) -> np.ndarray:
    """An orthogonal matrix from any square matrix (QR with sign fix; Haar for Gaussian input)."""
    n = a.shape[0]
    if n == 0:
        return a
    q, r = np.linalg.qr(a + 0.0)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return q * signs


def regular_simplex(K: int, h: int, radius: float = 1.0) -> np.ndarray:
    """:func:`theorycheck.geometry.regular_simplex`, with an impossible size reported as
    :class:`Unsatisfiable` (so the engine says VACUOUS) and the one-point case (the origin)
    allowed, which degenerate input spaces need.
    """
    K = check_int(K, "K", "regular_simplex", min_value=1)
    h = check_int(h, "h", "regular_simplex", min_value=1)
    radius = check_real(radius, "radius", "regular_simplex", ge=0.0)
    if K == 1:
        if radius != 0:
            raise Unsatisfiable("a one-point centred simplex is the origin; it needs radius 0")
        return np.zeros((1, h))
    if h < K - 1:
        raise Unsatisfiable(f"a regular simplex of K={K} points needs h >= K-1 = {K - 1}; got h={h}")
    if radius == 0:  # every point at the origin: the degenerate (collapsed) configuration
        return np.zeros((K, h))
    return _geometry.regular_simplex(K, h, radius)


def straight_through(x, exact):
    """``exact`` in value with the gradient of the identity: for torch projections whose own
    derivative is undefined (degenerate SVDs) or too long to unroll.

    ``x`` is a floating torch tensor; ``exact`` a finite array of the same shape.
    """
    caller = "straight_through"
    if not is_torch(x) or not x.is_floating_point():
        raise fail_type("x", caller, "a floating torch tensor", x)
    check_array(x, "x", caller, keep_torch_dtype=True)  # values: no meta tensor, no NaN or inf
    exact = check_array(exact, "exact", caller, allow_mp=False, shape=tuple(x.shape), keep_torch_dtype=True)
    return x + (torch.as_tensor(exact, dtype=x.dtype, device=x.device) - x).detach()


def _procrustes_onto(base, x):
    """``base @ R`` with R orthogonal minimising ``||base R - x||_F`` (numpy or torch).

    For torch the value is exact and the gradient is the identity's (straight-through):
    the SVD of the rank-(K-1) cross-covariance has repeated zero singular values, where
    its derivative is undefined.
    """
    if is_torch(x):
        return straight_through(x, _procrustes_onto(base, x.detach().cpu().numpy()))
    m = base.T @ np.asarray(x, dtype=np.float64)
    u, _, vh = np.linalg.svd(m)
    return base @ (u @ vh)


def _torch_like(x, value):
    return torch.as_tensor(value, dtype=x.dtype, device=x.device)


# --------------------------------------------------------------------------- base class


class Space:
    """A set of admissible values for one input of a claim.

    Subclasses set ``shape``, ``dtype`` (``np.float64`` or ``np.int64``), ``continuous``
    (False: kept fixed during local optimisation) and ``scale`` (typical magnitude of an
    entry, for step sizes), and implement ``_draw``, ``_from_raw``, ``_raw_strategy``,
    ``project``, ``contains``, ``special``, ``describe`` and ``__repr__``.
    """

    shape: tuple = ()
    dtype: Any = np.float64
    continuous: bool = True
    scale: float = 1.0

    # -- drawing
    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One value drawn with the numpy generator ``rng``."""
        return self._draw(rng)

    def strategy(self):
        """A hypothesis strategy of values of this space (numpy arrays)."""
        return self._raw_strategy().map(self._from_raw)

    def _raw_strategy(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def _from_raw(self, raw):
        return self.project(raw)

    def _draw(self, rng):  # pragma: no cover - overridden
        raise NotImplementedError

    # -- geometry
    def project(self, x):
        """A point of the space near ``x`` (numpy in, numpy out; torch in, torch out)."""
        return x

    def project_vjp(self, u: np.ndarray):
        """``(project(u), vjp)`` in float64 numpy, ``vjp(g)`` the gradient of ``f(project(u))``
        from the gradient ``g`` of ``f`` at ``project(u)``; None where the space has no closed
        form (the optimiser's closed-form path then differentiates ``project`` with torch)."""
        return None

    def contains(self, x, atol: float = 1e-9) -> bool:
        """Whether ``x`` belongs to the space (up to ``atol``, relative to the space's scale)."""
        raise NotImplementedError

    def exactly_contains(self, x) -> bool | None:
        """Whether the float value ``x`` belongs to the space *exactly* (every float is a
        rational: the check is done in exact rational arithmetic), or None where a space
        cannot tell. Discrete spaces (labels, constants) are exact by nature. The engine
        needs it to call a point that ties with a claimed optimum an exact minimiser.
        """
        if not self.continuous:
            return bool(self.contains(x, atol=0.0))
        return None

    def special(self) -> list[np.ndarray]:
        """Structured values: collapsed, degenerate, extreme (all inside the space)."""
        return []

    def simplify(self, x) -> list[np.ndarray]:
        """Simpler values near ``x`` (rounded entries), simplest first, all inside the space."""
        if not self.continuous:
            return []
        return [c for c in _rounding_candidates(np.asarray(x, dtype=np.float64), self.project)
                if self.contains(c)]

    def describe(self) -> str:
        return repr(self)

    def _shape_ok(self, x) -> bool:
        return tuple(np.shape(x)) == tuple(self.shape)

    def _finite(self, x) -> bool:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        return bool(np.all(np.isfinite(arr)))


# --------------------------------------------------------------------------- labels


class _Labels(Space):
    dtype = np.int64
    continuous = False

    def __init__(self, N: int, K: int, mode: str, min_count: int = 0):
        caller = {"any": "labels", "balanced": "balanced_labels", "imbalanced": "imbalanced_labels"}[mode]
        self.N = check_int(N, "N", caller, min_value=1)
        self.K = check_int(K, "K", caller, min_value=1)
        check_size(self.N, "N", caller, N, "a sample (N labels)")
        self.mode = mode
        self.min_count = min_count
        self.shape = (self.N,)
        if mode == "balanced" and self.N % self.K:
            raise Unsatisfiable(f"balanced labels need K to divide N; got N={self.N}, K={self.K}")
        if mode == "imbalanced" and self.K * min_count > self.N:
            raise Unsatisfiable(
                f"every one of K={self.K} classes needs at least {min_count} sample(s): "
                f"K * min_count = {self.K * min_count} > N={self.N}")

    def _draw(self, rng):
        if self.mode == "balanced":
            return rng.permutation(np.repeat(np.arange(self.K), self.N // self.K)).astype(np.int64)
        y = rng.integers(0, self.K, size=self.N).astype(np.int64)
        return self._repair(y, rng)

    def _repair(self, y: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Move samples from the largest classes to those below ``min_count`` (deterministic)."""
        y = np.array(y, dtype=np.int64)
        if self.mode != "imbalanced" or self.min_count == 0:
            return y
        for k in range(self.K):
            while np.sum(y == k) < self.min_count:
                counts = np.bincount(y, minlength=self.K)
                donor = int(np.argmax(counts))
                idx = np.flatnonzero(y == donor)
                y[idx[-1]] = k
        return y

    def _raw_strategy(self):
        hst, hnp = _hyp()
        if self.mode == "balanced":
            base = np.repeat(np.arange(self.K), self.N // self.K).tolist()
            return hst.permutations(base).map(lambda v: np.asarray(v, dtype=np.int64))
        return hnp.arrays(np.int64, (self.N,), elements=hst.integers(0, self.K - 1))

    def _from_raw(self, raw):
        return self._repair(np.asarray(raw, dtype=np.int64))

    def project(self, x):
        return x  # discrete: never moved by local optimisation

    def contains(self, x, atol: float = 1e-9) -> bool:
        y = np.asarray(x)
        if y.shape != self.shape or not np.issubdtype(y.dtype, np.integer):
            return False
        if y.size and (y.min() < 0 or y.max() >= self.K):
            return False
        counts = np.bincount(y, minlength=self.K)
        if self.mode == "balanced":
            return bool(np.all(counts == self.N // self.K))
        if self.mode == "imbalanced":
            return bool(np.all(counts >= self.min_count))
        return True

    def special(self):
        out = []
        sorted_blocks = self._sorted_blocks()
        if sorted_blocks is not None:
            out.append(sorted_blocks)  # classes in contiguous blocks
        out.append(np.arange(self.N, dtype=np.int64) % self.K)  # classes interleaved
        if self.mode == "any":
            out.append(np.zeros(self.N, dtype=np.int64))  # a single class
        if self.mode == "imbalanced":
            # extreme imbalance: min_count samples in every class but class 0, the rest in class 0
            y = np.concatenate([np.zeros(self.N - (self.K - 1) * self.min_count, dtype=np.int64)]
                               + [np.full(self.min_count, k, dtype=np.int64) for k in range(1, self.K)])
            out.append(y)
        unique: list[np.ndarray] = []
        for cand in out:
            if self.contains(cand) and not any(np.array_equal(cand, u) for u in unique):
                unique.append(cand)
        return unique

    def _sorted_blocks(self):
        if self.mode == "balanced":
            return np.repeat(np.arange(self.K), self.N // self.K).astype(np.int64)
        # as balanced as possible, sorted
        counts = np.full(self.K, self.N // self.K)
        counts[: self.N % self.K] += 1
        y = np.repeat(np.arange(self.K), counts).astype(np.int64)
        return y if self.contains(y) else None

    def simplify(self, x):
        """Sorted labels, then labels relabelled in order of first appearance."""
        y = np.asarray(x, dtype=np.int64)
        out = []
        s = np.sort(y)
        if not np.array_equal(s, y):
            out.append(s)
        order = {}
        for v in y.tolist():
            order.setdefault(v, len(order))
        relabelled = np.array([order[v] for v in y.tolist()], dtype=np.int64)
        if not np.array_equal(relabelled, y):
            out.append(relabelled)
        return [c for c in out if self.contains(c)]

    def describe(self):
        what = {"any": "labels", "balanced": "balanced labels",
                "imbalanced": f"labels with every class at least {self.min_count} times"}[self.mode]
        return f"{what}: {self.N} samples in {self.K} classes"

    def __repr__(self):
        if self.mode == "balanced":
            return f"balanced_labels(N={self.N}, K={self.K})"
        if self.mode == "imbalanced":
            return f"imbalanced_labels(N={self.N}, K={self.K}, min_count={self.min_count})"
        return f"labels(N={self.N}, K={self.K})"


def labels(N: int, K: int) -> Space:
    """Integer label vectors of length N with values in [0, K) (classes may be missing)."""
    return _Labels(N, K, "any")


def balanced_labels(N: int, K: int) -> Space:
    """Label vectors with exactly N/K samples per class (Unsatisfiable unless K divides N)."""
    return _Labels(N, K, "balanced")


def imbalanced_labels(N: int, K: int, min_count: int = 1) -> Space:
    """Label vectors in which every class appears at least ``min_count`` times (counts may differ)."""
    min_count = check_int(min_count, "min_count", "imbalanced_labels", min_value=0)
    return _Labels(N, K, "imbalanced", min_count)


# --------------------------------------------------------------------------- sphere / ball / matrix


class _Rows(Space):
    """(N, h) float matrices with a per-row constraint: on the sphere, in the ball, or free."""

    def __init__(self, N: int, h: int, radius: float, mode: str):
        caller = {"sphere": "sphere", "ball": "ball", "free": "real_matrix"}[mode]
        self.N = check_int(N, "N", caller, min_value=1)
        self.h = check_int(h, "h", caller, min_value=1)
        self.radius = check_real(radius, "scale" if mode == "free" else "radius", caller,
                                 gt=0.0 if mode == "free" else None, ge=None if mode == "free" else 0.0)
        check_size(self.N * self.h, "N" if self.N >= self.h else "h", caller, max(self.N, self.h),
                   "a sample (N x h)")
        self.mode = mode
        self.shape = (self.N, self.h)
        self.scale = self.radius / math.sqrt(self.h) if mode != "free" else self.radius
        if self.scale == 0:
            self.scale = 1.0

    def _draw(self, rng):
        g = rng.standard_normal(self.shape)
        if self.mode == "sphere":
            return _normalize_rows(g, self.radius)
        if self.mode == "ball":
            # uniform in the ball half of the time, on the boundary otherwise (bounds are tight there)
            r = self.radius * rng.random((self.N, 1)) ** (1.0 / self.h)
            on_boundary = rng.random((self.N, 1)) < 0.5
            r = np.where(on_boundary, self.radius, r)
            return _normalize_rows(g, 1.0) * r
        # free: Gaussian with a random overall magnitude spanning two decades
        return g * self.radius * 10.0 ** rng.uniform(-1.0, 1.0)

    def _raw_strategy(self):
        bound = 1.0 if self.mode != "free" else 4.0 * self.radius
        return float_arrays(self.shape, bound)

    def _from_raw(self, raw):
        if self.mode == "sphere":
            return _normalize_rows(raw, self.radius)
        if self.mode == "ball":
            return self.project(np.asarray(raw) * self.radius)
        return np.asarray(raw, dtype=np.float64)

    def project(self, x):
        if self.mode == "sphere":
            return _normalize_rows(x, self.radius)
        if self.mode == "ball":
            if is_torch(x):
                norms = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
                factor = torch.clamp(self.radius / norms.clamp_min(1e-150), max=1.0)
                return x * factor
            x = np.array(x, dtype=np.float64, copy=True)
            norms = np.linalg.norm(x, axis=-1, keepdims=True)
            over = norms[..., 0] > self.radius
            if np.any(over):
                x[over] = x[over] / norms[over] * self.radius
            return x
        return x

    def project_vjp(self, u: np.ndarray):
        if self.mode == "free":
            return u, lambda g: g
        if self.mode != "sphere":
            return None
        # the torch projection's formula, u / max(||u||, 1e-150) * r, and its Jacobian
        # (r / ||u||) (I - x x^T / r^2) per row, symmetric; below the clamp: no closed form
        norms = np.sqrt(np.einsum("ij,ij->i", u, u))[:, None]
        if not np.all(norms > 1e-150):
            return None
        unit = u / norms
        return unit * self.radius, lambda g: (g - np.einsum("ij,ij->i", g, unit)[:, None] * unit) * (
            self.radius / norms)

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        if self.mode == "free":
            return True
        norms = np.linalg.norm(np.asarray(x, dtype=np.float64), axis=-1)
        tol = atol * max(1.0, self.radius)
        if self.mode == "sphere":
            return bool(np.all(np.abs(norms - self.radius) <= tol))
        return bool(np.all(norms <= self.radius + tol))

    def exactly_contains(self, x) -> bool | None:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        if self.mode == "free":
            return True
        r2 = Fraction(self.radius) ** 2
        squares = _exact_squared_norms(np.asarray(x, dtype=np.float64), axis=1)
        return all(q == r2 for q in squares) if self.mode == "sphere" else all(q <= r2 for q in squares)

    def special(self):
        N, h, r = self.N, self.h, self.radius
        e1 = np.zeros(h)
        e1[0] = 1.0
        out = []
        if self.mode in ("sphere", "ball"):
            out.append(np.tile(e1 * r, (N, 1)))  # collapsed onto one point
            alt = np.tile(e1 * r, (N, 1))
            alt[1::2] *= -1.0  # antipodal pairs
            out.append(alt)
            axes = np.zeros((N, h))
            axes[np.arange(N), np.arange(N) % h] = r  # coordinate axes
            out.append(axes)
            if N >= 2 and h >= 1:
                try:
                    simplex = regular_simplex(min(N, h + 1), h, r)
                    out.append(simplex[np.arange(N) % simplex.shape[0]])  # spread out
                except Unsatisfiable:
                    pass
            if self.mode == "ball":
                out.append(np.zeros((N, h)))  # the centre
                out.append(np.tile(e1 * r * 1e-8, (N, 1)))  # tiny norms
        else:
            s = self.radius
            out.append(np.zeros((N, h)))
            out.append(np.full((N, h), s))
            out.append(np.tile(e1 * s, (N, 1)))
            axes = np.zeros((N, h))
            axes[np.arange(N), np.arange(N) % h] = s
            out.append(axes)
            alt = np.full((N, h), s)
            alt[1::2] *= -1.0
            out.append(alt)
            out.append(np.full((N, h), s * 1e-6))  # extreme norms, both ways
            out.append(np.full((N, h), s * 1e3))
        return [c for c in out if self.contains(c)]

    def describe(self):
        if self.mode == "sphere":
            return f"{self.N} point(s) on the sphere of radius {self.radius:g} in R^{self.h}"
        if self.mode == "ball":
            return f"{self.N} point(s) in the ball of radius {self.radius:g} in R^{self.h}"
        return f"real {self.N} x {self.h} matrices (typical entry {self.radius:g})"

    def __repr__(self):
        if self.mode == "free":
            return f"real_matrix(N={self.N}, h={self.h}, scale={self.radius!r})"
        return f"{self.mode}(N={self.N}, h={self.h}, radius={self.radius!r})"


def sphere(N: int, h: int, radius: float = 1.0, dtype=None) -> Space:
    """(N, h) matrices whose rows have norm exactly ``radius`` (``dtype``: see :func:`box`)."""
    return _with_dtype(_Rows(N, h, radius, "sphere"), dtype, "sphere")


def ball(N: int, h: int, radius: float = 1.0, dtype=None) -> Space:
    """(N, h) matrices whose rows have norm at most ``radius`` (``dtype``: see :func:`box`)."""
    return _with_dtype(_Rows(N, h, radius, "ball"), dtype, "ball")


def real_matrix(N: int, h: int, scale: float = 1.0, dtype=None) -> Space:
    """Unconstrained (N, h) float matrices; ``scale`` is the typical magnitude of an entry
    (``dtype``: see :func:`box`)."""
    return _with_dtype(_Rows(N, h, scale, "free"), dtype, "real_matrix")


# --------------------------------------------------------------------------- simplex


class _Simplex(Space):
    def __init__(self, K: int, h: int, radius: float, perturb: float | None, on_sphere: bool, caller: str):
        self.K = check_int(K, "K", caller, min_value=2)
        self.h = check_int(h, "h", caller, min_value=1)
        self.radius = check_real(radius, "radius", caller, gt=0.0)
        self.perturb = None if perturb is None else check_real(perturb, "scale", caller, ge=0.0)
        check_size(self.K * max(self.h, self.K), "h" if self.h >= self.K else "K", caller,
                   max(self.h, self.K), "a sample (K x max(h, K))")
        self.on_sphere = on_sphere
        self.caller = caller
        self.base = regular_simplex(self.K, self.h, self.radius)  # raises Unsatisfiable when h < K-1
        self.shape = (self.K, self.h)
        self.scale = self.radius / math.sqrt(self.h)

    @property
    def exact(self) -> bool:
        return self.perturb is None

    def _rotated(self, q: np.ndarray) -> np.ndarray:
        return self.base @ q

    def _perturbed(self, z: np.ndarray, noise: np.ndarray) -> np.ndarray:
        out = z + self.perturb * self.radius * noise
        return _normalize_rows(out, self.radius) if self.on_sphere else out

    def _draw(self, rng):
        z = self._rotated(_random_orthogonal(rng, self.h))
        if self.exact:
            return z
        return self._perturbed(z, rng.standard_normal(self.shape) / math.sqrt(self.h))

    def _raw_strategy(self):
        hst, _ = _hyp()
        rot = float_arrays((self.h, self.h), 1.0)
        if self.exact:
            return rot
        return hst.tuples(rot, float_arrays(self.shape, 1.0))

    def _from_raw(self, raw):
        if self.exact:
            return self._rotated(_orthogonal_from(np.asarray(raw) + np.eye(self.h) * 1e-3))
        rot, noise = raw
        return self._perturbed(self._rotated(_orthogonal_from(np.asarray(rot) + np.eye(self.h) * 1e-3)),
                               np.asarray(noise) / math.sqrt(self.h))

    def project(self, x):
        if self.exact:
            return _procrustes_onto(self.base, x)
        if self.on_sphere:
            return _normalize_rows(x, self.radius)
        return x

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        z = np.asarray(x, dtype=np.float64)
        tol = atol * max(1.0, self.radius ** 2)
        if not self.exact:
            if self.on_sphere:
                return bool(np.all(np.abs(np.linalg.norm(z, axis=1) - self.radius) <= atol * max(1, self.radius)))
            return True
        gram = z @ z.T
        target = np.full((self.K, self.K), -self.radius ** 2 / (self.K - 1))
        np.fill_diagonal(target, self.radius ** 2)
        return bool(np.max(np.abs(gram - target)) <= tol * 10)

    def special(self):
        out = [self.base.copy()]
        if not self.exact:
            tiny = self.base + 1e-6 * self.radius * np.eye(self.K, self.h)
            out.append(_normalize_rows(tiny, self.radius) if self.on_sphere else tiny)
        return [c for c in out if self.contains(c)]

    def simplify(self, x):
        out = [self.base.copy()] if self.exact else []
        out += super().simplify(x)
        return [c for c in out if not np.array_equal(c, np.asarray(x))]

    def describe(self):
        what = f"rotated regular simplices of {self.K} points of norm {self.radius:g} in R^{self.h}"
        if self.exact:
            return what
        where = "on the sphere" if self.on_sphere else "off the sphere"
        return f"{what}, perturbed by {self.perturb:g} x radius ({where})"

    def __repr__(self):
        if self.exact:
            return f"simplex_configuration(K={self.K}, h={self.h}, radius={self.radius!r})"
        return (f"perturbed_simplex(K={self.K}, h={self.h}, radius={self.radius!r}, "
                f"scale={self.perturb!r}, on_sphere={self.on_sphere!r})")


def simplex_configuration(K: int, h: int, radius: float = 1.0) -> Space:
    """(K, h) rows forming an origin-centred regular simplex inscribed in the sphere of ``radius``,
    randomly rotated (graf2021; Unsatisfiable when h < K-1)."""
    return _Simplex(K, h, radius, None, True, "simplex_configuration")


def perturbed_simplex(K: int, h: int, radius: float = 1.0, scale: float = 0.1, *,
                      on_sphere: bool = True) -> Space:
    """Rotated regular simplices plus Gaussian noise of relative size ``scale``; rows are put back on
    the sphere of ``radius`` unless ``on_sphere=False``."""
    return _Simplex(K, h, radius, scale, bool(on_sphere), "perturbed_simplex")


class _Collapsed(Space):
    """(N, h): z_n = zeta_{y_n} for a rotated regular simplex zeta (fixed labels y)."""

    def __init__(self, y, h: int, radius: float, K: int | None):
        self.y = check_labels(y, "y", "collapsed_on_simplex")
        if self.y.size == 0:
            raise fail("y", "collapsed_on_simplex", "a non-empty label vector", y)
        self.K = int(self.y.max()) + 1 if K is None else check_int(K, "K", "collapsed_on_simplex",
                                                                   min_value=int(self.y.max()) + 1)
        self.K = max(self.K, 2)
        self.h = check_int(h, "h", "collapsed_on_simplex", min_value=1)
        self.radius = check_real(radius, "radius", "collapsed_on_simplex", gt=0.0)
        check_size(self.y.size * self.h, "h", "collapsed_on_simplex", h, "a sample (N x h)")
        self.simplex = _Simplex(self.K, self.h, self.radius, None, True, "collapsed_on_simplex")
        self.shape = (self.y.size, self.h)
        self.scale = self.simplex.scale

    def _draw(self, rng):
        return self.simplex.sample(rng)[self.y]

    def _raw_strategy(self):
        return self.simplex._raw_strategy()

    def _from_raw(self, raw):
        return self.simplex._from_raw(raw)[self.y]

    def project(self, x):
        if is_torch(x):
            onehot = torch.as_tensor(np.eye(self.K)[self.y], dtype=x.dtype, device=x.device)
            counts = onehot.sum(0).clamp_min(1.0)
            means = (onehot.T @ x) / counts[:, None]
            return self.simplex.project(means)[torch.as_tensor(self.y, device=x.device)]
        x = np.asarray(x, dtype=np.float64)
        means = np.zeros((self.K, self.h))
        for k in range(self.K):
            members = self.y == k
            if np.any(members):
                means[k] = x[members].mean(axis=0)
            else:
                means[k] = self.simplex.base[k]
        return self.simplex.project(means)[self.y]

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        x = np.asarray(x, dtype=np.float64)
        means = np.array([x[self.y == k][0] if np.any(self.y == k) else self.simplex.base[k] @ np.eye(self.h)
                          for k in range(self.K)])
        if not np.allclose(means[self.y], x, atol=atol * max(1.0, self.radius), rtol=0):
            return False
        if np.all(np.bincount(self.y, minlength=self.K) > 0):
            return self.simplex.contains(means, atol)
        # classes absent from y leave their vertex free; compare the present part of the Gram
        present = np.flatnonzero(np.bincount(self.y, minlength=self.K) > 0)
        gram = means[present] @ means[present].T
        target = self.simplex.base[present] @ self.simplex.base[present].T
        return bool(np.max(np.abs(gram - target)) <= 10 * atol * max(1.0, self.radius ** 2))

    def special(self):
        return [self.simplex.base[self.y]]

    def simplify(self, x):
        return [c for c in [self.simplex.base[self.y]] if not np.array_equal(c, np.asarray(x))]

    def describe(self):
        return (f"{self.y.size} samples collapsed onto a rotated regular simplex of {self.K} points of norm "
                f"{self.radius:g} in R^{self.h}")

    def __repr__(self):
        return f"collapsed_on_simplex(y={self.y.tolist()!r}, h={self.h}, radius={self.radius!r}, K={self.K})"


def collapsed_on_simplex(y, h: int, radius: float = 1.0, *, K: int | None = None) -> Space:
    """(N, h) matrices with z_n = zeta_{y_n}, zeta a rotated rho-inscribed regular simplex of K points
    (K defaults to max(y)+1; Unsatisfiable when h < K-1)."""
    return _Collapsed(y, h, radius, K)


# --------------------------------------------------------------------------- PSD / elliptope


def _sym(x):
    return (x + x.T) / 2 if not is_torch(x) else (x + x.transpose(-1, -2)) / 2


class _PSD(Space):
    def __init__(self, n: int, rank: int | None, unit_diagonal: bool):
        caller = "elliptope" if unit_diagonal else "psd"
        self.n = check_int(n, "n", caller, min_value=1)
        check_size(self.n * self.n, "n", caller, n, "a sample (n x n)")
        if rank is not None:
            rank = check_int(rank, "rank", caller, min_value=0)
            if rank > self.n:
                raise fail("rank", caller, f"an integer <= n = {self.n}", rank)
        if unit_diagonal and rank == 0:
            raise Unsatisfiable("a Gram matrix with unit diagonal has rank >= 1")
        self.rank = rank
        self.unit_diagonal = unit_diagonal
        self.shape = (self.n, self.n)
        self.caller = caller

    @property
    def r(self) -> int:
        return self.n if self.rank is None else self.rank

    def _from_factor(self, v):
        if self.unit_diagonal:
            v = _normalize_rows(v, 1.0)
        return v @ v.T

    def _draw(self, rng):
        r = max(self.r, 0)
        # half the draws at full allowed rank, half at a random smaller rank (faces of the cone)
        if r > 1 and rng.random() < 0.5:
            r = int(rng.integers(1, r + 1))
        v = rng.standard_normal((self.n, r)) / math.sqrt(max(r, 1))
        return self._from_factor(v)

    def _raw_strategy(self):
        return float_arrays((self.n, max(self.r, 1)), 1.0)

    def _from_raw(self, raw):
        v = np.asarray(raw, dtype=np.float64)
        if self.r == 0:
            v = v * 0.0
        return self._from_factor(v)

    def project(self, x):
        if is_torch(x):
            s = _sym(x)
            vals, vecs = torch.linalg.eigh(s)
            vals = vals.clamp_min(0.0)
            if self.rank is not None and self.rank < self.n:
                vals = torch.cat([torch.zeros_like(vals[: self.n - self.rank]), vals[self.n - self.rank:]])
            factor = vecs * torch.sqrt(vals)[None, :]
            if self.unit_diagonal:
                factor = _normalize_rows(factor, 1.0)
            return factor @ factor.T
        s = _sym(np.asarray(x, dtype=np.float64))
        vals, vecs = np.linalg.eigh(s)
        vals = np.clip(vals, 0.0, None)
        if self.rank is not None and self.rank < self.n:
            vals[: self.n - self.rank] = 0.0
        factor = vecs * np.sqrt(vals)[None, :]
        if self.unit_diagonal:
            factor = _normalize_rows(factor, 1.0)
        out = factor @ factor.T
        out = _sym(out)
        if self.unit_diagonal:
            np.fill_diagonal(out, 1.0)
        return out

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        g = np.asarray(x, dtype=np.float64)
        scale = max(1.0, float(np.max(np.abs(g))) if g.size else 1.0)
        if np.max(np.abs(g - g.T)) > atol * scale:
            return False
        vals = np.linalg.eigvalsh(_sym(g))
        if vals[0] < -atol * scale * self.n:
            return False
        if self.rank is not None and np.sum(vals > 1e-7 * scale) > self.rank:
            return False
        if self.unit_diagonal and np.max(np.abs(np.diag(g) - 1.0)) > atol:
            return False
        return True

    def special(self):
        n = self.n
        out = []
        ones = np.ones((n, n))  # rank one, collapsed
        out.append(ones)
        if self.rank is None or self.rank >= n:
            out.append(np.eye(n))
        if not self.unit_diagonal:
            out.append(np.zeros((n, n)))
            d = np.zeros((n, n))
            d[0, 0] = 1.0
            out.append(d)
            out.append(np.eye(n) * 1e6)
        else:
            if n >= 2:
                alt = np.ones((n, n))
                sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
                out.append(alt * np.outer(sign, sign))  # two antipodal clusters, rank one
            if n >= 2 and (self.rank is None or self.rank >= n - 1):
                out.append(n / (n - 1) * (np.eye(n) - np.ones((n, n)) / n))  # simplex Gram
        return [c for c in out if self.contains(c)]

    def describe(self):
        rank = "" if self.rank is None else f" of rank <= {self.rank}"
        if self.unit_diagonal:
            return f"{self.n} x {self.n} correlation (elliptope) matrices{rank}"
        return f"{self.n} x {self.n} positive semidefinite matrices{rank}"

    def __repr__(self):
        return f"{self.caller}(n={self.n}, rank={self.rank!r})"


def psd(n: int, rank: int | None = None) -> Space:
    """Symmetric positive semidefinite n x n matrices (of rank at most ``rank`` when given)."""
    return _PSD(n, rank, False)


def elliptope(n: int, rank: int | None = None) -> Space:
    """Gram matrices of n unit vectors: PSD with unit diagonal (rank at most ``rank`` when given)."""
    return _PSD(n, rank, True)


# --------------------------------------------------------------------------- unit rows / columns


def _normalize_cols(x, radius: float = 1.0):
    if is_torch(x):
        return _normalize_rows(x.transpose(0, 1), radius).transpose(0, 1)
    return _normalize_rows(np.asarray(x).T, radius).T


class _UnitNorm(Space):
    def __init__(self, M: int, N: int, mode: str):
        caller = {"rows": "unit_rows", "cols": "unit_columns", "both": "doubly_normalized"}[mode]
        self.M = check_int(M, "M", caller, min_value=1)
        self.N = check_int(N, "N", caller, min_value=1)
        check_size(self.M * self.N, "M" if self.M >= self.N else "N", caller, max(self.M, self.N), "a sample (M x N)")
        self.mode = mode
        self.caller = caller
        self.shape = (self.M, self.N)
        if mode == "both" and self.M != self.N:
            raise Unsatisfiable(
                f"a {self.M} x {self.N} matrix cannot have unit-norm rows and unit-norm columns: the squared "
                f"Frobenius norm would be {self.M} (rows) and {self.N} (columns); it needs M == N")
        self.scale = 1.0 / math.sqrt(self.N if mode != "cols" else self.M)

    def _balance(self, a: np.ndarray) -> np.ndarray:
        """Alternate row and column normalisation (Sinkhorn on the squares) until both hold."""
        a = np.array(a, dtype=np.float64, copy=True)
        small = np.abs(a) < 1e-3
        a[small] = np.where(a[small] < 0, -1e-3, 1e-3)  # Sinkhorn needs total support
        for _ in range(3000):
            a /= np.sqrt(np.sum(a * a, axis=1, keepdims=True))
            a /= np.sqrt(np.sum(a * a, axis=0, keepdims=True))
            if np.max(np.abs(np.sqrt(np.sum(a * a, axis=1)) - 1.0)) < 1e-13:
                return a
        # fall back on the nearest orthogonal matrix (rows and columns exactly unit)
        u, _, vh = np.linalg.svd(a)
        return u @ vh

    def _draw(self, rng):
        g = rng.standard_normal(self.shape)
        return self.project(g)

    def _raw_strategy(self):
        return float_arrays(self.shape, 1.0)

    def _from_raw(self, raw):
        return self.project(np.asarray(raw, dtype=np.float64))

    def project(self, x):
        if self.mode == "rows":
            return _normalize_rows(x, 1.0)
        if self.mode == "cols":
            return _normalize_cols(x)
        if is_torch(x):
            # a few differentiable sweeps carry the gradient; the exact balancing fixes the value
            for _ in range(20):
                x = _normalize_cols(_normalize_rows(x, 1.0))
            return straight_through(x, self._balance(x.detach().cpu().numpy()))
        return self._balance(x)

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        a = np.asarray(x, dtype=np.float64)
        ok = True
        if self.mode in ("rows", "both"):
            ok &= bool(np.all(np.abs(np.linalg.norm(a, axis=1) - 1.0) <= atol))
        if self.mode in ("cols", "both"):
            ok &= bool(np.all(np.abs(np.linalg.norm(a, axis=0) - 1.0) <= atol))
        return ok

    def exactly_contains(self, x) -> bool | None:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        a = np.asarray(x, dtype=np.float64)
        axes = {"rows": (1,), "cols": (0,), "both": (0, 1)}[self.mode]
        return all(q == 1 for axis in axes for q in _exact_squared_norms(a, axis=axis))

    def special(self):
        M, N = self.M, self.N
        out = []
        if self.mode == "rows":
            e = np.zeros((M, N))
            e[:, 0] = 1.0
            out.append(e)  # every row the same unit vector (collapsed)
            out.append(np.full((M, N), 1.0 / math.sqrt(N)))
        elif self.mode == "cols":
            e = np.zeros((M, N))
            e[0, :] = 1.0
            out.append(e)  # every column the same unit vector (collapsed)
            out.append(np.full((M, N), 1.0 / math.sqrt(M)))
        else:
            out.append(np.eye(M))
            out.append(np.full((M, N), 1.0 / math.sqrt(N)))
            if M >= 2:
                hadamardish = np.full((M, N), 1.0 / math.sqrt(N))
                hadamardish[1::2, 1::2] *= -1.0
                out.append(self._balance(hadamardish))
        if self.mode != "both":
            axes = np.zeros((M, N))
            if self.mode == "rows":
                axes[np.arange(M), np.arange(M) % N] = 1.0
            else:
                axes[np.arange(N) % M, np.arange(N)] = 1.0
            out.append(axes)
        return [c for c in out if self.contains(c)]

    def describe(self):
        what = {"rows": "unit-norm rows", "cols": "unit-norm columns",
                "both": "unit-norm rows and columns"}[self.mode]
        return f"{self.M} x {self.N} matrices with {what}"

    def __repr__(self):
        return f"{self.caller}(M={self.M}, N={self.N})"


def unit_rows(M: int, N: int) -> Space:
    """M x N matrices whose rows have unit norm."""
    return _UnitNorm(M, N, "rows")


def unit_columns(M: int, N: int) -> Space:
    """M x N matrices whose columns have unit norm."""
    return _UnitNorm(M, N, "cols")


def doubly_normalized(M: int, N: int) -> Space:
    """M x N matrices with unit-norm rows and unit-norm columns.

    They exist iff M == N (the squared Frobenius norm is M by rows and N by columns);
    otherwise building the space raises :class:`Unsatisfiable`.
    """
    return _UnitNorm(M, N, "both")


# --------------------------------------------------------------------------- probability vectors


def _project_simplex_np(v: np.ndarray, mass: float) -> np.ndarray:
    """Euclidean projection onto {x >= 0, sum x = mass} (sort-based, exact)."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - mass
    idx = np.arange(1, v.size + 1)
    cond = u - css / idx > 0
    rho = np.flatnonzero(cond)[-1]
    theta = css[rho] / (rho + 1)
    return np.maximum(v - theta, 0.0)


class _Probability(Space):
    def __init__(self, K: int, min_entry: float):
        self.K = check_int(K, "K", "probability_vector", min_value=1)
        self.min_entry = check_real(min_entry, "min_entry", "probability_vector", ge=0.0)
        self.shape = (self.K,)
        self.scale = 1.0 / self.K
        if self.K * self.min_entry > 1.0 + 1e-15:
            raise Unsatisfiable(
                f"K={self.K} entries of at least {self.min_entry:g} sum to more than 1")
        self.mass = max(0.0, 1.0 - self.K * self.min_entry)

    def _draw(self, rng):
        w = rng.dirichlet(np.full(self.K, 1.0 if rng.random() < 0.7 else 0.2))
        return self.min_entry + self.mass * w

    def _raw_strategy(self):
        hst, hnp = _hyp()
        return hnp.arrays(np.float64, self.shape,
                          elements=hst.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False))

    def _from_raw(self, raw):
        w = np.asarray(raw, dtype=np.float64)
        total = w.sum()
        w = np.full(self.K, 1.0 / self.K) if total <= 0 else w / total
        return self.project(self.min_entry + self.mass * w)

    def project(self, x):
        if is_torch(x):
            v = x - self.min_entry
            u, _ = torch.sort(v, descending=True)
            css = torch.cumsum(u, 0) - self.mass
            idx = torch.arange(1, self.K + 1, dtype=x.dtype, device=x.device)
            cond = (u - css / idx) > 0
            rho = int(torch.nonzero(cond).max())
            theta = css[rho] / (rho + 1)
            return torch.clamp(v - theta, min=0.0) + self.min_entry
        v = np.asarray(x, dtype=np.float64) - self.min_entry
        out = _project_simplex_np(v, self.mass) + self.min_entry
        # make the sum exactly 1 in float where possible (put the rounding residue on the largest entry)
        out[np.argmax(out)] += 1.0 - out.sum()
        return out

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        p = np.asarray(x, dtype=np.float64)
        return bool(np.all(p >= self.min_entry - atol) and abs(p.sum() - 1.0) <= atol)

    def special(self):
        K, m = self.K, self.min_entry
        out = [np.full(K, 1.0 / K)]
        vertex = np.full(K, m)
        vertex[0] = 1.0 - (K - 1) * m
        out.append(vertex)
        if K >= 2:
            two = np.full(K, m)
            two[:2] = (1.0 - (K - 2) * m) / 2
            out.append(two)
        return [c for c in out if self.contains(c)]

    def simplify(self, x):
        """Fractions with small denominators (largest-remainder rounding), then rounded decimals."""
        p = np.asarray(x, dtype=np.float64)
        out = []
        for denom in (2, 4, 5, 10, 20, 100, 1000):
            scaled = p * denom
            base = np.floor(scaled)
            short = int(round(denom - base.sum()))
            order = np.argsort(-(scaled - base), kind="stable")
            base[order[:max(short, 0)]] += 1
            cand = base / denom
            if self.contains(cand) and not np.array_equal(cand, p):
                out.append(cand)
        return out

    def describe(self):
        extra = f" with entries >= {self.min_entry:g}" if self.min_entry else ""
        return f"probability vectors of length {self.K}{extra}"

    def __repr__(self):
        return f"probability_vector(K={self.K}, min_entry={self.min_entry!r})"


def probability_vector(K: int, min_entry: float = 0.0) -> Space:
    """Vectors of K entries >= ``min_entry`` summing to 1 (Unsatisfiable when K * min_entry > 1)."""
    return _Probability(K, min_entry)


# --------------------------------------------------------------------------- scalars


class _Real(Space):
    shape = ()

    def __init__(self, low: float, high: float):
        self.low = check_real(low, "low", "real")
        self.high = check_real(high, "high", "real")
        if self.low > self.high:
            raise Unsatisfiable(f"an interval [{self.low:g}, {self.high:g}] with low > high is empty")
        self.scale = max(abs(self.low), abs(self.high), 1e-3) / 4

    def _draw(self, rng):
        return np.asarray(rng.uniform(self.low, self.high), dtype=np.float64)

    def _raw_strategy(self):
        hst, _ = _hyp()
        return hst.floats(self.low, self.high, allow_nan=False, allow_infinity=False, allow_subnormal=False)

    def _from_raw(self, raw):
        return np.asarray(min(max(float(raw), self.low), self.high), dtype=np.float64)

    def project(self, x):
        if is_torch(x):
            return torch.clamp(x, self.low, self.high)
        return np.clip(np.asarray(x, dtype=np.float64), self.low, self.high)

    def contains(self, x, atol: float = 1e-9) -> bool:
        if np.shape(x) != () or not self._finite(x):
            return False
        v = float(np.asarray(x))
        tol = atol * max(1.0, abs(self.low), abs(self.high))
        return self.low - tol <= v <= self.high + tol

    def exactly_contains(self, x) -> bool | None:
        # float comparisons of floats are exact
        return np.shape(x) == () and self._finite(x) and self.low <= float(np.asarray(x)) <= self.high

    def special(self):
        vals = [self.low, self.high, (self.low + self.high) / 2]
        for v in (0.0, 1.0, -1.0):
            if self.low <= v <= self.high:
                vals.append(v)
        out: list[np.ndarray] = []
        for v in vals:
            if not any(float(o) == v for o in out):
                out.append(np.asarray(v, dtype=np.float64))
        return out

    def simplify(self, x):
        flat = np.atleast_1d(np.asarray(x, dtype=np.float64))
        cands = _rounding_candidates(flat, lambda v: np.clip(v, self.low, self.high))
        return [np.asarray(c[0], dtype=np.float64) for c in cands if self.contains(np.asarray(c[0]))]

    def describe(self):
        return f"real numbers in [{self.low:g}, {self.high:g}]"

    def __repr__(self):
        return f"real(low={self.low!r}, high={self.high!r})"


def real(low: float, high: float, dtype=None) -> Space:
    """A real scalar in [low, high] (a 0-d float64 array; ``dtype``: see :func:`box`)."""
    return _with_dtype(_Real(low, high), dtype, "real")


class _Fixed(Space):
    continuous = False

    def __init__(self, value):
        if is_torch(value):
            if value.device.type == "meta":
                raise fail_type("value", "fixed", "a tensor with values (not on the 'meta' device)", value)
            value = value.detach().cpu().numpy()
        arr = np.asarray(value)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)):
            raise fail("value", "fixed", "a number or an array of numbers", value)
        if np.issubdtype(arr.dtype, np.integer):
            arr = arr.astype(np.int64)
            self.dtype = np.int64
        else:
            arr = arr.astype(np.float64)
            if not np.all(np.isfinite(arr)):
                raise fail("value", "fixed", "finite (no NaN or inf)", value)
        self.value = arr
        self.shape = arr.shape

    def _draw(self, rng):
        return self.value.copy()

    def strategy(self):
        hst, _ = _hyp()
        return hst.just(self.value).map(np.copy)

    def project(self, x):
        return x

    def contains(self, x, atol: float = 1e-9) -> bool:
        return self._shape_ok(x) and bool(np.allclose(np.asarray(x, dtype=np.float64),
                                                      self.value.astype(np.float64), atol=atol, rtol=0))

    def special(self):
        return [self.value.copy()]

    def describe(self):
        return f"the constant {self.value.tolist()!r}"

    def __repr__(self):
        v = self.value.tolist()
        return f"fixed({v!r})" if self.dtype is np.float64 or self.value.ndim == 0 else f"fixed(np.array({v!r}))"


def fixed(value) -> Space:
    """A constant input (a number or array), never varied."""
    return _Fixed(value)


# --------------------------------------------------------------------------- box


def _bound_array(value, shape: tuple, name: str) -> np.ndarray:
    if is_torch(value):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail(name, "box", "a real number or an array of reals", value) from None
    if not np.all(np.isfinite(arr)):
        raise fail(name, "box", "finite (no NaN or inf)", value)
    try:
        return np.broadcast_to(arr, shape).copy()
    except ValueError:
        raise fail(name, "box", f"a number or an array broadcastable to shape {shape}", value) from None


class _Box(Space):
    """Arrays of a given shape with every entry in its interval ``[low_i, high_i]``."""

    def __init__(self, shape, low, high):
        if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
            shape = (int(shape),)
        if not isinstance(shape, tuple) or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                                                   and n >= 1 for n in shape):
            raise fail("shape", "box", "a positive int or a tuple of positive ints", shape)
        self.shape = tuple(int(n) for n in shape)
        check_size(math.prod(self.shape), "shape", "box", shape, "one array")
        self.low = _bound_array(low, self.shape, "low")
        self.high = _bound_array(high, self.shape, "high")
        self._low_repr, self._high_repr = low, high
        if np.any(self.low > self.high):
            i = tuple(int(j) for j in np.argwhere(self.low > self.high)[0])
            raise Unsatisfiable(f"a box with low > high at entry {i} ({self.low[i]:g} > {self.high[i]:g}) is empty")
        width = float(np.max(self.high - self.low))
        self.scale = max(width, 1e-3) / 4

    def _draw(self, rng):
        u = rng.random(self.shape)
        x = self.low + u * (self.high - self.low)
        if rng.random() < 0.2:  # some entries on a face: bounds are often tight there
            face = rng.random(self.shape) < 0.3
            x = np.where(face, np.where(rng.random(self.shape) < 0.5, self.low, self.high), x)
        return x

    def _raw_strategy(self):
        return float_arrays(self.shape, 1.0)

    def _from_raw(self, raw):
        # [-1, 1] -> [low, high] entrywise (hypothesis' edge values land on the faces)
        t = (np.asarray(raw, dtype=np.float64) + 1.0) / 2.0
        return self.project(self.low + t * (self.high - self.low))

    def project(self, x):
        if is_torch(x):
            lo, hi = _torch_like(x, self.low), _torch_like(x, self.high)
            return torch.maximum(torch.minimum(x, hi), lo)
        return np.clip(np.asarray(x, dtype=np.float64), self.low, self.high)

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        a = np.asarray(x, dtype=np.float64)
        tol = atol * np.maximum(1.0, np.maximum(np.abs(self.low), np.abs(self.high)))
        return bool(np.all(a >= self.low - tol) and np.all(a <= self.high + tol))

    def exactly_contains(self, x) -> bool | None:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        a = np.asarray(x, dtype=np.float64)
        return bool(np.all(a >= self.low) and np.all(a <= self.high))

    def special(self):
        lo, hi = self.low, self.high
        out = [lo.copy(), hi.copy(), (lo + hi) / 2]
        zero = np.zeros(self.shape)
        if self.contains(zero, atol=0.0):
            out.append(zero)
        flat = np.arange(int(np.prod(self.shape))).reshape(self.shape) % 2 == 0
        out.append(np.where(flat, lo, hi))  # alternating corners
        unique: list[np.ndarray] = []
        for c in out:
            if not any(np.array_equal(c, u) for u in unique):
                unique.append(c)
        return unique

    def simplify(self, x):
        return [c for c in _rounding_candidates(np.asarray(x, dtype=np.float64), self.project) if self.contains(c)]

    def describe(self):
        return f"arrays of shape {self.shape} with entries in [{self._describe_bound(self.low)}, " \
               f"{self._describe_bound(self.high)}]"

    @staticmethod
    def _describe_bound(b: np.ndarray) -> str:
        return f"{float(b.flat[0]):g}" if np.all(b == b.flat[0]) else "per-entry bounds"

    def __repr__(self):
        def bound(value, arr):
            if np.all(arr == arr.flat[0]):
                return repr(float(arr.flat[0]))
            return f"np.array({np.asarray(value, dtype=np.float64).tolist()!r})"

        return f"box(shape={self.shape!r}, low={bound(self._low_repr, self.low)}, " \
               f"high={bound(self._high_repr, self.high)})"


def box(shape, low, high, dtype=None) -> Space:
    """Arrays of ``shape`` with each entry in ``[low, high]`` (``[a, b]^n``; bounds may be arrays).

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the arrays (an int ``n`` means ``(n,)``).
    low, high : float or array_like
        Bounds, broadcast to ``shape``. A box with ``low > high`` somewhere is empty:
        :class:`Unsatisfiable` (the engine says VACUOUS).
    dtype : {None, "float64", "float32", "float16"}
        Every value the space produces is exactly representable in this floating type
        (the evaluator still receives float64 arrays holding those values; cast with
        ``xp.astype(x, "float32")`` to compute in the narrow type). Projections round to
        the type; on torch the rounding is straight-through, so gradients still flow.
        The same argument exists on ``sphere``, ``ball``, ``real_matrix`` and ``real``:
        their constraints then hold up to the type's rounding (a few ulps).

    Examples
    --------
    >>> import numpy as np
    >>> from theorycheck import strategies as st
    >>> s = st.box(3, 0.0, 1.0)
    >>> s
    box(shape=(3,), low=0.0, high=1.0)
    >>> s.contains(s.sample(np.random.default_rng(0)))
    True
    >>> x = st.box((2,), -1.0, 1.0, dtype="float16").sample(np.random.default_rng(1))
    >>> bool(np.all(x.astype(np.float16).astype(np.float64) == x))
    True
    """
    return _with_dtype(_Box(shape, low, high), dtype, "box")


# --------------------------------------------------------------------------- dtype


_DTYPES = {"float64": np.float64, "float32": np.float32, "float16": np.float16}


def _dtype_name(dtype, caller: str) -> str:
    if dtype is None:
        return "float64"
    if torch is not None and isinstance(dtype, torch.dtype):
        dtype = str(dtype).replace("torch.", "")
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _DTYPES:
        raise fail("dtype", caller, "one of 'float64', 'float32', 'float16' (or the numpy / torch type)", dtype)
    return name


def _round_to(x: np.ndarray, dtype) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(x, dtype=np.float64).astype(dtype).astype(np.float64)


class _Typed(Space):
    """A continuous space whose values are exactly representable in a narrower float type."""

    def __init__(self, base: Space, dtype_name: str):
        self.base = base
        self.dtype_name = dtype_name
        self.float_type = _DTYPES[dtype_name]
        self.shape = base.shape
        self.continuous = base.continuous
        self.scale = base.scale
        self.eps = float(np.finfo(self.float_type).eps)

    def _round(self, x):
        if is_torch(x):
            return straight_through(x, _round_to(x.detach().cpu().numpy(), self.float_type))
        return _round_to(x, self.float_type)

    def _finite_in_type(self, x) -> bool:
        return bool(np.all(np.isfinite(np.asarray(x, dtype=np.float64))))

    def _draw(self, rng):
        return self.project(self.base.sample(rng))

    def strategy(self):
        return self.base.strategy().map(self.project)

    def project(self, x):
        return self._round(self.base.project(x))

    def representable(self, x) -> bool:
        a = np.asarray(x, dtype=np.float64)
        return bool(np.all(_round_to(a, self.float_type) == a))

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x) or not self.representable(x):
            return False
        # rounding each entry moves a norm or a sum by a few ulps of the type
        return self.base.contains(x, atol=max(atol, 16 * self.eps))

    def exactly_contains(self, x) -> bool | None:
        if not self._shape_ok(x) or not self._finite(x) or not self.representable(x):
            return False
        inside = self.base.exactly_contains(x)
        return True if inside else None

    def special(self):
        out: list[np.ndarray] = []
        for s in self.base.special():
            r = self._round(s)
            if self._finite_in_type(r) and self.contains(r) and not any(np.array_equal(r, o) for o in out):
                out.append(r)
        return out

    def simplify(self, x):
        out = []
        for c in self.base.simplify(x):
            r = self._round(c)
            if self.contains(r) and not np.array_equal(r, np.asarray(x)):
                out.append(r)
        return out

    def describe(self):
        return f"{self.base.describe()} ({self.dtype_name} values)"

    def __repr__(self):
        text = repr(self.base)
        return f"{text[:-1]}, dtype={self.dtype_name!r})"


def _with_dtype(base: Space, dtype, caller: str) -> Space:
    name = _dtype_name(dtype, caller)
    return base if name == "float64" else _Typed(base, name)
