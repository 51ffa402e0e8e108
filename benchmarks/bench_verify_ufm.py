"""`theorycheck verify ufm`: run time, the landscape per dimension, and the imbalance geometry.

Four tables, every baseline measured in the same run:

1. ``theorycheck verify ufm`` with its defaults (K = 10, 2 per class, d = 11, tau = 0.5,
   16 starts, 5 s budget per claim) as a subprocess (imports included, as a user runs it),
   against the same command at K = 3 (ratio = default / K = 3). Target: under 60 s on
   2 CPU cores. Per-claim seconds and verdicts from the JSON document.
2. The certificate of the default instance: full SDP (N = 20) against the reduced program,
   time and certified lower bounds (baseline: the reduced program).
3. The landscape per dimension d (the engine at each d with the dimension condition
   dropped, the engine at each d and :func:`theorycheck.ufm.landscape_row`): SC UFM at K = 4, 3 per class, three
   temperatures, and the regularised CE UFM at K = 4, 3 per class; fraction of starts at
   the certified optimum, worst gap, candidate spurious minima; time ratio against d = K+1.
4. STEP imbalance: class-mean geometry of the certified optimum over R and tau
   (K = 10, 5 majority classes, 10 samples per minority class), solve time ratio against
   R = 1, and the PNG figure ``theorycheck-out/ufm_imbalance.png``.

Run: ``python benchmarks/run.py verify_ufm`` (``--quick``: fewer dimensions and temperatures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from theorycheck import ufm
from theorycheck.claims import load_all

QUICK = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
TARGET_S = 60.0
FIGURE = os.path.join("theorycheck-out", "ufm_imbalance.png")


def _startup() -> float:
    """Wall time of `theorycheck list`: interpreter, imports (torch, cvxpy) and claim registration."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "theorycheck", "list"], capture_output=True, check=True)
    return time.perf_counter() - start


def _cli(args: list[str]) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ufm.json")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "theorycheck", "verify", "ufm", *args, "--json", out],
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode not in (0, 1, 3):
            raise SystemExit(f"verify ufm failed (exit {proc.returncode}):\n{proc.stderr}")
        with open(out, encoding="utf-8") as fh:
            return wall, json.load(fh)


def _cli_table() -> None:
    base_wall = _startup()
    small_wall, _ = _cli(["--K", "3"])
    wall, doc = _cli([])
    print("theorycheck verify ufm (subprocess, imports included); baseline: theorycheck list (start-up cost)")
    print(f"{'command':>24} {'wall s':>8} {'ratio':>6}")
    print(f"{'theorycheck list':>24} {base_wall:8.1f} {1.0:6.2f}")
    print(f"{'verify ufm --K 3':>24} {small_wall:8.1f} {small_wall / base_wall:6.2f}")
    verdict = "ok" if wall < TARGET_S else "OVER"
    print(f"{'verify ufm (defaults)':>24} {wall:8.1f} {wall / base_wall:6.2f}   (target < {TARGET_S:.0f} s: {verdict})")
    print(f"\n{'claim':>26} {'verdict':>9} {'s':>6}  key numbers")
    for c in doc["claims"]:
        ev = c["evidence"]
        keys = [k for k in c.get("summary_keys", []) if k in ev]
        text = ", ".join(f"{k}={ev[k]:.4g}" if isinstance(ev[k], float) else f"{k}={ev[k]}" for k in keys)
        print(f"{c['id']:>26} {c['verdict']:>9} {c['seconds']:6.2f}  {text}")
    print()


def _certificate_table() -> None:
    ufm._certificate.cache_clear()
    ufm.sc_certificate(2, 2, 1.0, program="full")  # imports and first-call costs
    ufm.sc_certificate(2, 2, 1.0, program="reduced")
    ufm._certificate.cache_clear()
    rows = []
    for program in ("reduced", "full"):
        start = time.perf_counter()
        cert = ufm.sc_certificate(10, 2, 0.5, program=program)
        rows.append((program, time.perf_counter() - start, cert))
    base = rows[0][1]
    print("certificate of the default instance (K=10, 2 per class, N=20, tau=0.5, Clarabel); baseline: reduced")
    print(f"{'program':>9} {'wall s':>8} {'ratio':>7} {'lower bound':>20} {'gap':>9} {'rank':>5}")
    for program, wall, cert in rows:
        print(f"{program:>9} {wall:8.3f} {wall / base:7.1f} {cert.lower_bound:20.12f} {cert.gap:9.1e} {cert.rank:5d}")
    print()


