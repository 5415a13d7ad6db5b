"""Length-sorted batches with dynamic padding.

All (question, window) features of a batch of notes are sorted by length and cut into batches,
so each batch is padded only to its own longest member: with ~100 questions per note most
windows are full-length and the short last windows of every note end up together instead of
being padded to 384 tokens next to full ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kgqa.qa.windowing import Window


def length_sorted_batches(lengths: Sequence[int], batch_size: int, max_tokens: int = 0) -> list[list[int]]:
    """Indices into ``lengths`` grouped into batches of similar length (longest first).

    ``max_tokens`` (0 = no limit) caps ``rows x padded length``, so a batch of long windows may hold
    fewer than ``batch_size`` rows (bounded activation memory); no batch holds more.
    """
    if batch_size < 1:
        raise ValueError(f"reader.batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # sorted longest first, so the first member of a batch sets its padded length
        padded = lengths[current[0]] if current else lengths[i]
        if current and (
            len(current) >= batch_size or (max_tokens and (len(current) + 1) * padded > max_tokens)
        ):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pad_batch(windows: Sequence[Window], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids, attention_mask)`` as int64 arrays padded on the right to the longest window."""
    width = max(len(w) for w in windows)
    input_ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, w in enumerate(windows):
        input_ids[row, : len(w)] = w.input_ids
        mask[row, : len(w)] = 1
    return input_ids, mask
