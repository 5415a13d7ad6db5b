"""The calibration a QA run writes into its checkpoint: per-concept thresholds from kgqa's own ids."""

import math
from dataclasses import replace

import pytest

from kgqa.synth.squad import concept_of
from training.metrics import ScoredPrediction
from training.qa_eval import fit_checkpoint_calibration, usable_answer
from training.squad import AnswerSpan, QaExample

CONTEXT = "BP 140/80 mmHg. NIHSS 12 on admission. Glucose 7.2 mmol/L."


def example(qid: str, answer: str | None) -> QaExample:
    answers = () if answer is None else (AnswerSpan(answer, CONTEXT.index(answer)),)
    return QaExample(
        id=qid, question="?", context=CONTEXT, answers=answers, dataset="synth", lang="en",
        gold_texts=tuple(a.text for a in answers), is_impossible=answer is None,
    )


@pytest.mark.parametrize(
    ("qid", "concept"),
    [
        ("synth-heldout-en-7-00003::nihss_score", "nihss_score"),
        ("note::with::colons::glucose", "glucose"),
        ("5733be284776f41900661182", ""),  # a SQuAD id names no concept
        ("note::", ""),
    ],
)
def test_concept_of_reads_synthetic_question_ids(qid, concept):
    assert concept_of(qid) == concept


@pytest.mark.parametrize(
    ("gold", "predicted", "usable"),
    [
        ("140", "140", True),
        ("140", "140/80", True),  # the values stage reads the systolic pressure from the pair
        ("12", "NIHSS 12", True),
        ("12", "7.2", False),
        ("7.2", "Glucose 7.2 mmol/L.", True),
        ("12", "BP 140/80 mmHg. NIHSS 12 on admission. Glucose 7.2 mmol/L.", False),  # a whole paragraph
        ("atrial fibrillation", "paroxysmal atrial fibrillation", True),
        ("140", "", False),
    ],
)
def test_usable_answer(gold, predicted, usable):
    assert usable_answer((gold,), predicted) is usable


def test_thresholds_are_fitted_per_concept_named_by_the_ids():
    examples, preds = [], {}

    def add(qid, answer, predicted, margin):
        ex = example(qid, answer)
        examples.append(ex)
        preds[f"{ex.dataset}/{ex.id}"] = ScoredPrediction(f"{ex.dataset}/{ex.id}", predicted, margin)

    # glucose: right answers have low margins, so its own threshold must sit below 1.0
    for i in range(25):
        add(f"n{i}::glucose", "7.2", "7.2", 0.5 + i * 0.01)
    # nihss_score: unanswerable questions with margins up to 3, right answers above 4
    for i in range(25):
        add(f"n{i}::nihss_score", None, "12", 1.0 + i * 0.08)
        add(f"m{i}::nihss_score", "12", "12", 4.0 + i * 0.01)
    # too few questions of its own: falls back to the default
    for i in range(3):
        add(f"n{i}::age", None, "80", 9.0)

    cal, how = fit_checkpoint_calibration(examples, preds)

    assert set(cal.null_thresholds) == {"glucose", "nihss_score"}
    assert cal.null_thresholds["glucose"] < 0.5
    assert 2.92 < cal.null_thresholds["nihss_score"] < 4.0
    assert cal.default_null_threshold is not None and math.isfinite(cal.default_null_threshold)
    assert "2 per-concept null thresholds" in how


def test_no_unanswerable_questions_means_no_thresholds_at_all():
    examples = [example(f"n{i}::glucose", "7.2") for i in range(30)]
    preds = {f"synth/n{i}::glucose": ScoredPrediction(f"synth/n{i}::glucose", "7.2", float(i)) for i in range(30)}
    cal, how = fit_checkpoint_calibration(examples, preds)
    assert cal.null_thresholds == {} and cal.default_null_threshold is None
    assert "not fitted" in how


def test_numeric_concepts_are_decoded_digit_only_as_the_reader_does():
    from training.qa import numeric_concepts

    numeric = numeric_concepts()
    assert {"nihss_score", "systolic_pressure", "glucose", "age"} <= numeric
    assert not {"sex", "stroke_type", "onset_timestamp", "thrombolysis"} & numeric


def one_window(pieces, logits):
    """One window over ``pieces`` (token 0 = CLS at 0.0); ``logits[token]`` sets start and end logits."""
    import numpy as np

    from kgqa.qa.windowing import Window

    offsets = (None, *pieces, None)
    window = Window(pair_index=0, input_ids=tuple(range(len(offsets))), offsets=offsets)
    start, end = np.full((1, len(offsets)), -10.0), np.full((1, len(offsets)), -10.0)
    start[0, 0] = end[0, 0] = 0.0
    for token, value in logits.items():
        start[0, token] = end[0, token] = value
    return window, start, end


def test_decode_examples_reads_numeric_concepts_digit_only():
    from training.qa_eval import decode_examples

    context = "NIHSS normal, score 4 points."
    pieces = [(0, 5), (6, 12), (12, 13), (14, 19), (20, 21), (22, 28), (28, 29)]
    window, start, end = one_window(pieces, {2: 5.0, 5: 3.0})  # "normal": the model's favourite; "4"
    ex = QaExample(
        id="n1::nihss_score", question="?", context=context, answers=(AnswerSpan("4", 20),), dataset="synth",
        lang="en", gold_texts=("4",),
    )
    plain = decode_examples([ex], [window], start, end, n_best=5, max_answer_tokens=1)
    numeric = decode_examples([ex], [window], start, end, n_best=5, max_answer_tokens=1, digit_concepts={"nihss_score"})
    assert plain["synth/n1::nihss_score"].text == "normal"
    assert numeric["synth/n1::nihss_score"].text == "4"
    assert numeric["synth/n1::nihss_score"].margin == 6.0


