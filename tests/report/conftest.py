"""Fixtures of the report tests; the records themselves live in report_fixtures.py."""

from __future__ import annotations

import datetime as dt

import pytest
from report_fixtures import CONCEPTS, HOSTILE, TEXTS, answer, facts_for, span_of

from kgqa.types import Concept, Fact, Link, Note, Value, ValueKind, ValueStatus


@pytest.fixture
def concepts() -> tuple[Concept, ...]:
    return CONCEPTS


@pytest.fixture
def notes() -> list[Note]:
    out = [Note(f"note-{lang}", text, lang, patient_id=f"P{i}", admission_date=dt.date(2025, 1, i + 1))
           for i, (lang, text) in enumerate(TEXTS.items())]
    out.append(Note("clean-en", "Discharged home in good condition.", "en"))  # no facts, nothing to flag
    out.append(Note("hostile<&>\"'", HOSTILE, "en", source="hostile.txt"))
    return out


@pytest.fixture
def facts(notes) -> list[Fact]:
    out = [f for n in notes if n.id.startswith("note-") for f in facts_for(n)]
    hostile = notes[-1]
    out.append(Fact(hostile.id, "nihss_admission",
                    Value(ValueKind.INTEGER, None, status=ValueStatus.UNPARSED, reason='could not parse "<b>41</b>"'),
                    answer(hostile, "nihss_admission", *span_of(hostile, "\u202e41\u202c"), confidence=0.3),
                    links=(Link('http://example.org/x"><script>alert(1)</script>', "<b>bold</b>", 0.5),)))
    out.append(Fact(hostile.id, "stroke_type", Value(ValueKind.TEXT, "<script>"),
                    answer(hostile, "stroke_type", *span_of(hostile, "<script>"))))
    return out
