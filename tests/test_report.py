"""Reports: the JSON document, reading it back, Markdown rendering, pasteable counterexamples."""

import contextlib
import io
import json
import math
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp

from theorycheck import InvalidArgumentError
from theorycheck.citations import Reference, get
from theorycheck.engine import families
from theorycheck.engine.families import RunEntry, RunResults, package_versions
from theorycheck.engine.results import AblationResult, ClaimResult, Counterexample, Verdict
from theorycheck.report import json_report
from theorycheck.report.json_report import read_json, strip_timings, to_json, validate_document, write_json
from theorycheck.report.markdown import (
    counterexample_python,
    format_number,
    render_markdown,
    summary_numbers,
    summary_rows,
)

USER_REF = Reference(key="me2025", authors=("Ada Lovelace", "Charles Babbage"), title="Spread of Embeddings",
                     venue="Notes", year=2025, entry_type="misc")

CLAIM_FILE = textwrap.dedent('''
    from theorycheck import backend as xp, strategies as st
    from theorycheck.engine.claim import Param, claim

    @claim(id="reporttest.sum-bound", cite=("graf2021",), kind="inequality",
           statement="sum of the entries of Z is at most 1", params=(Param("N", 2, "rows", min=1),),
           inputs=lambda p, active: {"Z": st.real_matrix(p.N, 2, 1.0), "y": st.labels(p.N, 2)},
           relation="<=", register=False)
    def sum_bound(Z, y, *, p):
        return xp.sum(Z), xp.scalar(1.0, Z)
''')


def _results(tmp_path=None, *, seconds=1.25, started="2025-01-01T00:00:00+00:00") -> RunResults:
    """A hand-made run: one refuted inequality (with an ablation) and one claim that holds."""
    Z = np.array([[0.75, 0.5], [1e-300, -0.0]])
    cx = Counterexample(inputs={"Z": Z, "y": np.array([0, 1])}, lhs=1.25, rhs=1.0, margin=0.25,
                        precision_digits=60, params={"N": 2}, note="shrunk to N=2")
    abl_cx = Counterexample(inputs={"Z": np.array([[2.0, 0.0]])}, lhs=2.0, rhs=1.0, margin=1.0,
                            precision_digits=60, params={"N": 1})
    refuted = ClaimResult(claim_id="reporttest.sum-bound", params={"N": 2}, verdict=Verdict.REFUTED,
                          seconds=seconds, evidence={"inputs_tried": 120, "worst_slack": -0.25,
                                                     "largest": math.inf},
                          counterexample=cx,
                          ablations=[AblationResult("bounded", Verdict.REFUTED, abl_cx, {"inputs_tried": 3}),
                                     AblationResult("balanced", Verdict.HOLDS, None, {})])
    holds = ClaimResult(claim_id="reporttest.other", params={}, verdict=Verdict.HOLDS, seconds=seconds,
                        evidence={"inputs_tried": 80, "worst_slack": 0.5, "note": "fine"})
    target = None
    if tmp_path is not None:
        path = tmp_path / "claims_for_report.py"
        path.write_text(CLAIM_FILE)
        target = f"{path}::sum_bound"
    entries = [
        RunEntry(result=refuted, kind="inequality", statement="sum of the entries of Z is at most 1",
                 cite=["graf2021", "me2025"], summary_keys=["worst_slack"],
                 reproduce="theorycheck check claims.py::sum_bound --seed 3", target=target),
        RunEntry(result=holds, kind="identity", statement="x == x", cite=["wang2020"], summary_keys=[],
                 reproduce="theorycheck check other.py --seed 3"),
    ]
    refs = {"graf2021": get("graf2021").to_dict(), "me2025": USER_REF.to_dict(),
            "wang2020": get("wang2020").to_dict()}
    return RunResults(entries=entries, seed=3, command="theorycheck check claims.py --seed 3", started=started,
                      budget={"seconds": 1.0, "examples": None}, references=refs)


