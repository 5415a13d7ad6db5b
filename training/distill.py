"""Fine-tuning a QA checkpoint for decomposed reading (``reader.encoding=decomposed``, kgqa/qa/decomposed.py).

DeFormer's recipe (Cao et al., ACL 2020): the student is the joint reader itself, run with its lower
``K`` layers decomposed — question and window part attend only to themselves there — and trained on

    loss = qa_weight * QA loss (start/end cross-entropy on the gold positions)
         + logit_weight * KL(teacher || student) of the start and end distributions (temperature T, x T²)
         + hidden_weight * mean squared distance of the upper layers' token states to the teacher's

where the teacher is the joint model (frozen; by default the checkpoint the student starts from). The
decomposed forward here is the joint model with a block-diagonal attention mask in the lower layers and
the pair's own positions, which is exactly what the reader computes from separately encoded parts
(tested). The saved checkpoint records ``kgqa_shared_layers = K`` in config.json, so a reader loading
it picks decomposed reading itself.

Additive to ``training/qa.py``: the same data, features, evaluation (decoded as the reader does, on the
decomposed logits), calibration and model card; Trainer checkpoints make it resumable (``resume=true``).

    kgqa train distill decomposed=e5_small_qa            # conf/train_qa_decomposed.yaml, conf/decomposed/
    kgqa train distill decomposed=e5_small_qa resume=true  # (or python -m training.distill …)
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import DataCollatorWithPadding, TrainerCallback
from transformers.modeling_outputs import QuestionAnsweringModelOutput

from kgqa.errors import ConfigError
from kgqa.qa.checkpoint import load_model
from kgqa.qa.decomposed import SHARED_LAYERS_KEY, SUPPORTED_TYPES
from training.config import QaRunConfig
from training.modeling import build_model, load_tokenizer
from training.qa import (
    QaRunResult,
    _check_window,
    _concepts,
    _write_artifacts,
    evaluation_setup,
    load_qa_data,
    mixed_training_examples,
    streamed_train_features,
)
from training.runs import (
    MODEL_DIR,
    OrderedEvalTrainer,
    quiet_progress,
    resume_checkpoint,
    training_arguments,
)

log = logging.getLogger(__name__)

_OFFSET_TYPES = ("xlm-roberta", "roberta", "camembert")


@dataclass
class DistillConfig:
    #: K: lower layers run on question and window separately (DeFormer: 9 of BERT-base's 12)
    shared_layers: int = 9
    #: the joint teacher checkpoint; empty = model.checkpoint (the student starts as its own teacher)
    teacher: str = ""
    #: softmax temperature of the logit distillation
    temperature: float = 2.0
    qa_weight: float = 1.0
    logit_weight: float = 1.0
    hidden_weight: float = 1.0


@dataclass
class DecomposedQaRunConfig(QaRunConfig):
    distill: DistillConfig = field(default_factory=DistillConfig)
    run_name: str = "qa_decomposed"


def register_distill_configs() -> None:
    """The schema of conf/train_qa_decomposed.yaml (the QA run's, plus ``distill``); idempotent."""
    from hydra.core.config_store import ConfigStore

    from training.config import register_configs

    register_configs()
    ConfigStore.instance().store(name="base_train_qa_decomposed", node=DecomposedQaRunConfig)


# ----------------------------------------------------------------------------- the decomposed forward


def question_lengths(input_ids: torch.Tensor, sep_id: int) -> torch.Tensor:
    """Per row: tokens before the first context token (CLS, question, and the run of separators after it):
    what :func:`kgqa.qa.decomposed.question_length` finds from the offsets. A row without a separator
    is all question."""
    is_sep = input_ids == sep_id
    n = input_ids.shape[1]
    idx = torch.arange(n, device=input_ids.device).expand_as(input_ids)
    first = torch.where(is_sep, idx, n).min(dim=1).values
    # extend over the run of separators that starts there (XLM-R's "</s></s>")
    after_run = torch.where(~is_sep & (idx > first.unsqueeze(1)), idx, n).min(dim=1).values
    return torch.where(first < n, after_run, torch.full_like(first, n))


class DecomposedQuestionAnsweringModel(torch.nn.Module):
    """A BERT/XLM-R ``…ForQuestionAnswering`` run with its lower ``shared_layers`` layers decomposed.

    (The class name holds "QuestionAnswering" so the Trainer treats start/end positions as labels.)
    """

    def __init__(self, qa_model, shared_layers: int, sep_id: int) -> None:
        super().__init__()
        config = qa_model.config
        if config.model_type not in SUPPORTED_TYPES:
            raise ConfigError(
                f"distill: model type {config.model_type!r} is not supported (supported: {', '.join(SUPPORTED_TYPES)})"
            )
        layers = config.num_hidden_layers
        if not 0 <= shared_layers <= layers:
            raise ConfigError(f"distill.shared_layers={shared_layers}: must be between 0 and the model's {layers} layers")
        self.qa = qa_model
        self.shared_layers = shared_layers
        self.sep_id = sep_id
        self.config = config

    def encode(self, input_ids, attention_mask) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Last hidden states and the outputs of the upper layers (one tensor per upper layer)."""
        from transformers.masking_utils import create_bidirectional_mask

        base = self.qa.base_model
        mask = attention_mask.long()
        positions = torch.cumsum(mask, dim=1) - 1  # the joint pair's positions (padding is on the right)
        if self.config.model_type in _OFFSET_TYPES:
            positions = torch.where(mask.bool(), positions + self.config.pad_token_id + 1, self.config.pad_token_id)
        else:
            positions = positions.clamp(min=0)
        hidden = base.embeddings(
            input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids), position_ids=positions
        )
        layers = list(base.encoder.layer)
        k = self.shared_layers
        if k:
            q_len = question_lengths(input_ids, self.sep_id)

            def same_part(batch_idx, head_idx, q_idx, kv_idx):
                return (q_idx < q_len[batch_idx]) == (kv_idx < q_len[batch_idx])

            lower = create_bidirectional_mask(
                config=self.config, inputs_embeds=hidden, attention_mask=mask, and_mask_function=same_part
            )
            for layer in layers[:k]:
                hidden = layer(hidden, lower)
        upper_mask = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=mask)
        uppers = []
        for layer in layers[k:]:
            hidden = layer(hidden, upper_mask)
            uppers.append(hidden)
        return hidden, uppers

    def forward(self, input_ids, attention_mask, start_positions=None, end_positions=None, **_):
        hidden, uppers = self.encode(input_ids, attention_mask)
        logits = self.qa.qa_outputs(hidden)
        start, end = logits[..., 0].contiguous(), logits[..., 1].contiguous()
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = qa_loss(start, end, start_positions, end_positions)
        return QuestionAnsweringModelOutput(loss=loss, start_logits=start, end_logits=end, hidden_states=tuple(uppers))


def qa_loss(start, end, start_positions, end_positions) -> torch.Tensor:
    """Mean of the start and end cross-entropies (what the ``…ForQuestionAnswering`` heads compute)."""
    n = start.shape[1]
    s, e = start_positions.clamp(0, n), end_positions.clamp(0, n)
    return (F.cross_entropy(start, s, ignore_index=n) + F.cross_entropy(end, e, ignore_index=n)) / 2


def distillation_loss(student: QuestionAnsweringModelOutput, teacher, mask, temperature: float):
    """(logit KL, upper-layer state MSE) of a student output against the joint teacher's."""
    pad = ~mask.bool()
    t = temperature
    kl = 0.0
    for s_logits, t_logits in ((student.start_logits, teacher.start_logits), (student.end_logits, teacher.end_logits)):
        s_log = F.log_softmax(s_logits.masked_fill(pad, -1e4) / t, dim=-1)
        t_prob = F.softmax(t_logits.masked_fill(pad, -1e4) / t, dim=-1)
        kl = kl + F.kl_div(s_log, t_prob, reduction="batchmean") * t * t / 2
    k = len(teacher.hidden_states) - 1 - len(student.hidden_states)  # teacher: embeddings + every layer
    keep = mask.bool().unsqueeze(-1)
    mse = student.start_logits.new_zeros(())
    for s_h, t_h in zip(student.hidden_states, teacher.hidden_states[k + 1 :]):
        mse = mse + ((s_h - t_h) ** 2).masked_select(keep).mean()
    if student.hidden_states:
        mse = mse / len(student.hidden_states)
    return kl, mse


class DistillTrainer(OrderedEvalTrainer):
    """Trainer whose loss adds DeFormer's distillation from a frozen joint teacher."""

    def __init__(self, *args, teacher, distill: DistillConfig, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.teacher = teacher.to(self.args.device).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.distill = distill
        self._parts: dict[str, float] = {}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        d = self.distill
        loss = d.qa_weight * outputs.loss if outputs.loss is not None else 0.0
        if model.training and (d.logit_weight or d.hidden_weight):
            with torch.no_grad():
                teacher = self.teacher(
                    input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], output_hidden_states=True
                )
            kl, mse = distillation_loss(outputs, teacher, inputs["attention_mask"], d.temperature)
            loss = loss + d.logit_weight * kl + d.hidden_weight * mse
            qa = 0.0 if outputs.loss is None else float(outputs.loss.detach())
            self._parts = {"qa_loss": qa, "kd_logits": float(kl.detach()), "kd_hidden": float(mse.detach())}
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs and self._parts:
            logs = {**logs, **{k: round(v, 4) for k, v in self._parts.items()}}
        super().log(logs, *args, **kwargs)


# ----------------------------------------------------------------------------- the run


def train_decomposed(
    cfg: DecomposedQaRunConfig, run_dir: str | Path, callbacks: Sequence[TrainerCallback] = ()
) -> QaRunResult:
    """Fine-tune ``model.checkpoint`` for decomposed reading; write the checkpoint (recording K),
    calibration, model card and metrics into ``run_dir`` as ``train_qa`` does."""
    run_dir = Path(run_dir)
    teacher_path = cfg.distill.teacher or cfg.model.checkpoint
    if not teacher_path:
        raise ConfigError("distill: no teacher: set model.checkpoint (the joint reader to start from) or distill.teacher")
    if not Path(teacher_path).joinpath("config.json").is_file():
        raise ConfigError(f"distill.teacher={teacher_path!r} is not a checkpoint directory (no config.json)")
    run_dir.mkdir(parents=True, exist_ok=True)
    resume_from = resume_checkpoint(run_dir, cfg.resume)
    _concepts(cfg.data.catalogue)
    data = load_qa_data(cfg)

    metric = cfg.trainer.metric_for_best_model or "f1"
    args = training_arguments(cfg.trainer, run_dir, run_name=cfg.run_name, metric=metric, has_eval=bool(data.eval))
    with args.main_process_first(desc="tokenizer"):
        tokenizer = load_tokenizer(cfg.model, run_dir, lambda: (t for ex in data.train for t in (ex.question, ex.context)))
    student = build_model(cfg.model, tokenizer, "qa")
    _check_window(cfg, tokenizer, student)
    setattr(student.config, SHARED_LAYERS_KEY, cfg.distill.shared_layers)  # every save records K
    teacher = load_model(Path(teacher_path))
    if teacher.config.num_hidden_layers != student.config.num_hidden_layers:
        raise ConfigError(
            f"distill.teacher: {teacher.config.num_hidden_layers} layers, the student {student.config.num_hidden_layers}"
        )
    model = DecomposedQuestionAnsweringModel(student, cfg.distill.shared_layers, tokenizer.sep_token_id)

    mixed = mixed_training_examples(cfg, data)
    eval_ds, evaluator, all_callbacks = evaluation_setup(cfg, tokenizer, data, callbacks)
    features_dir = Path(tempfile.mkdtemp(prefix="train-features-", dir=run_dir))
    try:
        train_ds = streamed_train_features(cfg, tokenizer, mixed, features_dir)
        log.info(
            "decomposed fine-tuning: K=%d of %d layers, teacher %s, %d training windows",
            cfg.distill.shared_layers, student.config.num_hidden_layers, teacher_path, len(train_ds),
        )
        trainer = DistillTrainer(
            model=model,
            args=args,
            train_dataset=train_ds,
            eval_dataset=eval_ds,
            data_collator=DataCollatorWithPadding(tokenizer),
            processing_class=tokenizer,
            compute_metrics=evaluator,
            callbacks=all_callbacks,
            teacher=teacher,
            distill=cfg.distill,
        )
        quiet_progress(trainer)
        train_output = trainer.train(resume_from_checkpoint=resume_from)
    finally:
        shutil.rmtree(features_dir, ignore_errors=True)
    log.info("training done at step %d (loss %.4f)", trainer.state.global_step, train_output.training_loss)

    model_dir = run_dir / MODEL_DIR
    eval_result = None
    if evaluator is not None:
        trainer.evaluate()  # the best model (loaded at the end), read decomposed
        if evaluator.last is None:
            raise RuntimeError("evaluation produced no predictions")
        eval_result = evaluator.last
    null_threshold = None
    if trainer.is_world_process_zero():
        # the plain QA model (not the wrapper): the layout every reader loads, K in its config.json
        student.save_pretrained(str(model_dir))
        tokenizer.save_pretrained(str(model_dir))
        null_threshold = _write_artifacts(
            cfg, run_dir, model_dir, data, eval_result, trainer, args, len(train_ds), len(mixed),
            train_output.training_loss,
        )
    return QaRunResult(
        run_dir, model_dir, trainer.state.global_step, eval_result.metrics if eval_result else {}, null_threshold
    )


# ----------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """``kgqa train distill [hydra overrides…]`` / ``python -m training.distill …`` (conf/train_qa_decomposed.yaml)."""
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE, to_object
    from kgqa.errors import KgqaError
    from training.cli import _offline

    _offline()
    register_distill_configs()
    failed = 0

    @hydra.main(config_path=str(CONF_DIR), config_name="train_qa_decomposed", version_base=HYDRA_VERSION_BASE)
    def app(cfg) -> float | None:
        nonlocal failed
        run_dir = Path(cfg.output_dir) if cfg.output_dir else Path(HydraConfig.get().runtime.output_dir)
        missing = sorted(OmegaConf.missing_keys(cfg))
        try:
            if missing:
                raise ConfigError(f"missing required value(s): {', '.join(missing)}")
            result = train_decomposed(to_object(cfg, DecomposedQaRunConfig), run_dir)
            return result.metrics.get("all", {}).get("f1")
        except KgqaError as exc:
            log.error("decomposed QA run in %s failed: %s", run_dir, exc)
            failed += 1
            return None

    saved = sys.argv
    sys.argv = ["kgqa train distill", *(sys.argv[1:] if argv is None else argv)]
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code:
            return code
    finally:
        sys.argv = saved
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
