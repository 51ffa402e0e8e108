"""Empirical claims of graf2021 (docs/theory.md section 7): trained encoders and random labels.

Two claims of kind ``empirical``; each declares its parameters and a ``run(p, budget,
seed)`` that trains with :mod:`theorycheck.empirical` and decides from what the run
measured:

* ``graf2021.empirical.simplex`` -- an encoder trained with SC, CE-fix or CE approaches
  the regular simplex: every pairwise cosine of the class means ends within ``tol`` of
  -1/(K-1).
* ``graf2021.empirical.random-labels`` -- the iterations needed to fit a training set
  with a fraction p of flipped labels grow roughly linearly in p for CE and
  superlinearly for SC.

Both train, so they take seconds to minutes; the family ``empirical``
(``theorycheck verify empirical``) runs them, and ``verify all`` includes them only when
asked (``--empirical``). The budget's seconds bound the training time; a run cut short
by its budget is INCONCLUSIVE, never REFUTED: a finite training run that has not reached
the simplex says nothing against a theorem about the global minimum, so the simplex
claim is HOLDS or INCONCLUSIVE; the random-label claim, an observation about training
dynamics, can come out REFUTED when the fitted exponents contradict it. ``theorycheck.empirical`` (and torch) is
imported only when a claim runs, so listing claims stays fast.
"""

from __future__ import annotations

from typing import Any

from ..engine.claim import Param, claim
from ..engine.families import Family, Option, register_family

__all__ = ["empirical_simplex", "empirical_random_labels"]

_LOSSES = ("supcon", "ce-fix", "ce")

def _seconds(budget: Any, default: float) -> float:
    seconds = getattr(budget, "seconds", None)
    return float(default if seconds is None else seconds)


def _outcome(verdict: str, evidence: dict) -> Any:
    from ..engine.results import KindOutcome, Verdict

    return KindOutcome(Verdict(verdict), evidence, None)


