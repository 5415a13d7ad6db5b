"""Locally trained tokenizers: XLM-R conventions, and reproducible from the same corpus."""

from kgqa.qa.tiny import SEED_TEXTS
from kgqa.tokenizer import XLMR_SPECIAL_TOKENS, train_unigram_tokenizer


def test_special_tokens_have_xlmr_ids():
    tok = train_unigram_tokenizer(list(SEED_TEXTS), vocab_size=500)
    assert tok.convert_tokens_to_ids(XLMR_SPECIAL_TOKENS) == [0, 1, 2, 3, 4]
    pair = tok("Question?", "Context text.")["input_ids"]
    assert pair[0] == 0 and pair[-1] == 2 and pair.count(2) == 3  # <s> q </s></s> c </s>


def test_same_corpus_same_tokenizer():
    first = train_unigram_tokenizer(list(SEED_TEXTS), vocab_size=500)
    second = train_unigram_tokenizer(list(SEED_TEXTS), vocab_size=500)
    assert first._tokenizer.to_str() == second._tokenizer.to_str()
