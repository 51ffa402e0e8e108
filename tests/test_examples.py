"""Every example in examples/ runs (a smoke test, as a user would run it).

* Python scripts (``examples/*.py`` other than ``test_*.py``) run in a subprocess and must
  exit 0 (examples exit non-zero when what they demonstrate does not happen).
* pytest suites (``examples/test_*.py``) run in a pytest subprocess and must pass.

``THEORYCHECK_EXAMPLE_BUDGET`` (seconds per judged claim, read by the scripts) and
``THEORYCHECK_EXAMPLES`` (examples per judged claim, read by theorycheck's pytest plugin)
keep them short.
"""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith(("test_", "_", "conftest")))
SUITES = sorted(EXAMPLES.glob("test_*.py"))
ENV = {**os.environ, "THEORYCHECK_EXAMPLE_BUDGET": "1", "THEORYCHECK_EXAMPLES": "40",
       "PYTHONDONTWRITEBYTECODE": "1"}


def _plugin_args() -> list[str]:
    # the plugin comes through its pytest11 entry point once installed; an install older than
    # the plugin needs it named (naming it when installed would register it twice)
    from importlib.metadata import entry_points

    if any(ep.value == "theorycheck.pytest_plugin" for ep in entry_points(group="pytest11")):
        return []
    return ["-p", "theorycheck.pytest_plugin"]


def test_examples_folder_has_a_script_and_a_suite():
    assert any(p.name == "user_claim.py" for p in SCRIPTS)
    assert any(p.name == "test_user_claims.py" for p in SUITES)
    assert any(p.name == "test_property_suite.py" for p in SUITES)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_script_runs(script):
    proc = subprocess.run([sys.executable, str(script)], cwd=EXAMPLES.parent, env=ENV, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"
    if script.name == "user_claim.py":
        assert "user.spread-bound: HOLDS (expected HOLDS)" in proc.stdout
        assert "user.dimension-bound: REFUTED (expected REFUTED)" in proc.stdout


def test_example_pytest_suites_pass():
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *_plugin_args(),
                           *[str(s) for s in SUITES]],
                          cwd=EXAMPLES.parent, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
    # the plugin's header: the examples-based budget the suites ran with
    assert "theorycheck " in proc.stdout and "seed=0, budget=40 examples per claim, no deadline" in proc.stdout
