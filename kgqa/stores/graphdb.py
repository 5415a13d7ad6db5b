"""GraphDB over the RDF4J REST protocol, plus GraphDB's own ``/rest`` API where RDF4J has no call.

- query: ``POST /repositories/{id}`` (``application/sparql-query`` body, SPARQL JSON results);
- update: ``POST /repositories/{id}/statements`` (``application/sparql-update`` body);
- one note graph: ``PUT /repositories/{id}/statements?context=<g>`` with an N-Triples body — the
  protocol's idempotent "replace this context"; ``context`` is N-Triples-encoded (``<iri>``);
- a batch: one transaction (``POST …/transactions`` → 201 + ``Location``; ``PUT {location}?action=UPDATE``
  dropping the batch's contexts; ``PUT {location}?action=ADD&context=<g>`` per note; ``?action=COMMIT``),
  rolled back with ``DELETE {location}`` on any failure and retried whole on a transient one;
- ``/size?context=<g>``, ``/contexts``, ``/repositories/{id}/health``;
- ``POST /rest/repositories`` (multipart ``config`` Turtle) creates the repository (``kgqa store init``);
- auth: HTTP Basic, or ``POST /rest/login/{user}`` with ``X-GraphDB-Password`` → ``Authorization: GDB <token>``.

Errors keep GraphDB's ``TYPE: message`` body (``MALFORMED QUERY: …``, ``Unknown repository: …``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urljoin

import requests

from kgqa.errors import ConfigError, StoreError
from kgqa.stores import terms
from kgqa.stores.base import Health, PreparedGraph, QueryResult, Store
from kgqa.stores.config import StoreConfig
from kgqa.stores.http import ClientStoreError, HttpClient, check_url, public_url, with_retries
from kgqa.stores.results import from_json, from_rdf

log = logging.getLogger("kgqa.stores.graphdb")

SPARQL_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"

_REPO_CONFIG = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix rep: <http://www.openrdf.org/config/repository#> .
@prefix sr: <http://www.openrdf.org/config/repository/sail#> .
@prefix sail: <http://www.openrdf.org/config/sail#> .
@prefix graphdb: <http://www.ontotext.com/config/graphdb#> .

[] a rep:Repository ;
   rep:repositoryID {repo_id} ;
   rdfs:label {label} ;
   rep:repositoryImpl [
      rep:repositoryType "graphdb:SailRepository" ;
      sr:sailImpl [
         sail:sailType "graphdb:Sail" ;
         graphdb:ruleset {ruleset} ;
         graphdb:disable-sameAs "true" ;
         graphdb:enable-context-index "true"
      ]
   ] .
"""


