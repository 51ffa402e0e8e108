"""Claim engine: time to counterexample on planted false claims, and search throughput.

Two tables, baselines measured in the same run:

1. *Time to counterexample.* Eight false identities and inequalities of our own (a
   constant changed, a sign flipped, a factor dropped, a bound shifted so that only a
   small region violates it), each judged with the default ``Budget(seconds=5)`` over
   several seeds. Columns: the phase that found the counterexample, seconds until the
   first confirmed counterexample (search + mpmath confirmation), seconds for the whole
   judgement (with shrinking), and the sizes after shrinking. Target: median judgement
   under 2 s on 2 CPU cores.
2. *Throughput.* Inputs judged per second by the seeded random phase and by the
   hypothesis phase of the engine (evaluation, slack bookkeeping, candidate tracking),
   against a plain numpy loop calling the same evaluator on inputs drawn up front (the
   baseline: the cost of the evaluations alone). Ratio = engine rate / baseline rate.

Run: ``python benchmarks/run.py engine`` (``--quick`` for one seed per claim).
"""

from __future__ import annotations

import math
import os
import statistics
import time

import numpy as np

from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck.engine import Budget, Param, Verdict, claim, judge
from theorycheck.engine.results import JudgeContext
from theorycheck.engine.search import _Search, search_relation

QUICK = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
TARGET_MEDIAN_S = 2.0


def _planted_claims() -> list:
    """Eight false claims (register=False: nothing leaks into the registry)."""
    out = []

    def add(**kw):
        def deco(fn):
            out.append(claim(cite=(), register=False, **kw)(fn))
            return fn
        return deco

    @add(id="bench.cauchy-schwarz-constant", kind="inequality", statement="|<u,v>| <= 0.98 ||u|| ||v||",
         params=(Param("h", 4, min=1),), relation="<=",
         inputs=lambda p, a: {"u": st.real_matrix(1, p.h), "v": st.real_matrix(1, p.h)})
    def _cs(u, v, *, p):
        return xp.abs(xp.sum(u * v)), 0.98 * xp.norm(u) * xp.norm(v)

    def duality_sides(K):
        gram, cov = K.T @ K, K @ K.T
        l_c = xp.sum(gram * gram) - xp.sum(xp.diag(gram) ** 2)
        l_nc = xp.sum(cov * cov) - xp.sum(xp.diag(cov) ** 2)
        return l_c, l_nc, xp.sum(xp.sum(K * K, axis=1) ** 2), xp.sum(xp.sum(K * K, axis=0) ** 2)

    @add(id="bench.duality-sign", kind="identity", statement="L_nc - sum||K_j.||^4 = L_c + sum||K_.i||^4",
         params=(Param("M", 4, min=1), Param("N", 6, min=1)),
         inputs=lambda p, a: {"K": st.real_matrix(p.M, p.N)})
    def _dual_sign(K, *, p):
        l_c, l_nc, r, c = duality_sides(K)
        return l_nc - r, l_c + c

    @add(id="bench.duality-constant", kind="identity", statement="L_nc + sum||K_j.||^4 = L_c + 1.0001 sum||K_.i||^4",
         params=(Param("M", 4, min=1), Param("N", 6, min=1)),
         inputs=lambda p, a: {"K": st.real_matrix(p.M, p.N)})
    def _dual_const(K, *, p):
        l_c, l_nc, r, c = duality_sides(K)
        return l_nc + r, l_c + 1.0001 * c

    def ce_inputs(p, a):
        return {"Z": st.ball(p.N, p.h, 1.0), "W": st.real_matrix(p.K, p.h), "y": st.balanced_labels(p.N, p.K)}

    @add(id="bench.ce-bound-factor", kind="inequality", statement="CE >= log(1+(K-1)exp(-||W||/(K-1)))",
         params=(Param("N", 8, min=1), Param("K", 4, min=2), Param("h", 3, min=1)), relation=">=",
         inputs=ce_inputs)
    def _ce(Z, W, y, *, p):
        logits = Z @ W.T
        loss = xp.mean(xp.logsumexp(logits, axis=1) - logits[np.arange(logits.shape[0]), y])
        return loss, xp.log(1 + (p.K - 1) * xp.exp(-xp.norm(W) / (p.K - 1)))

    @add(id="bench.entropy-shifted", kind="inequality", statement="H(p) <= 0.99 log K",
         params=(Param("K", 5, min=2),), relation="<=",
         inputs=lambda p, a: {"q": st.probability_vector(p.K, min_entry=0.0)})
    def _entropy(q, *, p):
        terms = xp.where(q > 0, -q * xp.log(xp.where(q > 0, q, 1.0)), 0.0 * q)
        return xp.sum(terms), 0.99 * math.log(p.K)

    @add(id="bench.sphere-spread", kind="inequality", statement="sum_{i<j} <z_i,z_j> >= -N/2 + 0.05",
         params=(Param("N", 5, min=2), Param("h", 3, min=1)), relation=">=",
         inputs=lambda p, a: {"Z": st.sphere(p.N, p.h, 1.0)})
    def _spread(Z, *, p):
        gram = Z @ Z.T  # the true minimum -N/2 needs rows summing to zero: no special input does
        return (xp.sum(gram) - xp.sum(xp.diag(gram))) / 2, -p.N / 2 + 0.05

    @add(id="bench.jensen-variance", kind="inequality", statement="log E_q e^x >= E_q x + 0.1 Var_q x",
         params=(Param("K", 4, min=2),), relation=">=",
         inputs=lambda p, a: {"q": st.probability_vector(p.K), "x": st.real_matrix(1, p.K, 3.0)})
    def _jensen(q, x, *, p):
        x = x[0]
        mean = xp.sum(q * x)  # fails only for a large spread on a rare value
        return xp.logsumexp(x + xp.log(q + 1e-300)), mean + 0.1 * xp.sum(q * (x - mean) ** 2)

    @add(id="bench.antipodal-distance", kind="inequality", statement="||u - v||^2 <= 3.99 on the unit sphere",
         params=(Param("h", 3, min=1),), relation="<=",
         inputs=lambda p, a: {"u": st.sphere(1, p.h, 1.0), "v": st.sphere(1, p.h, 1.0)})
    def _antipodal(u, v, *, p):
        return xp.sum((u - v) ** 2), 3.99

    return out


