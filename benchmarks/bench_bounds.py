"""Closed-form SC minimum (theorycheck.bounds.sc_minimum) versus its alternatives (CPU).

Two tables, every baseline measured in the same run:

1. N=50000, K=100, b=256 for every batch set: the log-space closed form against the
   exact big-integer evaluation of the same formula (``sc_minimum_exact_counts``: Python
   ``math.comb`` counts, mpmath sum). Target: closed form under 50 ms. Also prints the
   relative difference of the two mean-per-batch values (exactness check).
2. Small cases where enumeration is feasible: the closed form against enumerating every
   batch at the collapsed simplex with ``theorycheck.losses.sc_loss(method="exact")``
   (speed-up = enumeration time / closed-form time), with the relative difference.

Times are medians over repeats. Run: ``python benchmarks/run.py bounds`` (``--quick``
for fewer repeats and smaller enumeration cases).
"""

from __future__ import annotations

import os
import statistics
import time

from theorycheck.bounds import BATCH_SETS, sc_minimum, sc_minimum_exact_counts
from theorycheck.geometry import regular_simplex

QUICK = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
TARGET_MS = 50.0


def _median_seconds(fn, repeats: int) -> tuple[float, object]:
    result = fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _large_case_table() -> None:
    N, K, b, rho = 50_000, 100, 256, 1.0
    repeats = 5 if QUICK else 30
    print(f"closed form vs exact big-integer counts, N={N}, K={K}, b={b}, rho={rho} (median of {repeats})")
    print(f"{'batches':>9} {'closed ms':>10} {'exact ms':>10} {'speed-up':>9} {'rel diff':>9} "
          f"{'mean per batch':>20} {'log total':>20}  target < {TARGET_MS:.0f} ms")
    for batches in BATCH_SETS:
        t_closed, closed = _median_seconds(lambda: sc_minimum(N, K, b, rho, batches), repeats)
        t_exact, exact = _median_seconds(lambda: sc_minimum_exact_counts(N, K, b, rho, batches), max(3, repeats // 5))
        rel = abs(closed.mean_per_batch - float(exact.mean_per_batch)) / float(exact.mean_per_batch)
        verdict = "ok" if t_closed * 1e3 < TARGET_MS else "MISSED"
        print(f"{batches:>9} {t_closed * 1e3:10.3f} {t_exact * 1e3:10.3f} {t_exact / t_closed:9.1f} {rel:9.1e} "
              f"{closed.mean_per_batch:20.15g} {closed.log_total:20.15g}  {verdict}")


def _enumeration_table() -> None:
    from theorycheck.losses import sc_loss

    cases = [(6, 3, 9, "multiset"), (9, 3, 5, "subset"), (9, 3, 5, "ordered")]
    if not QUICK:
        cases += [(12, 3, 6, "multiset"), (16, 4, 8, "subset"), (12, 4, 6, "ordered"), (20, 4, 6, "multiset")]
    repeats = 3 if QUICK else 5
    print(f"\nclosed form vs exact enumeration (theorycheck.losses.sc_loss, method='exact'), rho=1 "
          f"(median of {repeats})")
    print(f"{'N':>3} {'K':>3} {'b':>3} {'batches':>9} {'#batches':>10} {'closed ms':>10} {'enum ms':>10} "
          f"{'speed-up':>9} {'rel diff':>9}")
    for N, K, b, batches in cases:
        y = [n % K for n in range(N)]
        Z = regular_simplex(K, K, 1.0)[y]
        t_closed, closed = _median_seconds(lambda: sc_minimum(N, K, b, 1.0, batches), 20)
        t_enum, enum = _median_seconds(lambda: sc_loss(Z, y, b, batches, method="exact"), repeats)
        value = float(enum.value)
        rel = abs(closed.total - value) / value
        print(f"{N:3d} {K:3d} {b:3d} {batches:>9} {enum.n_batches:10d} {t_closed * 1e3:10.3f} "
              f"{t_enum * 1e3:10.1f} {t_enum / t_closed:9.0f} {rel:9.1e}")


def main() -> None:
    _large_case_table()
    _enumeration_table()


if __name__ == "__main__":
    main()
