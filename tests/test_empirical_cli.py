"""``train`` / ``random-labels`` commands and the empirical claims registered with the engine."""

from __future__ import annotations

import argparse
import json

import pytest

from theorycheck.empirical import cli as ecli


def _parse(argv):
    parser = argparse.ArgumentParser(prog="theorycheck")
    sub = parser.add_subparsers(dest="command")
    ecli.add_train_parser(sub)
    ecli.add_random_labels_parser(sub)
    return parser.parse_args(argv)


def test_parsers_plug_into_any_subparser_collection():
    args = _parse(["train", "--loss", "ce-fix", "--temperature", "0.1", "--batch-size", "64"])
    assert args.command == "train" and args.loss == "ce-fix" and args.temperature == 0.1 and args.batch_size == 64
    assert args.empirical_handler is ecli.run_train
    args = _parse(["random-labels", "--fractions", "0,0.5"])
    assert args.empirical_handler is ecli.run_random_labels_command and args.fractions == "0,0.5"
    with pytest.raises(SystemExit):
        _parse(["train", "--rho", "1", "--temperature", "0.1"])  # mutually exclusive
    with pytest.raises(SystemExit):
        _parse(["train", "--iterations", "5", "--epochs", "1"])


def test_train_command_writes_metrics_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    code = ecli.main(["train", "--loss", "ce", "--data", "gaussian", "--iterations", "20", "--eval-every", "10",
                      "--batch-size", "100", "--device", "cpu", "--threads", "1", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "theorycheck train: ce / mlp / gaussian" in text and "CE loss / bound at ||W||_F" in text
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in records] == [0, 10, 20]
    assert json.loads((out / "config.json").read_text())["rho"] == 1.0  # the sphere by default
    for name in ("geometry.png", "cosine_histogram.png", "loss_vs_bound.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--data", "cifar10:/no/such/dir"], "`path` of `load_cifar` must be an existing directory"),
    (["train", "--data", "svhn"], "`data` of `load_dataset` must be one of"),
    (["train", "--loss", "ce", "--temperature", "0.5"], "`temperature` of `train`"),
    (["random-labels", "--fractions", "0,x"], "`--fractions` of `theorycheck random-labels`"),
    (["random-labels", "--losses", "ce,hinge"], "`losses` of `run_random_labels`"),
])
def test_bad_arguments_exit_2_with_one_clear_line(argv, fragment, capsys):
    assert ecli.main(argv + ["--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("theorycheck: error:") and fragment in err and "\n" not in err


def test_cuda_without_gpu_is_a_clear_error(capsys):
    import torch

    code = ecli.main(["train", "--device", "cuda", "--iterations", "1"])
    if torch.cuda.is_available():
        assert code == 0
    else:
        assert code == 2
        assert "CUDA was requested but no GPU is available" in capsys.readouterr().err


def test_random_labels_command_end_to_end(tmp_path, capsys):
    code = ecli.main(["random-labels", "--fractions", "0,1", "--losses", "ce", "--max-samples", "30",
                      "--check-every", "5", "--max-iterations", "300", "--batch-size", "15", "--device", "cpu",
                      "--threads", "1", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert code == 3  # one loss cannot decide a claim comparing two: INCONCLUSIVE
    assert "verdict: INCONCLUSIVE" in text and "limits: Measured on digits (N = 30" in text
    saved = json.loads((tmp_path / "random_labels.json").read_text())
    assert [r["fraction"] for r in saved["rows"]] == [0.0, 1.0]


# -- the claims --------------------------------------------------------------------------------

def test_empirical_claims_are_registered_with_their_family():
    from theorycheck.claims import load_all
    from theorycheck.engine import registry
    from theorycheck.engine.families import get_family, resolve_family_options

    load_all()
    simplex = registry.get("graf2021.empirical.simplex")
    labels = registry.get("graf2021.empirical.random-labels")
    assert simplex.kind == labels.kind == "empirical" and simplex.cite == ("graf2021",)
    assert simplex.family == labels.family == "empirical"
    family = get_family("empirical")
    checks = family.checks(resolve_family_options(family, {"random_labels": False}))
    assert [c[1]["loss"] for c in checks] == ["supcon", "ce-fix"]


def test_simplex_claim_verdict_comes_from_the_run():
    from theorycheck.claims import load_all
    from theorycheck.engine import Budget, judge

    load_all()
    loose = judge("graf2021.empirical.simplex", {"loss": "ce-fix", "iterations": 60, "tol": 0.5},
                  budget=Budget(seconds=60))
    assert loose.verdict.value == "HOLDS"
    assert loose.evidence["cos_max_dev"] <= 0.5 and loose.evidence["iterations_run"] == 60
    # a tolerance no finite run meets: not reached, which is INCONCLUSIVE (never REFUTED)
    strict = judge("graf2021.empirical.simplex", {"loss": "ce-fix", "iterations": 60, "tol": 0.0},
                   budget=Budget(seconds=60))
    assert strict.verdict.value == "INCONCLUSIVE" and "did not get there" in strict.evidence["reason"]
    assert strict.evidence["cos_max_dev"] == pytest.approx(loose.evidence["cos_max_dev"])  # same seed, same run


def test_public_surface_is_documented():
    import re
    from pathlib import Path

    import theorycheck.empirical as empirical

    doc = (Path(__file__).resolve().parents[1] / "docs" / "empirical.md").read_text()
    section = doc[doc.index("## Public API"):]
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section.split("The submodules")[0]))
    assert documented == set(empirical.__all__)
    assert all(hasattr(empirical, name) for name in empirical.__all__)


def test_main_cli_dispatches_train_and_random_labels(tmp_path, capsys):
    """`theorycheck train` and `theorycheck random-labels` go through the main CLI, and its
    one-line error handling (exit 2) applies to them."""
    from theorycheck.cli import main

    code = main(["train", "--loss", "ce-fix", "--data", "gaussian", "--iterations", "10", "--eval-every", "10",
                 "--device", "cpu", "--out", str(tmp_path / "run")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "run" / "summary.json").is_file()
    assert main(["random-labels", "--fractions", "0,2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fractions" in err[0]
