"""Inputs the claim's author names or excludes: explicit examples and ``assume``.

* :func:`example` attaches explicit inputs to a claim (as ``hypothesis.example``): the
  search judges them first, every time, and lists them in the evidence
  (``evidence["examples"]``).
* :func:`~theorycheck.engine.errors.assume` inside an evaluator discards an input; the
  search counts the inputs discarded (``evidence["discarded"]``) and a claim whose
  evaluator discards every input it was shown is VACUOUS (:func:`all_discarded_reason`).

The search calls these helpers at a few points (:mod:`theorycheck.engine.search`); the
rules live here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

from .._validation import fail_type
from .errors import ClaimError

__all__ = ["example", "claim_examples", "run_examples", "example_points", "note_discarded",
           "domain_evidence", "all_discarded_reason"]

_ATTR = "__theorycheck_examples__"


def example(*inputs_fn: Callable, **inputs: Any) -> Callable:
    """Decorator: judge the claim at these inputs first, always (``hypothesis.example``).

    Use it above or below ``@claim``::

        @example(u=np.array([[1.0, 0.0]]), v=np.array([[1.0, 0.0]]))   # u == v: a tie
        @example(lambda p: {"u": np.eye(1, p.h), "v": -np.eye(1, p.h)})  # sized by the params
        @claim(id="mine.cs", ...)
        def cs(u, v, *, p): ...

    Parameters
    ----------
    *inputs_fn : callable, optional
        One function ``inputs_fn(p) -> dict`` giving the inputs at parameters ``p``.
    **inputs
        The inputs by name (arrays or numbers), all of the claim's inputs.

    An example is judged at the parameters where its arrays have the shapes of the
    claim's spaces (elsewhere it is skipped and counted, ``evidence["examples_skipped"]``);
    an example of the right shape outside its space (a row off the sphere) is an error
    naming it, since the claim says nothing there.
    """
    if inputs_fn and inputs:
        raise fail_type("inputs", "example", "either one function p -> dict or inputs by name, not both",
                        inputs_fn[0])
    if len(inputs_fn) > 1 or (inputs_fn and not callable(inputs_fn[0])):
        raise fail_type("inputs_fn", "example", "one function p -> dict of inputs", inputs_fn)
    if not inputs_fn and not inputs:
        raise fail_type("inputs", "example", "the claim's inputs by name (u=..., v=...)", inputs)
    entry = inputs_fn[0] if inputs_fn else dict(inputs)

    def decorate(target: Any) -> Any:
        # a Claim (duck-typed: this module sits below engine.claim, which imports it)
        if hasattr(target, "examples") and hasattr(target, "kind_spec"):
            # Claims are frozen for users; the decorator is part of defining one.
            object.__setattr__(target, "examples", (entry,) + tuple(target.examples))
            return target
        if not callable(target):
            raise fail_type("function", "example", "a claim or the claim's evaluator", target)
        setattr(target, _ATTR, (entry,) + tuple(getattr(target, _ATTR, ())))
        return target

    return decorate


def pending_examples(fn: Any) -> tuple:
    """Examples attached to an evaluator by ``@example`` below ``@claim``."""
    return tuple(getattr(fn, _ATTR, ()))


def claim_examples(claim: Any, p: Any, spaces: Mapping[str, Any]) -> tuple[list[dict], int]:
    """The claim's examples at params ``p`` as numpy inputs, and how many were skipped
    (arrays whose shapes are not those of the spaces at ``p``).

    Raises
    ------
    ClaimError
        An example that does not name exactly the claim's inputs, or lies outside its space.
    """
    out: list[dict] = []
    skipped = 0
    for i, entry in enumerate(getattr(claim, "examples", ()) or (), start=1):
        try:
            values = entry(p) if callable(entry) else entry
        except Exception as exc:
            raise ClaimError(claim.id, f"example {i} raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(values, Mapping):
            raise ClaimError(claim.id, f"example {i} must give a dict of inputs; got {values!r}")
        if set(values) != set(spaces):
            raise ClaimError(claim.id, f"example {i} names the inputs {sorted(values)}; the claim's inputs "
                                       f"are {sorted(spaces)}")
        inputs = {}
        for name, space in spaces.items():
            arr = np.asarray(values[name])
            arr = arr.astype(np.int64) if np.issubdtype(arr.dtype, np.integer) else arr.astype(np.float64)
            inputs[name] = arr
        if any(tuple(inputs[k].shape) != tuple(s.shape) for k, s in spaces.items()):
            skipped += 1
            continue
        for name, space in spaces.items():
            if not space.contains(inputs[name]):
                raise ClaimError(claim.id, f"example {i}: input {name!r} is not in its space {space!r}")
        out.append(inputs)
    return out, skipped


def example_points(ctx: Any) -> list[tuple]:
    """The optimising kinds' share: ``("example", index, inputs, float value)`` per example at
    ``ctx.params``, judged like the claim's witness (a value below the claimed optimum is
    confirmed in high precision and refutes)."""
    from .evaluation import call_evaluator

    examples, _skipped = claim_examples(ctx.claim, ctx.params, ctx.spaces)
    out = []
    for i, inputs in enumerate(examples):
        value = float(call_evaluator(ctx.claim, inputs, ctx.params, mode="numpy"))
        out.append(("example", -2 - i, inputs, value))
    return out


def run_examples(search: Any) -> None:
    """The search's first phase: judge every explicit example (``search`` is the running search)."""
    examples, skipped = claim_examples(search.claim, search.p, search.spaces)
    state = search.state
    state.examples_skipped = skipped
    state.examples = []
    if not examples:
        return
    state.tried.setdefault("example", 0)
    for inputs in examples:
        if state.confirmed is not None:
            break
        before = state.tried["example"]
        rel = search.consider(inputs, "example")
        kept = state.tried["example"] > before
        state.examples.append({"relative_slack": rel, "discarded": not kept})
    search.flush_pending()


def note_discarded(state: Any, phase: str) -> None:
    """Count an input ``assume()`` discarded in ``phase``."""
    state.discarded = getattr(state, "discarded", 0) + 1


def domain_evidence(state: Any) -> dict:
    """Evidence about examples and discarded inputs (nothing when there were none)."""
    out: dict[str, Any] = {}
    if getattr(state, "discarded", 0):
        out["discarded"] = state.discarded
    if getattr(state, "examples", None):
        out["examples"] = list(state.examples)
    if getattr(state, "examples_skipped", 0):
        out["examples_skipped"] = state.examples_skipped
    return out


def all_discarded_reason(state: Any) -> str | None:
    """Why the claim is VACUOUS when ``assume()`` discarded every input shown, else None."""
    discarded = getattr(state, "discarded", 0)
    if discarded and state.total == 0:
        return (f"assume() in the evaluator discarded every one of the {discarded} inputs tried: "
                "no input satisfies the claim's assumptions")
    return None
