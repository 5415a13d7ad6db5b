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
    assert [t.text for t in texts] == [
        "Ictus isquémico. Infarto cerebral por oclusión arterial",
        "Hemorragia intracerebral",
    ]


def test_conllu_sentences():
    texts = _read("treebank", "conllu", lang="ro")
    assert [t.text for t in texts] == [
        "Pacientul prezintă hipertensiune arterială de grad II.",
        "Tratamentul cu aspirină a fost continuat.",
    ]


def test_json_objects_with_joined_fields():
    texts = _read("exam_bg.json", "json", lang="bg", text_field="question", join_fields=["correct"])
    assert [t.text for t in texts] == [
        "Кой орган изпомпва кръвта в тялото? сърцето",
        "Какво причинява исхемичният инсулт? запушване на артерия",
    ]


def test_squad_contexts():
    texts = list(
        read_source("sq", CorpusSourceConfig(path=str(CORPUS.parent / "tiny_squad_v2.json"), lang="en"))
    )
    assert len(texts) == 6 and texts[0].text.startswith("The patient was admitted")


def test_codiesp_ignores_files_outside_case_folders(tmp_path):
    (tmp_path / "text_files").mkdir()
    (tmp_path / "text_files" / "c1.txt").write_text("Paciente de 70 años con ictus.")
    (tmp_path / "README.txt").write_text("These are the train, development and test sets.")
    texts = list(read_source("c", CorpusSourceConfig(path=str(tmp_path), format="codiesp", lang="es")))
    assert [t.text for t in texts] == ["Paciente de 70 años con ictus."]


@pytest.mark.parametrize(
    "path, fmt",
    [
        ("cases", "codiesp"),
        ("notes.jsonl", "jsonl"),
        ("terms.obo", "obo"),
        ("labels_es.tsv", "tsv"),
        ("treebank", "conllu"),
        ("../tiny_squad_v2.json", "squad"),
    ],
)
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
    assert [m for b in out["special_tokens_mask"] for m in b] == [
        int(i in (tok.bos_token_id, tok.eos_token_id)) for i in flat
    ]


def test_packed_blocks_are_cached_and_reused(tmp_path, monkeypatch):
    import training.mlm as mlm_mod

    tok = train_unigram_tokenizer([t.text for t in iter_corpus(_fixture_data())], vocab_size=200)
    data = _fixture_data(block_size=16, validation_fraction=0.3, cache_dir=str(tmp_path))
    train, _ = mlm_mod.build_datasets(data, tok, seed=0, stats=CorpusStats())
    assert len(train) > 0 and all(len(b) == 16 for b in train["input_ids"])

    def fail(*args, **kwargs):
        raise AssertionError("tokenised again instead of reading the cache")

    monkeypatch.setattr(mlm_mod, "tokenize_and_pack", fail)
    again, _ = mlm_mod.build_datasets(data, tok, seed=0, stats=CorpusStats())
    assert again["input_ids"] == train["input_ids"]
    # a different block size is a different cache entry (and needs tokenising)
    with pytest.raises(AssertionError, match="tokenised again"):
        mlm_mod.build_datasets(
            MlmDataConfig(**{**data.__dict__, "block_size": 8}), tok, seed=0, stats=CorpusStats()
        )
