"""SQuAD-style extractive QA fine-tuning: data -> reader windows -> Trainer -> checkpoint with calibration.

``train_qa(cfg, run_dir)`` is the plain function the Hydra entry point and the tests call. The
run directory ends up with ``model/`` (weights, tokenizer, ``kgqa_calibration.json``, README.md
model card, ``kgqa_training.json``), ``eval_predictions.jsonl`` and, written last, ``metrics.json``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import random
import shutil
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from datasets import Dataset
from transformers import (
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    EvalPrediction,
    Trainer,
    TrainerCallback,
)

import kgqa
from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.errors import ConfigError
from kgqa.qa.calibration import CALIBRATION_FILENAME
from kgqa.qa.config import ReaderConfig
from kgqa.qa.windowing import Window, collapse_lone_spaces, lone_space_id
from kgqa.types import Concept, ValueKind
from training.config import QaDatasetConfig, QaRunConfig, to_yaml
from training.model_card import flat_metrics, render_model_card
from training.modeling import build_model, load_tokenizer
from training.out_of_scope import OUT_OF_SCOPE, load_out_of_scope
from training.qa_eval import (
    EvalResult,
    decode_examples,
    evaluate_predictions,
    example_key,
    fit_checkpoint_calibration,
)
from training.qa_features import apply_weights, build_eval_features, train_feature_dataset
from training.runs import (
    METRICS_FILE,
    MODEL_DIR,
    OrderedEvalTrainer,
    ProgressLogCallback,
    datasets_progress,
    quiet_progress,
    resume_checkpoint,
    training_arguments,
    write_json,
)
from training.squad import LoadReport, QaExample, load_dataset_file

log = logging.getLogger(__name__)

TRAINING_INFO_FILE = "kgqa_training.json"


@dataclass(frozen=True)
class QaRunResult:
    run_dir: Path
    model_dir: Path
    global_step: int
    #: "all", "dataset=…", "lang=…" -> metrics (empty without evaluation data)
    metrics: dict[str, dict[str, float]]
    #: the null threshold written into the checkpoint (None: not fitted)
    null_threshold: float | None


def load_examples(
    datasets: dict[str, QaDatasetConfig], role: str, catalogue: str = ""
) -> tuple[list[QaExample], list[LoadReport]]:
    """The examples of every dataset; ``catalogue`` (``data.catalogue``) words ``out_of_scope`` questions."""
    examples: list[QaExample] = []
    reports = []
    for name, d in datasets.items():
        if not Path(d.path).exists():
            raise ConfigError(f"data.{role}.{name}.path={d.path!r} does not exist")
        if d.format != OUT_OF_SCOPE and (d.concepts or d.exclude_pattern):
            raise ConfigError(
                f"data.{role}.{name}: concepts and exclude_pattern belong to format out_of_scope, not {d.format!r}"
            )
        if d.format == OUT_OF_SCOPE:
            exs, report = load_out_of_scope(
                d.path, dataset=name, lang=d.lang, concepts=d.concepts, catalogue=_concepts(catalogue),
                exclude_pattern=d.exclude_pattern, limit=d.limit,
            )
        else:
            exs, report = load_dataset_file(d.path, dataset=name, lang=d.lang, fmt=d.format, limit=d.limit)
        if d.exclude_contexts_of:
            exs = drop_shared_contexts(exs, d.exclude_contexts_of, f"data.{role}.{name}")
        examples.extend(exs)
        reports.append(report)
    return examples, reports


def drop_shared_contexts(examples: Sequence[QaExample], paths: Sequence[str], key: str) -> list[QaExample]:
    """``examples`` without every context that holds a question whose id one of the SQuAD files ``paths`` uses."""
    excluded: set[str] = set()
    for path in paths:
        if not Path(path).is_file():
            raise ConfigError(f"{key}.exclude_contexts_of: {path!r} is not a file")
        shared, _ = load_dataset_file(path, dataset="exclude", lang="und")
        excluded.update(ex.id for ex in shared)
    tainted = {ex.context for ex in examples if ex.id in excluded}
    kept = [ex for ex in examples if ex.context not in tainted]
    log.info(
        "%s: %d questions in %d contexts shared with %s left out",
        key, len(examples) - len(kept), len(tainted), ", ".join(Path(p).name for p in paths),
    )
    return kept


def split_by_context(
    examples: Sequence[QaExample], fraction: float, seed: int
) -> tuple[list[QaExample], list[QaExample]]:
    """Hold out whole contexts (never a question whose paragraph is also trained on)."""
    contexts = sorted({hashlib.sha256(ex.context.encode()).hexdigest() for ex in examples})
    random.Random(seed).shuffle(contexts)
    held = (
        set(contexts[: max(1, round(len(contexts) * fraction))])
        if fraction > 0 and len(contexts) > 1
        else set()
    )
    train, held_out = [], []
    for ex in examples:
        (held_out if hashlib.sha256(ex.context.encode()).hexdigest() in held else train).append(ex)
    return train, held_out


def mixed_training_examples(cfg: QaRunConfig, data: QaData) -> list[QaExample]:
    """The training examples with each dataset's ``weight`` applied (deterministic for the trainer seed)."""
    return apply_weights(data.train, {name: d.weight for name, d in cfg.data.train.items()}, cfg.trainer.seed)