class GraphDBStore(Store):
    kind = "graphdb"

    def __init__(self, cfg: StoreConfig) -> None:
        super().__init__(cfg)
        if not cfg.url:
            raise ConfigError(
                "store.url is empty: the GraphDB store needs the server URL (e.g. http://127.0.0.1:7200)"
            )
        check_url("store.url", cfg.url)
        if cfg.auth not in ("basic", "graphdb"):
            raise ConfigError(f"store.auth={cfg.auth!r}: expected 'basic' or 'graphdb'")
        self.base = cfg.url.rstrip("/") + "/"
        self.repo_url = urljoin(self.base, f"repositories/{quote(cfg.repository, safe='')}")
        self.http = HttpClient(cfg, name=f"GraphDB repository {cfg.repository!r}")
        self._token_tried = False

    # ------------------------------------------------------------------ plumbing

    def _request(
        self, method: str, url: str, *, what: str, retry: bool = True, **kwargs: Any
    ) -> requests.Response:
        self._login_once()
        try:
            return self.http.request(method, url, what=what, retry=retry, **kwargs)
        except ClientStoreError as exc:
            if exc.status == 401 and self.cfg.auth == "graphdb" and self._token_tried:
                # A GDB token expires; log in again once and repeat the call.
                self.session_token()
                return self.http.request(method, url, what=what, retry=retry, **kwargs)
            raise

    def _login_once(self) -> None:
        if self.cfg.auth == "graphdb" and self.cfg.username and not self._token_tried:
            self.session_token()

    def session_token(self) -> str:
        """Log in with ``POST /rest/login/{user}`` (password in ``X-GraphDB-Password``); keep the GDB token."""
        self._token_tried = True
        self.http.session.headers.pop("Authorization", None)
        response = self.http.request(
            "POST",
            urljoin(self.base, f"rest/login/{quote(self.cfg.username, safe='')}"),
            what="login",
            headers={"X-GraphDB-Password": self.cfg.password},
        )
        token = response.headers.get("Authorization", "")
        if not token.startswith("GDB "):
            raise StoreError(
                f"GraphDB login at {public_url(self.base)}: no 'Authorization: GDB …' header in the answer"
            )
        self.http.session.headers["Authorization"] = token
        return token

    # ------------------------------------------------------------------ queries

    def _query(self, sparql: str) -> QueryResult:
        graph_query = _query_form(sparql) in ("CONSTRUCT", "DESCRIBE")
        response = self._request(
            "POST",
            self.repo_url,
            what="query",
            params={"infer": str(self.cfg.infer).lower()},
            data=sparql.encode("utf-8"),
            headers={
                "Content-Type": "application/sparql-query; charset=utf-8",
                "Accept": NTRIPLES if graph_query else SPARQL_JSON,
            },
        )
        if graph_query:
            return from_rdf(response.content, "nt")
        try:
            return from_json(response.json())
        except ValueError as exc:
            raise StoreError(f"GraphDB {public_url(self.repo_url)} sent malformed JSON: {exc}") from None

    def update(self, sparql: str) -> None:
        self._request(
            "POST",
            f"{self.repo_url}/statements",
            what="update",
            data=sparql.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        )

    def count(self, graph_iri: str | None = None) -> int:
        if graph_iri is not None:
            return self._size(terms.iri(graph_iri))
        # /size counts the default graph too; kgqa counts named graphs only.
        return self._size(None) - self._size("null")

    def counts(self, graph_iris: Sequence[str]) -> dict[str, int]:
        out = {}
        for g in graph_iris:
            n = self._size(terms.iri(g))
            if n:
                out[g] = n
        return out

    def _size(self, context: str | None) -> int:
        params = {"context": context} if context else None
        response = self._request("GET", f"{self.repo_url}/size", what="size", params=params)
        try:
            return int(response.text.strip())
        except ValueError:
            raise StoreError(f"GraphDB /size answered {response.text[:80]!r}, not a number") from None

    def graphs(self) -> list[str]:
        response = self._request(
            "GET", f"{self.repo_url}/contexts", what="contexts", headers={"Accept": SPARQL_JSON}
        )
        result = from_json(response.json())
        return sorted(str(row[0]) for row in result.rows if row and row[0] is not None)

    # ------------------------------------------------------------------ loading

    def _replace_batch(self, batch: Sequence[PreparedGraph], existing: set[str]) -> None:
        if len(batch) == 1:
            p = batch[0]
            self._request(
                "PUT",
                f"{self.repo_url}/statements",
                what=f"replace context <{p.iri}>",
                params={"context": terms.iri(p.iri)},
                data=p.ntriples.encode("utf-8"),
                headers={"Content-Type": NTRIPLES},
            )
            return
        self._login_once()
        try:
            with_retries(lambda: self._transaction(batch), self.http.policy, "transaction")
        except ClientStoreError as exc:
            if not (exc.status == 401 and self.cfg.auth == "graphdb"):
                raise
            self.session_token()  # the GDB token expired mid-run: log in again, run the batch once more
            with_retries(lambda: self._transaction(batch), self.http.policy, "transaction")

    def _transaction(self, batch: Sequence[PreparedGraph]) -> None:
        """One transaction for the batch; rolled back if any step fails (the caller retries it whole)."""
        response = self.http.request("POST", f"{self.repo_url}/transactions", what="begin transaction",
                                     retry=False, ok=(201,))  # fmt: skip
        location = response.headers.get("Location")
        if not location:
            raise StoreError(
                f"GraphDB {public_url(self.repo_url)}/transactions: 201 without a Location header"
            )
        location = urljoin(self.repo_url + "/", location)
        try:
            drops = " ;\n".join(f"DROP SILENT GRAPH {terms.iri(p.iri)}" for p in batch)
            self.http.request("PUT", location, what="transaction update", retry=False,
                              params={"action": "UPDATE"}, data={"update": drops})  # fmt: skip
            for p in batch:
                self.http.request(
                    "PUT",
                    location,
                    what=f"transaction add <{p.iri}>",
                    retry=False,
                    params={"action": "ADD", "context": terms.iri(p.iri)},
                    data=p.ntriples.encode("utf-8"),
                    headers={"Content-Type": NTRIPLES},
                )
            self.http.request("PUT", location, what="commit", retry=False, params={"action": "COMMIT"})
        except StoreError:
            self._rollback(location)
            raise

    def _rollback(self, location: str) -> None:
        try:
            self.http.request("DELETE", location, what="rollback", retry=False)
        except StoreError as exc:  # the server drops an abandoned transaction on its own
            log.warning("rollback failed (GraphDB will time the transaction out): %s", exc)

    def drop_graph(self, graph_iri: str) -> None:
        self._request("DELETE", f"{self.repo_url}/statements", what=f"drop context <{graph_iri}>",
                      params={"context": terms.iri(graph_iri)})  # fmt: skip

    def drop_all(self) -> None:
        self._request("DELETE", f"{self.repo_url}/statements", what="clear repository")

    # ------------------------------------------------------------------ admin

    def health(self) -> Health:
        target = f"{public_url(self.base)} repository {self.cfg.repository}"
        try:
            response = self._request("GET", f"{self.repo_url}/health", what="health", retry=False,
                                     ok=(200, 206), headers={"Accept": "application/json"})  # fmt: skip
        except StoreError as exc:
            return Health(False, self.kind, target, str(exc))
        try:
            status = response.json().get("status", "")
        except ValueError:
            status = response.text.strip()[:80]
        # GraphDB: 200 green, 206 yellow (degraded but answering), 500 red (an error above).
        return Health(True, self.kind, target, f"status {status or response.status_code}")

    def exists(self) -> bool:
        try:
            self._request("GET", urljoin(self.base, f"rest/repositories/{quote(self.cfg.repository, safe='')}"),
                          what="repository info", headers={"Accept": "application/json"})  # fmt: skip
        except ClientStoreError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def init(self) -> str:
        """Create the repository with ``POST /rest/repositories`` unless it exists."""
        if self.exists():
            return f"GraphDB repository {self.cfg.repository!r} already exists at {public_url(self.base)}"
        config = _REPO_CONFIG.format(
            repo_id=terms.literal_text(self.cfg.repository),
            label=terms.literal_text(f"kgqa patient facts ({self.cfg.repository})"),
            ruleset=terms.literal_text(self.cfg.ruleset),
        )
        self._request(
            "POST",
            urljoin(self.base, "rest/repositories"),
            what="create repository",
            files={"config": ("config.ttl", config.encode("utf-8"), "text/turtle")},
        )
        return f"created GraphDB repository {self.cfg.repository!r} at {public_url(self.base)}"

    def close(self) -> None:
        self.http.close()


def _query_form(sparql: str) -> str:
    """SELECT/ASK/CONSTRUCT/DESCRIBE: the first query-form keyword outside prologue, strings and IRIs."""
    stripped = re.sub(r"#[^\n]*|<[^<>\s]*>|\"[^\"\n]*\"|'[^'\n]*'", " ", sparql)
    match = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", stripped, re.IGNORECASE)
    return match.group(1).upper() if match else "SELECT"
