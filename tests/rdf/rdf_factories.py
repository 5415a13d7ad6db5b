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


QRV = "scdm:QuantitativeResultValue"


def _obs(id, cls, observable, result_of, datatype="xsd:integer", kind=ValueKind.INTEGER, **kw) -> Concept:
    extra = {"pattern": "observation", "result_of": result_of, "value_class": QRV, **kw.pop("extra", {})}
    return Concept(id=id, group="test", kind=kind, questions=_q(f"What is the {id}?"), target_class=cls,
                   observable=observable, datatype=datatype, extra=extra, **kw)


CONCEPTS: tuple[Concept, ...] = (
    # mapping "Age"
    _obs("age", "resq:AdmissionAge", "sct:445518008", ADMISSION, minimum=0, maximum=130),
    # mapping "AdmissionNihss" (also btl2:isPartOf the admission)
    _obs("nihss_score", "resq:AdmissionExaminationNIHSS", "sct:450743008", "sct:450742003", minimum=0, maximum=42,
         extra={"part_of": ADMISSION}),
    # mapping "PreStrokeMRS"
    _obs("prestroke_mrs", "resq:AdmissionExaminationMRS", "sct:1255866005", "sct:84100007", minimum=0, maximum=6),
    # mappings "…BloodPressure_systolic_pressure" / "…diastolic_pressure"
    _obs("systolic_pressure", "resq:AdmissionExaminationBloodPressure", "sct:271649006", "sct:46973005"),
    _obs("diastolic_pressure", "resq:AdmissionExaminationBloodPressure", "sct:271650006", "sct:46973005"),
    # mapping "AdmissionGlucose" (the mapping types it xsd:integer although mmol/L is decimal: NOTES.md quirk)
    _obs("glucose", "resq:AdmissionExaminationGlucose", "sct:434912009", "sct:33747003", datatype="xsd:decimal",
         kind=ValueKind.DECIMAL, unit="mmol/L"),
    # mapping "HospitalTimestamp"
    _obs("hospital_timestamp", "resq:TimeArrivalToHospital", "sct:405799000", ADMISSION, datatype="xsd:dateTime",
         kind=ValueKind.DATETIME),
    # mapping "OnsetTimestamp": two literals, xsd:date and xsd:time, on an untyped value node
    Concept(id="onset_timestamp", group="test", kind=ValueKind.DATETIME, questions=_q("When did symptoms start?"),
            target_class="resq:TimeOfSymptomOnset", observable="sct:405795006", datatype="xsd:dateTime",
            extra={"pattern": "observation", "result_of": ADMISSION,
                   "split_literals": {"date": "xsd:date", "time": "xsd:time"}}),
    # mapping "ImagingCT"…: the imaging type is a represented procedure typed with the member
    Concept(id="imaging_type", group="test", kind=ValueKind.ENUM, questions=_q("Which imaging was done?"),
            target_class="resq:DiagnosisImaging",
            members=(EnumMember(id="ct", iri="sct:396205005", labels={"en": ("CT",)}),
                     EnumMember(id="ct_cta", iri="resq:NonContrastCT&CTAngiography", labels={"en": ("CT + CTA",)})),
            extra={"pattern": "procedure", "result_of": "sct:165197003"}),
    # mappings "IschemicStroke…", "ICHStroke…": the member is the represented situation, and the
    # stroke type is also a result of the imaging procedure
    Concept(id="stroke_type", group="test", kind=ValueKind.ENUM, questions=_q("What type of stroke was it?"),
            target_class="resq:StrokeType",
            members=(
                EnumMember(id="ischemic", iri="sct:422504002", labels={"en": ("ischemic stroke",)}),
                EnumMember(id="ich", iri="sct:274100004", labels={"en": ("intracerebral hemorrhage",)}),
                EnumMember(id="tia", iri="sct:266257000", labels={"en": ("TIA",)}),
            ),
            extra={"pattern": "situation", "result_of": "sct:165197003", "result_of_imaging": "imaging_type"}),
    # mapping "AdmissionRiskFactorHypertension"
    Concept(id="risk_hypertension", group="test", kind=ValueKind.BOOLEAN,
            questions=_q("Does the patient have hypertension?"), target_class="resq:AdmissionRiskFactors",
            situation="sct:38341003", extra={"pattern": "situation", "result_of": ADMISSION, "on_false": "omit"}),
    # mapping "ThrombolysisTreatmentDone"
    Concept(id="thrombolysis", group="test", kind=ValueKind.BOOLEAN, questions=_q("Was thrombolysis given?"),
            target_class="resq:ThrombolysisTreatment", procedure="sct:472191000119101",
            extra={"pattern": "procedure", "result_of": "sct:277132007",
                   "context": {"true": "sct:385658003", "false": "sct:385660001", "unknown": "sct:410537005"}}),
    # mapping "ThrombolysisTreatmentBolusTimestamp"
    Concept(id="bolus_timestamp", group="test", kind=ValueKind.DATETIME, questions=_q("When was the bolus given?"),
            target_class="resq:ThrombolysisTreatment", datatype="xsd:dateTime",
            extra={"pattern": "temporal", "result_of": "sct:277132007", "temporal_class": "sct:410512000",
                   "value_class": "scdm:DateTimeDatatype"}),
    # mapping "ThrombolysisTreatmentDoor2Needletime" (derived from arrival and bolus times; untyped value node)
    Concept(id="door_to_needle", group="test", kind=ValueKind.DURATION, questions=_q("Door-to-needle time?"),
            target_class="resq:Door2NeedleTime", observable="resq:Door2NeedleTimeObservable",
            datatype="xsd:integer", unit="minute", extra={"pattern": "observation", "result_of": "sct:277132007"}),
    # mapping "ThrombolysisTreatmentReasonTimeWindow": the reason is a node typed with the member class
    Concept(id="no_thrombolysis_reason", group="test", kind=ValueKind.ENUM, questions=_q("Why no thrombolysis?"),
            target_class="resq:ThrombolysisTreatment",
            members=(EnumMember(id="time_window", iri="resq:OutOfTimeWindow", labels={"en": ("out of time window",)}),),
            extra={"pattern": "reason", "result_of": "sct:277132007"}),
    # mappings "DischargeDrugs…": the drug is a represented procedure typed with the linked therapy class
    Concept(id="discharge_antiplatelet", group="test", kind=ValueKind.DRUG,
            questions=_q("Which antiplatelet drug was prescribed at discharge?"),
            target_class="resq:DischargePrescriptionDrug", cardinality=Cardinality.MANY, scope=("resq",),
            extra={"pattern": "procedure", "result_of": "sct:58000006", "procedure_context": "sct:385651009"}),
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
        "Discharge report. 71-year-old man admitted at 2026-03-01 10:40 with acute ischemic stroke on CT "
        "and CT angiography. Symptoms began 2026-03-01 09:50. "
        "On admission NIHSS 14, BP 185/115 mmHg, glucose 7.2 mmol/L. Pre-stroke mRS 4. "
        "History of hypertension. No diabetes. IV thrombolysis with alteplase, bolus at 2026-03-01 11:15. "
        "Discharged on aspirin."
    ),
)

