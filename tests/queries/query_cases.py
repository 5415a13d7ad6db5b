"""Hand-made records of three stroke cases, turned into note graphs by kgqa.rdf.RdfBuilder with the
shipped catalogue: the fixture data every named query is checked against.

Case A: ischaemic stroke, thrombolysis (door-to-needle 45 min, from the note), NIHSS 12 -> 3,
  hypertension and atrial fibrillation on admission, apixaban at discharge; age read with low confidence.
Case B: ischaemic stroke, thrombolysis (door-to-needle 75 min, derived from two times) and
  thrombectomy, NIHSS 20 on admission, hypertension and diabetes, AF detected during the stay,
  aspirin only at discharge; an age of 250 rejected.
Case C: intracerebral haemorrhage, hypertension negated, NIHSS 5 at discharge only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kgqa import PROJECT_ROOT
from kgqa.catalogue import load_catalogue
from kgqa.rdf import RdfBuilder, RdfConfig
from kgqa.types import Answer, Assertion, Fact, ModelInfo, Note, RunInfo, Value, ValueKind, ValueStatus

ENV = {"KGQA_PSEUDONYM_KEY": "query-tests"}
CONCEPT_IDS = (
    "age", "sex", "nihss_score", "discharge_nihss_score", "stroke_type", "thrombolysis", "thrombectomy",
    "door_to_needle", "hospital_timestamp", "bolus_timestamp", "risk_hypertension", "risk_diabetes",
    "risk_atrial_fibrillation", "atrial_fibrillation_or_flutter", "discharge_apixaban", "discharge_asa",
)  # fmt: skip
MANDATORY = ("age", "sex", "onset_timestamp", "hospital_timestamp", "nihss_score", "stroke_type",
             "thrombolysis", "thrombectomy", "discharge_date", "discharge_mrs")  # fmt: skip

TEXT_A = (
    "Man, 71 years. NIHSS 12 on admission. Ischaemic stroke on CT. Alteplase given, door-to-needle 45 min. "
    "History: arterial hypertension, atrial fibrillation. NIHSS at discharge 3. Discharged on apixaban. "
    'Note quirks: "quotes" } > \\ end.'
)
TEXT_B = (
    "Woman, age 250 (sic). Arrival 10:05, bolus 11:20. NIHSS 20. Ischemic stroke, M1 occlusion. "
    "IV thrombolysis, then mechanical thrombectomy. Hypertension, diabetes mellitus. "
    "New atrial fibrillation detected on Holter. Aspirin at discharge."
)
TEXT_C = "Intracerebral haemorrhage. No hypertension. NIHSS 5 at discharge."

RUN = RunInfo(
    run_id="run-q1",
    started_at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc),
    kgqa_version="0.1.0",
    model=ModelInfo(path="/models/xlmr-stroke-qa", sha256="f" * 64, name="xlmr-stroke-qa"),
    config_digest="c" * 64,
)


@dataclass(frozen=True)
class Fixture:
    builder: RdfBuilder
    notes: dict
    facts: dict
    graphs: list

    def case(self, patient: str):
        return self.builder.iris.case(patient)

    def fact_iri(self, note_id: str, concept_id: str):
        fact = next(f for f in self.facts[note_id] if f.concept_id == concept_id)
        return self.builder._fact_iri(self.notes[note_id], fact)


def _answer(note: Note, concept: str, quote: str, confidence: float = 0.9) -> Answer:
    start = note.text.index(quote)
    return Answer.from_note(note, concept, start, start + len(quote), score=7.5, null_score=1.0,
                            confidence=confidence, question=f"Question about {concept}?", question_lang="en")  # fmt: skip


def _fact(note: Note, concept: str, quote: str, value: Value, confidence: float = 0.9) -> Fact:
    return Fact(note.id, concept, value, _answer(note, concept, quote, confidence))


def _yes(note: Note, concept: str, quote: str, assertion: Assertion = Assertion.PRESENT) -> Fact:
    return _fact(note, concept, quote, Value(ValueKind.BOOLEAN, True, assertion=assertion))


def _int(note: Note, concept: str, quote: str, n: int, confidence: float = 0.9, **kw) -> Fact:
    return _fact(note, concept, quote, Value(ValueKind.INTEGER, n, **kw), confidence)


def build() -> Fixture:
    catalogue = load_catalogue(PROJECT_ROOT / "kgqa" / "resources" / "catalogue" / "resq.yaml").select(
        ids=CONCEPT_IDS
    )
    builder = RdfBuilder(RdfConfig(), catalogue, environ=ENV)
    a = Note(id="note-a", text=TEXT_A, lang="en", patient_id="patient-a")
    b = Note(id="note-b", text=TEXT_B, lang="en", patient_id="patient-b")
    c = Note(id="note-c", text=TEXT_C, lang="en", patient_id="patient-c")
    facts = {
        a.id: [
            _int(a, "age", "71", 71, confidence=0.3),
            _fact(a, "sex", "Man", Value(ValueKind.ENUM, "male")),
            _int(a, "nihss_score", "12", 12),
            _int(a, "discharge_nihss_score", "3", 3, confidence=0.8),
            _fact(a, "stroke_type", "Ischaemic stroke", Value(ValueKind.ENUM, "ischemic")),
            _yes(a, "thrombolysis", "Alteplase given"),
            _fact(a, "door_to_needle", "45 min", Value(ValueKind.DURATION, 45, unit="minute")),
            _yes(a, "risk_hypertension", "arterial hypertension"),
            _yes(a, "risk_atrial_fibrillation", "atrial fibrillation"),
            _yes(a, "discharge_apixaban", "apixaban"),
            _fact(a, "thrombectomy", "Alteplase", Value(ValueKind.BOOLEAN, False), confidence=0.6),
        ],
        b.id: [
            _fact(
                b,
                "age",
                "250",
                Value(
                    ValueKind.INTEGER,
                    250,
                    status=ValueStatus.REJECTED,
                    reason="250 is above the maximum 130 of age",
                ),
            ),
            _fact(b, "sex", "Woman", Value(ValueKind.ENUM, "female")),
            _fact(
                b, "hospital_timestamp", "10:05", Value(ValueKind.DATETIME, dt.datetime(2026, 2, 1, 10, 5))
            ),
            _fact(b, "bolus_timestamp", "11:20", Value(ValueKind.DATETIME, dt.datetime(2026, 2, 1, 11, 20))),
            Fact(
                b.id,
                "door_to_needle",
                Value(ValueKind.DURATION, 75, unit="minute"),
                derived_from=("hospital_timestamp", "bolus_timestamp"),
            ),
            _int(b, "nihss_score", "20", 20),
            _fact(b, "stroke_type", "Ischemic stroke", Value(ValueKind.ENUM, "ischemic")),
            _yes(b, "thrombolysis", "IV thrombolysis"),
            _yes(b, "thrombectomy", "mechanical thrombectomy"),
            _yes(b, "risk_hypertension", "Hypertension"),
            _yes(b, "risk_diabetes", "diabetes mellitus"),
            _fact(
                b,
                "atrial_fibrillation_or_flutter",
                "New atrial fibrillation detected",
                Value(ValueKind.ENUM, "detected"),
            ),
            _yes(b, "discharge_asa", "Aspirin"),
        ],
        c.id: [
            _fact(c, "stroke_type", "Intracerebral haemorrhage", Value(ValueKind.ENUM, "ich")),
            _yes(c, "risk_hypertension", "hypertension", assertion=Assertion.NEGATED),
            _int(c, "discharge_nihss_score", "5", 5),
        ],
    }
    notes = {n.id: n for n in (a, b, c)}
    graphs = [builder.note_graph(notes[nid], fs, RUN) for nid, fs in facts.items()]
    graphs.append(
        builder.run_graph(RUN.finished(RUN.started_at + dt.timedelta(minutes=5)), list(notes.values()))
    )
    return Fixture(builder, notes, facts, graphs)


def review_graphs(fixture: Fixture) -> list:
    """Review graphs over the cases (kgqa review's own graph builders), for the review variants:

    note-a: thrombolysis accepted; NIHSS accepted and rejected at the same time (the greater
    decision IRI wins: rejected); age corrected to 72. note-b: thrombectomy accepted, then rejected;
    thrombolysis rejected, then accepted; the reviewer saw all but the last two facts (new since the
    review). note-c: not reviewed.
    """
    from rdflib import Graph

    from kgqa.review.correct import corrected_fact
    from kgqa.review.decisions import Decision, ReviewIris, correction_graph, decision_graph

    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
    plan = {
        "note-a": [("thrombolysis", "accept", None, 0, "a1"), ("nihss_score", "accept", None, 1, "a2"),
                   ("nihss_score", "reject", "wrong_span", 1, "a3"), ("age", "correct", None, 2, "a4")],
        "note-b": [("thrombectomy", "accept", None, 0, "b1"), ("thrombectomy", "reject", "not_this_patient", 1, "b2"),
                   ("thrombolysis", "reject", "wrong_value", 0, "b3"), ("thrombolysis", "accept", None, 2, "b4")],
    }  # fmt: skip
    graphs = []
    for note_id, steps in plan.items():
        note = fixture.notes[note_id]
        note_iri = str(fixture.builder.iris.note(note_id))
        iris = ReviewIris(note_iri)
        seen = [str(fixture.fact_iri(note_id, f.concept_id)) for f in fixture.facts[note_id] if f.answer][:-2]
        review = Graph(identifier=iris.graph)
        for concept_id, action, reason, minutes, token in steps:
            original = next(f for f in fixture.facts[note_id] if f.concept_id == concept_id)
            fact_iri = str(fixture.fact_iri(note_id, concept_id))
            decision_iri = str(iris.decision(token))
            correction = None
            correction_iri = None
            if action == "correct":
                concept = fixture.builder.concepts[concept_id]
                correction_iri = f"{decision_iri}/fact"
                correction = correction_graph(
                    corrected_fact(note, concept, original, typed="72"), note, fixture.builder.concepts.values(),
                    corrected_iri=correction_iri, original_iri=fact_iri, note_iri=note_iri,
                    case_iri=str(fixture.case(note.patient_id)), decision_iri=decision_iri,
                )  # fmt: skip
            decision = Decision(decision_iri, fact_iri, note_iri, action, "rev-1", t0 + dt.timedelta(minutes=minutes),
                                reason=reason, correction_iri=correction_iri)  # fmt: skip
            review += decision_graph(decision, seen_facts=seen, correction=correction)
        graphs.append(review)
    return graphs
