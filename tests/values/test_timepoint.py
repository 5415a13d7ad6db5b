"""A score is read at the time point its concept asks about (issue 21: admission vs 24 h vs discharge NIHSS).

Sentences in the style of the independent notes (written for this test, in the seven languages): the
admission NIHSS is not read from the 24-hour or discharge score, the discharge NIHSS not from the 24-hour
one, and the right score beside them still is.
"""

from __future__ import annotations

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.types import Note
from kgqa.values.normalise import readable_spans
from kgqa.values.timepoint import fits_time_point, marked_time_point, time_point_of

from .spans import span_at, unmarked


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DEFAULT_CATALOGUE)


EN = "Admitted at 07:10, NIHSS 14. Thrombolysis given. NIHSS on day 2 was 6. Discharged home on 12/05; NIHSS 2, mRS 1."
CS = "Přijat v 9:20, NIHSS 11, mRS před iktem 0. Po 24 hod NIHSS 5. Propuštěn 3. 6. 2024 domů, mRS 2, NIHSS 1."
BG = "Постъпил в 8:15 ч. NIHSS 16. NIHSS след 24 ч – 9. Изписан на 21.03.2024 г. NIHSS 4, mRS 3."
ES = "Al ingreso NIHSS de 18. A las 24 horas NIHSS de 10. Escala NIHSS de 3 al alta, mRS 2."
PL = "Przyjęty o 6:50. NIHSS 9. NIHSS po 24 godz. 4. Wypisany do domu 2.02.2025, NIHSS 1, mRS 1."
RO = "Internat la 10:40, NIHSS 13. NIHSS la 24 ore 8. Externat la 04.04.2024, NIHSS 3, mRS 2."
EL = "Εισαγωγή 09:30, NIHSS 12. NIHSS στο 24ωρο 7. Έξοδος 10/05/2024 στο σπίτι, NIHSS 2, mRS 1."

CASES = [
    # (lang, text, marked span, concept, fits)
    ("en", EN, "07:10, NIHSS [[14]].", "nihss_score", True),
    ("en", EN, "day 2 was [[6]].", "nihss_score", False),
    ("en", EN, "12/05; NIHSS [[2]],", "nihss_score", False),
    ("en", EN, "12/05; NIHSS [[2]],", "discharge_nihss_score", True),
    ("en", EN, "day 2 was [[6]].", "discharge_nihss_score", False),
    ("en", EN, "07:10, NIHSS [[14]].", "discharge_nihss_score", False),
    ("en", EN, "mRS [[1]].", "discharge_mrs", True),
    ("en", EN, "mRS [[1]].", "prestroke_mrs", False),
    ("cs", CS, "9:20, NIHSS [[11]],", "nihss_score", True),
    ("cs", CS, "Po 24 hod NIHSS [[5]].", "nihss_score", False),
    ("cs", CS, "mRS 2, NIHSS [[1]].", "nihss_score", False),
    ("cs", CS, "mRS 2, NIHSS [[1]].", "discharge_nihss_score", True),
    ("cs", CS, "před iktem [[0]].", "prestroke_mrs", True),
    ("cs", CS, "domů, mRS [[2]],", "prestroke_mrs", False),
    ("bg", BG, "ч. NIHSS [[16]].", "nihss_score", True),
    ("bg", BG, "24 ч – [[9]].", "nihss_score", False),
    ("bg", BG, "г. NIHSS [[4]],", "nihss_score", False),  # "2024 г." is an abbreviation, not a sentence end
    ("bg", BG, "г. NIHSS [[4]],", "discharge_nihss_score", True),
    ("es", ES, "NIHSS de [[18]].", "nihss_score", True),
    ("es", ES, "24 horas NIHSS de [[10]].", "nihss_score", False),
    ("es", ES, "NIHSS de [[3]] al alta", "nihss_score", False),  # the marker after the score
    ("es", ES, "NIHSS de [[3]] al alta", "discharge_nihss_score", True),
    ("pl", PL, "6:50. NIHSS [[9]].", "nihss_score", True),
    ("pl", PL, "24 godz. [[4]].", "nihss_score", False),
    ("pl", PL, "2.02.2025, NIHSS [[1]],", "nihss_score", False),
    ("ro", RO, "10:40, NIHSS [[13]].", "nihss_score", True),
    ("ro", RO, "24 ore [[8]].", "nihss_score", False),
    ("ro", RO, "04.04.2024, NIHSS [[3]],", "discharge_nihss_score", True),
    ("el", EL, "09:30, NIHSS [[12]].", "nihss_score", True),
    ("el", EL, "24ωρο [[7]].", "discharge_nihss_score", False),
    ("el", EL, "σπίτι, NIHSS [[2]],", "discharge_nihss_score", True),
    ("el", EL, "σπίτι, NIHSS [[2]],", "nihss_score", False),
]