NOTE_B = Note(
    id="note-B",
    patient_id="patient-002",
    lang="en",
    text="Patient 64 years. NIHSS 55 on admission (sic). mRS before stroke 2. BP 150/90. "
         "No thrombolysis: out of time window.",
)


def facts_a() -> list[Fact]:
    n = NOTE_A
    V = Value
    return [
        fact(n, "age", "71", V(ValueKind.INTEGER, 71)),
        fact(n, "hospital_timestamp", "2026-03-01 10:40", V(ValueKind.DATETIME, dt.datetime(2026, 3, 1, 10, 40))),
        fact(n, "onset_timestamp", "2026-03-01 09:50", V(ValueKind.DATETIME, dt.datetime(2026, 3, 1, 9, 50))),
        fact(n, "stroke_type", "acute ischemic stroke", V(ValueKind.ENUM, "ischemic", member_iri="sct:422504002")),
        fact(n, "imaging_type", "CT and CT angiography", V(ValueKind.ENUM, "ct_cta")),
        fact(n, "nihss_score", "14", V(ValueKind.INTEGER, 14)),
        fact(n, "systolic_pressure", "185", V(ValueKind.INTEGER, 185, unit="mm[Hg]")),
        fact(n, "diastolic_pressure", "115", V(ValueKind.INTEGER, 115, unit="mm[Hg]")),
        fact(n, "glucose", "7.2", V(ValueKind.DECIMAL, Decimal("7.2"), unit="mmol/L")),
        fact(n, "prestroke_mrs", "mRS 4", V(ValueKind.INTEGER, 4)),
        fact(n, "risk_hypertension", "hypertension", V(ValueKind.BOOLEAN, True)),
        fact(n, "thrombolysis", "IV thrombolysis", V(ValueKind.BOOLEAN, True)),
        fact(n, "bolus_timestamp", "2026-03-01 11:15", V(ValueKind.DATETIME, dt.datetime(2026, 3, 1, 11, 15))),
        Fact(note_id=n.id, concept_id="door_to_needle", value=V(ValueKind.DURATION, 35, unit="minute"),
             derived_from=("hospital_timestamp", "bolus_timestamp")),
        fact(n, "discharge_antiplatelet", "aspirin", V(ValueKind.DRUG, "aspirin"),
             links=(Link(iri="resq:PrescriptionOfASA", label="aspirin", score=0.93, source="resq",
                         matched="aspirin", lang="en"),
                    Link(iri="sct:7947003", label="aspirin", score=0.71, source="sct"))),
    ]


