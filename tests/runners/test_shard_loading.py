"""Loading shards: through the store interface (embedded) and GraphDB's server-side import (in-test server)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import rdflib

from kgqa.runners.loading import complete_shards, graphdb_server_import, load_shards
from kgqa.runners.shards import ShardEntry, write_shard
from kgqa.stores.config import StoreConfig

EX = rdflib.Namespace("https://ex.org/")


def _graph(name, n, tag="v1"):
    g = rdflib.Graph(identifier=EX[f"graph/{name}"])
    for i in range(n):
        g.add((EX[f"{name}/s{i}"], EX.p, rdflib.Literal(f"{tag}-{i}")))
    return g


def _shards(tmp_path, tag="v1"):
    write_shard(tmp_path, "part-00000", 0, [ShardEntry("a", "x", _graph("a", 2, tag)), ShardEntry("b", "x", _graph("b", 3, tag))], [])
    write_shard(tmp_path, "part-00001", 1, [ShardEntry("c", "x", _graph("c", 4, tag))], [])
    return tmp_path


def test_load_shards_into_embedded_store_is_idempotent(tmp_path):
    from kgqa.stores import open_store

    shard_dir = _shards(tmp_path / "s1")
    with open_store(StoreConfig(kind="embedded", path="")) as store:
        report = load_shards(store, shard_dir)
        assert report.ok and report.graphs == 3 and sorted(report.shards_loaded) == ["part-00000", "part-00001"]
        assert store.count() == 9
        load_shards(store, shard_dir)
        assert store.count() == 9  # replaced, not appended
        load_shards(store, _shards(tmp_path / "s2", tag="v2"))
        assert store.count() == 9
        rows = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?o), 'v1')) }").python()
        assert rows[0]["n"] == 0


class _FakeGraphDB(BaseHTTPRequestHandler):
    """GraphDB's /rest/repositories/{id}/import/server as documented: POST starts, GET lists statuses."""

    imports: ClassVar[dict] = {}
    bodies: ClassVar[list] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, code, body=b"", ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path != "/rest/repositories/kgqa/import/server":
            return self._send(404, b"Repository not found", "text/plain")
        if self.headers.get("Authorization") is None:
            return self._send(401, b"Unauthorized", "text/plain")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        name = body["importSettings"]["name"]
        type(self).imports[name] = "ERROR" if "00001" in name else "DONE"
        self._send(202)

    def do_GET(self):
        items = [{"name": n, "status": s, "message": "parse error" if s == "ERROR" else ""} for n, s in self.imports.items()]
        self._send(200, json.dumps(items).encode())


@pytest.fixture
def fake_graphdb():
    _FakeGraphDB.imports, _FakeGraphDB.bodies = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeGraphDB)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_graphdb_server_import_replaces_note_graphs(tmp_path, fake_graphdb):
    shard_dir = _shards(tmp_path)
    cfg = StoreConfig(kind="graphdb", url=fake_graphdb, repository="kgqa", username="u", password="secret-pw")
    report = graphdb_server_import(cfg, shard_dir, complete_shards(shard_dir), poll_s=0.01, timeout_s=5)
    assert report.shards_loaded == ["part-00000"]
    assert report.shards_failed == {"part-00001": "parse error"}
    first = _FakeGraphDB.bodies[0]
    assert first["fileNames"] == ["part-00000.nq"]
    assert set(first["importSettings"]["replaceGraphs"]) == {str(EX["graph/a"]), str(EX["graph/b"])}
    assert "secret-pw" not in json.dumps(_FakeGraphDB.bodies)


def test_graphdb_server_import_without_credentials_reports_401(tmp_path, fake_graphdb):
    shard_dir = _shards(tmp_path)
    cfg = StoreConfig(kind="graphdb", url=fake_graphdb, repository="kgqa")
    report = graphdb_server_import(cfg, shard_dir, ["part-00000"], poll_s=0.01, timeout_s=2)
    assert "HTTP 401" in report.shards_failed["part-00000"]


def test_load_shards_leaves_out_a_note_id_an_earlier_shard_has(tmp_path):
    from kgqa.stores import open_store

    write_shard(tmp_path, "part-00000", 0, [ShardEntry("a", "x", _graph("a", 2))], [])
    write_shard(tmp_path, "part-00001", 1, [ShardEntry("c", "x", _graph("c", 4)), ShardEntry("a", "y", _graph("a-again", 5))], [])
    with open_store(StoreConfig(kind="embedded", path="")) as store:
        report = load_shards(store, tmp_path, parallel=2)
        # "a" (2 triples) and "c" (4); the second "a" (5 triples) is not loaded
        assert report.ok and report.graphs == 2 and store.count() == 6
        assert len(report.duplicates) == 1 and "'a'" in report.duplicates[0]
