"""The fuzzy path's inner loops: candidate counting and per-term expansion, compiled with numba.

A fuzzy query visits a few thousand postings (trigram and word-stem lists) and a few hundred
candidate names. Done with numpy, each step is a handful of small-array calls (concatenate, sort,
run lengths, unique, bincount, argpartition…) whose fixed cost of ~1 µs each dominated the query
(docs/linking.md: ~310 µs per fuzzy query). Here each step is one loop over the postings into
preallocated scratch arrays (dense counters indexed by key or term, reset through the list of
entries touched), compiled by numba when it is installed (``cache=True``: compiled once per
machine, kept in ``__pycache__``). Without numba the same functions run as plain Python — correct
and about 20× slower on large indexes, logged once.

Every function is deterministic: ties are broken by the order in which keys were first reached
(rarest posting list first, ids ascending within one), never by an unstable partition.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

log = logging.getLogger(__name__)

try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is absent
    HAVE_NUMBA = False
    _warned = False

    def njit(*_args, **_kwargs):
        def wrap(fn):
            def call(*args):
                global _warned
                if not _warned:
                    _warned = True
                    log.warning("numba is not installed: kgqa.linking fuzzy matching runs as plain Python (slow)")
                with np.errstate(over="ignore"):  # ratios' bit-parallel LCS wraps uint64 on purpose
                    return fn(*args)

            call.py_func = fn
            return call

        return wrap


def jit(fn):
    return njit(cache=True, nogil=True)(fn)


class Scratch:
    """Per-thread dense work arrays over keys and terms (zero between calls: kernels reset what they touch)."""

    def __init__(self, n_keys: int, n_terms: int):
        self.key_count = np.zeros(n_keys, dtype=np.int32)
        self.key_acc = np.zeros(n_keys, dtype=np.float64)
        self.key_seen = np.zeros(n_keys, dtype=np.bool_)
        self.touched = np.empty(max(n_keys, 1), dtype=np.int32)
        self.term_score = np.full(n_terms, -1.0, dtype=np.float64)
        self.term_entry = np.zeros(n_terms, dtype=np.int32)
        self.term_tie = np.zeros(n_terms, dtype=np.int64)
        self.term_touched = np.empty(max(n_terms, 1), dtype=np.int32)
        self.one_key = np.zeros(1, dtype=np.int64)  # the exact path's single key


class ScratchPool(threading.local):
    """One :class:`Scratch` per thread, so a linker shared between threads stays correct."""

    def __init__(self, n_keys: int, n_terms: int):
        self.scratch = Scratch(n_keys, n_terms)


@jit
def _rarest_first(ids, ptr):
    """Posting-list ids ordered by length (shortest first; ties by id, so the order never depends on
    the iteration order of the set the ids came from)."""
    ids = np.sort(ids)
    lens = np.empty(len(ids), dtype=np.int64)
    for i in range(len(ids)):
        lens[i] = ptr[ids[i] + 1] - ptr[ids[i]]
    return ids[np.argsort(lens, kind="mergesort")]


@jit
def _norm(stems, weight):
    """Norm of the query's IDF vector: every known stem counts, visited or not."""
    total = 0.0
    for s in stems:
        total += weight[s]
    return np.sqrt(total) if total > 0.0 else 1.0


@jit
def _accumulate_words(word_ptr, word_keys, word_w, stems, word_budget, key_mask, use_mask, acc, touched):
    """Add each query stem's weight to ``acc`` of the keys holding it (rarest stems first, within
    ``word_budget`` postings); the keys touched are written to ``touched``, their count returned."""
    n = 0
    total = 0
    for si in range(len(stems)):
        s = stems[si]
        lo, hi = word_ptr[s], word_ptr[s + 1]
        if si > 0 and total + (hi - lo) > word_budget:
            break
        total += hi - lo
        w = word_w[s]
        for p in range(lo, hi):
            k = word_keys[p]
            if use_mask and not key_mask[k]:
                continue
            if acc[k] == 0.0:
                touched[n] = k
                n += 1
            acc[k] += w
    return n


