"""An in-test HTTP server speaking the GraphDB endpoints kgqa uses, as RDF4J and Ontotext document them.

Storage and SPARQL evaluation are a real pyoxigraph store (union default graph, like GraphDB).
What it checks as a real server would: ``context`` must be N-Triples-encoded (``<iri>`` or ``null``),
RDF bodies need an RDF content type (415 otherwise), unknown repositories and transactions give 404,
writes answer 204, a new transaction answers 201 with a ``Location``, authentication failures give
401 and a read-only user gets 403, and every error body reads ``TYPE: message``. Transactions are
isolated: nothing is visible until COMMIT, which applies all actions in one pyoxigraph update.
Faults can be queued (status, body, how many times, which request) to test retries and atomicity.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

import pyoxigraph as ox

RDF_TYPES = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
             "text/turtle": ox.RdfFormat.TURTLE, "application/n-quads": ox.RdfFormat.N_QUADS}  # fmt: skip
_NT_IRI = re.compile(r"^<([^<>\"{}|^`\\\x00-\x20]*)>$")

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11


@dataclass
class Fault:
    status: int
    body: str
    times: int
    match: Callable[[str, str, dict], bool]


@dataclass
class Transaction:
    actions: list[str] = field(default_factory=list)


@dataclass
class GraphDBState:
    users: dict[str, str] = field(default_factory=dict)  # user -> password; empty = security off
    readonly: set[str] = field(default_factory=set)
    repositories: dict[str, ox.Store] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # token -> user
    transactions: dict[str, Transaction] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def fail(self, status: int, body: str, *, times: int = 1, skip: int = 0, method: str | None = None,
             path: str | None = None, action: str | None = None) -> None:  # fmt: skip
        """Answer ``status``/``body`` to ``times`` matching requests, after letting ``skip`` of them through."""
        passed = {"n": 0}

        def match(m: str, p: str, q: dict) -> bool:
            hit = ((method is None or m == method) and (path is None or path in p)
                   and (action is None or q.get("action", [""])[0] == action))  # fmt: skip
            if hit and passed["n"] < skip:
                passed["n"] += 1
                return False
            return hit

        self.faults.append(Fault(status, body, times, match))

    def calls(self, method: str | None = None, path: str = "", action: str | None = None) -> int:
        return sum(
            1 for m, p, _ in self.log
            if (method is None or m == method) and path in p and (action is None or f"action={action}" in p)
        )  # fmt: skip


class GraphDBError(Exception):
    def __init__(self, status: int, body: str) -> None:
        self.status, self.body = status, body


def _context(query: dict) -> tuple[bool, ox.NamedNode | ox.DefaultGraph | None]:
    """(given, graph) for the N-Triples-encoded ``context`` parameter."""
    if "context" not in query:
        return False, None
    value = query["context"][0]
    if value == "null":
        return True, ox.DefaultGraph()
    match = _NT_IRI.match(value)
    if not match:
        raise GraphDBError(400, f"MALFORMED REQUEST: Invalid value for parameter 'context': {value}")
    return True, ox.NamedNode(match.group(1))


def _nt(graph: ox.NamedNode | ox.DefaultGraph) -> str:
    return f"<{graph.value}>" if isinstance(graph, ox.NamedNode) else ""


class _Handler(BaseHTTPRequestHandler):
    state: GraphDBState
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    # ----------------------------------------------------------------- dispatch

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            with self.state.lock:
                for fault in self.state.faults:
                    if fault.times > 0 and fault.match(self.command, parts.path, query):
                        fault.times -= 1
                        raise GraphDBError(fault.status, fault.body)
            self._authenticate(parts.path)
            status, out, headers = self._route(parts.path, query, body)
        except GraphDBError as exc:
            status, out, headers = exc.status, exc.body.encode(), {"Content-Type": "text/plain"}
        self._reply(status, out, headers)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def _reply(self, status: int, data: bytes, headers: dict) -> None:
        with self.state.lock:
            self.state.log.append((self.command, self.path, status))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authenticate(self, path: str) -> None:
        st = self.state
        if not st.users or path.startswith("/rest/login/"):
            return
        auth = self.headers.get("Authorization", "")
        user = None
        if auth.startswith("Basic "):
            try:
                name, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                name, pw = "", ""
            if st.users.get(name) == pw:
                user = name
        elif auth.startswith("GDB "):
            user = st.tokens.get(auth[4:])
        if user is None:
            raise GraphDBError(401, "Unauthorized")
        if user in st.readonly and self.command != "GET" and not self._is_query(path):
            raise GraphDBError(403, "Forbidden: Insufficient privileges")

    def _is_query(self, path: str) -> bool:
        return re.fullmatch(r"/repositories/[^/]+", path) is not None

    def _route(self, path: str, query: dict, body: bytes) -> tuple[int, bytes, dict]:
        st = self.state
        if m := re.fullmatch(r"/rest/login/([^/]+)", path):
            user = unquote(m.group(1))
            if self.command != "POST" or st.users.get(user) != self.headers.get("X-GraphDB-Password"):
                raise GraphDBError(401, "Bad credentials")
            token = secrets.token_hex(8)
            st.tokens[token] = user
            return 200, b"{}", {"Authorization": f"GDB {token}", "Content-Type": "application/json"}
        if path == "/rest/repositories" and self.command == "POST":
            return self._create_repository(body)
        if m := re.fullmatch(r"/rest/repositories/([^/]+)", path):
            self._repo(unquote(m.group(1)))
            return 200, json.dumps({"id": unquote(m.group(1))}).encode(), {"Content-Type": "application/json"}
        m = re.fullmatch(r"/repositories/([^/]+)(/.*)?", path)
        if not m:
            raise GraphDBError(404, f"NOT FOUND: {path}")
        store = self._repo(unquote(m.group(1)))
        rest = m.group(2) or ""
        if rest == "":
            return self._query(store, query, body)
        if rest == "/statements":
            return self._statements(store, query, body)
        if rest == "/size":
            given, graph = _context(query)
            n = len(list(store.quads_for_pattern(None, None, None, graph))) if given else len(store)
            return 200, str(n).encode(), {"Content-Type": "text/plain"}
        if rest == "/contexts":
            rows = [{"contextID": {"type": "uri", "value": g.value}} for g in store.named_graphs()
                    if any(True for _ in store.quads_for_pattern(None, None, None, g))]  # fmt: skip
            doc = {"head": {"vars": ["contextID"]}, "results": {"bindings": rows}}
            return 200, json.dumps(doc).encode(), {"Content-Type": "application/sparql-results+json"}
        if rest == "/health":
            return 200, b'{"status":"green"}', {"Content-Type": "application/json"}
        if rest == "/transactions" and self.command == "POST":
            tx = str(uuid.uuid4())
            st.transactions[tx] = Transaction()
            host = self.headers.get("Host", "127.0.0.1")
            return 201, b"", {"Location": f"http://{host}/repositories/{m.group(1)}/transactions/{tx}"}
        if t := re.fullmatch(r"/transactions/([^/]+)", rest):
            return self._transaction(store, t.group(1), query, body)
        raise GraphDBError(404, f"NOT FOUND: {path}")

    def _repo(self, repo_id: str) -> ox.Store:
        store = self.state.repositories.get(repo_id)
        if store is None:
            raise GraphDBError(404, f"Unknown repository: {repo_id}")
        return store

    def _content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def _rdf_format(self) -> ox.RdfFormat:
        ctype = self._content_type()
        if ctype not in RDF_TYPES:
            raise GraphDBError(415, f"UNSUPPORTED MEDIA TYPE: Unsupported MIME type: {ctype or '(none)'}")
        return RDF_TYPES[ctype]

    # ----------------------------------------------------------------- endpoints

    def _create_repository(self, body: bytes) -> tuple[int, bytes, dict]:
        if self._content_type() != "multipart/form-data":
            raise GraphDBError(415, f"UNSUPPORTED MEDIA TYPE: Unsupported MIME type: {self._content_type()}")
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        config = next((p.get_payload(decode=True) for p in message.iter_parts()
                       if p.get_param("name", header="content-disposition") == "config"), None)  # fmt: skip
        if config is None:
            raise GraphDBError(400, "BAD REQUEST: missing 'config' part")
        tmp = ox.Store()
        try:
            tmp.load(config, format=ox.RdfFormat.TURTLE)
        except SyntaxError as exc:
            raise GraphDBError(400, f"MALFORMED DATA: {exc}") from None
        ids = [q.object.value for q in tmp.quads_for_pattern(
            None, ox.NamedNode("http://www.openrdf.org/config/repository#repositoryID"), None)]  # fmt: skip
        if not ids:
            raise GraphDBError(400, "BAD REQUEST: no rep:repositoryID in the config")
        if ids[0] in self.state.repositories:
            raise GraphDBError(400, f"BAD REQUEST: Repository {ids[0]} already exists.")
        self.state.repositories[ids[0]] = ox.Store()
        return 201, b"", {}

    def _query(self, store: ox.Store, query: dict, body: bytes) -> tuple[int, bytes, dict]:
        if self.command == "GET":
            text = query.get("query", [""])[0]
        elif self._content_type() == "application/sparql-query":
            text = body.decode("utf-8")
        elif self._content_type() == "application/x-www-form-urlencoded":
            text = parse_qs(body.decode())["query"][0]
        else:
            raise GraphDBError(415, f"UNSUPPORTED MEDIA TYPE: Unsupported MIME type: {self._content_type()}")
        try:
            result = store.query(text, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise GraphDBError(400, f"MALFORMED QUERY: {exc}") from None
        if isinstance(result, ox.QueryTriples):
            data = ox.serialize(result, format=ox.RdfFormat.N_TRIPLES)
            return 200, data, {"Content-Type": "application/n-triples"}
        data = result.serialize(format=ox.QueryResultsFormat.JSON)
        return 200, data, {"Content-Type": "application/sparql-results+json"}

    def _statements(self, store: ox.Store, query: dict, body: bytes) -> tuple[int, bytes, dict]:
        given, graph = _context(query)
        if self.command == "POST":
            if self._content_type() != "application/sparql-update":
                fmt = self._rdf_format()
                store.load(body, format=fmt, to_graph=graph if given else ox.DefaultGraph())
                return 204, b"", {}
            try:
                store.update(body.decode("utf-8"))
            except SyntaxError as exc:
                raise GraphDBError(400, f"MALFORMED QUERY: {exc}") from None
            return 204, b"", {}
        if self.command == "PUT":
            fmt = self._rdf_format()
            target = graph if given else None
            update = (
                f"DROP SILENT GRAPH {_nt(target)}" if isinstance(target, ox.NamedNode) else "DROP SILENT ALL"
            )
            data = _as_insert(body, fmt, target)
            store.update(f"{update} ; {data}")  # one transaction: the context is replaced atomically
            return 204, b"", {}
        if self.command == "DELETE":
            if given and isinstance(graph, ox.NamedNode):
                store.update(f"DROP SILENT GRAPH {_nt(graph)}")
            else:
                store.clear()
            return 204, b"", {}
        raise GraphDBError(405, f"METHOD NOT ALLOWED: {self.command}")

    def _transaction(self, store: ox.Store, tx_id: str, query: dict, body: bytes) -> tuple[int, bytes, dict]:
        st = self.state
        tx = st.transactions.get(tx_id)
        if tx is None:
            raise GraphDBError(404, f"UNKNOWN TRANSACTION: Unknown transaction with id {tx_id}")
        if self.command == "DELETE":
            del st.transactions[tx_id]
            return 204, b"", {}
        action = query.get("action", [""])[0]
        if action == "UPDATE":
            if self._content_type() == "application/x-www-form-urlencoded":
                text = parse_qs(body.decode())["update"][0]
            elif self._content_type() == "application/sparql-update":
                text = body.decode()
            else:
                raise GraphDBError(
                    415, f"UNSUPPORTED MEDIA TYPE: Unsupported MIME type: {self._content_type()}"
                )
            tx.actions.append(text)
            return 200, b"", {}
        if action == "ADD":
            given, graph = _context(query)
            tx.actions.append(_as_insert(body, self._rdf_format(), graph if given else None))
            return 200, b"", {}
        if action == "COMMIT":
            del st.transactions[tx_id]
            try:
                if tx.actions:
                    store.update(" ;\n".join(tx.actions))
            except SyntaxError as exc:
                raise GraphDBError(400, f"MALFORMED QUERY: {exc}") from None
            return 200, b"", {}
        raise GraphDBError(400, f"MALFORMED REQUEST: unknown action {action!r}")


def _as_insert(body: bytes, fmt: ox.RdfFormat, graph) -> str:
    """RDF data as an INSERT DATA (parsed and re-serialised: a syntax error is a 400 like GraphDB's)."""
    try:
        quads = list(ox.parse(body, format=fmt))
    except SyntaxError as exc:
        raise GraphDBError(400, f"MALFORMED DATA: {exc}") from None
    lines = []
    for q in quads:
        triple = f"{q.subject} {q.predicate} {q.object} ."
        g = graph or q.graph_name
        lines.append(f"GRAPH {g} {{ {triple} }}" if isinstance(g, ox.NamedNode) else triple)
    return "INSERT DATA { " + "\n".join(lines) + " }"


class FakeGraphDB:
    def __init__(
        self, users: dict[str, str] | None = None, repositories: tuple[str, ...] = ("kgqa",)
    ) -> None:
        self.state = GraphDBState(users=dict(users or {}))
        for repo in repositories:
            self.state.repositories[repo] = ox.Store()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def repo(self, repo_id: str = "kgqa") -> ox.Store:
        return self.state.repositories[repo_id]

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
