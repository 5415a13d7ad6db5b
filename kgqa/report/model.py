"""The report's view model: records (Note, Fact, Concept) → what the templates show.

Pure: no I/O, no HTML. Everything a page displays is computed here so that it can be
tested without parsing HTML, and the templates only lay it out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from kgqa.errors import RecordError
from kgqa.report.config import DEFAULT_CONFIG, ReportConfig
from kgqa.report.segments import Segment, Span, segment
from kgqa.types import Assertion, Concept, Fact, Link, Note, NoteError, Value, ValueKind, ValueStatus

log = logging.getLogger(__name__)

#: group of facts whose concept is not among the report's concepts (another catalogue or selection)
UNKNOWN_GROUP = "(other concepts)"


@dataclass(frozen=True)
class FactView:
    """One fact as the reviewer sees it."""

    key: str  # unique within its note page ("f0", "f1", …): element ids and data-fact attributes
    concept_id: str
    group: str
    group_index: int
    value_text: str
    status: ValueStatus
    reason: str | None
    assertion: Assertion
    start: int | None
    end: int | None
    evidence: str | None
    confidence: float | None
    low_confidence: bool
    question: str
    question_lang: str
    links: tuple[Link, ...]
    derived_from: tuple[str, ...]
    rank: int
    #: the span does not slice the note (notes and facts from different runs): shown, not highlighted
    span_mismatch: bool = False

    @property
    def highlighted(self) -> bool:
        return self.start is not None and not self.span_mismatch

    @property
    def rejected(self) -> bool:
        return self.status is not ValueStatus.OK

    @property
    def qualified(self) -> bool:
        """Negated, historical, hypothetical…: the value does not hold for the patient now."""
        return self.assertion is not Assertion.PRESENT


@dataclass(frozen=True)
class ConceptRow:
    """A questionnaire line: one concept and the facts found for it in a note."""

    concept_id: str
    label: str
    group: str
    group_index: int
    question: str
    facts: tuple[FactView, ...]

    @property
    def state(self) -> str:
        """found | rejected (only rejected/unparsed values) | not-found."""
        if any(not f.rejected for f in self.facts):
            return "found"
        return "rejected" if self.facts else "not-found"


@dataclass(frozen=True)
class NoteView:
    note: Note
    filename: str  # relative to the report directory
    rows: tuple[ConceptRow, ...]
    facts: tuple[FactView, ...]
    segments: tuple[Segment, ...]

    @property
    def fact_count(self) -> int:
        return len(self.facts)

    @property
    def low_confidence_count(self) -> int:
        return sum(f.low_confidence for f in self.facts)

    @property
    def rejected_count(self) -> int:
        return sum(f.rejected for f in self.facts)

    @property
    def found_count(self) -> int:
        return sum(r.state == "found" for r in self.rows if r.group != UNKNOWN_GROUP)

    @property
    def concept_count(self) -> int:
        return sum(r.group != UNKNOWN_GROUP for r in self.rows)

    @property
    def facts_by_key(self) -> Mapping[str, FactView]:
        return {f.key: f for f in self.facts}


@dataclass(frozen=True)
class ReportView:
    notes: tuple[NoteView, ...]
    groups: tuple[str, ...]
    errors: tuple[NoteError, ...] = ()
    run: Mapping[str, object] = field(default_factory=dict)
    #: group -> description (from the catalogue), shown as the group's tooltip
    group_titles: Mapping[str, str] = field(default_factory=dict)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({n.note.lang for n in self.notes}))


# --------------------------------------------------------------------------- formatting


def note_filename(note_id: str) -> str:
    """A file name safe on every OS, unique per note id (the hash keeps ids that slug alike apart)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", note_id).strip("._")[:40] or "note"
    digest = hashlib.sha1(note_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"notes/{slug}-{digest}.html"


def concept_label(concept: Concept) -> str:
    label = concept.extra.get("label") if concept.extra else None
    return str(label) if label else concept.id.replace("_", " ")


def concept_question(concept: Concept, lang: str) -> str:
    for key in (lang, "en"):
        if concept.questions.get(key):
            return concept.questions[key][0]
    return next((qs[0] for qs in concept.questions.values() if qs), "")


def format_value(value: Value, concept: Concept | None, lang: str, evidence: str | None) -> str:
    """A short human-readable rendering of a typed value (the raw span when it could not be parsed)."""
    raw = value.value
    if value.member_iri and concept is not None:
        for member in concept.members:
            if member.iri == value.member_iri:
                labels = member.labels.get(lang) or member.labels.get("en")
                return labels[0] if labels else member.id
    if raw is None:
        return value.member_iri or evidence or "—"
    if isinstance(raw, bool):
        text = "yes" if raw else "no"
    elif isinstance(raw, (dt.datetime, dt.date, dt.time)):
        text = raw.isoformat(sep=" ") if isinstance(raw, dt.datetime) else raw.isoformat()
    elif isinstance(raw, Decimal):
        text = format(raw.normalize(), "f")
    elif isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    else:
        text = str(raw)
    unit = value.unit or ("min" if value.kind is ValueKind.DURATION else None)
    return f"{text} {unit}" if unit else text


# --------------------------------------------------------------------------- building


def _group_order(concepts: Sequence[Concept]) -> list[str]:
    groups: list[str] = []
    for concept in concepts:
        if concept.group not in groups:
            groups.append(concept.group)
    return groups


def _fact_view(
    key: str, fact: Fact, note: Note, concept: Concept | None, group: str, group_index: int, cfg: ReportConfig
) -> FactView:
    answer = fact.answer
    mismatch = False
    if answer is not None and note.text[answer.start : answer.end] != answer.text:
        log.warning("note %r: the %s span [%d, %d) does not slice the note text", note.id, fact.concept_id,
                    answer.start, answer.end)
        mismatch = True
    confidence = answer.confidence if answer is not None else None
    evidence = answer.text if answer is not None else None
    question = answer.question if answer is not None and answer.question else (
        concept_question(concept, note.lang) if concept is not None else "")
    return FactView(
        key=key,
        concept_id=fact.concept_id,
        group=group,
        group_index=group_index,
        value_text=format_value(fact.value, concept, note.lang, evidence),
        status=fact.value.status,
        reason=fact.value.reason,
        assertion=fact.value.assertion,
        start=answer.start if answer is not None else None,
        end=answer.end if answer is not None else None,
        evidence=evidence,
        confidence=confidence,
        low_confidence=confidence is not None and confidence < cfg.low_confidence,
        question=question,
        question_lang=answer.question_lang if answer is not None else note.lang,
        links=fact.links,
        derived_from=fact.derived_from,
        rank=answer.rank if answer is not None else 0,
        span_mismatch=mismatch,
    )


def build_note_view(
    note: Note, facts: Iterable[Fact], concepts: Sequence[Concept], cfg: ReportConfig = DEFAULT_CONFIG
) -> NoteView:
    """The page of one note: questionnaire rows in catalogue order, facts, and highlighted segments."""
    groups = _group_order(concepts)
    by_id = {c.id: c for c in concepts}
    order = {c.id: i for i, c in enumerate(concepts)}
    own = [f for f in facts if f.note_id == note.id]
    # Questionnaire order; within a concept, the reader's rank, then text order.
    own.sort(key=lambda f: (order.get(f.concept_id, len(order)), f.concept_id,
                            f.answer.rank if f.answer else 0, f.answer.start if f.answer else -1))
    views: list[FactView] = []
    for i, fact in enumerate(own):
        concept = by_id.get(fact.concept_id)
        group = concept.group if concept is not None else UNKNOWN_GROUP
        group_index = groups.index(group) if concept is not None else len(groups)
        views.append(_fact_view(f"f{i}", fact, note, concept, group, group_index, cfg))
    per_concept: dict[str, list[FactView]] = defaultdict(list)
    for view in views:
        per_concept[view.concept_id].append(view)
    rows = [
        ConceptRow(c.id, concept_label(c), c.group, groups.index(c.group), concept_question(c, note.lang),
                   tuple(per_concept.pop(c.id, ())))
        for c in concepts
    ]
    for concept_id, extra in per_concept.items():  # facts for concepts the catalogue does not know
        rows.append(ConceptRow(concept_id, concept_id.replace("_", " "), UNKNOWN_GROUP, len(groups), "", tuple(extra)))
    spans = [Span(v.key, v.start, v.end) for v in views if v.highlighted]  # type: ignore[arg-type]
    return NoteView(note, note_filename(note.id), tuple(rows), tuple(views), tuple(segment(note.text, spans)))


def build_report_view(
    notes: Sequence[Note],
    facts: Sequence[Fact],
    concepts: Sequence[Concept],
    cfg: ReportConfig = DEFAULT_CONFIG,
    *,
    errors: Sequence[NoteError] = (),
    run: Mapping[str, object] | None = None,
    group_titles: Mapping[str, str] | None = None,
) -> ReportView:
    """All pages of a report. Facts whose note is not among ``notes`` are left out (logged)."""
    concepts = tuple(concepts)
    by_note: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_note[fact.note_id].append(fact)
    seen: set[str] = set()
    views = []
    for note in notes:
        if note.id in seen:
            raise RecordError(f"note id {note.id!r} appears twice among the report's notes")
        seen.add(note.id)
        views.append(build_note_view(note, by_note.pop(note.id, ()), concepts, cfg))
    if by_note:
        log.warning("%d facts belong to notes that are not in the report (%d notes)",
                    sum(map(len, by_note.values())), len(by_note))
    groups = _group_order(concepts)
    if any(f.group == UNKNOWN_GROUP for v in views for f in v.facts):
        groups.append(UNKNOWN_GROUP)
    return ReportView(tuple(views), tuple(groups), tuple(errors), dict(run or {}), dict(group_titles or {}))