@jit
def candidates(
    gram_ptr, gram_keys, grams, block_grams, block_budget, max_candidates,
    word_ptr, word_keys, word_w, stems, word_budget, word_candidates, norm,
    key_mask, use_mask, count, acc, seen, touched,
):  # fmt: skip
    """Candidate keys of one query and each one's word cosine: (ids, cosines).

    Blocking: the postings of the rarest of the query's trigrams (``grams``) up to ``block_grams``
    lists or ``block_budget`` postings; the ``max_candidates`` keys sharing the most of them. Words:
    the postings of the rarest stems (``stems``) up to ``word_budget``, each adding its weight (idf²)
    to the keys listing it; the ``word_candidates`` keys of highest cosine join.
    """
    grams = _rarest_first(grams, gram_ptr)
    stems = _rarest_first(stems, word_ptr)
    qnorm = _norm(stems, word_w)
    # ---- trigram counts
    n = 0
    total = 0
    for gi in range(min(len(grams), block_grams)):
        g = grams[gi]
        lo, hi = gram_ptr[g], gram_ptr[g + 1]
        if gi > 0 and total + (hi - lo) > block_budget:
            break
        total += hi - lo
        for p in range(lo, hi):
            k = gram_keys[p]
            if use_mask and not key_mask[k]:
                continue
            if count[k] == 0:
                touched[n] = k
                n += 1
            count[k] += 1
    out = np.empty(min(n, max_candidates) + word_candidates, dtype=np.int32)
    m = 0
    if n <= max_candidates:
        for i in range(n):
            out[m] = touched[i]
            m += 1
    else:
        # counts are small (<= block_grams): a histogram gives the cut without sorting
        hist = np.zeros(block_grams + 2, dtype=np.int64)
        for i in range(n):
            hist[count[touched[i]]] += 1
        cut, above = block_grams + 1, 0
        while cut > 0 and above + hist[cut] < max_candidates:
            above += hist[cut]
            cut -= 1
        room = max_candidates - above  # keys taken at exactly the cut count, in order first reached
        for i in range(n):
            c = count[touched[i]]
            if c > cut or (c == cut and room > 0):
                if c == cut:
                    room -= 1
                out[m] = touched[i]
                m += 1
    for i in range(n):
        count[touched[i]] = 0
    for i in range(m):
        seen[out[i]] = True

    # ---- word cosines
    n = _accumulate_words(word_ptr, word_keys, word_w, stems, word_budget, key_mask, use_mask, acc, touched)
    if n > 0 and word_candidates > 0:
        cos = np.empty(n, dtype=np.float64)
        for i in range(n):
            k = touched[i]
            cos[i] = acc[k] / (norm[k] * qnorm)
        if n <= word_candidates:
            kth = -1.0
            room = 0
        else:
            kth = np.partition(cos, n - word_candidates)[n - word_candidates]
            room = word_candidates
            for i in range(n):
                if cos[i] > kth:
                    room -= 1
        for i in range(n):
            if cos[i] > kth or (cos[i] == kth and room > 0):
                if cos[i] == kth:
                    room -= 1
                k = touched[i]
                if not seen[k]:
                    seen[k] = True
                    out[m] = k
                    m += 1
    ids = out[:m].copy()
    cosines = np.empty(m, dtype=np.float64)
    for i in range(m):
        k = ids[i]
        cosines[i] = min(acc[k] / (norm[k] * qnorm), 1.0) if acc[k] > 0.0 else 0.0
        seen[k] = False
    for i in range(n):
        acc[touched[i]] = 0.0
    return ids, cosines


