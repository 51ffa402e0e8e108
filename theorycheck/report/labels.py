"""Words for what a report shows: evidence keys, the strength of a verdict, why it is INCONCLUSIVE.

The evidence of a claim is recorded under short machine keys (``below_in_float``,
``stopped_by_deadline``); reports show a reader :data:`EVIDENCE_LABELS` instead and keep the
key beside it, so the JSON field can still be found. A key without a label (a user's own
evidence) is shown as it is. The mapping is documented in ``docs/reports.md``.

Examples
--------
>>> evidence_label("worst_gap")
'largest gap to the claimed optimum'
>>> evidence_label("my_own_key")
'my_own_key'
>>> inconclusive_reason({"verdict": "INCONCLUSIVE", "evidence": {"stopped_by_deadline": True}})
'time budget ran out'
"""

from __future__ import annotations

import numbers
from typing import Any, Mapping

__all__ = ["EVIDENCE_LABELS", "STRENGTHS", "evidence_label", "strength", "inconclusive_reason", "short"]

#: Evidence key -> what a reader sees. Keep in step with the table in docs/reports.md.
EVIDENCE_LABELS: dict[str, str] = {
    # search and examples
    "inputs_tried": "inputs tried",
    "informative_fraction": "fraction of inputs where the bound beats the trivial one",
    "informative_inputs": "inputs where the bound beats the trivial one",
    "worst_slack": "smallest slack of the relation (negative: holds)",
    "worst_relative_slack": "smallest relative slack",
    "worst_value": "worst value found",
    "below_in_float": "candidates that broke it in float64 only",
    "dismissed_as_float_noise": "float64 violations dismissed in high precision",
    "float_candidates": "float64 candidates re-checked",
    "candidates": "candidates",
    "candidates_not_rechecked": "candidates not re-checked (time ran out)",
    "confirm_digits": "digits of the confirming evaluation",
    "found_in_phase": "search phase that found the counterexample",
    "by_phase": "inputs per search phase",
    "adversarial_method": "adversarial search method",
    "adversarial_steps": "adversarial search steps",
    "shrink": "shrinking of the counterexample",
    "size_shrink": "sizes tried while shrinking",
    "spaces": "input spaces",
    "shapes": "input shapes",
    "sizes": "sizes",
    "proof": "symbolic proof",
    "method": "method",
    "note": "note",
    "reason": "reason",
    "strength": "strength of the verdict",
    "stopped_by": "stopped by",
    "stopped_by_deadline": "stopped by the time budget",
    "counterexample_distance": "distance of the counterexample to the property",
    "counterexample_value": "objective at the counterexample",
    # optimisation (optimum, characterization, landscape)
    "claimed_optimum": "claimed optimum (closed form, at the stated sizes)",
    "closed_form": "closed form",
    "best_value": "best objective found",
    "median_value": "median objective over starts",
    "final_values": "final objective per start",
    "final_gaps": "final gap per start",
    "grad_norms": "gradient norm per start",
    "traces": "objective along each start",
    "values": "values",
    "gap": "gap",
    "relative_gap": "relative gap",
    "worst_gap": "largest gap to the claimed optimum",
    "median_gap": "median gap to the claimed optimum",
    "tolerance": "tolerance",
    "gradient_tolerance": "gradient tolerance (stationarity)",
    "n_starts": "optimisation starts",
    "starts": "optimisation starts",
    "n_special_starts": "special starts (witness, perturbations)",
    "reached": "starts that reached the optimum",
    "fraction_reached": "fraction of starts that reached the optimum",
    "global_fraction": "fraction of starts ending at a global minimum",
    "converged": "starts that converged",
    "unconverged": "starts that did not converge",
    "saddles": "saddle points found",
    "n_candidates": "spurious-minimum candidates",
    "n_spurious": "spurious local minima confirmed",
    "undecided": "candidates left undecided",
    "undecided_below": "undecided candidates below the optimum",
    "max_steps": "steps per start (cap)",
    "median_steps": "median steps per start",
    "max_distance": "largest distance of a minimiser to the claimed set",
    "distances": "distance of each minimiser to the claimed set",
    "distance_tolerance": "distance tolerance",
    "distance_at_optimum_max": "largest distance at the optimum",
    "distance_at_optimum_median": "median distance at the optimum",
    "far_from_property": "minimisers far from the claimed property",
    "witness_value": "objective at the claimed minimiser",
    "witness_distance": "distance of the claimed minimiser",
    "witness_reaches": "claimed minimiser attains the optimum",
    "minimiser_is_collapsed_simplex": "minimiser is a collapsed simplex",
    "uniqueness": "uniqueness up to rotation",
    "procrustes_max": "largest Procrustes distance",
    "procrustes_median": "median Procrustes distance",
    "gram_distance_max": "largest Gram-matrix distance",
    "gram_distance_median": "median Gram-matrix distance",
    "success_by_dimension": "fraction of starts at the global minimum, per dimension",
    "rank": "rank",
    "simplex_cos": "cosine of the regular simplex, -1/(K-1)",
    "cos_between": "cosine between class means",
    "imbalance_angles": "class-mean cosines per imbalance ratio",
    # certificates
    "certified_lower_bound": "certified lower bound",
    "upper_bound": "upper bound",
    "solver_status": "solver status",
    "recheck_min_eigenvalue": "smallest eigenvalue of the re-checked certificate",
    "configurations": "configurations",
    "log_n_batches": "log of the number of batches",
    # statistics
    "confidence": "confidence level",
    "per_test_confidence": "confidence per test (Bonferroni)",
    "bonferroni_tests": "tests (Bonferroni)",
    "n_draws": "Monte-Carlo draws",
    "mean": "mean",
    "mean_estimate": "estimated mean",
    "mean_expected": "expected mean",
    "mean_ci": "confidence interval of the mean",
    "mean_ci_width": "width of the mean's confidence interval",
    "chebyshev_mean_ci_width": "width of the mean's Chebyshev interval",
    "mean_inside": "expected mean inside the interval",
    "mean_z": "z-score of the mean",
    "var_estimate": "estimated variance",
    "var_expected": "expected variance",
    "var_ci": "confidence interval of the variance",
    "var_ci_width": "width of the variance's confidence interval",
    "var_inside": "expected variance inside the interval",
    "var_z": "z-score of the variance",
    "expected": "expected value",
    "within": "within tolerance",
    # asymptotic
    "eta_at_L_M_1": "eta(eps) at L = M = 1",
    "fitted_exponent_at_L_M_1": "fitted exponent alpha at L = M = 1",
}

