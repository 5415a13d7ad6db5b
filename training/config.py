"""Typed Hydra schemas of the training entry points, registered in Hydra's ConfigStore.

``conf/train_mlm.yaml`` and ``conf/train_qa.yaml`` compose these; every option YAML under
``conf/train/<group>/`` starts with ``# @package <key>`` and extends the group's ``base_*`` schema,
so a misspelt key or a value of the wrong type fails when the config is composed, naming the key.
Only ``training/cli.py`` sees DictConfig; the training code receives these dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from kgqa.config import register_configs as register_run_configs
from kgqa.qa.config import WindowConfig


@dataclass
class ModelSourceConfig:
    """Where the encoder comes from: a local checkpoint, or a new model built from the sizes below."""

    #: local checkpoint directory (save_pretrained layout, e.g. a real xlm-roberta-base or an MLM run's
    #: ``model/``); empty = build a new, randomly initialised model from the architecture fields.
    #: Required (no default): a ``???`` in an option YAML could not override a schema default.
    checkpoint: str = MISSING
    #: tokenizer directory; empty = the checkpoint's own, or (no checkpoint) one trained on the training text
    tokenizer: str = ""
    #: size of a tokenizer trained from the corpus (SentencePiece-Unigram with XLM-R's special tokens)
    tokenizer_vocab_size: int = 8000
    #: at most this many texts feed tokenizer training (a sample is enough for a unigram vocabulary)
    tokenizer_max_texts: int = 200_000
    #: architecture family of a new model (a registry name, see training/modeling.py)
    arch: str = "xlm-roberta"
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 514
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    #: seed of the random initialisation of a new model (the trainer seed governs everything else)
    init_seed: int = 0
    #: keep the word-embedding matrix as loaded (no gradient, no optimizer state): for a large multilingual
    #: vocabulary (e5-small: 96M of its 118M parameters) it saves memory and ~10 % of a CPU step, and the
    #: matrix stays bit-identical to the checkpoint's, so a packaged reader can rebuild it from the source
    freeze_word_embeddings: bool = False
    #: also keep the whole embedding block and the lowest N transformer layers as loaded: a CPU step skips their
    #: backward pass (~1/4 less work at N=3 of 12), and frozen layers, like frozen embeddings, can be rebuilt
    #: from the source checkpoint instead of shipped
    freeze_layers: int = 0


@dataclass
class CorpusSourceConfig:
    """One source of raw text for masked-LM adaptation."""

    #: a file or a directory
    path: str = MISSING
    #: auto | text | jsonl | codiesp | obo | tsv | conllu | json | squad (see training/corpus.py)
    format: str = "auto"
    #: language of the text; empty = per record (jsonl ``lang_field``) or "und" (undetermined)
    lang: str = ""
    #: expected copies of each text per epoch (0.5 = a random half, 2 = every text twice)
    weight: float = 1.0
    #: jsonl: the fields holding text and language
    text_field: str = "text"
    lang_field: str = "lang"
    #: json: fields of the same object appended to the text
    join_fields: list[str] = field(default_factory=list)
    #: tsv: 0-based columns whose cells are texts (ontology labels, synonyms, definitions)
    columns: list[int] = field(default_factory=lambda: [1])
    #: tsv: lines to skip at the top (headers)
    skip_rows: int = 1
    #: text/codiesp directories: file name pattern
    glob: str = "*.txt"
    #: read at most this many texts from the source (0 = all)
    limit: int = 0


@dataclass
class MlmDataConfig:
    #: named sources (a dict so presets and overrides can add or drop one by name)
    sources: dict[str, CorpusSourceConfig] = field(default_factory=dict)
    #: language -> expected copies per epoch of each text in that language (missing languages: 1.0)
    lang_weights: dict[str, float] = field(default_factory=dict)
    #: drop exact duplicates (after whitespace normalisation) across all sources
    dedup: bool = True
    #: texts shorter than this (characters, stripped) are dropped
    min_chars: int = 20
    #: tokens per packed training block (special tokens included)
    block_size: int = 256
    #: fraction of texts held out to measure MLM loss and for early stopping
    validation_fraction: float = 0.05
    #: token-level masking probability (80% <mask>, 10% random token, 10% unchanged)
    mlm_probability: float = 0.15
    #: stream the corpus (an IterableDataset, nothing held in memory); needs trainer.max_steps > 0
    streaming: bool = False
    #: where tokenised and packed datasets are cached (keyed by the corpus and tokenizer)
    cache_dir: str = "${kgqa_root:}/.cache/training"
    #: processes for tokenisation
    num_proc: int = 1


@dataclass
class QaDatasetConfig:
    """One QA dataset file (or, for ``out_of_scope``, a directory of notes)."""

    path: str = MISSING
    #: squad (v1.1/v2.0 JSON) | bioasq (questions with snippets and exact answers) |
    #: out_of_scope (a directory of .txt notes that answer none of ``concepts``: unanswerable examples)
    format: str = "squad"
    #: language tag used for per-language metrics (out_of_scope: also the language of the questions asked)
    lang: str = "en"
    #: expected copies of each example per epoch (training sets only)
    weight: float = 1.0
    #: use at most this many examples (0 = all), taken in file order; out_of_scope: this many notes
    limit: int = 0
    #: out_of_scope only: the catalogue concepts none of these notes can answer
    concepts: list[str] = field(default_factory=list)
    #: out_of_scope only: skip notes matching this regular expression (case-insensitive): they might answer
    exclude_pattern: str = ""
    #: SQuAD files whose question ids mark contexts to leave out of this dataset: every context of this
    #: dataset holding one of those ids is dropped whole (e.g. SQuAD-es paragraphs that XQuAD, an evaluation
    #: set, translates from the same SQuAD dev paragraphs)
    exclude_contexts_of: list[str] = field(default_factory=list)


@dataclass
class QaDataConfig:
    #: named training datasets (mixed with their weights)
    train: dict[str, QaDatasetConfig] = field(default_factory=dict)
    #: named evaluation datasets (metrics per dataset and per language)
    eval: dict[str, QaDatasetConfig] = field(default_factory=dict)
    #: when ``eval`` is empty, hold out this fraction of the training examples (by context) for evaluation
    eval_fraction: float = 0.1
    #: windowing shared with the reader (kgqa.qa.windowing)
    window: WindowConfig = field(default_factory=WindowConfig)
    #: share of the windows of an answerable question that miss its answer kept for training (1 = all);
    #: lower it when training from scratch on short windows (see training/qa_features.py)
    missed_window_keep: float = 1.0
    #: share of the unanswerable training questions kept (1 = all)
    unanswerable_keep: float = 1.0
    #: longest answer considered when decoding, in tokens
    max_answer_tokens: int = 30
    #: start/end candidates kept per window when decoding
    n_best: int = 20
    #: processes for feature building
    num_proc: int = 1
    #: catalogue whose concepts the question ids name (``note::concept``, as kgqa's synthetic exports):
    #: evaluation and calibration decode those questions under the reader's rules for the concept's kind
    #: (digit-only, member-naming, value-readable spans); empty = kgqa's default catalogue
    catalogue: str = ""


@dataclass
class TrainerConfig:
    """The knobs of transformers' Trainer that kgqa exposes (see docs/training.md)."""

    learning_rate: float = 3e-5
    num_train_epochs: float = 2.0
    #: > 0 overrides num_train_epochs
    max_steps: int = -1
    per_device_train_batch_size: int = 16
    per_device_eval_batch_size: int = 64
    gradient_accumulation_steps: int = 1
    #: fraction of the optimisation steps spent warming up
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    lr_scheduler_type: str = "linear"
    max_grad_norm: float = 1.0
    #: auto | fp32 | bf16 | fp16 — auto: bf16 on a GPU that supports it, fp16 on an older GPU, fp32 on CPU
    precision: str = "auto"
    seed: int = 42
    #: steps | epoch | no
    eval_strategy: str = "steps"
    eval_steps: int = 500
    save_steps: int = 500
    save_total_limit: int = 2
    logging_steps: int = 50
    #: stop after this many evaluations without improvement (0 = never)
    early_stopping_patience: int = 0
    early_stopping_threshold: float = 0.0
    #: the metric that picks the best checkpoint; empty = f1 for QA, loss for MLM
    metric_for_best_model: str = ""
    dataloader_num_workers: int = 0
    #: train on the CPU even when a GPU is present
    use_cpu: bool = False
    #: batch windows of similar length together (less padding, faster; slightly less random batches)
    group_by_length: bool = False
    #: torch intra-op threads; 0 = torch's default. Tiny models train fastest on 1 (no thread sync)
    threads: int = 0
    gradient_checkpointing: bool = False
    torch_compile: bool = False
    #: tqdm progress bars (logging of loss/metrics/ETA happens either way)
    progress: bool = True


