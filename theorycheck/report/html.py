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
from .markdown import _reference, counterexample_python, format_number, run_facts, summary_numbers, verdict_counts

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
                "bibtex": "references.bib", "figures": "figures"}

_CSS = """
body{font-family:Georgia,'DejaVu Serif',serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#111;
line-height:1.45}
h1,h2,h3{font-family:'Helvetica Neue',Arial,sans-serif}
h2{border-bottom:2px solid #111;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin-top:2rem}
code,pre{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.85rem}
pre{background:#f4f4f4;border:1px solid #bbb;padding:.6rem;overflow-x:auto;white-space:pre}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #888;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#e8e8e8}
td.num{font-family:'DejaVu Sans Mono',Menlo,monospace;text-align:right}
.verdict{display:inline-block;padding:0 .45rem;border:1px solid #111;font-family:Arial,sans-serif;
font-size:.85rem;letter-spacing:.04em}
.verdict-HOLDS{background:#fff}
.verdict-REFUTED{background:#111;color:#fff;font-weight:bold}
.verdict-VACUOUS{border-style:dashed}
.verdict-INCONCLUSIVE{border-style:dotted;font-style:italic}
figure{margin:1rem 0;border:1px solid #ccc;padding:.5rem}
figure img{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#333}
.meta{color:#333;font-size:.9rem}
details{margin:.4rem 0}
nav ul{columns:2;font-size:.9rem}
"""


# --------------------------------------------------------------------------------------
# Small pieces
# --------------------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _anchor(index: int, claim_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in claim_id)
    return f"claim-{index}-{safe}"


def _verdict(verdict: Any) -> str:
    name = str(verdict or "").upper()
    return f'<span class="verdict verdict-{_e(name)}">{_e(name)}</span>'


def _pre(text: str, lang: str = "") -> str:
    cls = f' class="language-{_e(lang)}"' if lang else ""
    return f"<pre><code{cls}>{_e(str(text).rstrip())}</code></pre>"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[int] = (),
           raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then they are HTML already)."""
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            cells.append(f"<td{cls}>{cell if raw else _e(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def _figure(fig: ReportFigure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return (f'<figure id="figure-{_e(fig.name)}"><img src="data:image/png;base64,{data}" alt="{_e(fig.title)}">'
            f"<figcaption><b>{_e(fig.title)}.</b> {_e(fig.caption)}</figcaption></figure>")


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

def _counterexample_html(claim: Mapping[str, Any], cx: Mapping[str, Any], title: str,
                         dropped: str | None = None) -> list[str]:
    facts = [f"{key} = {format_number(cx[key], 12)}" for key in ("lhs", "rhs", "margin") if key in cx]
    if cx.get("precision_digits") is not None:
        facts.append(f"confirmed with {cx['precision_digits']} significant digits")
    out = [f"<p><b>{_e(title)}</b>: {_e('; '.join(facts))}.</p>"]
    if cx.get("note"):
        out.append(f"<p>{_e(cx['note'])}</p>")
    code = cx.get("python") or counterexample_python(claim, cx, dropped=dropped)
    out.append(_pre(code, "python"))
    return out


def _claim_html(index: int, claim: Mapping[str, Any], doc: Mapping[str, Any],
                figures: Sequence[ReportFigure]) -> str:
    cid = str(claim.get("id", ""))
    verdict = str(claim.get("verdict", "")).upper()
    out = [f'<section id="{_anchor(index, cid)}">', f"<h3><code>{_e(cid)}</code> {_verdict(verdict)}</h3>"]
    if claim.get("statement"):
        out.append(f"<p><b>Statement.</b> {_e(claim['statement'])}</p>")
    cited = [(key, _reference(doc, key)) for key in claim.get("cite") or []]
    if cited:
        links = "; ".join(f'<a href="#ref-{_e(key)}">{_e(ref.get("short") or key)}</a>' for key, ref in cited)
        out.append(f"<p><b>Source.</b> {links}.</p>")
    meta = []
    if claim.get("family"):
        meta.append(f"family <code>{_e(claim['family'])}</code>")
    if claim.get("kind"):
        meta.append(f"kind <code>{_e(claim['kind'])}</code>")
    params = claim.get("params") or {}
    if params:
        meta.append("parameters " + ", ".join(f"<code>{_e(k)}={_e(format_number(v, 10))}</code>"
                                               for k, v in params.items()))
    seconds = claim.get("seconds")
    if isinstance(seconds, numbers.Real):
        meta.append(f"judged in {float(seconds):.2f} s")
    if claim.get("proved_exactly"):
        meta.append("proved exactly (symbolic)")
    if meta:
        out.append(f'<p class="meta">{"; ".join(meta)}.</p>')
    out.append(f"<p><b>Verdict: {_e(verdict)}.</b></p>")

    evidence = claim.get("evidence") or {}
    if evidence:
        rows = [(f"<code>{_e(k)}</code>", _evidence_value(v)) for k, v in evidence.items()]
        out.append("<details open><summary><b>Evidence</b></summary>")
        out.append(_table(["quantity", "value"], rows, raw=True))
        out.append("</details>")
    for fig in figures:
        out.append(_figure(fig))

    cx = claim.get("counterexample")
    if isinstance(cx, Mapping):
        out += _counterexample_html(claim, cx, "Counterexample")

    ablations = claim.get("ablations") or []
    if ablations:
        out.append("<p><b>Ablations</b> (each assumption dropped in turn).</p>")
        rows = []
        for abl in ablations:
            acx = abl.get("counterexample")
            rows.append((f"<code>{_e(abl.get('dropped', ''))}</code>", _verdict(abl.get("verdict", "")),
                         _e(format_number(acx.get("margin"))) if isinstance(acx, Mapping) else ""))
        out.append(_table(["dropped assumption", "verdict", "counterexample margin"], rows, numeric=(2,), raw=True))
        for abl in ablations:
            acx = abl.get("counterexample")
            if isinstance(acx, Mapping):
                out += _counterexample_html(claim, acx, f"Without {abl.get('dropped', '')}",
                                            dropped=str(abl.get("dropped", "")))
    if claim.get("reproduce"):
        out.append("<p><b>Reproduce.</b></p>")
        out.append(_pre(str(claim["reproduce"]), "sh"))
    out.append("</section>")
    return "\n".join(out)


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
        Figures to embed (default: :func:`theorycheck.report.figures.report_figures` of ``doc``).

    Returns
    -------
    str
        HTML5 text: inline CSS, no script, no external resource; every figure a
        ``data:image/png;base64`` image. A deterministic function of ``doc``.
    """
    figures = report_figures(doc) if figures is None else list(figures)
    per_claim, shared = figures_by_claim(figures)
    claims = [c for c in (doc.get("claims") or []) if isinstance(c, Mapping)]

    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{_e(title)}</h1>", _pre(str(doc.get("command", "")), "sh")]
    out.append(f'<p class="meta">{_e("; ".join(run_facts(doc)))}.</p>')
    options = doc.get("options") or {}
    skipped = options.get("skipped_empirical") if isinstance(options, Mapping) else None
    if skipped:
        out.append(f'<p class="meta">Empirical claims not run (add <code>--empirical</code>): '
                   f'{", ".join(f"<code>{_e(s)}</code>" for s in skipped)}.</p>')

    out.append('<h2 id="summary">Summary</h2>')
    if claims:
        out.append(f"<p>{_e(verdict_counts(doc))}.</p>")
        rows = []
        for index, (family, cid, verdict, nums, secs) in enumerate(summary_table_rows(doc)):
            rows.append((_e(family), f'<a href="#{_anchor(index, cid)}"><code>{_e(cid)}</code></a>',
                         _verdict(verdict), _e(nums), _e(secs)))
        out.append(_table(["family", "claim", "verdict", "key numbers", "time"], rows, numeric=(4,), raw=True))
    else:
        out.append("<p>No claims were judged.</p>")

    if shared:
        out.append('<h2 id="figures">Figures</h2>')
        out += [_figure(fig) for fig in shared]

    out.append('<h2 id="claims">Claims</h2>')
    for index, claim in enumerate(claims):
        out.append(_claim_html(index, claim, doc, per_claim.get(index, [])))

    keys: list[str] = []
    for claim in claims:
        for key in claim.get("cite") or []:
            if key not in keys:
                keys.append(key)
    if keys:
        out.append('<h2 id="references">References</h2>')
        for key in keys:
            ref = _reference(doc, key)
            out.append(f'<div id="ref-{_e(key)}"><p><code>{_e(key)}</code>: {_e(ref.get("text", key))}</p>')
            if ref.get("bibtex"):
                out.append(_pre(str(ref["bibtex"]), "bibtex"))
            out.append("</div>")

    out.append('<h2 id="environment">Environment</h2>')
    if doc.get("platform"):
        out.append(f"<p>Platform: <code>{_e(doc['platform'])}</code>.</p>")
    versions = doc.get("versions") or {}
    if versions:
        out.append(_table(["package", "version"], [(k, str(v)) for k, v in versions.items()]))
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


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


