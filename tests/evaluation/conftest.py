"""A hand-made fixture: two gold notes and a reader's facts, with scores worked out by hand in the tests."""

from __future__ import annotations

import datetime as dt

import pytest

from kgqa.evaluation.gold import GoldAnnotation, GoldNote
from kgqa.types import Answer, Assertion, Concept, EnumMember, Fact, Note, Value, ValueKind

ISCHEMIC, ICH = "https://example.org/ischemic", "https://example.org/ich"

EN_TEXT = "NIHSS 8 on admission, 3 at discharge. BP 180/95 mmHg. No thrombolysis. Dx: ischemic stroke."
ES_TEXT = "NIHSS al ingreso 10. Sin trombólisis."


def _concept(cid, group, kind, members=()):
    return Concept(id=cid, group=group, kind=kind, questions={"en": (f"{cid}?",)}, target_class="x:C",
                   members=members)


CONCEPTS = (
    _concept("nihss_score", "scores", ValueKind.INTEGER),
    _concept("discharge_nihss_score", "scores", ValueKind.INTEGER),
    _concept("systolic_pressure", "vitals", ValueKind.INTEGER),
    _concept("glucose", "vitals", ValueKind.DECIMAL),
    _concept("thrombolysis", "treatment", ValueKind.BOOLEAN),
    _concept("stroke_type", "imaging", ValueKind.ENUM,
             (EnumMember("ischemic", ISCHEMIC, {"en": ("ischemic stroke",)}), EnumMember("ich", ICH))),
)


def _span(text, needle, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle)


def _gold(note, cid, needle, value, nth=0, assertion="present"):
    s, e = _span(note.text, needle, nth)
    return GoldAnnotation(cid, s, e, needle, value, assertion)


def _fact(note, cid, needle, value: Value, confidence, nth=0):
    s, e = _span(note.text, needle, nth)
    answer = Answer.from_note(note, cid, s, e, score=1.0, null_score=0.0, confidence=confidence)
    return Fact(note_id=note.id, concept_id=cid, value=value, answer=answer)


@pytest.fixture
def fixture_eval():
    en = Note(id="n-en", text=EN_TEXT, lang="en", admission_date=dt.date(2024, 3, 1))
    es = Note(id="n-es", text=ES_TEXT, lang="es")
    golds = [
        GoldNote(en, (
            _gold(en, "nihss_score", "8", 8),
            _gold(en, "discharge_nihss_score", "3", 3),
            _gold(en, "systolic_pressure", "180", 180),
            _gold(en, "thrombolysis", "No thrombolysis", False, assertion="negated"),
            _gold(en, "stroke_type", "ischemic stroke", "ischemic"),
        )),
        GoldNote(es, (_gold(es, "nihss_score", "10", 10),)),
    ]
    facts = {
        "n-en": [
            # exact span, right value
            _fact(en, "nihss_score", "8", Value(ValueKind.INTEGER, 8), 0.95),
            # the distractor: the admission score given as the discharge score
            _fact(en, "discharge_nihss_score", "8", Value(ValueKind.INTEGER, 8), 0.95),
            # a longer span that overlaps the gold one; the value is still right
            _fact(en, "systolic_pressure", "180/95", Value(ValueKind.INTEGER, 180), 0.15),
            _fact(en, "thrombolysis", "No thrombolysis",
                  Value(ValueKind.BOOLEAN, False, assertion=Assertion.NEGATED), 0.15),
            # right span, wrong member: a linking error
            _fact(en, "stroke_type", "ischemic stroke", Value(ValueKind.ENUM, "ich", member_iri=ICH), 0.55),
            # an answer for a concept the note does not mention
            _fact(en, "glucose", "95", Value(ValueKind.DECIMAL, 95.0), 0.55),
        ],
        "n-es": [],
    }
    return golds, facts, CONCEPTS
