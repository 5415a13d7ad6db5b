"""Every concept of the shipped RES-Q catalogue builds into a graph that conforms to the shapes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rdflib import RDF, Literal

from kgqa import PROJECT_ROOT
from kgqa.catalogue import load_catalogue
from kgqa.rdf import KGQA, SCDM, RdfBuilder, RdfConfig
from kgqa.rdf.validation import validate_graph
from kgqa.types import Answer, Concept, Fact, Link, Note, Value, ValueKind

from .rdf_factories import RUN

CATALOGUE = PROJECT_ROOT / "kgqa" / "resources" / "catalogue" / "resq.yaml"
#: concepts whose published RES-Q shape asks for more than the catalogue gives (reported to its owner):
#: Door2GroinTimeShape requires scdm:representsProcedure, which the mapping never writes
KNOWN_CATALOGUE_GAPS: set[str] = set()


#: a drug linked to the ATC source, for drug concepts without an enumeration (discharge_other_drugs)
ICD_LINK = Link(iri="http://purl.bioontology.org/ontology/ICD10CM/E11", label="diabetes", score=0.8, source="icd10cm")
ATC_LINK = Link(iri="http://purl.bioontology.org/ontology/ATC/B01AF02", label="apixaban", score=0.9, source="drugs")


def _value(c: Concept) -> Value:
    k = c.kind
    if k in (ValueKind.ENUM, ValueKind.DRUG):
        if not c.members:
            return Value(k, "apixaban")
        m = c.members[0]
        return Value(k, m.id, member_iri=m.iri)
    return {
        ValueKind.INTEGER: lambda: Value(k, int(c.minimum) if c.minimum is not None else 1),
        ValueKind.DECIMAL: lambda: Value(k, Decimal(str(c.minimum if c.minimum is not None else 1))),
        ValueKind.DATETIME: lambda: Value(k, dt.datetime(2026, 1, 1, 10, 0)),
        ValueKind.DATE: lambda: Value(k, dt.date(2026, 1, 2)),
        ValueKind.TIME: lambda: Value(k, dt.time(10, 0)),
        ValueKind.DURATION: lambda: Value(k, 30),
        ValueKind.BOOLEAN: lambda: Value(k, True),
        ValueKind.TEXT: lambda: Value(k, "x"),
    }[k]()


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(CATALOGUE)


@pytest.fixture(scope="module")
def one_fact_per_concept(catalogue):
    builder = RdfBuilder(RdfConfig(), catalogue, environ={"KGQA_PSEUDONYM_KEY": "k"})
    note = Note(id="n1", text="The value is 5 here, and more text follows." * 2, lang="en", patient_id="p1",
                admission_date=dt.date(2026, 1, 1))
    facts = []
    for i, concept in enumerate(catalogue):
        start = i % 60
        answer = Answer.from_note(note, concept.id, start, start + 1, score=1.0, null_score=0.0, confidence=0.5)
        # concepts without an enumeration state their linked term (ATC drug, ICD-10 comorbidity)
        links = {ValueKind.DRUG: (ATC_LINK,), ValueKind.TEXT: (ICD_LINK,)}.get(concept.kind, ()) if not concept.members else ()
        facts.append(Fact(note.id, concept.id, _value(concept), answer=answer, links=links))
    return builder, [builder.note_graph(note, facts, RUN), builder.run_graph(RUN, [note])]


def test_every_concept_is_asserted_with_its_class(catalogue, one_fact_per_concept):
    builder, (g, _) = one_fact_per_concept
    assert not list(g.subjects(KGQA.asserted, Literal(False)))
    for concept in catalogue:
        mapping = builder.mappings[concept.id]
        facts = [s for s in g.subjects(RDF.type, mapping.node_class) if f"/{concept.id}/" in str(s)]
        assert len(facts) == 1, concept.id
        assert (None, SCDM.hasPart, facts[0]) in g


def test_catalogue_output_conforms(one_fact_per_concept, resq_shapes):
    _, graphs = one_fact_per_concept
    report = validate_graph(graphs, RdfConfig(resq_shapes=str(resq_shapes)))
    unexpected = [f for f in report.violations if not any(f"/{c}/" in f.focus for c in KNOWN_CATALOGUE_GAPS)]
    assert not unexpected, report.render()
    assert not report.incomplete  # stroke type and arrival time are among the facts
