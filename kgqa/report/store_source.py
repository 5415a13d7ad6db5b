"""Report records from a triplestore: facts, evidence and links queried over the evidence layer.

The store keeps each note's digest (``kgqa:sha256``) but not its text, so the caller hands in
the notes (read from the notes source) and they are matched to the store's notes by digest:
a note whose text changed since the run is not silently shown against stale offsets.

Values are read back as the store holds them: the literal of the RES-Q PLUS domain layer
(observation, dosage or temporal value), ``kgqa:value`` for facts kept as evidence only, or the
term a fact states (enumeration member, represented situation/procedure class).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from rdflib import Literal, URIRef
from rdflib.term import Node

from kgqa.errors import KgqaError
from kgqa.report.sources import ReportInput, select_notes
from kgqa.types import (
    Answer,
    Assertion,
    Concept,
    Fact,
    Link,
    Note,
    NoteError,
    Value,
    ValueKind,
    ValueStatus,
)

log = logging.getLogger(__name__)

KGQA_NS = "https://w3id.org/kgqa/vocab#"
_ASSERTIONS = {KGQA_NS + a.name.capitalize(): a for a in Assertion}
_STATUSES = {KGQA_NS + s.name.capitalize(): s for s in ValueStatus}
#: kinds whose value is a term (an enumeration member or a linked concept), as in the RDF builder
_TERM_KINDS = (ValueKind.ENUM, ValueKind.DRUG, ValueKind.TEXT)


def load_sparql(name: str) -> str:
    """One of the report's queries (``kgqa/report/sparql/NAME.rq``)."""
    return resources.files("kgqa.report").joinpath(f"sparql/{name}.rq").read_text(encoding="utf-8")


@dataclass
class _FactRows:
    """Everything the facts query returned for one fact IRI (OPTIONAL patterns multiply rows)."""

    first: Mapping[str, Node | None]
    literals: list[Literal] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    class_terms: list[str] = field(default_factory=list)

    def add(self, row: Mapping[str, Node | None]) -> None:
        literal = row.get("literal")
        if isinstance(literal, Literal) and literal not in self.literals:
            self.literals.append(literal)
        for key, bucket in (("term", self.terms), ("classTerm", self.class_terms)):
            node = row.get(key)
            if isinstance(node, URIRef) and str(node) not in bucket:
                bucket.append(str(node))


def _py(node: Node | None) -> Any:
    return node.toPython() if isinstance(node, Literal) else (str(node) if node is not None else None)


def _member_iri(concept: Concept | None, terms: Sequence[str]) -> str | None:
    """The enumeration member a stored term stands for (member IRI, its SCDM match or its class)."""
    if concept is None:
        return terms[0] if terms else None
    for term in terms:
        for member in concept.members:
            alternatives = {member.iri, getattr(member, "target_iri", None), (member.extra or {}).get("target_class")}
            if term in alternatives:
                return member.iri
    return terms[0] if terms else None


def _combine_literals(literals: Sequence[Literal]) -> Any:
    values = [lit.toPython() for lit in literals]
    dates = [v for v in values if isinstance(v, dt.date) and not isinstance(v, dt.datetime)]
    times = [v for v in values if isinstance(v, dt.time)]
    if len(values) == 2 and dates and times:  # onset written as a date and a time literal
        return dt.datetime.combine(dates[0], times[0])
    return values[0]


def _value(rows: _FactRows, concept: Concept | None, evidence: str | None) -> Value:
    first = rows.first
    kind = concept.kind if concept is not None else ValueKind.TEXT
    status = _STATUSES.get(str(first["status"]), ValueStatus.UNPARSED)
    assertion = _ASSERTIONS.get(str(first["assertion"]), Assertion.PRESENT)
    reason = _py(first.get("reason"))
    if status is not ValueStatus.OK and not reason:
        reason = "no reason recorded in the store"
    value: Any = None
    member = None
    if rows.literals:
        value = _combine_literals(rows.literals)
    elif first.get("plain") is not None:
        value = _py(first["plain"])
    elif kind is ValueKind.BOOLEAN and first.get("asserted") == Literal(True):
        value = True  # a "yes" is stated by the fact's presence in the domain layer (its situation/procedure)
    terms = rows.terms or rows.class_terms
    if terms and kind in _TERM_KINDS:
        member = _member_iri(concept, terms)
    if value is None and member is None and status is ValueStatus.OK:
        value = evidence
    if isinstance(value, Literal):  # an ill-typed literal rdflib could not convert
        value = str(value)
    return Value(kind=kind, value=value, status=status, unit=_py(first.get("unit")), member_iri=member,
                 assertion=assertion, reason=reason)


