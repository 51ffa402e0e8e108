"""Training on CPU: SC and CE-fix on digits reach the simplex; determinism, AMP path, samplers, errors.

The two headline runs (graf2021's claim on a small scale): an MLP on scikit-learn's
digits (balanced to 174 per class, K = 10), features on a sphere, batches of 512 drawn
without replacement, Adam, 200 iterations, seed 0. Measured on this CPU (1 thread):

* SC, rho = 1.5: mean class-mean cosine -0.1108 (target -1/9 = -0.1111), worst pair
  0.022 from the target, NC1 0.0018, SC loss 3.1 above its closed-form minimum (per batch
  of 512; 0.14%).
* CE-fix, rho = 1, fixed simplex of radius 2.5: mean -0.1110, worst pair 0.015, NC1 0.010,
  CE 0.012 above graf2021's bound.

The assertions below check those numbers with margins that a change of platform's
float rounding cannot cross, but that a broken objective, metric or sampler would.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from theorycheck import InvalidArgumentError
from theorycheck.empirical.data import load_dataset
from theorycheck.empirical.train import BatchSampler, TrainConfig, TrainingModule, resolve_device, train

TARGET = -1.0 / 9.0


@pytest.fixture(scope="module")
def sc_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sc")
    return train(loss="supcon", data="digits", balance=True, rho=1.5, batch_size=512, iterations=200,
                 eval_every=50, seed=0, threads=1, device="cpu", out=str(out))


@pytest.fixture(scope="module")
def ce_fix_run():
    return train(loss="ce-fix", data="digits", balance=True, rho=1.0, weight_radius=2.5, batch_size=512,
                 iterations=200, eval_every=100, seed=0, threads=1, device="cpu", figures=False)


def test_sc_on_digits_reaches_the_simplex(sc_run):
    final = sc_run.final
    assert final["num_classes"] == 10 and final["n"] == 1740 and final["target_cos"] == pytest.approx(TARGET)
    assert abs(final["cos_mean"] - TARGET) < 0.005
    assert final["cos_max_dev"] < 0.05  # every pair of class means within 0.05 of -1/9 (measured 0.022)
    assert final["nc1"] < 0.01 and final["sample_mean_similarity"] > 0.99
    assert final["train_accuracy"] == 1.0 and final["ncc_accuracy"] == 1.0
    # the loss approaches the closed-form minimum of graf2021.sc.minimum (subset batches of 512)
    assert final["sc_batches"] == "subset" and final["sc_minimum"] == pytest.approx(2294.8, abs=0.5)
    assert 0 < final["sc_gap"] < 0.005 * final["sc_minimum"]
    first = sc_run.history[0]
    assert first["iteration"] == 0 and first["cos_max_dev"] > 0.5 and first["sc_gap"] > 100
    assert [r["iteration"] for r in sc_run.history] == [0, 50, 100, 150, 200]
    iters, dev = sc_run.series("cos_max_dev")
    assert dev[-1] < dev[1] < dev[0]


def test_ce_fix_on_digits_reaches_the_simplex(ce_fix_run):
    final = ce_fix_run.final
    assert abs(final["cos_mean"] - TARGET) < 0.005
    assert final["cos_max_dev"] < 0.05  # measured 0.015
    assert final["nc3"] < 0.05 and final["nc4"] < 0.01 and final["train_accuracy"] > 0.99
    # the classifier stays the fixed simplex of radius 2.5: ||W||_F = 2.5 sqrt(K)
    assert final["w_norm"] == pytest.approx(2.5 * np.sqrt(10), rel=1e-6)
    assert final["bound_rho"] == 1.0 and final["bound_assumptions_hold"]
    assert 0 < final["ce_gap"] < 0.05


def test_run_writes_jsonl_checkpoints_summary_and_figures(sc_run):
    files = sc_run.files
    lines = open(files["metrics"]).read().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["iteration"] for r in records] == [0, 50, 100, 150, 200]
    assert records[-1]["cos_max_dev"] == pytest.approx(sc_run.final["cos_max_dev"])
    summary = json.load(open(files["summary"]))
    assert summary["iterations"] == 200 and summary["data"]["balanced"] and summary["device"] == "cpu"
    config = json.load(open(files["config"]))
    assert config["loss"] == "supcon" and config["rho"] == 1.5
    for key in ("geometry_png", "cosine_histogram_png", "loss_bound_png"):
        with open(files[key], "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert len(sc_run.final_cosines) == 45


def test_same_seed_same_history_on_cpu():
    kwargs = dict(loss="supcon", data="gaussian", iterations=12, batch_size=40, eval_every=6, seed=3, threads=1,
                  device="cpu", metrics="accuracy")
    a, b = train(**kwargs), train(**kwargs)
    c = train(**dict(kwargs, seed=4))
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(a.history) == strip(b.history)
    assert strip(a.history) != strip(c.history)


def test_mixed_precision_path_runs_on_cpu():
    # the CUDA path (autocast + GradScaler with float16) is the same code; on CPU it runs with
    # float16 autocast too, and bfloat16 is the CPU default
    for dtype, scaled in (("float16", True), ("auto", False)):
        result = train(loss="ce", data="gaussian", iterations=10, batch_size=50, eval_every=10, seed=0, threads=1,
                       device="cpu", amp=True, amp_dtype=dtype, metrics="accuracy")
        assert result.amp_dtype == ("float16" if scaled else "bfloat16")
        assert np.isfinite(result.history[-1]["train_loss"])
    # inside the module the encoder really runs in reduced precision; the SupCon loss is computed
    # outside autocast from float32 features and stays float32 (the fused SupCon keeps the dtype)
    enc_dtypes = []
    from theorycheck.empirical.models import build_encoder
    from theorycheck.empirical.objectives import make_objective

    obj, radius = make_objective("supcon", 3, 4, rho=1.0)
    enc = build_encoder("mlp", (5,), 4, radius=radius, hidden=(6,))
    enc.backbone.net[0].register_forward_hook(lambda m, i, o: enc_dtypes.append(o.dtype))
    module = TrainingModule(enc, obj, autocast_dtype=torch.bfloat16)
    loss = module(torch.randn(6, 5), torch.tensor([0, 0, 1, 1, 2, 2]))
    assert enc_dtypes == [torch.bfloat16] and loss.dtype == torch.float32
    loss.backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in enc.parameters())


def test_cnn_with_augmentation_and_sgd_cosine_schedule_runs():
    result = train(loss="ce", data="digits", model="cnn", max_samples=100, augment=True, iterations=4,
                   batch_size=20, eval_every=2, optimizer="sgd", schedule="cosine", unconstrained=True,
                   seed=0, threads=1, device="cpu")
    assert result.iterations == 4 and result.config.lr == 0.1
    assert result.history[-1]["lr"] == pytest.approx(0.0, abs=1e-12)  # cosine schedule ends at 0
    assert result.final["bound_rho"] == pytest.approx(result.final["max_norm"])  # unconstrained: largest norm


def test_stop_at_accuracy_and_time_limit():
    fitted = train(loss="supcon", data="gaussian", iterations=400, batch_size=100, eval_every=5, seed=0, threads=1,
                   device="cpu", metrics="accuracy", stop_at_accuracy=1.0)
    assert fitted.stopped_by == "accuracy" and fitted.fitted_at == fitted.iterations
    assert fitted.final["train_accuracy"] == 1.0 and fitted.iterations < 400
    assert all(r["train_accuracy"] < 1.0 for r in fitted.history[:-1])
    timed = train(loss="ce", data="gaussian", iterations=10**6, batch_size=50, eval_every=10**6, seed=0,
                  threads=1, device="cpu", metrics="accuracy", max_seconds=0.3)
    assert timed.stopped_by == "time" and 0 < timed.iterations < 10**6
    assert timed.history[-1]["iteration"] == timed.iterations


def test_samplers_with_and_without_replacement():
    s = BatchSampler(10, 3, replacement=False, seed=0)
    assert s.batch_set == "subset" and s.batches_per_epoch == 3
    epoch = np.concatenate([s.next() for _ in range(3)])
    assert len(set(epoch.tolist())) == 9  # one permutation, the incomplete last chunk dropped
    assert len(set(s.next().tolist())) == 3  # the next epoch starts a fresh permutation
    big = BatchSampler(4, 8, replacement=True, seed=2)
    assert big.batch_set == "ordered" and big.next().size == 8  # b > N is fine with replacement
    many = BatchSampler(4, 2, replacement=True, seed=3)
    batches = np.stack([many.next() for _ in range(4000)])
    assert np.mean(batches[:, 0] == batches[:, 1]) == pytest.approx(0.25, abs=0.03)  # i.i.d.: repeats happen
    np.testing.assert_allclose(np.bincount(batches.ravel(), minlength=4) / batches.size, 0.25, atol=0.02)
    with pytest.raises(InvalidArgumentError, match="<= N = 10 when sampling without replacement"):
        BatchSampler(10, 11, replacement=False)


def test_cuda_request_is_checked():
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(InvalidArgumentError, match="CUDA was requested but no GPU is available"):
            resolve_device("cuda")
        with pytest.raises(InvalidArgumentError, match="CUDA was requested"):
            train(device="cuda", iterations=1)
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InvalidArgumentError, match="`device` of `train`"):
        resolve_device("tpu")


@pytest.mark.parametrize("overrides, fragment", [
    (dict(loss="mse"), "`loss` of `train`"),
    (dict(iterations=5, epochs=1.0), "`epochs` of `train`"),
    (dict(loss="ce", temperature=0.1), "`temperature` of `train`"),
    (dict(loss="supcon", unconstrained=True), "`unconstrained` of `train`"),
    (dict(batch_size=1), "`batch_size` of `train`"),
    (dict(rho=-1.0), "`rho` of `train`"),
    (dict(model="resnet18", data="gaussian"), "'mlp' for the vector data set"),
    (dict(loss="ce-fix", dim=5), "`dim` of `train` must be >= K - 1 = 9"),
    (dict(data="mnist:/no/such/dir"), "`path` of `load_mnist`"),
    (dict(data="cifar11"), "`data` of `load_dataset`"),
    (dict(optimizer="lbfgs"), "`optimizer` of `train`"),
    (dict(out="/proc/forbidden/dir", iterations=0), "`out` of `train`"),
    (dict(loss="ce", data="gaussian", iterations=50, lr=1e6, unconstrained=True, optimizer="sgd", momentum=0.0),
     "`lr` of `train` must be small enough for training to stay finite"),
])
def test_bad_configurations_give_clear_errors(overrides, fragment):
    with pytest.raises(InvalidArgumentError) as info:
        train(TrainConfig(device="cpu", threads=1, **overrides))
    assert fragment in str(info.value)


def test_epochs_and_balanced_loading():
    result = train(loss="ce", data="gaussian", epochs=2, batch_size=300, eval_every=1000, seed=0, threads=1,
                   device="cpu", metrics="accuracy")
    data = load_dataset("gaussian")
    assert result.iterations == 2 * (data.n // 300)
