"""A reviewer's correction -> a new :class:`~kgqa.types.Fact` (pure; kgqa's own values stage).

The concept stays fixed. The reviewer either selects another span of the note (its value is read
by the values stage exactly as the reader's spans are), or types the value (read by the values
stage too, in the note's language, so "14", "yes", "18.3.2024" or "alteplase" become the same
typed values a span would give), or both: the typed value read off the selected span.
"""

from __future__ import annotations

from dataclasses import replace

from kgqa.errors import RecordError
from kgqa.pipeline import resolve_enum
from kgqa.report.model import concept_question
from kgqa.review.decisions import ReviewError
from kgqa.types import Answer, Concept, Fact, Note, Value, ValueKind
from kgqa.values import normalise

#: longest value a reviewer may type (a value, not a note)
MAX_TYPED = 200


def _answer(note: Note, concept: Concept, start: int, end: int) -> Answer:
    # A reviewer's span: no reader scores. Confidence 1.0 states that a person chose it; the raw and
    # null scores are 0 (kgqa's shapes require them on every annotation).
    return Answer.from_note(note, concept.id, start, end, score=0.0, null_score=0.0, confidence=1.0,
                            question=concept_question(concept, note.lang), question_lang=note.lang)


def _read(answer: Answer, concept: Concept, note: Note) -> Value:
    value = normalise(answer, concept, note)
    if concept.kind is ValueKind.ENUM:
        value = resolve_enum(value, (), concept)
    return value


def corrected_fact(
    note: Note,
    concept: Concept,
    original: Fact,
    *,
    start: int | None = None,
    end: int | None = None,
    typed: str | None = None,
) -> Fact:
    """The corrected fact; raises :class:`ReviewError` (with the values stage's reason) when it cannot be read."""
    if original.concept_id != concept.id or original.note_id != note.id:
        raise ReviewError("a correction keeps the fact's note and concept")
    typed = typed.strip() if typed is not None else None
    if (start is None) != (end is None):
        raise ReviewError("a selected span needs both start and end")
    if start is None and not typed:
        raise ReviewError("a correction needs a selected span of the note, a typed value, or both")
    if start is not None:
        assert end is not None
        if not (0 <= start < end <= len(note.text)):
            raise ReviewError(f"span [{start}, {end}) is not inside the note (length {len(note.text)})")
        if not note.text[start:end].strip():
            raise ReviewError("the selected span is only white space")
        answer = _answer(note, concept, start, end)
    elif original.answer is not None:
        answer = _answer(note, concept, original.answer.start, original.answer.end)
    else:
        raise ReviewError("a derived fact has no span to keep: select the span the value is read from")
    if typed:
        if len(typed) > MAX_TYPED:
            raise ReviewError(f"a typed value is at most {MAX_TYPED} characters")
        try:
            # the typed text is read as if it were the note's text: same language, same admission day
            scratch = Note(id=note.id, text=typed, lang=note.lang, patient_id=note.patient_id,
                           admission_date=note.admission_date)
        except RecordError as exc:
            raise ReviewError(str(exc)) from None
        value = _read(Answer.from_note(scratch, concept.id, 0, len(typed), score=0.0, null_score=0.0,
                                       confidence=1.0), concept, scratch)
        if not value.ok:
            raise ReviewError(f"the values stage cannot use {typed!r} for {concept.id}: {value.reason}")
        # offsets into the typed text mean nothing in the note
        value = replace(value, source_start=None, source_end=None)
    else:
        value = _read(answer, concept, note)
    return Fact(note.id, concept.id, value, answer)
