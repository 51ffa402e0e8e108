"""Citations: every source of THEORY.md resolves to a full reference and valid BibTeX."""

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as hs

from theorycheck import InvalidArgumentError, citations
from theorycheck.citations import REFERENCES, Reference, bibtex, get, keys_of, resolve

# The THEORY.md table: key -> (first author's last name, a title fragment, year, arXiv id or "")
THEORY_TABLE = {
    "graf2021": ("Graf", "Dissecting Supervised Contrastive Learning", 2021, "2102.08817"),
    "behnia2024": ("Behnia", "Landscape Analysis with Unconstrained Features", 2024, "2402.18884"),
    "huang2023": ("Huang", "Towards the Generalization of Contrastive Self-Supervised Learning", 2023,
                  "2111.00743"),
    "garrido2023": ("Garrido", "Duality Between Contrastive and Non-Contrastive", 2023, "2206.02574"),
    "papyan2020": ("Papyan", "Neural Collapse", 2020, ""),
    "zhu2021": ("Zhu", "A Geometric Analysis of Neural Collapse with Unconstrained Features", 2021, "2105.02375"),
    "khosla2020": ("Khosla", "Supervised Contrastive Learning", 2020, "2004.11362"),
    "wang2020": ("Wang", "Alignment and Uniformity on the Hypersphere", 2020, ""),
    "zbontar2021": ("Zbontar", "Barlow Twins", 2021, ""),
    "bardes2022": ("Bardes", "VICReg", 2022, ""),
}


def _parse_bibtex(entry: str) -> tuple[str, str, dict]:
    """A minimal independent BibTeX parser: type, key and {field: value} with balanced braces."""
    head = re.match(r"@(\w+)\{([^,\s]+),\n", entry)
    assert head, entry
    body = entry[head.end():]
    assert body.rstrip().endswith("}")
    fields = {}
    pos = 0
    body = body.rstrip()[:-1]
    while pos < len(body):
        m = re.compile(r"\s*(\w+) = \{").match(body, pos)
        if not m:
            assert body[pos:].strip() in ("", ","), body[pos:]
            break
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(body[i], 0)
            i += 1
        fields[m.group(1)] = body[m.end():i - 1]
        pos = i + 1 if i < len(body) and body[i] == "," else i
    return head.group(1), head.group(2), fields


def test_every_theory_key_is_shipped():
    assert set(THEORY_TABLE) <= set(REFERENCES)


@pytest.mark.parametrize("key", sorted(THEORY_TABLE))
def test_reference_text_and_bibtex(key):
    last, title, year, arxiv = THEORY_TABLE[key]
    ref = get(key)
    assert ref.key == key
    assert ref.text.startswith(ref.authors[0]) and last in ref.authors[0]
    assert title.lower() in ref.text.lower() and str(year) in ref.text
    if arxiv:
        assert f"arXiv:{arxiv}" in ref.text
    entry_type, entry_key, fields = _parse_bibtex(ref.bibtex())
    assert entry_key == key and entry_type in ("inproceedings", "article")
    assert fields["year"] == str(year)
    assert title.lower() in fields["title"].lower()
    assert fields["author"].split(" and ")[0] == ref.authors[0]
    assert len(fields["author"].split(" and ")) == len(ref.authors)
    if arxiv:
        assert fields["eprint"] == arxiv
    assert ("journal" if entry_type == "article" else "booktitle") in fields


def test_graf2021_pages_and_volume_match_theory_md():
    fields = _parse_bibtex(get("graf2021").bibtex())[2]
    assert fields["pages"] == "3821--3830" and fields["volume"] == "139"
    assert "PMLR 139:3821-3830" in get("graf2021").text


def test_bibtex_of_several_keys_keeps_order_and_drops_duplicates():
    text = bibtex(["wang2020", "graf2021", "wang2020"])
    keys = re.findall(r"^@\w+\{([^,]+),", text, flags=re.M)
    assert keys == ["wang2020", "graf2021"]
    assert bibtex(None).count("\n@") == len(REFERENCES) - 1
    assert bibtex([]) == ""


def test_unknown_key_names_close_matches():
    with pytest.raises(InvalidArgumentError, match="graf2021") as info:
        get("graf2012")
    assert "`key` of `theorycheck.citations.get`" in str(info.value)
    with pytest.raises(TypeError):
        get(2021)


def test_user_reference_is_accepted_wherever_a_key_is():
    mine = Reference(key="me2025", authors=("Ada Lovelace",), title="My Theorem", venue="Notes",
                     year=2025, entry_type="misc")
    assert resolve(("graf2021", mine)) == [get("graf2021"), mine]
    assert keys_of(mine) == ["me2025"]
    assert resolve("wang2020") == [get("wang2020")]
    assert resolve(None) == []
    assert bibtex([mine]).startswith("@misc{me2025,")
    assert mine.short == "Lovelace (2025)"
    assert get("papyan2020").short == "Papyan et al. (2020)"
    assert get("wang2020").short == "Wang and Isola (2020)"


def test_repr_rebuilds_the_reference():
    for ref in REFERENCES.values():
        assert eval(repr(ref), {"Reference": Reference}) == ref  # noqa: S307 - our own repr


def test_shipped_table_is_read_only():
    with pytest.raises(TypeError):
        citations.REFERENCES["x"] = get("graf2021")  # type: ignore[index]


@pytest.mark.parametrize("kwargs, param", [
    (dict(key="has space"), "key"),
    (dict(key=""), "key"),
    (dict(authors="Ada Lovelace"), "authors"),
    (dict(title=""), "title"),
    (dict(year="2025"), "year"),
    (dict(entry_type="blog"), "entry_type"),
])
def test_bad_reference_arguments(kwargs, param):
    base = dict(key="k2025", authors=("A B",), title="T", venue="V", year=2025)
    base.update(kwargs)
    with pytest.raises(InvalidArgumentError, match=f"`{param}` of `Reference`"):
        Reference(**base)


_names = hs.text(alphabet=hs.characters(min_codepoint=32, max_codepoint=0x17F, blacklist_characters="\\"),
                 min_size=1, max_size=20).filter(lambda s: s.strip() != "")


@given(authors=hs.lists(_names, min_size=1, max_size=4), title=_names, year=hs.integers(1900, 2100))
@example(authors=["}", "{"], title="0", year=1900)  # as many of each brace, closing first
@example(authors=["a}b", "{c}"], title="x{y", year=2000)
def test_bibtex_is_well_formed_for_any_names(authors, title, year):
    ref = Reference(key="anykey", authors=tuple(authors), title=title, venue="Venue", year=year)
    entry_type, key, fields = _parse_bibtex(ref.bibtex())
    assert (entry_type, key) == ("inproceedings", "anykey")
    assert fields["year"] == str(year)
    assert len(fields["author"].split(" and ")) >= 1
    text = ref.bibtex()
    assert text.count("{") == text.count("}")
