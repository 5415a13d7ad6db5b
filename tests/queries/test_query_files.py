"""Every queries/*.rq: documented header, valid SPARQL, declared columns = returned columns;
the header parser, parameter binding and output formats."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rdflib import Literal, URIRef
from rdflib.plugins.sparql import prepareQuery

from kgqa.errors import QueryError
from kgqa.queries import format_result, list_queries, load_query, run_query
from kgqa.stores.base import QueryResult

QUERIES = list_queries()

# Plain IRIs, not rdflib's XSD namespace object: pytest probes module attributes and XSD warns.
XSD_DECIMAL = URIRef("http://www.w3.org/2001/XMLSchema#decimal")
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")


def required_params(cases) -> dict[str, dict]:
    return {
        "fact_evidence": {"fact": str(cases.fact_iri("note-a", "nihss_score"))},
        "facts_of_concept": {"concept": "nihss_score"},
        "notes_of_case": {"case": str(cases.case("patient-a"))},
    }


def test_there_are_at_least_twelve_documented_queries():
    assert len(QUERIES) >= 12
    assert "facts_per_concept" in QUERIES  # printed by `kgqa run`


@pytest.mark.parametrize("name", QUERIES)
def test_header_documents_purpose_and_columns(name):
    query = load_query(name)
    assert len(query.purpose) > 30
    assert query.columns and all(desc for _, desc in query.columns)
    for p in query.parameters:
        assert p.description and (p.required or p.default is not None or "optional" in query.text)


@pytest.mark.parametrize("name", QUERIES)
def test_query_is_standard_sparql_for_a_second_parser(name):
    prepareQuery(load_query(name).text)  # rdflib's parser, independent of Oxigraph's


@pytest.mark.parametrize("name", QUERIES)
def test_query_returns_its_declared_columns_on_fixture_data(name, cases, fact_store):
    query = load_query(name)
    result = run_query(fact_store, query, required_params(cases).get(name, {}))
    assert result.kind == "select"
    assert result.columns == query.column_names
    assert len(result.rows) > 0, f"{name} returned nothing on the fixture data"


HEADER_ERRORS = [
    ("SELECT * WHERE { ?s ?p ?o }", "no 'Purpose:'"),
    (
        "# Purpose: x\n# Parameters:\n#   limit: missing type\nSELECT * WHERE { ?s ?p ?limit }",
        "parameter line",
    ),
    (
        "# Purpose: x\n# Parameters:\n#   n (number, default 1): x\nSELECT * WHERE { ?s ?p ?n }",
        "unknown type 'number'",
    ),
    (
        "# Purpose: x\n# Parameters:\n#   n (integer, default 1): x\nSELECT * WHERE { ?s ?p ?o }",
        r"never uses \?n",
    ),
    ("# Purpose: x\n# Columns:\n#   no description\nSELECT * WHERE { ?s ?p ?o }", "column line"),
]


@pytest.mark.parametrize("text,message", HEADER_ERRORS)
def test_malformed_headers_are_refused_with_file_and_line(tmp_path, text, message):
    (tmp_path / "broken.rq").write_text(text, encoding="utf-8")
    with pytest.raises(QueryError, match=message) as err:
        load_query("broken", tmp_path)
    assert "broken.rq" in str(err.value)


def test_unknown_query_lists_the_known_ones():
    with pytest.raises(QueryError, match="unknown query 'nope'.*facts_per_concept"):
        load_query("nope")
    with pytest.raises(QueryError, match="not a query name"):
        load_query("../etc/passwd")


@pytest.mark.parametrize(
    "name,given,expected",
    [
        ("door_to_needle_share", {}, {"max_minutes": Literal("60", datatype=XSD_INTEGER)}),
        ("door_to_needle_share", {"max_minutes": "45"}, {"max_minutes": Literal("45", datatype=XSD_INTEGER)}),
        (
            "low_confidence_facts",
            {"max_confidence": "0.75"},
            {"max_confidence": Literal("0.75", datatype=XSD_DECIMAL)},
        ),
        (
            "facts_of_concept",
            {"concept": 'nihss" } ; DROP ALL #'},
            {"concept": Literal('nihss" } ; DROP ALL #')},
        ),
        ("fact_evidence", {"fact": "<https://x.org/f/1>"}, {"fact": URIRef("https://x.org/f/1")}),
        ("cases_missing_variables", {}, {}),
    ],
)
def test_parameters_become_typed_rdf_terms(name, given, expected):
    assert load_query(name).bindings(given) == expected


@pytest.mark.parametrize(
    "name,given,message",
    [
        ("door_to_needle_share", {"max_minute": "5"}, "unknown parameter.*max_minute; valid: max_minutes"),
        ("door_to_needle_share", {"max_minutes": "an hour"}, "max_minutes='an hour' is not a valid integer"),
        ("fact_evidence", {}, "parameter 'fact' \\(iri\\) is required"),
        ("fact_evidence", {"fact": "https://x.org/a> <https://x.org/b"}, "not a valid iri"),
        ("fact_evidence", {"fact": "no-scheme"}, "not a valid iri"),
    ],
)
def test_bad_parameters_are_refused(name, given, message):
    with pytest.raises(QueryError, match=message):
        load_query(name).bindings(given)


def test_injection_through_a_string_parameter_finds_nothing_and_changes_nothing(fact_store):
    before = fact_store.count()
    result = run_query(
        fact_store, "facts_of_concept", {"concept": 'nihss_score" } } DROP ALL ; SELECT * { #'}
    )
    assert result.rows == () and fact_store.count() == before


def test_optional_parameter_narrows_the_result(cases, fact_store):
    everything = run_query(fact_store, "cases_missing_variables").python()
    only_sex = run_query(fact_store, "cases_missing_variables", {"concept": "sex"}).python()
    assert only_sex == [row for row in everything if row["concept"] == "sex"] and only_sex


RESULT = QueryResult(
    kind="select",
    columns=("case", "n", "label"),
    rows=(
        (URIRef("http://www.semanticweb.org/catimc/resqplus#Case1"), Literal(3), Literal('say "hi"\nthen')),
        (URIRef("https://x.org/c2"), Literal("0.5", datatype=XSD_DECIMAL), None),
    ),
)


def test_table_output_shortens_known_prefixes_and_aligns():
    text = format_result(RESULT, "table")
    lines = text.splitlines()
    assert lines[0].split() == ["case", "n", "label"]
    assert lines[2].startswith("resq:Case1") and '"hi"\\nthen' in lines[2]
    assert lines[-1] == "(2 rows)"
    assert len({line.index("n") for line in lines[:1]}) == 1


def test_csv_output_keeps_full_iris_and_round_trips():
    rows = list(csv.reader(io.StringIO(format_result(RESULT, "csv"))))
    assert rows == [
        ["case", "n", "label"],
        ["http://www.semanticweb.org/catimc/resqplus#Case1", "3", 'say "hi"\nthen'],
        ["https://x.org/c2", "0.5", ""],
    ]


def test_json_output_has_typed_values():
    assert json.loads(format_result(RESULT, "json")) == [
        {"case": "http://www.semanticweb.org/catimc/resqplus#Case1", "n": 3, "label": 'say "hi"\nthen'},
        {"case": "https://x.org/c2", "n": 0.5, "label": None},
    ]


def test_ask_and_unknown_format():
    assert format_result(QueryResult(kind="ask", boolean=True), "table") == "true"
    with pytest.raises(QueryError, match="unknown output format 'xml'"):
        format_result(RESULT, "xml")
