"""What judging a claim produces: verdicts, budgets, counterexamples, results, and the
context a kind judge receives.

JSON conventions (``ClaimResult.to_dict``): only plain JSON types. Floats are finite
numbers, or the strings ``"inf"``, ``"-inf"``, ``"nan"`` where a value is not finite.
Arrays are nested lists; integer arrays (labels) are lists of ints, float arrays lists
of floats (so ``from_dict`` restores the dtype). Float values are written with Python's
shortest round-trip ``repr``, so a counterexample read back is bit-identical.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import time
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from .._validation import check_int, check_real, fail_type
from .evaluation import call_evaluator, export_inputs
from .snippet import counterexample_python

if TYPE_CHECKING:  # typing only: the claim model sits above the results it produces
    from .claim import Claim, Params

__all__ = [
    "Verdict",
    "Budget",
    "Plan",
    "Counterexample",
    "AblationResult",
    "ClaimResult",
    "KindOutcome",
    "JudgeContext",
    "to_jsonable",
    "from_json_float",
]


class Verdict(str, enum.Enum):
    """The outcome of judging a claim; the value is the JSON string."""

    HOLDS = "HOLDS"
    REFUTED = "REFUTED"
    VACUOUS = "VACUOUS"
    INCONCLUSIVE = "INCONCLUSIVE"

    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------------- budget


#: Engine settings of the optimisation kinds: set by a ``Budget`` or a claim's ``search=``,
#: never by a claim parameter of the same name.
SEARCH_SETTINGS = ("starts", "steps", "draws")


@dataclasses.dataclass(frozen=True)
class Plan:
    """How much search a budget buys (a deterministic function of the budget, never of speed).

    Attributes
    ----------
    hypothesis_examples : int
        Inputs drawn by the hypothesis-driven random search.
    random_examples : int
        Inputs drawn by the seeded numpy sampler.
    adversarial_starts, adversarial_steps : int
        Local optimisation of the slack: number of starts (worst inputs) and steps each.
    max_confirmations : int
        Candidates re-evaluated in high precision, worst first.
    """

    hypothesis_examples: int
    random_examples: int
    adversarial_starts: int
    adversarial_steps: int
    max_confirmations: int = 12


@dataclasses.dataclass(frozen=True)
class Budget:
    """How long to search: seconds (a hard deadline) and/or a number of examples, and
    optional explicit search settings of the optimisation kinds.

    The amount of work is fixed by the budget alone (so a seed reproduces the verdict
    and the counterexample exactly); ``seconds`` also acts as a deadline that stops the
    search early on slow claims (``evidence["stopped_by"] == "deadline"``).

    Parameters
    ----------
    seconds : float or None
        Deadline for one claim (ablations and shrinking included). ``None``: no deadline.
    examples : int or None
        Random inputs to try (hypothesis + numpy). ``None``: 40 per budget second, at
        least 60 and at most 4000 (200 for the default 5 s).
    starts, steps, draws : int or None
        Engine settings of the optimisation kinds: local optimisations (``starts``),
        optimiser iterations per start (``steps``), Monte-Carlo draws of a statistical
        claim (``draws``). When given they override the claim's own ``search=`` settings
        (see :func:`theorycheck.engine.claim.claim`); ``None``: the claim's, else derived
        from ``examples`` / ``seconds``. They are never read from claim parameters.
    """

    seconds: float | None = 5.0
    examples: int | None = None
    starts: int | None = None
    steps: int | None = None
    draws: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is not None:
            object.__setattr__(self, "seconds", check_real(self.seconds, "seconds", "Budget", gt=0.0))
        for name in ("examples",) + SEARCH_SETTINGS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, check_int(value, name, "Budget", min_value=1))

    @classmethod
    def coerce(cls, value: Any) -> "Budget":
        """``None`` -> default Budget; a number -> seconds; a Budget stays."""
        if value is None:
            return cls()
        if isinstance(value, Budget):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls(seconds=float(value))
        raise fail_type("budget", "judge", "a Budget, a number of seconds, or None", value)

    def plan(self) -> Plan:
        if self.examples is not None:
            n = self.examples
        else:
            seconds = 5.0 if self.seconds is None else self.seconds
            n = int(min(4000, max(60, round(40 * seconds))))
        hyp = max(1, n // 2)
        rnd = max(0, n - hyp)
        starts = int(min(8, max(4, round(n / 50))))
        steps = int(min(300, max(50, n // 2)))
        return Plan(hypothesis_examples=hyp, random_examples=rnd, adversarial_starts=starts,
                    adversarial_steps=steps)

    def search_settings(self) -> dict[str, int]:
        """The explicit engine settings (``starts``, ``steps``, ``draws``) this budget sets."""
        return {name: getattr(self, name) for name in SEARCH_SETTINGS if getattr(self, name) is not None}

    def scaled(self, fraction: float) -> "Budget":
        """A smaller budget (ablations, shrinking) with the same proportions.

        Explicit search settings are kept: they say how thorough each optimisation is,
        which an ablation should not change (the deadline still cuts it short)."""
        seconds = None if self.seconds is None else max(0.05, self.seconds * fraction)
        examples = None if self.examples is None else max(10, int(self.examples * fraction))
        return Budget(seconds=seconds, examples=examples, **self.search_settings())

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.search_settings().items())
        return f"Budget(seconds={self.seconds!r}, examples={self.examples!r}{extra})"


# --------------------------------------------------------------------------- JSON helpers


def _float_to_json(x: float) -> float | str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


def from_json_float(x: Any) -> float:
    """Inverse of the float encoding: numbers and ``"inf"``/``"-inf"``/``"nan"`` strings."""
    if isinstance(x, str):
        return float(x)
    return float(x)


def to_jsonable(value: Any) -> Any:
    """Plain JSON types only: dicts with str keys, lists, str, int, bool, None, finite floats.

    Non-finite floats become ``"inf"``/``"-inf"``/``"nan"``; numpy/torch/mpmath numbers
    become Python numbers; arrays become nested lists; enums their value.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        return _float_to_json(float(value))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return to_jsonable([to_jsonable(v) for v in value.tolist()]) if value.ndim else to_jsonable(
                value.item())
        if np.issubdtype(value.dtype, np.integer):
            return value.tolist()
        if value.dtype == bool:
            return value.tolist()
        return _nested_float_list(value.astype(np.float64))
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v) for v in items]
    try:  # mpmath.mpf and torch scalars
        import mpmath

        if isinstance(value, mpmath.mpf):
            return _float_to_json(float(value))
    except ImportError:  # pragma: no cover
        pass
    if hasattr(value, "detach"):
        return to_jsonable(value.detach().cpu().numpy())
    if isinstance(value, Params):
        return to_jsonable(dict(value))
    return str(value)