@dataclass
class MlmRunConfig:
    model: ModelSourceConfig = field(default_factory=ModelSourceConfig)
    data: MlmDataConfig = field(default_factory=MlmDataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    #: continue the last checkpoint in the run directory (hydra.run.dir must name the interrupted run)
    resume: bool = False
    #: where the run writes; empty = Hydra's run directory
    output_dir: str = ""
    #: a short name for the model card and the sweep summary
    run_name: str = "mlm"


@dataclass
class QaRunConfig:
    model: ModelSourceConfig = field(default_factory=ModelSourceConfig)
    data: QaDataConfig = field(default_factory=QaDataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    resume: bool = False
    output_dir: str = ""
    run_name: str = "qa"


#: group (under conf/) -> (package in the primary config, schema)
_GROUPS = {
    "train/model": ("model", ModelSourceConfig),
    "train/mlm_data": ("data", MlmDataConfig),
    "train/qa_data": ("data", QaDataConfig),
    "train/trainer": ("trainer", TrainerConfig),
}

_registered = False


def register_configs() -> None:
    """Register the training schemas (and kgqa's, for the ``kgqa_root`` resolver); idempotent."""
    global _registered
    register_run_configs()
    if _registered:
        return
    cs = ConfigStore.instance()
    cs.store(name="base_train_mlm", node=MlmRunConfig)
    cs.store(name="base_train_qa", node=QaRunConfig)
    for group, (package, schema) in _GROUPS.items():
        cs.store(group=group, name=f"base_{group.split('/')[-1]}", node=schema, package=package)
    _registered = True


def to_yaml(cfg: object) -> str:
    """A schema object (or DictConfig) as YAML, for run directories and model cards."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg) if not OmegaConf.is_config(cfg) else cfg)


def compose_train(kind: str, overrides=()):
    """The composed DictConfig of ``conf/train_<kind>.yaml`` with ``overrides`` (outside a Hydra app: tests, notebooks)."""
    from hydra import compose, initialize_config_dir

    from kgqa.config import CONF_DIR, HYDRA_VERSION_BASE

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=HYDRA_VERSION_BASE):
        return compose(config_name=f"train_{kind}", overrides=list(overrides))
