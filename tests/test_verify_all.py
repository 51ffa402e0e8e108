"""`theorycheck verify all`: every registered family with shared defaults, empirical claims only
with --empirical, --K applied where a family has K, the summary table, the report folder
(results.json, report.md, report.html, references.bib) and its re-rendering; the default
per-claim budget; planning errors before any work."""

import html.parser
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as hst

from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck.cli import main
from theorycheck.engine import families, registry
from theorycheck.engine.claim import Param, claim
from theorycheck.engine.families import (
    VERIFY_ALL_CLAIM_SECONDS,
    VERIFY_ALL_TARGET_SECONDS,
    Family,
    Option,
    default_all_budget,
    plan_all,
    run_all,
)
from theorycheck.engine.results import Budget, KindOutcome, Verdict

FAST = ["--budget", "0.5", "--examples", "20"]


@pytest.fixture()
def two_families(monkeypatch):
    """Two small families registered alone: ``geo`` (K-dependent inequalities, one false) and
    ``emp`` (an empirical claim that records that it ran)."""
    tag = "va" + uuid.uuid4().hex[:8]
    ran = []
    with registry.temporary():
        def vectors(p, active):
            return {"u": st.real_matrix(1, p.h, 1.0), "v": st.real_matrix(1, p.h, 1.0)}

        params = (Param("h", 2, "dimension", min=1, max=8),)
        claim(id=f"{tag}.cs", cite=("wang2020",), kind="inequality", statement="|<u,v>| <= |u||v|",
              params=params, inputs=vectors, relation="<=")(
            lambda u, v, *, p: (xp.abs(xp.sum(u * v)), xp.norm(u) * xp.norm(v)))
        claim(id=f"{tag}.half", cite=("graf2021",), kind="inequality", statement="|<u,v>| <= |u||v|/2",
              params=params, inputs=vectors, relation="<=")(
            lambda u, v, *, p: (xp.abs(xp.sum(u * v)), xp.norm(u) * xp.norm(v) / 2))

        def run(p, budget, seed):
            ran.append(p.steps)
            return KindOutcome(Verdict.HOLDS, {"steps": p.steps, "seconds_given": budget.seconds})

        claim(id=f"{tag}.trained", cite=("graf2021",), kind="empirical", statement="training gets there",
              params=(Param("steps", 3, "steps", min=1),))(run)

        geo = Family("geo", "geometry", (Option("K", 3, "classes", min=2, max=6),
                                         Option("wrong", False, "include the false claim", type=bool)),
                     lambda p: [(f"{tag}.cs", {"h": p.K - 1})] + ([(f"{tag}.half", {"h": p.K - 1})]
                                                                    if p.wrong else []))
        emp = Family("emp", "training", (Option("steps", 3, "steps", min=1),),
                     lambda p: [(f"{tag}.trained", {"steps": p.steps})])
        monkeypatch.setattr(families, "_FAMILIES", {"geo": geo, "emp": emp})
        monkeypatch.setattr("theorycheck.cli._load_shipped", lambda: None)
        yield tag, ran


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.text = []

    def handle_data(self, data):
        self.text.append(data)


def test_verify_all_end_to_end_writes_the_report_folder(capsys, two_families, tmp_path):
    tag, ran = two_families
    out_dir = tmp_path / "out"
    code, out, err = run_cli(capsys, "verify", "all", "--K", "4", *FAST, "--out", out_dir)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["family", "claim", "verdict", "key", "numbers", "time", "strength"]
    assert any(line.split()[:3] == ["geo", f"{tag}.cs", "HOLDS"] for line in lines)
    assert ran == [] and f"not run (add --empirical): {tag}.trained" in out
    for name in ("results.json", "report.md", "report.html", "references.bib"):
        assert (out_dir / name).is_file() and str(out_dir / name) in out
    doc = json.loads((out_dir / "results.json").read_text())
    assert doc["family"] == "all" and doc["options"]["K"] == 4 and doc["options"]["empirical"] is False
    assert doc["options"]["families"] == ["geo"] and doc["options"]["skipped_empirical"] == [f"{tag}.trained"]
    assert [(c["id"], c["family"], c["params"]) for c in doc["claims"]] == [(f"{tag}.cs", "geo", {"h": 3})]
    assert doc["claims"][0]["reproduce"] == "theorycheck verify geo --K 4 --wrong False --seed 0 --budget 0.5 " \
                                            "--examples 20"
    assert "@inproceedings{wang2020," in (out_dir / "references.bib").read_text()
    parser = _Ids()
    parser.feed((out_dir / "report.html").read_text())
    assert f"{tag}.cs" in "".join(parser.text)
    # the saved run re-renders to the same bytes, without recomputing
    for name in ("report.md", "report.html"):
        code, _, err = run_cli(capsys, "report", out_dir / "results.json", "-o", tmp_path / name)
        assert code == 0, err
        assert (tmp_path / name).read_bytes() == (out_dir / name).read_bytes()


