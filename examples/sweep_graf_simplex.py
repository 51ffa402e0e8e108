"""Where graf2021's simplex theorem holds: a sweep over batch size b and class imbalance.

graf2021.sc.simplex says that, for *balanced* labels and b >= 3, the SupCon loss summed
over the batch set is minimal exactly at the collapsed regular simplex. This file states
the same characterization at a chosen STEP imbalance (``imbalance`` R: class 0 has
round(R n) samples, the other classes n each) and sweeps it over b x R:

* R = 1 is the theorem's own setting: HOLDS for b >= 3;
* b = 2 is VACUOUS (every batch's loss is identically 0: the assumption b >= 3 fails);
* R > 1 drops the balance assumption: the optimiser finds configurations below the
  collapsed simplex, so the claim is REFUTED there, with a counterexample confirmed in
  high precision; its margin is the number printed in the cell.

Run it (``--workers 2`` for a local Dask cluster, needs ``theorycheck[dask]``)::

    python examples/sweep_graf_simplex.py [--workers 2] [--out sweep-graf-simplex]

or the same from the shell::

    theorycheck sweep examples/sweep_graf_simplex.py::simplex_at_imbalance \\
        --grid b=2:4 --grid imbalance=1,1.5,2,3 --examples 40 --out sweep-graf-simplex

Either writes ``sweep.json``, ``sweep.md`` and the phase diagram ``phase.png`` /
``phase.svg`` (docs/sweep.md). With ``--workers`` the script needs its
``if __name__ == "__main__"`` guard: Dask starts its worker processes by re-importing it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

from theorycheck import Assumption, Param, claim
from theorycheck import strategies as st
from theorycheck.bounds import sc_minimum
from theorycheck.claims.graf2021 import sc_batch_set_loss
from theorycheck.geometry import distance_to_collapsed_simplex, regular_simplex

K, N_MINOR, H, RHO = 3, 2, 2, 1.0
BATCH_SIZE = Assumption("b>=3", "batch size b >= 3 (at b = 2 every batch's loss is identically 0)")


def _labels(p) -> np.ndarray:
    """STEP imbalance: class 0 has round(R n) samples, the K - 1 others n each (sorted)."""
    major = max(1, round(p.imbalance * N_MINOR))
    return np.repeat(np.arange(K), [major] + [N_MINOR] * (K - 1)).astype(np.int64)


class _Sizes(dict):
    """The parameters graf2021's loss reads (N, K, h, rho, b, batches), as attributes."""

    __getattr__ = dict.__getitem__


def _sizes(p) -> _Sizes:
    return _Sizes(N=len(_labels(p)), K=K, h=H, rho=RHO, b=p.b, batches="multiset")


def _inputs(p, active):
    return {"Z": st.sphere(len(_labels(p)), H, RHO), "y": st.fixed(_labels(p))}


def _closed_form(p) -> float:
    q = _sizes(p)
    return sc_minimum(q.N, K, q.b, RHO, q.batches).total if q.N % K == 0 else 0.0


def _witness(p):
    y = _labels(p)
    return {"Z": regular_simplex(K, H, RHO)[y], "y": y}


def _requires(p, active):
    if "b>=3" in active and p.b < 3:
        return f"b >= 3 fails: b={p.b}"
    return None


@claim(
    id="example.sc-simplex-imbalance",
    cite=("graf2021",),
    kind="characterization",
    statement="With ||z_n|| = rho and labels of STEP imbalance R (R = 1: balanced), the SupCon loss summed "
              "over the batch set is minimal exactly at the collapsed regular simplex",
    params=(Param("b", 3, "batch size", min=2, max=6),
            Param("imbalance", 1.0, "size of class 0 over the size of the others (R >= 1)", type=float, min=1.0)),
    assumptions=(BATCH_SIZE,),
    inputs=_inputs,
    optimum=_closed_form,
    witness=_witness,
    distance=lambda Z, y, p: distance_to_collapsed_simplex(Z, y, radius=RHO, K=K),
    requires=_requires,
    search={"starts": 4, "steps": 200},
    summary_keys=("claimed_optimum", "best_value", "max_distance"),
)
def simplex_at_imbalance(Z, y, *, p):
    """L_SC over the multiset batch set, referenced to the collapsed simplex (graf2021's)."""
    return sc_batch_set_loss(Z, y, np.int64(1), p=_sizes(p))


def main(argv: list[str] | None = None) -> int:
    from theorycheck import sweep
    from theorycheck.engine import registry

    quick = "THEORYCHECK_EXAMPLE_BUDGET" in os.environ  # CI (tests/test_examples.py): 4 points, a temp folder
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="local Dask worker processes")
    parser.add_argument("--out", default=tempfile.mkdtemp() if quick else "sweep-graf-simplex", help="output folder")
    parser.add_argument("--examples", type=int, default=10 if quick else 40, help="random inputs per point")
    args = parser.parse_args(argv)
    grid = {"b": [2, 3], "imbalance": [1.0, 2.0]} if quick else {"b": [2, 3, 4], "imbalance": [1.0, 1.5, 2.0, 3.0]}
    # run as a script, the claim above is registered by ``__main__``; the sweep loads this
    # file by its path, as every worker does, which registers it again under the file's name
    registry.unregister(simplex_at_imbalance.id)
    result = sweep(f"{__file__}::simplex_at_imbalance", grid, examples=args.examples, workers=args.workers,
                   out=args.out)
    wrong = []
    for row in result.records():
        key = f"  {row['key']} = {row['key_value']:.3g}" if row["key_value"] is not None else ""
        expected = "VACUOUS" if row["b"] < 3 else "HOLDS" if row["imbalance"] == 1.0 else "REFUTED"
        print(f"b={row['b']} R={row['imbalance']:<4g} {row['verdict']} (expected {expected}){key}")
        if row["verdict"] != expected:
            wrong.append(row)
    print(f"phase diagram: {result.files['png']}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
