"""What a report reads is data: hostile results documents render inert.

A results document can come from anywhere (a colleague's run, a download). Its values reach
the pasteable Python snippets only as literals of their parsed type, its text reaches HTML
and Markdown escaped, and its LaTeX statement reaches MathML and the .tex file only through
an allow-list. `theorycheck report` refuses a document whose numbers are not numbers.
"""

import copy
import json
import re

import pytest

from theorycheck.cli import main
from theorycheck.engine.snippet import counterexample_python
from theorycheck.report.html import render_html
from theorycheck.report.latex import render_latex, safe_math
from theorycheck.report.markdown import render_markdown
from theorycheck.report.mathml import latex_to_mathml

INJECTED = "1.0\nimport os; os.system('echo pwned')"
XSS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>']


def _doc(**claim_extra):
    claim = {
        "id": "demo.claim", "verdict": "REFUTED", "seconds": 0.1, "params": {"K": 3},
        "evidence": {"claimed_optimum": 1.0}, "ablations": [], "kind": "optimum",
        "statement": "a statement", "cite": [], "summary_keys": [], "reproduce": "theorycheck check demo.claim",
        "target": None, "origin": "", "family": None,
        "counterexample": {"inputs": {"Z": [[1.0, 2.0]], "y": [0]}, "lhs": 0.5, "rhs": 1.0, "margin": 0.5,
                           "precision_digits": 60, "params": {"K": 2}},
    }
    claim.update(claim_extra)
    return {"schema_version": 1, "theorycheck_version": "0.1.0", "seed": 0, "command": "theorycheck check x",
            "claims": [claim], "versions": {}}


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)\n```", text, re.S)


def _hostile_numbers():
    doc = _doc()
    cx = doc["claims"][0]["counterexample"]
    cx.update(lhs=INJECTED, rhs=INJECTED, margin=INJECTED, precision_digits="60\nimport os")
    cx["inputs"] = {"Z\nimport os": [[INJECTED, 2.0]], "y": {"shape": [1, "2)\nimport os#"], "data": [0]}}
    cx["params"] = {"K": "2\nimport os"}
    cx["python"] = "import os; os.system('echo pwned')"  # a document's own "snippet" is never shown
    doc["claims"][0]["id"] = "demo.claim')\nimport os\n#"
    return doc


def test_snippet_has_no_line_from_a_documents_text():
    doc = _hostile_numbers()
    code = counterexample_python(doc["claims"][0])
    lines = code.splitlines()
    assert not any(line.lstrip().startswith("import os") for line in lines)
    assert "pwned" not in code
    compile(code, "<snippet>", "exec")  # still valid Python: every value is a literal
    # numbers that were numbers stay exact: repr of the parsed float
    good = counterexample_python(_doc(counterexample={"inputs": {"x": [0.1 + 0.2]}, "lhs": 1 / 3, "rhs": 2.0,
                                                      "margin": 1e-300, "precision_digits": 60})["claims"][0])
    assert repr(0.1 + 0.2) in good and repr(1 / 3) in good and "1e-300" in good


@pytest.mark.parametrize("render", [render_markdown, render_html], ids=["markdown", "html"])
def test_reports_paste_no_injected_line(render):
    text = render(_hostile_numbers())
    for line in text.splitlines():
        assert not line.lstrip().startswith("import os"), line
    assert "echo pwned" not in text


@pytest.mark.parametrize("payload", XSS)
def test_markdown_and_html_escape_statements_and_ids(payload):
    doc = _doc(statement=f"x {payload} y", id=f"demo.x{payload}", kind=payload,
               statement_latex=r"\text{" + payload + "}")
    doc["claims"][0]["counterexample"]["note"] = payload
    doc["claims"][0]["evidence"] = {payload: payload, "reason": payload}
    doc["claims"][0]["ablations"] = [{"dropped": payload, "verdict": "HOLDS", "counterexample": None}]
    md = render_markdown(doc)
    html_text = render_html(doc, figures=[])
    for text in (md, html_text):
        assert "<script" not in text.lower() and "<img" not in text.lower()
        assert "onerror=alert" not in text.replace("&lt;img src=x onerror=alert", "") or "&lt;" in text
    assert "&lt;script&gt;" in html_text or "&lt;img" in html_text
    assert "&lt;script" in md or "&lt;img" in md


def test_mathml_keeps_only_presentation_markup():
    assert "<script" not in latex_to_mathml(r"\text{<script>alert(1)</script>}")
    assert "onerror" not in latex_to_mathml(r"\text{<img src=x onerror=alert(1)>}") or \
        "&lt;img" in latex_to_mathml(r"\text{<img src=x onerror=alert(1)>}")
    good = latex_to_mathml(r"\frac{\rho^2}{K-1}")
    assert good.startswith("<math") and "<mfrac>" in good and "\\" not in good


@pytest.mark.parametrize("tex", [r"\input{/etc/passwd}", r"\immediate\write18{rm -rf x}", r"a \\ b",
                                 r"\def\x{1}", "a } b {", r"\catcode`\%=11", r"100\% x % comment"])
def test_latex_statement_outside_the_allow_list_is_never_typeset(tex):
    assert not safe_math(tex)
    doc = _doc(statement_latex=tex, statement=r"\input{/etc/passwd} & $x$ % _ #")
    out = render_latex(doc)
    assert tex not in out
    assert r"\input{/etc/passwd}" not in out
    body = out.split(r"\begin{document}")[1]
    assert r"\input" not in body.replace(r"{\textbackslash}input", "")


def test_report_command_refuses_text_where_the_schema_has_a_number(tmp_path, capsys):
    doc = _doc()
    doc["claims"][0]["counterexample"]["lhs"] = INJECTED
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc))
    code = main(["report", str(path), "-o", str(tmp_path / "r.md")])
    err = capsys.readouterr().err
    assert code == 2 and "claims[0].counterexample.lhs" in err and "a number" in err
    assert not (tmp_path / "r.md").exists()


def test_a_valid_document_with_html_in_text_renders_escaped_through_the_cli(tmp_path, capsys):
    doc = _doc(statement=XSS[0], id="demo.ok")
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(doc))
    for name in ("r.md", "r.html", "r.tex"):
        assert main(["report", str(path), "-o", str(tmp_path / name)]) == 0, capsys.readouterr().err
        text = (tmp_path / name).read_text()
        assert "<script" not in text.lower()
    assert "\\textless{}script" in (tmp_path / "r.tex").read_text() or "{<}script" in (tmp_path / "r.tex").read_text() \
        or "<script" not in (tmp_path / "r.tex").read_text()
    _ = copy  # imported for symmetry with the other report tests
