"""The escaping layer between plain text and BibTeX field values.

A :class:`theorycheck.citations.Reference` holds plain text (what a reader sees: ``"A & B"``,
``"Stéphane"``), and its BibTeX entry must hold LaTeX that typesets as that text and that
every BibTeX reader parses. Three rules make both true:

* LaTeX's special characters become commands: ``& % # _ $`` take a backslash, and
  ``\\ { } ^ ~`` become ``{\\textbackslash}``, ``{\\textbraceleft}``, ``{\\textbraceright}``,
  ``{\\textasciicircum}``, ``{\\textasciitilde}``. BibTeX counts every brace (a backslash does
  not escape one), so a literal brace of the text may never be written as a brace: as a
  command it cannot unbalance the field, and a title ending in a backslash cannot eat
  the closing brace.
* Non-ASCII characters are written as LaTeX commands by :mod:`latexcodec` (``é`` ->
  ``{\\'e}``), each in its own braces, BibTeX's form for a "special character" (kept whole
  when BibTeX changes case or sorts). A character latexcodec cannot spell (e.g. CJK) is
  kept as UTF-8, which biber, bibtexu and every Python parser read.
* TeX's ligatures of ASCII characters (``--``, ``---``, two backquotes, two quotes, ``!```,
  ``?```, ``<<``, ``>>``) are broken with ``{}``, so "a--b" prints as typed and not as an
  en dash. (A ``pages`` range is the exception: :func:`escape_pages` writes its separator
  as ``--``, BibTeX's range dash.)
* Whitespace runs become one space (BibTeX does the same when it reads the entry).

Verbatim fields (``url``, ``doi``, ``eprint``) are not LaTeX: biblatex and the url
package read them as they are, so only the three characters that break the entry itself
(``{ } \\``) are percent-encoded.

Examples
--------
>>> escape_text("A & B_1, 50% of {x}")
'A \\\\& B\\\\_1, 50\\\\% of {\\\\textbraceleft}x{\\\\textbraceright}'
>>> escape_text("Stéphane")
"St{\\\\'e}phane"
>>> escape_name("Smith and Wesson")
'{Smith and Wesson}'
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache


__all__ = ["escape_text", "escape_name", "escape_verbatim", "escape_pages"]

# LaTeX specials in text mode. The braced command forms contain only balanced braces of our
# own, and the braces end the command name, so "{\textbackslash}x" never reads as "\textbackslashx".
_SPECIALS = {
    "\\": "{\\textbackslash}",
    "{": "{\\textbraceleft}",
    "}": "{\\textbraceright}",
    "^": "{\\textasciicircum}",
    "~": "{\\textasciitilde}",
    "&": "\\&",
    "%": "\\%",
    "#": "\\#",
    "_": "\\_",
    "$": "\\$",
}

_WHITESPACE = re.compile(r"\s+")
# (first, second) pairs that TeX's text fonts join into one glyph
_LIGATURES = {("-", "-"), ("`", "`"), ("'", "'"), ("!", "`"), ("?", "`"), ("<", "<"), (">", ">"), (",", ",")}
_DASHES = re.compile(r"\s*(?:-+|\u2013|\u2014)\s*")
# " and " separates names in an author field (any case, any whitespace around it)
_NAME_SEPARATOR = re.compile(r"\sand\s", re.IGNORECASE)


@lru_cache(maxsize=None)
def _non_ascii(ch: str) -> str:
    # imported on first use (importing registers the "latex" codec): ~0.1 s that
    # `import theorycheck` and ASCII-only entries need not pay
    import latexcodec  # noqa: F401

    try:
        spelled = codecs.encode(ch, "latex").decode("ascii")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return ch  # no LaTeX spelling known: UTF-8, read by every modern BibTeX tool
    if not spelled or any(c in "{}" for c in spelled) and not _balanced(spelled):
        return ch
    return "{" + spelled + "}"


def _balanced(value: str) -> bool:
    depth = 0
    for ch in value:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0


def escape_text(text: str) -> str:
    """LaTeX for the plain ``text``, safe as (part of) a braced BibTeX field value.

    The result has balanced braces whatever ``text`` holds, and does not end in a backslash.
    """
    text = _WHITESPACE.sub(" ", str(text)).strip()
    out = []
    for i, ch in enumerate(text):
        if i and (text[i - 1], ch) in _LIGATURES:
            out.append("{}")
        if ch in _SPECIALS:
            out.append(_SPECIALS[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(_non_ascii(ch))
    return "".join(out)


def escape_name(name: str) -> str:
    """One author name for an ``author`` field whose names are joined by ``" and "``.

    A name holding the word "and" or a comma would be split, or read as "Last, First",
    by BibTeX; it is written as one braced unit (BibTeX's form for a corporate author).
    """
    plain = _WHITESPACE.sub(" ", str(name)).strip()
    escaped = escape_text(plain)
    if "," in plain or _NAME_SEPARATOR.search(plain) or plain.lower() in ("and", "others"):
        return "{" + escaped + "}"
    return escaped


def escape_pages(value: str) -> str:
    """A ``pages`` value: each page escaped, range separators (``-``, ``--``, en dash) as ``--``."""
    return "--".join(escape_text(part) for part in _DASHES.split(_WHITESPACE.sub(" ", str(value)).strip()))


def escape_verbatim(value: str) -> str:
    """A verbatim field (url, doi, eprint): only ``{ } \\`` percent-encoded, whitespace removed."""
    value = _WHITESPACE.sub("", str(value))
    return value.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")
