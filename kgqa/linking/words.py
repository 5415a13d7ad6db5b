"""A word-level candidate generator: IDF-weighted cosine over stemmed content words.

Trigram blocking finds keys that *look* like the query; it misses names that share the query's rare
words in another order or with extra words ("mama izquierda tumor" ~ "tumor maligno de mama"). This
index scores keys by the cosine of IDF-weighted bags of word stems, a stem being the first
``prefix`` letters of a content word — a crude but language-agnostic stemmer that folds Spanish,
Czech or Polish plural and gender endings ("metastasis"/"metastasica", "renal"/"renales").
Pure numpy over CSR postings; built lazily from the index's keys, never pickled.
"""

from __future__ import annotations

import numpy as np

from kgqa.linking.normalise import STOPWORDS


def stems(key: str, prefix: int) -> set[str]:
    """Stems of a folded key's content words (function words dropped, each cut to ``prefix`` letters)."""
    return {w[:prefix] for w in key.split() if w not in STOPWORDS}


class WordIndex:
    def __init__(self, keys: list[str], prefix: int = 5):
        self.prefix = prefix
        postings: dict[str, list[int]] = {}
        for k, key in enumerate(keys):
            for w in stems(key, prefix):
                postings.setdefault(w, []).append(k)
        self.lookup = {w: i for i, w in enumerate(postings)}
        lens = np.fromiter((len(v) for v in postings.values()), dtype=np.int64, count=len(postings))
        self.ptr = np.zeros(len(postings) + 1, dtype=np.int64)
        np.cumsum(lens, out=self.ptr[1:])
        self.flat = np.fromiter((k for v in postings.values() for k in v), dtype=np.int32, count=int(self.ptr[-1]))
        self.df = lens.tolist()
        # idf² is what a shared word adds to the dot product of two binary IDF-weighted vectors
        self.idf = np.log(max(len(keys), 1) / np.maximum(lens, 1))
        self.weight = self.idf**2
        w2 = (self.idf**2)[np.repeat(np.arange(len(lens)), lens)]
        self.norm = np.sqrt(np.bincount(self.flat, weights=w2, minlength=len(keys)))
        self.norm[self.norm == 0] = 1.0

    def query(self, key: str) -> np.ndarray:
        """Ids of the stems of ``key`` the index knows."""
        lookup = self.lookup
        return np.array([lookup[w] for w in stems(key, self.prefix) if w in lookup], dtype=np.int64)

    def scores(self, key: str, budget: int, key_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Keys sharing a word with ``key`` (ids ascending) and their cosines with it, in [0, 1].

        The numpy reference of what :func:`kgqa.linking.kernels.candidates` computes per query.

        Words are visited rarest first until ``budget`` postings (a common word such as "enfermedad"
        would otherwise drag in thousands of keys); every known query word still counts in the
        query's norm, so skipping one lowers the cosine of keys that lack it anyway.
        """
        ids = [self.lookup[w] for w in stems(key, self.prefix) if w in self.lookup]
        if not ids:
            return np.zeros(0, np.int32), np.zeros(0)
        ids.sort()
        ids.sort(key=self.df.__getitem__)
        qnorm = float(np.sqrt((self.idf[ids] ** 2).sum())) or 1.0
        parts, weights, total = [], [], 0
        for i in ids:
            m = self.df[i]
            if parts and total + m > budget:
                break
            parts.append(self.flat[self.ptr[i] : self.ptr[i + 1]])
            weights.append(np.full(m, self.idf[i] ** 2))
            total += m
        pool, w = np.concatenate(parts), np.concatenate(weights)
        if key_mask is not None:
            ok = key_mask[pool]
            pool, w = pool[ok], w[ok]
        if not len(pool):
            return np.zeros(0, np.int32), np.zeros(0)
        uniq, inv = np.unique(pool, return_inverse=True)
        cos = np.bincount(inv, weights=w) / (self.norm[uniq] * qnorm)
        return uniq, np.minimum(cos, 1.0)

