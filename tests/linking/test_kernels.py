"""The compiled inner loops (kgqa.linking.kernels) against numpy references and their plain-Python selves."""

from __future__ import annotations

import numpy as np
import pytest

from kgqa.linking import kernels
from kgqa.linking.index import trigrams
from kgqa.linking.words import WordIndex

KEYS = [
    "tumor maligno mama", "mama tumor", "tumor cerebral", "fractura femur", "fractura cadera", "mama",
    "tumor de mano izquierda", "dolor toracico", "dolor abdominal", "fractura de femur izquierdo",
]  # fmt: skip


def _postings(keys):
    grams: dict[str, list[int]] = {}
    for k, key in enumerate(keys):
        for g in trigrams(key):
            grams.setdefault(g, []).append(k)
    lookup = {g: i for i, g in enumerate(grams)}
    ptr = np.zeros(len(grams) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in grams.values()], out=ptr[1:])
    return lookup, ptr, np.array([k for v in grams.values() for k in v], dtype=np.int32)


def _call(fn, py, *args):
    if not py:
        return fn(*args)
    with np.errstate(over="ignore"):  # the plain-Python run of ratios wraps uint64 as the compiled one does
        return fn.py_func(*args)


def _candidates(py, query, keys=KEYS, block_grams=12, block_budget=1000, max_candidates=100, word_candidates=20,
                word_budget=1000, mask=None):  # fmt: skip
    lookup, ptr, flat = _postings(keys)
    words = WordIndex(keys)
    sc = kernels.Scratch(len(keys), 1)
    grams = np.array([lookup[g] for g in trigrams(query) if g in lookup], dtype=np.int64)
    use_mask = mask is not None
    ids, cos = _call(
        kernels.candidates, py, ptr, flat, grams, block_grams, block_budget, max_candidates, words.ptr, words.flat,
        words.weight, words.query(query), word_budget, word_candidates, words.norm,
        mask if use_mask else np.zeros(0, bool), use_mask, sc.key_count, sc.key_acc, sc.key_seen, sc.touched,
    )  # fmt: skip
    # the scratch arrays are left as they were found (zero), or the next query would inherit counts
    assert not sc.key_count.any() and not sc.key_acc.any() and not sc.key_seen.any()
    return dict(zip(ids.tolist(), cos.tolist())), words


@pytest.mark.parametrize("py", [False, True], ids=["compiled", "python"])
@pytest.mark.parametrize("query", ["tumor mama", "fractura femur izquierdo", "dolr toracico", "nada parecido"])
def test_candidates_cosines_match_the_numpy_reference(py, query):
    found, words = _candidates(py, query)
    ids, cos = words.scores(query, 1000)
    expected = dict(zip(ids.tolist(), cos.tolist()))
    for k, c in found.items():
        assert c == pytest.approx(expected.get(k, 0.0))
    assert set(expected) <= set(found)  # every key sharing a word joins (20 word candidates > 10 keys)


@pytest.mark.parametrize("py", [False, True], ids=["compiled", "python"])
def test_candidates_blocking_keeps_the_keys_sharing_most_trigrams(py):
    # no word candidates: blocking alone; 2 slots go to the keys sharing the most trigrams with the query
    found, _ = _candidates(py, "fractura femur", max_candidates=2, word_candidates=0)
    assert set(found) == {3, 9}
    found, _ = _candidates(py, "fractura femur", max_candidates=2, word_candidates=0, mask=np.array([k != 3 for k in range(len(KEYS))]))
    assert 3 not in found and 9 in found


@pytest.mark.parametrize("py", [False, True], ids=["compiled", "python"])
def test_blend_top_orders_cuts_and_blends(py):
    scores = np.array([50.0, 90.0, 70.0, 90.0, 20.0], dtype=np.float32)
    top, best = _call(kernels.blend_top, py, scores, np.zeros(0), 0.0, 0.0, 40.0, 3)
    assert top.tolist() == [1, 3, 2] and best.tolist() == [90.0, 90.0, 70.0]  # ties by position
    # weight 0.5, floor 0.9: 70 with cosine 1 → 85 beats 90 with cosine 0 → max(45, 81) = 81
    top, best = _call(kernels.blend_top, py, scores, np.array([0, 0, 1.0, 0, 0]), 0.5, 0.9, 60.0, 5)
    assert top.tolist() == [2, 1, 3] and best.tolist() == pytest.approx([85.0, 81.0, 81.0])


