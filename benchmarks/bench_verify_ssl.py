"""Checks of the self-supervised claims (issue 6): numeric judging and exact proofs, timed.

Two tables.

1. **Numeric checks at the default budget.** Every claim of huang2023 and garrido2023 is
   judged once at its default sizes with ``Budget()`` (5 s per claim, the ``verify``
   default), seed 0. Per claim: verdict, wall and CPU seconds, and the ratio to a baseline
   measured in the same run -- the Cauchy-Schwarz inequality on R^4 judged with the same
   budget (the cost of the engine's search phases on a claim whose evaluation is free). The
   target of the issue is a total under 30 s on 2 CPU cores.
2. **Exact proofs up to the documented limits.** Every identity claim of the issue is
   proved at every size up to its limit (``theorycheck.symbolic.LIMITS``; the Lemma 3.4
   attainment identity up to ``garrido2023.ATTAINMENT_PROOF_LIMIT``), general form once per
   family. Per family: sizes, proofs closed, seconds, and the ratio to the baseline above.
   Target: under 60 s in total.

Wall seconds depend on what else the machine runs; CPU seconds (process time) less so.
``THEORYCHECK_BENCH_QUICK=1`` (``python benchmarks/run.py verify_ssl --quick``) judges with
a 1 s budget and proves up to size 3 only.

Run: ``python benchmarks/run.py verify_ssl``.
"""

from __future__ import annotations

import itertools
import os
import time

from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck import symbolic
from theorycheck.claims import garrido2023, huang2023  # noqa: F401 - registers the claims
from theorycheck.engine import Budget, Param, claim, judge, registry

NUMERIC_TARGET = 30.0
PROOF_TARGET = 60.0


def _baseline_claim():
    return claim(id="bench.cauchy-schwarz", cite=(), kind="inequality", statement="|<u, v>| <= ||u|| ||v||",
                 params=(Param("h", 4, "dimension", min=1),),
                 inputs=lambda p, active: {"u": st.real_matrix(1, p.h, 1.0), "v": st.real_matrix(1, p.h, 1.0)},
                 relation="<=", register=False)(
        lambda u, v, *, p: (xp.abs(xp.sum(u * v)), xp.norm(u) * xp.norm(v)))


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _baseline(budget: Budget) -> float:
    judge(_baseline_claim(), budget=budget)  # warm-up: imports hypothesis and torch
    _, base_wall, base_cpu = _timed(lambda: judge(_baseline_claim(), budget=budget))
    print(f"baseline: Cauchy-Schwarz on R^4 judged with Budget(seconds={budget.seconds}): "
          f"{base_wall:.2f} s wall, {base_cpu:.2f} s CPU")
    return base_cpu


def _numeric(budget: Budget, base_cpu: float) -> None:
    ids = [c.id for c in registry.all_claims() if c.id.startswith(("huang2023.", "garrido2023."))]
    print(f"\nnumeric checks, Budget(seconds={budget.seconds}), seed 0, default sizes "
          "(the identities' proofs at these sizes included)")
    header = f"{'claim':38} {'verdict':12} {'wall s':>7} {'CPU s':>7} {'CPU/base':>9}  evidence"
    print(header)
    print("-" * (len(header) + 30))
    total_wall = total_cpu = 0.0
    for claim_id in ids:
        result, wall, cpu = _timed(lambda: judge(claim_id, budget=budget))
        total_wall += wall
        total_cpu += cpu
        ev = result.evidence
        note = []
        if "proof" in ev:
            if result.proved_exactly:
                note.append("proved exactly")
            elif "ProofNotAttempted" in str(ev["proof"]):
                note.append("above the proof limit: tested numerically")
            else:
                note.append(f"proof {ev['proof']}: tested numerically")
        if ev.get("informative_fraction") is not None:
            note.append(f"informative {ev['informative_fraction']:.3f}")
        if result.counterexample is not None:
            note.append(f"margin {result.counterexample.margin:.3g}")
        if "var_ci_width" in ev:
            note.append(f"var CI width {ev['var_ci_width']:.3g} at {ev['confidence']}")
        print(f"{claim_id:38} {result.verdict.value:12} {wall:7.2f} {cpu:7.2f} {cpu / base_cpu:9.2f}  "
              f"{', '.join(note)}")
    status = "within" if total_wall < NUMERIC_TARGET else "OVER"
    print(f"{'total':38} {'':12} {total_wall:7.2f} {total_cpu:7.2f} {total_cpu / base_cpu:9.2f}  "
          f"({status} the {NUMERIC_TARGET:.0f} s target, wall)")


def _proofs(base_cpu: float, quick: bool) -> None:
    def cap(limit: int) -> int:
        return min(limit, 3) if quick else limit

    families = [
        ("garrido2023.duality", "duality", symbolic.prove_duality, 2),
        ("garrido2023.doubly-normalized", "doubly_normalized", symbolic.prove_doubly_normalized, 2),
        ("huang2023.barlow-decomposition", "barlow", symbolic.prove_barlow_decomposition, 1),
        ("huang2023.gram-identity", "gram", symbolic.prove_gram_identity, 2),
        ("huang2023.infonce-decomposition", "infonce", symbolic.prove_infonce_decomposition, 1),
    ]
    print("\nexact proofs (sympy, cold: first proofs of the process) at every size up to the limit, "
          "general form once per claim")
    header = f"{'claim':38} {'limit':>5} {'sizes':>5} {'closed':>6} {'vacuous':>7} {'wall s':>7} {'CPU/base':>9}"
    print(header)
    print("-" * len(header))
    total = 0.0
    for claim_id, family, prover, arity in families:
        limit = cap(symbolic.LIMITS[family])
        sizes = list(itertools.product(range(1, limit + 1), repeat=arity))

        def run():
            return [prover(*s, general=(i == 0)) for i, s in enumerate(sizes)]

        results, wall, cpu = _timed(run)
        total += wall
        print(f"{claim_id:38} {limit:5d} {len(sizes):5d} {sum(r.closed for r in results):6d} "
              f"{sum(r.vacuous for r in results):7d} {wall:7.2f} {cpu / base_cpu:9.2f}")
    limit = cap(garrido2023.ATTAINMENT_PROOF_LIMIT)
    attainment = registry.get("garrido2023.lemma3.4.attainment")
    results, wall, cpu = _timed(lambda: [attainment.proof(attainment.resolve_params({"M": M}))
                                         for M in range(1, limit + 1)])
    total += wall
    print(f"{'garrido2023.lemma3.4.attainment':38} {limit:5d} {limit:5d} {sum(r.closed for r in results):6d} "
          f"{0:7d} {wall:7.2f} {cpu / base_cpu:9.2f}")
    status = "within" if total < PROOF_TARGET else "OVER"
    print(f"{'total':38} {'':5} {'':5} {'':6} {'':7} {total:7.2f}  ({status} the {PROOF_TARGET:.0f} s target)")


def main() -> None:
    quick = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
    budget = Budget(seconds=1.0) if quick else Budget()
    base_cpu = _baseline(budget)
    _proofs(base_cpu, quick)
    _numeric(budget, base_cpu)


if __name__ == "__main__":
    main()
