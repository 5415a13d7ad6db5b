"""The store contract on a real Virtuoso 7.2 (Debian's ``virtuoso-opensource``) through kgqa's SPARQL
endpoint store: note graphs replaced with SPARQL Update on ``/sparql`` (Virtuoso has no Graph Store
Protocol URL kgqa can use), replaced again without duplicates, a graph Virtuoso refuses kept as it
was, and ``drop --all`` that really empties the store — Virtuoso answers ``DROP ALL`` with 200 and
drops nothing, and shows graphs of its own that are not kgqa's (issue 24).

One server for the module (started in about two seconds, killed at teardown); every test starts
from a store emptied with ``drop_all``.
"""

from __future__ import annotations

import pytest
from rdflib import Literal
from store_helpers import EX, NASTY, nasty_graph, note_graph, quads

from kgqa.commands import store as store_cmd
from kgqa.errors import EXIT_OK
from kgqa.stores import StoreConfig, open_store
from kgqa.stores.endpoint import SERVER_GRAPHS
from kgqa.stores.testing import VirtuosoServer, virtuoso_binary

pytestmark = pytest.mark.integration

INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    if not virtuoso_binary():
        pytest.skip("virtuoso-t (Debian package virtuoso-opensource) is not installed")
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso")).start()
    yield server
    server.kill()


def virtuoso_config(server: VirtuosoServer, **kw) -> StoreConfig:
    return StoreConfig(kind="sparql", query_url=server.sparql_url, update_url=server.sparql_url,
                       graph_store_url="", batch_size=3, retries=0, timeout_s=20, **kw)  # fmt: skip


@pytest.fixture
def store(virtuoso):
    with open_store(virtuoso_config(virtuoso)) as s:
        s.drop_all()
        yield s


def kgqa_quads(store) -> set:
    """Every quad of the store outside Virtuoso's own graphs."""
    rows = store.query("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }").rows
    return {(str(g), s, p, o) for g, s, p, o in rows if str(g) not in SERVER_GRAPHS}


def test_replace_then_replace_again_leaves_exactly_the_new_content(store):
    v1 = [note_graph(f"n{i}", 1) for i in range(5)]
    first = store.replace_graphs(v1)
    assert first.ok and sorted(first.loaded) == sorted(str(g.identifier) for g in v1) and not first.replaced
    assert kgqa_quads(store) == quads(v1)

    v2 = [note_graph(f"n{i}", 2, n=3) for i in range(3)]
    for _ in range(2):  # the second time: the same content again, nothing piles up
        again = store.replace_graphs(v2)
        assert (
            again.ok and sorted(again.replaced) == sorted(str(g.identifier) for g in v2) and not again.loaded
        )
        assert again.verified == {str(g.identifier): len(g) for g in v2}
        assert kgqa_quads(store) == quads(v2 + v1[3:])
    assert store.count() == sum(len(g) for g in v2 + v1[3:])


def test_a_graph_virtuoso_refuses_keeps_its_old_content_and_fails_alone(store):
    old = [note_graph(f"n{i}", 1) for i in range(3)]
    assert store.replace_graphs(old).ok
    bad = note_graph("n1", 2)
    bad.add((EX.x, EX.p, Literal("abc", datatype=INTEGER)))  # Virtuoso: "Invalid integer value"
    new = [note_graph("n0", 2), bad, note_graph("n2", 2)]
    report = store.replace_graphs(new)
    assert list(report.failed) == [str(bad.identifier)] and "HTTP 400" in report.failed[str(bad.identifier)]
    assert sorted(report.replaced) == sorted(str(g.identifier) for g in (new[0], new[2]))
    # the refused update dropped nothing: the note keeps its old graph, whole
    assert kgqa_quads(store) == quads([new[0], old[1], new[2]])


def test_virtuosos_own_graphs_are_not_kgqas(store):
    assert store.graphs() == [] and store.count() == 0  # Virtuoso's own ~2,500 triples left out
    graphs = [note_graph("a", 1), note_graph("b", 3)]
    assert store.replace_graphs(graphs).ok
    assert store.graphs() == sorted(str(g.identifier) for g in graphs)
    assert store.count() == sum(len(g) for g in graphs)
    store.drop_all()
    assert store.graphs() == [] and store.count() == 0
    # drop_all left Virtuoso's RDF-view metadata alone: its SPARQL still works
    assert store.replace_graphs(graphs).ok and store.count() == sum(len(g) for g in graphs)


