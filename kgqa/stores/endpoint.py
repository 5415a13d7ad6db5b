"""Any SPARQL 1.1 endpoint (Oxigraph server, Fuseki, Virtuoso, …).

Queries and updates go through SPARQLWrapper (separate query and update URLs, HTTP Basic auth,
timeouts); a note graph is replaced with the Graph Store HTTP Protocol (``PUT <graph_store_url>?graph=<g>``),
which the protocol defines as an atomic replacement of that one graph. Without a graph-store URL
a batch is replaced with one SPARQL update (DROP + INSERT DATA), which Oxigraph, Fuseki (TDB2) and
GraphDB run in one transaction; Virtuoso 7.2 refuses a bad update whole, before it drops anything.

A server's own graphs (:data:`SERVER_GRAPHS`, Virtuoso's) are not kgqa's: :meth:`graphs`,
:meth:`count` and :meth:`drop_all` leave them out.
"""

from __future__ import annotations

import ast
import http.client
import json
import logging
import socket
import urllib.error
from collections.abc import Sequence
from typing import Any

from SPARQLWrapper import JSON, POST, POSTDIRECTLY, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from kgqa.errors import ConfigError, StoreError
from kgqa.stores import terms
from kgqa.stores.base import Health, PreparedGraph, QueryResult, Store
from kgqa.stores.config import StoreConfig
from kgqa.stores.embedded import replace_update
from kgqa.stores.http import (
    ClientStoreError,
    HttpClient,
    Redactor,
    TransientStoreError,
    check_url,
    public_url,
    server_message,
    with_retries,
)
from kgqa.stores.results import from_json, from_rdf

log = logging.getLogger("kgqa.stores.endpoint")

_TRANSIENT_NETWORK = (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout,
                      http.client.HTTPException)  # fmt: skip


#: Graphs a SPARQL server keeps for itself and shows as named graphs: Virtuoso 7's RDF-view metadata
#: (dropping it breaks the server's SPARQL), its copy of the LDP vocabulary and its service
#: description. kgqa never writes them, and they hold thousands of triples in a store kgqa emptied.
SERVER_GRAPHS = (
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/sparql",
)
_NOT_SERVER_GRAPH = f"FILTER(?g NOT IN ({', '.join(terms.iri(g) for g in SERVER_GRAPHS)}))"