def _nested_float_list(arr: np.ndarray) -> Any:
    if arr.ndim == 0:
        return _float_to_json(float(arr))
    return [_nested_float_list(a) for a in arr]


def _array_from_json(value: Any) -> Any:
    """Nested lists back to numpy (int lists -> int64, otherwise float64); scalars to float."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return from_json_float(value) if not isinstance(value, int) else int(value)
    flat: list = []

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for item in v:
                walk(item)
        else:
            flat.append(v)

    walk(value)
    if flat and all(isinstance(v, int) and not isinstance(v, bool) for v in flat):
        return np.asarray(value, dtype=np.int64)

    def conv(v: Any) -> Any:
        return [conv(x) for x in v] if isinstance(v, list) else from_json_float(v)

    return np.asarray(conv(value), dtype=np.float64)


# --------------------------------------------------------------------------- counterexample


@dataclasses.dataclass
class Counterexample:
    """An input at which a claim fails, confirmed in high precision.

    Attributes
    ----------
    inputs : dict
        Input name -> value (float64 / int64 arrays, or floats for scalar inputs).
    lhs, rhs : float
        Both sides (objective value and claimed optimum for optimisation kinds), from the
        high-precision evaluation, rounded to float.
    margin : float
        By how much the relation fails (> 0), decided in high precision.
    precision_digits : int
        Significant digits of the confirming evaluation (>= 50).
    params : dict
        The sizes/constants of the counterexample (shrinking may make them smaller than asked).
    note : str
        Free text (e.g. what shrinking did).
    claim_id, relation, origin : str
        To write a pasteable reproduction (``origin`` = ``"module:qualname"`` of the evaluator).
    """

    inputs: dict
    lhs: float
    rhs: float
    margin: float
    precision_digits: int
    params: dict = dataclasses.field(default_factory=dict)
    note: str = ""
    claim_id: str = ""
    relation: str = ""
    origin: str = ""

    def to_dict(self) -> dict:
        return {
            "inputs": {k: to_jsonable(v) for k, v in self.inputs.items()},
            "lhs": to_jsonable(self.lhs),
            "rhs": to_jsonable(self.rhs),
            "margin": to_jsonable(self.margin),
            "precision_digits": int(self.precision_digits),
            "params": to_jsonable(self.params),
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping, *, claim_id: str = "", relation: str = "") -> "Counterexample":
        return cls(
            inputs={k: _array_from_json(v) for k, v in data["inputs"].items()},
            lhs=from_json_float(data["lhs"]),
            rhs=from_json_float(data["rhs"]),
            margin=from_json_float(data["margin"]),
            precision_digits=int(data["precision_digits"]),
            params=dict(data.get("params", {})),
            note=str(data.get("note", "")),
            claim_id=claim_id,
            relation=relation,
        )

    def to_python(self) -> str:
        """A pasteable snippet rebuilding the inputs and evaluating the claim (float and high precision)."""
        from . import registry  # the claim's kind says whether the evaluator returns (lhs, rhs)

        known = self.claim_id in registry.ids()
        kind = registry.get(self.claim_id).kind if known else ""
        pair = registry.get(self.claim_id).kind_spec.returns_pair if known else None
        entry = {"id": self.claim_id, "origin": self.origin, "params": to_jsonable(self.params), "kind": kind}
        return counterexample_python(entry, to_jsonable(self.to_dict()), pair=pair)


@dataclasses.dataclass
class AblationResult:
    """The claim judged with one assumption dropped."""

    dropped: str
    verdict: Verdict
    counterexample: Counterexample | None = None
    evidence: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "dropped": self.dropped,
            "verdict": Verdict(self.verdict).value,
            "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
            "evidence": to_jsonable(self.evidence),
        }

    @classmethod
    def from_dict(cls, data: Mapping, *, claim_id: str = "", relation: str = "") -> "AblationResult":
        cx = data.get("counterexample")
        return cls(
            dropped=data["dropped"],
            verdict=Verdict(data["verdict"]),
            counterexample=None if cx is None else Counterexample.from_dict(cx, claim_id=claim_id,
                                                                            relation=relation),
            evidence=dict(data.get("evidence", {})),
        )


@dataclasses.dataclass
class ClaimResult:
    """The judgement of one claim at one parameter setting.

    ``to_dict()`` is the per-claim object of the JSON report::

        {"id", "verdict", "seconds", "params", "evidence",
         "counterexample": null | {"inputs", "lhs", "rhs", "margin", "precision_digits", "params", "note"},
         "ablations": [{"dropped", "verdict", "counterexample", "evidence"}],
         "proved_exactly": bool}

    ``seconds`` is the only field that depends on the machine (unless the deadline cut a
    search short: then ``evidence["stopped_by"] == "deadline"``).
    """

    claim_id: str
    params: dict
    verdict: Verdict
    seconds: float
    evidence: dict = dataclasses.field(default_factory=dict)
    counterexample: Counterexample | None = None
    ablations: list = dataclasses.field(default_factory=list)
    proved_exactly: bool = False

    def to_dict(self) -> dict:
        return {
            "id": self.claim_id,
            "verdict": Verdict(self.verdict).value,
            "seconds": round(float(self.seconds), 4),
            "params": to_jsonable(dict(self.params)),
            "evidence": to_jsonable(dict(self.evidence)),
            "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
            "ablations": [a.to_dict() for a in self.ablations],
            "proved_exactly": bool(self.proved_exactly),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "ClaimResult":
        claim_id = data["id"]
        evidence = dict(data.get("evidence", {}))
        proved = bool(data.get("proved_exactly", evidence.get("proved_exactly", False)))
        cx = data.get("counterexample")
        return cls(
            claim_id=claim_id,
            params=dict(data.get("params", {})),
            verdict=Verdict(data["verdict"]),
            seconds=float(data.get("seconds", 0.0)),
            evidence=evidence,
            counterexample=None if cx is None else Counterexample.from_dict(cx, claim_id=claim_id),
            ablations=[AblationResult.from_dict(a, claim_id=claim_id) for a in data.get("ablations", [])],
            proved_exactly=proved,
        )

    @property
    def holds(self) -> bool:
        return Verdict(self.verdict) is Verdict.HOLDS


# --------------------------------------------------------------------------- kind judges


@dataclasses.dataclass
class KindOutcome:
    """What a kind judge returns; ``judge`` adds timing, ablation and the claim id."""

    verdict: Verdict
    evidence: dict = dataclasses.field(default_factory=dict)
    counterexample: Counterexample | None = None
    proved_exactly: bool = False


@dataclasses.dataclass
class JudgeContext:
    """Everything a kind judge needs.

    Attributes
    ----------
    claim : Claim
    params : Params
    active : frozenset of str
        Active assumption names.
    spaces : dict of str -> Space
        The claim's input spaces at ``params`` under ``active``.
    budget : Budget
    rng : numpy.random.Generator
        Seeded; draw every random number from it.
    seed : int
    deadline : float or None
        ``time.monotonic()`` value after which the judge must stop (None: no deadline).
    """

    claim: Claim
    params: Params
    active: frozenset
    spaces: dict
    budget: Budget
    rng: np.random.Generator
    seed: int
    deadline: float | None

    # Helpers so every kind judge evaluates, samples and confirms the same way.

    def time_left(self) -> float:
        """Seconds until the deadline (``inf`` without one)."""
        if self.deadline is None:
            return math.inf
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.time_left() <= 0

    @property
    def plan(self) -> Plan:
        return self.budget.plan()

    def sample(self) -> dict:
        """One input dict drawn from the spaces with ``self.rng`` (numpy arrays)."""
        return {name: space.sample(self.rng) for name, space in self.spaces.items()}

    def evaluate(self, inputs: Mapping, mode: str = "numpy") -> Any:
        """Call the claim's evaluator at ``inputs`` (``mode``: ``"numpy"`` or ``"torch"``).

        Exceptions and NaN results become :class:`ClaimError` naming the claim and the input.
        """
        return call_evaluator(self.claim, inputs, self.params, mode=mode)

    def confirm(self, inputs: Mapping, dps: int = 60):
        """High-precision re-evaluation (see :func:`theorycheck.engine.confirm.mp_evaluate`)."""
        from .confirm import mp_evaluate  # mpmath is imported only by a judge that confirms

        return mp_evaluate(self.claim.evaluate, inputs, self.params, dps=dps)

    def counterexample(self, inputs: Mapping, lhs: float, rhs: float, margin: float,
                       precision_digits: int, note: str = "", relation: str | None = None) -> Counterexample:
        """The one place a :class:`Counterexample` is built: at ``inputs``, with this context's claim and params.

        ``relation`` is what the claim asserted between ``lhs`` and ``rhs`` (default: the
        claim's own ``relation``; an optimum claim passes ``">="`` or ``"<="``).
        """
        return Counterexample(inputs=export_inputs(inputs, self.spaces), lhs=float(lhs), rhs=float(rhs),
                              margin=float(margin), precision_digits=int(precision_digits),
                              params=dict(self.params), note=note, claim_id=self.claim.id,
                              relation=self.claim.relation if relation is None else relation,
                              origin=self.claim.origin)
