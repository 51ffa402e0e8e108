"""The shipped claims, one module per source paper, and loading of users' claims.

* :func:`load_all` imports every module of this package (``graf2021``, ``behnia2024``, ...),
  found with :mod:`pkgutil`, so their ``@claim`` definitions register themselves and their
  families appear under ``theorycheck verify``. A new module is picked up without editing
  anything here.
* :func:`load_claims` loads a user's claims from ``path/to/file.py::NAME`` or
  ``package.module:NAME`` (``NAME`` optional: every claim defined there), the targets of
  ``theorycheck check``.

Examples
--------
>>> from theorycheck.claims import parse_target
>>> parse_target("my_claims.py::cauchy")
('file', 'my_claims.py', 'cauchy')
>>> parse_target("mypkg.claims:cauchy")
('module', 'mypkg.claims', 'cauchy')
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import pkgutil
import sys
from types import ModuleType
from typing import Any

from .._validation import fail, fail_type

__all__ = ["load_all", "load_claims", "load_module", "parse_target", "claims_in_module"]


def load_all() -> list[str]:
    """Import every claim module of :mod:`theorycheck.claims`; returns their names.

    Importing registers the claims (and families) they define. Calling it again is cheap:
    modules are imported once.
    """
    names = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{info.name}")
        names.append(info.name)
    return names


def parse_target(target: str) -> tuple[str, str, str | None]:
    """Split a ``check`` target into ``(kind, where, name)``.

    ``kind`` is ``"file"`` for ``path.py[::NAME]`` and ``"module"`` for ``package.module[:NAME]``.
    """
    caller = "theorycheck check"
    if not isinstance(target, str) or not target.strip():
        raise fail_type("target", caller, "FILE.py[::NAME] or package.module[:NAME]", target)
    target = target.strip()
    if "::" in target:
        where, _, name = target.partition("::")
        kind = "file"
    elif target.endswith(".py") or os.sep in target or "/" in target:
        where, name, kind = target, "", "file"
    else:
        where, _, name = target.partition(":")
        kind = "module"
    if kind == "file" and not where.endswith(".py"):
        raise fail("target", caller, "FILE.py::NAME (a path ending in .py) or package.module:NAME", target)
    if kind == "module" and not all(part.isidentifier() for part in where.split(".")):
        raise fail("target", caller,
                   "FILE.py::NAME, package.module:NAME (a dotted module name) or a registered claim id", target)
    if name and not (name.isidentifier() or _looks_like_id(name)):
        raise fail("target", caller, "a NAME that is a Python name or a claim id", target)
    return kind, where, (name or None)


def _looks_like_id(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c in "._-" for c in name)


def load_module(kind: str, where: str) -> ModuleType:
    """Import a user's module from a file path or a dotted name.

    A file is imported once per process under a name derived from its absolute path, so
    loading it twice does not register its claims twice.
    """
    caller = "theorycheck check"
    if kind == "file":
        path = os.path.abspath(where)
        if not os.path.isfile(path):
            raise fail("target", caller, "the path of an existing Python file", where)
        digest = hashlib.sha1(path.encode()).hexdigest()[:12]
        stem = os.path.splitext(os.path.basename(path))[0]
        mod_name = f"theorycheck_user_{''.join(c if c.isalnum() else '_' for c in stem)}_{digest}"
        if mod_name in sys.modules:
            return sys.modules[mod_name]
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise fail("target", caller, "an importable Python file", where)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        # the user's file may import its neighbours (helpers next to it)
        folder = os.path.dirname(path)
        added = folder not in sys.path
        if added:
            sys.path.insert(0, folder)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(mod_name, None)
            raise fail("target", caller, f"a file that imports cleanly ({_describe_import_error(exc, path)})",
                       where) from exc
        except BaseException:
            sys.modules.pop(mod_name, None)
            raise
        finally:
            if added and folder in sys.path:
                sys.path.remove(folder)
        return module
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        if exc.name and where.startswith(exc.name):
            raise fail("target", caller, "an importable module (is it installed or on PYTHONPATH?) "
                       "or a registered claim id (see `theorycheck list`)", where) from None
        raise


def _describe_import_error(exc: BaseException, path: str) -> str:
    """``SyntaxError at line 3: ...``: the error and the line of the user's file it came from."""
    line = None
    if isinstance(exc, SyntaxError) and exc.lineno:
        line = exc.lineno
    else:
        tb = exc.__traceback__
        while tb is not None:
            if os.path.abspath(tb.tb_frame.f_code.co_filename) == path:
                line = tb.tb_lineno
            tb = tb.tb_next
    where = f" at line {line}" if line else ""
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return f"{type(exc).__name__}{where}: {message}"


def claims_in_module(module: ModuleType) -> dict[str, Any]:
    """The Claim objects defined at the top level of ``module``, by attribute name, in order."""
    from ..engine.claim import Claim

    return {name: obj for name, obj in vars(module).items() if isinstance(obj, Claim)}


def load_claims(target: str) -> list[Any]:
    """The claims named by a ``theorycheck check`` target.

    Parameters
    ----------
    target : str
        ``path/to/file.py::NAME``, ``path/to/file.py``, ``package.module:NAME``,
        ``package.module``, or the id of a registered claim (``graf2021.ce.bound``). ``NAME`` is the Python name of a claim object in the module or
        a claim id defined there; without it, every claim defined at the module's top level.

    Raises
    ------
    InvalidArgumentError
        Missing file or module, no claims there, or an unknown NAME (the message lists the
        names that exist).
    """
    if isinstance(target, str) and _looks_like_id(target.strip()) and not target.strip().endswith(".py"):
        # a registered claim id (shipped or already defined) is a target too
        from ..engine import registry

        registry.load_shipped()
        if target.strip() in registry.ids():
            return [registry.get(target.strip())]
    kind, where, name = parse_target(target)
    module = load_module(kind, where)
    found = claims_in_module(module)
    caller = "theorycheck check"
    if not found:
        raise fail("target", caller, f"a module that defines claims (none in {where})", target)
    if name is None:
        # claims imported from elsewhere (e.g. a shipped claim) are not "defined there"
        own = [c for c in found.values() if c.origin.split(":", 1)[0] == module.__name__]
        return own or list(found.values())
    if name in found:
        return [found[name]]
    by_id = {c.id: c for c in found.values()}
    if name in by_id:
        return [by_id[name]]
    listing = ", ".join(list(found) + [i for i in by_id if i not in found])
    raise fail("target", caller, f"a claim defined in {where} (there: {listing})", target)
