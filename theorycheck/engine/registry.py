"""The claim registry: every ``@claim`` registers itself here under its id.

Duplicate ids are rejected; :func:`temporary` lets tests and scripts define claims that
vanish afterwards.

Examples
--------
>>> from theorycheck.engine import registry
>>> with registry.temporary():
...     pass  # claims defined here are forgotten on exit
"""

from __future__ import annotations

import contextlib
import difflib
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .._validation import fail, fail_type

if TYPE_CHECKING:  # typing only: the claim model registers itself here, not the other way round
    from .claim import Claim

__all__ = ["register", "unregister", "get", "all_claims", "ids", "temporary", "load_shipped", "add_source"]

_CLAIMS: dict[str, "Claim"] = {}
_SHIPPED: dict[str, "Claim"] = {}
_SHIPPED_LOADED = False
#: Functions that import (and so register) claims the registry should know without being asked
#: first; the package root adds the shipped claims (:mod:`theorycheck.claims`), so the engine
#: itself imports no paper module.
_SOURCES: list[Callable[[], Any]] = []


def add_source(loader: Callable[[], Any]) -> None:
    """Add ``loader()``, run once by :func:`load_shipped` (an id not registered yet triggers it)."""
    global _SHIPPED_LOADED
    if not callable(loader):
        raise fail_type("loader", "add_source", "a callable taking no arguments", loader)
    if loader not in _SOURCES:
        _SOURCES.append(loader)
        _SHIPPED_LOADED = False


def _is_claim(obj: Any) -> bool:
    # duck-typed so that the registry stays below the claim model (no import cycle)
    return isinstance(getattr(obj, "id", None), str) and hasattr(obj, "kind_spec") and hasattr(obj, "origin")


def register(claim: "Claim", *, replace: bool = False) -> Claim:
    """Add ``claim`` under ``claim.id``; a second claim with the same id is an error.

    Re-registering the very same object is a no-op (a module imported twice).
    """
    if not _is_claim(claim):
        raise fail_type("claim", "register", "a Claim (use the @claim decorator)", claim)
    existing = _CLAIMS.get(claim.id)
    if existing is not None and existing is not claim and not replace:
        if existing.origin == claim.origin:
            # The same definition executed again (module re-imported, e.g. by importlib.reload):
            # the newer object wins, keeping ids unique.
            _CLAIMS[claim.id] = claim
            return claim
        raise fail("id", "register", f"an id not registered yet (already defined by {existing.origin})",
                   claim.id)
    _CLAIMS[claim.id] = claim
    return claim


def unregister(claim_id: str) -> None:
    """Forget a claim (no error if it is not registered)."""
    _CLAIMS.pop(claim_id, None)


def load_shipped() -> None:
    """Run every source added with :func:`add_source` once (the shipped claims, when the package is imported)."""
    global _SHIPPED_LOADED
    if _SHIPPED_LOADED:
        return
    _SHIPPED_LOADED = True
    before = set(_CLAIMS)
    for loader in list(_SOURCES):
        loader()
    # remembered apart, so a temporary() block that triggered the import does not lose them
    _SHIPPED.update({k: v for k, v in _CLAIMS.items() if k not in before})


def get(claim_id: str) -> "Claim":
    """The registered claim with this id.

    An id not registered yet triggers one import of the shipped claim modules; an unknown
    id raises ``InvalidArgumentError`` listing the closest registered ids.
    """
    if _is_claim(claim_id):
        return claim_id
    if not isinstance(claim_id, str):
        raise fail_type("claim_id", "get", "a claim id string", claim_id)
    if claim_id not in _CLAIMS:
        load_shipped()
    try:
        return _CLAIMS[claim_id]
    except KeyError:
        close = difflib.get_close_matches(claim_id, list(_CLAIMS), n=5, cutoff=0.5)
        if not close:
            close = [c for c in _CLAIMS if c.split(".")[0] == claim_id.split(".")[0]][:5]
        hint = ("close matches: " + ", ".join(close)) if close else "run `theorycheck list` for all ids"
        raise fail("claim_id", "get", f"a registered claim id ({hint})", claim_id) from None


def all_claims() -> list["Claim"]:
    """Every registered claim, sorted by id (does not import the shipped modules by itself)."""
    return [_CLAIMS[k] for k in sorted(_CLAIMS)]


def ids() -> list[str]:
    return sorted(_CLAIMS)


@contextlib.contextmanager
def temporary() -> Iterator[None]:
    """Claims registered inside the block are removed when it exits (others restored as they were)."""
    saved = dict(_CLAIMS)
    try:
        yield
    finally:
        _CLAIMS.clear()
        _CLAIMS.update(saved)
        for key, value in _SHIPPED.items():
            _CLAIMS.setdefault(key, value)
