"""Command-line interface: ``theorycheck list | check | verify | sweep | report``.

A thin front over the engine: it parses arguments, calls
:func:`theorycheck.engine.families.run_checks` / :func:`run_family`, prints a table and
writes the reports. See ``docs/cli.md``.

Exit codes
----------
0  every claim HOLDS (or is VACUOUS)
1  at least one claim is REFUTED
2  usage or input error (bad option, missing file, unknown claim or parameter,
   a claim that raises): one line on stderr, no traceback
3  no claim refuted, but at least one INCONCLUSIVE
4  internal error (a bug in theorycheck: please report it with the traceback)
130  interrupted by SIGINT (Ctrl-C); 143 stopped by SIGTERM: the claims judged so far are
   written (``"complete": false``) and ``--resume`` finishes the run
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shlex
import sys
import traceback
from typing import Any, Sequence

from . import __version__
from ._validation import InvalidArgumentError, MissingDependencyError, fail

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_REFUTED", "EXIT_USAGE", "EXIT_INCONCLUSIVE",
           "EXIT_INTERNAL"]

logger = logging.getLogger("theorycheck.cli")

#: ``check`` options that set the engine's amount of optimisation (``Budget(starts=...)``,
#: engine.results.SEARCH_SETTINGS; repeated here so the CLI imports no numpy to build its parser)
SEARCH_OPTIONS = ("starts", "steps", "draws")

#: ``--print-completion`` shells (those shtab writes scripts for)
COMPLETION_SHELLS = ("bash", "zsh", "tcsh")

EXIT_OK = 0
EXIT_REFUTED = 1
EXIT_USAGE = 2
EXIT_INCONCLUSIVE = 3
EXIT_INTERNAL = 4
#: errno values of a failed write (full disk, quota, read-only, permission): exit 2, no traceback
_WRITE_ERRNOS = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM")
                          if hasattr(errno, name))
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

EXIT_CODES_HELP = """exit codes:
  0  every claim HOLDS (or is VACUOUS: its assumptions cannot be met)
  1  at least one claim is REFUTED (a counterexample confirmed in high precision)
  2  usage or input error (bad option, missing file, unknown claim or parameter,
     a claim that raises); one line on stderr
  3  nothing refuted, but at least one claim is INCONCLUSIVE
  4  internal error in theorycheck (a traceback is printed)
  130/143  interrupted by SIGINT/SIGTERM; the claims judged so far are written
     ("complete": false), --resume finishes the run"""


class _UsageError(Exception):
    """argparse's errors, turned into exit code 2 without SystemExit inside ``main``."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D401 - argparse API
        raise _UsageError(f"{self.prog}: error: {message}")


# --------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------

def _add_run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("run options")
    group.add_argument("--seed", default="0", metavar="S",
                       help="seed of every random choice; the same seed gives the same verdicts (default 0)")
    group.add_argument("--budget", default=None, metavar="SECONDS",
                       help="time budget per judged claim, in seconds (default 5)")
    group.add_argument("--examples", default=None, metavar="N",
                       help="number of random inputs per claim (default: derived from the budget)")
    group.add_argument("--ablate", action="store_true",
                       help="also judge each assumption dropped in turn")
    group.add_argument("--json", dest="json_path", default=None, metavar="PATH",
                       help="write the JSON results document (docs/json-schema.md) to PATH; '-' for "
                            "stdout (the table then goes to stderr)")
    group.add_argument("--report", dest="report_path", default=None, metavar="PATH",
                       help="write the report to PATH: self-contained HTML with figures for .html, LaTeX for "
                            ".tex, Markdown otherwise; '-' for Markdown on stdout")
    group.add_argument("--fail-fast", action="store_true",
                       help="stop at the first claim that raises an error (default: record it as an error "
                            "entry and go on; exit code 2 at the end)")
    group.add_argument("--resume", default=None, metavar="PATH",
                       help="finish an interrupted run: PATH is its --out folder or its --json file; only the "
                            "claims missing from it are judged, with the settings recorded in it (the other "
                            "options of this command line are ignored)")


def _load_shipped() -> Exception | None:
    from .claims import load_all

    try:
        load_all()
    except Exception as exc:  # noqa: BLE001 - reported by the commands that need claims
        return exc
    return None


