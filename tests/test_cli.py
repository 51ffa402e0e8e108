"""The command line: help, version, list, check, verify (with a test family), report; exit codes;
the progress bar; claim families."""

import io
import json
import shutil
import subprocess
import sys
import uuid

import pytest

from theorycheck import InvalidArgumentError, __version__
from theorycheck.cli import main
from theorycheck.engine import registry
from theorycheck.engine.claim import Param
from theorycheck.engine.families import (
    Family,
    Option,
    exit_code,
    get_family,
    register_family,
    resolve_family_options,
    run_family,
    unregister_family,
)
from theorycheck.progress import Progress
from theorycheck.report.json_report import strip_timings

BUDGET = ["--budget", "1", "--examples", "40"]

CLAIMS_FILE = '''
from theorycheck import backend as xp, strategies as st
from theorycheck.engine.claim import Assumption, Param, claim

PARAMS = (Param("h", 3, "dimension", min=1, max=6),)


def vectors(p, active):
    return {"u": st.real_matrix(1, p.h, 1.0), "v": st.real_matrix(1, p.h, 1.0)}


@claim(id="{tag}.cauchy-schwarz", cite=("wang2020",), kind="inequality",
       statement="|<u, v>| <= ||u|| ||v||", params=PARAMS, inputs=vectors, relation="<=")
def cauchy_schwarz(u, v, *, p):
    return xp.abs(xp.sum(u * v)), xp.norm(u) * xp.norm(v)


@claim(id="{tag}.half-cauchy-schwarz", cite=("wang2020",), kind="inequality",
       statement="|<u, v>| <= ||u|| ||v|| / 2 (a factor too small: false)", params=PARAMS,
       inputs=vectors, relation="<=")
def half_cauchy_schwarz(u, v, *, p):
    return xp.abs(xp.sum(u * v)), xp.norm(u) * xp.norm(v) / 2
'''

BROKEN_CLAIM = '''
from theorycheck import strategies as st
from theorycheck.engine.claim import claim


@claim(id="{tag}.raises", cite=("wang2020",), kind="inequality", statement="raises", relation="<=",
       inputs=lambda p, active: {{"u": st.real_matrix(1, 2, 1.0)}})
def raises(u, *, p):
    raise ValueError("boom in the user's evaluator")
'''


@pytest.fixture()
def fresh_registry():
    with registry.temporary():
        yield


@pytest.fixture()
def claims_file(tmp_path, fresh_registry):
    """A user's claim file with a true and a false inequality; ids unique to this test."""
    tag = "clitest" + uuid.uuid4().hex[:8]
    path = tmp_path / "my_claims.py"
    path.write_text(CLAIMS_FILE.replace("{tag}", tag))
    return path, tag


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------- help, version, list

