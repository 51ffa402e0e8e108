"""Finite input spaces, enumerated: the 0-sphere, labels and fixed values at small sizes.

A local optimiser cannot move on a finite space (rows on the 0-sphere ``{-r, +r}`` have
no tangent space; labels are discrete), so a judge whose verdict needs the optimum to be
*reached* checks every point instead when the product of the spaces is small
(:data:`MAX_POINTS`). The verdict's strength is then ``"exhaustive"``.
"""

from __future__ import annotations

import itertools
from typing import Any, Mapping

import numpy as np

__all__ = ["MAX_POINTS", "finite_points", "enumerate_inputs"]

#: Largest number of points of a product of finite spaces that is enumerated.
MAX_POINTS = 4096


def finite_points(space: Any, limit: int = MAX_POINTS) -> list[np.ndarray] | None:
    """Every point of ``space`` if it is finite with at most ``limit`` points, else None."""
    from .. import strategies as st  # the engine already depends on the spaces module

    if isinstance(space, st._Fixed):
        return [space.value.copy()]
    if isinstance(space, st._Rows) and space.mode == "sphere" and space.h == 1:
        if 2 ** space.N > limit:
            return None
        r = float(space.radius)
        return [np.array(signs, dtype=np.float64).reshape(space.N, 1) * r
                for signs in itertools.product((-1.0, 1.0), repeat=space.N)]
    if isinstance(space, st._Labels):
        if space.K ** space.N > 16 * limit:
            return None
        out = []
        for y in itertools.product(range(space.K), repeat=space.N):
            arr = np.array(y, dtype=np.int64)
            if space.contains(arr):
                out.append(arr)
                if len(out) > limit:
                    return None
        return out
    return None


def enumerate_inputs(spaces: Mapping[str, Any], limit: int = MAX_POINTS) -> list[dict] | None:
    """Every input dict of the product of ``spaces``, or None if one is not finite or the product is
    larger than ``limit``; None too when no space is continuous (nothing for an optimiser to miss)."""
    if not spaces:
        return None
    from ..strategies import _Rows

    if not any(isinstance(s, _Rows) for s in spaces.values()):
        return None  # only a continuous space stuck at finitely many points needs this
    points = {}
    total = 1
    for name, space in spaces.items():
        pts = finite_points(space, limit)
        if pts is None:
            return None
        points[name] = pts
        total *= len(pts)
        if total > limit:
            return None
    names = list(points)
    return [dict(zip(names, combo)) for combo in itertools.product(*(points[k] for k in names))]
