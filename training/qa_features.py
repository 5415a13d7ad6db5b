"""QA training features: the reader's windows (kgqa.qa.windowing) labelled with start/end tokens.

Windowing itself is not re-implemented here: ``encode_windows`` is the reader's function, so a
question, a stride or a truncation rule can never differ between training and inference. This
module only adds what training needs on top: the token positions of the answer inside each
window, or the CLS index 0 when the window does not contain the whole answer (or there is none),
the convention of run_qa.py for SQuAD v2.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset, Features, Value
from datasets import Sequence as SequenceFeature
from transformers import PreTrainedTokenizerBase

from kgqa.qa.config import WindowConfig
from kgqa.qa.windowing import Offset, Window, encode_windows
from training.squad import QaExample

#: The null position: windows without (the whole of) the answer point here.
CLS_INDEX = 0

#: Column types of the training rows (token ids fit int32; Arrow stores them at half the width of int64)
TRAIN_FEATURES = Features(
    {
        "input_ids": SequenceFeature(Value("int32")),
        "attention_mask": SequenceFeature(Value("int8")),
        "start_positions": Value("int64"),
        "end_positions": Value("int64"),
    }
)


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


def _check_shares(missed_window_keep: float, unanswerable_keep: float) -> None:
    for name, share in (("missed_window_keep", missed_window_keep), ("unanswerable_keep", unanswerable_keep)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name}={share}: expected a share in [0, 1]")


def iter_train_features(
    tokenizer: PreTrainedTokenizerBase,
    examples: Sequence[QaExample],
    window: WindowConfig,
    *,
    missed_window_keep: float = 1.0,
    unanswerable_keep: float = 1.0,
    seed: int = 0,
    chunk_chars: int = 200_000,
) -> Iterator[dict[str, list[int] | int]]:
    """Training rows (input_ids, attention_mask, start_positions, end_positions), one per kept window.

    Answerable examples whose answers could not be aligned carry no label and are left out.
    ``missed_window_keep`` < 1 keeps only that share (deterministic for ``seed``) of the windows of
    an *answerable* question that miss its answer; windows of unanswerable questions are all kept.
    ``unanswerable_keep`` < 1 keeps only that share of the unanswerable questions.
    With short windows most windows of a long note miss the answer, and a model trained from
    scratch on that mix learns to predict "no answer" before it learns to match question and
    context (the negative-window down-sampling of BERT baselines for Natural Questions).

    Questions are windowed a chunk at a time, ``chunk_chars`` characters of context per chunk (at least
    one question), so memory holds one chunk's windows however long and many the contexts: COVID-QA's
    papers in 128-token windows are ~50 windows a question, and the tokenizer's offsets for all of
    them would not fit in memory.
    The sampling does not depend on the chunk size: one random stream is drawn first for the questions,
    then window by window in order, exactly as if everything were windowed at once.
    """
    _check_shares(missed_window_keep, unanswerable_keep)
    if chunk_chars < 1:
        raise ValueError(f"chunk_chars={chunk_chars}: expected >= 1")
    rng = random.Random(seed)
    usable = [
        ex
        for ex in examples
        if ex.answers or (ex.is_impossible and (unanswerable_keep >= 1.0 or rng.random() < unanswerable_keep))
    ]
    for chunk in _chunks(usable, chunk_chars):
        windows = encode_windows(tokenizer, [e.question for e in chunk], [e.context for e in chunk], window)
        for lw in label_windows(windows, chunk):
            missed = lw.start_position == CLS_INDEX and chunk[lw.window.pair_index].answers
            if missed and missed_window_keep < 1.0 and not rng.random() < missed_window_keep:
                continue
            yield {
                "input_ids": list(lw.window.input_ids),
                "attention_mask": [1] * len(lw.window),
                "start_positions": lw.start_position,
                "end_positions": lw.end_position,
            }


def _chunks(examples: Sequence[QaExample], chars: int) -> Iterator[Sequence[QaExample]]:
    first, size = 0, 0
    for k, ex in enumerate(examples):
        if k > first and size + len(ex.context) > chars:
            yield examples[first:k]
            first, size = k, 0
        size += len(ex.context)
    if first < len(examples):
        yield examples[first:]


def build_train_features(
    tokenizer: PreTrainedTokenizerBase, examples: Sequence[QaExample], window: WindowConfig, **sampling
) -> dict[str, list]:
    """The rows of :func:`iter_train_features` (``sampling``: its keyword arguments) as in-memory columns."""
    columns: dict[str, list] = {name: [] for name in TRAIN_FEATURES}
    for row in iter_train_features(tokenizer, examples, window, **sampling):
        for name, value in row.items():
            columns[name].append(value)
    return columns


def train_feature_dataset(
    tokenizer: PreTrainedTokenizerBase,
    examples: Sequence[QaExample],
    window: WindowConfig,
    cache_dir: str | Path,
    **sampling,
) -> Dataset:
    """The rows of :func:`iter_train_features` as an Arrow-backed ``datasets.Dataset`` under ``cache_dir``.

    ``sampling``: the keyword arguments of :func:`iter_train_features`. Rows stream to disk, so building
    the features of a large corpus needs memory for one chunk, not for every window (COVID-QA in 128-token
    windows: 0.6 GB peak here against 7.3 GB for the same rows built in memory). ``cache_dir`` should be
    private to the run: the dataset is never reused from an earlier build (each gets a fresh fingerprint).
    """
    # checked here, not on the first row: the generator runs inside datasets' builder
    _check_shares(sampling.get("missed_window_keep", 1.0), sampling.get("unanswerable_keep", 1.0))
    kwargs = {"tokenizer": tokenizer, "examples": examples, "window": window, **sampling}
    return Dataset.from_generator(
        _rows,
        features=TRAIN_FEATURES,
        cache_dir=str(cache_dir),
        gen_kwargs={"kwargs": kwargs},
        # hashing the examples and tokenizer for a fingerprint would cost as much as the build;
        # a fresh one also rules out picking up a stale build of other data from cache_dir
        fingerprint=uuid.uuid4().hex,
    )


def _rows(kwargs: dict) -> Iterator[dict]:
    # module-level so datasets can name it; the arguments travel in one dict (gen_kwargs lists are sharded)
    yield from iter_train_features(**kwargs)


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
