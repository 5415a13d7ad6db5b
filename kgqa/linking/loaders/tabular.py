"""kgqa's term table (TSV or CSV): one name per row.

Columns (header row required; ``#`` lines are comments / provenance):

``id``        CURIE of the term (``ATC:B01AF01``, ``ICD10CM:I63.9``)
``lang``      language of the name (bg cs el en es pl ro), empty = any language
``label``     the name
``kind``      pref | syn | abbr | brand | related | learned
optional: ``iri`` (else built from the source's IRI prefix), ``branches`` (``|``-separated CURIEs),
``count`` (times annotated data used the name, for learned synonyms), and any other column (kept as extra,
e.g. ``country`` for brand names).

Rows of one id are merged into one term. A row with the wrong number of fields, an empty id or label,
or an unknown kind is an OntologyError naming file and line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from kgqa.linking.loaders.io import error, open_text
from kgqa.linking.terms import Label, Term, merge_terms
from kgqa.types import LANGUAGES

KINDS = frozenset({"pref", "syn", "abbr", "brand", "related", "learned"})
REQUIRED = ("id", "lang", "label", "kind")


def load_terms_table(path: Path, iri_prefix: str = "", **_: object) -> Iterator[Term]:
    delimiter = "," if path.name.removesuffix(".gz").endswith(".csv") else "\t"
    fragments = []
    with open_text(path) as fh:
        lines = ((n, line) for n, line in enumerate(fh, 1) if line.strip() and not line.startswith("#"))
        numbered = list(lines)
    if not numbered:
        raise error(path, None, "empty term table (no header row)")
    reader = csv.reader((line for _, line in numbered), delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
    header_line = numbered[0][0]
    rows = iter(zip((n for n, _ in numbered), reader))
    _, header = next(rows)
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise error(path, header_line, f"header lacks column(s) {', '.join(missing)} (has {', '.join(header)})")
    col = {name: i for i, name in enumerate(header)}
    for lineno, row in rows:
        if len(row) != len(header):
            raise error(path, lineno, f"expected {len(header)} fields, got {len(row)}")
        rec = dict(zip(header, row))
        term_id, lang, label, kind = (rec[c].strip() for c in REQUIRED)
        if not term_id or not label:
            raise error(path, lineno, "empty id or label")
        if kind not in KINDS:
            raise error(path, lineno, f"unknown kind {kind!r}; valid: {', '.join(sorted(KINDS))}")
        if lang and lang not in LANGUAGES:
            raise error(path, lineno, f"unknown language {lang!r}; valid: {', '.join(LANGUAGES)} or empty")
        count = rec.get("count", "").strip()
        if count and not count.isdigit():
            raise error(path, lineno, f"count {count!r} is not a non-negative integer")
        iri = rec.get("iri", "").strip() or (iri_prefix + term_id.partition(":")[2] if iri_prefix else "")
        branches = tuple(b for b in rec.get("branches", "").split("|") if b) if "branches" in col else ()
        extra = {k: v for k, v in rec.items() if k not in col or k not in (*REQUIRED, "iri", "branches", "count")}
        extra = {k: v for k, v in extra.items() if v and k not in (*REQUIRED, "iri", "branches", "count")}
        fragments.append(
            Term(id=term_id, iri=iri, labels=(Label(label, lang, kind, int(count or 0)),), branches=branches, extra=extra)
        )
    return merge_terms(fragments)


def load_wide_table(path: Path, iri_prefix: str = "", **_: object) -> Iterator[Term]:
    """A wide term table: one row per term, one column per language (ontologies/drugs.tsv).

    Columns: ``id``; ``label@xx`` (names in language xx, ``|``-separated, first = preferred);
    ``abbr`` (language-neutral abbreviations), ``abbr@xx`` (abbreviations used in language xx); ``brand@xx`` (brand names marketed where xx is spoken,
    ``brand@*`` everywhere); optional ``iri`` and ``branches``. Other columns are ignored.
    """
    delimiter = "," if path.name.removesuffix(".gz").endswith(".csv") else "\t"
    with open_text(path) as fh:
        numbered = [(n, line) for n, line in enumerate(fh, 1) if line.strip() and not line.startswith("#")]
    if not numbered:
        raise error(path, None, "empty term table (no header row)")
    parsed = list(csv.reader((line for _, line in numbered), delimiter=delimiter))
    header = [h.strip() for h in parsed[0]]
    if "id" not in header:
        raise error(path, numbered[0][0], f"header lacks an 'id' column (has {', '.join(header)})")
    columns = []
    for i, name in enumerate(header):
        base, _, lang = name.partition("@")
        lang = "" if lang == "*" else lang
        if base in ("label", "brand", "abbr") and lang and lang not in LANGUAGES:
            raise error(path, numbered[0][0], f"column {name!r}: unknown language {lang!r}")
        if base == "label" or base == "brand":
            columns.append((i, lang, base if base == "brand" else "label"))
        elif base == "abbr":
            columns.append((i, lang, "abbr"))
    terms = []
    seen: dict[str, int] = {}
    for (lineno, _), row in zip(numbered[1:], parsed[1:]):
        if len(row) != len(header):
            raise error(path, lineno, f"expected {len(header)} fields, got {len(row)}")
        rec = dict(zip(header, row))
        term_id = rec["id"].strip()
        if not term_id:
            raise error(path, lineno, "empty id")
        if term_id in seen:
            raise error(path, lineno, f"duplicate id {term_id!r} (first on line {seen[term_id]})")
        seen[term_id] = lineno
        labels = []
        for i, lang, what in columns:
            names = [n.strip() for n in row[i].split("|") if n.strip()]
            for j, name in enumerate(names):
                kind = "brand" if what == "brand" else "abbr" if what == "abbr" else ("pref" if j == 0 else "syn")
                labels.append(Label(name, lang, kind))
        if not labels:
            raise error(path, lineno, f"term {term_id!r} has no name")
        iri = rec.get("iri", "").strip() or (iri_prefix + term_id.partition(":")[2] if iri_prefix else "")
        branches = tuple(b for b in rec.get("branches", "").split("|") if b)
        terms.append(Term(id=term_id, iri=iri, labels=tuple(labels), branches=branches))
    return iter(terms)
