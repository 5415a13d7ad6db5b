"""OWL / SKOS / Turtle loader via rdflib: skos:Concept and owl:Class resources with their labels.

Preferred names: skos:prefLabel, rdfs:label. Synonyms: skos:altLabel, skos:hiddenLabel and the
oboInOwl synonym properties. skos:notation becomes a language-neutral abbreviation. Branches:
the concept schemes a term is in and every ancestor over skos:broader / rdfs:subClassOf, each
as a CURIE (when the file declares the prefix) and as the full IRI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kgqa.linking.loaders.io import error
from kgqa.linking.terms import ANY_LANG, Label, Term

OBOINOWL = rdflib.Namespace("http://www.geneontology.org/formats/oboInOwl#")
_LABEL_PROPS = (
    (SKOS.prefLabel, "pref"),
    (RDFS.label, "pref"),
    (SKOS.altLabel, "syn"),
    (SKOS.hiddenLabel, "syn"),
    (OBOINOWL.hasExactSynonym, "syn"),
    (OBOINOWL.hasRelatedSynonym, "related"),
)
_FORMATS = {".ttl": "turtle", ".owl": "xml", ".rdf": "xml", ".xml": "xml", ".nt": "nt", ".n3": "n3", ".jsonld": "json-ld", ".trig": "trig"}
_LINE = re.compile(r"line (\d+)")
_WHY = re.compile(r"Bad syntax \([^)]*\)")


def load_rdf(path: Path, lang: str = ANY_LANG, format: str | None = None, **_: object) -> Iterator[Term]:
    """Terms of an RDF file; a syntax error is an OntologyError naming file and line."""
    graph = rdflib.Graph()
    fmt = format or _FORMATS.get(path.suffix.lower(), "turtle")
    if not path.is_file():
        raise error(path, None, "ontology file not found")
    try:
        graph.parse(path, format=fmt)
    except Exception as exc:  # rdflib raises BadSyntax, SAXParseException, ValueError … depending on format
        text = str(exc)
        m = _LINE.search(text)
        line = int(m.group(1)) if m else None
        if line is None and hasattr(exc, "getLineNumber"):  # RDF/XML: SAXParseException
            line = exc.getLineNumber()
        why = _WHY.search(text)
        reason = why.group(0) if why else (text.strip().splitlines() or [type(exc).__name__])[-1]
        raise error(path, line, f"cannot parse as {fmt}: {reason}") from exc
    subjects = set(graph.subjects(RDF.type, SKOS.Concept)) | set(graph.subjects(RDF.type, OWL.Class))
    nsm = graph.namespace_manager

    def curie(iri: rdflib.URIRef) -> str:
        try:
            prefix, _, local = nsm.compute_qname(str(iri), generate=False)
        except (KeyError, ValueError):
            return str(iri)
        return f"{prefix}:{local}" if prefix else str(iri)

    parents: dict[rdflib.URIRef, set] = {}
    for s in subjects:
        ps = set(graph.objects(s, SKOS.broader)) | set(graph.objects(s, RDFS.subClassOf))
        ps |= {x for x in graph.subjects(SKOS.narrower, s)}
        parents[s] = {p for p in ps if isinstance(p, rdflib.URIRef)}

    for s in sorted(subjects, key=str):
        if not isinstance(s, rdflib.URIRef) or (s, OWL.deprecated, rdflib.Literal(True)) in graph:
            continue
        labels = []
        for prop, kind in _LABEL_PROPS:
            for lit in graph.objects(s, prop):
                if isinstance(lit, rdflib.Literal) and str(lit).strip():
                    labels.append(Label(str(lit), _lang(lit.language, lang), kind))
        for lit in graph.objects(s, SKOS.notation):
            labels.append(Label(str(lit), ANY_LANG, "abbr"))
        ancestors = _ancestors(s, parents)
        schemes = set(graph.objects(s, SKOS.inScheme)) | set(graph.objects(s, SKOS.topConceptOf))
        branch_iris = sorted({str(x) for x in ancestors | schemes if isinstance(x, rdflib.URIRef)})
        branches = tuple(dict.fromkeys([curie(rdflib.URIRef(b)) for b in branch_iris] + branch_iris))
        yield Term(id=curie(s), iri=str(s), labels=tuple(labels), branches=branches)


def _lang(tag: str | None, default: str) -> str:
    # "pt-BR" → "pt"; untagged literals take the file's declared language (default: any).
    return tag.split("-")[0].lower() if tag else default


def _ancestors(node, parents: dict) -> set:
    seen: set = set()
    stack = list(parents.get(node, ()))
    while stack:
        p = stack.pop()
        if p in seen or p == node:
            continue
        seen.add(p)
        stack.extend(parents.get(p, ()))
    return seen
