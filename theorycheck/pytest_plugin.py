"""pytest plugin: theorycheck's knobs in pytest (registered through the ``pytest11`` entry point).

What it adds
------------
* command-line options ``--theorycheck-budget SECONDS``, ``--theorycheck-examples N`` and
  ``--theorycheck-seed S``, with the ini keys ``theorycheck_budget``,
  ``theorycheck_examples``, ``theorycheck_seed`` and the environment variables
  ``THEORYCHECK_BUDGET``, ``THEORYCHECK_EXAMPLES``, ``THEORYCHECK_SEED``
  (precedence: command line, then environment, then ini file, then the default);
* the marker ``@pytest.mark.theorycheck(budget=..., examples=..., seed=...)``, which
  overrides them for one test;
* a one-line header naming theorycheck's version, the seed and the budget.

:func:`theorycheck.testing.assert_holds`, :func:`~theorycheck.testing.assert_refuted` and
:func:`~theorycheck.testing.claim_test` read these settings when no ``budget=`` /
``seed=`` is passed. The default under pytest is a number of examples with no deadline,
so a verdict does not depend on the machine's load or on pytest-xdist.

This module imports nothing of theorycheck beyond the (tiny) version module: a pytest
run of a project that never judges a claim pays only for reading a few options
(measured by ``benchmarks/bench_plugin_import.py``). The engine is imported by the
helpers in :mod:`theorycheck.testing` when a test calls them.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["DEFAULT_EXAMPLES", "DEFAULT_SEED", "current_settings"]

#: Inputs per judged claim when neither option, environment nor ini file says otherwise.
#: A count, not seconds: the same count of the same seeded draws gives the same verdict on
#: any machine, under any load.
DEFAULT_EXAMPLES = 100
#: Seed of every judged claim unless told otherwise.
DEFAULT_SEED = 0

_KEYS = {
    # name: (option, environment variable, ini key, help)
    "budget": ("--theorycheck-budget", "THEORYCHECK_BUDGET", "theorycheck_budget",
               "wall-clock deadline in seconds for each judged claim (default: none; the number of "
               "examples fixes the work, so verdicts do not depend on machine load)"),
    "examples": ("--theorycheck-examples", "THEORYCHECK_EXAMPLES", "theorycheck_examples",
                 f"random inputs per judged claim (default {DEFAULT_EXAMPLES})"),
    "seed": ("--theorycheck-seed", "THEORYCHECK_SEED", "theorycheck_seed",
             f"seed of every judged claim (default {DEFAULT_SEED})"),
}

# The sessions' settings (set at configure time) and the running tests' (marker applied):
# plain module state, read by theorycheck.testing through sys.modules so that neither side
# imports the other just to share three numbers. Stacks, because a test may run pytest
# inside itself (pytester) and the inner session must not clobber the outer one's.
_sessions: list[dict[str, Any]] = []
_tests: list[dict[str, Any]] = []


class SettingError(ValueError):
    """A theorycheck option, ini key, environment variable or marker argument is malformed."""


def _parse(name: str, value: Any, where: str) -> Any:
    """``value`` as the type of setting ``name``; ``where`` names its origin in the error."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "" or value.lower() == "none":
            return None
    try:
        if name == "budget":
            out = float(value)
            ok = out > 0 and out != float("inf")
        else:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            out = int(value)
            ok = out >= 1 if name == "examples" else out >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        need = {"budget": "a number of seconds > 0", "examples": "an integer >= 1",
                "seed": "an integer >= 0"}[name]
        raise SettingError(f"{where} must be {need}; got {value!r}")
    return out


