"""Every example in examples/ runs (a smoke test, as a user would run it).

* Python scripts (``examples/*.py`` other than ``test_*.py``) run in a subprocess and must
  exit 0 (examples exit non-zero when what they demonstrate does not happen).
* pytest suites (``examples/test_*.py``) run in a pytest subprocess and must pass.

``THEORYCHECK_EXAMPLE_BUDGET`` (seconds per judged claim) keeps them short; examples read it.
"""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith(("test_", "_", "conftest")))
SUITES = sorted(EXAMPLES.glob("test_*.py"))
ENV = {**os.environ, "THEORYCHECK_EXAMPLE_BUDGET": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def test_examples_folder_has_a_script_and_a_suite():
    assert any(p.name == "user_claim.py" for p in SCRIPTS)
    assert any(p.name == "test_user_claims.py" for p in SUITES)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_script_runs(script):
    proc = subprocess.run([sys.executable, str(script)], cwd=EXAMPLES.parent, env=ENV, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"
    if script.name == "user_claim.py":
        assert "user.spread-bound: HOLDS (expected HOLDS)" in proc.stdout
        assert "user.dimension-bound: REFUTED (expected REFUTED)" in proc.stdout


def test_example_pytest_suites_pass():
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *[str(s) for s in SUITES]],
                          cwd=EXAMPLES.parent, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
