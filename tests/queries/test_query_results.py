"""Each named query returns exactly the rows the hand-made cases imply (query_cases.py).

Expected values are worked out from the records themselves (facts, values, confidences), not read
back from the store, so a query that joins the wrong nodes or double-counts a shared node fails.
"""

from __future__ import annotations

from collections import Counter
from statistics import mean

import pytest
from query_cases import MANDATORY
from rdflib import URIRef

from kgqa.queries import run_query
from kgqa.types import Assertion, ValueStatus

RESQ = "http://www.semanticweb.org/catimc/resqplus#"
SCDM = "http://www.semanticweb.org/catimc/SemanticCommonDataModel#"
SCT = "http://snomed.info/id/"


def rows(store, name, **params):
    return run_query(store, name, params).python()


def all_facts(cases):
    return [f for facts in cases.facts.values() for f in facts]


def test_facts_per_concept(cases, fact_store):
    facts = all_facts(cases)
    total = Counter(f.concept_id for f in facts)
    got = {r["concept"]: (r["facts"], r["asserted"]) for r in rows(fact_store, "facts_per_concept")}
    assert {c: n for c, (n, _) in got.items()} == dict(total)
    # asserted = present, ok and (for yes/no concepts) "yes"
    assert got["risk_hypertension"] == (3, 2) and got["thrombectomy"] == (2, 1) and got["age"] == (2, 1)


def test_door_to_needle_times(cases, fact_store):
    got = [(r["case"], r["minutes"], r["derived"]) for r in rows(fact_store, "door_to_needle_times")]
    assert got == [(str(cases.case("patient-a")), 45, False), (str(cases.case("patient-b")), 75, True)]


@pytest.mark.parametrize("threshold,within", [(None, 1), (44, 0), (45, 1), (75, 2)])
def test_door_to_needle_share(fact_store, threshold, within):
    params = {} if threshold is None else {"max_minutes": str(threshold)}
    (row,) = rows(fact_store, "door_to_needle_share", **params)
    assert (row["cases"], row["min_minutes"], row["max_minutes_seen"]) == (2, 45, 75)
    assert float(row["mean_minutes"]) == 60.0
    assert row["within_threshold"] == within and float(row["share_within"]) == within / 2


def test_treatment_rates(fact_store):
    (row,) = rows(fact_store, "treatment_rates")
    assert (row["cases"], row["thrombolysis"], row["thrombectomy"]) == (3, 2, 1)
    assert float(row["thrombolysis_rate"]) == pytest.approx(2 / 3)
    assert float(row["thrombectomy_rate"]) == pytest.approx(1 / 3)


def test_nihss_admission_vs_discharge(cases, fact_store):
    got = {
        r["case"]: (r["admission"], r["discharge"], r["change"])
        for r in rows(fact_store, "nihss_admission_discharge")
    }
    assert got == {
        str(cases.case("patient-a")): (12, 3, -9),
        str(cases.case("patient-b")): (20, None, None),
        str(cases.case("patient-c")): (None, 5, None),
    }


def test_anticoagulation_for_af_patients(cases, fact_store):
    got = {
        r["case"]: (r["anticoagulated"], r["drugs"]) for r in rows(fact_store, "anticoagulation_af_discharge")
    }
    # A: AF as a risk factor, apixaban; B: AF detected during the stay, aspirin only; C: no AF.
    assert got == {
        str(cases.case("patient-a")): (True, "PrescriptionOfApixaban"),
        str(cases.case("patient-b")): (False, ""),
    }


def situation_written_for(cases, note_id: str, concept_id: str) -> str:
    """The situation IRI the builder wrote for a fact, read from the note graph with rdflib."""
    fact = cases.fact_iri(note_id, concept_id)
    graph = next(g for g in cases.graphs if (fact, None, None) in g)
    (situation,) = graph.objects(fact, URIRef(SCDM + "representsSituation"))
    return str(situation)


def test_risk_factors_by_stroke_type(cases, fact_store):
    got = {(r["stroke_type"], r["risk_factor"]): (r["cases_with"], r["cases"], float(r["prevalence"]))
           for r in rows(fact_store, "risk_factors_by_stroke_type")}  # fmt: skip
    ischemic = situation_written_for(cases, "note-a", "stroke_type")
    assert ischemic == situation_written_for(cases, "note-b", "stroke_type")
    assert got == {
        (ischemic, SCT + "38341003"): (2, 2, 1.0),  # hypertension: A and B (C's is negated, and C is an ICH)
        (ischemic, SCT + "73211009"): (1, 2, 0.5),  # diabetes: B
        (ischemic, RESQ + "AtrialFibrillationOrFlutter"): (1, 2, 0.5),  # AF on admission: A
    }


