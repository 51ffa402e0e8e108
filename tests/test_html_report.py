"""The HTML report and its figures: self-contained (every figure embedded, nothing external),
every claim id present, deterministic, escaped; each figure drawn from the evidence that
feeds it; the BibTeX file; ``theorycheck report -o x.html`` re-renders identically and
rejects bad files with exit code 2."""

import base64
import copy
import html.parser
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from theorycheck.cli import main
from theorycheck.report.figures import (
    FIGURE_BUILDERS,
    _nearest_simplex,
    figure_class_means,
    figures_by_claim,
    report_figures,
)
from theorycheck.report.html import render_bibtex, render_html, summary_table_rows, write_report_folder
from theorycheck.report.json_report import write_json

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _simplex_means(K: int, h: int, rho: float = 1.0) -> np.ndarray:
    base = np.eye(K) - 1.0 / K
    u, s, _ = np.linalg.svd(base)
    coords = (u * s)[:, : K - 1]
    out = np.zeros((K, h))
    out[:, : K - 1] = coords / np.linalg.norm(coords[0]) * rho
    return out


def _claim(cid, verdict="HOLDS", kind="inequality", evidence=None, params=None, **extra):
    doc = {"id": cid, "verdict": verdict, "seconds": 0.25, "params": params or {}, "evidence": evidence or {},
           "counterexample": None, "ablations": [], "proved_exactly": False, "kind": kind,
           "statement": f"statement of {cid}", "cite": ["graf2021"], "summary_keys": [], "reproduce":
           f"theorycheck check {cid} --seed 0", "target": None, "origin": "", "family": "demo"}
    doc.update(extra)
    return doc


