"""Records of the review tests: two notes (en, es) read by the real values stage against the
shipped catalogue, written by kgqa's RDF builder and loaded into a store, as `kgqa run` would."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from kgqa import PROJECT_ROOT
from kgqa.catalogue import load_catalogue
from kgqa.pipeline import resolve_enum
from kgqa.rdf import RdfBuilder, RdfConfig
from kgqa.types import Answer, Fact, ModelInfo, Note, RunInfo, ValueKind
from kgqa.values import normalise

ENV = {"KGQA_PSEUDONYM_KEY": "review-tests"}
CONCEPT_IDS = ("age", "nihss_score", "thrombolysis", "thrombectomy", "discharge_mrs", "risk_hypertension",
               "systolic_pressure")

TEXT_EN = ("Man, 71 years. NIHSS 12 on admission, blood pressure 185/100. Alteplase thrombolysis given. "
           "No hypertension known. Previous NIHSS 4 in 2019. mRS at discharge 2.")
TEXT_ES = "Mujer de 80 años. NIHSS 7 al ingreso. Se realizó trombectomía mecánica. mRS al alta 3."

#: per note: (concept, the words the reader "found", confidence); sliced by offset below
ANSWERS = {
    "note-en": [("age", "71", 0.92), ("nihss_score", "NIHSS 12", 0.88), ("thrombolysis", "Alteplase thrombolysis", 0.95),
                ("risk_hypertension", "hypertension", 0.41), ("discharge_mrs", "2", 0.35),
                ("systolic_pressure", "185/100", 0.7)],
    "note-es": [("age", "80", 0.9), ("nihss_score", "NIHSS 7", 0.8), ("thrombectomy", "trombectomía mecánica", 0.9)],
}

RUN = RunInfo(run_id="run-r1", started_at=dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc),
              kgqa_version="0.1.0", model=ModelInfo(path="/models/m", sha256="a" * 64, name="m"),
              config_digest="d" * 64)


def run(run_id: str) -> RunInfo:
    return replace(RUN, run_id=run_id)


def catalogue():
    return load_catalogue(PROJECT_ROOT / "kgqa/resources/catalogue/resq.yaml").select(ids=CONCEPT_IDS)


def notes() -> list[Note]:
    return [Note("note-en", TEXT_EN, "en", patient_id="P-001", admission_date=dt.date(2026, 11, 30)),
            Note("note-es", TEXT_ES, "es", patient_id="P-002", admission_date=dt.date(2026, 11, 29))]


def span(note: Note, words: str) -> tuple[int, int]:
    start = note.text.index(words)
    return start, start + len(words)


def read(note: Note, concept, start: int, end: int, confidence: float) -> Fact:
    answer = Answer.from_note(note, concept.id, start, end, score=4.0, null_score=-1.0, confidence=confidence,
                              question=concept.questions.get(note.lang, concept.questions["en"])[0],
                              question_lang=note.lang)
    value = normalise(answer, concept, note)
    if concept.kind is ValueKind.ENUM:
        value = resolve_enum(value, (), concept)
    return Fact(note.id, concept.id, value, answer)


def facts(cat, notes_: list[Note], answers=ANSWERS) -> list[Fact]:
    out = []
    for note in notes_:
        for concept_id, words, confidence in answers.get(note.id, ()):
            out.append(read(note, cat.get(concept_id), *span(note, words), confidence))
    return out


@dataclass
class Extraction:
    notes: list[Note]
    facts: list[Fact]
    graphs: list
    builder: RdfBuilder


def extract(cat, notes_: list[Note], answers=ANSWERS, run: RunInfo = RUN) -> Extraction:
    builder = RdfBuilder(RdfConfig(), cat, environ=ENV)
    fs = facts(cat, notes_, answers)
    graphs = [builder.note_graph(n, [f for f in fs if f.note_id == n.id], run) for n in notes_]
    graphs.append(builder.run_graph(run, notes_))
    return Extraction(notes_, fs, graphs, builder)
