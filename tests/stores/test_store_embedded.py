"""The embedded store: persistence, the directory lock, and one transaction per batch."""

from __future__ import annotations

import pytest
from store_helpers import note_graph, quads, store_quads

from kgqa.errors import ConfigError, StoreError
from kgqa.stores import StoreConfig, embedded, open_store


def test_on_disk_store_persists_across_reopen(tmp_path):
    cfg = StoreConfig(kind="embedded", path=str(tmp_path / "kg"))
    graphs = [note_graph("a", 1), note_graph("b", 2)]
    with open_store(cfg) as store:
        store.replace_graphs(graphs)
    with open_store(cfg) as store:
        assert store_quads(store) == quads(graphs)


def test_second_opener_gets_an_error_naming_the_config_key(tmp_path):
    cfg = StoreConfig(kind="embedded", path=str(tmp_path / "kg"))
    with open_store(cfg), pytest.raises(StoreError, match=r"store\.path"):
        open_store(cfg)


def test_a_batch_is_one_transaction(monkeypatch):
    old = [note_graph(f"n{i}", 1) for i in range(3)]
    with open_store(StoreConfig(kind="embedded", batch_size=10)) as store:
        store.replace_graphs(old)
        real = embedded.replace_update

        def broken(batch):  # the last graph's block is cut short, as by a crash mid-request
            return real(batch)[:-40]

        monkeypatch.setattr(embedded, "replace_update", broken)
        report = store.replace_graphs([note_graph(f"n{i}", 2) for i in range(3)])
        assert len(report.failed) == 3 and "rejected the update" in next(iter(report.failed.values()))
        assert store_quads(store) == quads(old)


def test_new_graphs_of_a_batch_load_in_one_transaction(monkeypatch):
    with open_store(StoreConfig(kind="embedded", batch_size=10)) as store:
        kept = note_graph("kept", 1)
        store.replace_graphs([kept])
        real = embedded.nquads
        monkeypatch.setattr(embedded, "nquads", lambda batch: real(batch)[:-30])  # cut mid-line
        report = store.replace_graphs([note_graph(f"n{i}", 1) for i in range(3)])
        assert len(report.failed) == 3 and "rejected the data" in next(iter(report.failed.values()))
        assert store_quads(store) == quads([kept])


def test_unknown_store_kind_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"store\.kind='fuseki' is not one of embedded, graphdb, sparql"):
        open_store(StoreConfig(kind="fuseki"))


def test_verification_reports_a_graph_the_store_did_not_keep(monkeypatch):
    with open_store(StoreConfig(kind="embedded")) as store:
        real_counts = store.counts

        def short_counts(iris):
            return {g: n - 1 for g, n in real_counts(iris).items()}

        graph = note_graph("a", 1)
        store.replace_graphs([graph])
        monkeypatch.setattr(store, "counts", short_counts)
        report = store.replace_graphs([graph])
        assert report.failed == {
            str(
                graph.identifier
            ): f"verification: expected {len(graph)} triples, the store has {len(graph) - 1}"
        }
        assert store.replace_graphs([graph], verify=False).ok
