"""Facts derived from other facts of the same note, as the catalogue declares them.

* ``extra.derive: {from: [A, B], op: minutes_between}`` — door-to-needle from arrival and bolus
  times, door-to-groin, door-to-door. Only when the note does not state the duration itself
  (a stated value wins), both source values are OK and present (not negated), and the result
  passes the concept's range check (a negative or absurd duration is returned as REJECTED).
  Two clock times without dates are taken on the same day, or across midnight when the
  second is earlier (23:50 -> 00:20 = 30 min); a datetime and a time share the datetime's date.
* ``extra.derive_from_score: {concept: C, bands: {member: [lo, hi]}}`` — the GCS level from the
  GCS score.
* prescriptions: every drug linked in a drug concept of the ``discharge_medication`` or
  ``prestroke_medication`` group answers the RES-Q category its ATC class names
  (:func:`kgqa.linking.atc.prescription_concepts`: atorvastatin → ``discharge_statin``, apixaban →
  ``discharge_apixaban`` and ``discharge_any_anticoagulant``), when the catalogue has that concept.

Derived facts have no answer; their evidence is ``derived_from`` (the source concept ids).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kgqa.types import Assertion, Concept, Fact, Note, Value, ValueKind
from kgqa.values.normalise import check_range

XSD = "http://www.w3.org/2001/XMLSchema#"


def _usable(fact: Fact | None) -> bool:
    return fact is not None and fact.value.ok and fact.value.assertion is Assertion.PRESENT


def _as_datetime(v: Value, other: Value) -> dt.datetime | None:
    if isinstance(v.value, dt.datetime):
        return v.value
    if isinstance(v.value, dt.time):
        if isinstance(other.value, dt.datetime):
            return dt.datetime.combine(other.value.date(), v.value)
        return dt.datetime.combine(dt.date(2000, 1, 1), v.value)
    return None


def minutes_between(a: Value, b: Value) -> float | None:
    """Minutes from ``a`` to ``b`` (datetimes or clock times); None when either has no time of day."""
    start, end = _as_datetime(a, b), _as_datetime(b, a)
    if start is None or end is None:
        return None
    minutes = (end - start).total_seconds() / 60
    both_times = isinstance(a.value, dt.time) and isinstance(b.value, dt.time)
    if both_times and minutes < 0:
        minutes += 24 * 60  # across midnight
    return minutes


#: op name -> function of the two source values
OPS: Mapping[str, Callable[[Value, Value], float | None]] = {"minutes_between": minutes_between}


def derive(facts: Sequence[Fact], catalogue: Iterable[Concept], note: Note) -> list[Fact]:
    """Facts the catalogue derives from ``facts`` (of one note); never facts the note already states."""
    by_concept: dict[str, Fact] = {}
    for f in facts:
        if f.note_id == note.id and _usable(f):
            by_concept.setdefault(f.concept_id, f)
    stated = {f.concept_id for f in facts if f.note_id == note.id and f.value.ok}
    out: list[Fact] = []
    for concept in catalogue:
        if concept.id in stated:
            continue
        rule: Any = concept.extra.get("derive")
        if rule:
            fact = _derive_op(concept, rule, by_concept, note)
            if fact is not None:
                out.append(fact)
        band_rule: Any = concept.extra.get("derive_from_score")
        if band_rule:
            fact = _derive_band(concept, band_rule, by_concept, note)
            if fact is not None:
                out.append(fact)
    out.extend(_derive_prescriptions(facts, catalogue, note, stated))
    return out


def derivation_sources(catalogue: Iterable[Concept], concept_ids: Iterable[str]) -> list[str]:
    """The concepts whose facts can derive one of ``concept_ids`` (not themselves among them), in catalogue
    order: the two times of a door-to-X duration, the score of a band, and the drug lists of a prescription
    concept's group (``discharge_statin`` ← ``discharge_other_drugs``). ``kgqa eval`` asks them too, so the
    facts it scores are the facts ``kgqa run`` writes."""
    concepts = list(catalogue)
    by_id = {c.id: c for c in concepts}
    wanted = set(concept_ids)
    sources: set[str] = set()
    for cid in wanted:
        concept = by_id.get(cid)
        if concept is None:
            continue
        rule: Any = concept.extra.get("derive")
        if rule:
            sources.update(str(s) for s in rule.get("from", ()))
        band_rule: Any = concept.extra.get("derive_from_score")
        if band_rule:
            sources.add(str(band_rule.get("concept")))
        prefix = PRESCRIPTION_GROUPS.get(concept.group)
        if prefix is not None and cid.startswith(prefix) and concept.kind is not ValueKind.DRUG:
            sources.update(c.id for c in concepts if c.group == concept.group and c.kind is ValueKind.DRUG)
    return [c.id for c in concepts if c.id in sources and c.id not in wanted]


#: drug concept group -> prefix of the RES-Q prescription concepts its drugs answer
PRESCRIPTION_GROUPS = {"discharge_medication": "discharge_", "prestroke_medication": "before_onset_"}


def _derive_prescriptions(facts: Sequence[Fact], catalogue: Iterable[Concept], note: Note, stated: set[str]) -> list[Fact]:
    from kgqa.linking.atc import prescription_concepts  # a table lookup; keeps the linking package lazy

    concepts = {c.id: c for c in catalogue}
    found: dict[str, tuple[str, list[str]]] = {}  # derived concept -> (source concept, drugs)
    for f in facts:
        concept = concepts.get(f.concept_id)
        if concept is None or concept.kind is not ValueKind.DRUG or not _usable(f) or not f.links:
            continue
        prefix = PRESCRIPTION_GROUPS.get(concept.group)
        if prefix is None:
            continue
        for link in f.links:
            if not link.term_id.startswith("ATC:"):
                continue
            for cid in prescription_concepts(link.term_id, prefix):
                if cid in concepts and cid not in stated:
                    found.setdefault(cid, (f.concept_id, []))[1].append(link.term_id.partition(":")[2])
    return [
        Fact(
            note_id=note.id,
            concept_id=cid,
            value=Value(kind=ValueKind.BOOLEAN, value=True, datatype=XSD + "boolean",
                        reason=f"derived: ATC {', '.join(dict.fromkeys(codes))} in {source}"),
            derived_from=(source,),
        )
        for cid, (source, codes) in found.items()
    ]


def _derive_op(
    concept: Concept, rule: Mapping[str, Any], facts: Mapping[str, Fact], note: Note
) -> Fact | None:
    sources = list(rule.get("from", ()))
    op = OPS.get(str(rule.get("op")))
    if op is None or len(sources) != 2 or not all(_usable(facts.get(s)) for s in sources):
        return None
    a, b = facts[sources[0]].value, facts[sources[1]].value
    minutes = op(a, b)
    if minutes is None:
        return None
    value = Value(
        kind=ValueKind.DURATION,
        value=round(minutes),
        unit=concept.unit or "minute",
        datatype=concept.datatype or XSD + "integer",
        reason=f"derived: {op.__name__}({sources[0]}, {sources[1]})",
    )
    return Fact(
        note_id=note.id, concept_id=concept.id, value=check_range(value, concept), derived_from=tuple(sources)
    )


def _derive_band(
    concept: Concept, rule: Mapping[str, Any], facts: Mapping[str, Fact], note: Note
) -> Fact | None:
    source = facts.get(str(rule.get("concept")))
    if not _usable(source) or source is None:
        return None
    score = float(source.value.value)  # type: ignore[arg-type]
    for member_id, (lo, hi) in dict(rule.get("bands", {})).items():
        if lo <= score <= hi:
            member = next((m for m in concept.members if m.id == member_id), None)
            if member is None:
                return None
            value = Value(
                kind=concept.kind,
                value=member.id,
                member_iri=member.iri,
                datatype=XSD + "string",
                reason=f"derived from {source.concept_id} = {score:g}",
            )
            return Fact(
                note_id=note.id, concept_id=concept.id, value=value, derived_from=(source.concept_id,)
            )
    return None
