"""The named queries give the same rows on an Oxigraph server (SPARQL 1.1 over HTTP, union default
graph by request parameter) as on the embedded store: what is tested embedded holds remotely."""

from __future__ import annotations

from collections import Counter

import pytest

from kgqa.queries import list_queries, run_query
from kgqa.stores import StoreConfig, open_store
from kgqa.stores.testing import OxigraphServer, oxigraph_binary

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server_store(cases, tmp_path_factory):
    if not oxigraph_binary():
        pytest.skip("the `oxigraph` server binary (PyPI package oxigraph) is not installed")
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-queries")).start()
    cfg = StoreConfig(kind="sparql", query_url=f"{server.base}/query", update_url=f"{server.base}/update",
                      graph_store_url=f"{server.base}/store", retries=0)  # fmt: skip
    try:
        with open_store(cfg) as store:
            assert store.replace_graphs(cases.graphs).ok
            yield store
    finally:
        server.kill()


def _normalised(result) -> Counter:
    # Numbers compare by value: one store may answer 0.5 as xsd:decimal, another as a double.
    return Counter(
        tuple(
            float(v) if isinstance(v, (int, float)) or type(v).__name__ == "Decimal" else v
            for v in row.values()
        )
        for row in result.python()
    )


@pytest.mark.parametrize("name", list_queries())
def test_same_rows_on_the_server_as_embedded(name, cases, fact_store, server_store):
    params = {
        "fact_evidence": {"fact": str(cases.fact_iri("note-a", "nihss_score"))},
        "facts_of_concept": {"concept": "age"},
        "notes_of_case": {"case": str(cases.case("patient-a"))},
    }.get(name, {})
    embedded = run_query(fact_store, name, params)
    remote = run_query(server_store, name, params)
    assert remote.columns == embedded.columns
    assert _normalised(remote) == _normalised(embedded)