def test_evidence_of_a_fact(cases, fact_store):
    note = cases.notes["note-a"]
    fact = next(f for f in cases.facts["note-a"] if f.concept_id == "nihss_score")
    (row,) = rows(fact_store, "fact_evidence", fact=str(cases.fact_iri("note-a", "nihss_score")))
    assert row["concept"] == "nihss_score"
    assert row["note"] == str(cases.builder.iris.note(note.id))
    assert (row["start"], row["end"]) == (fact.answer.start, fact.answer.end)
    assert note.text[row["start"] : row["end"]] == row["exact"] == "12"
    assert row["question"] == fact.answer.question
    assert float(row["confidence"]) == fact.answer.confidence
    assert (row["model"], row["model_sha256"]) == ("/models/xlmr-stroke-qa", "f" * 64)
    assert row["run"].endswith("run-q1")


@pytest.mark.parametrize("threshold", [None, "0.5", "0.85", "0.95"])
def test_low_confidence_facts(cases, fact_store, threshold):
    limit = 0.5 if threshold is None else float(threshold)
    expected = sorted(
        (f.answer.confidence, f.concept_id)
        for f in all_facts(cases)
        if f.answer and f.answer.confidence < limit
    )
    params = {} if threshold is None else {"max_confidence": threshold}
    got = [(float(r["confidence"]), r["concept"]) for r in rows(fact_store, "low_confidence_facts", **params)]
    assert got == expected and (threshold != "0.95" or len(got) > 3)


def test_cases_missing_mandatory_variables(cases, fact_store):
    expected = set()
    for note_id, facts in cases.facts.items():
        have = {f.concept_id for f in facts if f.value.status is ValueStatus.OK}
        case = str(cases.case(cases.notes[note_id].patient_id))
        expected |= {(case, c) for c in MANDATORY if c not in have}
    got = {(r["case"], r["concept"]) for r in rows(fact_store, "cases_missing_variables")}
    assert got == expected
    assert (str(cases.case("patient-b")), "age") in got  # a rejected value does not fill the variable


def test_results_by_model_run(cases, fact_store):
    facts = all_facts(cases)
    (row,) = rows(fact_store, "results_by_model_run")
    assert (row["model"], row["notes"], row["facts"]) == ("/models/xlmr-stroke-qa", 3, len(facts))
    assert row["asserted"] == sum(r["asserted"] for r in rows(fact_store, "facts_per_concept"))
    assert float(row["mean_confidence"]) == pytest.approx(
        mean(f.answer.confidence for f in facts if f.answer)
    )


def test_facts_of_concept(cases, fact_store):
    got = [
        (r["case"], r["value"], r["asserted"], r["exact"])
        for r in rows(fact_store, "facts_of_concept", concept="age")
    ]
    assert sorted(got) == sorted([
        (str(cases.case("patient-a")), 71, True, "71"),
        (str(cases.case("patient-b")), 250, False, "250"),
    ])  # fmt: skip


def test_rejected_values(cases, fact_store):
    assert rows(fact_store, "rejected_values") == [{
        "concept": "age", "case": str(cases.case("patient-b")), "status": "https://w3id.org/kgqa/vocab#Rejected",
        "reason": "250 is above the maximum 130 of age", "exact": "250",
    }]  # fmt: skip


def test_negated_findings(cases, fact_store):
    expected = Counter(
        (f.concept_id, f.value.assertion)
        for f in all_facts(cases)
        if f.value.assertion is not Assertion.PRESENT
    )
    got = {
        (r["concept"], r["assertion"].rsplit("#", 1)[1].lower()): r["facts"]
        for r in rows(fact_store, "negated_findings")
    }
    assert got == {(c, a.value): n for (c, a), n in expected.items()}


def test_notes_of_case(cases, fact_store):
    note = cases.notes["note-b"]
    (row,) = rows(fact_store, "notes_of_case", case=str(cases.case("patient-b")))
    assert row["sha256"] == note.sha256 and row["language"] == "en"
    assert row["facts"] == len(cases.facts["note-b"])
