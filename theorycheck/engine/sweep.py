"""A claim's declared sweep: the claim judged again at several values of one of its parameters.

Some claims are worth reading next to their own neighbours: a landscape claim at the
dimensions around its threshold, say. Such a claim declares a :class:`Sweep` instead of
judging itself from its ``extra_evidence`` (which would put a call of the engine inside
a maths module); :func:`theorycheck.engine.judge` runs the sweep after the main
judgement, each value with the user's budget and seed, and records one row per value
under ``evidence[sweep.key]``. A sweep never changes the verdict.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping

from .._validation import fail, fail_type

__all__ = ["Sweep"]


@dataclasses.dataclass(frozen=True)
class Sweep:
    """One parameter swept over values derived from the claim's parameters.

    Parameters
    ----------
    param : str
        The parameter that varies (one of the claim's).
    values : callable ``(p) -> iterable``
        The values to judge at, from the claim's parameters ``p``.
    key : str
        The evidence key the rows are recorded under.
    row : callable ``(value, ClaimResult) -> dict``
        One row of plain JSON values from a swept judgement.
    assumptions : tuple of str or None
        Assumptions active while sweeping (default: none, so a condition on the swept
        parameter does not make its other values vacuous); None keeps the claim's own.
    """

    param: str
    values: Callable[[Any], Iterable[Any]]
    key: str
    row: Callable[[Any, Any], Mapping[str, Any]]
    assumptions: tuple | None = ()

    def __post_init__(self) -> None:
        for name in ("param", "key"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise fail(name, "Sweep", "a non-empty string", getattr(self, name))
        for name in ("values", "row"):
            if not callable(getattr(self, name)):
                raise fail_type(name, "Sweep", "a callable", getattr(self, name))
        if self.assumptions is not None:
            object.__setattr__(self, "assumptions", tuple(self.assumptions))
