"""Decoding on hand-made logits: a table of situations utils_qa-style decoding must get right."""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from kgqa.qa.decoding import DecodeParams, WindowLogits, cuts_a_word, decode, whole_numbers
from kgqa.values.enums import Mention

TEXT = "NIHSS 8 on admission; alteplase and aspirin given (door-to-needle 38 min)."
#: context tokens: words and single punctuation marks, as (start, end) offsets
TOKENS: list[tuple[int, int]] = [m.span() for m in re.finditer(r"\w+|[^\w\s]", TEXT)]
WORDS = [TEXT[s:e] for s, e in TOKENS]
QUESTION_TOKENS = 3  # <s> q </s> before the context, as in a real window
LOW = -10.0


def tok(word: str, nth: int = 0) -> int:
    """Index of the nth context token equal to ``word``."""
    return [i for i, w in enumerate(WORDS) if w == word][nth]


@dataclass
class Win:
    """A window over context tokens [first, last) with logits set per context token index."""

    first: int = 0
    last: int = len(TOKENS)
    cls: tuple[float, float] = (0.0, 0.0)
    starts: dict[int, float] = field(default_factory=dict)
    ends: dict[int, float] = field(default_factory=dict)

    def build(self) -> WindowLogits:
        offsets = [None] * QUESTION_TOKENS + TOKENS[self.first : self.last] + [None]
        start = np.full(len(offsets), LOW)
        end = np.full(len(offsets), LOW)
        start[0], end[0] = self.cls
        for i, v in self.starts.items():
            start[QUESTION_TOKENS + i - self.first] = v
        for i, v in self.ends.items():
            end[QUESTION_TOKENS + i - self.first] = v
        return WindowLogits(start, end, offsets)


def span_text(start: int, end: int) -> str:
    return TEXT[start:end]


CASES = [
    # (id, windows, params, expected answer texts)
    ("span beats null", [Win(starts={tok("8"): 3}, ends={tok("8"): 3})], DecodeParams(), ["8"]),
    ("null wins", [Win(cls=(4, 4), starts={tok("8"): 3}, ends={tok("8"): 3})], DecodeParams(), []),
    (
        "threshold keeps a margin of 2",
        [Win(cls=(2, 2), starts={tok("8"): 3}, ends={tok("8"): 3})],
        DecodeParams(null_threshold=1.9),
        ["8"],
    ),
    (
        "threshold drops a margin of 2",
        [Win(cls=(2, 2), starts={tok("8"): 3}, ends={tok("8"): 3})],
        DecodeParams(null_threshold=2.1),
        [],
    ),
    (
        # the best start lies after the best end: the decoder must pair valid indices, not argmaxes
        "best valid pair, not the argmaxes",
        [Win(starts={tok("aspirin"): 5, tok("alteplase"): 4}, ends={tok("alteplase"): 5, tok("aspirin"): 1})],
        DecodeParams(),
        ["alteplase"],
    ),
    *[
        (
            f"max_answer_tokens={limit}",
            [Win(starts={tok("alteplase"): 5, tok("aspirin"): 1}, ends={tok("given"): 5, tok("aspirin"): 2})],
            DecodeParams(max_answer_tokens=limit),
            [expected],
        )
        for limit, expected in [
            (4, "alteplase and aspirin given"),  # 5 + 5
            (3, "alteplase and aspirin"),  # 5 + 2 beats "aspirin given" 1 + 5
            (2, "aspirin given"),
            (1, "aspirin"),
        ]
    ],
    (
        "list concept: several non-overlapping answers, best first",
        [Win(starts={tok("alteplase"): 3, tok("aspirin"): 4}, ends={tok("alteplase"): 3, tok("aspirin"): 4})],
        DecodeParams(max_answers=5),
        ["aspirin", "alteplase"],
    ),
    (
        "single concept gets one answer only",
        [Win(starts={tok("alteplase"): 3, tok("aspirin"): 4}, ends={tok("alteplase"): 3, tok("aspirin"): 4})],
        DecodeParams(max_answers=1),
        ["aspirin"],
    ),
    (
        # "alteplase and aspirin" (8) overlaps both single drugs: once it is taken they are not
        "overlapping candidates are de-duplicated",
        [Win(starts={tok("alteplase"): 4, tok("aspirin"): 1}, ends={tok("aspirin"): 4, tok("alteplase"): 1})],
        DecodeParams(max_answers=5),
        ["alteplase and aspirin"],
    ),
    (
        "list answers below the threshold are not padded in",
        [
            Win(
                cls=(1, 1),
                starts={tok("alteplase"): 3, tok("aspirin"): 0.5},
                ends={tok("alteplase"): 3, tok("aspirin"): 0.5},
            )
        ],
        DecodeParams(max_answers=5),
        ["alteplase"],
    ),
    (
        # window 1 ends inside "door-to-needle 38 min"; window 2 holds it whole and scores it higher
        "best span crosses a stride boundary: the window that holds it whole wins",
        [
            Win(last=tok("needle") + 1, starts={tok("door"): 2}, ends={tok("needle"): 2}),
            Win(first=tok("aspirin"), starts={tok("door"): 3}, ends={tok("min"): 3}),
        ],
        DecodeParams(max_answers=1),
        ["door-to-needle 38 min"],
    ),
    (
        "edges are trimmed of punctuation and brackets",
        [Win(starts={tok("("): 3}, ends={tok("."): 3})],
        DecodeParams(),
        ["door-to-needle 38 min"],
    ),
    (
        "a span of punctuation only is no answer",
        [Win(starts={tok(";"): 6}, ends={tok(";"): 6}, cls=(-1, -1))],
        DecodeParams(),
        [],
    ),
]


