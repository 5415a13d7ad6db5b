"""Run directories, Trainer arguments and progress logging shared by MLM and QA training.

A run directory holds ``checkpoints/checkpoint-N`` while training, ``model/`` (the final
``save_pretrained`` output the reader loads) and, last of all, ``metrics.json`` — the marker of a
finished run. Rules: a finished run is never overwritten; a directory with checkpoints is only
continued with ``resume=true``; ``resume=true`` picks the last checkpoint (optimizer, scheduler,
RNG and data position included) so the run ends at the same step it would have uninterrupted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import SequentialSampler
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import get_last_checkpoint, has_length

from kgqa.errors import ConfigError
from training.config import TrainerConfig

log = logging.getLogger(__name__)

CHECKPOINTS_DIR = "checkpoints"
MODEL_DIR = "model"
#: written last: its presence means the run finished
METRICS_FILE = "metrics.json"

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resume_checkpoint(run_dir: Path, resume: bool) -> str | None:
    """The checkpoint to continue, None for a fresh start; refuse to clobber a finished or unfinished run."""
    if (run_dir / METRICS_FILE).is_file():
        raise ConfigError(
            f"{run_dir} holds a finished run ({METRICS_FILE} exists); refusing to overwrite it — "
            "choose another hydra.run.dir (or output_dir) or delete that directory"
        )
    ckpt_root = run_dir / CHECKPOINTS_DIR
    last = get_last_checkpoint(str(ckpt_root)) if ckpt_root.is_dir() else None
    if resume:
        if last is None:
            log.warning("resume=true but %s has no checkpoint yet: starting from step 0", ckpt_root)
        else:
            log.info("resuming from %s", last)
        return last
    if last is not None:
        raise ConfigError(
            f"{run_dir} has checkpoints of an unfinished run (last: {Path(last).name}); "
            "pass resume=true to continue it, or choose another hydra.run.dir"
        )
    return None


def resolve_precision(precision: str, *, cuda: bool | None = None, bf16_ok: bool | None = None) -> str:
    """fp32 | bf16 | fp16 for this machine; ``auto`` = bf16 where supported, fp16 on older GPUs, fp32 on CPU."""
    if precision not in PRECISIONS:
        raise ConfigError(f"trainer.precision={precision!r} is not one of {', '.join(PRECISIONS)}")
    cuda = torch.cuda.is_available() if cuda is None else cuda
    if bf16_ok is None:
        bf16_ok = bool(cuda and torch.cuda.is_bf16_supported())
    if precision == "auto":
        return ("bf16" if bf16_ok else "fp16") if cuda else "fp32"
    if precision == "fp16" and not cuda:
        raise ConfigError("trainer.precision=fp16 needs a CUDA GPU; use bf16 or fp32 on a CPU")
    if precision == "bf16" and cuda and not bf16_ok:
        raise ConfigError("trainer.precision=bf16: this GPU does not support bfloat16; use fp16 or auto")
    return precision


def training_arguments(
    t: TrainerConfig,
    run_dir: Path,
    *,
    run_name: str,
    metric: str,
    has_eval: bool,
    streaming: bool = False,
) -> TrainingArguments:
    """TrainingArguments from the typed trainer config (checkpoints under ``<run_dir>/checkpoints``)."""
    if t.gradient_accumulation_steps < 1:
        raise ConfigError(f"trainer.gradient_accumulation_steps={t.gradient_accumulation_steps} must be >= 1")
    if streaming and t.max_steps <= 0:
        raise ConfigError("data.streaming=true needs trainer.max_steps > 0 (a stream has no length)")
    if t.threads < 0:
        raise ConfigError(f"trainer.threads={t.threads} must be >= 0")
    if t.threads:
        torch.set_num_threads(t.threads)
    cuda = torch.cuda.is_available() and not t.use_cpu
    precision = resolve_precision(t.precision, cuda=cuda, bf16_ok=cuda and torch.cuda.is_bf16_supported())
    # transformers accepts bf16 without a GPU only when told to train on the CPU
    use_cpu = t.use_cpu or (precision == "bf16" and not cuda)
    eval_strategy = t.eval_strategy if has_eval else "no"
    if eval_strategy not in ("steps", "epoch", "no"):
        raise ConfigError(f"trainer.eval_strategy={t.eval_strategy!r} is not one of steps, epoch, no")
    save_strategy = "epoch" if eval_strategy == "epoch" else "steps"
    # load_best_model_at_end (needed by early stopping) wants saves on eval boundaries
    save_steps = t.save_steps
    if eval_strategy == "steps" and save_steps % t.eval_steps:
        save_steps = max(t.eval_steps, (save_steps // t.eval_steps) * t.eval_steps)
        log.info("trainer.save_steps rounded to %d, a multiple of eval_steps=%d", save_steps, t.eval_steps)
    return TrainingArguments(
        output_dir=str(run_dir / CHECKPOINTS_DIR),
        run_name=run_name,
        learning_rate=t.learning_rate,
        num_train_epochs=t.num_train_epochs,
        max_steps=t.max_steps,
        per_device_train_batch_size=t.per_device_train_batch_size,
        per_device_eval_batch_size=t.per_device_eval_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        warmup_steps=t.warmup_ratio,
        weight_decay=t.weight_decay,
        lr_scheduler_type=t.lr_scheduler_type,
        max_grad_norm=t.max_grad_norm,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        seed=t.seed,
        data_seed=t.seed,
        eval_strategy=eval_strategy,
        eval_steps=t.eval_steps if eval_strategy == "steps" else None,
        save_strategy=save_strategy,
        save_steps=save_steps,
        save_total_limit=t.save_total_limit,
        logging_steps=t.logging_steps,
        logging_first_step=True,
        load_best_model_at_end=eval_strategy != "no",
        metric_for_best_model=metric if eval_strategy != "no" else None,
        greater_is_better=not metric.endswith("loss"),
        dataloader_num_workers=t.dataloader_num_workers,
        train_sampling_strategy="group_by_length" if t.group_by_length else "random",
        use_cpu=use_cpu,
        # transformers 5 renamed gradient checkpointing; passing the old name only warns
        **({"activation_checkpointing": True} if t.gradient_checkpointing else {}),
        torch_compile=t.torch_compile,
        disable_tqdm=not t.progress,
        report_to="none",
        dataloader_pin_memory=cuda,
        # the QA collator needs no extra columns, but the eval dataset keeps none either
        remove_unused_columns=True,
    )


class OrderedEvalTrainer(Trainer):
    """A Trainer whose evaluation keeps the dataset's order.

    transformers 5 applies ``group_by_length`` to the evaluation sampler too (a seeded length-grouped
    shuffle): the predictions then come back in another order than the evaluation windows, and kgqa's
    ``compute_metrics`` decodes each window's offsets with another window's logits — dev scores near 0 and a
    calibration fitted on noise (measured: XQuAD F1 0.9 in training, 52.9 by the reader on the same
    checkpoint). Training batches keep their grouping; evaluation is always sequential.
    """

    def _get_eval_sampler(self, eval_dataset):
        if eval_dataset is None or not has_length(eval_dataset):
            return None
        return SequentialSampler(eval_dataset)


class ProgressLogCallback(TrainerCallback):
    """Log lines that say where training is: step/total, epoch, loss, learning rate, eval metrics, ETA."""

    def __init__(self) -> None:
        self._t0: float | None = None
        self._step0 = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._t0 = time.monotonic()
        self._step0 = state.global_step
        log.info(
            "training: %d optimisation steps (from step %d), %s epochs, effective batch %d",
            state.max_steps,
            state.global_step,
            f"{args.num_train_epochs:g}" if args.max_steps <= 0 else "-",
            args.per_device_train_batch_size * args.gradient_accumulation_steps * max(1, args.world_size),
        )

    def on_log(self, args, state, control, logs: dict[str, Any] | None = None, **kwargs):
        if not logs or self._t0 is None:
            return
        done = state.global_step - self._step0
        elapsed = time.monotonic() - self._t0
        eta = elapsed / done * (state.max_steps - state.global_step) if done > 0 else math.nan
        shown = ", ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
            for k, v in logs.items()
            # per-dataset/per-language metrics ("eval_lang=es/f1") go to metrics.json, not the log line
            if k not in ("epoch", "total_flos") and "/" not in k and not k.endswith("_thresh")
        )
        log.info(
            "step %d/%d (epoch %.2f): %s%s",
            state.global_step,
            state.max_steps,
            state.epoch or 0.0,
            shown,
            "" if math.isnan(eta) else f"; ETA {_fmt_seconds(eta)}",
        )


def _fmt_seconds(s: float) -> str:
    s = round(s)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (a half-written metrics.json would look like a finished run)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(
        json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    tmp.replace(path)


class _BarsOnly(ProgressCallback):
    """transformers' progress bars (steps, rate, ETA) without the raw log dicts it also prints."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        return


@contextlib.contextmanager
def datasets_progress(enabled: bool) -> Iterator[None]:
    """``datasets``' own progress bars ("Generating train split") on or off for the block, then as they were."""
    import datasets

    was = datasets.is_progress_bar_enabled()
    (datasets.enable_progress_bars if enabled else datasets.disable_progress_bars)()
    try:
        yield
    finally:
        (datasets.enable_progress_bars if was else datasets.disable_progress_bars)()


def quiet_progress(trainer: Trainer) -> None:
    """Swap the Trainer's printing callbacks for bars only: ProgressLogCallback does the talking."""
    had_bars = trainer.pop_callback(ProgressCallback) is not None
    trainer.remove_callback(PrinterCallback)
    if had_bars:
        trainer.add_callback(_BarsOnly)
