"""Fixtures of the linking tests: a linker over small fixture files plus the committed drug table."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgqa.linking import Linker, LinkerConfig
from kgqa.types import Concept, EnumMember, ValueKind

DATA = Path(__file__).parent / "data"


def make_cfg(tmp: Path, **overrides) -> LinkerConfig:
    base = {"sources": ["vocab", "mini", "drugs"], "ontology_dir": str(DATA), "manifest": "mini-sources.yaml",
            "cache_dir": str(tmp)}
    base.update(overrides)
    return LinkerConfig(**base)


@pytest.fixture(scope="session")
def linker(tmp_path_factory) -> Linker:
    return Linker.from_config(make_cfg(tmp_path_factory.mktemp("linker-cache")))


def concept(kind: ValueKind = ValueKind.TEXT, scope: tuple[str, ...] = (), members: tuple[EnumMember, ...] = (), cid: str = "c") -> Concept:
    return Concept(id=cid, group="test", kind=kind, questions={"en": ("?",)}, target_class="https://example.org/C",
                   scope=scope, members=members)
