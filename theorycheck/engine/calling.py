"""How the engine calls a claim's functions: with or without ``p`` / ``active``.

One place decides whether a function takes ``p`` (:func:`accepts_p`); the evaluator
calls of the search, the optimiser and the high-precision confirmation all go through
:func:`invoke` or :func:`theorycheck.engine.evaluation.guarded_evaluator`.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable, Mapping

__all__ = ["accepts_p", "call_flexible", "invoke", "signature_problem"]


def call_flexible(fn: Callable, *args: Any) -> Any:
    """Call ``fn(p, active)`` or ``fn(p)`` depending on how many positionals it takes."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn(*args)
    positional = [
        q for q in sig.parameters.values()
        if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD)
    ]
    takes_var = any(q.kind is q.VAR_POSITIONAL for q in sig.parameters.values())
    if takes_var or len(positional) >= len(args):
        return fn(*args)
    return fn(*args[: len(positional)])


def accepts_p(fn: Callable) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    return "p" in sig.parameters or any(q.kind is q.VAR_KEYWORD for q in sig.parameters.values())


def invoke(fn: Callable, inputs: Mapping[str, Any], p: Any) -> Any:
    """``fn(**inputs, p=p)``; ``p`` is passed only if ``fn`` takes it (or ``**kwargs``)."""
    if accepts_p(fn):
        return fn(**inputs, p=p)
    return fn(**inputs)


def signature_problem(fn: Callable, names: Iterable[str]) -> str | None:
    """None if ``fn`` can be called with keyword arguments ``names`` (and ``p``), else why not."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    kwargs = {n: None for n in names}
    if accepts_p(fn):
        kwargs["p"] = None
    try:
        sig.bind(**kwargs)
    except TypeError as exc:
        name = getattr(fn, "__name__", repr(fn))
        return (f"has an evaluator {name}{sig} that cannot be called with its inputs "
                f"({', '.join(names)}{', p' if accepts_p(fn) else ''}): {exc}")
    return None
