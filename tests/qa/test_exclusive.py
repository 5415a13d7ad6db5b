"""Decisions across concepts: a span answers at most one concept of a catalogue exclusive set."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue, parse_catalogue
from kgqa.errors import CatalogueError
from kgqa.qa import Reader
from kgqa.qa.config import ModelConfig, ReaderConfig
from kgqa.qa.exclusive import resolve_exclusive
from kgqa.types import Answer, Concept, Note

TEXT = "mRS 2 before the stroke; mRS 3 at discharge. BP 150/80. Onset 08:10, arrival 09:05."


def concept(cid: str, *sets: str, kind: str = "integer", many: bool = False) -> Concept:
    return Concept(
        id=cid, group="g", kind=kind, target_class="resq:X", questions={"en": (f"{cid}?",)},
        exclusive_sets=sets, cardinality="many" if many else "one",
    )


def answer(cid: str, fragment: str, confidence: float, occurrence: int = 0) -> Answer:
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(fragment, start + 1)
    note = Note(id="n", text=TEXT, lang="en")
    return Answer.from_note(note, cid, start, start + len(fragment), score=confidence * 10, null_score=0.0,
                            confidence=confidence)


CONCEPTS = {
    c.id: c
    for c in (
        concept("prestroke_mrs", "mrs"),
        concept("discharge_mrs", "mrs"),
        concept("systolic"),
        concept("diastolic"),
        concept("onset", "times", kind="time"),
        concept("arrival", "times", kind="time"),
        concept("drugs", "home_discharge", kind="drug", many=True),
        concept("home_drugs", "home_discharge", kind="drug", many=True),
    )
}


def test_the_more_confident_concept_keeps_a_shared_span() -> None:
    answers = [answer("prestroke_mrs", "mRS 3", 0.6), answer("discharge_mrs", "mRS 3", 0.9)]
    assert resolve_exclusive(answers, CONCEPTS) == [answers[1]]


def test_overlap_not_identity_decides() -> None:
    # "3" lies inside "mRS 3 at discharge": the same characters, read twice
    answers = [answer("discharge_mrs", "mRS 3 at discharge", 0.8), answer("prestroke_mrs", "3", 0.7, occurrence=0)]
    assert resolve_exclusive(answers, CONCEPTS) == [answers[0]]


def test_disjoint_spans_of_a_set_are_both_kept() -> None:
    answers = [answer("prestroke_mrs", "mRS 2", 0.6), answer("discharge_mrs", "mRS 3", 0.9)]
    assert resolve_exclusive(answers, CONCEPTS) == answers
    times = [answer("onset", "08:10", 0.7), answer("arrival", "09:05", 0.8)]
    assert resolve_exclusive(times, CONCEPTS) == times


def test_concepts_in_no_common_set_may_share_a_span() -> None:
    # one blood-pressure span answers the systolic and the diastolic question
    answers = [answer("systolic", "150/80", 0.9), answer("diastolic", "150/80", 0.8)]
    assert resolve_exclusive(answers, CONCEPTS) == answers
    mixed = [answer("onset", "08:10", 0.9), answer("discharge_mrs", "08:10", 0.9)]  # different sets
    assert resolve_exclusive(mixed, CONCEPTS) == mixed


def test_a_list_concept_loses_only_the_contested_item() -> None:
    answers = [
        answer("drugs", "150/80", 0.5),
        answer("drugs", "08:10", 0.9),
        answer("home_drugs", "150/80", 0.7),
    ]
    assert resolve_exclusive(answers, CONCEPTS) == [answers[1], answers[2]]


def test_ties_are_deterministic() -> None:
    a, b = answer("onset", "08:10", 0.8), answer("arrival", "08:10", 0.8)
    assert resolve_exclusive([a, b], CONCEPTS) == resolve_exclusive([b, a], CONCEPTS) == [b]


def _doc(exclusive) -> dict:
    doc = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    doc["exclusive"] = exclusive
    return doc


@pytest.mark.parametrize(
    ("exclusive", "message"),
    [
        ({"s": ["age", "nosuch"]}, r"set 's' names unknown concept\(s\) \['nosuch'\]"),
        ({"s": ["age"]}, "at least two concept ids"),
        ({"s": "age"}, "at least two concept ids"),
        ({"s": ["age", "age"]}, "names a concept twice"),
    ],
)
def test_bad_sets_are_named(exclusive, message) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(_doc(exclusive), source="cat.yaml")


def test_the_default_catalogue_declares_the_measured_confusions() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    shares = {
        ("prestroke_mrs", "discharge_mrs"), ("nihss_score", "discharge_nihss_score"),
        ("onset_timestamp", "hospital_timestamp"), ("before_onset_statin", "discharge_statin"), ("age", "gcs_score"),
    }
    for a, b in shares:
        assert set(catalogue.get(a).exclusive_sets) & set(catalogue.get(b).exclusive_sets), (a, b)
    assert not set(catalogue.get("systolic_pressure").exclusive_sets) & set(
        catalogue.get("diastolic_pressure").exclusive_sets
    )


def test_the_reader_applies_the_sets_and_can_be_told_not_to(tiny_checkpoint) -> None:
    """Two concepts asked the same question get the same logits, so the same span: the set keeps one."""
    note = Note(id="n1", text="The patient scored mRS 3 at discharge and mRS 1 before.", lang="en")
    same = {"en": ("What was the mRS?",)}
    twins = [
        dataclasses.replace(CONCEPTS["prestroke_mrs"], questions=same),
        dataclasses.replace(CONCEPTS["discharge_mrs"], questions=same),
    ]
    cfg = ReaderConfig(null_threshold=-1e9, value_span_kinds=[], digit_kinds=[])
    on = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), cfg).read([note], twins)["n1"]
    off_cfg = dataclasses.replace(cfg, exclusive_sets=False)
    off = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), off_cfg).read([note], twins)["n1"]
    assert len(off) == 2 and (off[0].start, off[0].end) == (off[1].start, off[1].end)
    assert len(on) == 1 and on[0] in off


def test_a_yes_no_answer_must_state_its_topic(tiny_checkpoint) -> None:
    """reader.value_span_kinds holds boolean by default: a span that names no treatment is no 'yes'."""
    note = Note(id="n1", text="Mrs K., 73.\nMechanical thrombectomy was performed at 15:10.", lang="en")
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    thrombectomy = catalogue.get("thrombectomy")
    assert "boolean" in ReaderConfig().value_span_kinds
    reader = Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), ReaderConfig(null_threshold=-1e9))
    pair = reader.pairs([note], [thrombectomy])[0]
    accept = reader.value_check(pair)
    name_line = (0, note.text.index("\n"))
    treatment = (note.text.index("Mechanical"), note.text.index(" was"))
    assert not accept(*name_line) and accept(*treatment)
    for answer in reader.read([note], [thrombectomy])["n1"]:
        assert answer.start > name_line[1]  # random weights, yet never the name line
