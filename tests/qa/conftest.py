"""Fixtures of the reader tests: concepts in several languages and notes in all seven scripts."""

from __future__ import annotations

import pytest

from kgqa.types import Concept, Note

#: one note per language, with the characters XLM-R offsets trip over
SCRIPT_NOTES = {
    "en": "Admitted 24.12.2025 at 14:35.\r\nNIHSS\t8 (on admission); alteplase 0.9 mg/kg … "
    "door-to-needle 38 min.",
    "bg": "Пациентът е приет с остър исхемичен инсулт.\r\nNIHSS при приема 8 точки; «Аспирин» 100 мг.",
    "cs": "Pacient přijat s akutní ischemickou cévní mozkovou příhodou, NIHSS 8 b., "
    "bez trombolýzy.\u00a0Kouření ano.",
    "el": "Ο ασθενής εισήχθη με οξύ ισχαιμικό επεισόδιο.\tNIHSS 8.\u200bΔεν χορηγήθηκε θρομβόλυση 😀.",
    "es": "Paciente ingresado por ictus isquémico agudo. NIHSS 8 al ingreso. No se realizó trombólisis\u2026",
    "pl": "Pacjent przyjęty z ostrym udarem niedokrwiennym mózgu.\r\n\r\nNIHSS 8 pkt. Żółć, źdźbło, łąka.",
    "ro": "Pacientul a fost internat cu AVC ischemic acut; tensiunea arterială 180/95 mmHg, "
    "glicemie 7,2 mmol/l.",
}


@pytest.fixture(scope="session")
def script_notes() -> list[Note]:
    return [Note(id=f"note-{lang}", text=text, lang=lang) for lang, text in SCRIPT_NOTES.items()]


@pytest.fixture(scope="session")
def concepts() -> list[Concept]:
    return [
        Concept(
            id="nihss_admission",
            group="scores",
            kind="integer",
            target_class="resq:NIHSS",
            questions={
                "en": ("What was the NIHSS score on admission?",),
                "el": ("Ποιο ήταν το NIHSS κατά την εισαγωγή;",),
            },
            max_answer_tokens=8,
        ),
        Concept(
            id="drugs",
            group="treatment",
            kind="drug",
            target_class="resq:Drug",
            questions={"en": ("Which drugs were given?",), "pl": ("Jakie leki podano?",)},
            cardinality="many",
        ),
    ]
