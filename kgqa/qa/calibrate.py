"""Fit a checkpoint's ``kgqa_calibration.json`` on a SQuAD-style dev set with the reader itself.

The library route, for a dev set held as Python records (each question its own pseudo-concept of
kind text, scored by exact match). QA training and ``kgqa train calibrate`` fit through
``training.qa_eval.fit_checkpoint_calibration`` instead, which decodes kgqa's ``note::concept``
questions under the rules of their catalogue concept and counts "usable" answers as right::

    reader = Reader.from_config(ModelConfig(path=out_dir), ReaderConfig())
    examples = dev_examples(reader, records)          # DevRecord per dev question
    fit_calibration(examples).save(out_dir)            # -> out_dir/kgqa_calibration.json

Margins come from the very decoding the reader applies at run time, so the fitted temperature
and thresholds mean the same thing there.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kgqa.qa.calibration import CalibrationExample
from kgqa.qa.reader import Pair, Reader
from kgqa.types import Concept, Note, ValueKind

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalise_answer(text: str) -> str:
    """SQuAD's answer normalisation (lower case, no punctuation, no English articles, single spaces)."""
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(
        ch for ch in text if ch not in string.punctuation and not unicodedata.category(ch).startswith("P")
    )
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class DevRecord:
    """One dev question: its context, language and gold answer texts (empty = unanswerable)."""

    id: str
    question: str
    context: str
    lang: str
    answers: tuple[str, ...] = ()
    #: the catalogue concept the question belongs to; per-concept thresholds are fitted per id
    concept_id: str = "squad"


def dev_pairs(records: Sequence[DevRecord]) -> list[Pair]:
    """The reader's (note, concept, question) pairs for dev records."""
    pairs: list[Pair] = []
    for r in records:
        note = Note(id=r.id, text=r.context, lang=r.lang)
        concept = Concept(
            id=r.concept_id,
            group="dev",
            kind=ValueKind.TEXT,
            target_class="",
            questions={r.lang: (r.question,)},
        )
        pairs.append(Pair(note, concept, r.question, r.lang))
    return pairs


def dev_examples(reader: Reader, records: Iterable[DevRecord]) -> list[CalibrationExample]:
    """Decode every dev record with ``reader`` and label its best span against the gold answers."""
    records = [r for r in records if r.context.strip()]
    pairs = dev_pairs(records)
    examples = []
    for record, decoded in zip(records, reader.decode_pairs(pairs)):
        gold = {normalise_answer(a) for a in record.answers}
        if decoded.candidates:
            best = decoded.candidates[0]
            margin = best.margin
            correct = normalise_answer(record.context[best.start : best.end]) in gold
        else:
            margin, correct = float("-inf"), False
        examples.append(CalibrationExample(record.concept_id, margin, correct, has_answer=bool(gold)))
    return examples


def exact_match_rate(examples: Sequence[CalibrationExample]) -> float:
    """Share of answerable dev records whose best span is correct (threshold aside)."""
    answerable = [e for e in examples if e.has_answer]
    return sum(e.correct for e in answerable) / len(answerable) if answerable else 0.0
