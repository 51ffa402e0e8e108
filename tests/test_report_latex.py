"""The LaTeX report: a booktabs table of every claim and a paragraph per claim, escaped, compiling
with pdflatex (Debian's texlive-latex-base + texlive-latex-recommended; `.ci/run` installs
them, and under CI=true a missing pdflatex is a failure). The report folder's report.tex,
with its figures, is compiled in test_report_browser.py, which renders that folder."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from theorycheck.cli import main
from theorycheck.report.json_report import read_json
from theorycheck.report.latex import render_latex, safe_math

DATA = Path(__file__).parent / "data" / "verify-all-small.json"


def pdflatex() -> str:
    path = shutil.which("pdflatex")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pdflatex is not installed: CI must have it (.ci/run installs texlive-latex-base "
                        "and texlive-latex-recommended)")
        pytest.skip("pdflatex is not installed (CI installs it)")
    return path


def compile_tex(tex: Path) -> Path:
    """Run pdflatex twice (the table's references) in the file's folder; the PDF, or a failure
    that quotes TeX's error."""
    for _ in range(2):
        run = subprocess.run([pdflatex(), "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                              tex.name], cwd=tex.parent, capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            errors = [line for line in run.stdout.splitlines() if line.startswith("!")]
            pytest.fail(f"pdflatex failed on {tex.name}: {errors or run.stdout[-2000:]}")
    pdf = tex.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    log = tex.with_suffix(".log").read_text(errors="replace")
    assert "undefined references" not in log and "Reference `" not in log
    return pdf


def _structure(text: str, doc: dict) -> None:
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    for env in ("document", "longtable"):
        assert text.count(rf"\begin{{{env}}}") == text.count(rf"\end{{{env}}}") >= 1
    # booktabs rules, one table row per claim
    assert text.count(r"\toprule") == 1 and text.count(r"\midrule") == 1 and text.count(r"\bottomrule") == 1
    table = text.split(r"\endfoot")[1].split(r"\end{longtable}")[0]
    rows = [r for r in table.strip().splitlines() if r.strip()]
    assert len(rows) == len(doc["claims"]) and all(r.endswith(r"\\") and r.count(" & ") == 5 for r in rows)
    for claim in doc["claims"]:  # ids escaped: '_' and '.' survive as text
        assert r"\texttt{" + claim["id"].replace("_", r"\_") + "}" in text
    # every claim paragraph, every formula the allow-list passes, typeset
    assert text.count(r"\subsection*{") == len(doc["claims"])
    typeset = [c for c in doc["claims"] if safe_math(c.get("statement_latex"))]
    assert len(typeset) == len(doc["claims"])
    assert text.count(r"\begin{gathered}") == len(typeset)
    # braces balance outside escaped ones
    depth = 0
    for ch in re.sub(r"\\[{}]", "", text):
        depth += (ch == "{") - (ch == "}")
        assert depth >= 0
    assert depth == 0


def test_latex_of_verify_all_is_well_formed_and_compiles(tmp_path):
    doc = read_json(DATA)
    text = render_latex(doc)
    _structure(text, doc)
    # refuted claims found at shrunk sizes say so, with both sizes
    shrunk = [c for c in doc["claims"] if c["verdict"] == "REFUTED"
              and c["counterexample"].get("params", c["params"]) != c["params"]]
    assert shrunk and text.count("Found at the shrunk sizes") == len(shrunk)
    tex = tmp_path / "claims.tex"
    tex.write_text(text)
    compile_tex(tex)


def test_report_command_writes_latex(tmp_path, capsys):
    out = tmp_path / "claims.tex"
    assert main(["report", str(DATA), "-o", str(out)]) == 0, capsys.readouterr().err
    assert out.read_text() == render_latex(read_json(DATA))  # no figures folder beside it: none included
    capsys.readouterr()
    assert main(["report", str(DATA), "--format", "tex"]) == 0
    assert capsys.readouterr().out == out.read_text()


def test_latex_escapes_text_of_a_document(tmp_path):
    doc = read_json(DATA)
    claim = dict(doc["claims"][0], statement="50% of #1 & $x_1$ {a} ~ ^ \\ <= || end", id="user.x_1%")
    hostile = dict(doc, claims=[claim], command="theorycheck check a_b.py # & %")
    text = render_latex(hostile)
    assert r"50\% of \#1 \& \$x\_1\$" in text and r"\texttt{user.x\_1\%}" in text
    tex = tmp_path / "escaped.tex"
    tex.write_text(text)
    compile_tex(tex)


def test_every_shipped_claim_has_a_latex_statement_that_renders():
    """Each shipped claim's formula converts to MathML completely (no LaTeX command left over)
    and passes the LaTeX allow-list, so both reports typeset it."""
    from theorycheck.engine import registry
    from theorycheck.report.mathml import latex_to_mathml

    registry.load_shipped()
    # other tests may have registered claims of their own: only the shipped ones must have one
    claims = [c for c in registry.all_claims() if str(c.origin).startswith("theorycheck.claims.")]
    assert len(claims) >= 45
    for claim in claims:
        mathml = latex_to_mathml(claim.statement_latex)
        assert mathml.startswith("<math") and "\\" not in mathml, claim.id
        assert safe_math(claim.statement_latex), claim.id


def test_statement_latex_is_validated():
    from theorycheck import strategies as st
    from theorycheck._validation import InvalidArgumentError
    from theorycheck.engine.claim import claim

    def evaluate(x, *, p):
        return x, x

    def inputs(p, active):
        return {"x": st.real_matrix(1, 1, 1.0)}

    for bad in ("", "  ", 3):
        with pytest.raises(InvalidArgumentError, match="statement_latex"):
            claim(id="demo.latex", cite=(), kind="identity", statement="x = x", statement_latex=bad,
                  inputs=inputs, register=False)(evaluate)
    ok = claim(id="demo.latex", cite=(), kind="identity", statement="x = x", statement_latex="x = x",
               inputs=inputs, register=False)(evaluate)
    assert ok.statement_latex == "x = x"
