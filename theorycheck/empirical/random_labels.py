"""The random-label experiment of graf2021 (after Zhang et al. 2017), with fits and a verdict.

graf2021 report that the number of iterations needed to fit a training set (reach 100%
train accuracy) grows roughly **linearly** with the fraction p of randomly relabelled
samples for CE, and **superlinearly** for SC (docs/theory.md section 7). This module measures it:

1. :func:`flip_labels` -- relabel exactly round(p N) samples, chosen uniformly without
   replacement, each to a class drawn uniformly from the K - 1 *other* classes (a flipped
   label never stays the same).
2. :func:`run_random_labels` -- for every loss, fraction and seed, train with
   :func:`theorycheck.empirical.train.train` and record the first iteration at which the
   train accuracy on the relabelled set is 100%. Accuracy is checked every
   ``check_every`` iterations (default 10), so counts are resolved to that interval; a
   run that has not fitted after ``max_iterations`` is *censored* (recorded as None).
   Train accuracy is the classifier's argmax for CE and the nearest-class-mean rule for
   SC (which has no classifier), both on the whole training set in eval mode.
3. :func:`fit_scaling` -- least-squares fits of a linear model T = a + b p and a power law
   with offset T = T0 + c p^alpha. The exponent alpha is reported with a Wald standard
   error (from the Jacobian at the optimum) and a 95% profile-likelihood interval
   (alpha values whose best residual sum of squares stays below the F-test threshold
   RSS_min (1 + F_{1, n-3}(0.95) / (n - 3))), which is the one the verdict uses: with
   few points it is more honest than the Wald interval.
4. :func:`scaling_verdict` -- "linear for CE, superlinear for SC" HOLDS when CE's alpha
   interval meets the band [1/(1+tol), 1+tol] (``tol`` = 0.25: "roughly linear") and SC's
   interval lies above 1; REFUTED when CE's interval misses the band or SC's lies at or
   below 1; INCONCLUSIVE otherwise, or when any run was censored or a fit is
   underdetermined (fewer than 4 distinct fractions). The verdict is about the data set,
   model and budget used, and says so (``limits``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .._validation import check_array, check_int, check_real, fail, fail_type

__all__ = [
    "flip_labels",
    "fit_linear",
    "fit_power_law",
    "fit_scaling",
    "classify_exponent",
    "scaling_verdict",
    "RandomLabelResult",
    "run_random_labels",
]

_ALPHA_RANGE = (0.05, 8.0)


def flip_labels(y: Any, fraction: float, num_classes: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Relabel exactly ``round(fraction * N)`` samples, each to a different class.

    Parameters
    ----------
    y : array_like of int (N,)
        Labels in [0, K).
    fraction : float
        p in [0, 1].
    num_classes : int
        K >= 2.
    seed : int

    Returns
    -------
    new_y : numpy.ndarray (N,)
        Labels with the chosen samples moved to y + U{1..K-1} mod K (uniform over the other classes).
    flipped : numpy.ndarray
        Sorted indices of the relabelled samples.

    Examples
    --------
    >>> new, idx = flip_labels([0, 1, 2, 0, 1, 2], 0.5, 3, seed=1)
    >>> len(idx), bool(np.all(new[idx] != np.array([0, 1, 2, 0, 1, 2])[idx]))
    (3, True)
    """
    caller = "flip_labels"
    from .._validation import check_labels

    num_classes = check_int(num_classes, "num_classes", caller, min_value=2)
    labels = check_labels(y, "y", caller, num_classes=num_classes)
    fraction = check_real(fraction, "fraction", caller, ge=0.0, le=1.0)
    rng = np.random.default_rng(check_int(seed, "seed", caller, min_value=0))
    n = labels.shape[0]
    m = int(round(fraction * n))
    flipped = np.sort(rng.choice(n, size=m, replace=False)) if m else np.zeros(0, dtype=np.int64)
    new = labels.copy()
    # adding 1..K-1 modulo K reaches every other class exactly once: uniform, never the same
    new[flipped] = (labels[flipped] + rng.integers(1, num_classes, size=m)) % num_classes
    return new, flipped


# -- fits --------------------------------------------------------------------------------

