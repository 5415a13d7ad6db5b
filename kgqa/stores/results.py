"""Query results from any backend as one :class:`~kgqa.stores.base.QueryResult` of rdflib terms.

Simple literals come back without a datatype (``Literal("x")``, not ``Literal("x", datatype=xsd:string)``)
whether the backend wrote the datatype or not, so results compare equal across stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from kgqa.errors import StoreError
from kgqa.stores.base import QueryResult

_XSD_STRING = str(XSD.string)
_LANGSTRING = str(RDF.langString)


def make_literal(value: str, lang: str | None, datatype: str | None) -> Literal:
    if lang:
        return Literal(value, lang=lang)
    if not datatype or datatype in (_XSD_STRING, _LANGSTRING):
        return Literal(value)
    return Literal(value, datatype=URIRef(datatype))


# --------------------------------------------------------------------------- SPARQL 1.1 JSON results


def from_json_term(binding: Mapping[str, Any]) -> Node:
    kind, value = binding.get("type"), binding.get("value", "")
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        return make_literal(value, binding.get("xml:lang"), binding.get("datatype"))
    raise StoreError(f"unexpected term type {kind!r} in SPARQL JSON results")


def from_json(doc: Mapping[str, Any]) -> QueryResult:
    """A SPARQL 1.1 Query Results JSON document (SELECT or ASK)."""
    if "boolean" in doc:
        return QueryResult(kind="ask", boolean=bool(doc["boolean"]))
    try:
        columns = tuple(doc["head"]["vars"])
        bindings = doc["results"]["bindings"]
    except (KeyError, TypeError) as exc:
        raise StoreError(f"malformed SPARQL JSON results (missing {exc})") from None
    rows = tuple(tuple(from_json_term(b[c]) if c in b else None for c in columns) for b in bindings)
    return QueryResult(kind="select", columns=columns, rows=rows)


def from_rdf(data: bytes | str, fmt: str) -> QueryResult:
    graph = Graph()
    graph.parse(data=data, format=fmt)
    return QueryResult(kind="graph", graph=graph)


# --------------------------------------------------------------------------- pyoxigraph


def from_ox_term(node: Any) -> Node | None:
    if node is None:
        return None
    if isinstance(node, ox.NamedNode):
        return URIRef(node.value)
    if isinstance(node, ox.BlankNode):
        return BNode(node.value)
    if isinstance(node, ox.Literal):
        return make_literal(node.value, node.language, node.datatype.value if node.datatype else None)
    raise StoreError(f"unexpected term {node!r} in a query result")


def from_ox(result: Any) -> QueryResult:
    if isinstance(result, ox.QueryBoolean):
        return QueryResult(kind="ask", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        columns = tuple(v.value for v in result.variables)
        rows = tuple(tuple(from_ox_term(solution[c]) for c in columns) for solution in result)
        return QueryResult(kind="select", columns=columns, rows=rows)
    graph = Graph()
    for triple in result:
        graph.add((from_ox_term(triple.subject), from_ox_term(triple.predicate), from_ox_term(triple.object)))
    return QueryResult(kind="graph", graph=graph)
