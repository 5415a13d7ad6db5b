"""How a catalogue concept becomes RES-Q PLUS domain triples (the OBDA mappings' shapes).

The RES-Q PLUS OBDA mappings (resqplus-virt.obda) write every registry variable with one of a
few *patterns*; the concept catalogue names the pattern of each concept in ``extra.pattern``
and this module reads it, with the concept's fields, into a :class:`DomainMapping` the builder
follows. ``?f`` is the fact node, ``?p`` a per-case procedure node typed with ``extra.result_of``
(``sct:32485007`` hospital admission, ``sct:450742003`` NIHSS assessment …):

============== ==================================================================================
pattern        triples (besides ``?f a target_class ; scdm:isResultOf ?p``)
============== ==================================================================================
observation    ``scdm:hasObservable observable ; scdm:hasObservableValue ?v . ?v btl2:hasValue "…"^^dt``
situation      ``scdm:representsSituation S`` — S is ``situation`` (yes/no concepts) or the member/term
procedure      ``scdm:procedureContext ctx ; scdm:representsProcedure ?q . ?q a Q`` — Q is ``procedure``
               (yes/no concepts) or the member/term class
temporal       ``scdm:temporalContext ?t . ?t a sct:410512000 ; btl2:hasPart ?d . ?d btl2:hasValue "…"^^xsd:dateTime``
proc_temporal  ``scdm:representsProcedure ?q ; scdm:temporalContext M`` (M the member, e.g. "within 24 h")
reason         ``scdm:procedureReason ?r . ?r a M``
location       ``scdm:representsLocation ?l . ?l a M``
dosage         ``scdm:hasDosage ?v . ?v btl2:hasValue "…"^^dt``
============== ==================================================================================

docs/rdf.md lists every ``extra`` key read here. Nothing in this module does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rdflib import XSD, URIRef

from kgqa.errors import CatalogueError
from kgqa.rdf.vocab import PREFIXES
from kgqa.types import Concept, ValueKind

OBSERVATION = "observation"
SITUATION = "situation"
PROCEDURE = "procedure"
TEMPORAL = "temporal"
PROCEDURE_TEMPORAL = "procedure_temporal"
REASON = "reason"
LOCATION = "location"
DOSAGE = "dosage"
PATTERNS = (OBSERVATION, SITUATION, PROCEDURE, TEMPORAL, PROCEDURE_TEMPORAL, REASON, LOCATION, DOSAGE)
#: patterns whose domain statement is a typed literal
VALUE_PATTERNS = (OBSERVATION, TEMPORAL, DOSAGE)

#: XSD datatype a kind is written with when neither the value nor the concept names one
DEFAULT_DATATYPES: dict[ValueKind, URIRef] = {
    ValueKind.INTEGER: XSD.integer,
    ValueKind.DECIMAL: XSD.decimal,
    ValueKind.DATE: XSD.date,
    ValueKind.TIME: XSD.time,
    ValueKind.DATETIME: XSD.dateTime,
    # durations are minutes in the registry (door-to-needle …), written as integers
    ValueKind.DURATION: XSD.integer,
    ValueKind.BOOLEAN: XSD.boolean,
    ValueKind.TEXT: XSD.string,
    ValueKind.ENUM: XSD.string,
}

_VALUE_KINDS = {
    ValueKind.INTEGER,
    ValueKind.DECIMAL,
    ValueKind.DATE,
    ValueKind.TIME,
    ValueKind.DATETIME,
    ValueKind.DURATION,
}

_ABSOLUTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|urn:)\S")
_BAD_IRI_CHARS = re.compile(r"[\s<>\"{}|\\^`]")


def expand(curie_or_iri: str, where: str, prefixes: Mapping[str, str] | None = None) -> URIRef:
    """``sct:123`` -> full IRI (kgqa's prefixes, then the catalogue's); absolute IRIs pass through."""
    text = str(curie_or_iri).strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    known = {**PREFIXES, **(prefixes or {})}
    prefix, sep, local = text.partition(":")
    if sep and prefix in known and not local.startswith("//"):
        return URIRef(known[prefix] + local)
    if _ABSOLUTE.match(text) and not _BAD_IRI_CHARS.search(text):
        return URIRef(text)
    raise CatalogueError(
        f"{where}: {curie_or_iri!r} is neither an absolute IRI nor a CURIE with a known prefix "
        f"({', '.join(sorted(known))})"
    )


@dataclass(frozen=True)
class DomainMapping:
    """The domain-layer shape of one concept's facts."""

    concept_id: str
    pattern: str
    node_class: URIRef
    observable: URIRef | None = None
    interprets_observable: URIRef | None = None
    #: class of the per-case procedure node the fact ``scdm:isResultOf``
    result_of: URIRef | None = None
    #: class of the per-case procedure node the fact is ``btl2:isPartOf`` (NIHSS within admission)
    part_of: URIRef | None = None
    #: fixed ``scdm:representsSituation`` (yes/no situations such as a risk factor)
    situation: URIRef | None = None
    #: fixed class of the ``scdm:representsProcedure`` node (yes/no procedures such as thrombolysis)
    procedure: URIRef | None = None
    #: ``scdm:procedureContext`` of an asserted (done / taken) fact
    procedure_context: URIRef | None = None
    datatype: URIRef | None = None
    #: rdf:type of the value node (the mappings type some, not all)
    value_class: URIRef | None = None
    #: rdf:type of the temporal-context node
    temporal_class: URIRef | None = None
    #: write a date-time as separate xsd:date and xsd:time literals (symptom onset)
    split_literals: bool = False
    #: an enumeration's member is written as a literal value (mTICI "2b") rather than a term
    member_literal: bool = False
    #: the member is the observable (carotid stenosis level)
    member_observable: bool = False
    #: concept whose represented procedure this fact is also a result of (stroke type <- imaging type)
    result_of_concept: str | None = None