@jit
def word_cosines(word_ptr, word_keys, word_w, stems, word_budget, norm, keys, key_mask, use_mask, acc, touched):
    """Word cosine of each of ``keys`` with the query (exhaustive small scopes: no candidate generation)."""
    stems = _rarest_first(stems, word_ptr)
    qnorm = _norm(stems, word_w)
    n = _accumulate_words(word_ptr, word_keys, word_w, stems, word_budget, key_mask, use_mask, acc, touched)
    out = np.empty(len(keys), dtype=np.float64)
    for i in range(len(keys)):
        k = keys[i]
        out[i] = min(acc[k] / (norm[k] * qnorm), 1.0)
    for i in range(n):
        acc[touched[i]] = 0.0
    return out


@jit
def blend_top(scores, cos, weight, floor, cutoff, limit):
    """Positions of the ``limit`` best blended scores (best first, ties by position) and those scores.

    A score is ``max((1 - weight)·string + weight·100·cosine, floor·string)`` (``weight`` 0: the string
    score); scores below ``cutoff`` are dropped.
    """
    n = len(scores)
    # insertion into a best-first buffer of ``limit`` (a few, of ~150): no sort of the whole row
    pos = np.empty(max(limit, 1), dtype=np.int64)
    val = np.empty(max(limit, 1), dtype=np.float64)
    m = 0
    for i in range(n):
        s = float(scores[i])
        if weight > 0.0:
            s = max((1.0 - weight) * s + weight * 100.0 * cos[i], floor * s)
        if s < cutoff or s <= 0.0 or (m == limit and s <= val[m - 1]):
            continue
        j = m if m < limit else limit - 1
        while j > 0 and val[j - 1] < s:  # equal scores keep their order: earlier positions first
            if j < limit:
                pos[j], val[j] = pos[j - 1], val[j - 1]
            j -= 1
        if j < limit:
            pos[j], val[j] = i, s
        if m < limit:
            m += 1
    return pos[:m], val[:m]


@jit
def expand(
    key_ids, key_scores, key_ptr, key_entries, entry_term, entry_lang, entry_kind, entry_count,
    term_mask, use_mask, want, other, related_kind, related, prior, log1p, exact, max_hits, term_uses,
    best_score, best_entry, best_tie, touched,
):  # fmt: skip
    """Key scores → the best hit per term (terms, entries, scores; best first), with language,
    related-synonym and count-prior factors; ties by same language, then by the name's annotated uses,
    then by the term's (``term_uses``, < 2**24), then term id."""
    n = 0
    for i in range(len(key_ids)):
        k = key_ids[i]
        for p in range(key_ptr[k], key_ptr[k + 1]):
            e = key_entries[p]
            t = entry_term[e]
            if use_mask and not term_mask[t]:
                continue
            s = key_scores[i]
            lang = entry_lang[e]
            if lang != want and lang != 0 and not exact:
                s *= other
            if entry_kind[e] == related_kind:
                s *= related
            c = entry_count[e]
            if prior != 0.0 and c > 0 and not exact:
                s *= 1.0 + prior * log1p[min(c, len(log1p) - 1)]
            tie = (2 if lang == want else 1 if lang == 0 else 0) + 4 * (np.int64(c) * 16777216 + term_uses[t])
            old = best_score[t]
            if old < 0.0:
                touched[n] = t
                n += 1
            if s > old or (s == old and tie > best_tie[t]):
                best_score[t] = s
                best_entry[t] = e
                best_tie[t] = tie
    terms = touched[:n].copy()
    scores = np.empty(n, dtype=np.float64)
    ties = np.empty(n, dtype=np.int64)
    for i in range(n):
        scores[i] = best_score[terms[i]]
        ties[i] = best_tie[terms[i]]
    # order: score desc, then tie desc, then term asc (insertion sort: a few dozen terms)
    order = np.arange(n)
    for i in range(1, n):
        cur = order[i]
        j = i
        while j > 0:
            prev = order[j - 1]
            if scores[prev] > scores[cur] or (scores[prev] == scores[cur] and (
                    ties[prev] > ties[cur] or (ties[prev] == ties[cur] and terms[prev] < terms[cur]))):  # fmt: skip
                break
            order[j] = prev
            j -= 1
        order[j] = cur
    order = order[:max_hits]
    out_terms = terms[order]
    out_entries = np.empty(len(order), dtype=np.int32)
    out_scores = np.empty(len(order), dtype=np.float64)
    for i in range(len(order)):
        t = out_terms[i]
        out_entries[i] = best_entry[t]
        out_scores[i] = min(1.0, best_score[t])
    for i in range(n):
        best_score[touched[i]] = -1.0
    return out_terms, out_entries, out_scores


