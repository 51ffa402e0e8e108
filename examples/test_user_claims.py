"""An example pytest property suite built on theorycheck claims.

Run it with ``pytest examples/test_user_claims.py``. Each test judges a claim from
``examples/user_claim.py`` at some sizes; when a claim that should hold fails, the
assertion message is the Markdown report with the confirmed counterexample as
pasteable Python.

The budget and seed come from theorycheck's pytest plugin (``--theorycheck-examples``,
``--theorycheck-seed``, their ini keys and ``THEORYCHECK_*`` environment variables; see
``docs/pytest.md``): a fixed number of examples per claim by default.
"""

import pytest

from theorycheck.testing import assert_holds, assert_refuted
from user_claim import dimension_bound, spread_bound


@pytest.mark.parametrize(("N", "h"), [(3, 2), (5, 4)])
def test_spread_bound_holds(N, h):
    result = assert_holds(spread_bound, N=N, h=h)
    # the search really looked: it tried inputs and its worst slack is not negative
    assert result.evidence["inputs_tried"] > 0


def test_dimension_bound_is_refuted_with_a_confirmed_counterexample():
    result = assert_refuted(dimension_bound, N=3, h=8)
    cx = result.counterexample
    assert cx.margin > 0 and cx.precision_digits >= 50
    # -1/(N-1) = -1/2 is the best possible: a counterexample lies below -1/h = -1/8
    assert cx.lhs < -1.0 / 8


def test_a_false_claim_fails_assert_holds_with_the_counterexample_in_the_message():
    with pytest.raises(AssertionError) as info:
        assert_holds(dimension_bound, N=3, h=8)
    message = str(info.value)
    assert "REFUTED" in message
    assert "```python" in message and "claim.evaluate(**inputs, p=p)" in message