def test_help_version_and_no_command(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    for word in ("list", "check", "verify", "report", "exit codes:", "REFUTED", "INCONCLUSIVE"):
        assert word in out
    code, out, _ = run_cli(capsys, "--version")
    assert (code, out.strip()) == (0, f"theorycheck {__version__}")
    code, out, _ = run_cli(capsys)
    assert code == 2 and "usage: theorycheck" in out
    code, out, _ = run_cli(capsys, "check", "--help")
    assert code == 0 and "--param NAME=VALUE" in out and "--ablate" in out and "exit codes:" in out
    assert "--starts N" in out and "--draws N" in out


HEAVY = ("torch", "cvxpy", "theorycheck.claims", "theorycheck.engine.judge")


@pytest.mark.parametrize("argv", [["--help"], ["-q", "-h"], []])
def test_top_level_help_imports_no_torch_nor_claim_modules(argv):
    # a fresh interpreter: this test process has torch loaded already
    code = ("import sys\n"
            "from theorycheck.cli import main\n"
            f"rc = main({argv!r})\n"
            f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules], rc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "train" in done.stdout and "verify" in done.stdout  # the whole command list
    assert f"LOADED [] {0 if argv else 2}" in done.stdout


def test_help_of_a_subcommand_still_lists_the_families(capsys):
    code, out, _ = run_cli(capsys, "verify", "--help")
    assert code == 0 and "supcon" in out and "ufm" in out


def test_the_empirical_package_root_is_lazy_and_keeps_its_names():
    code = ("import sys\n"
            "import theorycheck.empirical as e\n"
            "print('TORCH', 'torch' in sys.modules)\n"
            "import theorycheck.empirical.random_labels  # imports the submodule train\n"
            "from theorycheck.empirical import train, GeometryTracker\n"
            "print('TRAIN', callable(train) and train.__module__, GeometryTracker.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "TORCH False" in done.stdout
    assert "TRAIN theorycheck.empirical.train GeometryTracker" in done.stdout


def test_list_shows_registered_claims_as_text_and_json(capsys, claims_file):
    from theorycheck.claims import load_claims

    path, tag = claims_file
    load_claims(str(path))  # registers the two claims
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    line = next(row for row in out.splitlines() if row.startswith(f"{tag}.cauchy-schwarz"))
    assert "wang2020" in line and "inequality" in line and "|<u, v>| <= ||u|| ||v||" in line
    code, out, _ = run_cli(capsys, "list", "--json")
    assert code == 0
    listing = {item["id"]: item for item in json.loads(out)}
    item = listing[f"{tag}.half-cauchy-schwarz"]
    assert item["source"] == ["wang2020"] and item["kind"] == "inequality"
    assert item["params"] == [{"name": "h", "default": 3, "description": "dimension"}]


def test_console_script_entry_point():
    exe = shutil.which("theorycheck")
    cmd = [exe] if exe else [sys.executable, "-m", "theorycheck"]
    proc = subprocess.run(cmd + ["list", "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(proc.stdout), list)


def test_python_dash_m_entry_point(monkeypatch, capsys):
    import runpy

    # An installed theorycheck declares a pytest11 entry point, so pytest marks its modules for
    # assertion rewriting; runpy needs a loader with get_code(), which pytest's rewrite hook lacks.
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path
                                           if type(f).__name__ != "AssertionRewritingHook"])
    monkeypatch.setattr(sys, "argv", ["theorycheck", "--version"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("theorycheck", run_name="__main__", alter_sys=False)
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"theorycheck {__version__}"


def test_load_all_picks_up_a_new_claim_module(tmp_path, monkeypatch, fresh_registry, capsys):
    import theorycheck.claims as claims_pkg

    tag = "zz" + uuid.uuid4().hex[:8]
    (tmp_path / f"{tag}.py").write_text(CLAIMS_FILE.replace("{tag}", tag))
    (tmp_path / "_private_helper.py").write_text("raise RuntimeError('private modules are not claim modules')")
    monkeypatch.setattr(claims_pkg, "__path__", [*claims_pkg.__path__, str(tmp_path)])
    try:
        assert tag in claims_pkg.load_all()
        assert registry.get(f"{tag}.cauchy-schwarz").kind == "inequality"
        code, out, _ = run_cli(capsys, "list")
        assert code == 0 and f"{tag}.half-cauchy-schwarz" in out
    finally:
        sys.modules.pop(f"theorycheck.claims.{tag}", None)
        if hasattr(claims_pkg, tag):
            delattr(claims_pkg, tag)


# ----------------------------------------------------------------------------- check

def test_check_true_claim_exits_0_and_writes_reports(capsys, claims_file, tmp_path):
    path, tag = claims_file
    json_path, md_path = tmp_path / "out" / "r.json", tmp_path / "out" / "r.md"
    code, out, err = run_cli(capsys, "check", f"{path}::cauchy_schwarz", *BUDGET, "--json", json_path,
                             "--report", md_path)
    assert code == 0, err
    assert f"{tag}.cauchy-schwarz" in out and "HOLDS" in out
    assert f"JSON: {json_path}" in out and f"report: {md_path}" in out
    doc = json.loads(json_path.read_text())
    (claim,) = doc["claims"]
    assert claim["verdict"] == "HOLDS" and claim["counterexample"] is None
    assert claim["reproduce"] == f"theorycheck check {path}::cauchy_schwarz --seed 0 --budget 1 --examples 40"
    assert "## " + f"{tag}.cauchy-schwarz: HOLDS" in md_path.read_text()


def test_check_false_claim_exits_1_with_counterexample_deterministically(capsys, claims_file, tmp_path):
    path, tag = claims_file
    docs = []
    json_path, md_path = tmp_path / "r.json", tmp_path / "r.md"
    for _ in range(2):
        code, out, err = run_cli(capsys, "check", f"{path}::half_cauchy_schwarz", "--param", "h=2", *BUDGET,
                                 "--seed", "7", "--json", json_path, "--report", md_path)
        assert code == 1, err
        assert "REFUTED" in out and "claim.evaluate(**inputs, p=p)" in out  # counterexample on stdout
        docs.append(json.loads(json_path.read_text()))
    assert strip_timings(docs[0]) == strip_timings(docs[1])  # same seed, same JSON apart from timings
    claim = docs[0]["claims"][0]
    cx = claim["counterexample"]
    assert claim["verdict"] == "REFUTED" and claim["params"] == {"h": 2}
    assert set(cx) >= {"inputs", "lhs", "rhs", "margin", "precision_digits"}
    assert cx["margin"] > 0 and cx["precision_digits"] >= 50 and cx["lhs"] > cx["rhs"]
    markdown = md_path.read_text()
    assert "```python" in markdown and "```bibtex" in markdown and "Wang and Isola (2020)" in markdown
    assert f"theorycheck check {path}::half_cauchy_schwarz --param h=2 --seed 7" in markdown
    # the pasteable snippet rebuilds the inputs and shows the violation
    start = markdown.index("```python\n") + len("```python\n")
    namespace: dict = {}
    exec(markdown[start:markdown.index("\n```", start)], namespace)  # noqa: S102 - generated by us
    capsys.readouterr()
    lhs, rhs = namespace["claim"].evaluate(**namespace["inputs"], p=namespace["p"])
    assert float(lhs) > float(rhs)


def test_check_every_claim_of_a_file_and_rerender_the_report(capsys, claims_file, tmp_path):
    path, tag = claims_file
    json_path, md_path = tmp_path / "all.json", tmp_path / "all.md"
    code, out, err = run_cli(capsys, "check", path, *BUDGET, "--json", json_path, "--report", md_path)
    assert code == 1, err
    doc = json.loads(json_path.read_text())
    assert [c["id"] for c in doc["claims"]] == [f"{tag}.cauchy-schwarz", f"{tag}.half-cauchy-schwarz"]
    assert [c["verdict"] for c in doc["claims"]] == ["HOLDS", "REFUTED"]
    assert doc["claims"][1]["target"] == f"{path}::half_cauchy_schwarz"  # loads exactly that claim
    # `theorycheck report` re-renders the saved JSON to the very same Markdown
    code, out, err = run_cli(capsys, "report", json_path, "-o", tmp_path / "again.md")
    assert code == 0, err
    assert (tmp_path / "again.md").read_text() == md_path.read_text()
    code, out, _ = run_cli(capsys, "report", json_path)
    assert code == 0 and out == md_path.read_text()


def test_check_a_module_target(capsys, tmp_path, monkeypatch, fresh_registry):
    tag = "clitest" + uuid.uuid4().hex[:8]
    package = tmp_path / f"pkg_{tag}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "claims.py").write_text(CLAIMS_FILE.replace("{tag}", tag))
    monkeypatch.syspath_prepend(str(tmp_path))
    json_path = tmp_path / "m.json"
    code, _, err = run_cli(capsys, "check", f"pkg_{tag}.claims:cauchy_schwarz", *BUDGET, "--json", json_path)
    assert code == 0, err
    code, _, err = run_cli(capsys, "check", f"pkg_{tag}.claims", *BUDGET, "--json", json_path)
    assert code == 1, err
    doc = json.loads(json_path.read_text())
    assert [c["target"] for c in doc["claims"]] == [f"pkg_{tag}.claims:cauchy_schwarz",
                                                    f"pkg_{tag}.claims:half_cauchy_schwarz"]
    sys.modules.pop(f"pkg_{tag}.claims", None)
    sys.modules.pop(f"pkg_{tag}", None)


def test_check_a_registered_claim_by_id(capsys, claims_file, tmp_path):
    from theorycheck.claims import load_claims

    path, tag = claims_file
    load_claims(str(path))
    json_path = tmp_path / "id.json"
    code, out, err = run_cli(capsys, "check", f"{tag}.half-cauchy-schwarz", "--param", "h=2", *BUDGET,
                             "--json", json_path)
    assert code == 1, err
    claim = json.loads(json_path.read_text())["claims"][0]
    assert claim["target"] is None
    assert claim["reproduce"].startswith(f"theorycheck check {tag}.half-cauchy-schwarz --param h=2 --seed 0")


OPTIMUM_FILE = '''
from theorycheck import strategies as st
from theorycheck.engine.claim import Param, claim


@claim(id="{tag}.circle", cite=("wang2020",), kind="optimum", statement="min of -x_0 on the circle is -1",
       params=(Param("starts", 1, "a parameter of the statement that happens to be called starts", min=1),),
       inputs=lambda p, active: {"x": st.sphere(1, 2, 1.0)}, optimum=lambda p: -1.0)
def circle(x, *, p):
    return -x[0, 0]
'''


def test_check_search_options_set_the_engine_and_a_param_named_starts_does_not(capsys, tmp_path, fresh_registry):
    tag = "clitest" + uuid.uuid4().hex[:8]
    path = tmp_path / "optimum_claims.py"
    path.write_text(OPTIMUM_FILE.replace("{tag}", tag))
    json_path = tmp_path / "o.json"
    # --param starts= sets the claim's own parameter; --starts/--steps set the engine
    code, out, err = run_cli(capsys, "check", f"{path}::circle", "--param", "starts=7", "--starts", "3",
                             "--steps", "40", "--budget", "30", "--json", json_path)
    assert code == 0, err
    claim = json.loads(json_path.read_text())["claims"][0]
    assert claim["params"] == {"starts": 7}
    assert claim["evidence"]["n_starts"] == 3 and claim["evidence"]["max_steps"] == 40
    assert "--param starts=7" in claim["reproduce"] and "--starts 3 --steps 40" in claim["reproduce"]


@pytest.mark.parametrize("argv, message", [
    (["check", "{dir}/missing.py::x"], "must be the path of an existing Python file"),
    (["check", "{path}::nope"], "must be a claim defined in .* \\(there: cauchy_schwarz, half_cauchy_schwarz"),
    (["check", "{path}::cauchy_schwarz", "--param", "K=5"], "--param.* must be a parameter of the claim\\(s\\) \\(h\\)"),
    (["check", "{path}::cauchy_schwarz", "--param", "h"], "NAME=VALUE"),
    (["check", "{path}::cauchy_schwarz", "--param", "h=zero"], "--param h.* must be an integer"),
    (["check", "{path}::cauchy_schwarz", "--param", "h=99"], "--param h.* must be an integer <= 6"),
    (["check", "{path}::cauchy_schwarz", "--seed", "-1"], "--seed.* must be an integer >= 0"),
    (["check", "{path}::cauchy_schwarz", "--budget", "soon"], "--budget.* must be a number of seconds"),
    (["check", "{path}::cauchy_schwarz", "--budget", "0"], "--budget.*> 0"),
    (["check", "{path}::cauchy_schwarz", "--param", "starts=4"], "--param.* starts is an engine setting: use --starts N"),
    (["check", "{path}::cauchy_schwarz", "--steps", "0"], "--steps.* must be an integer >= 1"),
    (["check", "no_such_package_xyz.claims:thing"], "must be an importable module"),
    (["check", "{dir}/notes.txt"], "FILE.py::NAME"),
    (["check"], "the following arguments are required: TARGET"),
    (["verify", "no-such-family"], "invalid choice"),
    (["verify"], "name a family"),
    (["report", "{dir}/missing.json"], "must be an existing results file"),
    (["list", "--bogus"], "unrecognized arguments"),
])
def test_usage_and_input_errors_exit_2_with_one_line(capsys, claims_file, argv, message):
    path, _ = claims_file
    argv = [a.format(dir=path.parent, path=path) for a in argv]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    import re

    assert re.search(message, err), err


def test_user_file_errors_are_one_line_errors(capsys, tmp_path, fresh_registry):
    tag = "clitest" + uuid.uuid4().hex[:8]
    broken = tmp_path / "broken.py"
    broken.write_text(BROKEN_CLAIM.format(tag=tag))
    code, _, err = run_cli(capsys, "check", f"{broken}::raises", *BUDGET)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"{tag}.raises" in err and "ValueError" in err and "boom" in err
    bad_syntax = tmp_path / "syntax.py"
    bad_syntax.write_text("x = 1\ndef oops(:\n")
    code, _, err = run_cli(capsys, "check", bad_syntax)
    assert code == 2 and "SyntaxError at line 2" in err and len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- verify

@pytest.fixture()
def test_family(claims_file):
    from theorycheck.claims import load_claims

    path, tag = claims_file
    load_claims(str(path))

    def checks(p):
        chosen = {"true": ["cauchy-schwarz"], "false": ["half-cauchy-schwarz"],
                  "both": ["cauchy-schwarz", "half-cauchy-schwarz"]}[p.mode]
        return [(f"{tag}.{name}", {"h": p.h}) for name in chosen]

    fam = Family(f"fam-{tag}", "a family registered by the test",
                 (Param("h", 2, "dimension of the vectors", min=1, max=6),
                  Param("mode", "true", "which claims to run", type=str, choices=("true", "false", "both"))),
                 checks)
    register_family(fam)
    yield fam, tag
    unregister_family(fam.name)


def test_verify_runs_a_registered_family(capsys, test_family, tmp_path):
    fam, tag = test_family
    code, out, _ = run_cli(capsys, "verify", "--help")
    assert code == 0 and fam.name in out and "a family registered by the test" in out
    code, out, _ = run_cli(capsys, "verify", fam.name, "--help")
    assert code == 0 and "--h INT" in out and "--mode STR" in out and "true, false, both" in out
    json_path = tmp_path / "v.json"
    code, out, err = run_cli(capsys, "verify", fam.name, "--h", "3", "--mode", "both", *BUDGET,
                             "--json", json_path, "--report", tmp_path / "v.md")
    assert code == 1, err
    table = out.splitlines()
    assert table[0].split() == ["claim", "verdict", "key", "numbers", "time", "strength"]
    assert any(row.startswith(f"{tag}.cauchy-schwarz") and "HOLDS" in row for row in table)
    assert any(row.startswith(f"{tag}.half-cauchy-schwarz") and "REFUTED" in row for row in table)
    doc = json.loads(json_path.read_text())
    assert doc["family"] == fam.name and doc["options"] == {"h": 3, "mode": "both"}
    assert all(c["params"] == {"h": 3} for c in doc["claims"])
    expected = f"theorycheck verify {fam.name} --h 3 --mode both --seed 0 --budget 1 --examples 40"
    assert doc["claims"][0]["reproduce"] == expected
    assert doc["command"].startswith(f"theorycheck verify {fam.name} --h 3")
    code, out, err = run_cli(capsys, "verify", fam.name, *BUDGET)  # defaults: h=2, mode=true
    assert code == 0, err
    assert "HOLDS" in out and "half" not in out


def test_verify_all_runs_every_family_with_defaults(capsys, test_family, tmp_path, monkeypatch):
    from theorycheck.engine import families

    fam, tag = test_family
    # only the test's family: the shipped families are judged by their own tests
    monkeypatch.setattr(families, "_FAMILIES", {fam.name: fam})
    monkeypatch.setattr("theorycheck.cli._load_shipped", lambda: None)
    json_path = tmp_path / "all.json"
    code, out, err = run_cli(capsys, "verify", "all", *BUDGET, "--json", json_path,
                                "--out", tmp_path / "out")  # never overwrite the real theorycheck-out/
    assert code == 0, err
    doc = json.loads(json_path.read_text())
    assert doc["family"] == "all" and [c["id"] for c in doc["claims"]] == [f"{tag}.cauchy-schwarz"]


@pytest.mark.parametrize("options, message", [
    (["--h", "0"], "`--h` of `theorycheck verify fam-.*` must be an integer >= 1; got 0"),
    (["--h", "two"], "`--h` .* must be an integer"),
    (["--mode", "maybe"], "`--mode` .* must be one of 'true', 'false', 'both'"),
    (["--K", "3"], "unrecognized arguments: --K 3"),
])
def test_verify_bad_family_options_exit_2(capsys, test_family, options, message):
    import re

    fam, _ = test_family
    code, _, err = run_cli(capsys, "verify", fam.name, *options)
    assert code == 2 and len(err.strip().splitlines()) == 1 and re.search(message, err), err


def test_family_registry_and_options(test_family):
    fam, _ = test_family
    assert get_family(fam.name) is fam
    with pytest.raises(InvalidArgumentError, match="did you mean"):
        get_family(fam.name[:-1])
    with pytest.raises(InvalidArgumentError, match="already registered"):
        register_family(Family(fam.name, "again", (), lambda p: []))
    p = resolve_family_options(fam, {"mode": "false"})
    assert (p.h, p.mode) == (2, "false")
    with pytest.raises(InvalidArgumentError, match="one of the family's options \\(--h, --mode\\)"):
        resolve_family_options(fam, {"K": 3})
    with pytest.raises(InvalidArgumentError, match="--h"):
        run_family(fam.name, {"h": 99})


def test_family_option_with_a_derived_default(capsys, test_family):
    fam, tag = test_family
    seen = []

    def checks(p):
        seen.append(dict(p))
        h = p.h if p.h is not None else p.K - 1  # derived from K when not given
        return [(f"{tag}.cauchy-schwarz", {"h": h})]

    derived = Family(f"derived-{tag}", "derived defaults",
                     (Param("K", 3, "classes", min=2, max=7), Option("h", None, "dimension (default K-1)", min=1)),
                     checks)
    register_family(derived)
    try:
        code, out, _ = run_cli(capsys, "verify", derived.name, "--help")
        assert code == 0 and "default derived from the others" in out
        code, out, err = run_cli(capsys, "verify", derived.name, "--K", "4", *BUDGET)
        assert code == 0, err
        assert seen[-1] == {"K": 4, "h": None}
        code, _, err = run_cli(capsys, "verify", derived.name, "--h", "0")
        assert code == 2 and "`--h` of `theorycheck verify derived-" in err and "integer >= 1" in err
    finally:
        unregister_family(derived.name)


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="Upper"), "lower-case"),
    (dict(name="all"), "reserved"),
    (dict(params=(Param("seed", 0, "clashes"),)), "reserved option names"),
    (dict(params=(Param("K", 2), Param("K", 3))), "distinct names"),
    (dict(checks="not callable"), "callable"),
])
def test_bad_family_definitions(kwargs, message):
    base = dict(name="okname", description="d", params=(), checks=lambda p: [])
    base.update(kwargs)
    with pytest.raises(InvalidArgumentError, match=message):
        Family(**base)


