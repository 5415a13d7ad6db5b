"""Tiny end-to-end training runs on the CPU: checkpoints the reader loads, resume, run-directory rules."""

import json
import math
import shutil

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForMaskedLM, AutoTokenizer, TrainerCallback

from kgqa.errors import ConfigError
from kgqa.qa import Reader, load_calibration
from kgqa.qa.config import ModelConfig, ReaderConfig
from kgqa.types import Concept, Note, ValueKind
from training.metrics import ScoredPrediction, squad_metrics
from training.mlm import train_mlm
from training.qa import train_qa


class Interrupt(TrainerCallback):
    """Simulates a crash (pre-emption, Ctrl-C) right after optimisation step ``at``."""

    def __init__(self, at: int):
        self.at = at

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.at:
            raise KeyboardInterrupt(f"simulated interruption at step {self.at}")


def test_tiny_qa_run_produces_a_checkpoint_the_reader_loads(qa_config, tmp_path):
    run = tmp_path / "run"
    cfg = qa_config("trainer.max_steps=30")
    result = train_qa(cfg, run)
    assert result.global_step == 30
    model_dir = result.model_dir
    for name in ("config.json", "model.safetensors", "tokenizer.json", "kgqa_calibration.json", "README.md"):
        assert (model_dir / name).is_file(), name

    # metrics: overall, per dataset, per language — and they agree with the saved predictions
    assert {"all", "dataset=fixture", "lang=en"} <= set(result.metrics)
    preds, gold = {}, {}
    for line in (run / "eval_predictions.jsonl").read_text().splitlines():
        p = json.loads(line)
        key = f"{p['dataset']}/{p['id']}"
        margin = -math.inf if p["margin"] is None else p["margin"]
        preds[key] = ScoredPrediction(key, p["prediction"], margin)
        gold[key] = p["gold"]
    assert squad_metrics(gold, preds)["f1"] == pytest.approx(result.metrics["all"]["f1"])
    assert json.loads((run / "metrics.json").read_text())["global_step"] == 30
    assert not list(run.glob("train-features-*"))  # the streamed training windows go when training ends

    # the calibration the reader will use is the one fitted here (fixture has unanswerable questions)
    cal = load_calibration(model_dir / "kgqa_calibration.json")
    assert cal.default_null_threshold == pytest.approx(result.null_threshold)
    assert cal.n_examples == 19

    card = (model_dir / "README.md").read_text()
    for expected in (
        "## Data",
        "tiny_squad_v2.json",
        "## Evaluation",
        "lang=en",
        "kgqa_version",
        "## Resolved configuration",
        "max_steps: 30",
    ):
        assert expected in card

    # read with the window it was trained with (its position table is shorter than the reader's default)
    reader = Reader.from_config(
        ModelConfig(path=str(model_dir)), ReaderConfig(device="cpu", window=cfg.data.window)
    )
    assert reader.calibration.temperature == pytest.approx(cal.temperature)
    note = Note(id="n1", text="The patient was admitted with stroke. NIHSS was 8 on admission.", lang="en")
    concept = Concept(
        id="nihss",
        group="admission",
        kind=ValueKind.INTEGER,
        questions={"en": ("What was the NIHSS on admission?",)},
        target_class="resq:Observation",
    )
    answers = reader.read([note], [concept])
    assert set(answers) == {"n1"}
    for a in answers["n1"]:
        a.check_against(note)


def _weights(model_dir):
    return load_file(str(model_dir / "model.safetensors"))


def test_resume_after_interruption_continues_to_the_same_step_and_weights(qa_config, tmp_path):
    cfg = qa_config("trainer.max_steps=24", "trainer.save_steps=8", "trainer.eval_steps=8")
    interrupted = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train_qa(cfg, interrupted, callbacks=[Interrupt(at=13)])
    assert sorted(p.name for p in (interrupted / "checkpoints").iterdir()) == ["checkpoint-8"]
    assert not (interrupted / "metrics.json").exists()
    assert not list(interrupted.glob("train-features-*"))  # removed on the way out, too

    with pytest.raises(ConfigError, match="resume=true"):
        train_qa(cfg, interrupted)  # checkpoints but no resume: refuse to start over on top of them

    resumed = train_qa(
        qa_config("trainer.max_steps=24", "trainer.save_steps=8", "trainer.eval_steps=8", "resume=true"),
        interrupted,
    )
    assert resumed.global_step == 24
    state = json.loads((interrupted / "checkpoints" / "checkpoint-24" / "trainer_state.json").read_text())
    assert state["global_step"] == 24

    # the same run without interruption (same tokenizer: reuse the saved one) ends with the same weights
    straight = tmp_path / "straight"
    straight.mkdir()
    shutil.copytree(interrupted / "tokenizer", straight / "tokenizer")
    uninterrupted = train_qa(cfg, straight)
    a, b = _weights(resumed.model_dir), _weights(uninterrupted.model_dir)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)

    with pytest.raises(ConfigError, match="finished run"):
        train_qa(cfg, interrupted)


