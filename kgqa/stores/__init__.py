"""Triplestores: one interface (:class:`Store`), three backends chosen by ``store.kind``.

``open_store(cfg)`` returns an embedded pyoxigraph store, a SPARQL 1.1 endpoint client or a GraphDB
(RDF4J REST) client; all replace note graphs idempotently, report each load in a :class:`LoadReport`,
and answer queries over the union of the named graphs. See docs/stores.md.
"""

from __future__ import annotations

from collections.abc import Callable

from kgqa.errors import ConfigError
from kgqa.stores.base import Health, LoadReport, QueryResult, Store
from kgqa.stores.config import StoreConfig


def _embedded(cfg: StoreConfig) -> Store:
    from kgqa.stores.embedded import EmbeddedStore

    return EmbeddedStore(cfg)


def _sparql(cfg: StoreConfig) -> Store:
    from kgqa.stores.endpoint import SparqlEndpointStore

    return SparqlEndpointStore(cfg)


def _graphdb(cfg: StoreConfig) -> Store:
    from kgqa.stores.graphdb import GraphDBStore

    return GraphDBStore(cfg)


#: store.kind -> constructor
STORES: dict[str, Callable[[StoreConfig], Store]] = {
    "embedded": _embedded,
    "sparql": _sparql,
    "graphdb": _graphdb,
}


def open_store(cfg: StoreConfig) -> Store:
    """The store ``cfg.kind`` names, opened (use it as a context manager)."""
    try:
        factory = STORES[cfg.kind]
    except KeyError:
        raise ConfigError(f"store.kind={cfg.kind!r} is not one of {', '.join(sorted(STORES))}") from None
    return factory(cfg)


__all__ = ["STORES", "Health", "LoadReport", "QueryResult", "Store", "StoreConfig", "open_store"]
