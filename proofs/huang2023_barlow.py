"""Exact proof of huang2023.barlow-decomposition for every d up to the limit.

L_CC = sum_i (1 - F_ii)^2 + lambda sum_{i != j} F_ij^2 = (1 - lambda) L1 + lambda L2 with
L1 = sum_i (1 - F_ii)^2 and L2 = ||F - I_d||_F^2, for a symbolic d x d matrix F and a
symbolic lambda, at every d <= LIMITS["barlow"] and in general form (symbolic d).

Prints every chain and its status (format: proofs/README.md); exits 0 iff all close.
Run: ``python proofs/huang2023_barlow.py``.
"""

from __future__ import annotations

import sys

from theorycheck import symbolic


def main() -> int:
    results = [
        symbolic.prove_barlow_decomposition(d, general=n == 0)
        for n, (d,) in enumerate(symbolic.proof_sizes("barlow"))
    ]
    text, code = symbolic.proof_report(results)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
