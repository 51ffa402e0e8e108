"""The JSON results document: write it, read it back with clear errors, compare runs.

The document is what :meth:`theorycheck.engine.families.RunResults.to_dict` returns;
its schema is documented in ``docs/json-schema.md``. Every other report (Markdown,
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
import os
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
    "strip_timings",
]

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

    The parent folder is created if needed.
    """
    text = to_json(results)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


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
    """Check the shape of a results document; returns it unchanged."""
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
    return doc


def strip_timings(doc: Mapping[str, Any]) -> dict:
    """A copy of a results document without its wall-clock fields (:data:`TIMING_KEYS`).

    Two runs with the same command and seed give equal stripped documents (unless a
    claim's search was cut short by its deadline).
    """
    out = {k: v for k, v in doc.items() if k != "started"}
    claims = []
    for claim in doc.get("claims", []):
        claim = {k: v for k, v in claim.items() if k != "seconds"}
        if isinstance(claim.get("ablations"), list):
            claim["ablations"] = [{k: v for k, v in a.items() if k != "seconds"} if isinstance(a, Mapping) else a
                                  for a in claim["ablations"]]
        claims.append(claim)
    if "claims" in doc:
        out["claims"] = claims
    return out
