"""Record invariants: a broken record cannot be built."""

import dataclasses
import datetime as dt

import pytest

from kgqa.errors import RecordError
from kgqa.types import (
    Answer,
    Concept,
    Fact,
    Link,
    Note,
    Value,
    ValueKind,
    ValueStatus,
    text_sha256,
)

NOTE = Note(id="n1", text="Pacient přijat\r\nNIHSS 8 b.\u200b 😀 κ", lang="cs")


def test_note_digest_and_immutability():
    assert NOTE.sha256 == text_sha256(NOTE.text)
    with pytest.raises(dataclasses.FrozenInstanceError):
        NOTE.text = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        NOTE.metadata["x"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"id": "", "text": "x", "lang": "en"}, "empty id"),
        ({"id": "a", "text": "  \n", "lang": "en"}, "empty text"),
        ({"id": "a", "text": "x", "lang": "de"}, "not one of"),
        ({"id": "a", "text": "x", "lang": "en", "sha256": "0" * 64}, "sha256"),
    ],
)
def test_note_rejects(kwargs, message):
    with pytest.raises(RecordError, match=message):
        Note(**kwargs)


def test_answer_is_a_slice_of_its_note():
    start = NOTE.text.index("8")
    answer = Answer.from_note(NOTE, "nihss", start, start + 1, score=1.0, null_score=0.0, confidence=0.5)
    assert NOTE.text[answer.start : answer.end] == answer.text == "8"
    answer.check_against(NOTE)
    other = Note(id="n1", text="something else entirely", lang="en")
    with pytest.raises(RecordError):
        answer.check_against(other)


@pytest.mark.parametrize(
    "start, end, text, confidence",
    [(3, 3, "", 0.5), (5, 2, "", 0.5), (0, 2, "abc", 0.5), (0, 1, "a", 1.5), (-1, 1, "ab", 0.5)],
)
def test_answer_rejects_bad_spans(start, end, text, confidence):
    with pytest.raises(RecordError):
        Answer("n", "c", start, end, text, score=0.0, null_score=0.0, confidence=confidence)


def test_answer_beyond_note_end():
    with pytest.raises(RecordError, match="beyond"):
        Answer.from_note(NOTE, "c", 0, len(NOTE.text) + 1, score=0, null_score=0, confidence=0)


def test_value_needs_reason_unless_ok():
    with pytest.raises(RecordError, match="reason"):
        Value(ValueKind.INTEGER, 99, status=ValueStatus.REJECTED)
    v = Value(ValueKind.INTEGER, 99, status=ValueStatus.REJECTED, reason="NIHSS above 42")
    assert not v.ok
    with pytest.raises(RecordError):
        Value(ValueKind.INTEGER, None)


def test_link_score_range():
    with pytest.raises(RecordError):
        Link("http://x", "x", 1.2)
    with pytest.raises(RecordError):
        Link("", "x", 0.2)


def test_fact_consistency():
    answer = Answer.from_note(NOTE, "nihss", 0, 3, score=0, null_score=0, confidence=0)
    value = Value(ValueKind.TEXT, "Pac")
    Fact("n1", "nihss", value, answer)
    with pytest.raises(RecordError, match="belongs elsewhere"):
        Fact("n1", "mrs", value, answer)
    with pytest.raises(RecordError, match="derived_from"):
        Fact("n1", "dtn", Value(ValueKind.DURATION, 30))
    assert Fact("n1", "dtn", Value(ValueKind.DURATION, 30), derived_from=("a", "b")).answer is None


def test_concept_validation():
    ok = Concept(
        id="nihss",
        group="admission",
        kind="integer",
        questions={"en": ["What was the NIHSS?"]},
        target_class="http://x/C",
        minimum=0,
        maximum=42,
    )
    assert ok.kind is ValueKind.INTEGER and not ok.is_list
    with pytest.raises(RecordError, match="language"):
        Concept(id="c", group="g", kind="integer", questions={"de": ["?"]}, target_class="x")
    with pytest.raises(RecordError, match="empty question"):
        Concept(id="c", group="g", kind="integer", questions={"en": [" "]}, target_class="x")
    with pytest.raises(RecordError, match="minimum"):
        Concept(id="c", group="g", kind="integer", questions={"en": ["?"]}, target_class="x", minimum=5, maximum=1)
    with pytest.raises(ValueError):
        Concept(id="c", group="g", kind="colour", questions={"en": ["?"]}, target_class="x")


def test_note_admission_date_kept():
    note = Note(id="x", text="t", lang="en", admission_date=dt.date(2025, 1, 2), patient_id="P1")
    assert note.case_id == "P1"
    assert Note(id="y", text="t", lang="en").case_id == "y"


def test_records_pickle_round_trip():
    import pickle

    concept = Concept(id="c", group="g", kind="enum", questions={"en": ["Which?"]}, target_class="x", extra={"a": 1})
    note, back_concept = pickle.loads(pickle.dumps((NOTE, concept)))
    assert (note, back_concept) == (NOTE, concept)
    with pytest.raises(TypeError):  # still read-only after the trip
        back_concept.questions["de"] = ("?",)  # type: ignore[index]
    with pytest.raises(TypeError):
        note.metadata["x"] = 1  # type: ignore[index]
