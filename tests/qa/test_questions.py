"""Which question language is asked of a note."""

import pytest

from kgqa.errors import ConfigError
from kgqa.qa.questions import check_question_lang, choose_question
from kgqa.types import Concept


def concept(*langs: str) -> Concept:
    return Concept(
        id="c",
        group="g",
        kind="integer",
        target_class="x",
        questions={lang: (f"q-{lang}",) for lang in langs},
    )


@pytest.mark.parametrize(
    "question_lang,fallback,note_lang,langs,expected",
    [
        ("note", "en", "el", ("en", "el"), "el"),  # the note's own language
        ("note", "en", "pl", ("en", "el"), "en"),  # missing: fallback
        ("note", "es", "pl", ("en", "es"), "es"),
        ("en", "en", "el", ("en", "el"), "en"),  # always English
        ("cs", "en", "el", ("cs", "en"), "cs"),  # a fixed language
        ("cs", "en", "el", ("en", "el"), "en"),
        ("note", "en", "ro", ("bg", "pl"), "bg"),  # neither: first available in LANGUAGES order
    ],
)
def test_choose_question(question_lang, fallback, note_lang, langs, expected) -> None:
    question, lang = choose_question(concept(*langs), note_lang, question_lang, fallback)
    assert (question, lang) == (f"q-{expected}", expected)


@pytest.mark.parametrize(
    "question_lang,fallback,key", [("de", "en", "question_lang"), ("note", "xx", "fallback_lang")]
)
def test_bad_question_lang_names_the_key(question_lang, fallback, key) -> None:
    with pytest.raises(ConfigError, match=f"reader.{key}"):
        check_question_lang(question_lang, fallback)
