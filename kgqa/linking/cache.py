"""On-disk cache of built term indexes, keyed on the source files' path, size and mtime.

Any change to a source file (or to the manifest, the selected sources or the index layout) gives a
new key, so a stale index is never read; old cache files are left for the user's cache cleaner.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

from kgqa.linking.index import INDEX_FORMAT, TermIndex

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kgqa" / "linking"


def cache_key(files: list[Path], extra: object = None) -> str:
    """Digest of the files' identities (resolved path, size, mtime) plus any extra JSON-able context."""
    parts = []
    for f in files:
        st = f.stat()
        parts.append([str(f.resolve()), st.st_size, st.st_mtime_ns])
    blob = json.dumps({"format": INDEX_FORMAT, "files": parts, "extra": extra}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def load_or_build(cache_dir: Path | None, key: str, build: Callable[[], TermIndex]) -> TermIndex:
    """The cached index for ``key``, or ``build()`` written to the cache (atomically) for next time."""
    if cache_dir is None:
        return build()
    path = cache_dir / f"index-{key}.pkl"
    if path.is_file():
        try:
            with open(path, "rb") as fh:
                index = pickle.load(fh)
            if isinstance(index, TermIndex) and index.format == INDEX_FORMAT:
                log.debug("term index from cache %s", path)
                os.utime(path)  # recently used: kept by the pruning below
                return index
        except Exception as exc:  # noqa: BLE001 - a truncated or foreign pickle raises anything; rebuild
            log.warning("ignoring unreadable index cache %s: %s", path, exc)
    index = build()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        _prune(cache_dir)
    except OSError as exc:  # a read-only cache dir must not stop linking
        log.warning("could not write index cache %s: %s", path, exc)
    return index


#: index files kept in a cache directory (least recently used ones go): every source change makes a new one
MAX_CACHE_FILES = 6


def _prune(cache_dir: Path) -> None:
    files = sorted(cache_dir.glob("index-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[MAX_CACHE_FILES:]:
        old.unlink(missing_ok=True)