def build_parser(*, families: bool = True) -> argparse.ArgumentParser:
    """The argparse parser; ``verify`` gets one sub-command per registered family.

    ``families=False`` leaves the families out (and imports no engine): the top-level
    ``--help`` lists only the commands, so it need not load the claim modules and torch.
    """
    from .empirical.cli import add_empirical_commands

    parser = _Parser(
        prog="theorycheck",
        description="Verify theorems about learned representation geometry: judge claims, "
                    "find and confirm counterexamples, write citing reports.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"theorycheck {__version__}")
    _add_verbosity(parser, top=True)
    parser.add_argument("--print-completion", choices=COMPLETION_SHELLS, default=None, metavar="SHELL",
                        help="print a shell completion script for SHELL (bash, zsh or tcsh) and exit; "
                             "needs the shtab package (docs/cli.md)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p_list = sub.add_parser("list", help="list every registered claim",
                            description="List every registered claim: id, source, kind, statement.",
                            epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_list.add_argument("--json", action="store_true", help="print the list as JSON")

    p_check = sub.add_parser(
        "check", help="judge claims from your own file or module",
        description="Judge a user's claims: FILE.py::NAME, FILE.py (every claim in it), "
                    "package.module:NAME, package.module, or a registered claim id.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_check.add_argument("target", metavar="TARGET",
                         help="FILE.py::NAME | package.module:NAME | claim id (NAME optional)")
    p_check.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                         help="set a claim parameter (repeatable), e.g. --param K=5")
    _add_run_options(p_check)
    search = p_check.add_argument_group(
        "search options", "the amount of optimisation of optimum, characterization, landscape and "
                          "statistical claims (default: each claim's own, else derived from the budget)")
    search.add_argument("--starts", dest="search_starts", default=None, metavar="N",
                        help="local optimisations (random starts) per claim")
    search.add_argument("--steps", dest="search_steps", default=None, metavar="N",
                        help="optimiser iterations per start")
    search.add_argument("--draws", dest="search_draws", default=None, metavar="N",
                        help="Monte-Carlo draws of a statistical claim")

    p_verify = sub.add_parser(
        "verify", help="run a family of checks (e.g. `verify supcon --K 10`)",
        description="Run every sub-check of a claim family and print a table.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    fam_sub = p_verify.add_subparsers(dest="family", metavar="FAMILY", parser_class=_Parser)
    if families:
        from .engine.families import all_families
    for family in all_families() if families else ():
        p_fam = fam_sub.add_parser(family.name, help=family.description, description=family.description,
                                   epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
        group = p_fam.add_argument_group("family options")
        for param in family.params:
            default = getattr(param, "default", None)
            bits = [getattr(param, "description", "") or param.name]
            choices = getattr(param, "choices", None)
            if choices:
                bits.append("one of " + ", ".join(map(str, choices)))
            bits.append(f"default {default}" if default is not None else "default derived from the others")
            typ = getattr(param, "type", str)
            # `--n-per-class` is the spelling users expect; the parameter's own name stays accepted
            flags = [f"--{param.name}"]
            if "_" in param.name:
                flags.insert(0, "--" + param.name.replace("_", "-"))
            # a bool option also works as a bare flag (`--certify` means `--certify true`)
            extra = {"nargs": "?", "const": "true"} if typ is bool else {}
            group.add_argument(*flags, dest=f"opt_{param.name}", default=None,
                               metavar=getattr(typ, "__name__", "VALUE").upper(), help="; ".join(bits), **extra)
        _add_run_options(p_fam)
    p_all = fam_sub.add_parser(
        "all", help="run every registered family with its defaults and write a report folder",
        description="Run every registered family with its default options (empirical claims only with\n"
                    "--empirical), print a summary table and write results.json, report.md, report.html\n"
                    "(self-contained, with figures), report.tex and references.bib into --out. See docs/reports.md.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = p_all.add_argument_group("verify all options")
    group.add_argument("--K", dest="opt_K", default=None, metavar="INT",
                       help="number of classes, for every family that has a K option (default: each family's)")
    group.add_argument("--empirical", action="store_true",
                       help="also run the empirical claims (training runs: minutes)")
    group.add_argument("--out", default="theorycheck-out", metavar="DIR",
                       help="folder for results.json, report.md, report.html, report.tex, references.bib, figures/ "
                            "(default theorycheck-out)")
    group.add_argument("--figure-format", dest="figure_formats", default="png,svg", metavar="FORMATS",
                       type=_parse_figure_formats,
                       help="formats of the files in figures/: comma-separated png (300 dpi), svg, pdf "
                            "(default png,svg)")
    _add_executor_options(p_all)
    _add_run_options(p_all)
    for action in p_all._actions:  # a shared default per claim, derived from the number of claims
        if action.dest == "budget":
            action.help = ("time budget per judged claim, in seconds (default: "
                           "150 s shared over the planned claims, between 0.5 and 5 s each)")

    p_sweep = sub.add_parser(
        "sweep", help="judge a claim at every point of a parameter grid (in parallel with --workers)",
        description="Judge one claim at every point of a grid of its parameters and write sweep.json (every\n"
                    "point's full result), sweep.md and a phase diagram (phase.png, phase.svg) into --out.\n"
                    "Values the claim rejects make their points INVALID; the sweep goes on. See docs/sweep.md.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_sweep.add_argument("target", metavar="CLAIM_OR_TARGET", help="a claim id or FILE.py::NAME")
    p_sweep.add_argument("--grid", action="append", default=[], metavar="NAME=VALUES",
                         help="an axis (repeatable): K=2:12 (integers, inclusive), tau=0.1:0.5:0.1, "
                              "tau=0.05,0.1,0.5, batches=all,subset")
    group = p_sweep.add_argument_group("sweep options")
    group.add_argument("--seed", default="0", metavar="S", help="seed of every point (default 0)")
    group.add_argument("--budget", default=None, metavar="SECONDS",
                       help="time budget per point, in seconds (default 5; none with --examples alone)")
    group.add_argument("--examples", default=None, metavar="N",
                       help="random inputs per point; alone, the results do not depend on machine speed "
                            "or the number of workers")
    group.add_argument("--ablate", action="store_true", help="also judge each assumption dropped, at every point")
    group.add_argument("--out", default="theorycheck-sweep", metavar="DIR",
                       help="folder for sweep.json, sweep.md, phase.png, phase.svg (default theorycheck-sweep)")
    _add_executor_options(p_sweep)

    p_report = sub.add_parser(
        "report", help="re-render a saved results.json without recomputing",
        description="Render a results document (written by --json or verify all) as Markdown or as\n"
                    "self-contained HTML with figures, without recomputing. See docs/reports.md.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_report.add_argument("results", metavar="RESULTS.json")
    p_report.add_argument("-o", "--output", default=None, metavar="PATH",
                          help="write the report to PATH: HTML for .html/.htm, LaTeX for .tex, Markdown "
                               "otherwise; '-' or no -o: to stdout")
    p_report.add_argument("--format", dest="report_format", default=None, choices=("md", "html", "tex"),
                          help="md, html or tex (default: from the extension of -o, else md)")
    add_empirical_commands(sub)  # `train` and `random-labels` (theorycheck.empirical.cli)
    for child in _subparsers(parser):  # `theorycheck check f.py -q` as well as `theorycheck -q check f.py`
        _add_verbosity(child, top=False)
    return parser


def _add_executor_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("parallel options (need theorycheck[dask])")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--workers", default=None, metavar="N",
                       help="judge on a local Dask cluster of N worker processes (127.0.0.1)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="judge on the running Dask cluster whose scheduler is at ADDRESS (tcp://host:port)")


def _executor_args(args: argparse.Namespace) -> tuple[int | None, str | None]:
    workers = None if args.workers is None else _parse_int(args.workers, "--workers", min_value=1)
    if workers is not None or args.scheduler is not None:
        from .parallel import require_dask

        require_dask(f"--{'workers' if workers is not None else 'scheduler'}")
    return workers, args.scheduler


def _add_verbosity(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # A sub-command's copy leaves the value alone unless given (SUPPRESS), so the flag
    # works before or after the command name.
    default: Any = 0 if top else argparse.SUPPRESS
    group = parser.add_argument_group("output") if not top else parser
    group.add_argument("-q", "--quiet", action="count", default=default,
                       help="print only errors and the machine-readable output asked for (no table, "
                            "no progress bar)")
    group.add_argument("-v", "--verbose", action="count", default=default,
                       help="log what theorycheck does on stderr (-vv: debug details)")


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every sub-command parser below ``parser`` (verify's families included)."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                out.append(child)
                out.extend(_subparsers(child))
    return out


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

def _parse_int(text: Any, option: str, *, min_value: int) -> int:
    from ._validation import check_int

    try:
        value = int(str(text).strip())
    except ValueError:
        raise fail(option, "theorycheck", f"an integer >= {min_value}", text) from None
    return check_int(value, option, "theorycheck", min_value=min_value)


def _parse_figure_formats(text: Any) -> tuple[str, ...]:
    from .figstyle import check_formats

    try:
        return check_formats(str(text), "theorycheck verify all")
    except ValueError:
        # argparse turns this into a usage error (exit 2) naming the option, before anything runs
        raise argparse.ArgumentTypeError(f"must be a comma-separated list of png, svg, pdf; got {text!r}") from None


def _parse_seconds(text: Any) -> float:
    from ._validation import check_real

    try:
        value = float(str(text).strip())
    except ValueError:
        raise fail("--budget", "theorycheck", "a number of seconds > 0", text) from None
    return check_real(value, "--budget", "theorycheck", gt=0.0)


def _budget(args: argparse.Namespace):
    from .engine.results import Budget

    kwargs: dict[str, Any] = {}
    if args.budget is not None:
        kwargs["seconds"] = _parse_seconds(args.budget)
    if args.examples is not None:
        kwargs["examples"] = _parse_int(args.examples, "--examples", min_value=1)
    for name in SEARCH_OPTIONS:  # only `check` has them (`verify ufm --starts` is a family option)
        value = getattr(args, f"search_{name}", None)
        if value is not None:
            kwargs[name] = _parse_int(value, f"--{name}", min_value=1)
    return Budget(**kwargs)


def _budget_args(budget: Any, given: argparse.Namespace) -> list[str]:
    out = []
    if given.budget is not None:
        out += ["--budget", f"{budget.seconds:g}"]
    if given.examples is not None:
        out += ["--examples", str(budget.examples)]
    for name in SEARCH_OPTIONS:
        if getattr(given, f"search_{name}", None) is not None:
            out += [f"--{name}", str(getattr(budget, name))]
    return out


def _progress(args: argparse.Namespace) -> bool | None:
    """The progress bar: off with -q, else the default (on a terminal only)."""
    return False if args.quiet else None


def _parse_param_assignments(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or not value.strip():
            raise fail("--param", "theorycheck check", "NAME=VALUE (e.g. --param K=5)", item)
        out[name] = value.strip()
    return out


def _params_for(claim: Any, assignments: dict[str, str]) -> dict[str, Any]:
    from .engine.families import coerce_param_value

    values = {}
    for name, text in assignments.items():
        if name in claim.param_names:
            values[name] = coerce_param_value(claim.param(name), text, f"claim {claim.id!r}",
                                              display=f"--param {name}")
    claim.resolve_params(values)  # validate together, before any search starts
    return values


def _target_for(target: str, claim: Any, module_names: dict[int, str]) -> str:
    """A target that loads exactly this claim (``file.py::name`` for one claim of many)."""
    if "::" in target or (":" in target and not target.startswith(("/", "."))):
        return target
    name = module_names.get(id(claim))
    if name is None:
        return claim.id
    return f"{target}::{name}" if target.endswith(".py") else f"{target}:{name}"


def _table_rows(doc: dict) -> list[tuple[str, ...]]:
    """One row per claim (id, verdict, key numbers, time), and one per ablation under it.

    A ``verify all`` document (``family == "all"``) gets the claim's family as a first column.
    """
    from .report.html import summary_table_rows
    from .report.markdown import format_number

    with_family = doc.get("family") == "all"
    from .report.labels import inconclusive_reason

    rows = []
    for claim, row in zip(doc.get("claims", []), summary_table_rows(doc)):
        why = inconclusive_reason(claim, 48)
        if why:  # the reason is in the JSON too; the table says it in short
            row = row[:2] + (f"{row[2]} ({why})",) + row[3:]
        # the verdict's strength (proved / certified / exhaustive / searched), last column
        strength = str((claim.get("evidence") or {}).get("strength", ""))
        rows.append((row if with_family else row[1:]) + (strength,))
        for abl in claim.get("ablations") or []:
            cx = abl.get("counterexample")
            numbers = f"margin={format_number(cx.get('margin'), 4)}" if isinstance(cx, dict) else ""
            abl_row = (f"  without {abl.get('dropped', '')}", str(abl.get("verdict", "")).upper(), numbers, "", "")
            rows.append(("",) + abl_row if with_family else abl_row)
    return rows


def _print_table(doc: dict, stream) -> None:
    rows = _table_rows(doc)
    header = ("claim", "verdict", "key numbers", "time", "strength")
    if doc.get("family") == "all":
        header = ("family",) + header
    if not rows:
        print("no claims were judged", file=stream)
        return
    n = len(header)
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(n)]
    widths[n - 3] = min(widths[n - 3], 70)

    def fmt(row):
        cells = [row[i].ljust(widths[i]) for i in range(n - 3)]
        key = row[n - 3]
        cells.append((key if len(key) <= widths[n - 3] else key[: widths[n - 3] - 3] + "...").ljust(widths[n - 3]))
        cells.append(row[n - 2].rjust(widths[n - 2]))
        cells.append(row[n - 1].ljust(widths[n - 1]))
        return "  ".join(cells).rstrip()

    print(fmt(header), file=stream)
    print("  ".join("-" * w for w in widths), file=stream)
    for row in rows:
        print(fmt(row), file=stream)


def _print_counterexamples(doc: dict, stream) -> None:
    from .report.markdown import counterexample_python, format_number

    for claim in doc.get("claims", []):
        cx = claim.get("counterexample")
        if str(claim.get("verdict", "")).upper() == "REFUTED" and isinstance(cx, dict):
            print(f"\n{claim['id']} is refuted: lhs = {format_number(cx.get('lhs'), 12)}, "
                  f"rhs = {format_number(cx.get('rhs'), 12)}, margin = {format_number(cx.get('margin'))} "
                  f"(confirmed with {cx.get('precision_digits')} digits). To re-evaluate it:", file=stream)
            print(counterexample_python(claim, cx), file=stream)


def _check_stdout_targets(args: argparse.Namespace) -> None:
    """At most one output may be '-' (stdout): two documents on one stream parse as neither."""
    dashes = [flag for flag, value in (("--json", getattr(args, "json_path", None)),
                                       ("--report", getattr(args, "report_path", None))) if value == "-"]
    if len(dashes) > 1:
        raise fail(dashes[1], "theorycheck", f"a file path ({dashes[0]} already writes to stdout '-')", "-")


# --------------------------------------------------------------------------------------
# Durable runs: streaming, signals, resume
# --------------------------------------------------------------------------------------

class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, like Ctrl-C's KeyboardInterrupt (exit 143, not 130)."""


class _StopRun(Exception):
    """--fail-fast: a claim raised; the run stops after recording it."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


class _Signals:
    """SIGTERM handled like SIGINT during a run; both deferred while the final files are written
    (so a signal then never leaves a folder mixing two runs)."""

    def __init__(self) -> None:
        import signal
        import threading

        self.caught: int | None = None
        self._signal = signal
        self._active = threading.current_thread() is threading.main_thread()
        self._saved: dict = {}
        if self._active:
            self._saved[signal.SIGTERM] = signal.signal(signal.SIGTERM, _raise_terminated)

    def _record(self, signum: int, frame: Any) -> None:
        self.caught = EXIT_SIGTERM if signum == self._signal.SIGTERM else EXIT_SIGINT

    def defer(self) -> None:
        if self._active:
            for sig in (self._signal.SIGINT, self._signal.SIGTERM):
                old = self._signal.signal(sig, self._record)
                self._saved.setdefault(sig, old)

    def restore(self) -> None:
        for sig, old in self._saved.items():
            self._signal.signal(sig, old if old is not None else self._signal.SIG_DFL)
        self._saved = {}


#: Where the claims' JSON goes in a streamed document (replaced by the cached texts).
_CLAIMS_SLOT = "\u0000theorycheck-claims\u0000"


class _Output:
    """Where a run streams what it judged: a journal (one JSON line per finished claim) and
    results.json rewritten atomically after each claim, ``"complete": false`` until the end.

    ``verify all`` streams into ``--out`` (holding its lock; the files are recorded in its
    manifest); ``check`` / ``verify FAMILY`` into ``--json PATH`` and ``PATH``'s ``.jsonl``.
    """

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.folder = getattr(args, "out", None)
        self.json = self.journal_path = None
        if self.folder:
            self.json = os.path.join(self.folder, "results.json")
            self.journal_path = os.path.join(self.folder, "results.jsonl")
        elif args.json_path not in (None, "-"):
            self.json = args.json_path
            self.journal_path = os.path.splitext(args.json_path)[0] + ".jsonl"
        previous = getattr(args, "_previous", None) or {}
        self.resuming = bool(getattr(args, "_resume_doc", None))
        self.journaled: set = set(previous)
        self.last: Any = None
        self._claim_texts: list[str] = []
        self.journal: Any = None
        self.lock: Any = None

    def check_paths(self) -> None:
        """Before the run: every output path writable, ``--out`` a folder and not in use."""
        from .report.durable import check_out_folder, check_writable_file

        args = self.args
        if self.folder:
            check_out_folder(self.folder)
            if os.path.isdir(self.folder):  # a new folder is created (and locked) with its first file
                self._lock()
        if args.json_path not in (None, "-"):
            check_writable_file(args.json_path, "--json")
        if args.report_path not in (None, "-"):
            check_writable_file(args.report_path, "--report")

    def _lock(self) -> None:
        from .report.durable import RunLock, RunLockedError

        try:
            self.lock = RunLock(self.folder).acquire()
        except RunLockedError as exc:
            raise _UsageError(str(exc)) from None

    def _start(self) -> None:
        from .report.durable import Journal, Manifest

        if self.folder and self.lock is None:
            self._lock()
        if self.folder:
            # the earlier run's reports go now: the folder never mixes two runs' files (only
            # files a theorycheck run wrote, by the manifest; the document itself is replaced)
            manifest = Manifest(self.folder)
            manifest.remove_owned(keep={"results.json", "results.jsonl"})
            manifest.add([self.json, self.journal_path])
        self.journal = Journal(self.journal_path, truncate=not self.resuming)

    def update(self, partial: Any) -> None:
        """``on_result`` of the engine: stream the claims judged so far."""
        import dataclasses

        from .engine.families import entry_key
        from .report.durable import atomic_write_text
        from .report.json_report import _encode_floats

        self.last = partial
        if self.json is not None:
            if self.journal is None:
                self._start()
            if len(partial.entries) < len(self._claim_texts):  # not a continuation: start over
                self._claim_texts = []
            # entries only ever grow at the end: each is encoded once, not once per later claim
            # (re-encoding the whole document per claim made streaming cost ~3% of verify all)
            for entry in partial.entries[len(self._claim_texts):]:
                claim = _encode_floats(entry.to_dict())
                self._claim_texts.append(json.dumps(claim, allow_nan=False, ensure_ascii=False))
                key = entry_key(claim.get("family"), claim.get("id", ""), claim.get("params") or {})
                if key not in self.journaled:
                    self.journal.append({"claim": claim})
                    self.journaled.add(key)
            doc = _encode_floats(dataclasses.replace(partial, entries=[]).to_dict())
            for err in doc.get("errors", []):
                key = "error:" + entry_key(err.get("family"), err.get("id", ""), err.get("params") or {})
                if key not in self.journaled:
                    self.journal.append({"error": err})
                    self.journaled.add(key)
            doc["claims"] = _CLAIMS_SLOT
            text = json.dumps(doc, allow_nan=False, ensure_ascii=False)  # compact; the final one is indented
            atomic_write_text(self.json, text.replace(json.dumps(_CLAIMS_SLOT),
                                                      "[" + ",".join(self._claim_texts) + "]", 1) + "\n")
        if self.args.fail_fast and partial.errors:
            raise _StopRun()

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
        if self.lock is not None:
            self.lock.release()


def _run_durably(args: argparse.Namespace, run: Any) -> int:
    """Run ``run(**engine_kwargs)`` streaming its results; on SIGINT/SIGTERM (or --fail-fast's
    first error) write the partial document and reports, say where, and exit 130/143 (2)."""
    import dataclasses

    output = _Output(args)
    signals = None
    try:
        output.check_paths()  # inside the try: a failed check after the lock still releases it
        signals = _Signals()
        try:
            results = run(on_result=output.update, fail_fast=False, validate=True,
                          previous=getattr(args, "_previous", None) or None)
        except (KeyboardInterrupt, _StopRun) as exc:
            code = (EXIT_SIGTERM if isinstance(exc, _Terminated) else EXIT_SIGINT
                    if isinstance(exc, KeyboardInterrupt) else EXIT_USAGE)
            signals.defer()
            partial = output.last
            what = "stopped at the first error (--fail-fast)" if code == EXIT_USAGE else "interrupted"
            if partial is None:
                print(f"theorycheck: {what} before any claim finished; nothing written", file=sys.stderr)
                return code
            _finish(dataclasses.replace(partial, complete=False), args, output=output, stopped=what)
            return code
        signals.defer()
        code = _finish(results, args, output=output)
        return signals.caught or code
    finally:
        output.close()
        if signals is not None:
            signals.restore()


def _resume(args: argparse.Namespace, load_error: Exception | None) -> int:
    """``--resume PATH``: re-run the command recorded in a partial document, judging only the
    claims missing from it; the merged document equals an uninterrupted run's (timings aside)."""
    from .engine.families import RunResults, previous_entries
    from .report.json_report import read_json

    where = args.resume
    doc_path = os.path.join(where, "results.json") if os.path.isdir(where) else where
    if not os.path.isfile(doc_path):
        raise fail("--resume", "theorycheck", "the --out folder or --json file of an earlier run", where)
    doc = read_json(doc_path, caller="theorycheck --resume")
    if doc.get("complete", True) is not False:
        if not args.quiet:
            print(f"theorycheck: {doc_path} is complete: nothing to resume", file=sys.stderr)
        return RunResults.from_dict(doc).exit_code()
    words = shlex.split(str(doc.get("command", "")))
    if words[:1] != ["theorycheck"] or not set(words[1:2]) & {"check", "verify"}:
        raise fail("--resume", "theorycheck", "a document written by `theorycheck check` or `theorycheck verify` "
                                              f"(its command is {doc.get('command')!r})", where)
    new = build_parser().parse_args(words[1:])
    new.quiet, new.verbose = args.quiet, args.verbose
    if getattr(new, "out", None) is not None and new.command == "verify" and new.family == "all":
        new.out = os.path.dirname(os.path.abspath(doc_path))
    else:
        new.json_path = doc_path
    new.resume = None
    new._previous = previous_entries(doc)
    new._resume_doc = doc
    logger.info("resuming %s: %d claims already judged", doc_path, len(doc.get("claims", [])))
    return _dispatch(new, words[1:], load_error)


def _resume_command(args: argparse.Namespace) -> str:
    if args.command == "verify":
        return f"theorycheck verify {args.family}"
    return f"theorycheck check {shlex.quote(args.target)}"


def _finish(results: Any, args: argparse.Namespace, *, output: Any = None, stopped: str | None = None) -> int:
    from .report.json_report import _encode_floats, to_json, write_json
    from .report.markdown import render_markdown, write_markdown

    doc = _encode_floats(results.to_dict())
    to_stdout = "-" in (args.json_path, args.report_path)
    # stdout carries the machine-readable output when one is written there; the human
    # table then goes to stderr (or nowhere with -q), so `--json - | jq` always parses
    out = None if args.quiet else (sys.stderr if to_stdout else sys.stdout)
    # files first: a reader that stops early (`| head`) must not cost the reports
    written = []
    if getattr(args, "out", None):  # verify all: the report folder
        from .report.html import write_report_folder

        paths = write_report_folder(doc, args.out, figure_formats=getattr(args, "figure_formats", ("png", "svg")))
        written += [(what, paths[role]) for what, role in (("JSON", "json"), ("report", "markdown"),
                                                            ("HTML", "html"), ("LaTeX", "latex"),
                                                            ("BibTeX", "bibtex"),
                                                            ("figures", "figures")) if role in paths]
    if args.json_path and args.json_path != "-":
        written.append(("JSON", write_json(doc, args.json_path)))
    if args.report_path and args.report_path != "-":
        if str(args.report_path).lower().endswith((".html", ".htm")):  # with its figures embedded
            from .report.html import write_html

            written.append(("report", write_html(doc, args.report_path)))
        elif str(args.report_path).lower().endswith(".tex"):
            from .report.latex import write_latex

            written.append(("report", write_latex(doc, args.report_path)))
        else:
            written.append(("report", write_markdown(doc, args.report_path)))
    for what, path in written:
        logger.info("wrote %s: %s", what, path)
    if output is not None and output.json is not None and not getattr(args, "out", None):
        written.append(("journal", output.journal_path))
    if out is not None:
        _print_summary(doc, args, written, out)
    for err in doc.get("errors", []):  # every error, even with -q: no verdict for these claims
        print(f"theorycheck: error: {err['message']} (reproduce: {err['reproduce']})", file=sys.stderr)
    if stopped is not None:
        judged = len(doc.get("claims", []))
        where = getattr(args, "out", None) or (args.json_path if args.json_path not in (None, "-") else None)
        print(f"theorycheck: {stopped}: {judged} claim(s) judged"
              + (f"; partial results in {where} (\"complete\": false); finish the run with: "
                 f"{_resume_command(args)} --resume {shlex.quote(where)}"
                 if where else "; nothing was written (no --json/--out)"), file=sys.stderr)
    if args.json_path == "-":
        sys.stdout.write(to_json(doc))
        sys.stdout.flush()
    elif args.report_path == "-":
        sys.stdout.write(render_markdown(doc))
        sys.stdout.flush()
    return results.exit_code()


def _print_summary(doc: dict, args: argparse.Namespace, written: list, out) -> None:
    """The human part: the table, refuted claims and the files written."""
    _print_table(doc, out)
    if getattr(args, "out", None):
        # verify all: one line per refuted claim; the pasteable counterexamples are in the report
        refuted = [c for c in doc.get("claims", []) if str(c.get("verdict", "")).upper() == "REFUTED"]
        if refuted:
            from .report.markdown import counterexample_sizes, format_number

            print(f"\n{len(refuted)} refuted (counterexamples as Python in "
                  f"{os.path.join(args.out, 'report.md')} and report.html):", file=out)
            for c in refuted:
                cx = c.get("counterexample") or {}
                shrunk = counterexample_sizes(c)
                print(f"  {c['id']}: margin {format_number(cx.get('margin'))}, confirmed with "
                      f"{cx.get('precision_digits')} digits"
                      + (", at " + ", ".join(f"{k}={format_number(v)}" for k, v in shrunk.items()) if shrunk else ""),
                      file=out)
        skipped = (doc.get("options") or {}).get("skipped_empirical") or []
        if skipped:
            print(f"\nnot run (add --empirical): {', '.join(skipped)}", file=out)
    else:
        _print_counterexamples(doc, out)
    if written:
        print("", file=out)
        for what, path in written:
            print(f"{what}: {path}", file=out)


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------

def _cmd_list(args: argparse.Namespace, load_error: Exception | None) -> int:
    from .citations import keys_of
    from .engine.registry import all_claims

    if load_error is not None:
        raise load_error
    claims = all_claims()
    if args.json:
        listing = []
        for c in claims:
            listing.append({
                "id": c.id,
                "source": keys_of(c.cite),
                "kind": c.kind,
                "statement": c.statement,
                "params": [{"name": q.name, "default": q.default, "description": q.description}
                           for q in c.params],
                "assumptions": [a.name for a in c.assumptions],
                "family": c.family,
                "corrects": c.corrects,
            })
        print(json.dumps(listing, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not claims:
        print("no claims registered")
        return EXIT_OK
    rows = [(c.id, ",".join(keys_of(c.cite)), c.kind, " ".join(c.statement.split())) for c in claims]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(("id", "source", "kind"))]
    print(f"{'id'.ljust(widths[0])}  {'source'.ljust(widths[1])}  {'kind'.ljust(widths[2])}  statement")
    for cid, src, kind, statement in rows:
        if len(statement) > 90:
            statement = statement[:87] + "..."
        print(f"{cid.ljust(widths[0])}  {src.ljust(widths[1])}  {kind.ljust(widths[2])}  {statement}")
    print(f"\n{len(claims)} claims")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .claims import load_claims, load_module, parse_target
    from .engine.families import Check, run_checks

    if args.resume:
        return _resume(args, None)
    _check_stdout_targets(args)
    seed = _parse_int(args.seed, "--seed", min_value=0)
    budget = _budget(args)
    assignments = _parse_param_assignments(args.param)
    claims = load_claims(args.target)

    module_names: dict[int, str] = {}
    if len(claims) > 1 or "::" not in args.target:
        try:
            kind, where, _ = parse_target(args.target)
            module = load_module(kind, where)
            module_names = {id(obj): name for name, obj in vars(module).items() if obj in claims}
        except InvalidArgumentError:
            module_names = {}

    unknown = [n for n in assignments if not any(n in c.param_names for c in claims)]
    settings = [n for n in unknown if n in SEARCH_OPTIONS]
    if settings:
        # the amount of optimisation was a claim parameter before; it is an engine setting now
        raise fail("--param", "theorycheck check",
                   f"a parameter of the claim(s); {settings[0]} is an engine setting: use --{settings[0]} N",
                   f"{settings[0]}={assignments[settings[0]]}")
    if unknown:
        known = sorted({n for c in claims for n in c.param_names})
        raise fail("--param", "theorycheck check",
                   f"a parameter of the claim(s) ({', '.join(known) or 'they have none'})", unknown[0])

    checks = []
    for c in claims:
        params = _params_for(c, assignments)
        target = _target_for(args.target, c, module_names)
        cmd = ["theorycheck", "check", target]
        for name, value in params.items():
            cmd += ["--param", f"{name}={value!r}" if isinstance(value, float) else f"{name}={value}"]
        if args.ablate:
            cmd.append("--ablate")
        cmd += ["--seed", str(seed)] + _budget_args(budget, args)
        checks.append(Check(claim=c, params=params, reproduce=shlex.join(cmd),
                            target=None if target == c.id else target))
    logger.info("judging %d claim(s) from %s (seed %d)", len(checks), args.target, seed)
    return _run_durably(args, lambda **kw: run_checks(checks, budget=budget, seed=seed, ablate=args.ablate,
                                                      progress=_progress(args),
                                                      command="theorycheck " + shlex.join(argv), **kw))


def _cmd_verify(args: argparse.Namespace, argv: Sequence[str], load_error: Exception | None) -> int:
    from .engine.families import all_families, get_family, run_family

    if load_error is not None:
        raise load_error
    if args.family is None:
        names = ", ".join(f.name for f in all_families()) or "none registered yet"
        raise _UsageError(f"theorycheck verify: error: name a family to verify ({names}; or 'all')")
    if args.resume:
        return _resume(args, load_error)
    _check_stdout_targets(args)
    seed = _parse_int(args.seed, "--seed", min_value=0)
    budget = _budget(args)
    command = "theorycheck " + shlex.join(argv)
    if args.family == "all":
        from .engine.families import run_all

        if not all_families():
            logger.warning("no claim families are registered")
            return EXIT_OK
        logger.info("verifying every family (seed %d), report folder %s", seed, args.out)
        workers, scheduler = _executor_args(args)
        run = run_all
        if workers is not None or scheduler is not None:
            import functools

            from .sweeps import run_all_parallel

            run = functools.partial(run_all_parallel, workers=workers, scheduler=scheduler)
        return _run_durably(args, lambda **kw: run(
            {"K": args.opt_K}, budget=budget if args.budget is not None or args.examples is not None else None,
            seed=seed, ablate=args.ablate, empirical=args.empirical, progress=_progress(args), command=command,
            **kw))
    family = get_family(args.family)
    options = {p.name: getattr(args, f"opt_{p.name}") for p in family.params
               if getattr(args, f"opt_{p.name}", None) is not None}
    logger.info("verifying family %s with options %s (seed %d)", family.name, options or "(defaults)", seed)
    return _run_durably(args, lambda **kw: run_family(family.name, options, budget=budget, seed=seed,
                                                      ablate=args.ablate, progress=_progress(args),
                                                      command=command, **kw))


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .sweeps import sweep

    seed = _parse_int(args.seed, "--seed", min_value=0)
    budget = None if args.budget is None else _parse_seconds(args.budget)
    examples = None if args.examples is None else _parse_int(args.examples, "--examples", min_value=1)
    if not args.grid:
        raise fail("--grid", "theorycheck sweep", "at least one axis NAME=VALUES (e.g. --grid K=2:12)", None)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise fail("--out", "theorycheck sweep", "a folder (it is a file)", args.out)
    workers, scheduler = _executor_args(args)
    out = None if args.quiet else sys.stdout

    def show(point: dict) -> None:
        if out is not None:
            values = ", ".join(f"{k}={v}" for k, v in point["params"].items())
            note = f" ({point['error']['type']}: {point['error']['message'][:100]})" if point.get("error") else ""
            print(f"  {values}: {point['verdict']}{note}", file=out, flush=True)

    result = sweep(args.target, list(args.grid), seed=seed, budget=budget, examples=examples, ablate=args.ablate,
                   workers=workers, scheduler=scheduler, out=args.out, on_point=show)
    if out is not None:
        counts = ", ".join(f"{n} {v}" for v, n in result.counts().items())
        print(f"\n{result.claim_id}: {len(result.points)} points in {result.seconds:.1f} s: {counts}", file=out)
        for what, path in result.files.items():
            print(f"{what}: {path}", file=out)
    verdicts = set(result.verdicts)
    if verdicts & {"ERROR", "WORKER-DIED"}:
        return EXIT_USAGE  # a point that raised: as `check` says for a claim that raises
    if "REFUTED" in verdicts:
        return EXIT_REFUTED
    return EXIT_INCONCLUSIVE if "INCONCLUSIVE" in verdicts else EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from .report.json_report import read_json
    from .report.markdown import render_markdown

    to_stdout = args.output in (None, "-")
    fmt = args.report_format
    if fmt is None:
        fmt = "md"
        if not to_stdout and args.output.lower().endswith((".html", ".htm")):
            fmt = "html"
        elif not to_stdout and args.output.lower().endswith(".tex"):
            fmt = "tex"
    if not to_stdout and os.path.isdir(args.output):
        raise fail("-o", "theorycheck report", "a file path (it is a folder)", args.output)
    if not to_stdout:  # before reading: an unwritable -o is a clear error, not a traceback after
        from .report.durable import check_writable_file

        check_writable_file(args.output, "-o", "theorycheck report")
    doc = read_json(args.results)
    logger.info("read %s (%d claims), rendering %s", args.results, len(doc["claims"]), fmt)
    if doc.get("complete") is False:
        print(f"theorycheck: note: {args.results} is a partial document ({len(doc['claims'])} claim(s) judged; "
              f"the run was interrupted or is still going); the report says so", file=sys.stderr)
    if fmt == "html":
        from .report.html import render_html

        text = render_html(doc)
    elif fmt == "tex":
        text = _render_tex(doc, None if to_stdout else args.output)
    else:
        text = render_markdown(doc)
    if to_stdout:
        sys.stdout.write(text)
        return EXIT_OK
    from .report.durable import atomic_write_text

    atomic_write_text(args.output, text)
    if not args.quiet:
        print(f"report: {args.output}")
    return EXIT_OK


def _render_tex(doc: dict, output: str | None) -> str:
    """LaTeX of ``doc``; figures are included when a ``figures/`` folder beside ``output``
    holds them (as ``verify all --out`` writes it), else only named in the table."""
    from .report.latex import render_latex

    folder = os.path.join(os.path.dirname(os.path.abspath(output)), "figures") if output else None
    if folder is None or not os.path.isdir(folder):
        return render_latex(doc)
    from .report.figures import report_figures

    present = [f for f in report_figures(doc) if os.path.exists(os.path.join(folder, f.filename))]
    return render_latex(doc, figures=present, figure_folder="figures")


def _print_completion(parser: argparse.ArgumentParser, shell: str) -> int:
    """Print shtab's completion script for ``shell``; shtab is optional (a clear error without it)."""
    try:
        import shtab
    except ImportError:
        raise fail("--print-completion", "theorycheck",
                   "used with the optional package shtab installed (pip install shtab, or "
                   "pip install 'theorycheck[completion]')", shell) from None
    # file and folder arguments complete as paths; everything else from the parser's choices
    paths = {"target": shtab.FILE, "results": shtab.FILE, "json_path": shtab.FILE, "report_path": shtab.FILE,
             "output": shtab.FILE, "out": shtab.DIRECTORY}
    for p in [parser] + _subparsers(parser):
        for action in p._actions:
            if action.dest in paths:
                action.complete = paths[action.dest]  # type: ignore[attr-defined]
    sys.stdout.write(shtab.complete(parser, shell=shell))
    return EXIT_OK


def _configure_logging(args: argparse.Namespace) -> logging.Handler:
    """Route the ``theorycheck`` loggers to stderr at the level -q / -v ask for."""
    quiet, verbose = getattr(args, "quiet", 0) or 0, getattr(args, "verbose", 0) or 0
    level = logging.ERROR if quiet else (logging.DEBUG if verbose >= 2 else
                                         logging.INFO if verbose == 1 else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(levelname)s: %(message)s" if verbose >= 2
                                           else "theorycheck: %(message)s"))
    root = logging.getLogger("theorycheck")
    root.addHandler(handler)
    root.setLevel(level)
    return handler


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------

def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _dispatch(args: argparse.Namespace, argv: Sequence[str], load_error: Exception | None) -> int:
    if args.command == "list":
        return _cmd_list(args, load_error)
    if args.command == "check":
        return _cmd_check(args, argv)
    if args.command == "verify":
        return _cmd_verify(args, argv, load_error)
    if args.command == "report":
        return _cmd_report(args)
    if args.command == "sweep":
        return _cmd_sweep(args)
    if getattr(args, "empirical_handler", None) is not None:
        return args.empirical_handler(args)
    raise _UsageError(f"theorycheck: error: unknown command {args.command!r}")  # pragma: no cover


#: Top-level options that may precede ``--help`` (they take no value).
_TOP_FLAGS = frozenset({"-q", "--quiet", "-v", "-vv", "-vvv", "--verbose"})


def _is_top_level_help(argv: Sequence[str]) -> bool:
    """``theorycheck [-q|-v] --help`` (or no arguments): help on the commands only, which
    needs no family and so no claim module, engine or torch."""
    if not argv:
        return True
    for token in argv:
        if token in ("-h", "--help"):
            return True
        if token not in _TOP_FLAGS:
            return False
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # answer without importing the engine (torch, cvxpy): instant
        print(f"theorycheck {__version__}")
        return EXIT_OK
    top_help = _is_top_level_help(argv)
    load_error = None if top_help else _load_shipped()
    try:
        parser = build_parser(families=not top_help)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version print and exit 0
            return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else EXIT_USAGE
        if args.quiet and args.verbose:
            raise _UsageError("theorycheck: error: -q/--quiet and -v/--verbose contradict each other")
        if args.print_completion:
            return _print_completion(parser, args.print_completion)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        handler = _configure_logging(args)
        try:
            return _dispatch(args, argv, load_error)
        finally:
            logging.getLogger("theorycheck").removeHandler(handler)
    except _UsageError as exc:
        print(_one_line(exc), file=sys.stderr)
        return EXIT_USAGE
    except (InvalidArgumentError, MissingDependencyError) as exc:
        print(f"theorycheck: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print("theorycheck: interrupted", file=sys.stderr)
        return EXIT_SIGTERM if isinstance(exc, _Terminated) else EXIT_SIGINT
    except BrokenPipeError:
        # the reader of stdout went away (`theorycheck verify all | head`): not a bug; silence
        # the interpreter's own flush of the closed pipe at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except Exception as exc:  # noqa: BLE001
        from .engine.claim import ClaimError

        if isinstance(exc, ClaimError):
            print(f"theorycheck: error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            # a write that failed (full disk, read-only file system): the earlier file is intact
            # (every write is atomic); not a bug of theorycheck, so no traceback
            where = f": {exc.filename}" if exc.filename else ""
            print(f"theorycheck: error: {exc.strerror or exc}{where} (every write is atomic: the files "
                  f"written before are intact)", file=sys.stderr)
            return EXIT_USAGE
        traceback.print_exc(file=sys.stderr)
        print(f"theorycheck: internal error ({type(exc).__name__}); please report it with the traceback above",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
