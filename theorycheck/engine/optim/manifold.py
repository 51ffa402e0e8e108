"""Manifold diagnostics: tangent (Riemannian) gradient and Hessian on the input spaces.

For rows on a sphere the radial components are projected out, and the curvature term
``-<grad f(x_i), x_i> / r^2`` per row is included in the Hessian (Absil, Mahony,
Sepulchre 2008, Prop. 5.5.5; the metric projection is a second-order retraction, Absil
and Malick 2012). Dense Hessians up to :data:`DENSE_HESSIAN_LIMIT` tangent dimensions,
Lanczos (scipy ``eigsh``) above.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch

from ..._validation import check_int, check_real, fail, fail_type
from .problem import NonDifferentiableProjection, Problem, as_numpy_input, is_continuous, single_threaded_blas
from .local import check_spaces


#: Dense tangent Hessians up to this dimension; Lanczos (scipy eigsh) above it.
DENSE_HESSIAN_LIMIT = 800


class Flat:
    """Flatten the optimised inputs into one vector (and back), projecting onto the spaces."""

    def __init__(self, objective: Callable, inputs: Mapping[str, Any], spaces: Mapping[str, Any],
                 keys: Sequence[str] | None, where: str):
        spaces = check_spaces(spaces, where)
        if not isinstance(inputs, Mapping):
            raise fail_type("inputs", where, "a dict mapping input names to arrays", inputs)
        if keys is None:
            keys = [k for k in inputs if k in spaces and is_continuous(spaces[k])]
        else:
            keys = list(keys)
            bad = [k for k in keys if k not in inputs or k not in spaces]
            if bad:
                raise fail("keys", where, f"names present in both `inputs` and `spaces` ({sorted(inputs)})", bad)
        self.keys = keys
        constants = {k: v for k, v in inputs.items() if k not in keys}
        self.problem = Problem(objective, spaces, keys, constants, where)
        self.shapes = [tuple(np.shape(as_numpy_input(inputs[k]))) for k in keys]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.n = int(sum(self.sizes))
        with torch.no_grad():
            u = {k: torch.as_tensor(as_numpy_input(inputs[k])) for k in keys}
            x = self.problem.project(u)
        self.x = torch.cat([x[k].reshape(-1) for k in keys]) if keys else torch.zeros(0, dtype=torch.float64)

    def split(self, flat: torch.Tensor) -> dict:
        out, at = {}, 0
        for k, shape, size in zip(self.keys, self.shapes, self.sizes):
            out[k] = flat[at:at + size].reshape(shape)
            at += size
        return out

    def project_flat(self, flat: torch.Tensor) -> torch.Tensor:
        x = self.problem.project(self.split(flat))
        return torch.cat([x[k].reshape(-1) for k in self.keys])

    def pulled_back(self, flat: torch.Tensor) -> torch.Tensor:
        return self.problem.value(self.split(flat))

    def tangent_projector(self) -> torch.Tensor:
        """Jacobian of the projection at x: the orthogonal projector onto the tangent space."""
        try:
            J = torch.autograd.functional.jacobian(self.project_flat, self.x)
        except RuntimeError as exc:
            raise NonDifferentiableProjection(
                f"the projection onto the space of {self.keys} has no derivative at this point "
                f"({type(exc).__name__}: {str(exc).splitlines()[0]}), so its tangent space is "
                "not available") from exc
        if not bool(torch.isfinite(J).all()):
            raise NonDifferentiableProjection(
                f"the projection onto the space of {self.keys} has a non-finite derivative at this "
                "point (e.g. eigh at repeated eigenvalues), so its tangent space is not available")
        return (J + J.T) / 2

    def tangent_basis(self) -> torch.Tensor:
        """Orthonormal basis (n, m) of the tangent space: eigenvectors of the projector with eigenvalue 1."""
        evals, evecs = torch.linalg.eigh(self.tangent_projector())
        return evecs[:, evals > 0.5]


def riemannian_gradient(objective: Callable, inputs: Mapping[str, Any], spaces: Mapping[str, Any],
                        *, keys: Sequence[str] | None = None) -> dict:
    r"""Tangent (Riemannian) gradient of ``objective`` at ``inputs``, per optimised input.

    For an input constrained to a space with metric projection :math:`P`, the Riemannian
    gradient at a point :math:`x` of the space is :math:`\nabla (f \circ P)(x) = P_{T_x}
    \nabla f(x)`; for rows on a sphere of radius r this removes the radial component of
    each row, :math:`g_i - \langle g_i, x_i \rangle x_i / r^2` (Absil et al. 2008, Sec. 3.6).
    ``inputs`` are first projected onto their spaces.

    Parameters
    ----------
    objective : callable
        ``objective(**inputs) -> scalar`` written with :mod:`theorycheck.backend`.
    inputs : dict of str to array
        The point (labels included).
    spaces : dict of str to Space
        Spaces of the inputs.
    keys : sequence of str, optional
        Inputs to differentiate (default: every continuous input); the others are constants.

    Returns
    -------
    dict of str to ndarray
        Tangent gradient of each key, with the key's shape.
    """
    flat = Flat(objective, inputs, spaces, keys, "riemannian_gradient")
    x = flat.x.detach().clone().requires_grad_(True)
    val = flat.pulled_back(x)
    (g,) = torch.autograd.grad(val, [x])
    return {k: v.detach().numpy().copy() for k, v in flat.split(g).items()}


def tangent_hessian(objective: Callable, inputs: Mapping[str, Any], spaces: Mapping[str, Any],
                    *, keys: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Riemannian Hessian of ``objective`` at ``inputs`` in an orthonormal tangent basis.

    With :math:`P` the metric projection onto the spaces and :math:`B` an orthonormal
    basis of the tangent space at :math:`x` (eigenvectors of the Jacobian of :math:`P`
    with eigenvalue 1), the matrix returned is

    .. math:: H = \nabla^2_c\, f(P(x + B c))\big|_{c=0},

    the Hessian of the pull-back through the projective retraction. Because that
    retraction is second order (Absil & Malick 2012), :math:`H` is the Riemannian Hessian
    at every point, not only at critical points (Absil et al. 2008, Prop. 5.5.5). For
    rows on a sphere of radius :math:`r` it equals, per row,

    .. math:: P_T\, \nabla^2 f\, P_T - \frac{\langle \nabla f(x)_i, x_i \rangle}{r^2} P_{T,i},

    the Euclidean Hessian projected onto the tangent space plus the curvature term.

    Parameters
    ----------
    objective, inputs, spaces, keys
        As in :func:`riemannian_gradient`.

    Returns
    -------
    hessian : ndarray of shape (m, m)
        Symmetric Riemannian Hessian in the basis.
    basis : ndarray of shape (n, m)
        Orthonormal tangent basis (columns) in the flattened coordinates of the keys
        (concatenated in order, each raveled in C order).
    """
    flat = Flat(objective, inputs, spaces, keys, "tangent_hessian")
    with single_threaded_blas():
        B = flat.tangent_basis()
        H = _dense_pullback_hessian(flat, B)
    return H.numpy(), B.numpy()


