"""The closed DefinedNamespace KGQA agrees with ontologies/kgqa.ttl, and shapes use only defined terms."""

from __future__ import annotations

import re

import pytest
from rdflib import OWL, RDF, RDFS, Graph, URIRef

from kgqa import PROJECT_ROOT
from kgqa.rdf import KGQA
from kgqa.rdf.vocab import OA

NS = str(KGQA._NS)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(PROJECT_ROOT / "ontologies" / "kgqa.ttl", format="turtle")


def _declared(ontology: Graph) -> set[str]:
    return {str(s)[len(NS):] for s in ontology.subjects() if isinstance(s, URIRef) and str(s).startswith(NS)}


def test_namespace_and_ontology_declare_the_same_terms(ontology):
    in_code = set(KGQA.__annotations__)
    in_ttl = _declared(ontology)
    assert in_code - in_ttl == set(), "terms in kgqa.rdf.vocab.KGQA missing from kgqa.ttl"
    assert in_ttl - in_code == set(), "terms in kgqa.ttl missing from kgqa.rdf.vocab.KGQA"


def test_every_term_is_typed_and_labelled(ontology):
    for name in KGQA.__annotations__:
        term = KGQA[name]
        assert set(ontology.objects(term, RDF.type)), f"kgqa:{name} has no rdf:type"
        assert ontology.value(term, RDFS.label) is not None, f"kgqa:{name} has no rdfs:label"


def test_classes_and_properties_are_told_apart(ontology):
    for name in KGQA.__annotations__:
        types = set(ontology.objects(KGQA[name], RDF.type))
        is_property = bool(types & {OWL.ObjectProperty, OWL.DatatypeProperty})
        assert is_property == name[0].islower(), f"kgqa:{name}: lower-case names are properties, capitalised not"


def test_namespace_is_closed():
    with pytest.raises(AttributeError):
        KGQA.confidense  # noqa: B018 — a typo must fail, not mint a new IRI
    with pytest.raises(AttributeError):
        OA.hasBodyy  # noqa: B018


@pytest.mark.parametrize("path", ["ontologies/shapes.ttl", "kgqa/rdf/builder.py"])
def test_files_use_only_defined_kgqa_terms(path):
    text = (PROJECT_ROOT / path).read_text(encoding="utf-8")
    used = set(re.findall(r"\bkgqa[:.]([A-Za-z][A-Za-z0-9]*)\b", text)) - {"rdf", "types", "errors"}
    assert used, "no kgqa terms found: the pattern is wrong"
    assert used <= set(KGQA.__annotations__) | {"vocab", "mapping", "iris", "literals", "config"}
