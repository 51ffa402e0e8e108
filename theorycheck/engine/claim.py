"""The claim model: a claim is data.

A :class:`Claim` declares *what* is asserted (an id, a citation, a statement, named
assumptions, input spaces and an evaluator); only the engine (:func:`theorycheck.engine.judge`)
searches, confirms and judges. See ``docs/claims-api.md`` for the contract.

Examples
--------
>>> from theorycheck import backend as xp, strategies as st
>>> from theorycheck.engine.claim import claim, Param
>>> @claim(id="example.cauchy-schwarz", cite=("wang2020",), kind="inequality",
...        statement="|<u, v>| <= ||u|| ||v||", params=(Param("h", 3, "dimension", min=1),),
...        inputs=lambda p, active: {"u": st.real_matrix(1, p.h, 1.0), "v": st.real_matrix(1, p.h, 1.0)},
...        relation="<=", register=False)
... def cauchy_schwarz(u, v, *, p):
...     return xp.abs(xp.sum(u * v)), xp.norm(u) * xp.norm(v)
>>> cauchy_schwarz.resolve_params({"h": 2}).h
2
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, Callable, Iterable, Iterator

from .._validation import (
    check_bool,
    check_choice,
    check_int,
    check_real,
    fail,
    fail_type,
)
from .calling import call_flexible as _call_flexible
from .calling import invoke, signature_problem
from .domain import pending_examples
from .errors import ClaimError, Inconclusive
from . import kinds as _kinds
from . import registry
from .results import SEARCH_SETTINGS
from .sweep import Sweep

__all__ = [
    "KINDS",
    "RELATIONS",
    "Param",
    "Params",
    "Assumption",
    "Claim",
    "ClaimError",
    "Inconclusive",
    "claim",
    "invoke",
    "signature_problem",
]

#: Names of the claim kinds the engine knows how to judge (the objects: :mod:`.kinds`).
KINDS = tuple(_kinds.KINDS)

#: Relations an inequality may state (``lhs <relation> rhs``); identities use ``"=="``.
RELATIONS = ("==", "<=", ">=", "<", ">")

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_\-]+)+$")
_PARAM_TYPES = (int, float, str, bool)


# --------------------------------------------------------------------------- params


@dataclasses.dataclass(frozen=True)
class Param:
    """A size or constant of a claim's input space (K, N, h, b, rho, ...).

    Parameters
    ----------
    name : str
        A Python identifier; the claim reads it as ``p.<name>``.
    default : int, float, str or bool
        Value used when the user gives none.
    description : str
        One line for ``theorycheck list`` and reports.
    type : {int, float, str, bool}
        Type user values are validated against.
    min, max : number or callable, optional
        Inclusive bounds. A callable ``bound(p) -> number`` states a range that depends on
        the other parameters (``max=lambda p: p.h + 1`` for "every N <= h + 1"): it is
        checked once all values are known (:meth:`Claim.resolve_params`), so a user value
        outside it is an ``InvalidArgumentError`` (the CLI's exit status 2), and shrinking
        and sweeps stay inside it. Shrinking walks integer params down towards ``min``.
    choices : tuple, optional
        Allowed values (for ``str`` params).
    """

    name: str
    default: Any
    description: str = ""
    type: type = int
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier() or self.name == "p":
            raise fail("name", "Param", "a Python identifier other than 'p'", self.name)
        if self.type not in _PARAM_TYPES:
            raise fail("type", "Param", "one of int, float, str, bool", self.type)
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
        if self.type is int and isinstance(self.default, bool):
            raise fail_type("default", f"Param({self.name!r})", "an integer", self.default)
        for key in ("min", "max"):
            bound = getattr(self, key)
            if bound is not None and not callable(bound) and (
                    isinstance(bound, bool) or not isinstance(bound, (int, float))):
                raise fail_type(key, f"Param({self.name!r})", "a number, a function p -> number, or None", bound)
        # The default must itself be a legal value: catches typos at import time.
        object.__setattr__(self, "default", self.validate(self.default, caller=f"Param({self.name!r})",
                                                          what="default"))

    def validate(self, value: Any, caller: str = "judge", what: str | None = None) -> Any:
        """Return ``value`` converted to this param's type, or raise ``InvalidArgumentError``."""
        name = what or f"params[{self.name!r}]"
        # A bound that depends on other params is checked by Claim.resolve_params / in_range.
        low = None if callable(self.min) else self.min
        high = None if callable(self.max) else self.max
        if self.type is int:
            lo = None if low is None else int(-(-low // 1))
            hi = None if high is None else int(high // 1)
            return check_int(value, name, caller, min_value=lo, max_value=hi)
        if self.type is float:
            if isinstance(value, bool):
                raise fail_type(name, caller, "a real number", value)
            return check_real(value, name, caller, ge=low, le=high)
        if self.type is bool:
            return check_bool(value, name, caller)
        if not isinstance(value, str):
            raise fail_type(name, caller, "a string", value)
        if self.choices is not None:
            return check_choice(value, name, caller, self.choices)
        return value

    def bounds(self, p: Mapping[str, Any]) -> tuple[Any, Any]:
        """``(min, max)`` at params ``p`` (a callable bound evaluated there; None when absent)."""
        def at(bound: Any) -> Any:
            if not callable(bound):
                return bound
            value = bound(p if isinstance(p, Params) else Params(p))
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise fail_type("min/max", f"Param({self.name!r})", "a bound function returning a number",
                                value)
            return value
        return at(self.min), at(self.max)

    def in_range(self, value: Any, p: Mapping[str, Any]) -> bool:
        """Whether ``value`` lies within this param's bounds at params ``p``."""
        lo, hi = self.bounds(p)
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    def __repr__(self) -> str:
        parts = [repr(self.name), repr(self.default)]
        if self.description:
            parts.append(repr(self.description))
        if self.type is not int:
            parts.append(f"type={self.type.__name__}")
        for key in ("min", "max", "choices"):
            value = getattr(self, key)
            if callable(value):
                parts.append(f"{key}=<function>")
            elif value is not None:
                parts.append(f"{key}={value!r}")
        return f"Param({', '.join(parts)})"


class Params(Mapping):
    """Read-only mapping of resolved parameter values with attribute access (``p.K``).

    Examples
    --------
    >>> p = Params(K=3, h=2)
    >>> p.K, p["h"], dict(p)
    (3, 2, {'K': 3, 'h': 2})
    >>> p.replace(K=2)
    Params(K=2, h=2)
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any):
        merged = dict(values or {})
        merged.update(kwargs)
        object.__setattr__(self, "_values", merged)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        try:
            return values[name]
        except KeyError:
            known = ", ".join(values) or "none"
            raise AttributeError(f"no parameter {name!r}; known parameters: {known}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params is read-only; use .replace(name=value)")

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self._values.items())))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._values) == dict(other)
        return NotImplemented

    def replace(self, **changes: Any) -> "Params":
        """A copy with some values changed."""
        merged = dict(self._values)
        merged.update(changes)
        return Params(merged)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Params({inner})"

    def __reduce__(self):
        return (Params, (dict(self._values),))


@dataclasses.dataclass(frozen=True)
class Assumption:
    """A named, droppable hypothesis of a claim ("balanced", "sphere", "h>=K-1").

    Every assumption is active by default; ablation re-judges the claim with one dropped.
    The claim's ``inputs(p, active)`` and ``requires(p, active)`` read the set of active names.
    """

    name: str
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise fail("name", "Assumption", "a non-empty string", self.name)

    def __repr__(self) -> str:
        if self.description:
            return f"Assumption({self.name!r}, {self.description!r})"
        return f"Assumption({self.name!r})"


# --------------------------------------------------------------------------- claim


def _check_search(search: Any, caller: str) -> dict[str, int]:
    """A claim's ``search=`` settings: a mapping of SEARCH_SETTINGS names to ints >= 1."""
    if not isinstance(search, Mapping):
        raise fail_type("search", caller, f"a dict with keys among {list(SEARCH_SETTINGS)}", search)
    out = {}
    for name, value in search.items():
        if name not in SEARCH_SETTINGS:
            raise fail("search", caller, f"a dict with keys among {list(SEARCH_SETTINGS)}", name)
        out[name] = check_int(value, f"search[{name!r}]", caller, min_value=1)
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class Claim:
    """A checkable statement: id, citation, statement, assumptions, input spaces, evaluator.

    Build one with the :func:`claim` decorator. Calling a ``Claim`` calls its evaluator.

    Attributes
    ----------
    id : str
        ``"<source>.<name>"``, e.g. ``"graf2021.ce.bound"``.
    cite : tuple
        Citation keys (see ``theorycheck.citations``) or user ``Reference`` objects.
    kind : str
        One of :data:`KINDS`.
    statement : str
        The statement in words / formula.
    params : tuple of Param
    assumptions : tuple of Assumption
    inputs : callable ``(p, active) -> dict[str, Space]``
    evaluate : callable ``(**inputs, p=p)``
        identity/inequality: returns ``(lhs, rhs)``; optimum & co: the objective value.
    relation : str
        ``"=="`` for identities, one of ``<= >= < >`` for inequalities.
    optimum, witness, distance, trivial, expected, confidence, run, proof, requires
        See ``docs/claims-api.md``.
    rtol, atol : float
        Tolerance of comparisons (decided in high precision).
    corrects : str or None
        Id of the literal claim this one corrects.
    family : str or None
        CLI group.
    summary_keys : tuple of str
        Evidence numbers a summary table shows.
    extra_evidence : callable or None
        ``extra_evidence(p) -> dict``: further measurements recorded with the verdict for
        reports (tables). They never influence the verdict.
    sweep : Sweep or None
        The claim judged again at several values of one parameter, run by the engine
        within the user's budget (:mod:`theorycheck.engine.sweep`); never the verdict.
    statement_latex : str or None
        The statement's formula as LaTeX (math mode, no ``$``), for reports: HTML renders
        it as MathML, the LaTeX report typesets it. Optional; never judged.
    search : dict
        Engine settings of the optimisation kinds (``starts``, ``steps``, ``draws``: ints
        >= 1), the claim author's default amount of optimisation. A ``Budget`` that sets
        the same name overrides it. They are not parameters: they never appear in
        ``params`` and a parameter called ``starts`` does not steer the engine.
    examples : tuple
        Explicit inputs judged first, every time (dicts of inputs, or functions
        ``p -> dict``); usually attached with :func:`theorycheck.engine.domain.example`.
    gradient : callable or None
        ``gradient(**inputs, p=p) -> (value, {name: d value / d input})``: the evaluator's
        value and its gradient with respect to every continuous input, in closed form on
        float64 numpy inputs. The landscape kind's optimiser uses it instead of torch
        autograd (a speed-up only: it is checked against the evaluator at the first start,
        and the Hessian, the mp checks and every other use still go through ``evaluate``).
    """

    id: str
    cite: tuple
    kind: str
    statement: str
    params: tuple = ()
    assumptions: tuple = ()
    inputs: Callable | None = None
    evaluate: Callable | None = None
    relation: str = "=="
    optimum: Callable | None = None
    witness: Callable | None = None
    distance: Callable | None = None
    trivial: Callable | None = None
    expected: Callable | None = None
    confidence: float = 0.99
    run: Callable | None = None
    proof: Callable | None = None
    rtol: float = 1e-9
    atol: float = 1e-12
    requires: Callable | None = None
    corrects: str | None = None
    family: str | None = None
    summary_keys: tuple = ()
    extra_evidence: Callable | None = None
    sweep: Sweep | None = None
    search: Mapping = dataclasses.field(default_factory=dict)
    examples: tuple = ()
    statement_latex: str | None = None
    gradient: Callable | None = None

    def __post_init__(self) -> None:
        caller = "claim"
        if not isinstance(self.id, str) or not _ID_PATTERN.match(self.id):
            raise fail("id", caller, "of the form '<source>.<name>' (letters, digits, _ - .)", self.id)
        cite = self.cite
        if isinstance(cite, str) or not isinstance(cite, Iterable):
            cite = (cite,)
        object.__setattr__(self, "cite", tuple(cite))
        spec = _kinds.get(self.kind, f"claim {self.id!r}")
        if not isinstance(self.statement, str) or not self.statement.strip():
            raise fail("statement", f"claim {self.id!r}", "a non-empty string", self.statement)
        if self.statement_latex is not None and (not isinstance(self.statement_latex, str)
                                                 or not self.statement_latex.strip()):
            raise fail("statement_latex", f"claim {self.id!r}", "None or a non-empty LaTeX string",
                       self.statement_latex)
        params = tuple(self.params)
        for q in params:
            if not isinstance(q, Param):
                raise fail_type("params", f"claim {self.id!r}", "a tuple of Param", q)
        names = [q.name for q in params]
        if len(set(names)) != len(names):
            raise fail("params", f"claim {self.id!r}", "params with distinct names", names)
        object.__setattr__(self, "params", params)
        if any(callable(q.min) or callable(q.max) for q in params):
            # the defaults must lie inside the ranges they state for each other (caught at import)
            self._check_dependent_bounds(Params({q.name: q.default for q in params}), f"claim {self.id!r}")
        assumptions = tuple(Assumption(a) if isinstance(a, str) else a for a in self.assumptions)
        for a in assumptions:
            if not isinstance(a, Assumption):
                raise fail_type("assumptions", f"claim {self.id!r}", "a tuple of Assumption", a)
        anames = [a.name for a in assumptions]
        if len(set(anames)) != len(anames):
            raise fail("assumptions", f"claim {self.id!r}", "assumptions with distinct names", anames)
        object.__setattr__(self, "assumptions", assumptions)
        check_choice(self.relation, "relation", f"claim {self.id!r}", RELATIONS)
        for field_name in ("inputs", "evaluate", "optimum", "witness", "distance", "trivial",
                           "expected", "run", "proof", "requires", "gradient"):
            value = getattr(self, field_name)
            if value is not None and not callable(value):
                raise fail_type(field_name, f"claim {self.id!r}", "a callable", value)
        spec.check(self)  # what this kind needs (an optimum, a distance, a run, ...)
        if self.sweep is not None:
            if not isinstance(self.sweep, Sweep):
                raise fail_type("sweep", f"claim {self.id!r}", "a theorycheck.engine.sweep.Sweep", self.sweep)
            if self.sweep.param not in {q.name for q in params}:
                raise fail("sweep", f"claim {self.id!r}", "a Sweep of one of the claim's parameters",
                           self.sweep.param)
        object.__setattr__(self, "search", _check_search(self.search, f"claim {self.id!r}"))
        examples = tuple(self.examples)
        for entry in examples:
            if not (callable(entry) or isinstance(entry, Mapping)):
                raise fail_type("examples", f"claim {self.id!r}", "dicts of inputs or functions p -> dict", entry)
        object.__setattr__(self, "examples", examples)
        check_real(self.rtol, "rtol", f"claim {self.id!r}", ge=0.0)
        check_real(self.atol, "atol", f"claim {self.id!r}", ge=0.0)
        check_real(self.confidence, "confidence", f"claim {self.id!r}", gt=0.0, lt=1.0)
        if not self.summary_keys:
            object.__setattr__(self, "summary_keys", tuple(spec.summary_keys))
        else:
            object.__setattr__(self, "summary_keys", tuple(self.summary_keys))

    # ------------------------------------------------------------------ helpers

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the evaluator (``claim(**inputs, p=p)``)."""
        fn = self.evaluate if self.evaluate is not None else self.run
        return fn(*args, **kwargs)

    @property
    def kind_spec(self) -> "_kinds.Kind":
        """The kind object (:mod:`theorycheck.engine.kinds`) that checks and judges this claim."""
        return _kinds.KINDS[self.kind]

    @property
    def source(self) -> str:
        """The source key: the part of the id before the first dot."""
        return self.id.split(".", 1)[0]

    @property
    def origin(self) -> str:
        """``"module:qualname"`` of the evaluator (where the claim is defined)."""
        fn = self.evaluate if self.evaluate is not None else self.run
        module = getattr(fn, "__module__", None) or "?"
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "?")
        return f"{module}:{name}"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.params)

    @property
    def assumption_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.assumptions)

    def param(self, name: str) -> Param:
        for q in self.params:
            if q.name == name:
                return q
        raise fail("name", f"claim {self.id!r}", f"one of {', '.join(self.param_names) or '(none)'}", name)

    def resolve_params(self, overrides: Mapping[str, Any] | None = None) -> Params:
        """Defaults updated with ``overrides``, each validated against its :class:`Param`.

        Raises
        ------
        InvalidArgumentError
            An unknown name (the message lists the known ones) or a value out of range.
        """
        caller = f"claim {self.id!r}"
        if overrides is None:
            overrides = {}
        if not isinstance(overrides, Mapping):
            raise fail_type("params", caller, "a mapping of parameter names to values", overrides)
        known = {q.name: q for q in self.params}
        for name in overrides:
            if name not in known:
                listed = ", ".join(known) if known else "(this claim has no parameters)"
                raise fail("params", caller, f"names among the claim's parameters: {listed}", name)
        values = {}
        for q in self.params:
            values[q.name] = q.validate(overrides[q.name], caller) if q.name in overrides else q.default
        resolved = Params(values)
        self._check_dependent_bounds(resolved, caller, given=set(overrides))
        return resolved

    def _check_dependent_bounds(self, p: Params, caller: str, given: Iterable[str] = ()) -> None:
        """Raise ``InvalidArgumentError`` naming the param whose range (min/max as a function of
        the other params) ``p`` leaves."""
        for q in self.params:
            if not (callable(q.min) or callable(q.max)):
                continue
            try:
                lo, hi = q.bounds(p)
            except Exception as exc:  # a bound function that fails is the claim's fault, not the user's
                raise ClaimError(self.id, f"the range of param {q.name!r} raised {type(exc).__name__}: "
                                          f"{exc}") from exc
            if not q.in_range(p[q.name], p):
                what = " and ".join(s for s in (f">= {lo}" if lo is not None else "",
                                                f"<= {hi}" if hi is not None else "") if s)
                others = ", ".join(f"{k}={v!r}" for k, v in p.items() if k != q.name)
                name = f"params[{q.name!r}]" if q.name in given else f"the default of {q.name!r}"
                raise fail(name, caller, f"{what} (the claim's stated range at {others or 'these params'})",
                           p[q.name])

    def active_assumptions(self, names: Iterable[str] | None = None) -> frozenset[str]:
        """The set of active assumption names (all when ``names`` is None), validated."""
        allowed = self.assumption_names
        if names is None:
            return frozenset(allowed)
        if isinstance(names, str):
            names = (names,)
        chosen = []
        for name in names:
            if name not in allowed:
                listed = ", ".join(repr(a) for a in allowed) or "(this claim has none)"
                raise fail("assumptions", f"claim {self.id!r}", f"names among {listed}", name)
            chosen.append(name)
        return frozenset(chosen)

    def spaces(self, p: Params, active: frozenset[str]) -> dict:
        """The input spaces at params ``p`` with the ``active`` assumptions (may raise Unsatisfiable)."""
        spaces = _call_flexible(self.inputs, p, active)
        if not isinstance(spaces, Mapping):
            raise ClaimError(self.id, f"inputs(p, active) must return a dict of spaces; got {spaces!r}")
        return dict(spaces)

    def why_vacuous(self, p: Params, active: frozenset[str]) -> str | None:
        """``requires(p, active)``: None, or why no input can satisfy the active assumptions."""
        if self.requires is None:
            return None
        reason = _call_flexible(self.requires, p, active)
        if reason is None or reason is False or reason == "":
            return None
        return str(reason)

    def __repr__(self) -> str:
        return f"<Claim {self.id} ({self.kind}): {self.statement}>"


def claim(
    *,
    id: str,  # noqa: A002 - the field is called id in the contract
    cite: Any,
    kind: str,
    statement: str,
    params: tuple = (),
    assumptions: tuple = (),
    inputs: Callable | None = None,
    relation: str | None = None,
    optimum: Callable | None = None,
    witness: Callable | None = None,
    distance: Callable | None = None,
    trivial: Callable | None = None,
    expected: Callable | None = None,
    confidence: float = 0.99,
    run: Callable | None = None,
    proof: Callable | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    requires: Callable | None = None,
    corrects: str | None = None,
    family: str | None = None,
    summary_keys: tuple = (),
    extra_evidence: Callable | None = None,
    sweep: Sweep | None = None,
    search: Mapping | None = None,
    examples: tuple = (),
    gradient: Callable | None = None,
    register: bool = True,
    statement_latex: str | None = None,
) -> Callable[[Callable], Claim]:
    """Decorator turning an evaluator into a :class:`Claim` (registered unless ``register=False``).

    The decorated name becomes the ``Claim`` (callable: it calls the evaluator). For an
    empirical claim the decorated function is used as ``run`` when ``run`` is not given.
    ``search=dict(starts=16, steps=500)`` (keys ``starts``, ``steps``, ``draws``) sets the
    claim's default amount of optimisation; a ``Budget`` with the same setting overrides it.
    """

    def decorate(fn: Callable) -> Claim:
        if not callable(fn):
            raise fail_type("function", "claim", "a callable (the claim's evaluator)", fn)
        rel = relation if relation is not None else "=="  # the decorator checked an inequality gave one
        evaluate = fn
        run_fn = run
        if not _kinds.get(kind, f"claim {id!r}").uses_inputs and run is None:
            run_fn, evaluate = fn, None
        made = Claim(
            id=id, cite=cite, kind=kind, statement=statement, params=tuple(params),
            assumptions=tuple(assumptions), inputs=inputs, evaluate=evaluate, relation=rel,
            optimum=optimum, witness=witness, distance=distance, trivial=trivial, expected=expected,
            confidence=confidence, run=run_fn, proof=proof, rtol=rtol, atol=atol, requires=requires,
            corrects=corrects, family=family, summary_keys=tuple(summary_keys),
            extra_evidence=extra_evidence, sweep=sweep, search={} if search is None else search,
            examples=tuple(examples) + pending_examples(fn),
            statement_latex=statement_latex,
            gradient=gradient,
        )
        if register:
            registry.register(made)
        return made

    if relation is None and _kinds.get(kind, f"claim {id!r}").needs_relation:
        raise fail("relation", f"claim {id!r}", f"one of '<=', '>=', '<', '>' for kind {kind!r}", None)
    return decorate