def evaluation_setup(
    cfg: QaRunConfig, tokenizer, data: QaData, callbacks: Sequence[TrainerCallback]
) -> tuple[Dataset | None, QaMetrics | None, list[TrainerCallback]]:
    """Evaluation inputs, the metrics that decode them as the reader does, and the run's callbacks
    (progress lines; early stopping when configured and there is evaluation data)."""
    evaluator = eval_ds = None
    if data.eval:
        columns, evaluator = build_evaluator(cfg, tokenizer, data.eval)
        eval_ds = Dataset.from_dict(columns)
    all_callbacks = [ProgressLogCallback(), *callbacks]
    if cfg.trainer.early_stopping_patience > 0 and eval_ds is not None:
        all_callbacks.append(
            EarlyStoppingCallback(cfg.trainer.early_stopping_patience, cfg.trainer.early_stopping_threshold)
        )
    return eval_ds, evaluator, all_callbacks


def streamed_train_features(cfg: QaRunConfig, tokenizer, mixed: Sequence[QaExample], features_dir: Path) -> Dataset:
    """The labelled training windows of ``mixed``, streamed to Arrow files in ``features_dir``."""
    with datasets_progress(cfg.trainer.progress):
        return train_feature_dataset(
            tokenizer,
            mixed,
            cfg.data.window,
            features_dir,
            missed_window_keep=cfg.data.missed_window_keep,
            unanswerable_keep=cfg.data.unanswerable_keep,
            seed=cfg.trainer.seed,
        )


@functools.cache
def _concepts(catalogue: str = "") -> tuple[Concept, ...]:
    """The concepts of ``catalogue`` (default: kgqa's own), parsed once for the decoding rules below."""
    return tuple(load_catalogue(catalogue or DEFAULT_CATALOGUE).concepts)


def numeric_concepts(catalogue: str = "") -> frozenset[str]:
    """Ids of the catalogue's concepts the reader decodes digit-only (``reader.digit_kinds``)."""
    kinds = set(ReaderConfig().digit_kinds)
    return frozenset(c.id for c in _concepts(catalogue) if c.kind.value in kinds)


def member_concepts(catalogue: str = "") -> dict[str, Concept]:
    """The catalogue's enumeration concepts, decoded member-naming spans only (``reader.member_spans``)."""
    if not ReaderConfig().member_spans:
        return {}
    return {c.id: c for c in _concepts(catalogue) if c.kind is ValueKind.ENUM and c.members}


def value_concepts(catalogue: str = "") -> dict[str, Concept]:
    """The catalogue's concepts decoded over value-readable spans only (``reader.value_span_kinds``)."""
    kinds = set(ReaderConfig().value_span_kinds)
    return {c.id: c for c in _concepts(catalogue) if c.kind.value in kinds}