def _xy(fractions: Any, iterations: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
    p = check_array(fractions, "fractions", caller, ndim=1, allow_torch=False, allow_mp=False)
    t = check_array(iterations, "iterations", caller, ndim=1, allow_torch=False, allow_mp=False)
    if p.shape != t.shape:
        raise fail("iterations", caller, f"of the same length as `fractions` ({p.shape[0]})", iterations)
    if p.size and (p.min() < 0 or p.max() > 1):
        raise fail("fractions", caller, "fractions in [0, 1]", fractions)
    return p, t


def fit_linear(fractions: Any, iterations: Any) -> dict[str, Any]:
    """Ordinary least squares T = intercept + slope * p, with standard errors and R^2.

    Needs at least 2 distinct fractions (3 for standard errors).
    """
    caller = "fit_linear"
    p, t = _xy(fractions, iterations, caller)
    if np.unique(p).size < 2:
        raise fail("fractions", caller, "at least 2 distinct fractions", fractions)
    X = np.column_stack([np.ones_like(p), p])
    coef, *_ = np.linalg.lstsq(X, t, rcond=None)
    resid = t - X @ coef
    rss = float(resid @ resid)
    n = p.size
    dof = n - 2
    out = {"intercept": float(coef[0]), "slope": float(coef[1]), "rss": rss, "n": n,
           "r2": float(1 - rss / np.sum((t - t.mean()) ** 2)) if np.ptp(t) > 0 else 1.0}
    if dof > 0:
        cov = rss / dof * np.linalg.inv(X.T @ X)
        out["intercept_se"], out["slope_se"] = float(math.sqrt(cov[0, 0])), float(math.sqrt(cov[1, 1]))
    else:
        out["intercept_se"] = out["slope_se"] = None
    return out


def _profile_rss(p: np.ndarray, t: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """For fixed alpha, T = T0 + c p^alpha is linear in (T0, c): exact least squares."""
    X = np.column_stack([np.ones_like(p), p ** alpha])
    coef, *_ = np.linalg.lstsq(X, t, rcond=None)
    resid = t - X @ coef
    return float(resid @ resid), float(coef[0]), float(coef[1])


def fit_power_law(fractions: Any, iterations: Any, *, confidence: float = 0.95) -> dict[str, Any]:
    r"""Least squares :math:`T = T_0 + c\,p^{\alpha}` with the exponent's uncertainty.

    alpha is searched in [0.05, 8]: a grid of the profile RSS(alpha) (for fixed alpha the
    model is linear in T0 and c), refined with :func:`scipy.optimize.minimize_scalar`.

    Returns
    -------
    dict
        ``t0``, ``c``, ``alpha``, ``rss``, ``n``; ``alpha_se`` (Wald, from the Jacobian; None
        with n <= 3); ``alpha_ci`` = (low, high) at ``confidence`` from the profile likelihood
        (None with n <= 3; an end at the search bound means "at least/at most that");
        ``alpha_ci_bounded`` whether neither end hit the search range.

    Examples
    --------
    >>> p = np.linspace(0, 1, 6)
    >>> round(fit_power_law(p, 50 + 400 * p ** 2)["alpha"], 6)
    2.0
    """
    from scipy import optimize, stats  # imported here: scipy.stats takes seconds to import

    caller = "fit_power_law"
    p, t = _xy(fractions, iterations, caller)
    confidence = check_real(confidence, "confidence", caller, gt=0.0, lt=1.0)
    if np.unique(p[p > 0]).size < 2 or np.unique(p).size < 3:
        raise fail("fractions", caller, "at least 3 distinct fractions, 2 of them > 0 (three parameters)", fractions)
    n = p.size
    lo, hi = _ALPHA_RANGE
    grid = np.exp(np.linspace(math.log(lo), math.log(hi), 400))
    rss_grid = np.array([_profile_rss(p, t, a)[0] for a in grid])
    best = int(np.argmin(rss_grid))
    a_lo, a_hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    if a_hi > a_lo:
        res = optimize.minimize_scalar(lambda a: _profile_rss(p, t, a)[0], bounds=(a_lo, a_hi), method="bounded",
                                       options={"xatol": 1e-10})
        alpha = float(res.x) if res.fun <= rss_grid[best] else float(grid[best])
    else:
        alpha = float(grid[best])
    rss, t0, c = _profile_rss(p, t, alpha)
    out: dict[str, Any] = {"t0": t0, "c": c, "alpha": alpha, "rss": rss, "n": n, "alpha_se": None,
                           "alpha_ci": None, "alpha_ci_bounded": False, "confidence": confidence}
    dof = n - 3
    if dof <= 0:
        return out
    sigma2 = rss / dof
    # Wald: J = dT/d(T0, c, alpha) at the optimum; p^alpha log p -> 0 at p = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        dalpha = np.where(p > 0, c * p ** alpha * np.log(np.where(p > 0, p, 1.0)), 0.0)
    J = np.column_stack([np.ones_like(p), p ** alpha, dalpha])
    try:
        cov = sigma2 * np.linalg.inv(J.T @ J)
        out["alpha_se"] = float(math.sqrt(cov[2, 2])) if cov[2, 2] >= 0 else None
    except np.linalg.LinAlgError:
        out["alpha_se"] = None
    # profile likelihood: {alpha : RSS(alpha) <= RSS_min (1 + F_{1,dof}(conf) / dof)}; the ends
    # are found by root-finding between grid points (a narrow interval can fall between them)
    threshold = rss * (1.0 + stats.f.ppf(confidence, 1, dof) / dof)
    if rss <= 1e-24 * max(1.0, float(np.sum(t ** 2))):
        out["alpha_ci"] = (alpha, alpha)  # noise-free data: the interval is the point
        out["alpha_ci_bounded"] = True
        return out
    excess = lambda a: _profile_rss(p, t, a)[0] - threshold  # noqa: E731
    below = grid[grid < alpha]
    above = grid[grid > alpha]
    low, high = float(grid[0]), float(grid[-1])
    # walk outwards from the optimum to the first grid point outside the interval
    for a in below[::-1]:
        if excess(a) > 0:
            low = float(optimize.brentq(excess, a, alpha, xtol=1e-10))
            break
    for a in above:
        if excess(a) > 0:
            high = float(optimize.brentq(excess, alpha, a, xtol=1e-10))
            break
    out["alpha_ci"] = (low, high)
    out["alpha_ci_bounded"] = bool(low > grid[0] and high < grid[-1])
    return out


def fit_scaling(fractions: Any, iterations: Any, *, confidence: float = 0.95) -> dict[str, Any]:
    """Both fits (``linear`` and ``power``) of iterations-to-fit against the flipped fraction."""
    out: dict[str, Any] = {"linear": None, "power": None, "error": None}
    try:
        out["linear"] = fit_linear(fractions, iterations)
        out["power"] = fit_power_law(fractions, iterations, confidence=confidence)
    except ValueError as exc:
        out["error"] = str(exc)
    return out


def classify_exponent(power_fit: dict | None) -> str:
    """Shape of the growth from the exponent's confidence interval [low, high].

    ``"superlinear"`` if low > 1, ``"sublinear"`` if high < 1, ``"linear"`` if the interval
    contains 1 (linear growth is consistent with the data), ``"undetermined"`` without an
    interval (too few points).

    Examples
    --------
    >>> classify_exponent({"alpha_ci": (1.4, 2.6)}), classify_exponent({"alpha_ci": (0.8, 1.3)})
    ('superlinear', 'linear')
    """
    if not power_fit or power_fit.get("alpha_ci") is None:
        return "undetermined"
    low, high = power_fit["alpha_ci"]
    if low > 1.0:
        return "superlinear"
    if high < 1.0:
        return "sublinear"
    return "linear"


def scaling_verdict(fits: dict[str, dict], *, censored: dict[str, int] | None = None, tol: float = 0.25,
                    ce: str = "ce", sc: str = "supcon") -> dict[str, Any]:
    """Verdict on graf2021's claim "linear for CE, superlinear for SC".

    Returns a dict with ``verdict`` (``HOLDS``, ``REFUTED`` or ``INCONCLUSIVE``),
    ``reason`` and per-loss ``shape`` (see :func:`classify_exponent`). HOLDS needs CE's
    exponent interval to meet [1/(1+tol), 1+tol] and SC's to lie above 1; REFUTED needs
    CE's interval to miss that band entirely or SC's to lie at or below 1; any censored
    run or missing fit gives INCONCLUSIVE.
    """
    censored = censored or {}
    shapes, reasons = {}, []
    for loss in (ce, sc):
        fit = fits.get(loss)
        if fit is None:
            return {"verdict": "INCONCLUSIVE", "reason": f"no runs for loss {loss!r}", "shape": shapes}
        shapes[loss] = classify_exponent(fit.get("power"))
    if any(censored.get(loss, 0) for loss in (ce, sc)):
        return {"verdict": "INCONCLUSIVE", "shape": shapes,
                "reason": "some runs did not fit the training set within max_iterations (censored: "
                          + ", ".join(f"{k}: {v}" for k, v in censored.items() if v) + ")"}
    ce_power, sc_power = fits[ce].get("power"), fits[sc].get("power")
    if ce_power is None or sc_power is None or ce_power.get("alpha_ci") is None or sc_power.get("alpha_ci") is None:
        return {"verdict": "INCONCLUSIVE", "shape": shapes,
                "reason": "a power-law fit is underdetermined (need at least 4 runs over 3 distinct fractions)"}
    band = (1.0 / (1.0 + tol), 1.0 + tol)
    ce_lo, ce_hi = ce_power["alpha_ci"]
    sc_lo, sc_hi = sc_power["alpha_ci"]
    ce_linear = ce_hi >= band[0] and ce_lo <= band[1]
    sc_super = sc_lo > 1.0
    fmt = lambda name, f: f"{name}: alpha = {f['alpha']:.2f}, {int(f['confidence'] * 100)}% interval [{f['alpha_ci'][0]:.2f}, {f['alpha_ci'][1]:.2f}]"  # noqa: E731
    detail = f"{fmt(ce, ce_power)}; {fmt(sc, sc_power)}; linear band [{band[0]:.2f}, {band[1]:.2f}]"
    if ce_linear and sc_super:
        return {"verdict": "HOLDS", "shape": shapes, "reason": "CE roughly linear and SC superlinear: " + detail}
    if not ce_linear:
        reasons.append("CE's exponent interval misses the linear band")
    if sc_hi <= 1.0:
        reasons.append("SC's exponent interval lies at or below 1 (not superlinear)")
    if reasons:
        return {"verdict": "REFUTED", "shape": shapes, "reason": "; ".join(reasons) + ": " + detail}
    return {"verdict": "INCONCLUSIVE", "shape": shapes,
            "reason": "SC's exponent interval contains 1: superlinear growth is not established: " + detail}


# -- the experiment ----------------------------------------------------------------------

@dataclass
class RandomLabelResult:
    """Outcome of :func:`run_random_labels`.

    Attributes
    ----------
    rows : list of dict
        One per run: ``loss``, ``fraction``, ``seed``, ``iterations`` (None if censored),
        ``max_iterations``, ``final_train_accuracy``, ``seconds``.
    fits : dict
        Per loss, :func:`fit_scaling` of its uncensored runs.
    verdict : dict
        :func:`scaling_verdict`.
    limits : str
        What the verdict is about (data, model, sizes, check interval, budget).
    settings : dict
    files : dict
    """

    rows: list
    fits: dict
    verdict: dict
    limits: str
    settings: dict
    files: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "fits": self.fits, "verdict": self.verdict, "limits": self.limits,
                "settings": self.settings, "files": self.files}


def _table(rows: Sequence[dict]) -> str:
    lines = ["loss     fraction  seed  iterations  train_acc  seconds"]
    for r in rows:
        it = "censored" if r["iterations"] is None else str(r["iterations"])
        lines.append(f"{r['loss']:<8} {r['fraction']:>8.3f} {r['seed']:>5d} {it:>11} "
                     f"{r['final_train_accuracy']:>10.4f} {r['seconds']:>8.1f}")
    return "\n".join(lines)


def run_random_labels(*, data: str = "digits", fractions: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
                      losses: Sequence[str] = ("ce", "supcon"), seeds: Sequence[int] = (0,), check_every: int = 10,
                      max_iterations: int = 3000, max_samples: int | None = 300, batch_size: int = 64,
                      model: str = "mlp", tol: float = 0.25, out: str | None = None,
                      time_budget: float | None = None, on_row: Callable[[dict], None] | None = None,
                      workers: int | None = None, scheduler: str | None = None,
                      **train_overrides: Any) -> RandomLabelResult:
    """Iterations to fit partly relabelled training sets, for each loss and fraction, with fits and verdict.

    Parameters
    ----------
    data : str
        Data name for :func:`theorycheck.empirical.data.load_dataset`.
    fractions : sequence of float
        Grid of flipped fractions p in [0, 1].
    losses : sequence of {"ce", "ce-fix", "supcon"}
    seeds : sequence of int
        One run per seed (different relabelling and initialisation) at every fraction.
    check_every : int
        Iterations between train-accuracy checks: the resolution of the counts.
    max_iterations : int
        Budget per run; a run that has not fitted by then is censored.
    max_samples : int, optional
        Stratified subset of the data (memorising random labels takes long on large sets).
    batch_size, model : training settings (see :class:`theorycheck.empirical.train.TrainConfig`).
    tol : float
        Width of the "roughly linear" band of the verdict.
    out : str, optional
        Directory for ``random_labels.json``, ``random_labels.txt`` (the table) and
        ``random_labels.png``.
    time_budget : float, optional
        Seconds; runs not started when it is spent are skipped (the verdict then says
        INCONCLUSIVE if fits lack points).
    workers, scheduler
        Run the grid (losses x seeds x fractions) on a local Dask cluster of ``workers``
        processes or on the cluster at ``scheduler`` (``theorycheck[dask]``), through the
        seam sweeps use (:mod:`theorycheck.parallel`); rows come back in grid order and
        equal the sequential ones. Default: one after the other, here.
    **train_overrides
        Further :class:`~theorycheck.empirical.train.TrainConfig` fields (lr, rho, device, ...).
    """
    from .data import load_dataset
    from .objectives import OBJECTIVE_NAMES
    from .._validation import check_choice

    caller = "run_random_labels"
    if isinstance(fractions, (str, bytes)) or not hasattr(fractions, "__iter__"):
        raise fail_type("fractions", caller, "a sequence of fractions in [0, 1]", fractions)
    grid = [check_real(f, "fractions", caller, ge=0.0, le=1.0) for f in fractions]
    if not grid:
        raise fail("fractions", caller, "a non-empty sequence of fractions in [0, 1]", fractions)
    losses = [check_choice(l, "losses", caller, OBJECTIVE_NAMES) for l in losses]
    if not losses:
        raise fail("losses", caller, "a non-empty sequence of loss names", losses)
    seeds = [check_int(s, "seeds", caller, min_value=0) for s in seeds]
    check_every = check_int(check_every, "check_every", caller, min_value=1)
    max_iterations = check_int(max_iterations, "max_iterations", caller, min_value=1)
    tol = check_real(tol, "tol", caller, gt=0.0)
    if time_budget is not None:
        time_budget = check_real(time_budget, "time_budget", caller, gt=0.0)
    base = load_dataset(data, seed=0, max_samples=max_samples, as_images=model in ("cnn", "resnet18"))
    # one task per run, plain data (the worker reloads the data set); the wall-clock deadline
    # travels with each task, so a run not started in time is skipped wherever it runs
    deadline = None if time_budget is None else time.time() + time_budget
    tasks = [{"data": data, "max_samples": max_samples, "loss": loss, "seed": seed, "fraction": fraction,
              "max_iterations": max_iterations, "check_every": check_every, "batch_size": batch_size,
              "model": model, "overrides": dict(train_overrides), "deadline": deadline}
             for loss in losses for seed in seeds for fraction in grid]
    done: list = [None] * len(tasks)

    def keep(i: int, row: Any) -> None:
        done[i] = row
        if isinstance(row, dict) and "loss" in row and on_row is not None:
            on_row(row)

    from ..parallel import Executor

    _DATA_CACHE[(data, max_samples, model in ("cnn", "resnet18"))] = base  # the sequential path reuses it
    try:
        if workers is None and scheduler is None:
            for i, task in enumerate(tasks):  # here: a run's exception propagates as it is
                keep(i, _fit_run(task))
        else:
            with Executor(workers, scheduler, warm=False) as ex:
                ex.map(_fit_run, tasks, keep)
    finally:
        _DATA_CACHE.clear()
    failed = [r for r in done if isinstance(r, dict) and r.get("status") in ("error", "worker-died")]
    if failed:
        err = failed[0]["error"]
        raise RuntimeError(f"a random-label run failed: {err['type']}: {err['message']}")
    rows: list[dict] = [r for r in done if isinstance(r, dict) and "loss" in r]
    skipped = sum(1 for r in done if isinstance(r, dict) and r.get("status") == "skipped")
    fits, censored = {}, {}
    for loss in losses:
        mine = [r for r in rows if r["loss"] == loss]
        done = [r for r in mine if r["iterations"] is not None]
        censored[loss] = len(mine) - len(done)
        fits[loss] = fit_scaling([r["fraction"] for r in done], [float(r["iterations"]) for r in done])
    if "ce" in losses and "supcon" in losses:
        verdict = scaling_verdict(fits, censored=censored, tol=tol)
    else:
        verdict = {"verdict": "INCONCLUSIVE", "shape": {l: classify_exponent(fits[l].get("power")) for l in losses},
                   "reason": "the claim compares CE with SC: run both losses"}
    if skipped:
        verdict = dict(verdict, note=f"{skipped} run(s) skipped: time budget spent")
    limits = (f"Measured on {base.name} (N = {base.n}, K = {base.num_classes}) with a {model} encoder, "
              f"batch {batch_size}, fractions {grid}, seeds {seeds}; counts resolved to {check_every} iterations, "
              f"runs capped at {max_iterations} iterations; train accuracy: classifier argmax (CE) / nearest class "
              f"mean (SC). graf2021's observation is for ResNet-18 on CIFAR; a verdict here says how this "
              f"setting behaves, not whether the paper's does.")
    settings = {"data": data, "fractions": grid, "losses": losses, "seeds": seeds, "check_every": check_every,
                "max_iterations": max_iterations, "max_samples": max_samples, "batch_size": batch_size,
                "model": model, "tol": tol, "train_overrides": train_overrides}
    result = RandomLabelResult(rows, fits, verdict, limits, settings)
    if out is not None:
        out_dir = Path(out)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise fail("out", caller, f"a directory that can be created and written ({exc.strerror or exc})",
                       str(out_dir)) from exc
        from ..report.durable import atomic_write_text  # a failed write leaves the previous file intact

        atomic_write_text(out_dir / "random_labels.txt", _table(rows) + "\n")
        from .figures import plot_random_labels

        result.files["figure"] = plot_random_labels(rows, fits, out_dir / "random_labels.png",
                                                    title=f"random labels on {base.name} (N={base.n}, K={base.num_classes}, {model})")
        result.files["table"] = str(out_dir / "random_labels.txt")
        result.files["json"] = str(out_dir / "random_labels.json")
        atomic_write_text(out_dir / "random_labels.json",
                          json.dumps(result.to_dict(), indent=2, default=_jsonable) + "\n")
    return result


#: Data sets already loaded in this process (the sequential path), by (name, max_samples, as_images).
_DATA_CACHE: dict = {}


def _fit_run(task: dict) -> dict:
    """One run of the grid: relabel, train until the set is fitted, return its row."""
    from .data import load_dataset
    from .train import TrainConfig, train

    if task["deadline"] is not None and time.time() > task["deadline"]:
        return {"status": "skipped"}
    as_images = task["model"] in ("cnn", "resnet18")
    key = (task["data"], task["max_samples"], as_images)
    base = _DATA_CACHE.get(key)
    if base is None:
        base = load_dataset(task["data"], seed=0, max_samples=task["max_samples"], as_images=as_images)
    loss, seed, fraction, max_iterations = task["loss"], task["seed"], task["fraction"], task["max_iterations"]
    labels, _ = flip_labels(base.y, fraction, base.num_classes, seed=seed)
    t0 = time.perf_counter()
    config = TrainConfig(loss=loss, data=task["data"], model=task["model"], batch_size=task["batch_size"],
                         iterations=max_iterations, eval_every=task["check_every"], metrics="accuracy",
                         stop_at_accuracy=1.0, seed=seed, figures=False, progress=False)
    config = dataclasses.replace(config, **task["overrides"])
    result = train(config, dataset=base.with_labels(labels, f"{base.name} (p={fraction:g})"))
    return {"loss": loss, "fraction": fraction, "seed": seed, "iterations": result.fitted_at,
            "max_iterations": max_iterations,
            "final_train_accuracy": float(result.final.get("train_accuracy", float("nan"))),
            "seconds": time.perf_counter() - t0}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return str(value)
