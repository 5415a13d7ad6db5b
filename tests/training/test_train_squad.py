"""SQuAD/BioASQ loading: flattening, ids, answer repair, counts — on fixtures and (if present) real data."""

import json
from pathlib import Path

import pytest

from kgqa.errors import ConfigError
from training.squad import AnswerSpan, align_answer, load_bioasq, load_dataset_file, load_squad

FIXTURES = Path(__file__).parent / "fixtures"
CONTEXT = "NIHSS 8 on admission; NIHSS 4 at discharge. Alteplase given."


@pytest.mark.parametrize(
    "text, start, expected, how",
    [
        ("NIHSS 8", 0, AnswerSpan("NIHSS 8", 0), "ok"),
        (" Alteplase ", 43, AnswerSpan("Alteplase", 44), "ok"),  # right offset, padded text: trimmed
        (" Alteplase", 42, AnswerSpan("Alteplase", 44), "repaired"),  # COVID-QA-style off-by-few
        ("Alteplase", 10, AnswerSpan("Alteplase", 44), "repaired"),  # far off, but only one occurrence
        ("NIHSS", 3, AnswerSpan("NIHSS", 0), "repaired"),  # two occurrences, one within reach
        ("S", 5, None, "dropped"),  # "NIHSS": two occurrences within reach of 5: ambiguous
        ("NIHSS", 30, None, "dropped"),  # two occurrences, neither near: ambiguous
        ("tenecteplase", 5, None, "dropped"),  # not in the context at all
        ("   ", 0, None, "dropped"),
        ("discharge", None, AnswerSpan("discharge", 33), "repaired"),  # no offset given, unique
    ],
)
def test_align_answer(text, start, expected, how):
    span, got = align_answer(CONTEXT, text, start)
    assert (span, got) == (expected, how)
    if span is not None:
        assert CONTEXT[span.start : span.end] == span.text


def test_fixture_is_flattened_with_quirks_counted():
    examples, report = load_squad(FIXTURES / "tiny_squad_v2.json", "fx", "en")
    assert report.questions == len(examples) == 19
    assert report.unanswerable == 4 == sum(ex.is_impossible for ex in examples)
    assert report.answers_repaired == 1  # " alteplase" two characters early
    assert report.missing_ids == 1
    ids = [ex.id for ex in examples]
    assert len(set(ids)) == len(ids) and "a1-p0-q0" in ids  # generated from the position
    for ex in examples:
        for a in ex.answers:
            assert ex.context[a.start : a.end] == a.text
        assert bool(ex.answers) != ex.is_impossible


def test_duplicate_ids_and_empty_answers(tmp_path):
    doc = {
        "data": [
            {
                "paragraphs": [
                    {
                        "context": "Aspirin 100 mg daily.",
                        "qas": [
                            {
                                "id": 7,
                                "question": "Drug?",
                                "answers": [
                                    {"text": "Aspirin", "answer_start": 0},
                                    {"text": "", "answer_start": -1},
                                ],
                            },
                            {
                                "id": 7,
                                "question": "Dose?",
                                "answers": [{"text": "100 mg", "answer_start": 8}],
                            },
                            {
                                "id": 8,
                                "question": "Route?",
                                "answers": [{"text": "orally", "answer_start": 3}],
                            },
                        ],
                    }
                ]
            }
        ]
    }
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc))
    examples, report = load_squad(path, "d", "en")
    assert [ex.id for ex in examples] == ["7", "7#2", "8"]
    assert report.duplicate_ids == 1 and report.answers_empty == 1
    # an answerable question whose only answer cannot be aligned is kept for evaluation, without spans
    assert (
        report.unaligned_questions == 1
        and examples[2].answers == ()
        and examples[2].gold_texts == ("orally",)
    )


def test_string_offsets_are_read_as_numbers(tmp_path):
    doc = {
        "data": [
            {
                "paragraphs": [
                    {
                        "context": "NIHSS 8 on admission.",
                        "qas": [
                            {
                                "id": "a",
                                "question": "NIHSS?",
                                "answers": [{"text": "8", "answer_start": "6"}],
                            },
                            {
                                "id": "b",
                                "question": "Score?",
                                "answers": [{"text": "NIHSS 8", "answer_start": 0.0}],
                            },
                        ],
                    }
                ]
            }
        ]
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    examples, report = load_squad(path, "s", "en")
    assert [ex.answers for ex in examples] == [(AnswerSpan("8", 6),), (AnswerSpan("NIHSS 8", 0),)]
    assert report.answers_ok == 2


def test_bioasq_snippets_become_examples(tmp_path):
    doc = {
        "questions": [
            {
                "id": "b1",
                "type": "factoid",
                "body": "Which drug is a tissue plasminogen activator?",
                "exact_answer": [["alteplase", "rt-PA"]],
                "snippets": [
                    {"text": "Intravenous Alteplase remains the standard."},
                    {"text": "Thrombectomy improves outcomes."},
                    {"text": "rt-PA was given within 3 hours."},
                ],
            },
            {"id": "b2", "type": "yesno", "body": "Is aspirin safe?", "exact_answer": "yes", "snippets": []},
        ]
    }
    path = tmp_path / "bioasq.json"
    path.write_text(json.dumps(doc))
    examples, report = load_bioasq(path, "bioasq", "en")
    assert [ex.id for ex in examples] == ["b1_000", "b1_002"]
    assert examples[0].answers == (
        AnswerSpan("Alteplase", 12),
    )  # matched case-insensitively, sliced as written
    assert report.skipped == {"snippet without answer": 1, "type yesno": 1}


@pytest.mark.parametrize(
    "content, fmt, message",
    [
        ("{}", "squad", "not SQuAD format"),
        ("[1]", "bioasq", "not BioASQ format"),
        ("{", "squad", "not valid JSON"),
    ],
)
def test_bad_files_name_the_file(tmp_path, content, fmt, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as exc:
        load_dataset_file(path, dataset="bad", lang="en", fmt=fmt)
    assert "bad" in str(exc.value)


def test_unknown_format_lists_the_valid_ones(tmp_path):
    with pytest.raises(ConfigError, match="bioasq, squad"):
        load_dataset_file(tmp_path / "x.json", dataset="x", lang="en", fmt="natural_questions")


def test_real_datasets_quirks(shared_data):
    """COVID-QA: 234 off-by-one answers repaired; PoQuAD: no ids; SQuAD-es v2: empty answer padding."""
    _, covid = load_squad(shared_data / "covid_qa" / "200423_covidQA.json", "covid_qa", "en")
    assert (covid.answers_repaired, covid.answers_dropped, covid.examples) == (234, 0, 1380)
    _, poquad = load_squad(shared_data / "poquad" / "poquad_dev.json", "poquad", "pl")
    assert poquad.missing_ids == poquad.examples == 3690 and poquad.unanswerable == 637
    _, es = load_squad(shared_data / "squad_es" / "dev-v2.0-es_small.json", "es", "es")
    assert es.unanswerable == 3256 and es.answers_dropped == 0 and es.answers_empty > 0