def test_verify_all_with_empirical_runs_the_training_claims(capsys, two_families, tmp_path):
    tag, ran = two_families
    code, out, err = run_cli(capsys, "verify", "all", "--empirical", *FAST, "--out", tmp_path / "o",
                             "--json", tmp_path / "extra.json")
    assert code == 0, err
    assert ran == [3]
    doc = json.loads((tmp_path / "extra.json").read_text())
    assert [c["family"] for c in doc["claims"]] == ["emp", "geo"]
    assert doc["claims"][0]["evidence"]["seconds_given"] == 0.5
    assert doc == json.loads((tmp_path / "o" / "results.json").read_text())


def test_verify_all_exit_code_and_counterexample_follow_the_claims(capsys, two_families, tmp_path):
    tag, _ = two_families
    geo = families._FAMILIES["geo"]  # the fixture's registry copy: restored afterwards
    families._FAMILIES["geo"] = Family("geo", "geometry with the false claim", geo.params,
                                       lambda p: geo.checks(type(p)({**dict(p), "wrong": True})))
    code, out, _ = run_cli(capsys, "verify", "all", *FAST, "--out", tmp_path / "o")
    assert code == 1
    assert f"1 refuted (counterexamples as Python in {tmp_path / 'o' / 'report.md'}" in out
    assert f"  {tag}.half: margin " in out and "confirmed with 60 digits" in out
    html_text = (tmp_path / "o" / "report.html").read_text()
    assert "verdict-REFUTED" in html_text and f"{tag}.half" in html_text


@pytest.mark.parametrize("argv, message", [
    (["--K", "1"], "`--K` of `theorycheck verify geo` must be an integer >= 2; got 1"),
    (["--K", "9"], "`--K` of `theorycheck verify geo` must be an integer <= 6; got 9"),
    (["--K", "x"], "`--K` of `theorycheck verify geo` must be an integer"),
    (["--budget", "0"], "`--budget` of `theorycheck` must be"),
])
def test_verify_all_bad_options_exit_2_before_any_work(capsys, two_families, tmp_path, argv, message):
    tag, ran = two_families
    code, out, err = run_cli(capsys, "verify", "all", "--empirical", *argv, "--out", tmp_path / "o")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert ran == [] and not (tmp_path / "o").exists()