def _time_to_counterexample() -> None:
    seeds = [0] if QUICK else [0, 1, 2]
    print(f"time to counterexample, Budget(seconds=5), seeds {seeds} (CPU, {os.cpu_count()} cores)")
    print(f"{'claim':<30} {'found by':>12} {'detect s':>9} {'judge s':>8} {'sizes after shrinking':<28}")
    judge_times, detect_times, missed = [], [], []
    judge(_planted_claims()[0], budget=Budget(seconds=5), seed=0)  # warm-up: imports, hypothesis
    for c in _planted_claims():
        for seed in seeds:
            p = c.resolve_params()
            ctx = JudgeContext(c, p, c.active_assumptions(), c.spaces(p, c.active_assumptions()), Budget(seconds=5),
                               np.random.default_rng([seed]), seed, time.monotonic() + 5.0)
            start = time.perf_counter()
            state = search_relation(ctx)
            detect = time.perf_counter() - start
            start = time.perf_counter()
            result = judge(c, budget=Budget(seconds=5), seed=seed)
            total = time.perf_counter() - start
            if result.verdict is not Verdict.REFUTED:
                missed.append((c.id, seed, result.verdict.value))
                print(f"{c.id:<30} {'MISSED':>12} {detect:9.3f} {total:8.3f} {result.verdict.value}")
                continue
            judge_times.append(total)
            detect_times.append(detect if state.confirmed is not None else math.nan)
            sizes = ", ".join(f"{k}={v}" for k, v in result.counterexample.params.items())
            print(f"{c.id:<30} {result.evidence['found_in_phase']:>12} {detect:9.3f} {total:8.3f} {sizes:<28}")
    found = [t for t in detect_times if not math.isnan(t)]
    median = statistics.median(judge_times) if judge_times else math.nan
    print(f"judge: median {median:.3f} s, worst {max(judge_times, default=math.nan):.3f} s; "
          f"detect: median {statistics.median(found) if found else math.nan:.3f} s, "
          f"worst {max(found, default=math.nan):.3f} s; refuted {len(judge_times)}/{len(judge_times) + len(missed)}"
          f"  target median < {TARGET_MEDIAN_S:.0f} s: {'ok' if median < TARGET_MEDIAN_S else 'MISSED'}")


def _throughput() -> None:
    print("\nrandom-search throughput (true claims, no counterexample to stop the search)")
    print(f"{'claim':<26} {'phase':<11} {'engine in/s':>12} {'numpy loop in/s':>16} {'ratio':>7}")

    @claim(id="bench.duality", cite=(), kind="identity", statement="garrido2023 duality", register=False,
           params=(Param("M", 8, min=1), Param("N", 16, min=1)), inputs=lambda p, a: {"K": st.real_matrix(p.M, p.N)})
    def duality(K, *, p):
        gram, cov = K.T @ K, K @ K.T
        l_c = xp.sum(gram * gram) - xp.sum(xp.diag(gram) ** 2)
        l_nc = xp.sum(cov * cov) - xp.sum(xp.diag(cov) ** 2)
        return l_nc + xp.sum(xp.sum(K * K, axis=1) ** 2), l_c + xp.sum(xp.sum(K * K, axis=0) ** 2)

    @claim(id="bench.ce", cite=(), kind="inequality", statement="graf2021 CE bound", register=False, relation=">=",
           params=(Param("N", 12, min=1), Param("K", 4, min=2), Param("h", 3, min=1)),
           inputs=lambda p, a: {"Z": st.ball(p.N, p.h, 1.0), "W": st.real_matrix(p.K, p.h),
                                "y": st.balanced_labels(p.N, p.K)})
    def ce(Z, W, y, *, p):
        logits = Z @ W.T
        loss = xp.mean(xp.logsumexp(logits, axis=1) - logits[np.arange(logits.shape[0]), y])
        return loss, xp.log(1 + (p.K - 1) * xp.exp(-math.sqrt(p.K) / (p.K - 1) * xp.norm(W)))

    n = 300 if QUICK else 2000
    for c in (duality, ce):
        p = c.resolve_params()
        spaces = c.spaces(p, frozenset())
        rng = np.random.default_rng(0)
        drawn = [{k: s.sample(rng) for k, s in spaces.items()} for _ in range(n)]
        start = time.perf_counter()
        for inputs in drawn:  # baseline: the evaluations alone
            c.evaluate(**inputs, p=p)
        base_rate = n / (time.perf_counter() - start)
        for phase in ("random", "hypothesis"):
            ctx = JudgeContext(c, p, frozenset(), spaces, Budget(seconds=None, examples=n), np.random.default_rng(0),
                               0, None)
            search = _Search(ctx)
            count = n if phase == "random" else max(100, n // 4)
            start = time.perf_counter()
            if phase == "random":
                search.run_random(count)
            else:
                search.run_hypothesis(count)
            elapsed = time.perf_counter() - start
            done = search.state.tried[phase]
            rate = done / elapsed
            print(f"{c.id:<26} {phase:<11} {rate:12.0f} {base_rate:16.0f} {rate / base_rate:7.2f}")


def main() -> None:
    _time_to_counterexample()
    _throughput()


if __name__ == "__main__":
    main()
