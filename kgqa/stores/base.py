"""The store interface and the records it returns.

A :class:`Store` replaces note graphs in batches and reports what happened in a :class:`LoadReport`.
The batching, the loaded-vs-replaced bookkeeping and the verification (triple count per graph after
the load) live here once; a backend implements only the I/O primitives (``_replace_batch``,
``_select`` …). Each backend's ``_replace_batch`` is atomic per note at least (GSP PUT, a GraphDB
transaction, one Oxigraph update), so a failure leaves every note of the batch fully old or fully new.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from types import MappingProxyType
from typing import TYPE_CHECKING

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from kgqa.errors import StoreError
from kgqa.stores import terms
from kgqa.stores.config import StoreConfig
from kgqa.stores.http import GaveUpError

log = logging.getLogger("kgqa.stores")

Row = tuple[Node | None, ...]

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11


@dataclass(frozen=True)
class QueryResult:
    """The answer to a query: rows (SELECT), a boolean (ASK) or a graph (CONSTRUCT/DESCRIBE).

    Terms are rdflib terms whatever the backend; an unbound variable is ``None``.
    """

    kind: str  # select | ask | graph
    columns: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()
    boolean: bool | None = None
    graph: Graph | None = None

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "select" else len(self.graph or ())

    def dicts(self) -> list[dict[str, Node | None]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def python(self) -> list[dict[str, object]]:
        """Rows with literals turned into Python values and IRIs into strings (for tests and JSON)."""
        return [{k: _python(v) for k, v in d.items()} for d in self.dicts()]


def _python(node: Node | None) -> object:
    if node is None:
        return None
    if isinstance(node, Literal):
        value = node.toPython()
        return value if not isinstance(value, Literal) else str(value)
    return str(node)


@dataclass(frozen=True)
class LoadReport:
    """What a load did: graphs newly loaded, graphs replaced, graphs failed (IRI -> reason)."""

    loaded: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)
    #: triples per graph counted in the store after the load (when verification is on)
    verified: Mapping[str, int] = field(default_factory=dict)
    triples: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "failed", MappingProxyType(dict(self.failed)))
        object.__setattr__(self, "verified", MappingProxyType(dict(self.verified)))

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def succeeded(self) -> tuple[str, ...]:
        return self.loaded + self.replaced

    def merge(self, other: LoadReport) -> LoadReport:
        return LoadReport(
            loaded=self.loaded + other.loaded,
            replaced=self.replaced + other.replaced,
            failed={**self.failed, **other.failed},
            verified={**self.verified, **other.verified},
            triples=self.triples + other.triples,
            seconds=self.seconds + other.seconds,
        )

    def summary(self) -> dict[str, object]:
        return {
            "loaded": len(self.loaded),
            "replaced": len(self.replaced),
            "failed": dict(self.failed),
            "triples": self.triples,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Health:
    ok: bool
    kind: str
    #: where the store is (path or URL; never credentials)
    target: str
    detail: str = ""


@dataclass(frozen=True)
class PreparedGraph:
    """A note graph checked and written out once, ready for any backend."""

    iri: str
    #: the triples as N-Triples (also valid inside a SPARQL ``GRAPH <g> { … }`` block)
    ntriples: str
    triples: int


def batched(items: Iterable[Graph], size: int) -> Iterator[list[Graph]]:
    it = iter(items)
    while chunk := list(islice(it, max(1, size))):
        yield chunk


class Store(ABC):
    """One triplestore. Use as a context manager, or call :meth:`close`."""

    kind: str = ""

    def __init__(self, cfg: StoreConfig) -> None:
        self.cfg = cfg

    # ------------------------------------------------------------------ public API

    def replace_graphs(self, graphs: Iterable[Graph], *, verify: bool | None = None) -> LoadReport:
        """Replace each graph (by its identifier) with the given content, ``cfg.batch_size`` at a time.

        Never raises for a graph that cannot be loaded: the report names it with the reason.
        """
        verify = self.cfg.verify if verify is None else verify
        t0 = time.monotonic()
        report = LoadReport()
        for chunk in batched(graphs, self.cfg.batch_size):
            report = report.merge(self._load_batch(chunk, verify))
        report = replace(report, seconds=time.monotonic() - t0)
        if report.failed:
            log.warning("%s: %d of %d graphs failed to load", self.kind, len(report.failed),
                        len(report.failed) + len(report.succeeded))  # fmt: skip
        return report

    def replace_graph(self, graph: Graph) -> LoadReport:
        return self.replace_graphs([graph])

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> QueryResult:
        """Run a SELECT/ASK/CONSTRUCT/DESCRIBE over the union of the named graphs.

        ``bindings`` (variable name -> IRI or literal) are bound with a VALUES block, never
        formatted into the text (see :func:`kgqa.stores.terms.bind`).
        """
        return self._query(terms.bind(sparql, bindings))

    def count(self, graph_iri: str | None = None) -> int:
        """Triples in one named graph, or in all named graphs (the default graph is kgqa's to ignore)."""
        if graph_iri is not None:
            return self.counts([graph_iri]).get(graph_iri, 0)
        rows = self._query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").rows
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def counts(self, graph_iris: Sequence[str]) -> dict[str, int]:
        """Triples per named graph, for the given graphs (absent graphs are left out)."""
        if not graph_iris:
            return {}
        values = " ".join(terms.iri(g) for g in graph_iris)
        result = self._query(
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
        )
        return {str(g): int(n) for g, n in result.rows}

    def graphs(self) -> list[str]:
        """IRIs of the named graphs that hold at least one triple."""
        rows = self._query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows
        return sorted(str(g) for (g,) in rows if isinstance(g, URIRef))

    @abstractmethod
    def drop_graph(self, graph_iri: str) -> None:
        """Remove a named graph (no error if it does not exist)."""

    @abstractmethod
    def drop_all(self) -> None:
        """Remove every statement of the store (``kgqa store drop --all``)."""

    @abstractmethod
    def health(self) -> Health: ...

    def init(self) -> str:
        """Create what the store needs (a repository, a directory); returns what was done."""
        return f"{self.kind}: nothing to create"

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ backend primitives

    @abstractmethod
    def _query(self, sparql: str) -> QueryResult: ...

    @abstractmethod
    def _replace_batch(self, batch: Sequence[PreparedGraph], existing: set[str]) -> None:
        """Replace the graphs of the batch; each note ends fully old or fully new. Raise StoreError.

        ``existing`` names the batch's graphs the store held just before (a backend may take a
        faster path for new ones).
        """

    # ------------------------------------------------------------------ shared logic

    def _load_batch(self, chunk: Sequence[Graph], verify: bool) -> LoadReport:
        failed: dict[str, str] = {}
        prepared: dict[str, PreparedGraph] = {}
        for graph in chunk:
            try:
                name = terms.graph_name(graph)
                # The same graph twice in one batch: the later content wins, as it would across batches.
                prepared.pop(name, None)
                prepared[name] = PreparedGraph(
                    name, terms.ntriples(graph, terms.bnode_scope(name)), len(graph)
                )
            except StoreError as exc:
                failed[str(graph.identifier)] = str(exc)
        return LoadReport(failed=failed).merge(self._load_prepared(list(prepared.values()), verify))

    def _load_prepared(self, batch: Sequence[PreparedGraph], verify: bool) -> LoadReport:
        """Replace the batch in one go; if that fails, graph by graph, so failures are counted per graph.

        One graph the server refuses (a 400) must not fail the 49 others of its batch, and a batch lost
        to a flaky server (a 503 in a 50-graph GraphDB transaction) is not lost whole: each graph is
        then replaced alone, with its own retries (replacing is idempotent, so re-sending a graph the
        failed batch may already have written is harmless). A server that cannot be reached at all
        fails the rest of the batch at once instead of once per graph.
        """
        if not batch:
            return LoadReport()
        iris = [p.iri for p in batch]
        try:
            existing = set(self.counts(iris))
            self._replace_batch(batch, existing)
        except StoreError as exc:
            if len(batch) == 1 or (isinstance(exc, GaveUpError) and exc.unreachable):
                return LoadReport(failed={g: str(exc) for g in iris})
            log.warning("%s: a batch of %d graphs failed (%s); replacing them one by one", self.kind, len(batch), exc)
            report = LoadReport()
            for i, p in enumerate(batch):
                one = self._load_prepared([p], verify)
                report = report.merge(one)
                reason = one.failed.get(p.iri, "")
                if reason and "cannot reach the server" in reason:
                    rest = {q.iri: reason for q in batch[i + 1 :]}
                    return report.merge(LoadReport(failed=rest))
            return report
        verified: dict[str, int] = {}
        failed: dict[str, str] = {}
        if verify:
            try:
                verified = self.counts(iris)
            except StoreError as exc:
                return LoadReport(failed={g: f"verification failed: {exc}" for g in iris})
            for p in batch:
                got = verified.get(p.iri, 0)
                if got != p.triples:
                    failed[p.iri] = f"verification: expected {p.triples} triples, the store has {got}"
        done = [p for p in batch if p.iri not in failed]
        return LoadReport(
            loaded=tuple(p.iri for p in done if p.iri not in existing),
            replaced=tuple(p.iri for p in done if p.iri in existing),
            failed=failed,
            verified=verified,
            triples=sum(p.triples for p in done),
        )
