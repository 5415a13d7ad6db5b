"""Fitting a checkpoint's calibration on dev records with the reader itself."""

import dataclasses
import shutil

import pytest

from kgqa.qa import Reader, fit_calibration
from kgqa.qa.calibrate import (
    DevRecord,
    dev_examples,
    dev_pairs,
    exact_match_rate,
    normalise_answer,
)
from kgqa.qa.config import ModelConfig, ReaderConfig


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("The NIHSS, 8.", "nihss 8"),
        ("  «Аспирин»  ", "аспирин"),
        ("Θρομβόλυση;", "θρομβόλυση"),
        ("an a the", ""),
    ],
)
def test_normalise_answer(raw, expected) -> None:
    assert normalise_answer(raw) == expected


def test_dev_examples_label_the_best_span_and_fit_a_loadable_calibration(
    tiny_checkpoint, tmp_path, script_notes
):
    reader = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), ReaderConfig())
    records = [
        DevRecord(id=n.id, question="What was the NIHSS score?", context=n.text, lang=n.lang)
        for n in script_notes
    ]
    # what the (random) model answers: make it the gold of even records; odd records are unanswerable
    best = [d.candidates[0] for d in reader.decode_pairs(dev_pairs(records))]
    labelled = [
        dataclasses.replace(r, answers=(r.context[b.start : b.end],) if i % 2 == 0 else ())
        for i, (r, b) in enumerate(zip(records, best))
    ]
    examples = dev_examples(reader, labelled)
    expected = [i % 2 == 0 for i in range(len(records))]
    assert [e.correct for e in examples] == expected
    assert [e.has_answer for e in examples] == expected
    assert [e.margin for e in examples] == pytest.approx([b.margin for b in best])
    assert exact_match_rate(examples) == 1.0
    wrong = dev_examples(reader, [dataclasses.replace(r, answers=("no such answer",)) for r in records])
    assert exact_match_rate(wrong) == 0.0

    cal = fit_calibration(examples, min_examples_per_concept=1)
    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, ckpt, ignore=shutil.ignore_patterns("onnx"))
    cal.save(ckpt)
    assert Reader.from_config(ModelConfig(path=str(ckpt)), ReaderConfig()).calibration == cal
