"""The pipeline's linking routes, per catalogue concept, on the committed ontologies with the default
sources (resq, drugs, conditions): mentions in all seven languages, abbreviations, brand names, drug
lists split into their drugs, ontology display labels, and the ATC → RES-Q prescription category."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.linking import Linker, LinkerConfig
from kgqa.linking.atc import prescription_category, prescription_concepts
from kgqa.linking.lists import item_spans, split_items


@pytest.fixture(scope="module")
def routes(tmp_path_factory):
    cfg = replace(LinkerConfig(), cache_dir=str(tmp_path_factory.mktemp("routes-cache")), mode="lexical")
    concepts = {c.id: c for c in load_catalogue(DEFAULT_CATALOGUE).concepts}
    return Linker.from_config(cfg), concepts


def first(routes, cid, text, lang):
    linker, concepts = routes
    links = linker.link(text, concepts[cid], lang)
    return links[0].term_id if links else None


# comorbidities: (mention, language, ICD-10-CM id) — full names, inflected or without diacritics, abbreviations
COMORBIDITIES = [
    ("hypertension", "en", "ICD10CM:I10"), ("COPD", "en", "ICD10CM:J44.9"), ("chronic kidney disease", "en", "ICD10CM:N18.9"),
    ("артериална хипертония", "bg", "ICD10CM:I10"), ("ЗД", "bg", "ICD10CM:E11.9"), ("ХОББ", "bg", "ICD10CM:J44.9"),
    ("деменция", "bg", "ICD10CM:F03.90"),
    ("arterialni hypertenze", "cs", "ICD10CM:I10"), ("FiS", "cs", "ICD10CM:I48.91"), ("srdeční selhání", "cs", "ICD10CM:I50.9"),
    ("κολπική μαρμαρυγή", "el", "ICD10CM:I48.91"), ("ΧΑΠ", "el", "ICD10CM:J44.9"), ("άνοια", "el", "ICD10CM:F03.90"),
    ("HTA", "es", "ICD10CM:I10"), ("FA", "es", "ICD10CM:I48.91"), ("AIT", "es", "ICD10CM:G45.9"),
    ("insuficiencia renal crónica", "es", "ICD10CM:N18.9"),
    ("migotanie przedsionkow", "pl", "ICD10CM:I48.91"), ("POChP", "pl", "ICD10CM:J44.9"), ("niewydolność serca", "pl", "ICD10CM:I50.9"),
    ("HTA", "ro", "ICD10CM:I10"), ("FiA", "ro", "ICD10CM:I48.91"), ("AIT", "ro", "ICD10CM:G45.9"), ("BPOC", "ro", "ICD10CM:J44.9"),
]


@pytest.mark.parametrize(("text", "lang", "want"), COMORBIDITIES)
def test_comorbidities_route(routes, text, lang, want):
    assert first(routes, "comorbidities", text, lang) == want


# discharge drugs: INN, national brands, other scripts, with dosages
DRUGS = [
    ("Lipitor 20 mg", "en", "ATC:C10AA05"), ("Бисопролол 5 мг", "bg", "ATC:C07AB07"), ("Крестор", "bg", "ATC:C10AA07"),
    ("Concor 5 mg 1-0-0", "cs", "ATC:C07AB07"), ("Glucophage 850 mg", "cs", "ATC:A10BA02"),
    ("ατορβαστατίνη 40 mg", "el", "ATC:C10AA05"), ("Jardiance 10 mg", "es", "ATC:A10BK03"),
    ("Roswera 10 mg", "pl", "ATC:C10AA07"), ("Zanidip 10 mg", "ro", "ATC:C08CA13"),
]


@pytest.mark.parametrize(("text", "lang", "want"), DRUGS)
def test_discharge_drug_route(routes, text, lang, want):
    assert first(routes, "discharge_other_drugs", text, lang) == want


LISTS = [
    ("Atorvastatin 40 mg, Concor 5 mg 1-0-0 a Eliquis 5 mg 1-0-1", "cs", ["ATC:C10AA05", "ATC:C07AB07", "ATC:B01AF02"]),
    ("Аспирин 100 мг; Крестор 10 мг и Конкор 5 мг", "bg", ["ATC:B01AC06", "ATC:C10AA07", "ATC:C07AB07"]),
    ("Glucophage 850 mg\nLipitor 20 mg\nXarelto 20 mg", "en", ["ATC:A10BA02", "ATC:C10AA05", "ATC:B01AF01"]),
    ("ramipril 5 mg, metformina 850 mg y atorvastatina 40 mg", "es", ["ATC:C09AA05", "ATC:A10BA02", "ATC:C10AA05"]),
]


@pytest.mark.parametrize(("text", "lang", "want"), LISTS)
def test_discharge_list_links_every_drug_in_order(routes, text, lang, want):
    linker, concepts = routes
    assert [link.term_id for link in linker.link(text, concepts["discharge_other_drugs"], lang)] == want


def test_lists_are_split_only_for_list_drug_concepts(routes):
    linker, concepts = routes
    assert len(linker.link("Lipitor, Concor", concepts["ivt_drug"], "en")) <= 1


@pytest.mark.parametrize(("text", "items"), [
    ("alteplase 0,9 mg/kg", ["alteplase 0,9 mg/kg"]),  # a decimal comma is no separator
    ("Tritace 2,5 mg, Sortis", ["Tritace 2,5 mg", "Sortis"]),
    ("ramipril 5mg 1-0-1 + Xarelto", ["ramipril 5mg 1-0-1", "Xarelto"]),  # schedules stay whole
    ("1) Aspirin 100 mg\n2) Plavix 75 mg", ["Aspirin 100 mg", "Plavix 75 mg"]),
    ("аторвастатин и бисопролол", ["аторвастатин", "бисопролол"]),
    ("ασπιρίνη και κλοπιδογρέλη", ["ασπιρίνη", "κλοπιδογρέλη"]),
    ("Aspenter și Concor", ["Aspenter", "Concor"]),
])
def test_split_items(text, items):
    assert split_items(text) == items
    # the same items with their offsets (what list completion grows answers over), also inside a longer text
    assert [text[s:e] for s, e in item_spans(text)] == items
    padded = "Th.: " + text + ". NIHSS 2"
    assert [padded[s:e] for s, e in item_spans(padded, 5, 5 + len(text))] == items


# enumerations and the thrombolytic: (concept, mention, language, member id)
MEMBERS = [
    ("stroke_type", "исхемичен мозъчен инсулт", "bg", "ischemic"), ("stroke_type", "мозъчен кръвоизлив", "bg", "ich"),
    ("stroke_type", "ischemicka cevni mozkova prihoda", "cs", "ischemic"), ("stroke_type", "subarachnoidální krvácení", "cs", "sah"),
    ("stroke_type", "ισχαιμικό αγγειακό εγκεφαλικό επεισόδιο", "el", "ischemic"),
    ("stroke_type", "ενδοεγκεφαλική αιμορραγία", "el", "ich"),
    ("stroke_type", "ischaemic stroke", "en", "ischemic"), ("stroke_type", "TIA", "en", "tia"),
    ("stroke_type", "ictus isquemico", "es", "ischemic"), ("stroke_type", "hemorragia intracerebral", "es", "ich"),
    ("stroke_type", "udar niedokrwienny", "pl", "ischemic"), ("stroke_type", "krwotok podpajęczynówkowy", "pl", "sah"),
    ("stroke_type", "AVC ischemic", "ro", "ischemic"), ("stroke_type", "hemoragie intracerebrală", "ro", "ich"),
    ("imaging_type", "CT angiografie", "cs", "ct_cta"),
    ("ivt_drug", "алтеплаза 0,9 мг/кг", "bg", "alteplase"), ("ivt_drug", "Metalyse", "cs", "tenecteplase"),
    ("ivt_drug", "τενεκτεπλάση", "el", "tenecteplase"), ("ivt_drug", "rt-PA", "en", "alteplase"),
    ("ivt_drug", "alteplasa", "es", "alteplase"), ("ivt_drug", "alteplaza", "pl", "alteplase"),
    ("ivt_drug", "Actilyse 0,9 mg/kg", "ro", "alteplase"),
]


@pytest.mark.parametrize(("cid", "text", "lang", "want"), MEMBERS)
def test_member_routes(routes, cid, text, lang, want):
    assert first(routes, cid, text, lang) == want


def test_display_label_is_the_ontology_preferred_name_in_the_note_language(routes):
    linker, concepts = routes
    (link,) = linker.link("insuficiencia renal crónica", concepts["comorbidities"], "es")[:1]
    assert link.label == "enfermedad renal crónica" and link.matched == "insuficiencia renal crónica"
    (link,) = linker.link("ХОББ", concepts["comorbidities"], "bg")[:1]
    assert link.label == "хронична обструктивна белодробна болест"


def test_unrelated_and_short_strings_are_nil(routes):
    for text, lang in [("живее сам", "bg"), ("the patient lives alone", "en"), ("GP", "en"), ("MAP", "es")]:
        assert first(routes, "comorbidities", text, lang) is None, text


@pytest.mark.parametrize(("atc", "category"), [
    ("ATC:C10AA05", "statin"), ("ATC:C09AA05", "antihypertensives"), ("ATC:C07AB07", "antihypertensives"),
    ("ATC:C03CA01", "antihypertensives"), ("ATC:A10BA02", "antidiabetics"), ("ATC:A10A", "antidiabetics"),
    ("ATC:B01AF02", "apixaban"), ("ATC:B01AA03", "warfarin"), ("ATC:B01AA07", "other_anticoagulant"),
    ("ATC:B01AB05", "heparin"), ("ATC:B01AC06", "asa"), ("ATC:B01AC04", "clopidogrel"),
    ("ATC:B01AC07", "dipyridamole"), ("ATC:B01AC30", "other_antiplatelet"), ("ATC:N06AB06", "other"),
])
def test_prescription_category_follows_the_atc_class(atc, category):
    assert prescription_category(atc) == category


def test_prescription_concepts_exist_in_the_catalogue(routes):
    _, concepts = routes
    for atc in ("ATC:C10AA05", "ATC:C09AA05", "ATC:A10BA02", "ATC:B01AF02", "ATC:B01AB05", "ATC:B01AC06",
                "ATC:B01AC30", "ATC:B01AA07", "ATC:N06AB06"):
        ids = prescription_concepts(atc)
        assert all(i in concepts for i in ids), ids
    assert prescription_concepts("ATC:B01AF02") == ("discharge_apixaban", "discharge_any_anticoagulant")
    assert prescription_concepts("ATC:B01AC04", "before_onset_") == ("before_onset_clopidogrel", "before_onset_any_antiplatelet")


def test_an_annotator_mention_is_never_the_display_label():
    from kgqa.linking import Label, Term
    from kgqa.types import ValueKind

    from .conftest import concept

    iri = "http://purl.bioontology.org/ontology/ICD10CM/"
    lk = Linker.from_terms({
        "icd": [Term("ICD10CM:C62.90", iri + "C62.90", (Label("Malignant neoplasm of testis", "en", "pref"),))],
        "learned": [Term("ICD10CM:C62.90", iri + "C62.90", (Label("masa vejiga", "es", "learned", 3),)),
                    Term("ICD10CM:X99", iri + "X99", (Label("masa rara", "es", "learned", 1),))],
    })
    (link,) = lk.link("masa vejiga", concept(ValueKind.TEXT), "es")[:1]
    assert link.label == "Malignant neoplasm of testis" and link.matched == "masa vejiga"
    (link,) = lk.link("masa rara", concept(ValueKind.TEXT), "es")[:1]
    assert link.label == ""  # known only by an annotator's mention: no label rather than a misleading one