def test_verify_all_out_must_be_a_folder(capsys, two_families, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    code, _, err = run_cli(capsys, "verify", "all", *FAST, "--out", target)
    assert code == 2 and "`--out` of `theorycheck verify all` must be a folder" in err


def test_plan_all_budgets_and_reproduce_commands(two_families):
    tag, _ = two_families
    plans = plan_all({"K": 5})
    assert [pf.family.name for pf in plans] == ["emp", "geo"]
    assert plans[0].checks == () and plans[0].skipped == (f"{tag}.trained",)
    geo = plans[1]
    assert geo.budget == default_all_budget(1) and geo.checks[0].params == {"h": 4}
    assert "--budget 5" in geo.checks[0].reproduce and "--K 5" in geo.checks[0].reproduce
    own = plan_all(family_budgets={"geo": 0.7}, empirical=True)
    assert [pf.budget.seconds for pf in own] == [default_all_budget(2).seconds, 0.7]
    given_budget = plan_all(budget=Budget(seconds=2.0, examples=30), family_budgets={"geo": 0.7})
    assert {pf.budget for pf in given_budget} == {Budget(seconds=2.0, examples=30)}
    with pytest.raises(ValueError, match="`nope` of `theorycheck verify all` must be an option of at least one"):
        plan_all({"nope": 1})


def test_run_all_in_python_matches_the_family_runs(two_families):
    tag, _ = two_families
    res = run_all({"K": 3}, budget=Budget(examples=20), progress=False)
    single = families.run_family("geo", {"K": 3}, budget=Budget(examples=20), progress=False)
    strip = lambda d: {k: v for k, v in d.items() if k != "seconds"}  # noqa: E731
    assert [strip(e.to_dict()) for e in res.entries] == [strip(e.to_dict()) for e in single.entries]
    assert res.exit_code() == 0 and res.to_dict()["family"] == "all"


@given(n=hst.integers(0, 10_000))
def test_default_budget_shares_the_target_within_bounds(n):
    lo, hi = VERIFY_ALL_CLAIM_SECONDS
    seconds = default_all_budget(n).seconds
    assert lo <= seconds <= hi
    if n:
        assert n * seconds <= VERIFY_ALL_TARGET_SECONDS + 1e-9 or seconds == lo
        assert default_all_budget(n + 1).seconds <= seconds


def test_a_stand_in_for_a_registered_claim_is_judged_like_it(two_families):
    """A family may hand over a stand-in object (e.g. one that reports INCONCLUSIVE when a
    certificate fails); it is skipped only when the registered claim is empirical."""
    import dataclasses

    tag, _ = two_families
    stand_in = dataclasses.replace(registry.get(f"{tag}.cs"), kind="empirical", evaluate=None, inputs=None,
                                   run=lambda p, budget, seed: KindOutcome(Verdict.INCONCLUSIVE, {"why": "x"}))
    families._FAMILIES["geo"] = Family("geo", "stand-in", (), lambda p: [(stand_in, {"h": 2})])
    plans = plan_all(names=["geo"])
    assert [c.claim for c in plans[0].checks] == [stand_in] and plans[0].skipped == ()
    res = run_all(names=["geo"], budget=0.5, progress=False)
    assert res.verdicts == ["INCONCLUSIVE"] and res.exit_code() == 3


def _claims_table_module():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parent.parent / "scripts" / "claims_table.py"
    spec = importlib.util.spec_from_file_location("claims_table_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_claims_table_script_rewrites_only_the_marked_block(two_families, tmp_path, capsys):
    tag, _ = two_families
    script = _claims_table_module()
    code, _, err = run_cli(capsys, "verify", "all", *FAST, "--out", tmp_path / "o")
    assert code == 0, err
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n\n{script.START}\nold table\n{script.END}\n\nafter\n")
    results = str(tmp_path / "o" / "results.json")
    assert script.main([results, "--readme", str(readme), "--check"]) == 1
    assert script.main([results, "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# title\n\nbefore\n\n") and text.endswith(f"{script.END}\n\nafter\n")
    assert "old table" not in text
    block = text.split(script.START)[1].split(script.END)[0]
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert rows[0].startswith(f"| `{tag}.cs` | geo | wang2020 | inequality | h=2 | HOLDS |")
    assert rows[1].startswith(f"| `{tag}.trained` | empirical |") and "not run" in rows[1]
    assert "1 HOLDS" in block and "theorycheck verify all" in block
    import hypothesis

    assert f"hypothesis {hypothesis.__version__}" in block  # the version that chose the inputs
    assert script.main([results, "--readme", str(readme), "--check"]) == 0
    assert script.main([str(tmp_path / "missing.json"), "--print"]) == 2


def test_repository_readme_has_one_claims_block_and_a_figure():
    import pathlib
    import re

    import theorycheck

    root = pathlib.Path(__file__).resolve().parent.parent
    script = _claims_table_module()
    readme = (root / "README.md").read_text()
    assert readme.count(script.START) == 1 and readme.count(script.END) == 1
    assert readme.index(script.START) < readme.index(script.END)
    assert (root / "docs" / "figures").is_dir() and any((root / "docs" / "figures").glob("*.png"))
    # CITATION.cff is checked in tests/test_packaging.py


def test_links_of_readme_and_docs_index_resolve():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    for page in (root / "README.md", root / "docs" / "index.md", root / "docs" / "reports.md"):
        targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text())
        local = [t for t in targets if not t.startswith(("http://", "https://", "mailto:"))]
        assert local, page
        missing = [t for t in local if not (page.parent / t).exists()]
        assert not missing, f"{page.name} links to missing files: {missing}"


def test_the_recorded_command_comes_from_the_call_not_from_sys_argv(monkeypatch):
    from theorycheck.engine.families import run_all

    monkeypatch.setattr("sys.argv", ["pytest", "--not-a-theorycheck-option"])
    doc = run_all(names=[], seed=3, budget=2.0, ablate=True).to_dict()
    assert doc["command"] == "theorycheck verify all --ablate --seed 3 --budget 2"
