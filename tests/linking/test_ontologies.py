"""The committed term sources (ontologies/): the default linker, the catalogue's vocabulary, every source."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgqa.linking import Linker, LinkerConfig
from kgqa.linking.sources import read_manifest
from kgqa.types import ValueKind

from .conftest import concept

ONTOLOGIES = Path(__file__).parents[2] / "ontologies"
ALL_SOURCES = ["resq", "drugs", "conditions", "icd10cm", "doid", "mondo", "hpo", "codiesp"]


@pytest.fixture(scope="module")
def default_linker(tmp_path_factory) -> Linker:
    return Linker.from_config(LinkerConfig(ontology_dir=str(ONTOLOGIES), cache_dir=str(tmp_path_factory.mktemp("c"))))


def test_manifest_lists_every_committed_source():
    specs = read_manifest(ONTOLOGIES / "sources.yaml")
    assert sorted(specs) == sorted(ALL_SOURCES)
    for spec in specs.values():
        for path in spec.paths(ONTOLOGIES):
            assert path.is_file(), f"{spec.name}: {path} is not committed"


def test_default_linker_indexes_resq_vocabulary_and_drugs(default_linker):
    import rdflib
    from rdflib.namespace import RDF, SKOS

    index = default_linker.index
    assert index.sources == ["resq", "drugs", "conditions"]
    graph = rdflib.Graph().parse(ONTOLOGIES / "resq-vocab.ttl")
    schemes = set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    assert schemes
    for scheme in schemes:  # each scheme, as a catalogue scope, selects exactly its concepts
        members = set(graph.subjects(SKOS.inScheme, scheme))
        mask = index.scope_mask((str(scheme),))
        assert {index.term_iri[t] for t in mask.nonzero()[0]} == {str(m) for m in members}, scheme


def test_catalogue_drug_concept_links_brand_to_member(default_linker):
    from kgqa.catalogue import load_catalogue

    catalogue = load_catalogue(Path(__file__).parents[2] / "kgqa" / "resources" / "catalogue" / "resq.yaml")
    drug_concepts = [c for c in catalogue if c.kind is ValueKind.DRUG and any("alteplase" in m.id for m in c.members)]
    if not drug_concepts:
        pytest.skip("the catalogue has no drug concept with an alteplase member")
    c = drug_concepts[0]
    alteplase = next(m for m in c.members if "alteplase" in m.id)
    for text, lang in [("Actilyse 0,9 mg/kg", "cs"), ("алтеплаза", "bg"), ("alteplasa", "es"), ("rt-PA", "en")]:
        links = default_linker.link(text, c, lang)
        assert links and links[0].iri == alteplase.iri, (text, lang)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text, lang, scope, expected",
    [
        ("cerebral infarction, unspecified", "en", ("icd10cm",), "ICD10CM:I63.9"),
        ("Hemiparesia", "es", ("hpo",), "HP:0001269"),  # HPO Spanish babelon
        ("slabost jedne strany tela", "cs", ("hpo",), "HP:0001269"),  # HPO Czech synonyms, diacritics dropped
        ("atrial fibrillation", "en", ("doid",), "DOID:0060224"),
        ("ischemic stroke", "en", ("mondo",), "MONDO:1060198"),
        ("fibrilación auricular", "es", ("codiesp",), "ICD10CM:I48.91"),  # learned synonym
        ("Xarelto 20 mg", "pl", ("drugs",), "ATC:B01AF01"),
    ],
)
def test_every_source_loads_and_links(tmp_path_factory, text, lang, scope, expected):
    linker = _all_sources(tmp_path_factory)
    links = linker.link(text, concept(ValueKind.TEXT, scope=scope), lang)
    assert links and links[0].term_id == expected


_CACHE: dict = {}


def _all_sources(tmp_path_factory) -> Linker:
    if "linker" not in _CACHE:
        cfg = LinkerConfig(sources=ALL_SOURCES, ontology_dir=str(ONTOLOGIES), cache_dir=str(tmp_path_factory.mktemp("all")))
        _CACHE["linker"] = Linker.from_config(cfg)
    return _CACHE["linker"]


def test_learned_synonyms_are_built_from_train_only(shared_data):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_ontologies", Path(__file__).parents[2] / "scripts" / "build_ontologies.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    rows = build.learned_from_codiesp(shared_data / "codiesp" / "train" / "trainX.tsv")
    committed = (ONTOLOGIES / "learned" / "codiesp-train-diagnoses.tsv").read_text(encoding="utf-8")
    assert len(rows) == sum(1 for line in committed.splitlines() if line and not line.startswith("#")) - 1
    dev_only = {r[2] for r in build.learned_from_codiesp(shared_data / "codiesp" / "dev" / "devX.tsv")} - {r[2] for r in rows}
    assert dev_only and not any(f"\t{text}\t" in committed for text in list(dev_only)[:200])
