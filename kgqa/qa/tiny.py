"""A tiny randomly initialised XLM-R QA checkpoint built from config, offline.

Used by tests and as the default model until a trained checkpoint is configured. The checkpoint
is written with ``save_pretrained`` so the reader loads it through exactly the code path a real
checkpoint takes. Its answers are not meaningful.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from transformers import AutoModelForQuestionAnswering, XLMRobertaConfig

from kgqa.tokenizer import train_unigram_tokenizer

log = logging.getLogger(__name__)

#: A little multilingual text so the tokenizer covers all seven scripts even with no corpus given.
SEED_TEXTS: Sequence[str] = (
    "The patient was admitted with acute ischemic stroke. NIHSS 8 on admission, mRS 1 before the stroke.",
    "Thrombolysis with alteplase 0.9 mg/kg, bolus at 14:35; door-to-needle time 38 minutes.",
    "Пациентът е приет с остър исхемичен инсулт. NIHSS при приема 8 точки. Тромболиза не е проведена.",
    "Pacient přijat s akutní ischemickou cévní mozkovou příhodou, NIHSS 8 b., bez trombolýzy.",
    "Ο ασθενής εισήχθη με οξύ ισχαιμικό αγγειακό εγκεφαλικό επεισόδιο. Δεν χορηγήθηκε θρομβόλυση.",
    "Paciente ingresado por ictus isquémico agudo. NIHSS 8 al ingreso. No se realizó trombólisis.",
    "Pacjent przyjęty z ostrym udarem niedokrwiennym mózgu. NIHSS 8 pkt. Nie podano leczenia trombolitycznego.",
    "Pacientul a fost internat cu accident vascular cerebral ischemic acut. Nu s-a efectuat tromboliza.",
    "Tensiunea arterială 180/95 mmHg, glicemie 7,2 mmol/l, colesterol 5.4 mmol/L. Data externării 24.12.2025.",
)


def build_tiny_checkpoint(
    path: str | Path,
    texts: Iterable[str] = (),
    *,
    vocab_size: int = 2000,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int = 128,
    max_position_embeddings: int = 514,
    seed: int = 0,
) -> Path:
    """Train a tokenizer on ``texts`` (plus seed texts), build a tiny XLM-R QA model, save both."""
    path = Path(path)
    corpus = list(SEED_TEXTS) + [t for t in texts if t.strip()]
    tokenizer = train_unigram_tokenizer(corpus, vocab_size=vocab_size, model_max_length=max_position_embeddings - 2)
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = AutoModelForQuestionAnswering.from_config(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    log.info("built tiny random XLM-R QA checkpoint at %s (answers are not meaningful)", path)
    return path


def ensure_checkpoint(path: str | Path, build_tiny: bool, texts: Iterable[str] = ()) -> Path:
    """Return ``path``; build a tiny checkpoint there first if it is missing and ``build_tiny`` is set."""
    path = Path(path)
    if not (path / "config.json").exists() and build_tiny:
        build_tiny_checkpoint(path, texts)
    return path