# the functional status before the stroke, written as "baseline" or "before the stroke", next to the discharge one:
# neither mRS may answer for the other (the reader answered discharge mRS with the baseline one at confidence 0.99)
PRE = [
    ("es", "Situación basal: mRS [[3]].\nEstado funcional al alta: mRS 4."),
    ("es", "Situación basal previa independiente (mRS [[0]]). Al alta mRS 2."),
    ("ro", "Înainte de AVC independent, mRS [[1]].\nStatus funcțional la externare: mRS 4."),
    ("el", "Πριν το ΑΕΕ αυτοεξυπηρετούμενος, mRS [[0]].\nΚατά την έξοδο mRS 2."),
    ("bg", "Преди инсулт самостоятелен, mRS [[1]]. При изписването mRS 3."),
    ("cs", "Před CMP soběstačný, mRS [[0]]. Při propuštění mRS 2."),
    ("pl", "Przed zachorowaniem samodzielny, mRS [[1]]. Przy wypisie mRS 3."),
    ("en", "Independent before stroke, mRS [[0]]. At discharge mRS 2."),
]
for _lang, _bracketed in PRE:
    _text = _bracketed.replace("[[", "").replace("]]", "")
    _marked = _bracketed[_bracketed.index("[[") - 4 : _bracketed.index("]]") + 3]
    CASES += [(_lang, _text, _marked, "prestroke_mrs", True), (_lang, _text, _marked, "discharge_mrs", False)]


@pytest.mark.parametrize(("lang", "text", "marked", "concept_id", "fits"), CASES)
def test_time_point(catalogue, lang, text, marked, concept_id, fits) -> None:
    note = Note(id="n", text=text, lang=lang)
    start, end = span_at(text, marked)
    assert fits_time_point(catalogue.get(concept_id), note, start, end) is fits
    # the reader's span filter says the same (the values stage reads the number either way)
    assert readable_spans(catalogue.get(concept_id), note)(start, end) is fits


def test_a_sentence_without_a_marker_passes(catalogue) -> None:
    text = "Known hypertension. NIHSS 7, GCS 15."
    start, end = span_at(text, "NIHSS [[7]],")
    note = Note(id="n", text=text, lang="en")
    assert marked_time_point(note, start, end) is None
    for concept_id in ("nihss_score", "discharge_nihss_score"):
        assert fits_time_point(catalogue.get(concept_id), note, start, end)


def test_the_nearest_marker_decides(catalogue) -> None:
    """A discharge sentence that names the admission score beside its number reads as admission."""
    text = "Discharged home on 12/05, NIHSS on admission 15, at discharge 3."
    note = Note(id="n", text=text, lang="en")
    start, end = span_at(text, "admission [[15]],")
    assert marked_time_point(note, start, end) == "admission"
    assert fits_time_point(catalogue.get("nihss_score"), note, start, end)
    start, end = span_at(text, "discharge [[3]].")
    assert not fits_time_point(catalogue.get("nihss_score"), note, start, end)


def test_only_concepts_with_a_time_point_are_judged(catalogue) -> None:
    assert {c.id for c in catalogue if time_point_of(c)} == {
        "nihss_score", "discharge_nihss_score", "prestroke_mrs", "discharge_mrs", "discharge_date", "hospital_timestamp",
    }
    text = "Discharged home; GCS 15."
    start, end = span_at(text, "GCS [[15]].")
    assert fits_time_point(catalogue.get("gcs_score"), Note(id="n", text=text, lang="en"), start, end)


def test_a_line_break_ends_a_sentence_even_after_a_short_word() -> None:
    """ "mmol/l." closes a two-letter word, but the line break after it still ends the sentence."""
    text = "Propuštěn domů, glykémie 6,1 mmol/l.\nNIHSS 8 při přijetí."
    start, end = span_at(text, "NIHSS [[8]] při")
    note = Note(id="n", text=text, lang="cs")
    # the discharge word of the line before is not this sentence's marker; the one after the score is
    assert marked_time_point(note, start, end) == "admission"


