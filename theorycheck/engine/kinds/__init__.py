"""Claim kinds as objects: one module per kind, each a :class:`~.base.Kind`.

:data:`KINDS` maps the name a claim gives (``kind="optimum"``) to its kind object; this
is the only place kind names are listed. ``Claim.kind_spec`` looks a claim's kind up
here, and :func:`theorycheck.engine.judge` asks that object to check and judge the claim.
"""

from __future__ import annotations

from ..._validation import check_choice
from .base import Kind
from .characterization import Characterization
from .empirical import Empirical
from .landscape import Landscape
from .optimum import Optimum
from .relation import Identity, Inequality
from .statistical import Statistical

__all__ = ["Kind", "KINDS", "get"]

#: Every kind the engine judges, by name (the order is the one ``theorycheck list`` and docs use).
KINDS: dict[str, Kind] = {k.name: k for k in (Identity(), Inequality(), Optimum(), Characterization(),
                                               Landscape(), Statistical(), Empirical())}


def get(name: str, where: str = "claim") -> Kind:
    """The kind object called ``name``; an unknown name is an error listing the known ones."""
    check_choice(name, "kind", where, tuple(KINDS))
    return KINDS[name]
