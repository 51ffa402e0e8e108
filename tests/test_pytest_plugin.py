"""The pytest plugin, driven through pytest's own ``pytester``: options, ini keys and
environment variables parsed, the marker honoured, the header line, failure output that
shows the report and not the helper's source, the same seed giving the same outcome.

The inner runs pass ``-p theorycheck.pytest_plugin`` when the installed metadata does not
declare the ``pytest11`` entry point yet (an editable install older than the plugin), and
nothing when it does (pytest then loads it, and a second registration under another name
would be an error); ``test_packaging`` checks that the built wheel declares it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytester's runpytest runs in this process and forgets, after each test, the modules
# imported since the test began; numpy and torch cannot be imported twice, so the engine
# is loaded when this module is.
import theorycheck.engine.families  # noqa: F401
import theorycheck.engine.judge  # noqa: F401
import theorycheck.engine.search  # noqa: F401
import theorycheck.engine.shrink  # noqa: F401
import theorycheck.strategies  # noqa: F401
import theorycheck.report.json_report  # noqa: F401
import theorycheck.report.markdown  # noqa: F401
import theorycheck.testing  # noqa: F401

pytest_plugins = ["pytester"]



def plugin_args() -> tuple:
    """What a pytest command line needs to load the plugin here (see the module docstring)."""
    from importlib.metadata import entry_points

    if any(ep.value == "theorycheck.pytest_plugin" for ep in entry_points(group="pytest11")):
        return ()
    return ("-p", "theorycheck.pytest_plugin")



# Two claims as a user writes them next to their tests: one true, one false.
CLAIMS = '''
from theorycheck import Param, claim
from theorycheck import backend as xp
from theorycheck import strategies as st

def _inputs(p, active):
    return {"Z": st.sphere(p.N, 2, 1.0)}

@claim(id="mine.spread", cite=(), kind="inequality", register=False,
       statement="mean pairwise inner product of N unit vectors >= -1/(N-1)",
       params=(Param("N", 3, min=2, max=6),), inputs=_inputs, relation=">=")
def spread(Z, *, p):
    g = Z @ Z.T
    return (xp.sum(g) - xp.sum(xp.diag(g))) / (p.N * (p.N - 1)), xp.scalar(-1.0, Z) / (p.N - 1)

@claim(id="mine.wrong", cite=(), kind="inequality", register=False,
       statement="mean pairwise inner product of N unit vectors >= -1/(4(N-1)) (false)",
       params=(Param("N", 3, min=2, max=6),), inputs=_inputs, relation=">=")
def wrong(Z, *, p):
    g = Z @ Z.T
    return (xp.sum(g) - xp.sum(xp.diag(g))) / (p.N * (p.N - 1)), xp.scalar(-0.25, Z) / (p.N - 1)
'''


@pytest.fixture
def project(pytester, monkeypatch):
    for name in ("THEORYCHECK_BUDGET", "THEORYCHECK_EXAMPLES", "THEORYCHECK_SEED"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(my_claims=CLAIMS)
    pytester.syspathinsert()
    yield pytester
    sys.modules.pop("my_claims", None)


def _header(result) -> str:
    lines = [line for line in result.outlines if line.startswith("theorycheck ")]
    assert len(lines) == 1, result.outlines[:12]
    return lines[0]


def test_header_names_version_seed_and_the_examples_based_default(project):
    import theorycheck

    project.makepyfile(test_a="def test_a():\n    pass\n")
    result = project.runpytest(*plugin_args())
    result.assert_outcomes(passed=1)
    assert _header(result) == (f"theorycheck {theorycheck.__version__}: seed=0, "
                               "budget=100 examples per claim, no deadline")


def test_options_then_environment_then_ini(project, monkeypatch):
    project.makepyfile(test_a="def test_a():\n    pass\n")
    project.makeini("[pytest]\ntheorycheck_examples = 40\ntheorycheck_seed = 2\n")
    assert "seed=2, budget=40 examples per claim" in _header(project.runpytest(*plugin_args()))
    monkeypatch.setenv("THEORYCHECK_SEED", "9")
    assert "seed=9, budget=40 examples" in _header(project.runpytest(*plugin_args()))
    result = project.runpytest(*plugin_args(), "--theorycheck-seed", "5", "--theorycheck-examples", "30",
                               "--theorycheck-budget", "2.5")
    assert "seed=5, budget=30 examples per claim, deadline 2.5 s per claim" in _header(result)


def test_a_malformed_setting_is_a_usage_error_naming_it(project, monkeypatch):
    project.makepyfile(test_a="def test_a():\n    pass\n")
    result = project.runpytest(*plugin_args(), "--theorycheck-examples", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--theorycheck-examples must be an integer >= 1; got '0'*"])
    monkeypatch.setenv("THEORYCHECK_BUDGET", "soon")
    result = project.runpytest(*plugin_args())
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*environment variable THEORYCHECK_BUDGET must be a number of seconds*"])


def test_marker_sets_the_budget_and_seed_of_one_test(project):
    project.makepyfile(test_marked='''
import pytest
from theorycheck.testing import assert_holds, default_budget
from my_claims import spread

@pytest.mark.theorycheck(examples=12, seed=4)
def test_marked():
    budget = default_budget()
    assert (budget.examples, budget.seconds) == (12, None)
    result = assert_holds(spread, N=3)
    # 12 examples: half through hypothesis, half through the numpy sampler
    assert result.evidence["by_phase"]["hypothesis"] == 6
    assert result.evidence["by_phase"]["random"] == 6

@pytest.mark.theorycheck(budget=3.0)
def test_deadline_only():
    budget = default_budget()
    assert (budget.examples, budget.seconds) == (None, 3.0)

def test_unmarked():
    assert default_budget().examples == 30

@pytest.mark.theorycheck(examples="many")
def test_bad_marker():
    pass
''')
    result = project.runpytest(*plugin_args(), "--theorycheck-examples", "30")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*theorycheck(examples=...) must be an integer >= 1; got 'many'*"])


def test_failure_shows_the_report_not_the_helper_source(project):
    project.makepyfile(test_fail='''
from theorycheck.testing import claim_test
from my_claims import wrong, spread

test_wrong = claim_test(wrong, N=3)
test_spread = claim_test(spread, N=4)
test_wrong_documented = claim_test(wrong, expect="REFUTED", N=3)
''')
    result = project.runpytest(*plugin_args(), "--theorycheck-examples", "20")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "claim mine.wrong does not hold: REFUTED" in out
    assert "```python" in out and "Reproduce (Python)" in out and "```sh" not in out
    assert "assert_holds('mine.wrong', N=3, seed=0, budget=Budget(seconds=None, examples=20))" in out
    # the helpers hide their frames: none of their source lines is printed
    for helper_line in ("def assert_holds", "judge_for_test(claim", "__tracebackhide__", "run_checks("):
        assert helper_line not in out, helper_line


def _counterexample_text(result) -> str:
    # the counterexample block of the failure report (no timings in it)
    out = result.stdout.str()
    start, end = out.find("**Counterexample**"), out.find("**Reproduce")
    assert 0 <= start < end, out[-3000:]
    return out[start:end]


def test_the_same_seed_gives_the_same_outcome(project):
    project.makepyfile(test_seed='''
from theorycheck.testing import claim_test
from my_claims import wrong

test_wrong = claim_test(wrong, N=4)
''')
    runs = [project.runpytest(*plugin_args(), "--theorycheck-seed", "7", "--theorycheck-examples", "20")
            for _ in range(2)]
    for run in runs:
        run.assert_outcomes(failed=1)
    first, second = (_counterexample_text(r) for r in runs)
    assert "margin" in first and first == second


def test_pyproject_declares_the_pytest11_entry_point():
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert data["project"]["entry-points"]["pytest11"] == {"theorycheck": "theorycheck.pytest_plugin"}


def test_the_suite_in_docs_pytest_md_runs_as_documented(pytester):
    # the page's example file, run as a user would: two claims, three tests, all passing
    text = (Path(__file__).resolve().parents[1] / "docs" / "pytest.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    (suite,) = [b for b in blocks if b.startswith("# test_claims.py")]
    pytester.makepyfile(test_claims=suite)
    result = pytester.runpytest(*plugin_args(), "--theorycheck-examples", "30")
    result.assert_outcomes(passed=3)
    assert "theorycheck " in result.stdout.str() and "seed=0, budget=30 examples" in result.stdout.str()
