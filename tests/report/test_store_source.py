"""Reading report records back from a triplestore: graphs built by the real RDF builder from the
real catalogue, loaded into the embedded store, queried over the evidence layer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kgqa import PROJECT_ROOT
from kgqa.errors import KgqaError
from kgqa.types import Answer, Assertion, Fact, Link, ModelInfo, Note, RunInfo, Value, ValueKind, ValueStatus

catalogue_mod = pytest.importorskip("kgqa.catalogue")
rdf = pytest.importorskip("kgqa.rdf.builder")
stores = pytest.importorskip("kgqa.stores")

from kgqa.rdf.config import RdfConfig
from kgqa.report.store_source import read_store
from kgqa.stores.config import StoreConfig

TEXT = ("Male, 67 years. Ischemic stroke, symptom onset 2025-03-01 at 14:05. NIHSS 14. "
        "Atrial fibrillation known. No hypertension. Glucose 99.9 mmol/L.")
RUN = RunInfo("run-1", dt.datetime(2025, 3, 2, 10, 0, tzinfo=dt.timezone.utc), "0.1.0",
              ModelInfo("/models/tiny", "ab" * 32), "cd" * 32)


@pytest.fixture(scope="module")
def catalogue():
    return catalogue_mod.load_catalogue(PROJECT_ROOT / "kgqa/resources/catalogue/resq.yaml")


def _answer(note, concept, needle, confidence=0.9, rank=0):
    start = TEXT.index(needle)
    return Answer.from_note(note, concept, start, start + len(needle), score=7.5, null_score=-2.0,
                            confidence=confidence, question=f"Q {concept}?", question_lang="en", rank=rank)


@pytest.fixture(scope="module")
def case(catalogue):
    note = Note("n-1", TEXT, "en", patient_id="P-1", admission_date=dt.date(2025, 3, 1))
    stroke = next(m for m in catalogue.get("stroke_type").members if m.id == "ischemic")
    facts = [
        Fact(note.id, "age", Value(ValueKind.INTEGER, 67, unit="year"), _answer(note, "age", "67")),
        Fact(note.id, "nihss_score", Value(ValueKind.INTEGER, 14), _answer(note, "nihss_score", "14", 0.42)),
        Fact(note.id, "stroke_type", Value(ValueKind.ENUM, None, member_iri=stroke.iri),
             _answer(note, "stroke_type", "Ischemic stroke"),
             links=(Link("http://snomed.info/id/422504002", "Ischemic stroke", 0.97, source="snomed"),
                    Link("http://snomed.info/id/230690007", "Stroke", 0.61, source="snomed"))),
        Fact(note.id, "onset_timestamp", Value(ValueKind.DATETIME, dt.datetime(2025, 3, 1, 14, 5)),
             _answer(note, "onset_timestamp", "2025-03-01 at 14:05")),
        Fact(note.id, "risk_atrial_fibrillation", Value(ValueKind.BOOLEAN, True),
             _answer(note, "risk_atrial_fibrillation", "Atrial fibrillation known")),
        Fact(note.id, "risk_hypertension", Value(ValueKind.BOOLEAN, False, assertion=Assertion.NEGATED),
             _answer(note, "risk_hypertension", "No hypertension")),
        Fact(note.id, "glucose", Value(ValueKind.DECIMAL, Decimal("99.9"), status=ValueStatus.REJECTED, unit="mmol/L",
                                       reason="99.9 mmol/L is above the maximum 50"),
             _answer(note, "glucose", "99.9 mmol/L")),
    ]
    other = Note("n-2", "Female, 80 years.", "en", patient_id="P-2")
    builder = rdf.RdfBuilder(RdfConfig(), catalogue)
    store = stores.open_store(StoreConfig(kind="embedded"))
    store.replace_graphs([builder.note_graph(note, facts, RUN), builder.note_graph(other, [], RUN),
                          builder.run_graph(RUN, [note, other])])
    yield note, other, facts, store, builder
    store.close()


def test_facts_come_back_with_their_evidence(case, catalogue):
    note, other, facts, store, _ = case
    data = read_store(store, [note, other], tuple(catalogue))
    assert [n.id for n in data.notes] == ["n-1", "n-2"] and data.errors == ()
    got = {f.concept_id: f for f in data.facts}
    assert set(got) == {f.concept_id for f in facts}
    for fact in facts:
        back = got[fact.concept_id]
        assert back.answer == fact.answer  # offsets, text, scores, question, rank: all from the store
        assert (back.value.status, back.value.assertion, back.value.reason) == (
            fact.value.status, fact.value.assertion, fact.value.reason)
    assert got["age"].value.value == 67 and got["age"].value.unit == "year"
    assert got["nihss_score"].value.value == 14
    assert got["stroke_type"].value.member_iri == facts[2].value.member_iri
    assert [(l.iri, l.label, l.score, l.source) for l in got["stroke_type"].links] == [
        (l.iri, l.label, l.score, l.source) for l in facts[2].links]
    assert got["onset_timestamp"].value.value == dt.datetime(2025, 3, 1, 14, 5)
    assert got["risk_atrial_fibrillation"].value.value is True


def test_notes_are_matched_by_text_digest(case, catalogue):
    _, other, _, store, _ = case
    edited = Note("n-1", TEXT.replace("67", "76"), "en")  # the text changed since the run
    data = read_store(store, [edited, other], tuple(catalogue))
    assert [n.id for n in data.notes] == ["n-2"] and data.facts == ()
    assert [(e.note_id, e.stage) for e in data.errors] == [("n-1", "report")]
    assert "sha256" in data.errors[0].reason
    with pytest.raises(KgqaError, match="none of the 2 notes"):
        read_store(store, [edited], tuple(catalogue))


def test_selection_and_run_filter(case, catalogue):
    note, other, facts, store, builder = case
    data = read_store(store, [note, other], tuple(catalogue), note_ids=["n-2"])
    assert [n.id for n in data.notes] == ["n-2"] and data.facts == ()
    other_run = builder.iris.run("another-run")
    assert read_store(store, [note, other], tuple(catalogue), run_iri=other_run).notes == ()
    this_run = builder.iris.run(RUN.run_id)
    assert len(read_store(store, [note, other], tuple(catalogue), run_iri=this_run).facts) == len(facts)
    with pytest.raises(KgqaError, match="'nope'"):
        read_store(store, [note, other], tuple(catalogue), note_ids=["nope"])
