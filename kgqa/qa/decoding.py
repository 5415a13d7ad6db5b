"""Span decoding on raw logits, in the manner of transformers' ``utils_qa.postprocess_qa_predictions``.

Pure: numpy arrays and offsets in, character spans out; no model, no I/O.

Why raw logits: a softmax per window makes scores of different windows incomparable (each window's
probabilities sum to one however weak its evidence). ``start_logit + end_logit`` is comparable across
windows, questions and notes, and the null score (CLS start + CLS end) is taken as the *minimum* over
the windows of a pair, as utils_qa does: the window that argues least for "no answer" decides.

Unlike utils_qa, which pairs the n best starts with the n best ends (and can miss the best valid
span), candidates are searched exhaustively within the length limit: ``start[i] + end[i + d]`` for
every start ``i`` and length ``d`` is one broadcast add, so the top-n spans of a window are exact.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kgqa.qa.trimming import can_be_trimmed, trim_span

Offset = tuple[int, int] | None


@dataclass(frozen=True)
class WindowLogits:
    """Raw logits of one window (unpadded) with the context offsets of its tokens (None elsewhere)."""

    start_logits: np.ndarray
    end_logits: np.ndarray
    offsets: Sequence[Offset]


@dataclass(frozen=True)
class DecodeParams:
    n_best: int = 20
    max_answer_tokens: int = 30
    #: 1 for single-valued concepts; more for list concepts (non-overlapping answers)
    max_answers: int = 1
    #: a span needs ``score - null_score > null_threshold``
    null_threshold: float = 0.0
    trim: bool = True
    #: spans must begin and end at word edges: never inside a run of letters ("ява" of "поява")
    whole_words: bool = True
    #: spans must hold a digit (numeric concepts: a span without one cannot carry their value)
    need_digit: bool = False
    #: spans must not cross a line break (a value and the next line's label are never one answer)
    single_line: bool = True


class Mention(Protocol):
    """Characters an answer must contain (``kgqa.values.enums.Mention``: a member label in the note);
    ``whole``: the answer must be exactly these characters."""

    start: int
    end: int
    whole: bool

    def named_by(self, start: int, end: int) -> bool: ...


@dataclass(frozen=True)
class Span:
    """A decoded answer span: character offsets into the context, raw score and the pair's null score."""

    start: int
    end: int
    score: float
    null_score: float

    @property
    def margin(self) -> float:
        return self.score - self.null_score


@dataclass(frozen=True)
class Decoded:
    null_score: float
    #: answers, best first (empty = no answer)
    spans: tuple[Span, ...]
    #: every candidate considered, best first, before the threshold (for calibration and debugging)
    candidates: tuple[Span, ...] = ()


