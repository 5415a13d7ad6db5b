"""Named SPARQL queries: ``queries/NAME.rq``, loaded by name, documented in their header comment.

A query file opens with comment lines in this shape (docs/stores.md has the full rules)::

    # Purpose: Door-to-needle time of every thrombolysed case.
    # Parameters:
    #   max_minutes (integer, default 60): the threshold, in minutes
    #   fact (iri, required): the fact to explain
    # Columns:
    #   case: the clinical case (resq:ClinicalCase)
    #   minutes: door-to-needle time in minutes

Parameter values arrive as strings (``kgqa query NAME max_minutes=45``) or rdflib terms, are
turned into RDF terms of the declared type, and are bound by the store (a VALUES block written
term by term) — never formatted into the query text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from kgqa import PROJECT_ROOT
from kgqa.errors import QueryError, StoreError
from kgqa.stores import terms
from kgqa.stores.base import QueryResult, Store

QUERIES_DIR = PROJECT_ROOT / "queries"

_SECTION = re.compile(r"^(purpose|parameters|columns)\s*:\s*(.*)$", re.IGNORECASE)
_PARAM = re.compile(r"^(\w+)\s*\(\s*([\w:]+)\s*(?:,\s*(required|optional|default\s+(.+?)))?\s*\)\s*:\s*(.+)$")
_COLUMN = re.compile(r"^(\w+)\s*:\s*(.+)$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _integer(raw: str) -> Literal:
    return Literal(str(int(raw)), datatype=XSD.integer)


def _decimal(raw: str) -> Literal:
    return Literal(str(Decimal(raw)), datatype=XSD.decimal)


def _double(raw: str) -> Literal:
    return Literal(repr(float(raw)), datatype=XSD.double)


def _boolean(raw: str) -> Literal:
    value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[
        raw.strip().lower()
    ]
    return Literal(value)


def _date(raw: str) -> Literal:
    return Literal(dt.date.fromisoformat(raw).isoformat(), datatype=XSD.date)


def _datetime(raw: str) -> Literal:
    return Literal(dt.datetime.fromisoformat(raw).isoformat(), datatype=XSD.dateTime)


def _iri(raw: str) -> URIRef:
    value = raw.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    terms.iri(value)  # raises on a character that could break out of the IRI
    if ":" not in value:
        raise ValueError("an absolute IRI needs a scheme (https://…)")
    return URIRef(value)


#: parameter type (as written in a header) -> parser of the command-line string
PARAMETER_TYPES = {
    "iri": _iri,
    "string": Literal,
    "integer": _integer,
    "decimal": _decimal,
    "double": _double,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
}


@dataclass(frozen=True)
class QueryParameter:
    name: str
    type: str
    description: str
    required: bool = False
    default: str | None = None

    def coerce(self, raw: str | Node, query: str) -> Node:
        if isinstance(raw, (URIRef, Literal)):
            return raw
        try:
            return PARAMETER_TYPES[self.type](str(raw))
        except (ValueError, KeyError, InvalidOperation, StoreError) as exc:
            raise QueryError(
                f"query {query!r}: parameter {self.name}={raw!r} is not a valid {self.type} ({exc})"
            ) from None


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    purpose: str
    parameters: tuple[QueryParameter, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()  # (name, description)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def bindings(self, values: Mapping[str, str | Node] | None = None) -> dict[str, Node]:
        """The RDF terms to bind: given values coerced to their declared type, defaults filled in."""
        values = dict(values or {})
        declared = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(declared))
        if unknown:
            valid = ", ".join(declared) or "none"
            raise QueryError(
                f"query {self.name!r}: unknown parameter(s) {', '.join(unknown)}; valid: {valid}"
            )
        out: dict[str, Node] = {}
        for p in self.parameters:
            if p.name in values:
                out[p.name] = p.coerce(values[p.name], self.name)
            elif p.default is not None:
                out[p.name] = p.coerce(p.default, self.name)
            elif p.required:
                raise QueryError(
                    f"query {self.name!r}: parameter {p.name!r} ({p.type}) is required: {p.description}"
                )
        return out


def parse_header(name: str, path: Path, text: str) -> NamedQuery:
    """Read the leading comment block of a query file."""
    purpose: list[str] = []
    params: list[QueryParameter] = []
    columns: list[tuple[str, str]] = []
    section = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        body = stripped.lstrip("#").strip()
        if not body:
            continue
        head = _SECTION.match(body)
        if head:
            section, rest = head.group(1).lower(), head.group(2).strip()
            if section == "purpose" and rest:
                purpose.append(rest)
            elif section != "purpose" and rest and rest.lower() not in ("none", "none."):
                raise QueryError(f"{path}:{number}: list {section} one per line under '{head.group(1)}:'")
            continue
        if section == "purpose":
            purpose.append(body)
        elif section == "parameters":
            m = _PARAM.match(body)
            if not m:
                raise QueryError(
                    f"{path}:{number}: parameter line must read 'name (type[, required|default V]): text'"
                )
            pname, ptype, flag, default, description = m.groups()
            ptype = ptype.lower().removeprefix("xsd:")
            if ptype not in PARAMETER_TYPES:
                raise QueryError(f"{path}:{number}: parameter {pname!r} has unknown type {ptype!r}; "
                                 f"valid: {', '.join(PARAMETER_TYPES)}")  # fmt: skip
            params.append(QueryParameter(pname, ptype, description.strip(), flag == "required", default))
        elif section == "columns":
            m = _COLUMN.match(body)
            if not m:
                raise QueryError(f"{path}:{number}: column line must read 'name: description'")
            columns.append((m.group(1), m.group(2).strip()))
    if not purpose:
        raise QueryError(f"{path}: the header comment has no 'Purpose:'")
    query = NamedQuery(name, path, text, " ".join(purpose), tuple(params), tuple(columns))
    body_text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for p in params:
        if not re.search(rf"[?$]{p.name}\b", body_text):
            raise QueryError(f"{path}: parameter {p.name!r} is declared but the query never uses ?{p.name}")
    return query


def query_path(name: str, directory: Path | None = None) -> Path:
    return (directory or QUERIES_DIR) / f"{name}.rq"


def list_queries(directory: Path | None = None) -> list[str]:
    """Names of the queries in ``queries/`` (file stems), sorted."""
    return sorted(p.stem for p in (directory or QUERIES_DIR).glob("*.rq"))


def load_query(name: str, directory: Path | None = None) -> NamedQuery:
    if not _NAME.match(name):
        raise QueryError(f"not a query name: {name!r} (lower-case letters, digits and _)")
    path = query_path(name, directory)
    if not path.is_file():
        known = ", ".join(list_queries(directory)) or "none"
        raise QueryError(f"unknown query {name!r} (no {path}); known: {known}")
    return parse_header(name, path, path.read_text(encoding="utf-8"))


def run_query(
    store: Store, query: NamedQuery | str, params: Mapping[str, str | Node] | None = None
) -> QueryResult:
    """Run a named query on a store with its parameters bound."""
    named = load_query(query) if isinstance(query, str) else query
    return store.query(named.text, named.bindings(params))


# --------------------------------------------------------------------------- output

#: prefixes used to shorten IRIs in tables (CSV and JSON keep full IRIs)
TABLE_PREFIXES = {
    "resq:": "http://www.semanticweb.org/catimc/resqplus#",
    "scdm:": "http://www.semanticweb.org/catimc/SemanticCommonDataModel#",
    "sct:": "http://snomed.info/id/",
    "rv:": "https://w3id.org/kgqa/resq-vocab#",
    "kgqa:": "https://w3id.org/kgqa/vocab#",
    "oa:": "http://www.w3.org/ns/oa#",
    "prov:": "http://www.w3.org/ns/prov#",
}


def _cell(node: Node | None, short: bool) -> str:
    if node is None:
        return ""
    if short and isinstance(node, Literal) and node.datatype in _FRACTIONAL:
        # a table is for reading: "0.333" rather than Oxigraph's 18 digits (csv and json keep them all)
        return f"{float(node):.4g}"
    text = str(node)
    if short and isinstance(node, URIRef):
        for prefix, ns in TABLE_PREFIXES.items():
            if text.startswith(ns):
                return prefix + text[len(ns) :]
    return text


_FRACTIONAL = frozenset({XSD.decimal, XSD.double, XSD.float})


def _json_value(node: Node | None) -> object:
    if node is None:
        return None
    if isinstance(node, Literal):
        value = node.toPython()
        if isinstance(value, bool) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return value
        if isinstance(value, Decimal):
            return float(value)
        return str(node)
    return str(node)


def format_result(result: QueryResult, fmt: str = "table") -> str:
    """A result as an aligned text table, CSV or JSON (rows as objects; ASK as a boolean)."""
    if fmt not in ("table", "csv", "json"):
        raise QueryError(f"unknown output format {fmt!r}; valid: table, csv, json")
    if result.kind == "ask":
        return json.dumps(result.boolean) if fmt == "json" else str(result.boolean).lower()
    if result.kind == "graph":
        assert result.graph is not None
        return result.graph.serialize(format="json-ld" if fmt == "json" else "nt")
    if fmt == "json":
        rows = [{c: _json_value(v) for c, v in zip(result.columns, row)} for row in result.rows]
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([_cell(v, short=False) for v in row] for row in result.rows)
        return out.getvalue()
    cells = [[_cell(v, short=True).replace("\n", "\\n") for v in row] for row in result.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(result.columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(result.columns, widths)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.append(f"({len(cells)} row{'s' * (len(cells) != 1)})")
    return "\n".join(lines)
