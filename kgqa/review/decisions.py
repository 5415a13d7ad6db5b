"""Decisions as RDF (pure: records in, graphs out, no I/O).

A decision is a ``prov:Activity`` in the note's review graph ``{base}graph/review/{N}``::

    <{base}review/{N}/decision/{id}> a kgqar:Decision, prov:Activity ;
        kgqar:action kgqar:Reject ; kgqar:reason kgqar:WrongSpan ;      # what, and why
        kgqar:fact <fact> ; prov:used <fact> ; kgqar:note <note> ;
        prov:wasAssociatedWith <{base}reviewer/{id}> ;                  # who (an id, never a name)
        prov:startedAtTime "…" ; prov:endedAtTime "…" .                 # when
    <fact> prov:wasInvalidatedBy <decision> .                           # reject and correct
    <decision> kgqar:correction <decision/fact> ; prov:generated <decision/fact> .   # correct
    <decision/fact> a kgqa:Fact ; prov:wasGeneratedBy <decision> ; prov:wasDerivedFrom <fact>, <note> …

The review graph is only ever added to (SPARQL ``INSERT DATA``), never replaced: two reviewers
writing at once both keep their decisions, and re-running extraction (which replaces note graphs,
not review graphs) leaves the decisions attached to the stable fact IRIs. The latest decision on
a fact is its current state; earlier ones stay as history.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rdflib import PROV, RDF, XSD, Graph, Literal, URIRef

from kgqa.errors import KgqaError
from kgqa.rdf import RdfBuilder, RdfConfig
from kgqa.rdf.iris import segment
from kgqa.rdf.vocab import KGQA, bind_prefixes
from kgqa.review.vocab import ACTIONS, KGQAR, REASONS
from kgqa.types import Concept, Fact, ModelInfo, Note, RunInfo

#: a reviewer id: a short token (initials, staff number, login), never a free-text name
REVIEWER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class ReviewError(KgqaError):
    """A decision that cannot be recorded (unknown fact, bad reason, a value that does not normalise …)."""


def check_reviewer(reviewer: str, where: str = "--reviewer / KGQA_REVIEWER") -> str:
    if not REVIEWER_ID.match(reviewer or ""):
        raise ReviewError(
            f"{where}: reviewer id {reviewer!r} must be 1-64 of A-Z a-z 0-9 . _ @ - (an id, not a name)"
        )
    return reviewer


@dataclass(frozen=True)
class Decision:
    """One reviewer's decision about one fact, as stored."""

    iri: str
    fact_iri: str
    note_iri: str
    action: str  # accept | reject | correct
    reviewer: str
    at: dt.datetime
    reason: str | None = None
    correction_iri: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ReviewError(f"decision action {self.action!r} is not one of {', '.join(ACTIONS)}")
        if (self.action == "reject") != (self.reason is not None):
            raise ReviewError("a rejection needs a reason, and only a rejection has one")
        if self.reason is not None and self.reason not in REASONS:
            raise ReviewError(f"reason {self.reason!r} is not one of {', '.join(REASONS)}")
        if (self.action == "correct") != (self.correction_iri is not None):
            raise ReviewError("a correction names its corrected fact, and only a correction does")


def latest(decisions: Iterable[Decision]) -> dict[str, Decision]:
    """fact IRI -> its current decision: the latest (ties broken by IRI, so every reader agrees)."""
    out: dict[str, Decision] = {}
    for d in decisions:
        cur = out.get(d.fact_iri)
        if cur is None or (d.at, d.iri) > (cur.at, cur.iri):
            out[d.fact_iri] = d
    return out


@dataclass(frozen=True)
class ReviewIris:
    """IRIs of the review layer, minted beside the note's own IRI (``{base}note/{N}``)."""

    note_iri: str

    def __post_init__(self) -> None:
        if "/note/" not in self.note_iri:
            raise ReviewError(f"{self.note_iri!r} is not a kgqa note IRI ({{base}}note/{{N}})")

    @property
    def base(self) -> str:
        return self.note_iri.rpartition("/note/")[0] + "/"

    @property
    def key(self) -> str:
        return self.note_iri.rpartition("/note/")[2]

    @property
    def graph(self) -> URIRef:
        return URIRef(f"{self.base}graph/review/{self.key}")

    @property
    def note_review(self) -> URIRef:
        return URIRef(f"{self.base}review/{self.key}")

    def decision(self, token: str | None = None) -> URIRef:
        return URIRef(f"{self.base}review/{self.key}/decision/{token or uuid.uuid4().hex}")

    def reviewer(self, reviewer: str) -> URIRef:
        return URIRef(f"{self.base}reviewer/{segment(reviewer)}")


def _time(at: dt.datetime) -> Literal:
    if at.tzinfo is None:
        raise ReviewError("decision times must be timezone-aware")
    return Literal(at.astimezone(dt.timezone.utc).isoformat(), datatype=XSD.dateTime)


