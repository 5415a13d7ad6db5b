"""Which question of a concept is asked of a note (``reader.question_lang`` / ``reader.fallback_lang``)."""

from __future__ import annotations

import logging

from kgqa.errors import ConfigError
from kgqa.types import LANGUAGES, Concept

log = logging.getLogger(__name__)

#: ask each note in its own language
NOTE_LANG = "note"


def check_question_lang(question_lang: str, fallback_lang: str) -> None:
    if question_lang != NOTE_LANG and question_lang not in LANGUAGES:
        raise ConfigError(
            f"reader.question_lang: {question_lang!r} is not {NOTE_LANG!r} or one of {', '.join(LANGUAGES)}"
        )
    if fallback_lang and fallback_lang not in LANGUAGES:
        raise ConfigError(f"reader.fallback_lang: {fallback_lang!r} is not one of {', '.join(LANGUAGES)}")


def choose_question(
    concept: Concept, note_lang: str, question_lang: str, fallback_lang: str
) -> tuple[str, str] | None:
    """``(question, lang)`` for a note: the wanted language, else the fallback, else any (in LANGUAGES order).

    XLM-R is cross-lingual, so a question in another language still works, only less well; asking
    it beats silently skipping the concept. None only for a concept without questions.
    """
    wanted = note_lang if question_lang == NOTE_LANG else question_lang
    order = [wanted, fallback_lang] + [lang for lang in LANGUAGES if lang in concept.questions]
    for lang in order:
        if lang and concept.questions.get(lang):
            if lang != wanted:
                log.debug("concept %s has no %s question; asking in %s", concept.id, wanted, lang)
            return concept.questions[lang][0], lang
    return None
