"""SentencePiece-Unigram tokenizers trained locally with XLM-R's special tokens.

No tokenizer can be downloaded here, so tests, the tiny default model and from-scratch
training all train one from text with the ``tokenizers`` library. The result is saved in
the standard Hugging Face layout and loads with ``AutoTokenizer.from_pretrained(path)``
exactly like a real XLM-R tokenizer (same special tokens, same pair template).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable

from tokenizers import SentencePieceUnigramTokenizer, Tokenizer
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
    _canonical_vocab_order(sp)
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


def _canonical_vocab_order(sp: SentencePieceUnigramTokenizer) -> None:
    """Give pieces ids in a canonical order (specials first, then by score, then by text).

    The Unigram trainer's piece order varies from run to run (hash-map iteration), so the same corpus
    would give different ids — and a tiny model built on it different weights. Re-ordering makes the
    tokenizer, and everything seeded on top of it, reproducible.
    """
    state = json.loads(sp._tokenizer.to_str())
    vocab = state["model"]["vocab"]
    specials = [v for v in vocab if v[0] in XLMR_SPECIAL_TOKENS]
    specials.sort(key=lambda v: XLMR_SPECIAL_TOKENS.index(v[0]))
    # the trainer's scores also wobble in their last digits between runs: rounded, they agree
    rest = sorted(
        ([v[0], round(v[1], 2)] for v in vocab if v[0] not in XLMR_SPECIAL_TOKENS), key=lambda v: (-v[1], v[0])
    )
    state["model"]["vocab"] = specials + rest
    state["model"]["unk_id"] = XLMR_SPECIAL_TOKENS.index("<unk>")
    sp._tokenizer = Tokenizer.from_str(json.dumps(state))
