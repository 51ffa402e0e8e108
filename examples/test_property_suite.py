"""A property-test suite of claims, run by pytest with theorycheck's plugin.

Run it with ``pytest examples/test_property_suite.py``; the plugin (installed with
theorycheck) adds ``--theorycheck-examples N``, ``--theorycheck-seed S`` and
``--theorycheck-budget SECONDS`` (also ini keys ``theorycheck_examples`` ... and the
environment variables ``THEORYCHECK_EXAMPLES`` ...), the marker
``@pytest.mark.theorycheck(...)`` and a header line naming the seed and the budget. The
default is a fixed number of examples per claim, so the verdicts do not depend on how
loaded the machine is. See ``docs/pytest.md``.
"""

import numpy as np
import pytest

from theorycheck import Param, assume, claim, example
from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck.testing import assert_holds, claim_test


def _two_unit_vectors(p, active):
    return {"u": st.sphere(1, p.h, 1.0), "v": st.sphere(1, p.h, 1.0)}


@claim(id="suite.pair-sum", cite=(), kind="identity",
       statement="||u + v||^2 = 2 + 2 <u, v> for unit vectors u, v",
       params=(Param("h", 3, "dimension", min=1, max=8),), inputs=_two_unit_vectors)
def pair_sum(u, v, *, p):
    s = u + v
    return xp.sum(s * s), 2 + 2 * xp.sum(u * v)


# "u + v never vanishes" is false at antipodal pairs, which random unit vectors never are:
# the explicit example is judged first, every time, and refutes it.
@example(lambda p: {"u": np.eye(1, p.h), "v": -np.eye(1, p.h)})
@claim(id="suite.pair-sum-nonzero", cite=(), kind="inequality",
       statement="||u + v|| > 0 for unit vectors u, v (false: antipodal pairs)",
       params=(Param("h", 3, "dimension", min=1, max=8),), inputs=_two_unit_vectors, relation=">")
def pair_sum_nonzero(u, v, *, p):
    return xp.norm(u + v), xp.scalar(0.0, u)


@claim(id="suite.cosine", cite=(), kind="inequality",
       statement="cos(u, v) <= 1 for non-zero u, v",
       params=(Param("h", 3, "dimension", min=1, max=8),),
       inputs=lambda p, active: {"u": st.real_matrix(1, p.h, 1.0), "v": st.real_matrix(1, p.h, 1.0)},
       relation="<=")
def cosine(u, v, *, p):
    nu, nv = xp.norm(u), xp.norm(v)
    assume(nu > 0)  # the zero vector has no direction: discarded, and counted in the evidence
    assume(nv > 0)
    return xp.sum(u * v) / (nu * nv), xp.scalar(1.0, u)


@claim(id="suite.entropy", cite=(), kind="inequality",
       statement="H(q) = -sum q log q <= log K for every probability vector q (0 log 0 = 0)",
       params=(Param("K", 3, "number of outcomes", min=2, max=10),),
       inputs=lambda p, active: {"q": st.probability_vector(p.K)}, relation="<=")
def entropy(q, *, p):
    return -xp.sum(xp.xlogy(q, q)), xp.log(xp.scalar(float(p.K), q))


@claim(id="suite.am-gm-box", cite=(), kind="inequality",
       statement="prod x_i <= mean x_i for x in [0, 1]^n",
       params=(Param("n", 3, "length", min=1, max=6),),
       inputs=lambda p, active: {"x": st.box(p.n, 0.0, 1.0)}, relation="<=")
def am_gm_box(x, *, p):
    prod = x[0]
    for i in range(1, p.n):
        prod = prod * x[i]
    return prod, xp.mean(x)


# One claim, one test: the test is named after the claim and fails with its report.
test_pair_sum = claim_test(pair_sum, h=3)
test_pair_sum_nonzero_is_refuted = claim_test(pair_sum_nonzero, expect="REFUTED", h=4)
test_am_gm_box = claim_test(am_gm_box, n=4)


@pytest.mark.parametrize("K", [2, 5])
def test_entropy_is_at_most_log_k(K):
    result = assert_holds(entropy, K=K)
    assert result.evidence["inputs_tried"] > 0


# A harder search for one test only: more examples than the suite's default.
@pytest.mark.theorycheck(examples=150)
def test_cosine_at_most_one_discarding_zero_vectors():
    result = assert_holds(cosine, h=2)
    assert result.evidence["discarded"] >= 1  # the zero vectors among the special inputs
