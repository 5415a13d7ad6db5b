"""Derived facts, and the promise that normalise never raises."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.types import LANGUAGES, Answer, Assertion, Fact, Note, Value, ValueKind, ValueStatus
from kgqa.values import derive, normalise

NOTE = Note(id="n1", text="Discharge report.", lang="en", admission_date=dt.date(2024, 3, 12))


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DEFAULT_CATALOGUE)


def _fact(concept_id, value, kind=ValueKind.DATETIME, **kw):
    v = Value(kind=kind, value=value, **kw)
    return Fact(note_id=NOTE.id, concept_id=concept_id, value=v, derived_from=("test",))


def _by_id(facts):
    return {f.concept_id: f for f in facts}


def test_door_to_needle_is_derived_from_arrival_and_bolus(catalogue):
    facts = [
        _fact("hospital_timestamp", dt.datetime(2024, 3, 12, 14, 5)),
        _fact("bolus_timestamp", dt.datetime(2024, 3, 12, 14, 47)),
    ]
    out = _by_id(derive(facts, catalogue, NOTE))
    dtn = out["door_to_needle"]
    assert dtn.value.value == 42 and dtn.value.ok and dtn.answer is None
    assert dtn.derived_from == ("hospital_timestamp", "bolus_timestamp")
    assert "door_to_groin" not in out  # no puncture time


@pytest.mark.parametrize(
    "asked, sources",
    [
        (["door_to_needle"], ["hospital_timestamp", "bolus_timestamp"]),
        (["door_to_needle", "hospital_timestamp"], ["bolus_timestamp"]),  # already asked: not repeated
        (["gcs_level"], ["gcs_score"]),
        (["discharge_statin"], ["discharge_other_drugs"]),  # the discharge list derives every category
        (["discharge_other_drugs"], []),  # a drug list is a source, derived from nothing
        (["age", "nihss_score"], []),
    ],
)
def test_derivation_sources_are_what_kgqa_run_derives_a_concept_from(catalogue, asked, sources):
    from kgqa.values.derive import derivation_sources

    assert sorted(derivation_sources(catalogue, asked)) == sorted(sources)


def test_clock_times_across_midnight(catalogue):
    facts = [
        _fact("hospital_timestamp", dt.time(23, 50), kind=ValueKind.TIME),
        _fact("puncture_timestamp", dt.time(0, 35), kind=ValueKind.TIME),
    ]
    assert _by_id(derive(facts, catalogue, NOTE))["door_to_groin"].value.value == 45


def test_a_stated_duration_wins_over_a_derived_one(catalogue):
    facts = [
        _fact("hospital_timestamp", dt.datetime(2024, 3, 12, 14, 5)),
        _fact("bolus_timestamp", dt.datetime(2024, 3, 12, 14, 47)),
        _fact("door_to_needle", 40, kind=ValueKind.DURATION),
    ]
    assert "door_to_needle" not in _by_id(derive(facts, catalogue, NOTE))


def test_negative_duration_is_rejected_not_emitted(catalogue):
    facts = [
        _fact("hospital_timestamp", dt.datetime(2024, 3, 12, 15, 0)),
        _fact("bolus_timestamp", dt.datetime(2024, 3, 12, 14, 0)),
    ]
    dtn = _by_id(derive(facts, catalogue, NOTE))["door_to_needle"]
    assert dtn.value.status is ValueStatus.REJECTED and "outside the allowed range" in dtn.value.reason


def test_negated_or_unparsed_sources_derive_nothing(catalogue):
    facts = [
        _fact("hospital_timestamp", dt.datetime(2024, 3, 12, 14, 5), assertion=Assertion.HYPOTHETICAL),
        _fact("bolus_timestamp", dt.datetime(2024, 3, 12, 14, 47)),
    ]
    assert derive(facts, catalogue, NOTE) == []


@pytest.mark.parametrize(
    "score, level", [(3, "severe"), (8, "severe"), (9, "moderate"), (12, "moderate"), (15, "mild")]
)
def test_gcs_level_from_the_gcs_score(catalogue, score, level):
    out = _by_id(derive([_fact("gcs_score", score, kind=ValueKind.INTEGER)], catalogue, NOTE))
    assert out["gcs_level"].value.member_iri.endswith("gcs_level-" + level)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(min_size=1, max_size=40).filter(lambda t: t.strip()),
    lang=st.sampled_from(LANGUAGES),
    admission=st.one_of(st.none(), st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2035, 12, 31))),
)
def test_normalise_never_raises(catalogue, text, lang, admission):
    note = Note(id="n", text=f"x {text} y", lang=lang, admission_date=admission)
    for concept_id in (
        "nihss_score",
        "glucose",
        "hospital_timestamp",
        "discharge_date",
        "door_to_needle",
        "thrombolysis",
        "stroke_type",
        "ivt_drug",
        "systolic_pressure",
        "carotid_stenosis_level",
    ):
        answer = Answer.from_note(
            note, concept_id, 2, 2 + len(text), score=0.0, null_score=0.0, confidence=0.5
        )
        value = normalise(answer, catalogue.get(concept_id), note)
        assert value.ok or value.reason


def test_a_reader_crash_becomes_an_unparsed_value(catalogue, monkeypatch):
    import importlib

    module = importlib.import_module(
        "kgqa.values.normalise"
    )  # the package re-exports the function by that name

    def boom(ctx):
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(module.READERS, ValueKind.INTEGER, boom)
    note = Note(id="n", text="NIHSS 8", lang="en")
    answer = Answer.from_note(note, "nihss_score", 6, 7, score=0.0, null_score=0.0, confidence=0.5)
    value = module.normalise(answer, catalogue.get("nihss_score"), note)
    assert value.status is ValueStatus.UNPARSED and "ZeroDivisionError" in value.reason


@pytest.mark.parametrize(
    "concept_id, span, readable",
    [
        ("age", "72", True),
        ("age", "13,9", False),  # no whole number
        ("age", "205", False),  # out of range
        ("discharge_mrs", "3", True),
        ("discharge_mrs", "7", False),
        ("nihss_score", "NIHSS 12", True),
        ("nihss_score", "aged", False),  # nothing to read
        ("glucose", "13,9 mmol/l", True),
    ],
)
def test_readable_spans_are_the_spans_that_give_a_valid_value(catalogue, concept_id, span, readable):
    from kgqa.values.normalise import readable_spans

    note = Note(id="n", text="Glucose 13,9 mmol/l, NIHSS 12, aged 72; 205/95; mRS 3, 7 days", lang="en")
    accept = readable_spans(catalogue.get(concept_id), note)
    start = note.text.index(span)
    assert accept(start, start + len(span)) is readable


@pytest.mark.parametrize("admission", [None, dt.date(2024, 11, 29)])
@pytest.mark.parametrize(
    "concept_id, span, readable",
    [
        ("hospital_timestamp", "29.11.2024 r. 13:25", True),
        ("hospital_timestamp", "13:25", True),  # a time alone: readable once the admission date is known
        ("hospital_timestamp", "196/118", False),  # a blood pressure holds no date or time
        ("hospital_timestamp", "24 h", False),
        ("discharge_date", "3.12.", True),  # a date without its year
        ("discharge_date", "NIHSS 4", False),
    ],
)
def test_readable_dates_and_times_do_not_need_the_admission_date(catalogue, concept_id, span, readable, admission):
    from kgqa.values.normalise import normalise, readable_spans

    note = Note(
        id="n", lang="pl", admission_date=admission,
        text="Przywieziony przez ZRM o 29.11.2024 r. 13:25. RR 196/118. ASA co 24 h. Wypis 3.12. NIHSS 4.",
    )
    concept = catalogue.get(concept_id)
    accept = readable_spans(concept, note)
    start = note.text.index(span)
    assert accept(start, start + len(span)) is readable
    # what the values stage then makes of it still depends on the note: no date is made up
    answer = Answer.from_note(note, concept_id, start, start + len(span), score=0.0, null_score=0.0, confidence=0.5)
    if span in ("13:25", "3.12.") and admission is None:
        assert not normalise(answer, concept, note).ok