@pytest.mark.parametrize("py", [False, True], ids=["compiled", "python"])
def test_expand_keeps_the_best_hit_per_term(py):
    # keys 0, 1 → entries (0: term 0 "es"), (1: term 1 "en"), (2: term 0 "en", learned, count 3)
    key_ptr, key_entries = np.array([0, 2, 3]), np.array([0, 2, 1], dtype=np.int32)
    entry_term, entry_lang = np.array([0, 1, 0], dtype=np.int32), np.array([5, 3, 3], dtype=np.int8)
    entry_kind, entry_count = np.array([0, 0, 5], dtype=np.int8), np.array([0, 0, 3], dtype=np.int32)
    sc = kernels.Scratch(2, 2)
    args = (key_ptr, key_entries, entry_term, entry_lang, entry_kind, entry_count)
    terms, entries, scores = _call(
        kernels.expand, py, np.array([0, 1]), np.array([0.9, 0.95]), *args, np.zeros(0, bool), False,
        5, 0.5, 4, 0.92, 0.0, np.log1p(np.arange(8)), False, 10, np.zeros(2, np.int64),
        sc.term_score, sc.term_entry, sc.term_tie, sc.term_touched,
    )  # fmt: skip
    # term 0: its "es" name keeps 0.9 (the query language), the "en" one drops to 0.45; term 1: 0.95 × 0.5
    assert terms.tolist() == [0, 1] and entries.tolist() == [0, 1]
    assert scores.tolist() == pytest.approx([0.9, 0.475])
    assert (sc.term_score == -1.0).all()


@pytest.mark.parametrize("py", [False, True], ids=["compiled", "python"])
def test_expand_breaks_ties_by_name_count_then_code_uses(py):
    # one key, three terms with equal scores: term 2's name was used twice; terms 0 and 1 never, but
    # annotators used term 1's code 7 times elsewhere
    key_ptr, key_entries = np.array([0, 3]), np.array([0, 1, 2], dtype=np.int32)
    entry_term, entry_lang = np.array([0, 1, 2], dtype=np.int32), np.zeros(3, dtype=np.int8)
    entry_kind, entry_count = np.zeros(3, dtype=np.int8), np.array([0, 0, 2], dtype=np.int32)
    sc = kernels.Scratch(1, 3)
    terms, _, _ = _call(
        kernels.expand, py, np.array([0]), np.array([0.8]), key_ptr, key_entries, entry_term, entry_lang, entry_kind,
        entry_count, np.zeros(0, bool), False, 5, 0.97, 4, 0.92, 0.0, np.log1p(np.arange(8)), False, 10,
        np.array([0, 7, 0], np.int64), sc.term_score, sc.term_entry, sc.term_tie, sc.term_touched,
    )  # fmt: skip
    assert terms.tolist() == [2, 1, 0]


@pytest.mark.parametrize("py", [False, True], ids=["compiled", "python"])
def test_ratios_equal_rapidfuzz_cdist(py):
    from rapidfuzz import fuzz, process

    keys = ["", "a", "infarto agudo miocardio", "miocardio infarto", "ab" * 40, "κολπικη μαρμαρυγη", "ictus isquemico",
            "fibrilace sini", "ξαρελτο", "x" * 64, "infarto  miocardio agudo"]  # fmt: skip
    chars = np.frombuffer("".join(keys).encode("utf-32-le"), dtype=np.uint32)
    ptr = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum([len(k) for k in keys], out=ptr[1:])
    cand = np.arange(len(keys), dtype=np.int64)
    for query in ["infarto agudo de miocardio", "a", "κολπικη μαρμαρυγη", "ba" * 32, "ictus isquémico", "x" * 63]:
        q = np.frombuffer(query.encode("utf-32-le"), dtype=np.uint32)
        got = _call(kernels.ratios, py, q, chars, ptr, cand)
        assert got.dtype == np.float32
        assert got.tolist() == process.cdist([query], keys, scorer=fuzz.ratio)[0].tolist()


def test_one_call_fuzzy_path_equals_the_stepwise_cdist_path():
    # workers=1 takes kernels.fuzzy_ratio (ratio in the kernel); workers=2 the candidates → cdist → blend path
    from kgqa.linking import Label, Linker, LinkerConfig, Term
    from kgqa.types import ValueKind

    from .conftest import concept

    names = KEYS + ["infarto agudo de miocardio", "ictus isquemico", "κολπική μαρμαρυγή", "x" * 70]
    terms = [Term(id=f"X:{i}", iri=f"http://x/{i}", labels=(Label(n, "es", "pref"),)) for i, n in enumerate(names)]
    cfg = {"nil_threshold": 0.3, "word_weight": 0.5, "word_floor": 0.9, "brute_force_limit": 0, "memo_size": 0}
    one, two = (Linker.from_terms({"s": terms}, LinkerConfig(**cfg, workers=w)) for w in (1, 2))
    queries = ["infarto miocardio agudo", "fractura femr", "tumor mano izq", "κολπικη μαρμαρυγη", "x" * 69, "dolor"]
    text = concept(ValueKind.TEXT)
    for q in queries:
        assert one.link(q, text, "es") == two.link(q, text, "es"), q
    assert one.link("fractura femr", text, "es")[0].matched == "fractura femur"
