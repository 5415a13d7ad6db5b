"""Evaluation of a QA model during and after training: decode with the reader's decoder, score officially.

Decoding is ``kgqa.qa.decoding.decode`` — the reader's own (raw-logit scores, null score as the
minimum over windows, exhaustive span search, edge trimming) — so the EM/F1 measured here is what
the reader will do with the checkpoint, and the margins fed to calibration are the reader's margins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from kgqa.qa.calibration import Calibration, CalibrationExample, fit_calibration
from kgqa.qa.decoding import DecodeParams, WindowLogits, decode
from kgqa.qa.windowing import Window
from training.metrics import ScoredPrediction, grouped_metrics, normalize_answer, per_question_scores
from training.squad import QaExample


@dataclass(frozen=True)
class EvalResult:
    #: "all", "dataset=<name>", "lang=<code>" -> official-style metrics
    metrics: dict[str, dict[str, float]]
    predictions: dict[str, ScoredPrediction]


def example_key(ex: QaExample) -> str:
    """A question id unique across datasets."""
    return f"{ex.dataset}/{ex.id}"


def decode_examples(
    examples: Sequence[QaExample],
    windows: Sequence[Window],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    *,
    n_best: int,
    max_answer_tokens: int,
) -> dict[str, ScoredPrediction]:
    """The best span of every example (threshold -inf: abstention is decided later, by the margin)."""
    params = DecodeParams(n_best=n_best, max_answer_tokens=max_answer_tokens, null_threshold=-math.inf)
    by_pair: dict[int, list[WindowLogits]] = {}
    for k, w in enumerate(windows):
        n = len(w)
        by_pair.setdefault(w.pair_index, []).append(
            WindowLogits(start_logits=start_logits[k, :n], end_logits=end_logits[k, :n], offsets=w.offsets)
        )
    preds = {}
    for i, ex in enumerate(examples):
        decoded = decode(by_pair.get(i, []), ex.context, params)
        key = example_key(ex)
        if decoded.candidates:
            best = decoded.candidates[0]
            preds[key] = ScoredPrediction(key, ex.context[best.start : best.end], best.margin)
        else:
            preds[key] = ScoredPrediction(key, "", -math.inf)
    return preds


def evaluate_predictions(
    examples: Sequence[QaExample], preds: Mapping[str, ScoredPrediction], threshold: float = 0.0
) -> EvalResult:
    gold = {example_key(ex): list(ex.gold_texts) for ex in examples}
    groups = {
        "dataset": {example_key(ex): ex.dataset for ex in examples},
        "lang": {example_key(ex): ex.lang for ex in examples},
    }
    return EvalResult(grouped_metrics(gold, preds, groups, threshold), dict(preds))


def calibration_examples(
    examples: Sequence[QaExample], preds: Mapping[str, ScoredPrediction]
) -> list[CalibrationExample]:
    """One calibration example per question: its best span's margin and whether that span is exactly right."""
    out = []
    for ex in examples:
        p = preds[example_key(ex)]
        has_answer = any(normalize_answer(t) for t in ex.gold_texts)
        correct = has_answer and bool(p.text) and per_question_scores(ex.gold_texts, p.text)[0] == 1.0
        # SQuAD questions belong to no kgqa concept: one global fit (the checkpoint's default threshold)
        out.append(CalibrationExample(concept_id="", margin=p.margin, correct=correct, has_answer=has_answer))
    return out


def fit_checkpoint_calibration(
    examples: Sequence[QaExample], preds: Mapping[str, ScoredPrediction]
) -> tuple[Calibration, str]:
    """Calibration for ``kgqa_calibration.json`` and a note on what was fitted.

    Without unanswerable questions in the evaluation data a null threshold cannot be learnt
    (the best one would be "always answer"), so none is written and the reader keeps its own.
    """
    cal_examples = calibration_examples(examples, preds)
    # no per-concept thresholds: there are no concepts in SQuAD data
    cal = fit_calibration(cal_examples, min_examples_per_concept=len(cal_examples) + 1)
    if not any(not e.has_answer for e in cal_examples):
        return replace(cal, default_null_threshold=None), (
            "no unanswerable questions in the evaluation data: null threshold not fitted"
        )
    return cal, f"fitted on {len(cal_examples)} evaluation questions"