def test_sentence_starts_match_a_rescan_of_each_prefix() -> None:
    """The per-note boundaries (computed once, bisected) agree with scanning the text up to each offset."""
    from kgqa.values.timepoint import _ABBREVIATION, _SENTENCE_END, _sentence_start

    text = f"{EN}\n{CS}\n{BG}\nGlu 5,1 mmol/l.\nCT 3,0 mmol/l. NIHSS 4. Dr. Novák: mRS 2.\n{EL}"

    def rescan(offset: int) -> int:
        begin = 0
        for m in _SENTENCE_END.finditer(text):
            if m.end() > offset:
                break
            if "\n" not in m.group() and _ABBREVIATION.search(text, max(0, m.start() - 3), m.start()):
                continue
            begin = m.end()
        return begin

    assert [_sentence_start(text, i) for i in range(len(text) + 1)] == [rescan(i) for i in range(len(text) + 1)]


@pytest.mark.parametrize(("lang", "text", "marked", "fits"), [
    # the admission date, written where the patient came in, is no discharge date
    ("en", "The patient was hospitalised on [[2025-02-08]].", "admission", False),
    ("es", "Hospitalizado desde el [[9 de diciembre de 2025]].", "admission", False),
    ("cs", "Na UP od [[13. 2. 2025]] 2:28 hod.", "admission", False),
    ("el", "Στο ΤΕΠ από [[05/12/2024]] 15:19.", "admission", False),
    ("bg", "Хоспитализиран от [[20.2.2022г]].", "admission", False),
    # the discharge date itself, and one written with no marker, still answer
    ("pl", "Zakończenie hospitalizacji [[14.12.2024 r.]]", None, True),
    ("ro", "Externat la [[04.04.2024]] la domiciliu.", "discharge", True),
    ("en", "Admitted 3 May, discharged on [[10 May 2024]].", "discharge", True),
])
def test_a_date_written_at_admission_is_no_discharge_date(catalogue, lang, text, marked, fits) -> None:
    """... and the other way round: the discharge date is no arrival at hospital (the shipped reader's
    low-confidence answers to the arrival question on the independent dev notes were discharge dates)."""
    plain, start, end = unmarked(text)
    note = Note(id="n", text=plain, lang=lang)
    assert marked_time_point(note, start, end) == marked
    assert fits_time_point(catalogue.get("discharge_date"), note, start, end) is fits
    assert fits_time_point(catalogue.get("hospital_timestamp"), note, start, end) is (marked != "discharge")


@pytest.mark.parametrize(("lang", "text", "concept_id", "fits"), [
    # a discharge prescription read off the history or the home medication is no answer
    ("bg", "От анамнезата: ПМ, лекувано с [[варфарин]] (INR 2,9).", "discharge_warfarin", False),
    ("es", "HTA, DL. Tto domiciliario: AAS 100, [[simvastatina]] 20.", "discharge_statin", False),
    ("en", "Regular meds: aspirin 75 mg, [[simvastatin]] 40 mg.", "discharge_statin", False),
    # ... where the discharge comes after the history word, or nothing is said, it is
    ("es", "Antecedentes sin interés. Alta a domicilio con AAS 100 mg y [[atorvastatina]] 80 mg.", "discharge_statin", True),
    ("cs", "Th. dabigatran 110 mg 1-0-1, [[atorvastatin]] 20 mg.", "discharge_statin", True),
    # a home drug read off the discharge medication is no answer either
    ("en", "Medications on discharge: apixaban, [[atorvastatin]] 40 mg.", "before_onset_statin", False),
    ("en", "Regular meds: aspirin 75 mg, [[simvastatin]] 40 mg.", "before_onset_statin", True),
    # other concepts are not judged
    ("en", "Regular meds: aspirin 75 mg. [[NIHSS 4]].", "nihss_score", True),
])
def test_a_drug_answer_is_not_read_off_the_other_times_medication(catalogue, lang, text, concept_id, fits) -> None:
    from kgqa.values.timepoint import fits_medication_time

    plain, start, end = unmarked(text)
    assert fits_medication_time(catalogue.get(concept_id), Note(id="n", text=plain, lang=lang), start, end) is fits