def heading_concepts(catalogue: str = "") -> frozenset[str]:
    """Ids of the catalogue's concepts decoded outside headings and field labels (``reader.skip_headings``: all)."""
    if not ReaderConfig().skip_headings:
        return frozenset()
    return frozenset(c.id for c in _concepts(catalogue))


class QaMetrics:
    """``compute_metrics`` for the Trainer: decode eval windows, score officially, remember the details."""

    def __init__(
        self,
        examples: Sequence[QaExample],
        windows: Sequence[Window],
        n_best: int,
        max_answer_tokens: int,
        digit_concepts: Collection[str] = (),
        member_concepts: Mapping[str, Concept] | None = None,
        value_concepts: Mapping[str, Concept] | None = None,
        heading_concepts: Collection[str] = (),
    ):
        self.examples = list(examples)
        self.windows = list(windows)
        self.n_best = n_best
        self.max_answer_tokens = max_answer_tokens
        self.digit_concepts = frozenset(digit_concepts)
        self.member_concepts = dict(member_concepts or {})
        self.value_concepts = dict(value_concepts or {})
        self.heading_concepts = frozenset(heading_concepts)
        self.last: EvalResult | None = None

    def __call__(self, p: EvalPrediction) -> dict[str, float]:
        start_logits, end_logits = p.predictions[:2]
        preds = decode_examples(
            self.examples,
            self.windows,
            np.asarray(start_logits),
            np.asarray(end_logits),
            n_best=self.n_best,
            max_answer_tokens=self.max_answer_tokens,
            digit_concepts=self.digit_concepts,
            member_concepts=self.member_concepts,
            value_concepts=self.value_concepts,
            heading_concepts=self.heading_concepts,
        )
        self.last = evaluate_predictions(self.examples, preds)
        return flat_metrics(self.last.metrics)


def build_evaluator(cfg: QaRunConfig, tokenizer, examples: Sequence[QaExample]) -> tuple[dict[str, list], QaMetrics]:
    """Model inputs of the evaluation windows and the ``compute_metrics`` that decodes them as the reader does.

    Decoding runs on the offsets the reader uses (lone "▁" made zero-width) and under the reader's rules for
    the concepts of ``data.catalogue``, so dev scores and the calibration fitted on them describe exactly what
    ``kgqa run`` will do. Shared by training and ``kgqa train calibrate``.
    """
    columns, windows = build_eval_features(tokenizer, examples, cfg.data.window)
    space_id = lone_space_id(tokenizer)
    windows = [replace(w, offsets=collapse_lone_spaces(w, space_id)) for w in windows]
    catalogue = cfg.data.catalogue
    evaluator = QaMetrics(
        examples, windows, cfg.data.n_best, cfg.data.max_answer_tokens,
        digit_concepts=numeric_concepts(catalogue), member_concepts=member_concepts(catalogue),
        value_concepts=value_concepts(catalogue), heading_concepts=heading_concepts(catalogue),
    )
    return columns, evaluator


def _check_window(cfg: QaRunConfig, tokenizer, model) -> None:
    limit = model.config.max_position_embeddings - 2
    if cfg.data.window.max_seq_length > limit:
        raise ConfigError(
            f"data.window.max_seq_length={cfg.data.window.max_seq_length} exceeds the model's {limit} positions"
        )


@dataclass(frozen=True)
class QaData:
    train: list[QaExample]
    eval: list[QaExample]
    train_reports: list[LoadReport]
    eval_reports: list[LoadReport]


def load_qa_data(cfg: QaRunConfig) -> QaData:
    """Training and evaluation questions (a context-level hold-out when no eval datasets are named)."""
    if not cfg.data.train:
        raise ConfigError("data.train is empty: name at least one QA dataset to train on")
    train, train_reports = load_examples(cfg.data.train, "train", cfg.data.catalogue)
    eval_reports: list[LoadReport] = []
    if cfg.data.eval:
        held, eval_reports = load_examples(cfg.data.eval, "eval", cfg.data.catalogue)
    else:
        train, held = split_by_context(train, cfg.data.eval_fraction, cfg.trainer.seed)
    log.info("QA data: %d training and %d evaluation questions", len(train), len(held))
    return QaData(train, held, train_reports, eval_reports)


