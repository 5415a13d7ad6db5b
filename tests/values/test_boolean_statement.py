"""A yes/no concept gets a value only from a span that states it (issue 21, item 5).

Hand-written spans in several languages: a patient-name or demographic line answering "Was mechanical
thrombectomy performed?" states nothing and gets no value (UNPARSED, with the reason); a mention of the
topic, a yes/no word, a negation or a reason for not doing it does.
"""

from __future__ import annotations

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.types import Answer, Assertion, Note, ValueStatus
from kgqa.values import topic
from kgqa.values.normalise import normalise, readable_spans


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DEFAULT_CATALOGUE)


def _read(catalogue, lang, text, span, concept_id):
    note = Note(id="n", text=text, lang=lang)
    start = text.index(span)
    answer = Answer.from_note(note, concept_id, start, start + len(span), score=1.0, null_score=0.0, confidence=0.9)
    return normalise(answer, catalogue.get(concept_id), note)


NOTHING = [
    ("en", "Mrs K., 73, known AF on warfarin. Mechanical thrombectomy performed, TICI 2b.", "Mrs K., 73", "thrombectomy"),
    ("cs", "Jan Novák, 72 let, přijat 3. 8. 2024. Provedena mechanická trombektomie.", "Jan Novák, 72 let", "thrombectomy"),
    ("es", "Mujer de 51 años que ingresa por ictus. Se realizó trombólisis.", "Mujer de 51 años", "thrombolysis"),
    ("pl", "Pacjent lat 69, przywieziony przez ZRM na SOR.", "Pacjent lat 69", "thrombolysis"),
    ("bg", "Пациентка на 75 години, постъпва на 20.11.2023 г.", "Пациентка на 75 години", "risk_hypertension"),
    ("ro", "Pacient 87 ani, instituționalizat, dependent.", "Pacient 87 ani", "risk_smoker"),
    ("el", "Άνδρας 68 ετών, συνταξιούχος.", "Άνδρας 68 ετών", "before_onset_antihypertensives"),
    # "April" ends in the INN stem "-pril" but is no drug
    ("en", "Seen in clinic in April 2023.", "April 2023", "before_onset_antihypertensives"),
    # a negation of something else denies nothing about it (read on independent notes as "no" before)
    ("pl", "Pacjent nie pali. Bez alergii.", "nie pali", "discharge_antidiabetics"),
    ("pl", "Angio-TK: brak LVO.", "brak LVO", "discharge_warfarin"),
    ("ro", "CT perfuzie: fără mismatch.", "fără mismatch", "discharge_warfarin"),
    ("es", "Sin alergias conocidas.", "Sin alergias", "risk_hypertension"),
    # a bare "no" whose clause goes on about another thing (the synthetic held-out notes' warfarin errors)
    ("ro", "Istoric medical\nNu are FiA.\nNeagă AVC anterior.", "Nu", "discharge_warfarin"),
    ("ro", "Nu a fost eligibil pentru tromboliză.\nFără tratament endovascular.", "Fără tratament", "discharge_warfarin"),
]


@pytest.mark.parametrize("lang, text, span, concept_id", NOTHING)
def test_a_span_stating_nothing_gets_no_value(catalogue, lang, text, span, concept_id):
    value = _read(catalogue, lang, text, span, concept_id)
    assert value.status is ValueStatus.UNPARSED and value.value is None
    assert concept_id in value.reason and "states nothing" in value.reason


