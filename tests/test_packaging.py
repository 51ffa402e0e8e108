"""The package as a user installs and cites it: wheel contents, one version, CITATION.cff."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

import theorycheck
from theorycheck import MissingDependencyError
from theorycheck.citations import REFERENCES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # --no-isolation: build with the setuptools of this environment (a dev dependency)
    # rather than downloading one; the result is the same wheel a release would ship.
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                           str(ROOT)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (path,) = out.glob("theorycheck-*.whl")
    return path


@pytest.mark.slow
def test_wheel_ships_licence_typing_marker_and_schema(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert "theorycheck/py.typed" in names
    assert "theorycheck/report/results.schema.json" in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert f"\nVersion: {theorycheck.__version__}\n" in metadata
    assert "\nLicense-Expression: MIT\n" in metadata
    # scikit-learn is an extra, never a hard requirement
    hard = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not any("scikit-learn" in line for line in hard), hard
    assert any("scikit-learn" in line and 'extra == "digits"' in line for line in metadata.splitlines())



@pytest.mark.slow
def test_wheel_declares_the_pytest_plugin_entry_point(wheel):
    # pytest loads theorycheck.pytest_plugin through this entry point once the wheel is installed
    names = zipfile.ZipFile(wheel).namelist()
    text = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    section = text.split("[pytest11]", 1)[1].split("\n[", 1)[0]
    assert "theorycheck = theorycheck.pytest_plugin" in section
    assert "theorycheck/pytest_plugin.py" in names


def test_the_version_is_written_once():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "theorycheck._version.__version__" in pyproject
    hits = [p for p in (ROOT / "theorycheck").rglob("*.py")
            if re.search(r"^__version__\s*=", p.read_text(encoding="utf-8"), re.M)]
    assert [p.name for p in hits] == ["_version.py"]


def test_changelog_has_an_unreleased_section_and_the_current_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(theorycheck.__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, re.M)


def test_citation_cff_is_generated_from_the_package():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "write_citation_cff.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_citation_cff_names_the_version_a_year_and_every_shipped_reference():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["version"] == theorycheck.__version__
    preferred = cff["preferred-citation"]
    assert preferred["version"] == theorycheck.__version__ and isinstance(preferred["year"], int)
    assert preferred["authors"] and preferred["title"] == cff["title"]
    by_title = {ref["title"]: ref for ref in cff["references"]}
    for ref in REFERENCES.values():
        entry = by_title[ref.title]
        assert entry["year"] == ref.year
        assert [a["family-names"] for a in entry["authors"]] == [name.rpartition(" ")[2] for name in ref.authors]
    # every reference carries the fields CFF 1.2.0 requires of a reference
    assert all({"type", "title", "authors"} <= set(entry) for entry in cff["references"])


def test_license_file_is_mit():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    from theorycheck.empirical import data

    # a None entry in sys.modules makes `import sklearn.datasets` raise ImportError, as on
    # a machine where the extra was not installed
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'theorycheck\[digits\]'"):
        data.load_digits()


def test_cli_reports_a_missing_extra_as_a_usage_error(monkeypatch, capsys):
    from theorycheck.cli import main

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    code = main(["train", "--data", "digits", "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "theorycheck[digits]" in err and "Traceback" not in err