def decision_graph(
    decision: Decision,
    *,
    seen_facts: Sequence[str] = (),
    correction: Graph | None = None,
) -> Graph:
    """The triples one decision adds to its note's review graph.

    ``seen_facts``: the note's facts as the reviewer saw them (recorded on the note's review, so a
    later extraction's new facts can be flagged as new since the review). ``correction``: the
    corrected fact's triples (:func:`correction_graph`), for a correction.
    """
    iris = ReviewIris(decision.note_iri)
    g = Graph(identifier=iris.graph)
    bind_prefixes(g)
    g.bind("kgqar", str(KGQAR._NS))
    d, fact, note = URIRef(decision.iri), URIRef(decision.fact_iri), URIRef(decision.note_iri)
    reviewer = iris.reviewer(decision.reviewer)
    g.add((d, RDF.type, KGQAR.Decision))
    g.add((d, RDF.type, PROV.Activity))
    g.add((d, KGQAR.action, ACTIONS[decision.action]))
    g.add((d, KGQAR.fact, fact))
    g.add((d, PROV.used, fact))
    g.add((d, KGQAR.note, note))
    g.add((d, PROV.wasAssociatedWith, reviewer))
    g.add((d, PROV.startedAtTime, _time(decision.at)))
    g.add((d, PROV.endedAtTime, _time(decision.at)))
    g.add((reviewer, RDF.type, KGQAR.Reviewer))
    g.add((reviewer, RDF.type, PROV.Agent))
    g.add((reviewer, KGQAR.reviewerId, Literal(decision.reviewer)))
    if decision.reason is not None:
        g.add((d, KGQAR.reason, REASONS[decision.reason][0]))
    if decision.action in ("reject", "correct"):
        g.add((fact, PROV.wasInvalidatedBy, d))
    if decision.action == "correct":
        if correction is None:
            raise ReviewError("a correction needs the corrected fact's triples")
        corrected = URIRef(str(decision.correction_iri))
        g.add((d, KGQAR.correction, corrected))
        g.add((d, PROV.generated, corrected))
        for triple in correction:
            g.add(triple)
    review = iris.note_review
    g.add((review, RDF.type, KGQAR.NoteReview))
    g.add((review, KGQAR.note, note))
    for seen in {*seen_facts, decision.fact_iri}:
        g.add((review, KGQAR.sawFact, URIRef(seen)))
    return g


#: the run stand-in handed to the RDF builder for a corrected fact (its IRI is rewritten to the decision)
_REVIEW_RUN = RunInfo(run_id="review", started_at=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc),
                      kgqa_version="", model=ModelInfo(path="", sha256=""), config_digest="review")


def correction_graph(
    fact: Fact,
    note: Note,
    catalogue: Iterable[Concept],
    *,
    corrected_iri: str,
    original_iri: str,
    note_iri: str,
    case_iri: str,
    decision_iri: str,
    quote_context: int = 32,
) -> Graph:
    """The corrected fact's triples, written by kgqa's own RDF builder (domain, evidence layers).

    The builder mints IRIs from ids; here the fact must live at ``corrected_iri`` in the store's
    case and note (which may be pseudonymised with a key the reviewer's machine need not hold), so
    the builder runs without pseudonyms and its case, note, fact and run IRIs are rewritten to the
    store's. The note's own description is left out (the note graph has it).
    """
    base = ReviewIris(note_iri).base
    builder = RdfBuilder(RdfConfig(base_iri=base, pseudonymise=False, pseudonymise_notes=False,
                                   quote_context=quote_context), catalogue)
    built = builder.note_graph(note, [fact], _REVIEW_RUN)
    span = (fact.answer.start, fact.answer.end) if fact.answer is not None else None
    renames: Mapping[str, str] = {
        str(builder.iris.fact(note.case_id, note.id, fact.concept_id, span)): corrected_iri,
        str(builder.iris.case(note.case_id)): case_iri,
    }
    built_note = str(builder.iris.note(note.id))
    built_run = str(builder.iris.run(_REVIEW_RUN.run_id))

    def rename(node):
        if not isinstance(node, URIRef):
            return node
        text = str(node)
        if text == built_note:
            return URIRef(note_iri)
        if text == built_run:
            return URIRef(decision_iri)
        for old, new in renames.items():  # the fact first: its IRI starts with the case's
            if text == old or text.startswith(old + "/"):
                return URIRef(new + text[len(old):])
        return node

    g = Graph()
    for s, p, o in built:
        if str(s) == built_note:
            continue
        g.add((rename(s), p, rename(o)))
    corrected = URIRef(corrected_iri)
    g.add((corrected, PROV.wasDerivedFrom, URIRef(original_iri)))
    if (corrected, RDF.type, KGQA.Fact) not in g:
        raise ReviewError("the RDF builder wrote no fact for the correction")
    return g
