"""SHACL: fixture output conforms to both shape sets; broken facts are reported; missing mandatory
facts make a case incomplete, not invalid."""

from __future__ import annotations

import pytest
from rdflib import RDF, BNode, Literal, URIRef

from kgqa.rdf import KGQA, OA, SCDM, RdfConfig
from kgqa.rdf.validation import load_shape_sets, validate_graph
from kgqa.types import Value, ValueKind

from .rdf_factories import NOTE_A, RUN, fact, facts_a

BTL2_HAS_VALUE = URIRef("http://purl.org/biotop/btl2.owl#hasValue")


@pytest.fixture
def cfg(resq_shapes) -> RdfConfig:
    return RdfConfig(resq_shapes=str(resq_shapes))


def _messages(report) -> list[str]:
    return [f"{f.shapes}: {f.message}" for f in report.violations]


def test_fixture_output_conforms_to_both_shape_sets(graphs, cfg):
    report = validate_graph(graphs, cfg)
    assert report.shape_sets == ("resq", "kgqa", "review")
    assert report.conforms, report.render()
    assert report.triples == len({t for g in graphs for t in g})  # the union: shared triples once


def test_cases_without_mandatory_facts_are_incomplete_not_invalid(builder, graphs, cfg):
    report = validate_graph(graphs, cfg)
    # notes B and C state no stroke type and no arrival time; note A states both
    incomplete = {c.case: c.missing for c in report.incomplete}
    case_b = str(builder.iris.case("patient-002"))
    case_a = str(builder.iris.case("patient-001"))
    assert any(case_b in k for k in incomplete)
    assert not any(case_a in k for k in incomplete)
    assert all(set(m) == {"resq:StrokeType", "resq:TimeArrivalToHospital"} for m in incomplete.values())
    assert "incomplete case" in report.render()
    assert {c.notes for c in report.incomplete} == {("note-B",), ("note-C",)}


def test_out_of_range_value_asserted_as_ok_is_a_resq_violation(builder, cfg):
    # a values stage that failed to reject NIHSS 55 would write this; the RES-Q shape must catch it
    broken = fact(NOTE_A, "nihss_score", "14", Value(ValueKind.INTEGER, 55))
    g = builder.note_graph(NOTE_A, [*(f for f in facts_a() if f.concept_id != "nihss_score"), broken], RUN)
    report = validate_graph([g, builder.run_graph(RUN, [NOTE_A])], cfg)
    assert not report.conforms
    assert "resq: NIHSS is out of range" in _messages(report)
    (finding,) = [f for f in report.violations if "NIHSS" in f.message]
    assert finding.path == "scdm:hasObservableValue/btl2:hasValue" and finding.value == '"55"^^xsd:integer'
    assert "nihss_score" in finding.focus


@pytest.mark.parametrize(
    "break_it, expected",
    [
        # a negated fact sneaking into the domain layer
        (lambda g, b: g.add((b.iris.case("patient-002"), SCDM.hasPart, _fact(g, "thrombolysis"))),
         "must not be part of a clinical case"),
        # confidence outside [0, 1]
        (lambda g, b: (g.remove((_ann(g, "age"), KGQA.confidence, None)),
                       g.add((_ann(g, "age"), KGQA.confidence, Literal("1.5", datatype=_dec())))),
         "Calibrated confidence"),
        # a rejected value that lost its reason
        (lambda g, b: g.remove((_fact(g, "nihss_score"), KGQA.rejectionReason, None)),
         "must carry its kgqa:rejectionReason"),
        # an annotation that lost its text-position selector
        (lambda g, b: g.remove((None, RDF.type, OA.TextPositionSelector)),
         "exactly one oa:TextPositionSelector"),
        # a negative offset
        (lambda g, b: [(g.remove((sel, OA.start, None)), g.add((sel, OA.start, Literal(-1))))
                       for sel in list(g.subjects(RDF.type, OA.TextPositionSelector))[:1]],
         "non-negative integer"),
        # a note whose digest is not a sha256
        (lambda g, b: g.add((b.iris.note("note-B"), KGQA.sha256, Literal("not-a-digest"))), "sha256"),
    ],
)
def test_broken_evidence_is_a_kgqa_violation(builder, graphs, cfg, break_it, expected):
    note_b = graphs[1]
    break_it(note_b, builder)
    report = validate_graph(graphs, cfg)
    assert not report.conforms
    assert any(f.shapes == "kgqa" and expected in f.message for f in report.violations), report.render()


def test_case_with_only_negated_facts_has_no_fact_at_all(builder, cfg):
    from .rdf_factories import NOTE_C, facts_c

    negated_only = [f for f in facts_c() if f.concept_id == "thrombolysis"]
    g = builder.note_graph(NOTE_C, negated_only, RUN)
    report = validate_graph([g, builder.run_graph(RUN, [NOTE_C])], cfg)
    assert report.conforms, report.render()
    ((case, missing),) = [(c.case, c.missing) for c in report.incomplete]
    assert str(builder.iris.case("patient-003")) in case
    assert "fact at all" in missing


def test_blank_nodes_are_reported(graphs, cfg):
    graphs[0].add((BNode(), RDF.type, KGQA.Note))
    report = validate_graph(graphs, cfg)
    assert any(f.component == "blank node" for f in report.violations)


def test_without_resq_shapes_kgqa_shapes_still_run(graphs, tmp_path):
    report = validate_graph(graphs, RdfConfig(resq_shapes=str(tmp_path / "absent.ttl")))
    assert report.shape_sets == ("kgqa", "review")
    assert report.skipped and "absent.ttl" in report.skipped[0]
    assert report.conforms and not report.incomplete


def test_missing_kgqa_shapes_is_a_config_error(tmp_path):
    from kgqa.errors import ConfigError

    with pytest.raises(ConfigError, match="rdf.kgqa_shapes"):
        load_shape_sets(RdfConfig(kgqa_shapes=str(tmp_path / "nope.ttl")))


def _fact(g, concept_id):
    (node,) = [s for s in g.subjects(RDF.type, KGQA.Fact) if f"/{concept_id}/" in str(s)]
    return node


def _ann(g, concept_id):
    return g.value(predicate=OA.hasBody, object=_fact(g, concept_id))


def _dec():
    return URIRef("http://www.w3.org/2001/XMLSchema#decimal")


def test_review_decisions_are_checked_by_their_own_shapes(graphs, cfg):
    """kgqa review writes decisions into the same store: `kgqa validate` checks them too."""
    from rdflib import URIRef

    from kgqa.review.vocab import KGQAR

    graphs[0].add((URIRef("https://example.org/decision/1"), RDF.type, KGQAR.Decision))  # no who, when, what
    report = validate_graph(graphs, cfg)
    assert not report.conforms
    assert any(f.shapes == "review" for f in report.violations), report.render()
