"""LaTeX reports: a booktabs table of the claims and one paragraph per claim, for a paper's appendix.

:func:`render_latex` turns a results document into a complete LaTeX document (``article``
with ``booktabs``, ``longtable``, ``amsmath``, ``amssymb`` and ``graphicx``, all in a
minimal TeX installation such as Debian's ``texlive-latex-base`` plus
``texlive-latex-recommended``). The table lists every claim with its parameters,
verdict, strength, key figure and time; then each claim gets a paragraph: the statement
(typeset from its LaTeX statement), the source, the verdict and the counterexample with
the sizes it was found at.

A results document is data from anywhere. Text from it is escaped
(:func:`theorycheck._bibtex.escape_text`); a LaTeX statement is typeset only when it is
made of an allow-list of math commands and characters (so ``\\input`` or ``\\write`` in a
document never reaches TeX), otherwise it is shown as escaped text.

Examples
--------
>>> doc = {"schema_version": 1, "theorycheck_version": "0.1.0", "seed": 0,
...        "command": "theorycheck verify all", "claims": []}
>>> render_latex(doc).startswith("\\\\documentclass")
True
>>> safe_math(r"\\frac{1}{K-1}"), safe_math(r"\\input{/etc/passwd}")
(True, False)
"""

from __future__ import annotations

import math
import numbers
import os
import re
from typing import Any, Mapping, Sequence

from .._bibtex import escape_text
from .labels import inconclusive_reason, strength
from .markdown import _reference, counterexample_sizes, format_number, params_text, run_facts, verdict_counts

__all__ = ["render_latex", "write_latex", "safe_math", "MATH_COMMANDS"]

#: Control sequences a statement may use to be typeset (the shipped statements use these).
MATH_COMMANDS = frozenset({
    "frac", "tfrac", "dfrac", "sqrt", "sum", "prod", "int", "log", "exp", "min", "max", "inf", "sup", "lim",
    "cos", "sin", "operatorname", "mathrm", "mathbf", "mathbb", "mathcal", "text", "textrm", "bar", "hat",
    "tilde", "top", "le", "ge", "leq", "geq", "ne", "neq", "approx", "propto", "sim", "in", "subseteq",
    "subset", "cdot", "cdots", "dots", "ldots", "times", "infty", "forall", "exists", "implies", "iff", "to",
    "mid", "quad", "qquad", "langle", "rangle", "left", "right", "bigl", "bigr", "Bigl", "Bigr", "biggl",
    "biggr", "big", "Big", "succeq", "preceq", "star", "ast", "perp", "partial", "nabla", "pm", "mp",
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "lambda", "mu",
    "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta",
    "Theta", "Lambda", "Sigma", "Phi", "Psi", "Omega", "ell", "lVert", "rVert", "lvert", "rvert", "vert",
    "Vert", "{", "}", ",", ";", "!", " ", "|",
})
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_MATH_CHARS = re.compile(r"^[A-Za-z0-9\s\\^_{}()\[\]+\-=<>|,.;:!'/*]*$")

_VERDICT_TEX = {"HOLDS": "holds", "REFUTED": r"\textbf{refuted}", "VACUOUS": r"\textit{vacuous}",
                "INCONCLUSIVE": r"\textit{inconclusive}"}


def safe_math(tex: Any) -> bool:
    """Whether ``tex`` is safe to typeset: allow-listed commands and characters, balanced braces."""
    if not isinstance(tex, str) or not tex.strip() or len(tex) > 4000 or not _MATH_CHARS.match(tex):
        return False
    if any(name not in MATH_COMMANDS for name in _COMMAND.findall(tex)):
        return False
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0


# the default OT1 text font has no '<', '>' or '|' (they print as other glyphs): math mode
_OT1 = {"<": "$<$", ">": "$>$", "|": "$|$"}


def _t(value: Any) -> str:
    return "".join(_OT1.get(ch, ch) for ch in escape_text(str(value)))