def train_qa(cfg: QaRunConfig, run_dir: str | Path, callbacks: Sequence[TrainerCallback] = ()) -> QaRunResult:
    """Fine-tune for extractive QA; write the checkpoint, calibration, model card and metrics into ``run_dir``.

    Under a multi-process launcher (torchrun, accelerate) the tokenizer is trained by the main
    process first (the others load it), and only rank 0 writes files besides the checkpoint.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    resume_from = resume_checkpoint(run_dir, cfg.resume)
    _concepts(cfg.data.catalogue)  # a wrong data.catalogue fails here, not after training
    data = load_qa_data(cfg)

    metric = cfg.trainer.metric_for_best_model or "f1"
    args = training_arguments(
        cfg.trainer, run_dir, run_name=cfg.run_name, metric=metric, has_eval=bool(data.eval)
    )
    with args.main_process_first(desc="tokenizer"):
        tokenizer = load_tokenizer(
            cfg.model, run_dir, lambda: (t for ex in data.train for t in (ex.question, ex.context))
        )
    model = build_model(cfg.model, tokenizer, "qa")
    _check_window(cfg, tokenizer, model)

    mixed = mixed_training_examples(cfg, data)
    eval_ds, evaluator, all_callbacks = evaluation_setup(cfg, tokenizer, data, callbacks)

    # the training windows stream to Arrow files private to this process (a large corpus's windows need not
    # fit in memory), removed however training ends
    features_dir = Path(tempfile.mkdtemp(prefix="train-features-", dir=run_dir))
    try:
        train_ds = streamed_train_features(cfg, tokenizer, mixed, features_dir)
        log.info("QA features: %d training windows from %d weighted questions", len(train_ds), len(mixed))
        trainer = OrderedEvalTrainer(
            model=model,
            args=args,
            train_dataset=train_ds,
            eval_dataset=eval_ds,
            data_collator=DataCollatorWithPadding(tokenizer),
            processing_class=tokenizer,
            compute_metrics=evaluator,
            callbacks=all_callbacks,
        )
        quiet_progress(trainer)
        train_output = trainer.train(resume_from_checkpoint=resume_from)
    finally:
        shutil.rmtree(features_dir, ignore_errors=True)
    log.info("training done at step %d (loss %.4f)", trainer.state.global_step, train_output.training_loss)

    model_dir = run_dir / MODEL_DIR
    trainer.save_model(str(model_dir))  # collective under DDP/FSDP: every rank calls it
    eval_result = None
    if evaluator is not None:
        trainer.evaluate()  # the best model (loaded at the end): its metrics go into the card
        if evaluator.last is None:  # compute_metrics runs inside evaluate(); None means it was bypassed
            raise RuntimeError("evaluation produced no predictions")
        eval_result = evaluator.last
        log.info("evaluation: %s", _metrics_line(eval_result.metrics))
    null_threshold = None
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(model_dir))
        null_threshold = _write_artifacts(
            cfg,
            run_dir,
            model_dir,
            data,
            eval_result,
            trainer,
            args,
            len(train_ds),
            len(mixed),
            train_output.training_loss,
        )
    return QaRunResult(
        run_dir,
        model_dir,
        trainer.state.global_step,
        eval_result.metrics if eval_result else {},
        null_threshold,
    )


def _write_artifacts(
    cfg: QaRunConfig,
    run_dir: Path,
    model_dir: Path,
    data: QaData,
    result: EvalResult | None,
    trainer: Trainer,
    args,
    train_windows: int,
    train_questions: int,
    train_loss: float,
) -> float | None:
    """Calibration, predictions, model card, training info and — last — metrics.json; returns the null threshold."""
    metrics = result.metrics if result else {}
    null_threshold = None
    notes = []
    if not cfg.data.eval and data.eval:
        notes.append(
            f"evaluation on {len(data.eval)} questions whose contexts were held out of training "
            f"(data.eval_fraction={cfg.data.eval_fraction})"
        )
    if result is not None:
        calibration, how = fit_checkpoint_calibration(data.eval, result.predictions)
        calibration.save(model_dir / CALIBRATION_FILENAME)
        null_threshold = calibration.default_null_threshold
        notes.append(
            f"{CALIBRATION_FILENAME}: {how}; confidence = sigmoid(margin / {calibration.temperature:.3g}"
            f" + {calibration.bias:.3g})"
        )
        _write_predictions(run_dir / "eval_predictions.jsonl", data.eval, result)

    data_rows = [
        {
            "name": r.dataset,
            "role": role,
            "lang": datasets[r.dataset].lang,
            "path": r.path,
            "examples": r.examples,
            "notes": _report_note(r),
        }
        for role, datasets, reps in (
            ("train", cfg.data.train, data.train_reports),
            ("eval", cfg.data.eval, data.eval_reports),
        )
        for r in reps
    ]
    base = cfg.model.checkpoint or f"a new {cfg.model.arch} model built from config"
    training_info = {
        "task": "qa",
        "kgqa_version": kgqa.__version__,
        "base_model": base,
        "global_step": trainer.state.global_step,
        "train_windows": train_windows,
        "train_questions": train_questions,
        "eval_questions": len(data.eval),
        "learning_rate": cfg.trainer.learning_rate,
        "effective_batch_size": cfg.trainer.per_device_train_batch_size
        * cfg.trainer.gradient_accumulation_steps
        * max(1, args.world_size),
        "seed": cfg.trainer.seed,
        "precision": "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32",
        "window": f"max_seq_length {cfg.data.window.max_seq_length}, doc_stride {cfg.data.window.doc_stride}",
    }
    (model_dir / "README.md").write_text(
        render_model_card(
            title=f"kgqa extractive QA model ({cfg.run_name})",
            task="qa",
            base_model=base,
            datasets=data_rows,
            languages=[row["lang"] for row in data_rows],
            metrics=metrics,
            training=training_info,
            config_yaml=to_yaml(cfg),
            notes=notes,
        ),
        encoding="utf-8",
    )
    reports = {
        "train": [r.as_dict() for r in data.train_reports],
        "eval": [r.as_dict() for r in data.eval_reports],
    }
    write_json(model_dir / TRAINING_INFO_FILE, {**training_info, "datasets": reports, "metrics": metrics})
    write_json(
        run_dir / METRICS_FILE,
        {
            "task": "qa",
            "run_name": cfg.run_name,
            "global_step": trainer.state.global_step,
            "train_loss": train_loss,
            "null_threshold": null_threshold,
            "metrics": metrics,
            "model_dir": str(model_dir),
        },
    )
    return null_threshold


def _report_note(r: LoadReport) -> str:
    parts = []
    if r.unanswerable:
        parts.append(f"{r.unanswerable} unanswerable")
    if r.answers_repaired:
        parts.append(f"{r.answers_repaired} answer offsets repaired")
    if r.answers_dropped:
        parts.append(f"{r.answers_dropped} misaligned answers dropped")
    if r.missing_ids:
        parts.append(f"{r.missing_ids} ids generated")
    return "; ".join(parts)


def _metrics_line(metrics: dict[str, dict[str, float]]) -> str:
    return "; ".join(
        f"{k}: EM {v.get('exact', 0):.1f} F1 {v.get('f1', 0):.1f} (n={int(v.get('total', 0))})"
        for k, v in metrics.items()
    )


def _write_predictions(path: Path, examples: Sequence[QaExample], result: EvalResult) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for ex in examples:
            p = result.predictions[example_key(ex)]
            fh.write(
                json.dumps(
                    {
                        "id": ex.id,
                        "dataset": ex.dataset,
                        "lang": ex.lang,
                        "prediction": p.text,
                        "margin": p.margin if np.isfinite(p.margin) else None,
                        "gold": list(ex.gold_texts),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
