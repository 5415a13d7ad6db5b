"""Frozen weights stay bit-identical through training; evaluation paragraphs are kept out of training data."""

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from kgqa.errors import ConfigError
from training.qa import drop_shared_contexts, load_examples, train_qa
from training.squad import load_squad

FIXTURE = str(Path(__file__).parent / "fixtures" / "tiny_squad_v2.json")


@pytest.fixture(scope="module")
def start_checkpoint(tmp_path_factory):
    """A tiny QA checkpoint to fine-tune further (stands in for an imported encoder)."""
    from kgqa.config import to_object
    from training.config import QaRunConfig, compose_train

    cfg = to_object(compose_train("qa", ["experiment=tiny_qa", "trainer.max_steps=4"]), QaRunConfig)
    return train_qa(cfg, tmp_path_factory.mktemp("start") / "run").model_dir


def test_frozen_embeddings_and_lower_layers_are_bit_identical_after_training(qa_config, tmp_path, start_checkpoint):
    cfg = qa_config(
        f"model.checkpoint={start_checkpoint}", "model.freeze_word_embeddings=true", "model.freeze_layers=1",
        "trainer.max_steps=6", "trainer.learning_rate=1e-2",
    )
    result = train_qa(cfg, tmp_path / "run")
    before, after = load_file(str(start_checkpoint / "model.safetensors")), load_file(
        str(result.model_dir / "model.safetensors")
    )
    frozen = [k for k in before if ".embeddings." in k or ".layer.0." in k]
    trained = [k for k in before if ".layer.1." in k or k.startswith("qa_outputs")]
    assert frozen and trained
    for key in frozen:
        assert before[key].equal(after[key]), key
    assert any(not before[key].equal(after[key]) for key in trained)


def test_only_word_embeddings_frozen(qa_config, tmp_path, start_checkpoint):
    cfg = qa_config(
        f"model.checkpoint={start_checkpoint}", "model.freeze_word_embeddings=true",
        "trainer.max_steps=4", "trainer.learning_rate=1e-2",
    )
    result = train_qa(cfg, tmp_path / "run")
    before, after = load_file(str(start_checkpoint / "model.safetensors")), load_file(
        str(result.model_dir / "model.safetensors")
    )
    words = next(k for k in before if k.endswith("word_embeddings.weight"))
    positions = next(k for k in before if k.endswith("position_embeddings.weight"))
    assert before[words].equal(after[words])
    assert not before[positions].equal(after[positions])  # the rest of the embedding block trains


def test_freezing_more_layers_than_the_model_has_names_the_key(qa_config, tmp_path, start_checkpoint):
    cfg = qa_config(f"model.checkpoint={start_checkpoint}", "model.freeze_layers=99", "trainer.max_steps=2")
    with pytest.raises(ConfigError, match="model.freeze_layers=99 exceeds"):
        train_qa(cfg, tmp_path / "run")


def test_a_masked_lm_head_tied_to_the_embeddings_cannot_be_frozen(mlm_config, tmp_path):
    from training.mlm import train_mlm

    with pytest.raises(ConfigError, match="tied to its word embeddings"):
        train_mlm(mlm_config("model.freeze_word_embeddings=true"), tmp_path / "mlm")


def test_contexts_shared_with_an_evaluation_file_are_dropped_whole(tmp_path):
    examples, _ = load_squad(FIXTURE, "fixture", "en")
    # an "evaluation set" that shares one question of the first paragraph (as XQuAD shares SQuAD dev ids)
    shared = tmp_path / "eval.json"
    first = json.loads(Path(FIXTURE).read_text())["data"][0]["paragraphs"][0]
    shared.write_text(json.dumps({"version": "1.1", "data": [{"title": "x", "paragraphs": [
        {"context": "another text", "qas": [{"id": first["qas"][1]["id"], "question": "?", "answers": []}]}
    ]}]}))
    kept = drop_shared_contexts(examples, [str(shared)], "data.train.fixture")
    assert {ex.context for ex in kept} == {ex.context for ex in examples} - {first["context"]}
    assert len(examples) - len(kept) == sum(ex.context == first["context"] for ex in examples) > 1


def test_exclude_contexts_of_is_applied_by_the_loader_and_checked(qa_config, tmp_path):
    cfg = qa_config(f"+data.train.fixture.exclude_contexts_of=[{FIXTURE}]")
    examples, _ = load_examples(cfg.data.train, "train")
    assert examples == []  # the file shares every id with itself
    cfg = qa_config(f"+data.train.fixture.exclude_contexts_of=[{tmp_path / 'missing.json'}]")
    with pytest.raises(ConfigError, match="data.train.fixture.exclude_contexts_of: .*missing.json"):
        load_examples(cfg.data.train, "train")
