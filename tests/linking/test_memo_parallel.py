"""The link memo (LRU per text, language and scope) and link_many shared with worker processes."""

from __future__ import annotations

import sys

import pytest

from kgqa.linking import Linker, LinkerConfig
from kgqa.linking.linker import PARALLEL_MIN_TEXTS
from kgqa.types import ValueKind

from .conftest import concept
from .test_words_priors import WORD_TERMS, backoff_sources

TEXT = concept(ValueKind.TEXT)
NARROW = concept(ValueKind.TEXT, scope=("icd10cm",))


def _sources():
    sources = backoff_sources()
    sources["words"] = WORD_TERMS
    return sources


def test_memo_answers_repeats_and_respects_language_and_scope():
    linker = Linker.from_terms(_sources(), LinkerConfig(nil_threshold=0.3, memo_size=3))
    first = linker.link("mama izquierda tumor", TEXT, "es")
    assert (linker.memo_hits, linker.memo_misses) == (0, 1)
    assert linker.link("mama izquierda tumor", TEXT, "es") is first  # the memoised tuple itself
    assert (linker.memo_hits, linker.memo_misses) == (1, 1)
    linker.link("mama izquierda tumor", TEXT, "en")  # another language: linked again
    linker.link("mama izquierda tumor", NARROW, "es")  # another scope: linked again
    assert (linker.memo_hits, linker.memo_misses) == (1, 3)
    narrow = linker.link("mama izquierda tumor", NARROW, "es")  # the scope's own answer, not the memoised one
    assert first[0].source == "words" and narrow and {l.source for l in narrow} == {"icd10cm"}


def test_memo_evicts_the_least_recently_used():
    linker = Linker.from_terms(_sources(), LinkerConfig(nil_threshold=0.3, memo_size=2))
    for text in ("tumor de mano izquierda", "cerebral infarction", "tumor de mano izquierda", "cancer de endocervix"):
        linker.link(text, TEXT, "es")
    assert [k[0] for k in linker._memo] == ["tumor de mano izquierda", "cancer de endocervix"]


def test_memo_off():
    linker = Linker.from_terms(_sources(), LinkerConfig(memo_size=0))
    a, b = linker.link("cerebral infarction", TEXT, "en"), linker.link("cerebral infarction", TEXT, "en")
    assert a == b and a is not b and linker.memo_hits == 0


@pytest.mark.skipif(sys.platform != "linux", reason="worker processes are forked")
def test_link_many_over_two_processes_equals_one():
    texts = ["mama izquierda tumor", "malignant neoplasm of cervix uteri", "infarto cerebrl", "zzz", "tumor de mano",
             "cancer de cervix", "dolor hombro izquierdo", "cerebral infarction unspecified"]  # fmt: skip
    texts = [f"{t} {i % 5}" if i % 3 else t for i, t in enumerate(texts * (PARALLEL_MIN_TEXTS // 4))]
    cfg = LinkerConfig(nil_threshold=0.3, word_weight=0.3, descendant_backoff=0.5, brute_force_limit=0, memo_size=0)
    one = Linker.from_terms(_sources(), cfg).link_many(texts, TEXT, "es")
    linker = Linker.from_terms(_sources(), LinkerConfig(**{**cfg.__dict__, "processes": 2}))
    try:
        assert linker.link_many(texts, TEXT, "es") == one
        assert any(one) and not all(one)  # real links and NILs both went through the workers
    finally:
        linker.close()
