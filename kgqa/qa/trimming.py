"""Trimming of answer span edges: whitespace, invisible characters and stray punctuation.

Token offsets of SentencePiece tokenizers include neighbouring punctuation and, for a lone ``▁``,
the space before a word, so a raw span often reads ``"8 points."`` or ``"(alteplase"``. Downstream
parsers want ``"8 points"`` and ``"alteplase"``. Trimming only moves the edges inward, so the
result is still an exact slice of the note.
"""

from __future__ import annotations

import re
import unicodedata

#: Punctuation that never belongs at the edge of a value. ``%``, ``/``, ``-``, ``+``, ``°`` and
#: ``#`` are deliberately absent: "5%", "-2", "+1" and "°C" carry meaning.
EDGE_PUNCTUATION = frozenset(".,;:!?¿¡…·\"'`«»„“”‘’‚‹›")
_OPENING = {"(": ")", "[": "]", "{": "}"}
_CLOSING = {v: k for k, v in _OPENING.items()}
#: Dashes and bullets: a sign or a range when they touch a character ("-2", "3-4"), but a list
#: bullet or a separator when a blank follows or precedes them ("- ictus", "Diagnóstico final - ictus").
_DASHES = frozenset("-–—•·")
#: "p.m.", "i.v.", "p.o.": a trailing dot that closes an abbreviation of single letters stays.
_ABBREVIATION_END = re.compile(r"(?:^|[\s.])\w\.\w\.$")


_TRIMMABLE = EDGE_PUNCTUATION | _DASHES | set(_OPENING) | set(_CLOSING)


def _is_blank(ch: str) -> bool:
    # Zs/Zl/Zp spaces (NBSP included), controls (\t \r \n) and format characters (zero-width space, BOM).
    return ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cc", "Cf")


def can_be_trimmed(ch: str) -> bool:
    """Whether trimming may strip ``ch`` from an edge in some context; any other character stops it."""
    return ch in _TRIMMABLE or _is_blank(ch)


def _stray(ch: str, span: str, *, facing_out: dict[str, str], facing_in: dict[str, str], loose_dash: bool) -> bool:
    """Whether edge character ``ch`` of ``span`` goes: a blank, punctuation, a bracket that faces out of
    the span (")" at its start) or one facing in whose partner is not in it, a bullet or separator dash."""
    return (
        _is_blank(ch)
        or ch in EDGE_PUNCTUATION
        or ch in facing_out
        or (ch in facing_in and facing_in[ch] not in span)
        or loose_dash
    )


def _strip_leading(text: str, start: int, end: int) -> int:
    while start < end:
        ch = text[start]
        loose_dash = ch in _DASHES and start + 1 < end and _is_blank(text[start + 1])
        if not _stray(ch, text[start:end], facing_out=_CLOSING, facing_in=_OPENING, loose_dash=loose_dash):
            break
        start += 1
    return start


def _strip_trailing(text: str, start: int, end: int) -> int:
    while end > start:
        ch = text[end - 1]
        if ch == "." and _ABBREVIATION_END.search(text[start:end]):
            break
        loose_dash = ch in _DASHES and end - 1 > start and _is_blank(text[end - 2])
        if not _stray(ch, text[start:end], facing_out=_OPENING, facing_in=_CLOSING, loose_dash=loose_dash):
            break
        end -= 1
    return end


def _strip_enclosing(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop a bracket pair that encloses the whole span: "(38 min)" -> "38 min", not "(a) or (b)"."""
    if end - start >= 2 and _OPENING.get(text[start]) == text[end - 1]:
        depth = 0
        for i in range(start, end):
            if text[i] == text[start]:
                depth += 1
            elif text[i] == text[end - 1]:
                depth -= 1
                if depth == 0:
                    return (start + 1, end - 1) if i == end - 1 else (start, end)
    return start, end


def trim_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Move ``[start, end)`` inward past blanks and stray punctuation; None when nothing is left."""
    start = max(0, start)
    end = min(len(text), end)
    # Alternate until stable: removing "." can expose a space ("8 points ." -> "8 points").
    while True:
        new_start = _strip_leading(text, start, end)
        new_end = _strip_trailing(text, new_start, end)
        new_start, new_end = _strip_enclosing(text, new_start, new_end)
        if (new_start, new_end) == (start, end):
            break
        start, end = new_start, new_end
    return (start, end) if start < end else None
