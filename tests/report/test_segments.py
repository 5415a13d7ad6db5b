"""Cutting note text at span boundaries: segments tile the text; each span is exactly its segments."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgqa.report.segments import Span, segment

TEXT = "0123456789abcdef"


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ((), [(0, 16, ())]),
        ((Span("a", 0, 16),), [(0, 16, ("a",))]),
        ((Span("a", 2, 5),), [(0, 2, ()), (2, 5, ("a",)), (5, 16, ())]),
        # nested: the outer span is listed first in the stack
        ((Span("in", 3, 5), Span("out", 2, 8)), [(0, 2, ()), (2, 3, ("out",)), (3, 5, ("out", "in")),
                                                 (5, 8, ("out",)), (8, 16, ())]),
        # crossing without nesting
        ((Span("a", 0, 6), Span("b", 4, 10)), [(0, 4, ("a",)), (4, 6, ("a", "b")), (6, 10, ("b",)), (10, 16, ())]),
        # touching spans share a boundary but no segment
        ((Span("a", 0, 4), Span("b", 4, 8)), [(0, 4, ("a",)), (4, 8, ("b",)), (8, 16, ())]),
        # identical spans (two concepts on one span): ordered by key
        ((Span("y", 1, 3), Span("x", 1, 3)), [(0, 1, ()), (1, 3, ("x", "y")), (3, 16, ())]),
        # same start: the longer span is the outer one
        ((Span("short", 0, 2), Span("long", 0, 5)), [(0, 2, ("long", "short")), (2, 5, ("long",)), (5, 16, ())]),
    ],
)
def test_segments_table(spans, expected):
    got = [(s.start, s.end, s.keys) for s in segment(TEXT, spans)]
    assert got == expected
    assert all(s.text == TEXT[s.start : s.end] for s in segment(TEXT, spans))


@pytest.mark.parametrize("bad", [Span("a", 3, 3), Span("a", -1, 2), Span("a", 10, 17), Span("a", 5, 2)])
def test_span_outside_text_is_an_error(bad):
    with pytest.raises(ValueError, match="'a'"):
        segment(TEXT, [bad])


@st.composite
def text_and_spans(draw):
    text = draw(st.text(min_size=1, max_size=40))
    n = draw(st.integers(0, 8))
    spans = []
    for i in range(n):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        spans.append(Span(f"s{i}", start, end))
    return text, spans


@given(text_and_spans())
def test_segments_tile_the_text_and_rebuild_every_span(case):
    text, spans = case
    segs = segment(text, spans)
    assert "".join(s.text for s in segs) == text
    assert [s.start for s in segs[1:]] == [s.end for s in segs[:-1]]
    assert segs[0].start == 0 and segs[-1].end == len(text)
    for span in spans:
        covering = [s for s in segs if span.key in s.keys]
        assert (covering[0].start, covering[-1].end) == (span.start, span.end)
        assert "".join(s.text for s in covering) == text[span.start : span.end]
    for seg in segs:
        assert set(seg.keys) == {sp.key for sp in spans if sp.start <= seg.start and seg.end <= sp.end}