def test_exit_code_rules():
    assert exit_code(["HOLDS", "VACUOUS"]) == 0
    assert exit_code([]) == 0
    assert exit_code(["HOLDS", "INCONCLUSIVE"]) == 3
    assert exit_code(["INCONCLUSIVE", "REFUTED", "HOLDS"]) == 1


# ----------------------------------------------------------------------------- progress

class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal():
    quiet = io.StringIO()
    with Progress(3, stream=quiet, delay=0.0) as bar:
        bar.advance("a")
    assert quiet.getvalue() == "" and bar.enabled is False

    term = FakeTerminal()
    with Progress(2, stream=term, delay=0.0, expected_seconds=10.0, interval=0.01) as bar:
        bar.start_step("first.claim")
        bar.advance("first.claim")
        assert "[" + "#" * 12 + "." * 12 + "] 1/2" in bar.render()
        shown = term.getvalue()
    assert "\r[" in shown and "1/2" in shown and "first.claim" in shown
    assert term.getvalue().endswith("\r")  # the line is cleared when the run ends


def test_progress_waits_for_the_delay():
    term = FakeTerminal()
    with Progress(2, stream=term, delay=60.0, interval=0.01) as bar:
        bar.advance("x")
    assert term.getvalue() == ""
    with pytest.raises(InvalidArgumentError):
        Progress(-1)


