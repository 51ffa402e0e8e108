"""The proof chain of graf2021.ce.bound, step by step: each step is a claim the engine judges.

graf2021 (THEORY.md section 2): for balanced labels and ||z_n|| <= rho,

    L_CE(Z, W; Y) >= log(1 + (K-1) exp(-rho sqrt(K)/(K-1) ||W||_F)).

The proof is a chain; every link is registered as its own claim in
``theorycheck/claims/graf2021.py`` and judged here at the same sizes:

1. ``graf2021.ce.step1-jensen``         L_CE >= log(1 + (K-1) e^s),
   s = 1/(N(K-1)) sum_n sum_{k != y_n} <z_n, w_k - w_{y_n}>           (Jensen; no assumption)
2. ``graf2021.ce.step2-sum-identity``   sum_{k != y}(w_k - w_y) = wbar - K w_y   (proved exactly)
3. ``graf2021.ce.step3-cauchy-schwarz`` sum_n <z_n, wbar - K w_{y_n}> >= -rho sum_n ||wbar - K w_{y_n}||
4. ``graf2021.ce.step4-balance``        sum_n ||wbar - K w_{y_n}|| <= N sqrt(K) ||W||_F  (balanced Y)
5. ``graf2021.ce.step5-combine``        log(1 + (K-1) e^s) >= the bound  (2-4 and monotonicity)

and steps 1 and 5 together are ``graf2021.ce.bound``. For every step that has assumptions,
each one is dropped in turn (ablation) to show which step needs which assumption.

Output (format of proofs/README.md): the exact sympy proof of step 2 as a ``CLAIM`` block
(every entry a symbol, and the general form for all K, h), then one ``STEP`` line per link
with the engine's verdict and evidence, a ``CHAIN`` line, and one ``SUMMARY`` line. Exits 0
iff the symbolic proof closes and every step and the bound HOLD.

Run: ``python proofs/graf2021_ce_bound.py [--K 3] [--N 6] [--h 3] [--rho 1.0] [--examples 240]``.
"""

from __future__ import annotations

import argparse
import sys
import time

from theorycheck import symbolic
from theorycheck.claims import graf2021
from theorycheck.engine import Budget, judge, registry

STATEMENTS = {
    "graf2021.ce.step1-jensen": "L_CE >= log(1 + (K-1) e^s)  [Jensen]",
    "graf2021.ce.step2-sum-identity": "sum_{k != y}(w_k - w_y) = wbar - K w_y",
    "graf2021.ce.step3-cauchy-schwarz": "sum_n <z_n, v_n> >= -rho sum_n ||v_n||,  v_n = wbar - K w_{y_n}",
    "graf2021.ce.step4-balance": "sum_n ||v_n|| <= N sqrt(K) ||W||_F",
    "graf2021.ce.step5-combine": "log(1 + (K-1) e^s) >= log(1 + (K-1) exp(-rho sqrt(K)/(K-1) ||W||_F))",
    "graf2021.ce.bound": "L_CE >= log(1 + (K-1) exp(-rho sqrt(K)/(K-1) ||W||_F))",
}


def _numbers(result) -> str:
    ev = result.evidence
    parts = []
    if "proof" in ev:
        parts.append(f"proof {ev['proof']}")
    if "inputs_tried" in ev:
        parts.append(f"{ev['inputs_tried']} inputs")
    if ev.get("worst_slack") is not None:
        parts.append(f"worst slack {ev['worst_slack']:.3g}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, default=3)
    parser.add_argument("--N", type=int, default=6)
    parser.add_argument("--h", type=int, default=3)
    parser.add_argument("--rho", type=float, default=1.0)
    parser.add_argument("--examples", type=int, default=240,
                        help="random inputs per judged claim (no deadline: the same verdicts on any machine)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    sizes = {"N": args.N, "K": args.K, "h": args.h, "rho": args.rho}

    # step 2, exactly: every entry of W a symbol at these sizes, and the general form
    proof = symbolic.prove_ce_sum_identity(min(args.K, symbolic.LIMITS["ce_sum"]),
                                           min(args.h, symbolic.LIMITS["ce_sum"]))
    print(proof)
    print()

    verdicts = {}
    for index, claim_id in enumerate(graf2021.CE_STEPS + ("graf2021.ce.bound",), start=1):
        claim = registry.get(claim_id)
        result = judge(claim, sizes, budget=Budget(seconds=None, examples=args.examples), seed=args.seed,
                       ablate=bool(claim.assumptions))
        verdicts[claim_id] = result.verdict.value
        label = f"STEP {index}/5" if claim_id != "graf2021.ce.bound" else "BOUND   "
        needs = ", ".join(claim.assumption_names) or "no assumption"
        print(f"{label} {claim_id} [{', '.join(f'{k}={v}' for k, v in sizes.items())}]: "
              f"{result.verdict.value} in {result.seconds:.1f} s  ({_numbers(result)}; uses {needs})")
        print(f"    {STATEMENTS[claim_id]}")
        for ablation in result.ablations:
            cx = ablation.counterexample
            margin = f", counterexample confirmed with {cx.precision_digits} digits, margin {cx.margin:.3g}" \
                if cx is not None else ""
            print(f"    without {ablation.dropped}: {ablation.verdict.value}{margin}")

    steps_hold = all(verdicts[c] == "HOLDS" for c in graf2021.CE_STEPS)
    bound_holds = verdicts["graf2021.ce.bound"] == "HOLDS"
    print(f"CHAIN graf2021.ce.bound: steps 1 and 5 compose to the bound, steps 2-4 give step 5: "
          f"{'every link HOLDS' if steps_hold else 'a link does not hold'}; the bound itself "
          f"{verdicts['graf2021.ce.bound']}")
    held = sum(verdicts[c] == "HOLDS" for c in graf2021.CE_STEPS)
    ok = proof.closed and steps_hold and bound_holds
    print(f"SUMMARY: {held}/5 steps HOLD, bound {verdicts['graf2021.ce.bound']}, step 2 proved exactly: "
          f"{'yes' if proof.closed else 'no'}; {time.perf_counter() - start:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
