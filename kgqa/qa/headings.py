"""Section headings and field labels of a note: text that names a topic and states no fact.

A discharge report is laid out under headings ("Historia clínica previa", "Medical history") and
field labels ("Comorbidities:", "Dg.:"). A QA model that has learnt "the answer sits near words of
the question" readily answers "Has the patient had a stroke before?" with the heading "Historia
clínica previa" — and the values stage reads that span as *true*, with nothing in it to negate. So
the reader (``reader.skip_headings``) and QA training's evaluation decode over spans that overlap no
heading or label; the answer under the heading is still found.

Layout rules, not a model: a heading is a short line of its own (at most ``MAX_WORDS`` words, no
digit, no sentence punctuation at its end, not a bullet item) that follows a blank line (or opens
the note) and is followed by text; a label is a short digit-free phrase ending in ":" + whitespace
at the start of a line (after a bullet), or right after another label ("Historia: Comorbilidades:").
Digits keep values out ("NIHSS 4:", "ora 09:04"); sentence punctuation inside keeps sentences out
("Externare - la domiciliu. Tratament recomandat:"); the whitespace keeps URLs out ("https://…").
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable

#: longest heading or label, in words ("Λειτουργική κατάσταση κατά την έξοδο" has five)
MAX_WORDS = 5
_SENTENCE_END = ".!?;,"
#: indentation and an optional list bullet before a line's text
_LEAD = re.compile(r"[ \t]*(?:[-•*–·][ \t]+)?")


def _short_phrase(text: str) -> bool:
    return bool(text) and len(text.split()) <= MAX_WORDS and not any(ch.isdigit() for ch in text)


def _labels(body: str, offset: int) -> list[tuple[int, int]]:
    """Field labels at the start of a line's text ``body`` (which begins at ``offset``), chained."""
    out = []
    while (colon := body.find(":")) > 0:
        label = body[:colon]
        after = body[colon + 1 : colon + 2]
        if (
            not _short_phrase(label)
            or label != label.strip()
            or any(ch in _SENTENCE_END for ch in label[:-1])  # "Dg.:" is a label, "… domiciliu. Tratament:" not
            or (after and not after.isspace())  # "https://", "10:15"
        ):
            break
        out.append((offset, offset + colon + 1))
        rest = body[colon + 1 :]
        skipped = len(rest) - len(rest.lstrip(" \t"))
        offset += colon + 1 + skipped
        body = rest[skipped:]
    return out


@functools.lru_cache(maxsize=256)  # the reader asks every concept's question of the same note
def heading_spans(text: str) -> tuple[tuple[int, int], ...]:
    """``(start, end)`` of every heading and field label of ``text``, in order (see the module doc)."""
    lines: list[tuple[int, str]] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        lines.append((pos, raw.rstrip("\r\n")))
        pos += len(raw)
    out: list[tuple[int, int]] = []
    for i, (start, line) in enumerate(lines):
        lead = _LEAD.match(line).end()  # type: ignore[union-attr]  # the pattern matches the empty string
        body = line[lead:].rstrip()
        if not body:
            continue
        at = start + lead
        opens_section = i == 0 or not lines[i - 1][1].strip()
        has_text_below = i + 1 < len(lines) and bool(lines[i + 1][1].strip())
        if (
            not line[:lead].strip()  # no bullet: "- Hypertension" is an item, not a heading
            and opens_section
            and has_text_below
            and _short_phrase(body)
            and body[-1] not in _SENTENCE_END
        ):
            out.append((at, at + len(body)))
            continue
        out.extend(_labels(body, at))
    return tuple(out)


def outside_headings(text: str) -> Callable[[int, int], bool]:
    """``accept(start, end)``: whether ``text[start:end]`` overlaps no heading or label of ``text``."""
    spans = heading_spans(text)
    starts = [s for s, _ in spans]

    def accept(start: int, end: int) -> bool:
        # the last heading beginning before ``end`` is the only one that can overlap (they do not nest)
        i = bisect.bisect_left(starts, end) - 1
        return i < 0 or spans[i][1] <= start

    return accept
