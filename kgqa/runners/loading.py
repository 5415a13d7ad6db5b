"""Loading sharded N-Quads into a triplestore.

Two ways, both idempotent (a shard's note graphs are replaced, never appended to):

* through the store interface (any store: embedded, SPARQL 1.1 Graph Store protocol, GraphDB RDF4J),
  shards in parallel, each shard's graphs replaced in one call;
* GraphDB's server-side import (``POST /rest/repositories/{id}/import/server``) for shards that already
  lie in the server's import directory: the server reads the files itself, and ``replaceGraphs``
  makes the import replace each note graph. kgqa then polls the import status until it is done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from kgqa.errors import StoreError
from kgqa.runners.shards import (
    duplicates_across_partitions,
    iter_shard_graphs,
    read_manifest,
    shard_paths,
    skipped_graphs,
)
from kgqa.stores.config import StoreConfig

log = logging.getLogger(__name__)


@dataclass
class ShardLoadReport:
    shards_loaded: list[str] = field(default_factory=list)
    shards_failed: dict[str, str] = field(default_factory=dict)
    graphs: int = 0
    #: notes left out because an earlier shard has their id (see ``duplicates_across_partitions``)
    duplicates: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.shards_failed


def complete_shards(shard_dir: Path) -> list[str]:
    """Names of the complete shards in ``shard_dir`` (manifest present and digest matching)."""
    names = sorted(p.name[: -len(".manifest.json")] for p in Path(shard_dir).glob("*.manifest.json"))
    return [n for n in names if read_manifest(Path(shard_dir), n) is not None]


def load_shards(store, shard_dir: Path, names: Sequence[str] | None = None, parallel: int = 2) -> ShardLoadReport:
    """Replace every note graph of the given (default: all complete) shards in ``store``."""
    shard_dir = Path(shard_dir)
    names = list(names) if names is not None else complete_shards(shard_dir)
    report = ShardLoadReport()
    # shards load in parallel: a note id two shards share would otherwise load in either order
    manifests = {n: m for n in names if (m := read_manifest(shard_dir, n)) is not None}
    duplicates = duplicates_across_partitions(manifests.values())
    report.duplicates = [d.reason for d in duplicates]
    skip = skipped_graphs(duplicates, {m.partition: n for n, m in manifests.items()}.__getitem__)

    def load_one(name: str) -> tuple[str, int, str]:
        nq, _, _ = shard_paths(shard_dir, name)
        try:
            graphs = list(iter_shard_graphs(nq, skip.get(name, ())))
            result = store.replace_graphs(graphs)
            failed = getattr(result, "failed", None)
            if failed:
                first_iri, reason = next(iter(failed.items()))
                return name, 0, f"{len(failed)} graphs failed, e.g. {first_iri}: {reason}"
            return name, len(graphs), ""
        except Exception as exc:  # noqa: BLE001 - one shard failing must not stop the others
            return name, 0, f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        for name, n_graphs, error in pool.map(load_one, names):
            if error:
                report.shards_failed[name] = error
            else:
                report.shards_loaded.append(name)
                report.graphs += n_graphs
    return report


def _graphdb_session(cfg: StoreConfig) -> requests.Session:
    session = requests.Session()
    if cfg.username:
        if cfg.auth == "graphdb":
            resp = session.post(
                f"{cfg.url.rstrip('/')}/rest/login/{cfg.username}",
                headers={"X-GraphDB-Password": cfg.password},
                timeout=cfg.timeout_s,
            )
            if resp.status_code != 200 or "Authorization" not in resp.headers:
                raise StoreError(f"GraphDB login as {cfg.username!r} failed: HTTP {resp.status_code} {resp.text[:200]}")
            session.headers["Authorization"] = resp.headers["Authorization"]
        else:
            session.auth = (cfg.username, cfg.password)
    return session


def graphdb_server_import(
    cfg: StoreConfig,
    shard_dir: Path,
    names: Iterable[str],
    *,
    poll_s: float = 1.0,
    timeout_s: float = 3600.0,
) -> ShardLoadReport:
    """Ask GraphDB to import shard files from its own import directory, replacing each note graph.

    The shard files must already be in GraphDB's server import directory under the same names
    (copy or mount ``shard_dir`` there); the manifests, read here, say which graphs each replaces.
    """
    base = f"{cfg.url.rstrip('/')}/rest/repositories/{cfg.repository}/import/server"
    session = _graphdb_session(cfg)
    report = ShardLoadReport()
    pending: dict[str, str] = {}
    for name in names:
        manifest = read_manifest(Path(shard_dir), name)
        if manifest is None:
            report.shards_failed[name] = "shard is incomplete (no manifest or digest mismatch)"
            continue
        file_name = shard_paths(Path(shard_dir), name)[0].name
        body = {
            "fileNames": [file_name],
            "importSettings": {
                "name": file_name,
                "format": "N-Quads",
                "replaceGraphs": [n["graph"] for n in manifest.notes],
            },
        }
        resp = session.post(base, json=body, timeout=cfg.timeout_s)
        if resp.status_code >= 400:
            report.shards_failed[name] = f"HTTP {resp.status_code}: {resp.text[:300]}"
            continue
        pending[file_name] = name
        report.graphs += len(manifest.notes)
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        resp = session.get(base, timeout=cfg.timeout_s)
        if resp.status_code >= 400:
            raise StoreError(f"GraphDB import status: HTTP {resp.status_code}: {resp.text[:300]}")
        for item in resp.json():
            file_name = item.get("name")
            if file_name not in pending:
                continue
            status = str(item.get("status", "")).upper()
            if status == "DONE":
                report.shards_loaded.append(pending.pop(file_name))
            elif status == "ERROR":
                report.shards_failed[pending.pop(file_name)] = str(item.get("message") or "import failed")
        if pending:
            time.sleep(poll_s)
    for file_name, name in pending.items():
        report.shards_failed[name] = f"import of {file_name} did not finish within {timeout_s:.0f}s"
    return report
