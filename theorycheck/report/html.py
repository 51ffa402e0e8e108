"""Self-contained HTML reports, and the report folder written by ``theorycheck verify all``.

:func:`render_html` turns a results document (``RunResults.to_dict()`` or a file read by
:func:`theorycheck.report.json_report.read_json`) into one HTML file that needs nothing
else: the style sheet is inline, there is no script, and every figure
(:mod:`theorycheck.report.figures`) is embedded as a base64 PNG ``data:`` URI. It holds
what the Markdown report holds (per claim the statement, citation with BibTeX, verdict,
evidence, pasteable counterexample, ablations and reproduce command; the package
versions), plus the figures. Like the Markdown renderer it reads nothing but the
document, so re-rendering a saved run gives the same bytes.

:func:`write_report_folder` writes the four files of a run into one folder:
``results.json``, ``report.md``, ``report.html`` and ``references.bib`` (plus the figures as
``figures/<name>.png`` for use elsewhere).

Examples
--------
>>> doc = {"schema_version": 1, "theorycheck_version": "0.1.0", "seed": 0,
...        "command": "theorycheck verify all", "claims": [], "versions": {}}
>>> render_html(doc).startswith("<!DOCTYPE html>")
True
>>> render_bibtex({"references": {}})
''
"""

from __future__ import annotations

import base64
import html
import json
import numbers
import os
from typing import Any, Mapping, Sequence

from .figures import ReportFigure, figures_by_claim, report_figures, write_figures
from .labels import evidence_label, inconclusive_reason, strength
from .markdown import (_code_language, _reference, counterexample_python, counterexample_sizes, format_number,
                       number_text, params_text, parsed_number, run_facts, summary_numbers, verdict_counts)
from .mathml import latex_to_mathml

__all__ = [
    "render_html",
    "write_html",
    "render_bibtex",
    "write_bibtex",
    "summary_table_rows",
    "write_report_folder",
    "REPORT_FILES",
]

#: The files :func:`write_report_folder` writes, by role.
REPORT_FILES = {"json": "results.json", "markdown": "report.md", "html": "report.html",
                "latex": "report.tex", "bibtex": "references.bib", "figures": "figures"}

#: Above this many claims a report is a summary: per-claim figures are not drawn (the
#: figures over all claims still are, once), and each claim's evidence shows its key
#: numbers only; the full evidence stays in the JSON document.
LARGE_DOCUMENT = 300