def test_document_has_the_schema_fields_and_is_strict_json():
    doc = json.loads(to_json(_results()))
    for key in json_report.REQUIRED_KEYS:
        assert key in doc
    assert doc["schema_version"] == json_report.SCHEMA_VERSION == families.SCHEMA_VERSION
    claim = doc["claims"][0]
    for key in json_report.REQUIRED_CLAIM_KEYS:
        assert key in claim
    assert claim["verdict"] == "REFUTED" and claim["seconds"] == 1.25
    assert set(claim["counterexample"]) >= {"inputs", "lhs", "rhs", "margin", "precision_digits"}
    assert claim["counterexample"]["inputs"]["y"] == [0, 1]
    assert claim["evidence"]["largest"] == "inf"  # non-finite numbers are strings, never NaN tokens
    assert [a["dropped"] for a in claim["ablations"]] == ["bounded", "balanced"]
    assert claim["ablations"][1]["counterexample"] is None
    assert claim["cite"] == ["graf2021", "me2025"] and doc["references"]["me2025"]["key"] == "me2025"
    assert set(doc["versions"]) >= {"python", "numpy", "scipy", "torch", "mpmath", "sympy", "cvxpy",
                                    "hypothesis"}
    json.loads(to_json(_results()), parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))


def test_write_read_round_trip_and_rerender_is_identical(tmp_path):
    results = _results()
    path = write_json(results, tmp_path / "sub" / "results.json")
    doc = read_json(path)
    assert doc == json.loads(to_json(results))
    assert render_markdown(doc) == render_markdown(json_report._encode_floats(results.to_dict()))
    # RunResults.from_dict keeps everything a report needs
    again = RunResults.from_dict(doc)
    assert json.loads(to_json(again)) == doc
    assert again.exit_code() == 1


def test_claim_result_round_trips_through_the_document():
    doc = json.loads(to_json(_results()))
    back = ClaimResult.from_dict(doc["claims"][0])
    assert back.verdict is Verdict.REFUTED
    np.testing.assert_array_equal(back.counterexample.inputs["Z"], np.array([[0.75, 0.5], [1e-300, -0.0]]))
    assert back.counterexample.inputs["y"].dtype == np.int64


def test_markdown_has_everything_a_reader_needs():
    text = render_markdown(json_report._encode_floats(_results().to_dict()))
    assert text.startswith("# theorycheck report\n")
    assert "theorycheck check claims.py --seed 3" in text           # the command of the run
    assert "## reporttest.sum-bound: REFUTED" in text
    assert "**Statement.** sum of the entries of Z is at most 1" in text
    assert get("graf2021").text in text and USER_REF.text in text   # full references
    assert text.count("```bibtex") == 3 and "@inproceedings{graf2021," in text and "@misc{me2025," in text
    assert "```python" in text and "claim.evaluate(**inputs, p=p)" in text
    assert "theorycheck check claims.py::sum_bound --seed 3" in text  # reproduce command
    assert "*Without `bounded`*" in text                            # ablation counterexample
    assert "| `balanced` | HOLDS |" in text
    assert "shrunk to N=2" in text
    for package in ("python", "numpy", "scipy", "torch", "mpmath", "sympy", "cvxpy", "hypothesis"):
        assert f"| {package} | {package_versions()[package]} |" in text
    assert "1 HOLDS, 1 REFUTED." in text
    # summary table: the claim's summary keys, the margin of a counterexample, the time
    rows = summary_rows(json_report._encode_floats(_results().to_dict()))
    assert rows[0] == ("reporttest.sum-bound", "REFUTED", "worst_slack=-0.25, margin=0.25", "1.2s")
    assert rows[1][2] == "inputs_tried=80, worst_slack=0.5"  # no summary keys: first numbers


