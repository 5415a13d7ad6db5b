"""Namespaces of the graphs kgqa writes.

``KGQA`` mirrors ``ontologies/kgqa.ttl`` term for term and is closed (``_fail = True``): a
misspelt term is an AttributeError at the line that uses it, not a silent new IRI in the
graph. ``OA`` is closed over the Web Annotation terms kgqa writes. The RES-Q PLUS namespaces
(``RESQ``, ``SCDM``, ``BTL2``, ``SCT``) stay open: their classes come from the concept
catalogue, not from code.
"""

from __future__ import annotations

from rdflib import DCTERMS, PROV, RDF, RDFS, XSD, Namespace, URIRef
from rdflib.namespace import DefinedNamespace

RESQ = Namespace("http://www.semanticweb.org/catimc/resqplus#")
SCDM = Namespace("http://www.semanticweb.org/catimc/SemanticCommonDataModel#")
BTL2 = Namespace("http://purl.org/biotop/btl2.owl#")
SCT = Namespace("http://snomed.info/id/")
#: instance namespace of the RES-Q PLUS mappings (a few situations are individuals there)
RESQ_DATA = Namespace("http://resqplus-resources/ontologies/resqplus-data#")
#: kgqa's additions to the RES-Q PLUS classes (ontologies/resq-vocab.ttl, owned by the catalogue)
RV = Namespace("https://w3id.org/kgqa/resq-vocab#")


class KGQA(DefinedNamespace):
    """kgqa's own vocabulary (ontologies/kgqa.ttl)."""

    _NS = Namespace("https://w3id.org/kgqa/vocab#")
    _fail = True

    # classes
    Run: URIRef
    Note: URIRef
    Model: URIRef
    Concept: URIRef
    Fact: URIRef
    LinkCandidate: URIRef
    NoteError: URIRef
    AssertionStatus: URIRef
    ValueStatus: URIRef
    # individuals
    Present: URIRef
    Negated: URIRef
    Historical: URIRef
    Hypothetical: URIRef
    Family: URIRef
    Possible: URIRef
    Ok: URIRef
    Rejected: URIRef
    Unparsed: URIRef
    # facts
    concept: URIRef
    conceptId: URIRef
    targetClass: URIRef
    case: URIRef
    asserted: URIRef
    assertionStatus: URIRef
    valueStatus: URIRef
    value: URIRef
    valueTerm: URIRef
    unit: URIRef
    rejectionReason: URIRef
    # evidence
    question: URIRef
    rawScore: URIRef
    nullScore: URIRef
    confidence: URIRef
    answerRank: URIRef
    linkCandidate: URIRef
    term: URIRef
    score: URIRef
    rank: URIRef
    termSource: URIRef
    matchedLabel: URIRef
    # provenance
    sha256: URIRef
    noteId: URIRef
    textLength: URIRef
    kgqaVersion: URIRef
    configDigest: URIRef
    configYaml: URIRef
    catalogueDigest: URIRef
    model: URIRef
    modelPath: URIRef
    noteCount: URIRef
    errorCount: URIRef
    error: URIRef
    errorSource: URIRef
    errorStage: URIRef
    errorReason: URIRef


class OA(DefinedNamespace):
    """The W3C Web Annotation terms kgqa writes (https://www.w3.org/TR/annotation-vocab/)."""

    _NS = Namespace("http://www.w3.org/ns/oa#")
    _fail = True

    Annotation: URIRef
    SpecificResource: URIRef
    TextPositionSelector: URIRef
    TextQuoteSelector: URIRef
    hasBody: URIRef
    hasTarget: URIRef
    hasSource: URIRef
    hasSelector: URIRef
    refinedBy: URIRef
    motivatedBy: URIRef
    describing: URIRef
    start: URIRef
    end: URIRef
    exact: URIRef
    prefix: URIRef
    suffix: URIRef


#: prefix -> namespace, bound on every graph kgqa writes and used to expand CURIEs from the catalogue
PREFIXES: dict[str, str] = {
    "resq": str(RESQ),
    "resqplus": str(RESQ),
    "scdm": str(SCDM),
    "btl2": str(BTL2),
    "sct": str(SCT),
    "data": str(RESQ_DATA),
    "rv": str(RV),
    "kgqa": str(KGQA._NS),
    "oa": str(OA._NS),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "xsd": str(XSD),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
}

#: prefixes bound for serialisation (one per namespace)
BIND_PREFIXES: dict[str, str] = {k: v for k, v in PREFIXES.items() if k != "resqplus"}


def bind_prefixes(graph) -> None:
    for prefix, ns in BIND_PREFIXES.items():
        graph.bind(prefix, ns, override=True, replace=True)
