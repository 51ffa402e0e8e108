"""Convex relaxation certificates of the SC unconstrained-features model (theorycheck.relax).

Three tables, every baseline measured in the same run:

1. The full Gram SDP at N = 60 (K = 6, 10 per class): SCS against Clarabel, wall time
   (solve + certificate) and solver time, accuracy against the closed-form simplex value,
   the certified gap and the rank. Target: SCS under 10 s on 2 CPU cores.
2. The symmetry-reduced programs at N = 10^4 (balanced K = 100; STEP 50 x 150 + 50 x 50)
   against the full SDP at N = 60 of table 1 (ratio = reduced time / full-SDP time).
   Target: under 1 s.
3. Scaling of the full SDP in N (K = 6, N = 12 .. 60) for both solvers, with ratios
   against the smallest size and the fitted log-log slope.
4. Any class sizes (``sc_relaxation_class_sizes``): a long-tailed case small enough for
   the full SDP (both solved, bounds compared, ratio of times), then long-tailed profiles
   with 10, 20 and 39 distinct class sizes (N up to 2412), ratio against the full SDP at
   N = 60 of table 1.
5. graf2021's batch-summed SC loss (``batch_sc_relaxation``): balanced K = 10 at
   N = 10^2, 10^3, 10^4 with b = 3 and b = 32 (multiset), and a 3-size STEP profile
   (classes of 4m, 2m and m samples) at the same N with b = 3 and b = 8; certified gap,
   distance of the bound to graf2021's closed form, the fitted growth exponent of the time
   in N, and the ratio against one exact evaluation of L_SC by batch enumeration at
   N = 100, b = 3 (baseline, measured in the same run). Target: under 1 s at N = 10^4
   balanced.

Run: ``python benchmarks/run.py relax`` (``--quick``: N up to 36, fewer repeats).
"""

from __future__ import annotations

import math
import os
import statistics
import time

import numpy as np

from theorycheck.bounds import sc_minimum
from theorycheck.losses import sc_loss
from theorycheck.relax import (
    batch_sc_relaxation,
    sc_relaxation,
    sc_relaxation_class_sizes,
    sc_relaxation_reduced,
    sc_relaxation_step,
)

QUICK = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
K = 6
TAU = 0.5
FULL_TARGET_S = 10.0
REDUCED_TARGET_S = 1.0


def _closed_form(N: int, K: int, tau: float) -> float:
    n = N // K
    return N * math.log(n - 1 + (N - n) * math.exp(-K / ((K - 1) * tau)))


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _warm_up() -> None:
    # imports (cvxpy, solver extensions) and first-call costs are not what we measure
    y = np.repeat(np.arange(2), 2)
    for solver in ("scs", "clarabel"):
        sc_relaxation(y, 1.0, solver=solver)
    sc_relaxation_reduced(n_per_class=2, K=2, tau=1.0)


def _full_table() -> float:
    n_per_class = 6 if QUICK else 10
    N = K * n_per_class
    y = np.repeat(np.arange(K), n_per_class)
    closed = _closed_form(N, K, TAU)
    print(f"full SDP, N={N} (K={K}, {n_per_class} per class), tau={TAU}, eps=1e-7; baseline: SCS")
    print(f"{'solver':>9} {'wall s':>8} {'solve s':>8} {'iters':>6} {'ratio':>6} {'|value-closed|':>15} "
          f"{'gap':>9} {'bound-closed':>13} {'rank':>5}  target SCS < {FULL_TARGET_S:.0f} s")
    baseline = None
    for solver in ("scs", "clarabel"):
        wall, res = _timed(lambda: sc_relaxation(y, TAU, solver=solver))
        baseline = baseline or wall
        verdict = ("ok" if wall < FULL_TARGET_S else "MISSED") if solver == "scs" else ""
        print(f"{solver:>9} {wall:8.2f} {res.solve_time:8.2f} {res.iterations:6d} {wall / baseline:6.2f} "
              f"{abs(res.value - closed):15.2e} {res.gap:9.1e} {res.lower_bound - closed:13.1e} "
              f"{res.rank:5d}  {verdict}")
    return baseline


