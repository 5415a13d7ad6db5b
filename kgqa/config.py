"""Typed Hydra schemas for ``kgqa run`` and friends, registered in Hydra's ConfigStore.

Every YAML under ``conf/`` extends one of these schemas (``defaults: [base_<group>, _self_]``),
so a typo or a value of the wrong type fails when the config is composed, naming the key.
Stage configs live beside their stage (``kgqa/qa/config.py`` …); this module assembles them.
Only the CLI and the training entry points see Hydra's DictConfig; stages get these dataclasses.
"""

from dataclasses import dataclass, field
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
        return OmegaConf.to_object(typed)  # type: ignore[return-value]
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
