"""The fused, row-blocked SupCon of torch tensors (theorycheck._supcon_fused).

Checked against the composite implementation (``losses._supcon_terms_full``, the code
path numpy and mpmath inputs still take, run here on float64 torch tensors), against
torch.autograd.gradcheck, against pytorch-metric-learning, and for memory in a subprocess.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from theorycheck import losses as L
from theorycheck._supcon_fused import accumulation_dtype, auto_block_size
from theorycheck._validation import check_array

VARIANTS = ("out", "in")
REDUCTIONS = ("mean", "sum", "none")
# labels with a singleton class (anchor 6 has no positive) and unequal classes
Y7 = np.array([0, 0, 1, 1, 1, 2, 3])


def _previous(Z, y, temperature, variant, reduction, drop, base_temperature):
    """The composite implementation on a float64 torch tensor (autograd through torch ops)."""
    terms, counts = L._supcon_terms_full(Z, np.asarray(y), temperature, variant)
    if base_temperature is not None:
        terms = terms * (temperature / base_temperature)
    if reduction == "none":
        return terms
    total = terms.sum()
    if reduction == "sum":
        return total
    return total / (np.count_nonzero(counts) if drop else Z.shape[0])


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny matrices: intra-op threads only add contention on a shared box
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("variant,reduction,drop,base", [
    (v, r, d, b) for v, r, d, b in itertools.product(VARIANTS, REDUCTIONS, (True, False), (None, 0.07))
    if not (r != "mean" and d is False)  # drop only matters for the mean
])
@pytest.mark.parametrize("block", [None, 2, 3])
def test_gradcheck_every_variant_and_reduction(variant, reduction, drop, base, block):
    rng = np.random.default_rng(1)
    Z = torch.tensor(rng.normal(size=(7, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x: L.supcon(x, Y7, 0.5, variant, reduction, drop, base, block_size=block), (Z,))


@pytest.mark.parametrize("normalize", [True, False])
def test_gradcheck_nt_xent(normalize):
    rng = np.random.default_rng(2)
    z1 = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    z2 = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: L.nt_xent(a, b, 0.3, normalize=normalize, block_size=3), (z1, z2))


@pytest.mark.parametrize("variant,reduction", list(itertools.product(VARIANTS, REDUCTIONS)))
@pytest.mark.parametrize("n,k,block", [(40, 4, None), (40, 4, 7), (33, 30, 5), (64, 2, 64)])
def test_float64_equals_the_previous_implementation(variant, reduction, n, k, block):
    rng = np.random.default_rng(n + k)
    Z0 = rng.normal(size=(n, 6)) * 2
    y = rng.integers(0, k, size=n)
    if reduction == "mean" and np.bincount(y).max() < 2:
        y[1] = y[0]
    weights = torch.tensor(rng.normal(size=n))
    values, grads = [], []
    for fused in (True, False):
        Z = torch.tensor(Z0, requires_grad=True)
        out = (L.supcon(Z, y, 0.2, variant, reduction, True, 0.07, block_size=block) if fused
               else _previous(Z, y, 0.2, variant, reduction, True, 0.07))
        (out * weights).sum().backward() if reduction == "none" else out.backward()
        values.append(out.detach())
        grads.append(Z.grad)
    assert values[0].dtype == torch.float64
    assert torch.allclose(values[0], values[1], rtol=1e-12, atol=1e-12 * float(values[1].abs().max()))
    assert torch.allclose(grads[0], grads[1], rtol=1e-11, atol=1e-12 * float(grads[1].abs().max()))
    # and the numpy float64 path (unchanged composite code) gives the same numbers
    numpy_value = L.supcon(Z0, y, 0.2, variant, reduction, True, 0.07)
    assert np.allclose(values[0].numpy(), numpy_value, rtol=1e-12, atol=1e-12 * float(np.max(np.abs(numpy_value))))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("temperature", [1.0, 0.1, 0.01])
def test_float32_stays_float32_within_the_documented_bound(variant, temperature):
    """Bound of the supcon docstring: |error| <= 1e-5 * max(1, max|s_ij|) per term and per gradient entry scale."""
    rng = np.random.default_rng(3)
    n = 300
    Z0 = F.normalize(torch.tensor(rng.normal(size=(n, 16))), dim=1)
    y = rng.integers(0, 5, size=n)
    Z32 = Z0.float().requires_grad_(True)
    Z64 = Z32.detach().double().requires_grad_(True)  # the same values, float64 arithmetic
    terms32 = L.supcon(Z32, y, temperature, variant, "none", block_size=37)
    ref = _previous(Z64, y, temperature, variant, "none", True, None)
    assert terms32.dtype == torch.float32
    scale = max(1.0, 1.0 / temperature)  # max |s_ij| for unit rows
    assert float((terms32.double() - ref).abs().max().detach()) <= 1e-5 * scale
    loss32 = L.supcon(Z32, y, temperature, variant)
    loss32.backward()
    _previous(Z64, y, temperature, variant, "mean", True, None).backward()
    assert loss32.dtype == torch.float32 and Z32.grad.dtype == torch.float32
    gscale = float(Z64.grad.abs().max())
    assert float((Z32.grad.double() - Z64.grad).abs().max()) <= 1e-5 * scale * gscale


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_stays_in_its_dtype_and_accumulates_in_float32(dtype):
    rng = np.random.default_rng(4)
    n = 512  # 511 exponentials per anchor: summed in 8 or 11 bits this would drift visibly
    Z = F.normalize(torch.tensor(rng.normal(size=(n, 8))), dim=1)
    y = rng.integers(0, 4, size=n)
    Zh = Z.to(dtype).requires_grad_(True)
    loss = L.supcon(Zh, y, 0.1)
    loss.backward()
    ref = float(L.supcon(Zh.detach().double(), y, 0.1))
    assert accumulation_dtype(dtype) == torch.float32
    assert loss.dtype == dtype and Zh.grad.dtype == dtype and torch.isfinite(Zh.grad.float()).all()
    assert abs(float(loss.detach()) - ref) <= 2 * torch.finfo(dtype).eps * abs(ref)
    Z64 = Zh.detach().double().requires_grad_(True)
    L.supcon(Z64, y, 0.1).backward()
    rel = float((Zh.grad.double() - Z64.grad).norm() / Z64.grad.norm())
    assert rel <= 8 * torch.finfo(dtype).eps


def test_block_size_changes_nothing_but_rounding_and_auto_size_is_bounded():
    rng = np.random.default_rng(5)
    Z = torch.tensor(rng.normal(size=(50, 4)))
    y = rng.integers(0, 3, size=50)
    ref = L.supcon(Z, y, 0.5, "in", "none")
    for block in (1, 7, 49, 50, 500):
        assert torch.allclose(L.supcon(Z, y, 0.5, "in", "none", block_size=block), ref, rtol=1e-13, atol=1e-13)
    cpu = torch.device("cpu")
    assert auto_block_size(100, cpu, torch.float32) == 100  # small N: one tile
    big = auto_block_size(1 << 20, cpu, torch.float32)
    assert 16 <= big < 1 << 20 and big * (1 << 20) * 4 <= 64 << 20  # a tile stays tens of MiB
    assert auto_block_size(1 << 20, cpu, torch.float32, "in") <= big  # L_in keeps two tiles
    with pytest.raises(ValueError, match="block_size"):
        L.supcon(Z, y, block_size=0)
    with pytest.raises(ValueError, match="block_size"):
        L.nt_xent(Z, Z, 0.5, block_size=-1)


def test_validation_neither_copies_nor_upcasts_a_valid_input():
    for dtype in (torch.float64, torch.float32, torch.bfloat16, torch.float16):
        t = torch.zeros(3, 2, dtype=dtype)
        assert check_array(t, "Z", "f", keep_torch_dtype=True) is t
    assert check_array(torch.zeros(3, 2, dtype=torch.int32), "Z", "f", keep_torch_dtype=True).dtype == torch.float64
    a = np.zeros((3, 2))
    assert check_array(a, "Z", "f") is a
    with pytest.raises(ValueError, match="finite"):
        check_array(torch.tensor([[float("nan")]], dtype=torch.float16), "Z", "f", keep_torch_dtype=True)


def test_anchors_without_positives_count_as_documented():
    Z = torch.tensor(np.random.default_rng(6).normal(size=(7, 3)), requires_grad=True)
    terms = L.supcon(Z, Y7, 0.5, reduction="none")
    assert float(terms[6].detach()) == 0.0
    keep = torch.tensor(np.bincount(Y7)[Y7] > 1)
    assert torch.isclose(L.supcon(Z, Y7, 0.5), terms[keep].mean(), rtol=1e-14)
    assert torch.isclose(L.supcon(Z, Y7, 0.5, drop_anchors_without_positives=False), terms.sum() / 7, rtol=1e-14)
    L.supcon(Z, Y7, 0.5, "in").backward()
    assert torch.isfinite(Z.grad).all()
    with pytest.raises(ValueError, match="at least one class of two"):
        L.supcon(Z, np.arange(7), 0.5)


@pytest.mark.parametrize("variant,reduction", list(itertools.product(VARIANTS, REDUCTIONS)))
def test_second_derivatives_through_create_graph(variant, reduction):
    Z = torch.tensor(np.random.default_rng(7).normal(size=(7, 2)), requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda x: L.supcon(x, Y7, 0.5, variant, reduction, block_size=3), (Z,))


def test_no_gradient_work_without_autograd():
    Z = torch.tensor(np.random.default_rng(8).normal(size=(20, 3)))
    with torch.no_grad():
        out = L.supcon(Z.clone().requires_grad_(True), np.arange(20) % 3, 0.5)
    assert out.grad_fn is None and out.dtype == torch.float64


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
def test_supcon_and_nt_xent_match_pml_in_float32_and_float64(dtype, tol):
    import pytorch_metric_learning.losses as pml  # a dev dependency: missing is a failure
    rng = np.random.default_rng(9)
    Z = torch.tensor(rng.normal(size=(64, 16)), dtype=dtype, requires_grad=True)
    y = torch.tensor(rng.integers(0, 6, size=64))
    ours = L.supcon(F.normalize(Z, dim=1), y, 0.1)
    theirs = pml.SupConLoss(temperature=0.1)(Z, y)
    assert ours.dtype == dtype
    assert abs(float(ours.detach()) - float(theirs.detach())) <= tol * abs(float(theirs.detach()))
    g_ours = torch.autograd.grad(ours, Z)[0]
    g_theirs = torch.autograd.grad(theirs, Z)[0]
    assert float((g_ours - g_theirs).abs().max()) <= 10 * tol * float(g_theirs.abs().max())
    z1, z2 = Z[:32], Z[32:]
    labels = torch.arange(32)
    theirs = pml.NTXentLoss(temperature=0.2)(torch.cat([z1, z2]), torch.cat([labels, labels]))
    ours = L.nt_xent(z1, z2, 0.2)
    assert ours.dtype == dtype and abs(float(ours.detach()) - float(theirs.detach())) <= tol * abs(float(theirs.detach()))


# Peak resident memory above the baseline for one N = 8192, d = 128 float32 forward + backward
# with the automatic tile (about 32 MiB); measured 80-90 MiB on a 2-core CPU box. The
# composite implementation needed several 8192 x 8192 float64 buffers (512 MiB each).
PEAK_MIB_N8192_FLOAT32 = 256

_MEMORY_SCRIPT = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from theorycheck.losses import supcon

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1]) * 1024

    N, variant = int(sys.argv[1]), sys.argv[2]
    Z = torch.randn(N, 128, requires_grad=True)
    y = torch.randint(0, 10, (N,))
    supcon(torch.randn(64, 128, requires_grad=True), y[:64], 0.1, variant).backward()  # load everything
    base = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:  # resets the peak (VmHWM) to the current RSS
        f.write("5")
    supcon(torch.nn.functional.normalize(Z, dim=1), y, 0.1, variant).backward()
    assert Z.grad is not None and bool(torch.isfinite(Z.grad).all())
    print((status("VmHWM") - base) / 2**20)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS through /proc/self/status")
@pytest.mark.parametrize("variant", VARIANTS)
def test_memory_of_n8192_float32_forward_backward(variant):
    done = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, "8192", variant],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    peak_mib = float(done.stdout.strip().splitlines()[-1])
    assert 0 <= peak_mib < PEAK_MIB_N8192_FLOAT32, peak_mib


# The CUDA comparison lives in scripts/gpu_check.py, run on a machine with a GPU.


def _graph_names(t: torch.Tensor) -> set:
    """Names of every autograd node that produced ``t``."""
    seen, todo, names = set(), [t.grad_fn], set()
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(type(node).__name__)
        todo.extend(next_fn for next_fn, _ in node.next_functions)
    return names


def test_nt_xent_and_the_training_sc_loss_go_through_the_fused_function():
    from theorycheck.empirical.objectives import SupConObjective

    rng = np.random.default_rng(11)
    z = torch.tensor(rng.normal(size=(12, 5)), dtype=torch.float32, requires_grad=True)
    y = torch.tensor(rng.integers(0, 3, size=12))
    train_loss = SupConObjective(temperature=0.2)(F.normalize(z, dim=1), y)
    pair_loss = L.nt_xent(z[:6], z[6:], 0.2)
    for loss in (train_loss, pair_loss):
        assert loss.dtype == torch.float32  # no up-cast on the way
        assert any("_SupConTerms" in name for name in _graph_names(loss)), _graph_names(loss)
    # the composite torch expression would have built a graph without the fused node
    composite, _ = L._supcon_terms_full(F.normalize(z.double(), dim=1), y.numpy(), 0.2, "out")
    assert not any("_SupConTerms" in name for name in _graph_names(composite.sum()))
