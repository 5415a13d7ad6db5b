"""The view model: questionnaire order, states, flags and value formatting."""

import datetime as dt
from decimal import Decimal

import pytest
from report_fixtures import CONCEPTS

from kgqa.report import ReportConfig, build_note_view, build_report_view
from kgqa.report.model import UNKNOWN_GROUP, format_value, note_filename
from kgqa.types import Answer, Assertion, Concept, EnumMember, Fact, Note, Value, ValueKind, ValueStatus


def test_rows_follow_catalogue_order_with_states(notes, facts, concepts):
    view = build_note_view(notes[0], facts, concepts)
    assert [r.concept_id for r in view.rows] == [c.id for c in concepts]
    states = {r.concept_id: r.state for r in view.rows}
    assert states == {
        "nihss_admission": "found", "stroke_type": "found", "onset_time": "not-found", "thrombolysis": "found",
        "door_to_needle": "found", "atrial_fibrillation": "found", "discharge_antiplatelet": "found",
        "mrs_discharge": "rejected",
    }
    assert (view.fact_count, view.low_confidence_count, view.rejected_count) == (7, 2, 1)
    assert (view.found_count, view.concept_count) == (6, 8)


def test_flags_follow_the_threshold(notes, facts, concepts):
    strict = build_note_view(notes[0], facts, concepts, ReportConfig(low_confidence=0.8))
    lax = build_note_view(notes[0], facts, concepts, ReportConfig(low_confidence=0.1))
    assert {f.concept_id for f in strict.facts if f.low_confidence} == {
        "atrial_fibrillation", "mrs_discharge", "discharge_antiplatelet"}
    assert lax.low_confidence_count == 0
    qualified = {f.concept_id: f.assertion for f in strict.facts if f.qualified}
    assert qualified == {"atrial_fibrillation": Assertion.NEGATED, "discharge_antiplatelet": Assertion.HISTORICAL}


def test_derived_facts_are_listed_but_not_highlighted(notes, facts, concepts):
    view = build_note_view(notes[0], facts, concepts)
    derived = [f for f in view.facts if f.derived_from]
    assert [(f.concept_id, f.highlighted, f.value_text) for f in derived] == [("door_to_needle", False, "42 min")]
    assert all(derived[0].key not in s.keys for s in view.segments)


def test_unknown_concepts_get_their_own_group(notes, facts, concepts):
    note = notes[0]
    extra = Fact(note.id, "brand_new", Value(ValueKind.TEXT, "x"),
                 Answer.from_note(note, "brand_new", 0, 3, score=1, null_score=0, confidence=0.9))
    report = build_report_view([note], [*facts, extra], concepts)
    assert report.groups[-1] == UNKNOWN_GROUP
    row = report.notes[0].rows[-1]
    assert (row.concept_id, row.group, row.state) == ("brand_new", UNKNOWN_GROUP, "found")
    assert report.notes[0].concept_count == len(concepts)  # unknown concepts do not count as asked


def test_span_that_does_not_slice_the_note_is_flagged_not_highlighted(notes, concepts):
    note = notes[0]
    other = Note(note.id, "X" * len(note.text), note.lang)  # same id, different text: files from two runs
    fact = Fact(note.id, "stroke_type", Value(ValueKind.TEXT, "x"),
                Answer.from_note(other, "stroke_type", 0, 5, score=1, null_score=0, confidence=0.9))
    view = build_note_view(note, [fact], concepts)
    assert view.facts[0].span_mismatch and not view.facts[0].highlighted
    assert all(not s.keys for s in view.segments)


def test_duplicate_note_ids_are_an_error(notes, concepts):
    with pytest.raises(ValueError, match="note-en"):
        build_report_view([notes[0], notes[0]], [], concepts)


def test_filenames_are_safe_and_unique():
    names = {note_filename(i) for i in ("a/b", "a_b", "../../etc/passwd", "ΑΒΓ", "x" * 300)}
    assert len(names) == 5
    for name in names:
        assert name.startswith("notes/") and ".." not in name and "/" not in name[len("notes/"):]
        assert len(name) < 70


MEMBER = EnumMember("ischemic", "http://example.org/ischemic", {"en": ("ischemic stroke",), "cs": ("ischemická",)})
ENUM = Concept("stroke_type", "g", ValueKind.ENUM, {"en": ("q?",)}, "x", members=(MEMBER,))


@pytest.mark.parametrize(
    ("value", "concept", "lang", "expected"),
    [
        (Value(ValueKind.BOOLEAN, True), None, "en", "yes"),
        (Value(ValueKind.BOOLEAN, False), None, "en", "no"),
        (Value(ValueKind.INTEGER, 14), None, "en", "14"),
        (Value(ValueKind.DECIMAL, Decimal("7.50"), unit="mmol/L"), None, "en", "7.5 mmol/L"),
        (Value(ValueKind.DECIMAL, 180.0, unit="mmHg"), None, "en", "180 mmHg"),
        (Value(ValueKind.DURATION, 42), None, "en", "42 min"),
        (Value(ValueKind.DATE, dt.date(2025, 3, 1)), None, "en", "2025-03-01"),
        (Value(ValueKind.TIME, dt.time(14, 5)), None, "en", "14:05:00"),
        (Value(ValueKind.DATETIME, dt.datetime(2025, 3, 1, 14, 5)), None, "en", "2025-03-01 14:05:00"),
        (Value(ValueKind.ENUM, None, member_iri=MEMBER.iri), ENUM, "cs", "ischemická"),
        (Value(ValueKind.ENUM, None, member_iri=MEMBER.iri), ENUM, "pl", "ischemic stroke"),  # falls back to en
        (Value(ValueKind.INTEGER, None, status=ValueStatus.UNPARSED, reason="?"), None, "en", "fourteen"),
    ],
)
def test_format_value(value, concept, lang, expected):
    assert format_value(value, concept, lang, "fourteen") == expected


def test_languages_of_the_report(notes, facts):
    report = build_report_view(notes, facts, CONCEPTS)
    assert report.languages == ("bg", "cs", "el", "en", "es", "pl", "ro")