def facts_b() -> list[Fact]:
    n = NOTE_B
    V = Value
    return [
        fact(n, "age", "64", V(ValueKind.INTEGER, 64)),
        # out of range: kept as evidence with its reason, never in the domain layer
        fact(n, "nihss_score", "55", V(ValueKind.INTEGER, 55, status=ValueStatus.REJECTED,
                                        reason="55 is above the maximum 42 of nihss_score")),
        fact(n, "prestroke_mrs", "2", V(ValueKind.INTEGER, 2)),
        fact(n, "systolic_pressure", "150", V(ValueKind.INTEGER, 150)),
        fact(n, "diastolic_pressure", "90", V(ValueKind.INTEGER, 90)),
        # a "no" to a yes/no concept: evidence only
        fact(n, "thrombolysis", "No thrombolysis", V(ValueKind.BOOLEAN, False, assertion=Assertion.NEGATED)),
        fact(n, "no_thrombolysis_reason", "out of time window",
             V(ValueKind.ENUM, "time_window", member_iri="resq:OutOfTimeWindow")),
    ]


def note_errors() -> list[NoteError]:
    return [NoteError(source="notes/broken.txt", reason="not valid UTF-8 at byte 12", stage="read")]


# a case matching the examination query (mRS > 3, BP >= 180 / > 110) whose note says thrombolysis was
# NOT given: RESQplusExample2 (thrombolysed cases) must not return it
NOTE_C = Note(
    id="note-C",
    patient_id="patient-003",
    lang="en",
    text="Pre-stroke mRS 5. Admission BP 190/120. Thrombolysis was not given (INR 3.1).",
)


def facts_c() -> list[Fact]:
    n = NOTE_C
    V = Value
    return [
        fact(n, "prestroke_mrs", "mRS 5", V(ValueKind.INTEGER, 5)),
        fact(n, "systolic_pressure", "190", V(ValueKind.INTEGER, 190)),
        fact(n, "diastolic_pressure", "120", V(ValueKind.INTEGER, 120)),
        fact(n, "thrombolysis", "Thrombolysis was not given", V(ValueKind.BOOLEAN, False, assertion=Assertion.NEGATED)),
    ]


NOTES = (NOTE_A, NOTE_B, NOTE_C)
TEST_ENV = {"KGQA_PSEUDONYM_KEY": "test-key-not-secret"}
EXPECTED_TRIG = __import__("pathlib").Path(__file__).parent / "fixtures" / "expected.trig"


def all_facts() -> dict[str, list[Fact]]:
    return {"note-A": facts_a(), "note-B": facts_b(), "note-C": facts_c()}


def build_graphs(builder) -> list:
    """The note graphs of NOTES and the run graph, as the pipeline would make them."""
    facts = all_facts()
    graphs = [builder.note_graph(note, facts[note.id], RUN) for note in NOTES]
    graphs.append(builder.run_graph(RUN, NOTES, note_errors()))
    return graphs


if __name__ == "__main__":  # regenerate the expected TriG after a deliberate change of the graph contract
    from kgqa.rdf import RdfBuilder, RdfConfig, write_dataset

    write_dataset(build_graphs(RdfBuilder(RdfConfig(), CONCEPTS, environ=TEST_ENV)), EXPECTED_TRIG, "trig")
    print(f"wrote {EXPECTED_TRIG}")