def test_counterexample_snippet_runs_and_reproduces_the_reported_values(tmp_path):
    doc = json.loads(to_json(_results(tmp_path)))
    claim = doc["claims"][0]
    code = counterexample_python(claim)
    assert code == claim_snippet_from_markdown(render_markdown(doc))
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<snippet>", "exec"), namespace)  # noqa: S102 - our own generated code
    # Z = [[0.75, 0.5], [1e-300, -0.0]]: the sum is 1.25 (+1e-300), above the claimed bound 1
    lhs, rhs = namespace["claim"].evaluate(**namespace["inputs"], p=namespace["p"])
    assert (float(lhs), float(rhs)) == (1.25, 1.0)
    assert namespace["p"]["N"] == 2
    printed = out.getvalue().splitlines()
    assert len(printed) == 2 and "1.25" in printed[0] and "1.25" in printed[1]


def claim_snippet_from_markdown(text: str) -> str:
    start = text.index("```python\n") + len("```python\n")
    return text[start:text.index("\n```", start)]


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                  elements=hs.floats(allow_nan=False, width=64)),
       hnp.arrays(np.int64, hs.integers(1, 6), elements=hs.integers(0, 9)))
def test_snippet_inputs_rebuild_the_exact_arrays(Z, y):
    cx = Counterexample(inputs={"Z": Z, "y": y}, lhs=0.0, rhs=1.0, margin=1.0, precision_digits=60)
    claim = {"id": "x.y", "kind": "inequality", "params": {}, "counterexample": None}
    code = counterexample_python(claim, json.loads(json.dumps(cx.to_dict())))
    inputs_src = code[code.index("inputs = {"):code.index("}\n", code.index("inputs = {")) + 1]
    namespace = {"np": np}
    exec(inputs_src, namespace)  # noqa: S102
    rebuilt = namespace["inputs"]
    assert rebuilt["Z"].dtype == np.float64 and rebuilt["y"].dtype == np.int64
    np.testing.assert_array_equal(rebuilt["Z"], Z)  # bit-exact, infinities included
    assert np.array_equal(np.signbit(rebuilt["Z"]), np.signbit(Z))
    np.testing.assert_array_equal(rebuilt["y"], y)


def test_timings_are_the_only_difference_between_equal_runs():
    a = json.loads(to_json(_results(seconds=1.0, started="2025-01-01T00:00:00+00:00")))
    b = json.loads(to_json(_results(seconds=9.0, started="2026-02-02T00:00:00+00:00")))
    assert a != b
    assert strip_timings(a) == strip_timings(b)
    assert "started" not in strip_timings(a) and "seconds" not in strip_timings(a)["claims"][0]
    assert strip_timings(a)["budget"] == {"seconds": 1.0, "examples": None}  # configuration, not timing


@pytest.mark.parametrize("content, match", [
    (None, "must be an existing results file"),
    ("", "the file is empty"),
    ('{"schema_version": 1, "claims": [', "complete JSON document .*line 1.*truncated"),
    ("[1, 2]", "a JSON object"),
    ('{"claims": []}', "no `schema_version` key"),
    ('{"schema_version": 99, "theorycheck_version": "9.9", "seed": 0, "command": "", "claims": []}',
     r"`schema_version` of `theorycheck report` must be 1.*theorycheck 9.9.*got 99"),
    ('{"schema_version": 1, "seed": 0, "claims": []}', "with the keys theorycheck_version, command"),
    ('{"schema_version": 1, "theorycheck_version": "0", "seed": 0, "command": "", "claims": [{"id": "a"}]}',
     r"`claims\[0\]`.*verdict"),
    ('{"schema_version": 1, "theorycheck_version": "0", "seed": 0, "command": "", "claims": '
     '[{"id": "a", "verdict": "MAYBE", "seconds": 0, "evidence": {}, "counterexample": null, "ablations": []}]}',
     "one of HOLDS, REFUTED"),
])
def test_reading_bad_results_files_gives_clear_errors(tmp_path, content, match):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InvalidArgumentError, match=match):
        read_json(path)