def write_report_folder(results: Any, folder: str | os.PathLike, *, figures: bool = True) -> dict[str, str]:
    """Write ``results.json``, ``report.md``, ``report.html``, ``references.bib`` (and the
    figures as ``figures/*.png``) into ``folder``.

    Every file is rendered from the JSON document as written, so
    ``theorycheck report folder/results.json -o x.html`` (or ``-o x.md``) reproduces
    ``report.html`` (``report.md``) byte for byte.

    Returns
    -------
    dict
        Role (``json``, ``markdown``, ``html``, ``bibtex``, ``figures``) -> path written.
    """
    from .json_report import write_json
    from .markdown import render_markdown

    from .._validation import fail

    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise fail("--out", "theorycheck verify all", "a folder (it exists as a file)", folder)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise fail("--out", "theorycheck verify all", f"a folder that can be created ({exc.strerror})",
                   folder) from None
    if not os.access(folder, os.W_OK):
        raise fail("--out", "theorycheck verify all", "a writable folder", folder)
    from .durable import Manifest

    doc = _as_doc(results)
    manifest = Manifest(folder)  # the files theorycheck wrote here: the only ones it may delete
    paths = {"json": write_json(doc, os.path.join(folder, REPORT_FILES["json"]))}
    paths["markdown"] = _write_text(render_markdown(doc), os.path.join(folder, REPORT_FILES["markdown"]))
    figs = report_figures(doc)
    paths["html"] = _write_text(render_html(doc, figures=figs), os.path.join(folder, REPORT_FILES["html"]))
    paths["bibtex"] = _write_text(render_bibtex(doc), os.path.join(folder, REPORT_FILES["bibtex"]))
    fig_folder = os.path.join(folder, REPORT_FILES["figures"])
    written = [paths["json"], paths["markdown"], paths["html"], paths["bibtex"]]
    if figures and figs:
        written += write_figures(doc, fig_folder, figs)
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