def _sweep(claim_id: str, params: dict, dims: list[int], label: str) -> None:
    from theorycheck.engine import judge

    budget = 8.0 if QUICK else 15.0
    rows = [ufm.LandscapeRow(**ufm.landscape_row(d, judge(claim_id, {**params, "d": d}, budget=budget,
                                                           assumptions=(), extra_evidence=False)))
            for d in dims]
    base = next(r.seconds for r in rows if r.d == max(dims))
    for r in rows:
        statuses = {}
        for status, *_ in r.candidates:
            statuses[status] = statuses.get(status, 0) + 1
        cands = ", ".join(f"{v} {k}" for k, v in sorted(statuses.items())) or "-"
        min_eig = [c[3] for c in r.candidates if c[3] is not None]
        eig = f"{min(min_eig):.1e}" if min_eig else "-"
        worst = "-" if r.worst_gap is None else f"{r.worst_gap:.2e}"
        print(f"{label:>16} {r.d:3d} {r.verdict:>12} {r.starts:6d} {r.fraction_reached:8.2f} {worst:>10} "
              f"{eig:>9} {r.seconds:7.1f} {r.seconds / base:6.2f}  {cands}")


def _landscape_table() -> None:
    K, n = 4, 3
    dims = [K - 1, K + 1] if QUICK else [K - 2, K - 1, K, K + 1]
    taus = (0.5,) if QUICK else (0.1, 0.5, 1.0)
    print(f"landscape per dimension (engine, dimension condition dropped), K={K}, {n} per class, 16 starts; "
          f"ratio: time / time at d=K+1")
    print(f"{'claim':>16} {'d':>3} {'verdict':>12} {'starts':>6} {'reached':>8} {'worst gap':>10} "
          f"{'min eig':>9} {'s':>7} {'ratio':>6}  candidates")
    for tau in taus:
        _sweep("behnia2024.ufm.benign", {"K": K, "n_per_class": n, "tau": tau, "starts": 16}, dims,
               f"SC tau={tau:g}")
    _sweep("zhu2021.ufm.benign", {"K": K, "n_per_class": n, "starts": 16}, dims, "CE (zhu2021)")
    print()


def _imbalance_table() -> None:
    ratios = (1, 4, 16) if QUICK else (1, 2, 5, 10, 20, 50, 100)
    taus = (0.5,) if QUICK else (0.1, 0.5, 1.0)
    ufm.imbalance_table(K=4, n_minor=2, ratios=(1, 2), taus=(1.0,))  # imports and first-call costs
    rows, walls = [], []
    for tau in taus:
        for R in ratios:
            start = time.perf_counter()
            rows += ufm.imbalance_table(K=10, n_minor=10, ratios=(R,), taus=(tau,))
            walls.append(time.perf_counter() - start)
    print("STEP imbalance (K=10: 5 majority classes of 10 R samples, 5 minority of 10), certified reduced "
          "program; ratio: wall time / R=1")
    print(f"{'tau':>5} {'R':>5} {'N':>6} {'within M':>9} {'within m':>9} {'cos MM':>8} {'cos mm':>8} "
          f"{'cos Mm':>8} {'rank':>5} {'gap':>8} {'wall s':>7} {'ratio':>6}")
    base = 1.0
    for r, wall in zip(rows, walls):
        if r.ratio == 1.0:
            base = wall
        N = r.k_major * r.n_major + r.k_minor * r.n_minor
        print(f"{r.tau:5g} {r.ratio:5g} {N:6d} {r.within_majority:9.6f} {r.within_minority:9.6f} "
              f"{r.cos_majority_majority:8.4f} {r.cos_minority_minority:8.4f} {r.cos_majority_minority:8.4f} "
              f"{r.rank:5d} {r.gap:8.1e} {wall:7.3f} {wall / base:6.2f}")
    print(f"figure: {ufm.imbalance_figure(rows, FIGURE)}")
    print()


def main() -> None:
    load_all()
    _cli_table()
    _certificate_table()
    _landscape_table()
    _imbalance_table()


if __name__ == "__main__":
    main()
