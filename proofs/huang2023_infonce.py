"""Exact proof of huang2023.infonce-decomposition for every d up to the limit.

With ||f1|| = ||f2|| = 1 (as the paper states it), pointwise
-log(e^{f1.f2} / (e^{f1.f2} + e^{f1.f-})) = L1 + L2, L1 = (1/2)||f1 - f2||^2 - 1,
L2 = log(e^{f1.f2} + e^{f1.f-}), at every d <= LIMITS["infonce"] and in general form.
The variant without the unit-norm hypothesis is decided too: it is refuted by an exact
rational counterexample, and the general-form residual (||f1||^2 + ||f2||^2)/2 - 1 says
exactly when the decomposition fails.

Prints every chain and its status (format: proofs/README.md); exits 0 iff every claim
closes and every variant is decided. Run: ``python proofs/huang2023_infonce.py``.
"""

from __future__ import annotations

import sys

from theorycheck import symbolic


def main() -> int:
    sizes = symbolic.proof_sizes("infonce")
    results = [symbolic.prove_infonce_decomposition(d, general=n == 0) for n, (d,) in enumerate(sizes)]
    results += [
        symbolic.prove_infonce_decomposition(d, unit_norm=False, general=n == 0) for n, (d,) in enumerate(sizes)
    ]
    text, code = symbolic.proof_report(results)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
