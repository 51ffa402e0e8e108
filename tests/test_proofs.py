"""Run every script in proofs/ as CI does, and read what it printed.

Each script must exit 0 and follow the output format of proofs/README.md: a header line
per proof (``CLAIM ...: CLOSED`` for a claim as its source states it, ``VARIANT ...`` for
another reading or a dropped assumption), one ``[STATUS]`` line per step, and a
``SUMMARY:`` line. A claim must close; a variant must be decided (every step PROVED, or
REFUTED with an exact counterexample); no step may be left NOT CLOSED.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from theorycheck import symbolic

PROOFS = Path(__file__).resolve().parents[1] / "proofs"
SCRIPTS = sorted(p for p in PROOFS.glob("*.py") if not p.name.startswith("_"))
OURS = ("garrido2023_duality.py", "huang2023_barlow.py", "huang2023_gram.py", "huang2023_infonce.py")

HEADER = re.compile(r"^(CLAIM|VARIANT) (\S+).*\[(.*)\]: (CLOSED|NOT CLOSED)")
STEP = re.compile(r"^\s+\[(PROVED|REFUTED|NOT CLOSED)\] (.*)$")


@pytest.fixture(scope="module")
def runs():
    """Run all scripts once, two at a time (the CI box has 2 cores)."""
    results = {}
    pending = list(SCRIPTS)
    while pending:
        batch, pending = pending[:2], pending[2:]
        procs = {
            p.name: subprocess.Popen([sys.executable, str(p)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=PROOFS.parent)
            for p in batch
        }
        for name, proc in procs.items():
            try:
                out, err = proc.communicate(timeout=180)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                err += "\n(timed out after 180 s)"
            results[name] = (proc.returncode, out, err)
    return results


def _blocks(stdout: str):
    """(kind, claim, sizes, verdict, [(status, step line, following lines)]) per header."""
    blocks = []
    for line in stdout.splitlines():
        header = HEADER.match(line)
        if header:
            blocks.append((header.group(1), header.group(2), header.group(3), header.group(4), []))
            continue
        step = STEP.match(line)
        if step:
            assert blocks, f"step line before any header: {line!r}"
            blocks[-1][4].append([step.group(1), step.group(2), []])
        elif blocks and blocks[-1][4] and line.startswith("      "):
            blocks[-1][4][-1][2].append(line.strip())
    return blocks


def test_our_scripts_exist():
    names = {p.name for p in SCRIPTS}
    assert set(OURS) <= names


@pytest.mark.parametrize("script", [p.name for p in SCRIPTS])
def test_script_exits_zero_and_every_step_is_decided(runs, script):
    rc, out, err = runs[script]
    assert rc == 0, f"{script} exited {rc}\n{out[-3000:]}\n{err[-3000:]}"
    assert "Traceback" not in err, err[-3000:]
    blocks = _blocks(out)
    assert blocks, f"{script} printed no CLAIM/VARIANT header (see proofs/README.md)"
    for kind, claim, sizes, verdict, steps in blocks:
        assert steps, f"{claim} [{sizes}] printed no steps"
        for status, text, detail in steps:
            assert status != "NOT CLOSED", f"{claim} [{sizes}]: step {text!r} left undecided"
            if status == "REFUTED":
                assert kind == "VARIANT", f"claim {claim} [{sizes}] refuted at {text!r}"
                assert any(d.startswith("counterexample (exact):") for d in detail), detail
                assert any(d.startswith("lhs - rhs = ") and "!= 0" in d for d in detail), detail
        if kind == "CLAIM":
            assert verdict == "CLOSED" and all(s[0] == "PROVED" for s in steps)
        else:
            assert (verdict == "CLOSED") == all(s[0] == "PROVED" for s in steps)
    summary = [line for line in out.splitlines() if line.startswith("SUMMARY:")]
    assert len(summary) == 1


def _sizes(blocks, claim, kind="CLAIM"):
    out = []
    for k, c, sizes, _, _ in blocks:
        if k == kind and c == claim:
            out.append(tuple(int(part.split("=")[1]) for part in sizes.split(", ")))
    return out


def test_duality_script_covers_every_size_and_reports_what_the_hypotheses_force(runs):
    _, out, _ = runs["garrido2023_duality.py"]
    blocks = _blocks(out)
    limit = symbolic.LIMITS["duality"]
    assert sorted(_sizes(blocks, "garrido2023.duality")) == list(itertools.product(range(1, limit + 1), repeat=2))
    dn = symbolic.LIMITS["doubly_normalized"]
    assert sorted(_sizes(blocks, "garrido2023.doubly-normalized")) == list(
        itertools.product(range(1, dn + 1), repeat=2))
    # vacuous exactly when M != N, computed by the prover and printed
    for line in out.splitlines():
        header = HEADER.match(line)
        if header and header.group(1) == "CLAIM" and header.group(2) == "garrido2023.doubly-normalized":
            M, N = (int(p.split("=")[1]) for p in header.group(3).split(", "))
            assert ("vacuously" in line) == (M != N), line
    assert "(all M, N >= 1)" in out  # the general-form chain is printed
    assert "(40-41) Frobenius norm as a trace" in out and "(44) cyclic trace" in out
    # the doubly stochastic reading is decided at every size, with exact counterexamples where refuted
    variants = [b for b in blocks if b[0] == "VARIANT"]
    assert len(variants) == dn * dn
    refuted = [b for b in variants if b[3] != "CLOSED"]
    assert all(int(b[2].split(", ")[0].split("=")[1]) == int(b[2].split(", ")[1].split("=")[1]) for b in refuted)


@pytest.mark.parametrize("script, claim, family", [
    ("huang2023_barlow.py", "huang2023.barlow-decomposition", "barlow"),
    ("huang2023_gram.py", "huang2023.gram-identity", "gram"),
    ("huang2023_infonce.py", "huang2023.infonce-decomposition", "infonce"),
])
def test_huang_scripts_cover_every_size_up_to_the_limit(runs, script, claim, family):
    _, out, _ = runs[script]
    blocks = _blocks(out)
    assert sorted(_sizes(blocks, claim)) == symbolic.proof_sizes(family)
    assert re.search(r"\(all [dK, ]+>= 1\)", out), "general-form steps missing"


def test_infonce_script_shows_what_happens_without_unit_norm(runs):
    _, out, _ = runs["huang2023_infonce.py"]
    blocks = _blocks(out)
    variants = [b for b in blocks if b[0] == "VARIANT"]
    assert len(variants) == symbolic.LIMITS["infonce"]
    for _, _, _, verdict, steps in variants:
        assert verdict == "NOT CLOSED"
        refuted = [text for status, text, _ in steps if status == "REFUTED"]
        assert any(t.startswith("alignment term") for t in refuted)
    assert "(zero iff ||f1||^2 + ||f2||^2 = 2)" in out
