"""Fixture concepts, notes and facts for the RDF tests, built straight from kgqa.types records.

The concepts mirror the RES-Q PLUS OBDA mappings (resqplus-virt.obda) for the variables the
example queries and the published shapes use; the comments name the mapping each follows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kgqa.types import (
    Answer,
    Assertion,
    Cardinality,
    Concept,
    EnumMember,
    Fact,
    Link,
    ModelInfo,
    Note,
    NoteError,
    RunInfo,
    Value,
    ValueKind,
    ValueStatus,
)

ADMISSION = "sct:32485007"  # hospital admission (procedure node of most admission variables)


def _q(text: str) -> dict:
    return {"en": (text,)}


CONCEPTS: tuple[Concept, ...] = (
    # mapping "Age"
    Concept(id="age", group="admission", kind=ValueKind.INTEGER, questions=_q("How old is the patient?"),
            target_class="resq:AdmissionAge", observable="sct:445518008", procedure=ADMISSION,
            datatype="xsd:integer", minimum=0, maximum=130),
    # mapping "AdmissionNihss"
    Concept(id="nihss_admission", group="admission", kind=ValueKind.INTEGER,
            questions=_q("What was the NIHSS score on admission?"), target_class="resq:AdmissionExaminationNIHSS",
            observable="sct:450743008", procedure="sct:450742003", datatype="xsd:integer", minimum=0, maximum=42,
            extra={"part_of": ADMISSION}),
    # mapping "PreStrokeMRS"
    Concept(id="mrs_prestroke", group="admission", kind=ValueKind.INTEGER,
            questions=_q("What was the modified Rankin score before the stroke?"),
            target_class="resq:AdmissionExaminationMRS", observable="sct:1255866005", procedure="sct:84100007",
            datatype="xsd:integer", minimum=0, maximum=6),
    # mappings "…BloodPressure_systolic_pressure" / "…diastolic_pressure"
    Concept(id="sbp_admission", group="admission", kind=ValueKind.INTEGER,
            questions=_q("What was the systolic blood pressure on admission?"),
            target_class="resq:AdmissionExaminationBloodPressure", observable="sct:271649006",
            procedure="sct:46973005", datatype="xsd:integer", unit="mm[Hg]"),
    Concept(id="dbp_admission", group="admission", kind=ValueKind.INTEGER,
            questions=_q("What was the diastolic blood pressure on admission?"),
            target_class="resq:AdmissionExaminationBloodPressure", observable="sct:271650006",
            procedure="sct:46973005", datatype="xsd:integer", unit="mm[Hg]"),
    # mapping "AdmissionGlucose" (typed xsd:integer there although mmol/L is decimal: NOTES.md quirk)
    Concept(id="glucose_admission", group="admission", kind=ValueKind.DECIMAL,
            questions=_q("What was the blood glucose on admission?"), target_class="resq:AdmissionExaminationGlucose",
            observable="sct:434912009", procedure="sct:33747003", datatype="xsd:decimal", unit="mmol/L"),
    # mapping "HospitalTimestamp"
    Concept(id="arrival_time", group="admission", kind=ValueKind.DATETIME,
            questions=_q("When did the patient arrive at the hospital?"), target_class="resq:TimeArrivalToHospital",
            observable="sct:405799000", procedure=ADMISSION, datatype="xsd:dateTime"),
    # mappings "IschemicStroke…", "ICHStroke…": the member is the represented situation
    Concept(id="stroke_type", group="diagnosis", kind=ValueKind.ENUM, questions=_q("What type of stroke was it?"),
            target_class="resq:StrokeType", procedure="sct:165197003",
            members=(
                EnumMember(id="ischemic", iri="sct:422504002", labels={"en": ("ischemic stroke",)}),
                EnumMember(id="ich", iri="sct:274100004", labels={"en": ("intracerebral hemorrhage",)}),
                EnumMember(id="tia", iri="sct:266257000", labels={"en": ("TIA",)}),
            )),
    # mapping "AdmissionRiskFactorHypertension"
    Concept(id="risk_hypertension", group="risk_factors", kind=ValueKind.BOOLEAN,
            questions=_q("Does the patient have hypertension?"), target_class="resq:AdmissionRiskFactors",
            situation="sct:38341003", procedure=ADMISSION),
    # mapping "ThrombolysisTreatmentDone"
    Concept(id="thrombolysis", group="treatment", kind=ValueKind.BOOLEAN, questions=_q("Was thrombolysis given?"),
            target_class="resq:ThrombolysisTreatment", procedure="sct:277132007",
            extra={"represents_procedure": "sct:472191000119101", "procedure_context": "sct:385658003"}),
    # mapping "ThrombolysisTreatmentBolusTimestamp"
    Concept(id="bolus_time", group="treatment", kind=ValueKind.DATETIME,
            questions=_q("When was the thrombolytic bolus given?"), target_class="resq:ThrombolysisTreatment",
            procedure="sct:277132007", datatype="xsd:dateTime", extra={"value_path": "temporal_context"}),
    # mapping "ThrombolysisTreatmentDoor2Needletime" (derived from arrival and bolus times)
    Concept(id="door_to_needle", group="treatment", kind=ValueKind.DURATION,
            questions=_q("What was the door-to-needle time?"), target_class="resq:Door2NeedleTime",
            observable="resq:Door2NeedleTimeObservable", procedure="sct:277132007", datatype="xsd:integer",
            unit="min"),
    # mappings "AdmissionDrugs…": the drug is a represented procedure node typed with the therapy class
    Concept(id="antiplatelet_discharge", group="discharge", kind=ValueKind.DRUG,
            questions=_q("Which antiplatelet drug was prescribed at discharge?"),
            target_class="resq:DischargePrescriptionDrug", procedure="sct:58000006",
            cardinality=Cardinality.MANY, scope=("resq",)),
)

RUN = RunInfo(
    run_id="2026-11-25T13-00-00-test",
    started_at=dt.datetime(2026, 11, 25, 13, 0, 0, tzinfo=dt.timezone.utc),
    ended_at=dt.datetime(2026, 11, 25, 13, 5, 0, tzinfo=dt.timezone.utc),
    kgqa_version="0.1.0",
    model=ModelInfo(path="/models/tiny-xlmr", sha256="ab" * 32, name="tiny-xlmr"),
    config_digest="c0ffee" * 8,
    config_yaml="store:\n  password: '***'\n",
    catalogue_digest="d1" * 16,
)


def span_of(note: Note, quote: str, nth: int = 0) -> tuple[int, int]:
    """Offsets of the nth occurrence of ``quote`` — only for authoring fixtures, never in kgqa itself."""
    start = -1
    for _ in range(nth + 1):
        start = note.text.index(quote, start + 1)
    return start, start + len(quote)


def answer(note: Note, concept_id: str, quote: str, *, confidence: float = 0.9, nth: int = 0,
           question: str = "") -> Answer:
    start, end = span_of(note, quote, nth)
    return Answer.from_note(note, concept_id, start, end, score=7.5, null_score=-2.25, confidence=confidence,
                            question=question or f"Question about {concept_id}?", question_lang="en")


def fact(note: Note, concept_id: str, quote: str, value: Value, links=(), **kw) -> Fact:
    return Fact(note_id=note.id, concept_id=concept_id, value=value, answer=answer(note, concept_id, quote, **kw),
                links=tuple(links))


NOTE_A = Note(
    id="note-A",
    patient_id="patient-001",
    lang="en",
    admission_date=dt.date(2026, 3, 1),
    text=(
        "Discharge report. 71-year-old man admitted at 2026-03-01 10:40 with acute ischemic stroke. "
        "On admission NIHSS 14, BP 185/115 mmHg, glucose 7.2 mmol/L. Pre-stroke mRS 4. "
        "History of hypertension. No diabetes. IV thrombolysis with alteplase, bolus at 2026-03-01 11:15. "
        "Discharged on aspirin."
    ),
)

NOTE_B = Note(
    id="note-B",
    patient_id="patient-002",
    lang="en",
    text="Patient 64 years. NIHSS 55 on admission (sic). mRS before stroke 2. BP 150/90. No thrombolysis.",
)


def facts_a() -> list[Fact]:
    n = NOTE_A
    V = Value
    return [
        fact(n, "age", "71", V(ValueKind.INTEGER, 71)),
        fact(n, "arrival_time", "2026-03-01 10:40", V(ValueKind.DATETIME, dt.datetime(2026, 3, 1, 10, 40))),
        fact(n, "stroke_type", "acute ischemic stroke",
             V(ValueKind.ENUM, "ischemic", member_iri="sct:422504002")),
        fact(n, "nihss_admission", "14", V(ValueKind.INTEGER, 14)),
        fact(n, "sbp_admission", "185", V(ValueKind.INTEGER, 185, unit="mm[Hg]")),
        fact(n, "dbp_admission", "115", V(ValueKind.INTEGER, 115, unit="mm[Hg]")),
        fact(n, "glucose_admission", "7.2", V(ValueKind.DECIMAL, Decimal("7.2"), unit="mmol/L")),
        fact(n, "mrs_prestroke", "4", V(ValueKind.INTEGER, 4), nth=0) if False else
        fact(n, "mrs_prestroke", "mRS 4", V(ValueKind.INTEGER, 4)),
        fact(n, "risk_hypertension", "hypertension", V(ValueKind.BOOLEAN, True)),
        fact(n, "thrombolysis", "IV thrombolysis", V(ValueKind.BOOLEAN, True)),
        fact(n, "bolus_time", "2026-03-01 11:15", V(ValueKind.DATETIME, dt.datetime(2026, 3, 1, 11, 15))),
        Fact(note_id=n.id, concept_id="door_to_needle", value=V(ValueKind.DURATION, 35, unit="min"),
             derived_from=("arrival_time", "bolus_time")),
        fact(n, "antiplatelet_discharge", "aspirin", V(ValueKind.DRUG, "aspirin"),
             links=(Link(iri="resq:AspirinTherapy", label="aspirin therapy", score=0.93, source="resq",
                         matched="aspirin", lang="en"),
                    Link(iri="sct:7947003", label="aspirin", score=0.71, source="sct"))),
    ]


def facts_b() -> list[Fact]:
    n = NOTE_B
    V = Value
    return [
        fact(n, "age", "64", V(ValueKind.INTEGER, 64)),
        # out of range: kept as evidence with its reason, never in the domain layer
        fact(n, "nihss_admission", "55", V(ValueKind.INTEGER, 55, status=ValueStatus.REJECTED,
                                            reason="55 is above the maximum 42 of nihss_admission")),
        fact(n, "mrs_prestroke", "2", V(ValueKind.INTEGER, 2), nth=0),
        fact(n, "sbp_admission", "150", V(ValueKind.INTEGER, 150)),
        fact(n, "dbp_admission", "90", V(ValueKind.INTEGER, 90)),
        # a "no" to a yes/no concept: evidence only
        fact(n, "thrombolysis", "No thrombolysis", V(ValueKind.BOOLEAN, False, assertion=Assertion.NEGATED)),
    ]


def note_errors() -> list[NoteError]:
    return [NoteError(source="notes/broken.txt", reason="not valid UTF-8 at byte 12", stage="read")]
