"""``theorycheck train`` and ``theorycheck random-labels``: the empirical commands.

The main CLI (:mod:`theorycheck.cli`) adds these sub-commands with
:func:`add_train_parser` / :func:`add_random_labels_parser` (or both at once with
:func:`add_empirical_commands`); each sets ``empirical_handler`` on the parsed namespace,
a function ``(args) -> exit code``. Errors in the arguments surface as
:class:`~theorycheck.InvalidArgumentError` naming the option (the main CLI prints one line
and exits with 2).

The module also runs on its own, which is how multi-process training is launched::

    python -m theorycheck.empirical.cli train --loss supcon --data digits
    torchrun --nproc_per_node=2 -m theorycheck.empirical.cli train --loss supcon --device cpu

Exit codes: 0 success (``random-labels``: the claim HOLDS), 1 ``random-labels`` REFUTED,
2 usage or input error, 3 ``random-labels`` INCONCLUSIVE.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

__all__ = [
    "add_train_parser",
    "add_random_labels_parser",
    "add_empirical_commands",
    "run_train",
    "run_random_labels_command",
    "main",
]

_EXIT = {"HOLDS": 0, "REFUTED": 1, "INCONCLUSIVE": 3}


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``train`` to an argparse sub-parser collection; returns the new parser."""
    p = subparsers.add_parser(
        "train", help="train an encoder (CE, CE-fix, SC) and measure its geometry over training",
        description="Train an encoder with cross-entropy (ce), cross-entropy with a fixed regular-simplex "
                    "classifier (ce-fix) or the supervised contrastive loss (supcon), and measure how close the "
                    "class means get to the regular simplex (graf2021). Writes metrics.jsonl, summary.json, "
                    "config.json and PNG figures into --out.")
    what = p.add_argument_group("what to train")
    what.add_argument("--loss", default="supcon", choices=("ce", "ce-fix", "supcon"), help="objective (default supcon)")
    what.add_argument("--data", default="digits", metavar="NAME",
                      help="digits (default), gaussian, cifar10:PATH, cifar100:PATH or mnist:PATH (local copies)")
    what.add_argument("--model", default="mlp", choices=("mlp", "cnn", "resnet18"), help="encoder (default mlp)")
    what.add_argument("--dim", type=int, default=None, help="embedding dimension h (default 128; 512 for resnet18)")
    length = what.add_mutually_exclusive_group()
    length.add_argument("--iterations", type=int, default=None, help="training iterations (default 500)")
    length.add_argument("--epochs", type=float, default=None, help="training epochs (N // batch-size iterations each)")
    what.add_argument("--batch-size", type=int, default=256, help="batch size b (default 256)")
    what.add_argument("--replacement", action="store_true",
                      help="sample batches i.i.d. with replacement (default: random subsets, each epoch a permutation)")
    scale = what.add_mutually_exclusive_group()
    scale.add_argument("--rho", type=float, default=None,
                       help="radius of the sphere the features are projected to (default 1)")
    scale.add_argument("--temperature", type=float, default=None,
                       help="supcon only: temperature on unit features (same as rho = 1/sqrt(temperature))")
    what.add_argument("--base-temperature", type=float, default=None,
                      help="supcon: multiply the loss by temperature/base-temperature (Khosla et al.'s code)")
    what.add_argument("--weight-radius", type=float, default=1.0, help="ce-fix: row norm of the fixed simplex W")
    what.add_argument("--unconstrained", action="store_true", help="ce / ce-fix: no projection of the features")
    what.add_argument("--balance", action="store_true", help="subsample every class to the smallest class size")
    what.add_argument("--max-samples", type=int, default=None, help="train on a stratified subset of this size")
    aug = what.add_mutually_exclusive_group()
    aug.add_argument("--augment", dest="augment", action="store_true", default=None,
                     help="random crop + flip (default on for CIFAR, off otherwise)")
    aug.add_argument("--no-augment", dest="augment", action="store_false")
    how = p.add_argument_group("optimisation")
    how.add_argument("--optimizer", default="adam", choices=("adam", "sgd"), help="default adam")
    how.add_argument("--lr", type=float, default=None, help="learning rate (default 1e-3 adam, 0.1 sgd)")
    how.add_argument("--momentum", type=float, default=0.9, help="sgd momentum (default 0.9)")
    how.add_argument("--weight-decay", type=float, default=0.0, help="weight decay (default 0)")
    how.add_argument("--schedule", default="constant", choices=("constant", "cosine"), help="learning-rate schedule")
    run = p.add_argument_group("run")
    run.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    run.add_argument("--amp", action="store_true", help="mixed precision (float16 on CUDA, bfloat16 on CPU)")
    run.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    run.add_argument("--threads", type=int, default=None, help="torch CPU threads for the run")
    run.add_argument("--eval-every", type=int, default=100, help="iterations between geometry measurements")
    run.add_argument("--out", default=None, metavar="DIR",
                     help="output directory (default theorycheck-out/train-<loss>)")
    run.add_argument("--no-figures", action="store_true", help="do not write PNG figures")
    prog = run.add_mutually_exclusive_group()
    prog.add_argument("--progress", dest="progress", action="store_true", default=None,
                      help="progress bar (default: only on a terminal)")
    prog.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(empirical_handler=run_train)
    return p


