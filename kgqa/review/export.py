"""Decisions -> training data and gold (pure), and the files ``kgqa review export`` writes.

**SQuAD** (what ``kgqa train qa`` reads, ``format: squad``): one question per (note, concept) whose
facts in that note are all decided, asked as the reader asks it (the catalogue's first question in
the note's language), id ``note::concept`` so training reads the concept back. Answers are the spans
reviewers confirmed:

=====================  ===============================================================
decision               the span …
=====================  ===============================================================
accept                 is an answer
correct                the corrected span is an answer (a typed value keeps the old span)
reject: wrong value    is an answer (the text is right; the value read from it is not)
reject: negated        is an answer (a negated mention answers a yes/no question; the
                       values stage, not the reader, read it wrong)
reject: wrong span,    is not an answer; with no other answer the question is
not this patient,      unanswerable in that note (``is_impossible``)
historical
=====================  ===============================================================

One file per note language (the training loader takes one language per dataset).

**Gold** (``kgqa eval``'s format, :mod:`kgqa.evaluation.gold`): only notes whose every fact is
decided, since gold says "absent" for any concept it does not annotate. Accepted and corrected facts
become annotations with their value; a "negated" rejection of a yes/no concept becomes a negated
"no". A note with a "wrong value" rejection, or an accepted value the values stage refused, is left
out: its right value is not known.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgqa.evaluation.gold import GoldAnnotation, GoldNote, write_gold_jsonl
from kgqa.review.view import ReviewNote
from kgqa.synth.squad import question_for, question_id
from kgqa.types import Assertion, Concept, Fact, Value, ValueKind

log = logging.getLogger("kgqa.review")

#: rejection reasons after which the rejected span is still the right text
SPAN_RIGHT_REASONS = frozenset({"wrong_value", "negated"})


@dataclass
class ExportReport:
    notes: int = 0
    questions: int = 0
    answerable: int = 0
    unanswerable: int = 0
    gold_notes: int = 0
    gold_annotations: int = 0
    #: why notes were left out of gold
    gold_skipped: Counter = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["gold_skipped"] = dict(self.gold_skipped)
        return out


def _spans_right(rf) -> list[tuple[int, int, str]]:
    d = rf.decision
    if d is None:
        return []
    if d.action == "correct" and rf.correction is not None and rf.correction.answer is not None:
        a = rf.correction.answer
        return [(a.start, a.end, a.text)]
    if rf.fact.answer is None:
        return []
    a = rf.fact.answer
    if d.action == "accept" or (d.action == "reject" and d.reason in SPAN_RIGHT_REASONS):
        return [(a.start, a.end, a.text)]
    return []


def squad_entries(notes: Iterable[ReviewNote], concepts: Sequence[Concept], report: ExportReport) -> dict[str, list]:
    """language -> SQuAD ``data`` entries (one article per note)."""
    by_id = {c.id: c for c in concepts}
    out: dict[str, list] = defaultdict(list)
    for rn in notes:
        note = rn.stored.note
        per_concept: dict[str, list] = defaultdict(list)
        for rf in rn.facts:
            per_concept[rf.fact.concept_id].append(rf)
        qas = []
        for concept_id, rfs in per_concept.items():
            concept = by_id.get(concept_id)
            if concept is None or any(rf.decision is None for rf in rfs):
                continue  # undecided: the reviewer has not said what the note answers
            if all(rf.fact.answer is None for rf in rfs):
                continue  # derived facts only: nothing the reader reads
            question = question_for(concept, note.lang)
            if question is None:
                continue
            spans = sorted({s for rf in rfs for s in _spans_right(rf)})
            qas.append({"id": question_id(note.id, concept_id), "question": question,
                        "answers": [{"text": text, "answer_start": start} for start, _, text in spans],
                        "is_impossible": not spans})
            report.questions += 1
            report.answerable += bool(spans)
            report.unanswerable += not spans
        if qas:
            out[note.lang].append({"title": note.id, "paragraphs": [{"context": note.text, "qas": qas}]})
            report.notes += 1
    return out


def gold_value(value: Value, concept: Concept) -> Any:
    """The canonical gold value (kgqa.evaluation.gold): member ids for enumerations, else the typed value."""
    if value.member_iri:
        for member in concept.members:
            if value.member_iri in (member.iri, member.target_iri):
                return member.id
    if concept.kind is ValueKind.BOOLEAN and isinstance(value.value, bool):
        return value.value and value.assertion is not Assertion.NEGATED
    return value.value


def _annotation(fact: Fact, concept: Concept) -> GoldAnnotation:
    a = fact.answer
    assert a is not None
    negated = fact.value.assertion is Assertion.NEGATED
    return GoldAnnotation(concept.id, a.start, a.end, a.text, gold_value(fact.value, concept),
                          "negated" if negated else "present")


def gold_notes(notes: Iterable[ReviewNote], concepts: Sequence[Concept], report: ExportReport) -> list[GoldNote]:
    by_id = {c.id: c for c in concepts}
    out = []
    for rn in notes:
        if not any(rf.decision is not None for rf in rn.facts):
            continue  # not reviewed at all: not "left out", just not gold
        if any(rf.decision is None for rf in rn.facts):
            report.gold_skipped["facts not decided"] += 1
            continue
        annotations: list[GoldAnnotation] = []
        skip = ""
        for rf in rn.facts:
            d = rf.decision
            concept = by_id.get(rf.fact.concept_id)
            if concept is None or d is None:
                continue
            if d.action == "reject" and d.reason == "wrong_value":
                skip = "a value rejected as wrong, not corrected"
                break
            kept = rf.correction if d.action == "correct" else (rf.fact if d.action == "accept" else None)
            if kept is not None:
                if kept.answer is None:
                    continue  # derived: gold marks what the text says
                if not kept.value.ok:
                    skip = "an accepted value the values stage refused"
                    break
                annotations.append(_annotation(kept, concept))
            elif d.reason == "negated" and concept.kind is ValueKind.BOOLEAN and rf.fact.answer is not None:
                a = rf.fact.answer
                annotations.append(GoldAnnotation(concept.id, a.start, a.end, a.text, False, "negated"))
        if skip:
            report.gold_skipped[skip] += 1
            continue
        unique = list(dict.fromkeys(annotations))
        out.append(GoldNote(rn.stored.note, tuple(unique), split="review"))
        report.gold_notes += 1
        report.gold_annotations += len(unique)
    return out


def write_export(notes: Sequence[ReviewNote], concepts: Sequence[Concept], out_dir: str | Path) -> ExportReport:
    """Write ``squad/review.{lang}.json`` (SQuAD v2.0) and ``review.gold.jsonl`` under ``out_dir``."""
    out = Path(out_dir)
    (out / "squad").mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    for lang, data in sorted(squad_entries(notes, concepts, report).items()):
        path = out / "squad" / f"review.{lang}.json"
        path.write_text(json.dumps({"version": "v2.0", "data": data}, ensure_ascii=False, indent=1), encoding="utf-8")
        report.files.append(str(path))
    gold = gold_notes(notes, concepts, report)
    path = out / "review.gold.jsonl"
    write_gold_jsonl(gold, path)
    report.files.append(str(path))
    log.info("review export: %d questions (%d unanswerable) from %d notes; %d gold notes", report.questions,
             report.unanswerable, report.notes, report.gold_notes)
    return report
