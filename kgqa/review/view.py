"""What the review pages show (pure): the report's note view plus each fact's decisions.

The note text, its highlighted segments and the fact cards come from the report
(:func:`kgqa.report.model.build_note_view`); this adds, per extracted fact, its stable key, its
decisions (latest first), the correction that replaced it, and whether it is new since the note
was reviewed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kgqa.report.config import ReportConfig
from kgqa.report.model import FactView, NoteView, build_note_view, format_value
from kgqa.review.decisions import Decision
from kgqa.review.store import StoredFact, StoredNote
from kgqa.types import Concept, Fact


def fact_key(iri: str) -> str:
    """A short, stable, opaque key for a fact IRI (IRIs carry note ids: keep them out of URLs and logs)."""
    return "k" + hashlib.sha256(iri.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class ReviewFact:
    key: str
    iri: str
    view: FactView
    fact: Fact
    history: tuple[Decision, ...]  # oldest first
    correction: Fact | None  # the fact the latest decision put in its place (a correction)
    correction_text: str
    new_since_review: bool

    @property
    def decision(self) -> Decision | None:
        return self.history[-1] if self.history else None

    @property
    def state(self) -> str:
        """pending | accept | reject | correct"""
        return self.decision.action if self.decision else "pending"


@dataclass(frozen=True)
class ReviewNote:
    index: int
    stored: StoredNote
    view: NoteView
    facts: tuple[ReviewFact, ...]
    #: decisions whose fact is no longer in the note (a re-run found another span)
    orphans: tuple[Decision, ...]

    @property
    def decided(self) -> int:
        return sum(f.decision is not None for f in self.facts)

    def count(self, state: str) -> int:
        return sum(f.state == state for f in self.facts)

    @property
    def new_count(self) -> int:
        return sum(f.new_since_review for f in self.facts)


def _span_key(fact: Fact) -> tuple:
    a = fact.answer
    return (fact.concept_id, a.start if a else None, a.end if a else None)


def build_review_note(
    index: int,
    stored: StoredNote,
    facts: Sequence[StoredFact],
    decisions: Iterable[Decision],
    seen: set[str],
    concepts: Sequence[Concept],
    cfg: ReportConfig,
) -> ReviewNote:
    decisions = sorted(decisions, key=lambda d: (d.at, d.iri))
    corrections = {d.correction_iri for d in decisions if d.correction_iri}
    extracted = [f for f in facts if f.iri not in corrections]
    by_iri: Mapping[str, StoredFact] = {f.iri: f for f in facts}
    view = build_note_view(stored.note, [f.fact for f in extracted], concepts, cfg)
    by_span = {_span_key(f.fact): f for f in extracted}
    by_concept = {c.id: c for c in concepts}
    history: dict[str, list[Decision]] = {}
    for d in decisions:
        history.setdefault(d.fact_iri, []).append(d)
    reviewed = bool(seen)
    out = []
    for fv in view.facts:
        sf = by_span[(fv.concept_id, fv.start, fv.end)]
        hist = tuple(history.get(sf.iri, ()))
        last = hist[-1] if hist else None
        correction = None
        text = ""
        if last is not None and last.correction_iri and last.correction_iri in by_iri:
            correction = by_iri[last.correction_iri].fact
            text = format_value(correction.value, by_concept.get(correction.concept_id), stored.note.lang,
                                correction.answer.text if correction.answer else None)
        out.append(ReviewFact(fact_key(sf.iri), sf.iri, fv, sf.fact, hist, correction, text,
                              new_since_review=reviewed and not hist and sf.iri not in seen))
    known = {f.iri for f in extracted}
    orphans = tuple(d for d in decisions if d.fact_iri not in known)
    return ReviewNote(index, stored, view, tuple(out), orphans)
