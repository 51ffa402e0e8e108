"""Search for inputs that break an identity or inequality.

Phases, in order, all drawing from the claim's input spaces (so every input satisfies
the active assumptions), all seeded:

1. *special* inputs: each space's structured values (collapsed, degenerate, extreme
   norms, boundary configurations), combined across inputs;
2. *hypothesis*: random search driven by hypothesis, used programmatically (``@given``
   with ``@seed(seed)``, no database, generate phase only);
3. *random*: seeded numpy sampling (``Space.sample``);
4. *adversarial*: local optimisation of the normalised slack from the worst inputs
   seen -- projected Adam on torch autograd, each step followed by ``Space.project``;
   derivative-free projected hill climbing when the evaluator does not run on torch.

The slack of ``lhs <relation> rhs`` is ``-violation`` (negative = fails in float);
inputs are ranked by the normalised slack ``slack / max(1, |lhs|, |rhs|)``. A float
failure is only a *candidate*: :func:`theorycheck.engine.confirm.confirm_relation`
decides it in high precision, worst candidates first.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from .._validation import is_torch
from .confirm import Confirmation, confirm_relation, violation
from .domain import all_discarded_reason, domain_evidence, note_discarded, run_examples
from .errors import ClaimError, Discarded
from .calling import invoke
from .evaluation import call_evaluator, describe_inputs, export_inputs, scalar_out, to_mode
from .optim.strategies import AdamMoments
from .results import JudgeContext

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None  # type: ignore[assignment]

__all__ = ["call_evaluator", "export_inputs", "to_mode", "describe_inputs", "SearchState",
           "search_relation", "search_evidence"]

#: A float candidate whose normalised violation exceeds this is confirmed at once (it is far
#: above any float noise); smaller ones wait and are confirmed worst-first after the phase.
_CONFIRM_AT_ONCE = 1e-6


class _Stop(Exception):
    """Internal: ends the hypothesis phase early (deadline or confirmed counterexample)."""


# --------------------------------------------------------------------------- state


@dataclasses.dataclass
class _Candidate:
    inputs: dict
    lhs: float
    rhs: float
    rel_slack: float
    phase: str


@dataclasses.dataclass
class SearchState:
    """What the search has seen so far (turned into the evidence of the verdict)."""

    tried: dict = dataclasses.field(default_factory=lambda: {"special": 0, "hypothesis": 0, "random": 0,
                                                             "adversarial": 0})
    worst: list = dataclasses.field(default_factory=list)  # _Candidate, sorted by rel_slack
    pending: list = dataclasses.field(default_factory=list)  # float candidates not yet confirmed
    float_candidates: int = 0
    dismissed: int = 0
    undecided: list = dataclasses.field(default_factory=list)  # (Confirmation, _Candidate)
    confirmations: int = 0
    confirmed: tuple | None = None  # (Confirmation, _Candidate)
    non_finite: int = 0
    informative: int = 0
    trivial_checked: int = 0
    adversarial_steps: int = 0
    adversarial_method: str = ""
    stopped_by: str = "plan"
    hypothesis_skipped: bool = False
    not_rechecked: int = 0

    @property
    def total(self) -> int:
        return sum(self.tried.values())


class _Search:
    """One search of one claim at one parameter setting (see the module docstring)."""

    def __init__(self, ctx: JudgeContext, *, keep_worst: int = 8, quick: bool = False):
        self.ctx = ctx
        self.claim = ctx.claim
        self.p = ctx.params
        self.spaces = ctx.spaces
        self.plan = ctx.plan
        self.rng = ctx.rng
        self.state = SearchState()
        self.keep_worst = max(keep_worst, 4 * self.plan.adversarial_starts)
        self.quick = quick
        self._abort: BaseException | None = None
        self.phase_deadline: float | None = None

    # -- bookkeeping
    def time_up(self) -> bool:
        now = time.monotonic()
        if (self.ctx.deadline is not None and now >= self.ctx.deadline) or (
                self.phase_deadline is not None and now >= self.phase_deadline):
            self.state.stopped_by = "deadline"
            return True
        return False

    def start_phase(self, share: float) -> None:
        """Give the next phase ``share`` of the time left, so a slow phase cannot starve the others."""
        left = self.ctx.time_left()
        self.phase_deadline = None if math.isinf(left) else time.monotonic() + share * max(left, 0.0)

    def done(self) -> bool:
        return self.state.confirmed is not None or self.time_up()

    def consider(self, inputs: dict, phase: str, float_values: tuple | None = None) -> float | None:
        """Evaluate one input in float64 and record it; returns its normalised slack."""
        claim = self.claim
        if float_values is None:
            try:
                lhs, rhs = call_evaluator(claim, inputs, self.p)
            except Discarded:  # assume() in the evaluator: neither evidence for nor against
                note_discarded(self.state, phase)
                return None
        else:
            lhs, rhs = float_values
        self.state.tried[phase] += 1
        if not (math.isfinite(lhs) and math.isfinite(rhs)):
            self.state.non_finite += 1
            return None
        slack = -violation(claim.relation, lhs, rhs)
        scale = max(1.0, abs(lhs), abs(rhs))
        rel = slack / scale
        cand = _Candidate(inputs, lhs, rhs, rel, phase)
        self._remember_worst(cand)
        if claim.trivial is not None:
            self._check_informative(inputs, rhs)
        tol = claim.atol + claim.rtol * max(abs(lhs), abs(rhs))
        if -slack > tol or (claim.relation in ("<", ">") and slack <= 0):
            self.state.float_candidates += 1
            if -rel > _CONFIRM_AT_ONCE:
                self._confirm(cand)
            else:
                self.state.pending.append(cand)
        return rel

    def _remember_worst(self, cand: _Candidate) -> None:
        worst = self.state.worst
        if len(worst) >= self.keep_worst and cand.rel_slack >= worst[-1].rel_slack:
            return
        worst.append(cand)
        worst.sort(key=lambda c: c.rel_slack)
        del worst[self.keep_worst:]

    def _check_informative(self, inputs: dict, rhs: float) -> None:
        claim = self.claim
        try:
            trivial = scalar_out(invoke(claim.trivial, {k: to_mode(v, "numpy") for k, v in inputs.items()},
                                         self.p), claim, "trivial", "numpy")
        except ClaimError:
            raise
        except Exception as exc:
            raise ClaimError(claim.id, f"trivial bound raised {type(exc).__name__} at inputs "
                                       f"{describe_inputs(inputs)}: {exc}") from exc
        self.state.trivial_checked += 1
        tol = claim.atol + claim.rtol * max(abs(trivial), abs(rhs))
        # The claimed bound is rhs: an upper bound for <=/<, a lower bound for >=/>.
        tighter = rhs < trivial - tol if claim.relation in ("<=", "<") else rhs > trivial + tol
        if tighter:
            self.state.informative += 1

    def _confirm(self, cand: _Candidate) -> Confirmation | None:
        st = self.state
        if st.confirmed is not None:
            return None
        if st.confirmations >= self.plan.max_confirmations:
            st.not_rechecked += 1  # milder than the worst candidates already shown to be noise
            return None
        if self.ctx.expired():
            # no time left for the high-precision evaluation: the candidate stays undecided
            conf = Confirmation("undecided", cand.lhs, cand.rhs, 0.0, 0,
                                reason="the budget ran out before the high-precision confirmation")
            st.undecided.append((conf, cand))
            self.state.stopped_by = "deadline"
            return conf
        st.confirmations += 1
        conf = confirm_relation(self.claim.evaluate, cand.inputs, self.p, self.claim.relation,
                                rtol=self.claim.rtol, atol=self.claim.atol, float_values=(cand.lhs, cand.rhs))
        if conf.status == "violated":
            st.confirmed = (conf, cand)
        elif conf.status == "undecided":
            st.undecided.append((conf, cand))
        else:
            st.dismissed += 1
        return conf

    def flush_pending(self) -> None:
        """Confirm waiting float candidates, worst first, while confirmations remain."""
        pending = sorted(self.state.pending, key=lambda c: c.rel_slack)
        self.state.pending = []
        for cand in pending:
            if self.state.confirmed is not None:
                break
            self._confirm(cand)

    # -- phases
    def run_special(self) -> None:
        spaces = self.spaces
        specials = {k: s.special() for k, s in spaces.items()}
        longest = max([len(v) for v in specials.values()] + [0])
        combos: list[dict] = []
        for i in range(longest):  # i-th special of every input together
            combos.append({k: (specials[k][i % len(specials[k])] if specials[k] else spaces[k].sample(self.rng))
                           for k in spaces})
        if len(spaces) > 1:  # each special with the other inputs random
            for k, values in specials.items():
                for v in values:
                    combo = {j: spaces[j].sample(self.rng) for j in spaces}
                    combo[k] = v
                    combos.append(combo)
        limit = 24 if self.quick else 80
        for combo in combos[:limit]:
            if self.done():
                return
            self.consider(combo, "special")
        self.flush_pending()

    def run_hypothesis(self, n: int) -> None:
        if n <= 0 or self.done():
            return
        import hypothesis

        if hypothesis.currently_in_test_context():
            # Called from inside a running @given test (e.g. assert_holds in a property suite):
            # hypothesis forbids nesting, so these examples go to the seeded numpy sampler.
            self.state.hypothesis_skipped = True
            self.run_random(n)
            return
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import seed as hyp_seed
        from hypothesis import strategies as hst

        strategy = hst.fixed_dictionaries({k: s.strategy() for k, s in self.spaces.items()})
        search = self

        @settings(database=None, max_examples=n, derandomize=False, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                  report_multiple_bugs=False, print_blob=False)
        @hyp_seed(self.ctx.seed)
        @given(strategy)
        def drive(inputs):
            if search._abort is not None:
                raise search._abort
            if search.done():
                search._abort = _Stop()
                raise search._abort
            try:
                search.consider({k: np.array(v) for k, v in inputs.items()}, "hypothesis")
            except ClaimError as exc:
                search._abort = exc
                raise

        try:
            drive()
        except _Stop:
            pass
        except ClaimError:
            raise
        except Exception as exc:  # hypothesis wraps nothing else of ours; keep its own errors visible
            if isinstance(self._abort, ClaimError):
                raise self._abort from exc
            if self._abort is None:
                raise
        self._abort = None
        self.flush_pending()

    def run_random(self, n: int) -> None:
        for _ in range(n):
            if self.done():
                break
            self.consider({k: s.sample(self.rng) for k, s in self.spaces.items()}, "random")
        self.flush_pending()

    def run_adversarial(self, starts: int, steps: int) -> None:
        variables = [k for k, s in self.spaces.items() if s.continuous]
        if not variables or starts <= 0 or self.done():
            return
        seeds_in = self._pick_starts(starts, variables)
        method = "torch" if self._torch_works(seeds_in[0].inputs if seeds_in else None, variables) else "hill-climb"
        self.state.adversarial_method = method
        for cand in seeds_in:
            if self.done():
                break
            if method == "torch":
                self._descend_torch(cand.inputs, variables, steps)
            else:
                self._hill_climb(cand.inputs, variables, steps)
            self.flush_pending()

    def _pick_starts(self, starts: int, variables: list[str]) -> list[_Candidate]:
        """Worst inputs first, but spread over distinct values of the fixed (discrete) inputs:
        local optimisation cannot change labels, so starts that share them explore less."""
        fixed = [k for k in self.spaces if k not in variables]

        def same(a: _Candidate, b: _Candidate, keys) -> bool:
            return all(np.array_equal(np.asarray(a.inputs[k]), np.asarray(b.inputs[k])) for k in keys)

        chosen: list[_Candidate] = []
        for cand in self.state.worst:  # pass 1: new discrete values
            if len(chosen) >= starts:
                break
            if not any(same(cand, o, fixed) for o in chosen) if fixed else not chosen:
                chosen.append(cand)
        for cand in self.state.worst:  # pass 2: fill with the remaining worst
            if len(chosen) >= starts:
                break
            if not any(same(cand, o, list(self.spaces)) for o in chosen):
                chosen.append(cand)
        return chosen

    def _torch_works(self, inputs: dict | None, variables: list[str]) -> bool:
        if inputs is None or torch is None:
            return False
        try:
            args = {k: to_mode(v, "torch", requires_grad=k in variables) for k, v in inputs.items()}
            with np.errstate(all="ignore"):
                lhs, rhs = call_evaluator(self.claim, args, self.p, mode="torch", prepared=True)
            obj = lhs - rhs
            if not is_torch(obj) or not obj.requires_grad:
                return False
            obj.backward()
            return True
        except Exception:  # not torch-capable: numpy calls on tensors, in-place ops, ...
            return False

    def _objective_torch(self, lhs, rhs):
        lhs = lhs if is_torch(lhs) else torch.as_tensor(lhs, dtype=torch.float64)
        rhs = rhs if is_torch(rhs) else torch.as_tensor(rhs, dtype=torch.float64)
        v = violation(self.claim.relation, lhs, rhs)
        scale = torch.clamp(torch.maximum(lhs.detach().abs(), rhs.detach().abs()), min=1.0)
        return -v / scale  # normalised slack, to be minimised

    def _descend_torch(self, start: dict, variables: list[str], steps: int) -> None:
        """Projected Adam on the normalised slack; the projected float point is scored every few steps."""
        spaces = self.spaces
        # A small seeded jitter moves starts off degenerate points (W = 0, collapsed rows) where
        # the gradient is 0 or undefined.
        jittered = {k: spaces[k].project(np.asarray(start[k], dtype=np.float64)
                                         + 1e-2 * spaces[k].scale * self.rng.standard_normal(np.shape(start[k])))
                    for k in variables}
        leaves = {k: to_mode(jittered[k], "torch", requires_grad=True) for k in variables}
        consts = {k: to_mode(v, "torch") for k, v in start.items() if k not in variables}
        lrs = {k: 0.05 * max(spaces[k].scale, 1e-12) for k in variables}
        moments = {k: AdamMoments() for k in variables}
        check_every = max(1, steps // 8)
        for step in range(steps):
            if self.done():
                return
            for leaf in leaves.values():
                leaf.grad = None
            try:
                lhs, rhs = call_evaluator(self.claim, {**consts, **leaves}, self.p, mode="torch", prepared=True)
                obj = self._objective_torch(lhs, rhs)
                if not bool(torch.isfinite(obj)) or not obj.requires_grad:
                    break
                obj.backward()
            except (ClaimError, Discarded):
                break  # the float phases evaluated this claim; a torch-only failure just ends this start
            if any(leaf.grad is None for leaf in leaves.values()):
                for leaf in leaves.values():
                    if leaf.grad is None:
                        leaf.grad = torch.zeros_like(leaf)
            for leaf in leaves.values():
                leaf.grad = torch.nan_to_num(leaf.grad, nan=0.0, posinf=0.0, neginf=0.0)
            with torch.no_grad():
                for k, leaf in leaves.items():
                    leaf.sub_(moments[k].step(leaf.grad, lrs[k]))
                for k in variables:
                    leaves[k].copy_(spaces[k].project(leaves[k]))
            self.state.adversarial_steps += 1
            if (step + 1) % check_every == 0 or step == steps - 1:
                point = {**{k: v for k, v in start.items() if k not in variables},
                         **{k: spaces[k].project(leaves[k].detach().numpy().copy()) for k in variables}}
                self.consider(point, "adversarial")
                if self.state.confirmed is not None:
                    return

    def _hill_climb(self, start: dict, variables: list[str], steps: int) -> None:
        spaces = self.spaces
        current = {k: np.array(v) for k, v in start.items()}
        lhs, rhs = call_evaluator(self.claim, current, self.p)
        cur_rel = -violation(self.claim.relation, lhs, rhs) / max(1.0, abs(lhs), abs(rhs))
        sigma = 0.3
        for step in range(steps):
            if self.done():
                return
            trial = dict(current)
            for k in variables:
                noise = self.rng.standard_normal(np.shape(current[k])) * sigma * spaces[k].scale
                trial[k] = spaces[k].project(np.asarray(current[k], dtype=np.float64) + noise)
            self.state.adversarial_steps += 1
            rel = self.consider(trial, "adversarial")
            if rel is not None and rel < cur_rel:
                current, cur_rel = trial, rel
                sigma = min(sigma * 1.5, 1.0)
            else:
                sigma *= 0.9
            if self.state.confirmed is not None or sigma < 1e-9:
                return


# --------------------------------------------------------------------------- driver


def search_relation(ctx: JudgeContext, *, quick: bool = False) -> SearchState:
    """Run the phases on one context; stops at the first confirmed counterexample."""
    plan = ctx.plan
    search = _Search(ctx, quick=quick)
    run_examples(search)  # the claim's explicit @example inputs, always first
    search.start_phase(0.2)
    search.run_special()
    if quick:
        search.start_phase(0.5)
        search.run_random(max(plan.random_examples, plan.hypothesis_examples))
        search.start_phase(1.0)
        search.run_adversarial(min(2, plan.adversarial_starts), min(60, plan.adversarial_steps))
    else:
        search.start_phase(0.45)
        search.run_hypothesis(plan.hypothesis_examples)
        search.start_phase(0.35)
        search.run_random(plan.random_examples)
        search.start_phase(1.0)
        search.run_adversarial(plan.adversarial_starts, plan.adversarial_steps)
    search.phase_deadline = None
    search.flush_pending()
    if search.state.confirmed is not None:
        search.state.stopped_by = "counterexample"
    return search.state


def search_evidence(ctx: JudgeContext, state: SearchState) -> dict:
    """What a relation search measured, as evidence (plain JSON types)."""
    worst = state.worst[0] if state.worst else None
    evidence: dict[str, Any] = {
        "inputs_tried": state.total,
        "by_phase": dict(state.tried),
        "sizes": dict(ctx.params),
        "shapes": {k: list(s.shape) for k, s in ctx.spaces.items()},
        "spaces": {k: repr(s) for k, s in ctx.spaces.items()},
        "worst_slack": None if worst is None else -violation(ctx.claim.relation, worst.lhs, worst.rhs),
        "worst_relative_slack": None if worst is None else worst.rel_slack,
        "adversarial_steps": state.adversarial_steps,
        "adversarial_method": state.adversarial_method or "none",
        "float_candidates": state.float_candidates,
        "dismissed_as_float_noise": state.dismissed,
        "candidates_not_rechecked": state.not_rechecked,
        "undecided": len(state.undecided),
        "stopped_by": state.stopped_by,
    }
    if state.non_finite:
        evidence["non_finite_values"] = state.non_finite
    if state.hypothesis_skipped:
        evidence["hypothesis_skipped"] = "inside a running hypothesis test: numpy sampling instead"
    if ctx.claim.trivial is not None:
        evidence["informative_fraction"] = (state.informative / state.trivial_checked
                                            if state.trivial_checked else None)
        evidence["informative_inputs"] = state.informative
    if state.undecided:
        evidence["undecided_reason"] = state.undecided[0][0].reason
    evidence.update(domain_evidence(state))
    if all_discarded_reason(state):
        evidence["reason"] = all_discarded_reason(state)
    return evidence
