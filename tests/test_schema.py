"""The JSON Schema of results.json: shipped in the package, equal to docs/json-schema.md,
met by real documents, and used by `theorycheck report` (exit 2 with the JSON path)."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path

import pytest

import jsonschema

from theorycheck import InvalidArgumentError
from theorycheck.cli import EXIT_USAGE, main
from theorycheck.report.json_report import SCHEMA_VERSION, json_path, results_schema, validate_document

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "json-schema.md"
EXAMPLE = ROOT / "examples" / "user_claim.py"


def _validator():
    schema = results_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_schema_is_a_valid_draft_2020_12_schema_inside_the_package():
    text = resources.files("theorycheck.report").joinpath("results.schema.json").read_text("utf-8")
    schema = json.loads(text)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION


# --------------------------------------------------------------------------------------
# the documentation and the schema agree
# --------------------------------------------------------------------------------------

def _doc_table(heading: str) -> dict[str, str]:
    """{key: type words} of the Markdown table under ``heading`` in docs/json-schema.md."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(heading + "\n")
    rows = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("key", "---") or set(cells[0]) <= {"-"}:
            continue
        for key in re.findall(r"`([^`]+)`", cells[0]):
            rows[key] = cells[1]
    assert rows, heading
    return rows


def _doc_type(words: str) -> frozenset:
    """The doc's type words as a set of JSON Schema type names."""
    mapping = {"int": "integer", "string": "string", "float": "number", "number": "number", "object": "object",
               "list": "array", "list of strings": "array", "null": "null", "bool": "boolean"}
    return frozenset(mapping[w.strip()] for w in words.split(" or "))