def test_truncated_real_document_is_reported_as_truncated(tmp_path):
    text = to_json(_results())
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InvalidArgumentError, match="is the file truncated"):
        read_json(path)
    with pytest.raises(InvalidArgumentError, match="not a folder"):
        read_json(tmp_path)


def test_validate_document_accepts_a_minimal_document():
    doc = {"schema_version": 1, "theorycheck_version": "0.1.0", "seed": 0, "command": "c", "claims": []}
    assert validate_document(doc) is doc
    assert "No claims were judged." in render_markdown(doc)


@pytest.mark.parametrize("value, text", [
    (0.1234567891, "0.123457"), (3, "3"), (True, "True"), ("inf", "inf"), (math.inf, "inf"),
    (float("nan"), "nan"), ([1.0, 2.5], "[1, 2.5]"), (list(range(10)), "[10 values]"), (None, "None"),
])
def test_format_number(value, text):
    assert format_number(value) == text


def test_summary_numbers_prefer_the_claims_summary_keys():
    claim = {"evidence": {"a": 1.0, "b": 2.0, "c": "text"}, "summary_keys": ["b", "missing"]}
    assert summary_numbers(claim) == [("b", 2.0)]
    claim["summary_keys"] = []
    assert summary_numbers(claim) == [("a", 1.0), ("b", 2.0)]


def test_summary_numbers_say_where_a_shrunk_counterexample_lives():
    claim = {"evidence": {"gap": 0.5}, "summary_keys": ["gap"], "params": {"N": 8, "K": 4, "lam": 0.1},
             "counterexample": {"margin": 0.25, "params": {"N": 2, "K": 4, "lam": 0.1}}}
    assert summary_numbers(claim) == [("gap", 0.5), ("margin", 0.25), ("counterexample_sizes", {"N": 2})]
    claim["counterexample"]["params"]["N"] = 8  # found at the judged sizes: nothing to add
    assert summary_numbers(claim) == [("gap", 0.5), ("margin", 0.25)]


# ----------------------------------------------------------------------------- theorycheck.testing

def test_assert_holds_and_assert_refuted(tmp_path):
    from theorycheck.claims import load_claims
    from theorycheck.engine import Budget, registry
    from theorycheck.testing import assert_holds, assert_refuted

    path = tmp_path / "pair.py"
    path.write_text(CLAIM_FILE.replace("reporttest.sum-bound", "reporttest.pair-sum").replace(
        "xp.scalar(1.0, Z)", "xp.sum(xp.abs(Z))").replace("is at most 1", "is at most the sum of |entries|"))
    with registry.temporary():
        (true_claim,) = load_claims(str(path))
        (false_claim,) = load_claims(_write(tmp_path))
        budget = Budget(seconds=2, examples=40)
        result = assert_holds(true_claim, N=2, budget=budget)
        assert str(result.verdict) == "HOLDS" and result.evidence["inputs_tried"] > 0
        with pytest.raises(AssertionError) as info:
            assert_holds(false_claim, N=2, budget=budget)
        message = str(info.value)
        assert message.startswith("claim reporttest.sum-bound does not hold: REFUTED")
        assert "```python" in message and "claim.evaluate(**inputs, p=p)" in message and "margin" in message
        refuted = assert_refuted(false_claim, N=2, budget=budget)
        assert refuted.counterexample.margin > 0
        with pytest.raises(AssertionError, match="expected to be refuted but is HOLDS"):
            assert_refuted(true_claim, N=1, budget=budget)
        with pytest.raises(InvalidArgumentError, match="K"):
            assert_holds(true_claim, K=3, budget=budget)
        with pytest.raises(TypeError, match="a Claim object or a registered claim id"):
            assert_holds(42)


def _write(tmp_path) -> str:
    path = tmp_path / "claims_for_report.py"
    path.write_text(CLAIM_FILE)
    return str(path)