def _document():
    """A results document whose evidence feeds every figure builder once."""
    means = _simplex_means(3, 2) * 0.9 + 0.01
    claims = [
        _claim("demo.traces", kind="optimum", params={"K": 3},
               evidence={"claimed_optimum": 2.0, "best_value": 2.0, "traces": [[9.0, 4.0, 2.5, 2.0], [5.0, 2.0],
                                                                                 [2.0, 1.999]]}),
        _claim("demo.means", kind="characterization", evidence={"class_means": means.tolist()}),
        _claim("demo.refuted", verdict="REFUTED", kind="characterization",
               evidence={"claimed_optimum": 1.0},
               counterexample={"inputs": {"Z": _simplex_means(4, 3).repeat(2, axis=0).tolist(),
                                          "y": [0, 0, 1, 1, 2, 2, 3, 3]},
                               "lhs": 0.5, "rhs": 1.0, "margin": 0.5, "precision_digits": 60, "params": {"K": 4},
                               "note": ""}),
        *[_claim("demo.ufm.benign", kind="landscape", params={"K": 3, "d": d},
                 evidence={"global_fraction": f, "starts": 8}) for d, f in ((2, 0.5), (3, 0.875), (4, 1.0))],
        _claim("demo.imbalance", kind="characterization",
               evidence={"imbalance_angles": [{"R": r, "tau": 0.1, "maj_maj": -0.5 + 0.01 * r, "min_min": -0.2 * r,
                                               "maj_min": -0.3} for r in (1, 2, 5, 10)]}),
        _claim("demo.bound", evidence={"informative_fraction": 0.25, "informative_samples": [[1.0, 2.0], [3.0, 2.5]]}),
        _claim("demo.random-labels", kind="empirical",
               evidence={"rows": [{"loss": loss, "fraction": f, "iterations": it, "max_iterations": 500}
                                  for loss, f, it in (("ce", 0.0, 50), ("ce", 0.5, 150), ("ce", 1.0, 250),
                                                      ("supcon", 0.0, 60), ("supcon", 0.5, 200),
                                                      ("supcon", 1.0, None))],
                         "fits": {"ce": {"alpha": 1.0}, "supcon": {"alpha": 1.8}}}),
        _claim("demo.training", kind="empirical",
               evidence={"target_cos": -0.5, "history": [{"iteration": i, "cos_mean": -0.5 + 0.4 / (i + 1),
                                                          "cos_max_dev": 0.4 / (i + 1), "nc1": 1.0 / (i + 1)}
                                                         for i in range(0, 50, 10)]}),
        _claim("demo.plain", verdict="VACUOUS", statement="a <script>alert(1)</script> & <b>claim</b>",
               ablations=[{"dropped": "balanced", "verdict": "REFUTED", "evidence": {},
                           "counterexample": {"inputs": {"u": [[1.0]]}, "lhs": 2.0, "rhs": 1.0, "margin": 1.0,
                                              "precision_digits": 60, "params": {}, "note": ""}}]),
    ]
    return {"schema_version": 1, "theorycheck_version": "0.1.0", "seed": 0, "command": "theorycheck verify all",
            "started": "2024-01-01T00:00:00+00:00", "family": "all", "options": {"skipped_empirical": ["x.y"]},
            "budget": {"seconds": 1.0, "examples": None}, "platform": "Linux", "versions": {"numpy": "2"},
            "references": {}, "claims": claims}


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.imgs, self.refs, self.text, self.open = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(attrs.get("src", ""))
        for key in ("href", "src"):
            if key in attrs and tag != "img":
                self.refs.append(attrs[key])
        if tag not in ("meta", "img", "br", "hr", "link", "input"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(text):
    parser = _Collector()
    parser.feed(text)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def doc():
    return _document()


@pytest.fixture(scope="module")
def rendered(doc):
    figures = report_figures(doc)
    return figures, render_html(doc, figures=figures)


def test_every_figure_builder_draws_from_its_evidence(rendered):
    figures, _ = rendered
    names = [f.name for f in figures]
    assert {n.split("-demo")[0] for n in names if "-demo" in n} | {n for n in names if "-demo" not in n} == {
        name for name, *_ in FIGURE_BUILDERS}
    # one traces figure (the only claim with traces), class means for the explicit means and
    # for the counterexample's Z/y, and the three figures over all claims exactly once
    assert names.count("traces-demo.traces") == 1
    assert {"class-means-demo.means", "class-means-demo.refuted"} <= set(names)
    assert sum(n == "ufm-success" for n in names) == 1
    assert all(f.png.startswith(PNG_MAGIC) for f in figures)
    per, shared = figures_by_claim(figures)
    assert {f.name for f in shared} == {"ufm-success", "imbalance-angles", "informativeness"}
    assert per[0][0].claim_ids == ("demo.traces",)


def test_html_parses_embeds_every_figure_and_names_every_claim(doc, rendered):
    figures, text = rendered
    parsed = _parse(text)
    assert parsed.open == ["html"] or parsed.open == []  # everything closed but possibly <html>
    assert "script" not in parsed.tags and "link" not in parsed.tags and "iframe" not in parsed.tags
    assert len(parsed.imgs) == len(figures) > 0
    embedded = set()
    for src in parsed.imgs:
        assert src.startswith("data:image/png;base64,"), src[:40]
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data.startswith(PNG_MAGIC)
        embedded.add(data)
    assert embedded == {f.png for f in figures}
    # no external resource of any kind: links are in-page anchors only
    assert all(ref.startswith("#") for ref in parsed.refs), parsed.refs
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", text)
    plain = "".join(parsed.text)
    for claim in doc["claims"]:
        assert claim["id"] in plain
        assert f"statement of {claim['id']}" in plain or claim["id"] == "demo.plain"
    for verdict in ("HOLDS", "REFUTED", "VACUOUS"):
        assert verdict in plain
    assert "x.y" in plain  # the empirical claims left out are named


def test_html_escapes_claim_text(rendered):
    _, text = rendered
    assert "<script>alert(1)</script>" not in text
    assert "a &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;claim&lt;/b&gt;" in text


def test_html_carries_counterexamples_ablations_references_and_versions(rendered):
    _, text = rendered
    plain = "".join(_parse(text).text)
    assert "margin = 0.5" in plain and "confirmed with 60 significant digits" in plain
    assert "load_claims" in plain or "get('demo.refuted')" in plain  # the pasteable snippet
    assert "Without balanced" in plain
    assert "@inproceedings{graf2021," in plain
    assert "theorycheck check demo.plain --seed 0" in plain
    assert "numpy" in plain


def _small(doc):
    """The traces, counterexample (3D class means) and landscape claims: three figures."""
    return dict(doc, claims=[doc["claims"][i] for i in (0, 2, 3, 4, 5)])


def test_rendering_is_deterministic(doc, rendered):
    figures, text = rendered
    # the figures of a fresh copy are byte-identical (fixed size, resolution, metadata) ...
    again = {f.name: f.png for f in report_figures(copy.deepcopy(_small(doc)))}
    assert len(again) == 3
    assert again == {f.name: f.png for f in figures if f.name in again}
    # ... and so is the page around them
    assert render_html(copy.deepcopy(doc), figures=figures) == text


def test_summary_rows_have_family_claim_verdict_numbers_time(doc):
    rows = summary_table_rows(doc)
    assert len(rows) == len(doc["claims"])
    family, cid, verdict, numbers, time = rows[0]
    assert (family, cid, verdict, time) == ("demo", "demo.traces", "HOLDS", "0.2s")
    assert rows[2][2] == "REFUTED" and "margin=0.5" in rows[2][3]


def test_bibtex_has_one_entry_per_cited_key_in_citation_order():
    doc = {"claims": [{"cite": ["wang2020", "graf2021"]}, {"cite": ["graf2021"]}],
           "references": {"mine2024": {"key": "mine2024", "bibtex": "@misc{mine2024,\n  title = {Mine}\n}"}}}
    text = render_bibtex(doc)
    keys = re.findall(r"^@\w+\{([^,]+),", text, flags=re.M)
    assert keys == ["wang2020", "graf2021", "mine2024"]


@settings(max_examples=25)
@given(K=hst.integers(3, 7), extra=hst.integers(0, 3), seed=hst.integers(0, 2**16))
def test_nearest_simplex_is_a_regular_simplex_and_exact_on_one(K, extra, seed):
    rng = np.random.default_rng(seed)
    h = K - 1 + extra
    q, _ = np.linalg.qr(rng.standard_normal((h, h)))
    rho = float(rng.uniform(0.5, 3.0))
    simplex = _simplex_means(K, h, rho) @ q
    assert np.allclose(_nearest_simplex(simplex), simplex, atol=1e-9)
    noisy = simplex + 0.3 * rng.standard_normal(simplex.shape)
    target = _nearest_simplex(noisy)
    norms = np.linalg.norm(target, axis=1)
    gram = target @ target.T / np.outer(norms, norms)
    assert np.allclose(norms, norms[0]) and np.allclose(target.sum(axis=0), 0, atol=1e-9)
    assert np.allclose(gram[~np.eye(K, dtype=bool)], -1.0 / (K - 1), atol=1e-9)


def test_class_means_figure_needs_means_or_labelled_points():
    assert figure_class_means(_claim("x.none", evidence={"claimed_optimum": 1.0})) is None
    bad = _claim("x.bad", counterexample={"inputs": {"Z": [[1.0, 0.0]], "y": [0.5]}})
    assert figure_class_means(bad) is None
    assert figure_class_means(_claim("x.ok", evidence={"class_means": _simplex_means(5, 4).tolist()})) is not None


def test_class_means_of_a_lifted_embedding_use_its_first_h_columns():
    from theorycheck.report.figures import _class_means

    simplex = _simplex_means(3, 2)
    lifted = np.c_[simplex.repeat(2, axis=0), [0.5, -0.5] * 3]  # a last "lift" coordinate averaging to 0
    labels = [0, 0, 1, 1, 2, 2]
    cx = {"inputs": {"y": labels, "Z_lifted": (lifted + [0, 0, 0.25]).tolist(), "W": [[1.0]]}, "params": {"h": 2}}
    means, source = _class_means(_claim("x.lifted", counterexample=cx))
    assert source == "class means of the counterexample" and means.shape == (3, 2)
    assert np.allclose(means, simplex)
    unlifted = dict(cx, params={"h": 3})  # no narrower h: every column counts
    assert _class_means(_claim("x.full", counterexample=unlifted))[0].shape == (3, 3)


def test_write_report_folder_and_report_command_rerender_identically(doc, tmp_path, capsys):
    doc = _small(doc)
    paths = write_report_folder(doc, tmp_path / "out")
    assert {p.split("/")[-1] for p in paths.values()} == {"results.json", "report.md", "report.html",
                                                           "report.tex", "references.bib", "figures"}
    n_figures = len(list((tmp_path / "out" / "figures").glob("*.png")))
    assert n_figures == len(report_figures(doc))
    for name in ("report.html", "report.md"):
        code = main(["report", str(tmp_path / "out" / "results.json"), "-o", str(tmp_path / f"re-{name}")])
        assert code == 0, capsys.readouterr().err
        assert (tmp_path / f"re-{name}").read_bytes() == (tmp_path / "out" / name).read_bytes()
    # LaTeX beside the figures folder includes the same figures: the same bytes again
    code = main(["report", str(tmp_path / "out" / "results.json"), "-o", str(tmp_path / "out" / "again.tex")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "again.tex").read_bytes() == (tmp_path / "out" / "report.tex").read_bytes()
    capsys.readouterr()
    code = main(["report", str(tmp_path / "out" / "results.json"), "--format", "html"])
    assert code == 0 and capsys.readouterr().out == (tmp_path / "out" / "report.html").read_text()
    # a second run into the same folder leaves exactly its own figures
    smaller = dict(doc, claims=doc["claims"][:1])
    write_report_folder(smaller, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out" / "figures").glob("*.png")) == ["traces-demo.traces.png"]


@pytest.mark.parametrize("content, message", [
    (None, "must be an existing results file"),
    ("", "the file is empty"),
    ('{"schema_version": 1, "claims": [', "is the file truncated?"),
    (json.dumps({"schema_version": 99, "theorycheck_version": "9.9"}), "must be 1, the version this theorycheck reads"),
    (json.dumps([1, 2]), "a JSON object"),
])
def test_report_rejects_bad_results_files_with_exit_2_and_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    code = main(["report", str(path), "-o", str(tmp_path / "x.html")])
    out, err = capsys.readouterr()
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.html").exists()


def test_report_output_path_that_is_a_folder_is_an_error(doc, tmp_path, capsys):
    write_json(doc, tmp_path / "r.json")
    code = main(["report", str(tmp_path / "r.json"), "-o", str(tmp_path)])
    assert code == 2 and "must be a file path" in capsys.readouterr().err


def test_public_names_exist_and_every_builder_is_exported():
    import theorycheck.report.figures as figures_module
    import theorycheck.report.html as html_module

    for module in (figures_module, html_module):
        assert len(set(module.__all__)) == len(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)
    exported = {getattr(figures_module, n) for n in figures_module.__all__ if n.startswith("figure_")}
    assert {builder for _, _, builder, _ in FIGURE_BUILDERS} == exported


def test_a_reader_that_stops_early_is_not_an_internal_error(doc, tmp_path, monkeypatch, capsys):
    """`theorycheck report results.json | head`: the closed pipe gives exit 141 (SIGPIPE), no traceback."""
    import io

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    write_json(doc, tmp_path / "r.json")
    monkeypatch.setattr("sys.stdout", ClosedPipe())
    code = main(["report", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 141 and "Traceback" not in err and "internal error" not in err