@pytest.mark.parametrize("windows,params,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decoding_table(windows: Sequence[Win], params: DecodeParams, expected: list[str]) -> None:
    decoded = decode([w.build() for w in windows], TEXT, params)
    assert [span_text(s.start, s.end) for s in decoded.spans] == expected
    for s in decoded.spans:
        assert s.margin > params.null_threshold


def test_null_score_is_the_minimum_over_windows() -> None:
    windows = [Win(last=10, cls=(3, 4)), Win(first=5, cls=(-1, 0.5)), Win(first=8, cls=(2, 2))]
    decoded = decode([w.build() for w in windows], TEXT, DecodeParams())
    assert decoded.null_score == pytest.approx(-0.5)
    assert all(s.null_score == pytest.approx(-0.5) for s in decoded.candidates)


def test_scores_are_raw_logit_sums_comparable_across_windows() -> None:
    windows = [Win(last=tok("and"), starts={tok("8"): 1.25}, ends={tok("8"): 2.0}), Win(first=tok("and"))]
    decoded = decode([w.build() for w in windows], TEXT, DecodeParams())
    assert decoded.spans[0].score == pytest.approx(3.25)


def test_n_best_bounds_the_candidates_per_window() -> None:
    rng = np.random.default_rng(0)
    window = Win().build()
    window = WindowLogits(
        rng.normal(size=len(window.offsets)), rng.normal(size=len(window.offsets)), window.offsets
    )
    few = decode([window], TEXT, DecodeParams(n_best=3, trim=False))
    many = decode([window], TEXT, DecodeParams(n_best=50, trim=False))
    assert len(few.candidates) == 3
    assert few.candidates == many.candidates[:3]


def test_candidates_match_an_exhaustive_search() -> None:
    """The vectorised search finds exactly the best valid span a brute force finds."""
    rng = np.random.default_rng(1)
    for _ in range(20):
        window = Win(first=2, last=len(TOKENS) - 2).build()
        start, end = rng.normal(size=len(window.offsets)), rng.normal(size=len(window.offsets))
        decoded = decode(
            [WindowLogits(start, end, window.offsets)], TEXT, DecodeParams(max_answer_tokens=4, trim=False)
        )
        best = max(
            (start[i] + end[j], i, j)
            for i, o in enumerate(window.offsets)
            for j, p in enumerate(window.offsets)
            if o is not None and p is not None and 0 <= j - i < 4
        )
        top = decoded.candidates[0]
        assert (top.start, top.end) == (window.offsets[best[1]][0], window.offsets[best[2]][1])
        assert top.score == pytest.approx(best[0])


def test_no_windows_means_no_answer() -> None:
    decoded = decode([], TEXT, DecodeParams())
    assert decoded.spans == () and math.isinf(decoded.null_score)


def test_window_without_context_tokens_gives_no_candidates() -> None:
    offsets = [None] * 6
    decoded = decode(
        [WindowLogits(np.zeros(6), np.zeros(6), offsets)], TEXT, DecodeParams(null_threshold=-100)
    )
    assert decoded.spans == ()


def subword_window(text: str, pieces: Sequence[tuple[int, int]], best: tuple[int, int], runner_up: tuple[int, int]):
    """A window over hand-cut pieces of ``text``; ``best`` and ``runner_up`` are (first, last) piece indices."""
    offsets = [None] + list(pieces) + [None]
    start, end = np.full(len(offsets), LOW), np.full(len(offsets), LOW)
    start[0], end[0] = 0.0, 0.0
    start[1 + best[0]], end[1 + best[1]] = 5.0, 5.0
    start[1 + runner_up[0]], end[1 + runner_up[1]] = 3.0, 3.0
    return WindowLogits(start, end, offsets)


@pytest.mark.parametrize(
    ("text", "pieces", "best", "runner_up", "whole_words", "expected"),
    [
        # SentencePiece cut "поява" into "по" + "ява": a span starting at "ява" is never an answer
        ("поява 140/80", [(0, 2), (2, 5), (6, 9), (9, 10), (10, 12)], (1, 1), (2, 4), True, "140/80"),
        ("поява 140/80", [(0, 2), (2, 5), (6, 9), (9, 10), (10, 12)], (1, 1), (2, 4), False, "ява"),
        # ending inside a word ("κατά" cut as "κα" + "τά") is as wrong as starting inside one
        ("Πίεση κατά", [(0, 5), (6, 8), (8, 10)], (0, 1), (0, 0), True, "Πίεση"),
        # a digit-letter edge is a word edge: "12" of "12mg" stays
        ("12mg daily", [(0, 2), (2, 4), (5, 10)], (0, 0), (2, 2), True, "12"),
        # a number cut by the best span is made whole: "183/6" of "183/63", "14" of "14,8", "29.8" of "29.8.2023"
        ("TK 183/63.", [(0, 2), (3, 6), (6, 7), (7, 8), (8, 9), (9, 10)], (1, 3), (1, 4), True, "183/63"),
        ("TK 183/63.", [(0, 2), (3, 6), (6, 7), (7, 8), (8, 9), (9, 10)], (1, 3), (1, 4), False, "183/6"),
        ("Glu 14,8 mmol", [(0, 3), (4, 6), (6, 7), (7, 8), (9, 13)], (1, 1), (1, 3), True, "14,8"),
        ("do 29.8.2023", [(0, 2), (3, 5), (5, 6), (6, 7), (7, 8), (8, 12)], (1, 3), (1, 5), True, "29.8.2023"),
        # a slash between numbers is an edge: the diastolic "63" of "183/63" is a whole number
        ("TK 183/63.", [(0, 2), (3, 6), (6, 7), (7, 9), (9, 10)], (3, 3), (1, 1), True, "63"),
    ],
)
def test_spans_begin_and_end_at_word_edges(text, pieces, best, runner_up, whole_words, expected) -> None:
    window = subword_window(text, pieces, best, runner_up)
    decoded = decode([window], text, DecodeParams(whole_words=whole_words))
    assert [text[s.start : s.end] for s in decoded.spans] == [expected]


def test_numeric_concepts_need_a_digit_in_their_span() -> None:
    text = "Glucose normal, 5.4 mmol/L"
    pieces = [(0, 7), (8, 14), (14, 15), (16, 19), (20, 26)]
    window = subword_window(text, pieces, best=(1, 1), runner_up=(3, 3))
    one_token = DecodeParams(max_answer_tokens=1)
    assert [text[s.start : s.end] for s in decode([window], text, one_token).spans] == ["normal"]
    with_digit = decode([window], text, DecodeParams(max_answer_tokens=1, need_digit=True))
    assert [text[s.start : s.end] for s in with_digit.spans] == ["5.4"]
    # the margin is the digit span's own, so thresholds compare like with like
    assert with_digit.spans[0].margin == pytest.approx(6.0)
    # no likely span with a digit: no answer rather than a wordy one
    nothing = subword_window(text, pieces, best=(0, 0), runner_up=(1, 1))
    assert decode([nothing], text, DecodeParams(need_digit=True)).spans == ()
    assert decode([nothing], text, DecodeParams()).spans != ()


def cut_pieces(text: str, longer_than: int) -> list[tuple[int, int]]:
    """Word and punctuation pieces, words longer than ``longer_than`` cut in two, as SentencePiece does."""
    pieces = []
    for m in re.finditer(r"\w+|[^\w\s]", text):
        s, e = m.span()
        cut = s + (e - s) // 2 if e - s > longer_than else e
        pieces += [(s, cut), (cut, e)] if cut < e else [(s, e)]
    return pieces


def test_constrained_search_matches_a_brute_force() -> None:
    """With the word-edge and digit rules, the top span is the best *valid* span of a brute force."""
    text = "Systolický tlak 160/95 mmHg,\nglykémie 7,2 mmol/l\na NIHSS 12 bodů při přijetí."
    offsets = [None, None] + cut_pieces(text, longer_than=3) + [None]
    rng = np.random.default_rng(3)
    for _ in range(30):
        start, end = rng.normal(size=len(offsets)), rng.normal(size=len(offsets))
        params = DecodeParams(max_answer_tokens=5, trim=False, need_digit=True, n_best=5)
        decoded = decode([WindowLogits(start, end, offsets)], text, params)
        valid = [
            (start[i] + end[j], *whole_numbers(text, o[0], p[1]))  # "7" of "7,2" answers "7,2"
            for i, o in enumerate(offsets)
            for j, p in enumerate(offsets)
            if o is not None and p is not None and 0 <= j - i < 5
            and not cuts_a_word(text, o[0], p[1])
            and any(ch.isdigit() for ch in text[o[0] : p[1]])
            and "\n" not in text[o[0] : p[1]]
        ]
        best = max(valid)
        top = decoded.candidates[0]
        assert (top.start, top.end) == best[1:] and top.score == pytest.approx(best[0])
        assert len(decoded.candidates) == len({v[1:] for v in sorted(valid, reverse=True)[:5]})


def test_spans_do_not_cross_line_breaks() -> None:
    text = "Onset 12:20.\nDoor time 14:23"
    pieces = [(0, 5), (6, 11), (11, 12), (13, 17), (18, 22), (23, 28)]
    # the model's favourite runs from the onset time over the line break to the door time
    window = subword_window(text, pieces, best=(1, 5), runner_up=(5, 5))
    assert [text[s.start : s.end] for s in decode([window], text, DecodeParams()).spans] == ["14:23"]
    across = decode([window], text, DecodeParams(single_line=False))
    assert [text[s.start : s.end] for s in across.spans] == ["12:20.\nDoor time 14:23"]


def test_enumeration_answers_must_name_a_member() -> None:
    text = "Transported by ZRM, sex: female, aged 67"
    pieces = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    words = [text[s:e] for s, e in pieces]
    zrm, female = words.index("ZRM"), words.index("female")
    window = subword_window(text, pieces, best=(zrm, zrm), runner_up=(female, female))
    female_mention = Mention(text.index("female"), text.index("female") + len("female"))
    assert [text[s.start : s.end] for s in decode([window], text, DecodeParams()).spans] == ["ZRM"]
    # the best span holding the mention runs from the favourite's start ("ZRM, sex: female": 5 + 3)
    named = decode([window], text, DecodeParams(), [female_mention])
    assert [text[s.start : s.end] for s in named.spans] == ["ZRM, sex: female"]
    named = decode([window], text, DecodeParams(max_answer_tokens=3), [female_mention])
    assert [text[s.start : s.end] for s in named.spans] == ["female"]
    assert named.spans[0].margin == pytest.approx(6.0)  # its own margin, not the favourite's
    # every candidate contains the mention
    assert named.candidates and all(c.start <= female_mention.start and female_mention.end <= c.end for c in named.candidates)
    # the note names no member: no answer, whatever the logits
    assert decode([window], text, DecodeParams(), []).spans == ()
    assert decode([window], text, DecodeParams(), []).candidates == ()


def test_accept_keeps_only_spans_it_accepts_and_their_own_margins() -> None:
    text = "Glucose 13,9 mmol/l, aged 72"
    pieces = [m.span() for m in re.finditer(r"\d+,\d+|\w+|[^\w\s]", text)]
    words = [text[s:e] for s, e in pieces]
    glucose, age = words.index("13,9"), words.index("72")
    # the model's favourite for the age question is the glucose value
    window = subword_window(text, pieces, best=(glucose, glucose), runner_up=(age, age))
    params = DecodeParams(max_answer_tokens=1)
    assert [text[s.start : s.end] for s in decode([window], text, params).spans] == ["13,9"]
    asked: list[str] = []

    def whole_number(start: int, end: int) -> bool:
        asked.append(text[start:end])
        return text[start:end].isdigit()

    decoded = decode([window], text, params, accept=whole_number)
    assert [text[s.start : s.end] for s in decoded.spans] == ["72"]
    assert decoded.spans[0].margin == pytest.approx(6.0)  # the runner-up's own margin
    assert all(text[c.start : c.end].isdigit() for c in decoded.candidates)
    assert "13,9" in asked  # the favourite was asked and refused
    # nothing acceptable: no answer
    assert decode([window], text, params, accept=lambda s, e: False).spans == ()


def test_one_letter_members_must_be_the_whole_span() -> None:
    text = "Sex: M. Mild deficit"
    pieces = [(0, 3), (3, 4), (5, 6), (6, 7), (8, 12), (13, 20)]
    # the model prefers "Sex: M", which contains "M" but names no member ("M" alone does)
    window = subword_window(text, pieces, best=(0, 2), runner_up=(2, 2))
    m = Mention(5, 6, whole=True)
    decoded = decode([window], text, DecodeParams(n_best=3), [m])
    assert [text[s.start : s.end] for s in decoded.spans] == ["M"]
    assert all((c.start, c.end) == (5, 6) for c in decoded.candidates)


def test_member_search_matches_a_brute_force() -> None:
    text = "Dg: stroke, ischemic type (IS); prior haemorrhagic stroke excluded"
    offsets = [None, None] + cut_pieces(text, longer_than=4) + [None]
    mentions = [Mention(4, 20), Mention(27, 29, whole=True), Mention(38, 57)]
    rng = np.random.default_rng(5)
    for _ in range(30):
        start, end = rng.normal(size=len(offsets)), rng.normal(size=len(offsets))
        params = DecodeParams(max_answer_tokens=8, trim=False, n_best=3)
        decoded = decode([WindowLogits(start, end, offsets)], text, params, mentions)
        valid = [
            (start[i] + end[j], o[0], p[1])
            for i, o in enumerate(offsets)
            for j, p in enumerate(offsets)
            if o is not None and p is not None and 0 <= j - i < 8
            and not cuts_a_word(text, o[0], p[1])
            and any(m.named_by(o[0], p[1]) for m in mentions)
        ]
        best = max(valid)
        top = decoded.candidates[0]
        assert (top.start, top.end) == best[1:] and top.score == pytest.approx(best[0])



def test_line_rule_applies_to_the_trimmed_span() -> None:
    """A raw span ".\r\nThe patient was admitted with" is the one-line answer "The patient was admitted with"
    once trimmed: it must win over a worse span (the rule used to run before trimming and drop it)."""
    text = "Stroke.\r\nThe patient was admitted with aphasia"
    pieces = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    words = [text[s:e] for s, e in pieces]
    dot, with_, aphasia = words.index("."), words.index("with"), words.index("aphasia")
    window = subword_window(text, pieces, best=(dot, with_), runner_up=(aphasia, aphasia))
    params = DecodeParams(max_answer_tokens=10)
    assert [text[s.start : s.end] for s in decode([window], text, params).spans] == ["The patient was admitted with"]
    # a span whose words lie on both sides of the break stays out, trimmed or not
    window = subword_window(text, pieces, best=(0, with_), runner_up=(aphasia, aphasia))
    assert [text[s.start : s.end] for s in decode([window], text, params).spans] == ["aphasia"]


@pytest.mark.parametrize("seed", range(20))
def test_line_prefilter_agrees_with_the_exact_check_after_trimming(seed) -> None:
    """Random logits over text full of breaks, bullets and punctuation: the best candidate equals a brute
    force over every span (trimmed first, then every rule checked exactly)."""
    rng = np.random.default_rng(seed)
    text = "- NIHSS: 8.\r\n• (alteplase) —\n\n“12 mg”; door 38 min.\nmRS 2 –\u200b\nok"
    pieces = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    offsets = [None, *pieces, None]
    start, end = rng.normal(size=len(offsets)), rng.normal(size=len(offsets))
    params = DecodeParams(max_answer_tokens=6, n_best=400, null_threshold=-math.inf)
    decoded = decode([WindowLogits(start, end, offsets)], text, params)
    from kgqa.qa.decoding import acceptable_span, edge_span

    best: dict[tuple[int, int], float] = {}
    for i in range(1, len(offsets) - 1):
        for j in range(i, min(i + params.max_answer_tokens, len(offsets) - 1)):
            span = edge_span(text, offsets[i][0], offsets[j][1], params)
            if span is None or not acceptable_span(text, *span, params):
                continue
            best[span] = max(best.get(span, -math.inf), start[i] + end[j])
    expected = max(best.items(), key=lambda kv: (kv[1], -kv[0][0]))
    top = decoded.candidates[0]
    assert (top.start, top.end) == expected[0] and top.score == pytest.approx(expected[1])
    assert len(decoded.candidates) == len(best)


@pytest.mark.parametrize(
    "text, date, expected",
    [
        ("SOR 20.02.2024 o godz. 10:12. Objawy", "20.02.2024", "20.02.2024 o godz. 10:12"),
        ("ЦСМП на 06.05.2024 г. в 10:25 ч. Оплаквания", "06.05.2024", "06.05.2024 г. в 10:25 ч."),
        ("desde la residencia el 03-02-2025 a las 13:10 por", "03-02-2025", "03-02-2025 a las 13:10"),
        ("από ΕΚΑΒ 22/8/2024, 19:05 λόγω", "22/8/2024", "22/8/2024, 19:05"),
        ("προσήλθε στις 18/11/2024 ώρα 23:10 με", "18/11/2024", "18/11/2024 ώρα 23:10"),
        ("přijat dne 5.11.2024 v 10:20 náhle", "5.11.2024", "5.11.2024 v 10:20"),
        ("llega el 20.02.2024 a las 9.30 h.", "20.02.2024", "20.02.2024 a las 9.30 h"),
        # not widened: a new sentence, a long word between, a number that is no time, a span holding a time
        ("on 20.02.2024. Onset 10:12", "20.02.2024", "20.02.2024"),
        ("Alta 25/05/2024 a domicilio. 10:00", "25/05/2024", "25/05/2024"),
        ("admitted 12.07.2024, dose 12.75 mg", "12.07.2024", "12.07.2024"),
        ("admitted 12.07.2024\n10:12 CT", "12.07.2024", "12.07.2024"),
        ("on 20.02.2024 10:12 and 11:40", "20.02.2024 10:12", "20.02.2024 10:12"),
        ("arrived yesterday at 10:12", "yesterday", "yesterday"),
    ],
)
def test_with_clock_time_widens_a_date_over_the_time_after_it(text, date, expected) -> None:
    from kgqa.qa.decoding import with_clock_time

    start = text.index(date)
    assert text[start : with_clock_time(text, start, start + len(date))] == expected
