"""Decisions -> SQuAD training data and kgqa eval gold, read back by training's SQuAD loader and by
kgqa eval's gold loader and scorer."""

from __future__ import annotations

import pytest
from conftest import csrf_of, decide, keys_of

from kgqa.evaluation.gold import read_gold_jsonl
from kgqa.evaluation.scoring import score
from kgqa.report.config import ReportConfig
from kgqa.review.export import write_export
from kgqa.review.view import build_review_note
from training.squad import load_dataset_file


def reviewed_notes(review, cat):
    return [build_review_note(i, n, review.facts(n), review.decisions(n), review.seen(n), tuple(cat), ReportConfig())
            for i, n in enumerate(review.notes())]


@pytest.fixture
def decided(client, notes):
    """note-en fully decided; note-es partly (thrombectomy left open)."""
    token = csrf_of(client)
    en, es = keys_of(client, 0), keys_of(client, 1)
    for body in ({"fact": en["age"], "action": "accept"},
                 {"fact": en["nihss_score"], "action": "reject", "reason": "historical"},
                 {"fact": en["systolic_pressure"], "action": "correct", "value": "190"},
                 {"fact": en["risk_hypertension"], "action": "accept"},
                 {"fact": en["thrombolysis"], "action": "reject", "reason": "wrong_span"},
                 {"fact": en["thrombolysis"], "action": "accept"},  # the latest decision counts
                 {"fact": en["discharge_mrs"], "action": "reject", "reason": "wrong_span"}):
        assert decide(client, token, index=0, **body).status_code == 200
    start = notes[1].text.index("7 al")
    for body in ({"fact": es["age"], "action": "accept"},
                 {"fact": es["nihss_score"], "action": "correct", "start": start, "end": start + 1}):
        assert decide(client, token, index=1, **body).status_code == 200


def test_export_round_trips_through_the_training_loader(decided, review, cat, notes, tmp_path):
    report = write_export(reviewed_notes(review, cat), tuple(cat), tmp_path)
    assert report.questions == 8 and report.unanswerable == 2
    en, rep = load_dataset_file(tmp_path / "squad" / "review.en.json", dataset="review", lang="en", fmt="squad")
    assert rep.answers_ok == 4 and rep.answers_repaired == rep.answers_dropped == 0
    by_id = {e.id: e for e in en}
    assert set(by_id) == {f"note-en::{c}" for c in ("age", "nihss_score", "systolic_pressure", "risk_hypertension",
                                                    "thrombolysis", "discharge_mrs")}
    assert [a.text for a in by_id["note-en::age"].answers] == ["71"]
    assert by_id["note-en::nihss_score"].is_impossible and not by_id["note-en::nihss_score"].answers
    assert by_id["note-en::discharge_mrs"].is_impossible
    # a typed correction keeps the span the reader found; the text was right, the value was not
    assert [a.text for a in by_id["note-en::systolic_pressure"].answers] == ["185/100"]
    assert [a.text for a in by_id["note-en::thrombolysis"].answers] == ["Alteplase thrombolysis"]
    assert by_id["note-en::age"].context == notes[0].text
    assert by_id["note-en::age"].question == cat.get("age").questions["en"][0]

    es, _ = load_dataset_file(tmp_path / "squad" / "review.es.json", dataset="review", lang="es", fmt="squad")
    assert {e.id: [a.text for a in e.answers] for e in es} == {"note-es::age": ["80"], "note-es::nihss_score": ["7"]}
    assert all(e.question == cat.get(e.id.split("::")[1]).questions["es"][0] for e in es)


def test_export_round_trips_into_kgqa_eval(decided, review, cat, extraction, tmp_path):
    report = write_export(reviewed_notes(review, cat), tuple(cat), tmp_path)
    golds = list(read_gold_jsonl(tmp_path / "review.gold.jsonl"))
    # only the fully decided note: gold says "absent" for whatever it does not annotate
    assert [g.note.id for g in golds] == ["note-en"] and report.gold_skipped == {"facts not decided": 1}
    got = {(a.concept_id, a.text, a.value, a.assertion) for a in golds[0].annotations}
    assert got == {("age", "71", 71, "present"), ("systolic_pressure", "185/100", 190, "present"),
                   ("risk_hypertension", "hypertension", False, "negated"),
                   ("thrombolysis", "Alteplase thrombolysis", True, "present")}
    # scoring the extraction against the reviewed gold: the reader's own facts, judged by the reviewer
    facts = {"note-en": [f for f in extraction.facts if f.note_id == "note-en"]}
    scores = score(golds, facts, [cat.get(c) for c in cat.ids])
    value = scores.metrics(("overall",))["value"]
    # 6 valued predictions; right: age, hypertension "no", thrombolysis (systolic 185 != reviewed 190)
    assert (value["precision"], value["recall"]) == (pytest.approx(3 / 6), pytest.approx(3 / 4))


def test_a_wrong_value_without_correction_keeps_the_note_out_of_gold(client, review, cat, tmp_path):
    token = csrf_of(client)
    keys = keys_of(client, 0)
    for concept, key in keys.items():
        body = {"action": "reject", "reason": "wrong_value"} if concept == "age" else {"action": "accept"}
        assert decide(client, token, fact=key, **body).status_code == 200
    report = write_export(reviewed_notes(review, cat), tuple(cat), tmp_path)
    assert report.gold_notes == 0 and report.gold_skipped["a value rejected as wrong, not corrected"] == 1
    en, _ = load_dataset_file(tmp_path / "squad" / "review.en.json", dataset="review", lang="en", fmt="squad")
    # for training the span still answers the question
    assert [a.text for e in en if e.id == "note-en::age" for a in e.answers] == ["71"]


def test_nothing_decided_exports_nothing(review, cat, tmp_path):
    report = write_export(reviewed_notes(review, cat), tuple(cat), tmp_path)
    assert report.questions == 0 and report.gold_notes == 0
    assert not list((tmp_path / "squad").iterdir())
    assert (tmp_path / "review.gold.jsonl").read_text() == ""

