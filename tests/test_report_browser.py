"""report.html looked at in a real browser: headless Chromium renders `verify all`'s report and
the checks read the rendered page (DevTools protocol): every figure decoded, no horizontal
overflow at 1400 px and at 400 px, every claim present, evidence collapsed, the page under
15,000 px tall at 1400 px, statements rendered as MathML. Screenshots go to the test's
temporary folder.

The results document is ``tests/data/verify-all-small.json``, written by a real run of
``theorycheck verify all --budget 0.3 --examples 4`` (all 51 shipped non-empirical claims;
a full run costs a minute on a 2-core machine, too much for every test session). The report
folder is rendered from it once per session, figures included.

In CI (``CI=true``) a missing Chromium is a failure: ``.ci/run`` installs Debian's
``chromium``. Elsewhere the test is skipped without one.
"""

import json
import os
import re
from pathlib import Path

import pytest

from _chromium import Chromium, chromium_path

DATA = Path(__file__).parent / "data" / "verify-all-small.json"
MAX_HEIGHT_1400 = 15_000


@pytest.fixture(scope="session")
def browser_report(tmp_path_factory):
    """The report folder of the stored `verify all` document, rendered once."""
    from theorycheck.report.html import write_report_folder
    from theorycheck.report.json_report import read_json

    doc = read_json(DATA)
    folder = tmp_path_factory.mktemp("browser-report")
    write_report_folder(doc, folder)
    return doc, folder


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed: CI must have it (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (CI installs it; outside CI this check needs it)")
    return path


def _page_facts(page) -> dict:
    return page.eval("""(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        height: document.documentElement.scrollHeight,
        images: Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]),
        text: document.body.innerText,
        sectionIds: Array.from(document.querySelectorAll('section.claim h3 code')).map(e => e.textContent),
        summaryIds: Array.from(document.querySelectorAll('table.summary td:first-child code')).map(e => e.textContent),
        openDetails: document.querySelectorAll('details[open]').length,
        evidence: Array.from(document.querySelectorAll('section.claim > details > summary'))
            .filter(s => s.textContent.startsWith('Evidence'))
            .map(s => [s.parentElement.open, s.nextElementSibling.checkVisibility() ? 1 : 0]),
        maths: document.getElementsByTagName('math').length,
        mathHeights: Array.from(document.querySelectorAll('.math math')).map(m => m.getBoundingClientRect().height),
        scripts: document.scripts.length,
        mathBoxes: Array.from(document.querySelectorAll('.math'))
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(e => e.closest('section').id),
        // what sticks out of the viewport, outside the scroll boxes of formulas and code
        widest: Array.from(document.querySelectorAll('body *'))
            .filter(e => !e.closest('.math, pre'))
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className),
    }))()""")


def test_report_html_in_headless_chromium(browser_report, chromium, tmp_path):
    doc, folder = browser_report
    ids = [c["id"] for c in doc["claims"]]
    assert len(ids) >= 40  # every shipped non-empirical claim, some at several sizes
    with Chromium(chromium, tmp_path / "profile") as page:
        facts = {}
        for width in (1400, 400):
            page.viewport(width)
            page.load(folder / "report.html")
            facts[width] = f = _page_facts(page)
            page.screenshot(tmp_path / f"report-{width}.png")
            page.screenshot(tmp_path / f"report-{width}-full.png", full_page=True)
            # no horizontal overflow: nothing sticks out of the viewport, the page does not scroll sideways
            assert f["scrollWidth"] <= f["clientWidth"], (width, f["widest"])
            assert f["mathBoxes"] == [], f["mathBoxes"]  # a long formula scrolls inside its own box
            assert f["widest"] == [], (width, f["widest"])
            # every figure was decoded by the browser
            assert f["images"], "the report has no figures"
            bad = [alt for alt, complete, natural in f["images"] if not complete or natural <= 0]
            assert bad == [], bad
            # every claim: a row of the summary table and a section, in order
            assert f["summaryIds"] == ids and f["sectionIds"] == ids
            # evidence collapsed: present for every claim, closed, its table not laid out
            assert len(f["evidence"]) == len(ids)
            assert all(not is_open and not visible for is_open, visible in f["evidence"]), f["evidence"][:3]
            assert f["openDetails"] == 0
            # statements as rendered MathML (the browser gives each formula a height)
            assert f["maths"] >= len(ids)
            assert all(h > 5 for h in f["mathHeights"]), f["mathHeights"]
            assert f["scripts"] == 0
        assert facts[1400]["height"] < MAX_HEIGHT_1400, facts[1400]["height"]
        # claims judged at several sizes are told apart by their parameters in the summary
        text = facts[1400]["text"]
        existence = [c for c in doc["claims"] if c["id"] == "graf2021.simplex.existence"]
        assert len(existence) == 2
        for c in existence:
            assert ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in c["params"].items()) in text
    for width in (1400, 400):
        shot = tmp_path / f"report-{width}.png"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_report_folder_latex_compiles_with_its_figures(browser_report):
    """report.tex of the folder includes the figures written beside it and compiles."""
    from test_report_latex import compile_tex

    doc, folder = browser_report
    text = (folder / "report.tex").read_text()
    included = set(re.findall(r"\\includegraphics\[[^]]*\]\{([^}]*)\}", text))
    assert included and all((folder / name).is_file() for name in included)
    assert {f"figures/{p.name}" for p in (folder / "figures").glob("*.png")} == included
    compile_tex(folder / "report.tex")


def test_stored_document_is_a_real_verify_all_run():
    """The stored document is what `verify all` writes: valid, every claim with a LaTeX statement."""
    from theorycheck.engine import registry
    from theorycheck.report.json_report import read_json

    doc = read_json(DATA)
    assert doc["family"] == "all" and doc["command"].startswith("theorycheck verify all")
    registry.load_shipped()
    for claim in doc["claims"]:
        assert claim["statement"] == registry.get(claim["id"]).statement or claim["id"].startswith("graf2021.sc")
        assert claim.get("statement_latex"), claim["id"]
    assert json.loads(DATA.read_text())["claims"]
