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
from kgqa.linking.config import LinkerConfig
from kgqa.linking.index import KIND_INDEX, LANG_INDEX, TermIndex, trigrams
from kgqa.linking.normalise import content_key
from kgqa.linking.words import WordIndex, top_n

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


def make_scope(index: TermIndex, items: tuple[str, ...], cfg: LinkerConfig) -> Scope:
    term_mask = index.scope_mask(items)
    key_mask = index.key_mask(term_mask)
    n_keys = len(index.keys) if key_mask is None else int(key_mask.sum())
    small = None
    if cfg.candidates == "brute" or n_keys <= cfg.brute_force_limit:
        small = list(range(len(index.keys))) if key_mask is None else np.flatnonzero(key_mask).tolist()
    return Scope(term_mask, key_mask, small)


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
        self._log1p = np.log1p(np.arange(1024)).tolist()
        self._presorted = cfg.scorer == "token_sort_ratio"
        self._fast_scorer = fuzz.ratio if self._presorted else self.scorer
        # Python-list mirrors of the hot arrays: scalar access to a list is several times faster than to numpy
        self._gram_len = np.diff(index.gram_ptr).tolist()
        self._kp = index.key_ptr.tolist()
        self._ke = index.key_entries.tolist()
        self._et = index.entry_term.tolist()
        self._el = index.entry_lang.tolist()
        self._ek = index.entry_kind.tolist()
        self._ec = index.entry_count.tolist()
        self._words: WordIndex | None = None

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
        return self._expand([(k, 1.0)], lang, scope, exact=True)

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
        cand = scope.small_keys if scope.small_keys is not None else self.block(key, scope)
        w, floor = self.cfg.word_weight, self.cfg.word_floor
        if w > 0:
            ids, cos = self.words.scores(key, self.cfg.word_budget, scope.key_mask)
            if scope.small_keys is None and len(ids):
                cand = list(dict.fromkeys(cand + top_n(ids, cos, self.cfg.word_candidates).tolist()))
        if not cand:
            return []
        if self._presorted:
            # token_sort_ratio == ratio of token-sorted strings; the index keeps them (function words dropped)
            query, pool = content_key(key), self.index.content_keys
        else:
            query, pool = key, self.index.keys
        choices = itemgetter(*cand)(pool) if len(cand) > 1 else (pool[cand[0]],)
        cutoff = self.cfg.nil_threshold * 100 * min(self.cfg.other_language_factor, self.cfg.related_factor, 1.0)
        # one cdist row (C++, no per-choice Python objects) instead of extract's list of tuples
        if w > 0:
            scores = process.cdist((query,), choices, scorer=self._fast_scorer, workers=self.cfg.workers)[0].astype(np.float64)
            if len(ids):
                # cosine of each candidate: ids are ascending, so a binary search finds the shared ones
                cand_arr = np.asarray(cand)
                pos = np.minimum(np.searchsorted(ids, cand_arr), len(ids) - 1)
                hit = ids[pos] == cand_arr
                scores = np.maximum((1 - w) * scores + w * 100.0 * np.where(hit, cos[pos], 0.0), scores * floor)
            else:
                scores *= max(1 - w, floor)
            scores[scores < cutoff] = 0
        else:
            scores = process.cdist((query,), choices, scorer=self._fast_scorer, score_cutoff=cutoff, workers=self.cfg.workers)[0]
        n = limit * 2
        top = np.argpartition(-scores, n)[:n] if len(scores) > n else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        found = [(cand[pos], score / 100.0) for pos, score in zip(top.tolist(), scores[top].tolist()) if score > 0]
        return self._expand(found, lang, scope, exact=False)

    def block(self, key: str, scope: Scope) -> list[int]:
        """Keys sharing the most of the query's rarest trigrams (n-gram blocking).

        The rarest trigrams are taken until ``block_grams`` of them or ``block_budget`` postings, so a
        query made of common words does not drag in half the index; a misspelling spoils at most three
        trigrams, the others still find the right key.
        """
        lookup = self.index.gram_lookup
        grams = [lookup[g] for g in trigrams(key) if g in lookup]
        if not grams:
            return []
        lens = self._gram_len
        grams.sort(key=lens.__getitem__)
        ptr, flat = self.index.gram_ptr, self.index.gram_keys
        parts, total = [], 0
        for g in grams[: self.cfg.block_grams]:
            n = lens[g]
            if parts and total + n > self.cfg.block_budget:
                break
            parts.append(flat[ptr[g] : ptr[g] + n])
            total += n
        pool = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if scope.key_mask is not None:
            pool = pool[scope.key_mask[pool]]
        if not len(pool):
            return []
        pool = np.sort(pool)
        # run-length count of each key id in the sorted pool (np.unique without its overhead)
        starts = np.flatnonzero(np.concatenate(([True], pool[1:] != pool[:-1])))
        counts = np.diff(np.append(starts, len(pool)))
        cand = pool[starts]
        n = self.cfg.max_candidates
        if len(cand) > n:
            cand = cand[np.argpartition(-counts, n)[:n]]
        return cand.tolist()

    # ------------------------------------------------------------------ scoring

    def _expand(self, scored_keys: list[tuple[int, float]], lang: str, scope: Scope, exact: bool) -> list[Hit]:
        """Key scores → best hit per term, with language and synonym-kind factors applied."""
        want = LANG_INDEX.get(lang, -1)
        kp, ke, et, el, ek, ec = self._kp, self._ke, self._et, self._el, self._ek, self._ec
        mask = scope.term_mask
        other, related, prior = self.cfg.other_language_factor, self.cfg.related_factor, self.cfg.count_prior
        best: dict[int, tuple[float, int, int]] = {}
        for k, score in scored_keys:
            for e in ke[kp[k] : kp[k + 1]]:
                t = et[e]
                if mask is not None and not mask[t]:
                    continue
                s = score
                entry_lang = el[e]
                if entry_lang != want and entry_lang != 0 and not exact:
                    s *= other
                if ek[e] == self._related:
                    s *= related
                if prior and ec[e] and not exact:
                    s *= 1.0 + prior * self._log1p[min(ec[e], 1023)]
                # ties: same language first, then names annotators used most often
                tie = (2 if entry_lang == want else 1 if entry_lang == 0 else 0) + 4 * ec[e]
                old = best.get(t)
                if old is None or s > old[0] or (s == old[0] and tie > old[2]):
                    best[t] = (s, e, tie)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -kv[1][2], kv[0]))
        return [Hit(t, e, min(1.0, s)) for t, (s, e, _) in ranked[: self._max_hits]]


def _looks_like_acronym(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return 2 <= len(letters) <= 6 and sum(c.isupper() for c in letters) >= len(letters) - 1
