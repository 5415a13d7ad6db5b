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


# --- list completion (kgqa.linking.completion): the reader finds one drug of a discharge list, the list
# gives the rest. Notes written like the independent ones (eval/), in four languages.
COMPLETED = [
    # (lang, note, the drug the reader answered, its concept, derived concepts expected)
    ("cs", "Propuštěn 12.11.2024 domů. Th. dabigatran 110 mg 1-0-1, atorvastatin 20 mg, metoprolol 50 mg.\n",
     "atorvastatin", "discharge_statin",
     {"discharge_dabigatran", "discharge_any_anticoagulant", "discharge_antihypertensives"}),
    ("pl", ("Wypisany do domu, NIHSS 0, mRS 0. Zalecenia: ASA 75 mg, klopidogrel 75 mg przez 21 dni, "
           "atorwastatyna 80 mg, metoprolol 50 mg, insulina.\n"),
     "klopidogrel", "discharge_clopidogrel",
     {"discharge_asa", "discharge_any_antiplatelet", "discharge_statin", "discharge_antihypertensives",
      "discharge_antidiabetics"}),
    # the list shares its sentence with the discharge and the scores: only the run of drugs is taken
    ("es", "Alta el 8-11-2023 a domicilio con AAS 100 mg, atorvastatina 80 mg y amlodipino 5 mg; NIHSS 1 y Rankin 1 al alta.",
     "atorvastatina", "discharge_statin",
     {"discharge_asa", "discharge_any_antiplatelet", "discharge_antihypertensives"}),
    ("en", ("He was discharged on 11/11/2024 with mRS 3 and NIHSS 2, on aspirin 75 mg, clopidogrel 75 mg for 21 days, "
           "rosuvastatin 20 mg and amlodipine 10 mg."),
     "rosuvastatin", "discharge_statin",
     {"discharge_asa", "discharge_clopidogrel", "discharge_any_antiplatelet", "discharge_antihypertensives"}),
]


def _statement(note, text, concept_id, pipeline):
    start = note.text.index(text)
    answer = Answer.from_note(note, concept_id, start, start + len(text), score=4.0, null_score=-1.0, confidence=0.8,
                              question="q", question_lang=note.lang)
    return answer


@pytest.mark.parametrize(("lang", "text", "found", "concept_id", "want"), COMPLETED)
def test_a_drug_found_in_a_discharge_list_brings_the_whole_list(pipeline, lang, text, found, concept_id, want):
    note = Note(id="n1", text=text, lang=lang)
    facts = pipeline.facts_for(note, [_statement(note, found, concept_id, pipeline)])
    lists = [f for f in facts if f.concept_id == "discharge_other_drugs"]
    assert len(lists) == 1
    answer = lists[0].answer
    # offsets exact, from the first drug item to the last, with the seed's provenance
    assert note.text[answer.start : answer.end] == answer.text and found in answer.text
    assert "NIHSS" not in answer.text and "Rankin" not in answer.text and "discharged" not in answer.text
    assert (answer.confidence, answer.question, answer.score) == (0.8, "q", 4.0)
    derived = {f.concept_id for f in facts if f.derived_from == ("discharge_other_drugs",)}
    # what the reader stated itself is not derived again
    assert derived == want and concept_id not in derived


def test_the_readers_own_partial_list_answer_is_replaced_by_the_whole_list(pipeline):
    text = "Th: clopidogrel 75 mg, atorvastatin 80 mg, inzulin dle schématu.\n"
    note = Note(id="n1", text=text, lang="cs")
    facts = pipeline.facts_for(note, [_statement(note, "clopidogrel 75 mg", "discharge_other_drugs", pipeline)])
    lists = [f for f in facts if f.concept_id == "discharge_other_drugs"]
    assert [f.answer.text for f in lists] == ["clopidogrel 75 mg, atorvastatin 80 mg, inzulin dle schématu"]
    assert len(lists[0].links) == 3


@pytest.mark.parametrize(("lang", "text", "found"), [
    ("es", "HTA, DL. Tto domiciliario: AAS 100, simvastatina 20, bisoprolol 2,5. Traído desde la residencia.", "simvastatina"),
    ("en", "Never smoked. Regular meds: aspirin 75 mg, bisoprolol 2.5 mg, simvastatin 40 mg. Discharged home.", "simvastatin"),
    ("cs", "Anamnéza: DM 1. typu, warfarin 5 mg, atorvastatin 20 mg.\n", "atorvastatin"),
])
def test_a_home_medication_list_is_not_grown_into_discharge_prescriptions(pipeline, lang, text, found):
    note = Note(id="n1", text=text, lang=lang)
    facts = pipeline.facts_for(note, [_statement(note, found, "discharge_statin", pipeline)])
    assert not [f for f in facts if f.concept_id == "discharge_other_drugs" or f.derived_from]


def test_a_single_drug_or_a_no_is_no_seed(pipeline):
    # one drug alone is no list; a prescription answered "no" finds no drug
    note = Note(id="n1", text="Při propuštění: atorvastatin 20 mg. Clopidogrel nebyl indikován, aspirin 100 mg, "
                              "bisoprolol 5 mg.", lang="cs")
    facts = pipeline.facts_for(note, [_statement(note, "atorvastatin 20 mg", "discharge_statin", pipeline),
                                      _statement(note, "Clopidogrel nebyl indikován", "discharge_clopidogrel", pipeline)])
    assert [f.value.value for f in facts if f.concept_id == "discharge_clopidogrel"] == [False]
    assert not [f for f in facts if f.concept_id == "discharge_other_drugs"]


def test_completion_is_switched_off_by_its_setting(pipeline):
    note_text, found, concept_id = COMPLETED[0][1], COMPLETED[0][2], COMPLETED[0][3]
    note = Note(id="n1", text=note_text, lang="cs")
    off = replace(pipeline, complete_lists=False)
    facts = off.facts_for(note, [_statement(note, found, concept_id, off)])
    assert [f.concept_id for f in facts] == [concept_id]