def read_store(
    store: Any,
    notes: Iterable[Note],
    concepts: Sequence[Concept],
    *,
    note_ids: Sequence[str] = (),
    run_iri: URIRef | None = None,
) -> ReportInput:
    """Facts of ``notes`` as the store holds them (only the run ``run_iri`` made, when given).

    Notes are matched to the store's by text digest; store notes without a matching text, and
    notes whose evidence does not slice their text, are reported as errors, not shown wrongly.
    """
    bindings = {"run": run_iri} if run_iri is not None else None
    notes = list(notes)
    by_sha = {n.sha256: n for n in notes}
    stored = store.query(load_sparql("notes"), bindings).dicts()
    matched: dict[str, Note] = {}  # note IRI -> note
    errors: list[NoteError] = []
    for row in stored:
        note = by_sha.get(str(row["sha256"]))
        label = _py(row.get("noteId")) or str(row["note"])
        if note is None:
            errors.append(NoteError(source=str(row["note"]), note_id=_py(row.get("noteId")), stage="report",
                                    reason=f"note {label!r}: no note with this text (sha256) in the notes source"))
            continue
        matched[str(row["note"])] = note
    # the notes source's order (the store's is arbitrary); notes stored twice are shown once
    in_store = {n.id for n in matched.values()}
    notes_out = select_notes([n for n in notes if n.id in in_store], note_ids)
    chosen = {n.id for n in notes_out}
    matched = {iri: n for iri, n in matched.items() if n.id in chosen}
    by_concept = {c.id: c for c in concepts}

    fact_rows: dict[str, _FactRows] = {}
    for row in store.query(load_sparql("facts"), bindings).dicts():
        if str(row["note"]) not in matched:
            continue
        key = str(row["fact"])
        if key not in fact_rows:
            fact_rows[key] = _FactRows(row)
        fact_rows[key].add(row)
    links: dict[str, list[Link]] = defaultdict(list)
    for row in store.query(load_sparql("links")).dicts():
        if str(row["fact"]) in fact_rows:
            links[str(row["fact"])].append(Link(
                iri=str(row["term"]), label=_py(row.get("label")) or "", score=float(row["score"].toPython()),
                source=_py(row.get("source")) or "", matched=_py(row.get("matched")) or "",
                lang=getattr(row.get("label"), "language", None)))
    derived: dict[str, list[str]] = defaultdict(list)
    for row in store.query(load_sparql("derived")).dicts():
        derived[str(row["fact"])].append(str(row["sourceConcept"]))

    facts: list[Fact] = []
    bad_notes: set[str] = set()
    for key, rows in fact_rows.items():
        first = rows.first
        note = matched[str(first["note"])]
        concept_id = str(first["conceptId"])
        answer = None
        if first.get("start") is not None:
            start, end = int(first["start"].toPython()), int(first["end"].toPython())
            exact = str(first["exact"])
            if not (0 <= start < end <= len(note.text)) or note.text[start:end] != exact:
                bad_notes.add(note.id)
                continue
            question = first.get("question")
            answer = Answer.from_note(
                note, concept_id, start, end,
                score=float(_py(first.get("score")) or 0.0), null_score=float(_py(first.get("nullScore")) or 0.0),
                confidence=float(_py(first.get("confidence")) or 0.0), question=_py(question) or "",
                question_lang=getattr(question, "language", None) or note.lang, rank=int(_py(first.get("rank")) or 0))
        value = _value(rows, by_concept.get(concept_id), answer.text if answer else None)
        source_concepts = tuple(sorted(set(derived.get(key, ()))))
        if answer is None and not source_concepts:
            source_concepts = ("(unknown)",)
        facts.append(Fact(note.id, concept_id, value, answer,
                          links=tuple(links.get(key, ())),  # best first: the query orders by rank
                          derived_from=source_concepts))
    for note_id in sorted(bad_notes):
        errors.append(NoteError(source="store", note_id=note_id, stage="report",
                                reason=f"note {note_id!r}: evidence offsets in the store do not slice the note text"))
    log.info("store: %d notes, %d facts for the report (%d notes without text)", len(notes_out), len(facts),
             len(errors))
    if not notes_out and stored:
        raise KgqaError(f"none of the {len(stored)} notes in the store matched a note text from the notes source "
                        "(--notes / notes.path)")
    return ReportInput(tuple(notes_out), tuple(facts), tuple(errors))


def read_run(store: Any, run_iri: URIRef) -> dict[str, Any]:
    """What the run graph records about a run, for the index header (empty when the store has no such run)."""
    rows = store.query(load_sparql("run"), {"run": run_iri}).dicts()
    if not rows:
        return {}
    row = rows[0]
    names = {"started": "started", "ended": "ended", "version": "kgqa version", "modelPath": "model",
             "noteCount": "notes in run", "errorCount": "notes failed"}
    return {label: _py(row[key]) for key, label in names.items() if row.get(key) is not None}


def read_run_errors(store: Any, run_iri: URIRef) -> list[NoteError]:
    return [NoteError(source=str(r["source"]), reason=str(r["reason"]), note_id=_py(r.get("noteId")),
                      stage=str(r["stage"])) for r in store.query(load_sparql("errors"), {"run": run_iri}).dicts()]