@jit
def blend_expand(
    cand, scores, cos, weight, floor, cutoff, limit,
    key_ptr, key_entries, entry_term, entry_lang, entry_kind, entry_count,
    term_mask, use_mask, want, other, related_kind, related, prior, log1p, max_hits, term_uses,
    best_score, best_entry, best_tie, touched,
):  # fmt: skip
    """:func:`blend_top` of a candidate row, then :func:`expand` of the keys kept (one call per fuzzy query)."""
    top, best = blend_top(scores, cos, weight, floor, cutoff, limit)
    keys = np.empty(len(top), dtype=np.int64)
    for i in range(len(top)):
        keys[i] = cand[top[i]]
        best[i] /= 100.0
    return expand(
        keys, best, key_ptr, key_entries, entry_term, entry_lang, entry_kind, entry_count,
        term_mask, use_mask, want, other, related_kind, related, prior, log1p, False, max_hits, term_uses,
        best_score, best_entry, best_tie, touched,
    )  # fmt: skip


@jit
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@jit
def ratios(query, chars, ptr, cand):
    """``rapidfuzz.fuzz.ratio`` of ``query`` (code points, at most 64) against each candidate key
    (code points ``chars[ptr[k]:ptr[k + 1]]``), as float32 like ``process.cdist`` returns it.

    ratio = 100 · (1 − indel / (len1 + len2)), indel = len1 + len2 − 2·LCS; the LCS by the bit-parallel
    algorithm of Hyyrö (one 64-bit word: the query), as rapidfuzz computes it.
    """
    m = len(query)
    ascii_pm = np.zeros(256, dtype=np.uint64)
    wide_ch = np.empty(m, dtype=np.uint32)
    wide_pm = np.zeros(m, dtype=np.uint64)
    n_wide = 0
    for i in range(m):
        c = query[i]
        bit = np.uint64(1) << np.uint64(i)
        if c < 256:
            ascii_pm[c] |= bit
        else:
            j = 0
            while j < n_wide and wide_ch[j] != c:
                j += 1
            if j == n_wide:
                wide_ch[j] = c
                n_wide += 1
            wide_pm[j] |= bit
    full = ~np.uint64(0) if m == 64 else (np.uint64(1) << np.uint64(m)) - np.uint64(1)
    out = np.empty(len(cand), dtype=np.float32)
    for r in range(len(cand)):
        k = cand[r]
        lo, hi = ptr[k], ptr[k + 1]
        v = ~np.uint64(0)
        for p in range(lo, hi):
            c = chars[p]
            if c < 256:
                pm = ascii_pm[c]
            else:
                pm = np.uint64(0)
                for j in range(n_wide):
                    if wide_ch[j] == c:
                        pm = wide_pm[j]
                        break
            u = v & pm
            v = (v + u) | (v - u)
        lcs = _popcount(~v & full)
        lensum = m + (hi - lo)
        if lensum == 0:
            out[r] = 100.0
        else:
            dist = lensum - 2 * np.int64(lcs)
            out[r] = (1.0 - dist / lensum) * 100.0
    return out


