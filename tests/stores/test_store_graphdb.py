"""GraphDB over RDF4J REST and GraphDB's /rest API, against the in-test server (fake_graphdb.py)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_graphdb import FakeGraphDB, Fault
from store_helpers import graphdb_config, note_graph, quads, store_quads

from kgqa.errors import EXIT_STORE, StoreError
from kgqa.stores import open_store

PASSWORD = "gdb-Pa55-word"


def requests_to(server: FakeGraphDB, fragment: str) -> list[tuple[str, dict, int]]:
    out = []
    for method, path, status in server.state.log:
        parts = urlsplit(path)
        if fragment in parts.path:
            out.append((method, parse_qs(parts.query), status))
    return out


def test_single_graph_is_replaced_with_put_and_an_ntriples_context(fake_graphdb):
    graph = note_graph("a", 1)
    with open_store(graphdb_config(fake_graphdb.url)) as store:
        assert store.replace_graph(graph).ok
        assert store.replace_graph(note_graph("a", 2)).replaced == (str(graph.identifier),)
        puts = [(q, s) for m, q, s in requests_to(fake_graphdb, "/statements") if m == "PUT"]
        assert puts == [({"context": [f"<{graph.identifier}>"]}, 204)] * 2
        assert store_quads(store) == quads([note_graph("a", 2)])
        # /size answers per context, N-Triples-encoded as well
        assert store.count(str(graph.identifier)) == len(note_graph("a", 2))
        sizes = [q for m, q, _ in requests_to(fake_graphdb, "/size")]
        assert {"context": [f"<{graph.identifier}>"]} in sizes


def test_batch_runs_in_one_transaction_at_the_location_the_server_gave(fake_graphdb):
    graphs = [note_graph(f"n{i}", 1) for i in range(3)]
    with open_store(graphdb_config(fake_graphdb.url)) as store:
        assert store.replace_graphs(graphs).ok
    tx = requests_to(fake_graphdb, "/transactions")
    assert tx[0][0] == "POST" and tx[0][2] == 201
    actions = [q["action"][0] for m, q, _ in tx[1:]]
    assert actions == ["UPDATE", "ADD", "ADD", "ADD", "COMMIT"]
    adds = [q["context"][0] for _, q, _ in tx[1:] if q["action"][0] == "ADD"]
    assert adds == [f"<{g.identifier}>" for g in graphs]
    assert not fake_graphdb.state.transactions  # committed, nothing left open


def test_a_failed_batch_is_rolled_back_then_replaced_graph_by_graph(fake_graphdb):
    old = [note_graph(f"n{i}", 1) for i in range(3)]
    new = [note_graph(f"n{i}", 2) for i in range(3)]
    with open_store(graphdb_config(fake_graphdb.url)) as store:
        assert store.replace_graphs(old).ok
        # The second ADD fails after the first went into the transaction; then n1 alone is refused too.
        fake_graphdb.state.fail(400, "MALFORMED DATA: unexpected end of file", action="ADD", skip=1)
        fake_graphdb.state.fail(400, "MALFORMED DATA: bad n1", method="PUT", path="/statements", skip=1)
        report = store.replace_graphs(new)
        # failures are counted per graph: only n1 failed, n0 and n2 are new, n1 is fully old
        assert set(report.failed) == {str(new[1].identifier)} and "bad n1" in report.failed[str(new[1].identifier)]
        assert set(report.replaced) == {str(new[0].identifier), str(new[2].identifier)}
        assert store_quads(store) == quads([new[0], old[1], new[2]])
        assert not fake_graphdb.state.transactions  # rolled back with DELETE
        assert "DELETE" in [m for m, _, _ in requests_to(fake_graphdb, "/transactions/")]
        assert fake_graphdb.state.calls("POST", "/transactions") == 2  # 400: the batch was not retried


def test_a_5xx_at_commit_retries_the_whole_transaction(fake_graphdb):
    new = [note_graph(f"n{i}", 2) for i in range(3)]
    with open_store(graphdb_config(fake_graphdb.url)) as store:
        fake_graphdb.state.fail(503, "SERVICE UNAVAILABLE: repository is busy", action="COMMIT", times=2)
        report = store.replace_graphs(new)
        assert report.ok and store_quads(store) == quads(new)
    assert fake_graphdb.state.calls("POST", "/transactions") == 3
    assert fake_graphdb.state.calls("PUT", "/transactions/", action="COMMIT") == 3


def test_5xx_on_every_attempt_fails_the_batch_and_changes_nothing(fake_graphdb):
    old = [note_graph(f"n{i}", 1) for i in range(3)]
    with open_store(graphdb_config(fake_graphdb.url)) as store:
        store.replace_graphs(old)
        fake_graphdb.state.fail(500, "INTERNAL ERROR: disk full", method="PUT", times=1000)
        report = store.replace_graphs([note_graph(f"n{i}", 3) for i in range(3)])
        assert len(report.failed) == 3 and "INTERNAL ERROR: disk full" in next(iter(report.failed.values()))
        assert store_quads(store) == quads(old)


def test_random_503s_lose_no_graph(fake_graphdb):
    """5 % of requests answer 503 (issue 24: 50-graph transactions lost 150 of 211 graphs): none is lost."""
    import random

    rng = random.Random(7)
    graphs = [note_graph(f"n{i}", 1, n=2) for i in range(60)]
    fake_graphdb.state.faults.append(Fault(503, "SERVICE UNAVAILABLE", 10**6, lambda m, p, q: rng.random() < 0.05))
    with open_store(replace(graphdb_config(fake_graphdb.url), batch_size=50)) as store:
        report = store.replace_graphs(graphs)
        assert report.ok, dict(report.failed)
        assert len(report.succeeded) == 60 and store_quads(store) == quads(graphs)
    assert [s for _, _, s in fake_graphdb.state.log].count(503) > 0  # faults were injected


@pytest.mark.parametrize(
    "repository,pattern",
    [("missing", r"HTTP 404: Unknown repository: missing"), ("kgqa", None)],
)
def test_unknown_repository_is_a_clear_404(fake_graphdb, repository, pattern):
    cfg = replace(graphdb_config(fake_graphdb.url), repository=repository)
    with open_store(cfg) as store:
        if pattern:
            with pytest.raises(StoreError, match=pattern):
                store.count()
            assert not store.health().ok
        else:
            assert store.count() == 0 and store.health().ok


def test_malformed_query_shows_graphdb_error_type(fake_graphdb):
    with (
        open_store(graphdb_config(fake_graphdb.url)) as store,
        pytest.raises(StoreError, match=r"HTTP 400: MALFORMED QUERY: "),
    ):
        store.query("SELECT * WHERE { ?s ")
    assert fake_graphdb.state.calls("POST") == 1


def test_415_body_is_reported(fake_graphdb):
    fake_graphdb.state.fail(
        415, "UNSUPPORTED MEDIA TYPE: Unsupported MIME type: application/n-triples", method="PUT"
    )
    with open_store(graphdb_config(fake_graphdb.url)) as store:
        report = store.replace_graph(note_graph("a", 1))
        assert "HTTP 415: UNSUPPORTED MEDIA TYPE: Unsupported MIME type" in next(iter(report.failed.values()))


@pytest.mark.parametrize("auth", ["basic", "graphdb"])
def test_authentication(auth):
    with FakeGraphDB(users={"kgqa": PASSWORD}) as server:
        good = replace(graphdb_config(server.url), username="kgqa", password=PASSWORD, auth=auth)
        with open_store(good) as store:
            assert store.replace_graphs([note_graph("a", 1), note_graph("b", 1)]).ok
            assert store.count() == 2 * len(note_graph("a", 1))
        logins = requests_to(server, "/rest/login/kgqa")
        assert len(logins) == (1 if auth == "graphdb" else 0)

        bad = replace(good, password="not-" + PASSWORD)
        with open_store(bad) as store, pytest.raises(StoreError) as err:
            store.count()
        message = str(err.value)
        assert "HTTP 401" in message and PASSWORD not in message
        assert ("Bad credentials" if auth == "graphdb" else "Unauthorized") in message


def test_expired_token_logs_in_again(fake_graphdb):
    fake_graphdb.state.users["kgqa"] = PASSWORD
    cfg = replace(graphdb_config(fake_graphdb.url), username="kgqa", password=PASSWORD, auth="graphdb")
    with open_store(cfg) as store:
        assert store.count() == 0
        fake_graphdb.state.tokens.clear()  # the server forgot every token
        assert store.count() == 0
        # … and the token expires right as a batch's transaction begins
        fake_graphdb.state.fail(401, "Unauthorized", method="POST", path="/transactions")
        assert store.replace_graphs([note_graph(f"n{i}", 1) for i in range(3)]).ok
    assert len(requests_to(fake_graphdb, "/rest/login/")) == 3
    assert [s for m, _, s in requests_to(fake_graphdb, "/transactions") if m == "POST"] == [401, 201]


def test_read_only_user_gets_403_and_no_retry():
    with FakeGraphDB(users={"reader": PASSWORD}) as server:
        server.state.readonly.add("reader")
        cfg = replace(graphdb_config(server.url), username="reader", password=PASSWORD)
        with open_store(cfg) as store:
            report = store.replace_graph(note_graph("a", 1))
            assert "HTTP 403: Forbidden" in next(iter(report.failed.values()))
        assert server.state.calls("PUT") == 1


def test_init_creates_the_repository_once(fake_graphdb):
    cfg = replace(graphdb_config(fake_graphdb.url), repository="fresh", ruleset="rdfsplus-optimized")
    with open_store(cfg) as store:
        assert "created" in store.init()
        assert "fresh" in fake_graphdb.state.repositories
        assert "already exists" in store.init()
        assert store.replace_graph(note_graph("a", 1)).ok
    creates = [r for r in requests_to(fake_graphdb, "/rest/repositories") if r[0] == "POST"]
    assert len(creates) == 1 and creates[0][2] == 201


def test_contexts_lists_the_note_graphs(fake_graphdb):
    graphs = [note_graph("b", 1), note_graph("a", 1)]
    with open_store(graphdb_config(fake_graphdb.url)) as store:
        store.replace_graphs(graphs)
        assert store.graphs() == sorted(str(g.identifier) for g in graphs)
    assert requests_to(fake_graphdb, "/contexts")


def test_kgqa_store_init_command_creates_the_repository(fake_graphdb, capsys):
    from kgqa.commands import store as store_cmd

    argv = ["init", "store=graphdb", f"store.url={fake_graphdb.url}", "store.repository=stroke2026"]
    assert store_cmd.main(argv) == 0
    out = capsys.readouterr().out
    assert "created GraphDB repository 'stroke2026'" in out and "ok" in out
    assert "stroke2026" in fake_graphdb.state.repositories
    assert (
        store_cmd.main(["health", "store=graphdb", f"store.url={fake_graphdb.url}", "store.repository=nope"])
        == EXIT_STORE
    )
    assert "Unknown repository: nope" in capsys.readouterr().out