def _window_candidates(
    window: WindowLogits, text: str, params: DecodeParams, mentions: Sequence[Mention] | None = None
) -> list[tuple[int, int, float]]:
    offsets = window.offsets
    length = min(len(offsets), len(window.start_logits), len(window.end_logits))
    if length == 0:
        return []
    start = np.asarray(window.start_logits[:length], dtype=np.float64)
    end = np.asarray(window.end_logits[:length], dtype=np.float64)
    in_context = np.fromiter((o is not None for o in offsets[:length]), dtype=bool, count=length)
    if not in_context.any():
        return []
    can_start, can_end = in_context, in_context
    if params.whole_words:
        # a token that begins (ends) inside a word cannot begin (end) an answer: masked before the
        # top-n search, so the n best spans are n *valid* ones (decode() re-checks after trimming)
        can_start = in_context & np.fromiter(
            (o is not None and not _inside_word(text, o[0]) for o in offsets[:length]), dtype=bool, count=length
        )
        can_end = in_context & np.fromiter(
            (o is not None and not _inside_word(text, o[1]) for o in offsets[:length]), dtype=bool, count=length
        )
    max_len = min(params.max_answer_tokens, length)
    # scores[i, d] = start[i] + end[i + d]: every span of d + 1 tokens starting at token i, in one
    # broadcast over a strided view (no copy); spans running past the window or outside the
    # context are -inf.
    end_ctx = np.where(can_end, end, -np.inf)
    padded = np.concatenate([end_ctx, np.full(max_len - 1, -np.inf)])
    scores = np.where(can_start[:, None], start[:, None] + sliding_window_view(padded, max_len), -np.inf)
    if params.need_digit:
        # digits in tokens i..i+d, from prefix sums: a span without one is no candidate
        has_digit = np.fromiter(
            (o is not None and any(ch.isdigit() for ch in text[o[0] : o[1]]) for o in offsets[:length]),
            dtype=np.int64,
            count=length,
        )
        cum = np.concatenate([[0], np.cumsum(has_digit), np.full(max_len - 1, has_digit.sum())])
        digits = sliding_window_view(cum[1:], max_len) - cum[:length, None]
        scores = np.where(digits > 0, scores, -np.inf)
    if mentions is not None:
        scores = np.where(_naming_spans(offsets[:length], mentions, max_len), scores, -np.inf)
    if params.single_line and "\n" in text:
        scores = np.where(_crosses_a_line_break(text, offsets[:length], max_len, params.trim), -np.inf, scores)
    flat = scores.ravel()
    k = min(params.n_best, int(np.isfinite(flat).sum()))
    if k == 0:
        return []
    top = np.argpartition(-flat, k - 1)[:k]
    out = []
    for idx in top:
        i, d = divmod(int(idx), max_len)
        first, last = offsets[i], offsets[i + d]
        out.append((first[0], last[1], float(flat[idx])))
    return out


def _crosses_a_line_break(text: str, offsets: Sequence[Offset], max_len: int, trim: bool) -> np.ndarray:
    """``out[i, d]``: the span of tokens i..i+d still crosses a line break once its edges are trimmed.

    Trimming comes first (a raw span ".\\r\\nThe patient was admitted" is the single-line answer "The patient
    was admitted"), so the break count runs from the first token that trimming cannot remove whole to the
    last one. A token survives when it holds a character trimming never strips (anything but blanks, edge
    punctuation, brackets and dashes); no token holds a line break (tokenizers split on whitespace), so
    trimming inside a surviving token changes no count. decode() re-checks every trimmed span exactly.
    """
    length = len(offsets)
    breaks = _line_breaks_before(text)
    first = np.fromiter((o[0] if o is not None else 0 for o in offsets), dtype=np.int64, count=length)
    last = np.fromiter((o[1] if o is not None else 0 for o in offsets), dtype=np.int64, count=length)
    in_context = np.fromiter((o is not None for o in offsets), dtype=bool, count=length)
    if trim:
        # characters trimming can never strip, counted once per note: a token survives when it holds one
        kept_before = _untrimmable_before(text)
        survives = in_context & (kept_before[last] - kept_before[first] > 0)
    else:
        survives = in_context
    index = np.arange(length)
    # next surviving token at or after i (length = none), last surviving token at or before k (-1 = none)
    next_kept = np.minimum.accumulate(np.where(survives, index, length)[::-1])[::-1]
    prev_kept = np.maximum.accumulate(np.where(survives, index, -1))
    from_char = np.where(next_kept < length, first[np.minimum(next_kept, length - 1)], 0)
    to_char = np.where(prev_kept >= 0, last[np.maximum(prev_kept, 0)], 0)
    to_padded = sliding_window_view(np.concatenate([to_char, np.zeros(max_len - 1, np.int64)]), max_len)
    last_kept = sliding_window_view(np.concatenate([prev_kept, np.full(max_len - 1, -1)]), max_len)
    # a span with no surviving token is left to decode()'s exact check
    has_kept = last_kept >= next_kept[:, None]
    crossed = breaks[np.maximum(to_padded, from_char[:, None])] - breaks[from_char][:, None]
    return has_kept & (crossed > 0)


