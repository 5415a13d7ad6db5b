"""Hand-made note graphs and store configs for the store tests (imported by test modules)."""

from __future__ import annotations

from dataclasses import replace

from rdflib import Graph, Literal, Namespace
from rdflib.namespace import XSD

from kgqa.stores import StoreConfig

EX = Namespace("https://kgqa.example.org/test/")

#: Literals that would end a string, an IRI or a block if they were formatted into SPARQL/N-Triples.
NASTY = (
    'quote " inside',
    "single ' quote",
    'triple """ quotes',
    "new\nline and\r\ncrlf",
    "angle > bracket <",
    "brace } ; DROP ALL ; INSERT DATA { <x> <y> <z> } #",
    "back\\slash \\\\ and \\u0022 escape",
    "nul\x00 and controls \x01\x07\x1b\x7f",
    "tab\tform\fbackspace\b",
    "unicode: Ελληνικά, Čeština, 😀, \u2028 line sep",
)


def note_graph(note: str, version: int, n: int = 5) -> Graph:
    """A small note graph; ``version`` changes values and the number of triples."""
    g = Graph(identifier=EX[f"graph/{note}"])
    case = EX[f"case/{note}"]
    for i in range(n + version):
        fact = EX[f"fact/{note}/{i}"]
        g.add((case, EX.hasFact, fact))
        g.add((fact, EX.value, Literal(i * 10 + version, datatype=XSD.integer)))
        g.add((fact, EX.label, Literal(f"{note} fact {i} v{version}", lang="en")))
    g.add((case, EX.version, Literal(version)))
    return g


def nasty_graph() -> Graph:
    g = Graph(identifier=EX["graph/nasty"])
    for i, text in enumerate(NASTY):
        g.add((EX[f"s{i}"], EX.text, Literal(text)))
    g.add((EX.s0, EX.langText, Literal(NASTY[5], lang="en-GB")))
    return g


def quads(graphs) -> set:
    return {(str(g.identifier), s, p, o) for g in graphs for s, p, o in g}


def store_quads(store) -> set:
    rows = store.query("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }").rows
    return {(str(g), s, p, o) for g, s, p, o in rows}


def fast_retries(cfg: StoreConfig, retries: int = 3) -> StoreConfig:
    return replace(cfg, retries=retries, backoff_s=0.01, max_backoff_s=0.05, timeout_s=10.0)


def sparql_config(base: str, *, gsp: bool = True, **kw) -> StoreConfig:
    cfg = StoreConfig(kind="sparql", query_url=f"{base}/query", update_url=f"{base}/update",
                      graph_store_url=f"{base}/store" if gsp else "", batch_size=3, **kw)  # fmt: skip
    return fast_retries(cfg)


def graphdb_config(url: str, **kw) -> StoreConfig:
    return fast_retries(StoreConfig(kind="graphdb", url=url, repository="kgqa", batch_size=3, **kw))
