"""Export gold notes to SQuAD v2 JSON (questions from the concept catalogue).

Every concept the generator writes about (:data:`GOLD_CONCEPTS`) becomes one question per note:
answerable with every gold span of that concept, or unanswerable when the note does not mention
it. Catalogue concepts the generator never writes about become unanswerable questions too (a
fraction of them, ``unanswerable_ratio``), except :data:`MAYBE_MENTIONED` — concepts whose answer
a synthetic note may well contain without a gold span (an "any antiplatelet" question about a
note that lists aspirin), which would teach the reader to ignore real answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence

from kgqa.evaluation.gold import GoldNote
from kgqa.types import Concept

#: The catalogue concepts synthetic notes carry gold annotations for.
GOLD_CONCEPTS: tuple[str, ...] = (
    "age", "sex", "onset_timestamp", "hospital_timestamp", "prestroke_mrs", "nihss_score", "gcs_score",
    "glucose", "systolic_pressure", "diastolic_pressure", "cholesterol", "stroke_type",
    "risk_hypertension", "risk_diabetes", "risk_hyperlipidemia", "risk_atrial_fibrillation", "risk_smoker",
    "risk_previous_stroke", "thrombolysis", "ivt_drug", "ivt_drug_dose", "bolus_timestamp", "door_to_needle",
    "thrombectomy", "puncture_timestamp", "discharge_date", "discharge_mrs", "discharge_nihss_score",
    "discharge_destination", "discharge_asa", "discharge_clopidogrel", "discharge_statin", "discharge_apixaban",
    "discharge_rivaroxaban", "discharge_dabigatran", "discharge_warfarin", "discharge_antihypertensives",
)

#: Concepts without gold spans whose answer a synthetic note may nevertheless contain.
MAYBE_MENTIONED: frozenset = frozenset({
    "risk_previous_ischemic_stroke", "risk_previous_hemorrhagic_stroke", "discharge_any_antiplatelet",
    "discharge_any_anticoagulant", "discharge_other", "discharge_other_antiplatelet", "discharge_other_anticoagulant",
    "atrial_fibrillation_or_flutter", "imaging_type", "swallowing_screening_done", "mtici_score", "gcs_level",
    "first_contact_place", "arrival_mode", "hospitalized_in", "admission_department", "no_thrombolysis_reason",
    "no_thrombectomy_reason", "ivt_application_department", "stroke_etiology", "post_treatment_findings",
    "occlusion_found", "old_infarcts", "wakeup_stroke", "door_to_groin", "reperfusion_timestamp",
    "post_stroke_complications", "before_onset_any_antiplatelet", "before_onset_statin",
})


#: Question ids are ``<note id>::<concept id>``: training reads the concept back (per-concept calibration).
CONCEPT_ID_SEPARATOR = "::"


def question_id(note_id: str, concept_id: str) -> str:
    return f"{note_id}{CONCEPT_ID_SEPARATOR}{concept_id}"


def concept_of(question_id: str) -> str:
    """The catalogue concept a question id names (``note::concept``), else ``""`` (plain SQuAD ids)."""
    _, sep, concept = question_id.rpartition(CONCEPT_ID_SEPARATOR)
    return concept if sep and concept else ""


def question_for(concept: Concept, lang: str, fallback_lang: str = "en", variant: int = 0) -> str | None:
    """The catalogue's question in ``lang`` (else ``fallback_lang``), as the reader asks it."""
    questions = concept.questions.get(lang) or concept.questions.get(fallback_lang)
    if not questions:
        return None
    return questions[variant % len(questions)]


def squad_records(
    golds: Iterable[GoldNote],
    concepts: Sequence[Concept],
    *,
    unanswerable_ratio: float = 1.0,
    question_variants: str = "first",
    fallback_lang: str = "en",
    seed: int = 0,
) -> Iterator[dict]:
    """SQuAD v2 ``data`` entries (one article per note, one paragraph per article).

    ``question_variants``: "first" asks the catalogue's preferred phrasing, "random" any of them
    (more variety for training). Unanswerable questions about concepts outside
    :data:`GOLD_CONCEPTS` are kept with probability ``unanswerable_ratio``.
    """
    if question_variants not in ("first", "random"):
        raise ValueError(f"question_variants={question_variants!r}: expected 'first' or 'random'")
    rng = random.Random(seed)
    gold_set = set(GOLD_CONCEPTS)
    for gold in golds:
        note = gold.note
        qas = []
        for concept in concepts:
            if concept.id in MAYBE_MENTIONED:
                continue
            spans = gold.for_concept(concept.id)
            if not spans and concept.id not in gold_set and rng.random() >= unanswerable_ratio:
                continue
            variant = rng.randrange(1_000) if question_variants == "random" else 0
            question = question_for(concept, note.lang, fallback_lang, variant)
            if question is None:
                continue
            qas.append({
                "id": question_id(note.id, concept.id),
                "question": question,
                "answers": [{"text": a.text, "answer_start": a.start} for a in spans],
                "is_impossible": not spans,
            })
        yield {"title": note.id, "paragraphs": [{"context": note.text, "qas": qas}]}


def to_squad(golds: Iterable[GoldNote], concepts: Sequence[Concept], **kwargs) -> dict:
    """A whole SQuAD v2 document: ``{"version": "v2.0", "data": [...]}``."""
    return {"version": "v2.0", "data": list(squad_records(golds, concepts, **kwargs))}
