"""MLM corpus readers, filtering, dedup, weighting, the validation split and block packing."""

import random
from collections import Counter
from pathlib import Path

import pytest

from kgqa.errors import ConfigError
from kgqa.tokenizer import train_unigram_tokenizer
from training.config import CorpusSourceConfig, MlmDataConfig
from training.corpus import CorpusStats, CorpusText, is_validation, iter_corpus, read_source, weighted
from training.mlm import tokenize_and_pack

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


def _read(path, fmt, **kw):
    return list(read_source("s", CorpusSourceConfig(path=str(CORPUS / path), format=fmt, **kw)))


def test_codiesp_case_files_take_language_from_folder():
    texts = _read("cases", "codiesp", lang="es")
    assert Counter(t.lang for t in texts) == {"es": 2, "en": 1}
    assert all(t.text.strip() for t in texts)


def test_jsonl_reads_language_per_record():
    texts = _read("notes.jsonl", "jsonl")
    assert [t.lang for t in texts] == ["pl", "ro", "cs", "el", "bg", "pl", "en"]


def test_obo_terms_with_synonyms_and_definitions_obsolete_skipped():
    texts = _read("terms.obo", "obo")
    assert [t.text for t in texts] == [
        "ischemic stroke (cerebral infarction): A stroke caused by the interruption of the blood supply to part of the brain.",
        'hemorrhagic stroke: A stroke caused by bleeding into the brain tissue, with a "mass effect".',
    ]
    assert {t.lang for t in texts} == {"en"}


def test_tsv_columns_join_into_one_text_per_row():
    texts = _read("labels_es.tsv", "tsv", lang="es", columns=[1, 2])
    assert [t.text for t in texts] == ["Ictus isquémico. Infarto cerebral por oclusión arterial", "Hemorragia intracerebral"]


@pytest.mark.parametrize("path, fmt", [("cases", "codiesp"), ("notes.jsonl", "jsonl"), ("terms.obo", "obo"), ("labels_es.tsv", "tsv")])
def test_auto_format_detection(path, fmt):
    assert _read(path, "auto") == _read(path, fmt, **({"columns": [1]} if fmt == "tsv" else {}))


def test_bad_jsonl_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine text here"}\n{"body": "no text field"}\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: no string field 'text'"):
        list(read_source("bad", CorpusSourceConfig(path=str(bad), format="jsonl")))


def test_unknown_format_and_missing_path():
    with pytest.raises(ConfigError, match="data.sources.x.format='pdf'"):
        list(read_source("x", CorpusSourceConfig(path=str(CORPUS), format="pdf")))
    with pytest.raises(ConfigError, match="data.sources.y.path"):
        list(read_source("y", CorpusSourceConfig(path=str(CORPUS / "nope"))))


def _fixture_data(**kw):
    return MlmDataConfig(
        sources={
            "cases": CorpusSourceConfig(path=str(CORPUS / "cases"), format="codiesp", lang="es"),
            "notes": CorpusSourceConfig(path=str(CORPUS / "notes.jsonl"), format="jsonl"),
        },
        **kw,
    )


def test_dedup_and_min_chars_are_counted():
    stats = CorpusStats()
    texts = list(iter_corpus(_fixture_data(min_chars=20), stats))
    assert stats.read == 10 and stats.duplicates == 1 and stats.too_short == 1
    assert stats.kept == len(texts) == 8
    assert stats.by_lang == {"es": 2, "en": 1, "pl": 1, "ro": 1, "cs": 1, "el": 1, "bg": 1}
    stats_nodedup = CorpusStats()
    assert len(list(iter_corpus(_fixture_data(dedup=False), stats_nodedup))) == 9


def test_language_and_source_weights_are_expected_copies():
    texts = [CorpusText(f"t{i}", lang, src) for i in range(1000) for lang, src in (("cs", "a"), ("en", "b"))]
    out = Counter((t.lang, t.source) for t in weighted(texts, {"b": 0.5}, {"cs": 3.0}, seed=0))
    assert out[("cs", "a")] == 3000
    assert 430 < out[("en", "b")] < 570


def test_validation_split_depends_on_content_only():
    texts = [f"clinical note number {i} with some words" for i in range(2000)]
    held = [t for t in texts if is_validation(t, 0.1)]
    assert 150 < len(held) < 250
    shuffled = texts[:]
    random.Random(3).shuffle(shuffled)
    assert sorted(t for t in shuffled if is_validation(t, 0.1)) == sorted(held)
    assert is_validation("x", 0.0) is False


def test_packing_into_full_blocks():
    tok = train_unigram_tokenizer(["alpha beta gamma delta", "epsilon zeta eta theta"] * 5, vocab_size=60)
    batch = {"text": ["alpha beta gamma delta", "epsilon zeta eta theta", "alpha"]}
    out = tokenize_and_pack(batch, tok, block_size=4)
    total = sum(len(tok(t)["input_ids"]) for t in batch["text"])
    assert len(out["input_ids"]) == total // 4
    assert all(len(b) == 4 for b in out["input_ids"])
    flat = [i for b in out["input_ids"] for i in b]
    expected = [i for t in batch["text"] for i in tok(t)["input_ids"]][: len(flat)]
    assert flat == expected  # concatenated in order, with each text's <s> … </s>
    assert [m for b in out["special_tokens_mask"] for m in b] == [int(i in (tok.bos_token_id, tok.eos_token_id)) for i in flat]
