"""The domain layer: a fact as RES-Q PLUS triples, shaped by its concept's :class:`DomainMapping`.

Pure: no I/O. :class:`kgqa.rdf.builder.RdfBuilder` calls :meth:`DomainLayer.triples` for each fact
and writes the fact as evidence only when it returns None (see docs/rdf.md, "What enters the
domain layer").
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from rdflib import RDF, XSD, Literal, URIRef

from kgqa.rdf.iris import IriMinter
from kgqa.rdf.literals import typed_literal
from kgqa.rdf.mapping import (
    DEFAULT_DATATYPES,
    DOSAGE,
    LOCATION,
    PROCEDURE,
    PROCEDURE_TEMPORAL,
    REASON,
    SITUATION,
    TEMPORAL,
    DomainMapping,
    expand,
)
from kgqa.rdf.vocab import BTL2, SCDM
from kgqa.types import Assertion, Concept, EnumMember, Fact, Note, ValueKind
from kgqa.values.enums import chosen_member

log = logging.getLogger(__name__)

#: kinds whose fact states an ontology term (an enumeration member or a linked concept)
TERM_KINDS = (ValueKind.ENUM, ValueKind.DRUG, ValueKind.TEXT)


class DomainLayer:
    """Writes asserted facts in the RES-Q PLUS common data model."""

    def __init__(self, iris: IriMinter, prefixes: Mapping[str, str]) -> None:
        self.iris = iris
        self.prefixes = dict(prefixes)

    def member(self, concept: Concept, fact: Fact) -> EnumMember | None:
        """The enumeration member a fact chose (``kgqa.values.enums.chosen_member``)."""
        return chosen_member(concept, fact.value, fact.links)

    def term(self, fact: Fact, concept: Concept) -> URIRef | None:
        """The ontology term a fact states: its member's RES-Q/SNOMED IRI, else its member IRI or best link.

        A catalogue member has kgqa's vocabulary IRI (``iri``) and the IRI the RES-Q PLUS mappings
        write (``target_iri``, e.g. sct:422504002); the domain layer always uses the latter.
        """
        where = f"note {fact.note_id!r} concept {concept.id!r}"
        member = self.member(concept, fact)
        if member is not None:
            return expand(member.target_iri or member.iri, f"{where} member {member.id!r}", self.prefixes)
        if fact.value.member_iri:
            return expand(fact.value.member_iri, f"{where} member_iri", self.prefixes)
        if concept.kind in TERM_KINDS and fact.best_link is not None:
            return expand(fact.best_link.iri, f"{where} link", self.prefixes)
        return None

    def term_class(self, fact: Fact, concept: Concept) -> URIRef | None:
        """The class a represented procedure/reason/location node is typed with.

        A member may name its own class (``extra.target_class``: tenecteplase is typed
        resq:ThrombolysisAlteplase in the mappings); otherwise the term itself is the class.
        """
        member = self.member(concept, fact)
        if member is not None and member.extra.get("target_class"):
            return expand(member.extra["target_class"], f"concept {concept.id!r} member {member.id!r} target_class",
                          self.prefixes)
        return self.term(fact, concept)

    def triples(
        self,
        note: Note,
        fact: Fact,
        concept: Concept,
        m: DomainMapping,
        iri: URIRef,
        case_iri: URIRef,
        asserted_terms: dict[str, URIRef],
    ) -> list[tuple] | None:
        """The RES-Q PLUS triples of an asserted fact, or None when the fact is evidence only.

        Only what the note states as present goes into the domain layer: a negated, historical,
        hypothetical, family or possible finding, a rejected or unparsed value, and a "no" for a
        yes/no concept are kept in the evidence layer, never written as a positive registry fact.
        """
        value = fact.value
        if not value.ok or value.assertion is not Assertion.PRESENT:
            return None
        if concept.kind is ValueKind.BOOLEAN and value.value is not True:
            return None
        where = f"note {note.id!r} concept {concept.id!r}"
        case_id = note.case_id
        triples: list[tuple] = [(case_iri, SCDM.hasPart, iri), (iri, RDF.type, m.node_class)]
        if m.result_of is not None:
            triples += self._case_node(case_id, "procedure", m.result_of, iri, SCDM.isResultOf)
        if m.result_of_concept and m.result_of_concept in asserted_terms:
            triples += self._case_node(case_id, "represented", asserted_terms[m.result_of_concept], iri, SCDM.isResultOf)
        if m.part_of is not None:
            triples += self._case_node(case_id, "procedure", m.part_of, iri, BTL2.isPartOf)
        if m.interprets_observable is not None:
            triples.append((iri, SCDM.interpretsObservable, m.interprets_observable))

        has_term = concept.kind in TERM_KINDS
        term = self.term(fact, concept) if has_term else None
        member = self.member(concept, fact)
        member_extra = member.extra if member is not None else {}

        if m.pattern in (PROCEDURE, PROCEDURE_TEMPORAL):
            context = member_extra.get("procedure_context") or m.procedure_context
            if context:
                triples.append((iri, SCDM.procedureContext, expand(context, where, self.prefixes)))

        if m.pattern == SITUATION:
            situation = term if has_term else m.situation
            if situation is None:
                return None  # an unlinked span: nothing to state
            triples.append((iri, SCDM.representsSituation, situation))
            # the member's context tells "known present" from "known absent" (sct:410515003 / 410516002),
            # as the RES-Q mappings do; without it an "absent" status would read as the situation itself
            for key, predicate in (("situation_context", SCDM.situationContext), ("temporal_context", SCDM.temporalContext)):
                if member_extra.get(key):
                    ctx = expand(member_extra[key], where, self.prefixes)
                    triples += self._case_node(case_id, "context", ctx, iri, predicate)
        elif m.pattern == PROCEDURE:
            cls = self.term_class(fact, concept) if has_term else m.procedure
            if cls is None:
                return None
            triples += self._case_node(case_id, "represented", cls, iri, SCDM.representsProcedure)
        elif m.pattern == PROCEDURE_TEMPORAL:
            if m.procedure is not None:
                triples += self._case_node(case_id, "represented", m.procedure, iri, SCDM.representsProcedure)
            if term is None:
                return None
            triples.append((iri, SCDM.temporalContext, term))
        elif m.pattern in (REASON, LOCATION):
            cls = self.term_class(fact, concept)
            if cls is None:
                return None
            predicate = SCDM.procedureReason if m.pattern == REASON else SCDM.representsLocation
            triples += self._case_node(case_id, m.pattern, cls, iri, predicate)
        else:  # observation, temporal, dosage: a typed literal
            observable = term if (m.member_observable and term is not None) else m.observable
            if observable is not None:
                triples.append((iri, SCDM.hasObservable, observable))
            if m.procedure is not None:
                # the imaging timestamp's value set; door-to-groin's thrombectomy (required by its RES-Q shape)
                triples += self._case_node(case_id, "represented", m.procedure, iri, SCDM.representsProcedure)
            literals = self._literals(note, fact, concept, m, where)
            if not literals:
                log.warning("%s: value cannot be written as RDF; kept as evidence only", where)
                return None
            triples += self._value_triples(iri, m, literals)
        return triples

    def _literals(self, note: Note, fact: Fact, concept: Concept, m: DomainMapping, where: str) -> list[Literal]:
        value = fact.value
        if concept.kind is ValueKind.TEXT or (concept.kind is ValueKind.ENUM and m.member_literal):
            member = self.member(concept, fact)
            member_extra = member.extra if member is not None else {}
            text = member_extra.get("literal") or (member.id if member is not None else value.value)
            return [Literal(str(text))] if text not in (None, "") else []
        if m.split_literals and isinstance(value.value, (dt.date, dt.time)):
            # symptom onset: the mappings write onset_date and onset_time as two literals
            v = value.value
            out = []
            if isinstance(v, dt.date):
                out.append(Literal(v.isoformat() if not isinstance(v, dt.datetime) else v.date().isoformat(),
                                   datatype=XSD.date))
            if isinstance(v, dt.datetime):
                out.append(Literal(v.timetz().isoformat(), datatype=XSD.time))
            elif isinstance(v, dt.time):
                out.append(Literal(v.isoformat(), datatype=XSD.time))
            return out
        datatype = (
            expand(value.datatype, f"{where} value.datatype", self.prefixes)
            if value.datatype
            else m.datatype or DEFAULT_DATATYPES.get(concept.kind, XSD.string)
        )
        literal = typed_literal(value.value, datatype, admission_date=note.admission_date, where=where)
        return [literal] if literal is not None else []

    def _value_triples(self, iri: URIRef, m: DomainMapping, literals: list[Literal]) -> list[tuple]:
        if m.pattern == TEMPORAL:
            time_node = URIRef(f"{iri}/time")
            value_node = URIRef(f"{iri}/time/value")
            triples = [(iri, SCDM.temporalContext, time_node), (time_node, BTL2.hasPart, value_node)]
            if m.temporal_class is not None:
                triples.append((time_node, RDF.type, m.temporal_class))
        else:
            value_node = URIRef(f"{iri}/value")
            link = SCDM.hasDosage if m.pattern == DOSAGE else SCDM.hasObservableValue
            triples = [(iri, link, value_node)]
        if m.value_class is not None:
            triples.append((value_node, RDF.type, m.value_class))
        triples += [(value_node, BTL2.hasValue, lit) for lit in literals]
        return triples

    def _case_node(self, case_id: str, kind: str, cls: URIRef, iri: URIRef, predicate: URIRef) -> list[tuple]:
        # one node per case and class, as in the mappings (data:Procedure_450742003_{case_id})
        node = self.iris.case_node(case_id, kind, cls)
        return [(iri, predicate, node), (node, RDF.type, cls)]
