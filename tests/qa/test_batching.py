"""Length-sorted batching with dynamic padding."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgqa.qa.batching import length_sorted_batches, pad_batch
from kgqa.qa.windowing import Window


@given(st.lists(st.integers(1, 384), max_size=200), st.integers(1, 40), st.sampled_from([0, 2000, 5000]))
def test_batches_cover_every_window_once_sorted_and_bounded(lengths, batch_size, max_tokens) -> None:
    batches = length_sorted_batches(lengths, batch_size, max_tokens)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for b in batches:
        assert 1 <= len(b) <= batch_size
        if max_tokens and len(b) > 1:
            assert len(b) * max(lengths[i] for i in b) <= max_tokens


def test_bad_batch_size() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        length_sorted_batches([3], 0)


def test_pad_batch_pads_right_to_the_longest() -> None:
    windows = [Window(0, (0, 5, 6, 2), (None,) * 4), Window(1, (0, 7, 2), (None,) * 3)]
    ids, mask = pad_batch(windows, pad_id=1)
    assert ids.tolist() == [[0, 5, 6, 2], [0, 7, 2, 1]]
    assert mask.tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert ids.dtype == np.int64