def _naming_spans(offsets: Sequence[Offset], mentions: Sequence[Mention], max_len: int) -> np.ndarray:
    """``ok[i, d]``: the tokens i..i+d cover a mention — the first starts at or before it and the
    last ends at or after it (for ``whole`` mentions: exactly on its edges). Mentions are made of
    word characters, so trimming a span's edges never cuts into one."""
    length = len(offsets)
    first = np.fromiter((o[0] if o is not None else np.iinfo(np.int64).max for o in offsets), np.int64, length)
    last = np.fromiter((o[1] if o is not None else -1 for o in offsets), np.int64, length)
    last_padded = sliding_window_view(np.concatenate([last, np.full(max_len - 1, -1)]), max_len)
    ok = np.zeros((length, max_len), dtype=bool)
    for m in mentions:
        if m.whole:
            ok |= ((first == m.start) & (last > first))[:, None] & (last_padded == m.end)
        else:
            ok |= (first <= m.start)[:, None] & (last_padded >= m.end)
    return ok


@functools.lru_cache(maxsize=8)
def _untrimmable_before(text: str) -> np.ndarray:
    """``out[c]`` = characters in ``text[:c]`` that trimming never strips; cached like the line breaks."""
    return np.concatenate([[0], np.cumsum(np.fromiter((not can_be_trimmed(ch) for ch in text), bool, len(text)))])


@functools.lru_cache(maxsize=8)
def _line_breaks_before(text: str) -> np.ndarray:
    """``out[c]`` = line breaks in ``text[:c]``; cached: every window of every question of a note asks."""
    return np.concatenate([[0], np.cumsum(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) == 10)])


def _inside_word(text: str, pos: int) -> bool:
    """Whether character position ``pos`` lies between two letters."""
    return 0 < pos < len(text) and text[pos - 1].isalpha() and text[pos].isalpha()


def _inside_number(text: str, pos: int) -> bool:
    """Whether ``pos`` lies inside a number: between two digits, or at a decimal mark or date dot
    between digits ("183/6|3", "14|,8", "29.|8.2023"; a slash or a space is an edge)."""
    if not 0 < pos < len(text):
        return False
    before, after = text[pos - 1], text[pos]
    if before.isdigit():
        return after.isdigit() or (after in ".," and pos + 1 < len(text) and text[pos + 1].isdigit())
    return after.isdigit() and before in ".," and pos >= 2 and text[pos - 2].isdigit()


