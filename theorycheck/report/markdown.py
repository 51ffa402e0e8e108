"""Markdown reports, rendered from the JSON results document alone.

For every claim: the statement, the citation (full reference and a BibTeX block), the
verdict, the evidence numbers, the counterexample as Python that can be pasted into a
session to re-evaluate the claim, the command that reproduces the run, and each
ablation with its own counterexample. The document ends with the package versions.

Because the input is the plain JSON dict (``RunResults.to_dict()`` or a file read by
:func:`theorycheck.report.json_report.read_json`), a saved run re-renders identically
without recomputation and without the claim being importable.

Examples
--------
>>> doc = {"schema_version": 1, "theorycheck_version": "0.1.0", "seed": 0,
...        "command": "theorycheck check f.py", "claims": [], "versions": {}}
>>> render_markdown(doc).splitlines()[0]
'# theorycheck report'
"""

from __future__ import annotations

import math
import re
import numbers
import re
from typing import Any, Iterable, Mapping

from ..engine.snippet import counterexample_python as snippet_python

__all__ = [
    "render_markdown",
    "render_claim",
    "summary_rows",
    "summary_numbers",
    "format_number",
    "counterexample_python",
    "write_markdown",
    "params_text",
    "md_text",
    "parsed_number",
    "number_text",
]

_VERDICT_MARK = {"HOLDS": "HOLDS", "REFUTED": "**REFUTED**", "VACUOUS": "VACUOUS",
                 "INCONCLUSIVE": "*INCONCLUSIVE*"}


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------

def format_number(value: Any, digits: int = 6) -> str:
    """Short text for a number: ``%.{digits}g`` for floats, ints as they are, others by ``str``."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.{digits}g}"
    if isinstance(value, (list, tuple)):
        if len(value) <= 4 and all(isinstance(v, numbers.Real) for v in value):
            return "[" + ", ".join(format_number(v, digits) for v in value) + "]"
        return f"[{len(value)} values]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {format_number(v, digits)}" for k, v in list(value.items())[:4]) + (
            ", ...}" if len(value) > 4 else "}")
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parsed_number(value: Any) -> float | None:
    """A number of the document as the schema types it (a JSON number, or "inf", "-inf", "nan"),
    parsed to a float; None for anything else (text where a number belongs is never shown)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in ("inf", "-inf", "nan"):
        return float(value.strip().lower())
    return None


def number_text(value: Any, digits: int = 12) -> str:
    """:func:`format_number` of :func:`parsed_number` (``"?"`` when the value is not a number)."""
    parsed = parsed_number(value)
    if parsed is None:
        return "?"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    return format_number(parsed, digits)


def params_text(params: Any, digits: int = 6) -> str:
    """``"K=10, h=9, rho=1"``: parameters as one line ('' for none or a non-mapping)."""
    if not isinstance(params, Mapping):
        return ""
    return ", ".join(f"{k}={format_number(v, digits)}" for k, v in params.items())


def summary_numbers(claim: Mapping[str, Any], limit: int = 4) -> list[tuple[str, Any]]:
    """The evidence entries a table shows for ``claim``: its ``summary_keys`` (in order), or
    else its first few scalar numeric entries."""
    evidence = claim.get("evidence") or {}
    keys = [k for k in (claim.get("summary_keys") or []) if k in evidence]
    if not keys:
        keys = [k for k, v in evidence.items()
                if isinstance(v, numbers.Real) and not isinstance(v, bool)][:limit]
    out = [(k, evidence[k]) for k in keys]
    cx = claim.get("counterexample")
    if isinstance(cx, Mapping) and "margin" in cx and not any(k == "margin" for k, _ in out):
        out.append(("margin", parsed_number(cx["margin"])))
    shrunk = counterexample_sizes(claim)
    if shrunk:
        out.append(("counterexample_sizes", shrunk))
    return out


def counterexample_sizes(claim: Mapping[str, Any]) -> dict | None:
    """``{"N": 2, "K": 2}`` when the counterexample lives at other sizes than the claim was
    judged at (shrinking made them smaller), else None. Tables show it beside the margin,
    which was measured at those sizes."""
    cx = claim.get("counterexample")
    params = claim.get("params") or {}
    if not isinstance(cx, Mapping) or not isinstance(cx.get("params"), Mapping):
        return None
    changed = {k: v for k, v in cx["params"].items() if k in params and params[k] != v}
    return changed or None