def _reduced_table(full_seconds: float) -> None:
    repeats = 3 if QUICK else 5
    print(f"\nreduced programs, N=10^4 (median of {repeats}); baseline: the full SDP above "
          f"({full_seconds:.2f} s)")
    print(f"{'program':>34} {'s':>7} {'ratio':>7} {'gap':>9} {'rank':>5}  geometry  target < {REDUCED_TARGET_S:.0f} s")
    cases = [
        ("balanced K=100, n=100, tau=0.1", lambda: sc_relaxation_reduced(n_per_class=100, K=100, tau=0.1)),
        ("STEP 50x150 + 50x50, tau=0.1", lambda: sc_relaxation_step(50, 150, 50, 50, 0.1)),
        ("STEP 10x910 + 90x10 (R=91), tau=1", lambda: sc_relaxation_step(10, 910, 90, 10, 1.0)),
    ]
    for name, fn in cases:
        times, res = [], None
        for _ in range(repeats):
            seconds, res = _timed(fn)
            times.append(seconds)
        seconds = statistics.median(times)
        geometry = ", ".join(f"{k}={v:.4g}" for k, v in res.geometry().items() if v is not None)
        verdict = "ok" if seconds < REDUCED_TARGET_S else "MISSED"
        print(f"{name:>34} {seconds:7.3f} {seconds / full_seconds:7.4f} {res.gap:9.1e} {res.rank:5d}  "
              f"{geometry}  {verdict}  (N={res.N})")