def _run_simplex(p, budget, seed):
    """Train once and compare the class-mean cosines with -1/(K-1)."""
    from ..empirical.train import train

    seconds = _seconds(budget, 120.0)
    # leave a share of the budget for loading, the evaluations and the final measurement
    result = train(loss=p.loss, data=p.data, model=p.model, iterations=p.iterations, batch_size=p.batch_size,
                   rho=p.rho, weight_radius=p.weight_radius, balance=True, seed=int(seed),
                   eval_every=max(1, p.iterations // 4), max_seconds=max(0.5, 0.8 * seconds), figures=False,
                   progress=False, threads=1)
    final = result.final
    K = final["num_classes"]
    target = -1.0 / (K - 1)
    dev = final["cos_max_dev"]
    if p.loss == "supcon":
        gap, minimum = final.get("sc_gap"), final.get("sc_minimum")
    else:
        gap, minimum = final.get("ce_gap"), final.get("ce_bound")
    relative_gap = None if gap is None or not minimum else gap / abs(minimum)
    evidence = {
        "loss": p.loss, "data": p.data, "model": p.model, "K": K, "N": final["n"], "h": final["dim"],
        "rho": p.rho, "iterations_run": result.iterations, "iterations_planned": p.iterations,
        "stopped_by": result.stopped_by, "seconds": round(result.seconds, 3), "device": result.device,
        "target_cos": target, "cos_mean": final["cos_mean"], "cos_max_dev": dev, "tol": p.tol,
        "simplex_distance": final["simplex_distance"], "nc1": final["nc1"],
        "sample_mean_similarity": final["sample_mean_similarity"], "train_accuracy": final["train_accuracy"],
        "loss_gap": gap, "relative_loss_gap": relative_gap,
        "history": [{k: r.get(k) for k in ("iteration", "cos_mean", "cos_max_dev", "nc1", "sc_gap", "ce_gap")}
                    for r in result.history],
    }
    if dev <= p.tol:
        evidence["reason"] = (f"after {result.iterations} iterations every class-mean cosine is within "
                              f"{dev:.4f} <= {p.tol} of -1/(K-1) = {target:.4f}")
        return _outcome("HOLDS", evidence)
    evidence["reason"] = (f"after {result.iterations} iterations (stopped by {result.stopped_by}) a class-mean "
                          f"cosine is still {dev:.4f} > {p.tol} from -1/(K-1), with the loss "
                          f"{'' if relative_gap is None else f'{relative_gap:.2e} (relative) '}above its "
                          "minimum: training did not get there within the budget, which says nothing against "
                          "the theorem")
    return _outcome("INCONCLUSIVE", evidence)


empirical_simplex = claim(
    id="graf2021.empirical.simplex",
    statement_latex=r"\Bigl|\cos(\mu_k, \mu_l) + \frac{1}{K-1}\Bigr| \le \mathrm{tol} \qquad \forall\, k \ne l \quad \text{(class means after training)}",
    cite=("graf2021",),
    kind="empirical",
    statement=("An encoder trained with SC (or CE-fix, or CE) on balanced data, with features on the sphere "
               "of radius rho, approaches the regular simplex: every pairwise cosine of the class means ends "
               "within tol of -1/(K-1)."),
    params=(
        Param("loss", "supcon", "training objective", type=str, choices=_LOSSES),
        Param("data", "digits", "data set (digits, gaussian, cifar10:PATH, ...)", type=str),
        Param("model", "mlp", "encoder", type=str, choices=("mlp", "cnn", "resnet18")),
        Param("iterations", 300, "training iterations", min=1),
        Param("batch_size", 512, "batch size b", min=2),
        Param("rho", 1.5, "sphere radius of the features (rho^2 = 1/temperature)", type=float, min=1e-6),
        Param("weight_radius", 2.5, "row norm of CE-fix's fixed simplex classifier", type=float, min=1e-6),
        Param("tol", 0.05, "allowed |cos - (-1/(K-1))| for every pair of classes", type=float, min=0.0),
    ),
    family="empirical",
    summary_keys=("cos_max_dev", "iterations_run"),
)(_run_simplex)


def _parse_fractions(text: str) -> list[float]:
    from .._validation import fail

    try:
        values = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise fail("fractions", "graf2021.empirical.random-labels", "comma-separated fractions such as "
                   "'0,0.25,0.5'", text) from None
    return values


def _run_random_labels(p, budget, seed):
    """The random-label experiment at the claim's settings; the verdict of its fits."""
    from ..empirical.random_labels import run_random_labels

    seconds = _seconds(budget, 300.0)
    result = run_random_labels(data=p.data, fractions=_parse_fractions(p.fractions), losses=("ce", "supcon"),
                               seeds=tuple(range(int(seed), int(seed) + p.repeats)), check_every=p.check_every,
                               max_iterations=p.max_iterations, max_samples=p.max_samples, batch_size=p.batch_size,
                               time_budget=0.9 * seconds, rho=p.rho, threads=1)
    fits = {}
    for loss, fit in result.fits.items():
        power, linear = fit.get("power") or {}, fit.get("linear") or {}
        fits[loss] = {"alpha": power.get("alpha"), "alpha_se": power.get("alpha_se"),
                      "alpha_ci": list(power["alpha_ci"]) if power.get("alpha_ci") else None,
                      "slope": linear.get("slope"), "slope_se": linear.get("slope_se"), "error": fit.get("error"),
                      # the coefficients, so that the report draws the fitted curves themselves
                      "t0": power.get("t0"), "c": power.get("c"), "intercept": linear.get("intercept")}
    evidence = {"rows": result.rows, "fits": fits, "shape": result.verdict.get("shape"),
                "reason": result.verdict["reason"], "limits": result.limits,
                "alpha_ce": fits.get("ce", {}).get("alpha"), "alpha_supcon": fits.get("supcon", {}).get("alpha")}
    if "note" in result.verdict:
        evidence["note"] = result.verdict["note"]
    return _outcome(result.verdict["verdict"], evidence)


empirical_random_labels = claim(
    id="graf2021.empirical.random-labels",
    statement_latex=r"T_{\mathrm{CE}}(p) \approx \alpha + \beta p, \qquad T_{\mathrm{SC}}(p) \text{ superlinear in } p \quad (T = \text{iterations until the training set is fitted})",
    cite=("graf2021",),
    kind="empirical",
    statement=("With a fraction p of training labels flipped to another class, the number of iterations "
               "until 100% train accuracy grows roughly linearly in p for CE and superlinearly for SC."),
    params=(
        Param("data", "digits", "data set", type=str),
        Param("max_samples", 300, "training samples (a stratified subset)", min=10),
        Param("fractions", "0,0.25,0.5,0.75,1", "flipped fractions p, comma-separated", type=str),
        Param("repeats", 1, "seeds per fraction", min=1),
        Param("check_every", 10, "iterations between train-accuracy checks", min=1),
        Param("max_iterations", 3000, "iteration cap per run (a run that has not fitted is censored)", min=1),
        Param("batch_size", 64, "batch size b", min=2),
        Param("rho", 1.0, "sphere radius of the features", type=float, min=1e-6),
    ),
    family="empirical",
    summary_keys=("alpha_ce", "alpha_supcon"),
)(_run_random_labels)


def _empirical_checks(p) -> list:
    checks = [("graf2021.empirical.simplex", {"loss": loss, "data": p.data, "iterations": p.iterations})
              for loss in ("supcon", "ce-fix")]
    if p.random_labels:
        checks.append(("graf2021.empirical.random-labels", {"data": p.data}))
    return checks


register_family(Family(
    "empirical",
    "train encoders (SC, CE-fix) and check how close they get to the simplex; random labels (graf2021)",
    (Option("data", "digits", "data set", type=str),
     Option("iterations", 300, "training iterations per run", min=1),
     Option("random_labels", True, "also run the random-label experiment", type=bool)),
    _empirical_checks,
), replace=True)
