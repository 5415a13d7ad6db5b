"""The review loop's I/O with the triplestore: the facts of a note with their IRIs, and decisions.

Facts are read back from the store (not from ``facts.jsonl``): decisions attach to the store's fact
IRIs, and a re-run of extraction shows up as soon as it is loaded. Note texts come from the notes
source and are matched by digest, as ``kgqa report --store`` does. Decisions are written with
``INSERT DATA`` into the note's review graph, never by replacing a graph, so concurrent writers
cannot lose each other's decisions.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from rdflib import Graph, Literal, URIRef

from kgqa.errors import KgqaError
from kgqa.report.store_source import _FactRows, _py, _value
from kgqa.review.decisions import Decision, ReviewIris
from kgqa.review.vocab import ACTION_NAMES, REASON_NAMES
from kgqa.stores import terms
from kgqa.types import Answer, Concept, Fact, Link, Note

log = logging.getLogger("kgqa.review")

KGQA_RUN = "https://w3id.org/kgqa/vocab#Run"


def load_sparql(name: str) -> str:
    return resources.files("kgqa.review").joinpath(f"sparql/{name}.rq").read_text(encoding="utf-8")


@dataclass(frozen=True)
class StoredNote:
    iri: str
    case_iri: str
    note: Note


@dataclass(frozen=True)
class StoredFact:
    iri: str
    fact: Fact
    #: what generated it: a run (extraction) or a decision (a reviewer's correction)
    generator: str


def _time(node) -> dt.datetime:
    value = node.toPython() if isinstance(node, Literal) else None
    if not isinstance(value, dt.datetime):
        raise KgqaError(f"decision time {node!r} is not an xsd:dateTime")
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class ReviewStore:
    """Facts and decisions of the notes a run wrote (all runs when ``run_iri`` is None)."""

    def __init__(self, store, notes: Iterable[Note], concepts: Sequence[Concept], run_iri: str | None = None) -> None:
        if not callable(getattr(store, "update", None)):
            raise KgqaError(f"store kind {getattr(store, 'kind', '?')!r} cannot take SPARQL updates")
        self.store = store
        self.concepts = tuple(concepts)
        self.by_concept = {c.id: c for c in self.concepts}
        self.run_iri = run_iri
        self._texts = {n.sha256: n for n in notes}

    # ------------------------------------------------------------------ notes

    def notes(self) -> list[StoredNote]:
        """The store's notes whose text the notes source has, in the notes source's order."""
        bindings = {"run": URIRef(self.run_iri)} if self.run_iri else None
        found: dict[str, StoredNote] = {}
        unmatched = 0
        for row in self.store.query(load_sparql("notes"), bindings).dicts():
            note = self._texts.get(str(row["sha256"]))
            if note is None:
                unmatched += 1
                continue
            found.setdefault(note.id, StoredNote(str(row["note"]), str(row["case"]), note))
        if unmatched:
            log.warning("%d notes in the store have no text in the notes source (not shown)", unmatched)
        order = {n.id: i for i, n in enumerate(self._texts.values())}
        return sorted(found.values(), key=lambda s: order[s.note.id])

    # ------------------------------------------------------------------ facts

    def facts(self, note: StoredNote) -> list[StoredFact]:
        """Every fact of the note: the extraction's and reviewers' corrections (see ``generator``)."""
        bind = {"note": URIRef(note.iri)}
        rows: dict[str, _FactRows] = {}
        generators: dict[str, str] = {}
        for row in self.store.query(load_sparql("facts"), bind).dicts():
            key = str(row["fact"])
            if key not in rows:
                rows[key] = _FactRows(row)
            rows[key].add(row)
            # a correction's generator is its decision; an extracted fact's is a run (typed kgqa:Run)
            generators.setdefault(key, str(row["gen"]))
        links: dict[str, list[Link]] = defaultdict(list)
        for row in self.store.query(load_sparql("links"), bind).dicts():
            links[str(row["fact"])].append(Link(
                iri=str(row["term"]), label=_py(row.get("label")) or "", score=float(row["score"].toPython()),
                source=_py(row.get("source")) or "", matched=_py(row.get("matched")) or "",
                lang=getattr(row.get("label"), "language", None)))
        derived: dict[str, set[str]] = defaultdict(set)
        for row in self.store.query(load_sparql("derived"), bind).dicts():
            derived[str(row["fact"])].add(str(row["sourceConcept"]))
        text = note.note
        out: list[StoredFact] = []
        for key, fact_rows in rows.items():
            first = fact_rows.first
            concept_id = str(first["conceptId"])
            answer = None
            if first.get("start") is not None:
                start, end = int(first["start"].toPython()), int(first["end"].toPython())
                if not (0 <= start < end <= len(text.text)) or text.text[start:end] != str(first["exact"]):
                    raise KgqaError(f"note #{self.index_of(note)}: evidence offsets in the store do not slice "
                                    "the note text (another version of the note?)")
                question = first.get("question")
                answer = Answer.from_note(
                    text, concept_id, start, end,
                    score=float(_py(first.get("score")) or 0.0), null_score=float(_py(first.get("nullScore")) or 0.0),
                    confidence=float(_py(first.get("confidence")) or 0.0), question=_py(question) or "",
                    question_lang=getattr(question, "language", None) or text.lang,
                    rank=int(_py(first.get("rank")) or 0))
            value = _value(fact_rows, self.by_concept.get(concept_id), answer.text if answer else None)
            sources = tuple(sorted(derived.get(key, ()))) or (() if answer is not None else ("(unknown)",))
            fact = Fact(text.id, concept_id, value, answer, links=tuple(links.get(key, ())), derived_from=sources)
            out.append(StoredFact(key, fact, generators[key]))
        return out

    def index_of(self, note: StoredNote) -> int:
        return next((i for i, n in enumerate(self._texts.values()) if n.id == note.note.id), -1)

    # ------------------------------------------------------------------ decisions

    def decisions(self, note: StoredNote | None = None) -> list[Decision]:
        bindings = {"note": URIRef(note.iri)} if note is not None else None
        out = []
        for row in self.store.query(load_sparql("decisions"), bindings).dicts():
            reason = row.get("reason")
            correction = row.get("correction")
            out.append(Decision(
                iri=str(row["decision"]), fact_iri=str(row["fact"]), note_iri=str(row["note"]),
                action=ACTION_NAMES[str(row["action"])], reviewer=str(row["reviewer"]), at=_time(row["at"]),
                reason=REASON_NAMES[str(reason)] if reason is not None else None,
                correction_iri=str(correction) if correction is not None else None))
        return sorted(out, key=lambda d: (d.at, d.iri))

    def seen(self, note: StoredNote) -> set[str]:
        return {str(r["fact"]) for r in self.store.query(load_sparql("seen"), {"note": URIRef(note.iri)}).dicts()}

    def record(self, graph: Graph) -> None:
        """Add a decision's triples to its review graph (one ``INSERT DATA``: atomic, and additive)."""
        name = terms.graph_name(graph)
        body = terms.ntriples(graph, terms.bnode_scope(name))
        self.store.update(f"INSERT DATA {{ GRAPH {terms.iri(name)} {{\n{body}}} }}")


def review_graph_iri(note_iri: str) -> str:
    return str(ReviewIris(note_iri).graph)


def by_fact(decisions: Iterable[Decision]) -> Mapping[str, list[Decision]]:
    out: dict[str, list[Decision]] = defaultdict(list)
    for d in decisions:
        out[d.fact_iri].append(d)
    return out
