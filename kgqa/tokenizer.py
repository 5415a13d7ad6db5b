"""SentencePiece-Unigram tokenizers trained locally with XLM-R's special tokens.

No tokenizer can be downloaded here, so tests, the tiny default model and from-scratch
training all train one from text with the ``tokenizers`` library. The result is saved in
the standard Hugging Face layout and loads with ``AutoTokenizer.from_pretrained(path)``
exactly like a real XLM-R tokenizer (same special tokens, same pair template).
"""

from __future__ import annotations

import tempfile
from typing import Iterable

from tokenizers import SentencePieceUnigramTokenizer
from tokenizers.processors import TemplateProcessing
from transformers import AutoTokenizer, PreTrainedTokenizerFast, XLMRobertaTokenizerFast

#: XLM-R's special tokens in XLM-R's id order (<s>=0, <pad>=1, </s>=2, <unk>=3); <mask> follows.
XLMR_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def train_unigram_tokenizer(
    texts: Iterable[str], vocab_size: int = 8000, *, model_max_length: int = 512
) -> PreTrainedTokenizerFast:
    """Train a SentencePiece-Unigram tokenizer on ``texts`` with XLM-R's conventions."""
    sp = SentencePieceUnigramTokenizer()
    sp.train_from_iterator(
        texts,
        vocab_size=vocab_size,
        special_tokens=XLMR_SPECIAL_TOKENS,
        unk_token="<unk>",
        show_progress=False,
    )
    ids = {t: sp.token_to_id(t) for t in XLMR_SPECIAL_TOKENS}
    # XLM-R's templates: <s> A </s> and <s> A </s></s> B </s>
    sp.post_processor = TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])],
    )
    built = XLMRobertaTokenizerFast(
        tokenizer_object=sp._tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=model_max_length,
    )
    # Return the tokenizer as it loads from disk: the freshly built object reports offsets that include
    # the leading "▁" space while the saved-and-reloaded one trims them, and training and the reader
    # must see exactly what a user's from_pretrained(path) gives.
    with tempfile.TemporaryDirectory() as tmp:
        built.save_pretrained(tmp)
        return AutoTokenizer.from_pretrained(tmp)