#: The strengths a verdict can have (``evidence["strength"]``), strongest first.
STRENGTHS = ("proved", "certified", "exhaustive", "searched")


def evidence_label(key: Any) -> str:
    """The reader's words for an evidence key; the key itself when it has none."""
    return EVIDENCE_LABELS.get(str(key), str(key))


def strength(claim: Mapping[str, Any]) -> str:
    """``evidence["strength"]`` when the engine recorded one (a plain word), else ``"—"``.

    Nothing is derived: a verdict without a recorded strength shows a dash.
    """
    evidence = claim.get("evidence")
    value = evidence.get("strength") if isinstance(evidence, Mapping) else None
    if isinstance(value, str) and value.strip():
        return short(value.strip(), 24)
    return "—"


def short(text: Any, limit: int = 80) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: max(1, limit - 1)].rstrip() + "…"


def _count(evidence: Mapping[str, Any], key: str) -> int:
    value = evidence.get(key)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return 0
    return int(value) if value == value else 0


def inconclusive_reason(claim: Mapping[str, Any], limit: int = 80) -> str:
    """Why a claim is INCONCLUSIVE, shortened to ``limit`` characters ('' for other verdicts).

    The engine's own ``evidence["reason"]`` when it wrote one; otherwise the evidence
    counts that kept the verdict open (time budget, unconverged starts, undecided
    candidates), in words.
    """
    if str(claim.get("verdict", "")).upper() != "INCONCLUSIVE":
        return ""
    evidence = claim.get("evidence")
    evidence = evidence if isinstance(evidence, Mapping) else {}
    if isinstance(evidence.get("reason"), str) and evidence["reason"].strip():
        return short(evidence["reason"], limit)
    parts = []
    if evidence.get("stopped_by_deadline") is True or evidence.get("stopped_by") == "deadline":
        parts.append("time budget ran out")
    for key, words in (("unconverged", "start(s) did not converge"), ("undecided", "candidate(s) undecided"),
                       ("undecided_below", "candidate(s) below the optimum undecided"),
                       ("candidates_not_rechecked", "candidate(s) not re-checked")):
        n = _count(evidence, key)
        if n:
            parts.append(f"{n} {words}")
    return short("; ".join(parts), limit) if parts else "no reason recorded (see the evidence)"
