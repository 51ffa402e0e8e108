"""Where the CLI's output goes: `--json -` / `--report -` / `report -o -` on stdout (and then
nothing else there), `-q` / `-v` through logging, no printing in library code, and shell
completion through the optional shtab."""

from __future__ import annotations

import ast
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from theorycheck.cli import EXIT_REFUTED, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "user_claim.py")
FAST = ["--examples", "20", "--budget", "2"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A results document of the example file (one HOLDS, one REFUTED claim)."""
    path = tmp_path_factory.mktemp("out") / "r.json"
    assert main(["-q", "check", EXAMPLE, *FAST, "--json", str(path)]) == EXIT_REFUTED
    return path


# --------------------------------------------------------------------------------------
# stdout as the document
# --------------------------------------------------------------------------------------

def test_json_dash_writes_only_the_document_on_stdout(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", EXAMPLE, *FAST, "--json", "-")
    assert code == EXIT_REFUTED
    doc = json.loads(out)  # the whole of stdout parses
    assert {c["verdict"] for c in doc["claims"]} == {"HOLDS", "REFUTED"}
    assert "claim" in err and "REFUTED" in err  # the human table moved to stderr
    assert not (tmp_path / "-").exists()  # no file named "-"


def test_json_dash_with_a_report_file_keeps_stdout_clean(capsys, tmp_path):
    code, out, err = run(capsys, "check", EXAMPLE, *FAST, "--json", "-", "--report", tmp_path / "r.md")
    assert code == EXIT_REFUTED
    assert json.loads(out)["schema_version"] == 1
    assert (tmp_path / "r.md").read_text().startswith("# ")
    assert f"report: {tmp_path / 'r.md'}" in err


def test_json_dash_in_a_real_pipe():
    # a separate process, as a shell pipe runs it: stdout must parse even with the progress
    # machinery and every import's output around
    proc = subprocess.run([sys.executable, "-m", "theorycheck", "check", EXAMPLE + "::dimension_bound",
                           "--examples", "5", "--json", "-"], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert proc.returncode == EXIT_REFUTED, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["claims"][0]["counterexample"]["margin"] > 0
    assert "REFUTED" in proc.stderr


def test_report_dash_writes_markdown_on_stdout(capsys):
    code, out, err = run(capsys, "check", EXAMPLE, *FAST, "--report", "-")
    assert code == EXIT_REFUTED
    assert out.startswith("# ") and "REFUTED" in out
    # the terminal table (columns padded by two spaces) is on stderr, not in the Markdown
    assert "verdict  key numbers" not in out and "verdict  key numbers" in err


def test_two_outputs_on_stdout_are_refused(capsys):
    code, out, err = run(capsys, "check", EXAMPLE, "--json", "-", "--report", "-")
    assert code == EXIT_USAGE and out == ""
    assert "`--report`" in err and "stdout" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt, start", [("md", "# "), ("html", "<!DOCTYPE html>")])
def test_report_o_dash_is_stdout(capsys, saved, fmt, start):
    code, out, err = run(capsys, "report", saved, "-o", "-", "--format", fmt)
    assert code == 0 and out.lstrip().lower().startswith(start.lower()) and err == ""
    assert not any(line.startswith("report: ") for line in out.splitlines())  # no "file written" line
    code, plain, _ = run(capsys, "report", saved, "--format", fmt)
    assert plain == out


# --------------------------------------------------------------------------------------
# -q / -v
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_prints_nothing_and_keeps_the_exit_code(capsys, tmp_path, where):
    argv = ["check", EXAMPLE, *FAST, "--json", tmp_path / "q.json"]
    argv = ["-q", *argv] if where == "before" else [*argv, "-q"]
    code, out, err = run(capsys, *argv)
    assert code == EXIT_REFUTED and out == "" and err == ""
    assert json.loads((tmp_path / "q.json").read_text())["claims"]


def test_quiet_report_prints_no_path(capsys, saved, tmp_path):
    code, out, err = run(capsys, "-q", "report", saved, "-o", tmp_path / "x.md")
    assert code == 0 and out == "" and err == ""
    assert (tmp_path / "x.md").exists()


def test_verbose_logs_on_stderr_through_logging(capsys, tmp_path):
    root = logging.getLogger("theorycheck")
    handlers = list(root.handlers)
    code, out, err = run(capsys, "-v", "check", EXAMPLE, *FAST, "--json", tmp_path / "v.json")
    assert code == EXIT_REFUTED
    assert "theorycheck: judging 2 claim(s)" in err and "theorycheck: wrote JSON" in err
    assert "REFUTED" in out  # the table stays on stdout
    code, out, err = run(capsys, "-vv", "check", EXAMPLE, *FAST, "--json", tmp_path / "v.json")
    assert "theorycheck.report.json_report: DEBUG: wrote the JSON results document" in err
    code, out, err = run(capsys, "check", EXAMPLE, *FAST)
    assert "judging" not in err  # the default level is WARNING
    assert root.handlers == handlers  # main() leaves the logging configuration as it found it


def test_quiet_and_verbose_together_are_a_usage_error(capsys):
    code, out, err = run(capsys, "-q", "-v", "list")
    assert code == EXIT_USAGE and "contradict" in err


def _calls_print_or_stdout(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} print(")
        if (isinstance(node, ast.Attribute) and node.attr == "stdout" and isinstance(node.value, ast.Name)
                and node.value.id == "sys"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} sys.stdout")
    return found


def test_no_print_in_library_code():
    # only the command-line modules talk to the console; code strings such as the
    # pasteable counterexample's "print(...)" are not calls and do not count
    cli_modules = {ROOT / "theorycheck" / "cli.py", ROOT / "theorycheck" / "__main__.py",
                   ROOT / "theorycheck" / "empirical" / "cli.py"}
    offenders = [hit for path in sorted((ROOT / "theorycheck").rglob("*.py")) if path not in cli_modules
                 for hit in _calls_print_or_stdout(path)]
    assert offenders == []
    # the scan does see a call: it is not vacuous
    assert _calls_print_or_stdout(ROOT / "theorycheck" / "cli.py")


# --------------------------------------------------------------------------------------
# shell completion
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_print_completion(capsys, shell):
    # shtab is optional at run time but a dev dependency: the completion is tested in CI
    code, out, err = run(capsys, "--print-completion", shell)
    assert code == 0 and err == ""
    for word in ("check", "verify", "report", "list", "--json", "--print-completion", "supcon"):
        assert word in out, word
    checker = shutil.which(shell)
    if checker:  # the script is valid for its shell
        proc = subprocess.run([checker, "-n"], input=out, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr


def test_print_completion_without_shtab_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "shtab", None)  # makes `import shtab` raise ImportError
    code, out, err = run(capsys, "--print-completion", "bash")
    assert code == EXIT_USAGE and out == ""
    assert "pip install shtab" in err and "Traceback" not in err


def test_print_completion_rejects_unknown_shells(capsys):
    code, out, err = run(capsys, "--print-completion", "fish")
    assert code == EXIT_USAGE and "invalid choice" in err


def test_cli_docs_describe_the_new_flags():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for needle in ("--print-completion bash", "--print-completion zsh", "`-q`", "`-v`", "--json -",
                   "-o -", "logging"):
        assert needle in text, needle
