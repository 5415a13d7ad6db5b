"""Look up and score: the exact fast path, fuzzy candidate generation and rapidfuzz scoring.

Pure functions of the index and the query key; no I/O. Candidates come either from character-trigram
blocking (the query's rarest trigrams pick a few hundred keys, rapidfuzz scores only those) or, for
small scopes, from scoring every key in scope — see docs/linking.md for the measurements behind the
defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from kgqa.errors import ConfigError
from kgqa.linking import kernels
from kgqa.linking.config import LinkerConfig
from kgqa.linking.index import KIND_INDEX, LANG_INDEX, TermIndex, trigrams
from kgqa.linking.normalise import content_key
from kgqa.linking.words import WordIndex

SCORERS: dict[str, Callable] = {
    "ratio": fuzz.ratio,
    "token_sort_ratio": fuzz.token_sort_ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "WRatio": fuzz.WRatio,
    "QRatio": fuzz.QRatio,
}
CANDIDATES = ("ngram", "brute")


def get_scorer(name: str) -> Callable:
    try:
        return SCORERS[name]
    except KeyError:
        raise ConfigError(f"linker.scorer: unknown scorer {name!r}; valid: {', '.join(SCORERS)}") from None


class Hit(NamedTuple):
    """A term reached through one of its names (a NamedTuple: the hot path makes thousands)."""

    term: int
    entry: int
    score: float


@dataclass(frozen=True)
class Scope:
    """A restriction of the index, computed once per concept scope and cached by the linker."""

    #: terms allowed (None: all)
    term_mask: np.ndarray | None
    #: keys with at least one allowed term (None: all)
    key_mask: np.ndarray | None
    #: every key in scope when there are few enough to score them all exhaustively, else None
    small_keys: list[int] | None
    #: small_keys as an array (the word-cosine kernel's input)
    small_key_array: np.ndarray | None = None


def make_scope(index: TermIndex, items: tuple[str, ...], cfg: LinkerConfig) -> Scope:
    term_mask = index.scope_mask(items)
    key_mask = index.key_mask(term_mask)
    n_keys = len(index.keys) if key_mask is None else int(key_mask.sum())
    small = None
    if cfg.candidates == "brute" or n_keys <= cfg.brute_force_limit:
        small = list(range(len(index.keys))) if key_mask is None else np.flatnonzero(key_mask).tolist()
    return Scope(term_mask, key_mask, small, None if small is None else np.asarray(small, dtype=np.int64))


class Matcher:
    def __init__(self, index: TermIndex, cfg: LinkerConfig):
        if cfg.candidates not in CANDIDATES:
            raise ConfigError(f"linker.candidates: {cfg.candidates!r}; valid: {', '.join(CANDIDATES)}")
        for name in ("word_weight", "word_floor", "descendant_backoff"):
            if not 0.0 <= getattr(cfg, name) <= 1.0:
                raise ConfigError(f"linker.{name}: {getattr(cfg, name)} not in [0, 1]")
        if cfg.word_prefix < 1:
            raise ConfigError(f"linker.word_prefix: {cfg.word_prefix} must be >= 1")
        self.index = index
        self.cfg = cfg
        self.scorer = get_scorer(cfg.scorer)
        self._related = KIND_INDEX["related"]
        # enough hits to fill top_k after merging the fuzzy, sub-span and transliterated routes
        self._max_hits = 3 * cfg.top_k
        self._log1p = np.log1p(np.arange(1024))
        self._presorted = cfg.scorer == "token_sort_ratio"
        self._fast_scorer = fuzz.ratio if self._presorted else self.scorer
        self._cutoff = cfg.nil_threshold * 100 * min(cfg.other_language_factor, cfg.related_factor, 1.0)
        self._gram_ptr = np.ascontiguousarray(index.gram_ptr, dtype=np.int64)
        self._gram_keys = np.ascontiguousarray(index.gram_keys, dtype=np.int32)
        # typed empty stand-ins for absent masks and word arrays (the kernels are compiled for one signature)
        self._no_mask = np.zeros(0, dtype=np.bool_)
        self._no_ids = np.zeros(0, dtype=np.int64)
        self._no_ids32 = np.zeros(0, dtype=np.int32)
        self._no_cos = np.zeros(0, dtype=np.float64)
        self._one_score = np.ones(1, dtype=np.float64)
        self._empty_ptr = np.zeros(1, dtype=np.int64)
        self._scratch = kernels.ScratchPool(len(index.keys), index.n_terms)
        kernels.warm_up()
        # last tie-break between equal scores (after language and the name's own count): the code's annotated uses
        self._term_uses = np.minimum(index.term_uses(), 2**24 - 1).astype(np.int64)
        self._words: WordIndex | None = None
        self._code_points: tuple[np.ndarray, np.ndarray] | None = None

    def prepare(self) -> None:
        """Build the lazily built fuzzy structures now (word index, code points): a cost of loading."""
        if self.cfg.word_weight > 0:
            _ = self.words
        _ = self.code_points

    @property
    def code_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The scored strings (content keys, or keys) as one array of code points and their offsets."""
        if self._code_points is None:
            pool = self.index.content_keys if self._presorted else self.index.keys
            ptr = np.zeros(len(pool) + 1, dtype=np.int64)
            np.cumsum([len(k) for k in pool], out=ptr[1:])
            self._code_points = (np.frombuffer("".join(pool).encode("utf-32-le"), dtype=np.uint32), ptr)
        return self._code_points

    @property
    def words(self) -> WordIndex:
        # built on first fuzzy use (about a second for 100k keys) rather than pickled with the index
        if self._words is None:
            self._words = WordIndex(self.index.keys, self.cfg.word_prefix)
        return self._words

    # ------------------------------------------------------------------ exact

    def exact(self, key: str, lang: str, scope: Scope) -> list[Hit]:
        k = self.index.key_lookup.get(key)
        if k is None:
            return []
        sc = self._scratch.scratch
        sc.one_key[0] = k
        return self._expand_arrays(sc.one_key, self._one_score, lang, scope, exact=True)

    def subspans(self, key: str, lang: str, scope: Scope) -> list[Hit]:
        """Exact names inside a longer span ("přivezen RZP" → "RZP"), longest window first.

        Scored ``subspan_base + (1 - subspan_base) * coverage`` (coverage: the share of the span's
        characters the name covers), so "RZP" alone in a span of two words stays a confident link while
        a short name in a long span falls towards the base.
        """
        tokens = key.split()
        if len(tokens) < 2 or self.cfg.subspan_base <= 0:
            return []
        base = self.cfg.subspan_base
        n_max = min(len(tokens) - 1, self.cfg.subspan_max_tokens)
        for n in range(n_max, 0, -1):
            scored = []
            for i in range(len(tokens) - n + 1):
                window = " ".join(tokens[i : i + n])
                k = self.index.key_lookup.get(window)
                if k is not None:
                    scored.append((k, base + (1 - base) * len(window) / len(key)))
            hits = self._expand(scored, lang, scope, exact=True) if scored else []
            if hits:
                return hits
        return []

    def acronym(self, text: str, key: str, lang: str, scope: Scope) -> list[Hit]:
        """An unknown abbreviation ("VRS", "TSV") read as the initials of a multi-word name.

        Only for a single upper-case token of 2-6 letters, scored ``acronym_score``: a guess, ranked by
        how often annotators used the expanded name, below any real name match.
        """
        if self.cfg.acronym_score <= 0 or " " in key or not 2 <= len(key) <= 6 or not _looks_like_acronym(text):
            return []
        found = self.index.acronym_keys_of(key)
        return self._expand([(k, self.cfg.acronym_score) for k in found], lang, scope, exact=False) if found else []

    # ------------------------------------------------------------------ fuzzy

    def fuzzy(self, key: str, lang: str, scope: Scope, limit: int) -> list[Hit]:
        if len(key) < self.cfg.min_fuzzy_length:
            return []
        cfg = self.cfg
        w = cfg.word_weight
        sc = self._scratch.scratch
        mask, use_mask = (self._no_mask, False) if scope.key_mask is None else (scope.key_mask, True)
        if w > 0:
            words = self.words
            stem_ids = words.query(key)
        else:
            words, stem_ids = None, self._no_ids
        if scope.small_key_array is not None:
            cand = cand_arr = scope.small_key_array
            if words is not None:
                cos = kernels.word_cosines(words.ptr, words.flat, words.weight, stem_ids, cfg.word_budget, words.norm,
                                           scope.small_key_array, mask, use_mask, sc.key_acc, sc.touched)
            else:
                cos = self._no_cos
        else:
            grams = self.gram_ids(key)
            if not len(grams) and not len(stem_ids):
                return []
            if words is not None and self._fast_scorer is fuzz.ratio and cfg.workers == 1:
                query = content_key(key) if self._presorted else key
                if len(query) <= 64:
                    return self._fuzzy_ratio(query, grams, words, stem_ids, mask, use_mask, scope, lang, limit)
            if words is None:
                ids, cos = kernels.candidates(self._gram_ptr, self._gram_keys, grams, cfg.block_grams, cfg.block_budget,
                                              cfg.max_candidates, self._empty_ptr, self._no_ids32, self._no_cos,
                                              self._no_ids, 0, 0, self._no_cos, mask, use_mask,
                                              sc.key_count, sc.key_acc, sc.key_seen, sc.touched)
            else:
                ids, cos = kernels.candidates(self._gram_ptr, self._gram_keys, grams, cfg.block_grams, cfg.block_budget,
                                              cfg.max_candidates, words.ptr, words.flat, words.weight, stem_ids,
                                              cfg.word_budget, cfg.word_candidates, words.norm, mask, use_mask,
                                              sc.key_count, sc.key_acc, sc.key_seen, sc.touched)
            cand = cand_arr = ids
        if not len(cand):
            return []
        if self._presorted:
            # token_sort_ratio == ratio of token-sorted strings; the index keeps them (function words dropped)
            query, pool = content_key(key), self.index.content_keys
        else:
            query, pool = key, self.index.keys
        if self._fast_scorer is fuzz.ratio and len(query) <= 64 and cfg.workers == 1:
            # the same ratio, computed in the kernel over the pool's code points: no per-call list of choices
            chars, ptr = self.code_points
            scores = kernels.ratios(np.frombuffer(query.encode("utf-32-le"), dtype=np.uint32), chars, ptr, cand_arr)
        else:
            choices = itemgetter(*cand.tolist())(pool) if len(cand) > 1 else (pool[cand[0]],)
            # one cdist row (C++, no per-choice Python objects) instead of extract's list of tuples
            scores = process.cdist([query], choices, scorer=self._fast_scorer, workers=cfg.workers)[0]
        terms, entries, best = kernels.blend_expand(
            cand_arr, scores, cos, w, cfg.word_floor, self._cutoff, limit * 2, *self._expand_args(scope, lang)
        )
        return list(map(Hit, terms.tolist(), entries.tolist(), best.tolist()))

    def _expand_args(self, scope, lang) -> tuple:
        """The trailing arguments of the kernels that expand key scores to terms (index arrays, factors, scratch)."""
        idx, cfg, sc = self.index, self.cfg, self._scratch.scratch
        tmask, use_tmask = (self._no_mask, False) if scope.term_mask is None else (scope.term_mask, True)
        return (
            idx.key_ptr, idx.key_entries, idx.entry_term, idx.entry_lang, idx.entry_kind, idx.entry_count,
            tmask, use_tmask, LANG_INDEX.get(lang, -1), cfg.other_language_factor, self._related, cfg.related_factor,
            cfg.count_prior, self._log1p, self._max_hits, self._term_uses,
            sc.term_score, sc.term_entry, sc.term_tie, sc.term_touched,
        )  # fmt: skip

    def _fuzzy_ratio(self, query, grams, words, stem_ids, mask, use_mask, scope, lang, limit) -> list[Hit]:
        """The whole fuzzy path as one kernel call (the benchmark's and the default scorer's case)."""
        cfg, sc = self.cfg, self._scratch.scratch
        chars, ptr = self.code_points
        terms, entries, best = kernels.fuzzy_ratio(
            np.frombuffer(query.encode("utf-32-le"), dtype=np.uint32), chars, ptr,
            self._gram_ptr, self._gram_keys, grams, cfg.block_grams, cfg.block_budget, cfg.max_candidates,
            words.ptr, words.flat, words.weight, stem_ids, cfg.word_budget, cfg.word_candidates, words.norm,
            mask, use_mask, sc.key_count, sc.key_acc, sc.key_seen, sc.touched,
            cfg.word_weight, cfg.word_floor, self._cutoff, limit * 2,
            *self._expand_args(scope, lang),
        )  # fmt: skip
        return list(map(Hit, terms.tolist(), entries.tolist(), best.tolist()))

    def gram_ids(self, key: str) -> np.ndarray:
        """Ids of the query's trigrams the index knows."""
        return np.array([g for g in map(self.index.gram_lookup.get, trigrams(key)) if g is not None], dtype=np.int64)

    # ------------------------------------------------------------------ scoring

    def _expand(self, scored_keys: list[tuple[int, float]], lang: str, scope: Scope, exact: bool) -> list[Hit]:
        """Key scores → best hit per term, with language and synonym-kind factors applied."""
        keys = np.fromiter((k for k, _ in scored_keys), dtype=np.int64, count=len(scored_keys))
        scores = np.fromiter((s for _, s in scored_keys), dtype=np.float64, count=len(scored_keys))
        return self._expand_arrays(keys, scores, lang, scope, exact)

    def _expand_arrays(self, keys: np.ndarray, scores: np.ndarray, lang: str, scope: Scope, exact: bool) -> list[Hit]:
        idx, cfg, sc = self.index, self.cfg, self._scratch.scratch
        mask, use_mask = (self._no_mask, False) if scope.term_mask is None else (scope.term_mask, True)
        terms, entries, best = kernels.expand(
            keys, scores, idx.key_ptr, idx.key_entries, idx.entry_term, idx.entry_lang, idx.entry_kind, idx.entry_count,
            mask, use_mask, LANG_INDEX.get(lang, -1), cfg.other_language_factor, self._related, cfg.related_factor,
            cfg.count_prior, self._log1p, exact, self._max_hits, self._term_uses,
            sc.term_score, sc.term_entry, sc.term_tie, sc.term_touched,
        )  # fmt: skip
        return list(map(Hit, terms.tolist(), entries.tolist(), best.tolist()))


def _looks_like_acronym(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return 2 <= len(letters) <= 6 and sum(c.isupper() for c in letters) >= len(letters) - 1
