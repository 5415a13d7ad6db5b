"""SQuAD EM/F1 with the official definitions (v1.1 and v2.0 evaluation scripts).

Normalisation, EM and token F1 are those of ``evaluate-v2.0.py`` (lower-case, ASCII punctuation
removed, English articles removed, whitespace collapsed); an unanswerable question's gold is the
empty string, so predicting "" scores 1 there and 0 on an answerable one. The v2 split into
HasAns/NoAns and the best null threshold are computed the same way, except that the threshold is
expressed in the reader's terms: a span is kept when ``score - null_score > threshold``
(``kgqa.qa.decoding.DecodeParams.null_threshold``), so the number can go into the checkpoint as is.

Scores are percentages, like the official script's.
"""

from __future__ import annotations

import collections
import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace (official SQuAD)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def _tokens(s: str) -> list[str]:
    return normalize_answer(s).split() if s else []


def compute_exact(gold: str, pred: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(pred))


def compute_f1(gold: str, pred: str) -> float:
    gold_toks, pred_toks = _tokens(gold), _tokens(pred)
    if not gold_toks or not pred_toks:
        # an empty side: F1 is 1 when both are empty (correct "no answer"), else 0
        return float(gold_toks == pred_toks)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_toks)
    recall = num_same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def gold_answers(texts: Iterable[str]) -> list[str]:
    """The official gold list: non-empty (after normalisation) texts, or [""] for an unanswerable question."""
    golds = [t for t in texts if normalize_answer(t)]
    return golds or [""]


@dataclass(frozen=True)
class ScoredPrediction:
    """The best non-null span of one question with its margin over the null score."""

    id: str
    #: text of the best span ("" when no valid span exists)
    text: str
    #: best span score - null score (-inf when there is no span)
    margin: float


def per_question_scores(gold: Sequence[str], pred: str) -> tuple[float, float]:
    """(exact, f1) of one prediction against its gold answers: the max over them."""
    golds = gold_answers(gold)
    return float(max(compute_exact(g, pred) for g in golds)), max(compute_f1(g, pred) for g in golds)


def _score_at(
    gold: Mapping[str, Sequence[str]], preds: Mapping[str, ScoredPrediction], threshold: float
) -> dict[str, tuple[float, float]]:
    out = {}
    for qid, golds in gold.items():
        p = preds.get(qid)
        text = p.text if p is not None and p.margin > threshold else ""
        out[qid] = per_question_scores(golds, text)
    return out


def best_threshold(
    gold: Mapping[str, Sequence[str]], preds: Mapping[str, ScoredPrediction], which: int
) -> tuple[float, float]:
    """(best score in %, threshold) over all cut-offs of the margins; ``which`` 0 = exact, 1 = f1.

    Starting from "answer nothing", the threshold is lowered past the questions in order of
    decreasing margin; questions with equal margins move together (a threshold cannot split
    them). The returned threshold lies midway between the last answered margin and the next one.
    """
    if not gold:
        return 0.0, 0.0
    has_ans = {qid: gold_answers(g) != [""] for qid, g in gold.items()}
    answered_score = {}
    for qid, golds in gold.items():
        p = preds.get(qid)
        answered_score[qid] = per_question_scores(golds, p.text if p else "")[which]
    cur = float(sum(1 for v in has_ans.values() if not v))
    best, best_idx = cur, -1
    margins = sorted(
        ((preds[qid].margin if qid in preds else -math.inf, qid) for qid in gold), key=lambda x: -x[0]
    )
    i = 0
    while i < len(margins) and math.isfinite(margins[i][0]):
        j = i
        while j < len(margins) and margins[j][0] == margins[i][0]:
            qid = margins[j][1]
            # answering instead of abstaining: gain the span's score, lose the credit for "no answer"
            cur += answered_score[qid] - (0.0 if has_ans[qid] else 1.0)
            j += 1
        if cur > best:
            best, best_idx = cur, j - 1
        i = j
    if best_idx < 0:
        top = margins[0][0]
        threshold = top + 1.0 if math.isfinite(top) else 0.0
    else:
        last = margins[best_idx][0]
        nxt = margins[best_idx + 1][0] if best_idx + 1 < len(margins) else -math.inf
        threshold = (last + nxt) / 2 if math.isfinite(nxt) else last - 1.0
    return 100.0 * best / len(gold), threshold


def squad_metrics(
    gold: Mapping[str, Sequence[str]], preds: Mapping[str, ScoredPrediction], threshold: float = 0.0
) -> dict[str, float]:
    """Official-style metrics: exact/f1 at ``threshold``, HasAns/NoAns splits, best_exact/best_f1.

    ``gold`` maps question id -> published answer texts (empty for unanswerable questions).
    Keys follow ``evaluate-v2.0.py`` (``HasAns_exact`` …, ``best_f1_thresh``).
    """
    scores = _score_at(gold, preds, threshold)
    total = len(scores)
    out: dict[str, float] = {"total": float(total)}
    if not total:
        return out
    out["exact"] = 100.0 * sum(s[0] for s in scores.values()) / total
    out["f1"] = 100.0 * sum(s[1] for s in scores.values()) / total
    for name, pick in (("HasAns", True), ("NoAns", False)):
        ids = [qid for qid, g in gold.items() if (gold_answers(g) != [""]) is pick]
        if ids:
            out[f"{name}_exact"] = 100.0 * sum(scores[q][0] for q in ids) / len(ids)
            out[f"{name}_f1"] = 100.0 * sum(scores[q][1] for q in ids) / len(ids)
            out[f"{name}_total"] = float(len(ids))
    out["best_exact"], out["best_exact_thresh"] = best_threshold(gold, preds, 0)
    out["best_f1"], out["best_f1_thresh"] = best_threshold(gold, preds, 1)
    return out


def grouped_metrics(
    gold: Mapping[str, Sequence[str]],
    preds: Mapping[str, ScoredPrediction],
    groups: Mapping[str, Mapping[str, str]],
    threshold: float = 0.0,
) -> dict[str, dict[str, float]]:
    """Metrics overall (key "all") and per group value, e.g. ``{"dataset": {qid: name}, "lang": {qid: lang}}``.

    Keys of the result: "all", "dataset=<name>", "lang=<code>".
    """
    out = {"all": squad_metrics(gold, preds, threshold)}
    for kind, of in groups.items():
        for value in sorted(set(of.values())):
            sub = {qid: g for qid, g in gold.items() if of.get(qid) == value}
            out[f"{kind}={value}"] = squad_metrics(sub, preds, threshold)
    return out
