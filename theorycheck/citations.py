"""References for the claims theorycheck checks: full reference text and BibTeX.

Every claim cites its source by key (``cite=("graf2021",)``). The keys of the
docs/theory.md table resolve here to a :class:`Reference`; a user who checks a claim from
their own paper passes a :class:`Reference` object instead of a key, and the reports
print it exactly like a shipped one.

Examples
--------
>>> from theorycheck.citations import get, bibtex
>>> get("graf2021").short
'Graf et al. (2021)'
>>> bibtex(["wang2020"]).startswith("@inproceedings{wang2020,")
True
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Union

from ._bibtex import escape_name, escape_pages, escape_text, escape_verbatim
from ._validation import fail, fail_type

__all__ = ["Reference", "REFERENCES", "get", "resolve", "bibtex", "keys_of"]


_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:.+/-]*")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
#: Fields read verbatim by biblatex and the url package (not LaTeX): only the characters
#: that would break the entry are encoded in them.
_VERBATIM_FIELDS = ("url", "doi", "eprint")


@dataclass(frozen=True)
class Reference:
    """A citable source.

    Parameters
    ----------
    key : str
        Citation key, used in claims' ``cite`` and as the BibTeX key (``graf2021``).
    authors : tuple of str
        Authors as "First Last" (or "F. Last"), in the order of the paper.
    title : str
        Title of the work.
    venue : str
        Where it appeared, spelled out ("International Conference on Machine Learning (ICML)").
    year : int
        Year of publication.
    entry_type : str
        BibTeX entry type: ``"inproceedings"``, ``"article"`` or ``"misc"``.
    details : str
        Volume/pages as printed after the venue in the reference text ("PMLR 139:3821-3830").
    arxiv : str
        arXiv identifier without prefix ("2102.08817"), or "".
    doi : str
        DOI, or "".
    url : str
        A stable URL, or "".
    bibtex_fields : tuple of (str, str)
        Extra BibTeX fields (``(("volume", "139"), ("pages", "3821--3830"))``).
    """

    key: str
    authors: tuple[str, ...]
    title: str
    venue: str
    year: int
    entry_type: str = "inproceedings"
    details: str = ""
    arxiv: str = ""
    doi: str = ""
    url: str = ""
    bibtex_fields: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        caller = "Reference"
        # the characters every BibTeX reader accepts in a key (bibtex, biber, bibtexparser, pybtex)
        if not isinstance(self.key, str) or not _KEY.fullmatch(self.key):
            raise fail("key", caller, "a citation key of letters, digits and _ : . + / - (starting with a "
                       "letter or digit)", self.key)
        if isinstance(self.authors, (str, bytes)) or not self.authors or not all(
                isinstance(a, str) and a.strip() for a in self.authors):
            raise fail_type("authors", caller, "a tuple of author names", self.authors)
        object.__setattr__(self, "authors", tuple(self.authors))
        if not isinstance(self.title, str) or not self.title.strip():
            raise fail("title", caller, "a non-empty string", self.title)
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise fail_type("year", caller, "an integer year", self.year)
        if self.entry_type not in ("inproceedings", "article", "misc", "book", "techreport"):
            raise fail("entry_type", caller,
                       "one of 'inproceedings', 'article', 'misc', 'book', 'techreport'", self.entry_type)
        if not isinstance(self.venue, str):
            raise fail_type("venue", caller, "a string", self.venue)
        fields = tuple((str(k), str(v)) for k, v in self.bibtex_fields)
        for name, _ in fields:
            if not _FIELD_NAME.fullmatch(name):
                raise fail("bibtex_fields", caller, "(name, value) pairs with BibTeX field names "
                           "(letters, digits, _ and -)", name)
        object.__setattr__(self, "bibtex_fields", fields)

    @property
    def short(self) -> str:
        """In-text form: "Graf et al. (2021)"."""
        last = self.authors[0].split()[-1] if self.authors else self.key
        if len(self.authors) == 2:
            return f"{last} and {self.authors[1].split()[-1]} ({self.year})"
        return f"{last}{' et al.' if len(self.authors) > 2 else ''} ({self.year})"

    @property
    def text(self) -> str:
        """The full reference as printed in a bibliography."""
        authors = ", ".join(self.authors[:-1]) + (" and " if len(self.authors) > 1 else "") + self.authors[-1]
        parts = [f"{authors}. {self.title}. {self.venue}"]
        if self.details:
            parts[-1] += f", {self.details}"
        parts[-1] += f", {self.year}."
        if self.arxiv:
            parts.append(f"arXiv:{self.arxiv}.")
        if self.doi:
            parts.append(f"doi:{self.doi}.")
        return " ".join(parts)

    def bibtex(self) -> str:
        """The BibTeX entry, keyed by :attr:`key`.

        Every field is plain text written through the escaping layer
        (:mod:`theorycheck._bibtex`): LaTeX specials and non-ASCII characters become
        commands, literal braces become ``\\textbraceleft``/``\\textbraceright`` so the
        entry parses whatever the text holds, and ``url``/``doi``/``eprint`` stay verbatim.
        """
        venue_field = "journal" if self.entry_type == "article" else (
            "booktitle" if self.entry_type == "inproceedings" else "howpublished")
        fields: list[tuple[str, str]] = [
            ("author", " and ".join(escape_name(name) for name in self.authors)),
            # double braces keep the title's capitalisation in every bibliography style
            ("title", "{" + escape_text(self.title) + "}"),
        ]
        if self.venue:
            fields.append((venue_field, escape_text(self.venue)))
        fields.append(("year", str(self.year)))
        for name, value in self.bibtex_fields:
            escape = (escape_verbatim if name.lower() in _VERBATIM_FIELDS else
                      escape_pages if name.lower() == "pages" else escape_text)
            fields.append((name, escape(value)))
        if self.arxiv:
            fields.extend([("eprint", escape_verbatim(self.arxiv)), ("archivePrefix", "arXiv")])
        if self.doi:
            fields.append(("doi", escape_verbatim(self.doi)))
        if self.url:
            fields.append(("url", escape_verbatim(self.url)))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        return f"@{self.entry_type}{{{self.key},\n{body}\n}}"

    def to_dict(self) -> dict:
        """Plain-JSON form (used by the JSON report so that re-rendering needs no registry)."""
        return {"key": self.key, "short": self.short, "text": self.text, "bibtex": self.bibtex()}


_PMLR = "Proceedings of the {n} International Conference on Machine Learning (ICML)"

REFERENCES: Mapping[str, Reference] = types.MappingProxyType({
    ref.key: ref
    for ref in (
        Reference(
            key="graf2021",
            authors=("Florian Graf", "Christoph Hofer", "Marc Niethammer", "Roland Kwitt"),
            title="Dissecting Supervised Contrastive Learning",
            venue=_PMLR.format(n="38th"),
            year=2021,
            details="PMLR 139:3821-3830",
            arxiv="2102.08817",
            bibtex_fields=(("series", "Proceedings of Machine Learning Research"),
                           ("volume", "139"), ("pages", "3821--3830")),
        ),
        Reference(
            key="behnia2024",
            authors=("Tina Behnia", "Christos Thrampoulidis"),
            title="Supervised Contrastive Representation Learning: Landscape Analysis with Unconstrained Features",
            venue="IEEE International Symposium on Information Theory (ISIT)",
            year=2024,
            arxiv="2402.18884",
        ),
        Reference(
            key="huang2023",
            authors=("Weiran Huang", "Mingyang Yi", "Xuyang Zhao", "Zihao Jiang"),
            title="Towards the Generalization of Contrastive Self-Supervised Learning",
            venue="International Conference on Learning Representations (ICLR)",
            year=2023,
            arxiv="2111.00743",
        ),
        Reference(
            key="garrido2023",
            authors=("Quentin Garrido", "Yubei Chen", "Adrien Bardes", "Laurent Najman", "Yann LeCun"),
            title="On the Duality Between Contrastive and Non-Contrastive Self-Supervised Learning",
            venue="International Conference on Learning Representations (ICLR)",
            year=2023,
            arxiv="2206.02574",
        ),
        Reference(
            key="papyan2020",
            authors=("Vardan Papyan", "X. Y. Han", "David L. Donoho"),
            title="Prevalence of Neural Collapse during the Terminal Phase of Deep Learning Training",
            venue="Proceedings of the National Academy of Sciences (PNAS)",
            year=2020,
            entry_type="article",
            details="117(40):24652-24663",
            arxiv="2008.08186",
            doi="10.1073/pnas.2015509117",
            bibtex_fields=(("volume", "117"), ("number", "40"), ("pages", "24652--24663")),
        ),
        Reference(
            key="zhu2021",
            authors=("Zhihui Zhu", "Tianyu Ding", "Jinxin Zhou", "Xiao Li", "Chong You",
                     "Jeremias Sulam", "Qing Qu"),
            title="A Geometric Analysis of Neural Collapse with Unconstrained Features",
            venue="Advances in Neural Information Processing Systems (NeurIPS)",
            year=2021,
            details="volume 34",
            arxiv="2105.02375",
            bibtex_fields=(("volume", "34"),),
        ),
        Reference(
            key="khosla2020",
            authors=("Prannay Khosla", "Piotr Teterwak", "Chen Wang", "Aaron Sarna", "Yonglong Tian",
                     "Phillip Isola", "Aaron Maschinot", "Ce Liu", "Dilip Krishnan"),
            title="Supervised Contrastive Learning",
            venue="Advances in Neural Information Processing Systems (NeurIPS)",
            year=2020,
            details="volume 33",
            arxiv="2004.11362",
            bibtex_fields=(("volume", "33"),),
        ),
        Reference(
            key="wang2020",
            authors=("Tongzhou Wang", "Phillip Isola"),
            title="Understanding Contrastive Representation Learning through Alignment and Uniformity "
                  "on the Hypersphere",
            venue=_PMLR.format(n="37th"),
            year=2020,
            details="PMLR 119:9929-9939",
            arxiv="2005.10242",
            bibtex_fields=(("series", "Proceedings of Machine Learning Research"),
                           ("volume", "119"), ("pages", "9929--9939")),
        ),
        Reference(
            key="zbontar2021",
            authors=("Jure Zbontar", "Li Jing", "Ishan Misra", "Yann LeCun", "Stéphane Deny"),
            title="Barlow Twins: Self-Supervised Learning via Redundancy Reduction",
            venue=_PMLR.format(n="38th"),
            year=2021,
            details="PMLR 139:12310-12320",
            arxiv="2103.03230",
            bibtex_fields=(("series", "Proceedings of Machine Learning Research"),
                           ("volume", "139"), ("pages", "12310--12320")),
        ),
        Reference(
            key="bardes2022",
            authors=("Adrien Bardes", "Jean Ponce", "Yann LeCun"),
            title="VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised Learning",
            venue="International Conference on Learning Representations (ICLR)",
            year=2022,
            arxiv="2105.04906",
        ),
    )
})


CiteLike = Union[str, Reference]


def get(key: str) -> Reference:
    """The shipped :class:`Reference` for ``key``.

    Raises
    ------
    InvalidArgumentError
        For an unknown key; the message lists the closest known keys.
    """
    if isinstance(key, Reference):
        return key
    if not isinstance(key, str):
        raise fail_type("key", "theorycheck.citations.get", "a citation key (str) or a Reference", key)
    try:
        return REFERENCES[key]
    except KeyError:
        close = difflib.get_close_matches(key, list(REFERENCES), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        known = ", ".join(sorted(REFERENCES))
        raise fail("key", "theorycheck.citations.get",
                   f"a known citation key{hint} or a Reference object; known keys: {known}", key) from None


def resolve(cite: CiteLike | Iterable[CiteLike] | None) -> list[Reference]:
    """Turn a claim's ``cite`` (a key, a Reference, or a sequence of them) into References.

    Order is kept and duplicates are removed.
    """
    if cite is None:
        return []
    items = [cite] if isinstance(cite, (str, Reference)) else list(cite)
    out: list[Reference] = []
    for item in items:
        ref = get(item)
        if ref not in out:
            out.append(ref)
    return out


def keys_of(cite: CiteLike | Iterable[CiteLike] | None) -> list[str]:
    """Citation keys of a claim's ``cite`` (for JSON)."""
    return [ref.key for ref in resolve(cite)]


def bibtex(keys: CiteLike | Iterable[CiteLike] | None = None) -> str:
    """BibTeX for the given keys/References (all shipped references when ``keys`` is None).

    Entries are separated by a blank line, in the order given.
    """
    refs = list(REFERENCES.values()) if keys is None else resolve(keys)
    return "\n\n".join(ref.bibtex() for ref in refs) + ("\n" if refs else "")