def add_random_labels_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``random-labels`` to an argparse sub-parser collection; returns the new parser."""
    p = subparsers.add_parser(
        "random-labels", help="iterations to fit partly random labels, CE vs SC, with fits and a verdict",
        description="graf2021's random-label experiment: flip a fraction p of the training labels (always to "
                    "another class), train until 100% train accuracy (checked every --check-every iterations), "
                    "fit linear and power-law models of iterations against p, and judge the claim 'linear for "
                    "CE, superlinear for SC' on this setting. Writes random_labels.txt, random_labels.json and "
                    "random_labels.png into --out.")
    p.add_argument("--data", default="digits", metavar="NAME", help="data set (default digits)")
    p.add_argument("--fractions", default="0,0.2,0.4,0.6,0.8,1.0", help="comma-separated fractions p in [0, 1]")
    p.add_argument("--losses", default="ce,supcon", help="comma-separated losses (default ce,supcon)")
    p.add_argument("--seeds", type=int, default=1, help="runs per fraction (seeds 0..n-1; default 1)")
    p.add_argument("--max-samples", type=int, default=300, help="stratified training subset size (default 300)")
    p.add_argument("--check-every", type=int, default=10, help="iterations between accuracy checks (default 10)")
    p.add_argument("--max-iterations", type=int, default=3000, help="cap per run (default 3000)")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--model", default="mlp", choices=("mlp", "cnn", "resnet18"), help="encoder (default mlp)")
    p.add_argument("--rho", type=float, default=1.0, help="sphere radius of the features (default 1)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default 1e-3, adam)")
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--out", default="theorycheck-out/random-labels", metavar="DIR", help="output directory")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="train the runs on a local Dask cluster of N processes (needs theorycheck[dask])")
    p.set_defaults(empirical_handler=run_random_labels_command)
    return p


def add_empirical_commands(subparsers: Any) -> None:
    """Both sub-commands at once."""
    add_train_parser(subparsers)
    add_random_labels_parser(subparsers)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``theorycheck train``: runs :func:`theorycheck.empirical.train.train`, prints a summary."""
    from .train import TrainConfig, train

    out = args.out or f"theorycheck-out/train-{args.loss}"
    rho = args.rho if args.rho is not None else (None if args.temperature is not None or args.unconstrained else 1.0)
    config = TrainConfig(loss=args.loss, data=args.data, model=args.model, dim=args.dim, iterations=args.iterations,
                         epochs=args.epochs, batch_size=args.batch_size, replacement=args.replacement,
                         optimizer=args.optimizer, lr=args.lr, momentum=args.momentum,
                         weight_decay=args.weight_decay, schedule=args.schedule, rho=rho,
                         temperature=args.temperature, base_temperature=args.base_temperature,
                         weight_radius=args.weight_radius, unconstrained=args.unconstrained, augment=args.augment,
                         balance=args.balance, max_samples=args.max_samples, device=args.device, amp=args.amp,
                         seed=args.seed, threads=args.threads, eval_every=args.eval_every, out=out,
                         figures=not args.no_figures,
                         progress=False if getattr(args, "quiet", 0) else args.progress)
    result = train(config)
    if not result.history or getattr(args, "quiet", 0):
        return 0  # a non-zero rank of a torchrun launch (rank 0 measures, writes and prints), or -q
    final = result.final
    rows = [("iterations", result.iterations), ("device", result.device), ("seconds", round(result.seconds, 2)),
            ("samples N / classes K / dim h", f"{final.get('n')} / {final.get('num_classes')} / {final.get('dim')}"),
            ("class-mean cosine: mean (target -1/(K-1))", f"{_fmt(final.get('cos_mean'))} "
                                                          f"({_fmt(final.get('target_cos'))})"),
            ("class-mean cosine: max |cos - target|", final.get("cos_max_dev")),
            ("angular similarity: mean (target)", f"{_fmt(final.get('angular_mean'))} "
                                                  f"({_fmt(final.get('target_angular'))})"),
            ("sample-to-class-mean cosine", final.get("sample_mean_similarity")),
            ("distance of class means to simplex", final.get("simplex_distance")),
            ("NC1 / NC2 equinorm / NC2 |cos+1/(K-1)|", f"{_fmt(final.get('nc1'))} / {_fmt(final.get('nc2_equinorm'))}"
                                                       f" / {_fmt(final.get('nc2_equiangular_dev'))}"),
            ("NC3 / NC4", f"{_fmt(final.get('nc3'))} / {_fmt(final.get('nc4'))}"),
            ("train accuracy", final.get("train_accuracy"))]
    if final.get("ce_loss") is not None:
        rows += [("CE loss / bound at ||W||_F", f"{_fmt(final.get('ce_loss'))} / {_fmt(final.get('ce_bound'))}"),
                 ("CE gap (bound assumptions hold)", f"{_fmt(final.get('ce_gap'))} "
                                                     f"({final.get('bound_assumptions_hold')})")]
    if final.get("sc_batch_loss") is not None:
        rows += [("SC loss per batch (+- s.e.) / minimum", f"{_fmt(final.get('sc_batch_loss'))} "
                                                         f"(+- {_fmt(final.get('sc_batch_loss_se'))}) / "
                                                         f"{_fmt(final.get('sc_minimum'))}"),
                 ("SC gap", final.get("sc_gap") if final.get("sc_gap") is not None else final.get("sc_note"))]
    width = max(len(k) for k, _ in rows)
    print(f"theorycheck train: {config.loss} / {config.model} / {config.data}")
    for key, value in rows:
        print(f"  {key:<{width}}  {_fmt(value)}")
    for name, path in result.files.items():
        print(f"  {name}: {path}")
    return 0


