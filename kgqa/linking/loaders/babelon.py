"""Translations: Babelon TSV and ROBOT templates (HPO's Spanish and Czech files).

Babelon rows carry ``subject_id``, ``predicate_id`` (rdfs:label, a synonym property, or a definition),
``translation_language``, ``translation_value`` and ``translation_status``; labels and synonyms become
names of the subject in that language, definitions are ignored. A ROBOT template has the column
names in its first row and templates such as ``ID`` and ``AL oboInOwl:hasExactSynonym@cs`` in its second.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kgqa.linking.loaders.io import error, open_text
from kgqa.linking.terms import Label, Term

_PREDICATE_KIND = {
    "rdfs:label": "pref",
    "oboInOwl:hasExactSynonym": "syn",
    "oboInOwl:hasRelatedSynonym": "related",
    "oboInOwl:hasNarrowSynonym": "related",
    "skos:prefLabel": "pref",
    "skos:altLabel": "syn",
}
_SKIP_STATUS = frozenset({"NOT_TRANSLATED", "OUTDATED"})
_BABELON_COLUMNS = ("subject_id", "predicate_id", "translation_language", "translation_value")


def load_babelon(path: Path, **_: object) -> Iterator[Term]:
    rows = _read_tsv(path)
    if not rows:
        raise error(path, None, "empty babelon file")
    (hline, header), body = rows[0], rows[1:]
    missing = [c for c in _BABELON_COLUMNS if c not in header]
    if missing:
        raise error(path, hline, f"babelon header lacks {', '.join(missing)}")
    out = []
    for lineno, row in body:
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))  # trailing empty status columns are common
        if len(row) != len(header):
            raise error(path, lineno, f"expected {len(header)} fields, got {len(row)}")
        rec = dict(zip(header, row))
        kind = _PREDICATE_KIND.get(rec["predicate_id"])
        value = rec["translation_value"].strip()
        if kind is None or not value or rec.get("translation_status", "") in _SKIP_STATUS:
            continue
        lang = rec["translation_language"].split("-")[0].lower()
        out.append(Term(id=rec["subject_id"], labels=(Label(value, lang, kind),)))
    return iter(out)


_TEMPLATE = re.compile(r"^A[LI]?\s+(\S+?)@(\w+)")


def load_robot_template(path: Path, **_: object) -> Iterator[Term]:
    rows = _read_tsv(path)
    if len(rows) < 2:
        raise error(path, None, "a ROBOT template needs a header row and a template row")
    (tline, template) = rows[1]
    try:
        id_col = template.index("ID")
    except ValueError:
        raise error(path, tline, "ROBOT template row has no ID column") from None
    value_cols = []
    for i, tpl in enumerate(template):
        m = _TEMPLATE.match(tpl.strip())
        if m and m.group(1) in _PREDICATE_KIND:
            value_cols.append((i, _PREDICATE_KIND[m.group(1)], m.group(2).lower()))
    if not value_cols:
        raise error(path, tline, "ROBOT template row names no label or synonym column")
    out = []
    for lineno, row in rows[2:]:
        if len(row) <= id_col or not row[id_col].strip():
            raise error(path, lineno, "row without an id")
        labels = tuple(Label(row[i].strip(), lang, kind) for i, kind, lang in value_cols if i < len(row) and row[i].strip())
        if labels:
            out.append(Term(id=row[id_col].strip(), labels=labels))
    return iter(out)


def _read_tsv(path: Path) -> list[tuple[int, list[str]]]:
    with open_text(path) as fh:
        numbered = [(n, line.rstrip("\r\n")) for n, line in enumerate(fh, 1) if line.strip()]
    # HPO's babelon values contain bare quotes: split on tabs, do not interpret quoting.
    return [(n, line.split("\t")) for n, line in numbered]