def _summary_text(claim: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={format_number(v, 4)}" for k, v in summary_numbers(claim))


def summary_rows(doc: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """``(claim id, verdict, key numbers, time)`` for each claim: the table ``verify`` prints."""
    rows = []
    for claim in doc.get("claims", []):
        seconds = claim.get("seconds")
        time_text = f"{float(seconds):.1f}s" if isinstance(seconds, numbers.Real) else str(seconds or "")
        rows.append((str(claim.get("id", "")), str(claim.get("verdict", "")).upper(),
                     _summary_text(claim), time_text))
    return rows


# --------------------------------------------------------------------------------------
# Counterexample as Python: the one snippet builder lives in the engine (theorycheck.engine.snippet)
# --------------------------------------------------------------------------------------

def counterexample_python(claim: Mapping[str, Any], counterexample: Mapping[str, Any] | None = None,
                          *, dropped: str | None = None) -> str:
    """Python source that rebuilds a counterexample's inputs and evaluates the claim on them
    (:func:`theorycheck.engine.snippet.counterexample_python`, told by the claim's kind
    whether the evaluator returns ``(lhs, rhs)`` or one value)."""
    from ..engine.kinds import KINDS

    spec = KINDS.get(str(claim.get("kind", "")))
    return snippet_python(claim, counterexample, dropped=dropped,
                          pair=None if spec is None else spec.returns_pair)


# --------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------

def _sentence(text: str) -> str:
    # str.capitalize would lower-case parameter names such as K and N
    return text[:1].upper() + text[1:] + "."


# '<' starts raw HTML in Markdown only before a letter, '/', '!' or '?': escaping just
# those keeps formulas such as "a <= b" readable in the .md file while no tag survives
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")


def md_text(text: Any) -> str:
    """Text from a results document made inert for Markdown: no raw HTML, one line."""
    return _HTML_START.sub("&lt;", " ".join(str(text).split()))


def _code(text: Any) -> str:
    """A code span of ``text`` (literal in Markdown), or escaped text where a span cannot hold it."""
    text = " ".join(str(text).split())
    if "`" in text or _HTML_START.search(text):  # a tag in a code span is literal, but not to every renderer
        return md_text(text)
    return f"`{text}`"


def _md_escape(text: str) -> str:
    return _HTML_START.sub("&lt;", str(text).replace("|", "\\|").replace("\n", " "))


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(_md_escape(c) for c in row) + " |")
    return lines


def _code_language(text: str) -> str:
    """``"sh"`` for a command line (``theorycheck ...``), else ``"python"`` (the pytest
    helpers reproduce with a Python call): a block is labelled as what it holds."""
    return "sh" if re.match(r"\s*(theorycheck|python|pytest)(\s|$)", text) else "python"


def _fence(text: str, lang: str = "") -> list[str]:
    # longer than any run of backticks inside: the block cannot be closed from within
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + lang, text.rstrip("\n"), fence]


def _reference(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    refs = doc.get("references") or {}
    if key in refs:
        return refs[key]
    try:  # a document written without the references table: fall back to the shipped ones
        from ..citations import get

        return get(key).to_dict()
    except Exception:  # noqa: BLE001 - an unknown key is shown as-is, never a crash
        return {"key": key, "text": key, "bibtex": ""}


def _evidence_rows(evidence: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), format_number(v, 8)) for k, v in evidence.items()]


def render_claim(claim: Mapping[str, Any], doc: Mapping[str, Any] | None = None, *, level: int = 2) -> str:
    """Markdown section for one claim entry of a results document."""
    doc = doc or {}
    h = "#" * level
    verdict = str(claim.get("verdict", "")).upper()
    lines = [f"{h} {md_text(claim.get('id', ''))}: {md_text(verdict)}", ""]
    if claim.get("statement"):
        lines += [f"**Statement.** {md_text(claim['statement'])}", ""]
    if isinstance(claim.get("statement_latex"), str) and claim["statement_latex"].strip():
        lines += ["$$", md_text(claim["statement_latex"]).replace("$", "\\$"), "$$", ""]
    cited = [md_text(_reference(doc, key).get("short") or key) for key in claim.get("cite") or []]
    if cited:
        lines += [f"**Source.** {'; '.join(cited)} (full references below).", ""]
    meta = []
    if claim.get("kind"):
        meta.append(f"kind {_code(claim['kind'])}")
    params = claim.get("params") or {}
    if isinstance(params, Mapping) and params:
        meta.append("parameters " + ", ".join(_code(f"{k}={format_number(v, 10)}") for k, v in params.items()))
    seconds = claim.get("seconds")
    if isinstance(seconds, numbers.Real):
        meta.append(f"judged in {float(seconds):.2f} s")
    if claim.get("proved_exactly"):
        meta.append("proved exactly (symbolic)")
    if meta:
        lines += [_sentence("; ".join(meta)), ""]
    from .labels import inconclusive_reason, strength

    why = inconclusive_reason(claim, 200)
    lines += [f"**Verdict: {md_text(verdict)}**; strength: {md_text(strength(claim))}"
              + (f"; why: {md_text(why)}" if why else "") + ".", ""]

    evidence = claim.get("evidence") or {}
    if evidence:
        lines += ["**Evidence.**", ""] + _table(["quantity", "value"], _evidence_rows(evidence)) + [""]

    cx = claim.get("counterexample")
    if isinstance(cx, Mapping):
        lines += _counterexample_block(claim, cx, title="**Counterexample**")

    ablations = claim.get("ablations") or []
    if ablations:
        lines += ["**Ablations** (each assumption dropped in turn).", ""]
        rows = []
        for abl in ablations:
            acx = abl.get("counterexample")
            margin = number_text(acx.get("margin"), 6) if isinstance(acx, Mapping) else ""
            rows.append((_code(abl.get('dropped', '')), str(abl.get("verdict", "")).upper(), margin))
        lines += _table(["dropped assumption", "verdict", "counterexample margin"], rows) + [""]
        for abl in ablations:
            acx = abl.get("counterexample")
            if isinstance(acx, Mapping):
                lines += _counterexample_block(claim, acx, title=f"*Without {_code(abl.get('dropped', ''))}*",
                                               dropped=str(abl.get("dropped", "")))

    if claim.get("reproduce"):
        reproduce = str(claim["reproduce"])
        lang = _code_language(reproduce)
        label = "**Reproduce.**" if lang == "sh" else "**Reproduce (Python).**"
        lines += [label, ""] + _fence(reproduce, lang) + [""]

    for key in claim.get("cite") or []:
        ref = _reference(doc, key)
        lines += [f"**Reference** {_code(key)}: {md_text(ref.get('text', key))}", ""]
        if ref.get("bibtex"):
            lines += _fence(str(ref["bibtex"]), "bibtex") + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _counterexample_block(claim: Mapping[str, Any], cx: Mapping[str, Any], *, title: str,
                          dropped: str | None = None) -> list[str]:
    facts = []
    for key in ("lhs", "rhs", "margin"):
        if key in cx:
            facts.append(f"{key} = {number_text(cx[key])}")
    digits = cx.get("precision_digits")
    if isinstance(digits, int) and not isinstance(digits, bool):
        facts.append(f"confirmed with {digits} significant digits")
    lines = [f"{title}: " + md_text("; ".join(facts)) + ".", ""]
    shrunk = counterexample_sizes(claim) if cx is claim.get("counterexample") else None
    if shrunk:
        params = claim.get("params") or {}
        lines += [md_text(f"Found at the shrunk sizes {params_text(cx.get('params'))} (the claim was judged at "
                          f"{params_text({k: params[k] for k in shrunk})}); both sides are evaluated at the "
                          "shrunk sizes, the evidence at the stated ones."), ""]
    if cx.get("note"):
        lines += [md_text(cx["note"]), ""]
    # rebuilt from the parsed values: a document's own code text is never pasted
    code = counterexample_python(claim, cx, dropped=dropped)
    lines += _fence(code, "python") + [""]
    return lines