def _schema_type(prop: dict, schema: dict) -> frozenset:
    """The JSON types a property admits (through $ref and anyOf)."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        if name == "number":  # the documented convention: "inf"/"-inf"/"nan" strings are numbers
            return frozenset({"number"})
        return _schema_type(schema["$defs"][name], schema)
    if "anyOf" in prop:
        return frozenset().union(*(_schema_type(p, schema) for p in prop["anyOf"]))
    if "const" in prop:
        return frozenset({"integer"} if isinstance(prop["const"], int) else {"string"})
    if "enum" in prop:
        return frozenset({"string"})
    t = prop["type"]
    return frozenset([t] if isinstance(t, str) else t)


@pytest.mark.parametrize("heading, where", [
    ("## Top level", ()),
    ("## A claim", ("$defs", "claim")),
    ("### `counterexample`", ("$defs", "counterexample")),
])
def test_doc_tables_and_schema_have_the_same_keys_and_types(heading, where):
    schema = results_schema()
    node = schema
    for part in where:
        node = node[part]
    documented = _doc_table(heading)
    assert set(documented) == set(node["properties"]), heading
    for key, words in documented.items():
        assert _doc_type(words) == _schema_type(node["properties"][key], schema), (heading, key, words)
    if words := documented.get("cite"):
        assert words == "list of strings" and node["properties"]["cite"]["items"] == {"type": "string"}


def test_doc_required_keys_are_the_schema_required_keys():
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    sentence = re.search(r"Required for reading back: (.*?)\. ", text).group(1)
    top, _, claim = sentence.partition(", and in each claim ")
    schema = results_schema()
    assert re.findall(r"`(\w+)`", top) == schema["required"]
    assert re.findall(r"`(\w+)`", claim) == schema["$defs"]["claim"]["required"]


def test_doc_example_meets_the_schema():
    text = DOC.read_text(encoding="utf-8")
    example = json.loads(re.search(r"## Example\s+```json\n(.*?)```", text, re.S).group(1))
    _validator().validate(example)
    assert validate_document(example) is example


# --------------------------------------------------------------------------------------
# real documents
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_check_document(tmp_path_factory):
    """`theorycheck check --ablate --json` on the example file: a HOLDS and a REFUTED claim with ablations."""
    path = tmp_path_factory.mktemp("schema") / "check.json"
    code = main(["check", str(EXAMPLE), "--examples", "20", "--ablate", "--json", str(path)])
    assert code in (0, 1, 3)
    return json.loads(path.read_text(encoding="utf-8"))


def test_real_check_document_meets_the_schema(real_check_document, capsys):
    doc = real_check_document
    _validator().validate(doc)
    verdicts = {c["verdict"] for c in doc["claims"]}
    assert "REFUTED" in verdicts  # so the counterexample part of the schema was exercised
    assert any(c["ablations"] for c in doc["claims"])


def test_real_verify_all_document_meets_the_schema(tmp_path, capsys, monkeypatch):
    # `verify all` over two real families (supcon, ce: identity, inequality, optimum,
    # characterization and statistical claims) with a tiny budget; all six take minutes here
    from theorycheck.claims import load_all
    from theorycheck.engine import families

    load_all()
    monkeypatch.setattr(families, "_FAMILIES", {k: families._FAMILIES[k] for k in ("supcon", "ce")})
    monkeypatch.setattr("theorycheck.cli._load_shipped", lambda: None)
    path = tmp_path / "all.json"
    code = main(["verify", "all", "--examples", "2", "--budget", "0.2", "--out", str(tmp_path / "out"),
                 "--json", str(path)])
    assert code in (0, 1, 3)
    doc = json.loads(path.read_text(encoding="utf-8"))
    _validator().validate(doc)
    assert doc["family"] == "all" and {c["family"] for c in doc["claims"]} == {"supcon", "ce"}
    assert {"optimum", "characterization", "identity"} <= {c["kind"] for c in doc["claims"]}
    _validator().validate(json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8")))


# --------------------------------------------------------------------------------------
# malformed documents: exit 2 with the JSON path
# --------------------------------------------------------------------------------------

def _break(doc, path, value):
    node = doc
    for part in path[:-1]:
        node = node[part]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def _refuted_index(doc):
    return next(i for i, c in enumerate(doc["claims"]) if c["counterexample"] is not None)


@pytest.mark.parametrize("path, value, where, wants", [
    (("claims", 0, "evidence"), [1, 2], "claims[0].evidence", "an object"),
    (("claims", "R", "counterexample", "lhs"), "abc", "claims[R].counterexample.lhs", "a number"),
    (("claims", "R", "counterexample", "inputs"), KeyError, "claims[R].counterexample", "inputs"),
    (("claims", "R", "counterexample"), [1], "claims[R].counterexample", "null or an object"),
    (("claims", 0, "ablations", 0, "verdict"), "maybe", "claims[0].ablations[0].verdict", "one of HOLDS"),
    (("claims", 0, "cite"), "graf2021", "claims[0].cite", "a list"),
    (("budget", "seconds"), "five", "budget.seconds", "null"),
    (("references",), {"k": 3}, "references.k", "an object"),
    (("seed",), -1, "seed", ">= 0"),
])
def test_malformed_documents_are_exit_2_with_the_json_path(real_check_document, tmp_path, capsys,
                                                           path, value, where, wants):
    doc = copy.deepcopy(real_check_document)
    r = _refuted_index(doc)
    path = tuple(r if p == "R" else p for p in path)
    where = where.replace("[R]", f"[{r}]")
    _break(doc, path, value)
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(doc)
    with pytest.raises(InvalidArgumentError, match=re.escape(f"`{where}` of `theorycheck report`")):
        validate_document(doc)

    file = tmp_path / "bad.json"
    file.write_text(json.dumps(doc), encoding="utf-8")
    capsys.readouterr()
    for fmt in ("md", "html"):
        assert main(["report", str(file), "--format", fmt]) == EXIT_USAGE
        captured = capsys.readouterr()
        assert captured.out == ""
        err = captured.err.strip()
        assert err.startswith("theorycheck: error:") and len(err.splitlines()) == 1
        assert f"`{where}`" in err and wants in err and "bad.json" in err and "Traceback" not in err


def test_the_unbroken_document_renders(real_check_document, tmp_path, capsys):
    file = tmp_path / "good.json"
    file.write_text(json.dumps(real_check_document), encoding="utf-8")
    assert main(["report", str(file)]) == 0
    assert "REFUTED" in capsys.readouterr().out


def test_json_path_format():
    assert json_path(["claims", 3, "ablations", 0, "evidence"]) == "claims[3].ablations[0].evidence"
    assert json_path([]) == "(document)"


def test_docstring_examples_run():
    import doctest

    import theorycheck.report.json_report as module

    result = doctest.testmod(module)
    assert result.attempted >= 4 and result.failed == 0
