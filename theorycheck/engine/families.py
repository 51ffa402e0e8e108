"""Claim families: the groups of sub-checks behind ``theorycheck verify FAMILY``.

A :class:`Family` turns a few user-facing options (``--K 10 --batches subset``) into
the list of claims to judge, each with its own parameters. Claim modules register
their families (``register_family(Family("supcon", ...))``); the engine runs them
(:func:`run_family`) and the CLI builds one ``verify`` sub-command per family from the
registry, so a new family needs no CLI code.

:func:`run_checks` is the one loop that judges a list of claims and collects a
:class:`RunResults`; ``verify`` (families) and ``check`` (a user's claims) both use it,
so both write the same JSON document (see ``docs/json-schema.md``).

Examples
--------
>>> from theorycheck.engine.families import Family, family_option_names
>>> fam = Family("demo", "a demo family", (), lambda p: [])
>>> fam.name, family_option_names(fam)
('demo', [])
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import importlib.metadata
import math
import platform as _platform
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from .._validation import (
    check_bool,
    check_choice,
    check_int,
    check_real,
    fail,
    fail_type,
)

__all__ = [
    "SCHEMA_VERSION",
    "Family",
    "Option",
    "Check",
    "RunEntry",
    "RunResults",
    "register_family",
    "unregister_family",
    "get_family",
    "all_families",
    "family_option_names",
    "resolve_family_options",
    "coerce_param_value",
    "run_family",
    "run_checks",
    "run_all",
    "assemble_all",
    "entry_key",
    "previous_entries",
    "validate_checks",
    "plan_all",
    "PlannedFamily",
    "default_all_budget",
    "package_versions",
    "exit_code",
]

#: Version of the JSON document written by :meth:`RunResults.to_dict`. Bump it when a
#: field changes meaning or disappears; adding a field does not change it.
SCHEMA_VERSION = 1

#: Option names the ``verify`` sub-commands use themselves; a family parameter may not
#: take one of them (it would shadow ``--seed`` etc.).
RESERVED_OPTIONS = frozenset({"seed", "budget", "examples", "ablate", "json", "report", "help", "out",
                              "quiet", "param", "progress", "no_progress", "version"})

#: Packages whose versions every report records.
VERSIONED_PACKAGES = ("numpy", "scipy", "torch", "mpmath", "sympy", "cvxpy", "hypothesis")


# --------------------------------------------------------------------------------------
# Families and the registry
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """A family option: like :class:`~theorycheck.engine.claim.Param`, but the default may be
    ``None``, meaning "derived from the other options by the family's ``checks``" (for
    example ``N`` derived from ``K``).

    Examples
    --------
    >>> Option("N", None, "number of samples (default: 2 K)", min=2).validate("12", "verify")
    12
    """

    name: str
    default: Any = None
    description: str = ""
    type: type = int
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise fail("name", "Option", "a Python identifier", self.name)
        if self.type not in (int, float, str, bool):
            raise fail("type", "Option", "one of int, float, str, bool", self.type)
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
        if self.default is not None:
            object.__setattr__(self, "default", self.validate(self.default, f"Option({self.name!r})",
                                                              what="default"))

    def validate(self, value: Any, caller: str = "verify", what: str | None = None) -> Any:
        """``value`` converted to this option's type and checked (``None`` passes: derived)."""
        if value is None:
            return None
        return _coerce_plain(self, value, caller, what or f"--{self.name}")


@dataclass(frozen=True)
class Family:
    """A named group of sub-checks run by ``theorycheck verify NAME``.

    Parameters
    ----------
    name : str
        The sub-command name (``"supcon"``); lower case letters, digits, ``-`` and ``_``.
    description : str
        One line, shown by ``theorycheck verify --help``.
    params : tuple of Param or Option
        The family's options; each becomes ``--<name>`` on the command line. An
        :class:`Option` may have the default ``None``: "derived from the other options" by
        ``checks``.
    checks : callable
        ``checks(p) -> [(claim_id, params_dict), ...]``: which claims to judge with which
        parameters, given the resolved options ``p`` (a ``Params``, ``p.K``). An item may
        carry a third element, a dict of engine settings (``starts``, ``steps``, ``draws``)
        used as the budget's for that claim unless the run's budget sets them itself.
    """

    name: str
    description: str
    params: tuple = ()
    checks: Callable[[Any], list] = field(default=lambda p: [], repr=False)

    def __post_init__(self) -> None:
        caller = "Family"
        if not isinstance(self.name, str) or not self.name or not all(
                c.isalnum() or c in "-_" for c in self.name) or self.name != self.name.lower():
            raise fail("name", caller, "a lower-case name of letters, digits, '-' or '_'", self.name)
        if self.name == "all":
            raise fail("name", caller, "not 'all' (reserved for `theorycheck verify all`)", self.name)
        if not isinstance(self.description, str):
            raise fail_type("description", caller, "a string", self.description)
        params = tuple(self.params)
        seen: set[str] = set()
        for param in params:
            pname = getattr(param, "name", None)
            if not isinstance(pname, str) or not pname.isidentifier():
                raise fail("params", caller, "a tuple of Param objects with identifier names", param)
            if pname in RESERVED_OPTIONS:
                raise fail("params", caller,
                           f"free of the reserved option names {sorted(RESERVED_OPTIONS)}", pname)
            if pname in seen:
                raise fail("params", caller, "a tuple of Params with distinct names", pname)
            seen.add(pname)
        object.__setattr__(self, "params", params)
        if not callable(self.checks):
            raise fail_type("checks", caller, "a callable p -> [(claim_id, params), ...]", self.checks)