def run_facts(doc: Mapping[str, Any]) -> list[str]:
    """The facts of a run a report states under its command: seed, budget, start, version."""
    facts = [f"seed {doc.get('seed')}"]
    budget = doc.get("budget") or {}
    if budget.get("seconds") is not None:
        facts.append(f"time budget {format_number(budget['seconds'])} s per claim")
    if budget.get("examples") is not None:
        facts.append(f"at most {budget['examples']} examples per claim")
    if doc.get("started"):
        facts.append(f"started {doc['started']}")
    facts.append(f"theorycheck {doc.get('theorycheck_version', '?')}")
    if doc.get("complete") is False:  # streamed or interrupted: say so before any verdict is read
        facts.insert(0, "PARTIAL RESULTS: the run was interrupted or is still going, so claims are missing "
                        "(finish it with --resume)")
    errors = doc.get("errors") or []
    if errors:
        facts.append(f"{len(errors)} claim(s) raised an error and have no verdict: "
                     + ", ".join(str(e.get("id", "?")) for e in errors if isinstance(e, Mapping)))
    return facts


def verdict_counts(doc: Mapping[str, Any]) -> str:
    """``"42 HOLDS, 5 REFUTED, 3 VACUOUS"`` for the claims of a results document ('' if none)."""
    counts: dict[str, int] = {}
    for c in doc.get("claims") or []:
        v = str(c.get("verdict", "")).upper()
        counts[v] = counts.get(v, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))


def render_markdown(doc: Mapping[str, Any], *, title: str = "theorycheck report") -> str:
    """The whole Markdown report for a results document."""
    lines = [f"# {title}", ""]
    command = str(doc.get("command", ""))
    lines += _fence(command, _code_language(command)) + [""]
    lines += [_sentence("; ".join(run_facts(doc))), ""]

    claims = doc.get("claims") or []
    lines += ["## Summary", ""]
    if claims:
        lines += [verdict_counts(doc) + ".", ""]
        lines += _table(["claim", "verdict", "key numbers", "time"],
                        [(_code(cid), _VERDICT_MARK.get(v, md_text(v)), nums, t)
                         for cid, v, nums, t in summary_rows(doc)]) + [""]
    else:
        lines += ["No claims were judged.", ""]

    for claim in claims:
        lines.append(render_claim(claim, doc, level=2))

    versions = doc.get("versions") or {}
    lines += ["## Environment", ""]
    if doc.get("platform"):
        lines += [f"Platform: {_code(doc['platform'])}.", ""]
    if versions:
        lines += _table(["package", "version"], [(k, str(v)) for k, v in versions.items()]) + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_markdown(doc: Any, path: str) -> str:
    """Render ``doc`` (a RunResults or its dict) to ``path``; returns the path."""
    import os

    from .json_report import _encode_floats

    doc = doc.to_dict() if hasattr(doc, "to_dict") else doc
    from .durable import atomic_write_text

    text = render_markdown(_encode_floats(doc))
    return atomic_write_text(path, text)
