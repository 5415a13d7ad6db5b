"""The phrasing mini-language and a text builder that records gold offsets as it writes.

A phrasing is a sentence with two kinds of markup:

* ``{concept}`` — a value slot: the concept's value, rendered in the note's conventions
  (decimal comma, date style…), becomes a gold span;
* ``<<concept|words>>`` — an evidence slot: the literal words (e.g. "no thrombolysis")
  become the gold span of a boolean or of a negated fact.

Offsets are recorded while the text is appended, never re-found afterwards, so a gold span
slices the note by construction (the tests check it anyway).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_SLOT = re.compile(r"\{(\w+)\}|<<(\w+)\|([^>]*)>>")


@dataclass(frozen=True)
class Piece:
    """A parsed part of a phrasing: literal text, a value slot or an evidence slot."""

    literal: str = ""
    concept: str = ""
    #: evidence words for ``<<concept|words>>``; empty for a value slot
    words: str = ""

    @property
    def is_slot(self) -> bool:
        return bool(self.concept)


def parse(phrasing: str) -> tuple[Piece, ...]:
    pieces: list[Piece] = []
    pos = 0
    for m in _SLOT.finditer(phrasing):
        if m.start() > pos:
            pieces.append(Piece(literal=phrasing[pos : m.start()]))
        if m.group(1):
            pieces.append(Piece(concept=m.group(1)))
        else:
            pieces.append(Piece(concept=m.group(2), words=m.group(3)))
        pos = m.end()
    if pos < len(phrasing):
        pieces.append(Piece(literal=phrasing[pos:]))
    return tuple(pieces)


def slots(phrasing: str) -> tuple[str, ...]:
    """The concept ids a phrasing mentions, in order."""
    return tuple(p.concept for p in parse(phrasing) if p.is_slot)


@dataclass(frozen=True)
class Span:
    concept: str
    start: int
    end: int
    text: str


class TextBuilder:
    """Appends text and remembers where each slot landed."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._len = 0
        self.spans: list[Span] = []

    def __len__(self) -> int:
        return self._len

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._len += len(text)

    def write_span(self, concept: str, text: str) -> None:
        start = self._len
        self.write(text)
        self.spans.append(Span(concept, start, self._len, text))

    def write_phrasing(self, phrasing: str, render: Callable[[str], str]) -> None:
        """Write ``phrasing``; ``render(concept)`` gives a value slot's surface text."""
        for i, piece in enumerate(parse(phrasing)):
            if not piece.is_slot:
                literal = piece.literal
                if literal.startswith(".") and self._parts and self._parts[-1].endswith("."):
                    literal = literal[1:]  # "12.03.2024 г." + "." must not give "г.."
                if literal:
                    self.write(literal)
            elif piece.words:
                self.write_span(piece.concept, piece.words)
            else:
                text = render(piece.concept)
                # a sentence that opens with a value starts with a capital, as a clinician writes it
                self.write_span(piece.concept, text[:1].upper() + text[1:] if i == 0 else text)

    @property
    def text(self) -> str:
        return "".join(self._parts)
