"""Values read from sentences of the independent evaluation notes (eval/handwritten.py, CodiEsp).

Rows that ``eval/build.py --check`` found read wrong: a time dated "the night before", catalogue
labels the notes use, a glucose written without its unit; with rows that must stay as they were.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.types import Answer, Note
from kgqa.values import normalise


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DEFAULT_CATALOGUE)


def _read(catalogue, lang, text, span, concept_id, admission=dt.date(2024, 3, 7)):
    note = Note(id="n", text=text, lang=lang, admission_date=admission)
    start = text.index(span)
    answer = Answer.from_note(note, concept_id, start, start + len(span), score=1.0, null_score=0.0, confidence=0.9)
    return normalise(answer, catalogue.get(concept_id), note)


@pytest.mark.parametrize(
    "lang, text, span, admission, expected",
    [
        ("en", "Found by daughter at 07:10; last seen well 22:30 the night before. Door 08:02.",
         "22:30 the night before", dt.date(2024, 3, 7), dt.datetime(2024, 3, 6, 22, 30)),
        ("es", "Traído por SUMMA el 09.01.2024; última vez visto bien a las 23:00 del día previo.",
         "23:00 del día previo", dt.date(2024, 1, 9), dt.datetime(2024, 1, 8, 23, 0)),
        # the day named just before the time, in the same clause
        ("cs", "Nalezen manželkou 3. 8. 2024 ráno v bezvědomí, naposledy viděn v pořádku večer předtím ve 22:00.",
         "22:00", dt.date(2024, 8, 3), dt.datetime(2024, 8, 2, 22, 0)),
        ("pl", "Ostatnio widziany zdrowy poprzedniego dnia o 21:30.", "21:30", dt.date(2024, 5, 2),
         dt.datetime(2024, 5, 1, 21, 30)),
        # ... but not from another clause, and a bare time stays on the admission day
        ("cs", "Večer předtím bez potíží, příznaky od 6:10.", "6:10", dt.date(2024, 8, 3), dt.datetime(2024, 8, 3, 6, 10)),
        ("en", "Symptom onset at 10:40, door 11:25.", "10:40", dt.date(2024, 3, 7), dt.datetime(2024, 3, 7, 10, 40)),
    ],
)
def test_time_dated_the_day_before(catalogue, lang, text, span, admission, expected):
    value = _read(catalogue, lang, text, span, "onset_timestamp", admission)
    assert value.ok, value.reason
    assert value.value == expected


@pytest.mark.parametrize(
    "lang, text, span, concept_id, member",
    [
        ("bg", "Изписан на 14.05.2024 г. по домовете.", "по домовете", "discharge_destination", "home"),
        ("bg", "Изписана на 02.10.2024 г. в дома си.", "в дома си", "discharge_destination", "home"),
        ("bg", "Изписана на 01.12.2023 г. в рехабилитационно отделение.", "рехабилитационно отделение",
         "discharge_destination", "rehabilitation"),
        ("bg", "Изписан на 06.03.2025 г. обратно в дома за стари хора.", "дома за стари хора",
         "discharge_destination", "social_care"),
        ("cs", "Dne 17. 8. 2024 přeložen do jiné nemocnice (neurologie).", "jiné nemocnice", "discharge_destination",
         "another_hospital"),
        ("cs", "Přeložen na jiné oddělení téže nemocnice.", "jiné oddělení téže nemocnice", "discharge_destination",
         "same_hospital"),
        ("ro", "Evoluție nefavorabilă. Deces la 19.12.2024.", "Deces", "discharge_destination", "dead"),
        ("pl", "Pacjent lat 69, przywieziony przez ZRM.", "Pacjent", "sex", "male"),
        ("pl", "Pacjentka lat 71, przywieziona przez ZRM.", "Pacjentka", "sex", "female"),
        ("ro", "Pacient 87 ani, instituționalizat.", "Pacient", "sex", "male"),
        ("ro", "Pacientă de 79 de ani, adusă de SAJ.", "Pacientă", "sex", "female"),
        ("bg", "Пациентка на 75 години, постъпва на 20.11.2023 г.", "Пациентка", "sex", "female"),
        ("cs", "78letá pacientka přivezena RZP.", "pacientka", "sex", "female"),
        ("en", "Mrs K., 73, known AF on warfarin.", "Mrs", "sex", "female"),
        ("es", "La TC mostró signos precoces de isquemia cerebral a nivel lenticular.", "isquemia cerebral",
         "stroke_type", "ischemic"),
        ("es", "Hospitalizado con diagnóstico de AVE isquémico de arteria cerebral media.", "AVE isquémico",
         "stroke_type", "ischemic"),
        ("es", "La RM mostraba un infarto póntico extenso.", "infarto póntico", "stroke_type", "ischemic"),
        ("es", "Se realizó una trombolisis con t-PA a las 2 h.", "t-PA", "ivt_drug", "alteplase"),
    ],
)
def test_member_labels(catalogue, lang, text, span, concept_id, member):
    value = _read(catalogue, lang, text, span, concept_id)
    assert value.ok, value.reason
    assert value.member_iri and value.member_iri.endswith(member), (value.value, value.member_iri)


@pytest.mark.parametrize(
    "text, span, expected",
    [
        ("TA 220/120 mmHg. Glu 169. TC: hematoma.", "169", Decimal("9.381")),  # only mg/dL makes it possible
        ("Glu 12. TC: hematoma.", "12", Decimal(12)),  # possible in mmol/L: stays
        ("Glucemia 169 mg/dl.", "169 mg/dl", Decimal("9.381")),
    ],
)
def test_glucose_without_its_unit(catalogue, text, span, expected):
    value = _read(catalogue, "es", text, span, "glucose")
    assert value.ok, value.reason
    assert Decimal(str(value.value)) == expected


def test_glucose_impossible_in_both_units_is_rejected(catalogue):
    assert _read(catalogue, "es", "Glu 16900.", "16900", "glucose").status.value == "rejected"


def test_title_label_is_matched_as_written(catalogue):
    from kgqa.values import enums

    sex = catalogue.get("sex")
    assert enums.match_member("Mrs", sex.members, "en")[0].id == "female"
    assert enums.match_member("mRS 2", sex.members, "en") is None
    assert not any(m.start == 0 for m in enums.member_mentions("mRS 2 at discharge", sex.members, "en"))
