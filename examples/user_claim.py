"""Write and check your own claims: one that holds and one that is false.

N unit vectors cannot all point away from each other: since
0 <= ||z_1 + ... + z_N||^2 = N + sum_{i != j} <z_i, z_j>, their mean pairwise inner
product is at least -1/(N-1), with equality exactly at an origin-centred regular
simplex (graf2021, section 1 of THEORY.md). A tempting misremembering puts the
*dimension* h where the *number of points* N belongs; with N = 3 points in h = 8
dimensions it fails, and theorycheck finds and confirms the counterexample.

Check the claims from a shell::

    theorycheck check examples/user_claim.py                        # both claims
    theorycheck check examples/user_claim.py::spread_bound --param N=5 --ablate
    theorycheck check examples/user_claim.py::dimension_bound --report cx.md --json cx.json

or run this file (``python examples/user_claim.py``), which judges both and exits 0
when the true claim holds and the false one is refuted. ``examples/test_user_claims.py``
uses the same claims in a pytest property suite.
"""

import os
import sys

from theorycheck import Assumption, Param, claim
from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck.citations import Reference

# A claim may cite a shipped key ("graf2021") or your own reference.
MY_NOTES = Reference(
    key="student2024notes",
    authors=("A. Student",),
    title="How far apart can embeddings be? Lecture notes on representation geometry",
    venue="Course notes",
    year=2024,
    entry_type="misc",
)

PARAMS = (
    Param("N", 4, "number of embeddings", min=2, max=12),
    Param("h", 3, "embedding dimension", min=1, max=12),
)


def _inputs(p, active):
    # "unit-norm" is a droppable assumption: without it the rows are unconstrained
    if "unit-norm" in active:
        return {"Z": st.sphere(p.N, p.h, 1.0)}
    return {"Z": st.real_matrix(p.N, p.h, 1.0)}


def _mean_pairwise_inner_product(Z, N):
    gram = Z @ Z.T
    return (xp.sum(gram) - xp.sum(xp.diag(gram))) / (N * (N - 1))


@claim(
    id="user.spread-bound",
    cite=("graf2021", MY_NOTES),
    kind="inequality",
    statement="N unit vectors have mean pairwise inner product >= -1/(N-1) (equality at the regular simplex)",
    params=PARAMS,
    assumptions=(Assumption("unit-norm", "every row of Z has norm 1"),),
    inputs=_inputs,
    relation=">=",
    summary_keys=("inputs_tried", "worst_slack"),
)
def spread_bound(Z, *, p):
    """(mean_{i != j} <z_i, z_j>, -1/(N-1)); exact constants so the high-precision check is exact."""
    return _mean_pairwise_inner_product(Z, p.N), xp.scalar(-1.0, Z) / (p.N - 1)


@claim(
    id="user.dimension-bound",
    cite=(MY_NOTES,),
    kind="inequality",
    statement="N unit vectors in R^h have mean pairwise inner product >= -1/h (FALSE: the bound is -1/(N-1))",
    params=(Param("N", 3, "number of embeddings", min=2, max=12),
            Param("h", 8, "embedding dimension", min=1, max=12)),
    assumptions=(Assumption("unit-norm", "every row of Z has norm 1"),),
    inputs=_inputs,
    relation=">=",
)
def dimension_bound(Z, *, p):
    """(mean_{i != j} <z_i, z_j>, -1/h)."""
    return _mean_pairwise_inner_product(Z, p.N), xp.scalar(-1.0, Z) / p.h


def main() -> int:
    from theorycheck import Budget, judge

    seconds = float(os.environ.get("THEORYCHECK_EXAMPLE_BUDGET", "3"))
    expected = {spread_bound.id: "HOLDS", dimension_bound.id: "REFUTED"}
    ok = True
    for c in (spread_bound, dimension_bound):
        result = judge(c, budget=Budget(seconds=seconds), seed=0)
        verdict = str(result.verdict)
        print(f"{c.id}: {verdict} (expected {expected[c.id]})")
        if result.counterexample is not None:
            cx = result.counterexample
            print(f"  counterexample: lhs = {cx.lhs:.6g}, rhs = {cx.rhs:.6g}, margin = {cx.margin:.3g}")
        ok &= verdict == expected[c.id]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
