"""Typed config of the triplestore (Hydra group ``store``)."""

from dataclasses import dataclass
from typing import Optional


@dataclass
class StoreConfig:
    #: embedded | sparql | graphdb
    kind: str = "embedded"
    #: embedded: directory of the on-disk store; empty = in memory
    path: str = ""
    #: sparql: endpoints (SPARQL 1.1 query, update, Graph Store HTTP Protocol)
    query_url: str = ""
    update_url: str = ""
    graph_store_url: str = ""
    #: graphdb: server base URL and repository id
    url: str = ""
    repository: str = "kgqa"
    #: credentials; take the password from the environment, e.g. ${oc.env:KGQA_STORE_PASSWORD,""}
    username: str = ""
    password: str = ""
    #: basic | graphdb (GDB token from /rest/login)
    auth: str = "basic"
    timeout_s: float = 30.0
    batch_size: int = 50
    retries: int = 3
    backoff_s: float = 0.5
    verify: bool = True
