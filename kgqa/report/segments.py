"""Split a note's text into segments at every evidence-span boundary.

Spans may overlap without nesting (``[0, 10)`` and ``[5, 15)``), so they cannot be
rendered as one tree of elements. Instead the text is cut at every start and end
offset; each resulting segment knows the spans that cover it, and the template
renders a segment as a stack of nested highlights (one per covering span). The
segments tile the text exactly, so concatenating their text gives the note back
and a span's text is the concatenation of the segments that carry its id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class Span:
    """An evidence span to highlight: ``[start, end)`` code-point offsets into the note."""

    key: str
    start: int
    end: int


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    text: str
    #: keys of the spans covering this segment, outermost first (earlier start, then longer span)
    keys: tuple[str, ...]


def _stack_order(span: Span) -> tuple[int, int, str]:
    # Outer spans first: a span that starts earlier, or is longer from the same start, encloses the others.
    return (span.start, -span.end, span.key)


def segment(text: str, spans: Sequence[Span]) -> list[Segment]:
    """Cut ``text`` at every span boundary; spans outside the text or empty are an error."""
    for span in spans:
        if not (0 <= span.start < span.end <= len(text)):
            raise ValueError(f"span {span.key!r} [{span.start}, {span.end}) outside text of length {len(text)}")
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    ordered = sorted(spans, key=_stack_order)
    # Sweep the cuts once; ``active`` holds spans open at the current cut, kept in stack order.
    starts: dict[int, list[Span]] = {}
    for span in ordered:
        starts.setdefault(span.start, []).append(span)
    active: list[Span] = []
    segments: list[Segment] = []
    for left, right in pairwise(cuts):
        active = [s for s in active if s.end > left]
        if left in starts:
            active = sorted(active + starts[left], key=_stack_order)
        segments.append(Segment(left, right, text[left:right], tuple(s.key for s in active)))
    return segments
