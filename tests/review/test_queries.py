"""The curated queries' review variants over decisions made in the app: review progress, accepted
facts per concept, treatment rates from accepted facts; the same rows on an Oxigraph server."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import csrf_of, decide, keys_of

from kgqa.queries import run_query
from kgqa.stores import StoreConfig, open_store
from kgqa.stores.testing import OxigraphServer, oxigraph_binary


def progress(store) -> dict[str, dict]:
    return {r["note"].rpartition("/")[2]: r for r in run_query(store, "review_progress").python()}


def rates(store) -> dict:
    (row,) = run_query(store, "treatment_rates_accepted").python()
    return {k: row[k] for k in ("cases", "thrombolysis", "thrombectomy")}


def test_review_variants_follow_the_latest_decision(client, store):
    token = csrf_of(client)
    en, es = keys_of(client, 0), keys_of(client, 1)
    assert rates(store) == {"cases": 2, "thrombolysis": 0, "thrombectomy": 0}  # nothing accepted yet
    assert progress(store)["note-en"]["pending"] == 6
    decide(client, token, index=0, fact=en["thrombolysis"], action="accept")
    decide(client, token, index=1, fact=es["thrombectomy"], action="accept")
    assert rates(store) == {"cases": 2, "thrombolysis": 1, "thrombectomy": 1}
    decide(client, token, index=1, fact=es["thrombectomy"], action="reject", reason="not_this_patient")
    assert rates(store)["thrombectomy"] == 0  # the later rejection wins
    decide(client, token, index=1, fact=es["thrombectomy"], action="correct", value="yes")
    assert rates(store)["thrombectomy"] == 1  # a correction that still stands counts
    decide(client, token, index=0, fact=en["age"], action="correct", value="72")
    decide(client, token, index=0, fact=en["nihss_score"], action="reject", reason="wrong_span")

    p = progress(store)
    assert p["note-en"] == {"note": p["note-en"]["note"], "facts": 6, "decided": 3, "accepted": 1, "rejected": 1,
                            "corrected": 1, "pending": 3, "new_since_review": 0}
    assert (p["note-es"]["decided"], p["note-es"]["corrected"], p["note-es"]["pending"]) == (1, 1, 2)
    per_concept = {r["concept"]: r for r in run_query(store, "facts_per_concept_accepted").python()}
    assert (per_concept["age"]["facts"], per_concept["age"]["accepted"], per_concept["age"]["asserted"]) == (2, 1, 1)
    assert per_concept["nihss_score"]["accepted"] == 0
    assert per_concept["thrombectomy"]["accepted"] == 1 and per_concept["thrombectomy"]["asserted"] == 1
    # the plain query counts extraction's facts and reviewers' corrections alike (docs/review.md)
    plain = {r["concept"]: r["facts"] for r in run_query(store, "facts_per_concept").python()}
    assert plain["age"] == 3 and plain["thrombectomy"] == 2


@pytest.mark.integration
def test_the_same_rows_on_an_oxigraph_server(client, store, tmp_path):
    if not oxigraph_binary():
        pytest.skip("the `oxigraph` server binary (PyPI package oxigraph) is not installed")
    token = csrf_of(client)
    en = keys_of(client, 0)
    decide(client, token, fact=en["thrombolysis"], action="accept")
    decide(client, token, fact=en["age"], action="correct", value="72")
    decide(client, token, fact=en["discharge_mrs"], action="reject", reason="negated")
    quads = store.query("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }").rows
    from rdflib import Graph

    graphs: dict = {}
    for g, s, p, o in quads:
        graphs.setdefault(g, Graph(identifier=g)).add((s, p, o))
    server = OxigraphServer(tmp_path / "oxigraph").start()
    cfg = StoreConfig(kind="sparql", query_url=f"{server.base}/query", update_url=f"{server.base}/update",
                      graph_store_url=f"{server.base}/store", retries=0)
    try:
        with open_store(cfg) as remote:
            assert remote.replace_graphs(graphs.values()).ok
            for name in ("review_progress", "facts_per_concept_accepted", "treatment_rates_accepted"):
                here, there = run_query(store, name), run_query(remote, name)
                norm = lambda r: Counter(tuple(float(v) if not isinstance(v, str) else v for v in row.values())
                                         for row in r.python())
                assert norm(here) == norm(there), name
    finally:
        server.kill()
