"""`kgqa store …` and `kgqa query …` end to end on an on-disk embedded store (Hydra overrides pick it)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rdflib import Dataset

from kgqa.commands import query as query_cmd
from kgqa.commands import store as store_cmd


@pytest.fixture
def loaded(cases, tmp_path, capsys):
    dataset = Dataset()
    for graph in cases.graphs:
        target = dataset.graph(graph.identifier)
        for triple in graph:
            target.add(triple)
    trig = tmp_path / "run" / "graphs.trig"
    trig.parent.mkdir()
    dataset.serialize(trig, format="trig")
    overrides = ["store=embedded", f"store.path={tmp_path / 'kg'}"]
    assert store_cmd.main(["load", str(trig.parent), *overrides]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["loaded"] == len(cases.graphs) and report["failed"] == {}
    return overrides


def test_store_commands(cases, loaded, capsys):
    assert store_cmd.main(["count", *loaded]) == 0
    assert int(capsys.readouterr().out) == sum(len(g) for g in cases.graphs)
    assert store_cmd.main(["graphs", *loaded]) == 0
    assert capsys.readouterr().out.split() == sorted(str(g.identifier) for g in cases.graphs)
    run_graph = str(cases.graphs[-1].identifier)
    assert store_cmd.main(["drop", run_graph, *loaded]) == 0
    capsys.readouterr()
    assert store_cmd.main(["count", "--graph", run_graph, *loaded]) == 0
    assert capsys.readouterr().out.strip() == "0"
    assert store_cmd.main(["drop", "--all", *loaded]) == 2  # needs --yes
    assert store_cmd.main(["drop", "--all", "--yes", *loaded]) == 0
    capsys.readouterr()
    assert store_cmd.main(["count", *loaded]) == 0 and capsys.readouterr().out.strip() == "0"
    assert store_cmd.main(["health", *loaded]) == 0 and "ok" in capsys.readouterr().out


def test_query_json_csv_and_table(loaded, capsys):
    assert query_cmd.main(["door_to_needle_share", "max_minutes=80", "--format", "json", *loaded]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["within_threshold"] == 2 and row["share_within"] == 1
    assert query_cmd.main(["treatment_rates", "-f", "csv", *loaded]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["cases"] == "3" and rows[0]["thrombolysis"] == "2"
    assert query_cmd.main(["facts_per_concept", *loaded]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["concept", "facts", "asserted"] and out[-1] == "(16 rows)"


@pytest.mark.parametrize(
    "argv,message",
    [
        (["no_such_query"], "unknown query 'no_such_query'"),
        (["fact_evidence"], "parameter 'fact' (iri) is required"),
        (["door_to_needle_share", "max_minutes=soon"], "not a valid integer"),
        (["facts_per_concept", "store=nosuchstore"], "store=nosuchstore"),
        (["facts_per_concept", "store.kind=fuseki"], "store.kind='fuseki' is not one of"),
        # a misspelt parameter, in every form Hydra would accept, never runs with the default
        (["door_to_needle_share", "maxminutes=30"],
         ("unknown parameter 'maxminutes' for query 'door_to_needle_share' (its parameters: max_minutes); "
          "did you mean max_minutes=30?")),
        (["door_to_needle_share", "+maxminutes=30"], "'+maxminutes=30': adding or deleting config keys (+key)"),
        (["door_to_needle_share", "++max_minutes=30"], "its parameters: max_minutes"),
        (["door_to_needle_share", "~store"], "adding or deleting config keys (~key)"),
        (["facts_per_concept", "limit=5"], "unknown parameter 'limit' for query 'facts_per_concept' (it has no parameters)"),
        (["facts_per_concept", "run_id=x"], "other key=value arguments must be store overrides"),
    ],
)
def test_query_usage_errors_exit_2_with_a_message(argv, message, capsys):
    assert query_cmd.main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""  # no result printed


def test_store_errors_exit_1_and_name_the_server(capsys):
    argv = [
        "facts_per_concept",
        "store=oxigraph",
        "store.query_url=http://127.0.0.1:9/query",
        "store.retries=0",
    ]
    assert query_cmd.main(argv) == 1
    assert "cannot reach the server" in capsys.readouterr().err


def test_list_and_describe(capsys):
    assert query_cmd.main(["--list"]) == 0
    assert "door_to_needle_share" in capsys.readouterr().out
    assert query_cmd.main(["door_to_needle_share", "--describe"]) == 0
    assert "max_minutes (integer, default 60)" in capsys.readouterr().out


def test_table_cells_round_fractions_and_csv_keeps_them():
    from rdflib import Literal, URIRef
    from rdflib.namespace import XSD

    from kgqa.queries import _cell

    rate = Literal("0.333333333333333333", datatype=XSD.decimal)
    assert _cell(rate, short=True) == "0.3333" and _cell(rate, short=False) == "0.333333333333333333"
    assert _cell(Literal("12", datatype=XSD.integer), short=True) == "12"
    assert _cell(Literal(2.5e-7, datatype=XSD.double), short=True) == "2.5e-07"
    assert _cell(URIRef("urn:x"), short=True) == "urn:x"
