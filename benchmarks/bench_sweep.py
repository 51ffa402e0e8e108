"""A 16-point sweep, sequential versus a local Dask cluster of 2 workers (CPU).

The claim is ``graf2021.sc.simplex`` (multi-start optimisation of the SupCon loss with
exact batch enumeration) over b in {3, 4} x K in {2, 3} x N in {12, 18} x rho in {1, 2}:
about 1-2 s per point on a 2-core box, with an examples-based budget, so both runs do
the same work and must give the same JSON (timings stripped; checked here).

Printed, all from this one run:

* sequential: wall time of the 16 points in this process (claims already imported);
* ``--workers 2``: start-up of the LocalCluster (processes, each importing the claims),
  then the wall time of the same 16 points on it, and the speed-up over sequential
  (target >= 1.6x on 2 cores);
* per-task overhead once warm: 16 points that are rejected at once (INVALID, no judging)
  on the warm cluster, wall time / 16 (target < 0.2 s per point), and the same from the
  main sweep: (parallel wall - sum of point times / 2) / (16 / 2).

Run: ``python benchmarks/run.py sweep`` (``--quick``: 8 points, fewer examples).
Needs ``theorycheck[dask]``.
"""

from __future__ import annotations

import os
import time

QUICK = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
CLAIM = "graf2021.sc.simplex"
GRID = {"b": [3, 4], "K": [2, 3], "N": [12, 18], "rho": [1.0, 2.0]}
EXAMPLES = 40


def main() -> None:
    from theorycheck.claims import load_all
    from theorycheck.report.json_report import strip_timings
    from theorycheck.sweeps import sweep

    load_all()
    grid = dict(GRID, rho=[1.0]) if QUICK else GRID
    examples = 20 if QUICK else EXAMPLES
    points = 1
    for values in grid.values():
        points *= len(values)
    sweep(CLAIM, {"b": [3], "K": [2], "N": [6]}, examples=5, figure=False)  # first-call costs out of the timing

    t0 = time.perf_counter()
    seq = sweep(CLAIM, grid, examples=examples, figure=False)
    t_seq = time.perf_counter() - t0
    work = sum(p["seconds"] for p in seq.points)
    print(f"{CLAIM}, {points} points, --examples {examples}: verdicts {seq.counts()}")
    print(f"  sequential:           {t_seq:6.2f} s ({t_seq / points:.2f} s per point)")

    from theorycheck.parallel import Executor

    t0 = time.perf_counter()
    executor = Executor(workers=2).__enter__()  # the cluster --workers 2 starts, claims imported on each worker
    cluster = executor.cluster
    t_start = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        par = sweep(CLAIM, grid, examples=examples, figure=False, scheduler=cluster.scheduler_address)
        t_par = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = sweep(CLAIM, {"b": list(range(-16, 0))}, examples=5, figure=False,
                     scheduler=cluster.scheduler_address)
        t_fast = time.perf_counter() - t0
    finally:
        executor.close()
    same = strip_timings({"p": seq.to_dict()["points"]}) == strip_timings({"p": par.to_dict()["points"]})
    print(f"  cluster start (2 processes, claims imported): {t_start:6.2f} s")
    print(f"  --workers 2 (warm):   {t_par:6.2f} s; speed-up {t_seq / t_par:.2f}x (target >= 1.6x); "
          f"with start-up {t_seq / (t_par + t_start):.2f}x")
    print(f"  same JSON as sequential (timings stripped): {same}")
    overhead = (t_par - work / 2) / (points / 2)
    import torch

    print(f"  mean time judging a point: sequential {work / points:.2f} s (torch threads in this process: "
          f"{torch.get_num_threads()}), on a worker {sum(p['seconds'] for p in par.points) / points:.2f} s "
          f"(1 thread each)")
    print(f"  per-task overhead once warm: {t_fast / 16:.3f} s per point ({fast.counts()}); from the sweep: "
          f"{overhead:.3f} s per point (target < 0.2 s)")


if __name__ == "__main__":
    main()