def _scaling_table() -> None:
    sizes = [12, 24, 36] if QUICK else [12, 24, 36, 48, 60]
    print(f"\nfull SDP scaling in N (K={K}, tau={TAU}); ratios against N={sizes[0]}")
    print(f"{'N':>4} {'PSD dim':>8} {'exp cones':>9} {'scs s':>8} {'scs ratio':>9} {'clarabel s':>10} "
          f"{'clarabel ratio':>14}")
    rows = []
    for N in sizes:
        y = np.repeat(np.arange(K), N // K)
        t_scs, _ = _timed(lambda: sc_relaxation(y, TAU, solver="scs"))
        t_cla, _ = _timed(lambda: sc_relaxation(y, TAU, solver="clarabel"))
        rows.append((N, t_scs, t_cla))
    for N, t_scs, t_cla in rows:
        print(f"{N:4d} {N * (N + 1) // 2:8d} {N * (N - 1):9d} {t_scs:8.2f} {t_scs / rows[0][1]:9.1f} "
              f"{t_cla:10.2f} {t_cla / rows[0][2]:14.1f}")
    logN = np.log([r[0] for r in rows])
    for label, column in (("scs", 1), ("clarabel", 2)):
        slope = np.polyfit(logN[1:], np.log([r[column] for r in rows[1:]]), 1)[0]
        print(f"log-log slope (N >= {sizes[1]}), {label}: time ~ N^{slope:.1f}")


def _long_tail(K: int, decay: float, top: int = 200) -> list[int]:
    """Samples per class ``max(2, round(top * decay^k))``, k = 0 .. K-1."""
    return [max(2, int(round(top * decay**k))) for k in range(K)]


def _class_sizes_table(full_seconds: float) -> None:
    small = [12, 10, 8, 6, 4, 2]
    print(f"\nany class sizes, tau={TAU}: the reduced program with a T x T type block")
    t_full, full = _timed(lambda: sc_relaxation(np.repeat(np.arange(len(small)), small), TAU))
    t_red, red = _timed(lambda: sc_relaxation_class_sizes(small, TAU))
    agree = max(abs(full.lower_bound - red.lower_bound), abs(full.upper_bound - red.upper_bound))
    print(f"sizes {small} (N={sum(small)}): full SDP {t_full:.2f} s, reduced {t_red:.3f} s, "
          f"ratio {t_red / t_full:.4f}; bounds agree to {agree:.1e}; gaps {full.gap:.1e} / {red.gap:.1e}")
    print(f"{'profile':>28} {'N':>6} {'types':>5} {'s':>7} {'ratio':>7} {'gap':>9} {'gap/bound':>9}  "
          f"(ratio: against the full SDP at N=60, {full_seconds:.2f} s)")
    profiles = [(10, 0.7), (20, 0.85)] if QUICK else [(10, 0.7), (20, 0.85), (40, 0.92)]
    for K_, decay in profiles:
        sizes = _long_tail(K_, decay)
        seconds, res = _timed(lambda: sc_relaxation_class_sizes(sizes, TAU))
        name = f"K={K_}, 200 * {decay}^k"
        print(f"{name:>28} {res.N:6d} {len(res.class_types):5d} {seconds:7.2f} {seconds / full_seconds:7.3f} "
              f"{res.gap:9.1e} {res.gap / res.lower_bound:9.1e}")


def _three_sizes(N: int) -> list[int]:
    """2 classes of 4m, 3 of 2m and 5 of m samples (N = 19 m, rounded down to a multiple)."""
    m = max(2, N // 19)
    return [4 * m] * 2 + [2 * m] * 3 + [m] * 5


def _batch_table() -> None:
    repeats = 1 if QUICK else 3
    sizes_N = [100, 1000, 10_000]
    batch_sc_relaxation([3, 3], 3)  # first-call costs
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((100, 9))
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    base, exact = _timed(lambda: sc_loss(Z, np.repeat(np.arange(10), 10), 3, "multiset", method="exact"))
    print(f"\ngraf2021 batch-summed SC loss (multiset, rho=1), median of {repeats}; baseline: one exact "
          f"evaluation of L_SC at N=100, b=3 ({exact.n_batches} batches): {base:.3f} s")
    print(f"{'profile':>24} {'b':>3} {'N':>6} {'configs':>7} {'s':>7} {'ratio':>7} {'gap':>9} "
          f"{'closed-bound':>12}  status")
    series = []
    cases = [("balanced K=10", b, lambda N: [N // 10] * 10) for b in (3, 32)]
    cases += [("3 sizes 2x4m+3x2m+5xm", b, _three_sizes) for b in (3, 8)]
    for name, b, sizes_of in cases:
        points = []
        for N in sizes_N:
            sizes = sizes_of(N)
            times, res = [], None
            for _ in range(repeats):
                seconds, res = _timed(lambda: batch_sc_relaxation(sizes, b, "multiset", 1.0))
                times.append(seconds)
            seconds = statistics.median(times)
            points.append((sum(sizes), seconds))
            closed = ""
            if len(set(sizes)) == 1:
                closed = f"{sc_minimum(sum(sizes), len(sizes), b, 1.0, 'multiset').mean_per_batch - res.lower_bound:12.1e}"
            target = ""
            if name.startswith("balanced") and N == 10_000:
                target = "ok" if seconds < REDUCED_TARGET_S else "MISSED"
            print(f"{name:>24} {b:3d} {sum(sizes):6d} {res.n_rows:7d} {seconds:7.3f} {seconds / base:7.3f} "
                  f"{res.gap:9.1e} {closed:>12}  {res.status} {target}")
        slope = np.polyfit(np.log([p[0] for p in points]), np.log([p[1] for p in points]), 1)[0]
        series.append((name, b, slope))
    for name, b, slope in series:
        print(f"growth in N, {name}, b={b}: time ~ N^{slope:.2f} (the program's size depends on b and the "
              f"number of class sizes, not on N)")


def main() -> None:
    _warm_up()
    full_seconds = _full_table()
    _reduced_table(full_seconds)
    _scaling_table()
    _class_sizes_table(full_seconds)
    _batch_table()


if __name__ == "__main__":
    main()