class SparqlEndpointStore(Store):
    kind = "sparql"

    def __init__(self, cfg: StoreConfig) -> None:
        super().__init__(cfg)
        if not cfg.query_url:
            raise ConfigError("store.query_url is empty: a SPARQL endpoint store needs a query URL")
        for key in ("query_url", "update_url", "graph_store_url"):
            if getattr(cfg, key):
                check_url(f"store.{key}", getattr(cfg, key))
        self.update_url = cfg.update_url or cfg.query_url
        self.http = HttpClient(cfg, name="SPARQL endpoint")
        self.redact = Redactor(cfg.password)

    # ------------------------------------------------------------------ SPARQLWrapper calls

    def _wrapper(self, sparql: str, *, update: bool) -> SPARQLWrapper:
        sw = SPARQLWrapper(self.cfg.query_url, updateEndpoint=self.update_url, agent="kgqa")
        sw.setMethod(POST)
        if update:
            sw.setRequestMethod(POSTDIRECTLY)  # application/sparql-update body: no size limit of a form
        elif self.cfg.union_default_graph:
            sw.addParameter("union-default-graph", "true")
        if self.cfg.username:
            sw.setCredentials(self.cfg.username, self.cfg.password)
        if self.cfg.timeout_s:
            sw.setTimeout(int(max(1, self.cfg.timeout_s)))
        sw.setQuery(sparql)
        return sw

    def _call(self, sparql: str, *, update: bool, what: str, retry: bool = True) -> Any:
        url = public_url(self.update_url if update else self.cfg.query_url)
        where = f"SPARQL endpoint {what} (POST {url})"

        def once() -> Any:
            sw = self._wrapper(sparql, update=update)
            if not update:
                sw.setReturnFormat(TURTLE if sw.queryType in ("CONSTRUCT", "DESCRIBE") else JSON)
            try:
                response = sw.query().response
                return sw.queryType, response.read()
            except SPARQLWrapperException as exc:
                status = _STATUS.get(type(exc).__name__, 0)
                raise _classify(where, status, _body(exc), self.redact) from None
            except urllib.error.HTTPError as exc:
                raise _classify(where, exc.code, _read(exc), self.redact) from None
            except _TRANSIENT_NETWORK as exc:
                raise TransientStoreError(self.redact(f"{where}: cannot reach the server: {exc}")) from None

        return with_retries(once, self.http.policy, what) if retry else once()

    def _query(self, sparql: str, *, retry: bool = True) -> QueryResult:
        query_type, body = self._call(sparql, update=False, what="query", retry=retry)
        if query_type in ("CONSTRUCT", "DESCRIBE"):
            return from_rdf(body, "turtle")
        try:
            return from_json(json.loads(body))
        except ValueError as exc:
            raise StoreError(
                f"SPARQL endpoint {public_url(self.cfg.query_url)} sent malformed JSON: {exc}"
            ) from None

    def update(self, sparql: str) -> None:
        self._call(sparql, update=True, what="update")

    # ------------------------------------------------------------------ graphs

    def _replace_batch(self, batch: Sequence[PreparedGraph], existing: set[str]) -> None:
        if not self.cfg.graph_store_url:
            self.update(replace_update(batch))
            return
        for p in batch:  # each PUT replaces one graph atomically; a retry re-sends the same content
            self.http.request(
                "PUT",
                self.cfg.graph_store_url,
                what=f"graph replace <{p.iri}>",
                params={"graph": p.iri},
                data=p.ntriples.encode("utf-8"),
                headers={"Content-Type": "application/n-triples"},
            )

    def drop_graph(self, graph_iri: str) -> None:
        if self.cfg.graph_store_url:
            try:
                self.http.request("DELETE", self.cfg.graph_store_url, what=f"graph drop <{graph_iri}>",
                                  params={"graph": terms.iri(graph_iri)[1:-1]})  # fmt: skip
            except ClientStoreError as exc:
                if exc.status != 404:  # GSP answers 404 for a graph that is not there: already dropped
                    raise
            return
        self.update(f"DROP SILENT GRAPH {terms.iri(graph_iri)}")

    def drop_all(self) -> None:
        self.update("DROP SILENT ALL")
        # Virtuoso 7.2 answers DROP ALL with 200 and drops nothing: what is left goes graph by graph.
        left, step = self.graphs(), max(1, self.cfg.batch_size)
        for i in range(0, len(left), step):
            self.update(" ;\n".join(f"DROP SILENT GRAPH {terms.iri(g)}" for g in left[i : i + step]))

    def count(self, graph_iri: str | None = None) -> int:
        if graph_iri is not None:
            return super().count(graph_iri)
        rows = self._query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {_NOT_SERVER_GRAPH} }}"
        ).rows
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def graphs(self) -> list[str]:
        return [g for g in super().graphs() if g not in SERVER_GRAPHS]

    def health(self) -> Health:
        target = public_url(self.cfg.query_url)
        try:
            self._query("ASK { }", retry=False)  # a health check answers now: no backoff
        except StoreError as exc:
            return Health(False, self.kind, target, str(exc))
        return Health(True, self.kind, target, "answers SPARQL")

    def close(self) -> None:
        self.http.close()


_STATUS = {"QueryBadFormed": 400, "Unauthorized": 401, "EndPointNotFound": 404, "URITooLong": 414,
           "EndPointInternalError": 500}  # fmt: skip


def _body(exc: SPARQLWrapperException) -> str:
    """The server's response body, which SPARQLWrapper keeps only as the repr at the end of its message."""
    text = str(exc)
    _, sep, raw = text.partition("Response:\n")
    if sep:
        try:
            value = ast.literal_eval(raw)
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        except (ValueError, SyntaxError):
            return raw
    return text


def _read(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read().decode("utf-8", "replace")
    except (OSError, ValueError):  # the body is a courtesy; the status says enough
        return exc.reason or ""


def _classify(where: str, status: int, body: str, redact: Redactor) -> StoreError:
    message = redact(f"{where}: HTTP {status}: {server_message(body)}")
    if status >= 500:
        return TransientStoreError(message)
    return ClientStoreError(message, status)
