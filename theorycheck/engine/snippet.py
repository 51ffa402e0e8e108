"""The pasteable Python snippet of a counterexample: rebuild its inputs, evaluate the claim.

One builder for every place that shows one (``Counterexample.to_python``, the Markdown
and HTML reports, ``theorycheck check``). It works on the JSON form of a claim entry and
its counterexample, so a saved run renders the same snippet as a live one.

A results document is data from anywhere: every value reaches the snippet only as a
Python literal built from its parsed type (``repr`` of a float, an int, a bool, a string
literal for a name), never as pasted text, so a newline inside a field cannot add a line
of code. Numbers that are not numbers (a string where the schema wants a float) become
``None``.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

_ID = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_\-]+)+$")  # the claim id pattern of engine.claim

__all__ = ["counterexample_python"]


def _py_number(value: Any) -> str:
    """A number of the document as a Python literal; anything else as ``None``."""
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("inf", "+inf", "infinity"):
            return "np.inf"
        if low in ("-inf", "-infinity"):
            return "-np.inf"
        if low == "nan":
            return "np.nan"
        return "None"  # text where a number belongs: never pasted into code
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        return repr(float(value))  # shortest repr round-trips exactly: the pasted input is the found one
    return "None"


def _comment_number(value: Any) -> str:
    """A number for a ``# report:`` comment: parsed, never the document's text."""
    text = _py_number(value)
    return {"np.inf": "inf", "-np.inf": "-inf", "np.nan": "nan"}.get(text, text)


def _literal(value: Any) -> Any:
    """A copy of a parameter value holding only JSON scalars (strings stay string literals)."""
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_literal(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _literal(v) for k, v in value.items()}
    return None


def _py_nested(value: Any, indent: int) -> str:
    if isinstance(value, list):
        if value and all(isinstance(v, list) for v in value):
            pad = " " * (indent + 1)
            inner = (",\n" + pad).join(_py_nested(v, indent + 1) for v in value)
            return "[" + inner + "]"
        return "[" + ", ".join(_py_number(v) for v in value) + "]"
    return _py_number(value)


def _py_value(value: Any, indent: int) -> str:
    if isinstance(value, list):
        # arrays come back from JSON as nested lists; ints stay ints (labels), floats floats
        return "np.array(" + _py_nested(value, indent + len("np.array(")) + ")"
    if isinstance(value, Mapping) and set(value) >= {"shape", "data"}:
        shape = value["shape"] if isinstance(value["shape"], (list, tuple)) else []
        shape = tuple(int(n) if isinstance(n, int) and not isinstance(n, bool) else None for n in shape)
        return f"np.array({_py_nested(value['data'], indent + 9)}).reshape({shape!r})"
    return _py_number(value)


def _load_lines(claim: Mapping[str, Any]) -> list[str]:
    """How the snippet gets hold of the claim object, most specific first."""
    target = claim.get("target")
    if isinstance(target, str) and target:
        return ["from theorycheck.claims import load_claims", "", f"claim = load_claims({target!r})[0]"]
    module, _, name = str(claim.get("origin") or "").partition(":")
    if (module and name.isidentifier() and module != "__main__"
            and not module.startswith(("theorycheck.", "theorycheck_user_"))
            and all(part.isidentifier() for part in module.split("."))):
        return [f"from {module} import {name} as claim", ""]
    cid = str(claim.get("id", ""))
    if not _ID.match(cid):  # not a claim id: nothing of it goes into code
        return ["claim = None  # the document's claim id is not a valid id: load the claim yourself", ""]
    # registry.get imports the shipped claim modules on first use
    return ["from theorycheck.engine.registry import get", "", f"claim = get({str(claim.get('id', ''))!r})"]


def counterexample_python(claim: Mapping[str, Any], counterexample: Mapping[str, Any] | None = None,
                          *, dropped: str | None = None, pair: bool | None = None) -> str:
    """Python source that rebuilds a counterexample's inputs and evaluates the claim on them.

    Parameters
    ----------
    claim : mapping
        The claim's entry in the results document (``id``, ``target``, ``origin``, ``params``, ``kind``).
    counterexample : mapping, optional
        The counterexample object (default: ``claim["counterexample"]``).
    dropped : str, optional
        The assumption dropped in an ablation (noted in a comment).
    pair : bool, optional
        Whether the evaluator returns ``(lhs, rhs)`` (the claim's kind says; the caller asks
        it). None: when the claim entry names no kind and the counterexample has lhs and rhs.
    """
    cx = counterexample if counterexample is not None else claim.get("counterexample")
    if not isinstance(cx, Mapping):
        return ""
    params = cx.get("params") if isinstance(cx.get("params"), Mapping) else claim.get("params") or {}
    lines = ["import numpy as np", "from theorycheck.engine.confirm import mp_evaluate",
             *_load_lines(claim)]
    params = params if isinstance(params, Mapping) else {}
    lines.append(f"p = claim.resolve_params({ {str(k): _literal(v) for k, v in params.items()}!r})")
    lines.append("inputs = {")
    inputs = cx.get("inputs") if isinstance(cx.get("inputs"), Mapping) else {}
    for name, value in inputs.items():
        prefix = f"    {str(name)!r}: "
        lines.append(prefix + _py_value(value, len(prefix)) + ",")
    lines.append("}")
    if dropped:
        lines.append(f"# found with the assumption {str(dropped)!r} dropped")
    digits = cx.get("precision_digits")
    digits = int(digits) if isinstance(digits, int) and not isinstance(digits, bool) and digits > 0 else 60
    if pair is None:
        pair = "lhs" in cx and "rhs" in cx and not claim.get("kind")
    if pair:
        lines.append("print(claim.evaluate(**inputs, p=p))  # (lhs, rhs) in float64")
        lines.append(f"print(mp_evaluate(claim.evaluate, inputs, p, dps={digits}))  # the same in high precision")
        lines.append(f"# report: lhs = {_comment_number(cx.get('lhs'))}, rhs = {_comment_number(cx.get('rhs'))}, "
                     f"margin = {_comment_number(cx.get('margin'))}")
    else:
        lines.append("print(claim.evaluate(**inputs, p=p))  # objective value in float64")
        lines.append(f"print(mp_evaluate(claim.evaluate, inputs, p, dps={digits}))  # the same in high precision")
        lines.append(f"# report: value = {_comment_number(cx.get('lhs'))}, claimed optimum = "
                     f"{_comment_number(cx.get('rhs'))}, margin = {_comment_number(cx.get('margin'))}")
    return "\n".join(lines)
