"""Discharge medication lists through the pipeline's own stages (values → linking → derive): every drug of
a list span is linked to its ATC code and answers its RES-Q prescription concept."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.linking import Linker, LinkerConfig
from kgqa.pipeline import Pipeline
from kgqa.types import Answer, Note
from kgqa.values import derive, normalise


class NoBuilder:
    def note_graph(self, note, facts, run):  # pragma: no cover - facts_for builds no graph
        raise AssertionError


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    linker = Linker.from_config(replace(LinkerConfig(), cache_dir=str(tmp_path_factory.mktemp("rx-cache"))))
    return Pipeline(catalogue=catalogue, reader=None, normalise=normalise, linker=linker, builder=NoBuilder(), derive=derive)


# (note language, discharge medication as written, derived prescription concepts)
CASES = [
    ("cs", "Doporučená medikace: Atorvastatin 40 mg 0-0-1, Concor 5 mg 1-0-0 a Eliquis 5 mg 1-0-1.",
     {"discharge_statin", "discharge_antihypertensives", "discharge_apixaban", "discharge_any_anticoagulant"}),
    ("bg", "Терапия при изписване: Аспирин 100 мг, Крестор 10 мг и Глюкофаж 850 мг.",
     {"discharge_asa", "discharge_any_antiplatelet", "discharge_statin", "discharge_antidiabetics"}),
    ("es", "Tratamiento al alta: Adiro 100 mg, Sintrom según pauta y omeprazol 20 mg.",
     {"discharge_asa", "discharge_any_antiplatelet", "discharge_other_anticoagulant", "discharge_any_anticoagulant",
      "discharge_other"}),
]


@pytest.mark.parametrize(("lang", "text", "want"), CASES)
def test_every_listed_drug_answers_its_prescription_concept(pipeline, lang, text, want):
    note = Note(id="n1", text=text, lang=lang)
    start = text.index(":") + 2
    answer = Answer.from_note(note, "discharge_other_drugs", start, len(text) - 1, score=5.0, null_score=0.0, confidence=0.9)
    facts = pipeline.facts_for(note, [answer])
    drug_fact = facts[0]
    assert len(drug_fact.links) == 3, drug_fact.links
    derived = {f.concept_id for f in facts if f.derived_from == ("discharge_other_drugs",)}
    assert derived == want
    assert all(f.value.value is True for f in facts[1:])


def test_a_stated_prescription_is_not_derived_again(pipeline):
    text = "Statin: ano. Medikace: Sortis 20 mg, Tritace 5 mg."
    note = Note(id="n2", text=text, lang="cs")
    stated = Answer.from_note(note, "discharge_statin", 8, 11, score=5.0, null_score=0.0, confidence=0.9)
    drugs = Answer.from_note(note, "discharge_other_drugs", text.index("Sortis"), len(text) - 1, score=5.0,
                             null_score=0.0, confidence=0.9)
    facts = pipeline.facts_for(note, [stated, drugs])
    assert [f.concept_id for f in facts].count("discharge_statin") == 1
    assert "discharge_antihypertensives" in {f.concept_id for f in facts}