STATED = [
    # the topic named: question wording, term names (inflected), abbreviations, INN stems
    ("en", "Mechanical thrombectomy performed, TICI 2b.", "Mechanical thrombectomy performed", "thrombectomy", True),
    ("en", "Mechanical thrombectomy performed, TICI 2b.", "TICI 2b", "thrombectomy", True),
    ("bg", "ИВТ – противопоказана; МТ – не.", "МТ", "thrombectomy", False),
    ("cs", "IVT kontraindikována, MT neindikována.", "IVT kontraindikována", "thrombolysis", False),
    ("pl", "Nie podano trombolizy z powodu późnego przyjazdu.", "trombolizy", "thrombolysis", False),
    ("es", "Paciente hipertensa y diabética tipo 2.", "hipertensa", "risk_hypertension", True),
    ("es", "AP: HTA, DM2 en tto con metformina.", "DM2", "risk_diabetes", True),
    ("en", "Regular meds: ramipril 5 mg, bisoprolol 2.5 mg.", "ramipril", "before_onset_antihypertensives", True),
    ("el", "Φάρμακα: βαλσαρτάνη 160 mg.", "βαλσαρτάνη", "before_onset_antihypertensives", True),
    ("ro", "Tratament la externare: amlodipină 5 mg.", "amlodipină", "discharge_antihypertensives", True),
    ("pl", "Leki: insulinoterapia, metformina.", "insulinoterapia", "before_onset_antidiabetics", True),
    ("el", "Η μητέρα του είχε εγκεφαλικό.", "εγκεφαλικό", "risk_previous_stroke", True),
    # a yes/no word as the whole span
    ("cs", "Trombolýza: ano.", "ano", "thrombolysis", True),
    ("pl", "Trombektomia: nie.", "nie", "thrombectomy", False),
    ("en", "Clopidogrel at discharge: prescribed.", "prescribed", "discharge_clopidogrel", True),
    # the topic just before the span, in its clause
    ("en", "Thrombolysis: given at 14:35.", "given at 14:35", "thrombolysis", True),
    # a negation inside the span
    ("el", "Υπέρταση, όχι ΔΛ.", "όχι ΔΛ", "risk_hyperlipidemia", False),
    ("ro", "Fără diabet, nefumătoare.", "nefumătoare", "risk_smoker", False),
    # ... a negation alone, or with the question's own scaffolding, still answers the question asked
    ("cs", "Stav: neindikována.", "neindikována", "thrombolysis", False),
    ("pl", "Stan: nie podano.", "nie podano", "thrombolysis", False),
    # ... and a "no" whose clause names the topic after it answers it: "Nie" of "Nie pali" (does not smoke)
    ("pl", "Bez cukrzycy. Nie pali. Dnia 8 października.", "Nie", "risk_smoker", False),
    # only a reason for not doing it: not done
    ("en", "Admitted at 23:10. Due to late arrival beyond the window.", "Due to late arrival beyond the window", "thrombolysis", False),
    ("es", "Ingresó a las 23:10; debido a ventana superada.", "debido a ventana superada", "thrombolysis", False),
]


@pytest.mark.parametrize("lang, text, span, concept_id, expected", STATED)
def test_a_span_stating_the_concept_gets_its_value(catalogue, lang, text, span, concept_id, expected):
    value = _read(catalogue, lang, text, span, concept_id)
    assert value.ok, value.reason
    assert value.value is expected
    assert (value.assertion is Assertion.NEGATED) is (not expected)


def test_a_span_naming_another_drug_is_still_rejected_as_such(catalogue):
    value = _read(catalogue, "en", "Discharge: apixaban 5 mg bd.", "apixaban 5 mg bd", "discharge_clopidogrel")
    assert value.status is ValueStatus.REJECTED and "names" in value.reason


def test_the_readers_value_check_refuses_a_span_stating_nothing(catalogue):
    text = "Mrs K., 73, known AF on warfarin. Mechanical thrombectomy performed, TICI 2b."
    note = Note(id="n", text=text, lang="en")
    accept = readable_spans(catalogue.get("thrombectomy"), note)
    name = text.index("Mrs K., 73")
    done = text.index("Mechanical thrombectomy performed")
    assert not accept(name, name + len("Mrs K., 73"))
    assert accept(done, done + len("Mechanical thrombectomy performed"))


def test_question_scaffolding_is_no_topic(catalogue):
    # "patient", "before the stroke", "prescribed" are in every question: they name no topic
    asa = catalogue.get("before_onset_asa")
    assert not topic.mentions_topic("The patient, before the stroke", asa)
    assert topic.mentions_topic("aspirin 100 mg", asa)


ANOTHER_TOPIC = [
    # (span, concept): a negated statement about another yes/no concept answers nothing about this one
    ("MT neindikována", "risk_hypertension", True),
    ("No IVT", "risk_hypertension", True),
    ("Χωρίς ιστορικό ΑΕΕ", "risk_hypertension", True),
    ("No IVT", "thrombolysis", False),  # its own topic
    ("MT neindikována", "thrombectomy", False),
    ("AH na terapii (perindopril)", "risk_hypertension", False),  # names its own topic beside a drug's
    ("Без АХ", "risk_hypertension", False),
    ("Без предходен инсулт", "risk_previous_stroke", False),
    ("atorvastatin 40 mg", "discharge_statin", False),  # a topic shared by two concepts counts for both
    ("atorvastatin 40 mg", "before_onset_statin", False),
    ("не е проведена", "thrombolysis", False),  # a negation naming no topic is judged by the values stage
]


@pytest.mark.parametrize("span, concept_id, foreign", ANOTHER_TOPIC)
def test_a_span_about_another_yes_no_concept(catalogue, span, concept_id, foreign):
    from kgqa.types import ValueKind

    yes_no = [c for c in catalogue.concepts if c.kind is ValueKind.BOOLEAN]
    assert topic.about_another_topic(span, catalogue.get(concept_id), yes_no) is foreign
    assert not topic.about_another_topic(span, catalogue.get(concept_id), [catalogue.get(concept_id)])
