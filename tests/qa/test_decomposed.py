"""Decomposed reading (kgqa.qa.decomposed) against the joint reader, on tiny random XLM-R and BERT checkpoints.

Random weights: the tests compare logits and hidden states with what the joint model computes for the
same inputs, never which span is right.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from kgqa.errors import ConfigError
from kgqa.qa import Reader
from kgqa.qa.checkpoint import load_model, load_tokenizer
from kgqa.qa.config import ModelConfig, ReaderConfig, WindowConfig
from kgqa.qa.decomposed import (
    SHARED_LAYERS_KEY,
    QuestionStateCache,
    catalogue_digest,
    question_length,
    record_shared_layers,
)
from kgqa.qa.windowing import encode_windows
from kgqa.types import Concept, Note

from .test_reader import ALWAYS_ANSWER, assert_exact_and_trimmed

#: short windows, so one note gives several windows per question
WINDOW = WindowConfig(max_seq_length=64, doc_stride=16, max_question_length=24)
LONG_TEXT = "".join(
    f"Paciente {i} ingresado por ictus isquémico agudo. NIHSS {i + 8} al ingreso; alteplase 0,9 mg/kg a las 14:3{i}. "
    f"Пациентът е приет с остър исхемичен инсулт ({i}). Ο ασθενής εισήχθη με οξύ ισχαιμικό επεισόδιο. "
    for i in range(4)
)  # no two windows alike (identical tokens at identical positions would rightly share their states)
#: two questions of equal token length share their window parts; the third has its own
QUESTIONS = ["What was the NIHSS at discharge?", "Was thrombolysis given to the patient at all?", "What was the mRS score?"]


@pytest.fixture(scope="module")
def bert_checkpoint(tiny_checkpoint, tmp_path_factory):
    """A tiny random BERT QA checkpoint (absolute positions from 0, two token types) with the tiny tokenizer."""
    from transformers import AutoModelForQuestionAnswering, BertConfig

    tokenizer = load_tokenizer(tiny_checkpoint)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=512,
        type_vocab_size=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(1)
    model = AutoModelForQuestionAnswering.from_config(config)
    # distinct token-type rows: a token type differing from the joint model's (0) would change the logits
    with torch.no_grad():
        model.bert.embeddings.token_type_embeddings.weight[1].normal_()
    path = tmp_path_factory.mktemp("tiny-bert") / "ckpt"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(params=["xlmr", "bert"])
def checkpoint(request, tiny_checkpoint, bert_checkpoint):
    return tiny_checkpoint if request.param == "xlmr" else bert_checkpoint


def reader_of(checkpoint, **kw) -> Reader:
    cfg = ReaderConfig(window=WINDOW, null_threshold=ALWAYS_ANSWER, batch_size=kw.pop("batch_size", 4), **kw)
    return Reader.from_config(ModelConfig(path=str(checkpoint)), cfg)


def windows_of(reader: Reader, questions=QUESTIONS, text=LONG_TEXT):
    return encode_windows(reader.tokenizer, questions, [text] * len(questions), WINDOW)


def test_k0_gives_the_joint_readers_logits(checkpoint) -> None:
    joint = reader_of(checkpoint, encoding="joint")
    # a different batch size: other paddings and batch mates must not matter either
    decomposed = reader_of(checkpoint, encoding="decomposed", shared_layers=0, batch_size=3)
    windows = windows_of(joint)
    assert len(windows) > len(QUESTIONS)  # several windows per question
    expected = joint.infer(windows)
    got = decomposed.decomposed.infer(windows, ["en"] * len(windows), "c")
    for (s0, e0), (s1, e1) in zip(expected, got):
        assert s0.shape == s1.shape
        np.testing.assert_allclose(s1, s0, atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(e1, e0, atol=1e-5, rtol=1e-5)


def test_k0_decodes_the_joint_readers_answers(checkpoint, script_notes, concepts) -> None:
    joint = reader_of(checkpoint, encoding="joint").read(script_notes, concepts)
    decomposed = reader_of(checkpoint, encoding="decomposed", shared_layers=0).read(script_notes, concepts)
    assert {k: [(a.start, a.end) for a in v] for k, v in decomposed.items()} == {
        k: [(a.start, a.end) for a in v] for k, v in joint.items()
    }


def _fresh_hidden(checkpoint, ids, first_position: int, layer: int) -> torch.Tensor:
    """Hidden states after ``layer`` layers of ``ids`` alone, through the model's own forward, with the
    positions those tokens have in the joint input (BERT from 0, XLM-R from padding_idx + 1)."""
    model = load_model(checkpoint)
    offset = model.config.pad_token_id + 1 if model.config.model_type == "xlm-roberta" else 0
    input_ids = torch.tensor([list(ids)])
    positions = torch.arange(first_position, first_position + len(ids)).unsqueeze(0) + offset
    with torch.no_grad():
        out = model.base_model(input_ids=input_ids, position_ids=positions, output_hidden_states=True)
    return out.hidden_states[layer][0]


def test_lower_states_are_the_models_own_on_each_part(checkpoint) -> None:
    """K = 1: the question part (positions from the start) and each window part (positions after the
    question) through the model's own forward give the states the decomposed reader computes."""
    reader = reader_of(checkpoint, encoding="decomposed", shared_layers=1)
    windows = windows_of(reader)
    w = windows[1]
    q = question_length(w)
    assert 0 < q < len(w) and w.offsets[q] is not None and w.offsets[q - 1] is None
    question, part = reader.decomposed.lower([(w.input_ids[:q], 0), (w.input_ids[q:], q)])
    torch.testing.assert_close(question, _fresh_hidden(checkpoint, w.input_ids[:q], 0, 1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(part, _fresh_hidden(checkpoint, w.input_ids[q:], q, 1), atol=1e-5, rtol=1e-5)


def test_all_layers_shared_is_the_head_on_the_concatenated_parts(checkpoint) -> None:
    """K = L: no joint layer, so the logits are the QA head on [question states; window states]."""
    model = load_model(checkpoint)
    layers = model.config.num_hidden_layers
    reader = reader_of(checkpoint, encoding="decomposed", shared_layers=layers)
    w = windows_of(reader)[0]
    q = question_length(w)
    start, end = reader.decomposed.infer([w], ["en"], "c")[0]
    hidden = torch.cat([_fresh_hidden(checkpoint, w.input_ids[:q], 0, layers), _fresh_hidden(checkpoint, w.input_ids[q:], q, layers)])
    with torch.no_grad():
        logits = model.qa_outputs(hidden)
    np.testing.assert_allclose(start, logits[:, 0].numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(end, logits[:, 1].numpy(), atol=1e-5, rtol=1e-5)


def test_window_parts_are_shared_by_questions_of_one_length(tiny_checkpoint) -> None:
    reader = reader_of(tiny_checkpoint, encoding="decomposed", shared_layers=1)
    windows = windows_of(reader)
    lengths = {question_length(w) for w in windows}
    by_question = [sum(w.pair_index == i for w in windows) for i in range(len(QUESTIONS))]
    assert len(lengths) == 2, "fixture: the first two questions have one token length"
    reader.decomposed.infer(windows, ["en"] * len(windows), "c")
    costs = reader.decomposed.costs
    assert costs.windows == len(windows)
    assert costs.window_parts == by_question[0] + by_question[2] < len(windows)


def test_cached_question_states_equal_a_fresh_computation(tiny_checkpoint, tmp_path, script_notes, concepts) -> None:
    first = reader_of(tiny_checkpoint, encoding="decomposed", shared_layers=1, question_cache_dir=str(tmp_path))
    answers = first.read(script_notes, concepts)
    assert first.decomposed.costs.question_parts_computed > 0
    files = sorted(tmp_path.glob("*.pt"))
    assert files
    # a new reader (a new run) reads the states from disk and computes none
    second = reader_of(tiny_checkpoint, encoding="decomposed", shared_layers=1, question_cache_dir=str(tmp_path))
    assert second.read(script_notes, concepts) == answers
    assert second.decomposed.costs.question_parts_computed == 0
    assert second.decomposed.costs.question_parts_cached > 0
    for path in files:
        for ids, state in torch.load(path, weights_only=True).items():
            fresh = _fresh_hidden(tiny_checkpoint, [int(i) for i in ids.split(",")], 0, 1)
            torch.testing.assert_close(state, fresh, atol=1e-5, rtol=1e-5)


def test_cache_key_changes_with_checkpoint_catalogue_language_and_k() -> None:
    base = ("a" * 64, 1, "fp32:cpu", "cat", "en")
    key = QuestionStateCache.key(*base)
    for i, other in enumerate(("b" * 64, 2, "bf16:cpu", "cat2", "es")):
        changed = list(base)
        changed[i] = other
        assert QuestionStateCache.key(*changed) != key
    assert QuestionStateCache.key(*base) == key


def test_catalogue_digest_sees_every_question() -> None:
    a = Concept(id="a", group="g", kind="text", target_class="x", questions={"en": ("Q?",), "es": ("¿P?",)})
    b = Concept(id="a", group="g", kind="text", target_class="x", questions={"en": ("Q?",), "es": ("¿Otra?",)})
    assert catalogue_digest([a]) != catalogue_digest([b])
    assert catalogue_digest([a]) == catalogue_digest([a, a])


def test_cache_is_not_reused_across_checkpoint_catalogue_or_language(tiny_checkpoint, tmp_path) -> None:
    cache = tmp_path / "qcache"
    note = Note(id="n", text=LONG_TEXT, lang="es")
    concept = Concept(id="c", group="g", kind="text", target_class="x", questions={"en": ("What was the NIHSS?",)})

    def computed(checkpoint, concepts, question_lang="note") -> int:
        reader = reader_of(
            checkpoint, encoding="decomposed", shared_layers=1, question_cache_dir=str(cache), question_lang=question_lang
        )
        reader.read([note], concepts)
        return reader.decomposed.costs.question_parts_computed

    assert computed(tiny_checkpoint, [concept]) == 1
    assert computed(tiny_checkpoint, [concept]) == 0  # same checkpoint, catalogue, language: cached
    # the catalogue changes (a question added in another language): new states
    grown = Concept(id="c", group="g", kind="text", target_class="x",
                    questions={"en": ("What was the NIHSS?",), "pl": ("Jaki był NIHSS?",)})
    assert computed(tiny_checkpoint, [grown]) == 1
    # only the question language changes: the same question text (same token ids) in es and en
    same_text = Concept(id="c", group="g", kind="text", target_class="x",
                        questions={"en": ("NIHSS?",), "es": ("NIHSS?",)})
    assert computed(tiny_checkpoint, [same_text]) == 1  # asked in es (the note's language)
    assert computed(tiny_checkpoint, [same_text]) == 0
    assert computed(tiny_checkpoint, [same_text], question_lang="en") == 1
    # the checkpoint changes (other weights): new states
    other = tmp_path / "other"
    shutil.copytree(tiny_checkpoint, other)
    model = load_model(other)
    with torch.no_grad():
        model.qa_outputs.bias.add_(1.0)
    model.save_pretrained(other)
    assert computed(other, [concept]) == 1
    assert len(list(cache.glob("*.pt"))) == 5


def test_offsets_exact_in_every_script(checkpoint, script_notes, concepts) -> None:
    reader = reader_of(checkpoint, encoding="decomposed", shared_layers=1)
    result = reader.read(script_notes, concepts)
    by_id = {n.id: n for n in script_notes}
    for note_id, answers in result.items():
        assert answers, note_id
        assert_exact_and_trimmed(answers, by_id)


def test_a_saved_decomposed_checkpoint_selects_its_mode(tiny_checkpoint, tmp_path) -> None:
    """Saved as training saves it (save_pretrained with K in the config) and loaded as a user would."""
    model = load_model(tiny_checkpoint)
    setattr(model.config, SHARED_LAYERS_KEY, 1)
    model.save_pretrained(tmp_path / "ckpt")
    load_tokenizer(tiny_checkpoint).save_pretrained(tmp_path / "ckpt")
    reader = Reader.from_config(ModelConfig(path=str(tmp_path / "ckpt")), ReaderConfig())
    assert reader.decomposed is not None and reader.decomposed.shared_layers == 1
    assert Reader.from_config(ModelConfig(path=str(tmp_path / "ckpt")), ReaderConfig(encoding="joint")).decomposed is None
    assert Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), ReaderConfig()).decomposed is None
    # record_shared_layers writes the same key into an existing checkpoint
    plain = tmp_path / "plain"
    shutil.copytree(tiny_checkpoint, plain)
    record_shared_layers(plain, 2)
    assert Reader.from_config(ModelConfig(path=str(plain)), ReaderConfig()).decomposed.shared_layers == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"encoding": "decomposed"}, "reader.shared_layers"),
        ({"encoding": "decomposed", "shared_layers": 3}, "reader.shared_layers=3"),
        ({"encoding": "decomposed", "shared_layers": -1}, "reader.shared_layers=-1"),
        ({"encoding": "split"}, "reader.encoding"),
        ({"encoding": "decomposed", "shared_layers": 1, "precision": "onnx"}, "reader.precision='onnx'"),
    ],
)
def test_bad_settings_name_the_key(tiny_checkpoint, overrides, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        Reader.from_config(ModelConfig(path=str(tiny_checkpoint)), ReaderConfig(**overrides))


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_other_precisions_read_decomposed_with_exact_offsets(tiny_checkpoint, script_notes, concepts, precision) -> None:
    if precision == "bf16" and not torch.backends.mkldnn.is_available():
        pytest.skip("no bf16 CPU kernels here")
    reader = reader_of(tiny_checkpoint, encoding="decomposed", shared_layers=1, precision=precision)
    assert reader.backend.name == precision and reader.decomposed.variant.startswith(precision)
    result = reader.read(script_notes, concepts)
    by_id = {n.id: n for n in script_notes}
    for answers in result.values():
        assert answers
        assert_exact_and_trimmed(answers, by_id)
