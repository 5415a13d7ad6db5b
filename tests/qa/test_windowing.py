"""The reader's additions to the shared windowing: question budget and the lone-▁ offset trap."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import AutoTokenizer

from kgqa.qa.config import WindowConfig
from kgqa.qa.decoding import DecodeParams, WindowLogits, decode
from kgqa.qa.windowing import (
    LONE_SPACE,
    collapse_lone_spaces,
    encode_windows,
    lone_space_id,
    question_token_limit,
)


@pytest.fixture(scope="module")
def tokenizer(tiny_checkpoint):
    return AutoTokenizer.from_pretrained(str(tiny_checkpoint))


def test_lone_space_tokens_get_the_next_characters_offsets(tokenizer) -> None:
    """The trap itself, so the test below keeps meaning something if tokenizers change."""
    text = "NIHSS 8 ok"
    window = encode_windows(tokenizer, ["q"], [text], WindowConfig())[0]
    tokens = tokenizer.convert_ids_to_tokens(list(window.input_ids))
    lone = [i for i, t in enumerate(tokens) if t == LONE_SPACE and window.offsets[i] is not None]
    assert lone, "the tiny tokenizer should split ' 8' into a lone ▁ and '8'"
    i = lone[0]
    assert window.offsets[i] == window.offsets[i + 1]  # the ▁ claims the next character


@pytest.mark.parametrize(
    "text", ["NIHSS 8 ok", "Ο ασθενής «x» 😀 y", "BP (180/95) … ok", "a\u00a0b\tc\r\nd \u200b e"]
)
def test_a_span_ending_on_a_lone_space_ends_before_the_next_word(tokenizer, text) -> None:
    window = encode_windows(tokenizer, ["q"], [text], WindowConfig())[0]
    space = lone_space_id(tokenizer)
    offsets = collapse_lone_spaces(window, space)
    context = [i for i, o in enumerate(offsets) if o is not None]
    for k, i in enumerate(context):
        if window.input_ids[i] != space or k == 0:
            continue
        # start on the first context token, end on the lone ▁: the span is everything before the word
        start = np.full(len(offsets), -10.0)
        end = np.full(len(offsets), -10.0)
        start[context[0]] = end[i] = 5.0
        decoded = decode([WindowLogits(start, end, offsets)], text, DecodeParams(max_answer_tokens=64))
        got = decoded.spans[0]
        next_char = window.offsets[i][0]
        assert got.end <= next_char, f"span {text[got.start : got.end]!r} runs into the word after the ▁"
        assert text[got.end : next_char].strip() == "" or not text[got.end : next_char].isalnum()


def test_question_budget_leaves_room_for_the_stride(tokenizer) -> None:
    assert question_token_limit(tokenizer, WindowConfig(384, 128, 64)) == 64
    small = WindowConfig(max_seq_length=64, doc_stride=16, max_question_length=64)
    limit = question_token_limit(tokenizer, small)
    assert limit < 64 and limit + 16 + tokenizer.num_special_tokens_to_add(pair=True) < 64
    windows = encode_windows(tokenizer, ["word " * 200], ["context " * 100], small)
    assert len(windows) > 1 and all(len(w) <= 64 for w in windows)


def test_impossible_window_config_names_the_keys(tokenizer) -> None:
    with pytest.raises(ValueError, match="max_seq_length=20.*doc_stride=16"):
        question_token_limit(tokenizer, WindowConfig(max_seq_length=20, doc_stride=16))
