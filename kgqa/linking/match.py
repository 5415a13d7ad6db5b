"""Look up and score: the exact fast path, fuzzy candidate generation and rapidfuzz scoring.

Pure functions of the index and the query key; no I/O. Candidates come either from character-trigram
blocking (the query's rarest trigrams pick a few hundred keys, rapidfuzz scores only those) or, for
small scopes, from scoring every key in scope — see docs/linking.md for the measurements behind the
defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from rapidfuzz import fuzz, process

from kgqa.errors import ConfigError
from kgqa.linking.config import LinkerConfig
from kgqa.linking.index import KIND_INDEX, LANG_INDEX, TermIndex, trigrams

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


@dataclass(frozen=True)
class Hit:
    """A term reached through one of its names."""

    term: int
    entry: int
    score: float


@dataclass
class Scope:
    """A restriction of the index (precomputed masks and key lists, cached per concept scope)."""

    term_mask: np.ndarray | None
    key_mask: np.ndarray | None
    #: keys in scope when there are few enough to score them all, else None
    small_keys: np.ndarray | None

    def allows_term(self, term: int) -> bool:
        return self.term_mask is None or bool(self.term_mask[term])


def make_scope(index: TermIndex, items: tuple[str, ...], cfg: LinkerConfig) -> Scope:
    term_mask = index.scope_mask(items)
    key_mask = index.key_mask(term_mask)
    n_keys = len(index.keys) if key_mask is None else int(key_mask.sum())
    small = None
    if cfg.candidates == "brute" or n_keys <= cfg.brute_force_limit:
        small = np.arange(len(index.keys)) if key_mask is None else np.flatnonzero(key_mask)
    return Scope(term_mask, key_mask, small)


class Matcher:
    def __init__(self, index: TermIndex, cfg: LinkerConfig):
        if cfg.candidates not in CANDIDATES:
            raise ConfigError(f"linker.candidates: {cfg.candidates!r}; valid: {', '.join(CANDIDATES)}")
        self.index = index
        self.cfg = cfg
        self.scorer = get_scorer(cfg.scorer)
        self._related = KIND_INDEX["related"]
        self._gram_len = np.diff(index.gram_ptr)

    # ------------------------------------------------------------------ exact

    def exact(self, key: str, lang: str, scope: Scope) -> list[Hit]:
        k = self.index.key_lookup.get(key)
        if k is None:
            return []
        return self._expand([(k, 1.0)], lang, scope, exact=True)

    # ------------------------------------------------------------------ fuzzy

    def fuzzy(self, key: str, lang: str, scope: Scope, limit: int) -> list[Hit]:
        if len(key) < self.cfg.min_fuzzy_length:
            return []
        cand = scope.small_keys if scope.small_keys is not None else self.block(key, scope)
        if cand is None or not len(cand):
            return []
        keys = self.index.keys
        choices = [keys[i] for i in cand]
        cutoff = self.cfg.nil_threshold * 100 * min(self.cfg.other_language_factor, 1.0) * 0.99
        found = process.extract(key, choices, scorer=self.scorer, limit=limit * 4, score_cutoff=cutoff)
        return self._expand([(int(cand[pos]), score / 100.0) for _, score, pos in found], lang, scope, exact=False)

    def block(self, key: str, scope: Scope) -> np.ndarray:
        """Keys sharing the most of the query's rarest trigrams (n-gram blocking)."""
        lookup = self.index.gram_lookup
        grams = [lookup[g] for g in trigrams(key) if g in lookup]
        if not grams:
            return np.zeros(0, dtype=np.int32)
        grams.sort(key=self._gram_len.__getitem__)
        ptr, flat = self.index.gram_ptr, self.index.gram_keys
        parts = [flat[ptr[g] : ptr[g + 1]] for g in grams[: self.cfg.block_grams]]
        pool = np.concatenate(parts)
        if scope.key_mask is not None:
            pool = pool[scope.key_mask[pool]]
        if not len(pool):
            return pool
        cand, counts = np.unique(pool, return_counts=True)
        n = self.cfg.max_candidates
        if len(cand) > n:
            cand = cand[np.argpartition(-counts, n)[:n]]
        return cand

    # ------------------------------------------------------------------ scoring

    def _expand(self, scored_keys: list[tuple[int, float]], lang: str, scope: Scope, exact: bool) -> list[Hit]:
        """Key scores → best hit per term, with language and synonym-kind factors applied."""
        idx = self.index
        want = LANG_INDEX.get(lang, -1)
        best: dict[int, tuple[float, int, int]] = {}
        for k, score in scored_keys:
            for e in idx.entries_of_key(k):
                t = int(idx.entry_term[e])
                if not scope.allows_term(t):
                    continue
                s = score
                entry_lang = idx.entry_lang[e]
                if entry_lang not in (0, want) and not exact:
                    s *= self.cfg.other_language_factor
                if idx.entry_kind[e] == self._related:
                    s *= self.cfg.related_factor
                # ties: same language first, then names annotators used most often
                tie = (2 if entry_lang == want else 1 if entry_lang == 0 else 0) + 4 * int(idx.entry_count[e])
                old = best.get(t)
                if old is None or (s, tie) > (old[0], old[2]):
                    best[t] = (s, int(e), tie)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -kv[1][2], kv[0]))
        return [Hit(t, e, min(1.0, s)) for t, (s, e, _) in ranked]
