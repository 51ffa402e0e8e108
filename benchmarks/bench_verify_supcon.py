"""``theorycheck verify supcon --K 10`` end to end, with the time of every sub-check (CPU).

Three tables, every baseline measured in the same run:

1. Wall time of the command as a user runs it (a fresh process: imports, claim loading,
   every sub-check, the table), median over repeats, against the baseline of a process that
   only imports theorycheck and loads the shipped claims (the start-up every command pays);
   also with one torch thread (``OMP_NUM_THREADS=1``). Target: under 30 s on 2 CPU cores.
2. The per-sub-check breakdown of the last run (seconds recorded by the engine in the JSON
   document), and what is left for start-up and printing.
3. The objective of the exact-enumeration claims (graf2021.sc.minimum / sc.simplex): one
   evaluation plus gradient of L_SC at the family's exact sizes with the batch index arrays
   built once (``graf2021.batch_plan``, cached) against ``theorycheck.losses.sc_loss(method=
   "exact")``, which enumerates the batches at every call (the two values are compared as
   well), with torch's default number of threads and with one thread.

Run: ``python benchmarks/run.py verify_supcon`` (``--quick``: K = 5, one repeat).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

from theorycheck.claims import graf2021
from theorycheck.engine.claim import Params
from theorycheck.losses import sc_loss

QUICK = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
K = 5 if QUICK else 10
REPEATS = 1 if QUICK else 3
TARGET_S = 30.0


def _wall(cmd: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc


def _verify(path: str, env: dict | None) -> tuple[float, int]:
    walls, rc = [], None
    for _ in range(REPEATS):
        wall, proc = _wall([sys.executable, "-m", "theorycheck", "verify", "supcon", "--K", str(K),
                            "--json", path], env)
        walls.append(wall)
        rc = proc.returncode
        if rc not in (0, 1, 3):
            raise SystemExit(f"verify supcon failed (exit {rc}):\n{proc.stdout}\n{proc.stderr}")
    return statistics.median(walls), rc


def _end_to_end() -> dict:
    startup_cmd = [sys.executable, "-c", "import theorycheck.cli, theorycheck.claims as c; c.load_all()"]
    startup = statistics.median(_wall(startup_cmd)[0] for _ in range(REPEATS))
    # torch's intra-op threads cost more than they bring on these small tensors when the cores
    # are shared (thread start-up and synchronisation per op): the same command with one thread
    one_thread = {**os.environ, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "supcon.json")
        single, _ = _verify(path, one_thread)
        total, rc = _verify(path, None)
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    print(f"theorycheck verify supcon --K {K}: median of {REPEATS} fresh processes (exit code {rc}); "
          f"torch threads: {torch.get_num_threads()} by default on this machine")
    print(f"{'what':<48} {'seconds':>8} {'ratio':>7}")
    print(f"{'start-up (import + load claims), baseline':<48} {startup:8.2f} {1.0:7.2f}")
    print(f"{'verify supcon, whole command':<48} {total:8.2f} {total / startup:7.2f}   "
          f"target < {TARGET_S:.0f} s: {'ok' if total < TARGET_S else 'MISSED'}")
    print(f"{'verify supcon, whole command, OMP_NUM_THREADS=1':<48} {single:8.2f} {single / startup:7.2f}")
    return {"doc": doc, "total": total, "startup": startup}


def _breakdown(run: dict) -> None:
    claims = run["doc"]["claims"]
    judged = sum(c["seconds"] for c in claims)
    print("\nper sub-check (seconds recorded by the engine; last run); ratio = share of the whole command")
    print(f"{'claim':<32} {'params':<44} {'verdict':<8} {'seconds':>8} {'ratio':>7}")
    for c in claims:
        params = ", ".join(f"{k}={v}" for k, v in c["params"].items() if k not in ("starts", "steps", "draws"))
        share = c["seconds"] / run["total"]
        print(f"{c['id']:<32} {params[:44]:<44} {c['verdict']:<8} {c['seconds']:8.2f} {share:7.2f}")
    rest = run["total"] - judged
    print(f"{'start-up, printing, JSON':<32} {'':<44} {'':<8} {rest:8.2f} {rest / run['total']:7.2f}")


def _median(fn, repeats: int) -> float:
    fn()  # warm-up (and, for the plan, the one-off enumeration)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _objective() -> None:
    fam = graf2021.SUPCON_FAMILY
    options = Params({p.name: p.default for p in fam.params}).replace(K=K)
    exact = dict(graf2021.supcon_checks(options))["graf2021.sc.simplex"]
    p = graf2021.sc_simplex.resolve_params(exact)
    y = np.repeat(np.arange(p.K), p.N // p.K)
    Z = torch.nn.functional.normalize(torch.randn(p.N, p.h, dtype=torch.float64), dim=1).requires_grad_(True)
    stride = np.array(1)

    def ours():
        Z.grad = None
        value = graf2021.sc_simplex(Z, y, stride, p=p)
        value.backward()
        return value

    def reference():
        Z.grad = None
        value = sc_loss(Z, y, p.b, p.batches, method="exact").value
        value.backward()
        return value

    repeats = 5 if QUICK else 20
    n = graf2021.batch_plan(p.N, p.b, p.batches)["idx"].shape[0]
    print(f"\nL_SC + gradient at the exact sizes N={p.N}, K={p.K}, h={p.h}, b={p.b}, {p.batches} ({n} batches), "
          f"median of {repeats}")
    print(f"{'implementation':<40} {'threads':>7} {'ms':>9} {'ratio':>7}")
    default_threads = torch.get_num_threads()
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        t_ours, t_ref = _median(ours, repeats), _median(reference, repeats)
        a, b = ours().item(), reference().item()
        print(f"{'losses.sc_loss(method=exact), baseline':<40} {threads:7d} {t_ref * 1e3:9.2f} {1.0:7.2f}")
        print(f"{'graf2021 claim objective (cached plan)':<40} {threads:7d} {t_ours * 1e3:9.2f} {t_ours / t_ref:7.2f}"
              f"   relative difference {abs(a - b) / abs(b):.1e}")
    torch.set_num_threads(default_threads)


def main() -> None:
    run = _end_to_end()
    _breakdown(run)
    _objective()


if __name__ == "__main__":
    main()