_CSS = """
*{box-sizing:border-box}
body{font-family:Georgia,'DejaVu Serif',serif;max-width:74rem;margin:1.5rem auto;padding:0 1rem;color:#111;
line-height:1.45;overflow-wrap:anywhere}
h1,h2,h3{font-family:'Helvetica Neue',Arial,sans-serif;line-height:1.2}
h2{border-bottom:2px solid #111;padding-bottom:.2rem;margin-top:2rem}
h3{margin:.6rem 0 .2rem;font-size:1rem}
code,pre{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.85rem}
pre{background:#f4f4f4;border:1px solid #bbb;padding:.5rem;overflow-x:auto;white-space:pre-wrap;
word-break:break-all;max-width:100%}
table{border-collapse:collapse;margin:.5rem 0;font-size:.88rem;max-width:100%}
th,td{border:1px solid #999;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#e8e8e8}
td.num{font-family:'DejaVu Sans Mono',Menlo,monospace;text-align:right;white-space:nowrap}
.verdict{display:inline-block;padding:0 .4rem;border:1px solid #111;font-family:Arial,sans-serif;
font-size:.8rem;letter-spacing:.04em;white-space:nowrap}
.verdict-HOLDS{background:#fff}
.verdict-REFUTED{background:#111;color:#fff;font-weight:bold}
.verdict-VACUOUS{border-style:dashed}
.verdict-INCONCLUSIVE{border-style:dotted;font-style:italic}
.why{font-size:.8rem;color:#333}
figure{margin:.5rem 0;border:1px solid #ccc;padding:.4rem;display:inline-block;vertical-align:top;
max-width:100%;width:31rem}
figure img{width:100%;height:auto;display:block}
figcaption{font-size:.72rem;line-height:1.25;color:#333}
.meta{color:#333;font-size:.88rem;margin:.2rem 0}
.math{overflow-x:auto;max-width:100%;margin:.4rem 0;font-size:1.05rem}
math[display=block]{display:block;overflow-x:auto;max-width:100%}
.statement{font-size:.9rem;color:#222}
details{margin:.3rem 0}
summary{cursor:pointer;font-family:Arial,sans-serif;font-size:.88rem}
section.claim{border-top:1px solid #bbb;margin-top:.4rem;display:flow-root}
section.claim p{margin:.25rem 0}
section.claim>details{display:inline-block;margin:.1rem 1.2rem .1rem 0}
section.claim>details[open]{display:block}
.figs{float:right;width:18rem;max-width:42%;margin:0 0 .3rem .8rem}
#figures-all figure{width:20.5rem}
table.summary td{line-height:1.25;padding:.1rem .4rem}
section.claim>details.words{display:block;margin-right:0;max-width:100%}
details.words>summary{font-family:inherit;font-size:.88rem;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
details.words[open]>summary{white-space:normal}
.figs figure{width:100%;margin:.2rem 0}
.cx{border-left:4px solid #111;padding:.1rem .7rem;margin:.5rem 0;background:#fafafa}
.key{color:#555;font-size:.75rem}
@media (min-width:701px){table.summary td:first-child{white-space:nowrap;overflow-wrap:normal}}
@media (max-width:700px){
 body{margin:.5rem auto;padding:0 .5rem}
 table.summary thead{display:none}
 table.summary,table.summary tbody,table.summary tr,table.summary td{display:block;width:100%}
 table.summary tr{border:1px solid #999;margin:.3rem 0;padding:.15rem .3rem}
 table.summary td{display:inline;width:auto;border:0;padding:0 .5rem 0 0;font-size:.82rem}
 table.summary td:first-child{display:block}
 table.summary td:nth-child(n+2)::before{content:attr(data-label) ": ";font-family:Arial,sans-serif;color:#444}
 td.num{text-align:left}
 figure{width:100%}
 .figs{float:none;width:100%;max-width:100%;margin:0}
 .math{font-size:.9rem}
}
@media print{
 body{max-width:none;margin:0;font-size:10pt}
 details>summary{display:none}
 details:not([open])>*:not(summary){display:block}
 details{display:block}
 section.claim{break-inside:avoid-page}
 figure{break-inside:avoid;width:48%}
 pre{white-space:pre-wrap}
 details::details-content{content-visibility:visible;display:block}
 a{color:#000;text-decoration:none}
 .verdict-REFUTED{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


# --------------------------------------------------------------------------------------
# Small pieces
# --------------------------------------------------------------------------------------

def _e(value: Any) -> str:
    """Escaped text on one line (a document's newlines never start a line of the page)."""
    return html.escape(" ".join(str(value).split()), quote=True)


def _anchor(index: int, claim_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in claim_id)
    return f"claim-{index}-{safe}"


def _verdict(verdict: Any) -> str:
    name = str(verdict or "").upper()
    return f'<span class="verdict verdict-{_e(name)}">{_e(name)}</span>'


def _pre(text: str, lang: str = "") -> str:
    cls = f' class="language-{_e(lang)}"' if lang else ""
    return f"<pre><code{cls}>{html.escape(str(text).rstrip(), quote=True)}</code></pre>"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[int] = (),
           raw: bool = False, cls: str = "") -> str:
    """An HTML table; cells are escaped unless ``raw`` (then they are HTML already). Each
    cell carries its column name (``data-label``) for the narrow-screen layout."""
    out = [f'<table class="{_e(cls)}">' if cls else "<table>",
           "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            num = ' class="num"' if i in numeric else ""
            label = f' data-label="{_e(header[i])}"' if i < len(header) else ""
            cells.append(f"<td{num}{label}>{cell if raw else _e(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def _figure(fig: ReportFigure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return (f'<figure id="figure-{_e(fig.name)}"><img src="data:image/png;base64,{data}" alt="{_e(fig.title)}">'
            f"<figcaption><b>{_e(fig.title)}.</b> {_e(fig.caption)}</figcaption></figure>")


def _statement_math(claim: Mapping[str, Any]) -> str:
    """The claim's LaTeX statement as MathML ('' when the entry has none)."""
    tex = claim.get("statement_latex")
    if not isinstance(tex, str) or not tex.strip():
        return ""
    return f'<div class="math">{latex_to_mathml(tex)}</div>'


def _verdict_cell(claim: Mapping[str, Any]) -> str:
    verdict = str(claim.get("verdict", "")).upper()
    why = inconclusive_reason(claim, 60)
    return _verdict(verdict) + (f' <span class="why">({_e(why)})</span>' if why else "")


def _evidence_rows(evidence: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label cell, value cell)`` per evidence entry: the reader's words and the raw key."""
    rows = []
    for key, value in evidence.items():
        label = evidence_label(key)
        cell = _e(label) if label == str(key) else f'{_e(label)} <span class="key">{_e(key)}</span>'
        rows.append((cell, _evidence_value(value)))
    return rows


def _evidence_value(value: Any) -> str:
    """A short escaped value; long lists and nested objects go into a collapsed JSON block."""
    short = format_number(value, 8)
    if isinstance(value, (list, dict)) and (short.startswith("[") and "values]" in short or isinstance(value, dict)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=False)
        if len(text) > 4000:
            text = text[:4000] + " ..."
        return f"<details><summary><code>{_e(short)}</code></summary><pre><code>{_e(text)}</code></pre></details>"
    return f"<code>{_e(short)}</code>"


def summary_table_rows(doc: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """``(family, claim id, verdict, key numbers, time)`` per claim: the ``verify all`` table.

    ``family`` is the claim entry's family (or the document's, or ``""``). The key numbers
    are the claim's ``summary_keys`` evidence (and a counterexample's margin), as in the
    Markdown summary.
    """
    rows = []
    for claim in doc.get("claims") or []:
        seconds = claim.get("seconds")
        time_text = f"{float(seconds):.1f}s" if isinstance(seconds, numbers.Real) else str(seconds or "")
        numbers_text = ", ".join(f"{k}={format_number(v, 4)}" for k, v in summary_numbers(claim))
        family = claim.get("family") or (doc.get("family") if doc.get("family") != "all" else "") or ""
        rows.append((str(family), str(claim.get("id", "")), str(claim.get("verdict", "")).upper(), numbers_text,
                     time_text))
    return rows


# --------------------------------------------------------------------------------------
# Claim sections
# --------------------------------------------------------------------------------------

def _sizes_sentence(claim: Mapping[str, Any], cx: Mapping[str, Any]) -> str:
    """Where the counterexample lives: at the claim's stated sizes, or at shrunk ones."""
    params = claim.get("params") if isinstance(claim.get("params"), Mapping) else {}
    shrunk = counterexample_sizes(claim) if cx is claim.get("counterexample") else None
    if shrunk:
        stated = {k: params[k] for k in shrunk if k in params}
        return (f"Found at the shrunk sizes {params_text(cx.get('params'))} (the claim was judged at "
                f"{params_text(stated)}): shrinking keeps a counterexample only while it still breaks the claim, "
                "so a smaller failing case is found. Its left and right sides below are both evaluated at the "
                "shrunk sizes; numbers in the evidence (such as the claimed optimum) are at the stated sizes.")
    sizes = cx.get("params") if isinstance(cx.get("params"), Mapping) else params
    if sizes:
        return f"Found at the claim's stated sizes {params_text(sizes)}."
    return ""


def _counterexample_html(claim: Mapping[str, Any], cx: Mapping[str, Any], title: str,
                         dropped: str | None = None) -> list[str]:
    facts = [f"{key} = {number_text(cx[key])}" for key in ("lhs", "rhs", "margin") if key in cx]
    digits = cx.get("precision_digits")
    if isinstance(digits, int) and not isinstance(digits, bool):
        facts.append(f"confirmed with {digits} significant digits")
    out = ['<div class="cx">', f"<p><b>{_e(title)}</b>: {_e('; '.join(facts))}.</p>"]
    sizes = _sizes_sentence(claim, cx)
    if sizes:
        out.append(f'<p class="meta">{_e(sizes)}</p>')
    if isinstance(cx.get("note"), str) and cx["note"]:
        out.append(f'<p class="meta">{_e(cx["note"])}</p>')
    # always rebuilt from the parsed values: a document's own code text is never shown
    code = counterexample_python(claim, cx, dropped=dropped)
    out.append("<details><summary>Python that re-evaluates it</summary>")
    out.append(_pre(code, "python"))
    out.append("</details></div>")
    return out


def _claim_html(index: int, claim: Mapping[str, Any], doc: Mapping[str, Any],
                figures: Sequence[ReportFigure], *, large: bool = False,
                statements: Mapping[tuple, int] | None = None) -> str:
    cid = str(claim.get("id", ""))
    verdict = str(claim.get("verdict", "")).upper()
    params = claim.get("params") if isinstance(claim.get("params"), Mapping) else {}
    heading = f"<code>{_e(cid)}</code>"
    if params:
        heading += f' <span class="meta">({_e(params_text(params))})</span>'
    out = [f'<section class="claim" id="{_anchor(index, cid)}">', f"<h3>{heading} {_verdict(verdict)}</h3>"]
    if figures:  # floated beside the text on a wide screen, above it on a narrow one
        out.append('<div class="figs">' + "".join(_figure(fig) for fig in figures) + "</div>")
    math = "" if statements is not None else _statement_math(claim)
    if math:
        out.append(math)
    if statements is not None:  # a large document states each distinct statement once
        number = statements.get(_statement_key(claim))
        if number is not None:
            out.append(f'<p class="statement"><b>Statement:</b> <a href="#statement-{number}">S{number}</a>.</p>')
    elif isinstance(claim.get("statement"), str) and claim["statement"]:
        if math:  # the formula states it; the words (with how it is checked) one click away
            out.append(f'<details class="words statement"><summary><b>In words:</b> {_e(claim["statement"])}'
                       "</summary></details>")
        else:
            out.append(f'<p class="statement"><b>Statement.</b> {_e(claim["statement"])}</p>')
    cited = [(key, _reference(doc, key)) for key in claim.get("cite") or [] if isinstance(key, str)]
    meta = []
    if cited:
        meta.append("source " + "; ".join(f'<a href="#ref-{_e(key)}">{_e(ref.get("short") or key)}</a>'
                                          for key, ref in cited))
    if claim.get("family"):
        meta.append(f"family <code>{_e(claim['family'])}</code>")
    if claim.get("kind"):
        meta.append(f"kind <code>{_e(claim['kind'])}</code>")
    seconds = claim.get("seconds")
    if isinstance(seconds, numbers.Real) and not isinstance(seconds, bool):
        meta.append(f"judged in {float(seconds):.2f} s")
    if claim.get("proved_exactly") is True:
        meta.append("proved exactly (symbolic)")
    line = f"<b>Verdict: {_e(verdict)}</b>; strength: {_e(strength(claim))}"
    why = inconclusive_reason(claim, 200)
    if why:
        line += f"; why: {_e(why)}"
    out.append(f'<p class="meta">{line}; {"; ".join(meta)}.</p>' if meta else f"<p>{line}.</p>")

    cx = claim.get("counterexample")
    if isinstance(cx, Mapping):
        out += _counterexample_html(claim, cx, "Counterexample")

    evidence = claim.get("evidence") if isinstance(claim.get("evidence"), Mapping) else {}
    if evidence:
        if large:
            keys = [k for k, _ in summary_numbers(claim) if k in evidence]
            shown = {k: evidence[k] for k in keys}
            out.append(f"<details><summary>Key evidence ({len(shown)} of {len(evidence)} entries; all in the "
                       "JSON document)</summary>")
            out.append(_table(["quantity", "value"], _evidence_rows(shown), raw=True))
        else:
            out.append(f"<details><summary>Evidence ({len(evidence)} entries)</summary>")
            out.append(_table(["quantity", "value"], _evidence_rows(evidence), raw=True))
        out.append("</details>")

    ablations = [a for a in (claim.get("ablations") or []) if isinstance(a, Mapping)]
    if ablations:
        out.append("<p><b>Ablations</b> (each assumption dropped in turn).</p>")
        rows = []
        for abl in ablations:
            acx = abl.get("counterexample")
            rows.append((f"<code>{_e(abl.get('dropped', ''))}</code>", _verdict(abl.get("verdict", "")),
                         _e(number_text(acx.get("margin"), 6)) if isinstance(acx, Mapping) else ""))
        out.append(_table(["dropped assumption", "verdict", "counterexample margin"], rows, numeric=(2,), raw=True))
        for abl in ablations:
            acx = abl.get("counterexample")
            if isinstance(acx, Mapping) and not large:
                out += _counterexample_html(claim, acx, f"Without {abl.get('dropped', '')}",
                                            dropped=str(abl.get("dropped", "")))
    if isinstance(claim.get("reproduce"), str) and claim["reproduce"]:
        out.append("<details><summary>Code that reproduces it</summary>")
        out.append(_pre(claim["reproduce"], _code_language(claim["reproduce"])))  # sh or python
        out.append("</details>")
    out.append("</section>")
    return "\n".join(out)


def _statement_key(claim: Mapping[str, Any]) -> tuple:
    tex = claim.get("statement_latex")
    text = claim.get("statement")
    return (tex if isinstance(tex, str) else "", text if isinstance(text, str) else "")


def _statements_html(claims: Sequence[Mapping[str, Any]]) -> tuple[str, dict[tuple, int]]:
    """Each distinct statement once (MathML and words), numbered S1, S2, ...; claims link to theirs."""
    numbers: dict[tuple, int] = {}
    out = ['<h2 id="statements">Statements</h2>']
    for claim in claims:
        key = _statement_key(claim)
        if key == ("", "") or key in numbers:
            continue
        numbers[key] = len(numbers) + 1
        out.append(f'<div id="statement-{numbers[key]}"><p><b>S{numbers[key]}.</b></p>')
        math = _statement_math(claim)
        if math:
            out.append(math)
        if key[1]:
            out.append(f'<p class="statement">{_e(key[1])}</p>')
        out.append("</div>")
    return "\n".join(out), numbers


def _summary_html(claims: Sequence[Mapping[str, Any]], per_claim: Mapping[int, Sequence[ReportFigure]]) -> str:
    """The summary table: claim (a link), parameters, verdict, strength, key figure, time."""
    rows = []
    for index, claim in enumerate(claims):
        cid = str(claim.get("id", ""))
        figs = per_claim.get(index) or []
        key_fig = (f'<a href="#figure-{_e(figs[0].name)}">{_e(str(figs[0].title).split(":")[0])}</a>' if figs else "—")
        seconds = claim.get("seconds")
        time_text = (f"{float(seconds):.1f} s" if isinstance(seconds, numbers.Real) and not isinstance(seconds, bool)
                     else "")
        params = claim.get("params") if isinstance(claim.get("params"), Mapping) else {}
        rows.append((f'<a href="#{_anchor(index, cid)}"><code>{_e(cid)}</code></a>',
                     _e(params_text(params)) or "—", _verdict_cell(claim), _e(strength(claim)), key_fig,
                     _e(time_text)))
    return _table(["claim", "parameters", "verdict", "strength", "key figure", "time"], rows, numeric=(5,),
                  raw=True, cls="summary")


# --------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------

def render_html(doc: Mapping[str, Any], *, title: str = "theorycheck report",
                figures: Sequence[ReportFigure] | None = None) -> str:
    """The whole report as one self-contained HTML page.

    Parameters
    ----------
    doc : mapping
        A results document (``docs/json-schema.md``).
    title : str
        Page title and first heading.
    figures : sequence of ReportFigure, optional
        Figures to embed (default: :func:`theorycheck.report.figures.report_figures` of
        ``doc``; for a document of more than :data:`LARGE_DOCUMENT` claims only the
        figures over all claims).

    Returns
    -------
    str
        HTML5 text: inline CSS, no script, no external resource; every figure a
        ``data:image/png;base64`` image, statements as MathML. First a summary table (claim,
        parameters, verdict, strength, key figure, time) linking to one section per claim;
        evidence tables are collapsed (``<details>``). A deterministic function of ``doc``.
    """
    claims = [c for c in (doc.get("claims") or []) if isinstance(c, Mapping)]
    large = len(claims) > LARGE_DOCUMENT
    if figures is None:
        figures = report_figures(doc, include=_SHARED_FIGURES if large else None)
    figures = list(figures)
    per_claim, shared = figures_by_claim(figures)

    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{_e(title)}</h1>", _pre(str(doc.get("command", "")), _code_language(str(doc.get("command", ""))))]
    out.append(f'<p class="meta">{_e("; ".join(run_facts(doc)))}.</p>')
    if doc.get("complete") is False:
        out.append("<p><b>Partial document:</b> the run did not finish; the claims below are those judged "
                   "before it stopped.</p>")
    options = doc.get("options") or {}
    skipped = options.get("skipped_empirical") if isinstance(options, Mapping) else None
    if isinstance(skipped, list) and skipped:
        out.append(f'<p class="meta">Empirical claims not run (add <code>--empirical</code>): '
                   f'{", ".join(f"<code>{_e(s)}</code>" for s in skipped)}.</p>')

    out.append('<h2 id="summary">Summary</h2>')
    if claims:
        out.append(f"<p>{_e(verdict_counts(doc))}.</p>")
        if large:
            out.append(f"<p>{len(claims)} claims: a summary report. Each distinct statement is written once "
                       "(section Statements) and linked from its claims; per-claim figures are not drawn, only "
                       "the figures over all claims; each claim shows its key evidence only. The full evidence "
                       "of every claim is in the JSON document.</p>")
        out.append(_summary_html(claims, per_claim))
    else:
        out.append("<p>No claims were judged.</p>")

    if shared:
        out.append('<h2 id="figures">Figures</h2>')
        out.append('<div id="figures-all">' + "".join(_figure(fig) for fig in shared) + "</div>")

    statements = None
    if large:
        text, statements = _statements_html(claims)
        out.append(text)
    out.append('<h2 id="claims">Claims</h2>')
    for index, claim in enumerate(claims):
        out.append(_claim_html(index, claim, doc, per_claim.get(index, []), large=large, statements=statements))

    keys: list[str] = []
    for claim in claims:
        for key in claim.get("cite") or []:
            if isinstance(key, str) and key not in keys:
                keys.append(key)
    if keys:
        out.append('<h2 id="references">References</h2>')
        for key in keys:
            ref = _reference(doc, key)
            out.append(f'<div id="ref-{_e(key)}"><p><code>{_e(key)}</code>: {_e(ref.get("text", key))}</p>')
            if ref.get("bibtex"):
                out.append("<details><summary>BibTeX</summary>")
                out.append(_pre(str(ref["bibtex"]), "bibtex"))
                out.append("</details>")
            out.append("</div>")

    out.append('<h2 id="environment">Environment</h2>')
    if doc.get("platform"):
        out.append(f"<p>Platform: <code>{_e(doc['platform'])}</code>.</p>")
    versions = doc.get("versions") or {}
    if isinstance(versions, Mapping) and versions:
        out.append(_table(["package", "version"], [(k, str(v)) for k, v in versions.items()]))
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


#: The figures drawn for a document above :data:`LARGE_DOCUMENT` claims: the summaries over all
#: claims whose size does not grow with their number (``informativeness`` draws one bar per
#: claim, so it is left out there; its numbers are in each claim's key evidence and the JSON).
_SHARED_FIGURES = ("ufm-success", "imbalance-angles")


def _as_doc(results: Any) -> dict:
    """A plain JSON document from a RunResults or a dict (floats encoded as in the JSON file)."""
    from .json_report import to_json

    return json.loads(to_json(results))


def _write_text(text: str, path: str | os.PathLike) -> str:
    from .durable import atomic_write_text

    return atomic_write_text(os.fspath(path), text)


def write_html(results: Any, path: str | os.PathLike, *, title: str = "theorycheck report") -> str:
    """Render ``results`` (a RunResults or its document) to ``path``; returns the path."""
    return _write_text(render_html(_as_doc(results), title=title), path)


def render_bibtex(doc: Mapping[str, Any]) -> str:
    """The BibTeX entries of every reference cited in ``doc``, in citation order, blank-line separated.

    Uses the document's ``references`` table (so a user's own ``Reference`` is included);
    keys missing from it fall back to the shipped references.
    """
    keys: list[str] = []
    for claim in doc.get("claims") or []:
        for key in claim.get("cite") or []:
            if key not in keys:
                keys.append(key)
    for key in (doc.get("references") or {}):
        if key not in keys:
            keys.append(key)
    entries = [str(_reference(doc, key).get("bibtex") or "").strip() for key in keys]
    entries = [e for e in entries if e]
    return "\n\n".join(entries) + ("\n" if entries else "")


def write_bibtex(results: Any, path: str | os.PathLike) -> str:
    """Write :func:`render_bibtex` of ``results`` to ``path``; returns the path."""
    return _write_text(render_bibtex(_as_doc(results)), path)


def write_report_folder(results: Any, folder: str | os.PathLike, *, figures: bool = True,
                        figure_formats: Sequence[str] | str = ("png", "svg")) -> dict[str, str]:
    """Write ``results.json``, ``report.md``, ``report.html``, ``report.tex``, ``references.bib``
    (and the figures as ``figures/<name>.png`` at 300 dpi and ``.svg``, or the ``figure_formats``
    asked for: any of ``png``, ``svg``, ``pdf``) into ``folder``.

    Every file is rendered from the JSON document as written, so
    ``theorycheck report folder/results.json -o x.html`` (or ``-o x.md``) reproduces
    ``report.html`` (``report.md``) byte for byte.

    Returns
    -------
    dict
        Role (``json``, ``markdown``, ``html``, ``latex``, ``bibtex``, ``figures``) -> path written.
    """
    from .json_report import write_json
    from .markdown import render_markdown

    from .._validation import fail

    from .durable import Manifest, check_out_folder

    folder = check_out_folder(folder)  # a folder, or creatable, and writable (probed, not os.access)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise fail("--out", "theorycheck verify all", f"a folder that can be created ({exc.strerror})",
                   folder) from None

    doc = _as_doc(results)
    manifest = Manifest(folder)  # the files theorycheck wrote here: the only ones it may delete
    paths = {"json": write_json(doc, os.path.join(folder, REPORT_FILES["json"]))}
    paths["markdown"] = _write_text(render_markdown(doc), os.path.join(folder, REPORT_FILES["markdown"]))
    from .latex import render_latex

    claims = [c for c in (doc.get("claims") or []) if isinstance(c, Mapping)]
    figs = report_figures(doc, include=_SHARED_FIGURES if len(claims) > LARGE_DOCUMENT else None,
                          formats=figure_formats if figures else ("png",))
    paths["html"] = _write_text(render_html(doc, figures=figs), os.path.join(folder, REPORT_FILES["html"]))
    paths["latex"] = _write_text(render_latex(doc, figures=figs, figure_folder=REPORT_FILES["figures"]),
                                 os.path.join(folder, REPORT_FILES["latex"]))
    paths["bibtex"] = _write_text(render_bibtex(doc), os.path.join(folder, REPORT_FILES["bibtex"]))
    fig_folder = os.path.join(folder, REPORT_FILES["figures"])
    written = [paths["json"], paths["markdown"], paths["html"], paths["latex"], paths["bibtex"]]
    if figures and figs:
        written += write_figures(doc, fig_folder, figs, formats=figure_formats)
        paths["figures"] = fig_folder
    _remove_stale_figures(manifest, written)
    manifest.add(written)
    return paths


def _remove_stale_figures(manifest: Any, written: list) -> None:
    """Delete the figures an earlier run wrote (listed in the folder's manifest) that this run
    did not write again, so the folder holds exactly this run's figures; a file no
    theorycheck run wrote (``figures/traces-old.png`` of the user's) is never touched."""
    fresh = {os.path.relpath(os.path.abspath(p), os.path.abspath(manifest.folder)).replace(os.sep, "/")
             for p in written}
    for rel in list(manifest.files):
        if rel.startswith(REPORT_FILES["figures"] + "/") and rel not in fresh:
            try:
                os.remove(os.path.join(manifest.folder, *rel.split("/")))
            except OSError:
                pass
            manifest.discard(rel)
