"""RDF terms as text: N-Triples/N-Quads for uploads, SPARQL for bound parameters.

Text from notes reaches the store only through this module. Every IRI is checked against the
characters RDF forbids in an IRIREF (so ``>`` or a newline can never close a term early), every
literal is written in canonical N-Triples escaping (ECHAR for ``\\ " \\n \\r \\t \\b \\f``, UCHAR for the
other control characters), and language tags are checked. The same spelling is valid in SPARQL
(``INSERT DATA``, ``VALUES``), which is why one writer serves both.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from kgqa.errors import StoreError

# IRIREF ::= '<' ([^#x00-#x20<>"{}|^`\] | UCHAR)* '>'  (RDF 1.1 N-Triples, SPARQL 1.1)
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_BNODE = re.compile(r"[^A-Za-z0-9_]")
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_XSD_STRING = str(XSD.string)
_RDF_LANGSTRING = str(RDF.langString)


def _escape_char(match: re.Match) -> str:
    ch = match.group(0)
    return _ECHAR.get(ch) or f"\\u{ord(ch):04X}"


def iri(value: str) -> str:
    """``<value>``, or StoreError if the value could break out of the IRI."""
    value = str(value)
    if not value or _BAD_IRI.search(value):
        raise StoreError(f"not a valid IRI (empty or with a character RDF forbids in IRIs): {value!r}")
    return f"<{value}>"


def literal(value: Literal) -> str:
    lexical = _NEEDS_ESCAPE.sub(_escape_char, str(value))
    if value.language:
        if not _LANG.match(value.language):
            raise StoreError(f"not a valid language tag: {value.language!r}")
        return f'"{lexical}"@{value.language}'
    datatype = value.datatype
    if datatype is None or str(datatype) == _XSD_STRING:
        return f'"{lexical}"'
    return f'"{lexical}"^^{iri(datatype)}'


def literal_text(text: str) -> str:
    """A plain string literal, escaped (for Turtle/SPARQL templates)."""
    return literal(Literal(text))


def term(node: Node, bnode_scope: str = "") -> str:
    """One term in N-Triples (and SPARQL) syntax.

    ``bnode_scope`` prefixes blank-node labels so two graphs written in one request never share a
    blank node by accident.
    """
    if isinstance(node, URIRef):
        return iri(node)
    if isinstance(node, Literal):
        return literal(node)
    if isinstance(node, BNode):
        return f"_:{bnode_scope}{_BNODE.sub('_', str(node)) or 'b'}"
    raise StoreError(f"cannot write {type(node).__name__} {node!r} as an RDF term")


def triples(graph: Graph, bnode_scope: str = "") -> Iterator[str]:
    """The graph's triples as N-Triples lines (no trailing newline)."""
    # Note graphs repeat the same IRIs (fact, case, predicates) many times: write each term once.
    cache: dict[Node, str] = {}
    for s, p, o in graph:
        ts = cache.get(s) or cache.setdefault(s, term(s, bnode_scope))
        tp = cache.get(p) or cache.setdefault(p, term(p, bnode_scope))
        to = cache.get(o) or cache.setdefault(o, term(o, bnode_scope))
        yield f"{ts} {tp} {to} ."


def ntriples(graph: Graph, bnode_scope: str = "") -> str:
    return "".join(line + "\n" for line in triples(graph, bnode_scope))


def bnode_scope(graph_iri: str) -> str:
    """A blank-node label prefix unique to the graph (deterministic, so re-runs write the same text)."""
    return "g" + hashlib.sha1(graph_iri.encode("utf-8")).hexdigest()[:10] + "_"


def graph_name(graph: Graph) -> str:
    """The graph's IRI (its identifier); note graphs must be named by an IRI, never a blank node."""
    if not isinstance(graph.identifier, URIRef):
        raise StoreError(f"a graph to load must be named by an IRI, not {graph.identifier!r}")
    iri(graph.identifier)
    return str(graph.identifier)


# --------------------------------------------------------------------------- bound parameters

_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Tokens that can contain braces or keywords without being syntax: strings, IRIs, comments.
_SKIP = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*'
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def bind(sparql: str, bindings: Mapping[str, Node] | None) -> str:
    """``sparql`` with ``VALUES (?a ?b) { (term term) }`` opening its outermost WHERE group.

    Inline data at the start of the top-level group is joined before everything else in that
    group, so the bound variables are visible to its triple patterns, FILTERs, BINDs and
    OPTIONALs — the same for the embedded store, Oxigraph, Fuseki and GraphDB. (Subqueries do not
    see them: name parameters in the top-level group only.) Terms are written by :func:`term`, so
    a bound literal can never end the query early.
    """
    if not bindings:
        return sparql
    names, values = [], []
    for name, value in bindings.items():
        name = name.lstrip("?$")
        if not _VAR.match(name):
            raise StoreError(f"not a SPARQL variable name: {name!r}")
        if not isinstance(value, (URIRef, Literal)):
            raise StoreError(f"parameter ?{name}: bind an IRI or a literal, not {type(value).__name__}")
        names.append(f"?{name}")
        values.append(term(value))
    where = _where_brace(sparql)
    block = f" VALUES ({' '.join(names)}) {{ ({' '.join(values)}) }}"
    return sparql[: where + 1] + block + sparql[where + 1 :]


def _where_brace(sparql: str) -> int:
    """Index of the ``{`` opening the top-level WHERE group (strings, IRIs and comments skipped)."""
    pos, depth, first_brace, saw_where = 0, 0, -1, False
    while pos < len(sparql):
        skip = _SKIP.match(sparql, pos)
        if skip and skip.end() > pos:
            pos = skip.end()
            continue
        ch = sparql[pos]
        if ch == "{":
            if depth == 0:
                if saw_where:
                    return pos
                if first_brace < 0:
                    first_brace = pos
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and (ch.isalpha() or ch == "_"):
            word = _WORD.match(sparql, pos)
            assert word is not None
            if word.group(0).upper() == "WHERE" and (pos == 0 or sparql[pos - 1] not in "?$:"):
                saw_where = True
            pos = word.end()
            continue
        pos += 1
    if first_brace < 0:
        raise StoreError("cannot bind parameters: the query has no WHERE group")
    # No WHERE keyword: `SELECT * { … }`, `ASK { … }` (CONSTRUCT always has one before its pattern).
    return first_brace
