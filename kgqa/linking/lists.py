"""Splitting a list answer ("Atorvastatin 40 mg, Concor 5 mg 1-0-0 a Eliquis 5 mg") into its items.

The reader answers a list concept (discharge medication) with one span that often holds the whole
list; linked as one text, only the best-matching drug survived and every other drug was lost. Items
are separated by line breaks, ``;``, ``,`` (not a decimal comma: "0,9 mg/kg"), ``+``, bullets, a
spaced dash and the word "and" in the seven languages. Pure functions; no I/O.
"""

from __future__ import annotations

import re

#: "and"/"plus" in bg cs el en es pl ro (whole words only: "a" and "i" are Czech and Polish "and")
_AND = r"and|plus|und|a|i|oraz|y|e|și|si|и|και|κ\.|ή"
_SPLIT = re.compile(
    rf"""
    \r?\n | ; | \u2022 | \u00b7 | \s\+\s? | \+\s
    | (?<!\d),(?!\d) | (?<=\d),(?=\s) | ,(?=\s*\D)
    | \s[\u2013\u2014-]\s
    | \s(?:{_AND})\s
    """,
    re.VERBOSE | re.IGNORECASE,
)
#: list numbering at an item's start ("1)", "2.", "a)", "-")
_BULLET = re.compile(r"^\s*(?:\d{1,2}[.)]|[a-z][)]|[-\u2013*])\s*", re.IGNORECASE)


def split_items(text: str) -> list[str]:
    """Non-empty items of a list span, in the order written (one item when nothing separates them)."""
    return [text[s:e] for s, e in item_spans(text)]


def item_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Offsets of the items of ``text[start:end]`` (:func:`split_items`), as ``(start, end)`` into ``text``: split
    at the separators, a leading bullet and surrounding " .:" dropped, items without a letter skipped."""
    end = len(text) if end is None else end
    region = text[start:end]
    cuts = [0, *(x for m in _SPLIT.finditer(region) for x in (m.start(), m.end())), len(region)]
    spans = []
    for a, b in zip(cuts[::2], cuts[1::2]):
        part = region[a:b]
        bullet = _BULLET.match(part)
        a += bullet.end() if bullet else 0
        piece = region[a:b]
        lead = len(piece) - len(piece.lstrip(" .:"))
        trail = len(piece) - len(piece.rstrip(" .:"))
        a, b = a + lead, b - trail
        if a < b and any(c.isalpha() for c in region[a:b]):
            spans.append((start + a, start + b))
    return spans
