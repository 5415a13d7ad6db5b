"""SSSOM mapping tables: the labels on one side become synonyms of the ids on the other.

MONDO's ``mondo_exactmatch_icd10cm.sssom.tsv`` maps MONDO diseases to ICD-10-CM codes with both
labels; loaded with ``into="object"`` it gives the ICD-10-CM codes MONDO's (often more clinical)
names. Only exact/close matches are used: a broad match is not a synonym.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from kgqa.linking.loaders.io import error, open_text
from kgqa.linking.terms import Label, Term

SYNONYM_PREDICATES = frozenset({"skos:exactMatch", "skos:closeMatch", "owl:equivalentClass", "oboInOwl:hasDbXref"})
_COLUMNS = ("subject_id", "predicate_id", "object_id")


def load_sssom(path: Path, into: str = "object", lang: str = "en", **_: object) -> Iterator[Term]:
    if into not in ("object", "subject"):
        raise error(path, None, f"sssom option into={into!r}: must be 'object' or 'subject'")
    with open_text(path) as fh:
        numbered = [(n, line) for n, line in enumerate(fh, 1) if line.strip() and not line.startswith("#")]
    if not numbered:
        raise error(path, None, "no mapping table")
    reader = csv.reader((line for _, line in numbered), delimiter="\t")
    header = next(reader)
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise error(path, numbered[0][0], f"SSSOM header lacks {', '.join(missing)}")
    target, other = ("object", "subject") if into == "object" else ("subject", "object")
    out = []
    for (lineno, _), row in zip(numbered[1:], reader):
        if len(row) != len(header):
            raise error(path, lineno, f"expected {len(header)} fields, got {len(row)}")
        rec = dict(zip(header, row))
        if rec["predicate_id"] not in SYNONYM_PREDICATES:
            continue
        label = rec.get(f"{other}_label", "").strip()
        if label:
            out.append(Term(id=_normalise_curie(rec[f"{target}_id"]), labels=(Label(label, lang, "syn"),)))
    return iter(out)


def _normalise_curie(curie: str) -> str:
    # ICD-10-CM CURIEs appear as ICD10CM:I63.9 in SSSOM and as ICD10CM:I639 elsewhere; keep the dotted form.
    prefix, _, code = curie.partition(":")
    if prefix.upper() == "ICD10CM" and "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return f"{prefix}:{code}"
