"""The package's layering, read from its imports (ast): no cycles, no forbidden direction.

Layers, bottom to top: the core (``_validation``, ``backend``, ``geometry``, ``losses``,
``strategies``), the maths modules (``ufm``, ``relax``, ``bounds``, ``symbolic``, ``ssl``),
the engine (``theorycheck.engine``), the shipped claims (``theorycheck.claims``), and the
CLI. Every import counts, also one inside a function (a lazy import is still a
dependency); only imports under ``if TYPE_CHECKING:`` are left out (they never run).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "theorycheck"
CORE = ("theorycheck._validation", "theorycheck.backend", "theorycheck.geometry", "theorycheck.losses",
        "theorycheck.strategies")
MATHS = ("theorycheck.ufm", "theorycheck.relax", "theorycheck.bounds", "theorycheck.symbolic", "theorycheck.ssl")
ENGINE = "theorycheck.engine"
CLAIMS = "theorycheck.claims"
CLI = ("theorycheck.cli", "theorycheck.empirical.cli", "theorycheck.__main__")


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every Import / ImportFrom node, skipping the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: pathlib.Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (absolute names; ``from . import x`` resolved to a submodule)."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in known else stem for alias in node.names]
        for target in targets:
            while target and target not in known:  # ``import theorycheck.engine.judge as j`` and the like
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _in(module: str, layer) -> bool:
    layers = (layer,) if isinstance(layer, str) else layer
    return any(module == m or module.startswith(m + ".") for m in layers)


def _violations(graph: dict[str, set[str]], source, target) -> list[str]:
    return sorted(f"{a} -> {b}" for a, deps in graph.items() if _in(a, source) for b in deps if _in(b, target))


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_reads_the_known_edges(graph):
    # the reader itself: a relative import, a lazy import and a TYPE_CHECKING import
    assert "theorycheck.engine.kinds" in graph["theorycheck.engine.claim"]
    assert "theorycheck.symbolic" in graph["theorycheck.engine.kinds.relation"]  # inside a function
    assert "theorycheck.engine.claim" not in graph["theorycheck.engine.results"]  # TYPE_CHECKING only


def test_no_import_cycles(graph):
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("source, target, why", [
    (CORE, ENGINE, "core -> engine"),
    (MATHS, ENGINE, "maths -> engine (a maths module never calls judge)"),
    (ENGINE, CLAIMS, "engine -> claims (the engine knows no paper)"),
    (ENGINE, CLI, "engine -> cli"),
    (CORE, CLAIMS, "core -> claims"),
    (MATHS, CLAIMS, "maths -> claims"),
])
def test_no_forbidden_direction(graph, source, target, why):
    assert _violations(graph, source, target) == [], why


def test_no_kind_name_is_tested_outside_kinds():
    """Only ``engine/kinds/`` may compare a claim's kind with a kind name."""
    names = {"identity", "inequality", "optimum", "characterization", "landscape", "statistical", "empirical"}
    found = []
    for name, path in _modules().items():
        if _in(name, "theorycheck.engine.kinds") or not _in(name, ENGINE):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                consts = [c.value for c in ast.walk(node) if isinstance(c, ast.Constant)]
                kind_read = any(isinstance(n, ast.Attribute) and n.attr == "kind" for n in ast.walk(node))
                if kind_read and names & set(v for v in consts if isinstance(v, str)):
                    found.append(f"{name}:{node.lineno}")
    assert found == []


def test_the_engine_never_reads_the_command_line():
    """``sys.argv`` belongs to the CLI: the engine is called from Python too (tests, notebooks)."""
    found = []
    for name, path in _modules().items():
        if not _in(name, ENGINE):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "argv":
                found.append(f"{name}:{node.lineno}")
    assert found == []


def test_engine_functions_are_short_and_return_small_tuples():
    """Every function of the engine is under 80 lines and returns tuples of at most 3 values."""
    long, wide = [], []
    for name, path in _modules().items():
        if not _in(name, ENGINE):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if node.end_lineno - node.lineno + 1 >= 80:
                long.append(f"{name}.{node.name}")
            wide += [f"{name}.{node.name}:{r.lineno}" for r in ast.walk(node)
                     if isinstance(r, ast.Return) and isinstance(r.value, ast.Tuple) and len(r.value.elts) > 3]
    assert long == [] and wide == []
