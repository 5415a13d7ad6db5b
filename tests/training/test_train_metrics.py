"""Official SQuAD EM/F1 against hand-computed values, v2 no-answer cases and the best null threshold."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgqa.qa.calibration import CalibrationExample, best_null_threshold
from training.metrics import (
    ScoredPrediction,
    compute_exact,
    compute_f1,
    grouped_metrics,
    normalize_answer,
    per_question_scores,
    squad_metrics,
)

# (gold answers, prediction, exact, f1) — F1 worked out by hand from the official token definition
CASES = [
    (["the Cat"], "cat", 1.0, 1.0),  # case and article
    (["14:35."], "1435", 1.0, 1.0),  # ASCII punctuation removed
    (["alteplase 0.9 mg/kg"], "alteplase", 0.0, 0.5),  # P=1, R=1/3 -> 2*(1/3)/(4/3)
    (["a b c d"], "c d e", 0.0, 2 / 3),  # "a" is an article: gold [b c d], pred [c d e]: P = R = 2/3
    (["8 points", "8"], "8", 1.0, 1.0),  # max over gold answers
    (["aspirin"], "clopidogrel", 0.0, 0.0),
    ([], "", 1.0, 1.0),  # v2 unanswerable, abstained: correct
    ([], "alteplase", 0.0, 0.0),  # v2 unanswerable, answered: wrong
    (["alteplase"], "", 0.0, 0.0),  # answerable, abstained: wrong
    ([""], "", 1.0, 1.0),  # an empty gold text counts as unanswerable (official)
    (["the"], "", 1.0, 1.0),  # normalises to nothing: unanswerable too
]


@pytest.mark.parametrize("gold, pred, exact, f1", CASES)
def test_per_question_scores_match_hand_computed(gold, pred, exact, f1):
    got_exact, got_f1 = per_question_scores(gold, pred)
    assert got_exact == exact
    assert got_f1 == pytest.approx(f1)


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("The  Cat, the hat!", "cat hat"),
        ("An apple", "apple"),
        ("¿Qué?", "¿qué"),
        ("mg/kg", "mgkg"),
        ("", ""),
    ],
)
def test_normalize_answer_is_the_official_one(raw, normalised):
    # only ASCII punctuation goes (the official script's string.punctuation): "¿" stays
    assert normalize_answer(raw) == normalised


def test_exact_and_f1_are_symmetric_in_case_and_spacing():
    assert compute_exact("  NIHSS 8 ", "nihss 8") == 1
    assert compute_f1("nihss 8", "NIHSS") == pytest.approx(2 * (1 * 0.5) / 1.5)


def _preds(rows):
    return {qid: ScoredPrediction(qid, text, margin) for qid, text, margin in rows}


GOLD = {"q1": ["8"], "q2": ["alteplase"], "q3": [], "q4": []}
PREDS = _preds([("q1", "8", 2.0), ("q2", "aspirin", 1.0), ("q3", "x", 0.5), ("q4", "y", -1.0)])


def test_v2_metrics_at_threshold_zero_and_best_threshold_by_hand():
    m = squad_metrics(GOLD, PREDS, threshold=0.0)
    # answered: q1 (right), q2 (wrong), q3 (wrong: unanswerable); abstained: q4 (right)
    assert m["exact"] == pytest.approx(50.0)
    assert m["HasAns_exact"] == pytest.approx(50.0) and m["HasAns_total"] == 2
    assert m["NoAns_exact"] == pytest.approx(50.0) and m["NoAns_total"] == 2
    # lowering the threshold from +inf: q1 +1 (3 of 4), q2 +0, q3 -1, q4 -1 -> best answers only q1
    assert m["best_exact"] == pytest.approx(75.0)
    assert m["best_exact_thresh"] == pytest.approx(1.5)  # midway between q1's 2.0 and q2's 1.0
    assert squad_metrics(GOLD, PREDS, threshold=1.5)["exact"] == pytest.approx(75.0)


def test_answer_everything_and_answer_nothing_extremes():
    everything = squad_metrics(GOLD, PREDS, threshold=-math.inf)
    nothing = squad_metrics(GOLD, PREDS, threshold=math.inf)
    assert everything["exact"] == pytest.approx(25.0)  # only q1
    assert nothing["exact"] == pytest.approx(50.0)  # q3 and q4
    assert nothing["HasAns_exact"] == 0.0 and nothing["NoAns_exact"] == 100.0


def test_v1_data_has_no_noans_split():
    m = squad_metrics({"a": ["x y"], "b": ["z"]}, _preds([("a", "x", 1.0), ("b", "z", 3.0)]))
    assert "NoAns_total" not in m
    assert m["exact"] == pytest.approx(50.0)
    assert m["f1"] == pytest.approx(100 * (2 / 3 + 1) / 2)


def test_missing_prediction_counts_as_abstention():
    m = squad_metrics({"a": ["x"], "b": []}, {})
    assert m["exact"] == pytest.approx(50.0)


def test_grouped_metrics_per_dataset_and_language():
    groups = {
        "dataset": {"q1": "d1", "q2": "d1", "q3": "d2", "q4": "d2"},
        "lang": {"q1": "en", "q2": "es", "q3": "es", "q4": "es"},
    }
    out = grouped_metrics(GOLD, PREDS, groups)
    assert set(out) == {"all", "dataset=d1", "dataset=d2", "lang=en", "lang=es"}
    assert out["dataset=d1"]["exact"] == pytest.approx(50.0)  # q1 right, q2 wrong
    assert out["lang=en"]["exact"] == pytest.approx(100.0)
    assert out["lang=es"]["total"] == 3


def test_best_threshold_agrees_with_the_readers_calibration():
    examples = [
        CalibrationExample(
            "",
            PREDS[q].margin,
            per_question_scores(GOLD[q], PREDS[q].text)[0] == 1.0 and bool(GOLD[q]),
            bool(GOLD[q]),
        )
        for q in GOLD
    ]
    assert squad_metrics(GOLD, PREDS)["best_exact_thresh"] == pytest.approx(best_null_threshold(examples))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.booleans(), st.integers(-5, 5)),
        min_size=1,
        max_size=12,
    )
)
def test_best_exact_is_reached_at_its_threshold(rows):
    """Property: applying the reported best threshold yields exactly the reported best score."""
    gold, preds = {}, {}
    for i, (has_answer, right, margin) in enumerate(rows):
        qid = f"q{i}"
        gold[qid] = ["yes"] if has_answer else []
        preds[qid] = ScoredPrediction(qid, "yes" if right else "no", float(margin))
    m = squad_metrics(gold, preds)
    assert squad_metrics(gold, preds, threshold=m["best_exact_thresh"])["exact"] == pytest.approx(
        m["best_exact"]
    )
    assert m["best_exact"] >= max(m["exact"], squad_metrics(gold, preds, threshold=math.inf)["exact"]) - 1e-9