def _tt(value: Any) -> str:
    return r"\texttt{" + escape_text(str(value)) + "}"


def _number(value: Any) -> str:
    """A number of the document, parsed: the schema's number (or inf/nan), anything else a dash."""
    if isinstance(value, bool):
        return "--"
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return r"$\infty$" if v > 0 else r"$-\infty$"
        return _t(format_number(v, 10))
    if isinstance(value, str) and value.strip().lower() in ("inf", "-inf", "nan"):
        return {"inf": r"$\infty$", "-inf": r"$-\infty$", "nan": "NaN"}[value.strip().lower()]
    return "--"


def _seconds(claim: Mapping[str, Any]) -> str:
    seconds = claim.get("seconds")
    if isinstance(seconds, numbers.Real) and not isinstance(seconds, bool) and math.isfinite(float(seconds)):
        return f"{float(seconds):.1f}"
    return "--"


def _figure_env(fig: Any, folder: str) -> list[str]:
    path = f"{folder.rstrip('/')}/{fig.filename}"
    return [r"\begin{figure}[htbp]", r"\centering",
            r"\includegraphics[width=\linewidth]{" + escape_text(path).replace(r"\_", "_") + "}",
            r"\caption{" + _t(fig.caption) + "}", r"\label{fig:" + _label(fig.name) + "}", r"\end{figure}"]


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.:-]", "-", str(text))


def render_latex(doc: Mapping[str, Any], *, figures: Sequence[Any] = (), figure_folder: str | None = None,
                 title: str = "theorycheck report") -> str:
    """The results document as a complete LaTeX document.

    Parameters
    ----------
    doc : mapping
        A results document.
    figures : sequence of ReportFigure
        The figures of the document (their names and captions); included with
        ``\\includegraphics`` when ``figure_folder`` is given, else only named.
    figure_folder : str, optional
        Folder, relative to the ``.tex`` file, holding ``<figure name>.png``.
    title : str
        The document's title.

    Returns
    -------
    str
        LaTeX source that compiles with ``pdflatex`` (booktabs, longtable, amsmath,
        amssymb, graphicx).
    """
    claims = [c for c in (doc.get("claims") or []) if isinstance(c, Mapping)]
    per_claim: dict[int, list] = {}
    shared = []
    for fig in figures:
        if getattr(fig, "claim_index", None) is not None:
            per_claim.setdefault(fig.claim_index, []).append(fig)
        else:
            shared.append(fig)
    out = [r"\documentclass[10pt]{article}", r"\usepackage[utf8]{inputenc}",
           r"\usepackage[margin=2cm]{geometry}",
           r"\usepackage{amsmath,amssymb}", r"\usepackage{booktabs,longtable,array}",
           r"\usepackage{graphicx}", r"\providecommand{\tightlist}{}", "",
           r"\title{" + _t(title) + "}", r"\date{}", r"\begin{document}", r"\maketitle", "",
           r"\noindent Command: " + _tt(doc.get("command", "")) + r". \\",
           _t("; ".join(run_facts(doc))) + "."]
    if doc.get("complete") is False:
        out.append(r"\par\noindent\textbf{Partial document:} the run did not finish.")
    out += ["", r"\section*{Summary}"]
    if not claims:
        out.append("No claims were judged.")
    else:
        out.append(_t(verdict_counts(doc)) + ".")
        out += [r"\small", r"\begin{longtable}{@{}>{\raggedright\arraybackslash}p{0.36\linewidth}"
                r">{\raggedright\arraybackslash}p{0.18\linewidth}lllr@{}}",
                r"\toprule", r"Claim & Parameters & Verdict & Strength & Key figure & Time (s) \\", r"\midrule",
                r"\endhead", r"\bottomrule", r"\endfoot"]
        for index, claim in enumerate(claims):
            figs = per_claim.get(index) or []
            key = (r"Fig.~\ref{fig:" + _label(figs[0].name) + "}" if figs and figure_folder
                   else (_tt(figs[0].filename) if figs else "--"))
            verdict = str(claim.get("verdict", "")).upper()
            out.append(" & ".join([
                _tt(claim.get("id", "")) + r"~(\ref{claim:" + str(index) + "})",
                _t(params_text(claim.get("params"))) or "--",
                _VERDICT_TEX.get(verdict, _t(verdict)), _t(strength(claim)).replace("—", "--"), key,
                _seconds(claim)]) + r" \\")
        out += [r"\end{longtable}", r"\normalsize"]
    if shared and figure_folder:
        for fig in shared:
            out += _figure_env(fig, figure_folder)
    out += ["", r"\section*{Claims}"]
    for index, claim in enumerate(claims):
        out += _claim_paragraph(index, claim, doc, per_claim.get(index, []), figure_folder)
    out += ["", r"\end{document}", ""]
    return "\n".join(out)