def _iri(concept: Concept, value: Any, key: str, prefixes: Mapping[str, str] | None) -> URIRef | None:
    if value in (None, ""):
        return None
    return expand(str(value), f"concept {concept.id!r} field {key!r}", prefixes)


def _default_pattern(concept: Concept) -> str:
    if concept.observable or concept.kind in _VALUE_KINDS:
        return OBSERVATION
    if concept.procedure or concept.kind is ValueKind.DRUG:
        return PROCEDURE
    return SITUATION


def mapping_for(concept: Concept, prefixes: Mapping[str, str] | None = None) -> DomainMapping:
    """Read a concept's domain mapping; raise CatalogueError naming the concept and field."""
    extra = concept.extra
    if not concept.target_class:
        raise CatalogueError(f"concept {concept.id!r}: target_class is empty")
    pattern = str(extra.get("pattern") or _default_pattern(concept))
    if pattern not in PATTERNS:
        raise CatalogueError(
            f"concept {concept.id!r} field 'extra.pattern': {pattern!r} is not one of {', '.join(PATTERNS)}"
        )

    def iri(value: Any, key: str) -> URIRef | None:
        return _iri(concept, value, key, prefixes)

    context = extra.get("context") or {}
    if not isinstance(context, Mapping):
        raise CatalogueError(f"concept {concept.id!r} field 'extra.context': expected a mapping, got {context!r}")
    # "done" is the context of an asserted fact; "not done" stays in the evidence layer (docs/rdf.md)
    procedure_context = extra.get("procedure_context") or context.get("true") or context.get(True)
    result_of = extra.get("result_of", extra.get("is_result_of"))
    procedure = concept.procedure or extra.get("represents_procedure")
    return DomainMapping(
        concept_id=concept.id,
        pattern=pattern,
        node_class=iri(concept.target_class, "target_class"),  # type: ignore[arg-type]
        observable=iri(concept.observable, "observable"),
        interprets_observable=iri(extra.get("interprets_observable"), "extra.interprets_observable"),
        result_of=iri(result_of, "extra.result_of"),
        part_of=iri(extra.get("part_of"), "extra.part_of"),
        situation=iri(concept.situation, "situation"),
        procedure=iri(procedure, "procedure"),
        procedure_context=iri(procedure_context, "extra.procedure_context"),
        datatype=iri(concept.datatype, "datatype"),
        value_class=iri(extra.get("value_class"), "extra.value_class"),
        temporal_class=iri(extra.get("temporal_class") or "sct:410512000", "extra.temporal_class"),
        split_literals=bool(extra.get("split_literals")),
        member_literal=extra.get("member_value") == "literal",
        member_observable=bool(extra.get("member_observable")),
        result_of_concept=extra.get("result_of_imaging") or None,
    )
