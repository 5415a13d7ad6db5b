"""Records for the report tests (used by conftest.py and the tests).

Notes in all seven languages with overlapping, nested, rejected, low-confidence, negated and
derived facts, plus hostile text (markup, bidi overrides, zero-width characters)."""

from __future__ import annotations

from decimal import Decimal

from kgqa.types import Answer, Assertion, Concept, Fact, Link, Note, Value, ValueKind, ValueStatus

CONCEPTS = (
    Concept("nihss_admission", "admission", ValueKind.INTEGER,
            {"en": ("What was the NIHSS score on admission?",), "bg": ("Какъв беше NIHSS при приемане?",)},
            "resq:NIHSS", minimum=0, maximum=42),
    Concept("stroke_type", "admission", ValueKind.TEXT, {"en": ("What type of stroke did the patient have?",)},
            "resq:StrokeType"),
    Concept("onset_time", "admission", ValueKind.TIME, {"en": ("When did the symptoms start?",)}, "resq:Onset"),
    Concept("thrombolysis", "treatment", ValueKind.BOOLEAN, {"en": ("Was thrombolysis given?",)},
            "resq:Thrombolysis"),
    Concept("door_to_needle", "treatment", ValueKind.DURATION, {"en": ("What was the door-to-needle time?",)},
            "resq:DoorToNeedle"),
    Concept("atrial_fibrillation", "history", ValueKind.BOOLEAN, {"en": ("Did the patient have atrial fibrillation?",)},
            "resq:AF"),
    Concept("discharge_antiplatelet", "discharge", ValueKind.DRUG,
            {"en": ("Which antiplatelet drug was prescribed at discharge?",)}, "resq:Drug",
            cardinality="many"),
    Concept("mrs_discharge", "discharge", ValueKind.INTEGER, {"en": ("What was the mRS at discharge?",)},
            "resq:MRS", minimum=0, maximum=6),
)

# One sentence per language; every one mentions a NIHSS score, a stroke type and a drug.
TEXTS = {
    "en": "Ischemic stroke, NIHSS 14 on admission. Thrombolysis given. No atrial fibrillation. Discharged on aspirin.",
    "bg": "Исхемичен инсулт, NIHSS 14 при приемане. Проведена тромболиза. Без предсърдно мъждене. Изписан с аспирин.",
    "cs": "Ischemická cévní mozková příhoda, NIHSS 14 při přijetí. Podána trombolýza. Propuštěn s aspirinem.",
    "el": "Ισχαιμικό αγγειακό εγκεφαλικό, NIHSS 14 κατά την εισαγωγή. Χορηγήθηκε θρομβόλυση. Εξιτήριο με ασπιρίνη.",
    "es": "Ictus isquémico, NIHSS 14 al ingreso. Se administró trombólisis. Alta con ácido acetilsalicílico.",
    "pl": "Udar niedokrwienny, NIHSS 14 przy przyjęciu. Podano trombolizę. Wypisany z kwasem acetylosalicylowym.",
    "ro": "Accident vascular cerebral ischemic, NIHSS 14 la internare. S-a administrat tromboliză. Externat cu aspirină.",
}
#: per language: the words the facts point at (sliced by offset, never searched at run time in the code under test)
ANCHORS = {
    "en": ("Ischemic stroke", "14", "Thrombolysis", "aspirin"),
    "bg": ("Исхемичен инсулт", "14", "тромболиза", "аспирин"),
    "cs": ("Ischemická cévní mozková příhoda", "14", "trombolýza", "aspirinem"),
    "el": ("Ισχαιμικό αγγειακό εγκεφαλικό", "14", "θρομβόλυση", "ασπιρίνη"),
    "es": ("Ictus isquémico", "14", "trombólisis", "ácido acetilsalicílico"),
    "pl": ("Udar niedokrwienny", "14", "trombolizę", "kwasem acetylosalicylowym"),
    "ro": ("Accident vascular cerebral ischemic", "14", "tromboliză", "aspirină"),
}

HOSTILE = (
    'Patient typed <script>document.title="pwned";window.__pwned=1</script> into the form & left. '
    "NIHSS \u202e41\u202c on admission <img src=x onerror=alert(1)>; \u200fRLM \u2067 zero\u200bwidth. "
    '"quoted" \'single\' </textarea></div><!-- comment -->'
)


def answer(note: Note, concept: str, start: int, end: int, confidence: float = 0.9, rank: int = 0) -> Answer:
    return Answer.from_note(note, concept, start, end, score=5.0, null_score=-1.0, confidence=confidence,
                            question=f"Q about {concept}?", question_lang="en", rank=rank)


def span_of(note: Note, needle: str, after: int = 0) -> tuple[int, int]:
    """Test-side helper: where ``needle`` sits in the fixture text."""
    start = note.text.index(needle, after)
    return start, start + len(needle)


def facts_for(note: Note) -> list[Fact]:
    stroke, nihss, lysis, drug = ANCHORS[note.lang]
    s_stroke, s_nihss, s_lysis, s_drug = (span_of(note, w) for w in (stroke, nihss, lysis, drug))
    facts = [
        Fact(note.id, "stroke_type", Value(ValueKind.TEXT, "ischemic"), answer(note, "stroke_type", *s_stroke),
             links=(Link("http://snomed.info/id/422504002", "Ischemic stroke", 0.93, source="snomed"),)),
        # nested inside the stroke span: first word only, low confidence
        Fact(note.id, "atrial_fibrillation", Value(ValueKind.BOOLEAN, False, assertion=Assertion.NEGATED),
             answer(note, "atrial_fibrillation", s_stroke[0], s_stroke[0] + 4, confidence=0.2)),
        Fact(note.id, "nihss_admission", Value(ValueKind.INTEGER, 14), answer(note, "nihss_admission", *s_nihss)),
        # overlaps the NIHSS number without nesting: "NIHSS 1" vs "14"
        Fact(note.id, "mrs_discharge",
             Value(ValueKind.INTEGER, 14, status=ValueStatus.REJECTED, reason="14 is above the maximum 6"),
             answer(note, "mrs_discharge", s_nihss[0] - 6, s_nihss[0] + 1, confidence=0.4)),
        Fact(note.id, "thrombolysis", Value(ValueKind.BOOLEAN, True), answer(note, "thrombolysis", *s_lysis)),
        Fact(note.id, "discharge_antiplatelet", Value(ValueKind.DRUG, "aspirin", assertion=Assertion.HISTORICAL),
             answer(note, "discharge_antiplatelet", *s_drug, confidence=0.75),
             links=(Link("http://purl.bioontology.org/ontology/RXNORM/1191", "aspirin", 0.88, source="rxnorm"),
                    Link("http://www.whocc.no/atc_ddd_index/?code=B01AC06", "acetylsalicylic acid", 0.7,
                         source="atc"))),
        Fact(note.id, "door_to_needle", Value(ValueKind.DURATION, Decimal(42)), derived_from=("onset_time",)),
    ]
    return facts


