"""The store contract, the same for every backend: replace semantics, counts, drop, bound queries,
the union default graph, and literals that would break a formatted query (injection)."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from store_helpers import (
    EX,
    NASTY,
    graphdb_config,
    nasty_graph,
    note_graph,
    quads,
    sparql_config,
    store_quads,
)

from kgqa.stores import StoreConfig, open_store

BACKENDS = [
    pytest.param("embedded-memory", id="embedded-memory"),
    pytest.param("embedded-disk", id="embedded-disk"),
    pytest.param("oxigraph-gsp", id="oxigraph-gsp", marks=pytest.mark.integration),
    pytest.param("oxigraph-update", id="oxigraph-update", marks=pytest.mark.integration),
    pytest.param("graphdb", id="graphdb-fake"),
]


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    kind = request.param
    if kind == "embedded-memory":
        cfg = StoreConfig(kind="embedded", batch_size=3)
    elif kind == "embedded-disk":
        cfg = StoreConfig(kind="embedded", path=str(tmp_path / "store"), batch_size=3)
    elif kind.startswith("oxigraph"):
        server = request.getfixturevalue("oxigraph")
        cfg = sparql_config(server.base, gsp=kind == "oxigraph-gsp")
    else:
        cfg = graphdb_config(request.getfixturevalue("fake_graphdb").url)
    with open_store(cfg) as s:
        yield s


def test_replace_semantics_load_then_replace(store):
    v1 = [note_graph(f"n{i}", 1) for i in range(5)]
    first = store.replace_graphs(v1)
    assert first.ok and sorted(first.loaded) == sorted(str(g.identifier) for g in v1) and not first.replaced
    assert store_quads(store) == quads(v1)

    # Re-running notes 0-2 with new content replaces exactly their graphs: nothing piles up, nothing is lost.
    v2 = [note_graph(f"n{i}", 2, n=3) for i in range(3)]
    second = store.replace_graphs(v2)
    assert (
        second.ok and sorted(second.replaced) == sorted(str(g.identifier) for g in v2) and not second.loaded
    )
    assert store_quads(store) == quads(v2 + v1[3:])
    assert second.verified == {str(g.identifier): len(g) for g in v2}
    assert second.triples == sum(len(g) for g in v2)

    # Same content again: idempotent.
    store.replace_graphs(v2)
    assert store_quads(store) == quads(v2 + v1[3:])


def test_count_graphs_and_drop(store):
    graphs = [note_graph("a", 1), note_graph("b", 3)]
    store.replace_graphs(graphs)
    a, b = (str(g.identifier) for g in graphs)
    assert store.count(a) == len(graphs[0]) and store.count(b) == len(graphs[1])
    assert store.count() == len(graphs[0]) + len(graphs[1])
    assert store.graphs() == sorted([a, b])
    store.drop_graph(a)
    store.drop_graph(a)  # dropping what is gone is not an error
    assert store.count(a) == 0 and store.graphs() == [b]
    store.drop_all()
    assert store.count() == 0


def test_queries_see_the_union_of_named_graphs(store):
    store.replace_graphs([note_graph("a", 1), note_graph("b", 1)])
    result = store.query(f"SELECT (COUNT(DISTINCT ?case) AS ?n) WHERE {{ ?case <{EX.hasFact}> ?f }}")
    assert result.python() == [{"n": 2}]


def test_query_forms_and_bound_parameters(store):
    store.replace_graphs([note_graph("a", 1), note_graph("b", 2)])
    select = store.query(
        "SELECT ?fact ?v WHERE { ?case ?has ?fact . ?fact ?value ?v FILTER(?v >= ?min) } ORDER BY ?v",
        {"case": EX["case/b"], "has": EX.hasFact, "value": EX.value, "min": Literal(40)},
    )
    assert select.columns == ("fact", "v")
    assert [row["v"] for row in select.python()] == [42, 52, 62]
    assert store.query("ASK { ?c ?p ?v }", {"v": Literal(62)}).boolean is True
    assert store.query("ASK { ?c ?p ?v }", {"v": Literal(63)}).boolean is False
    construct = store.query("CONSTRUCT { ?case ?p ?o } WHERE { ?case ?p ?o }", {"case": EX["case/a"]})
    assert construct.kind == "graph" and len(construct.graph) == 7  # 6 facts + version
    assert set(construct.graph.subjects()) == {EX["case/a"]}


def test_injection_literals_round_trip_and_bind_exactly(store):
    graph = nasty_graph()
    for path in ("new graph", "replaced graph"):  # backends may write the two differently
        report = store.replace_graphs([graph])
        assert report.ok, (path, report.failed)
        assert store_quads(store) == quads([graph]), path
    for i, text in enumerate(NASTY):
        rows = store.query("SELECT ?s WHERE { ?s ?p ?text }", {"text": Literal(text)}).rows
        assert rows == ((EX[f"s{i}"],),), f"literal {text!r}"
    tagged = store.query("SELECT ?s WHERE { ?s ?p ?t }", {"t": Literal(NASTY[5], lang="en-GB")}).rows
    assert tagged == ((EX.s0,),)
    # The store still holds exactly what was loaded: no bound value ran as SPARQL.
    assert store_quads(store) == quads([graph])


@pytest.mark.parametrize(
    "bad_iri",
    [
        "https://x/a> <https://x/b",
        "https://x/a\n",
        "https://x/a}",
        "https://x/a b",
        'https://x/"q',
        "https://x/a\\u003E",
    ],
)
def test_iris_that_could_break_out_are_refused(store, bad_iri):
    good = note_graph("ok", 1)
    bad = note_graph("bad", 1)
    bad.add((URIRef(bad_iri), EX.p, Literal("x")))
    report = store.replace_graphs([good, bad])
    assert str(bad.identifier) in report.failed and "not a valid IRI" in report.failed[str(bad.identifier)]
    assert report.loaded == (str(good.identifier),)
    assert store_quads(store) == quads([good])
    with pytest.raises(Exception, match="not a valid IRI"):
        store.query("SELECT * WHERE { ?s ?p ?o }", {"s": URIRef(bad_iri)})


def test_health(store):
    health = store.health()
    assert health.ok and health.kind == store.kind
