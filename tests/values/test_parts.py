"""Unit-level tables for the value readers: numbers, units, dates, times, durations, assertion cues, members."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgqa.types import Assertion, EnumMember
from kgqa.values import assertion, dates, enums, measures, numbers, units


@pytest.fixture(scope="module")
def catalogue_concepts():
    from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue

    return {c.id: c for c in load_catalogue(DEFAULT_CATALOGUE).concepts}


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("5,6", "cs", 5.6),
        ("5.6", "cs", 5.6),
        ("1.234", "es", 1234.0),
        ("1.234", "en", 1.234),
        ("1,234", "en", 1234.0),
        ("1,234", "pl", 1.234),
        ("0,234", "en", 0.234),
        ("1.234,5", "es", 1234.5),
        ("1,234.5", "en", 1234.5),
        ("1\u202f234,5", "pl", 1234.5),
        ("1.234.567", "ro", 1234567.0),
        ("12.03.2024", "en", None),
        ("-3", "en", -3.0),
        ("abc", "en", None),
    ],
)
def test_parse_number(text, lang, expected):
    assert numbers.parse_number(text, lang) == expected


@pytest.mark.parametrize(
    "text, value, approximate, low, high",
    [
        ("120", 120.0, False, None, None),
        ("cca 120-130 mmHg", 125.0, True, 120.0, 130.0),
        ("between 8 and 10", 9.0, True, 8.0, 10.0),
        ("między 8 a 10", 9.0, True, 8.0, 10.0),
        ("от 8 до 10", 9.0, True, 8.0, 10.0),
        ("περίπου 60", 60.0, True, None, None),
        ("180/95", 180.0, False, None, None),  # a slash is not a range
        ("NIHSS 8 120/80", 8.0, False, None, None),  # plain spaces never group thousands
    ],
)
def test_read_quantity(text, value, approximate, low, high):
    r = numbers.read_quantity(text, "en")
    assert (r.value, r.approximate, r.low, r.high) == (value, approximate, low, high)


@pytest.mark.parametrize(
    "value, unit, target, molar_mass, expected",
    [
        (126, "mg/dl", "mmol/L", 180.156, 6.994),
        (7.4, "ммол/л", "mmol/L", None, 7.4),
        (200, "mg/dL", "mmol/L", 386.65, 5.173),
        (0.063, "g", "mg", None, 63.0),
        (1.5, "hod", "minute", None, 90.0),
        (2, "ч", "minute", None, 120.0),
        (45, "λεπτά", "minute", None, 45.0),
        (3, "ml", "mL", None, 3.0),
    ],
)
def test_unit_conversion(value, unit, target, molar_mass, expected):
    out, reason = units.convert(value, unit, target, molar_mass)
    assert reason is None and round(out, 3) == expected


def test_unconvertible_units_give_a_reason():
    out, reason = units.convert(5, "%", "mmol/L", 180.156)
    assert out is None and "cannot convert" in reason
    assert units.check_unit("wibbles") and units.check_unit("mmol/L") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14:35", dt.time(14, 35)),
        ("at 2:35 pm", dt.time(14, 35)),
        ("12:10 am", dt.time(0, 10)),
        ("12:10 pm", dt.time(12, 10)),
        ("10:20 μ.μ.", dt.time(22, 20)),
        ("8.15 h", dt.time(8, 15)),
        ("14h35", dt.time(14, 35)),
        ("ED arrival 0535h", dt.time(5, 35)),
        ("at 1202 hrs", dt.time(12, 2)),
        ("2130 hours", dt.time(21, 30)),
        ("2460h", None),
        ("2515 hrs", None),
        ("1202", None),
        ("3/2024h", None),
        ("o godz. 9", None),
        ("в 14 ч.", dt.time(14, 0)),
        ("3 pm", dt.time(15, 0)),
        # an hour alone is a time of day only after a word that introduces one: "2 h" is a duration
        ("2 h", None),
        ("symptoms for 2 h", None),
        ("arrived 2 h after onset", None),
        ("at 2 h", dt.time(2, 0)),
        ("a las 14 h", dt.time(14, 0)),
        ("στις 9 h", dt.time(9, 0)),
        ("24.12. 14 h", dt.time(14, 0)),
        ("5,6 mmol/l", None),
        ("12.03.2024", None),
        ("25:10", None),
    ],
)
def test_find_time(text, expected):
    got = dates.find_time(text)
    assert (got.time if got else None) == expected


ADM = dt.date(2024, 1, 2)


@pytest.mark.parametrize(
    "text, lang, admission, expected, completed",
    [
        ("12.03.2024", "cs", ADM, dt.date(2024, 3, 12), ""),
        ("03/12/2024", "en", ADM, dt.date(2024, 12, 3), ""),  # day first in every language
        ("2024-03-12", "en", ADM, dt.date(2024, 3, 12), ""),
        ("12.03.24", "pl", ADM, dt.date(2024, 3, 12), ""),
        ("12.03.98", "pl", ADM, dt.date(1998, 3, 12), ""),
        ("24.12.", "bg", ADM, dt.date(2023, 12, 24), "year"),  # the December before a January admission
        ("5.1.", "cs", ADM, dt.date(2024, 1, 5), "year"),
        ("24 декември", "bg", ADM, dt.date(2023, 12, 24), "year"),
        ("12 Μαρτίου 2024", "el", ADM, dt.date(2024, 3, 12), ""),
        ("12. března 2024", "cs", ADM, dt.date(2024, 3, 12), ""),
        ("12 de marzo de 2024", "es", ADM, dt.date(2024, 3, 12), ""),
        ("the 30th", "en", ADM, dt.date(2023, 12, 30), "month+year"),
        ("вчера", "bg", ADM, dt.date(2024, 1, 1), "date"),
    ],
)
def test_find_date(text, lang, admission, expected, completed):
    part = dates.find_date(text, lang, admission)
    assert (part.date, part.completed) == (expected, completed)


@pytest.mark.parametrize(
    "text, admission, direction, expected",
    [
        ("5.1.", dt.date(2023, 12, 20), "after", dt.date(2024, 1, 5)),  # discharge across New Year
        ("20.12.", dt.date(2024, 1, 2), "after", dt.date(2024, 12, 20)),  # never before admission
        ("30.12.", dt.date(2024, 1, 2), "before", dt.date(2023, 12, 30)),  # onset before admission
        ("3.1.", dt.date(2024, 1, 2), "before", dt.date(2024, 1, 3)),  # one day of slack
        ("the 28th", dt.date(2024, 3, 30), "after", dt.date(2024, 4, 28)),
    ],
)
def test_completion_respects_the_side_of_admission(text, admission, direction, expected):
    assert dates.find_date(text, "en", admission, direction).date == expected


@pytest.mark.parametrize("text", ["24.12.", "the 12th", "24 декември", "вчера"])
def test_partial_dates_without_admission_date_are_not_invented(text):
    with pytest.raises(dates.DateError, match="admission date"):
        dates.find_date(text, "bg" if text[0] in "2в" else "en", None)


def test_invalid_dates_are_errors_not_guesses():
    with pytest.raises(dates.DateError, match="not a valid date"):
        dates.find_date("31.02.2024", "cs", ADM)


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("45 min", 45),
        ("1 h 20 min", 80),
        ("1:20 h", 80),
        ("1,5 hod", 90),
        ("90'", 90),
        ("35", 35),
        ("2 ώρες", 120),
        ("1 godz. 10 min", 70),
        ("o godz. 1:20", None),
    ],
)
def test_read_minutes(text, minutes):
    got = measures.read_minutes(text, "en")
    if minutes is None:  # a clock time is not a duration
        assert isinstance(got, str) or got.value != 80
    else:
        assert got.value == minutes


@pytest.mark.parametrize(
    "text, scale, maximum, expected",
    [
        ("NIHSS 8 b. at 14:35", "NIHSS", 42, 8),
        ("12.3. NIHSS 6", "NIHSS", 42, 6),
        ("8/42", "NIHSS", 42, 8),
        ("mRS 3 (před iktem 1)", "mRS", 6, 3),
        ("GCS 3+4+5 = 12", "GCS", 15, 3),
        ("ASPECTS: 9", "ASPECTS", 10, 9),
        ("skóre 7 bodů", "NIHSS", 42, 7),
    ],
)
def test_read_score(text, scale, maximum, expected):
    assert measures.read_score(text, "cs", scale, maximum).value == expected


@pytest.mark.parametrize(
    "lang, text, span, expected",
    [
        ("en", "Thrombolysis was not given due to late arrival.", "Thrombolysis", Assertion.NEGATED),
        (
            "en",
            "History of hypertension. Thrombolysis given, no complications.",
            "Thrombolysis",
            Assertion.PRESENT,
        ),
        ("en", "No diabetes, hypertension or AF.", "AF", Assertion.NEGATED),
        ("en", "Thrombolysis given but no thrombectomy.", "Thrombolysis", Assertion.PRESENT),
        ("en", "If the patient deteriorates, consider thrombectomy.", "thrombectomy", Assertion.HYPOTHETICAL),
        (
            "en",
            "CT: no change compared to the previous study, infarct in the left MCA.",
            "infarct",
            Assertion.PRESENT,
        ),
        ("bg", "Тромболиза не е проведена.", "Тромболиза", Assertion.NEGATED),
        ("bg", "Баща му е прекарал инсулт.", "инсулт", Assertion.FAMILY),
        ("cs", "Trombolýza nebyla podána, pacient přeložen.", "Trombolýza", Assertion.NEGATED),
        ("cs", "Susp. disekce ACI vlevo.", "disekce", Assertion.POSSIBLE),
        ("cs", "CT bez změny, ischemie v povodí ACM.", "ischemie", Assertion.PRESENT),
        ("el", "Θρομβόλυση δεν χορηγήθηκε.", "Θρομβόλυση", Assertion.NEGATED),
        ("el", "Προηγούμενο ΑΕΕ το 2019.", "ΑΕΕ", Assertion.HISTORICAL),
        ("es", "No se realizó trombólisis.", "trombólisis", Assertion.NEGATED),
        ("es", "No se descarta disección.", "disección", Assertion.POSSIBLE),
        ("es", "Antecedentes familiares de ictus.", "ictus", Assertion.FAMILY),
        ("pl", "Nie podano trombolizy.", "trombolizy", Assertion.NEGATED),
        ("pl", "W razie pogorszenia rozważyć trombektomię.", "trombektomię", Assertion.HYPOTHETICAL),
        ("ro", "Nu s-a efectuat tromboliză.", "tromboliză", Assertion.NEGATED),
        ("ro", "AVC ischemic în antecedente.", "AVC ischemic", Assertion.HISTORICAL),
        # checklist answers after a colon: "X: no" negates X, and only X
        ("en", "Diabetes: no, hypertension: yes.", "Diabetes", Assertion.NEGATED),
        ("en", "Diabetes: no, hypertension: yes.", "hypertension", Assertion.PRESENT),
        ("el", "Παράγοντες κινδύνου: αρτηριακή υπέρταση: όχι.", "αρτηριακή υπέρταση", Assertion.NEGATED),
        ("cs", "Fibrilace síní: ne.", "Fibrilace síní", Assertion.NEGATED),
        # a list negated up front still reaches across its commas
        ("en", "Risk factors: no diabetes, hypertension.", "hypertension", Assertion.NEGATED),
        # post-posed participles and "denies" in Czech and Polish; a post-posed cue never reaches forward
        ("pl", "Czynniki ryzyka: nadciśnienie tętnicze wykluczone.", "nadciśnienie tętnicze", Assertion.NEGATED),
        ("pl", "Zaburzenia lipidowe wykluczone, cukrzyca typu 2.", "cukrzyca typu 2", Assertion.PRESENT),
        ("pl", "Czynniki ryzyka: neguje: nadciśnienie tętnicze.", "nadciśnienie tętnicze", Assertion.NEGATED),
        ("cs", "Rizikové faktory: neguje arteriální hypertenzi.", "arteriální hypertenzi", Assertion.NEGATED),
        ("cs", "Diabetes mellitus vyloučeno.", "Diabetes mellitus", Assertion.NEGATED),
    ],
)
def test_assertion_cues(lang, text, span, expected):
    start = text.index(span)
    status, cue = assertion.detect(text, start, start + len(span), lang)
    assert status is expected, cue


def test_negation_is_scoped_to_the_sentence():
    text = "Patient denies chest pain.\nThrombolysis administered at 14:35."
    start = text.index("Thrombolysis")
    assert assertion.detect(text, start, start + 12, "en")[0] is Assertion.PRESENT


MEMBERS = (
    EnumMember(
        "ischemic",
        "urn:x#ischemic",
        {"en": ("ischemic stroke", "IS"), "cs": ("ischemická cévní mozková příhoda",)},
    ),
    EnumMember("undetermined", "urn:x#undetermined", {"en": ("stroke",)}),
    EnumMember("male", "urn:x#male", {"en": ("male", "M")}),
)


@pytest.mark.parametrize(
    "span, lang, expected",
    [
        ("ischemic stroke", "en", "ischemic"),
        ("Stroke, ischaemic? no: ischemic stroke", "en", "ischemic"),
        ("The stroke is ischemic", "en", "ischemic"),  # tokens in any order; "is" is not "IS"
        ("IS", "en", "ischemic"),
        ("stroke", "en", "undetermined"),
        ("M", "en", "male"),
        ("Mild stroke", "en", "undetermined"),  # "M" needs the whole span
        ("ischemické cévní mozkové příhody", "cs", "ischemic"),  # inflected
        ("haemorrhage", "en", None),
    ],
)
def test_match_member(span, lang, expected):
    hit = enums.match_member(span, MEMBERS, lang)
    assert (hit[0].id if hit else None) == expected


@pytest.mark.parametrize(
    "span, lang, expected",
    [
        ("ano", "cs", True),
        ("Ne", "cs", False),
        ("ναι", "el", True),
        ("όχι", "el", False),
        ("Sí", "es", True),
        ("nie", "pl", False),
        ("da", "ro", True),
        ("не", "bg", False),
        ("yes", "bg", True),
        ("maybe", "en", None),
    ],
)
def test_yes_no(span, lang, expected):
    assert enums.yes_no(span, lang) is expected


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=99_999_999),
    lang=st.sampled_from(("bg", "cs", "el", "en", "es", "pl", "ro")),
    grouped=st.booleans(),
)
def test_numbers_written_in_a_languages_convention_read_back(cents, lang, grouped):
    """A value written the way the language writes it (decimal mark, optional thousands groups) reads back."""
    whole, frac = divmod(cents, 100)
    decimal_mark, group_mark = (".", ",") if lang == "en" else (",", ".")
    whole_text = f"{whole:,}".replace(",", group_mark) if grouped else str(whole)
    text = f"{whole_text}{decimal_mark}{frac:02d}"
    assert numbers.parse_number(text, lang) == pytest.approx(cents / 100)



SEX = (
    EnumMember("male", "urn:x#male", {"cs": ("muž", "M"), "en": ("male", "M"), "es": ("varón", "V")}),
    EnumMember("female", "urn:x#female", {"cs": ("žena", "Ž"), "en": ("female", "F"), "pl": ("kobieta", "K")}),
)


@pytest.mark.parametrize(
    "text, members, lang, expected",
    [
        # a member label as written, folded (case, accents) and inflected
        ("Věk 29 let, pohlaví: žena.", SEX, "cs", ["žena"]),
        ("FEMALE, aged 82", SEX, "en", ["FEMALE"]),
        ("Pacjentka, kobiety nie badano", SEX, "pl", ["kobiety"]),
        # one-letter labels: as written, whole words, and only in the note's language or English —
        # the Spanish "V" (varón) is a Czech preposition, the folded "Ž" every Czech "z"
        ("V den propuštění, pohlaví: Ž, přeložena z JIP.", SEX, "cs", ["Ž"]),
        ("Sex: M. Mild deficit, MCA occlusion.", SEX, "en", ["M"]),
        ("Sexo: V.", SEX, "es", ["V"]),
        # multi-word labels: the tokens in any order, one extra word allowed inside
        ("Dx: stroke, ischemic type; IS confirmed", MEMBERS, "en", ["stroke", "stroke, ischemic", "IS"]),
        ("ischemická akutní cévní mozková příhoda", MEMBERS, "cs", ["ischemická akutní cévní mozková příhoda"]),
        ("The patient is well.", MEMBERS, "en", []),
    ],
)
def test_member_mentions(text, members, lang, expected):
    mentions = enums.member_mentions(text, members, lang)
    assert [text[m.start : m.end] for m in mentions] == expected
    for m in mentions:
        # every mention is a span the values stage reads as a member
        assert enums.match_member(text[m.start : m.end], members, lang) is not None
        assert m.named_by(m.start, m.end)
        assert m.named_by(max(0, m.start - 1), m.end) is not m.whole


def test_spans_naming_members_only_for_labelled_enumerations():
    from kgqa.types import Concept, ValueKind

    sex = Concept(id="sex", group="g", kind=ValueKind.ENUM, target_class="x:Sex", members=SEX, questions={"en": ("Sex?",)})
    age = Concept(id="age", group="g", kind=ValueKind.INTEGER, target_class="x:Age", questions={"en": ("Age?",)})
    assert [m.start for m in enums.spans_naming_members(sex, "Female, 82", "en")] == [0]
    assert enums.spans_naming_members(sex, "Age 82", "en") == ()  # names none: no answer at all
    assert enums.spans_naming_members(age, "Female, 82", "en") is None  # no such rule


def test_a_drug_concept_with_a_scheme_answers_only_with_a_member(catalogue_concepts):
    """The thrombolytic given is named in the answer (inflected: "alteplázou", "alteplazą"), never
    another drug of the note or a word beside it ("apixaban", "cardioembolic")."""
    ivt_drug = catalogue_concepts["ivt_drug"]
    for lang, text, named in [
        ("en", "Tenecteplase 0.25 mg/kg at 10:16; on apixaban before.", "Tenecteplase"),
        ("cs", "IVT alteplázou zahájena v 9:02.", "alteplázou"),
        ("pl", "Leczenie trombolityczne alteplazą (DNT 33 min).", "alteplazą"),
        ("pl", "rtPA iv. o 7:52.", "rtPA"),
        ("bg", "Проведена ИВТ с алтеплаза.", "алтеплаза"),
    ]:
        found = enums.spans_naming_members(ivt_drug, text, lang)
        assert [text[m.start : m.end] for m in found] == [named], (lang, text)
    assert enums.spans_naming_members(ivt_drug, "Cardioembolic stroke on apixaban; no thrombolysis.", "en") == ()
    other_drugs = catalogue_concepts["discharge_other_drugs"]  # a drug concept with no scheme: no such rule
    assert enums.spans_naming_members(other_drugs, "Apixaban 5 mg.", "en") is None
