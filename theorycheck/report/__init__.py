"""Reports of judged claims: the JSON results document and Markdown rendered from it.

* :mod:`theorycheck.report.json_report` writes and reads the JSON document
  (``docs/json-schema.md``, shipped as the JSON Schema ``results.schema.json``), with clear
  errors for missing, truncated, foreign or malformed files.
* :mod:`theorycheck.report.markdown` renders a document as Markdown: per claim the
  statement, citation with BibTeX, verdict, evidence, pasteable counterexample and the
  command that reproduces it, and the package versions.

Every renderer takes the plain JSON dict, so a saved run re-renders without recomputation.
"""

from .json_report import (
    SCHEMA_VERSION,
    read_json,
    results_schema,
    strip_timings,
    to_json,
    validate_document,
    write_json,
)
from .markdown import counterexample_python, render_claim, render_markdown, summary_rows, write_markdown

__all__ = [
    "SCHEMA_VERSION",
    "to_json",
    "write_json",
    "read_json",
    "validate_document",
    "results_schema",
    "strip_timings",
    "render_markdown",
    "render_claim",
    "summary_rows",
    "counterexample_python",
    "write_markdown",
]
