"""Embedded store: pyoxigraph on disk (``store.path``) or in memory (empty path). No setup, no server.

Queries run with ``use_default_graph_as_union`` so the default graph is the union of the named
graphs, as in GraphDB: a query written for one behaves the same on the other. A batch is replaced
with at most two transactions: one SPARQL update (``DROP SILENT GRAPH`` + ``INSERT DATA``) for
the graphs the store already holds, one N-Quads ``load`` for the new ones; pyoxigraph applies each
atomically, so every note of the batch ends fully old or fully new.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from kgqa.errors import StoreError
from kgqa.stores import terms
from kgqa.stores.base import Health, PreparedGraph, QueryResult, Store
from kgqa.stores.config import StoreConfig
from kgqa.stores.results import from_ox

log = logging.getLogger("kgqa.stores.embedded")


class EmbeddedStore(Store):
    kind = "embedded"

    def __init__(self, cfg: StoreConfig) -> None:
        super().__init__(cfg)
        self.path = Path(cfg.path).expanduser() if cfg.path else None
        try:
            if self.path is not None:
                self.path.mkdir(parents=True, exist_ok=True)
                self._ox = ox.Store(str(self.path))
            else:
                self._ox = ox.Store()
        except OSError as exc:
            # RocksDB holds a lock: a second process (another `kgqa run`) cannot open the same directory.
            raise StoreError(
                f"cannot open the embedded store at {self.path} (config key store.path): {exc}"
            ) from exc

    @property
    def target(self) -> str:
        return str(self.path) if self.path else "memory"

    def _query(self, sparql: str) -> QueryResult:
        try:
            return from_ox(self._ox.query(sparql, use_default_graph_as_union=True))
        except SyntaxError as exc:
            raise StoreError(f"embedded store rejected the query: {exc}") from None
        except OSError as exc:
            raise StoreError(f"embedded store at {self.target}: {exc}") from exc

    def update(self, sparql: str) -> None:
        try:
            self._ox.update(sparql)
        except SyntaxError as exc:
            raise StoreError(f"embedded store rejected the update: {exc}") from None
        except OSError as exc:
            raise StoreError(f"embedded store at {self.target}: {exc}") from exc

    def _replace_batch(self, batch: Sequence[PreparedGraph], existing: set[str]) -> None:
        # Graphs the store already holds: one update (DROP + INSERT DATA), one transaction.
        # New graphs: one `load` of N-Quads, also one transaction and about twice as fast on disk as
        # an update (no SPARQL to parse, no DROP). Either way each note ends fully old or fully new;
        # the embedded store has a single writer (RocksDB's lock), so "new" cannot go stale.
        replaced = [p for p in batch if p.iri in existing]
        new = [p for p in batch if p.iri not in existing]
        if replaced:
            self.update(replace_update(replaced))
        if new:
            try:
                self._ox.load(nquads(new).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
            except SyntaxError as exc:
                raise StoreError(f"embedded store rejected the data: {exc}") from None
            except OSError as exc:
                raise StoreError(f"embedded store at {self.target}: {exc}") from exc

    def drop_graph(self, graph_iri: str) -> None:
        self.update(f"DROP SILENT GRAPH {terms.iri(graph_iri)}")

    def drop_all(self) -> None:
        self._ox.clear()

    def health(self) -> Health:
        try:
            self._ox.query("ASK { }")
        except (
            OSError,
            SyntaxError,
            RuntimeError,
            AttributeError,
        ) as exc:  # closed or broken: the answer here
            return Health(False, self.kind, self.target, str(exc))
        return Health(True, self.kind, self.target, "open")

    def init(self) -> str:
        return f"embedded store ready at {self.target}"

    def close(self) -> None:
        if self.path is not None:
            self._ox.flush()
        # Dropping the last reference releases RocksDB's lock on the directory.
        self._ox = None  # type: ignore[assignment]


def nquads(batch: Sequence[PreparedGraph]) -> str:
    """The batch's N-Triples with each line put in its graph (every line ends with " .")."""
    return "".join(
        f"{line[:-2]} {terms.iri(p.iri)} .\n"
        for p in batch
        for line in p.ntriples.split("\n")
        if line  # not splitlines(): U+2028 etc. may sit in literals
    )


def replace_update(batch: Sequence[PreparedGraph]) -> str:
    """One SPARQL update replacing every graph of the batch (one transaction in Oxigraph)."""
    parts = [f"DROP SILENT GRAPH {terms.iri(p.iri)} ;" for p in batch]
    parts.append("INSERT DATA {")
    for p in batch:
        parts.append(f"GRAPH {terms.iri(p.iri)} {{\n{p.ntriples}}}")
    parts.append("}")
    return "\n".join(parts)