def _dense_pullback_hessian(flat: Flat, B: torch.Tensor) -> torch.Tensor:
    x0 = flat.x.detach()

    def g(c):
        return flat.pulled_back(x0 + B @ c)

    c0 = torch.zeros(B.shape[1], dtype=torch.float64)
    try:
        H = torch.autograd.functional.hessian(g, c0, vectorize=True)
    except RuntimeError:  # some ops have no batching rule (vmap): one backward pass per column
        H = torch.autograd.functional.hessian(g, c0)
    return (H + H.T) / 2


def tangent_extremes(flat: Flat, dense_limit: int, tol: float) -> tuple[float, float, int]:
    """(smallest eigenvalue, largest |eigenvalue|, tangent dimension) of the Riemannian Hessian."""
    if flat.n == 0:
        return 0.0, 0.0, 0
    if flat.n <= dense_limit:
        B = flat.tangent_basis()
        if B.shape[1] == 0:
            return 0.0, 0.0, 0
        evals = torch.linalg.eigvalsh(_dense_pullback_hessian(flat, B))
        return float(evals[0]), float(evals.abs().max()), int(B.shape[1])
    try:
        return _lanczos_extremes(flat, tol)
    except RuntimeError as exc:
        if isinstance(exc, NonDifferentiableProjection):
            raise
        raise NonDifferentiableProjection(
            f"Hessian-vector products through the projection failed at this point "
            f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc


def _lanczos_extremes(flat: Flat, tol: float) -> tuple[float, float, int]:
    """Matrix-free: operator v -> J H J v + s (v - J v) on R^n, J the tangent projector.

    H is the ambient Hessian of f o P at x (its restriction to tangent vectors is the
    Riemannian Hessian); the shift s > |lambda|max moves the normal directions out of
    the way so the smallest eigenvalue found is a tangent one.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    x = flat.x.detach().clone().requires_grad_(True)
    px = flat.project_flat(x)
    val = flat.pulled_back(x)
    (grad,) = torch.autograd.grad(val, [x], create_graph=True)

    def J(v: torch.Tensor) -> torch.Tensor:
        # the Jacobian of a metric projection at a point of the space is symmetric: J^T v = J v
        (out,) = torch.autograd.grad(px, [x], v, retain_graph=True)
        return out

    def H(v: torch.Tensor) -> torch.Tensor:
        (out,) = torch.autograd.grad(grad, [x], v, retain_graph=True)
        return out

    def tangent_op(v_np: np.ndarray, shift: float) -> np.ndarray:
        v = torch.as_tensor(np.ascontiguousarray(v_np).reshape(-1), dtype=torch.float64)
        jv = J(v)
        out = J(H(jv)) + shift * (v - jv)
        return out.detach().numpy()

    n = flat.n
    v0 = np.random.default_rng(12345).standard_normal(n)  # fixed start vector: deterministic
    plain = LinearOperator((n, n), matvec=lambda v: tangent_op(v, 0.0), dtype=np.float64)
    lam_max = float(abs(eigsh(plain, k=1, which="LM", v0=v0, tol=1e-3, return_eigenvectors=False)[0]))
    shift = 2.0 * lam_max + 1.0
    shifted = LinearOperator((n, n), matvec=lambda v: tangent_op(v, shift), dtype=np.float64)
    lam_min = float(eigsh(shifted, k=1, which="SA", v0=v0, tol=tol, return_eigenvectors=False,
                          maxiter=max(1000, 20 * n))[0])
    dim = int(round(float(torch.trace(flat.tangent_projector())))) if n <= 4000 else -1
    return lam_min, lam_max, dim


def tangent_hessian_min_eig(objective: Callable, inputs: Mapping[str, Any], spaces: Mapping[str, Any],
                            *, keys: Sequence[str] | None = None, dense_limit: int = DENSE_HESSIAN_LIMIT,
                            tol: float = 1e-10) -> float:
    r"""Smallest eigenvalue of the Riemannian Hessian at ``inputs`` (see :func:`tangent_hessian`).

    A local minimum on the constraint manifold needs this to be >= 0 (up to tolerance);
    a negative value certifies a descent direction (a saddle point). Problems with at
    most ``dense_limit`` variables use the dense Hessian (``torch.autograd.functional
    .hessian``); larger ones a Lanczos iteration (``scipy.sparse.linalg.eigsh``) on
    Hessian-vector products restricted to the tangent space.

    Parameters
    ----------
    objective, inputs, spaces, keys
        As in :func:`riemannian_gradient`.
    dense_limit : int
        Largest number of flattened variables handled densely.
    tol : float
        Relative accuracy of the Lanczos eigenvalue.

    Returns
    -------
    float
        The smallest tangent Hessian eigenvalue (0.0 when there is nothing to optimise).
    """
    dense_limit = check_int(dense_limit, "dense_limit", "tangent_hessian_min_eig", min_value=0)
    tol = check_real(tol, "tol", "tangent_hessian_min_eig", gt=0)
    flat = Flat(objective, inputs, spaces, keys, "tangent_hessian_min_eig")
    with single_threaded_blas():
        return tangent_extremes(flat, dense_limit, tol)[0]
