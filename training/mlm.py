"""Masked-LM domain adaptation: corpus -> tokenised, packed blocks (datasets) -> Trainer -> checkpoint.

Blocks are packed the run_mlm.py way: every text is tokenised with its ``<s> … </s>``, the token
streams are concatenated and cut into ``block_size`` pieces, so no compute is spent on padding.
Masking is token-level (15%; of those 80% ``<mask>``, 10% a random token, 10% unchanged) by
``DataCollatorForLanguageModeling``: whole-word masking needs word boundaries that XLM-R's
SentencePiece pieces do not mark reliably across scripts.

Non-streaming datasets are cached under ``data.cache_dir`` keyed by a digest of the selected
texts, their weights, the tokenizer and the block size: a second run (or a sweep) skips tokenisation.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from datasets import Dataset, IterableDataset, load_from_disk
from transformers import (
    DataCollatorForLanguageModeling,
    EarlyStoppingCallback,
    PreTrainedTokenizerBase,
    Trainer,
)

import kgqa
from kgqa.errors import ConfigError
from training.config import MlmDataConfig, MlmRunConfig, to_yaml
from training.corpus import CorpusStats, CorpusText, is_validation, iter_corpus, weighted
from training.model_card import render_model_card
from training.modeling import build_model, load_tokenizer
from training.runs import (
    METRICS_FILE,
    MODEL_DIR,
    ProgressLogCallback,
    quiet_progress,
    resume_checkpoint,
    training_arguments,
    write_json,
)

log = logging.getLogger(__name__)

#: 80% <mask>, 10% random token, 10% unchanged (BERT's recipe; the collator's defaults, made explicit)
MASK_REPLACE_PROB = 0.8
RANDOM_REPLACE_PROB = 0.1


@dataclass(frozen=True)
class MlmRunResult:
    run_dir: Path
    model_dir: Path
    global_step: int
    eval_loss: float | None
    train_blocks: int | None


def tokenize_and_pack(
    batch: dict[str, list[str]], tokenizer: PreTrainedTokenizerBase, block_size: int
) -> dict[str, list]:
    """Tokenise a batch of texts, concatenate, and cut into full blocks (the remainder is dropped)."""
    enc = tokenizer(batch["text"], add_special_tokens=True, return_special_tokens_mask=True, truncation=False)
    ids = list(itertools.chain.from_iterable(enc["input_ids"]))
    special = list(itertools.chain.from_iterable(enc["special_tokens_mask"]))
    n = (len(ids) // block_size) * block_size
    return {
        "input_ids": [ids[i : i + block_size] for i in range(0, n, block_size)],
        "special_tokens_mask": [special[i : i + block_size] for i in range(0, n, block_size)],
    }


def _tokenizer_digest(tokenizer: PreTrainedTokenizerBase) -> str:
    return hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode()).hexdigest()[:16]


def _split(cfg: MlmDataConfig, stats: CorpusStats) -> tuple[list[CorpusText], list[CorpusText]]:
    train, valid = [], []
    for t in iter_corpus(cfg, stats):
        (valid if is_validation(t.text, cfg.validation_fraction) else train).append(t)
    return train, valid


def build_datasets(
    cfg: MlmDataConfig, tokenizer: PreTrainedTokenizerBase, seed: int, stats: CorpusStats
) -> tuple[Dataset, Dataset | None]:
    """Packed train/validation datasets, from the cache when the same corpus was packed before."""
    train_texts, valid_texts = _split(cfg, stats)
    source_weights = {name: s.weight for name, s in cfg.sources.items()}
    train_texts = list(weighted(train_texts, source_weights, cfg.lang_weights, seed))
    if not train_texts:
        raise ConfigError(
            "the MLM corpus is empty after filtering and weighting (check data.sources and data.min_chars)"
        )
    h = hashlib.sha256()
    for part in (train_texts, [None], valid_texts):
        for t in part:
            h.update(b"\x00" if t is None else t.text.encode("utf-8", "surrogatepass") + b"\x01")
    h.update(f"{_tokenizer_digest(tokenizer)}|{cfg.block_size}".encode())
    cache = Path(cfg.cache_dir) / f"mlm-{h.hexdigest()[:20]}"
    if (cache / "train").is_dir():
        log.info("MLM blocks from cache %s", cache)
        train = load_from_disk(str(cache / "train"))
        valid = load_from_disk(str(cache / "valid")) if (cache / "valid").is_dir() else None
        return train, valid

    def pack(texts: list[CorpusText], what: str) -> Dataset:
        ds = Dataset.from_dict({"text": [t.text for t in texts]})
        return ds.map(
            tokenize_and_pack,
            batched=True,
            batch_size=1000,
            fn_kwargs={"tokenizer": tokenizer, "block_size": cfg.block_size},
            remove_columns=["text"],
            num_proc=cfg.num_proc if cfg.num_proc > 1 else None,
            desc=f"tokenising and packing {what} texts into {cfg.block_size}-token blocks",
        )

    train = pack(train_texts, "training")
    valid = pack(valid_texts, "validation") if valid_texts else None
    if valid is not None and len(valid) == 0:
        log.warning("validation texts make no full %d-token block: no MLM evaluation", cfg.block_size)
        valid = None
    cache.mkdir(parents=True, exist_ok=True)
    train.save_to_disk(str(cache / "train"))
    if valid is not None:
        valid.save_to_disk(str(cache / "valid"))
    return train, valid


def build_streaming(
    cfg: MlmDataConfig, tokenizer: PreTrainedTokenizerBase, seed: int
) -> tuple[IterableDataset, IterableDataset]:
    """Streaming train/validation datasets: texts are read, weighted and packed on the fly."""
    source_weights = {name: s.weight for name, s in cfg.sources.items()}

    def texts(validation: bool) -> Iterator[dict[str, str]]:
        items = (t for t in iter_corpus(cfg) if is_validation(t.text, cfg.validation_fraction) == validation)
        if not validation:
            items = weighted(items, source_weights, cfg.lang_weights, seed)
        for t in items:
            yield {"text": t.text}

    def stream(validation: bool) -> IterableDataset:
        ds = IterableDataset.from_generator(texts, gen_kwargs={"validation": validation})
        return ds.map(
            tokenize_and_pack,
            batched=True,
            batch_size=1000,
            fn_kwargs={"tokenizer": tokenizer, "block_size": cfg.block_size},
            remove_columns=["text"],
        )

    # a shuffle buffer mixes sources and languages that are read one after another
    return stream(False).shuffle(seed=seed, buffer_size=10_000), stream(True)


def train_mlm(cfg: MlmRunConfig, run_dir: str | Path, callbacks=()) -> MlmRunResult:
    """Continue pre-training (or pre-train) with masked LM; write ``model/`` and ``metrics.json``."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    resume_from = resume_checkpoint(run_dir, cfg.resume)
    seed = cfg.trainer.seed
    metric = cfg.trainer.metric_for_best_model or "loss"

    def arguments(has_eval: bool):
        return training_arguments(
            cfg.trainer,
            run_dir,
            run_name=cfg.run_name,
            metric=metric,
            has_eval=has_eval,
            streaming=cfg.data.streaming,
        )

    args = arguments(cfg.data.validation_fraction > 0)
    stats = CorpusStats()
    # under torchrun/accelerate the main process trains the tokenizer and packs (and caches) the
    # corpus first; the other processes then load both instead of redoing (and diverging from) it
    with args.main_process_first(desc="tokenizer and corpus"):
        tokenizer = load_tokenizer(cfg.model, run_dir, lambda: (t.text for t in iter_corpus(cfg.data)))
        if cfg.data.block_size > tokenizer.model_max_length and not cfg.model.checkpoint:
            raise ConfigError(
                f"data.block_size={cfg.data.block_size} exceeds the tokenizer's model_max_length "
                f"{tokenizer.model_max_length}"
            )
        if cfg.data.streaming:
            train_ds, valid_ds = build_streaming(cfg.data, tokenizer, seed)
            train_blocks = None
        else:
            train_ds, valid_ds = build_datasets(cfg.data, tokenizer, seed, stats)
            train_blocks = len(train_ds)
            log.info(
                "MLM corpus: %d texts kept of %d read (%d duplicates, %d too short); languages %s; "
                "%d training blocks%s",
                stats.kept,
                stats.read,
                stats.duplicates,
                stats.too_short,
                stats.by_lang,
                train_blocks,
                f", {len(valid_ds)} validation blocks" if valid_ds is not None else "",
            )
    if (valid_ds is not None) != (cfg.data.validation_fraction > 0):
        args = arguments(valid_ds is not None)
    model = build_model(cfg.model, tokenizer, "mlm")
    if cfg.data.block_size > model.config.max_position_embeddings - 2:
        raise ConfigError(
            f"data.block_size={cfg.data.block_size} exceeds the model's {model.config.max_position_embeddings - 2} positions"
        )
    collator = DataCollatorForLanguageModeling(
        tokenizer,
        mlm=True,
        mlm_probability=cfg.data.mlm_probability,
        mask_replace_prob=MASK_REPLACE_PROB,
        random_replace_prob=RANDOM_REPLACE_PROB,
        seed=seed,
    )
    cbs = [ProgressLogCallback(), *callbacks]
    if cfg.trainer.early_stopping_patience > 0 and valid_ds is not None:
        cbs.append(
            EarlyStoppingCallback(cfg.trainer.early_stopping_patience, cfg.trainer.early_stopping_threshold)
        )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=valid_ds,
        data_collator=collator,
        processing_class=tokenizer,
        callbacks=cbs,
    )
    quiet_progress(trainer)
    out = trainer.train(resume_from_checkpoint=resume_from)
    model_dir = run_dir / MODEL_DIR
    trainer.save_model(str(model_dir))  # collective under DDP/FSDP: every rank calls it
    eval_loss = None
    if valid_ds is not None:
        eval_loss = float(trainer.evaluate()["eval_loss"])
        log.info("validation loss %.4f (perplexity %.1f)", eval_loss, math.exp(min(eval_loss, 50)))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(model_dir))
        _write_artifacts(
            cfg,
            run_dir,
            model_dir,
            trainer.state.global_step,
            out.training_loss,
            eval_loss,
            train_blocks,
            stats,
        )
    return MlmRunResult(run_dir, model_dir, trainer.state.global_step, eval_loss, train_blocks)


