"""Decomposed fine-tuning (training/distill.py): its forward is the reader's decomposed reading, the run
saves a checkpoint the reader reads decomposed, resumes, and leaves the teacher untouched."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from transformers import TrainerCallback

from kgqa.config import to_object
from kgqa.errors import ConfigError
from kgqa.qa import Reader
from kgqa.qa.checkpoint import load_model, load_tokenizer
from kgqa.qa.config import ModelConfig, ReaderConfig, WindowConfig
from kgqa.qa.decomposed import SHARED_LAYERS_KEY, question_length
from kgqa.qa.windowing import encode_windows
from training.config import compose_train
from training.distill import (
    DecomposedQaRunConfig,
    DecomposedQuestionAnsweringModel,
    distillation_loss,
    question_lengths,
    register_distill_configs,
    train_decomposed,
)

WINDOW = WindowConfig(max_seq_length=64, doc_stride=16, max_question_length=24)
TEXT = (
    "Paciente ingresado por ictus isquémico agudo. NIHSS 8 al ingreso; alteplase 0,9 mg/kg a las 14:35. "
    "Пациентът е приет с остър исхемичен инсулт. Ο ασθενής εισήχθη με οξύ ισχαιμικό επεισόδιο 12. "
    "Pacjent przyjęty z ostrym udarem niedokrwiennym mózgu, NIHSS 8 pkt."
)
QUESTIONS = ["What was the NIHSS at discharge?", "Which drug?", "Was thrombolysis given to the patient at all?"]


def distill_config(*overrides: str) -> DecomposedQaRunConfig:
    from hydra import compose, initialize_config_dir

    from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE

    register_distill_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=HYDRA_VERSION_BASE):
        cfg = compose(config_name="train_qa_decomposed", overrides=["decomposed=tiny_qa", *overrides])
    return to_object(cfg, DecomposedQaRunConfig)


def _padded(windows, pad_id):
    width = max(len(w) for w in windows)
    ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, w in enumerate(windows):
        ids[row, : len(w)] = torch.tensor(w.input_ids)
        mask[row, : len(w)] = 1
    return ids, mask


@pytest.fixture(scope="module")
def bert_checkpoint(tiny_checkpoint, tmp_path_factory):
    from transformers import AutoModelForQuestionAnswering, BertConfig

    tokenizer = load_tokenizer(tiny_checkpoint)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=3, num_attention_heads=2,
        intermediate_size=128, type_vocab_size=2, pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("distill-bert") / "ckpt"
    AutoModelForQuestionAnswering.from_config(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.parametrize("arch", ["xlmr", "bert"])
@pytest.mark.parametrize("k", [0, 1, 2])
def test_training_forward_is_the_readers_decomposed_reading(arch, k, tiny_checkpoint, bert_checkpoint) -> None:
    """The block-masked forward training optimises gives the logits the reader computes from separate parts."""
    checkpoint = tiny_checkpoint if arch == "xlmr" else bert_checkpoint
    reader = Reader.from_config(
        ModelConfig(path=str(checkpoint)),
        ReaderConfig(window=WINDOW, encoding="decomposed", shared_layers=k, cpu_fusion=False),
    )
    windows = encode_windows(reader.tokenizer, QUESTIONS, [TEXT] * len(QUESTIONS), WINDOW)
    expected = reader.decomposed.infer(windows, ["en"] * len(windows), "c")
    model = DecomposedQuestionAnsweringModel(load_model(checkpoint), k, reader.tokenizer.sep_token_id).eval()
    ids, mask = _padded(windows, reader.tokenizer.pad_token_id)
    assert question_lengths(ids, reader.tokenizer.sep_token_id).tolist() == [question_length(w) for w in windows]
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask)
    for row, (start, end) in enumerate(expected):
        n = len(start)
        np.testing.assert_allclose(out.start_logits[row, :n].numpy(), start, atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(out.end_logits[row, :n].numpy(), end, atol=1e-5, rtol=1e-5)
    if k == 0:  # nothing decomposed: the joint model itself
        with torch.no_grad():
            joint = load_model(checkpoint)(input_ids=ids, attention_mask=mask)
        real = mask.bool()  # padding's own logits are never read (its positions may differ)
        torch.testing.assert_close(out.start_logits[real], joint.start_logits[real], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(out.end_logits[real], joint.end_logits[real], atol=1e-5, rtol=1e-5)


def test_distillation_loss_is_zero_against_itself_and_positive_otherwise(tiny_checkpoint) -> None:
    tokenizer = load_tokenizer(tiny_checkpoint)
    windows = encode_windows(tokenizer, QUESTIONS, [TEXT] * len(QUESTIONS), WINDOW)
    ids, mask = _padded(windows, tokenizer.pad_token_id)
    joint = load_model(tiny_checkpoint)
    with torch.no_grad():
        teacher = joint(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        same = DecomposedQuestionAnsweringModel(joint, 0, tokenizer.sep_token_id)(input_ids=ids, attention_mask=mask)
        split = DecomposedQuestionAnsweringModel(joint, 1, tokenizer.sep_token_id)(input_ids=ids, attention_mask=mask)
    kl, mse = distillation_loss(same, teacher, mask, temperature=2.0)
    assert float(kl) == pytest.approx(0.0, abs=1e-6) and float(mse) == pytest.approx(0.0, abs=1e-8)
    kl, mse = distillation_loss(split, teacher, mask, temperature=2.0)
    assert float(kl) > 0 and float(mse) > 0


@pytest.fixture(scope="module")
def joint_run(tmp_path_factory):
    """A tiny joint QA reader trained by the existing path (the teacher)."""
    from training.config import QaRunConfig
    from training.qa import train_qa

    cfg = to_object(compose_train("qa", ["experiment=tiny_qa", "trainer.max_steps=10"]), QaRunConfig)
    return train_qa(cfg, tmp_path_factory.mktemp("joint"))


def _weights(model_dir):
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_a_distilled_checkpoint_records_k_and_the_reader_reads_it_decomposed(joint_run, tmp_path) -> None:
    teacher_before = _weights(joint_run.model_dir)
    cfg = distill_config(f"model.checkpoint={joint_run.model_dir}", "trainer.max_steps=6", "trainer.eval_steps=3",
                         "trainer.save_steps=3")
    result = train_decomposed(cfg, tmp_path / "run")
    assert result.global_step == 6
    config = json.loads((result.model_dir / "config.json").read_text())
    assert config[SHARED_LAYERS_KEY] == 1
    assert (result.model_dir / "kgqa_calibration.json").is_file() and "all" in result.metrics
    # the teacher's files are untouched; the student moved away from its start
    after = _weights(joint_run.model_dir)
    assert all(torch.equal(teacher_before[k], after[k]) for k in teacher_before)
    student = _weights(result.model_dir)
    assert any(not torch.equal(student[k], teacher_before[k]) for k in student if k in teacher_before)
    reader = Reader.from_config(ModelConfig(path=str(result.model_dir)), ReaderConfig(window=WINDOW))
    assert reader.decomposed is not None and reader.decomposed.shared_layers == 1


class Interrupt(TrainerCallback):
    """A crash (pre-emption, Ctrl-C) right after optimisation step ``at``."""

    def __init__(self, at: int):
        self.at = at

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.at:
            raise KeyboardInterrupt(f"simulated interruption at step {self.at}")


def test_resume_continues_to_the_same_step_and_weights(joint_run, tmp_path) -> None:
    cfg = distill_config(f"model.checkpoint={joint_run.model_dir}", "trainer.max_steps=8", "trainer.save_steps=4",
                         "trainer.eval_strategy=no")
    interrupted = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train_decomposed(cfg, interrupted, callbacks=[Interrupt(at=6)])
    assert sorted(p.name for p in (interrupted / "checkpoints").iterdir()) == ["checkpoint-4"]
    with pytest.raises(ConfigError, match="resume=true"):
        train_decomposed(cfg, interrupted)
    resumed = train_decomposed(replace(cfg, resume=True), interrupted)
    assert resumed.global_step == 8
    straight = train_decomposed(cfg, tmp_path / "straight")
    a, b = _weights(resumed.model_dir), _weights(straight.model_dir)
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-5, rtol=1e-4)


def test_no_teacher_is_an_error_naming_the_keys(tmp_path) -> None:
    with pytest.raises(ConfigError, match="model.checkpoint"):
        train_decomposed(distill_config("model.checkpoint="), tmp_path / "run")


def test_the_e5_preset_composes() -> None:
    cfg = distill_config("decomposed=e5_small_qa")
    assert cfg.distill.shared_layers == 10 and cfg.model.freeze_layers == 0
    assert cfg.model.checkpoint.endswith(".cache/e5-reader")  # the shipped reader, assembled
    assert cfg.data.window.max_seq_length == 256 and "xquad_es" in cfg.data.eval
    # the teacher's last training mix (stage 3): its new synthetic notes in, stage 2's weighted out
    assert cfg.data.train["synth_seed23"].weight > 0 and cfg.data.train["synth"].weight == 0
    stage2 = distill_config("decomposed=e5_small_qa_stage2")  # continues stage 1's student, the same teacher
    assert stage2.model.checkpoint.endswith("outputs/e5/small_qa_decomposed/model")
    assert stage2.distill.teacher.endswith(".cache/e5-reader") and stage2.distill.shared_layers == 10
    assert stage2.output_dir != cfg.output_dir and stage2.data.train.keys() == cfg.data.train.keys()
    stage3 = distill_config("decomposed=e5_small_qa_stage3")  # and stage 3 stage 2's
    assert stage3.model.checkpoint.endswith("outputs/e5/small_qa_decomposed2/model")
    assert stage3.trainer.learning_rate == stage2.trainer.learning_rate and stage3.output_dir != stage2.output_dir


def test_kgqa_train_distill_runs_a_preset(joint_run, tmp_path) -> None:
    from training.cli import main as kgqa_train

    def main(overrides: list[str]) -> int:  # `kgqa train distill …`
        return kgqa_train(["distill", *overrides])

    out = tmp_path / "cli"
    code = main([
        "decomposed=tiny_qa", f"model.checkpoint={joint_run.model_dir}", f"output_dir={out}",
        "trainer.max_steps=2", "trainer.eval_strategy=no",
    ])
    assert code == 0
    assert json.loads((out / "model" / "config.json").read_text())[SHARED_LAYERS_KEY] == 1
    assert main(["decomposed=tiny_qa", "model.checkpoint=", f"output_dir={tmp_path / 'bad'}"]) == 1
