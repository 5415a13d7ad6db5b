"""Sharing a large ``link_many`` batch with worker processes (``LinkerConfig.processes`` > 1).

Linking is CPU-bound Python and numba code holding the GIL most of the time, so threads do not
scale; processes do. Workers are *forked* on a linker's first large batch (Linux; the index, the
word index and the compiled kernels are inherited, not copied or rebuilt) and kept until
:func:`shutdown` or exit. A batch is dealt round-robin: the calling process takes one share,
each worker another; workers send back only the selected hits (term, name, score as plain tuples),
and the calling process builds the ``Link`` records, so results are identical to a single process.

Fork is unsafe in a process whose other threads hold locks the child needs; the child here runs
only numpy, numba and rapidfuzz code, but a caller running torch or other threaded code beside the
linker should keep ``processes`` at 1.
"""

from __future__ import annotations

import multiprocessing
import weakref
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kgqa.linking.linker import Linker

#: linkers by id, as the forked workers find them (weak: a pool never keeps its linker alive)
_LINKERS: weakref.WeakValueDictionary[int, Linker] = weakref.WeakValueDictionary()
_POOLS: dict[int, ProcessPoolExecutor] = {}


def _work(linker_id: int, texts: list[str], lang: str, scope_items: tuple[str, ...]) -> list[list[tuple]]:
    linker = _LINKERS[linker_id]
    return [[tuple(hit) for hit in hits] for hits in linker.select_keys(texts, lang, scope_items)]


def select_many(linker: Linker, texts: Sequence[str], lang: str, scope_items: tuple[str, ...]) -> list[list[tuple]]:
    """:meth:`Linker.select_keys` of ``texts``, dealt over the calling process and ``processes - 1`` workers."""
    n = linker.cfg.processes
    pool = _pool(linker)
    shares = [list(texts[i::n]) for i in range(n)]
    futures = [pool.submit(_work, id(linker), share, lang, scope_items) for share in shares[1:]]
    parts = [linker.select_keys(shares[0], lang, scope_items)] + [f.result() for f in futures]
    out: list[list[tuple]] = [[] for _ in texts]
    for i, part in enumerate(parts):
        out[i::n] = part
    return out


def start(linker: Linker) -> None:
    """Fork the workers now (else on the first large batch): the word index, code points and lookups are
    built first, so workers inherit them."""
    _pool(linker)


def shutdown(linker: Linker) -> None:
    _shutdown(id(linker))


def _shutdown(linker_id: int) -> None:
    pool = _POOLS.pop(linker_id, None)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _pool(linker: Linker) -> ProcessPoolExecutor:
    key = id(linker)
    pool = _POOLS.get(key)
    if pool is None:
        linker.matcher.prepare()  # the word index and code points are built lazily: build them once, before forking
        linker.index.terms_named("")  # likewise the lazy lookup tables
        _LINKERS[key] = linker
        pool = ProcessPoolExecutor(linker.cfg.processes - 1, mp_context=multiprocessing.get_context("fork"))
        # fork the workers now, from this state, rather than on the first submit
        pool.submit(int).result()
        _POOLS[key] = pool
        weakref.finalize(linker, _shutdown, key)
    return pool