def whole_numbers(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened so that it cuts no number: "183/6" of "183/63" becomes "183/63".

    A tokenizer trained on clinical text has pieces such as "183/6" + "3.", so a model trained on
    its tokens answers "183/6" for a systolic pressure of 183; read as is, the same span would give a
    diastolic pressure of 6. Widening keeps the model's answer and makes every number in it whole.
    """
    while _inside_number(text, start):
        start -= 1
    while _inside_number(text, end):
        end += 1
    return start, end


#: what may stand between a date and its clock time: punctuation and up to three short lower-case
#: connectors ("г. в", "o godz.", "a las", "ώρα", "at", "ora", "v"), never a capitalised word
#: (a new sentence: "20.02.2024. Onset 10:12" keeps its date)
_DATE_THEN_TIME = re.compile(
    r"[ \t]*[,;]?(?:[ \t]*[^\W\d_A-ZА-ЯΑ-Ω][^\W\d_]{0,4}(?![^\W\d_])\.?){0,3}[ \t]*"
    r"(?<![\d:])(\d{1,2})[:.](\d{2})(?![\d:.,]\d)(?:[ \t]*(?:h|hod\.?|ч\.?|godz\.?|Uhr)(?![^\W\d_]))?"
)
_CLOCK_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")


def with_clock_time(text: str, start: int, end: int) -> int:
    """The end of a date span widened over the clock time written right after it, on the same line.

    Arrival and onset are date *and* time ("20.02.2024 o godz. 10:12", "06.05.2024 г. в 10:25"); a
    reader that stops at the date gives a datetime concept a date alone, which is the wrong value
    whatever the date. A span already holding a clock time, or one with no digit, is left as it is.
    """
    span = text[start:end]
    if not any(ch.isdigit() for ch in span) or _CLOCK_TIME.search(span):
        return end
    m = _DATE_THEN_TIME.match(text, end)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:  # "12.75" is no time of day
        return end
    return m.end()


def cuts_a_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` starts or ends inside a word (a letter on both sides of an edge).

    SentencePiece pieces split words anywhere, so a span may begin at "ява" of "поява"; no answer
    does. Digit/letter edges are word edges here ("12" of "12mg", "72" of "72letý"); numbers cut by
    a span are made whole by ``whole_numbers`` instead.
    """
    return _inside_word(text, start) or _inside_word(text, end)


def edge_span(text: str, start: int, end: int, params: DecodeParams) -> tuple[int, int] | None:
    """A candidate's final edges: trimmed (``params.trim``), numbers made whole (``params.whole_words``);
    None when nothing is left."""
    if params.trim:
        span = trim_span(text, start, end)
        if span is None:
            return None
        start, end = span
    elif start >= end:
        return None
    return whole_numbers(text, start, end) if params.whole_words else (start, end)


def acceptable_span(text: str, start: int, end: int, params: DecodeParams) -> bool:
    """Whether a (trimmed) span passes the word-edge, line-break and digit rules of ``params``."""
    if params.whole_words and cuts_a_word(text, start, end):
        return False
    if params.single_line and "\n" in text[start:end]:
        return False
    return not params.need_digit or any(ch.isdigit() for ch in text[start:end])


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def all_of(checks: Sequence[Callable[[int, int], bool]]) -> Callable[[int, int], bool] | None:
    """One ``accept`` for :func:`decode` from several (a span must pass each); None when there are none."""
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda start, end: all(check(start, end) for check in checks)


def decode(
    windows: Sequence[WindowLogits],
    text: str,
    params: DecodeParams,
    mentions: Sequence[Mention] | None = None,
    accept: Callable[[int, int], bool] | None = None,
) -> Decoded:
    """Best answer spans of one (question, context) pair from the raw logits of its windows.

    ``mentions``: when given, only spans that contain one of them (``Mention.named_by``) are
    candidates — an enumeration concept answers with a span naming one of its members; an empty
    sequence means the context names none, so there is no answer.
    ``accept``: when given, only spans ``(start, end)`` it accepts are candidates — a numeric concept
    answers with a span its value can be read from (``kgqa.values.normalise.readable_spans``).
    """
    if not windows:
        return Decoded(null_score=math.inf, spans=())
    null_score = min(float(w.start_logits[0]) + float(w.end_logits[0]) for w in windows)
    best: dict[tuple[int, int], float] = {}
    if mentions is not None and not mentions:
        windows = ()
    for window in windows:
        for start, end, score in _window_candidates(window, text, params, mentions):
            span = edge_span(text, start, end, params)
            if span is None or not acceptable_span(text, span[0], span[1], params):
                continue
            if mentions is not None and not any(m.named_by(*span) for m in mentions):
                continue
            if accept is not None and not accept(*span):
                continue
            # the same characters reached from several windows or token pairs: keep the best score
            if score > best.get(span, -math.inf):
                best[span] = score
    candidates = tuple(
        Span(start=s, end=e, score=score, null_score=null_score)
        for (s, e), score in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    chosen: list[Span] = []
    for cand in candidates:
        if cand.margin <= params.null_threshold or len(chosen) >= params.max_answers:
            break
        if any(_overlaps(cand, c) for c in chosen):
            continue
        chosen.append(cand)
    return Decoded(null_score=null_score, spans=tuple(chosen), candidates=candidates)
