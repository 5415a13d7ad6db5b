"""A span that names another drug than the concept's own is not an answer about that drug."""

from __future__ import annotations

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.types import Answer, Note, ValueStatus
from kgqa.values.normalise import normalise

TEXTS = {
    "en": "Medication at discharge: apixaban 5 mg twice daily, clopidogrel 75 mg, atorvastatin 40 mg. Prescribed.",
    "bg": "Терапия при изписване: апиксабан 5 mg, клопидогрел 75 mg, аторвастатин 40 mg.",
    "el": "Φάρμακα εξόδου: απιξαμπάνη 5 mg, κλοπιδογρέλη 75 mg.",
}


@pytest.fixture(scope="module")
def concepts():
    return {c.id: c for c in load_catalogue(DEFAULT_CATALOGUE).concepts}


def value_of(concepts, concept_id: str, lang: str, span: str):
    note = Note(id=f"note-{lang}", text=TEXTS[lang], lang=lang)
    start = note.text.index(span)
    answer = Answer.from_note(note, concept_id, start, start + len(span), score=5.0, null_score=0.0, confidence=0.9)
    return normalise(answer, concepts[concept_id], note)


@pytest.mark.parametrize(
    ("concept_id", "lang", "span", "status"),
    [
        ("discharge_clopidogrel", "en", "apixaban 5 mg twice daily", ValueStatus.REJECTED),
        ("discharge_clopidogrel", "en", "clopidogrel 75 mg", ValueStatus.OK),
        # the span names both: it does mention the concept's drug
        ("discharge_apixaban", "en", "apixaban 5 mg twice daily, clopidogrel", ValueStatus.OK),
        # a drug under the concept's class is its own name
        ("discharge_any_antiplatelet", "en", "clopidogrel", ValueStatus.OK),
        ("discharge_any_antiplatelet", "en", "apixaban", ValueStatus.REJECTED),
        ("discharge_statin", "en", "atorvastatin 40 mg", ValueStatus.OK),
        # no drug named at all: nothing to contradict
        ("discharge_clopidogrel", "en", "Prescribed", ValueStatus.OK),
        ("discharge_clopidogrel", "bg", "апиксабан", ValueStatus.REJECTED),
        ("discharge_clopidogrel", "bg", "клопидогрел", ValueStatus.OK),
        ("discharge_apixaban", "el", "κλοπιδογρέλη", ValueStatus.REJECTED),
        ("discharge_apixaban", "el", "απιξαμπάνη", ValueStatus.OK),
    ],
)
def test_answers_naming_only_another_term_are_rejected(concepts, concept_id, lang, span, status):
    value = value_of(concepts, concept_id, lang, span)
    assert value.status is status
    if status is ValueStatus.REJECTED:
        assert concept_id in value.reason and "names" in value.reason
    else:
        assert value.value is True