def test_tiny_mlm_run_then_qa_from_its_checkpoint(mlm_config, qa_config, tmp_path):
    mlm = train_mlm(mlm_config(), tmp_path / "mlm")
    assert mlm.global_step == 8
    assert mlm.eval_loss is not None and math.isfinite(mlm.eval_loss)
    assert mlm.train_blocks and mlm.train_blocks > 0
    model = AutoModelForMaskedLM.from_pretrained(str(mlm.model_dir))
    assert model.config.vocab_size >= 100
    card = (mlm.model_dir / "README.md").read_text()
    assert "fill-mask" in card and "80% <mask>" in card
    metrics = json.loads((tmp_path / "mlm" / "metrics.json").read_text())
    assert (
        metrics["corpus"]["duplicates"] == 1 and metrics["corpus"]["by_lang"]["bg"] == 3
    )  # a jsonl note + two exam questions

    # a second run over the same corpus and tokenizer reuses the packed blocks from the cache
    cache_entries = list((tmp_path / "cache").iterdir())
    assert len(cache_entries) == 1

    # domain adaptation feeds QA fine-tuning: the MLM checkpoint (and its tokenizer) is the QA start
    qa = train_qa(qa_config(f"model.checkpoint={mlm.model_dir}", "trainer.max_steps=6"), tmp_path / "qa")
    assert qa.global_step == 6
    vocab = lambda d: AutoTokenizer.from_pretrained(str(d)).get_vocab()
    assert vocab(qa.model_dir) == vocab(mlm.model_dir)


def test_mlm_resume_and_streaming(mlm_config, tmp_path):
    run = tmp_path / "mlm"
    with pytest.raises(KeyboardInterrupt):
        train_mlm(mlm_config(), run, callbacks=[Interrupt(at=6)])
    assert (run / "checkpoints" / "checkpoint-4").is_dir()
    resumed = train_mlm(mlm_config("resume=true"), run)
    assert resumed.global_step == 8

    streamed = train_mlm(mlm_config("data.streaming=true", "trainer.max_steps=4"), tmp_path / "stream")
    assert streamed.global_step == 4 and streamed.train_blocks is None
    with pytest.raises(ConfigError, match="max_steps"):
        train_mlm(mlm_config("data.streaming=true", "trainer.max_steps=-1"), tmp_path / "stream2")


def test_early_stopping_ends_a_run_that_stops_improving(qa_config, tmp_path):
    # learning rate 0: F1 cannot improve after the first evaluation, patience 1 stops at the second
    cfg = qa_config(
        "trainer.learning_rate=0.0",
        "trainer.max_steps=40",
        "trainer.eval_steps=2",
        "trainer.save_steps=2",
        "trainer.early_stopping_patience=1",
    )
    result = train_qa(cfg, tmp_path / "run")
    assert result.global_step == 4


def test_bf16_run_on_the_cpu(qa_config, tmp_path):
    result = train_qa(
        qa_config("trainer.precision=bf16", "trainer.use_cpu=false", "trainer.max_steps=2"), tmp_path / "r"
    )
    info = json.loads((result.model_dir / "kgqa_training.json").read_text())
    assert info["precision"] == "bf16" and result.global_step == 2


def test_evaluation_keeps_window_order_with_length_grouped_training(qa_config, tmp_path):
    """trainer.group_by_length=true groups training batches; the evaluation the run ends with must still decode
    each window with its own logits: its scores equal the reader's own inference on the same checkpoint
    (transformers 5 length-groups the evaluation sampler too, which shuffled the predictions)."""
    from training.recalibrate import recalibrate

    # windows as long as their contexts (not all cut to one length), so that grouping by length reorders them
    window = ("data.window.max_seq_length=256", "data.window.doc_stride=64")
    cfg = qa_config("trainer.max_steps=30", "trainer.group_by_length=true", "trainer.per_device_eval_batch_size=4", *window)
    result = train_qa(cfg, tmp_path / "run")
    again = recalibrate(qa_config(f"model.checkpoint={result.model_dir}", *window), tmp_path / "recalibrated").evaluation
    saved = [json.loads(line) for line in (tmp_path / "run" / "eval_predictions.jsonl").read_text().splitlines()]
    assert len(saved) == len(again.predictions)
    for p in saved:  # each question's best span and its margin, as the reader's own inference finds them
        theirs = again.predictions[f"{p['dataset']}/{p['id']}"]
        assert p["prediction"] == theirs.text
        assert p["margin"] == pytest.approx(theirs.margin if math.isfinite(theirs.margin) else None, abs=1e-3)
    assert result.metrics["all"]["f1"] == pytest.approx(again.metrics["all"]["f1"], abs=1e-6)
