"""RdfBuilder: notes and facts -> one named graph per note, one per run. Pure: no I/O.

Three layers, described in docs/rdf.md:

* domain — RES-Q PLUS: a ``resq:ClinicalCase`` per case with ``scdm:hasPart`` to one node per
  *asserted* fact (stated as present and with an ok value), shaped by :mod:`kgqa.rdf.mapping`;
* evidence — W3C Web Annotation: every fact, asserted or not (negated, historical, rejected,
  unparsed, "no"), is a ``kgqa:Fact`` with its status, and the body of an ``oa:Annotation``
  whose target selects the answer span of the note by position and by quote;
* provenance — PROV-O: facts ``prov:wasGeneratedBy`` the run and ``prov:wasDerivedFrom`` the note
  (whose sha256 identifies the exact text); the run graph describes the run, model and config.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from rdflib import DCTERMS, PROV, RDF, RDFS, XSD, Graph, Literal, URIRef

from kgqa.errors import CatalogueError, ConfigError, RecordError
from kgqa.rdf.config import RdfConfig
from kgqa.rdf.domain import TERM_KINDS, DomainLayer
from kgqa.rdf.iris import IriMinter
from kgqa.rdf.literals import anchor_date, natural_literal
from kgqa.rdf.mapping import (
    DomainMapping,
    expand,
    mapping_for,
)
from kgqa.rdf.scrub import CONTEXT_MODES, NoteScrubber
from kgqa.rdf.vocab import KGQA, OA, RESQ, bind_prefixes
from kgqa.types import (
    Answer,
    Assertion,
    Concept,
    Fact,
    Note,
    NoteError,
    RunInfo,
    ValueStatus,
)

log = logging.getLogger(__name__)

ASSERTION_IRIS: dict[Assertion, URIRef] = {
    Assertion.PRESENT: KGQA.Present,
    Assertion.NEGATED: KGQA.Negated,
    Assertion.HISTORICAL: KGQA.Historical,
    Assertion.HYPOTHETICAL: KGQA.Hypothetical,
    Assertion.FAMILY: KGQA.Family,
    Assertion.POSSIBLE: KGQA.Possible,
}
STATUS_IRIS: dict[ValueStatus, URIRef] = {
    ValueStatus.OK: KGQA.Ok,
    ValueStatus.REJECTED: KGQA.Rejected,
    ValueStatus.UNPARSED: KGQA.Unparsed,
}


def _score(x: float) -> Literal:
    """A score as xsd:decimal in its shortest round-trip form.

    Not xsd:double: rdflib's Turtle/TriG writer abbreviates doubles to six digits ("%e"), so
    1.1796875 would come back as 1.179688 — the graph must survive its own serialisation.
    Infinite or NaN scores (no xsd:decimal form) stay xsd:double.
    """
    x = float(x)
    if not math.isfinite(x):
        return Literal("NaN" if math.isnan(x) else ("INF" if x > 0 else "-INF"), datatype=XSD.double)
    text = format(Decimal(repr(x)), "f")
    return Literal(text if "." in text else text + ".0", datatype=XSD.decimal)


#: a YAML line whose key looks secret and whose value is not masked yet (same words as kgqa.config.SECRET_KEYS)
_SECRET_LINE = re.compile(
    r"^(?P<key>\s*(?:-\s+)?[^\s:#]*(?:password|token|secret|key)[^\s:#]*\s*:[ \t]*)"
    r"(?P<value>(?!['\"]?\*\*\*['\"]?\s*$)(?!['\"]{2}\s*$)(?!null\s*$)(?!~\s*$)\S.*)$",
    re.IGNORECASE | re.MULTILINE,
)


def mask_secrets(config_yaml: str) -> str:
    """Mask secret-looking values again before the config enters the graph.

    The caller already passes a masked config (kgqa.config.masked_yaml); a graph is shared far
    more widely than a log, so a config that slipped through unmasked must not leak from here.
    """
    return _SECRET_LINE.sub(lambda m: f"{m.group('key')}'***'", config_yaml)


def _count(n: int) -> Literal:
    return Literal(str(n), datatype=XSD.nonNegativeInteger)


class RdfBuilder:
    """Builds the named graphs of a run from notes, facts and run provenance."""

    def __init__(
        self, cfg: RdfConfig, catalogue: Iterable[Concept], *, environ: Mapping[str, str] | None = None
    ) -> None:
        """``catalogue``: a Catalogue or any iterable of concepts; ``environ``: where the pseudonym
        key is read from (default ``os.environ``, read now, never at import)."""
        self.cfg = cfg
        self.iris = IriMinter.from_config(cfg, environ)
        # a Catalogue may carry its own CURIE prefixes (data:, rv: …)
        self.prefixes: dict[str, str] = dict(getattr(catalogue, "prefixes", None) or {})
        self.concepts: dict[str, Concept] = {c.id: c for c in catalogue}
        self.mappings: dict[str, DomainMapping] = {
            cid: mapping_for(c, self.prefixes) for cid, c in self.concepts.items()
        }
        self.domain = DomainLayer(self.iris, self.prefixes)
        if cfg.quote_context < 0:
            raise ConfigError(f"rdf.quote_context: {cfg.quote_context} must be >= 0")
        if cfg.selector_context not in CONTEXT_MODES:
            raise ConfigError(
                f"rdf.selector_context={cfg.selector_context!r}: expected one of {', '.join(CONTEXT_MODES)}"
            )
        # the identifiers of the note being built, found once per note (not once per span)
        self._scrubber: NoteScrubber | None = None

    # ------------------------------------------------------------------ note graphs

    def note_graph(self, note: Note, facts: Sequence[Fact], run: RunInfo) -> Graph:
        """The named graph of one note: its case, facts, evidence and provenance."""
        g = Graph(identifier=self.iris.note_graph(note.id))
        bind_prefixes(g)
        note_iri = self.iris.note(note.id)
        case_iri = self.iris.case(note.case_id)
        run_iri = self.iris.run(run.run_id)
        self._describe_note(g, note, note_iri, case_iri)
        g.add((case_iri, RDF.type, RESQ.ClinicalCase))

        fact_iris: dict[URIRef, Fact] = {}
        by_concept: dict[str, list[URIRef]] = {}
        for fact in facts:
            if fact.note_id != note.id:
                raise RecordError(f"fact {fact.concept_id!r} belongs to note {fact.note_id!r}, not {note.id!r}")
            if fact.answer is not None:
                fact.answer.check_against(note)
            iri = self._fact_iri(note, fact)
            if iri in fact_iris:
                # the reader de-duplicates spans; a repeat is the same statement, kept once
                log.warning("note %s: duplicate fact for %s at the same span, kept once", note.id, fact.concept_id)
                continue
            fact_iris[iri] = fact
            by_concept.setdefault(fact.concept_id, []).append(iri)

        # terms of asserted facts, for concepts whose facts are also results of another's procedure
        asserted_terms: dict[str, URIRef] = {}
        for fact in fact_iris.values():
            concept = self._concept(fact, note)
            if fact.value.ok and fact.value.assertion is Assertion.PRESENT and concept.kind in TERM_KINDS:
                term = self.domain.term_class(fact, concept)
                if term is not None:
                    asserted_terms.setdefault(concept.id, term)
        # bare times of day ("bolus at 10:40") go on the note's own date when no admission date was given
        dated = {f.concept_id: f.value.value for f in fact_iris.values()
                 if f.value.ok and f.value.assertion is Assertion.PRESENT}  # fmt: skip
        anchor = anchor_date(note.admission_date, dated)
        domain_note = note if anchor == note.admission_date else replace(note, admission_date=anchor)
        for iri, fact in fact_iris.items():
            self._add_fact(g, note, fact, iri, note_iri, case_iri, run_iri, by_concept, asserted_terms, domain_note)
        return g

    def _describe_note(self, g: Graph, note: Note, note_iri: URIRef, case_iri: URIRef) -> None:
        g.add((note_iri, RDF.type, KGQA.Note))
        g.add((note_iri, KGQA.sha256, Literal(note.sha256)))
        g.add((note_iri, KGQA.textLength, _count(len(note.text))))
        g.add((note_iri, DCTERMS.language, Literal(note.lang)))
        g.add((note_iri, KGQA.case, case_iri))
        if not self.cfg.pseudonymise_notes:
            g.add((note_iri, KGQA.noteId, Literal(note.id)))

    def _fact_iri(self, note: Note, fact: Fact) -> URIRef:
        span = (fact.answer.start, fact.answer.end) if fact.answer is not None else None
        return self.iris.fact(note.case_id, note.id, fact.concept_id, span)

    def _concept(self, fact: Fact, note: Note) -> Concept:
        try:
            return self.concepts[fact.concept_id]
        except KeyError:
            raise CatalogueError(
                f"note {note.id!r}: fact for concept {fact.concept_id!r}, which is not in the catalogue"
            ) from None

    def _add_fact(
        self,
        g: Graph,
        note: Note,
        fact: Fact,
        iri: URIRef,
        note_iri: URIRef,
        case_iri: URIRef,
        run_iri: URIRef,
        by_concept: dict[str, list[URIRef]],
        asserted_terms: dict[str, URIRef],
        domain_note: Note | None = None,
    ) -> None:
        concept = self._concept(fact, note)
        mapping = self.mappings[concept.id]
        concept_iri = self.iris.concept(concept.id)
        g.add((concept_iri, RDF.type, KGQA.Concept))
        g.add((concept_iri, KGQA.conceptId, Literal(concept.id)))
        g.add((concept_iri, KGQA.targetClass, mapping.node_class))

        value = fact.value
        g.add((iri, RDF.type, KGQA.Fact))
        g.add((iri, KGQA.concept, concept_iri))
        g.add((iri, KGQA.case, case_iri))
        g.add((iri, KGQA.assertionStatus, ASSERTION_IRIS[value.assertion]))
        g.add((iri, KGQA.valueStatus, STATUS_IRIS[value.status]))
        g.add((iri, PROV.wasGeneratedBy, run_iri))
        g.add((iri, PROV.wasDerivedFrom, note_iri))
        for source_concept in fact.derived_from:
            for source in by_concept.get(source_concept, ()):
                g.add((iri, PROV.wasDerivedFrom, source))
        if value.unit:
            g.add((iri, KGQA.unit, Literal(value.unit)))
        if value.reason:
            g.add((iri, KGQA.rejectionReason, Literal(value.reason)))

        domain = self.domain.triples(domain_note or note, fact, concept, mapping, iri, case_iri, asserted_terms)
        asserted = domain is not None
        g.add((iri, KGQA.asserted, Literal(asserted)))
        if asserted:
            for triple in domain:
                g.add(triple)
        else:
            literal = natural_literal(value.value)
            if literal is not None:
                g.add((iri, KGQA.value, literal))
            term = self.domain.term(fact, concept)
            if term is not None:
                g.add((iri, KGQA.valueTerm, term))
        if fact.answer is not None:
            self._add_annotation(g, note, fact.answer, fact, iri, note_iri, run_iri)

    # ------------------------------------------------------------------ evidence layer

    def _add_annotation(
        self, g: Graph, note: Note, answer: Answer, fact: Fact, iri: URIRef, note_iri: URIRef, run_iri: URIRef
    ) -> None:
        ann = URIRef(f"{iri}/annotation")
        target = URIRef(f"{ann}/target")
        position = URIRef(f"{target}/position")
        quote = URIRef(f"{target}/quote")
        k = self.cfg.quote_context
        g.add((ann, RDF.type, OA.Annotation))
        g.add((ann, OA.motivatedBy, OA.describing))
        g.add((ann, OA.hasBody, iri))
        g.add((ann, OA.hasTarget, target))
        g.add((ann, PROV.wasGeneratedBy, run_iri))
        g.add((target, RDF.type, OA.SpecificResource))
        g.add((target, OA.hasSource, note_iri))
        g.add((target, OA.hasSelector, position))
        g.add((target, OA.hasSelector, quote))
        g.add((position, RDF.type, OA.TextPositionSelector))
        g.add((position, OA.start, _count(answer.start)))
        g.add((position, OA.end, _count(answer.end)))
        self._add_value_refinement(g, fact, answer, position)
        g.add((quote, RDF.type, OA.TextQuoteSelector))
        g.add((quote, OA.exact, Literal(note.text[answer.start : answer.end])))
        prefix, suffix = self._context(note, answer.start, answer.end, k)
        if prefix:
            g.add((quote, OA.prefix, Literal(prefix)))
        if suffix:
            g.add((quote, OA.suffix, Literal(suffix)))

        if answer.question:
            g.add((ann, KGQA.question, Literal(answer.question, lang=answer.question_lang or None)))
        g.add((ann, KGQA.rawScore, _score(answer.score)))
        g.add((ann, KGQA.nullScore, _score(answer.null_score)))
        g.add((ann, KGQA.confidence, _score(answer.confidence)))
        g.add((ann, KGQA.answerRank, _count(answer.rank)))
        for rank, link in enumerate(fact.links):
            cand = URIRef(f"{ann}/link/{rank}")
            g.add((ann, KGQA.linkCandidate, cand))
            g.add((cand, RDF.type, KGQA.LinkCandidate))
            g.add((cand, KGQA.term, expand(link.iri, f"note {note.id!r} concept {fact.concept_id!r} link", self.prefixes)))
            g.add((cand, KGQA.score, _score(link.score)))
            g.add((cand, KGQA.rank, _count(rank)))
            if link.label:
                g.add((cand, RDFS.label, Literal(link.label, lang=link.lang or None)))
            if link.source:
                g.add((cand, KGQA.termSource, Literal(link.source)))
            if link.matched:
                g.add((cand, KGQA.matchedLabel, Literal(link.matched)))

    def _context(self, note: Note, start: int, end: int, k: int) -> tuple[str, str]:
        """The selector's prefix and suffix as ``rdf.selector_context`` says: identifiers masked, none, or raw."""
        mode = self.cfg.selector_context
        if mode == "none" or k == 0:
            return "", ""
        if mode == "raw":
            return note.text[max(0, start - k) : start], note.text[end : end + k]
        scrubber = self._scrubber
        if scrubber is None or scrubber.note is not note:
            # an id that pseudonymised notes hide may itself carry an identifier: masked too
            extra = (note.id,) if self.cfg.pseudonymise_notes else ()
            scrubber = self._scrubber = NoteScrubber(note, extra_values=extra)
        return scrubber.prefix(start, k), scrubber.suffix(end, k)

    def _add_value_refinement(self, g: Graph, fact: Fact, answer: Answer, position: URIRef) -> None:
        """Where in the span the value was read ("185" in "185/115"), as a Web Annotation refinement.

        ``oa:refinedBy`` selects within what its parent selected, so the offsets are relative to
        the answer span: ``exact[start:end]`` is the part the value came from.
        """
        start, end = fact.value.source_start, fact.value.source_end
        if start is None or end is None or (start, end) == (answer.start, answer.end):
            return
        if not (answer.start <= start < end <= answer.end):
            log.warning("note %s concept %s: value offsets [%s, %s) outside the answer span; not recorded",
                        fact.note_id, fact.concept_id, start, end)
            return
        refined = URIRef(f"{position}/value")
        g.add((position, OA.refinedBy, refined))
        g.add((refined, RDF.type, OA.TextPositionSelector))
        g.add((refined, OA.start, _count(start - answer.start)))
        g.add((refined, OA.end, _count(end - answer.start)))

    # ------------------------------------------------------------------ run graph

    def run_graph(self, run: RunInfo, notes: Sequence[Note], errors: Sequence[NoteError] = ()) -> Graph:
        """The named graph of one run: the PROV activity, its model, config and errors."""
        g = Graph(identifier=self.iris.run_graph(run.run_id))
        bind_prefixes(g)
        run_iri = self.iris.run(run.run_id)
        model_iri = self.iris.model(run.model.sha256, run.model.path)
        g.add((run_iri, RDF.type, KGQA.Run))
        g.add((run_iri, RDF.type, PROV.Activity))
        g.add((run_iri, RDFS.label, Literal(f"kgqa run {run.run_id}")))
        g.add((run_iri, PROV.startedAtTime, Literal(run.started_at.isoformat(), datatype=XSD.dateTime)))
        if run.ended_at is not None:
            g.add((run_iri, PROV.endedAtTime, Literal(run.ended_at.isoformat(), datatype=XSD.dateTime)))
        g.add((run_iri, KGQA.kgqaVersion, Literal(run.kgqa_version)))
        g.add((run_iri, KGQA.configDigest, Literal(run.config_digest)))
        if run.config_yaml:
            g.add((run_iri, KGQA.configYaml, Literal(mask_secrets(run.config_yaml))))
        if run.catalogue_digest:
            g.add((run_iri, KGQA.catalogueDigest, Literal(run.catalogue_digest)))
        g.add((run_iri, KGQA.model, model_iri))
        g.add((run_iri, PROV.used, model_iri))
        g.add((model_iri, RDF.type, KGQA.Model))
        g.add((model_iri, RDF.type, PROV.Entity))
        g.add((model_iri, KGQA.modelPath, Literal(run.model.path)))
        g.add((model_iri, KGQA.sha256, Literal(run.model.sha256)))
        if run.model.name:
            g.add((model_iri, RDFS.label, Literal(run.model.name)))
        for note in notes:
            note_iri = self.iris.note(note.id)
            g.add((run_iri, PROV.used, note_iri))
            # typed here too, so the run graph alone says what the run read
            g.add((note_iri, RDF.type, KGQA.Note))
            g.add((note_iri, KGQA.sha256, Literal(note.sha256)))
        g.add((run_iri, KGQA.noteCount, _count(len(notes))))
        g.add((run_iri, KGQA.errorCount, _count(len(errors))))
        for i, err in enumerate(errors):
            err_iri = self.iris.run_error(run.run_id, i)
            g.add((run_iri, KGQA.error, err_iri))
            g.add((err_iri, RDF.type, KGQA.NoteError))
            g.add((err_iri, KGQA.errorSource, Literal(err.source)))
            g.add((err_iri, KGQA.errorStage, Literal(err.stage)))
            g.add((err_iri, KGQA.errorReason, Literal(err.reason)))
            if err.note_id and not self.cfg.pseudonymise_notes:
                g.add((err_iri, KGQA.noteId, Literal(err.note_id)))
        return g
