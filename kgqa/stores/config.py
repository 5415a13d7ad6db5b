"""Typed config of the triplestore (Hydra group ``store``)."""

from dataclasses import dataclass, field


@dataclass
class StoreConfig:
    #: embedded | sparql | graphdb (see kgqa.stores.STORES)
    kind: str = "embedded"
    #: embedded: directory of the on-disk store; empty = in memory
    path: str = ""
    #: sparql: endpoints (SPARQL 1.1 query, update, Graph Store HTTP Protocol); an empty
    #: graph_store_url replaces graphs with SPARQL Update (DROP + INSERT DATA) instead of GSP PUT
    query_url: str = ""
    update_url: str = ""
    graph_store_url: str = ""
    #: sparql: ask the endpoint to use the union of named graphs as the default graph (Oxigraph's
    #: ``union-default-graph`` query parameter), so queries see what they see in GraphDB and embedded
    union_default_graph: bool = True
    #: graphdb: server base URL and repository id
    url: str = ""
    repository: str = "kgqa"
    #: graphdb: include inferred statements in query results (GraphDB's ``infer`` parameter)
    infer: bool = False
    #: graphdb: ruleset of the repository ``kgqa store init`` creates
    ruleset: str = "empty"
    #: credentials; take the password from the environment, e.g. ${oc.env:KGQA_STORE_PASSWORD,""}
    username: str = ""
    #: kept out of repr(), so logging a config never shows it
    password: str = field(default="", repr=False)
    #: basic | graphdb (GDB token from POST /rest/login/{user})
    auth: str = "basic"
    timeout_s: float = 30.0
    #: note graphs replaced per request/transaction
    batch_size: int = 50
    #: retries after the first attempt, on connection errors and 5xx only (never on 4xx)
    retries: int = 3
    #: first retry delay; doubles on every further retry, capped at max_backoff_s
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    #: count each graph's triples after a load and report a mismatch as a failure
    verify: bool = True
