import datetime as dt
from decimal import Decimal

import pytest

from kgqa.errors import KgqaError
from kgqa.records_io import read_facts_jsonl, read_notes_jsonl, write_facts_jsonl, write_notes_jsonl
from kgqa.types import Answer, Assertion, Fact, Link, Note, Value, ValueKind, ValueStatus

NOTE = Note(id="n1", text="TK 180/95, příjem 24.12.2025 v 14:35", lang="cs", admission_date=dt.date(2025, 12, 24),
            patient_id="P1", metadata={"ward": "stroke"})


@pytest.mark.parametrize(
    "value",
    [
        Value(ValueKind.INTEGER, 180, source_start=3, source_end=6),
        Value(ValueKind.DECIMAL, Decimal("7.2"), unit="mmol/L"),
        Value(ValueKind.DATE, dt.date(2025, 12, 24)),
        Value(ValueKind.TIME, dt.time(14, 35)),
        Value(ValueKind.DATETIME, dt.datetime(2025, 12, 24, 14, 35)),
        Value(ValueKind.BOOLEAN, False, assertion=Assertion.NEGATED),
        Value(ValueKind.INTEGER, 99, status=ValueStatus.REJECTED, reason="out of range"),
        Value(ValueKind.ENUM, None, member_iri="http://x/ischemic"),
    ],
)
def test_fact_round_trip(tmp_path, value):
    answer = Answer.from_note(NOTE, "c", 3, 9, score=4.5, null_score=-1.0, confidence=0.9, question="q?", question_lang="cs")
    facts = [
        Fact("n1", "c", value, answer, links=(Link("http://x/1", "one", 0.8, source="s"),)),
        Fact("n1", "d", value, derived_from=("a", "b")),
    ]
    write_facts_jsonl(facts, tmp_path / "f.jsonl")
    assert read_facts_jsonl(tmp_path / "f.jsonl") == facts


def test_note_round_trip(tmp_path):
    write_notes_jsonl([NOTE], tmp_path / "n.jsonl")
    assert read_notes_jsonl(tmp_path / "n.jsonl") == [NOTE]


def test_bad_line_names_file_and_line(tmp_path):
    p = tmp_path / "f.jsonl"
    p.write_text('{"note_id": "n"}\n', encoding="utf-8")
    with pytest.raises(KgqaError, match=r"f\.jsonl:1"):
        read_facts_jsonl(p)
