"""Table-driven normalisation tests in all seven languages (the table is tests/values/cases.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.types import LANGUAGES, Answer, Note
from kgqa.values import normalise

from .cases import CASES

ADMISSION = dt.date(2024, 3, 12)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DEFAULT_CATALOGUE)


def _answer(note: Note, concept_id: str, span: str) -> Answer:
    start = note.text.index(span)
    return Answer.from_note(
        note, concept_id, start, start + len(span), score=1.0, null_score=0.0, confidence=0.9
    )


def test_table_has_at_least_20_cases_per_language():
    counts = Counter(case[0] for case in CASES)
    assert {lang: counts[lang] for lang in LANGUAGES if counts[lang] < 20} == {}


@pytest.mark.parametrize(
    "lang, text, span, concept_id, expected", CASES, ids=[f"{c[0]}-{c[3]}-{c[2]}" for c in CASES]
)
def test_normalise(catalogue, lang, text, span, concept_id, expected):
    expected = dict(expected)
    note = Note(id="n1", text=text, lang=lang, admission_date=expected.pop("adm", ADMISSION))
    value = normalise(_answer(note, concept_id, span), catalogue.get(concept_id), note)
    status = expected.pop("status", "ok")
    assert value.status.value == status, value.reason
    if status != "ok":
        assert value.reason and concept_id in value.reason
    if "value" in expected:
        want = expected.pop("value")
        got = value.value
        if isinstance(want, Decimal):
            assert Decimal(str(got)) == want
        else:
            assert got == want and type(got) is type(want), (got, want)
    if "member" in expected:
        assert value.member_iri and value.member_iri.endswith("#" + expected.pop("member")), value.member_iri
    if "assertion" in expected:
        assert value.assertion.value == expected.pop("assertion")
    if "kind" in expected:
        assert value.kind.value == expected.pop("kind")
    if "approximate" in expected:
        assert value.approximate is expected.pop("approximate")
    if "source" in expected:
        assert note.text[value.source_start : value.source_end] == expected.pop("source")
    assert not expected, f"unchecked expectations {expected}"