@jit
def fuzzy_ratio(
    query, chars, char_ptr,
    gram_ptr, gram_keys, grams, block_grams, block_budget, max_candidates,
    word_ptr, word_keys, word_w, stems, word_budget, word_candidates, norm,
    key_mask, use_key_mask, count, acc, seen, touched,
    weight, floor, cutoff, limit,
    key_ptr, key_entries, entry_term, entry_lang, entry_kind, entry_count,
    term_mask, use_term_mask, want, other, related_kind, related, prior, log1p, max_hits, term_uses,
    best_score, best_entry, best_tie, term_touched,
):  # fmt: skip
    """One fuzzy query in one call: :func:`candidates` → :func:`ratios` → :func:`blend_expand` (the
    common case: a ``ratio``/``token_sort_ratio`` scorer and a query of at most 64 characters)."""
    cand, cos = candidates(
        gram_ptr, gram_keys, grams, block_grams, block_budget, max_candidates,
        word_ptr, word_keys, word_w, stems, word_budget, word_candidates, norm,
        key_mask, use_key_mask, count, acc, seen, touched,
    )  # fmt: skip
    scores = ratios(query, chars, char_ptr, cand)
    return blend_expand(
        cand, scores, cos, weight, floor, cutoff, limit,
        key_ptr, key_entries, entry_term, entry_lang, entry_kind, entry_count,
        term_mask, use_term_mask, want, other, related_kind, related, prior, log1p, max_hits, term_uses,
        best_score, best_entry, best_tie, term_touched,
    )  # fmt: skip


_warm = False


def warm_up() -> None:
    """Compile (first run on a machine) or load (from numba's on-disk cache) every kernel for the
    argument types the matcher passes, so that the first query does not pay for it."""
    global _warm
    if _warm or not HAVE_NUMBA:
        return
    _warm = True
    i64, i32, f64 = np.zeros(2, np.int64), np.zeros(1, np.int32), np.zeros(1, np.float64)
    ptr, no_mask, sc = np.zeros(2, np.int64), np.zeros(0, np.bool_), Scratch(1, 1)
    candidates(ptr, i32, np.zeros(1, np.int64), 12, 100, 10, ptr, i32, np.ones(1), np.zeros(1, np.int64), 100, 5,
               np.ones(1), no_mask, False, sc.key_count, sc.key_acc, sc.key_seen, sc.touched)  # fmt: skip
    word_cosines(ptr, i32, np.ones(1), np.zeros(1, np.int64), 100, np.ones(1), i64[:1], no_mask, False, sc.key_acc, sc.touched)
    blend_top(np.zeros(1, np.float32), f64, 0.5, 0.9, 50.0, 5)
    for cand in (i64[:1], i32):
        ratios(np.zeros(1, np.uint32), np.zeros(1, np.uint32), ptr, cand)
    fuzzy_ratio(np.zeros(1, np.uint32), np.zeros(1, np.uint32), ptr, ptr, i32, np.zeros(1, np.int64), 12, 100, 10,
                ptr, i32, np.ones(1), np.zeros(1, np.int64), 100, 5, np.ones(1), no_mask, False, sc.key_count,
                sc.key_acc, sc.key_seen, sc.touched, 0.5, 0.9, 50.0, 5, ptr, i32, i32, np.zeros(1, np.int8),
                np.zeros(1, np.int8), i32, no_mask, False, 1, 0.97, 4, 0.92, 0.0, np.zeros(4), 15, i64,
                sc.term_score, sc.term_entry, sc.term_tie, sc.term_touched)  # fmt: skip
    for cand in (i64[:1], i32):  # candidates from blocking (int32) or a small scope's key list (int64)
        blend_expand(cand, np.zeros(1, np.float32), f64, 0.5, 0.9, 50.0, 5, ptr, i32, i32, np.zeros(1, np.int8),
                     np.zeros(1, np.int8), i32, no_mask, False, 1, 0.97, 4, 0.92, 0.0, np.zeros(4), 15, i64,
                     sc.term_score, sc.term_entry, sc.term_tie, sc.term_touched)  # fmt: skip
    expand(i64[:1], f64, ptr, i32, i32, np.zeros(1, np.int8), np.zeros(1, np.int8), i32, no_mask, False, 1, 0.97, 4,
           0.92, 0.0, np.zeros(4), False, 15, i64, sc.term_score, sc.term_entry, sc.term_tie, sc.term_touched)  # fmt: skip
