"""Time to the first confirmed counterexample on the needle suite (issue 13), three searchers.

* **theorycheck**: ``judge(claim, seed=0)`` at the default budget; the time is taken when
  the first counterexample is confirmed in high precision (shrinking afterwards is not
  counted).
* **hypothesis**: Hypothesis alone, ``@given`` over ``hypothesis.extra.numpy`` arrays of each
  input's shape (entries in ``[-2 scale, 2 scale]``, projected onto the input's space), up to
  10,000 examples; a float violation is confirmed with the same high-precision rule.
* **lbfgs**: a plain scipy L-BFGS-B random restart on the normalised slack of the projected
  inputs (finite-difference gradients, numpy evaluation), restarts drawn with
  ``Space.sample``, until a confirmed violation or the time limit.

Every searcher gets :data:`LIMIT` seconds per needle; ``-`` means not found within it.
One run, seed 0, on whatever machine runs it (print the table in the closing note).

Usage::

    python benchmarks/bench_search.py
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

#: Seconds each searcher gets per needle.
LIMIT = 10.0


def _confirmed(claim, params, inputs, lhs, rhs) -> bool:
    from theorycheck.engine.confirm import confirm_relation

    conf = confirm_relation(claim.evaluate, inputs, params, claim.relation, rtol=claim.rtol, atol=claim.atol,
                            float_values=(lhs, rhs))
    return conf.status == "violated"


def _float_violation(claim, params, inputs):
    from theorycheck.engine.calling import invoke
    from theorycheck.engine.confirm import violation

    with np.errstate(all="ignore"):
        lhs, rhs = invoke(claim.evaluate, inputs, params)
    lhs, rhs = float(lhs), float(rhs)
    return violation(claim.relation, lhs, rhs), lhs, rhs


def time_theorycheck(claim) -> float | None:
    import theorycheck.engine.search as search
    from theorycheck.engine import Verdict, judge

    found: list[float] = []
    original = search.confirm_relation

    def timed(*args, **kwargs):
        conf = original(*args, **kwargs)
        if conf.status == "violated" and not found:
            found.append(time.perf_counter())
        return conf

    search.confirm_relation = timed
    try:
        t0 = time.perf_counter()
        result = judge(claim, seed=0)
    finally:
        search.confirm_relation = original
    if result.verdict is not Verdict.REFUTED or not found:
        return None
    return found[0] - t0


class _Found(Exception):
    pass


def time_hypothesis(claim) -> float | None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as hst
    from hypothesis.extra import numpy as hnp

    params = claim.resolve_params(None)
    spaces = claim.spaces(params, claim.active_assumptions())
    strategy = hst.fixed_dictionaries({
        k: hnp.arrays(np.float64, s.shape, elements=hst.floats(-2 * s.scale, 2 * s.scale, allow_nan=False))
        for k, s in spaces.items()})
    t0 = time.perf_counter()

    @settings(max_examples=10_000, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @hseed(0)
    @given(strategy)
    def search(raw):
        if time.perf_counter() - t0 > LIMIT:
            raise _Found("timeout")
        inputs = {k: np.asarray(spaces[k].project(np.array(v)), dtype=np.float64) for k, v in raw.items()}
        v, lhs, rhs = _float_violation(claim, params, inputs)
        if math.isfinite(v) and (v > 0 or (claim.relation in "<>" and v >= 0)) and _confirmed(
                claim, params, inputs, lhs, rhs):
            raise _Found("found")

    try:
        search()
    except _Found as exc:
        return time.perf_counter() - t0 if str(exc) == "found" else None
    except Exception:  # noqa: BLE001 - an evaluator error (NaN at u = 0, say) ends this searcher
        return None
    return None


def time_lbfgs(claim) -> float | None:
    from scipy.optimize import minimize

    params = claim.resolve_params(None)
    spaces = claim.spaces(params, claim.active_assumptions())
    keys = list(spaces)
    shapes = [spaces[k].shape for k in keys]
    sizes = [int(np.prod(s)) for s in shapes]
    rng = np.random.default_rng(0)

    def unpack(x):
        out, at = {}, 0
        for k, sh, sz in zip(keys, shapes, sizes):
            out[k] = np.asarray(spaces[k].project(x[at:at + sz].reshape(sh)), dtype=np.float64)
            at += sz
        return out

    def objective(x):
        try:
            v, lhs, rhs = _float_violation(claim, params, unpack(x))
        except Exception:  # noqa: BLE001
            return 1e300
        return -v / max(1.0, abs(lhs), abs(rhs)) if math.isfinite(v) else 1e300

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < LIMIT:
        x0 = np.concatenate([np.asarray(spaces[k].sample(rng), dtype=np.float64).ravel() for k in keys])
        res = minimize(objective, x0, method="L-BFGS-B")
        inputs = unpack(res.x)
        v, lhs, rhs = _float_violation(claim, params, inputs)
        if math.isfinite(v) and (v > 0 or (claim.relation in "<>" and v >= 0)) and _confirmed(
                claim, params, inputs, lhs, rhs):
            return time.perf_counter() - t0
    return None


def main() -> None:
    import test_needles as needles

    import hypothesis  # noqa: F401 - imported once, outside every timing
    import scipy.optimize  # noqa: F401

    rows = []
    for name, make in sorted(needles.FALSE.items()):
        times = {}
        for label, fn in (("theorycheck", time_theorycheck), ("hypothesis", time_hypothesis),
                          ("lbfgs", time_lbfgs)):
            times[label] = fn(make())
        rows.append((name, times))
        print(".", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)

    def cell(t):
        return "-" if t is None else f"{t:.3f}"

    print(f"{'needle':22s} {'theorycheck s':>14s} {'hypothesis s':>13s} {'lbfgs s':>9s} {'tc / lbfgs':>10s}")
    for name, t in rows:
        ratio = (f"{t['theorycheck'] / t['lbfgs']:.1f}" if t["theorycheck"] is not None and t["lbfgs"]
                 else "-")
        print(f"{name:22s} {cell(t['theorycheck']):>14s} {cell(t['hypothesis']):>13s} {cell(t['lbfgs']):>9s} "
              f"{ratio:>10s}")
    found = [t["theorycheck"] for _, t in rows if t["theorycheck"] is not None]
    missed = [n for n, t in rows if t["theorycheck"] is None and (t["hypothesis"] is not None or
                                                                  t["lbfgs"] is not None)]
    print(f"\ntheorycheck found {len(found)}/{len(rows)}; median {statistics.median(found):.3f} s"
          if found else "\ntheorycheck found none")
    print("needles a peer found and theorycheck missed:", ", ".join(missed) or "none")


if __name__ == "__main__":
    main()
