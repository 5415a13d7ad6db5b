"""Question/context windowing shared by the reader and QA training.

The recipe of transformers' run_qa.py: question first, ``truncation="only_second"``, a stride
between windows, offsets kept for context tokens only (None elsewhere), CLS (index 0) as the
null position. Questions longer than ``max_question_length`` tokens are cut at a token boundary
first, so a long question can never squeeze the context out of a window.

Training (training/qa_data.py) imports this module so training and inference cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from kgqa.qa.config import WindowConfig

Offset = tuple[int, int] | None


@dataclass(frozen=True)
class Window:
    """One (question, window of context) feature."""

    #: index of the (question, context) pair this window belongs to
    pair_index: int
    input_ids: tuple[int, ...]
    #: per token: (start, end) character offsets into the context, None for question/special tokens
    offsets: tuple[Offset, ...]

    def __len__(self) -> int:
        return len(self.input_ids)


def truncate_questions(
    tokenizer: PreTrainedTokenizerBase, questions: Sequence[str], max_question_length: int
) -> list[str]:
    """Cut each question to at most ``max_question_length`` tokens, at a token boundary."""
    enc = tokenizer(list(questions), add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for question, offsets in zip(questions, enc["offset_mapping"]):
        if len(offsets) > max_question_length:
            question = question[: offsets[max_question_length - 1][1]]
        out.append(question)
    return out


def question_token_limit(tokenizer: PreTrainedTokenizerBase, cfg: WindowConfig) -> int:
    """The question budget actually applied: ``max_question_length``, lowered when needed so that
    every window keeps more than ``doc_stride`` context tokens (otherwise the tokenizer refuses to
    window the context). Raises ValueError naming the keys when no question could fit at all."""
    special = tokenizer.num_special_tokens_to_add(pair=True)
    room = cfg.max_seq_length - special - cfg.doc_stride - 1
    if room < 1:
        raise ValueError(
            f"window config: max_seq_length={cfg.max_seq_length} leaves no room for a question next to "
            f"doc_stride={cfg.doc_stride} context tokens ({special} special tokens)"
        )
    return min(cfg.max_question_length, room)


#: SentencePiece's word-boundary marker; XLM-R emits it as a token of its own before characters
#: it has no "▁x" piece for (punctuation, digits, emoji, many Greek/Cyrillic words)
LONE_SPACE = "\u2581"


def lone_space_id(tokenizer: PreTrainedTokenizerBase) -> int | None:
    """Id of the lone ``▁`` token, or None if the vocabulary has none."""
    token_id = tokenizer.convert_tokens_to_ids(LONE_SPACE)
    return None if token_id is None or token_id == tokenizer.unk_token_id else int(token_id)


def collapse_lone_spaces(window: Window, space_id: int | None) -> tuple[Offset, ...]:
    """Offsets with every lone ``▁`` made zero-width at the start of the word it precedes.

    The fast XLM-R tokenizer gives a lone ``▁`` the offsets of the *next* character (it stands for
    the space before it), so a span ending on it would end inside the next word ("o" of "ok").
    Zero-width, it starts a span exactly where the following word starts and ends one just before it.
    """
    if space_id is None:
        return window.offsets
    return tuple(
        (o[0], o[0]) if o is not None and tok == space_id else o
        for tok, o in zip(window.input_ids, window.offsets)
    )


def encode_windows(
    tokenizer: PreTrainedTokenizerBase,
    questions: Sequence[str],
    contexts: Sequence[str],
    cfg: WindowConfig,
) -> list[Window]:
    """All windows of all (question, context) pairs, unpadded, in pair order."""
    if len(questions) != len(contexts):
        raise ValueError(f"{len(questions)} questions for {len(contexts)} contexts")
    if not questions:
        return []
    pad_right = tokenizer.padding_side == "right"
    if not pad_right:
        raise ValueError("kgqa windowing expects a tokenizer that pads on the right (question first)")
    qs = truncate_questions(tokenizer, questions, question_token_limit(tokenizer, cfg))
    enc = tokenizer(
        qs,
        list(contexts),
        truncation="only_second",
        max_length=cfg.max_seq_length,
        stride=cfg.doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    windows = []
    for i, input_ids in enumerate(enc["input_ids"]):
        seq_ids = enc.sequence_ids(i)
        offsets = tuple(
            (int(o[0]), int(o[1])) if seq_ids[k] == 1 else None for k, o in enumerate(enc["offset_mapping"][i])
        )
        windows.append(
            Window(
                pair_index=int(enc["overflow_to_sample_mapping"][i]),
                input_ids=tuple(input_ids),
                offsets=offsets,
            )
        )
    return windows
