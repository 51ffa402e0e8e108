"""BibTeX through the escaping layer: every entry parses in bibtexparser and pybtex, and
decoding the parsed LaTeX gives back the reference's plain text.

The decoder is pylatexenc (independent of latexcodec, which the writer uses), taught
the three LaTeX2e text commands it lacks.
"""

from __future__ import annotations

import re
import warnings

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as hs

# dev dependencies, imported plainly: a missing parser must fail the suite, not skip it
import bibtexparser  # the v2 API (parse_string, failed_blocks)
import pybtex.database as pybtex_database
import pylatexenc.latex2text as latex2text

from theorycheck import InvalidArgumentError
from theorycheck._bibtex import escape_name, escape_pages, escape_text, escape_verbatim
from theorycheck.citations import REFERENCES, Reference, bibtex


def _decoder():
    db = latex2text.get_default_latex_context_db()
    db.add_context_category("theorycheck-test", prepend=True, macros=[
        latex2text.MacroTextSpec("textbraceleft", "{"),
        latex2text.MacroTextSpec("textbraceright", "}"),
        latex2text.MacroTextSpec("textasciicircum", "^"),
    ])
    return latex2text.LatexNodes2Text(latex_context=db, math_mode="text", strict_latex_spaces=True)


_DECODER = _decoder()


def decode(latex: str) -> str:
    return " ".join(_DECODER.latex_to_text(latex).split())


def plain(text: str) -> str:
    return " ".join(text.split())


def _split_names(field: str) -> list[str]:
    """Split an author field on the " and " at brace depth 0 (as BibTeX does)."""
    names, depth, start, i = [], 0, 0, 0
    while i < len(field):
        ch = field[i]
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and field[i:i + 5].lower() == " and ":
            names.append(field[start:i])
            start = i = i + 5
            continue
        i += 1
    names.append(field[start:])
    return names


def parse_bibtexparser(text: str) -> dict[str, dict[str, str]]:
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return {entry.key: {f.key.lower(): f.value for f in entry.fields} for entry in library.entries}