_FAMILIES: dict[str, Family] = {}


def register_family(family: Family, *, replace: bool = False) -> Family:
    """Add a family to the registry (``theorycheck verify <name>``); duplicates are an error."""
    if not isinstance(family, Family):
        raise fail_type("family", "register_family", "a Family", family)
    if family.name in _FAMILIES and not replace and _FAMILIES[family.name] is not family:
        raise fail("family", "register_family",
                   f"a family with a new name ({family.name!r} is already registered)", family.name)
    _FAMILIES[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Remove a family (used by tests that register a throw-away family)."""
    _FAMILIES.pop(name, None)


def get_family(name: str) -> Family:
    """The registered family ``name``; unknown names list the close matches and all known."""
    try:
        return _FAMILIES[name]
    except (KeyError, TypeError):
        known = sorted(_FAMILIES)
        close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        listing = ", ".join(known) if known else "none registered"
        raise fail("family", "theorycheck verify",
                   f"a registered family{hint}; known: {listing}", name) from None


def all_families() -> list[Family]:
    """Every registered family, sorted by name."""
    return [_FAMILIES[k] for k in sorted(_FAMILIES)]


def family_option_names(family: Family) -> list[str]:
    return [p.name for p in family.params]


# --------------------------------------------------------------------------------------
# Parameter values
# --------------------------------------------------------------------------------------

def _param_type(param: Any) -> type:
    typ = getattr(param, "type", None)
    if typ in (int, float, str, bool):
        return typ
    default = getattr(param, "default", None)
    if isinstance(default, bool):
        return bool
    if isinstance(default, (int, float, str)):
        return type(default)
    return str


def _coerce_plain(param: Any, value: Any, caller: str, name: str) -> Any:
    """Convert (command-line strings included) and check type, range and choices."""
    typ = _param_type(param)
    if isinstance(value, str) and typ is not str:
        text = value.strip()
        try:
            if typ is bool:
                lowered = text.lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(text)
                value = lowered in ("true", "1", "yes")
            elif typ is int:
                value = int(text)
            else:
                value = float(text)
        except ValueError:
            what = {int: "an integer", float: "a real number", bool: "true or false"}[typ]
            raise fail_type(name, caller, what, value) from None
    lo, hi = getattr(param, "min", None), getattr(param, "max", None)
    # a range stated as a function of the other params is checked once they are all known
    lo, hi = (None if callable(lo) else lo), (None if callable(hi) else hi)
    if typ is bool:
        value = check_bool(value, name, caller)
    elif typ is int:
        value = check_int(value, name, caller, min_value=None if lo is None else int(-(-lo // 1)),
                          max_value=None if hi is None else int(hi // 1))
    elif typ is float:
        if isinstance(value, bool):
            raise fail_type(name, caller, "a real number", value)
        value = check_real(value, name, caller, ge=lo, le=hi)
    elif not isinstance(value, str):
        raise fail_type(name, caller, "a string", value)
    choices = getattr(param, "choices", None)
    if choices:
        check_choice(value, name, caller, choices)
    return value


def coerce_param_value(param: Any, value: Any, caller: str, *, display: str | None = None) -> Any:
    """Convert ``value`` (possibly a command-line string) to ``param``'s type and check it.

    ``param`` is a claim's ``Param`` or a family's :class:`Option`; ``None`` passes through
    (a derived default). Errors name ``display`` (e.g. ``--K``).
    """
    name = display or param.name
    if value is None:
        return None
    typ = _param_type(param)
    if isinstance(value, str) and typ is not str:
        value = _coerce_plain(param, value, caller, name)  # string -> typed value first
    validate = getattr(param, "validate", None)
    if callable(validate):  # Param/Option check type, range and choices themselves
        return validate(value, caller, what=name)
    return _coerce_plain(param, value, caller, name)


def _make_params(values: Mapping[str, Any]):
    """A read-only ``Params`` mapping (the engine's), with attribute access."""
    from .claim import Params

    return Params(dict(values))


def resolve_family_options(family: Family, options: Mapping[str, Any] | None) -> Any:
    """Defaults overridden by ``options``, validated; returns a ``Params``.

    Unknown option names raise an error listing the family's options.
    """
    caller = f"theorycheck verify {family.name}"
    options = dict(options or {})
    known = {p.name: p for p in family.params}
    for key in options:
        if key not in known:
            listing = ", ".join(f"--{k}" for k in known) or "none"
            raise fail(key, caller, f"one of the family's options ({listing})", options[key])
    values = {}
    for pname, param in known.items():
        raw = options.get(pname, None)
        if raw is None:
            raw = getattr(param, "default", None)
        values[pname] = coerce_param_value(param, raw, caller, display=f"--{pname}")
    return _make_params(values)


# --------------------------------------------------------------------------------------
# Running checks
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One claim to judge: the claim (object or registered id), its parameters, the shell
    command that reproduces it (``theorycheck check ...``), ``target``: the
    ``FILE.py::NAME`` / ``module:NAME`` that loads a user's claim (None for registered ones),
    and ``search``: engine settings (``starts``, ``steps``, ``draws``) for this claim, used
    where the run's budget does not set them."""

    claim: Any
    params: Mapping[str, Any] = field(default_factory=dict)
    reproduce: str = ""
    target: str | None = None
    search: Mapping[str, int] = field(default_factory=dict)


def _check_of(family: Family, item: Any, reproduce: str = "") -> Check:
    """A family's planned item ``(claim_id, params)`` or ``(claim_id, params, search)`` as a Check."""
    if not (isinstance(item, tuple) and len(item) in (2, 3) and isinstance(item[1], Mapping)
            and (len(item) == 2 or isinstance(item[2], Mapping))):
        raise fail("checks", f"Family {family.name!r}",
                   "a list of (claim_id, params_dict) or (claim_id, params_dict, search_dict) tuples", item)
    search = dict(item[2]) if len(item) == 3 else {}
    return Check(claim=item[0], params=dict(item[1]), reproduce=reproduce, search=search)


def _budget_for(budget: Any, check: Check) -> Any:
    """The run's budget with the check's engine settings filled in where the budget has none."""
    if not check.search:
        return budget
    from .results import Budget

    base = budget if budget is not None else Budget()
    return dataclasses.replace(base, **{**dict(check.search), **base.search_settings()})


@dataclass
class RunEntry:
    """A judged claim with the metadata a report needs without the registry."""

    result: Any  # ClaimResult, or a plain dict when read back from JSON
    kind: str = ""
    statement: str = ""
    cite: list = field(default_factory=list)
    summary_keys: list = field(default_factory=list)
    reproduce: str = ""
    target: str | None = None
    family: str | None = None
    origin: str = ""
    statement_latex: str | None = None  # recorded only when the claim has one (an optional field)
    #: taken over from an interrupted run's document by ``--resume`` (not judged again)
    reused: bool = field(default=False, compare=False, repr=False)

    def to_dict(self) -> dict:
        doc = self.result.to_dict() if hasattr(self.result, "to_dict") else dict(self.result)
        doc.update({
            "kind": self.kind,
            "statement": self.statement,
            "cite": list(self.cite),
            "summary_keys": list(self.summary_keys),
            "reproduce": self.reproduce,
            "target": self.target,
            "origin": self.origin,
            "family": self.family,
        })
        if self.statement_latex:
            doc["statement_latex"] = self.statement_latex
        return doc


def package_versions() -> dict[str, str]:
    """Versions of Python, theorycheck and the numerical packages (for reports)."""
    from .. import __version__

    versions = {"python": _platform.python_version(), "theorycheck": __version__}
    for pkg in VERSIONED_PACKAGES:
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return versions


@dataclass
class RunResults:
    """Results of one ``verify`` or ``check`` run; :meth:`to_dict` is the JSON document."""

    entries: list[RunEntry]
    seed: int
    command: str
    started: str
    budget: dict = field(default_factory=dict)
    references: dict = field(default_factory=dict)
    family: str | None = None
    options: dict = field(default_factory=dict)
    versions: dict = field(default_factory=package_versions)
    platform: str = field(default_factory=_platform.platform)
    theorycheck_version: str | None = None
    schema_version: int = SCHEMA_VERSION
    #: claims that raised (ClaimError): ``{"id", "family", "params", "message", "reproduce"}``
    errors: list = field(default_factory=list)
    #: False while the run is going on (streamed partial documents) or after an interrupt
    complete: bool = True

    @property
    def verdicts(self) -> list[str]:
        return [_verdict_name(e.result) for e in self.entries]

    def exit_code(self) -> int:
        """As :func:`exit_code` of the verdicts; 2 when a claim raised (an error entry)."""
        return 2 if self.errors else exit_code(self.verdicts)

    def to_dict(self) -> dict:
        from .. import __version__
        from .results import to_jsonable

        doc = {
            "schema_version": self.schema_version,
            "theorycheck_version": self.theorycheck_version or __version__,
            "seed": self.seed,
            "command": self.command,
            "started": self.started,
            "family": self.family,
            "options": to_jsonable(self.options),
            "budget": to_jsonable(self.budget),
            "platform": self.platform,
            "versions": dict(self.versions),
            "references": dict(self.references),
            "complete": bool(self.complete),
            "claims": [e.to_dict() for e in self.entries],
        }
        if self.errors:  # only when a claim raised: documents of clean runs are unchanged
            doc["errors"] = to_jsonable(list(self.errors))
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> "RunResults":
        """Rebuild from a JSON document (entries keep their per-claim dicts as ``result``)."""
        entries = [
            RunEntry(result=dict(c), kind=c.get("kind", ""), statement=c.get("statement", ""),
                     cite=list(c.get("cite", [])), summary_keys=list(c.get("summary_keys", [])),
                     reproduce=c.get("reproduce", ""), target=c.get("target"), family=c.get("family"),
                     origin=c.get("origin", ""), statement_latex=c.get("statement_latex"))
            for c in doc["claims"]
        ]
        return cls(entries=entries, seed=doc["seed"], command=doc["command"],
                   started=doc.get("started", ""), budget=dict(doc.get("budget") or {}),
                   references=dict(doc.get("references") or {}), family=doc.get("family"),
                   options=dict(doc.get("options") or {}), versions=dict(doc.get("versions") or {}),
                   platform=doc.get("platform", ""), theorycheck_version=doc.get("theorycheck_version"),
                   schema_version=doc.get("schema_version", SCHEMA_VERSION),
                   errors=list(doc.get("errors") or []), complete=bool(doc.get("complete", True)))


def exit_code(verdicts: Iterable[Any]) -> int:
    """0 all HOLDS/VACUOUS, 1 any REFUTED, 3 any INCONCLUSIVE (and none refuted)."""
    names = [_verdict_name(v) for v in verdicts]
    if "REFUTED" in names:
        return 1
    if "INCONCLUSIVE" in names:
        return 3
    return 0


def _verdict_name(obj: Any) -> str:
    """Upper-case verdict name of a ClaimResult, its dict, a Verdict or a string."""
    if isinstance(obj, Mapping):
        obj = obj.get("verdict")
    elif hasattr(obj, "verdict"):
        obj = obj.verdict
    value = getattr(obj, "value", obj)
    return str(value).upper()


def _budget_dict(budget: Any) -> dict:
    if budget is None:
        return {}
    return {"seconds": getattr(budget, "seconds", None), "examples": getattr(budget, "examples", None)}


def _claim_of(claim_or_id: Any):
    if isinstance(claim_or_id, str):
        from .registry import get

        return get(claim_or_id)
    return claim_or_id


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def entry_key(family: str | None, claim_id: str, params: Mapping[str, Any]) -> str:
    """The identity of a judged claim within a run: family, id and resolved parameters.

    ``--resume`` matches a partial document's claims to the planned ones by this key.
    """
    import json

    from .results import to_jsonable

    return json.dumps([family, claim_id, to_jsonable(dict(params))], sort_keys=True, allow_nan=False)


def previous_entries(doc: Mapping[str, Any]) -> dict[str, RunEntry]:
    """The judged claims of a (partial) results document, by :func:`entry_key`."""
    out = {}
    for entry in RunResults.from_dict(doc).entries:
        res = entry.result
        out[entry_key(entry.family, res.get("id", ""), res.get("params") or {})] = entry
    return out


def validate_checks(checks: Sequence[Check]) -> None:
    """Check every claim's parameters, ``requires`` and input spaces before any is judged.

    A size at which a claim cannot run (a parameter out of range, an input space that
    refuses the sizes) raises ``InvalidArgumentError`` naming the claim and the parameter,
    before the first claim is judged. Other errors of a claim (a user's ``requires`` that
    raises) are left to the run, which records them as error entries.
    """
    from .judge import check_runnable

    for check in checks:
        check_runnable(_claim_of(check.claim), dict(check.params))


def _error_record(cl: Any, check: Check, family: str | None, exc: BaseException) -> dict:
    params = dict(check.params)
    try:
        params = dict(cl.resolve_params(params))
    except Exception:  # noqa: BLE001 - the parameters themselves may be the error
        pass
    return {"id": str(getattr(cl, "id", check.claim)), "family": family, "params": params,
            "message": " ".join(str(exc).split()), "reproduce": check.reproduce}


def run_checks(checks: Sequence[Check], *, budget: Any = None, seed: int = 0, ablate: bool = False,
               progress: Any = None, command: str | None = None, family: str | None = None,
               options: Mapping[str, Any] | None = None, on_result: Callable[[RunResults], None] | None = None,
               previous: Mapping[str, RunEntry] | None = None, fail_fast: bool = True,
               validate: bool = False) -> RunResults:
    """Judge every check in order and collect a :class:`RunResults`.

    Parameters
    ----------
    checks : sequence of Check
        Claims (objects or ids) with their parameters.
    budget : Budget or float, optional
        Time budget for each judged claim, its ablations included (``judge`` splits it).
    seed : int
        Passed to every ``judge`` call: the same seed gives the same verdicts.
    ablate : bool
        Judge each assumption dropped in turn as well.
    progress : None, bool or Progress
        ``None``: a bar on stderr when it is a terminal; ``False``: none; ``True``: always;
        a :class:`theorycheck.progress.Progress` to draw on.
    command : str, optional
        The command recorded in the report; the CLI passes its own command line. Default:
        the checks' shared ``reproduce`` command when they have one, else a description of
        this Python call (the engine does not read ``sys.argv``: it knows no CLI).
    on_result : callable, optional
        Called after each claim with the :class:`RunResults` so far (``complete=False``).
    previous : dict, optional
        Entries by :func:`entry_key` (:func:`previous_entries`) reused, not judged (``--resume``).
    fail_fast, validate : bool
        ``fail_fast``: a ``ClaimError`` ends the run (else it becomes an ``errors`` entry and the
        run goes on). ``validate``: :func:`validate_checks` first, before anything is judged.
    """
    from ..citations import resolve
    from .errors import ClaimError
    from .results import Budget

    seed = check_int(seed, "seed", "run_checks", min_value=0)
    if budget is not None and not isinstance(budget, Budget):
        budget = Budget(seconds=check_real(budget, "budget", "run_checks", gt=0.0))
    checks = list(checks)
    claims = [_claim_of(c.claim) for c in checks]
    # a claim's budget covers its ablations (judge splits it): about one budget per claim for the bar
    seconds = getattr(budget if budget is not None else Budget(), "seconds", None)
    if validate:  # every claim's sizes before the first is judged
        validate_checks(checks)
    bar, own_bar = _progress_bar(progress, len(checks), seconds * len(checks) if seconds else None)
    references, entries, errors = {}, [], []  # type: dict[str, dict], list[RunEntry], list[dict]
    command = _default_command(checks, seed) if command is None else command
    header = dict(seed=seed, command=command, started=_now(), family=family, options=dict(options or {}),
                  budget=_budget_dict(budget if budget is not None else Budget()),
                  versions=package_versions())  # once: not re-read for every streamed claim

    def results(complete: bool) -> RunResults:
        return RunResults(entries=list(entries), references=dict(references), errors=list(errors),
                          complete=complete, **header)

    try:
        for check, cl in zip(checks, claims):
            bar.start_step(cl.id)
            refs = resolve(getattr(cl, "cite", None))
            fam = family if family is not None else getattr(cl, "family", None)
            try:
                entry = _judged_entry(cl, check, fam, refs, previous, budget=_budget_for(budget, check),
                                      seed=seed, ablate=ablate)
            except ClaimError as exc:
                if fail_fast:
                    raise
                errors.append(_error_record(cl, check, fam, exc))
                entry = None
            if entry is not None:
                references.update({ref.key: ref.to_dict() for ref in refs if ref.key not in references})
                entries.append(entry)
            bar.advance(cl.id)
            if on_result is not None and (entry is None or not getattr(entry, "reused", False)):
                on_result(results(False))
    finally:
        if own_bar:
            bar.close()
    return results(True)


def _progress_bar(progress: Any, n: int, expected: float | None) -> tuple:
    """``(bar, own)``: the caller's Progress, or a new one (``None``: on a terminal only)."""
    from ..progress import Progress

    if isinstance(progress, Progress):
        return progress, False
    return Progress(max(n, 1), enabled=None if progress is None else bool(progress), expected_seconds=expected), True


def _judged_entry(cl: Any, check: Check, family: str | None, refs: list, previous: Mapping[str, RunEntry] | None,
                  *, budget: Any, seed: int, ablate: bool) -> RunEntry:
    """The entry of one check: reused from ``previous`` (``--resume``) when it is there, else judged."""
    from .judge import judge

    if previous:
        try:
            before = previous.get(entry_key(family, cl.id, cl.resolve_params(dict(check.params))))
        except Exception:  # noqa: BLE001 - bad params: judged (and reported) below
            before = None
        if before is not None:  # judged by the interrupted run: kept as it was
            return dataclasses.replace(before, reused=True)
    result = judge(cl, dict(check.params), budget=budget, seed=seed, ablate=ablate)
    return RunEntry(
        result=result,
        kind=str(getattr(cl, "kind", "")),
        statement=str(getattr(cl, "statement", "")),
        statement_latex=getattr(cl, "statement_latex", None),
        cite=[ref.key for ref in refs],
        summary_keys=list(getattr(cl, "summary_keys", None) or ()),
        reproduce=check.reproduce,
        target=check.target,
        origin=str(getattr(cl, "origin", "")),
        family=family,
    )


def _default_command(checks: Sequence[Check], seed: int) -> str:
    """What produced a run_checks document when the caller named no command."""
    shared = {c.reproduce for c in checks}
    if len(shared) == 1 and "" not in shared:
        return shared.pop()
    return f"theorycheck.engine.families.run_checks(<{len(checks)} checks>, seed={seed})"


def _budget_args(budget: Any) -> list[str]:
    """``--budget``/``--examples`` for a Budget, a number of seconds, or None."""
    args: list[str] = []
    seconds = getattr(budget, "seconds", budget)
    if seconds is not None:
        args += ["--budget", f"{seconds:g}"]
    examples = getattr(budget, "examples", None)
    if examples is not None:
        args += ["--examples", str(examples)]
    return args


def _all_command(options: Mapping[str, Any] | None, *, seed: int, budget: Any, ablate: bool,
                 empirical: bool) -> str:
    """The ``theorycheck verify all ...`` command line equivalent to a run_all call."""
    parts = ["theorycheck", "verify", "all"]
    if (options or {}).get("K") is not None:
        parts += ["--K", str(options["K"])]
    if empirical:
        parts.append("--empirical")
    if ablate:
        parts.append("--ablate")
    parts += ["--seed", str(seed), *_budget_args(budget)]
    return shlex.join(parts)


def verify_command(family: Family, p: Mapping[str, Any], *, seed: int, budget: Any = None,
                   ablate: bool = False) -> str:
    """The ``theorycheck verify ...`` command line that reproduces a family run."""
    parts = ["theorycheck", "verify", family.name]
    for param in family.params:
        value = p[param.name]
        if value is not None:
            parts += [f"--{param.name}", str(value)]
    if ablate:
        parts.append("--ablate")
    parts += ["--seed", str(seed), *_budget_args(budget)]
    return shlex.join(parts)


def run_family(name: str, options: Mapping[str, Any] | None = None, *, budget: Any = None, seed: int = 0,
               ablate: bool = False, progress: Any = None, command: str | None = None,
               on_result: Callable[[RunResults], None] | None = None,
               previous: Mapping[str, RunEntry] | None = None, fail_fast: bool = True,
               validate: bool = False) -> RunResults:
    """Run every sub-check of the family ``name`` with the given options.

    Parameters
    ----------
    name : str
        A registered family.
    options : dict, optional
        Family options (``{"K": 10}``); missing ones take their defaults. Unknown names,
        wrong types and out-of-range values raise ``InvalidArgumentError``.
    budget, seed, ablate, progress, on_result, previous, fail_fast, validate
        As in :func:`run_checks`.

    Returns
    -------
    RunResults
        ``to_dict()`` is the JSON document of ``docs/json-schema.md``.
    """
    family = get_family(name)
    p = resolve_family_options(family, options)
    reproduce = verify_command(family, p, seed=seed, budget=budget, ablate=ablate)
    planned = list(family.checks(p))
    checks = []
    for item in planned:
        checks.append(_check_of(family, item, reproduce))
    return run_checks(checks, budget=budget, seed=seed, ablate=ablate, progress=progress,
                      command=command if command is not None else reproduce, family=family.name,
                      options={k: p[k] for k in family_option_names(family)}, on_result=on_result,
                      previous=previous, fail_fast=fail_fast, validate=validate)


# --------------------------------------------------------------------------------------
# Every family at once: ``theorycheck verify all``
# --------------------------------------------------------------------------------------

#: Wall-clock target of ``theorycheck verify all`` at its default budget (seconds on 2 CPU
#: cores): the default per-claim budget is this total shared out over the planned claims.
VERIFY_ALL_TARGET_SECONDS = 150.0
#: Bounds of the default per-claim budget of ``verify all`` (the ``verify`` default is 5 s).
VERIFY_ALL_CLAIM_SECONDS = (0.5, 5.0)


@dataclass(frozen=True)
class PlannedFamily:
    """One family as ``verify all`` will run it: resolved options, the checks to judge, the
    empirical claims left out (without ``empirical=True``) and the per-claim budget."""

    family: Family
    params: Any
    checks: tuple
    skipped: tuple = ()
    budget: Any = None


def _is_empirical(claim_or_id: Any) -> bool:
    """Whether a planned check is an empirical claim (a training run).

    Decided by the kind *registered* under the claim's id: a family may hand over a
    stand-in object for a registered claim (a Claim of another kind carrying the same id),
    and that stand-in is judged like the claim it replaces.
    """
    from . import kinds, registry

    claim_id = getattr(claim_or_id, "id", claim_or_id)
    if isinstance(claim_id, str) and claim_id in registry.ids():
        kind = registry.get(claim_id).kind
    else:
        kind = getattr(_claim_of(claim_or_id), "kind", "")
    spec = kinds.KINDS.get(str(kind))
    return spec is not None and not spec.uses_inputs  # a claim that runs itself: an experiment


def default_all_budget(n_checks: int, *, target_seconds: float = VERIFY_ALL_TARGET_SECONDS,
                       bounds: tuple = VERIFY_ALL_CLAIM_SECONDS):
    """The per-claim budget ``verify all`` uses when none is given.

    ``target_seconds / n_checks``, rounded down to 0.1 s and clipped to ``bounds``: a
    deterministic function of the number of planned claims (never of machine speed), so
    the recorded ``--budget`` reproduces every verdict.

    Examples
    --------
    >>> default_all_budget(10).seconds, default_all_budget(60).seconds, default_all_budget(1000).seconds
    (5.0, 2.5, 0.5)
    """
    from .results import Budget

    n_checks = check_int(n_checks, "n_checks", "default_all_budget", min_value=0)
    lo, hi = bounds
    seconds = hi if n_checks == 0 else min(hi, max(lo, math.floor(10 * target_seconds / n_checks) / 10))
    return Budget(seconds=seconds)


def plan_all(options: Mapping[str, Any] | None = None, *, empirical: bool = False,
             budget: Any = None, family_budgets: Mapping[str, Any] | None = None,
             seed: int = 0, ablate: bool = False, names: Sequence[str] | None = None) -> list[PlannedFamily]:
    """What ``verify all`` runs, without running it.

    Parameters
    ----------
    options : dict, optional
        Options given to ``verify all`` (``{"K": 10}``); each applies to every family that
        has an option of that name and must be valid for each of them. A name no family
        has is an error.
    empirical : bool
        Include claims of kind ``empirical`` (training runs). Without it they are left out
        (listed in ``skipped``), and a family with nothing else is not run.
    budget : Budget or float, optional
        Per-claim budget. ``None``: :func:`default_all_budget` of the number of planned
        claims, unless ``family_budgets`` names the family.
    family_budgets : dict, optional
        Family name -> per-claim budget (Budget or seconds) used when ``budget`` is None,
        for a family whose claims need less (or more) than the shared default.
    seed, ablate
        Recorded in each claim's reproduce command.
    names : sequence of str, optional
        Families to run (default: every registered one).
    """
    from .results import Budget

    caller = "theorycheck verify all"
    options = {k: v for k, v in dict(options or {}).items() if v is not None}
    families = [get_family(n) for n in names] if names is not None else all_families()
    known = {p.name for fam in families for p in fam.params}
    for key, value in options.items():
        if key not in known:
            listing = ", ".join(f"--{k}" for k in sorted(known)) or "none"
            raise fail(key, caller, f"an option of at least one family ({listing})", value)
    empirical = check_bool(empirical, "empirical", caller)
    planned = []
    for fam in families:
        mine = {k: v for k, v in options.items() if k in family_option_names(fam)}
        p = resolve_family_options(fam, mine)
        checks, skipped = [], []
        for item in fam.checks(p):
            check = _check_of(fam, item)
            if not empirical and _is_empirical(check.claim):
                skipped.append(getattr(check.claim, "id", check.claim))
                continue
            checks.append(check)
        planned.append(PlannedFamily(fam, p, tuple(checks), tuple(skipped)))
    if budget is not None:
        shared = Budget.coerce(budget)
    else:
        shared = default_all_budget(sum(len(pf.checks) for pf in planned))
    out = []
    for pf in planned:
        own = shared
        if budget is None and family_budgets and pf.family.name in family_budgets:
            own = Budget.coerce(family_budgets[pf.family.name])
        reproduce = verify_command(pf.family, pf.params, seed=seed, budget=own, ablate=ablate)
        checks = tuple(dataclasses.replace(c, reproduce=reproduce) for c in pf.checks)
        out.append(PlannedFamily(pf.family, pf.params, checks, pf.skipped, own))
    return out


def _all_options(options: Mapping[str, Any] | None, plans: Sequence[PlannedFamily], empirical: bool) -> dict:
    """The ``options`` a ``verify all`` document records: those given, as the families read
    them (``"4"`` -> 4), ``empirical``, the families run and the empirical claims left out."""
    given = {}
    for key, value in dict(options or {}).items():
        if value is not None:
            given[key] = next((pf.params[key] for pf in plans if key in family_option_names(pf.family)), value)
    return {**given, "empirical": bool(empirical), "families": [pf.family.name for pf in plans if pf.checks],
            "skipped_empirical": list(dict.fromkeys(cid for pf in plans for cid in pf.skipped))}


def run_all(options: Mapping[str, Any] | None = None, *, budget: Any = None, seed: int = 0,
            ablate: bool = False, empirical: bool = False, progress: Any = None, command: str | None = None,
            family_budgets: Mapping[str, Any] | None = None, names: Sequence[str] | None = None,
            on_result: Callable[[RunResults], None] | None = None,
            previous: Mapping[str, RunEntry] | None = None, fail_fast: bool = True,
            validate: bool = False) -> RunResults:
    """Run every registered family (``theorycheck verify all``) into one :class:`RunResults`.

    Parameters are those of :func:`plan_all`, plus ``progress``, ``command``,
    ``on_result``, ``previous``, ``fail_fast`` and ``validate`` as in :func:`run_checks`
    (``validate`` checks every family's claims before the first is judged). Each claim entry keeps its ``family`` and the ``verify`` command
    that reproduces its family's run; the document's ``family`` is ``"all"`` and its
    ``options`` record the options given, ``empirical``, the families run and the
    empirical claims left out.

    Examples
    --------
    >>> res = run_all(names=[])      # no family: an empty, valid document
    >>> res.family, len(res.entries)
    ('all', 0)
    """
    from .results import Budget

    seed = check_int(seed, "seed", "run_all", min_value=0)
    plans = plan_all(options, empirical=empirical, budget=budget, family_budgets=family_budgets, seed=seed,
                     ablate=ablate, names=names)
    total = sum(len(pf.checks) for pf in plans)
    expected = sum(len(pf.checks) * (pf.budget.seconds or 0.0) for pf in plans)
    bar, own_bar = _progress_bar(progress, total, expected or None)
    if validate:  # every family's sizes before the first claim of any is judged
        validate_checks([c for pf in plans for c in pf.checks])
    entries: list[RunEntry] = []
    errors: list[dict] = []
    references: dict = {}
    started = _now()
    shared = Budget.coerce(budget) if budget is not None else default_all_budget(total)
    if command is None:
        command = _all_command(options, seed=seed, budget=budget, ablate=ablate, empirical=empirical)
    run_options = _all_options(options, plans, empirical)
    versions = package_versions()

    def results(part: RunResults | None, complete: bool) -> RunResults:
        refs = dict(references)
        for key, ref in (part.references if part is not None else {}).items():
            refs.setdefault(key, ref)
        return RunResults(entries=entries + (part.entries if part is not None else []), seed=seed,
                          command=command, started=started, budget=_budget_dict(shared), references=refs,
                          family="all", options=run_options, versions=versions,
                          errors=errors + (part.errors if part is not None else []), complete=complete)

    def stream(part: RunResults) -> None:
        if on_result is not None:
            on_result(results(part, False))

    try:
        for pf in plans:
            if not pf.checks:
                continue
            part = run_checks(list(pf.checks), budget=pf.budget, seed=seed, ablate=ablate, progress=bar,
                              command=command, family=pf.family.name,
                              options={k: pf.params[k] for k in family_option_names(pf.family)},
                              on_result=stream, previous=previous, fail_fast=fail_fast)
            entries.extend(part.entries)
            errors.extend(part.errors)
            for key, ref in part.references.items():
                references.setdefault(key, ref)
    finally:
        if own_bar:
            bar.close()
    return results(None, True)


def assemble_all(plans: Sequence[PlannedFamily], parts: Sequence[tuple], *, options: Mapping[str, Any] | None,
                 budget: Any, seed: int, ablate: bool, empirical: bool, command: str | None,
                 started: str) -> RunResults:
    """The ``verify all`` document from one ``(entries, references)`` part per planned family.

    For runs that judge the planned checks elsewhere (on workers:
    ``theorycheck.sweeps.run_all_parallel``), so that they write the document
    :func:`run_all` writes.
    """
    from .results import Budget

    entries: list[RunEntry] = []
    references: dict = {}
    for part_entries, part_refs in parts:
        entries.extend(part_entries)
        for key, ref in part_refs.items():
            references.setdefault(key, ref)
    total = sum(len(pf.checks) for pf in plans)
    shared = Budget.coerce(budget) if budget is not None else default_all_budget(total)
    if command is None:
        command = _all_command(options, seed=seed, budget=budget, ablate=ablate, empirical=empirical)
    return RunResults(entries=entries, seed=seed, command=command, started=started, budget=_budget_dict(shared),
                      references=references, family="all", options=_all_options(options, plans, empirical),
                      versions=package_versions(), complete=True)
