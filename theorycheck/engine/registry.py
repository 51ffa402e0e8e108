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
from typing import Iterator

from .._validation import fail, fail_type
from .claim import Claim

__all__ = ["register", "unregister", "get", "all_claims", "ids", "temporary", "load_shipped"]

_CLAIMS: dict[str, Claim] = {}
_SHIPPED: dict[str, Claim] = {}
_SHIPPED_LOADED = False


def register(claim: Claim, *, replace: bool = False) -> Claim:
    """Add ``claim`` under ``claim.id``; a second claim with the same id is an error.

    Re-registering the very same object is a no-op (a module imported twice).
    """
    if not isinstance(claim, Claim):
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
    """Import the shipped claim modules (``theorycheck.claims.load_all()``) once, if present."""
    global _SHIPPED_LOADED
    if _SHIPPED_LOADED:
        return
    _SHIPPED_LOADED = True
    try:
        from .. import claims as shipped
    except ImportError:
        return
    loader = getattr(shipped, "load_all", None)
    if callable(loader):
        before = set(_CLAIMS)
        loader()
        # remembered apart, so a temporary() block that triggered the import does not lose them
        _SHIPPED.update({k: v for k, v in _CLAIMS.items() if k not in before})


def get(claim_id: str) -> Claim:
    """The registered claim with this id.

    An id not registered yet triggers one import of the shipped claim modules; an unknown
    id raises ``InvalidArgumentError`` listing the closest registered ids.
    """
    if isinstance(claim_id, Claim):
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


def all_claims() -> list[Claim]:
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
