"""Durable runs (issue 15): streamed results, interrupts, error entries, --resume, pre-run
validation, atomic writes, the lock and the manifest, the evaluator deadline.

The signal tests run the real CLI in a subprocess and signal it once its journal holds a
finished claim."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from theorycheck import cli
from theorycheck.report import durable
from theorycheck.report.json_report import read_json, strip_timings, validate_document

from tests.test_verify_all import two_families  # noqa: F401 - a fixture: two small families

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _spawn(*argv):
    return subprocess.Popen([sys.executable, "-m", "theorycheck.cli", *argv], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_claims(journal, proc, n=1, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it was signalled: {proc.communicate()}")
        if os.path.exists(journal) and len(durable.read_journal(journal)) >= n:
            return
        time.sleep(0.05)
    pytest.fail("no claim was journaled in time")


def _no_timing(doc):
    doc = strip_timings(doc)
    doc.pop("complete", None)
    for c in doc["claims"]:  # judge-level timings inside the evidence, when a claim records one
        c.get("evidence", {}).pop("seconds", None)
    return doc


# -------------------------------------------------------------------------- the I/O layer

def test_atomic_write_keeps_the_previous_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    durable.atomic_write_text(target, "old, valid")
    real_fsync = os.fsync

    def full_disk(fd):  # the disk fills up after half the data went out
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError) as info:
        durable.atomic_write_text(target, "new" * 1000)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_text() == "old, valid"
    assert sorted(os.listdir(tmp_path)) == ["results.json"]  # no temporary file left behind


def test_full_disk_during_a_run_keeps_the_previous_results(tmp_path, monkeypatch, capsys):
    path = tmp_path / "mine.py"
    path.write_text(BROKEN.replace("raise RuntimeError(\"solver failed\")", "return 1.0, 0.0"))
    out = tmp_path / "out"
    args = ["check", str(path), "--examples", "5", "--json", str(out / "r.json"), "-q"]
    assert cli.main(args) == 0
    before = (out / "r.json").read_text()
    calls = {"n": 0}
    real = durable.atomic_write_bytes

    def fail_second(path, data, **kw):  # the first streamed write succeeds, the next one hits ENOSPC
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data, **kw)

    monkeypatch.setattr(durable, "atomic_write_bytes", fail_second)
    assert cli.main(args) == cli.EXIT_USAGE
    assert "No space left" in capsys.readouterr().err
    monkeypatch.undo()
    doc = json.loads((out / "r.json").read_text())  # still a valid document (the first streamed one)
    validate_document(doc)
    assert doc["complete"] is False and len(doc["claims"]) == 1
    assert json.loads(before)["complete"] is True


def test_lock_refuses_a_second_live_run_and_takes_over_a_stale_one(tmp_path):
    with durable.RunLock(tmp_path):
        holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            (tmp_path / durable.LOCK_NAME).write_text(f"{holder.pid}\n")  # another live process holds it
            with pytest.raises(durable.RunLockedError, match=f"pid {holder.pid}"):
                durable.RunLock(tmp_path).acquire()
        finally:
            holder.kill()
            holder.wait()
    (tmp_path / durable.LOCK_NAME).write_text(f"{holder.pid}\n")  # its process is gone: stale
    lock = durable.RunLock(tmp_path).acquire()
    lock.release()
    assert not (tmp_path / durable.LOCK_NAME).exists()


def test_concurrent_run_into_one_out_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (out / durable.LOCK_NAME).write_text(f"{sleeper.pid}\n")
        start = time.monotonic()
        assert cli.main(["verify", "all", "--out", str(out), "--examples", "3", "-q"]) == cli.EXIT_USAGE
        assert time.monotonic() - start < 5
    finally:
        sleeper.kill()
        sleeper.wait()
    err = capsys.readouterr().err
    assert "another theorycheck run" in err and "Traceback" not in err
    assert not (out / "results.json").exists()


# ------------------------------------------------------------------ output paths before the run

@pytest.mark.parametrize("flag", ["--json", "--report"])
def test_unwritable_output_is_an_error_before_the_run(tmp_path, capsys, flag):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # its "folder" is a file: no one (root included) can write there
    start = time.monotonic()
    code = cli.main(["verify", "barlow", "--examples", "3", flag, str(blocker / "x.out"), "-q"])
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and flag in err and "Traceback" not in err
    assert elapsed < 5  # nothing was judged


def test_out_pointing_at_a_file_is_an_error_before_the_run(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("mine")
    assert cli.main(["verify", "all", "--out", str(target), "--examples", "3", "-q"]) == cli.EXIT_USAGE
    assert "--out" in capsys.readouterr().err
    assert target.read_text() == "mine"


def test_report_to_an_unwritable_path_is_an_error(tmp_path, capsys):
    doc = tmp_path / "r.json"
    assert cli.main(["check", "graf2021.simplex.gram", "--examples", "3", "--json", str(doc), "-q"]) == 0
    assert cli.main(["report", str(doc), "-o", str(tmp_path)]) == cli.EXIT_USAGE  # a folder
    assert "-o" in capsys.readouterr().err


def test_a_run_deletes_only_files_it_wrote(tmp_path):
    from theorycheck.report.html import write_report_folder

    doc_path = tmp_path / "r.json"
    assert cli.main(["check", "graf2021.simplex.gram", "--examples", "3", "--json", str(doc_path), "-q"]) == 0
    doc = read_json(doc_path)
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    mine = out / "figures" / "traces-old.png"  # a user's file with a figure builder's prefix
    mine.write_bytes(b"the user's own figure")
    stale = out / "figures" / "traces-stale.png"  # one an earlier run wrote (in the manifest)
    stale.write_bytes(b"ours")
    (out / durable.MANIFEST_NAME).write_text(json.dumps({"files": ["figures/traces-stale.png"]}))
    write_report_folder(doc, out)
    write_report_folder(doc, out)
    assert mine.read_bytes() == b"the user's own figure" and not stale.exists()
    manifest = json.loads((out / durable.MANIFEST_NAME).read_text())["files"]
    assert "results.json" in manifest and "report.html" in manifest and "figures/traces-old.png" not in manifest
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


# ----------------------------------------------------------------- errors are entries, not ends

BROKEN = '''
from theorycheck import backend as xp, strategies as st
from theorycheck.engine import claim, Param

@claim(id="user.fine", cite=(), kind="inequality", statement="u^2 >= 0",
       params=(Param("h", 2, "dimension", min=1),), inputs=lambda p, active: {"u": st.real_matrix(1, p.h)},
       relation=">=", register=False)
def fine(u, *, p):
    return xp.sum(u * u), 0.0

@claim(id="user.broken", cite=(), kind="inequality", statement="raises",
       params=(Param("h", 2, "dimension", min=1),), inputs=lambda p, active: {"u": st.real_matrix(1, p.h)},
       relation=">=", register=False)
def broken(u, *, p):
    raise RuntimeError("solver failed")

@claim(id="user.after", cite=(), kind="inequality", statement="u^2 + 1 >= 0",
       params=(Param("h", 2, "dimension", min=1),), inputs=lambda p, active: {"u": st.real_matrix(1, p.h)},
       relation=">=", register=False)
def after(u, *, p):
    return xp.sum(u * u) + 1.0, 0.0
'''


def test_a_claim_that_raises_is_an_error_entry_and_the_run_goes_on(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text(BROKEN)
    out = tmp_path / "r.json"
    assert cli.main(["check", str(path), "--examples", "5", "--json", str(out)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "solver failed" in err and "reproduce: theorycheck check" in err and "Traceback" not in err
    doc = read_json(out)
    assert [c["id"] for c in doc["claims"]] == ["user.fine", "user.after"]
    assert doc["errors"][0]["id"] == "user.broken" and "mine.py::broken" in doc["errors"][0]["reproduce"]
    assert doc["complete"] is True
    # --fail-fast: stops at the error, keeps what came before
    assert cli.main(["check", str(path), "--examples", "5", "--json", str(out), "--fail-fast", "-q"]) == 2
    doc = read_json(out)
    assert [c["id"] for c in doc["claims"]] == ["user.fine"] and doc["complete"] is False


EXITING = '''
import sys, time
from theorycheck import strategies as st
from theorycheck.engine import claim

@claim(id="user.exits", cite=(), kind="inequality", statement="exits", relation=">=", register=False,
       inputs=lambda p, active: {"u": st.real_matrix(1, 2)})
def exits(u):
    sys.exit(CODE)

@claim(id="user.sleeps", cite=(), kind="inequality", statement="sleeps", relation=">=", register=False,
       inputs=lambda p, active: {"u": st.real_matrix(1, 2)})
def sleeps(u):
    time.sleep(60)
    return 1.0, 0.0
'''


@pytest.mark.parametrize("code", [0, 1])
def test_sys_exit_in_an_evaluator_is_a_claim_error(tmp_path, capsys, code):
    path = tmp_path / "mine.py"
    path.write_text(EXITING.replace("CODE", str(code)))
    assert cli.main(["check", f"{path}::exits", "--examples", "5", "--json", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert f"sys.exit({code})" in err
    assert read_json(tmp_path / "r.json")["errors"][0]["id"] == "user.exits"


def test_the_budget_interrupts_a_sleeping_evaluator(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text(EXITING.replace("CODE", "0"))
    start = time.monotonic()
    assert cli.main(["check", f"{path}::sleeps", "--budget", "1", "--json", str(tmp_path / "r.json"),
                     "-q"]) == cli.EXIT_INCONCLUSIVE
    assert time.monotonic() - start < 12  # budget 1 s + grace 4 s, not 60 s
    claim = read_json(tmp_path / "r.json")["claims"][0]
    assert claim["verdict"] == "INCONCLUSIVE" and "deadline" in claim["evidence"]["reason"]


# ---------------------------------------------------------------- sizes validated before the run

def test_impossible_size_fails_before_the_run_and_its_suggestion_works(tmp_path, capsys):
    from theorycheck.engine.families import plan_all, validate_checks  # noqa: F401 - registry loaded
    start = time.monotonic()
    assert cli.main(["verify", "supcon", "--K", "1000", "--json", str(tmp_path / "r.json")]) == cli.EXIT_USAGE
    assert time.monotonic() - start < 2.0  # validated before anything is judged
    err = capsys.readouterr().err
    assert "graf2021.sc.minimum" in err and "`b`" in err and not (tmp_path / "r.json").exists()
    suggestion = err[err.index("theorycheck check"):].split(";")[0].split()
    assert "--param" in suggestion and "N=2000" in suggestion
    code = cli.main(suggestion[1:] + ["--draws", "300", "--json", str(tmp_path / "s.json"), "-q"])
    assert code in (0, 3)  # runs: no usage error (N divisible by K, h and b given)
    assert read_json(tmp_path / "s.json")["claims"][0]["id"] == "graf2021.sc.minimum-sampled"


# ----------------------------------------------------------------------- signals and --resume

def test_sigint_keeps_the_judged_claims_and_resume_equals_an_uninterrupted_run(tmp_path):
    sig, code = signal.SIGINT, 130
    out = tmp_path / "r.json"
    argv = ["verify", "barlow", "--budget", "60", "--examples", "5", "--json", str(out), "-q"]  # no deadline cut
    proc = _spawn(*argv)
    _wait_for_claims(str(tmp_path / "r.jsonl"), proc, n=2)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "--resume" in stderr
    partial = read_json(out)  # validates against the schema
    assert partial["complete"] is False and len(partial["claims"]) >= 2
    journal = [r["claim"]["id"] for r in durable.read_journal(tmp_path / "r.jsonl") if "claim" in r]
    assert journal[: len(partial["claims"])] == [c["id"] for c in partial["claims"]]
    assert cli.main(["verify", "barlow", "--resume", str(out), "-q"]) in (0, 1, 3)
    resumed = read_json(out)
    assert resumed["complete"] is True
    whole = tmp_path / "whole.json"
    assert cli.main(argv[:-3] + ["--json", str(whole), "-q"]) in (0, 1, 3)
    expected = read_json(whole)
    assert resumed["command"] == partial["command"]
    resumed["command"] = expected["command"]  # the --json path differs, nothing else may
    assert _no_timing(resumed)["claims"] == _no_timing(expected)["claims"]
    assert {k: v for k, v in _no_timing(resumed).items() if k != "claims"} == \
        {k: v for k, v in _no_timing(expected).items() if k != "claims"}


def test_sigterm_during_verify_all_writes_a_partial_report_folder(tmp_path):
    out = tmp_path / "out"
    proc = _spawn("verify", "all", "--out", str(out), "--examples", "5", "-q")
    _wait_for_claims(str(out / "results.jsonl"), proc, n=1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert f"verify all --resume {out}" in stderr
    doc = read_json(out / "results.json")
    assert doc["complete"] is False and doc["claims"]
    assert "PARTIAL RESULTS" in (out / "report.md").read_text()
    assert not (out / durable.LOCK_NAME).exists()
    # `report` on it says it is partial
    proc = subprocess.run([sys.executable, "-m", "theorycheck.cli", "report", str(out / "results.json")],
                          cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0 and "partial document" in proc.stderr and "PARTIAL RESULTS" in proc.stdout


def test_resume_of_a_complete_document_does_nothing(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert cli.main(["check", "graf2021.simplex.gram", "--examples", "3", "--json", str(out), "-q"]) == 0
    before = out.read_text()
    assert cli.main(["check", "graf2021.simplex.gram", "--resume", str(out)]) == 0
    assert "nothing to resume" in capsys.readouterr().err and out.read_text() == before


def test_old_documents_without_complete_still_validate():
    doc = {"schema_version": 1, "theorycheck_version": "0.1.0", "seed": 0, "command": "x", "claims": []}
    assert validate_document(dict(doc)) == doc


def test_verify_all_resume_in_process_equals_an_uninterrupted_run(tmp_path, monkeypatch, two_families):
    """``verify all --resume DIR`` (small registered families; the interrupt is raised by the
    streaming hook after the first claim, as a Ctrl-C there would)."""
    real_update = cli._Output.update
    seen = []

    def interrupt_after_first(self, partial):
        real_update(self, partial)
        seen.append(len(partial.entries))
        if len(seen) == 1:
            raise KeyboardInterrupt

    # a budget no search reaches on a loaded machine: the deadline never cuts a search short
    argv = ["verify", "all", "--empirical", "--budget", "60", "--examples", "20", "-q", "--out"]
    monkeypatch.setattr(cli._Output, "update", interrupt_after_first)
    assert cli.main(argv + [str(tmp_path / "a")]) == cli.EXIT_SIGINT
    partial = read_json(tmp_path / "a" / "results.json")
    assert partial["complete"] is False and len(partial["claims"]) == 1
    monkeypatch.setattr(cli._Output, "update", real_update)
    assert cli.main(["verify", "all", "--resume", str(tmp_path / "a"), "-q"]) == 0
    assert cli.main(argv + [str(tmp_path / "b")]) == 0
    resumed, whole = (_no_timing(read_json(tmp_path / d / "results.json")) for d in ("a", "b"))
    assert resumed["command"] == partial["command"]
    resumed.pop("command"), whole.pop("command")
    assert resumed == whole and len(whole["claims"]) == 2
