"""Write CITATION.cff from the package itself, so that it cannot drift.

The software's version comes from ``theorycheck/_version.py`` and the references from
``theorycheck.citations.REFERENCES`` (every source a shipped claim cites). Run it after
changing either::

    python scripts/write_citation_cff.py            # rewrite CITATION.cff
    python scripts/write_citation_cff.py --check    # exit 1 if CITATION.cff is stale

``tests/test_packaging.py`` runs the check and validates the file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from theorycheck._version import __version__  # noqa: E402
from theorycheck.citations import REFERENCES, Reference  # noqa: E402

#: The date of the release the version names (Keep a Changelog's date in CHANGELOG.md).
RELEASE_DATE = datetime.date(2026, 11, 22)  # the commit that closed 0.1.0

TITLE = "theorycheck: property-based verification of theorems about learned representation geometry"
MESSAGE = ("If you use theorycheck, please cite it as below, and cite the source papers of the "
           "claims you rely on (every theorycheck report lists them with BibTeX; `theorycheck "
           "verify all` writes them to references.bib).")
ABSTRACT = ("theorycheck judges claims about learned representation geometry (cross-entropy and "
            "supervised-contrastive optima, the unconstrained-features model, identities and bounds "
            "of self-supervised losses) against random and adversarial inputs, confirms every "
            "counterexample in high precision (mpmath, at least 50 significant digits), and writes "
            "citing reports in JSON, Markdown and self-contained HTML.")
KEYWORDS = ("neural collapse", "supervised contrastive learning", "self-supervised learning",
            "property-based testing", "counterexamples", "verification")

# BibTeX entry type -> CFF reference type (CFF 1.2.0's enumeration)
_CFF_TYPES = {"inproceedings": "conference-paper", "article": "article", "misc": "generic",
              "book": "book", "techreport": "report"}


def _q(text: str) -> str:
    # JSON strings are valid YAML double-quoted scalars: every character is escaped safely
    return json.dumps(text, ensure_ascii=False)


def _person(name: str) -> list[str]:
    given, _, family = name.rpartition(" ")
    lines = [f"      - family-names: {_q(family or given)}"]
    if family and given:
        lines.append(f"        given-names: {_q(given)}")
    return lines


def _reference(ref: Reference) -> list[str]:
    lines = [f"  - type: {_CFF_TYPES[ref.entry_type]}", f"    title: {_q(ref.title)}", "    authors:"]
    for name in ref.authors:
        lines.extend(_person(name))
    venue_key = "journal" if ref.entry_type == "article" else "collection-title"
    lines.append(f"    {venue_key}: {_q(ref.venue)}")
    extra = dict(ref.bibtex_fields)
    if "volume" in extra:
        lines.append(f"    volume: {_q(extra['volume'])}")
    if "pages" in extra and "--" in extra["pages"]:
        start, end = extra["pages"].split("--", 1)
        lines.extend([f"    start: {_q(start)}", f"    end: {_q(end)}"])
    lines.append(f"    year: {ref.year}")
    if ref.doi:
        lines.append(f"    doi: {_q(ref.doi)}")
    if ref.url:
        lines.append(f"    url: {_q(ref.url)}")
    if ref.arxiv:
        lines.extend(["    identifiers:", "      - type: other", f"        value: {_q('arXiv:' + ref.arxiv)}"])
    return lines


def render() -> str:
    """The full CITATION.cff text."""
    software = [f"title: {_q(TITLE)}", "authors:", '  - name: "theorycheck developers"',
                f"version: {_q(__version__)}", f"date-released: {RELEASE_DATE.isoformat()}",
                "license: MIT"]
    lines = ["# Written by scripts/write_citation_cff.py from theorycheck/_version.py and",
             "# theorycheck/citations.py; edit those, then rerun the script.",
             "cff-version: 1.2.0", f"message: {_q(MESSAGE)}", "type: software", *software,
             f"abstract: {_q(ABSTRACT)}", "keywords:", *(f"  - {_q(k)}" for k in KEYWORDS),
             "preferred-citation:", "  type: software",
             *("  " + line for line in software), f"  year: {RELEASE_DATE.year}",
             "references:"]
    for ref in REFERENCES.values():
        lines.extend(_reference(ref))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if CITATION.cff differs from what would be written")
    args = parser.parse_args(argv)
    path = ROOT / "CITATION.cff"
    text = render()
    if args.check:
        if path.read_text(encoding="utf-8") != text:
            print("CITATION.cff is stale: run python scripts/write_citation_cff.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
