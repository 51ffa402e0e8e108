"""Sweeps: one claim judged at every point of a parameter grid, here or on a Dask cluster.

A theorem's statement is a region of parameter space; :func:`sweep` maps it. Each grid
point is one task for :mod:`theorycheck.parallel` carrying the claim's *name* (a
registered id or a ``FILE.py::NAME`` target), the point's parameters, the seed and the
budget; the worker loads the claim itself and judges it with
:func:`theorycheck.engine.families.run_checks`, so a point's record is exactly the claim
entry that ``theorycheck check`` would write. Points come back in grid order whatever
order the workers finish in.

A point whose parameters the claim rejects is ``INVALID`` (with the message), one whose
judging raised is ``ERROR`` and one whose worker died is ``WORKER-DIED``; the sweep goes
on. Interrupted (Ctrl-C), it cancels what is outstanding, marks it ``CANCELLED``, writes
the points already judged and re-raises ``KeyboardInterrupt``.

This is not :class:`theorycheck.engine.sweep.Sweep`: that is a claim's own declared
one-parameter sweep, recorded inside its evidence.

Examples
--------
>>> from theorycheck.sweeps import parse_grid
>>> parse_grid(["K=2:5", "tau=0.05,0.1"])
[('K', [2, 3, 4, 5]), ('tau', [0.05, 0.1])]
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import itertools
import json
import logging
import math
import os
import shlex
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from ._validation import InvalidArgumentError, check_bool, check_int, fail, fail_type

__all__ = ["sweep", "SweepResult", "parse_grid", "parse_axis", "judge_point", "key_figure", "run_all_parallel",
           "SWEEP_SCHEMA", "VERDICT_ORDER", "MAX_POINTS"]

logger = logging.getLogger("theorycheck.sweeps")

#: ``schema`` field of ``sweep.json``.
SWEEP_SCHEMA = "theorycheck-sweep/1"
#: Every verdict a point can get: the engine's four, then the sweep's own.
VERDICT_ORDER = ("HOLDS", "REFUTED", "VACUOUS", "INCONCLUSIVE", "INVALID", "ERROR", "WORKER-DIED", "CANCELLED")
#: Largest grid accepted (a typo such as ``K=2:20000`` should not start a day of judging).
MAX_POINTS = 100_000
#: Evidence fields shown as a point's key figure, the first one present wins.
KEY_FIGURES = ("margin", "informative_fraction", "gap", "worst_slack", "max_distance")


# --------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------

def _scalar(token: str) -> Any:
    """``"3"`` -> 3, ``"0.1"`` -> 0.1, anything else stays a string (the claim converts it)."""
    text = token.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def _range(name: str, text: str, caller: str) -> list:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (2, 3) or not all(parts):
        raise fail(f"--grid {name}", caller, "START:STOP or START:STOP:STEP (inclusive)", text)
    nums = [_scalar(p) for p in parts]
    if not all(isinstance(v, (int, float)) for v in nums):
        raise fail(f"--grid {name}", caller, "a range of numbers START:STOP[:STEP]", text)
    start, stop = nums[0], nums[1]
    if len(nums) == 2:
        if not (isinstance(start, int) and isinstance(stop, int)):
            raise fail(f"--grid {name}", caller, "a STEP for a range of reals (e.g. 0.1:0.5:0.1)", text)
        step: Any = 1
    else:
        step = nums[2]
    if step <= 0 or stop < start:
        raise fail(f"--grid {name}", caller, "START <= STOP and a STEP > 0", text)
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > MAX_POINTS:
        raise fail(f"--grid {name}", caller, f"at most {MAX_POINTS} values", text)
    if all(isinstance(v, int) for v in (start, stop, step)):
        return list(range(start, stop + 1, step))
    # reals: START + i STEP, rounded so that 0.1 + 2 * 0.1 prints as 0.3
    return [float(f"{start + i * step:.12g}") for i in range(count)]


def parse_axis(spec: str, caller: str = "theorycheck sweep") -> tuple[str, list]:
    """``"NAME=VALUES"`` -> ``(name, values)``; VALUES is ``a,b,c`` or ``START:STOP[:STEP]``.

    Integer ranges include STOP (``K=2:12`` is 2, 3, ..., 12); ranges of reals need a STEP.

    Examples
    --------
    >>> parse_axis("b=2:8:3"), parse_axis("tau=0.1:0.3:0.1"), parse_axis("batches=all,subset")
    (('b', [2, 5, 8]), ('tau', [0.1, 0.2, 0.3]), ('batches', ['all', 'subset']))
    """
    if not isinstance(spec, str):
        raise fail_type("--grid", caller, "NAME=VALUES (e.g. K=2:12 or tau=0.05,0.1)", spec)
    name, sep, text = spec.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or not text.strip():
        raise fail("--grid", caller, "NAME=VALUES (e.g. K=2:12 or tau=0.05,0.1)", spec)
    if ":" in text and "," not in text:
        return name, _range(name, text, caller)
    values = [_scalar(t) for t in text.split(",")]
    if any(v == "" for v in values):
        raise fail(f"--grid {name}", caller, "a comma-separated list without empty items", text)
    return name, values


def parse_grid(grid: Any, caller: str = "theorycheck sweep") -> list[tuple[str, list]]:
    """Axes as ``[(name, values), ...]`` from ``["K=2:12", ...]`` or ``{"K": range(2, 13), ...}``."""
    if isinstance(grid, Mapping):
        axes = []
        for name, values in grid.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise fail("grid", caller, "parameter names as keys", name)
            if isinstance(values, str):
                axes.append(parse_axis(f"{name}={values}", caller))
                continue
            if not isinstance(values, Iterable):
                raise fail_type(f"grid[{name!r}]", caller, "a sequence of values", values)
            values = list(values)
            if not values:
                raise fail(f"grid[{name!r}]", caller, "at least one value", values)
            axes.append((name, values))
    elif isinstance(grid, (list, tuple)):
        axes = [parse_axis(spec, caller) for spec in grid]
    else:
        raise fail_type("grid", caller, "a dict {name: values} or a list of 'NAME=VALUES' strings", grid)
    if not axes:
        raise fail("grid", caller, "at least one axis (--grid NAME=VALUES)", grid)
    names = [n for n, _ in axes]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise fail("--grid", caller, "each parameter once", dup)
    size = math.prod(len(v) for _, v in axes)
    if size > MAX_POINTS:
        raise fail("--grid", caller, f"at most {MAX_POINTS} points in all", f"{size} points")
    return axes


def grid_points(axes: Sequence[tuple[str, list]]) -> list[dict]:
    """Every point of the grid, the last axis varying fastest (the grid order)."""
    names = [n for n, _ in axes]
    return [dict(zip(names, combo)) for combo in itertools.product(*(v for _, v in axes))]


# --------------------------------------------------------------------------------------
# One point (runs on a worker)
# --------------------------------------------------------------------------------------

def _is_file_or_module(target: str) -> bool:
    return "::" in target or target.endswith(".py") or ":" in target


def _load_one(target: str):
    from .claims import load_claims

    claims = load_claims(target)  # a registered id loads the shipped claims; a file only itself
    if len(claims) != 1:
        raise fail("target", "theorycheck sweep", "one claim (FILE.py::NAME or a claim id)",
                   f"{target} ({len(claims)} claims)")
    return claims[0]


def _reproduce(task: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    cmd = ["theorycheck", "check", task["target"]]
    for name, value in params.items():
        cmd += ["--param", f"{name}={value!r}" if isinstance(value, float) else f"{name}={value}"]
    if task.get("ablate"):
        cmd.append("--ablate")
    cmd += ["--seed", str(task["seed"])]
    budget = task.get("budget") or {}
    if budget.get("seconds") is not None:
        cmd += ["--budget", f"{budget['seconds']:g}"]
    if budget.get("examples") is not None:
        cmd += ["--examples", str(budget["examples"])]
    return shlex.join(cmd)


@contextlib.contextmanager
def module_independent_hypothesis():
    """Judge without Hypothesis' draws of "local constants" (numbers read from the source of
    every non-library module in ``sys.modules``, drawn about once in 20).

    Which modules a process has loaded depends on its history (a CLI process, a fresh
    worker, a worker that ran other tasks), so with those draws the same point, seed and
    budget could give different inputs on different workers. Inside this context the pool
    is empty everywhere; the cache of pools is cleared on the way in and out.
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants

        getter = providers._get_local_constants
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):  # a Hypothesis without the feature: nothing to pin
        yield
        return
    empty = Constants()
    cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = getter
        cache.clear()