def test_drop_all_empties_the_store_and_the_command_says_so(store, virtuoso, capsys):
    assert store.replace_graphs([note_graph(f"n{i}", 1) for i in range(7)]).ok  # more than one batch
    args = ["store=oxigraph", f"store.query_url={virtuoso.sparql_url}", f"store.update_url={virtuoso.sparql_url}",
            "store.graph_store_url=", "store.retries=0"]  # fmt: skip
    assert store_cmd.main(["drop", "--all", "--yes", *args]) == EXIT_OK
    assert "dropped everything" in capsys.readouterr().out
    assert store.graphs() == [] and kgqa_quads(store) == set()
    assert store_cmd.main(["count", *args]) == EXIT_OK
    assert capsys.readouterr().out.strip() == "0"


def test_drop_graph(store):
    graphs = [note_graph("a", 1), note_graph("b", 1)]
    assert store.replace_graphs(graphs).ok
    a, b = (str(g.identifier) for g in graphs)
    store.drop_graph(a)
    store.drop_graph(a)  # dropping what is gone is not an error
    assert store.count(a) == 0 and store.graphs() == [b]


def test_literals_that_could_break_a_query_round_trip_and_bind_exactly(store):
    graph = nasty_graph()
    for path in ("new graph", "replaced graph"):
        report = store.replace_graphs([graph])
        assert report.ok, (path, report.failed)
        assert kgqa_quads(store) == quads([graph]), path
    for i, text in enumerate(NASTY):
        rows = store.query("SELECT ?s WHERE { ?s ?p ?text }", {"text": Literal(text)}).rows
        assert rows == ((EX[f"s{i}"],),), f"literal {text!r}"
    tagged = store.query("SELECT ?s WHERE { ?s ?p ?t }", {"t": Literal(NASTY[5], lang="en-GB")}).rows
    assert tagged == ((EX.s0,),)
    assert kgqa_quads(store) == quads([graph])


def test_query_forms_and_health(store):
    store.replace_graphs([note_graph("a", 1), note_graph("b", 2)])
    select = store.query(
        "SELECT ?fact ?v WHERE { ?case ?has ?fact . ?fact ?value ?v FILTER(?v >= ?min) } ORDER BY ?v",
        {"case": EX["case/b"], "has": EX.hasFact, "value": EX.value, "min": Literal(40)},
    )
    assert [row["v"] for row in select.python()] == [42, 52, 62]
    # the predicate bound, as in every named query (see the next test)
    assert store.query("ASK { ?c ?p ?v }", {"p": EX.value, "v": Literal(62)}).boolean is True
    assert store.query("ASK { ?c ?p ?v }", {"p": EX.value, "v": Literal(63)}).boolean is False
    construct = store.query("CONSTRUCT { ?case ?p ?o } WHERE { ?case ?p ?o }", {"case": EX["case/a"]})
    assert construct.kind == "graph" and len(construct.graph) == 7
    health = store.health()
    assert health.ok and health.kind == "sparql"


@pytest.mark.xfail(
    reason="Virtuoso 7.2.5 bug: on a new database, triples loaded with INSERT DATA are often missed by a "
    "pattern with the object bound and the predicate not (`?s ?p 62`, or FILTER(?o = 62) over `?s ?p ?o`) "
    "although `?s <value> 62` finds them; not every time, hence not strict. kgqa's named queries bind every "
    "predicate (docs/stores.md)",
    strict=False,
)
def test_a_pattern_with_only_the_object_bound_finds_every_triple(store):
    store.replace_graphs([note_graph("a", 1), note_graph("b", 2)])
    for value, subject in ((11, EX["fact/a/1"]), (12, EX["fact/b/1"]), (62, EX["fact/b/6"])):
        assert store.query("SELECT ?s WHERE { ?s ?p ?v }", {"v": Literal(value)}).rows == ((subject,),)


def test_the_store_virtuoso_preset_talks_to_virtuoso(virtuoso):
    """`store=virtuoso` with only the server's address changed is a working store (conf/store/virtuoso.yaml)."""
    from kgqa.config import RunConfig, compose, to_object

    cfg = to_object(compose(["store=virtuoso", f"store.query_url={virtuoso.sparql_url}",
                             f"store.update_url={virtuoso.sparql_url}", "store.retries=0"]), RunConfig)  # fmt: skip
    assert cfg.store.graph_store_url == "" and not cfg.store.union_default_graph
    with open_store(cfg.store) as s:
        s.drop_all()
        graphs = [note_graph("preset", 1)]
        assert s.replace_graphs(graphs).ok
        assert kgqa_quads(s) == quads(graphs)
        s.drop_all()
