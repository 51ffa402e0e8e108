"""What the installed pytest plugin costs a pytest run that never judges a claim (issue 17: < 20 ms).

Two measurements, each in fresh interpreters with byte code cached in a temporary
``PYTHONPYCACHEPREFIX`` (as an installed package has it; nothing is written into the tree):

1. *import*: in a process that has already imported pytest (as the entry point's loader
   has), the wall time of ``import theorycheck.pytest_plugin``, i.e. every module the
   plugin brings in that pytest did not; min and median of ``REPEATS`` interpreters.
2. *pytest run*: ``pytest --co -q`` of an empty project with the plugin and without it
   (``-p no:theorycheck`` when its entry point is installed; else ``-p
   theorycheck.pytest_plugin`` to load it), alternated so both see the same load; the
   difference of the medians (noisy on a loaded machine: read it with the spread).

Run: ``python benchmarks/bench_plugin_import.py`` (``THEORYCHECK_BENCH_REPEATS=N``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
REPEATS = int(os.environ.get("THEORYCHECK_BENCH_REPEATS", "15"))

_IMPORT = ("import time, pytest, _pytest.config\n"
           "t = time.perf_counter()\n"
           "import theorycheck.pytest_plugin\n"
           "print((time.perf_counter() - t) * 1e3)\n")


def _env(cache: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(HERE), PYTHONPYCACHEPREFIX=cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _pytest_ms(args: list[str], env: dict, cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", *args],
                          env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = (time.perf_counter() - start) * 1e3
    if proc.returncode != 0:  # a failed start-up would time nothing worth comparing
        raise SystemExit(f"pytest {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def _installed() -> bool:
    from importlib.metadata import entry_points

    return any(ep.value == "theorycheck.pytest_plugin" for ep in entry_points(group="pytest11"))


def main() -> None:
    with_args = [] if _installed() else ["-p", "theorycheck.pytest_plugin"]
    without_args = ["-p", "no:theorycheck"] if _installed() else []
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as project:
        env = _env(cache)
        Path(project, "test_empty.py").write_text("def test_nothing():\n    pass\n")
        # warm the byte-code cache (and the OS file cache) once
        subprocess.run([sys.executable, "-c", _IMPORT], env=env, check=True, capture_output=True)
        _pytest_ms(with_args, env, project)

        imports = [float(subprocess.run([sys.executable, "-c", _IMPORT], env=env, check=True,
                                        capture_output=True, text=True).stdout)
                   for _ in range(REPEATS)]
        with_plugin, without = [], []
        for _ in range(REPEATS):
            with_plugin.append(_pytest_ms(with_args, env, project))
            without.append(_pytest_ms(without_args, env, project))

    print(f"plugin {'installed (entry point)' if _installed() else 'loaded with -p'}")
    print(f"import theorycheck.pytest_plugin after pytest: min {min(imports):.1f} ms, "
          f"median {statistics.median(imports):.1f} ms ({REPEATS} interpreters)")
    print(f"pytest --co -q, empty project: with plugin median {statistics.median(with_plugin):.0f} ms "
          f"(min {min(with_plugin):.0f}), without median {statistics.median(without):.0f} ms "
          f"(min {min(without):.0f}); difference of medians "
          f"{statistics.median(with_plugin) - statistics.median(without):+.0f} ms, of minima "
          f"{min(with_plugin) - min(without):+.0f} ms")


if __name__ == "__main__":
    main()
