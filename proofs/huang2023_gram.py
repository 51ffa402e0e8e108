"""Exact proof of huang2023.gram-identity for every d, K up to the limit.

||sum_k p_k mu_k mu_k^T - I_d||_F^2 = ||U^T U - I_K||_F^2 + d - K with
U = [sqrt(p_1) mu_1, ..., sqrt(p_K) mu_K], following the seed's trace chain, for symbolic
mu_k in R^d and p_k = s_k^2 >= 0, at every d, K <= LIMITS["gram"] and in general form.

Prints every chain and its status (format: proofs/README.md); exits 0 iff all close.
Run: ``python proofs/huang2023_gram.py``.
"""

from __future__ import annotations

import sys

from theorycheck import symbolic


def main() -> int:
    results = [
        symbolic.prove_gram_identity(d, K, general=n == 0)
        for n, (d, K) in enumerate(symbolic.proof_sizes("gram"))
    ]
    text, code = symbolic.proof_report(results)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
