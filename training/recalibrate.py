"""Refit a trained checkpoint's calibration without training it again (``kgqa train calibrate``).

A checkpoint's ``kgqa_calibration.json`` (temperature, null thresholds per concept) describes the
margins of the spans the reader chose *when it was fitted*. When the reader's decoding rules change
(``reader.skip_headings``, ``reader.value_span_kinds``, …) or better dev data arrives, the thresholds
are stale while the weights are fine. This runs exactly the evaluation QA training ends with — the
same windows, lone-``▁`` offsets, per-concept decoding rules and fit (``fit_checkpoint_calibration``)
— on the checkpoint as it is, and writes the new calibration into the run directory, where
``reader.calibration_file`` can point at it (the checkpoint itself is never modified).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from transformers import EvalPrediction

from kgqa.errors import ConfigError
from kgqa.qa.calibration import CALIBRATION_FILENAME, Calibration
from kgqa.qa.config import ModelConfig, ReaderConfig
from kgqa.qa.reader import Reader
from training.config import QaRunConfig
from training.qa import build_evaluator, load_examples
from training.qa_eval import EvalResult, fit_checkpoint_calibration

log = logging.getLogger(__name__)

REPORT_FILE = "calibration_report.json"
#: logits of the padding after a window's end: never a start or an end
_PAD_LOGIT = -1e9


@dataclass(frozen=True)
class RecalibrationResult:
    calibration: Calibration
    #: what was fitted, in words (as the training log says it)
    how: str
    evaluation: EvalResult
    path: Path


def recalibrate(cfg: QaRunConfig, run_dir: str | Path) -> RecalibrationResult:
    """Fit the calibration of ``cfg.model.checkpoint`` on ``cfg.data.eval``; write it into ``run_dir``."""
    if not cfg.data.eval:
        raise ConfigError("data.eval is empty: name the dev set(s) the calibration is fitted on")
    checkpoint = Path(cfg.model.checkpoint)
    if not checkpoint.is_dir():
        raise ConfigError(f"model.checkpoint={cfg.model.checkpoint!r} is not a checkpoint directory")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    examples, _ = load_examples(cfg.data.eval, "eval", cfg.data.catalogue)
    # the reader's own loading and batched inference; its calibration and rules play no part here
    reader = Reader.from_config(ModelConfig(path=str(checkpoint)), ReaderConfig(window=cfg.data.window))
    _, evaluator = build_evaluator(cfg, reader.tokenizer, examples)
    windows = evaluator.windows
    logits = reader.infer(windows)
    width = max((len(w) for w in windows), default=0)
    start = np.full((len(windows), width), _PAD_LOGIT, dtype=np.float32)
    end = np.full((len(windows), width), _PAD_LOGIT, dtype=np.float32)
    for k, (s, e) in enumerate(logits):
        start[k, : len(s)] = s
        end[k, : len(e)] = e
    evaluator(EvalPrediction(predictions=(start, end), label_ids=None))
    assert evaluator.last is not None  # set by every call
    calibration, how = fit_checkpoint_calibration(examples, evaluator.last.predictions)
    path = run_dir / CALIBRATION_FILENAME
    calibration.save(run_dir)
    report = {
        "checkpoint": str(checkpoint),
        "questions": len(examples),
        "fitted": how,
        "metrics": evaluator.last.metrics,
        "calibration": str(path),
    }
    (run_dir / REPORT_FILE).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.info("calibration of %s: %s -> %s", checkpoint, how, path)
    return RecalibrationResult(calibration, how, evaluator.last, path)
