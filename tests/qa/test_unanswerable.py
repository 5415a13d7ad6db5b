"""Concepts whose null threshold no span can exceed are not asked (and counted), with the same answers."""

from __future__ import annotations

import pytest

from kgqa.qa import Calibration, Reader
from kgqa.qa.config import ModelConfig, ReaderConfig
from kgqa.qa.reader import NEVER_ANSWER_THRESHOLD

from .test_reader import ALWAYS_ANSWER


@pytest.fixture(scope="module")
def reader(tiny_checkpoint) -> Reader:
    cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, batch_size=8)
    return Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg)


def spans(result) -> dict:
    return {k: sorted((a.concept_id, a.start, a.end) for a in v) for k, v in result.items()}


def test_a_concept_the_calibration_declares_unanswerable_is_not_asked(reader, script_notes, concepts) -> None:
    reader.calibration = Calibration()
    everything = reader.read(script_notes, concepts)
    assert reader.skipped_pairs == 0
    assert {a.concept_id for v in everything.values() for a in v} == {c.id for c in concepts}

    reader.calibration = Calibration(null_thresholds={"drugs": 1.0e6})  # what package_demo_model writes
    assert reader.unanswerable(concepts) == {"drugs"}
    result = reader.read(script_notes, concepts)
    assert reader.skipped_pairs == len(script_notes)  # one (note, drugs) pair per note
    # the answers of the concepts asked are the ones reading everything gave
    kept = {k: [s for s in v if s[0] != "drugs"] for k, v in spans(everything).items()}
    assert spans(result) == kept
    assert set(result) == {n.id for n in script_notes}  # every note still gets its key


def test_a_user_threshold_below_the_bound_asks_again(tiny_checkpoint, script_notes, concepts) -> None:
    cfg = ReaderConfig(null_threshold=ALWAYS_ANSWER, null_thresholds={"drugs": ALWAYS_ANSWER})
    reader = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg)
    reader.calibration = Calibration(null_thresholds={"drugs": 1.0e6})
    assert reader.unanswerable(concepts) == set()
    reader.read(script_notes, concepts)
    assert reader.skipped_pairs == 0


def test_just_below_the_bound_is_still_asked(reader, concepts) -> None:
    reader.calibration = Calibration(null_thresholds={"drugs": NEVER_ANSWER_THRESHOLD * 0.999})
    assert reader.unanswerable(concepts) == set()
    reader.calibration = Calibration(default_null_threshold=float("inf"))
    assert reader.unanswerable(concepts) == {c.id for c in concepts}
