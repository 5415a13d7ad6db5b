"""The encoder and tokenizer a training run starts from: a local checkpoint, or a new model from config.

Nothing is downloaded: ``model.checkpoint`` is a local directory (``local_files_only``), and a
model built from sizes gets a SentencePiece-Unigram tokenizer trained on the run's own text
(``kgqa.tokenizer``), saved into the run directory so a resumed run tokenises identically.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from transformers import (
    AutoModelForMaskedLM,
    AutoModelForQuestionAnswering,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    XLMRobertaConfig,
)

from kgqa.errors import ConfigError, ModelLoadError
from kgqa.tokenizer import train_unigram_tokenizer
from training.config import ModelSourceConfig

log = logging.getLogger(__name__)

#: architecture name (model.arch) -> config class of a from-scratch model
ARCHITECTURES: dict[str, type[PretrainedConfig]] = {"xlm-roberta": XLMRobertaConfig}

#: head name -> Auto class
HEADS = {"mlm": AutoModelForMaskedLM, "qa": AutoModelForQuestionAnswering}

TOKENIZER_DIR = "tokenizer"


def _checkpoint_dir(cfg: ModelSourceConfig) -> Path:
    path = Path(cfg.checkpoint).expanduser()
    if not (path / "config.json").is_file():
        raise ModelLoadError(
            f"model.checkpoint={cfg.checkpoint!r} is not a checkpoint directory (no config.json); "
            "point it at a local save_pretrained directory, or leave it empty to build a model from sizes"
        )
    return path


def load_tokenizer(
    cfg: ModelSourceConfig, run_dir: Path, texts: Callable[[], Iterable[str]]
) -> PreTrainedTokenizerBase:
    """The run's tokenizer: ``model.tokenizer``, the checkpoint's, the run's saved one, or a newly trained one.

    ``texts`` is called only when a tokenizer must be trained; the result is saved under
    ``<run_dir>/tokenizer`` and reused when the run resumes.
    """
    saved = run_dir / TOKENIZER_DIR
    if cfg.tokenizer:
        source = Path(cfg.tokenizer).expanduser()
        if not source.is_dir():
            raise ConfigError(f"model.tokenizer={cfg.tokenizer!r} is not a directory")
    elif cfg.checkpoint:
        source = _checkpoint_dir(cfg)
    elif (saved / "tokenizer_config.json").is_file():
        source = saved
    else:
        sample = list(itertools.islice((t for t in texts() if t.strip()), cfg.tokenizer_max_texts))
        if not sample:
            raise ConfigError(
                "no text to train a tokenizer on (model.checkpoint and model.tokenizer are empty)"
            )
        log.info("training a %d-piece unigram tokenizer on %d texts", cfg.tokenizer_vocab_size, len(sample))
        tok = train_unigram_tokenizer(
            sample, vocab_size=cfg.tokenizer_vocab_size, model_max_length=cfg.max_position_embeddings - 2
        )
        saved.mkdir(parents=True, exist_ok=True)
        tok.save_pretrained(saved)
        # Continue with the tokenizer *as loaded from disk*: the freshly trained object reports
        # offsets that include the leading space of "▁word" pieces, the reloaded one trims them
        # (trim_offsets). The reader loads from disk, so training must label with the same offsets.
        source = saved
    try:
        tok = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load a tokenizer from {source}: {exc}") from exc
    if not tok.is_fast:
        raise ModelLoadError(f"tokenizer at {source} is not a fast tokenizer (offsets are needed)")
    tok.padding_side = "right"
    return tok


def build_model(cfg: ModelSourceConfig, tokenizer: PreTrainedTokenizerBase, head: str) -> PreTrainedModel:
    """Load ``model.checkpoint`` with the given head, or build a new model from the architecture sizes."""
    auto = HEADS[head]
    if cfg.checkpoint:
        path = _checkpoint_dir(cfg)
        try:
            model = auto.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"cannot load model.checkpoint={cfg.checkpoint!r} for {head}: {exc}"
            ) from exc
        if model.get_input_embeddings().num_embeddings < len(tokenizer):
            model.resize_token_embeddings(len(tokenizer))
        log.info("loaded %s (%s head) from %s", type(model).__name__, head, path)
        return _frozen(model, cfg)
    try:
        config_cls = ARCHITECTURES[cfg.arch]
    except KeyError:
        raise ConfigError(
            f"model.arch={cfg.arch!r} is not one of {', '.join(sorted(ARCHITECTURES))}"
        ) from None
    config = config_cls(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        intermediate_size=cfg.intermediate_size,
        max_position_embeddings=cfg.max_position_embeddings,
        hidden_dropout_prob=cfg.hidden_dropout_prob,
        attention_probs_dropout_prob=cfg.attention_probs_dropout_prob,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(cfg.init_seed)
    model = auto.from_config(config)
    n = sum(p.numel() for p in model.parameters())
    log.info("built a new %s %s model from config (%.1fM parameters)", cfg.arch, head, n / 1e6)
    return _frozen(model, cfg)


def _frozen(model: PreTrainedModel, cfg: ModelSourceConfig) -> PreTrainedModel:
    """Apply ``model.freeze_word_embeddings``.

    An MLM head that ties its decoder to the word embeddings would freeze with them (and learn nothing about
    the vocabulary): refused.
    """
    if cfg.freeze_layers < 0:
        raise ConfigError(f"model.freeze_layers={cfg.freeze_layers} must be >= 0")
    if not cfg.freeze_word_embeddings and not cfg.freeze_layers:
        return model
    embeddings = model.get_input_embeddings()
    output = model.get_output_embeddings()
    if output is not None and output.weight is embeddings.weight:
        raise ConfigError(
            "model.freeze_word_embeddings=true: this model's output layer is tied to its word embeddings "
            "(a masked-LM head); freeze them for QA fine-tuning only"
        )
    embeddings.weight.requires_grad_(False)
    if cfg.freeze_layers:
        base = model.base_model
        layers = getattr(getattr(base, "encoder", None), "layer", None)
        if layers is None or not hasattr(base, "embeddings"):
            raise ConfigError(f"model.freeze_layers: {type(model).__name__} has no embeddings/encoder.layer to freeze")
        if cfg.freeze_layers > len(layers):
            raise ConfigError(f"model.freeze_layers={cfg.freeze_layers} exceeds the model's {len(layers)} layers")
        for module in (base.embeddings, *layers[: cfg.freeze_layers]):
            module.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info(
        "frozen: word embeddings%s; %.1fM trainable parameters",
        f", embedding block and layers 0-{cfg.freeze_layers - 1}" if cfg.freeze_layers else "", trainable / 1e6,
    )
    return model
