"""graf2021's toy simulation: 400 points of K = 4 classes on the sphere S^2, two losses.

The seed slide ("Numerical Simulation"): sample z_1..z_400 (K = 4 classes, 100 each) on the
sphere S^2 (h = 3), minimise (1) the L2-regularised cross-entropy
L_CE(Z, W; Y) + lambda ||W||_F^2 over Z on S^2 and the classifier W, and (2) the supervised
contrastive loss L_SC(Z; Y) over Z on S^2, then look at the geometry. Here L_SC is the full-batch
loss: the batch set of all 400-subsets of the 400 points, i.e. the one batch holding every
sample (``batches="subset"``, b = N), which graf2021.sc.simplex covers and which is exact and
cheap. Both optimisations are projected L-BFGS (``theorycheck.engine.optimize.minimize``).

Printed: the pairwise cosines of the class means against -1/(K-1) = -1/3 (regular simplex),
the within-class spread (largest distance of a sample to its class mean), the final loss
against graf2021's minimum, and for CE the norms of the rows of W against r_W -- the root of
the slide's equation (the row norm, as the slide says) -- and ||W||_F against r* (the
minimiser over ||W||_F derived from the bound; r*/sqrt(K) = r_W).

Exits 1 when the final geometry is not the regular simplex (to 1e-4) or a loss misses its
minimum (1e-8 relative). Run ``python examples/graf_toy.py [--lam 0.01] [--seed 0]``; about
two seconds.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from theorycheck import strategies as st
from theorycheck.bounds import ce_l2_minimiser, r_w_literal, sc_minimum
from theorycheck.engine.optimize import minimize
from theorycheck.geometry import class_means
from theorycheck.losses import cross_entropy, supcon

N, K, H, RHO = 400, 4, 3, 1.0
TOL_GEOMETRY = 1e-4
TOL_LOSS = 1e-8


def geometry(Z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Pairwise cosines of the class means (upper triangle) and the within-class spread."""
    M = class_means(Z, y, K)
    U = M / np.linalg.norm(M, axis=1, keepdims=True)
    cosines = (U @ U.T)[np.triu_indices(K, 1)]
    spread = float(np.max(np.linalg.norm(Z - M[y], axis=1)))
    return cosines, spread


def report(name: str, Z: np.ndarray, y: np.ndarray, value: float, minimum: float) -> bool:
    cosines, spread = geometry(Z, y)
    target = -1.0 / (K - 1)
    worst = float(np.max(np.abs(cosines - target)))
    gap = (value - minimum) / abs(minimum)
    print(f"{name}: loss {value:.12g}, graf2021 minimum {minimum:.12g} (relative gap {gap:.2e})")
    print(f"  class-mean cosines {np.array2string(cosines, precision=8)} vs -1/(K-1) = {target:.8f}"
          f" (max deviation {worst:.2e})")
    print(f"  within-class spread max_n ||z_n - mu_(y_n)|| = {spread:.2e}")
    return worst <= TOL_GEOMETRY and spread <= TOL_GEOMETRY and abs(gap) <= TOL_LOSS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lam", type=float, default=0.01, help="L2 strength lambda (default 0.01)")
    parser.add_argument("--steps", type=int, default=2000, help="L-BFGS iterations per loss")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    y = np.repeat(np.arange(K), N // K)

    # (1) L2-regularised cross-entropy over Z on S^2 and W
    spaces = {"Z": st.sphere(N, H, RHO), "W": st.real_matrix(K, H, 1.0), "y": st.fixed(y)}
    ce_run = minimize(lambda Z, W, y: cross_entropy(Z, W, y, l2=args.lam), spaces, starts=1,
                      steps=args.steps, rng=rng, tol=1e-10)[0]
    Z, W = ce_run.inputs["Z"], ce_run.inputs["W"]
    best = ce_l2_minimiser(K, RHO, args.lam)
    ok = report(f"CE + {args.lam:g} ||W||_F^2", Z, y, ce_run.value, best.objective)
    rows = np.linalg.norm(W, axis=1)
    r_w = r_w_literal(K, RHO, args.lam)
    row_dev = float(np.max(np.abs(rows - r_w))) / r_w
    print(f"  ||w_y|| = {np.array2string(rows, precision=8)}; slide's r_W = {r_w:.8f} "
          f"(row reading, max relative deviation {row_dev:.2e})")
    fro = float(np.linalg.norm(W))
    print(f"  ||W||_F = {fro:.8f}; r* = {best.frobenius_norm:.8f} = sqrt(K) r_W = {math.sqrt(K) * r_w:.8f}; "
          f"the slide's r_W read as ||W||_F ({r_w:.8f}) is off by a factor {fro / r_w:.6f}")
    # W aligned with the class means: w_y = (r_W / rho) zeta_y
    M = class_means(Z, y, K)
    align = float(np.linalg.norm(W - (r_w / RHO) * M)) / (r_w * math.sqrt(K))
    print(f"  alignment ||W - (r_W/rho) M||_F / ||W||_F = {align:.2e}")
    ok = ok and row_dev <= TOL_GEOMETRY and align <= TOL_GEOMETRY

    # (2) full-batch supervised contrastive loss over Z on S^2
    spaces = {"Z": st.sphere(N, H, RHO), "y": st.fixed(y)}
    sc_run = minimize(lambda Z, y: supcon(Z, y, temperature=1.0, variant="out", reduction="sum"), spaces,
                      starts=1, steps=args.steps, rng=rng, tol=1e-10)[0]
    minimum = sc_minimum(N, K, N, RHO, "subset").total
    ok = report("SC (full batch, b = N)", sc_run.inputs["Z"], y, sc_run.value, minimum) and ok

    print("toy simulation: regular simplex reached" if ok else "toy simulation: NOT at the regular simplex")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