def judge_point(task: Mapping[str, Any]) -> dict:
    """Judge one grid point; the task is plain data, the answer too.

    Parameters
    ----------
    task : dict
        ``{"target", "params", "seed", "budget": {"seconds", "examples"}, "ablate"}``.

    Returns
    -------
    dict
        ``{"status": "judged", "result": <claim entry of the results document>}``, or
        ``{"status": "invalid" | "error", "error": {...}}``; ``seconds`` in both.
    """
    from .engine.families import Check, coerce_param_value, run_checks
    from .engine.results import Budget, to_jsonable
    from .parallel import failure_record

    started = time.perf_counter()
    try:
        claim = _load_one(task["target"])
        try:
            params = {name: coerce_param_value(claim.param(name), value, f"claim {claim.id!r}",
                                               display=name) for name, value in task["params"].items()}
            claim.resolve_params(params)
        except InvalidArgumentError as exc:
            return {**failure_record(exc, status="invalid"), "seconds": time.perf_counter() - started}
        budget = Budget(**{k: v for k, v in (task.get("budget") or {}).items() if k in ("seconds", "examples")})
        target = None if task["target"] == claim.id else task["target"]
        reproduce = _reproduce(task, params)
        with module_independent_hypothesis():
            results = run_checks([Check(claim=claim, params=params, reproduce=reproduce, target=target)],
                                 budget=budget, seed=task["seed"], ablate=bool(task.get("ablate")),
                                 progress=False, command=reproduce)
        entry = to_jsonable(results.entries[0].to_dict())
    except InvalidArgumentError as exc:  # a value the claim's inputs reject (b > N, ...): this point only
        return {**failure_record(exc, status="invalid"), "seconds": time.perf_counter() - started}
    except Exception as exc:  # noqa: BLE001 - one point's failure is recorded; the sweep goes on
        return {**failure_record(exc), "seconds": time.perf_counter() - started}
    return {"status": "judged", "result": entry, "seconds": time.perf_counter() - started}


