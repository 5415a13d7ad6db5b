"""The independent evaluation set in eval/ (notes kgqa synth did not write): its gold files are valid kgqa gold.

They load with kgqa's own gold reader, every span slices its note, every concept is in the default
catalogue and every value has the type, range and member the concept's kind asks for (checked with the
values stage's and the scorer's own code), the split is clean, and eval/build.py rebuilds the files
byte for byte. Nothing here reads ../shared: the CodiEsp texts are copied into eval/codiesp/.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.evaluation.gold import read_gold_jsonl
from kgqa.evaluation.scoring import values_equal
from kgqa.types import LANGUAGES, Concept, Value, ValueKind
from kgqa.values.normalise import check_range

EVAL = Path(__file__).resolve().parents[2] / "eval"
SPLITS = ("dev", "test")


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DEFAULT_CATALOGUE)


@pytest.fixture(scope="module")
def golds():
    return {s: list(read_gold_jsonl(EVAL / f"independent.{s}.gold.jsonl")) for s in SPLITS}


def _all(golds):
    return [g for s in SPLITS for g in golds[s]]


def _origin(g) -> str:
    return g.note.metadata["origin"]


def _expected_type(value, concept: Concept) -> bool:
    kind = concept.kind
    if kind is ValueKind.BOOLEAN:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is ValueKind.INTEGER:
        return isinstance(value, int)
    if kind in (ValueKind.DECIMAL, ValueKind.DURATION):
        return isinstance(value, (int, float))
    if kind is ValueKind.DATETIME:
        return isinstance(value, dt.datetime)
    if kind is ValueKind.DATE:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if kind is ValueKind.TIME:
        return isinstance(value, dt.time)
    if kind in (ValueKind.ENUM, ValueKind.DRUG) and concept.members:
        return value in {m.id for m in concept.members}
    return isinstance(value, str)


def test_gold_files_load_and_spans_slice(golds):
    for split in SPLITS:
        assert golds[split], f"no notes in the {split} split"
        for g in golds[split]:
            assert g.annotations, g.note.id
            for a in g.annotations:
                assert g.note.text[a.start : a.end] == a.text, (g.note.id, a.concept_id)


def test_concepts_exist_and_values_have_their_kinds_type(catalogue, golds):
    for g in _all(golds):
        for a in g.annotations:
            assert a.concept_id in catalogue, (g.note.id, a.concept_id)
            concept = catalogue.get(a.concept_id)
            assert _expected_type(a.value, concept), (g.note.id, a.concept_id, a.value, concept.kind)
            assert a.assertion == ("negated" if a.value is False else "present"), (g.note.id, a.concept_id)
            member = next((m for m in concept.members if m.id == a.value), None)
            as_read = Value(kind=concept.kind, value=a.value, member_iri=member.iri if member else None)
            # inside the concept's range, as the values stage checks it ...
            assert check_range(as_read, concept).ok, (g.note.id, a.concept_id, a.value)
            # ... and comparable by the scorer: the gold value equals itself as a value the stage could read
            assert values_equal(a.value, as_read, concept), (g.note.id, a.concept_id, a.value)


def test_one_fact_per_concept_and_note(catalogue, golds):
    for g in _all(golds):
        counts = Counter(a.concept_id for a in g.annotations)
        many = [c for c, n in counts.items() if n > 1 and not catalogue.get(c).is_list]
        assert not many, (g.note.id, many)


def test_every_language_has_five_handwritten_notes_in_both_splits(golds):
    total = Counter(g.note.lang for g in _all(golds) if _origin(g) == "hand-written")
    assert set(total) == set(LANGUAGES)
    assert min(total.values()) >= 5, total
    for split in SPLITS:
        langs = {g.note.lang for g in golds[split] if _origin(g) == "hand-written"}
        assert langs == set(LANGUAGES), (split, langs)


def test_codiesp_cases_are_attributed_and_from_train_or_background(golds):
    cases = [g for g in _all(golds) if _origin(g) == "codiesp"]
    assert len(cases) >= 10
    for split in SPLITS:
        assert any(_origin(g) == "codiesp" for g in golds[split]), split
    for g in cases:
        meta = g.note.metadata
        assert g.note.lang == "es"
        assert meta["licence"] == "CC BY 4.0" and "Zenodo 3837305" in meta["attribution"]
        assert meta["codiesp_split"] in ("train", "background"), g.note.id
        text = (EVAL / "codiesp" / f"{meta['codiesp_document']}.txt").read_text(encoding="utf-8")
        assert text == g.note.text, g.note.id


def test_dev_and_test_share_no_note(golds):
    dev, test = golds["dev"], golds["test"]
    assert not {g.note.id for g in dev} & {g.note.id for g in test}
    assert not {g.note.sha256 for g in dev} & {g.note.sha256 for g in test}
    assert not {g.note.metadata.get("codiesp_document") for g in dev if _origin(g) == "codiesp"} & {
        g.note.metadata.get("codiesp_document") for g in test if _origin(g) == "codiesp"}
    for split in SPLITS:
        assert all(g.note.metadata["eval_split"] == split for g in golds[split])


def test_both_splits_ask_the_same_concepts(golds):
    """`kgqa eval --concepts gold` asks what a file annotates: dev and test must ask the same questions."""
    dev, test = ({a.concept_id for g in golds[s] for a in g.annotations} for s in SPLITS)
    assert dev == test, {"dev only": sorted(dev - test), "test only": sorted(test - dev)}


def test_build_regenerates_identical_files(tmp_path):
    subprocess.run([sys.executable, str(EVAL / "build.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True, text=True)
    for split in SPLITS:
        name = f"independent.{split}.gold.jsonl"
        assert (tmp_path / name).read_bytes() == (EVAL / name).read_bytes(), name


def test_dev_as_squad_asks_every_annotated_concept_of_every_note(tmp_path, golds):
    from training.squad import load_dataset_file

    out = tmp_path / "dev.squad.json"
    done = subprocess.run([sys.executable, str(EVAL / "to_squad.py"), str(EVAL / "independent.dev.gold.jsonl"),
                           str(out)], capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    dev = golds["dev"]
    annotated = {a.concept_id for g in dev for a in g.annotations}
    # training's own SQuAD reader loads it, every answer where the gold puts it
    examples, _ = load_dataset_file(str(out), dataset="independent_dev", lang="mul")
    assert len(examples) == len(dev) * len(annotated)
    by_id = {ex.id: ex for ex in examples}
    for gold in dev:
        for concept_id in annotated:
            ex = by_id[f"{gold.note.id}::{concept_id}"]
            spans = gold.for_concept(concept_id)
            assert [(a.text, a.start) for a in ex.answers] == [(a.text, a.start) for a in spans]
            assert all(ex.context[a.start : a.end] == a.text for a in ex.answers)
            assert ex.is_impossible == (not spans)


def test_test_split_is_refused_as_calibration_data(tmp_path):
    done = subprocess.run([sys.executable, str(EVAL / "to_squad.py"), str(EVAL / "independent.test.gold.jsonl"),
                           str(tmp_path / "x.json")], capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2 and "test split" in done.stderr and not (tmp_path / "x.json").exists()