def test_progress_estimate_comes_from_finished_steps_never_from_the_cap(monkeypatch):
    """Before a step finished there is no estimate (a budget cap is not one); then the mean
    step time times the number of steps, capped by expected_seconds."""
    import theorycheck.progress as progress_module

    now = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    bar = Progress(4, stream=io.StringIO(), enabled=False, expected_seconds=150.0)
    now[0] += 3.0
    assert bar.estimate() is None and "~" not in bar.render()  # not "~2m30s"
    bar.advance("a")  # one step in 3 s: 4 steps take about 12 s
    now[0] += 1.0
    assert bar.estimate() == pytest.approx(12.0) and "/ ~12.0s" in bar.render()
    now[0] += 20.0  # a slow second step: the estimate never falls behind the elapsed time
    assert bar.estimate() == pytest.approx(24.0)
    capped = Progress(10, stream=io.StringIO(), enabled=False, expected_seconds=5.0)
    now[0] += 4.0
    capped.advance("slow")
    assert capped.estimate() == pytest.approx(5.0)  # 40 s by the rate, but the cap bounds it
    bar.advance(n=3)
    assert "~" not in bar.render()  # finished: no estimate


def test_table_says_why_a_verdict_is_inconclusive(capsys):
    from theorycheck.cli import _print_table

    doc = {"claims": [
        {"id": "a.b", "verdict": "INCONCLUSIVE", "seconds": 1.0,
         "evidence": {"stopped_by_deadline": True, "unconverged": 2}, "counterexample": None, "ablations": []},
        {"id": "a.c", "verdict": "INCONCLUSIVE", "seconds": 1.0, "evidence": {"reason": "x " * 80},
         "counterexample": None, "ablations": []},
        {"id": "a.d", "verdict": "HOLDS", "seconds": 1.0, "evidence": {"reason": "not shown"},
         "counterexample": None, "ablations": []}]}
    _print_table(doc, sys.stdout)
    out = capsys.readouterr().out.splitlines()
    assert "INCONCLUSIVE (time budget ran out; 2 start(s) did not converge)" in out[2]
    assert "INCONCLUSIVE (x x x" in out[3] and "…)" in out[3] and len(out[3]) < 140  # shortened
    assert "not shown" not in out[4]
