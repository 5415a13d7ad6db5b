"""Typed literals (a table) and the catalogue -> domain-shape mapping of every pattern (a table)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rdflib import RDF, Literal, Namespace, URIRef

from kgqa.errors import CatalogueError
from kgqa.rdf import BTL2, RESQ, SCDM, SCT, RdfBuilder, RdfConfig, mapping_for
from kgqa.rdf.literals import anchor_date, typed_literal
from kgqa.types import Answer, Concept, EnumMember, Fact, Note, Value, ValueKind

from .rdf_factories import RUN, TEST_ENV

# a plain (open) namespace: pytest's collection probes module attributes, which the closed XSD warns about
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
D = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    "value, datatype, expected",
    [
        (14, XSD.integer, Literal("14", datatype=XSD.integer)),
        (Decimal("14.0"), XSD.integer, Literal("14", datatype=XSD.integer)),
        (7.2, XSD.integer, Literal("7.2", datatype=XSD.decimal)),  # never truncated
        (7.2, XSD.decimal, Literal("7.2", datatype=XSD.decimal)),
        (Decimal("1E+2"), XSD.decimal, Literal("100.0", datatype=XSD.decimal)),
        (1e-7, XSD.decimal, Literal("0.0000001", datatype=XSD.decimal)),
        ("42", XSD.integer, Literal("42", datatype=XSD.integer)),
        ("forty", XSD.integer, None),
        (True, XSD.integer, None),
        (float("nan"), XSD.decimal, None),
        (dt.datetime(2026, 3, 1, 10, 40), XSD.dateTime, Literal("2026-03-01T10:40:00", datatype=XSD.dateTime)),
        (dt.time(10, 40), XSD.dateTime, Literal("2026-03-01T10:40:00", datatype=XSD.dateTime)),  # on admission day
        # a date-only answer for a date-time concept: typed as the RES-Q PLUS shapes require (issue 24)
        (D, XSD.dateTime, Literal("2026-03-01T00:00:00", datatype=XSD.dateTime)),
        (dt.datetime(2026, 3, 1, 10, 40), XSD.date, Literal("2026-03-01", datatype=XSD.date)),
        (dt.time(9, 5), XSD.time, Literal("09:05:00", datatype=XSD.time)),
        ("x", XSD.date, None),
        (False, XSD.boolean, Literal("false", datatype=XSD.boolean)),
        ("2b", XSD.string, Literal("2b")),
        (None, XSD.integer, None),
    ],
)
def test_typed_literal(value, datatype, expected):
    assert typed_literal(value, datatype, admission_date=D) == expected


def test_time_without_admission_date_stays_a_time():
    assert typed_literal(dt.time(10, 40), XSD.dateTime) == Literal("10:40:00", datatype=XSD.time)


@pytest.mark.parametrize(
    "admission, dated, expected",
    [
        (D, {"hospital_timestamp": dt.datetime(2026, 3, 2, 8, 0)}, D),  # the configured admission date wins
        (None, {"hospital_timestamp": dt.datetime(2026, 3, 2, 8, 0)}, dt.date(2026, 3, 2)),
        (None, {"hospital_timestamp": dt.date(2026, 3, 2), "onset_timestamp": dt.date(2026, 3, 1)}, dt.date(2026, 3, 2)),
        (None, {"hospital_timestamp": dt.time(8, 0), "onset_timestamp": dt.datetime(2026, 3, 1, 23, 0)}, dt.date(2026, 3, 1)),
        (None, {"hospital_timestamp": dt.time(8, 0), "bolus_timestamp": dt.datetime(2026, 3, 1, 9, 0)}, None),
        (None, {}, None),
    ],
)
def test_anchor_date_is_the_notes_own_arrival_date(admission, dated, expected):
    assert anchor_date(admission, dated) == expected


def test_bare_times_are_anchored_on_the_notes_arrival_date(builder):
    """No admission date configured, but the note states its arrival date: the bolus time goes on it."""
    from .rdf_factories import fact

    note = Note(id="n-anchor", text="Arrived 2026-03-04 10:40. Alteplase bolus at 11:15.", lang="en", patient_id="p")
    facts = [
        fact(note, "hospital_timestamp", "2026-03-04 10:40", Value(ValueKind.DATETIME, dt.datetime(2026, 3, 4, 10, 40))),
        fact(note, "bolus_timestamp", "11:15", Value(ValueKind.DATETIME, dt.time(11, 15))),
    ]
    graph = builder.note_graph(note, facts, RUN)
    values = set(graph.objects(None, BTL2.hasValue))
    assert Literal("2026-03-04T11:15:00", datatype=XSD.dateTime) in values
    assert not [o for o in values if isinstance(o, Literal) and o.datatype == XSD.time]


# ------------------------------------------------------------------ patterns

NOTE = Note(id="n", text="The answer span is here.", lang="en", patient_id="p")


def _concept(kind, pattern, **kw) -> Concept:
    extra = {"pattern": pattern, "result_of": "sct:277132007", **kw.pop("extra", {})}
    return Concept(id="c", group="g", kind=kind, questions={"en": ("Q?",)}, target_class="resq:X", extra=extra, **kw)


def _graph(concept: Concept, value: Value):
    builder = RdfBuilder(RdfConfig(pseudonymise=False), [concept], environ=TEST_ENV)
    answer = Answer.from_note(NOTE, "c", 4, 10, score=1.0, null_score=0.0, confidence=0.5)
    g = builder.note_graph(NOTE, [Fact("n", "c", value, answer=answer)], RUN)
    fact = URIRef("https://kgqa.example.org/id/case/p/fact/n/c/4-10")
    case = URIRef("https://kgqa.example.org/id/case/p")
    return g, fact, case


def _node(kind: str, cls: str) -> URIRef:
    return URIRef(f"https://kgqa.example.org/id/case/p/{kind}/{cls}")


REASON = EnumMember(id="window", iri="rv:why-window", target_iri="resq:OutOfTimeWindow")
LOCATION = EnumMember(id="er", iri="rv:where-er", target_iri="sct:73770003")
TIMING = EnumMember(id="24h", iri="rv:when-24h", target_iri="sct:281380002",
                    extra={"procedure_context": "sct:385658003"})
GRADE = EnumMember(id="2b", iri="rv:mtici-2b", extra={"literal": "2B"})
STENOSIS = EnumMember(id="severe", iri="rv:st-severe", target_iri="resq:SevereCarotidStenosis")
TNK = EnumMember(id="tnk", iri="rv:drug-tnk", target_iri="sct:tnk", extra={"target_class": "resq:ThrombolysisAlteplase"})


@pytest.mark.parametrize(
    "concept, value, expected",
    [
        (_concept(ValueKind.ENUM, "reason", members=(REASON,)), Value(ValueKind.ENUM, "window"),
         {(SCDM.procedureReason, _node("reason", "resq-OutOfTimeWindow")),
          ("node-type", _node("reason", "resq-OutOfTimeWindow"), RESQ.OutOfTimeWindow)}),
        (_concept(ValueKind.ENUM, "location", members=(LOCATION,)), Value(ValueKind.ENUM, "er"),
         {(SCDM.representsLocation, _node("location", "sct-73770003")),
          ("node-type", _node("location", "sct-73770003"), SCT["73770003"])}),
        (_concept(ValueKind.ENUM, "procedure_temporal", members=(TIMING,), procedure="resq:NimodipineAdminProcedure"),
         Value(ValueKind.ENUM, "24h", member_iri="rv:when-24h"),
         {(SCDM.temporalContext, SCT["281380002"]), (SCDM.procedureContext, SCT["385658003"]),
          (SCDM.representsProcedure, _node("represented", "resq-NimodipineAdminProcedure"))}),
        (_concept(ValueKind.DECIMAL, "dosage", datatype="xsd:decimal"), Value(ValueKind.DECIMAL, Decimal("63.5")),
         {(SCDM.hasDosage, URIRef("https://kgqa.example.org/id/case/p/fact/n/c/4-10/value")),
          ("value", Literal("63.5", datatype=XSD.decimal))}),
        (_concept(ValueKind.ENUM, "observation", members=(GRADE,), observable="resq:mTICIScoreObservable",
                  extra={"member_value": "literal"}), Value(ValueKind.ENUM, "2b"),
         {(SCDM.hasObservable, RESQ.mTICIScoreObservable), ("value", Literal("2B"))}),
        (_concept(ValueKind.ENUM, "observation", members=(STENOSIS,),
                  extra={"member_value": "literal", "member_observable": True}), Value(ValueKind.ENUM, "severe"),
         {(SCDM.hasObservable, RESQ.SevereCarotidStenosis), ("value", Literal("severe"))}),
        (_concept(ValueKind.DRUG, "procedure", members=(TNK,)), Value(ValueKind.DRUG, "tnk"),
         {(SCDM.representsProcedure, _node("represented", "resq-ThrombolysisAlteplase")),
          ("node-type", _node("represented", "resq-ThrombolysisAlteplase"), RESQ.ThrombolysisAlteplase)}),
        (_concept(ValueKind.ENUM, "situation", members=(REASON,), extra={"interprets_observable": "sct:184100006"}),
         Value(ValueKind.ENUM, "window"),
         {(SCDM.representsSituation, RESQ.OutOfTimeWindow), (SCDM.interpretsObservable, SCT["184100006"])}),
    ],
    ids=["reason", "location", "procedure_temporal", "dosage", "member_literal", "member_observable",
         "member_class", "situation"],
)
def test_pattern_triples(concept, value, expected):
    g, fact, case = _graph(concept, value)
    assert (case, SCDM.hasPart, fact) in g
    assert (fact, RDF.type, RESQ.X) in g
    assert (fact, SCDM.isResultOf, _node("procedure", "sct-277132007")) in g
    for item in expected:
        if item[0] == "node-type":
            assert (item[1], RDF.type, item[2]) in g, item
        elif item[0] == "value":
            assert item[1] in set(g.objects(None, BTL2.hasValue)), item
        else:
            assert (fact, item[0], item[1]) in g, item


@pytest.mark.parametrize(
    "concept, match",
    [
        (_concept(ValueKind.INTEGER, "guess"), "'extra.pattern': 'guess' is not one of"),
        (_concept(ValueKind.BOOLEAN, "procedure", extra={"context": "done"}), "'extra.context': expected a mapping"),
        (_concept(ValueKind.INTEGER, "observation", observable="nope:1"), "field 'observable'"),
        (_concept(ValueKind.INTEGER, "observation", extra={"result_of": "http://x y"}), "field 'extra.result_of'"),
    ],
)
def test_mapping_errors_name_concept_and_field(concept, match):
    with pytest.raises(CatalogueError, match=match):
        mapping_for(concept)


@pytest.mark.parametrize(
    "kind, fields, pattern",
    [
        (ValueKind.INTEGER, {}, "observation"),
        (ValueKind.BOOLEAN, {"procedure": "sct:1"}, "procedure"),
        (ValueKind.DRUG, {}, "procedure"),
        (ValueKind.BOOLEAN, {"situation": "sct:1"}, "situation"),
        (ValueKind.ENUM, {}, "situation"),
    ],
)
def test_pattern_is_inferred_when_the_catalogue_names_none(kind, fields, pattern):
    concept = Concept(id="c", group="g", kind=kind, questions={"en": ("Q?",)}, target_class="resq:X", **fields)
    assert mapping_for(concept).pattern == pattern
