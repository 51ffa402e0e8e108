"""Exact symbolic proofs (theorycheck.symbolic) at every size up to their limits (CPU).

Tables, every baseline measured in the same run:

1. Explicit-size proofs per identity and size: wall and CPU seconds, with the ratio to
   the smallest size of the same identity. Two-size families (M x N, d x K, K x h) are
   grouped by shell ``max(sizes) = n`` (all sizes with that largest size), plus the
   single largest size.
2. The general-form chains (symbolic sizes), once per identity.
3. The variants the proof scripts also decide (doubly stochastic reading, InfoNCE
   without unit norm).
4. The zero test behind every explicit step: sympy's sparse PolyRing against plain
   ``sympy.expand`` on the largest duality and Gram chains (speed-up ratio).

Target: everything in tables 1-3 (all sizes up to ``LIMITS``) under 60 s on 2 CPU cores.
CPU seconds are printed beside wall seconds because the box may be shared.
Run: ``python benchmarks/run.py symbolic`` (``--quick`` halves the limits).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

import sympy as sp

from theorycheck import symbolic

QUICK = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
TARGET_SECONDS = 60.0

_PROVERS = {
    "duality": symbolic.prove_duality,
    "doubly_normalized": symbolic.prove_doubly_normalized,
    "barlow": symbolic.prove_barlow_decomposition,
    "gram": symbolic.prove_gram_identity,
    "infonce": symbolic.prove_infonce_decomposition,
    "ce_sum": symbolic.prove_ce_sum_identity,
}


def _limit(family: str) -> int:
    limit = symbolic.LIMITS[family]
    return max(1, limit // 2) if QUICK else limit


def _timed(fn, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _explicit_table() -> tuple[float, float]:
    print("1. explicit-size proofs (every size up to the limit; ratio = time / time at the smallest size)")
    print(f"{'identity':<18} {'sizes':<12} {'#':>3} {'wall s':>8} {'cpu s':>8} {'ratio':>7}  closed")
    total_wall = total_cpu = 0.0
    for family, prover in _PROVERS.items():
        shells: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, True])
        largest = None
        for sizes in symbolic.proof_sizes(family, _limit(family)):
            result, wall, cpu = _timed(prover, *sizes, general=False)
            shell = shells[max(sizes)]
            shell[0] += 1
            shell[1] += wall
            shell[2] += cpu
            shell[3] = shell[3] and result.closed
            largest = (sizes, wall, cpu, result.closed)
            total_wall += wall
            total_cpu += cpu
        base = shells[1][1]
        two = len(symbolic.proof_sizes(family, 1)[0]) == 2
        for n in sorted(shells):
            count, wall, cpu, closed = shells[n]
            label = f"max={n}" if two else f"{n}"
            print(f"{family:<18} {label:<12} {count:>3} {wall:>8.3f} {cpu:>8.3f} {wall / base:>7.1f}  {closed}")
        if two and largest is not None:
            sizes, wall, cpu, closed = largest
            label = "x".join(map(str, sizes)) + " alone"
            print(f"{family:<18} {label:<12} {1:>3} {wall:>8.3f} {cpu:>8.3f} {wall / base:>7.1f}  {closed}")
    return total_wall, total_cpu


def _general_table() -> tuple[float, float]:
    print("\n2. general-form chains (symbolic sizes, index calculus)")
    print(f"{'identity':<18} {'steps':>5} {'wall s':>8} {'cpu s':>8}  closed")
    builders = {
        "duality": symbolic.duality_equations,
        "doubly_normalized": symbolic.doubly_normalized_equations,
        "barlow": symbolic.barlow_equations,
        "gram": symbolic.gram_equations,
        "infonce": symbolic.infonce_equations,
        "ce_sum": symbolic.ce_sum_equations,
    }
    total_wall = total_cpu = 0.0
    for family, build in builders.items():
        result, wall, cpu = _timed(lambda: symbolic.prove_chain(family, {}, build()))
        total_wall += wall
        total_cpu += cpu
        print(f"{family:<18} {len(result.steps):>5} {wall:>8.3f} {cpu:>8.3f}  {result.closed}")
    return total_wall, total_cpu


def _variant_table() -> tuple[float, float]:
    print("\n3. variants decided by the proof scripts")
    print(f"{'variant':<38} {'#':>3} {'wall s':>8} {'cpu s':>8}  refuted at")
    total_wall = total_cpu = 0.0
    rows = [
        ("doubly stochastic reading (M, N)", "doubly_normalized",
         lambda sizes: symbolic.prove_doubly_normalized(*sizes, normalization="stochastic", general=False)),
        ("InfoNCE without unit norm (d)", "infonce",
         lambda sizes: symbolic.prove_infonce_decomposition(*sizes, unit_norm=False, general=False)),
    ]
    for label, family, run in rows:
        wall_sum = cpu_sum = 0.0
        refuted = []
        sizes_list = symbolic.proof_sizes(family, _limit(family))
        for sizes in sizes_list:
            result, wall, cpu = _timed(run, sizes)
            wall_sum += wall
            cpu_sum += cpu
            if not result.closed:
                refuted.append("x".join(map(str, sizes)))
        total_wall += wall_sum
        total_cpu += cpu_sum
        shown = ", ".join(refuted[:4]) + (" ..." if len(refuted) > 4 else "")
        print(f"{label:<38} {len(sizes_list):>3} {wall_sum:>8.3f} {cpu_sum:>8.3f}  {shown or '-'}")
    return total_wall, total_cpu


def _zero_test_table() -> None:
    print("\n4. zero test of lhs - rhs: sparse PolyRing (used) vs sympy.expand (baseline), whole chain")
    print(f"{'chain':<18} {'sizes':<8} {'expand s':>9} {'ring s':>8} {'speed-up':>9}")
    cases = [("duality", symbolic.duality_equations, (_limit("duality"),) * 2),
             ("gram", symbolic.gram_equations, (_limit("gram"),) * 2)]
    for name, build, sizes in cases:
        differences = []
        for eq in build(*sizes):
            if isinstance(eq.lhs, sp.MatrixBase):
                differences.extend(eq.lhs - eq.rhs)
            else:
                differences.append(eq.lhs - eq.rhs)
        start = time.perf_counter()
        assert all(sp.expand(d) == 0 for d in differences)
        expand_s = time.perf_counter() - start
        start = time.perf_counter()
        assert all(symbolic._normalize(d) == 0 for d in differences)
        ring_s = time.perf_counter() - start
        label = "x".join(map(str, sizes))
        print(f"{name:<18} {label:<8} {expand_s:>9.3f} {ring_s:>8.3f} {expand_s / ring_s:>9.1f}")


def main() -> None:
    print(f"theorycheck.symbolic benchmark{' (quick)' if QUICK else ''}; limits "
          + ", ".join(f"{k}={_limit(k)}" for k in symbolic.LIMITS))
    symbolic.prove_duality(1, 1)  # warm sympy's caches so the smallest size is a fair baseline
    w1, c1 = _explicit_table()
    w2, c2 = _general_table()
    w3, c3 = _variant_table()
    _zero_test_table()
    wall, cpu = w1 + w2 + w3, c1 + c2 + c3
    verdict = "within" if wall < TARGET_SECONDS else "OVER"
    print(f"\ntotal (tables 1-3): {wall:.2f} s wall, {cpu:.2f} s CPU; target < {TARGET_SECONDS:.0f} s: {verdict} "
          f"({wall / TARGET_SECONDS:.2f} of the target)")


if __name__ == "__main__":
    main()
