"""Exact proofs of the garrido2023 duality identities, for every size up to the limit.

* garrido2023.duality: L_nc + sum_j ||K_j,.||^4 = L_c + sum_i ||K_.,i||^4, the seed's
  chain (eqs. 40-46) at every M, N <= LIMITS["duality"] and in general form;
* garrido2023.doubly-normalized as the paper states it (unit rows and unit columns), with
  what the hypotheses force (M = N) computed at every size;
* a variant: the seed slide's wording "K as double stochastic matrix", decided exactly.

Prints every chain and its status (format: proofs/README.md); exits 0 iff every claim
closes and every variant is decided. Run: ``python proofs/garrido2023_duality.py``.
"""

from __future__ import annotations

import sys

from theorycheck import symbolic


def main() -> int:
    results = []
    for n, (M, N) in enumerate(symbolic.proof_sizes("duality")):
        results.append(symbolic.prove_duality(M, N, general=n == 0))
    for n, (M, N) in enumerate(symbolic.proof_sizes("doubly_normalized")):
        results.append(symbolic.prove_doubly_normalized(M, N, general=n == 0))
    for n, (M, N) in enumerate(symbolic.proof_sizes("doubly_normalized")):
        results.append(symbolic.prove_doubly_normalized(M, N, normalization="stochastic", general=n == 0))
    text, code = symbolic.proof_report(results)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
