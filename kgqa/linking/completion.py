"""Completing a drug list from what the reader found in it.

Measured on notes the generator did not write, the reader answers a discharge list ("Th: dabigatran
110 mg 1-0-1, atorvastatin 20 mg, metoprolol 50 mg.") through the prescription questions it asks one by
one ("Was a statin prescribed at discharge?" → "atorvastatin") and rarely with the whole list, so every
drug no question names (metoprolol, insulin, a second antiplatelet) was lost: recall of discharge
prescriptions 0.65 on the test notes where the drugs linked from the whole list give 0.98.

So a drug the reader found in the list's group — an answer of the list concept itself, or a yes/no
prescription concept of the same group answered "yes" — is a seed: the enumeration around it (its line or
sentence, after a heading's colon) is split into items (:func:`kgqa.linking.lists.item_spans`), and the
items on either side of the seed's that link to a drug are taken while they last. An enumeration of at
least two drugs, not headed as home medication (:data:`kgqa.values.timepoint.HOME_MEDICATION`: "Tto
domiciliario:", "Regular meds:" — a discharge question answered there is the reader's error, and growing it
would file every home drug as prescribed at discharge), becomes an answer of the list concept over exactly
those items; normalising and linking it then links every drug, and :mod:`kgqa.values.derive` files each
under its RES-Q prescription category.

The completed answer keeps the question, scores and confidence of the seed it grew from (its evidence is
what the reader found; the neighbours are added by the list's own structure, not by a model), and it
replaces the list concept's answers it contains. Pure given a linker; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from kgqa.linking.lists import item_spans
from kgqa.types import Answer, Assertion, Concept, Fact, Link, Note, ValueKind
from kgqa.values.timepoint import home_medication_list

#: where an enumeration ends: a line break or a sentence's full stop ("2.5 mg" is no sentence end)
_CLAUSE_END = re.compile(r"\n|\.(?=\s|$)")
#: where it starts: a line break, a sentence end, or a heading's colon ("Th:", "Zalecenia:", "Αγωγή:")
_CLAUSE_START = re.compile(r"\n|\.\s|:")

#: links of one text for the list concept in a language: ``Linker.link`` bound to a concept
LinkText = Callable[[str], Sequence[Link]]


def enumeration_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause of ``text`` around ``[start, end)`` that a list would fill: from after the last line
    break, sentence end or colon before the span to the next line break or sentence end after it."""
    left = 0
    for m in _CLAUSE_START.finditer(text, max(0, start - 2000), start):
        left = m.end()
    m = _CLAUSE_END.search(text, end, min(len(text), end + 2000))
    return left, (m.start() if m else min(len(text), end + 2000))


def _is_drug(links: Sequence[Link]) -> bool:
    return bool(links) and links[0].term_id.startswith("ATC:")


def drug_run(text: str, start: int, end: int, link: LinkText) -> tuple[int, int] | None:
    """The run of drug items around the seed span ``[start, end)``: ``(first item start, last item end)``
    when at least two contiguous items of its enumeration link to a drug (the seed's own item among
    them), else None."""
    lo, hi = enumeration_bounds(text, start, end)
    items = item_spans(text, lo, hi)
    seed = next((i for i, (s, e) in enumerate(items) if s < end and start < e), None)
    if seed is None:
        return None
    drug = [_is_drug(link(text[s:e])) for s, e in items]
    if not drug[seed]:
        return None
    first = last = seed
    while first > 0 and drug[first - 1]:
        first -= 1
    while last + 1 < len(items) and drug[last + 1]:
        last += 1
    if first == last or home_medication_list(text, items[first][0]):
        return None
    return items[first][0], items[last][1]


def complete_lists(
    note: Note,
    facts: Sequence[Fact],
    concepts: Sequence[Concept],
    link_for: Callable[[Concept], LinkText],
) -> tuple[list[Answer], set[Answer]]:
    """New answers of the drug-list concepts among ``concepts``, grown from the seeds in ``facts``, and
    the existing list answers they replace (contained in a new one)."""
    added: list[Answer] = []
    replaced: set[Answer] = set()
    group_of = {c.id: c.group for c in concepts}
    for concept in concepts:
        if concept.kind is not ValueKind.DRUG or not concept.is_list:
            continue
        own = [f.answer for f in facts if f.concept_id == concept.id and f.answer is not None]
        seeds = own + [
            f.answer
            for f in facts
            if f.answer is not None
            and f.value.kind is ValueKind.BOOLEAN
            and f.value.ok
            and f.value.value is True
            and f.value.assertion is Assertion.PRESENT
            and group_of.get(f.concept_id) == concept.group
        ]
        link = link_for(concept)
        runs: dict[tuple[int, int], Answer] = {}
        for seed in sorted(seeds, key=lambda a: -a.confidence):
            run = drug_run(note.text, seed.start, seed.end, link)
            if run is None or any(s < run[1] and run[0] < e for s, e in runs):
                continue
            runs[run] = seed
        for (s, e), seed in sorted(runs.items()):
            inside = [a for a in own if s <= a.start and a.end <= e]
            if any((a.start, a.end) == (s, e) for a in inside):
                continue  # the reader answered the whole list itself
            replaced.update(inside)
            added.append(Answer.from_note(
                note, concept.id, s, e, score=seed.score, null_score=seed.null_score, confidence=seed.confidence,
                question=seed.question, question_lang=seed.question_lang, rank=seed.rank,
            ))
    return added, replaced
