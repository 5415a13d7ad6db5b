"""RdfBuilder: the graphs of fixture facts, their determinism, and the evidence-only rules."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from rdflib import RDF, BNode, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic

from kgqa.errors import CatalogueError, ConfigError, RecordError
from kgqa.rdf import KGQA, OA, RESQ, SCDM, RdfBuilder, RdfConfig, read_dataset, serialise
from kgqa.types import Answer, Assertion, Fact, Value, ValueKind, ValueStatus

from .rdf_factories import (
    CONCEPTS,
    EXPECTED_TRIG,
    NOTE_A,
    NOTE_B,
    RUN,
    TEST_ENV,
    build_graphs,
    fact,
    facts_a,
    facts_b,
)


def _diff_text(expected, actual) -> str:
    """Readable diff of two graphs: the triples only one side has, as N-Triples, sorted."""
    _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))

    def lines(g):
        return sorted(f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in g)

    return "\n".join(
        ["missing (expected, not built):", *map("  - {}".format, lines(only_expected)),
         "unexpected (built, not expected):", *map("  + {}".format, lines(only_actual))]
    )


def test_graphs_match_the_expected_trig(graphs):
    expected = read_dataset(EXPECTED_TRIG)
    expected_ids = {g.identifier for g in expected.graphs() if len(g)}
    assert expected_ids == {g.identifier for g in graphs}
    for graph in graphs:
        want = expected.graph(graph.identifier)
        assert to_isomorphic(want) == to_isomorphic(graph), (
            f"graph {graph.identifier} differs from {EXPECTED_TRIG.name} "
            f"(regenerate with `python tests/rdf/rdf_factories.py` if the change is deliberate):\n"
            + _diff_text(want, graph)
        )


def test_same_input_and_config_give_byte_identical_output(builder):
    again = RdfBuilder(RdfConfig(), CONCEPTS, environ=TEST_ENV)
    for fmt in ("trig", "nquads", "json-ld"):
        assert serialise(build_graphs(builder), fmt) == serialise(build_graphs(again), fmt)


def test_no_blank_nodes(graphs):
    assert not [t for g in graphs for t in g if any(isinstance(n, BNode) for n in t)]


def test_one_named_graph_per_note_and_one_per_run(builder, graphs):
    ids = [str(g.identifier) for g in graphs]
    assert len(set(ids)) == len(ids) == 4
    assert ids[-1] == str(builder.iris.run_graph(RUN.run_id))
    assert all("/graph/note/" in i for i in ids[:-1])


def _fact_node(graph, concept_id: str) -> URIRef:
    nodes = [s for s in graph.subjects(RDF.type, KGQA.Fact) if f"/{concept_id}/" in str(s)]
    assert len(nodes) == 1, nodes
    return nodes[0]


@pytest.mark.parametrize(
    "concept_id, asserted, status, assertion",
    [
        ("age", True, KGQA.Ok, KGQA.Present),
        ("nihss_score", False, KGQA.Rejected, KGQA.Present),  # 55 > 42
        ("thrombolysis", False, KGQA.Ok, KGQA.Negated),  # "No thrombolysis"
        ("prestroke_mrs", True, KGQA.Ok, KGQA.Present),
    ],
)
def test_only_present_ok_facts_enter_the_domain_layer(builder, concept_id, asserted, status, assertion):
    g = builder.note_graph(NOTE_B, facts_b(), RUN)
    node = _fact_node(g, concept_id)
    case = builder.iris.case(NOTE_B.case_id)
    assert ((case, SCDM.hasPart, node) in g) is asserted
    assert g.value(node, KGQA.asserted).toPython() is asserted
    assert g.value(node, KGQA.valueStatus) == status
    assert g.value(node, KGQA.assertionStatus) == assertion
    domain_types = set(g.objects(node, RDF.type)) - {KGQA.Fact}
    assert bool(domain_types) is asserted


def test_rejected_value_keeps_its_reason_and_value_as_evidence(builder):
    g = builder.note_graph(NOTE_B, facts_b(), RUN)
    node = _fact_node(g, "nihss_score")
    assert g.value(node, KGQA.rejectionReason) == Literal("55 is above the maximum 42 of nihss_score")
    assert g.value(node, KGQA.value) == Literal(55)
    assert (node, SCDM.hasObservableValue, None) not in g
    assert (node, RDF.type, RESQ.AdmissionExaminationNIHSS) not in g


@pytest.mark.parametrize("assertion", [a for a in Assertion if a is not Assertion.PRESENT])
def test_every_non_present_assertion_stays_out_of_the_domain_layer(builder, assertion):
    f = fact(NOTE_A, "risk_hypertension", "hypertension", Value(ValueKind.BOOLEAN, True, assertion=assertion))
    g = builder.note_graph(NOTE_A, [f], RUN)
    assert (None, SCDM.hasPart, None) not in g
    assert (None, SCDM.representsSituation, None) not in g
    assert g.value(_fact_node(g, "risk_hypertension"), KGQA.assertionStatus).endswith(assertion.value.capitalize())


def test_derived_fact_points_at_its_sources(builder):
    g = builder.note_graph(NOTE_A, facts_a(), RUN)
    derived = _fact_node(g, "door_to_needle")
    sources = set(g.objects(derived, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")))
    assert _fact_node(g, "hospital_timestamp") in sources
    assert _fact_node(g, "bolus_timestamp") in sources
    assert builder.iris.note(NOTE_A.id) in sources
    assert (None, OA.hasBody, derived) not in g  # no span, so no annotation


def test_link_candidates_keep_rank_and_score(builder):
    g = builder.note_graph(NOTE_A, facts_a(), RUN)
    node = _fact_node(g, "discharge_antiplatelet")
    ann = g.value(predicate=OA.hasBody, object=node)
    cands = sorted(g.objects(ann, KGQA.linkCandidate), key=lambda c: g.value(c, KGQA.rank).toPython())
    assert [str(g.value(c, KGQA.term)) for c in cands] == [
        "http://www.semanticweb.org/catimc/resqplus#PrescriptionOfASA",
        "http://snomed.info/id/7947003",
    ]
    assert [float(g.value(c, KGQA.score).toPython()) for c in cands] == [0.93, 0.71]


# ------------------------------------------------------------------ IRIs and pseudonyms


def _all_text(graphs) -> str:
    return "\n".join(str(n) for g in graphs for t in g for n in t) + "\n".join(str(g.identifier) for g in graphs)


def test_patient_ids_are_pseudonymised_everywhere(graphs):
    assert "patient-00" not in _all_text(graphs)


def test_pseudonyms_depend_on_the_key():
    a = RdfBuilder(RdfConfig(), CONCEPTS, environ={"KGQA_PSEUDONYM_KEY": "one"}).iris.case("patient-001")
    b = RdfBuilder(RdfConfig(), CONCEPTS, environ={"KGQA_PSEUDONYM_KEY": "two"}).iris.case("patient-001")
    assert a != b and "patient" not in a


def test_ids_can_be_kept():
    kept = RdfBuilder(RdfConfig(pseudonymise=False), CONCEPTS, environ={})
    assert str(kept.iris.case("patient 001/ä")) == "https://kgqa.example.org/id/case/patient%20001%2F%C3%A4"


def test_missing_key_names_the_environment_variable():
    with pytest.raises(ConfigError, match="KGQA_PSEUDONYM_KEY"):
        RdfBuilder(RdfConfig(), CONCEPTS, environ={})


def test_pseudonymised_note_ids_leave_no_trace():
    b = RdfBuilder(RdfConfig(pseudonymise_notes=True), CONCEPTS, environ=TEST_ENV)
    text = _all_text(build_graphs(b))
    assert "note-A" not in text and "note-B" not in text


@pytest.mark.parametrize("base", ["", "relative/", "https://x.org/no-slash", "https://x.org/a b/"])
def test_bad_base_iri_is_a_config_error(base):
    with pytest.raises(ConfigError, match="rdf.base_iri"):
        RdfBuilder(RdfConfig(base_iri=base), CONCEPTS, environ=TEST_ENV)


# ------------------------------------------------------------------ errors


def test_negative_quote_context_is_a_config_error():
    with pytest.raises(ConfigError, match="rdf.quote_context"):
        RdfBuilder(RdfConfig(quote_context=-1), CONCEPTS, environ=TEST_ENV)


def test_answer_that_does_not_slice_its_note_is_refused(builder):
    bad = Answer(note_id=NOTE_A.id, concept_id="age", start=0, end=2, text="71", score=1.0, null_score=0.0,
                 confidence=0.5)
    with pytest.raises(RecordError, match="does not slice"):
        builder.note_graph(NOTE_A, [Fact(NOTE_A.id, "age", Value(ValueKind.INTEGER, 71), answer=bad)], RUN)


def test_fact_of_another_note_is_refused(builder):
    with pytest.raises(RecordError, match="belongs to note"):
        builder.note_graph(NOTE_B, facts_a()[:1], RUN)


def test_unknown_concept_names_the_note_and_concept(builder):
    stray = Fact(NOTE_A.id, "nope", Value(ValueKind.INTEGER, 1), derived_from=("age",))
    with pytest.raises(CatalogueError, match="'nope'.*not in the catalogue"):
        builder.note_graph(NOTE_A, [stray], RUN)


def test_bad_target_class_names_the_concept_and_field():
    broken = dataclasses.replace(CONCEPTS[0], target_class="nosuchprefix:Thing")
    with pytest.raises(CatalogueError, match="concept 'age' field 'target_class'"):
        RdfBuilder(RdfConfig(), [broken], environ=TEST_ENV)


def test_time_of_day_is_placed_on_the_admission_date(builder):
    f = fact(NOTE_A, "hospital_timestamp", "10:40", Value(ValueKind.TIME, dt.time(10, 40)))
    g = builder.note_graph(NOTE_A, [f], RUN)
    values = list(g.objects(None, URIRef("http://purl.org/biotop/btl2.owl#hasValue")))
    assert values == [Literal("2026-03-01T10:40:00", datatype=URIRef("http://www.w3.org/2001/XMLSchema#dateTime"))]


def test_unparsed_value_is_evidence_with_reason(builder):
    f = fact(NOTE_A, "age", "71", Value(ValueKind.INTEGER, None, status=ValueStatus.UNPARSED, reason="no digits"))
    g = builder.note_graph(NOTE_A, [f], RUN)
    node = _fact_node(g, "age")
    assert g.value(node, KGQA.valueStatus) == KGQA.Unparsed
    assert g.value(node, KGQA.rejectionReason) == Literal("no digits")
    assert (None, SCDM.hasPart, None) not in g


def test_value_read_from_part_of_the_span_is_a_refinement(builder):
    # the reader answered "BP 185/115"; the value 185 was read from "185" inside it
    start = NOTE_A.text.index("BP 185/115")
    value = Value(ValueKind.INTEGER, 185, source_start=start + 3, source_end=start + 6)
    f = fact(NOTE_A, "systolic_pressure", "BP 185/115", value)
    g = builder.note_graph(NOTE_A, [f], RUN)
    (position,) = [s for s in g.subjects(RDF.type, OA.TextPositionSelector) if (s, OA.refinedBy, None) in g]
    refined = g.value(position, OA.refinedBy)
    span = NOTE_A.text[g.value(position, OA.start).toPython():g.value(position, OA.end).toPython()]
    assert span == "BP 185/115"
    assert span[g.value(refined, OA.start).toPython():g.value(refined, OA.end).toPython()] == "185"


@pytest.mark.parametrize("offsets", [(0, 2), None])
def test_value_offsets_outside_or_equal_to_the_span_add_no_refinement(builder, offsets):
    f = fact(NOTE_A, "age", "71", Value(ValueKind.INTEGER, 71))
    start, end = offsets or (f.answer.start, f.answer.end)
    f = dataclasses.replace(f, value=dataclasses.replace(f.value, source_start=start, source_end=end))
    g = builder.note_graph(NOTE_A, [f], RUN)
    assert (None, OA.refinedBy, None) not in g


def test_an_unmasked_secret_never_reaches_the_run_graph(builder):
    run = dataclasses.replace(RUN, config_yaml="store:\n  password: hunter2\n  username: bob\n")
    text = " ".join(str(o) for o in builder.run_graph(run, []).objects(None, KGQA.configYaml))
    assert "hunter2" not in text and "password: '***'" in text and "username: bob" in text
