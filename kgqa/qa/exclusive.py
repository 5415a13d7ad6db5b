"""Decisions across concepts: one span of a note answers at most one concept of an exclusive set.

Each question is decoded on its own, so the same characters can answer several questions: measured on
independently written notes, "mRS 2" answered both the pre-stroke and the discharge mRS in 10 of 24 notes, the
arrival time answered the onset question, a home drug the discharge question. The catalogue declares which
concepts exclude each other (``exclusive:`` sets, docs/catalogue.md); here every set's answers that overlap are
given to the concept whose answer is most confident, and the others lose that answer (a list concept keeps its
other items). Concepts in no common set are never compared: one blood-pressure span answers both the systolic
and the diastolic question.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kgqa.types import Answer, Concept


def resolve_exclusive(answers: Sequence[Answer], concepts: Mapping[str, Concept]) -> list[Answer]:
    """``answers`` (of one note) without those that lose an overlap to a more confident one of the same set.

    Greedy by confidence, then raw score (deterministic): an answer is kept unless it overlaps a kept answer of
    *another* concept that shares an exclusive set with it. Order of the survivors is the input order.
    """
    def sets_of(answer: Answer) -> frozenset[str]:
        concept = concepts.get(answer.concept_id)
        return frozenset(concept.exclusive_sets) if concept is not None else frozenset()

    ranked = sorted(
        (a for a in answers if sets_of(a)), key=lambda a: (-a.confidence, -a.score, a.concept_id, a.start)
    )
    kept: list[Answer] = []
    dropped: set[int] = set()
    for answer in ranked:
        mine = sets_of(answer)
        if any(
            other.concept_id != answer.concept_id
            and other.start < answer.end
            and answer.start < other.end
            and mine & sets_of(other)
            for other in kept
        ):
            dropped.add(id(answer))
        else:
            kept.append(answer)
    return [a for a in answers if id(a) not in dropped]