def parse_pybtex(text: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pybtex reports recoverable syntax errors as warnings
        return pybtex_database.parse_string(text, "bibtex").entries


def _person_text(person) -> str:
    parts = (person.first_names + person.middle_names + person.prelast_names + person.last_names
             + person.lineage_names)
    return decode(" ".join(parts))


def assert_round_trip(ref: Reference) -> None:
    """The entry parses in both parsers and decodes to the reference's text, field by field."""
    text = ref.bibtex()
    assert text.count("{") == text.count("}")

    fields = parse_bibtexparser(text)[ref.key]
    title = fields["title"]
    assert title.startswith("{") and title.endswith("}")  # the capitalisation-keeping braces survive
    assert decode(title) == plain(ref.title)
    assert [decode(n) for n in _split_names(fields["author"])] == [plain(a) for a in ref.authors]
    assert fields["year"] == str(ref.year)
    venue_field = {"article": "journal", "inproceedings": "booktitle"}.get(ref.entry_type, "howpublished")
    if ref.venue.strip():
        assert decode(fields[venue_field]) == plain(ref.venue)
    if ref.arxiv:
        assert fields["eprint"] == ref.arxiv
    if ref.doi:
        assert fields["doi"] == escape_verbatim(ref.doi)
    if ref.url:
        assert fields["url"] == escape_verbatim(ref.url)

    entry = parse_pybtex(text)[ref.key]
    assert entry.type == ref.entry_type
    assert decode(entry.fields["title"]) == plain(ref.title)
    assert [_person_text(p) for p in entry.persons["author"]] == [plain(a) for a in ref.authors]
    if ref.venue.strip():
        assert decode(entry.fields[venue_field]) == plain(ref.venue)


# --------------------------------------------------------------------------------------
# shipped references
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_every_shipped_reference_parses_and_round_trips(key):
    assert_round_trip(REFERENCES[key])


def test_the_whole_shipped_bibliography_parses_in_both_parsers():
    text = bibtex(None)
    assert set(parse_bibtexparser(text)) == set(REFERENCES)
    assert set(parse_pybtex(text)) == set(REFERENCES)


def test_non_ascii_author_is_a_latex_command():
    entry = REFERENCES["zbontar2021"].bibtex()
    assert "St{\\'e}phane Deny" in entry
    assert entry.isascii()


def test_pages_ranges_keep_the_bibtex_dash():
    fields = parse_bibtexparser(REFERENCES["graf2021"].bibtex())["graf2021"]
    assert fields["pages"] == "3821--3830"
    assert escape_pages("12 - 15") == escape_pages("12\u201315") == "12--15"


# --------------------------------------------------------------------------------------
# hostile user entries
# --------------------------------------------------------------------------------------

HOSTILE_TITLES = [
    "Cats & Dogs: 50% of #1 in x_1 costs $5, a^2 ~ b",
    "Ends in a backslash \\",
    "\\",
    "Unbalanced { brace",
    "Unbalanced } brace",
    "} closes first, then opens {",
    "{Protected} words {stay} literal",
    "\\emph{not a command} \\\\ \\relax",
    "Straße, Ångström, Łódź, naïve, façade, Øresund, İstanbul",
    "Zero-shot \u2013 em \u2014 dash and a--b and ``quoted'' text",
    "中文标题 with CJK",
    "Greek \u03b1\u03b2 and \u2264 maths",
    "   spaced\tout\n title  ",
    "%comment-like start",
    "@misc{injected, title={x}}",
    "\"quoted\" = {value},",
]

HOSTILE_NAMES = [
    ("Ada Lovelace",),
    ("Stéphane Deny", "José Ángel Núñez", "Łukasz Ćwik"),
    ("Smith and Wesson", "Ben & Jerry"),
    ("Knuth, Donald", "Martin Luther King, Jr."),
    ("A}", "{B", "C\\"),
    ("x_y z%w", "#hash $dollar", "tilde~caret^"),
    ("and",),
    ("others",),
    ("Ludwig van Beethoven", "Jean-Paul Sartre"),
    ("王小明",),
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_parse_and_round_trip(title):
    ref = Reference(key="user2025", authors=("A. Author",), title=title, venue=title, year=2025,
                    entry_type="misc")
    assert_round_trip(ref)


@pytest.mark.parametrize("authors", HOSTILE_NAMES)
def test_hostile_names_parse_and_round_trip(authors):
    ref = Reference(key="user:2025/a", authors=authors, title="T", venue="Journal of {Things} & Co",
                    year=2025, entry_type="article")
    assert_round_trip(ref)
    entry = parse_pybtex(ref.bibtex())["user:2025/a"]
    assert len(entry.persons["author"]) == len(authors)  # no name split or merged


def test_hostile_verbatim_fields_and_extra_fields():
    ref = Reference(key="u2025", authors=("A B",), title="T", venue="V", year=2025,
                    url="https://example.org/a%20b?q={x}&y=\\", doi="10.1000/x_{y}",
                    bibtex_fields=(("note", "50% & {more}\\"), ("pages", "1 \u2013 9")))
    assert_round_trip(ref)
    fields = parse_bibtexparser(ref.bibtex())["u2025"]
    assert fields["url"] == "https://example.org/a%20b?q=%7Bx%7D&y=%5C"
    assert decode(fields["note"]) == "50% & {more}\\"
    assert fields["pages"] == "1--9"
    assert "{" not in escape_verbatim("{") and "\\" not in escape_verbatim("\\")


def test_specials_are_escaped_not_dropped():
    assert escape_text("& % # _ $") == "\\& \\% \\# \\_ \\$"
    assert escape_text("{") == "{\\textbraceleft}" and escape_text("}") == "{\\textbraceright}"
    assert escape_text("a\\") == "a{\\textbackslash}"
    assert escape_text("^~") == "{\\textasciicircum}{\\textasciitilde}"
    assert escape_name("Smith and Wesson") == "{Smith and Wesson}"
    assert escape_name("Andrea Sandberg") == "Andrea Sandberg"  # "and" inside a word is no separator


@pytest.mark.parametrize("kwargs, param", [
    (dict(key="has%percent"), "key"),
    (dict(key="a{b"), "key"),
    (dict(authors=("  ",)), "authors"),
    (dict(authors=()), "authors"),
    (dict(title=" \t"), "title"),
    (dict(bibtex_fields=(("bad name", "x"),)), "bibtex_fields"),
])
def test_entries_that_cannot_be_written_are_refused(kwargs, param):
    base = dict(key="k2025", authors=("A B",), title="T", venue="V", year=2025)
    base.update(kwargs)
    with pytest.raises((InvalidArgumentError, TypeError), match=f"`{param}` of `Reference`"):
        Reference(**base)


# Text a user might type: ASCII printables (every LaTeX special among them), accented
# Latin letters, dashes, Greek and CJK, and whitespace.
_ALPHABET = hs.sampled_from(
    [chr(c) for c in range(32, 127)]
    + list("éèêëàâäçñöüßøåæœłŁŚźżčřšžğİıÅÉÖÜ")
    + ["\u2013", "\u2014", "\u03b1", "\u03c0", "中", "文", "\t", "\n"])
_text = hs.text(alphabet=_ALPHABET, min_size=1, max_size=30).filter(lambda s: s.strip() != "")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(authors=hs.lists(_text, min_size=1, max_size=4), title=_text, venue=_text)
@example(authors=["}", "{"], title="0", venue="V")
@example(authors=["a}b", "{c}"], title="x{y\\", venue="\\")
@example(authors=["x and y", "z, w"], title="--", venue="``''")
def test_any_text_parses_in_both_parsers_and_round_trips(authors, title, venue):
    ref = Reference(key="anykey", authors=tuple(authors), title=title, venue=venue, year=2000,
                    entry_type="inproceedings")
    assert_round_trip(ref)
    assert not re.search(r"\\\s*\}", ref.bibtex())  # no backslash escaping a closing brace


def test_docstring_examples_run():
    import doctest

    import theorycheck._bibtex as module
    import theorycheck.citations as citations

    for mod in (module, citations):
        result = doctest.testmod(mod)
        assert result.attempted > 0 and result.failed == 0, mod.__name__
