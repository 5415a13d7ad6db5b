"""A number must sit next to its own label or unit, not another measurement's (issue 21, item 5).

Sentences in the style of the independent notes: an age is not read from a pulse, an SpO2 or a BMI,
a NIHSS not from "24 h"; the right number beside them still is.
"""

from __future__ import annotations

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.types import Note
from kgqa.values.context import family_of, fits_context
from kgqa.values.normalise import readable_spans

from .spans import span_at


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DEFAULT_CATALOGUE)


CASES = [
    # (lang, text, marked span, concept, fits)
    ("en", "Mrs K., 73, known AF. Pulse 72/min, SpO2 97 %, BMI 31.", "Mrs K., [[73]],", "age", True),
    ("en", "Mrs K., 73, known AF. Pulse 72/min, SpO2 97 %, BMI 31.", "Pulse [[72]]/min", "age", False),
    ("en", "Mrs K., 73, known AF. Pulse 72/min, SpO2 97 %, BMI 31.", "SpO2 [[97]] %", "age", False),
    ("en", "Mrs K., 73, known AF. Pulse 72/min, SpO2 97 %, BMI 31.", "BMI [[31]].", "age", False),
    ("cs", "Muž, 71 let. TK 182/96, TF 88, SpO2 94 %.", "Muž, [[71]] let", "age", True),
    ("cs", "Muž, 71 let. TK 182/96, TF 88, SpO2 94 %.", "TF [[88]],", "age", False),
    ("cs", "Muž, 71 let. TK 182/96, TF 88, SpO2 94 %.", "TK 182/[[96]]", "age", False),
    ("cs", "Muž, 71 let. TK 182/96, TF 88, SpO2 94 %.", "TK 182/[[96]]", "diastolic_pressure", True),
    ("el", "Άνδρας 68 ετών. ΑΠ 168/86, ΣΦ 74, Sat 97%.", "Άνδρας [[68]] ετών", "age", True),
    ("el", "Άνδρας 68 ετών. ΑΠ 168/86, ΣΦ 74, Sat 97%.", "ΣΦ [[74]],", "age", False),
    ("es", "Varón de 70 años. TA 160/90, FC 110 lpm, Glu 169.", "FC [[110]] lpm", "age", False),
    ("es", "Varón de 70 años. TA 160/90, FC 110 lpm, Glu 169.", "Glu [[169]].", "glucose", True),
    ("es", "Varón de 70 años. TA 160/90, FC 110 lpm, Glu 169.", "FC [[110]] lpm", "glucose", False),
    ("ro", "Pacient 87 ani, AV 110 neregulat, glicemie 8,1 mmol/l.", "Pacient [[87]] ani", "age", True),
    ("ro", "Pacient 87 ani, AV 110 neregulat, glicemie 8,1 mmol/l.", "AV [[110]] neregulat", "age", False),
    ("ro", "Pacient 87 ani, AV 110 neregulat, glicemie 8,1 mmol/l.", "glicemie [[8,1]] mmol/l", "glucose", True),
    ("ro", "Pacient 87 ani, AV 110 neregulat, glicemie 8,1 mmol/l.", "glicemie [[8,1]] mmol/l", "cholesterol", True),
    # a score beside its own label, not a time beside it; a label followed by another number belongs to it
    ("pl", "NIHSS przy przyjęciu 11, NIHSS 24 h 6, przy wypisie NIHSS 4.", "NIHSS [[24]] h", "discharge_nihss_score", False),
    ("pl", "NIHSS przy przyjęciu 11, NIHSS 24 h 6, przy wypisie NIHSS 4.", "NIHSS 24 h [[6]]", "nihss_score", True),
    ("pl", "NIHSS przy przyjęciu 11, mRS 3.", "mRS [[3]]", "nihss_score", False),
    ("bg", "Пациентка на 75 години, пулс 58, кр. захар 11,3 mmol/l.", "пулс [[58]],", "age", False),
    ("bg", "Пациентка на 75 години, пулс 58, кр. захар 11,3 mmol/l.", "на [[75]] години", "age", True),
    # a date or a time is no age; a dose no glucose
    ("cs", "Propuštěn 22. 4. 2024 domů.", "Propuštěn [[22]].", "age", False),
    ("en", "Aspirin 100 mg, atorvastatin 40 mg.", "atorvastatin [[40]] mg", "age", False),
    ("en", "DNT 27 min, door-to-groin 74 min.", "DNT [[27]] min", "door_to_needle", True),
    ("en", "Pulse 72/min.", "Pulse [[72]]/min", "door_to_needle", False),
    # a span whose first number is a time point ("24 h – 5") gives no score; its score alone does
    ("bg", "NIHSS след 24 ч – 5. При изписването NIHSS 3.", "NIHSS след [[24 ч – 5]].", "nihss_score", False),
    ("ro", "NIHSS la 24 ore 7. NIHSS la externare 4.", "NIHSS la [[24 ore 7]].", "discharge_nihss_score", False),
    ("ro", "NIHSS la 24 ore 7. NIHSS la externare 4.", "NIHSS la 24 ore [[7]].", "nihss_score", True),
    ("en", "BP 170/95 mmHg, NIHSS 12 points.", "NIHSS [[12 points]].", "nihss_score", True),
    # a clock time is no interval; minutes (or a duration written h:mm with its unit) are
    ("en", "Brought in by EMS, door 08:02. DNT 41 min.", "door [[08:02]].", "door_to_needle", False),
    ("cs", "IVT zahájena v 9:02, DNT 27 min.", "v [[9:02]],", "door_to_needle", False),
    ("en", "Brought in by EMS, door 08:02. DNT 41 min.", "DNT [[41 min]].", "door_to_needle", True),
    ("es", "EA: inicio 10:40 h con disartria.", "inicio [[10:40 h]] con", "door_to_groin", False),
    # a door interval is never half of a clock time ("09:[05], door-to-groin 63")
    ("en", "groin puncture 09:05, door-to-groin 63 min", "09:[[05, door-to-groin 63]] min", "door_to_needle", False),
    # the door intervals are minutes told apart by their labels
    ("bg", "ИВТ (door-to-needle 41 мин) и тромбектомия (door-to-groin 74 мин).", "door-to-needle [[41 мин]]", "door_to_needle", True),
    ("bg", "ИВТ (door-to-needle 41 мин) и тромбектомия (door-to-groin 74 мин).", "door-to-groin [[74 мин]]", "door_to_needle", False),
    ("bg", "ИВТ (door-to-needle 41 мин) и тромбектомия (door-to-groin 74 мин).", "door-to-groin [[74]] мин", "door_to_groin", True),
    ("pl", "alteplazą (DNT 33 min) oraz trombektomia (DGT 58 min).", "DGT [[58 min]]", "door_to_needle", False),
    ("pl", "alteplazą (DNT 33 min) oraz trombektomia (DGT 58 min).", "DNT [[33 min]]", "door_to_needle", True),
    ("en", "Onset to needle 95 min.", "needle [[95 min]].", "door_to_needle", True),  # no door label: not judged
    ("en", "Man, DNT 27 min.", "DNT [[27]] min", "age", False),
]


@pytest.mark.parametrize("lang, text, marked, concept_id, fits", CASES)
def test_fits_context(catalogue, lang, text, marked, concept_id, fits):
    start, end = span_at(text, marked)
    note = Note(id="n", text=text, lang=lang)
    assert fits_context(catalogue.get(concept_id), note, start, end) is fits


def test_the_readers_value_check_applies_it(catalogue):
    text = "Mrs K., 73, known AF. Pulse 72/min, SpO2 97 %."
    note = Note(id="n", text=text, lang="en")
    accept = readable_spans(catalogue.get("age"), note)
    assert accept(*span_at(text, "Mrs K., [[73]],"))
    assert not accept(*span_at(text, "Pulse [[72]]/min"))
    assert not accept(*span_at(text, "SpO2 [[97]] %"))


def test_concepts_without_a_known_family_are_not_judged(catalogue):
    assert family_of(catalogue.get("thrombolysis")) is None
    note = Note(id="n", text="Pulse 72/min.", lang="en")
    assert fits_context(catalogue.get("thrombolysis"), note, 6, 8)
