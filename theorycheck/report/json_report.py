"""The JSON results document: write it, read it back with clear errors, compare runs.

The document is what :meth:`theorycheck.engine.families.RunResults.to_dict` returns;
its schema is documented in ``docs/json-schema.md`` and shipped as a JSON Schema
(draft 2020-12) in ``theorycheck/report/results.schema.json`` (:func:`results_schema`). Every other report (Markdown,
later HTML) is rendered from this document alone, so ``theorycheck report results.json``
re-renders a saved run without recomputing anything.

Examples
--------
>>> doc = {"schema_version": 1, "theorycheck_version": "0.1.0", "seed": 0,
...        "command": "theorycheck check f.py", "claims": []}
>>> validate_document(doc) is doc
True
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

from .._validation import fail

__all__ = [
    "SCHEMA_VERSION",
    "REQUIRED_KEYS",
    "REQUIRED_CLAIM_KEYS",
    "TIMING_KEYS",
    "to_json",
    "write_json",
    "read_json",
    "validate_document",
    "results_schema",
    "json_path",
    "strip_timings",
]

logger = logging.getLogger(__name__)

#: File name of the JSON Schema inside this package.
SCHEMA_FILE = "results.schema.json"

SCHEMA_VERSION = 1  # keep equal to theorycheck.engine.families.SCHEMA_VERSION (checked by a test)

REQUIRED_KEYS = ("schema_version", "theorycheck_version", "seed", "command", "claims")
REQUIRED_CLAIM_KEYS = ("id", "verdict", "seconds", "evidence", "counterexample", "ablations")
VERDICTS = ("HOLDS", "REFUTED", "VACUOUS", "INCONCLUSIVE")

#: Wall-clock fields: ``started`` of the document and ``seconds`` of each claim (and of an
#: ablation, should one carry it). Everything else is a deterministic function of the
#: command and the seed.
TIMING_KEYS = ("started", "seconds")


def _encode_floats(value: Any) -> Any:
    """Plain JSON types; non-finite floats as the strings "inf", "-inf", "nan" (documented)."""
    from ..engine.results import to_jsonable

    return to_jsonable(value)


def to_json(results: Any) -> str:
    """The document as text (2-space indent, keys in schema order, strict JSON)."""
    doc = results.to_dict() if hasattr(results, "to_dict") else results
    return json.dumps(_encode_floats(doc), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def write_json(results: Any, path: str | os.PathLike) -> str:
    """Write ``results`` (a RunResults or its dict) to ``path``; returns the path written.

    The parent folder is created if needed. (The CLI's ``--json -`` writes
    :func:`to_json` to stdout itself: library code never writes to the console.)
    """
    from .durable import atomic_write_text

    text = to_json(results)
    path = atomic_write_text(os.fspath(path), text)  # a failed write leaves the previous file intact
    logger.debug("wrote the JSON results document to %s", path)
    return path


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def results_schema() -> dict:
    """The JSON Schema of the results document (a fresh copy of the shipped file).

    Examples
    --------
    >>> results_schema()["required"]
    ['schema_version', 'theorycheck_version', 'seed', 'command', 'claims']
    """
    return json.loads(_schema_text())


@lru_cache(maxsize=1)
def _validator():
    try:
        import jsonschema  # imported here: only reading a document back validates it
    except ImportError as exc:  # a dependency of theorycheck; missing only in a broken install
        raise ImportError("reading a results document needs the package jsonschema (a dependency of "
                          "theorycheck): pip install 'jsonschema>=4.18'") from exc

    schema = results_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def json_path(parts: Any) -> str:
    """A JSON path in the form the error messages use: ``claims[0].evidence``.

    Examples
    --------
    >>> json_path(["claims", 0, "counterexample", "lhs"])
    'claims[0].counterexample.lhs'
    """
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _expected(error: Any) -> str:
    """What the schema wanted at the failing place, in words."""
    validator, value = error.validator, error.validator_value
    if validator == "type":
        names = {"object": "an object", "array": "a list", "string": "a string", "integer": "an integer",
                 "number": "a number", "boolean": "true or false", "null": "null"}
        kinds = [value] if isinstance(value, str) else list(value)
        return " or ".join(names.get(k, k) for k in kinds)
    if validator == "enum":
        return "one of " + ", ".join(map(str, value))
    if validator == "minimum":
        return f"a number >= {value}"
    if validator == "const":
        return repr(value)
    if validator == "required":
        return "an object with the key " + error.message.split("'")[1] if "'" in error.message else error.message
    if validator in ("anyOf", "oneOf"):
        # the alternatives at this same place, each in words ("null or an object")
        same = [e for e in error.context if len(e.relative_path) == 0]
        words = []
        for sub in same:
            text = _expected(sub)
            if text not in words:
                words.append(text)
        return " or ".join(words) or error.message
    return f"valid by the schema ({validator}: {error.message})"


def _schema_error(doc: Any, where: str, caller: str) -> None:
    """Raise for the first place where ``doc`` breaks the shipped JSON Schema, by its JSON path."""
    errors = list(_validator().iter_errors(doc))
    if not errors:
        return
    # the deepest error: it names the field itself rather than an enclosing object; into an
    # alternative ("null or a counterexample") only where one branch got further inside
    error = max(errors, key=lambda e: len(e.absolute_path))
    while error.validator in ("anyOf", "oneOf") and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        if len(deepest.absolute_path) <= len(error.absolute_path):
            break
        error = deepest
    parts = list(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        raise fail(json_path(parts), caller, f"an object with the key {missing!r} ({where}; see "
                   "docs/json-schema.md)", error.instance)
    raise fail(json_path(parts), caller, f"{_expected(error)} ({where}; see docs/json-schema.md)",
               error.instance)


def read_json(path: str | os.PathLike, *, caller: str = "theorycheck report") -> dict:
    """Read and validate a results document.

    Raises
    ------
    InvalidArgumentError
        When the file is missing, is not complete JSON (e.g. truncated), was written
        with another schema version, or lacks required keys. The message says which.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise fail("path", caller, "an existing results file (written by --json)", path)
    if os.path.isdir(path):
        raise fail("path", caller, "a results file, not a folder", path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail("path", caller, f"a readable UTF-8 text file ({exc.__class__.__name__}: {exc})",
                   path) from None
    if not text.strip():
        raise fail("path", caller, "a results file with a JSON document (the file is empty)", path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail("path", caller,
                   f"a complete JSON document (invalid at line {exc.lineno}, column {exc.colno}: "
                   f"{exc.msg}; is the file truncated?)", path) from None
    return validate_document(doc, where=path, caller=caller)


def validate_document(doc: Any, *, where: str = "document", caller: str = "theorycheck report") -> dict:
    """Check a results document against the shipped JSON Schema; returns it unchanged.

    Raises
    ------
    InvalidArgumentError
        Naming the JSON path of the first offending field (``claims[0].evidence``) and
        what the schema wants there. A document of another ``schema_version`` is refused
        first, with both versions named.
    """
    if not isinstance(doc, dict):
        raise fail("path", caller, "a JSON object (a theorycheck results document)", where)
    version = doc.get("schema_version")
    if version is None:
        raise fail("path", caller, "a theorycheck results document (no `schema_version` key)", where)
    if version != SCHEMA_VERSION:
        by = doc.get("theorycheck_version", "an unknown version")
        raise fail("schema_version", caller,
                   f"{SCHEMA_VERSION}, the version this theorycheck reads ({where} was written by "
                   f"theorycheck {by}; re-run the command or use that version)", version)
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise fail("path", caller, f"a results document with the keys {', '.join(missing)}", where)
    if not isinstance(doc["claims"], list):
        raise fail("claims", caller, "a list of claim results", doc["claims"])
    for i, item in enumerate(doc["claims"]):
        if not isinstance(item, dict):
            raise fail(f"claims[{i}]", caller, "an object", item)
        missing = [k for k in REQUIRED_CLAIM_KEYS if k not in item]
        if missing:
            raise fail(f"claims[{i}]", caller, f"a claim result with the keys {', '.join(missing)}",
                       item.get("id", item))
        verdict = str(item["verdict"]).upper()
        if verdict not in VERDICTS:
            raise fail(f"claims[{i}].verdict", caller, f"one of {', '.join(VERDICTS)}", item["verdict"])
        if not isinstance(item["ablations"], list):
            raise fail(f"claims[{i}].ablations", caller, "a list", item["ablations"])
    # the checks above give the friendliest messages for the common mistakes; the schema
    # catches every other malformed field before a renderer trips over it
    _schema_error(doc, where, caller)
    return doc


def strip_timings(doc: Mapping[str, Any]) -> dict:
    """A copy of a results document without its wall-clock fields (:data:`TIMING_KEYS`).

    The fields go at every depth (a claim's ``seconds``, its ablations', and those nested in
    its evidence such as ``evidence.success_by_dimension[*].seconds``), except inside a
    ``budget`` object, where ``seconds`` is configuration, not a measurement. Two runs with
    the same command and seed give equal stripped documents (unless a claim's search was
    cut short by its deadline). A sweep document (``sweep.json``) strips the same way.
    """
    return _strip(doc)


def _strip(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: (dict(v) if k == "budget" and isinstance(v, Mapping) else _strip(v))
                for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