def _resolve(config: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (option, env, ini, _help) in _KEYS.items():
        value = config.getoption(f"theorycheck_{name}")
        where = option
        if value is None and os.environ.get(env, "").strip():
            value, where = os.environ[env], f"environment variable {env}"
        if value is None:
            raw = config.getini(ini)
            if raw not in (None, "", []):
                value, where = raw, f"ini key {ini}"
        out[name] = _parse(name, value, where)
    if out["examples"] is None and out["budget"] is None:
        out["examples"] = DEFAULT_EXAMPLES
    if out["seed"] is None:
        out["seed"] = DEFAULT_SEED
    return out


def current_settings() -> dict[str, Any] | None:
    """``{"budget", "examples", "seed"}`` of the running test (marker applied), or the
    session's outside a test, or None when pytest did not configure this plugin."""
    if _tests:
        return _tests[-1]
    return _sessions[-1] if _sessions else None


def describe(settings: dict[str, Any]) -> str:
    """``"seed=0, budget=100 examples per claim (no deadline)"``: the header's words."""
    parts = []
    if settings.get("examples") is not None:
        parts.append(f"{settings['examples']} examples per claim")
    if settings.get("budget") is not None:
        parts.append(f"deadline {settings['budget']:g} s per claim")
    elif settings.get("examples") is not None:
        parts.append("no deadline")
    return f"seed={settings['seed']}, budget={', '.join(parts)}"


# --------------------------------------------------------------------------- hooks


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("theorycheck", "theorycheck: judging claims in tests")
    for name, (option, env, ini, text) in _KEYS.items():
        group.addoption(option, dest=f"theorycheck_{name}", default=None, metavar=name.upper(),
                        help=f"{text}; also ini key {ini} and environment variable {env}")
        parser.addini(ini, help=f"theorycheck: {text}", default="")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers",
        "theorycheck(budget=None, examples=None, seed=None): settings of the claims judged in this "
        "test (budget: deadline in seconds; examples: inputs per claim; seed)")
    try:
        settings = _resolve(config)
    except SettingError as exc:
        import pytest

        raise pytest.UsageError(f"theorycheck: {exc}") from None
    config._theorycheck_settings = settings
    _sessions.append(settings)


def pytest_unconfigure(config: Any) -> None:
    settings = getattr(config, "_theorycheck_settings", None)
    for i in range(len(_sessions) - 1, -1, -1):  # this session's entry, by identity
        if _sessions[i] is settings:
            del _sessions[i]
            break


def pytest_report_header(config: Any) -> str | None:
    settings = getattr(config, "_theorycheck_settings", None)
    if settings is None:
        return None
    from ._version import __version__

    return f"theorycheck {__version__}: {describe(settings)}"


def _marker_settings(item: Any) -> dict[str, Any]:
    settings = dict(getattr(item.config, "_theorycheck_settings", None) or {})
    marker = item.get_closest_marker("theorycheck")
    if marker is None:
        return settings
    if marker.args:
        raise SettingError("@pytest.mark.theorycheck takes keyword arguments only "
                           "(budget=..., examples=..., seed=...)")
    unknown = sorted(set(marker.kwargs) - set(_KEYS))
    if unknown:
        raise SettingError(f"@pytest.mark.theorycheck got unknown argument(s) {unknown}; "
                           f"known: {sorted(_KEYS)}")
    given = {k: _parse(k, v, f"@pytest.mark.theorycheck({k}=...)") for k, v in marker.kwargs.items()}
    # A marker that names only a deadline means "this many seconds", not "seconds and the
    # session's example count"; the same for examples alone.
    if "budget" in given and "examples" not in given:
        settings["examples"] = None
    if "examples" in given and "budget" not in given:
        settings["budget"] = None
    settings.update(given)
    if settings.get("examples") is None and settings.get("budget") is None:
        settings["examples"] = DEFAULT_EXAMPLES
    return settings


def pytest_runtest_setup(item: Any) -> None:
    # Set before the test's fixtures run, so a fixture that judges a claim sees them too; a
    # malformed marker makes the test error at setup, naming the argument.
    settings = _marker_settings(item)
    item._theorycheck_pushed = True
    _tests.append(settings)


def pytest_runtest_teardown(item: Any, nextitem: Any) -> None:
    if getattr(item, "_theorycheck_pushed", False) and _tests:
        item._theorycheck_pushed = False
        _tests.pop()