def key_figure(entry: Mapping[str, Any] | None) -> tuple[str | None, float | None]:
    """The number shown in a point's cell: the counterexample's margin, else the first of
    :data:`KEY_FIGURES` in the evidence."""
    if not isinstance(entry, Mapping):
        return None, None
    cx = entry.get("counterexample")
    if isinstance(cx, Mapping) and isinstance(cx.get("margin"), (int, float)) and not isinstance(cx["margin"], bool):
        return "margin", float(cx["margin"])
    evidence = entry.get("evidence") or {}
    for name in KEY_FIGURES:
        value = evidence.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return name, float(value)
    return None, None


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------

def _verdict_of(point: Mapping[str, Any]) -> str:
    status = point.get("status")
    if status == "judged":
        return str((point.get("result") or {}).get("verdict", "")).upper()
    return str(status or "cancelled").upper()


@dataclass
class SweepResult:
    """Every point of a sweep, in grid order.

    ``points[i]`` is ``{"index", "params", "verdict", "status", "key", "key_value",
    "error", "seconds", "result"}`` with ``result`` the full claim entry (the results
    document's, ``docs/json-schema.md``) of a judged point. :meth:`records` is the flat
    table (``pandas.DataFrame(result.records())`` if you have pandas).
    """

    target: str
    claim_id: str
    axes: list
    points: list
    seed: int = 0
    budget: dict = field(default_factory=dict)
    ablate: bool = False
    command: str = ""
    started: str = ""
    seconds: float = 0.0
    interrupted: bool = False
    files: dict = field(default_factory=dict)

    @property
    def axis_names(self) -> list[str]:
        return [n for n, _ in self.axes]

    @property
    def verdicts(self) -> list[str]:
        return [p["verdict"] for p in self.points]

    def counts(self) -> dict[str, int]:
        """Points per verdict (every verdict present, in :data:`VERDICT_ORDER`)."""
        out = {v: 0 for v in VERDICT_ORDER}
        for v in self.verdicts:
            out[v] = out.get(v, 0) + 1
        return {k: n for k, n in out.items() if n}

    def records(self) -> list[dict]:
        """One flat dict per point: the grid values, verdict, key figure, error, seconds."""
        rows = []
        for p in self.points:
            err = p.get("error") or {}
            rows.append({"index": p["index"], **p["params"], "verdict": p["verdict"], "key": p.get("key"),
                         "key_value": p.get("key_value"),
                         "error": f"{err.get('type')}: {err.get('message')}" if err else None,
                         "seconds": p.get("seconds")})
        return rows

    to_frame = records  # the tabular view; a list of records (no pandas dependency)

    def to_dict(self) -> dict:
        """The ``sweep.json`` document (no word of where it ran: any executor gives the same)."""
        from .engine.families import package_versions

        return {"schema": SWEEP_SCHEMA, "target": self.target, "claim": self.claim_id, "command": self.command,
                "started": self.started, "seconds": round(self.seconds, 3), "seed": self.seed,
                "budget": dict(self.budget), "ablate": self.ablate, "interrupted": self.interrupted,
                "axes": [{"name": n, "values": list(v)} for n, v in self.axes],
                "counts": self.counts(), "versions": package_versions(), "points": copy.deepcopy(self.points)}

    def write(self, out: str | os.PathLike, *, figure: bool = True) -> dict:
        """Write ``sweep.json``, ``sweep.md`` and (``figure``) ``phase.png`` / ``phase.svg`` into ``out``.

        Each file is written to a temporary name and renamed, so a reader never sees half a file.
        """
        from .engine.results import to_jsonable

        folder = os.fspath(out)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise fail("--out", "theorycheck sweep", f"a folder that can be created ({exc.strerror})", folder) from None
        files = {}
        text = json.dumps(to_jsonable(self.to_dict()), indent=2, allow_nan=False, ensure_ascii=False) + "\n"
        files["json"] = _atomic_write(os.path.join(folder, "sweep.json"), text.encode("utf-8"))
        if figure:
            from .report.phase import phase_diagram, save_phase

            fig = phase_diagram(self)
            files.update(save_phase(fig, folder, "phase", writer=_atomic_write))
        files["markdown"] = _atomic_write(os.path.join(folder, "sweep.md"),
                                          render_sweep_markdown(self, files).encode("utf-8"))
        self.files = files
        return files


