"""Wires the stages: notes -> reader -> values -> linker -> RDF. No I/O of its own.

Each stage is given to :class:`Pipeline` as an object with the agreed method (see DESIGN.md), so
tests can hand in any implementation and the CLI hands in the configured ones. Failures are
isolated per note: a note whose answers cannot be normalised or built into RDF becomes a
:class:`~kgqa.types.NoteError` and the rest of the batch completes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import rdflib

from kgqa.types import Answer, Concept, Fact, Link, Note, NoteError, RunInfo, Value, ValueKind, ValueStatus
from kgqa.values.enums import chosen_member

log = logging.getLogger(__name__)

#: value kinds whose spans are linked to ontology terms
LINKED_KINDS = frozenset({ValueKind.ENUM, ValueKind.DRUG, ValueKind.TEXT})


def resolve_enum(value: Value, links: Sequence[Link], concept: Concept) -> Value:
    """An enumeration value must end as one of its members: by label (values) or by the best link.

    The values stage keeps a span that matches no member label as text for the linker; when the
    linker's best link is no member either ("ZRM" for the patient's sex), the span names none of the
    allowed values and the fact is UNPARSED with the reason, not a free-text value nobody can query.
    """
    if concept.kind is not ValueKind.ENUM or not concept.members or not value.ok or value.member_iri:
        return value
    if chosen_member(concept, value, links) is not None:
        return value
    return replace(
        value,
        status=ValueStatus.UNPARSED,
        reason=f"{concept.id}: {value.value!r} is none of its members ({', '.join(m.id for m in concept.members)})",
    )


class ReaderLike(Protocol):
    def read(self, notes: Sequence[Note], concepts: Sequence[Concept]) -> Mapping[str, list[Answer]]: ...


class LinkerLike(Protocol):
    def link(self, text: str, concept: Concept, lang: str) -> tuple[Link, ...]: ...


class BuilderLike(Protocol):
    def note_graph(self, note: Note, facts: Sequence[Fact], run: RunInfo) -> rdflib.Graph: ...


Normaliser = Callable[[Answer, Concept, Note], Value]
Deriver = Callable[[Sequence[Fact], object, Note], list]


@dataclass(frozen=True)
class NoteResult:
    note: Note
    facts: tuple[Fact, ...]
    graph: rdflib.Graph


@dataclass
class BatchResult:
    results: list[NoteResult] = field(default_factory=list)
    errors: list[NoteError] = field(default_factory=list)


@dataclass
class Pipeline:
    catalogue: object  # kgqa.catalogue.Catalogue: iterable of Concept with .get(id)
    reader: ReaderLike
    normalise: Normaliser
    linker: LinkerLike | None
    builder: BuilderLike
    derive: Deriver | None = None
    #: ask the reader note by note: a note's answers then never depend on which other notes shared its
    #: batches (padding changes float rounding), so any partitioning of the input gives identical output
    read_per_note: bool = True
    #: grow a drug list's answer over the whole enumeration a found drug sits in (``linker.complete_lists``;
    #: :mod:`kgqa.linking.completion`)
    complete_lists: bool = True

    def __post_init__(self) -> None:
        self.concepts: tuple[Concept, ...] = tuple(self.catalogue)
        self._by_id = {c.id: c for c in self.concepts}

    # ------------------------------------------------------------------ stages per note

    def facts_for(self, note: Note, answers: Sequence[Answer]) -> list[Fact]:
        facts = [self._fact(note, answer) for answer in answers]
        if self.complete_lists and self.linker is not None:
            facts = self._complete_lists(note, facts)
        if self.derive is not None:
            facts.extend(self.derive(facts, self.catalogue, note))
        return facts

    def _fact(self, note: Note, answer: Answer) -> Fact:
        answer.check_against(note)  # offsets are the truth: never let a shifted span through
        concept = self._by_id[answer.concept_id]
        value = self.normalise(answer, concept, note)
        links: tuple[Link, ...] = ()
        if self.linker is not None and concept.kind in LINKED_KINDS and value.member_iri is None:
            links = self.linker.link(answer.text, concept, note.lang)
            value = resolve_enum(value, links, concept)
        return Fact(note_id=note.id, concept_id=concept.id, value=value, answer=answer, links=links)

    def _complete_lists(self, note: Note, facts: list[Fact]) -> list[Fact]:
        from kgqa.linking.completion import complete_lists

        linker = self.linker
        assert linker is not None
        added, replaced = complete_lists(
            note, facts, self.concepts, lambda concept: lambda text: linker.link(text, concept, note.lang)
        )
        if not added:
            return facts
        return [f for f in facts if f.answer not in replaced] + [self._fact(note, a) for a in added]

    def _read(self, notes: Sequence[Note], errors: list[NoteError]) -> dict[str, list[Answer]]:
        if self.read_per_note and len(notes) > 1:
            answers: dict[str, list[Answer]] = {}
            for note in notes:
                answers.update(self._read([note], errors))
            return answers
        try:
            return dict(self.reader.read(notes, self.concepts))
        except Exception as exc:  # noqa: BLE001 - isolate the failing note below
            if len(notes) == 1:
                errors.append(NoteError(source=notes[0].source, note_id=notes[0].id, stage="qa", reason=_reason(exc)))
                return {}
            log.warning("reader failed on a batch of %d notes (%s); retrying note by note", len(notes), type(exc).__name__)
            answers: dict[str, list[Answer]] = {}
            for note in notes:
                answers.update(self._read([note], errors))
            return answers

    def process(
        self, notes: Sequence[Note], run: RunInfo, on_note: Callable[[Note], None] | None = None
    ) -> BatchResult:
        """Facts and graph of every note, failures isolated per note; ``on_note`` is called as each note ends.

        With ``read_per_note`` a note is read, normalised and built before the next one is read, so a
        caller's progress (and an interruption) moves note by note, not batch by batch.
        """
        batch = BatchResult()
        if self.read_per_note:
            for note in notes:
                self._finish([note], self._read([note], batch.errors), run, batch, on_note)
            return batch
        self._finish(notes, self._read(notes, batch.errors), run, batch, on_note)
        return batch

    def _finish(
        self,
        notes: Sequence[Note],
        answers: Mapping[str, list[Answer]],
        run: RunInfo,
        batch: BatchResult,
        on_note: Callable[[Note], None] | None,
    ) -> None:
        failed = {e.note_id for e in batch.errors}
        for note in notes:
            if note.id not in failed:
                stage = "values"
                try:
                    facts = self.facts_for(note, answers.get(note.id, []))
                    stage = "rdf"
                    graph = self.builder.note_graph(note, facts, run)
                except Exception as exc:  # noqa: BLE001 - one bad note must not stop the batch
                    log.warning("note %s failed in stage %s: %s", note.id, stage, type(exc).__name__)
                    batch.errors.append(NoteError(source=note.source, note_id=note.id, stage=stage, reason=_reason(exc)))
                else:
                    batch.results.append(NoteResult(note=note, facts=tuple(facts), graph=graph))
            if on_note is not None:
                on_note(note)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
