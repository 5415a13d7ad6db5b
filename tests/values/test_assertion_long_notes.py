"""Assertion cues on long notes: the sentence of a span is found by bisection over breaks computed
once per note, with the same result as a scan of the note, and the cost per span does not grow
with the note's length."""

from __future__ import annotations

import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from kgqa.types import Assertion
from kgqa.values import assertion


def _scan_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The definition, written the slow way: the last break at or before the span, the first after it."""

    def upper_next(pos: int) -> bool:
        rest = text[pos:].lstrip()
        return not rest or rest[0].isupper()

    s = 0
    for m in re.finditer(r"\n|[.!?;](?=\s+[^\W\d_])", text):
        if m.end() > start:
            break
        if m.group(0) == "\n" or upper_next(m.end()):
            s = m.end()
    e = len(text)
    for m in re.finditer(r"\n|[.!?;](?=\s|$)", text[end:]):
        pos = end + m.start()
        if m.group(0) == "\n" or pos + 1 >= len(text) or upper_next(pos + 1):
            e = pos
            break
    return s, e


_PIECES = st.sampled_from(
    ["Ab", "cd", " ", "  ", "\n", ".", ". ", "; ", "!", "? ", "ca. 5", "NIHSS 8 b. v 14:35", "É", "ž", "\t", "9", "_"]
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_PIECES, min_size=1, max_size=30), data=st.data())
def test_sentence_bounds_match_the_scan(pieces, data):
    text = "".join(pieces)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert assertion.sentence_bounds(text, start, end) == _scan_bounds(text, start, end)


def test_sentence_bounds_examples():
    text = "No diabetes. Thrombolysis given\nca. 5 mg. NIHSS 8 b. v 14:35; End"
    span = text.index("Thrombolysis")
    assert text[slice(*assertion.sentence_bounds(text, span, span + 12))] == " Thrombolysis given"
    span = text.index("5 mg")
    assert text[slice(*assertion.sentence_bounds(text, span, span + 4))] == "ca. 5 mg"
    span = text.index("14:35")
    assert text[slice(*assertion.sentence_bounds(text, span, span + 5))] == " NIHSS 8 b. v 14:35"


def test_cues_are_found_deep_inside_a_long_note():
    filler = "Patient stable on the ward. " * 4000  # ~110 KB before and after
    text = filler + "Thrombolysis was not given. Hypertension known. " + filler
    span = text.index("Thrombolysis")
    assert assertion.detect(text, span, span + 12, "en")[0] is Assertion.NEGATED
    span = text.index("Hypertension")
    assert assertion.detect(text, span, span + 12, "en")[0] is Assertion.HISTORICAL


def test_windows_are_capped_in_a_note_without_sentence_breaks():
    # one 100 KB "sentence": the cue right before the span still counts, a cue 1,000+ characters away cannot
    text = "no " + "x" * 200_000 + " y " + "no thrombolysis" + " z" * 50_000
    span = text.index("thrombolysis")
    status, cue = assertion.detect(text, span, span + len("thrombolysis"), "en")
    assert status is Assertion.NEGATED and cue is not None and cue.start == span - 3
    far = "not " + "word " * 300 + "thrombolysis"  # ~1,500 characters: beyond the window
    assert assertion.detect(far, far.index("thromb"), len(far), "en")[0] is Assertion.PRESENT


def _seconds_per_span(size: int, spans: int = 200) -> float:
    unit = "History of hypertension, no diabetes; thrombolysis was not given " * 4
    text = (unit * (size // len(unit) + 1))[:size]  # one long line: breaks only at ";"
    assertion.detect(text, 10, 20, "en")  # the per-note pass, outside the timing
    step = size // spans
    t0 = time.perf_counter()
    for k in range(spans):
        pos = k * step
        assertion.detect(text, pos, pos + 5, "en")
    return (time.perf_counter() - t0) / spans


def test_cost_per_span_does_not_grow_with_the_note():
    small, large = _seconds_per_span(8_000), _seconds_per_span(800_000)
    # 100x longer note: a scan from the note's start would be >= 100x slower per span; bisection is flat
    assert large < small * 5 + 1e-4
