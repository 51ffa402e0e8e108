"""How strong a verdict is: ``evidence["strength"]`` and ``evidence["strength_detail"]``.

Every verdict states what it rests on, strongest first:

``proved``
    an exact symbolic proof closed (identities with ``proof=``; a numeric sanity search ran too);
``certified``
    a convex certificate (set by the claim itself, e.g. a relaxation solved with a duality gap);
``exhaustive``
    every point of a finite input space was checked (the 0-sphere, labels at small sizes), or
    the active assumptions admit no input at all (VACUOUS by ``requires``);
``searched``
    a finite search: how many inputs were evaluated and how many optimiser starts ran,
    converged, and (optimisation kinds) reached the claimed optimum.

The detail is one line of text for tables and reports.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["LEVELS", "strength_of"]

#: The strength levels, strongest first.
LEVELS = ("proved", "certified", "exhaustive", "searched")


def strength_of(kind: str, verdict: str, evidence: Mapping[str, Any], proved_exactly: bool) -> tuple[str, str]:
    """``(level, detail)`` of a verdict from its kind and evidence (see the module docstring)."""
    if proved_exactly:
        return "proved", "exact symbolic proof" + (
            f" (and a sanity search of {evidence['inputs_tried']} inputs)" if evidence.get("inputs_tried") else "")
    if evidence.get("strength") in LEVELS:  # the claim's own (a certificate)
        return str(evidence["strength"]), "stated by the claim's certificate"
    if evidence.get("exhaustive"):
        return "exhaustive", f"every one of the {evidence.get('n_points')} points of the finite input space"
    if verdict == "VACUOUS" and "inputs_tried" not in evidence and "n_starts" not in evidence:
        return "exhaustive", "the active assumptions admit no input at these sizes"
    if "inputs_tried" in evidence:
        return "searched", (f"{evidence['inputs_tried']} inputs, {evidence.get('adversarial_starts', 0)} optimiser "
                            f"starts ({evidence.get('adversarial_converged', 0)} converged)")
    if "n_starts" in evidence:
        text = f"{evidence['n_starts']} optimiser starts"
        if evidence.get("converged") is not None:
            text += f", {evidence['converged']} converged"
        if evidence.get("reached") is not None:
            text += f", {evidence['reached']} reached the optimum"
        return "searched", text
    if kind == "empirical":
        return "searched", "empirical: measured on the claim's own runs"
    for key in ("n_draws", "draws"):
        if key in evidence:
            return "searched", f"{evidence[key]} Monte-Carlo draws"
    return "searched", f"{kind} judge"
