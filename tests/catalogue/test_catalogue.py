"""The RES-Q PLUS catalogue: loads, is complete in 7 languages, and stays faithful to the SCDM mappings."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from kgqa import PROJECT_ROOT
from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue, parse_catalogue, vocabulary_graph
from kgqa.errors import CatalogueError
from kgqa.types import LANGUAGES, ValueKind

LANGUAGE_NEUTRAL_SCHEMES = {"mtici"}  # "mTICI 2b" is written the same in every language


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(DEFAULT_CATALOGUE)


@pytest.fixture(scope="module")
def raw_doc():
    return yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))


def test_catalogue_has_at_least_100_concepts_with_unique_ids(catalogue):
    assert len(catalogue) >= 100
    assert len(set(catalogue.ids)) == len(catalogue)


def test_every_concept_has_questions_in_all_seven_languages(catalogue):
    missing = [(c.id, lang) for c in catalogue for lang in LANGUAGES if not c.questions.get(lang)]
    assert missing == []
    # a question is a question: ends with "?" (Greek uses ";")
    bad = [
        (c.id, q)
        for c in catalogue
        for qs in c.questions.values()
        for q in qs
        if not q.rstrip().endswith(("?", ";"))
    ]
    assert bad == []


def test_enum_members_have_labels_in_all_languages(catalogue):
    missing = []
    for c in catalogue:
        scheme = c.scope[0].rsplit("#", 1)[-1] if c.scope else ""
        for m in c.members:
            if scheme in LANGUAGE_NEUTRAL_SCHEMES and "en" in m.labels:
                continue
            missing += [(c.id, m.id, lang) for lang in LANGUAGES if not m.labels.get(lang)]
    assert missing == []


@pytest.mark.parametrize(
    "concept_id",
    [
        "age",
        "sex",
        "onset_timestamp",
        "hospital_timestamp",
        "arrival_mode",
        "nihss_score",
        "prestroke_mrs",
        "gcs_score",
        "glucose",
        "systolic_pressure",
        "diastolic_pressure",
        "cholesterol",
        "aspects_score",
        "imaging_type",
        "stroke_type",
        "risk_hypertension",
        "risk_atrial_fibrillation",
        "before_onset_warfarin",
        "thrombolysis",
        "ivt_drug",
        "ivt_drug_dose",
        "bolus_timestamp",
        "door_to_needle",
        "thrombectomy",
        "puncture_timestamp",
        "door_to_groin",
        "mtici_score",
        "post_stroke_complications",
        "swallowing_screening_done",
        "carotid_arteries_imaging",
        "carotid_stenosis_level",
        "stroke_etiology",
        "discharge_date",
        "discharge_destination",
        "discharge_mrs",
        "discharge_nihss_score",
        "discharge_clopidogrel",
    ],
)
def test_catalogue_covers_the_issue_variables(catalogue, concept_id):
    assert concept_id in catalogue


def test_kinds_units_and_members_are_consistent(catalogue):
    for c in catalogue:
        if c.kind is ValueKind.ENUM:
            assert c.members, c.id
            assert len({m.iri for m in c.members}) == len(c.members), c.id
        if c.kind is ValueKind.DURATION:
            assert c.unit == "minute", c.id
        if c.kind in (ValueKind.INTEGER, ValueKind.DECIMAL, ValueKind.DURATION):
            assert c.minimum is not None and c.maximum is not None, f"{c.id} needs a range"


def test_select_by_ids_and_groups_keeps_catalogue_order(catalogue):
    sub = catalogue.select(ids=["nihss_score", "age"], groups=["thrombolysis"])
    ids = sub.ids
    assert ids[:2] == ("age", "nihss_score")
    assert "door_to_needle" in ids and "thrombectomy" not in ids
    assert sub.digest != catalogue.digest
    assert catalogue.select() is catalogue


@pytest.mark.parametrize(
    "kwargs, needle", [({"ids": ["nihss"]}, "'nihss'"), ({"groups": ["labs"]}, "'labs'")]
)
def test_select_unknown_names_lists_the_valid_ones(catalogue, kwargs, needle):
    with pytest.raises(CatalogueError, match=needle) as info:
        catalogue.select(**kwargs)
    assert "valid" in str(info.value)


def test_get_unknown_concept_names_it(catalogue):
    with pytest.raises(CatalogueError, match="'no_such'"):
        catalogue.get("no_such")


def test_digest_is_stable_across_loads(catalogue):
    assert load_catalogue(DEFAULT_CATALOGUE).digest == catalogue.digest


def _broken(raw_doc, concept_id, **changes):
    doc = copy.deepcopy(raw_doc)
    entry = next(c for c in doc["concepts"] if c["id"] == concept_id)
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return doc


@pytest.mark.parametrize(
    "concept_id, changes, field",
    [
        ("nihss_score", {"kind": "number"}, "kind"),
        ("nihss_score", {"group": "labs"}, "group"),
        ("nihss_score", {"questions": None}, "questions"),
        ("nihss_score", {"questions": {"de": ["Wie hoch war der NIHSS?"]}}, "questions"),
        ("nihss_score", {"target_class": "foo:Bar"}, "target_class"),
        ("nihss_score", {"minimum": 50}, "minimum"),
        ("nihss_score", {"unit": "wibbles"}, "unit"),
        ("nihss_score", {"colour": "blue"}, "colour"),
        ("stroke_type", {"scheme": "no_such_scheme"}, "scheme"),
        ("stroke_type", {"members": ["ischemic", "martian"]}, "members"),
        ("stroke_type", {"minimum": 0}, "minimum"),
        ("stroke_type", {"scheme": None}, "scheme"),
        ("thrombolysis", {"datatype": "resq:NotADatatype"}, "datatype"),
        ("age", {"max_answer_tokens": 0}, "max_answer_tokens"),
    ],
)
def test_validation_errors_name_concept_and_field(raw_doc, concept_id, changes, field):
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(_broken(raw_doc, concept_id, **changes), source="resq.yaml")
    message = str(info.value)
    assert concept_id in message and field in message and "resq.yaml" in message


def test_duplicate_concept_id_is_an_error(raw_doc):
    doc = copy.deepcopy(raw_doc)
    doc["concepts"].append(copy.deepcopy(doc["concepts"][0]))
    with pytest.raises(CatalogueError, match="duplicate"):
        parse_catalogue(doc)


def test_unreadable_file_names_the_config_key(tmp_path):
    with pytest.raises(CatalogueError, match="catalogue.path"):
        load_catalogue(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("concepts: [", encoding="utf-8")
    with pytest.raises(CatalogueError, match="bad.yaml"):
        load_catalogue(bad)


def test_prefixed_names_are_expanded(catalogue):
    nihss = catalogue.get("nihss_score")
    assert nihss.target_class == "http://www.semanticweb.org/catimc/resqplus#AdmissionExaminationNIHSS"
    assert nihss.observable == "http://snomed.info/id/450743008"
    assert nihss.extra["result_of"] == "http://snomed.info/id/450742003"
    assert nihss.datatype == "http://www.w3.org/2001/XMLSchema#integer"


def test_committed_vocabulary_matches_the_catalogue(catalogue):
    from rdflib import Graph
    from rdflib.compare import graph_diff, isomorphic

    committed = Graph().parse(PROJECT_ROOT / "ontologies" / "resq-vocab.ttl", format="turtle")
    generated = vocabulary_graph(catalogue)
    if not isomorphic(committed, generated):
        _, only_committed, only_generated = graph_diff(committed, generated)
        pytest.fail(
            "ontologies/resq-vocab.ttl is stale; run `python -m kgqa.catalogue vocab`.\n"
            f"only in file: {sorted(only_committed)[:5]}\nonly generated: {sorted(only_generated)[:5]}"
        )


def test_the_vocab_command_writes_the_committed_file(tmp_path, capsys):
    from kgqa.commands.vocab import main

    out = tmp_path / "vocab.ttl"
    assert main(["vocab", str(DEFAULT_CATALOGUE), str(out)]) == 0
    assert out.read_bytes() == (PROJECT_ROOT / "ontologies" / "resq-vocab.ttl").read_bytes()
    assert f"to {out}" in capsys.readouterr().err
    assert main([]) == 2 and "usage" in capsys.readouterr().err


def test_every_member_iri_is_a_skos_concept_of_the_vocabulary(catalogue):
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF, SKOS

    g = Graph().parse(PROJECT_ROOT / "ontologies" / "resq-vocab.ttl", format="turtle")
    members = {m.iri for c in catalogue for m in c.members} | {
        c.extra["term"] for c in catalogue if "term" in c.extra
    }
    assert members
    assert [iri for iri in members if (URIRef(iri), RDF.type, SKOS.Concept) not in g] == []


def test_catalogue_config_points_at_the_data_file():
    from omegaconf import OmegaConf

    from kgqa.config import CatalogueConfig, register_configs

    register_configs()
    option = yaml.safe_load((PROJECT_ROOT / "conf/catalogue/resq.yaml").read_text(encoding="utf-8"))
    option.pop("defaults", None)
    cfg = OmegaConf.merge(OmegaConf.structured(CatalogueConfig), option)
    assert Path(cfg.path).resolve() == DEFAULT_CATALOGUE.resolve()
    assert len(load_catalogue(cfg.path).select(ids=cfg.concepts, groups=cfg.groups)) >= 100


def test_every_concept_has_a_display_label(catalogue):
    labels = [c.extra.get("label") for c in catalogue]
    assert all(isinstance(label, str) and label for label in labels)
    assert len(set(labels)) == len(labels)  # a report table must tell concepts apart


def test_drug_terms_have_broader_classes_in_the_vocabulary(catalogue):
    from rdflib import URIRef
    from rdflib.namespace import SKOS

    drugs = catalogue.vocabulary.scheme("drug")
    assert drugs.term("clopidogrel").broader == ("any_antiplatelet",)
    assert {t.key for t in drugs.narrower("any_anticoagulant")} >= {"apixaban", "warfarin", "other_anticoagulant"}
    assert drugs.narrower("apixaban") == ()
    g = vocabulary_graph(catalogue)
    clopidogrel, antiplatelet = URIRef(drugs.term("clopidogrel").iri), URIRef(drugs.term("any_antiplatelet").iri)
    assert (clopidogrel, SKOS.broader, antiplatelet) in g
    assert (antiplatelet, SKOS.narrower, clopidogrel) in g
    # a narrower term is no top concept of its scheme
    assert (clopidogrel, SKOS.topConceptOf, URIRef(drugs.iri)) not in g


def test_narrower_follows_broader_at_any_depth(raw_doc):
    doc = copy.deepcopy(raw_doc)
    terms = doc["vocabulary"]["schemes"]["drug"]["concepts"]
    terms["other_anticoagulant"]["broader"] = "any_anticoagulant"
    terms["heparin"]["broader"] = ["other_anticoagulant"]
    scheme = parse_catalogue(doc).vocabulary.scheme("drug")
    assert "heparin" in {t.key for t in scheme.narrower("any_anticoagulant")}
    assert [t.key for t in scheme.narrower("other_anticoagulant")] == ["heparin"]


@pytest.mark.parametrize("broader", ["no_such_drug", "apixaban", ["asa", 3]])
def test_broader_must_name_other_terms_of_the_scheme(raw_doc, broader):
    doc = copy.deepcopy(raw_doc)
    doc["vocabulary"]["schemes"]["drug"]["concepts"]["apixaban"]["broader"] = broader
    with pytest.raises(CatalogueError, match=r"scheme 'drug'.*(term 'apixaban'|broader)"):
        parse_catalogue(doc)


def test_concepts_about_one_term_know_its_names_and_its_rivals(catalogue):
    clopidogrel = catalogue.get("discharge_clopidogrel")
    assert {"clopidogrel", "plavix", "клопидогрел"} <= set(clopidogrel.term_names)
    assert {"apixaban", "aspirin", "antiplatelet"} <= set(clopidogrel.rival_term_names)
    antiplatelet = catalogue.get("discharge_any_antiplatelet")
    # the agents under "any antiplatelet" are its own names, not rivals
    assert {"clopidogrel", "aspirin"} <= set(antiplatelet.term_names)
    assert "clopidogrel" not in antiplatelet.rival_term_names and "apixaban" in antiplatelet.rival_term_names
    assert catalogue.get("nihss_score").rival_term_names == ()
