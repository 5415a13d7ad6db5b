"""Two reviewers of the same run deciding at the same time lose nothing: each decision is its own
INSERT DATA into the note's review graph. Checked with two apps sharing an embedded store (one
`kgqa review` process, two users) and with two apps over an Oxigraph server (two processes)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from conftest import csrf_of, decide, keys_of, make_client

from kgqa.review.decisions import latest
from kgqa.review.store import ReviewStore
from kgqa.stores import StoreConfig, open_store
from kgqa.stores.testing import OxigraphServer, oxigraph_binary


def race(clients: dict[str, object]) -> None:
    """Each reviewer decides on every fact of both notes, all starting at the same moment."""
    start = threading.Barrier(len(clients))
    errors: list[str] = []

    def work(name: str, client) -> None:
        token = csrf_of(client)
        plan = [(i, key) for i in (0, 1) for key in keys_of(client, i).values()]
        start.wait()
        for index, key in plan:
            body = {"action": "accept"} if name == "rev-a" else {"action": "reject", "reason": "wrong_span"}
            r = decide(client, token, index=index, fact=key, **body)
            if r.status_code != 200:
                errors.append(f"{name}: {r.status_code} {r.text}")

    threads = [threading.Thread(target=work, args=item) for item in clients.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


def check_both_kept(review: ReviewStore) -> None:
    decisions = review.decisions()
    facts = {f.iri for n in review.notes() for f in review.facts(n)}
    assert len(facts) == 9
    assert len(decisions) == 18  # 9 facts x 2 reviewers: none lost
    per_fact = Counter(d.fact_iri for d in decisions)
    assert set(per_fact) == facts and set(per_fact.values()) == {2}
    assert {frozenset(d.reviewer for d in decisions if d.fact_iri == f) for f in facts} == {
        frozenset({"rev-a", "rev-b"})}
    # and every reader agrees on which one is current
    current = latest(decisions)
    for note in review.notes():
        for f in review.facts(note):
            assert current[f.iri].action in ("accept", "reject")


def test_two_reviewers_in_one_process_keep_both_decisions(store, notes, cat):
    with make_client(ReviewStore(store, notes, tuple(cat)), cat, reviewer="rev-a") as a, \
         make_client(ReviewStore(store, notes, tuple(cat)), cat, reviewer="rev-b") as b:
        race({"rev-a": a, "rev-b": b})
        state = {f["concept"]: f for f in a.get("/api/notes/0/state").json()["facts"]}
        assert all(f["decisions"] == 2 for f in state.values())
    check_both_kept(ReviewStore(store, notes, tuple(cat)))


@pytest.mark.integration
def test_two_review_processes_over_an_oxigraph_server_keep_both_decisions(extraction, notes, cat, tmp_path):
    if not oxigraph_binary():
        pytest.skip("the `oxigraph` server binary (PyPI package oxigraph) is not installed")
    server = OxigraphServer(tmp_path / "oxigraph").start()
    cfg = StoreConfig(kind="sparql", query_url=f"{server.base}/query", update_url=f"{server.base}/update",
                      graph_store_url=f"{server.base}/store", retries=0)
    try:
        with open_store(cfg) as loader:
            assert loader.replace_graphs(extraction.graphs).ok
        # two stores, two HTTP clients: as two `kgqa review` processes on two machines would be
        with open_store(cfg) as one, open_store(cfg) as two:
            with make_client(ReviewStore(one, notes, tuple(cat)), cat, reviewer="rev-a") as a, \
                 make_client(ReviewStore(two, notes, tuple(cat)), cat, reviewer="rev-b") as b:
                race({"rev-a": a, "rev-b": b})
            check_both_kept(ReviewStore(one, notes, tuple(cat)))
    finally:
        server.kill()