def _atomic_write(path: str, data: bytes) -> str:
    from .report.durable import atomic_write_bytes  # one implementation of atomic writes

    return atomic_write_bytes(path, data)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def render_sweep_markdown(result: SweepResult, files: Mapping[str, str] | None = None) -> str:
    """``sweep.md``: what was swept, counts per verdict, the figure, one row per point."""
    files = files or {}
    lines = [f"# Sweep of `{result.claim_id}`", ""]
    if result.target != result.claim_id:
        lines += [f"Target: `{result.target}`", ""]
    lines += [f"Command: `{result.command}`", "",
              "Axes: " + "; ".join(f"{n} = {', '.join(_fmt(v) for v in vals)}" for n, vals in result.axes), "",
              f"Seed {result.seed}, budget {result.budget}, {len(result.points)} points in "
              f"{result.seconds:.1f} s" + (" (interrupted: unjudged points are CANCELLED)" if result.interrupted
                                           else "") + ".", "",
              "| verdict | points |", "|---|---|"]
    lines += [f"| {v} | {n} |" for v, n in result.counts().items()]
    if "png" in files:
        lines += ["", f"![Phase diagram of {result.claim_id}]({os.path.basename(files['png'])})"]
    names = result.axis_names
    lines += ["", "| # | " + " | ".join(names) + " | verdict | key figure | note |",
              "|---" * (len(names) + 4) + "|"]
    for r in result.records():
        key = f"{r['key']} = {_fmt(r['key_value'])}" if r["key"] else ""
        note = (r["error"] or "").replace("|", "\\|")
        if len(note) > 160:
            note = note[:157] + "..."
        lines.append(f"| {r['index']} | " + " | ".join(_fmt(r[n]) for n in names)
                     + f" | {r['verdict']} | {key} | {note} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Running a sweep
# --------------------------------------------------------------------------------------

def _target_name(target: Any, caller: str) -> str:
    """A target a worker can load: a claim id, or ``FILE.py::NAME`` with an absolute path."""
    claim_id = getattr(target, "id", None)
    if claim_id is not None:  # a Claim object: only a registered one can travel (by its id)
        from .engine import registry

        if claim_id in registry.ids() and registry.get(claim_id) is target:
            return claim_id
        raise fail("target", caller, "a registered claim id or a 'FILE.py::NAME' target (claim objects "
                                     "do not travel to workers)", claim_id)
    if not isinstance(target, str) or not target.strip():
        raise fail_type("target", caller, "a claim id or 'FILE.py::NAME'", target)
    target = target.strip()
    path, sep, name = target.partition("::")
    if path.endswith(".py"):
        # workers may run in another folder: ship the absolute path (a cluster needs a shared filesystem)
        return os.path.abspath(path) + sep + name
    return target


def _command(target: str, axes, seed, budget: dict, ablate: bool) -> str:
    cmd = ["theorycheck", "sweep", target]
    for name, values in axes:
        cmd += ["--grid", f"{name}=" + ",".join(_fmt_exact(v) for v in values)]
    if ablate:
        cmd.append("--ablate")
    if budget.get("seconds") is not None:
        cmd += ["--budget", f"{budget['seconds']:g}"]
    if budget.get("examples") is not None:
        cmd += ["--examples", str(budget["examples"])]
    cmd += ["--seed", str(seed)]
    return shlex.join(cmd)


def _fmt_exact(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _sweep_budget(budget: Any, examples: Any, caller: str) -> dict:
    """``{"seconds", "examples"}``. With examples and no seconds there is no deadline, so the
    work, and with it every verdict, is fixed by the examples alone: identical on 1 or 64 workers."""
    from .engine.results import Budget

    if examples is not None:
        examples = check_int(examples, "examples", caller, min_value=1)
    if isinstance(budget, Budget):
        return {"seconds": budget.seconds, "examples": budget.examples if examples is None else examples}
    if budget is None:
        return {"seconds": None if examples is not None else Budget().seconds, "examples": examples}
    seconds = Budget.coerce(budget).seconds
    return {"seconds": seconds, "examples": examples}


def _point_record(index: int, params: dict, value: Any) -> dict:
    value = value if isinstance(value, Mapping) else {"status": "error", "error": {"type": "TypeError",
                                                                                   "message": repr(value)}}
    point = {"index": index, "params": params, "status": value.get("status", "error"),
             "seconds": value.get("seconds"), "error": value.get("error"), "result": value.get("result")}
    point["verdict"] = _verdict_of(point)
    point["key"], point["key_value"] = key_figure(point["result"])
    return point


def sweep(target: Any, grid: Any, *, seed: int = 0, budget: Any = None, examples: int | None = None,
          ablate: bool = False, workers: int | None = None, scheduler: str | None = None,
          out: str | os.PathLike | None = None, figure: bool = True,
          on_point: Callable[[dict], None] | None = None) -> SweepResult:
    """Judge a claim at every point of a parameter grid.

    Parameters
    ----------
    target : str or Claim
        A registered claim id (``"graf2021.sc.simplex"``) or ``"FILE.py::NAME"``; a
        registered Claim object is accepted (it travels by its id).
    grid : dict or list of str
        ``{"K": range(2, 13), "tau": [0.05, 0.1]}`` or ``["K=2:12", "tau=0.05,0.1"]``
        (integer ranges include their end). Names must be parameters of the claim; values
        the claim rejects make their points ``INVALID``, not an error.
    seed : int
        Seed of every point (the same seed gives the same verdicts).
    budget : float or Budget, optional
        Seconds per point (a deadline). Default 5 s, or no deadline when ``examples`` is given.
    examples : int, optional
        Random inputs per point. With ``examples`` and no ``budget`` the sweep's JSON does
        not depend on machine speed nor on the number of workers (timings aside).
    ablate : bool
        Judge each assumption dropped in turn at every point as well.
    workers : int, optional
        Run on a local Dask cluster of this many processes (needs ``theorycheck[dask]``).
    scheduler : str, optional
        Run on the Dask cluster whose scheduler is at this address (``tcp://host:port``).
    out : path, optional
        Folder for ``sweep.json``, ``sweep.md`` and the phase diagram (``phase.png``, ``phase.svg``).
    figure : bool
        Draw the phase diagram when writing ``out``.
    on_point : callable, optional
        Called with each point's record as it completes (progress display).

    Returns
    -------
    SweepResult

    Raises
    ------
    InvalidArgumentError
        An unknown target, an axis that is not a parameter of the claim, a malformed grid.
    MissingDependencyError
        ``workers``/``scheduler`` without Dask installed.
    KeyboardInterrupt
        After writing the points judged so far (others ``CANCELLED``) when ``out`` is given.

    Examples
    --------
    >>> res = sweep("graf2021.simplex.gram", {"K": [2, 3]}, examples=20, figure=False)  # doctest: +SKIP
    >>> [r["verdict"] for r in res.records()]  # doctest: +SKIP
    ['HOLDS', 'HOLDS']
    """
    from .parallel import Executor

    caller = "theorycheck.sweep"
    seed = check_int(seed, "seed", caller, min_value=0)
    ablate = check_bool(ablate, "ablate", caller)
    name = _target_name(target, caller)
    axes = parse_grid(grid, caller)
    claim = _load_one(name)  # here too: a wrong target or axis fails before any cluster starts
    for axis, _ in axes:
        if axis not in claim.param_names:
            raise fail("--grid", caller, f"a parameter of {claim.id} ({', '.join(claim.param_names) or 'none'})",
                       axis)
    budget_d = _sweep_budget(budget, examples, caller)
    points = grid_points(axes)
    tasks = [{"target": name, "params": p, "seed": seed, "budget": budget_d, "ablate": ablate} for p in points]
    records: list = [None] * len(points)

    def keep(i: int, value: Any) -> None:
        records[i] = _point_record(i, points[i], value)
        if on_point is not None:
            on_point(records[i])

    started, t0 = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(), time.perf_counter()
    result = SweepResult(target=name, claim_id=claim.id, axes=axes, points=records, seed=seed, budget=budget_d,
                         ablate=ablate, command=_command(name, axes, seed, budget_d, ablate), started=started)
    logger.info("sweeping %s over %d point(s)", claim.id, len(points))
    try:
        # a shipped claim: import every claim module on each worker up front (the tasks need them);
        # a user's file: nothing to warm, each worker imports just that file
        with Executor(workers, scheduler, warm=not _is_file_or_module(name)) as ex:
            ex.map(judge_point, tasks, keep)
    except KeyboardInterrupt:
        result.interrupted = True
        _finish(result, points, t0)
        if out is not None:
            result.write(out, figure=figure)
            logger.warning("interrupted: wrote %d judged point(s) to %s",
                           sum(p["status"] != "cancelled" for p in result.points), out)
        raise
    _finish(result, points, t0)
    if out is not None:
        result.write(out, figure=figure)
    return result


def _finish(result: SweepResult, points: list, t0: float) -> None:
    for i, p in enumerate(result.points):
        if p is None:
            result.points[i] = _point_record(i, points[i], {"status": "cancelled"})
    result.seconds = time.perf_counter() - t0


# --------------------------------------------------------------------------------------
# ``verify all`` on workers
# --------------------------------------------------------------------------------------

def judge_family_check(task: Mapping[str, Any]) -> dict:
    """Judge check ``task["index"]`` of family ``task["family"]`` as ``verify all`` plans it.

    The worker plans the family again (claims do not pickle; a family may hand over
    stand-in claim objects), with the budget the main process chose, and returns the
    claim entry and its references as plain data.
    """
    from .claims import load_all
    from .engine.families import family_option_names, plan_all, run_checks
    from .engine.results import Budget, to_jsonable

    load_all()
    budget = Budget(**task["budget"])
    plan = plan_all(task["options"], empirical=task["empirical"], budget=budget, seed=task["seed"],
                    ablate=task["ablate"], names=[task["family"]])[0]
    check = plan.checks[task["index"]]
    part = run_checks([check], budget=plan.budget, seed=task["seed"], ablate=task["ablate"], progress=False,
                      command=task.get("command"), family=plan.family.name,
                      options={k: plan.params[k] for k in family_option_names(plan.family)})
    return {"status": "judged", "entry": to_jsonable(part.entries[0].to_dict()),
            "references": to_jsonable(part.references)}


def run_all_parallel(options: Mapping[str, Any] | None = None, *, budget: Any = None, seed: int = 0,
                     ablate: bool = False, empirical: bool = False, workers: int | None = None,
                     scheduler: str | None = None, progress: Any = None, command: str | None = None,
                     on_result: Any = None, fail_fast: bool = True, validate: bool = False,
                     previous: Mapping[str, Any] | None = None):
    """:func:`theorycheck.engine.families.run_all` with every claim a task on Dask.

    Same document as the sequential run (timings aside): the same plan, the entries in
    plan order. A claim that errors on its worker, or whose worker dies, makes the run
    fail with its message (as a sequential run would), after the others have finished.
    """
    from .engine.families import assemble_all, plan_all, _budget_dict, _now
    from .engine.families import RunResults
    from .progress import Progress
    from .parallel import Executor

    caller = "theorycheck verify all"
    seed = check_int(seed, "seed", caller, min_value=0)
    if previous:
        raise fail("--resume", caller, "a run without --workers/--scheduler (a parallel run is not resumed; "
                                       "resume it sequentially)", "--workers")
    plans = plan_all(options, empirical=empirical, budget=budget, seed=seed, ablate=ablate)
    if validate:  # every claim's sizes before the first task is sent
        from .engine.families import validate_checks

        validate_checks([c for pf in plans for c in pf.checks])
    tasks, where = [], []
    for pf in plans:
        mine = {k: v for k, v in dict(options or {}).items() if v is not None and k in pf.params}
        for i in range(len(pf.checks)):
            tasks.append({"family": pf.family.name, "options": mine, "empirical": empirical,
                          "budget": _budget_dict(pf.budget), "seed": seed, "ablate": ablate, "index": i,
                          "command": command})
            where.append(pf.checks[i].claim)
    values: list = [None] * len(tasks)
    bar = progress if isinstance(progress, Progress) else Progress(
        max(len(tasks), 1), enabled=None if progress is None else bool(progress))
    started = _now()

    def keep(i: int, value: Any) -> None:
        values[i] = value
        bar.advance(str(getattr(where[i], "id", where[i])))

    try:
        with Executor(workers, scheduler) as ex:
            ex.map(judge_family_check, tasks, keep)
    finally:
        if bar is not progress:
            bar.close()
    failed = [(where[i], v) for i, v in enumerate(values) if not (isinstance(v, Mapping) and v.get("status") == "judged")]
    if failed:
        claim, value = failed[0]
        err = (value or {}).get("error") or {}
        from .engine.errors import ClaimError

        raise ClaimError(str(getattr(claim, "id", claim)), f"failed on its worker: {err.get('type')}: "
                                                           f"{err.get('message')}")
    parts, k = [], 0
    for pf in plans:
        mine = values[k:k + len(pf.checks)]
        k += len(pf.checks)
        doc = {"claims": [v["entry"] for v in mine], "seed": seed, "command": command or ""}
        refs: dict = {}
        for v in mine:
            for key, ref in v["references"].items():
                refs.setdefault(key, ref)
        parts.append((RunResults.from_dict(doc).entries, refs))
    results = assemble_all(plans, parts, options=options, budget=budget, seed=seed, ablate=ablate,
                           empirical=empirical, command=command, started=started)
    if on_result is not None:  # the entries come back together: one write, of the whole run
        on_result(results)
    return results
