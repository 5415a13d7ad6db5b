"""Typed Hydra schemas for ``kgqa run`` and friends, registered in Hydra's ConfigStore.

Every YAML under ``conf/`` extends one of these schemas (``defaults: [base_<group>, _self_]``),
so a typo or a value of the wrong type fails when the config is composed, naming the key.
Stage configs live beside their stage (``kgqa/qa/config.py`` …); this module assembles them.
Only the CLI and the training entry points see Hydra's DictConfig; stages get these dataclasses.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, TypeVar

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from kgqa import PROJECT_ROOT
from kgqa.errors import ConfigError
from kgqa.linking.config import LinkerConfig
from kgqa.qa.config import ModelConfig, ReaderConfig
from kgqa.rdf.config import RdfConfig
from kgqa.stores.config import StoreConfig

T = TypeVar("T")

#: Hydra's version_base, pinned so defaults do not shift under us when Hydra changes them.
HYDRA_VERSION_BASE = "1.3"
CONF_DIR = PROJECT_ROOT / "conf"


@dataclass
class NotesConfig:
    #: a directory (.txt notes with optional .json sidecars, or brat .txt/.ann pairs) or a .jsonl file
    path: str = MISSING
    #: auto | txt | jsonl | brat
    format: str = "auto"
    #: language for notes that declare none; "detect" runs the offline language detector
    default_lang: str = "detect"
    encoding: str = "utf-8"
    #: notes larger than this are skipped with an error
    max_bytes: int = 2_000_000
    #: read only the first N notes (0 = all)
    limit: int = 0


@dataclass
class CatalogueConfig:
    #: the catalogue data file (documented in docs/catalogue.md)
    path: str = "${kgqa_root:}/kgqa/resources/catalogue/resq.yaml"
    #: ask only these concept ids / groups (empty = all)
    concepts: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


@dataclass
class RunnerConfig:
    #: local | ray
    kind: str = "local"
    #: notes processed and loaded into the store together
    notes_per_batch: int = 8
    #: ask the reader one note at a time (true) so a note's answers never depend on the notes that shared
    #: its batches — float rounding differs with padding — and runner=local and runner=ray give byte-identical
    #: output; false batches question/window pairs across notes (faster for many short notes)
    read_per_note: bool = True
    progress: bool = True
    #: ray: cluster address ("" = start a local Ray; "auto" = join the cluster this machine belongs to)
    address: str = ""
    #: ray: notes per partition (the unit of sharding, resume and error isolation)
    partition_size: int = 1000
    #: ray: reader actors (one model each) and the resources each one takes
    actors: int = 2
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    #: ray: shard directory; empty = <run dir>/shards. Re-running with the same directory resumes.
    shard_dir: str = ""
    #: local: a run directory that already holds an interrupted run of the same config and model is
    #: resumed (notes whose graph is stored with the same text digest are skipped); false = redo every note
    resume: bool = True
    #: seconds between progress log lines when stderr is not a terminal (a terminal gets a tqdm bar)
    progress_every_s: float = 30.0


@dataclass
class OutputConfig:
    #: where run outputs go; empty = Hydra's run directory (hydra.run.dir)
    dir: str = ""
    trig: bool = True
    nquads: bool = False
    jsonld: bool = False
    facts_jsonl: bool = True


@dataclass
class RunConfig:
    notes: NotesConfig = field(default_factory=NotesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    catalogue: CatalogueConfig = field(default_factory=CatalogueConfig)
    linker: LinkerConfig = field(default_factory=LinkerConfig)
    rdf: RdfConfig = field(default_factory=RdfConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    #: run identifier (IRIs of the run's provenance); empty = start time + config digest.
    #: Fix it to make two runs (e.g. runner=local and runner=ray) produce identical graphs.
    run_id: str = ""
    #: the named query printed at the end of ``kgqa run`` (queries/NAME.rq); empty = none
    summary_query: str = "facts_per_concept"
    #: log note text and patient identifiers (off by default: logs must not leak them)
    debug_phi: bool = False
    seed: int = 0


_GROUP_SCHEMAS: dict = {
    "notes": NotesConfig,
    "model": ModelConfig,
    "reader": ReaderConfig,
    "catalogue": CatalogueConfig,
    "linker": LinkerConfig,
    "rdf": RdfConfig,
    "store": StoreConfig,
    "runner": RunnerConfig,
}

#: the config groups of ``kgqa run`` (conf/<group>/*.yaml), in the order of conf/config.yaml
RUN_GROUPS: tuple[str, ...] = tuple(_GROUP_SCHEMAS)

#: schema of a group -> its key prefix, for range checks of a group composed alone (kgqa query's store)
_SCHEMA_PREFIX: dict[type, str] = {schema: f"{group}." for group, schema in _GROUP_SCHEMAS.items()}

_registered = False


def register_configs() -> None:
    """Register the schemas and the ``kgqa_root`` resolver (idempotent)."""
    global _registered
    if _registered:
        return
    if not OmegaConf.has_resolver("kgqa_root"):
        OmegaConf.register_new_resolver("kgqa_root", lambda: str(PROJECT_ROOT))
    cs = ConfigStore.instance()
    cs.store(name="base_run", node=RunConfig)
    for group, schema in _GROUP_SCHEMAS.items():
        cs.store(group=group, name=f"base_{group}", node=schema)
    _registered = True


#: Allowed range (lowest, highest; None = unbounded) of every numeric setting of ``kgqa run``, by its key.
#: A value outside fails at start-up, naming the key, before any model or store is touched. The test
#: suite checks that every int/float field of :class:`RunConfig` has an entry here.
RANGES: dict[str, tuple[float | None, float | None]] = {
    "notes.max_bytes": (1, None),
    "notes.limit": (0, None),
    "reader.window.max_seq_length": (16, None),
    "reader.window.doc_stride": (1, None),
    "reader.window.max_question_length": (1, None),
    "reader.threads": (0, None),
    "reader.batch_size": (1, None),
    "reader.max_batch_tokens": (0, None),
    "reader.n_best": (1, None),
    "reader.max_answer_tokens": (1, None),
    "reader.max_answer_tokens_by_kind": (1, None),  # each value
    "reader.null_threshold": (None, None),
    "reader.null_thresholds": (None, None),
    "reader.max_answers_per_list": (1, None),
    "reader.min_confidence": (0.0, 1.0),
    "linker.top_k": (1, None),
    "linker.nil_threshold": (0.0, 1.0),
    "linker.workers": (1, None),
    "linker.block_grams": (1, None),
    "linker.block_budget": (1, None),
    "linker.max_candidates": (1, None),
    "linker.brute_force_limit": (0, None),
    "linker.min_fuzzy_length": (0, None),
    "linker.other_language_factor": (0.0, 1.0),
    "linker.related_factor": (0.0, 1.0),
    "linker.dense_threads": (1, None),
    "linker.subspan_base": (0.0, 1.0),
    "linker.count_prior": (0.0, None),
    "linker.acronym_score": (0.0, 1.0),
    "linker.subspan_max_tokens": (1, None),
    "linker.word_weight": (0.0, 1.0),
    "linker.word_floor": (0.0, 1.0),
    "linker.word_prefix": (1, None),
    "linker.word_candidates": (0, None),
    "linker.word_budget": (0, None),
    "linker.descendant_backoff": (0.0, 1.0),
    "linker.memo_size": (0, None),
    "linker.processes": (1, None),
    "linker.dense_k": (1, None),
    "linker.dense_low": (-1.0, 1.0),
    "linker.dense_high": (-1.0, 1.0),
    "linker.dense_margin": (0.001, 1.0),
    "linker.dense_skip": (0.0, 1.0),
    "linker.fuse_agree": (0.0, 1.0),
    "linker.short_exact_only": (0, None),
    "rdf.quote_context": (0, None),
    "store.timeout_s": (0.1, None),
    "store.batch_size": (1, None),
    "store.retries": (0, 100),
    "store.backoff_s": (0.0, None),
    "store.max_backoff_s": (0.0, None),
    "runner.notes_per_batch": (1, None),
    "runner.partition_size": (1, None),
    "runner.actors": (1, None),
    "runner.cpus_per_actor": (0.0, None),
    "runner.gpus_per_actor": (0.0, None),
    "runner.progress_every_s": (0.1, None),
    "seed": (0, None),
}


def _numeric_values(node: Any, prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    """(RANGES key, full key, value) of every numeric field under a config dataclass (dict values included)."""
    for f in fields(node):
        key, value = prefix + f.name, getattr(node, f.name)
        if is_dataclass(value):
            yield from _numeric_values(value, key + ".")
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    yield key, f"{key}.{k}", v
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield key, key, value


def check_ranges(cfg: Any, prefix: str = "") -> None:
    """ConfigError naming the key and the allowed range for the first numeric value outside it.

    ``cfg`` is a :class:`RunConfig` (``prefix`` empty) or one of its groups (``prefix`` = "store." …).
    """
    for rule, key, value in _numeric_values(cfg, prefix):
        lo, hi = RANGES.get(rule, (None, None))
        if math.isnan(value) or (lo is not None and value < lo) or (hi is not None and value > hi):  # NaN too
            allowed = f"between {lo} and {hi}" if lo is not None and hi is not None else (
                f">= {lo}" if lo is not None else f"<= {hi}")
            raise ConfigError(f"{key}={value}: must be {allowed}")
    if prefix == "" and isinstance(cfg, RunConfig):
        window = cfg.reader.window
        if window.doc_stride >= window.max_seq_length:
            raise ConfigError(f"reader.window.doc_stride={window.doc_stride}: must be below "
                              f"reader.window.max_seq_length={window.max_seq_length}")
        if cfg.store.max_backoff_s < cfg.store.backoff_s:
            raise ConfigError(f"store.max_backoff_s={cfg.store.max_backoff_s}: must be >= store.backoff_s={cfg.store.backoff_s}")



def to_object(cfg: Any, schema: type[T]) -> T:
    """Turn a (sub-)DictConfig into its schema dataclass, resolving interpolations."""
    if isinstance(cfg, schema):
        return cfg
    if isinstance(cfg, DictConfig):
        # merging "???" over a schema default would silently keep the default: a required value
        # (e.g. model.path for model=local) must fail here, naming its key
        missing = sorted(OmegaConf.missing_keys(cfg))
        if missing:
            raise ConfigError(f"missing required value(s): {', '.join(missing)} (give them as overrides, e.g. {missing[0]}=…)")
        typed = cfg if OmegaConf.get_type(cfg) is schema else OmegaConf.merge(OmegaConf.structured(schema), cfg)
        obj = OmegaConf.to_object(typed)
        if schema is RunConfig:
            check_ranges(obj)
        elif schema in _SCHEMA_PREFIX:
            check_ranges(obj, _SCHEMA_PREFIX[schema])
        return obj  # type: ignore[return-value]
    raise TypeError(f"expected a DictConfig for {schema.__name__}, got {type(cfg).__name__}")


SECRET_KEYS = ("password", "token", "secret", "key")


def masked_yaml(cfg: DictConfig) -> str:
    """The resolved config as YAML with every secret-looking value masked (for provenance)."""
    container = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)

    def mask(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: ("***" if any(s in str(k).lower() for s in SECRET_KEYS) and v not in ("", None) else mask(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [mask(v) for v in node]
        return node

    return OmegaConf.to_yaml(OmegaConf.create(mask(container)))


def compose(overrides: Any = (), config_name: str = "config") -> DictConfig:
    """Compose a config from ``conf/`` outside a Hydra app (commands such as ``kgqa query``; tests)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=HYDRA_VERSION_BASE):
        return hydra_compose(config_name=config_name, overrides=list(overrides))
