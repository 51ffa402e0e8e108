"""Exact symbolic proofs (sympy) of the self-supervised identities.

Each identity of docs/theory.md sections 2, 5 and 6 that is an *equation* is proved here in
exact arithmetic, two ways:

* **at explicit sizes** -- every matrix entry is its own real symbol, both sides are
  expanded to polynomials with rational coefficients, and the difference must be exactly
  the zero polynomial (or, under hypotheses such as unit norms, must lie in the ideal the
  hypotheses generate);
* **in general form** -- for symbolic sizes (``M``, ``N``, ``d``, ``K``, ``h``), using a
  small index calculus over ``sympy.Sum`` / ``sympy.Indexed`` / ``KroneckerDelta``
  (linearity, exchange of finite sums, contraction of a Kronecker delta against a sum
  over the same range, ``sum_{i in [n]} 1 = n``, and renaming of bound indices). The
  calculus is sound but not complete: when it cannot show a difference is zero it says
  so (``not-closed``) and never claims more.

A proof is a chain of :class:`Equation` objects -- the steps of the paper's own
derivation -- each proved into a :class:`ProofStep` with status ``"proved"``,
``"refuted"`` (sympy found an exact rational input at which ``lhs - rhs != 0``: a
counterexample in exact arithmetic) or ``"not-closed"`` (undecided). A
:class:`ProofResult` closes iff every step is proved; ``str(result)`` prints the chain.

Sizes are limited (:data:`LIMITS`): the explicit proofs are run for *every* size up to
the limit (CI runs them all through ``proofs/``). The limits are set by the sweep time:
the number of monomials of the quartic identities grows like ``M^2 N^2`` (expression
swell) and the sweep visits every size pair; the general-form chain covers every
larger size.

Identities (claim ids of docs/theory.md):

* :func:`prove_duality` -- garrido2023.duality,
  ``L_nc + sum_j ||K_{j,.}||^4 = L_c + sum_i ||K_{.,i}||^4``;
* :func:`prove_doubly_normalized` -- garrido2023.doubly-normalized,
  ``L_nc = L_c + N - M`` under unit rows and unit columns;
* :func:`prove_barlow_decomposition` -- huang2023.barlow-decomposition;
* :func:`prove_gram_identity` -- huang2023.gram-identity;
* :func:`prove_infonce_decomposition` -- huang2023.infonce-decomposition;
* :func:`prove_ce_sum_identity` -- the graf2021 CE-bound step
  ``sum_{k != y}(w_k - w_y) = wbar - K w_y``.

Examples
--------
>>> from theorycheck.symbolic import prove_duality
>>> result = prove_duality(2, 3)
>>> result.closed, result.steps[-1].status
(True, 'proved')
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import sympy as sp

from ._validation import check_bool, check_choice, check_int, fail, fail_type

__all__ = [
    "ProofNotAttempted",
    "PROVED",
    "NOT_CLOSED",
    "REFUTED",
    "LIMITS",
    "ProofStep",
    "ProofResult",
    "Equation",
    "prove_equation",
    "prove_chain",
    "duality_equations",
    "doubly_normalized_equations",
    "barlow_equations",
    "gram_equations",
    "infonce_equations",
    "ce_sum_equations",
    "prove_duality",
    "prove_doubly_normalized",
    "prove_barlow_decomposition",
    "prove_gram_identity",
    "prove_infonce_decomposition",
    "prove_ce_sum_identity",
    "prove_all",
    "proof_sizes",
    "summarize",
    "proof_report",
]

PROVED = "proved"
NOT_CLOSED = "not-closed"
REFUTED = "refuted"
_STATUSES = (PROVED, NOT_CLOSED, REFUTED)

#: Largest size of every size parameter for which the explicit proofs are run (and
#: accepted by the ``prove_*`` functions; larger sizes raise ``InvalidArgumentError``, so
#: a caller with bigger inputs checks ``max(sizes) <= LIMITS[family]`` first). Every size
#: from 1 up to the limit is proved in CI (``proofs/``). Why a limit: expression swell.
#: A quartic identity in an ``M x N`` symbolic matrix has ``O(M^2 N^2)`` monomials, and the
#: sweep over all sizes up to ``L`` costs about ``sum_{M,N<=L} M^2 N^2 ~ L^6 / 9``; the
#: limits keep each proof script to a few seconds on 2 CPU cores (measured: duality 6x6
#: 0.6 s and 8x8 1.7 s alone; the doubly stochastic reading needs a linear solve plus a
#: quartic in n^2 variables, 5x5 6 s and 6x6 30 s). The general-form proofs (symbolic
#: sizes) cover every size beyond the limits.
LIMITS: Mapping[str, int] = {
    "duality": 5,            # M, N <= 5 (25 size pairs)
    "doubly_normalized": 4,  # M, N <= 4 (the doubly stochastic reading is refuted first at 4x4)
    "barlow": 10,            # d <= 10 (quadratic in d^2 entries: cheap)
    "gram": 5,               # d, K <= 5 (quartic in d K entries and K weights)
    "infonce": 10,           # d <= 10 (three vectors; one certificate per step)
    "ce_sum": 8,             # K, h <= 8 (linear)
}

# the size parameters of each family, in the order the prove_* functions take them
_FAMILY_SIZES: Mapping[str, tuple[str, ...]] = {
    "duality": ("M", "N"),
    "doubly_normalized": ("M", "N"),
    "barlow": ("d",),
    "gram": ("d", "K"),
    "infonce": ("d",),
    "ce_sum": ("K", "h"),
}


# ---------------------------------------------------------------------------------------
# proof vocabulary
# ---------------------------------------------------------------------------------------


def _format_instance(instance: Mapping[str, Any], limit: int = 12) -> str:
    """Print an exact instance compactly: nonzero entries first, zeros summarised."""
    nonzero = [(k, v) for k, v in instance.items() if v != 0]
    zeros = len(instance) - len(nonzero)
    shown = ", ".join(f"{k} = {v}" for k, v in nonzero[:limit])
    if len(nonzero) > limit:
        shown += f", ... ({len(nonzero) - limit} more nonzero)"
    if zeros and nonzero:
        shown += f"; the other {zeros} entries 0"
    elif zeros:
        shown = f"all {zeros} entries 0"
    return shown


class ProofNotAttempted(Exception):
    """A symbolic proof was not attempted: the sizes exceed :data:`LIMITS` (expression swell).

    The engine records it as the proof status "not attempted" and judges the identity
    numerically (search plus high-precision confirmation), so a report shows which sizes
    were proved exactly and which were tested numerically.
    """


@dataclass(frozen=True)
class ProofStep:
    """One step of a proof chain and its status.

    Parameters
    ----------
    name : str
        Short name of the step (the paper's equation number where it has one).
    statement : str
        The equation in words/ASCII math.
    status : {"proved", "not-closed", "refuted"}
        ``proved``: ``lhs - rhs`` simplifies to exactly 0 (or lies in the ideal of the
        hypotheses); ``refuted``: an exact rational input (``counterexample``) where
        ``lhs - rhs != 0`` (and the hypotheses hold); ``not-closed``: neither.
    detail : str
        How the status was reached (the residual, the certificate, the instance).
    scope : str
        The sizes the step covers ("M=2, N=3" or "all M, N >= 1").
    counterexample : mapping or None
        For ``refuted``: symbol name -> exact value (sympy ``Rational``; sizes and free
        indices as ``int``).
    difference : sympy expression or None
        For ``refuted``: the exact value of ``lhs - rhs`` at the counterexample.
    """

    name: str
    statement: str
    status: str
    detail: str = ""
    scope: str = ""
    counterexample: Mapping[str, Any] | None = None
    difference: Any = None

    def __post_init__(self) -> None:
        check_choice(self.status, "status", "ProofStep", _STATUSES)

    @property
    def proved(self) -> bool:
        return self.status == PROVED

    def __str__(self) -> str:
        tag = {PROVED: "PROVED", NOT_CLOSED: "NOT CLOSED", REFUTED: "REFUTED"}[self.status]
        scope = f"  ({self.scope})" if self.scope else ""
        lines = [f"  [{tag}] {self.name}{scope}", f"      {self.statement}"]
        if self.detail:
            lines.extend(f"      {line}" for line in self.detail.splitlines())
        return "\n".join(lines)


@dataclass(frozen=True)
class ProofResult:
    """The outcome of a proof chain for one claim at given sizes.

    Parameters
    ----------
    claim : str
        Claim id (docs/theory.md), e.g. ``"garrido2023.duality"``.
    sizes : mapping
        The explicit sizes proved (``{"M": 2, "N": 3}``); general-form steps say so in
        their ``scope``.
    steps : tuple of ProofStep
        The chain, in order.
    closed : bool
        True iff every step is proved.
    seconds : float
        Wall time of the proof.
    vacuous : bool
        True when the hypotheses admit no input at these sizes (computed, e.g. unit rows
        and unit columns with ``M != N``): the statement then holds vacuously.
    notes : tuple of str
        Computed remarks (what the hypotheses force, which reading was checked).
    variant : str or None
        ``None`` for the claim as the source states it; otherwise a description of the
        variant checked (a dropped assumption, another reading of the source).
    """

    claim: str
    sizes: Mapping[str, Any]
    steps: tuple[ProofStep, ...]
    closed: bool
    seconds: float
    vacuous: bool = False
    notes: tuple[str, ...] = ()
    variant: str | None = None

    @property
    def failed_steps(self) -> tuple[ProofStep, ...]:
        """The steps that did not close (refuted or undecided)."""
        return tuple(s for s in self.steps if not s.proved)

    @property
    def decided(self) -> bool:
        """True iff every step is either proved or refuted by an exact counterexample."""
        return all(s.status != NOT_CLOSED for s in self.steps)

    def __str__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        if self.closed:
            verdict = "CLOSED" + (" (vacuously: no input satisfies the hypotheses)" if self.vacuous else "")
        else:
            first = self.failed_steps[0]
            verdict = f"NOT CLOSED at step '{first.name}'"
        head = "CLAIM" if self.variant is None else "VARIANT"
        label = self.claim if self.variant is None else f"{self.claim} ({self.variant})"
        lines = [f"{head} {label} [{sizes}]: {verdict} in {self.seconds:.3f} s"]
        lines.extend(str(step) for step in self.steps)
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass(frozen=True)
class Equation:
    """An equation ``lhs == rhs`` to prove: one step of a proof chain (data, not code).

    Parameters
    ----------
    name, statement : str
        As in :class:`ProofStep`.
    lhs, rhs : sympy expression or matrix
        Explicit form: expressions (or ``sympy.Matrix``) in real symbols. General form:
        expressions with ``sympy.Sum`` over ``sympy.Indexed`` entries and symbolic sizes.
    scope : str
        The sizes covered, printed with the step.
    hypotheses : tuple of sympy expressions
        Each ``g`` means the hypothesis ``g == 0`` (e.g. ``||f1||^2 - 1``).
    certificate : tuple of sympy expressions or None
        Cofactors ``c`` with ``lhs - rhs == sum_i c_i g_i`` identically: a proof that the
        difference vanishes wherever the hypotheses hold. Without one, the difference is
        reduced modulo a Groebner basis of the hypotheses.
    instances : callable or None
        ``instances(rng)`` returns an exact rational assignment ``{symbol: Rational}``
        satisfying the hypotheses (or ``None`` if none exists); used to search for a
        counterexample when the proof does not close.
    general : bool
        True for the general (symbolic-size) form, proved by the index calculus.
    index_ranges : mapping
        General form: free index symbol -> ``(low, high)`` range (inclusive).
    sizes : mapping
        General form: size name -> size symbol (instantiated when searching for a
        counterexample at small sizes).
    variables : mapping
        Named pieces of the statement (matrices, symbols, sub-expressions), so that a
        caller can build variants (e.g. a mutated right-hand side) from the same objects.
    """

    name: str
    statement: str
    lhs: Any
    rhs: Any
    scope: str = ""
    hypotheses: tuple[Any, ...] = ()
    certificate: tuple[Any, ...] | None = None
    instances: Callable[[np.random.Generator], Mapping[Any, Any] | None] | None = None
    general: bool = False
    index_ranges: Mapping[Any, tuple[Any, Any]] = field(default_factory=dict)
    sizes: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# exact scalar tools
# ---------------------------------------------------------------------------------------


def _normalize(expr: Any) -> sp.Expr:
    """Canonical expanded form; logs of products/quotients of positive terms are split.

    ``expand_log`` (without ``force``) only splits ``log(a b)`` when sympy knows ``a, b > 0``
    -- true for ``exp`` of real symbols -- so no branch cut is crossed.
    """
    expr = sp.sympify(expr)
    if expr.has(sp.log, sp.exp):
        expr = sp.expand_log(expr)
    gens = sorted(expr.free_symbols, key=lambda s: s.name)
    if gens and not expr.has(sp.log, sp.exp, sp.Indexed, sp.Sum):
        # Sparse polynomial arithmetic (sympy's PolyRing) is ~10x faster than expand()
        # on these quartics; only a nonzero result is turned back into an expression.
        try:
            element = sp.ring(gens, sp.QQ)[0].from_expr(expr)
        except (sp.polys.polyerrors.PolynomialError, ValueError, TypeError):
            return sp.expand(expr)
        return sp.Integer(0) if not element else element.as_expr()
    return sp.expand(expr)


def _is_exactly_zero(value: Any) -> tuple[bool, str]:
    """Decide whether a closed-form number is 0. Returns (is_zero, how it was decided)."""
    value = sp.sympify(value)
    if value.is_Rational:
        return bool(value == 0), "exact rational"
    # A closed form with exp/log: evalf tracks its own error, so a value clearly away
    # from 0 at 60 digits is nonzero; only near-zero values go through simplify.
    approx = sp.N(value, 60)
    if approx.is_Number and abs(approx) > sp.Float(10) ** -40:
        return False, "closed form evaluated to 60 significant digits"
    simplified = sp.simplify(value)
    if simplified.is_zero is True:
        return True, "simplifies to 0"
    if simplified.is_zero is False:
        return False, "sympy decides it is nonzero"
    approx = sp.N(simplified, 60)
    return bool(abs(approx) < sp.Float(10) ** -50), "evaluated to 60 significant digits"


def _small_rational(rng: np.random.Generator) -> sp.Rational:
    return sp.Rational(int(rng.integers(-4, 5)), int(rng.integers(1, 4)))


def _symbols_of(*objects: Any) -> list[sp.Symbol]:
    found: set[sp.Symbol] = set()
    for obj in objects:
        if isinstance(obj, sp.MatrixBase):
            for entry in obj:
                found |= sp.sympify(entry).free_symbols
        else:
            found |= sp.sympify(obj).free_symbols
    return sorted(found, key=lambda s: s.name)


def _difference_at(diffs: Sequence[Any], assignment: Mapping[Any, Any]) -> tuple[Any, bool, str]:
    """The first nonzero entry of ``diffs`` at ``assignment`` (exact), if any."""
    how = "exact rational"
    for d in diffs:
        value = sp.sympify(d).xreplace(dict(assignment))
        is_zero, how = _is_exactly_zero(value)
        if not is_zero:
            return value, True, how
    return sp.Integer(0), False, how


def _shrink(diffs: Sequence[Any], assignment: dict[Any, Any]) -> dict[Any, Any]:
    """Make a counterexample readable: set entries to 0, then 1, while it stays one."""
    for symbol in list(assignment):
        for simpler in (sp.Integer(0), sp.Integer(1)):
            if assignment[symbol] == simpler:
                break
            trial = dict(assignment)
            trial[symbol] = simpler
            if _difference_at(diffs, trial)[1]:
                assignment = trial
                break
    return assignment


def _search_counterexample(
    diffs: Sequence[Any],
    symbols: Sequence[sp.Symbol],
    instances: Callable[[np.random.Generator], Mapping[Any, Any] | None] | None,
    *,
    tries: int = 24,
    seed: int = 0,
    shrink: bool = True,
) -> tuple[dict[Any, Any], Any, str] | None:
    """Exact rational inputs where some ``diff != 0`` (hypotheses respected via ``instances``).

    ``shrink`` simplifies the instance entry by entry; only safe when there are no
    hypotheses (a shrunk instance may leave the hypothesis set).
    """
    rng = np.random.default_rng(seed)
    for attempt in range(tries):
        if instances is not None:
            found = instances(rng)
            if found is None:  # the hypotheses admit no input
                return None
            assignment = {s: _small_rational(rng) for s in symbols}  # symbols the instance leaves free
            assignment.update(found)
        elif attempt == 0:
            assignment = {s: sp.Integer(1) for s in symbols}
        else:
            assignment = {s: _small_rational(rng) for s in symbols}
        value, nonzero, how = _difference_at(diffs, assignment)
        if nonzero:
            if shrink:
                assignment = _shrink(diffs, assignment)
                value, _, how = _difference_at(diffs, assignment)
            return assignment, value, how
    return None


def _refuted_step(eq: Equation, instance: Mapping[Any, Any], value: Any, how: str, prefix: str) -> ProofStep:
    named = {str(k): v for k, v in instance.items()}
    detail = (
        f"{prefix}\ncounterexample (exact): {_format_instance(named)}\n"
        f"lhs - rhs = {value} != 0 ({how})"
    )
    return ProofStep(eq.name, eq.statement, REFUTED, detail, eq.scope, named, value)


# ---------------------------------------------------------------------------------------
# explicit-size proofs
# ---------------------------------------------------------------------------------------


def _residual_text(diffs: Sequence[Any], limit: int = 160) -> str:
    text = "; ".join(str(d) for d in diffs if d != 0)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _prove_explicit(eq: Equation) -> ProofStep:
    if isinstance(eq.lhs, sp.MatrixBase) or isinstance(eq.rhs, sp.MatrixBase):
        if not (isinstance(eq.lhs, sp.MatrixBase) and isinstance(eq.rhs, sp.MatrixBase)) or (
            eq.lhs.shape != eq.rhs.shape
        ):
            return ProofStep(eq.name, eq.statement, NOT_CLOSED, "the two sides have different shapes", eq.scope)
        raw = list(eq.lhs - eq.rhs)
    else:
        raw = [sp.sympify(eq.lhs) - sp.sympify(eq.rhs)]
    # the normalised differences equal the raw ones (expansion, log of positive products)
    # and are what counterexamples are evaluated on: exact rationals when logs cancel
    diffs = [_normalize(d) for d in raw]
    if all(d == 0 for d in diffs):
        what = "every entry of lhs - rhs" if len(diffs) > 1 else "lhs - rhs"
        return ProofStep(eq.name, eq.statement, PROVED, f"{what} expands to exactly 0", eq.scope)

    symbols = _symbols_of(eq.lhs, eq.rhs, *eq.hypotheses)
    if eq.hypotheses:
        proved, residual = _prove_modulo(eq, diffs)
        if proved is not None:
            return proved
    else:
        residual = f"lhs - rhs expands to {_residual_text(diffs)}"

    # Under hypotheses only inputs that satisfy them count: without an instance generator
    # there is nothing sound to try.
    found = None
    if eq.instances is not None or not eq.hypotheses:
        found = _search_counterexample(diffs, symbols, eq.instances, shrink=not eq.hypotheses)
    if found is not None:
        instance, value, how = found
        return _refuted_step(eq, instance, value, how, residual)
    extra = " (no input satisfies the hypotheses)" if eq.instances is not None and eq.instances(
        np.random.default_rng(0)) is None else ""
    return ProofStep(eq.name, eq.statement, NOT_CLOSED, f"{residual}; no exact counterexample found{extra}", eq.scope)


# Above this many variables in nonlinear hypotheses a Groebner basis is not attempted
# (coupled quadrics such as unit rows + unit columns swell quickly); the proof then
# relies on its certificate, or on a counterexample search.
_GROEBNER_MAX_NONLINEAR_VARIABLES = 9


def _prove_modulo(eq: Equation, diffs: Sequence[sp.Expr]) -> tuple[ProofStep | None, str]:
    """Show each difference lies in the ideal generated by the hypotheses.

    Returns ``(step, "")`` when proved, else ``(None, why not)``.
    """
    hyps = [sp.expand(g) for g in eq.hypotheses]
    if eq.certificate is not None and len(eq.certificate) == len(hyps) and len(diffs) == 1:
        combination = _normalize(diffs[0] - sum(c * g for c, g in zip(eq.certificate, hyps)))
        if combination == 0:
            return ProofStep(
                eq.name, eq.statement, PROVED,
                "lhs - rhs = sum_i c_i g_i identically (certificate checked by expansion), "
                "and every hypothesis g_i = 0",
                eq.scope,
            ), ""
    # Groebner reduction: transcendental atoms (log(...)) are frozen as extra generators,
    # which is sound for proving membership (a remainder of 0 is 0 whatever they are).
    atoms = set()
    for d in diffs:
        atoms |= {a for a in d.atoms(sp.log, sp.exp) if a.free_symbols}
    frozen = {a: sp.Dummy("t") for a in atoms}
    polys = [d.xreplace(frozen) for d in diffs]
    gens = _symbols_of(*hyps, *polys)
    hyp_symbols = _symbols_of(*hyps)
    nonlinear = any(sp.Poly(g, *hyp_symbols).total_degree() > 1 for g in hyps)
    if not nonlinear:
        # Linear hypotheses: their ideal is prime, and reducing modulo it is substituting
        # the solved pivot variables (Gaussian elimination, much faster than division).
        solutions = sp.linsolve(hyps, *hyp_symbols)
        if solutions == sp.EmptySet:
            return ProofStep(
                eq.name, eq.statement, PROVED,
                "the (linear) hypotheses are inconsistent: no input satisfies them, so the "
                "equation holds vacuously",
                eq.scope,
            ), ""
        (solution,) = solutions
        substitution = {x: v for x, v in zip(hyp_symbols, solution) if x != v}
        if all(sp.expand(p.xreplace(substitution)) == 0 for p in polys):
            return ProofStep(
                eq.name, eq.statement, PROVED,
                f"lhs - rhs vanishes identically after solving the {len(hyps)} linear hypotheses "
                f"for {len(substitution)} of the variables",
                eq.scope,
            ), ""
        return None, "the difference does not vanish on the solutions of the linear hypotheses"
    if len(hyp_symbols) > _GROEBNER_MAX_NONLINEAR_VARIABLES:
        # Groebner bases of many coupled quadrics swell: do not try
        return None, (f"undecided modulo the hypotheses (no valid certificate; a Groebner basis of "
                      f"{len(hyps)} quadrics in {len(hyp_symbols)} variables is not attempted)")
    basis = sp.groebner(hyps, *gens, order="grevlex", domain=sp.QQ)
    if list(basis.exprs) == [1]:
        return ProofStep(
            eq.name, eq.statement, PROVED,
            "the hypotheses generate the unit ideal (Groebner basis [1]): no input satisfies "
            "them, so the equation holds vacuously",
            eq.scope,
        ), ""
    if all(basis.reduce(p)[1] == 0 for p in polys):
        return ProofStep(
            eq.name, eq.statement, PROVED,
            f"lhs - rhs reduces to 0 modulo a Groebner basis of the hypotheses ({len(hyps)} of them)",
            eq.scope,
        ), ""
    return None, "the difference is not in the ideal of the hypotheses (Groebner reduction)"


# ---------------------------------------------------------------------------------------
# general-form proofs: a small index calculus over Sum / Indexed / KroneckerDelta
# ---------------------------------------------------------------------------------------


class _OutsideCalculus(Exception):
    """The expression uses something the index calculus does not handle."""


@dataclass
class _Term:
    coeff: Any
    bound: dict  # bound index -> (low, high)
    factors: list  # Indexed factors (with repetition)
    deltas: list  # (i, j) Kronecker deltas


def _product(left: list[_Term], right: list[_Term]) -> list[_Term]:
    return [
        _Term(a.coeff * b.coeff, {**a.bound, **b.bound}, a.factors + b.factors, a.deltas + b.deltas)
        for a in left
        for b in right
    ]


_INDEX_TYPES = (sp.Indexed, sp.Sum, sp.KroneckerDelta)


def _terms(expr: Any) -> list[_Term]:
    """Flatten to a sum of terms ``coeff * sum_{bound} prod factors prod deltas``.

    Each ``Sum`` gets fresh bound indices every time it is converted, so a product of
    two sums (or a power of one) never captures an index: this is the rule
    ``(sum_i a_i)(sum_j b_j) = sum_{i,j} a_i b_j``.
    """
    expr = sp.sympify(expr)
    if not expr.has(*_INDEX_TYPES):
        return [_Term(expr, {}, [], [])]
    if isinstance(expr, sp.Add):
        return [t for arg in expr.args for t in _terms(arg)]
    if isinstance(expr, sp.Mul):
        out = [_Term(sp.Integer(1), {}, [], [])]
        for arg in expr.args:
            out = _product(out, _terms(arg))
        return out
    if isinstance(expr, sp.Pow):
        exponent = expr.exp
        if not (exponent.is_Integer and exponent >= 0):
            raise _OutsideCalculus(f"power {expr} with a non-natural exponent")
        out = [_Term(sp.Integer(1), {}, [], [])]
        for _ in range(int(exponent)):
            out = _product(out, _terms(expr.base))
        return out
    if isinstance(expr, sp.Sum):
        function = expr.function
        bound = {}
        for index, low, high in expr.limits:
            fresh = sp.Dummy(index.name)
            function = function.xreplace({index: fresh})
            bound[fresh] = (low, high)
        return [_Term(t.coeff, {**bound, **t.bound}, t.factors, t.deltas) for t in _terms(function)]
    if isinstance(expr, sp.Indexed):
        return [_Term(sp.Integer(1), {}, [expr], [])]
    if isinstance(expr, sp.KroneckerDelta):
        return [_Term(sp.Integer(1), {}, [], [tuple(expr.args)])]
    raise _OutsideCalculus(f"{type(expr).__name__} of an indexed expression: {expr}")


def _same_range(a: tuple, b: tuple) -> bool:
    return sp.expand(a[0] - b[0]) == 0 and sp.expand(a[1] - b[1]) == 0


def _contract(term: _Term, free_ranges: Mapping[Any, tuple]) -> _Term | None:
    """Apply ``sum_j delta(i, j) f(j) = f(i)`` (i in the range of j) and ``sum_i 1 = n``."""
    deltas = list(term.deltas)
    bound = dict(term.bound)
    factors = list(term.factors)
    kept = []
    while deltas:
        a, b = deltas.pop()
        if a == b:
            continue
        if a.is_Integer and b.is_Integer:
            return None  # delta(0, 1) = 0: the whole term vanishes
        replaced = False
        for gone, stays in ((b, a), (a, b)):
            if gone not in bound:
                continue
            stays_range = bound.get(stays, free_ranges.get(stays))
            if stays_range is None or not _same_range(stays_range, bound[gone]):
                continue
            del bound[gone]
            factors = [f.xreplace({gone: stays}) for f in factors]
            deltas = [(x.xreplace({gone: stays}), y.xreplace({gone: stays})) for x, y in deltas]
            kept = [(x.xreplace({gone: stays}), y.xreplace({gone: stays})) for x, y in kept]
            replaced = True
            break
        if not replaced:
            kept.append((a, b))
    coeff = term.coeff
    used = set()
    for f in factors:
        used |= f.free_symbols
    for x, y in kept:
        used |= {x, y}
    for index in list(bound):
        if index not in used:
            low, high = bound.pop(index)
            coeff = coeff * (high - low + 1)
    return _Term(coeff, bound, factors, kept)


def _canonical_key(term: _Term) -> tuple:
    """A key equal for two terms iff one is the other with bound indices renamed.

    Bound indices are grouped by range; every assignment of canonical names within each
    group is tried (at most a few hundred here) and the lexicographically least printout
    wins. Renaming bound indices of a finite sum never changes its value.
    """
    groups: dict[str, list] = {}
    for index, rng in term.bound.items():
        groups.setdefault(f"{rng[0]}..{rng[1]}", []).append(index)
    labels = sorted(groups)
    canon = {
        label: [sp.Symbol(f"_{g}_{n}") for n in range(len(groups[label]))] for g, label in enumerate(labels)
    }
    count = 1
    for label in labels:
        for n in range(2, len(groups[label]) + 1):
            count *= n
    if count > 50_000:
        raise _OutsideCalculus("too many bound indices to canonicalise")
    best = None
    for perms in itertools.product(*(itertools.permutations(groups[label]) for label in labels)):
        mapping = {}
        for label, perm in zip(labels, perms):
            mapping.update(zip(perm, canon[label]))
        factors = tuple(sorted(str(f.xreplace(mapping)) for f in term.factors))
        deltas = tuple(sorted(
            tuple(sorted((str(x.xreplace(mapping)), str(y.xreplace(mapping))))) for x, y in term.deltas
        ))
        candidate = (factors, deltas)
        if best is None or candidate < best:
            best = candidate
    signature = tuple((label, len(groups[label])) for label in labels)
    return (signature,) + best


def _normal_form(expr: Any, free_ranges: Mapping[Any, tuple]) -> dict[tuple, Any]:
    form: dict[tuple, Any] = {}
    for term in _terms(expr):
        if term.coeff.free_symbols & set(term.bound):
            # e.g. sum_i i * x_i: a summand that depends on a bound index other than through
            # Indexed entries or deltas cannot be renamed or contracted safely
            raise _OutsideCalculus(f"a summand depends on a bound index outside an entry: {term.coeff}")
        contracted = _contract(term, free_ranges)
        if contracted is None:
            continue
        key = _canonical_key(contracted)
        form[key] = form.get(key, sp.Integer(0)) + contracted.coeff
    return form


def _describe_key(key: tuple) -> str:
    signature, factors, deltas = key
    ranges = ", ".join(f"{n} index(es) in [{label}]" for label, n in signature)
    body = " * ".join(list(factors) + [f"delta{d}" for d in deltas]) or "1"
    return f"sum over {ranges}: {body}" if ranges else body


def _instantiate_search(eq: Equation, seed: int = 0) -> tuple[dict[str, Any], Any, str] | None:
    """Look for a counterexample to a general-form equation at small explicit sizes."""
    rng = np.random.default_rng(seed)
    names = list(eq.sizes)
    for values in itertools.product(range(1, 4), repeat=len(names)):
        size_map = {eq.sizes[n]: v for n, v in zip(names, values)}
        free = list(eq.index_ranges)
        choices = []
        for index in free:
            low, high = (sp.sympify(x).xreplace(size_map) for x in eq.index_ranges[index])
            choices.append(range(int(low), int(high) + 1))
        for index_values in itertools.product(*choices):
            subs = {**size_map, **dict(zip(free, index_values))}
            diff = (sp.sympify(eq.lhs) - sp.sympify(eq.rhs)).xreplace(subs).doit()
            indexed = diff.atoms(sp.Indexed)
            labels = {i.base.label for i in indexed}
            plain = {x for x in diff.free_symbols if not isinstance(x, sp.Indexed) and x not in labels}
            entries = sorted(indexed | plain, key=str)
            found = _search_counterexample([diff], entries, None, tries=6, seed=int(rng.integers(1 << 30)),
                                           shrink=True)
            if found is not None:
                instance, value, how = found
                named: dict[str, Any] = {n: v for n, v in zip(names, values)}
                named.update({str(i): v for i, v in zip(free, index_values)})
                named.update({str(k): v for k, v in instance.items()})
                return named, value, how
    return None


def _prove_general(eq: Equation) -> ProofStep:
    try:
        left = _normal_form(eq.lhs, eq.index_ranges)
        right = _normal_form(eq.rhs, eq.index_ranges)
    except _OutsideCalculus as exc:
        text = f"outside the index calculus: {exc}"
        found = _instantiate_search(eq) if eq.sizes else None
        if found is not None:
            instance, value, how = found
            return _refuted_step(eq, instance, value, how, text + "\ninstantiated at small sizes:")
        return ProofStep(eq.name, eq.statement, NOT_CLOSED, text, eq.scope)
    residual = []
    for key in sorted(set(left) | set(right)):
        coeff = _normalize(left.get(key, 0) - right.get(key, 0))
        if coeff != 0:
            residual.append(f"({coeff}) * [{_describe_key(key)}]")
    if not residual:
        count = len(left)
        return ProofStep(
            eq.name, eq.statement, PROVED,
            f"index calculus: both sides reduce to the same {count} canonical sum(s) "
            "(expand, exchange finite sums, contract deltas, rename bound indices)",
            eq.scope,
        )
    text = "residual after the index calculus: " + " + ".join(residual)
    if len(text) > 400:
        text = text[:397] + "..."
    found = _instantiate_search(eq) if eq.sizes else None
    if found is not None:
        instance, value, how = found
        return _refuted_step(eq, instance, value, how, text + "\ninstantiated at small sizes:")
    return ProofStep(eq.name, eq.statement, NOT_CLOSED, text, eq.scope)


# ---------------------------------------------------------------------------------------
# proving equations and chains
# ---------------------------------------------------------------------------------------


def prove_equation(equation: Equation) -> ProofStep:
    """Prove one :class:`Equation` exactly, or find an exact counterexample.

    Explicit form: ``lhs - rhs`` is expanded (logs of positive quantities split first);
    exactly 0 proves it. Under hypotheses ``g_i = 0`` the difference must equal
    ``sum_i c_i g_i`` for the supplied certificate, or reduce to 0 modulo a Groebner
    basis of the ``g_i``. Otherwise exact rational inputs (satisfying the hypotheses) are
    tried; the first with ``lhs - rhs != 0`` is returned as the counterexample.

    General form: both sides are brought to a normal form by the index calculus (see the
    module docstring); equal normal forms prove the equation for every size. Otherwise
    the equation is instantiated at sizes 1..3 and searched for a counterexample.

    Parameters
    ----------
    equation : Equation

    Returns
    -------
    ProofStep
    """
    if not isinstance(equation, Equation):
        raise fail_type("equation", "prove_equation", "an Equation", equation)
    return _prove_general(equation) if equation.general else _prove_explicit(equation)


def prove_chain(
    claim: str,
    sizes: Mapping[str, Any],
    equations: Iterable[Equation],
    *,
    notes: Sequence[str] = (),
    variant: str | None = None,
) -> ProofResult:
    """Prove every equation of a chain; the result closes iff all of them are proved."""
    start = time.perf_counter()
    steps = tuple(prove_equation(eq) for eq in equations)
    return ProofResult(
        claim=claim,
        sizes=dict(sizes),
        steps=steps,
        closed=all(s.proved for s in steps),
        seconds=time.perf_counter() - start,
        notes=tuple(notes),
        variant=variant,
    )


# ---------------------------------------------------------------------------------------
# two matrix algebras with one interface: explicit sympy matrices and index expressions
# ---------------------------------------------------------------------------------------


class _Explicit:
    """Sizes are ints; matrices are ``sympy.Matrix`` of real symbols ``K[j,i]``."""

    general = False

    def matrix(self, name: str, rows: int, cols: int) -> sp.Matrix:
        return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}[{i},{j}]", real=True))

    def vector(self, name: str, n: int, *, positive: bool = False) -> list[sp.Symbol]:
        if positive:
            return [sp.Symbol(f"{name}[{i}]", positive=True) for i in range(n)]
        return [sp.Symbol(f"{name}[{i}]", real=True) for i in range(n)]

    def build(self, rows: int, cols: int, fn: Callable[[Any, Any], Any]) -> sp.Matrix:
        return sp.Matrix(rows, cols, fn)

    def mul(self, a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
        return a * b

    def T(self, a: sp.Matrix) -> sp.Matrix:  # noqa: N802 - the usual name of a transpose
        return a.T

    def diag(self, a: sp.Matrix) -> sp.Matrix:
        return sp.diag(*[a[i, i] for i in range(a.rows)])

    def eye(self, n: int) -> sp.Matrix:
        return sp.eye(n)

    def trace(self, a: sp.Matrix) -> sp.Expr:
        return a.trace()

    def frob_sq(self, a: sp.Matrix) -> sp.Expr:
        return sp.Add(*[x**2 for x in a])

    def total(self, n: int, fn: Callable[[Any], Any]) -> sp.Expr:
        return sp.Add(*[fn(i) for i in range(n)])

    def delta(self, i: Any, j: Any) -> Any:
        return sp.KroneckerDelta(i, j)


class _IMat:
    """A general-size matrix: an entry function of two index symbols and its two sizes."""

    def __init__(self, rows: Any, cols: Any, entry: Callable[[Any, Any], Any]):
        self.rows, self.cols, self.entry = rows, cols, entry

    def __getitem__(self, ij: tuple[Any, Any]) -> Any:
        return self.entry(*ij)

    def __add__(self, other: "_IMat") -> "_IMat":
        return _IMat(self.rows, self.cols, lambda i, j: self.entry(i, j) + other.entry(i, j))

    def __sub__(self, other: "_IMat") -> "_IMat":
        return _IMat(self.rows, self.cols, lambda i, j: self.entry(i, j) - other.entry(i, j))

    def __rmul__(self, scalar: Any) -> "_IMat":
        return _IMat(self.rows, self.cols, lambda i, j: scalar * self.entry(i, j))


class _General:
    """Sizes are symbols; entries are ``Indexed`` and products are ``Sum`` over a fresh index."""

    general = True

    def matrix(self, name: str, rows: Any, cols: Any) -> _IMat:
        base = sp.IndexedBase(name, real=True)
        return _IMat(rows, cols, lambda i, j: base[i, j])

    def vector(self, name: str, n: Any, *, positive: bool = False) -> sp.IndexedBase:
        return sp.IndexedBase(name, positive=True) if positive else sp.IndexedBase(name, real=True)

    def build(self, rows: Any, cols: Any, fn: Callable[[Any, Any], Any]) -> _IMat:
        return _IMat(rows, cols, fn)

    def mul(self, a: _IMat, b: _IMat) -> _IMat:
        s = sp.Dummy("s")
        return _IMat(a.rows, b.cols, lambda i, j: sp.Sum(a.entry(i, s) * b.entry(s, j), (s, 0, a.cols - 1)))

    def T(self, a: _IMat) -> _IMat:  # noqa: N802
        return _IMat(a.cols, a.rows, lambda i, j: a.entry(j, i))

    def diag(self, a: _IMat) -> _IMat:
        return _IMat(a.rows, a.cols, lambda i, j: sp.KroneckerDelta(i, j) * a.entry(i, i))

    def eye(self, n: Any) -> _IMat:
        return _IMat(n, n, lambda i, j: sp.KroneckerDelta(i, j))

    def trace(self, a: _IMat) -> sp.Expr:
        i = sp.Dummy("i")
        return sp.Sum(a.entry(i, i), (i, 0, a.rows - 1))

    def frob_sq(self, a: _IMat) -> sp.Expr:
        i, j = sp.Dummy("i"), sp.Dummy("j")
        return sp.Sum(a.entry(i, j) ** 2, (i, 0, a.rows - 1), (j, 0, a.cols - 1))

    def total(self, n: Any, fn: Callable[[Any], Any]) -> sp.Expr:
        i = sp.Dummy("k")
        return sp.Sum(fn(i), (i, 0, n - 1))

    def delta(self, i: Any, j: Any) -> Any:
        return sp.KroneckerDelta(i, j)


def _check_sizes(caller: str, family: str, **sizes: Any) -> None:
    """Validate explicit sizes under the public caller's name (1 <= size <= LIMITS[family])."""
    for name, value in sizes.items():
        check_int(value, name, caller, min_value=1, max_value=LIMITS[family])


def _setup(caller: str, family: str, **sizes: int | None) -> tuple[Any, dict[str, Any], str, dict[str, Any]]:
    """Pick the algebra: all sizes None -> general form, all ints -> explicit (validated)."""
    given = [v is not None for v in sizes.values()]
    if all(given):
        limit = LIMITS[family]
        clean = {
            name: check_int(value, name, caller, min_value=1, max_value=limit) for name, value in sizes.items()
        }
        scope = ", ".join(f"{k}={v}" for k, v in clean.items())
        return _Explicit(), clean, scope, {}
    if any(given):
        name = next(n for n, v in sizes.items() if v is None)
        raise fail(name, caller, "given together with the other sizes (or all of them None for the general form)", None)
    symbols = {name: sp.Symbol(name, integer=True, positive=True) for name in sizes}
    scope = "all " + ", ".join(sizes) + " >= 1"
    return _General(), symbols, scope, symbols


def _eq(alg: Any, scope: str, size_symbols: Mapping[str, Any], name: str, statement: str, lhs: Any, rhs: Any,
        **kwargs: Any) -> Equation:
    """Build an Equation; matrix-valued general equations become entrywise with free i, j."""
    index_ranges = dict(kwargs.pop("index_ranges", {}))
    if isinstance(lhs, _IMat):
        i, j = sp.Symbol("i", integer=True), sp.Symbol("j", integer=True)
        index_ranges.update({i: (0, lhs.rows - 1), j: (0, lhs.cols - 1)})
        lhs, rhs = lhs.entry(i, j), rhs.entry(i, j)
    return Equation(name, statement, lhs, rhs, scope=scope, general=alg.general, index_ranges=index_ranges,
                    sizes=dict(size_symbols), **kwargs)


# ---------------------------------------------------------------------------------------
# garrido2023: duality
# ---------------------------------------------------------------------------------------


def duality_equations(M: int | None = None, N: int | None = None) -> list[Equation]:
    """The seed's derivation of garrido2023.duality, one :class:`Equation` per step.

    With ``K`` in ``R^{M x N}``, ``A = K K^T``, ``B = K^T K``, ``D_A = diag(A)``:

    .. math::

        L_{nc} = \\|A - D_A\\|_F^2 = tr[(A-D_A)^T(A-D_A)] = tr(A^2) - 2 tr(A D_A) + tr(D_A^2)
               = tr(A^2) - tr(A D_A) = tr(B^2) - \\sum_j \\|K_{j,\\cdot}\\|^4,

    likewise ``L_c = tr(B^2) - sum_i ||K_{.,i}||^4``, hence (garrido2023, eqs. 40-46)
    ``L_nc + sum_j ||K_{j,.}||^4 = L_c + sum_i ||K_{.,i}||^4``.

    Parameters
    ----------
    M, N : int or None
        Explicit sizes (``1 <= M, N <= LIMITS["duality"]``), or both ``None`` for the
        general form (symbolic ``M``, ``N``).

    Returns
    -------
    list of Equation
        The last one is the theorem itself, proved directly from the definitions.
    """
    alg, sz, scope, syms = _setup("duality_equations", "duality", M=M, N=N)
    M, N = sz["M"], sz["N"]
    K = alg.matrix("K", M, N)
    A, B = alg.mul(K, alg.T(K)), alg.mul(alg.T(K), K)
    DA, DB = alg.diag(A), alg.diag(B)
    X = A - DA
    tr = alg.trace
    L_nc = alg.frob_sq(A - DA)
    L_c = alg.frob_sq(B - DB)
    row4 = alg.total(M, lambda j: alg.total(N, lambda i: K[j, i] ** 2) ** 2)
    col4 = alg.total(N, lambda i: alg.total(M, lambda j: K[j, i] ** 2) ** 2)
    trAA, trBB = tr(alg.mul(A, A)), tr(alg.mul(B, B))
    trADA, trBDB = tr(alg.mul(A, DA)), tr(alg.mul(B, DB))
    variables = {"K": K, "L_c": L_c, "L_nc": L_nc, "row4": row4, "col4": col4, "A": A, "B": B}

    def eq(name: str, statement: str, lhs: Any, rhs: Any) -> Equation:
        return _eq(alg, scope, syms, name, statement, lhs, rhs, variables=variables)

    return [
        eq("(40-41) Frobenius norm as a trace",
           "L_nc = ||A - D||_F^2 = tr[(A - D)^T (A - D)],  A = K K^T, D = diag(A)",
           L_nc, tr(alg.mul(alg.T(X), X))),
        eq("(42) expand the trace",
           "tr[(A - D)^T (A - D)] = tr(A A) - 2 tr(A D) + tr(D D)   (A, D symmetric)",
           tr(alg.mul(alg.T(X), X)), trAA - 2 * trADA + tr(alg.mul(DA, DA))),
        eq("(43) diagonal terms",
           "tr(A A) - 2 tr(A D) + tr(D D) = tr(A A) - tr(A D)   (tr(A D) = tr(D D) = sum_j A_jj^2)",
           trAA - 2 * trADA + tr(alg.mul(DA, DA)), trAA - trADA),
        eq("(44) cyclic trace",
           "tr(K K^T K K^T) = tr(K^T K K^T K)",
           trAA, trBB),
        eq("(45-46) L_c as traces",
           "L_c = ||K^T K - diag(K^T K)||_F^2 = tr(K^T K K^T K) - tr(K^T K diag(K^T K))",
           L_c, trBB - trBDB),
        eq("column norms",
           "tr(K^T K diag(K^T K)) = sum_i ||K_.,i||^4",
           trBDB, col4),
        eq("row norms",
           "tr(K K^T diag(K K^T)) = sum_j ||K_j,.||^4",
           trADA, row4),
        eq("theorem (garrido2023.duality)",
           "L_nc + sum_j ||K_j,.||^4 = L_c + sum_i ||K_.,i||^4",
           L_nc + row4, L_c + col4),
    ]


def prove_duality(M: int, N: int, *, general: bool = True) -> ProofResult:
    """Prove garrido2023.duality for a fully symbolic ``M x N`` matrix ``K``.

    .. math:: L_{nc} + \\sum_{j=1}^M \\|K_{j,\\cdot}\\|^4 = L_c + \\sum_{i=1}^N \\|K_{\\cdot,i}\\|^4,
              \\quad L_c = \\|K^TK - diag(K^TK)\\|_F^2,\\ L_{nc} = \\|KK^T - diag(KK^T)\\|_F^2

    (garrido2023). Every step of :func:`duality_equations` is proved at size
    ``M x N`` (polynomials in ``M N`` real symbols) and, if ``general``, for all sizes by
    the index calculus.

    Parameters
    ----------
    M, N : int
        ``1 <= M, N <= LIMITS["duality"]``.
    general : bool
        Also prove the general-form chain (symbolic ``M``, ``N``).

    Returns
    -------
    ProofResult

    Examples
    --------
    >>> prove_duality(3, 2).closed
    True
    """
    _check_sizes("prove_duality", "duality", M=M, N=N)
    general = check_bool(general, "general", "prove_duality")
    equations = duality_equations(M, N)
    if general:
        equations += duality_equations()
    return prove_chain("garrido2023.duality", {"M": M, "N": N}, equations)


# ---------------------------------------------------------------------------------------
# garrido2023: doubly normalized
# ---------------------------------------------------------------------------------------


def _cayley_orthogonal(n: int, rng: np.random.Generator) -> sp.Matrix:
    """An exact rational orthogonal matrix: the Cayley transform (I - S)(I + S)^{-1}."""
    S = sp.zeros(n, n)
    for i in range(n):
        for j in range(i + 1, n):
            S[i, j] = _small_rational(rng)
            S[j, i] = -S[i, j]
    Q = (sp.eye(n) - S) * (sp.eye(n) + S).inv()  # I + S is invertible: S has imaginary spectrum
    perm = rng.permutation(n)
    return Q.extract([int(p) for p in perm], list(range(n)))


def _birkhoff_stochastic(n: int, rng: np.random.Generator) -> sp.Matrix:
    """An exact doubly stochastic matrix: a positive rational mix of permutation matrices."""
    count = min(4, max(1, n))
    weights = [sp.Integer(int(w)) for w in rng.integers(1, 6, size=count)]
    total = sum(weights)
    K = sp.zeros(n, n)
    for w in weights:
        perm = rng.permutation(n)
        for i in range(n):
            K[i, int(perm[i])] += w / total
    return K


def doubly_normalized_equations(
    M: int | None = None, N: int | None = None, *, normalization: str = "l2"
) -> list[Equation]:
    """Equations behind garrido2023.doubly-normalized, with the hypotheses made explicit.

    ``normalization="l2"`` (the paper): every row and every column of ``K`` has unit L2
    norm, ``r_j = ||K_{j,.}||^2 = 1`` and ``c_i = ||K_{.,i}||^2 = 1``. Then
    ``sum_j ||K_{j,.}||^4 = M``, ``sum_i ||K_{.,i}||^4 = N`` and the duality gives
    ``L_nc = L_c + N - M``, certified by

    .. math:: L_{nc} - L_c - (N - M) = \\sum_i (c_i - 1)(c_i + 1) - \\sum_j (r_j - 1)(r_j + 1).

    The hypotheses also force ``M = N``:
    ``sum_j (r_j - 1) - sum_i (c_i - 1) = N - M`` identically (both sums of squares are
    ``||K||_F^2``), so for ``M != N`` no matrix satisfies them.

    ``normalization="stochastic"`` (the seed slide's wording "K as double stochastic
    matrix"): row sums and column sums 1 (entries >= 0). No certificate is supplied: the
    statement is decided by a Groebner basis and exact doubly stochastic inputs.

    Parameters
    ----------
    M, N : int or None
        Explicit sizes (``<= LIMITS["doubly_normalized"]``) or both None (general form; only
        the l2 certificate and the ``M = N`` identity have a general form).
    normalization : {"l2", "stochastic"}
    """
    normalization = check_choice(normalization, "normalization", "doubly_normalized_equations", ("l2", "stochastic"))
    alg, sz, scope, syms = _setup("doubly_normalized_equations", "doubly_normalized", M=M, N=N)
    M, N = sz["M"], sz["N"]
    K = alg.matrix("K", M, N)
    A, B = alg.mul(K, alg.T(K)), alg.mul(alg.T(K), K)
    L_nc, L_c = alg.frob_sq(A - alg.diag(A)), alg.frob_sq(B - alg.diag(B))
    power = 2 if normalization == "l2" else 1
    word = "||K_j,.||^2" if normalization == "l2" else "sum_i K_ji"
    cword = "||K_.,i||^2" if normalization == "l2" else "sum_j K_ji"

    def row(j: Any) -> Any:
        return alg.total(N, lambda i: K[j, i] ** power)

    def col(i: Any) -> Any:
        return alg.total(M, lambda j: K[j, i] ** power)

    row4 = alg.total(M, lambda j: alg.total(N, lambda i: K[j, i] ** 2) ** 2)
    col4 = alg.total(N, lambda i: alg.total(M, lambda j: K[j, i] ** 2) ** 2)
    variables = {"K": K, "L_c": L_c, "L_nc": L_nc, "row4": row4, "col4": col4}

    def eq(name: str, statement: str, lhs: Any, rhs: Any, **kw: Any) -> Equation:
        return _eq(alg, scope, syms, name, statement, lhs, rhs, variables=variables, **kw)

    force = eq(
        "hypotheses force M = N",
        f"sum_j ({word} - 1) - sum_i ({cword} - 1) = N - M   (identically: both sums count all of K)",
        alg.total(M, lambda j: row(j) - 1) - alg.total(N, lambda i: col(i) - 1), N - M,
    )
    if alg.general:
        if normalization != "l2":
            return [force]
        certificate = eq(
            "certificate for the statement",
            "L_nc - L_c - (N - M) = sum_i (c_i - 1)(c_i + 1) - sum_j (r_j - 1)(r_j + 1),  "
            "r_j = ||K_j,.||^2, c_i = ||K_.,i||^2",
            L_nc - L_c - (N - M),
            alg.total(N, lambda i: (col(i) - 1) * (col(i) + 1)) - alg.total(M, lambda j: (row(j) - 1) * (row(j) + 1)),
        )
        return [certificate, force]

    rows = [row(j) - 1 for j in range(M)]
    cols = [col(i) - 1 for i in range(N)]
    if normalization == "l2":
        def instances(rng: np.random.Generator) -> dict[Any, Any] | None:
            if M != N:
                return None
            Q = _cayley_orthogonal(M, rng)
            return {K[j, i]: Q[j, i] for j in range(M) for i in range(N)}
    else:
        def instances(rng: np.random.Generator) -> dict[Any, Any] | None:
            if M != N:
                return None
            S = _birkhoff_stochastic(M, rng)
            return {K[j, i]: S[j, i] for j in range(M) for i in range(N)}

    theorem = eq("duality at this size", "L_nc + sum_j ||K_j,.||^4 = L_c + sum_i ||K_.,i||^4",
                 L_nc + row4, L_c + col4)
    statement = eq(
        "statement (garrido2023.doubly-normalized)",
        f"L_nc = L_c + N - M   given {word} = 1 for every row j and {cword} = 1 for every column i",
        L_nc, L_c + N - M,
        hypotheses=tuple(rows + cols),
        certificate=(tuple(-(r + 2) for r in rows) + tuple(c + 2 for c in cols)) if normalization == "l2" else None,
        instances=instances,
    )
    if normalization == "stochastic":
        return [theorem, statement, force]
    unit_rows = eq("unit rows", "sum_j ||K_j,.||^4 = M   given ||K_j,.|| = 1 for every j",
                   row4, M, hypotheses=tuple(rows), certificate=tuple(r + 2 for r in rows), instances=instances)
    unit_cols = eq("unit columns", "sum_i ||K_.,i||^4 = N   given ||K_.,i|| = 1 for every i",
                   col4, N, hypotheses=tuple(cols), certificate=tuple(c + 2 for c in cols), instances=instances)
    return [theorem, unit_rows, unit_cols, statement, force]


def prove_doubly_normalized(M: int, N: int, *, normalization: str = "l2", general: bool = True) -> ProofResult:
    """Prove garrido2023.doubly-normalized as the paper states it, and report what it means.

    "If both rows and columns of K were L2 normalized, we would have
    ``L_nc = L_c + N - M``" (garrido2023). With ``r_j = ||K_{j,.}||^2``,
    ``c_i = ||K_{.,i}||^2``: unit rows give ``sum_j r_j^2 = M``, unit columns
    ``sum_i c_i^2 = N``, and the duality turns into ``L_nc + M = L_c + N``. The proof
    checks the certificate of :func:`doubly_normalized_equations` by expansion.

    It also *computes* what the hypotheses force: ``sum_j (r_j - 1) - sum_i (c_i - 1)
    = N - M`` identically, so unit rows and unit columns exist only when ``M = N``
    (then ``K = I`` is one). For ``M != N`` the result is ``vacuous`` (closed, no input);
    for ``M = N`` the ``N - M`` term is 0 and the statement says ``L_nc = L_c``.

    ``normalization="stochastic"`` checks the seed slide's wording instead ("K as double
    stochastic matrix") and is reported as a variant.

    Parameters
    ----------
    M, N : int
        ``1 <= M, N <= LIMITS["doubly_normalized"]``.
    normalization : {"l2", "stochastic"}
    general : bool
        Also prove the general-form certificate (symbolic ``M``, ``N``).

    Returns
    -------
    ProofResult

    Examples
    --------
    >>> r = prove_doubly_normalized(2, 3)
    >>> r.closed, r.vacuous
    (True, True)
    """
    caller = "prove_doubly_normalized"
    _check_sizes(caller, "doubly_normalized", M=M, N=N)
    normalization = check_choice(normalization, "normalization", caller, ("l2", "stochastic"))
    general = check_bool(general, "general", caller)
    equations = doubly_normalized_equations(M, N, normalization=normalization)
    if general:
        equations += doubly_normalized_equations(normalization=normalization)
    variant = None if normalization == "l2" else "seed-slide reading: K doubly stochastic"
    result = prove_chain("garrido2023.doubly-normalized", {"M": M, "N": N}, equations, variant=variant)

    # What the hypotheses force, computed from the proved identity and a witness check.
    force = next(s for s in result.steps if s.name == "hypotheses force M = N" and s.scope.startswith("M="))
    K = equations[0].variables["K"]
    hypotheses = next(eq for eq in equations if eq.name.startswith("statement")).hypotheses
    notes = []
    vacuous = False
    if force.proved and M != N:
        vacuous = True
        notes.append(
            f"the hypotheses imply N - M = {N - M} != 0 (a nonzero constant in their ideal), so no "
            f"{M}x{N} matrix, real or complex, satisfies them: the statement holds vacuously"
        )
    elif force.proved:
        identity = {K[j, i]: sp.KroneckerDelta(j, i) for j in range(M) for i in range(N)}
        if all(sp.sympify(g).xreplace(identity) == 0 for g in hypotheses):
            notes.append(
                f"M = N = {M}: K = I satisfies the hypotheses; the N - M term is 0 here, so the statement "
                "reads L_nc = L_c (the correction N - M can never be nonzero)"
            )
    return ProofResult(result.claim, result.sizes, result.steps, result.closed, result.seconds,
                       vacuous=vacuous and result.closed, notes=tuple(notes), variant=variant)


# ---------------------------------------------------------------------------------------
# huang2023: Barlow Twins decomposition, Gram identity, InfoNCE decomposition
# ---------------------------------------------------------------------------------------


def barlow_equations(d: int | None = None) -> list[Equation]:
    """Equations of huang2023.barlow-decomposition for a symbolic ``d x d`` matrix F.

    .. math::

        L_{CC} = \\sum_i (1 - F_{ii})^2 + \\lambda \\sum_{i \\ne j} F_{ij}^2
               = (1 - \\lambda) L_1 + \\lambda L_2,\\quad
        L_1 = \\sum_i (1 - F_{ii})^2,\\ L_2 = \\|F - I_d\\|_F^2

    (huang2023), with ``lambda`` a real symbol. ``d=None`` gives the general form.
    """
    alg, sz, scope, syms = _setup("barlow_equations", "barlow", d=d)
    d = sz["d"]
    F = alg.matrix("F", d, d)
    lam = sp.Symbol("lambda", real=True)
    L1 = alg.total(d, lambda i: (1 - F[i, i]) ** 2)
    off = alg.total(d, lambda i: alg.total(d, lambda j: (1 - alg.delta(i, j)) * F[i, j] ** 2))
    L2 = alg.frob_sq(F - alg.eye(d))
    L_CC = L1 + lam * off
    variables = {"F": F, "lambda": lam, "L1": L1, "L2": L2, "L_CC": L_CC, "offdiag": off}

    def eq(name: str, statement: str, lhs: Any, rhs: Any) -> Equation:
        return _eq(alg, scope, syms, name, statement, lhs, rhs, variables=variables)

    return [
        eq("L2 splits into diagonal and off-diagonal parts",
           "||F - I_d||_F^2 = sum_i (1 - F_ii)^2 + sum_{i != j} F_ij^2", L2, L1 + off),
        eq("theorem (huang2023.barlow-decomposition)",
           "sum_i (1 - F_ii)^2 + lambda sum_{i != j} F_ij^2 = (1 - lambda) L1 + lambda L2",
           L_CC, (1 - lam) * L1 + lam * L2),
    ]


def prove_barlow_decomposition(d: int, *, general: bool = True) -> ProofResult:
    """Prove huang2023.barlow-decomposition for symbolic ``F`` (``d x d``) and ``lambda``.

    See :func:`barlow_equations` for the formula. ``1 <= d <= LIMITS["barlow"]``.

    Examples
    --------
    >>> prove_barlow_decomposition(3).closed
    True
    """
    _check_sizes("prove_barlow_decomposition", "barlow", d=d)
    general = check_bool(general, "general", "prove_barlow_decomposition")
    equations = barlow_equations(d)
    if general:
        equations += barlow_equations()
    return prove_chain("huang2023.barlow-decomposition", {"d": d}, equations)


def gram_equations(d: int | None = None, K: int | None = None) -> list[Equation]:
    """The seed's derivation of huang2023.gram-identity, one :class:`Equation` per step.

    With ``p_k = s_k^2`` (``s_k = sqrt(p_k) >= 0``; a polynomial identity in ``s`` covers
    every ``p_k >= 0``) and ``U = [s_1 mu_1, ..., s_K mu_K]`` in ``R^{d x K}``:

    .. math::

        \\|\\sum_k p_k \\mu_k \\mu_k^T - I_d\\|_F^2 = tr(UU^TUU^T - 2UU^T + I_d)
        = tr(U^TUU^TU - 2U^TU + I_K) + d - K = \\|U^TU - I_K\\|_F^2 + d - K

    (huang2023). The constraint ``sum_k p_k = 1`` is not needed and not used.
    """
    alg, sz, scope, syms = _setup("gram_equations", "gram", d=d, K=K)
    d, K = sz["d"], sz["K"]
    mu = alg.matrix("mu", d, K)  # column k is mu_k
    s = alg.vector("s", K)  # s_k = sqrt(p_k)
    U = alg.build(d, K, lambda a, k: s[k] * mu[a, k])
    S = alg.build(d, d, lambda a, c: alg.total(K, lambda k: s[k] ** 2 * mu[a, k] * mu[c, k]))
    UUt, UtU = alg.mul(U, alg.T(U)), alg.mul(alg.T(U), U)
    Id, IK = alg.eye(d), alg.eye(K)
    tr = alg.trace
    lhs = alg.frob_sq(S - Id)
    gram_K = alg.frob_sq(UtU - IK)
    left_trace = tr(alg.mul(UUt, UUt)) - 2 * tr(UUt) + tr(Id)
    right_trace = tr(alg.mul(UtU, UtU)) - 2 * tr(UtU) + tr(IK)
    entrywise = alg.total(K, lambda k: alg.total(
        K, lambda l: (s[k] * s[l] * alg.total(d, lambda a: mu[a, k] * mu[a, l]) - alg.delta(k, l)) ** 2))
    variables = {"mu": mu, "s": s, "U": U, "lhs": lhs, "gram_K": gram_K, "d": d, "K": K}

    def eq(name: str, statement: str, left: Any, right: Any) -> Equation:
        return _eq(alg, scope, syms, name, statement, left, right, variables=variables)

    return [
        eq("U U^T is the weighted sum", "U U^T = sum_k p_k mu_k mu_k^T   (U = [sqrt(p_k) mu_k])", UUt, S),
        eq("Frobenius norm as a trace", "||U U^T - I_d||_F^2 = tr(U U^T U U^T - 2 U U^T + I_d)",
           alg.frob_sq(UUt - Id), left_trace),
        eq("cyclic trace", "tr(U U^T U U^T - 2 U U^T + I_d) = tr(U^T U U^T U - 2 U^T U + I_K) + d - K",
           left_trace, right_trace + d - K),
        eq("back to a Frobenius norm", "tr(U^T U U^T U - 2 U^T U + I_K) = ||U^T U - I_K||_F^2",
           right_trace, gram_K),
        eq("entrywise", "||U^T U - I_K||_F^2 = sum_{k,l} (sqrt(p_k p_l) mu_k^T mu_l - delta_kl)^2",
           gram_K, entrywise),
        eq("theorem (huang2023.gram-identity)",
           "||sum_k p_k mu_k mu_k^T - I_d||_F^2 = ||U^T U - I_K||_F^2 + d - K", lhs, gram_K + d - K),
    ]


def prove_gram_identity(d: int, K: int, *, general: bool = True) -> ProofResult:
    """Prove huang2023.gram-identity for symbolic ``mu_k`` in ``R^d`` and ``p_k >= 0``.

    See :func:`gram_equations`. ``1 <= d, K <= LIMITS["gram"]``.

    Examples
    --------
    >>> prove_gram_identity(3, 2).closed
    True
    """
    _check_sizes("prove_gram_identity", "gram", d=d, K=K)
    general = check_bool(general, "general", "prove_gram_identity")
    equations = gram_equations(d, K)
    if general:
        equations += gram_equations()
    return prove_chain("huang2023.gram-identity", {"d": d, "K": K}, equations)


def _sphere_point(d: int, rng: np.random.Generator) -> list[sp.Rational]:
    """An exact rational point of the unit sphere in R^d (inverse stereographic projection)."""
    if d == 1:
        return [sp.Integer(1) if rng.integers(2) else sp.Integer(-1)]
    t = [_small_rational(rng) for _ in range(d - 1)]
    n2 = sum(x**2 for x in t)
    return [2 * x / (n2 + 1) for x in t] + [(n2 - 1) / (n2 + 1)]


def infonce_equations(d: int | None = None, *, unit_norm: bool = True) -> list[Equation]:
    """Equations of huang2023.infonce-decomposition for symbolic ``f1, f2, f-`` in ``R^d``.

    Pointwise (the expectation follows by linearity), with ``s = f1.f2``, ``t = f1.f-``:

    .. math::

        -\\log\\frac{e^{s}}{e^{s} + e^{t}} = -s + \\log(e^{s} + e^{t})
        = \\underbrace{\\tfrac12\\|f_1 - f_2\\|^2 - 1}_{L_1} + \\underbrace{\\log(e^{s}+e^{t})}_{L_2}

    (huang2023), the last step because ``(1/2)||f1 - f2||^2 - 1 = -s`` exactly when
    ``||f1||^2 + ||f2||^2 = 2``, in particular under ``||f1|| = ||f2|| = 1``
    (``unit_norm=True``: hypotheses ``||f1||^2 - 1 = 0``, ``||f2||^2 - 1 = 0``).

    The general form (``d=None``) proves the log step for real ``s, t`` (any d) and the
    exact residual ``L1 + f1.f2 = (||f1||^2 + ||f2||^2)/2 - 1`` for every d.
    """
    unit_norm = check_bool(unit_norm, "unit_norm", "infonce_equations")
    alg, sz, scope, syms = _setup("infonce_equations", "infonce", d=d)
    d = sz["d"]
    f1, f2, fn = alg.vector("f1", d), alg.vector("f2", d), alg.vector("fneg", d)

    def dot(u: Any, v: Any) -> Any:
        return alg.total(d, lambda a: u[a] * v[a])

    L1 = sp.Rational(1, 2) * alg.total(d, lambda a: (f1[a] - f2[a]) ** 2) - 1
    if alg.general:
        s, t = sp.symbols("s t", real=True)
        variables = {"f1": f1, "f2": f2, "fneg": fn, "L1": L1, "s": s, "t": t}
        log_step = _eq(alg, scope, syms, "log of a ratio (any d; s = f1.f2, t = f1.f-)",
                       "-log(e^s / (e^s + e^t)) = -s + log(e^s + e^t)   for real s, t",
                       -sp.log(sp.exp(s) / (sp.exp(s) + sp.exp(t))), -s + sp.log(sp.exp(s) + sp.exp(t)),
                       variables=variables)
        residual = _eq(alg, scope, syms, "alignment term: exact residual",
                       "(1/2)||f1 - f2||^2 - 1 + f1.f2 = (||f1||^2 + ||f2||^2)/2 - 1   "
                       "(zero iff ||f1||^2 + ||f2||^2 = 2)",
                       L1 + dot(f1, f2), sp.Rational(1, 2) * (dot(f1, f1) + dot(f2, f2)) - 1, variables=variables)
        return [log_step, residual]

    s, t = dot(f1, f2), dot(f1, fn)
    loss = -sp.log(sp.exp(s) / (sp.exp(s) + sp.exp(t)))
    L2 = sp.log(sp.exp(s) + sp.exp(t))
    hyps = (dot(f1, f1) - 1, dot(f2, f2) - 1) if unit_norm else ()
    # L1 + f1.f2 = (1/2)(||f1||^2 - 1) + (1/2)(||f2||^2 - 1): the cofactors of the two steps
    half = sp.Rational(1, 2)
    align_cert = (half, half) if unit_norm else None
    theorem_cert = (-half, -half) if unit_norm else None
    variables = {"f1": f1, "f2": f2, "fneg": fn, "loss": loss, "L1": L1, "L2": L2}

    def instances(rng: np.random.Generator) -> dict[Any, Any]:
        points = [_sphere_point(d, rng), _sphere_point(d, rng)]
        if not unit_norm:  # any rational vectors
            points = [[_small_rational(rng) for _ in range(d)] for _ in range(2)]
        out = {v: x for vec, pt in zip((f1, f2), points) for v, x in zip(vec, pt)}
        out.update({v: _small_rational(rng) for v in fn})
        return out

    given = "   given ||f1|| = ||f2|| = 1" if unit_norm else "   (no norm hypothesis)"

    def eq(name: str, statement: str, lhs: Any, rhs: Any, **kw: Any) -> Equation:
        return _eq(alg, scope, syms, name, statement, lhs, rhs, variables=variables, instances=instances, **kw)

    return [
        eq("log of a ratio", "-log(e^{f1.f2} / (e^{f1.f2} + e^{f1.f-})) = -f1.f2 + log(e^{f1.f2} + e^{f1.f-})",
           loss, -s + L2),
        eq("alignment term", "(1/2)||f1 - f2||^2 - 1 = -f1.f2" + given, L1, -s,
           hypotheses=hyps, certificate=align_cert),
        eq("theorem (huang2023.infonce-decomposition)",
           "-log(e^{f1.f2} / (e^{f1.f2} + e^{f1.f-})) = L1 + L2" + given, loss, L1 + L2,
           hypotheses=hyps, certificate=theorem_cert),
    ]


def prove_infonce_decomposition(d: int = 3, *, unit_norm: bool = True, general: bool = True) -> ProofResult:
    """Prove huang2023.infonce-decomposition pointwise for symbolic ``f1, f2, f-`` in ``R^d``.

    As stated (``unit_norm=True``) the decomposition holds because
    ``(1/2)||f1 - f2||^2 - 1 = -f1.f2`` on the unit sphere; the proof reduces the
    difference modulo the hypotheses ``||f1||^2 = ||f2||^2 = 1`` (certificate
    ``lhs - rhs = -(1/2)(||f1||^2 - 1) - (1/2)(||f2||^2 - 1)`` for the theorem). With
    ``unit_norm=False`` (a variant: the assumption dropped) the result does not close and
    gives an exact rational counterexample; the general-form residual says exactly when it
    fails: whenever ``||f1||^2 + ||f2||^2 != 2``.

    Parameters
    ----------
    d : int
        ``1 <= d <= LIMITS["infonce"]``.
    unit_norm : bool
    general : bool

    Examples
    --------
    >>> prove_infonce_decomposition(2).closed
    True
    >>> prove_infonce_decomposition(2, unit_norm=False).steps[1].status
    'refuted'
    """
    _check_sizes("prove_infonce_decomposition", "infonce", d=d)
    unit_norm = check_bool(unit_norm, "unit_norm", "prove_infonce_decomposition")
    general = check_bool(general, "general", "prove_infonce_decomposition")
    equations = infonce_equations(d, unit_norm=unit_norm)
    if general:
        equations += infonce_equations()
    variant = None if unit_norm else "without ||f1|| = ||f2|| = 1"
    return prove_chain("huang2023.infonce-decomposition", {"d": d}, equations, variant=variant)


# ---------------------------------------------------------------------------------------
# graf2021: the CE-bound sum identity
# ---------------------------------------------------------------------------------------


def ce_sum_equations(K: int | None = None, h: int | None = None) -> list[Equation]:
    """Equations of the graf2021 CE-bound step, for every label ``y`` at once.

    .. math:: \\sum_{k \\ne y} (w_k - w_y) = \\bar w - K w_y,\\quad \\bar w = \\sum_k w_k

    for symbolic rows ``w_k`` in ``R^h`` (graf2021, step 2 of the CE bound). Explicit
    sizes give a ``K x h`` matrix identity (row ``y`` is the identity for label ``y``);
    the general form has free indices ``y`` in ``[0, K)`` and coordinate ``c`` in ``[0, h)``.
    """
    alg, sz, scope, syms = _setup("ce_sum_equations", "ce_sum", K=K, h=h)
    K, h = sz["K"], sz["h"]
    W = alg.matrix("w", K, h)
    lhs = alg.build(K, h, lambda y, c: alg.total(K, lambda k: (1 - alg.delta(k, y)) * (W[k, c] - W[y, c])))
    full = alg.build(K, h, lambda y, c: alg.total(K, lambda k: W[k, c] - W[y, c]))
    rhs = alg.build(K, h, lambda y, c: alg.total(K, lambda k: W[k, c]) - K * W[y, c])
    variables = {"w": W, "K": K, "lhs": lhs, "rhs": rhs}

    def eq(name: str, statement: str, left: Any, right: Any) -> Equation:
        return _eq(alg, scope, syms, name, statement, left, right, variables=variables)

    return [
        eq("the k = y term is zero", "sum_{k != y} (w_k - w_y) = sum_k (w_k - w_y)", lhs, full),
        eq("split the sum", "sum_k (w_k - w_y) = wbar - K w_y,  wbar = sum_k w_k", full, rhs),
        eq("identity (graf2021 CE-bound step)", "sum_{k != y} (w_k - w_y) = wbar - K w_y", lhs, rhs),
    ]


def prove_ce_sum_identity(K: int, h: int, *, general: bool = True) -> ProofResult:
    """Prove the graf2021 CE-bound step ``sum_{k != y}(w_k - w_y) = wbar - K w_y``.

    For every label ``y`` in ``[0, K)`` and symbolic ``w_1..w_K`` in ``R^h``;
    ``1 <= K, h <= LIMITS["ce_sum"]``. See :func:`ce_sum_equations`.

    Examples
    --------
    >>> prove_ce_sum_identity(3, 2).closed
    True
    """
    _check_sizes("prove_ce_sum_identity", "ce_sum", K=K, h=h)
    general = check_bool(general, "general", "prove_ce_sum_identity")
    equations = ce_sum_equations(K, h)
    if general:
        equations += ce_sum_equations()
    return prove_chain("graf2021.ce.sum-identity", {"K": K, "h": h}, equations)


# ---------------------------------------------------------------------------------------
# runners
# ---------------------------------------------------------------------------------------

_PROVERS: Mapping[str, Callable[..., ProofResult]] = {
    "duality": prove_duality,
    "doubly_normalized": prove_doubly_normalized,
    "barlow": prove_barlow_decomposition,
    "gram": prove_gram_identity,
    "infonce": prove_infonce_decomposition,
    "ce_sum": prove_ce_sum_identity,
}


def proof_sizes(family: str, limit: int | None = None) -> list[tuple[int, ...]]:
    """Every size tuple of ``family`` with each size in ``1..limit`` (default ``LIMITS``)."""
    family = check_choice(family, "family", "proof_sizes", tuple(_PROVERS))
    cap = LIMITS[family]
    limit = cap if limit is None else check_int(limit, "limit", "proof_sizes", min_value=1, max_value=cap)
    return list(itertools.product(range(1, limit + 1), repeat=len(_FAMILY_SIZES[family])))


def prove_all(limits: Mapping[str, int] | None = None, *, general: bool = True) -> list[ProofResult]:
    """Prove every identity family at every size up to its limit.

    Parameters
    ----------
    limits : mapping or None
        Family name (``duality``, ``doubly_normalized``, ``barlow``, ``gram``,
        ``infonce``, ``ce_sum``) -> largest size of every size parameter; families left
        out use :data:`LIMITS`, a limit of 0 skips the family.
    general : bool
        Also prove the general-form chains (once per family, with its smallest size).

    Returns
    -------
    list of ProofResult
        The claims as stated (variants are not included).
    """
    general = check_bool(general, "general", "prove_all")
    limits = dict(limits or {})
    for name in limits:
        check_choice(name, "limits", "prove_all", tuple(_PROVERS))
    chosen = {
        family: check_int(limits.get(family, LIMITS[family]), f"limits[{family!r}]", "prove_all",
                          min_value=0, max_value=LIMITS[family])
        for family in _PROVERS
    }
    results = []
    for family, prover in _PROVERS.items():
        limit = chosen[family]
        if limit == 0:
            continue
        for n, sizes in enumerate(proof_sizes(family, limit)):
            results.append(prover(*sizes, general=general and n == 0))
    return results


def proof_report(results: Iterable[ProofResult]) -> tuple[str, int]:
    """The text a proof script prints (every proof, a blank line after each, then the
    :func:`summarize` line) and its exit code (0 iff ok).

    The library prints nothing itself; the scripts in ``proofs/`` print the text.
    """
    results = list(results)
    line, ok = summarize(results)
    return "".join(f"{result}\n\n" for result in results) + line, 0 if ok else 1


def summarize(results: Iterable[ProofResult]) -> tuple[str, bool]:
    """One summary line for a proof script, and whether the script should succeed.

    A script succeeds iff every claim as stated closes and every variant is decided
    (each step proved, or refuted by an exact counterexample).
    """
    results = list(results)
    claims = [r for r in results if r.variant is None]
    variants = [r for r in results if r.variant is not None]
    closed = sum(r.closed for r in claims)
    vacuous = sum(r.vacuous for r in claims)
    decided = sum(r.decided for r in variants)
    refuted = sum(any(s.status == REFUTED for s in r.steps) for r in variants)
    seconds = sum(r.seconds for r in results)
    ok = closed == len(claims) and decided == len(variants)
    line = (
        f"SUMMARY: {closed}/{len(claims)} claim proofs closed ({vacuous} vacuously); "
        f"{decided}/{len(variants)} variants decided ({refuted} refuted); {seconds:.2f} s"
    )
    return line, ok
