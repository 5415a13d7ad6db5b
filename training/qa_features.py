"""QA training features: the reader's windows (kgqa.qa.windowing) labelled with start/end tokens.

Windowing itself is not re-implemented here: ``encode_windows`` is the reader's function, so a
question, a stride or a truncation rule can never differ between training and inference. This
module only adds what training needs on top: the token positions of the answer inside each
window, or the CLS index 0 when the window does not contain the whole answer (or there is none),
the convention of run_qa.py for SQuAD v2.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from kgqa.qa.config import WindowConfig
from kgqa.qa.windowing import Offset, Window, encode_windows
from training.squad import QaExample

#: The null position: windows without (the whole of) the answer point here.
CLS_INDEX = 0


@dataclass(frozen=True)
class LabelledWindow:
    window: Window
    start_position: int
    end_position: int


def answer_token_span(offsets: Sequence[Offset], start_char: int, end_char: int) -> tuple[int, int]:
    """Token indices ``(first, last)`` covering ``[start_char, end_char)``, or (0, 0) if the window lacks it.

    Zero-width offsets (a lone ``▁`` may get one) are ignored. The first token is the first context
    token ending after ``start_char``, the last the last one starting before ``end_char``; the
    answer must lie wholly inside the window's context part, else the label is the null position.
    """
    ctx = [(k, o) for k, o in enumerate(offsets) if o is not None and o[1] > o[0]]
    if not ctx or ctx[0][1][0] > start_char or ctx[-1][1][1] < end_char:
        return CLS_INDEX, CLS_INDEX
    first = next(k for k, o in ctx if o[1] > start_char)
    last = next(k for k, o in reversed(ctx) if o[0] < end_char)
    if last < first:
        return CLS_INDEX, CLS_INDEX
    return first, last


def label_windows(windows: Sequence[Window], examples: Sequence[QaExample]) -> list[LabelledWindow]:
    """Label each window with the first answer of its example (SQuAD training uses the first)."""
    out = []
    for w in windows:
        ex = examples[w.pair_index]
        if ex.answers:
            a = ex.answers[0]
            s, e = answer_token_span(w.offsets, a.start, a.end)
        else:
            s, e = CLS_INDEX, CLS_INDEX
        out.append(LabelledWindow(w, s, e))
    return out


def build_train_features(
    tokenizer: PreTrainedTokenizerBase,
    examples: Sequence[QaExample],
    window: WindowConfig,
    *,
    missed_window_keep: float = 1.0,
    unanswerable_keep: float = 1.0,
    seed: int = 0,
) -> dict[str, list]:
    """Columns for a ``datasets.Dataset``: input_ids, attention_mask, start_positions, end_positions.

    Answerable examples whose answers could not be aligned carry no label and are left out.
    ``missed_window_keep`` < 1 keeps only that share (deterministic for ``seed``) of the windows of
    an *answerable* question that miss its answer; windows of unanswerable questions are all kept.
    ``unanswerable_keep`` < 1 keeps only that share of the unanswerable questions.
    With short windows most windows of a long note miss the answer, and a model trained from
    scratch on that mix learns to predict "no answer" before it learns to match question and
    context (the negative-window down-sampling of BERT baselines for Natural Questions).
    """
    for name, share in (("missed_window_keep", missed_window_keep), ("unanswerable_keep", unanswerable_keep)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name}={share}: expected a share in [0, 1]")
    rng = random.Random(seed)
    usable = [
        ex
        for ex in examples
        if ex.answers or (ex.is_impossible and (unanswerable_keep >= 1.0 or rng.random() < unanswerable_keep))
    ]
    windows = encode_windows(tokenizer, [e.question for e in usable], [e.context for e in usable], window)
    labelled = label_windows(windows, usable)
    if missed_window_keep < 1.0:
        labelled = [
            lw
            for lw in labelled
            if lw.start_position != CLS_INDEX
            or not usable[lw.window.pair_index].answers
            or rng.random() < missed_window_keep
        ]
    return {
        "input_ids": [list(lw.window.input_ids) for lw in labelled],
        "attention_mask": [[1] * len(lw.window) for lw in labelled],
        "start_positions": [lw.start_position for lw in labelled],
        "end_positions": [lw.end_position for lw in labelled],
    }


def build_eval_features(
    tokenizer: PreTrainedTokenizerBase, examples: Sequence[QaExample], window: WindowConfig
) -> tuple[dict[str, list], list[Window]]:
    """Model inputs of every window plus the windows themselves (offsets, pair index) for decoding.

    Labels are included (null for questions whose answers could not be aligned) so the Trainer
    reports an evaluation loss and hands the logits to ``compute_metrics``.
    """
    windows = encode_windows(tokenizer, [e.question for e in examples], [e.context for e in examples], window)
    labelled = label_windows(windows, examples)
    columns = {
        "input_ids": [list(w.input_ids) for w in windows],
        "attention_mask": [[1] * len(w) for w in windows],
        "start_positions": [lw.start_position for lw in labelled],
        "end_positions": [lw.end_position for lw in labelled],
    }
    return columns, windows


def apply_weights(examples: Sequence[QaExample], weights: dict[str, float], seed: int) -> list[QaExample]:
    """Each example of dataset ``d`` appears ``weights[d]`` times in expectation (floor + a coin for the rest).

    Deterministic for a seed; used to mix datasets of very different sizes.
    """
    rng = random.Random(seed)
    out: list[QaExample] = []
    for ex in examples:
        w = weights.get(ex.dataset, 1.0)
        copies = int(w) + (1 if rng.random() < w - int(w) else 0)
        out.extend([ex] * copies)
    return out