def _write_artifacts(
    cfg: MlmRunConfig,
    run_dir: Path,
    model_dir: Path,
    global_step: int,
    train_loss: float,
    eval_loss: float | None,
    train_blocks: int | None,
    stats: CorpusStats,
) -> None:
    """Model card and — last — metrics.json (rank 0 only)."""
    base = cfg.model.checkpoint or f"a new {cfg.model.arch} model built from config"
    training_info = {
        "task": "mlm",
        "kgqa_version": kgqa.__version__,
        "base_model": base,
        "global_step": global_step,
        "train_blocks": train_blocks if train_blocks is not None else "streamed",
        "block_size": cfg.data.block_size,
        "mlm_probability": cfg.data.mlm_probability,
        "masking": "token-level, 80% <mask> / 10% random / 10% unchanged",
        "learning_rate": cfg.trainer.learning_rate,
        "seed": cfg.trainer.seed,
        "eval_loss": eval_loss,
        "perplexity": math.exp(min(eval_loss, 50)) if eval_loss is not None else None,
    }
    sources = [
        {
            "name": name,
            "lang": s.lang or "per text",
            "path": s.path,
            "examples": (stats.by_source or {}).get(name, "streamed"),
            "notes": f"format {s.format}, weight {s.weight:g}",
        }
        for name, s in cfg.data.sources.items()
    ]
    (model_dir / "README.md").write_text(
        render_model_card(
            title=f"kgqa domain-adapted encoder ({cfg.run_name})",
            task="mlm",
            base_model=base,
            datasets=sources,
            languages=list((stats.by_lang or {}).keys())
            or [s.lang for s in cfg.data.sources.values() if s.lang],
            metrics=None,
            training=training_info,
            config_yaml=to_yaml(cfg),
            notes=[f"corpus: {asdict(stats)}"] if not cfg.data.streaming else [],
        ),
        encoding="utf-8",
    )
    write_json(
        run_dir / METRICS_FILE,
        {
            "task": "mlm",
            "run_name": cfg.run_name,
            "global_step": global_step,
            "train_loss": train_loss,
            "metrics": {"all": {"eval_loss": eval_loss}} if eval_loss is not None else {},
            "corpus": asdict(stats),
            "model_dir": str(model_dir),
        },
    )
