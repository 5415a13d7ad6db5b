"""SQuAD v2 export of synthetic notes: loads with `datasets`, answers slice, unanswerables present."""

import json

import pytest

from kgqa import PROJECT_ROOT
from kgqa.catalogue import load_catalogue
from kgqa.synth.generator import generate_corpus
from kgqa.synth.squad import GOLD_CONCEPTS, MAYBE_MENTIONED, to_squad

CATALOGUE = PROJECT_ROOT / "kgqa" / "resources" / "catalogue" / "resq.yaml"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(CATALOGUE)


@pytest.fixture(scope="module")
def golds():
    return list(generate_corpus(2, split="train"))


def test_generator_concepts_are_catalogue_concepts(catalogue):
    assert set(GOLD_CONCEPTS) <= set(catalogue.ids)


def test_squad_export_loads_with_datasets(catalogue, golds, tmp_path):
    datasets = pytest.importorskip("datasets")
    path = tmp_path / "synth.json"
    path.write_text(json.dumps(to_squad(golds, list(catalogue), unanswerable_ratio=0.2)), encoding="utf-8")
    ds = datasets.load_dataset("json", data_files=str(path), field="data", split="train")
    assert len(ds) == len(golds)
    n_answerable = n_impossible = 0
    for article in ds:
        context = article["paragraphs"][0]["context"]
        for qa in article["paragraphs"][0]["qas"]:
            for ans in qa["answers"]:
                assert context[ans["answer_start"] : ans["answer_start"] + len(ans["text"])] == ans["text"]
            n_answerable += not qa["is_impossible"]
            n_impossible += qa["is_impossible"]
            assert qa["is_impossible"] == (not qa["answers"])
    assert n_answerable > 20 * len(golds) and n_impossible > 10 * len(golds)


def test_every_gold_span_becomes_an_answer(catalogue, golds):
    doc = to_squad(golds, list(catalogue), unanswerable_ratio=0.0)
    for gold, article in zip(golds, doc["data"]):
        qas = {qa["id"].split("::")[1]: qa for qa in article["paragraphs"][0]["qas"]}
        for a in gold.annotations:
            assert {"text": a.text, "answer_start": a.start} in qas[a.concept_id]["answers"]
        # unanswerable questions: gold concepts the note does not mention, and never a maybe-mentioned one
        impossible = {cid for cid, qa in qas.items() if qa["is_impossible"]}
        assert impossible <= set(GOLD_CONCEPTS) - {a.concept_id for a in gold.annotations}
        assert not set(qas) & MAYBE_MENTIONED


def test_questions_come_from_the_catalogue(catalogue, golds):
    doc = to_squad(golds[:1], list(catalogue), unanswerable_ratio=0.0)
    qa = next(q for q in doc["data"][0]["paragraphs"][0]["qas"] if q["id"].endswith("::nihss_score"))
    concept = catalogue.get("nihss_score")
    assert qa["question"] in (concept.questions.get(golds[0].note.lang) or concept.questions["en"])
