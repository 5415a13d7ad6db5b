"""Robustness against real Oxigraph servers: retries on 5xx and dropped connections, never on 4xx,
credentials never echoed, and a server killed mid-batch whose store converges on a re-run."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from store_helpers import note_graph, quads, sparql_config, store_quads
from store_servers import FaultProxy

from kgqa.errors import StoreError
from kgqa.stores import open_store

pytestmark = pytest.mark.integration

PASSWORD = "s3cr3t-Pa55"


def puts(proxy: FaultProxy) -> list[int]:
    return [status for method, path, status in proxy.state.log if method == "PUT"]


@pytest.mark.parametrize("gsp", [True, False], ids=["gsp-put", "sparql-update"])
def test_5xx_is_retried_until_it_succeeds(oxigraph, gsp):
    with FaultProxy(oxigraph.base) as proxy, open_store(sparql_config(proxy.base, gsp=gsp)) as store:
        path = "/store" if gsp else "/update"
        proxy.state.fail(503, "Service Unavailable: warming up", times=2, path=path)
        report = store.replace_graphs([note_graph("a", 1)])
        assert report.ok and report.loaded == (str(note_graph("a", 1).identifier),)
        statuses = [s for _, p, s in proxy.state.log if p.startswith(path)]
        assert statuses == [503, 503, 201 if gsp else 204]
        assert store_quads(store) == quads([note_graph("a", 1)])


def test_5xx_that_persists_fails_the_batch_with_the_server_message(oxigraph):
    with FaultProxy(oxigraph.base) as proxy, open_store(sparql_config(proxy.base)) as store:
        proxy.state.fail(502, "Bad Gateway: upstream is down", times=100, method="PUT")
        graph = note_graph("a", 1)
        report = store.replace_graphs([graph])
        reason = report.failed[str(graph.identifier)]
        assert "HTTP 502" in reason and "upstream is down" in reason and "after 4 attempts" in reason
        assert puts(proxy) == [502] * 4  # 1 attempt + 3 retries
        assert store.count() == 0


@pytest.mark.parametrize(
    "status,body", [(400, "Bad Request: invalid RDF"), (404, "Not Found"), (415, "Unsupported Media Type")]
)
def test_4xx_is_never_retried(oxigraph, status, body):
    with FaultProxy(oxigraph.base) as proxy, open_store(sparql_config(proxy.base)) as store:
        proxy.state.fail(status, body, times=100, method="PUT")
        graph = note_graph("a", 1)
        report = store.replace_graphs([graph])
        assert puts(proxy) == [status]
        assert (
            f"HTTP {status}" in report.failed[str(graph.identifier)]
            and body in report.failed[str(graph.identifier)]
        )


def test_query_errors_carry_the_server_message_and_are_not_retried(oxigraph):
    with FaultProxy(oxigraph.base) as proxy, open_store(sparql_config(proxy.base)) as store:
        with pytest.raises(StoreError, match=r"HTTP 400: error at 1:\d+") as err:
            store.query("SELECT ?s WHERE { ?s ?p ")
        assert "/query" in str(err.value)
        assert [m for m, _, _ in proxy.state.log] == ["POST"]


def test_connection_refused_is_retried_then_reported(oxigraph):
    oxigraph.kill()
    cfg = sparql_config(oxigraph.base)
    with open_store(cfg) as store:
        report = store.replace_graphs([note_graph("a", 1)])
        (reason,) = report.failed.values()
        assert "cannot reach the server" in reason and "after 4 attempts" in reason
        assert not store.health().ok


@pytest.mark.parametrize("path", ["/store", "/query"], ids=["gsp-put-requests", "query-sparqlwrapper"])
def test_a_hung_server_times_out_and_is_retried(oxigraph, path):
    with FaultProxy(oxigraph.base) as proxy:
        cfg = replace(sparql_config(proxy.base), timeout_s=1.0, retries=1)
        # every request to `path` stalls 3 s, longer than the timeout
        proxy.state.fail(0, "", times=10, path=path, delay_s=3.0)
        with open_store(cfg) as store:
            report = store.replace_graphs([note_graph("a", 1)])
        (reason,) = report.failed.values()
        assert "cannot reach the server" in reason and "timed out" in reason and "after 2 attempts" in reason


@pytest.mark.parametrize("gsp", [True, False], ids=["gsp-put", "sparql-update"])
def test_wrong_credentials_fail_fast_and_never_show_the_password(oxigraph, gsp):
    with FaultProxy(oxigraph.base) as proxy:
        proxy.state.credentials = ("kgqa", PASSWORD)
        wrong = replace(sparql_config(proxy.base, gsp=gsp), username="kgqa", password="wrong-" + PASSWORD)
        with open_store(wrong) as store:
            report = store.replace_graphs([note_graph("a", 1)])
            (reason,) = report.failed.values()
            assert "HTTP 401" in reason and "bad user name or password" in reason
            assert PASSWORD not in reason
            with pytest.raises(StoreError, match="HTTP 401") as err:
                store.query("ASK {}")
            assert PASSWORD not in str(err.value)
        assert {s for _, _, s in proxy.state.log} == {401}
        n_wrong = len(proxy.state.log)
        # The load's first request (which graphs exist) and the ASK, each refused once: 401 is never retried.
        assert n_wrong == 2
        right = replace(wrong, password=PASSWORD)
        with open_store(right) as store:
            assert store.replace_graphs([note_graph("a", 1)]).ok
            assert store.count() == len(note_graph("a", 1))


def test_server_killed_mid_batch_then_rerun_converges(oxigraph_factory, monkeypatch):
    server = oxigraph_factory("crash")
    cfg = replace(sparql_config(server.base), batch_size=4, retries=1)
    old = [note_graph(f"n{i}", 1) for i in range(10)]
    new = [note_graph(f"n{i}", 2, n=4 + i % 3) for i in range(10)]
    with open_store(cfg) as store:
        assert store.replace_graphs(old).ok

    # Kill the server (SIGKILL: a crash) right after the 6th PUT of the re-run has been answered.
    sent = {"puts": 0}
    real_send = requests.Session.send

    def send(session, request, **kw):
        response = real_send(session, request, **kw)
        if request.method == "PUT":
            sent["puts"] += 1
            if sent["puts"] == 6:
                server.kill()
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    with open_store(cfg) as store:
        report = store.replace_graphs(new)
    monkeypatch.setattr(requests.Session, "send", real_send)
    assert len(report.failed) >= 4 and len(report.succeeded) + len(report.failed) == 10

    # After the crash, on restart, every note graph is fully old or fully new: never half of each.
    server.start()
    with open_store(cfg) as store:
        content = store_quads(store)
        for o, n in zip(old, new):
            mine = {q for q in content if q[0] == str(o.identifier)}
            assert mine in (quads([o]), quads([n])), f"{o.identifier} is a mix of old and new"
        # The re-run converges to exactly the new content, whatever the crash left behind.
        rerun = store.replace_graphs(new)
        assert rerun.ok and len(rerun.replaced) == 10
        assert store_quads(store) == quads(new)
        assert store.replace_graphs(new).ok and store_quads(store) == quads(new)
