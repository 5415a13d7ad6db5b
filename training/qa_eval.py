"""Evaluation of a QA model during and after training: decode with the reader's decoder, score officially.

Decoding is ``kgqa.qa.decoding.decode`` — the reader's own (raw-logit scores, null score as the
minimum over windows, exhaustive span search, edge trimming) — so the EM/F1 measured here is what
the reader will do with the checkpoint, and the margins fed to calibration are the reader's margins.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from kgqa.qa.calibration import Calibration, CalibrationExample, fit_calibration
from kgqa.qa.decoding import DecodeParams, WindowLogits, all_of, decode
from kgqa.qa.headings import outside_headings
from kgqa.qa.windowing import Window
from kgqa.synth.squad import concept_of
from kgqa.types import LANGUAGES, Concept, Note
from kgqa.values.enums import spans_naming_members
from kgqa.values.normalise import readable_spans
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


def _note_of(ex: QaExample) -> Note:
    """The example's context as a note for the values stage; a dataset of several languages ("mul")
    reads its numbers by the English rules (they differ only in "1,234": thousands or a decimal)."""
    return Note(id=ex.id, text=ex.context, lang=ex.lang if ex.lang in LANGUAGES else "en")


def decode_examples(
    examples: Sequence[QaExample],
    windows: Sequence[Window],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    *,
    n_best: int,
    max_answer_tokens: int,
    digit_concepts: Collection[str] = (),
    member_concepts: Mapping[str, Concept] | None = None,
    value_concepts: Mapping[str, Concept] | None = None,
    heading_concepts: Collection[str] = (),
) -> dict[str, ScoredPrediction]:
    """The best span of every example (threshold -inf: abstention is decided later, by the margin).

    Questions whose id names a concept in ``digit_concepts`` (numeric concepts, see
    ``reader.digit_kinds``) are decoded as the reader decodes them: only spans holding a digit, so
    the margins calibration sees are the margins the reader will compare with the threshold.
    Likewise for ``member_concepts`` (enumerations, see ``reader.member_spans``): only spans naming
    one of the concept's members in the context, and for ``value_concepts`` (``reader.value_span_kinds``):
    only spans the values stage reads as a valid value of the concept; for ``heading_concepts``
    (``reader.skip_headings``): only spans overlapping no heading or field label of the context.
    """
    member_concepts = member_concepts or {}
    value_concepts = value_concepts or {}
    params = DecodeParams(n_best=n_best, max_answer_tokens=max_answer_tokens, null_threshold=-math.inf)
    numeric = replace(params, need_digit=True)
    digit_concepts = frozenset(digit_concepts)
    heading_concepts = frozenset(heading_concepts)
    by_pair: dict[int, list[WindowLogits]] = {}
    for k, w in enumerate(windows):
        n = len(w)
        by_pair.setdefault(w.pair_index, []).append(
            WindowLogits(start_logits=start_logits[k, :n], end_logits=end_logits[k, :n], offsets=w.offsets)
        )
    preds = {}
    for i, ex in enumerate(examples):
        concept_id = concept_of(ex.id)
        concept = member_concepts.get(concept_id)
        mentions = spans_naming_members(concept, ex.context, ex.lang) if concept is not None else None
        valued = value_concepts.get(concept_id)
        checks = [outside_headings(ex.context)] if concept_id in heading_concepts else []
        if valued is not None:
            checks.append(readable_spans(valued, _note_of(ex)))
        decoded = decode(
            by_pair.get(i, []), ex.context, numeric if concept_id in digit_concepts else params, mentions, all_of(checks)
        )
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


def usable_answer(gold_texts: Sequence[str], predicted: str) -> bool:
    """Whether a predicted span would give the fact: an exact or substantial match of a gold answer.

    Exact match is too strict for a null threshold that guards *facts*: "140/80" for the systolic
    pressure, or "NIHSS 12" for "12", read as the right value downstream (kgqa.values), and counting
    them wrong would teach the threshold to abstain on answers the pipeline uses. A span that holds a
    gold answer (or lies inside one) with SQuAD F1 >= 0.5, or contains it outright and is not much
    longer (at most 3x plus a label's worth of characters: "Glucose 7.2 mmol/L", not a paragraph),
    counts as usable.
    """
    if not predicted.strip():
        return False
    exact, f1 = per_question_scores(gold_texts, predicted)
    if exact == 1.0 or f1 >= 0.5:
        return True
    pred = " ".join(predicted.lower().split())
    for text in gold_texts:
        gold = " ".join(text.lower().split())
        if gold and gold in pred and len(pred) <= 3 * len(gold) + 12:
            return True
    return False


def calibration_examples(
    examples: Sequence[QaExample], preds: Mapping[str, ScoredPrediction]
) -> list[CalibrationExample]:
    """One calibration example per question: its best span's margin and whether that span is usable.

    Questions from kgqa's synthetic notes name their concept (``note::concept``), so thresholds can be
    fitted per concept; other SQuAD questions belong to no concept and feed the global fit only.
    """
    out = []
    for ex in examples:
        p = preds[example_key(ex)]
        has_answer = any(normalize_answer(t) for t in ex.gold_texts)
        correct = has_answer and usable_answer(ex.gold_texts, p.text)
        out.append(CalibrationExample(concept_id=concept_of(ex.id), margin=p.margin, correct=correct, has_answer=has_answer))
    return out


def fit_checkpoint_calibration(
    examples: Sequence[QaExample], preds: Mapping[str, ScoredPrediction], *, min_examples_per_concept: int = 20
) -> tuple[Calibration, str]:
    """Calibration for ``kgqa_calibration.json`` and a note on what was fitted.

    Without unanswerable questions in the evaluation data a null threshold cannot be learnt
    (the best one would be "always answer"), so none is written and the reader keeps its own.
    Concepts named by the question ids (kgqa's synthetic exports) with at least
    ``min_examples_per_concept`` questions get a threshold of their own.
    """
    cal_examples = calibration_examples(examples, preds)
    cal = fit_calibration(cal_examples, min_examples_per_concept=min_examples_per_concept)
    # questions without a concept id (plain SQuAD) only inform the global fit
    cal = replace(cal, null_thresholds={c: t for c, t in cal.null_thresholds.items() if c})
    if not any(not e.has_answer for e in cal_examples):
        return replace(cal, default_null_threshold=None, null_thresholds={}), (
            "no unanswerable questions in the evaluation data: null threshold not fitted"
        )
    per_concept = f", {len(cal.null_thresholds)} per-concept null thresholds" if cal.null_thresholds else ""
    return cal, f"fitted on {len(cal_examples)} evaluation questions{per_concept}"