def _claim_paragraph(index: int, claim: Mapping[str, Any], doc: Mapping[str, Any], figures: Sequence[Any],
                     figure_folder: str | None) -> list[str]:
    verdict = str(claim.get("verdict", "")).upper()
    params = claim.get("params") if isinstance(claim.get("params"), Mapping) else {}
    head = _tt(claim.get("id", "")) + (" (" + _t(params_text(params)) + ")" if params else "")
    out = ["", r"\subsection*{" + str(index + 1) + ". " + head + r"}\label{claim:" + str(index) + "}"]
    tex = claim.get("statement_latex")
    if safe_math(tex):
        out += [r"\[", r"\begin{gathered}" + tex + r"\end{gathered}", r"\]"]
    if isinstance(claim.get("statement"), str) and claim["statement"]:
        out.append(r"\noindent\textit{Statement.} " + _t(claim["statement"]))
    cited = [str(_reference(doc, key).get("text") or key) for key in claim.get("cite") or [] if isinstance(key, str)]
    if cited:
        out.append(r"\par\noindent\textit{Source.} " + _t("; ".join(cited)))
    line = r"\par\noindent\textit{Verdict.} " + _VERDICT_TEX.get(verdict, _t(verdict))
    line += "; strength: " + _t(strength(claim)).replace("—", "--")
    why = inconclusive_reason(claim, 200)
    if why:
        line += "; why: " + _t(why)
    line += "; judged in " + _seconds(claim) + " s."
    out.append(line)
    cx = claim.get("counterexample")
    if isinstance(cx, Mapping):
        text = (r"\par\noindent\textit{Counterexample.} Left side " + _number(cx.get("lhs")) + ", right side "
                + _number(cx.get("rhs")) + ", margin " + _number(cx.get("margin")))
        digits = cx.get("precision_digits")
        if isinstance(digits, int) and not isinstance(digits, bool):
            text += f", confirmed with {digits} significant digits"
        text += ". "
        shrunk = counterexample_sizes(claim)
        if shrunk:
            text += _t(f"Found at the shrunk sizes {params_text(cx.get('params'))} (the claim was judged at "
                       f"{params_text({k: params[k] for k in shrunk if k in params})}); both sides are evaluated "
                       "at the shrunk sizes, the evidence at the stated ones.")
        elif isinstance(cx.get("params"), Mapping) or params:
            text += _t("Found at the claim's stated sizes "
                       f"{params_text(cx.get('params') if isinstance(cx.get('params'), Mapping) else params)}.")
        out.append(text)
    if figure_folder:
        for fig in figures:
            out += _figure_env(fig, figure_folder)
    return out


def write_latex(doc: Mapping[str, Any], path: str | os.PathLike, *, figures: Sequence[Any] = (),
                figure_folder: str | None = None) -> str:
    """Write :func:`render_latex` of ``doc`` to ``path``; returns the path."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(render_latex(doc, figures=figures, figure_folder=figure_folder))
    return path
