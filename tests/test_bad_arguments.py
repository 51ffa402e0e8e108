"""Every public function of losses, geometry, bounds, relax and strategies, fed bad arguments.

The functions are found from each module's ``__all__``: a new public function has no entry
in ``VALID`` below and fails :func:`test_every_public_function_has_an_entry` until one is
written. Each entry is a factory of *valid* keyword arguments; the bad arguments are derived
from the type of each valid value (an array gets NaN, inf, 1e155, 1e300, 1e-300, wrong
shapes, int/complex/object/str dtypes, meta tensors of ordinary and of huge shape; an
integer gets 10**9 and 10**18, negatives and fractions; a real gets NaN, inf, +-1e300,
...), so a new parameter is covered too.

The rule for every case: the call either returns a finite value (every number in the
result, recursively through tuples, dicts, dataclasses and arrays, is finite) or raises
:class:`~theorycheck.InvalidArgumentError` (``ValueError``) /
:class:`~theorycheck.InvalidArgumentTypeError` (``TypeError``) naming one of the function's
parameters (``err.param``); strategies may also raise
:class:`~theorycheck.strategies.Unsatisfiable` (the engine's VACUOUS) naming one. Any other
exception, a non-finite result, or a call longer than ``DEADLINE_S`` fails. Calls run
under an address-space limit, so an allocation bomb is a MemoryError (a failure here)
rather than a swapping machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import math
import numbers
import resource
import signal
import time

import mpmath
import numpy as np
import pytest
import torch

import theorycheck.bounds as bounds
import theorycheck.geometry as geometry
import theorycheck.losses as losses
import theorycheck.relax as relax
import theorycheck.strategies as strategies
from theorycheck._validation import InvalidArgumentError

MODULES = {"losses": losses, "geometry": geometry, "bounds": bounds, "relax": relax, "strategies": strategies}
DEADLINE_S = 3.0  # a hang on a huge size fails fast instead of stalling the suite
HEAP_HEADROOM = 3 << 30  # bytes of address space a call may add before MemoryError


def _public():
    """(qualified name, object) of every public name of the five modules."""
    for short, mod in MODULES.items():
        for name in mod.__all__:
            yield f"{short}.{name}", getattr(mod, name)


def _public_functions():
    return {q: obj for q, obj in _public() if inspect.isfunction(obj)}


# -- valid arguments ----------------------------------------------------------------------------

rng = np.random.default_rng(0)
Z = rng.normal(size=(6, 3))
Z2 = rng.normal(size=(6, 3))
W = rng.normal(size=(3, 3))
Y = np.array([0, 0, 1, 1, 2, 2])
G = geometry.simplex_gram(3)[np.ix_(Y, Y)] + 0.0  # collapsed simplex Gram matrix of Y (unit diagonal)
MEANS = geometry.regular_simplex(3, 3)

_CERT = None


def _certificate():
    global _CERT
    if _CERT is None:
        _CERT = relax.batch_sc_relaxation([2, 2], 2).certificate
    return _CERT


#: qualified name -> factory of valid keyword arguments
VALID = {
    "losses.cross_entropy": lambda: dict(Z=Z, W=W, y=Y, l2=0.1),
    "losses.supcon": lambda: dict(Z=Z, y=Y, temperature=0.5, variant="out", reduction="mean",
                                  drop_anchors_without_positives=True, base_temperature=0.5, block_size=4),
    "losses.sc_loss": lambda: dict(Z=Z[:4], y=Y[:4], b=2, batches="multiset", method="auto", max_batches=100,
                                   n_samples=10, seed=0),
    "losses.nt_xent": lambda: dict(z1=Z, z2=Z2, temperature=0.5, normalize=True, block_size=4),
    "losses.infonce_one_negative": lambda: dict(f1=Z, f2=Z2, f_neg=Z[::-1].copy()),
    "losses.dcl": lambda: dict(z1=Z, z2=Z2, temperature=0.5, normalize=True),
    "losses.barlow_twins": lambda: dict(z1=Z, z2=Z2, lambd=0.0051, eps=0.0),
    "losses.vicreg": lambda: dict(z1=Z, z2=Z2, sim=25.0, std=25.0, cov=1.0, gamma=1.0, eps=1e-4),
    "losses.vicreg_exp": lambda: dict(z1=Z, z2=Z2, sim=25.0, std=25.0, cov=1.0, gamma=1.0, eps=1e-4,
                                      temperature=1.0),
    "losses.vicreg_ctr": lambda: dict(z1=Z, z2=Z2, sim=25.0, std=25.0, cov=1.0, gamma=1.0, eps=1e-4,
                                      temperature=1.0),
    "losses.sample_contrastive": lambda: dict(K=Z),
    "losses.dimension_contrastive": lambda: dict(K=Z),
    "losses.alignment": lambda: dict(z1=Z, z2=Z2, alpha=2.0),
    "losses.uniformity": lambda: dict(z=Z, t=2.0),
    "geometry.regular_simplex": lambda: dict(K=3, h=3, radius=1.0),
    "geometry.simplex_gram": lambda: dict(K=3, radius=1.0),
    "geometry.simplex_residuals": lambda: dict(Zeta=MEANS),
    "geometry.class_means": lambda: dict(Z=Z, y=Y, K=3),
    "geometry.pairwise_cosine_statistics": lambda: dict(Zeta=MEANS),
    "geometry.class_mean_cosine_statistics": lambda: dict(Z=Z, y=Y, K=3, global_mean="class-means"),
    "geometry.sample_class_mean_similarity": lambda: dict(Z=Z, y=Y, K=3),
    "geometry.neural_collapse": lambda: dict(Z=Z, y=Y, W=W, K=3, bias=np.zeros(3), global_mean="class-means"),
    "geometry.class_mean_rank_cut": lambda: dict(s_max=1.0, means=MEANS, K=3, h=3),
    "geometry.distance_up_to": lambda: dict(A=MEANS, B=MEANS[::-1].copy(), rotation=True, reflection=True,
                                            relabel=True, relative=True),
    "geometry.procrustes": lambda: dict(A=Z, B=Z2, proper=False),
    "geometry.distance_to_simplex": lambda: dict(Zeta=MEANS, radius=1.0),
    "geometry.distance_to_collapsed_simplex": lambda: dict(Z=Z, y=Y, radius=1.0, K=3),
    "bounds.ce_lower_bound": lambda: dict(K=3, rho=1.0, W_fro=2.0),
    "bounds.ce_l2_lower_bound": lambda: dict(K=3, rho=1.0, lam=0.1, W_fro=2.0),
    "bounds.r_w_literal": lambda: dict(K=3, rho=1.0, lam=0.1),
    "bounds.ce_l2_minimiser": lambda: dict(K=3, rho=1.0, lam=0.1),
    "bounds.sc_minimum": lambda: dict(N=6, K=3, b=3, rho=1.0, batches="multiset"),
    "bounds.sc_minimum_exact_counts": lambda: dict(N=6, K=3, b=3, rho=1.0, batches="multiset", dps=20),
    "relax.sc_gram_loss": lambda: dict(G=G, y=Y, tau=0.5),
    "relax.sc_gram_loss_expr": lambda: dict(G=G, y=Y, tau=0.5),
    "relax.ufm_sc_loss": lambda: dict(H=Z, y=Y, tau=0.5),
    "relax.sc_relaxation": lambda: dict(y=Y[:4], tau=0.5, constraint="sphere", solver="clarabel", eps=1e-7,
                                        max_iters=200, verbose=False, rank_tol=1e-5),
    "relax.sc_relaxation_reduced": lambda: dict(n_per_class=2, K=2, tau=0.5, constraint="sphere",
                                                solver="clarabel", eps=1e-8, max_iters=200, verbose=False,
                                                rank_tol=1e-6),
    "relax.sc_relaxation_step": lambda: dict(k1=1, n1=2, k2=1, n2=3, tau=0.5, constraint="sphere",
                                             solver="clarabel", eps=1e-8, max_iters=200, verbose=False,
                                             rank_tol=1e-6),
    "relax.sc_relaxation_class_sizes": lambda: dict(class_sizes=[2, 3], tau=0.5, constraint="sphere",
                                                    solver="clarabel", eps=1e-8, max_iters=200, verbose=False,
                                                    rank_tol=1e-6),
    "relax.recover_features": lambda: dict(G=G, d=2, constraint="sphere"),
    "relax.gram_lower_bound": lambda: dict(G=G, y=Y, tau=0.5, constraint="sphere"),
    "relax.batch_sc_relaxation": lambda: dict(class_sizes=[2, 2], b=2, batches="multiset", rho=1.0,
                                              solver="clarabel", eps=1e-8, max_iters=200, verbose=False,
                                              rank_tol=1e-6),
    "relax.batch_sc_simplex_value": lambda: dict(class_sizes=[2, 2], b=2, batches="multiset", rho=1.0),
    "relax.check_batch_sc_certificate": lambda: dict(certificate=_certificate(), dps=20),
    "strategies.labels": lambda: dict(N=6, K=3),
    "strategies.balanced_labels": lambda: dict(N=6, K=3),
    "strategies.imbalanced_labels": lambda: dict(N=6, K=3, min_count=1),
    "strategies.sphere": lambda: dict(N=4, h=3, radius=1.0),
    "strategies.ball": lambda: dict(N=4, h=3, radius=1.0),
    "strategies.real_matrix": lambda: dict(N=4, h=3, scale=1.0),
    "strategies.simplex_configuration": lambda: dict(K=3, h=3, radius=1.0),
    "strategies.perturbed_simplex": lambda: dict(K=3, h=3, radius=1.0, scale=0.1, on_sphere=True),
    "strategies.collapsed_on_simplex": lambda: dict(y=Y, h=3, radius=1.0, K=3),
    "strategies.psd": lambda: dict(n=4, rank=2),
    "strategies.elliptope": lambda: dict(n=4, rank=2),
    "strategies.unit_rows": lambda: dict(M=3, N=4),
    "strategies.unit_columns": lambda: dict(M=3, N=4),
    "strategies.doubly_normalized": lambda: dict(M=3, N=3),
    "strategies.probability_vector": lambda: dict(K=4, min_entry=0.05),
    "strategies.real": lambda: dict(low=-1.0, high=2.0),
    "strategies.box": lambda: dict(shape=(3, 2), low=-1.0, high=2.0, dtype=None),
    "strategies.fixed": lambda: dict(value=Z),
    "strategies.regular_simplex": lambda: dict(K=3, h=3, radius=1.0),
    "strategies.float_arrays": lambda: dict(shape=(3, 2), bound=10.0),
    "strategies.normalize_rows": lambda: dict(x=Z, radius=1.0),
    "strategies.straight_through": lambda: dict(x=torch.tensor(Z, requires_grad=True), exact=Z2),
}


# -- bad arguments, derived from the valid ones ---------------------------------------------------

HUGE = 10**9


def _with(a: np.ndarray, index, value) -> np.ndarray:
    out = a.astype(np.float64).copy()
    out[index] = value
    return out


def _float_array_cases(a: np.ndarray):
    first = (0,) * a.ndim
    yield "nan", _with(a, first, np.nan)
    yield "inf", _with(a, first, np.inf)
    yield "-inf", _with(a, first, -np.inf)
    for scale in (1e155, 1e300, 1e-300):
        yield f"times {scale:g}", a * scale
    yield "one more axis", a[None]
    yield "one axis fewer", a.reshape(-1) if a.ndim > 1 else a[0]
    yield "empty", a[:0]
    yield "int dtype", np.round(a).astype(np.int64)
    yield "complex dtype", a.astype(np.complex128)
    yield "object dtype (strings)", a.astype(str).astype(object)
    yield "str", "abc"
    yield "None", None
    yield "torch float32", torch.tensor(a, dtype=torch.float32)
    yield "meta tensor", torch.empty(a.shape, device="meta")
    yield "huge meta tensor", torch.empty((HUGE, HUGE), device="meta")


def _label_cases(y: np.ndarray):
    yield "fractional", y + 0.5
    yield "negative", y - 10
    yield "one short", y[:-1]
    yield "2-D", y[None]
    yield "huge label (K = 10**9)", _with(y, -1, HUGE).astype(np.int64)
    yield "str", "abc"
    yield "object dtype", y.astype(object)
    yield "meta tensor", torch.empty(y.shape, dtype=torch.int64, device="meta")
    yield "huge meta tensor", torch.empty((HUGE,), dtype=torch.int64, device="meta")


def _int_cases(v: int):
    yield from (("10**9", HUGE), ("10**18", 10**18), ("-1", -1), ("0", 0), ("fraction", v + 0.5),
                ("str", str(v)), ("nan", math.nan), ("complex", complex(v, 1)))


def _real_cases(v: float):
    yield from (("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf), ("1e300", 1e300), ("-1e300", -1e300),
                ("1e-300", 1e-300), ("0", 0.0), ("-1", -1.0), ("str", "1"), ("complex", 1j),
                ("numpy array", np.array([v, v])))


def _sequence_cases(v):
    yield from (("10**9 entries", [HUGE] * len(v)), ("negative", [-1] + list(v[1:])), ("fractions", [2.5] * len(v)),
                ("str", "abc"), ("empty", []), ("nan", [math.nan] * len(v)), ("10**18", [10**18] * len(v)))


def _shape_cases(v: tuple):
    yield from (("huge", (HUGE, HUGE)), ("negative", (-1, 2)), ("fraction", (2.5,)), ("str", "ab"),
                ("nan", (math.nan,)))


def _bad_values(value):
    """(label, bad value) pairs for one valid value, chosen by its type."""
    if isinstance(value, torch.Tensor):
        yield from _float_array_cases(value.detach().numpy())
    elif isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.integer):
        yield from _label_cases(value)
    elif isinstance(value, np.ndarray):
        yield from _float_array_cases(value)
    elif isinstance(value, bool):
        yield from (("str", "yes"), ("int", 2), ("None", None))
    elif isinstance(value, numbers.Integral):
        yield from _int_cases(int(value))
    elif isinstance(value, numbers.Real):
        yield from _real_cases(float(value))
    elif isinstance(value, str):
        yield from (("unknown choice", "bogus"), ("int", 3), ("None", None))
    elif isinstance(value, list):
        yield from _sequence_cases(value)
    elif isinstance(value, tuple):
        yield from _shape_cases(value)
    else:  # an object such as a certificate
        yield from (("None", None), ("str", "abc"), ("number", 1.0))


def _cases():
    """One test per (function, parameter); it runs every bad value of that parameter."""
    out = []
    for qname in sorted(VALID):
        for param in VALID[qname]():
            out.append(pytest.param(qname, param, id=f"{qname}-{param}"))
    return out


# -- judging a call ----------------------------------------------------------------------------------

class _Hang(Exception):
    pass


@contextlib.contextmanager
def _limits(seconds: float):
    """Fail a call that runs past ``seconds`` (SIGALRM), and make an allocation of more than
    HEAP_HEADROOM bytes a MemoryError (RLIMIT_AS) instead of a swapping machine."""

    def on_alarm(signum, frame):
        raise _Hang(f"no answer after {seconds} s")

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        used = int(fh.read().split()[0]) * resource.getpagesize()
    cap = used + HEAP_HEADROOM
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    old = signal.signal(signal.SIGALRM, on_alarm)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _non_finite(value, path="result", depth=0):
    """Where ``value`` holds a non-finite number (None if nowhere)."""
    if depth > 6 or value is None or isinstance(value, (str, bytes, bool)):
        return None
    if isinstance(value, torch.Tensor):
        if value.device.type == "meta" or not (value.is_floating_point() or value.is_complex()):
            return None
        return None if bool(torch.isfinite(value.detach()).all()) else path
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return next((p for i, v in enumerate(value.flat) if (p := _non_finite(v, f"{path}[{i}]", depth + 1))),
                        None)
        if np.issubdtype(value.dtype, np.number):
            if path.rsplit(".", 1)[-1].startswith("log"):
                value = value[value != -np.inf]  # log of an exact 0 term (see below)
            return None if bool(np.all(np.isfinite(value))) else path
        return None
    if isinstance(value, mpmath.mpf):
        return None if mpmath.isfinite(value) else path
    if isinstance(value, numbers.Number):
        if value == -math.inf and path.rsplit(".", 1)[-1].startswith("log"):
            return None  # log of an exact 0 (SCMinimum.log_total of a zero total) is -inf by definition
        return None if math.isfinite(abs(complex(value))) else path
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
    elif isinstance(value, tuple) and hasattr(value, "_fields"):  # NamedTuple: keep the field names
        items = zip(value._fields, value)
    elif isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (tuple, list)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite(item, f"{path}.{key}", depth + 1)
        if found:
            return found
    return None


def _named_params(func) -> set[str]:
    return set(inspect.signature(func).parameters)


def _names_a_param(err: Exception, params: set[str]) -> bool:
    if isinstance(err, InvalidArgumentError):
        return err.param.split("[")[0].split(".")[0] in params
    text = str(err)
    return any(f"{p}=" in text or f"`{p}`" in text or f" {p} " in f" {text} " for p in params)


def _judge(func, kwargs):
    """None when the call is acceptable, else what is wrong with it."""
    params = _named_params(func)
    start = time.perf_counter()
    try:
        with _limits(DEADLINE_S):
            out = func(**kwargs)
            if isinstance(out, strategies.Space):
                # a space's value is what it draws: drawing must be finite too
                out = (out, out.sample(np.random.default_rng(0)))
    except InvalidArgumentError as err:
        return None if _names_a_param(err, params) else f"error names no parameter: {err}"
    except strategies.Unsatisfiable as err:
        if func.__module__ != strategies.__name__:
            return f"Unsatisfiable outside strategies: {err}"
        return None if _names_a_param(err, params) else f"Unsatisfiable names no parameter: {err}"
    except relax.RelaxationError as err:  # a solver that cannot meet the request, said by name
        if func.__module__ != relax.__name__:
            return f"RelaxationError outside relax: {err}"
        return None if _names_a_param(err, params) else f"RelaxationError names no parameter: {err}"
    except _Hang as err:
        return f"hang: {err}"
    except Exception as err:  # noqa: BLE001 - anything else is the failure under test
        return f"unclear {type(err).__name__}: {str(err)[:300]}"
    elapsed = time.perf_counter() - start
    where = _non_finite(out)
    if where:
        return f"silent non-finite value at {where} (in {elapsed:.2f} s)"
    return None


# -- tests ---------------------------------------------------------------------------------------

def test_every_public_function_has_an_entry():
    missing = sorted(set(_public_functions()) - set(VALID))
    stale = sorted(set(VALID) - set(_public_functions()))
    assert not missing, f"public functions with no entry in VALID (add a factory of valid arguments): {missing}"
    assert not stale, f"entries of VALID that are no longer public functions: {stale}"


def test_every_other_public_name_is_a_class_or_a_constant():
    # a public name that is neither a function nor a class (a callable object, say) would
    # escape the table; only result/exception classes and constant tuples are allowed
    others = {q: o for q, o in _public() if not inspect.isfunction(o)}
    odd = sorted(q for q, o in others.items() if not (inspect.isclass(o) or isinstance(o, tuple)))
    assert not odd, f"public names that are neither functions, classes nor constant tuples: {odd}"


@pytest.mark.parametrize("qname", sorted(VALID))
def test_valid_arguments_give_a_finite_value(qname):
    func = _public_functions()[qname]
    assert _judge(func, VALID[qname]()) is None
    out = func(**VALID[qname]())
    assert not isinstance(out, Exception)


@pytest.mark.parametrize(("qname", "param"), _cases())
def test_bad_argument_gives_a_finite_value_or_a_named_error(qname, param):
    func = _public_functions()[qname]
    problems = []
    labels = [label for label, _ in _bad_values(VALID[qname]()[param])]
    assert len(labels) >= 3
    for label in labels:
        kwargs = VALID[qname]()
        kwargs[param] = dict(_bad_values(kwargs[param]))[label]
        problem = _judge(func, kwargs)
        if problem:
            problems.append(f"{qname}({param}=<{label}>): {problem}")
    assert not problems, "\n".join(problems)


# -- the cases of the issue, with the values they must give ----------------------------------------

def _param_of(excinfo) -> str:
    return excinfo.value.param


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")
def test_supcon_at_1e155_is_a_named_error_not_nan():
    with pytest.raises(InvalidArgumentError, match="representable in float64") as info:
        losses.supcon(Z * 1e155, Y)
    assert _param_of(info) == "Z"
    with pytest.raises(InvalidArgumentError, match="representable") as info:
        losses.vicreg(Z * 1e100, Z2 * 1e100)
    assert _param_of(info) in ("z1", "z2")
    # the fused torch path in float32 overflows far earlier (1e20): named too, not nan
    with pytest.raises(InvalidArgumentError, match="representable"):
        losses.supcon(torch.tensor(Z * 1e20, dtype=torch.float32), Y)


@pytest.mark.parametrize("scale", [2.0**500, 1e155, 1e300, 1e-300])
def test_scale_free_distances_are_computed_at_any_magnitude(scale):
    Zeta = rng.normal(size=(4, 5))
    base = geometry.distance_to_simplex(Zeta)
    assert 0.0 < base < 1.0
    assert geometry.distance_to_simplex(Zeta * scale) == pytest.approx(base, rel=1e-12)
    # with a radius d is homogeneous of degree 0 in (Zeta, radius)
    with_radius = geometry.distance_to_simplex(Zeta, radius=0.7)
    assert geometry.distance_to_simplex(Zeta * scale, radius=0.7 * scale) == pytest.approx(with_radius, rel=1e-12)
    res, scaled = geometry.simplex_residuals(Zeta), geometry.simplex_residuals(Zeta * scale)
    for got, want in zip(scaled, res):  # homogeneous of degree 1
        assert got == pytest.approx(want * scale, rel=1e-12)
    assert geometry.distance_to_collapsed_simplex(Z * scale, Y) == pytest.approx(
        geometry.distance_to_collapsed_simplex(Z, Y), rel=1e-12)


def test_distance_with_an_unrepresentable_ratio_is_named():
    # |Zeta| / radius = 1e300: d ~ 1e600
    with pytest.raises(InvalidArgumentError, match="representable"):
        geometry.distance_to_simplex(MEANS * 1e150, radius=1e-150)


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_normalize_rows_gives_unit_rows_at_any_magnitude(scale):
    out = strategies.normalize_rows(Z * scale, radius=2.0)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 2.0, rtol=1e-14)
    np.testing.assert_allclose(out, strategies.normalize_rows(Z, radius=2.0), rtol=1e-14)


@pytest.mark.parametrize(("call", "param"), [
    (lambda: bounds.sc_minimum_exact_counts(6, 3, 10**9, 1.0), "b"),
    (lambda: bounds.sc_minimum_exact_counts(6, 3, 3, 1.0, dps=10**9), "dps"),
    (lambda: bounds.sc_minimum(6, 3, 10**9, 1.0), "b"),
    (lambda: relax.batch_sc_simplex_value([2, 2, 2], 10**9), "b"),
    (lambda: relax.batch_sc_simplex_value([2, 3, 4, 5], 2000), "b"),  # 4 sizes: ~10^12 configurations
    (lambda: losses.sc_loss(Z, Y, 10**9), "b"),
    (lambda: geometry.regular_simplex(3, 10**9), "h"),
    (lambda: geometry.class_means(Z, Y, K=10**9), "K"),
    (lambda: strategies.sphere(10**9, 3), "N"),
])
def test_huge_sizes_are_refused_by_name_at_once(call, param):
    start = time.perf_counter()
    with pytest.raises(InvalidArgumentError) as info:
        call()
    assert time.perf_counter() - start < 0.5
    assert _param_of(info) == param
    assert "at most" in str(info.value) or "<=" in str(info.value)


def test_meta_tensors_are_named():
    meta = torch.empty((6, 3), device="meta")
    for call, param in ((lambda: losses.supcon(meta, Y), "Z"),
                        (lambda: losses.supcon(torch.tensor(Z), torch.empty(6, dtype=torch.int64, device="meta")), "y"),
                        (lambda: geometry.class_means(meta, Y), "Z"),
                        (lambda: strategies.fixed(meta), "value")):
        with pytest.raises(InvalidArgumentError, match="meta") as info:
            call()
        assert _param_of(info) == param


def test_a_valid_float32_tensor_is_not_copied_at_the_boundary():
    from theorycheck._validation import check_array

    x = torch.tensor(Z, dtype=torch.float32, requires_grad=True)
    assert check_array(x, "Z", "f", keep_torch_dtype=True) is x
    loss = losses.supcon(x, Y)
    assert loss.dtype == torch.float32 and math.isfinite(float(loss.detach()))