def _split(text: str, option: str, convert: Any) -> list:
    from .._validation import fail

    try:
        values = [convert(v.strip()) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise fail(option, "theorycheck random-labels", "a comma-separated list", text) from None
    if not values:
        raise fail(option, "theorycheck random-labels", "a non-empty comma-separated list", text)
    return values


def run_random_labels_command(args: argparse.Namespace) -> int:
    """Handler of ``theorycheck random-labels``: table, fits, verdict, files."""
    from .._validation import check_int
    from .random_labels import run_random_labels

    fractions = _split(args.fractions, "--fractions", float)
    losses = _split(args.losses, "--losses", str)
    seeds = check_int(args.seeds, "--seeds", "theorycheck random-labels", min_value=1)
    overrides: dict[str, Any] = {"rho": args.rho, "device": args.device}
    if args.lr is not None:
        overrides["lr"] = args.lr
    if args.threads is not None:
        overrides["threads"] = args.threads
    workers = getattr(args, "workers", None)
    if workers is not None:
        from ..parallel import require_dask

        workers = check_int(workers, "--workers", "theorycheck random-labels", min_value=1)
        require_dask("--workers")

    quiet = bool(getattr(args, "quiet", 0))

    def say(*items: Any, **kwargs: Any) -> None:  # the command's output, silenced by -q
        if not quiet:
            print(*items, **kwargs)

    def show(row: dict) -> None:
        it = "not fitted" if row["iterations"] is None else f"{row['iterations']} iterations"
        say(f"  {row['loss']:<7} p = {row['fraction']:<5g} seed {row['seed']}: {it} "
              f"({row['seconds']:.1f} s)", flush=True)

    say(f"theorycheck random-labels: {', '.join(losses)} on {args.data}")
    result = run_random_labels(data=args.data, fractions=fractions, losses=losses, seeds=tuple(range(seeds)),
                               check_every=args.check_every, max_iterations=args.max_iterations,
                               max_samples=args.max_samples, batch_size=args.batch_size, model=args.model,
                               out=args.out, on_row=show, workers=workers, **overrides)
    say("fits (T = T0 + c p^alpha; 95% profile interval for alpha):")
    for loss, fit in result.fits.items():
        power, linear = fit.get("power"), fit.get("linear")
        if power is None:
            say(f"  {loss}: no fit ({fit.get('error')})")
            continue
        ci = power.get("alpha_ci")
        ci_text = "n/a (too few points)" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"
        say(f"  {loss}: alpha = {power['alpha']:.3f} {ci_text}; linear slope = {linear['slope']:.1f} "
              f"iterations per unit p, R^2 = {linear['r2']:.3f}")
    verdict = result.verdict
    say(f"verdict: {verdict['verdict']} -- {verdict['reason']}")
    say(f"limits: {result.limits}")
    for name, path in result.files.items():
        say(f"  {name}: {path}")
    return _EXIT.get(verdict["verdict"], 3)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (``python -m theorycheck.empirical.cli``; also under ``torchrun``)."""
    from .._validation import InvalidArgumentError

    parser = argparse.ArgumentParser(prog="python -m theorycheck.empirical.cli",
                                     description="theorycheck's empirical commands (train, random-labels)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_empirical_commands(sub)
    args = parser.parse_args(argv)
    if getattr(args, "empirical_handler", None) is None:
        parser.print_help()
        return 2
    try:
        return args.empirical_handler(args)
    except InvalidArgumentError as exc:
        print(f"theorycheck: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
