"""Typed config of the linking stage (Hydra group ``linker``)."""

from dataclasses import dataclass, field
from typing import List


@dataclass
class LinkerConfig:
    #: term sources to index, by name (see ontologies/README.md)
    sources: List[str] = field(default_factory=lambda: ["resq", "drugs"])
    ontology_dir: str = "${kgqa_root:}/ontologies"
    #: on-disk cache of the built index; empty = ``~/.cache/kgqa/linking``
    cache_dir: str = ""
    top_k: int = 5
    #: candidates scoring below this are dropped; no candidate left = NIL
    nil_threshold: float = 0.6
    workers: int = 1
