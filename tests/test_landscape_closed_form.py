"""Closed-form gradients on the landscape judge's hot path (issue 19).

References: torch autograd of the claims' own evaluators (``relax.ufm_sc_loss``,
``ufm.ce_ufm_objective``) and of the spaces' torch projections; the landscape judge with the
closed form removed (``gradient=None``) for the verdict and the evidence.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from theorycheck import strategies as st
from theorycheck import ufm
from theorycheck._validation import InvalidArgumentError
from theorycheck.claims import load_all
from theorycheck.engine import Budget, judge, registry
from theorycheck.engine.errors import ClaimError
from theorycheck.relax import ufm_sc_loss

load_all()

BUDGET = Budget(seconds=60.0, starts=4)


def _autograd(fn, *arrays):
    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    value = fn(*leaves)
    return float(value.detach()), [g.numpy() for g in torch.autograd.grad(value, leaves)]


@pytest.mark.parametrize("labels,tau", [(ufm.step_labels(3, 2, 0, 1), 0.5), (ufm.step_labels(2, 4, 2, 2), 0.1)])
def test_sc_closed_form_matches_autograd(labels, tau):
    rng = np.random.default_rng(1)
    H = rng.standard_normal((labels.size, 4))  # off the sphere too: the formula holds for any H
    value, grad = ufm.sc_ufm_value_and_grad(H, labels, tau)
    ref, (ref_grad,) = _autograd(lambda h: ufm_sc_loss(h, labels, tau), H)
    assert value == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lambda_b,b_shape", [(0.01, (1, 3)), (0.0, (3,))])
def test_ce_closed_form_matches_autograd(lambda_b, b_shape):
    rng = np.random.default_rng(2)
    labels = ufm.step_labels(3, 2, 0, 1)
    W, H, b = rng.standard_normal((3, 5)), rng.standard_normal((6, 5)), rng.standard_normal(b_shape)
    value, grads = ufm.ce_ufm_value_and_grad(W, H, b, labels, 0.02, 0.03, lambda_b)
    ref, ref_grads = _autograd(lambda w, h, c: ufm.ce_ufm_objective(w, h, c, labels, 0.02, 0.03, lambda_b), W, H, b)
    assert value == pytest.approx(ref, rel=1e-12)
    for g, r in zip(grads, ref_grads):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call,param", [
    (lambda: ufm.sc_ufm_value_and_grad(torch.zeros(4, 2), [0, 0, 1, 1], 0.5), "H"),
    (lambda: ufm.sc_ufm_value_and_grad(np.zeros((3, 2)), [0, 0, 1], 0.5), "y"),
    (lambda: ufm.sc_ufm_value_and_grad(np.zeros((4, 2)), [0, 0, 1, 1], 0.0), "tau"),
    (lambda: ufm.ce_ufm_value_and_grad(np.zeros((3, 2)), np.zeros((4, 3)), np.zeros(3), [0, 1, 2, 0], 0.1, 0.1), "H"),
    (lambda: ufm.ce_ufm_value_and_grad(np.zeros((3, 2)), np.zeros((4, 2)), np.zeros(2), [0, 1, 2, 0], 0.1, 0.1), "b"),
])
def test_bad_input_names_the_argument(call, param):
    with pytest.raises(InvalidArgumentError, match=f"`{param}`"):
        call()


@pytest.mark.parametrize("space,closed", [(st.sphere(5, 3, 2.0), True), (st.real_matrix(5, 3, 1.0), True),
                                          (st.ball(5, 3, 1.0), False)])
def test_project_vjp_is_the_torch_projection_and_its_vector_jacobian_product(space, closed):
    rng = np.random.default_rng(3)
    u, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    out = space.project_vjp(u)
    if not closed:
        assert out is None
        return
    x, vjp = out
    t = torch.tensor(u, requires_grad=True)
    xt = space.project(t)
    (ref,) = torch.autograd.grad(xt, t, grad_outputs=torch.tensor(g))
    np.testing.assert_allclose(x, xt.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(vjp(g), ref.numpy(), rtol=1e-12, atol=1e-14)


def _counted(fn, counter):
    def wrapped(*args, **kwargs):
        counter[0] += 1
        return fn(*args, **kwargs)
    return wrapped


@pytest.mark.parametrize("claim_id,params", [("behnia2024.ufm.benign", {"K": 3, "n_per_class": 2, "d": 4}),
                                             ("zhu2021.ufm.benign", {"K": 3, "n_per_class": 2, "d": 4})])
def test_landscape_judge_uses_the_closed_form_and_keeps_verdict_and_evidence(claim_id, params):
    base = registry.get(claim_id)
    grads, evals = [0], [0]
    fast = dataclasses.replace(base, id=base.id, gradient=_counted(base.gradient, grads),
                               evaluate=_counted(base.evaluate, evals))
    new = judge(fast, params, budget=BUDGET, extra_evidence=False)
    old = judge(dataclasses.replace(base, gradient=None), params, budget=BUDGET, extra_evidence=False)
    # the optimiser's evaluations went through the closed form; the evaluator only at retractions
    assert grads[0] > 5 * evals[0] > 0
    assert new.verdict == old.verdict and new.verdict.value == "HOLDS"
    for key in ("n_starts", "reached", "unconverged", "n_candidates"):
        assert new.evidence[key] == old.evidence[key], key
    np.testing.assert_allclose(new.evidence["final_gaps"], old.evidence["final_gaps"],
                               atol=new.evidence["tolerance"])


def test_a_wrong_closed_form_gradient_is_a_claim_error():
    base = registry.get("behnia2024.ufm.benign")

    def doubled(H, *, p):
        value, grads = base.gradient(H, p=p)
        return value, {"H": 2 * grads["H"]}

    with pytest.raises(ClaimError, match="gradient disagrees"):
        judge(dataclasses.replace(base, gradient=doubled), {"K": 3, "n_per_class": 2, "d": 4}, budget=BUDGET,
              extra_evidence=False)


def test_closed_form_with_inputs_drawn_per_start_matches_autograd_runs():
    """Labels drawn per start are constants of each start's problem: the closed form sees each start's own."""
    from theorycheck.engine.optim.closed_form import ClosedFormObjective
    from theorycheck.engine.optim.local import run_starts

    def f(X, y):
        c = torch.as_tensor(np.asarray(y, dtype=np.float64) - 1.0)[:, None] if isinstance(X, torch.Tensor) \
            else (np.asarray(y, dtype=np.float64) - 1.0)[:, None]
        return (X * c).sum() + 0.5 * (X[:, :1] ** 2).sum()

    def grad(X, y):
        g = np.broadcast_to((np.asarray(y, dtype=np.float64) - 1.0)[:, None], X.shape).copy()
        g[:, :1] += X[:, :1]
        return float(f(X, y)), {"X": g}

    spaces = {"X": st.sphere(6, 3, 1.0), "y": st.labels(6, 3)}
    runs = {}
    for name, objective in (("closed", ClosedFormObjective(f, grad, None, "test")), ("autograd", f)):
        rng = np.random.default_rng(5)
        plan = [("random", {"X": spaces["X"].sample(rng)}) for _ in range(3)]
        runs[name] = run_starts(objective, spaces, {}, plan, steps=200, method="lbfgs", tol=1e-10, lr=0.05,
                                deadline=None, rng=rng, where="test")
    assert len({tuple(r.inputs["y"]) for r in runs["closed"]}) > 1  # the starts did draw different labels
    for a, b in zip(runs["closed"], runs["autograd"]):
        np.testing.assert_array_equal(a.inputs["y"], b.inputs["y"])
        # the same minimum; where the last iterations stop (converged or no progress at 1e-10) is rounding
        assert a.value == pytest.approx(b.value, abs=1e-9) and a.grad_norm < 1e-6