def test_enumerations_are_decoded_member_spans_only_as_the_reader_does():
    from training.qa import member_concepts
    from training.qa_eval import decode_examples

    enums = member_concepts()
    assert {"sex", "stroke_type", "discharge_destination"} <= set(enums)
    assert not {"age", "thrombolysis", "ivt_drug"} & set(enums)

    context = "Brought by ZRM. Sex: female."
    pieces = [(0, 7), (8, 10), (11, 14), (14, 15), (16, 19), (19, 20), (21, 27), (27, 28)]
    window, start, end = one_window(pieces, {3: 5.0, 7: 3.0})  # "ZRM": the model's favourite; "female"
    ex = QaExample(
        id="n1::sex", question="?", context=context, answers=(AnswerSpan("female", 21),), dataset="synth",
        lang="en", gold_texts=("female",),
    )
    plain = decode_examples([ex], [window], start, end, n_best=5, max_answer_tokens=2)
    named = decode_examples([ex], [window], start, end, n_best=5, max_answer_tokens=2, member_concepts=enums)
    assert plain["synth/n1::sex"].text == "ZRM"
    assert named["synth/n1::sex"].text == "female"
    assert named["synth/n1::sex"].margin == 6.0


def test_numeric_concepts_are_decoded_over_valid_values_only_as_the_reader_does():
    from training.qa import value_concepts
    from training.qa_eval import decode_examples

    valued = value_concepts()
    assert {"age", "nihss_score", "discharge_mrs", "glucose", "door_to_needle"} <= set(valued)
    assert {"onset_timestamp", "discharge_date"} <= set(valued)  # dates and times too
    assert "sex" not in valued  # an enumeration answers with a member's label (reader.member_spans) instead
    assert {"thrombolysis", "risk_smoker"} <= set(valued)  # a yes/no span must state its topic

    context = "Glucose 13,9 mmol/l, aged 72."
    pieces = [(0, 7), (8, 12), (13, 19), (19, 20), (21, 25), (26, 28), (28, 29)]
    window, start, end = one_window(pieces, {2: 5.0, 6: 3.0})  # "13,9": the model's favourite; "72"
    ex = QaExample(
        id="n1::age", question="?", context=context, answers=(AnswerSpan("72", 26),), dataset="synth",
        lang="en", gold_texts=("72",),
    )
    plain = decode_examples([ex], [window], start, end, n_best=5, max_answer_tokens=1)
    valid = decode_examples([ex], [window], start, end, n_best=5, max_answer_tokens=1, value_concepts=valued)
    assert plain["synth/n1::age"].text == "13,9"
    assert valid["synth/n1::age"].text == "72"
    assert valid["synth/n1::age"].margin == 6.0
    # a dataset of several languages (the synthetic training sets are "mul") decodes the same way
    mixed = replace(ex, lang="mul")
    valid = decode_examples([mixed], [window], start, end, n_best=5, max_answer_tokens=1, value_concepts=valued)
    assert valid["synth/n1::age"].text == "72"


def test_concept_questions_are_decoded_outside_headings_as_the_reader_does():
    from training.qa import heading_concepts
    from training.qa_eval import decode_examples

    assert {"risk_previous_stroke", "age", "sex"} <= heading_concepts()
    context = "x.\n\nMedical history\nOld stroke 2020."
    pieces = [(0, 1), (1, 2), (4, 11), (12, 19), (20, 23), (24, 30), (31, 35), (35, 36)]
    # "Medical": the model's favourite; "Old" (of the fact under the heading) the runner-up
    window, start, end = one_window(pieces, {3: 5.0, 5: 3.0})
    ex = QaExample(
        id="n1::risk_previous_stroke", question="?", context=context, answers=(AnswerSpan("Old", 20),),
        dataset="synth", lang="en", gold_texts=("Old",),
    )
    plain = decode_examples([ex], [window], start, end, n_best=5, max_answer_tokens=1)
    ruled = decode_examples([ex], [window], start, end, n_best=5, max_answer_tokens=1, heading_concepts={"risk_previous_stroke"})
    assert plain["synth/n1::risk_previous_stroke"].text == "Medical"
    assert ruled["synth/n1::risk_previous_stroke"].text == "Old"
    assert ruled["synth/n1::risk_previous_stroke"].margin == 6.0
    # a question of no concept (plain SQuAD) is not the reader's and keeps every span
    squad = replace(ex, id="squad-1")
    assert decode_examples([squad], [window], start, end, n_best=5, max_answer_tokens=1, heading_concepts={"risk_previous_stroke"})[
        "synth/squad-1"
    ].text == "Medical"


def test_decoding_rules_follow_the_configured_catalogue(tmp_path):
    import yaml

    from kgqa.catalogue import DEFAULT_CATALOGUE
    from training.qa import member_concepts, numeric_concepts, value_concepts

    # a user's catalogue: the default one with the age renamed (their own concept ids)
    doc = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    for concept in doc["concepts"]:
        if concept["id"] == "age":
            concept["id"] = "patient_age"
    for members in doc.get("exclusive", {}).values():  # its exclusive sets name it by the new id too
        members[:] = ["patient_age" if m == "age" else m for m in members]
    own = tmp_path / "own.yaml"
    own.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert "age" in numeric_concepts() and "age" in value_concepts()
    assert "patient_age" in numeric_concepts(str(own)) and "age" not in numeric_concepts(str(own))
    assert "patient_age" in value_concepts(str(own)) and "age" not in value_concepts(str(own))
    assert set(member_concepts(str(own))) == set(member_concepts())
