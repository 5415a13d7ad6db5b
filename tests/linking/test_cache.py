"""The on-disk index cache: reused while the sources are unchanged, rebuilt when a source file changes."""

from __future__ import annotations

import os
import shutil

import pytest

from kgqa.linking import Linker, LinkerConfig
from kgqa.linking.index import TermIndex
from kgqa.types import ValueKind

from .conftest import DATA, concept

ENUM = concept(ValueKind.ENUM, scope=("mv:arrival_mode",))


@pytest.fixture()
def onto(tmp_path):
    """A private copy of the fixture vocabulary, so the tests may edit it."""
    d = tmp_path / "onto"
    d.mkdir()
    shutil.copy(DATA / "mini-vocab.ttl", d / "vocab.ttl")
    (d / "sources.yaml").write_text("vocab:\n  files:\n    - {path: vocab.ttl, loader: rdf}\n")
    return d


def cfg(onto, cache, **kw) -> LinkerConfig:
    return LinkerConfig(sources=["vocab"], ontology_dir=str(onto), cache_dir=str(cache), **kw)


def forbid_builds(monkeypatch):
    def boom(*_a, **_k):
        raise AssertionError("index rebuilt although the cache is valid")

    monkeypatch.setattr(TermIndex, "build", classmethod(boom))


def test_second_load_comes_from_the_cache(onto, tmp_path, monkeypatch):
    first = Linker.from_config(cfg(onto, tmp_path / "cache"))
    assert len(list((tmp_path / "cache").glob("index-*.pkl"))) == 1
    forbid_builds(monkeypatch)
    second = Linker.from_config(cfg(onto, tmp_path / "cache"))
    assert second.index.keys == first.index.keys
    assert second.link("RZP", ENUM, "cs") == first.link("RZP", ENUM, "cs")


def test_changed_source_file_invalidates_the_cache(onto, tmp_path):
    cache = tmp_path / "cache"
    assert Linker.from_config(cfg(onto, cache)).link("sanitka", ENUM, "cs") == ()
    vocab = onto / "vocab.ttl"
    vocab.write_text(vocab.read_text().replace('"RZP"@cs', '"RZP"@cs, "sanitka"@cs'))
    st = vocab.stat()
    os.utime(vocab, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a coarse-mtime file system still sees it
    links = Linker.from_config(cfg(onto, cache)).link("sanitka", ENUM, "cs")
    assert links and links[0].iri.endswith("arrival_mode-ems")
    assert len(list(cache.glob("index-*.pkl"))) == 2


def test_changed_source_selection_is_a_different_cache_entry(onto, tmp_path):
    (onto / "sources.yaml").write_text(
        "vocab:\n  files:\n    - {path: vocab.ttl, loader: rdf}\nvocab2:\n  files:\n    - {path: vocab.ttl, loader: rdf}\n"
    )
    a = Linker.from_config(cfg(onto, tmp_path / "c"))
    b = Linker.from_config(LinkerConfig(sources=["vocab", "vocab2"], ontology_dir=str(onto), cache_dir=str(tmp_path / "c")))
    assert a.index.sources == ["vocab"] and b.index.sources == ["vocab", "vocab2"]


def test_corrupt_cache_file_is_rebuilt(onto, tmp_path, caplog):
    cache = tmp_path / "cache"
    Linker.from_config(cfg(onto, cache))
    (pkl,) = cache.glob("index-*.pkl")
    pkl.write_bytes(b"not a pickle")
    linker = Linker.from_config(cfg(onto, cache))
    assert linker.link("RZP", ENUM, "cs")
    assert "unreadable index cache" in caplog.text


def test_use_cache_false_writes_nothing(onto, tmp_path):
    Linker.from_config(cfg(onto, tmp_path / "cache", use_cache=False))
    assert not (tmp_path / "cache").exists()


def test_old_cache_files_are_pruned(onto, tmp_path, monkeypatch):
    from kgqa.linking import cache

    monkeypatch.setattr(cache, "MAX_CACHE_FILES", 2)
    vocab = onto / "vocab.ttl"
    for i in range(4):  # four versions of the source -> four cache keys
        vocab.write_text(vocab.read_text() + f"\n# edit {i}\n")
        st = vocab.stat()
        os.utime(vocab, ns=(st.st_atime_ns, st.st_mtime_ns + (i + 1) * 1_000_000_000))
        Linker.from_config(cfg(onto, tmp_path / "cache"))
    assert len(list((tmp_path / "cache").glob("index-*.pkl"))) == 2
