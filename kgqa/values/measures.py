"""Scores, blood pressure, quantities with units and durations read from a span.

Each reader returns a :class:`Measure` (value, offsets in the span, unit as written) or a reason
string. Numbers that belong to a date or a clock time in the span are never taken as the value
("NIHSS 8 at 14:35 on 12.3." is 8), and a score's denominator is not its value ("8/42" is 8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kgqa.values import dates
from kgqa.values.numbers import Number, find_numbers, is_approximate, read_quantity
from kgqa.values.units import convert, is_alias, to_pint


@dataclass(frozen=True)
class Measure:
    value: float
    start: int
    end: int
    unit: str | None = None  # as written in the note, if any
    approximate: bool = False
    low: float | None = None
    high: float | None = None


#: names a scale goes by in notes, per catalogue ``extra.score_scale``
SCALE_NAMES: Mapping[str, tuple[str, ...]] = {
    "NIHSS": ("NIHSS", "NIH SS", "NIH-SS", "NIHSS score", "NIH"),
    "mRS": (
        "mRS",
        "MRS",
        "mRankin",
        "Rankin",
        "modified Rankin",
        "Ранкин",
        "Rankina",
        "Rankinovy škály",
        "Rankinova",
    ),
    "GCS": ("GCS", "Glasgow", "ГКС", "Глазгоу", "Γλασκώβης", "Glasgowské škály"),
    "ASPECTS": ("ASPECTS", "ASPECT", "ASPECT score"),
    "Hunt-Hess": (
        "Hunt-Hess",
        "Hunt and Hess",
        "Hunt & Hess",
        "Hunt a Hess",
        "Hunt i Hess",
        "Hunt y Hess",
        "H&H",
        "HH",
    ),
}
#: "points" after a score, all 7 languages ("8 b.", "8 т.", "8 pkt", "8 βαθμοί")
_POINTS_RE = re.compile(
    r"^\s*(?:points?|pts?\.?|p\.|b\.|bod[ůuy]?|т\.|точки|точка|pkt\.?|punkt(?:y|ów)?|puntos?|ptos?\.?|puncte|pct\.?|"
    r"βαθμοί|βαθμούς|βαθμό|β\.)(?!\w)",
    re.IGNORECASE,
)
_FRACTION_RE = re.compile(r"(?<![\d.,])(\d{1,3})\s*/\s*(\d{1,3})(?![\d.,]\d)")
_UNIT_AFTER_RE = re.compile(
    r"^\s*((?:[^\W\d_]|[%°µμ'])[^\s\d,;()\[\]]*(?:\s?/\s?[^\W\d_][^\s\d,;()]*)?(?:\s?[^\W\d_]{1,3}\.)?)"
)
_BP_RE = re.compile(r"(?<![\d.,])(\d{2,3})\s*/\s*(\d{2,3})(?![\d.,]\d)")


_COLON_TIME_RE = re.compile(r"(?<![\d.,:])(?:[01]?\d|2[0-3]):[0-5]\d(?![\d.,]\d)")


def _masked(text: str, scores: bool) -> list[tuple[int, int]]:
    """Spans of ``text`` that are dates or clock times (their digits are not values).

    For measurements ("7.40 mmol/l", "5.6.") only unambiguous dates and colon times are masked:
    a dotted "7.40" or "5.6." is a decimal there. For scores, which are whole numbers, "12.3."
    (a day and month) and "14.35" (a time) are masked too.
    """
    patterns = [dates._ISO_RE, dates._DMY_RE, _COLON_TIME_RE]
    if scores:
        patterns += [dates._DM_RE, dates._TIME_RE]
    return [(m.start(), m.end()) for rx in patterns for m in rx.finditer(text)]


def _free_numbers(text: str, lang: str, scores: bool = False) -> list[Number]:
    masks = _masked(text, scores)
    return [n for n in find_numbers(text, lang) if not any(s <= n.start < e for s, e in masks)]


def read_score(text: str, lang: str, scale: str | None, maximum: float | None) -> Measure | str:
    """A score: after the scale's name, before "points", as "x/max", else the first free number."""
    nums = _free_numbers(text, lang, scores=True)
    if not nums:
        return "no number in the span"
    for m in _FRACTION_RE.finditer(text):
        if maximum is not None and float(m.group(2)) == maximum:
            return Measure(float(m.group(1)), m.start(1), m.end(1))
    names = SCALE_NAMES.get(scale or "", ())
    for name in sorted(names, key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE):
            for n in nums:
                gap = text[m.end() : n.start]
                # "NIHSS 8", "NIHSS: 8", "NIHSS score was 8" — a few filler words, no other number between
                if n.start >= m.end() and not re.search(r"\d", gap) and len(gap.split()) <= 3:
                    return _with_range(text, n, nums)
    for n in nums:
        if _POINTS_RE.match(text[n.end :]):
            return _with_range(text, n, nums)
    return _with_range(text, nums[0], nums)


def _with_range(text: str, n: Number, nums: list[Number]) -> Measure:
    """``n`` as a measure, widened to a range when the span says "8-10" (but not "8/42")."""
    rest = [x for x in nums if x.start >= n.start]
    r = read_quantity(
        text[n.start :], numbers=[Number(x.value, x.start - n.start, x.end - n.start, x.text) for x in rest]
    )
    approx = is_approximate(text[: n.start])
    if r is not None and r.is_range:
        return Measure(r.value, n.start, n.start + r.end, approximate=True, low=r.low, high=r.high)
    return Measure(n.value, n.start, n.end, approximate=approx)


#: a span that is one half of a pair written in the note: "180" of "180/95" ends before "/95" ...
_PAIR_AFTER = re.compile(r"^\s*/\s*\d{2,3}(?![\d.,]\d)")
#: ... and "95" starts after "180/"
_PAIR_BEFORE = re.compile(r"(?<![\d.,])\d{2,3}\s*/\s*$")


def read_blood_pressure(text: str, lang: str, part: str, before: str = "", after: str = "") -> Measure | str:
    """The systolic or diastolic half of "180/95" in the span; else its one number.

    ``before``/``after`` are the note's characters around the span: a lone number that is the
    other half of a pair in the note ("180" of "180/95" asked as the diastolic) is refused; a lone
    number anywhere else ("diastolic 72 mmHg") is what the question asked for.
    """
    m = _BP_RE.search(text)
    if m:
        group = 1 if part == "systolic" else 2
        return Measure(
            float(m.group(group)), m.start(group), m.end(group), unit=_unit_after(text[m.end() :], "mmHg")
        )
    nums = _free_numbers(text, lang)
    if not nums:
        return "no number in the span"
    n = nums[0] if part == "systolic" else nums[-1]
    if part == "diastolic" and n is nums[0] and _PAIR_AFTER.match(text[n.end :] + after):
        return "the number is the systolic half of a pair (x/y): not read as diastolic"
    if part == "systolic" and n is nums[-1] and _PAIR_BEFORE.search(before + text[: n.start]):
        return "the number is the diastolic half of a pair (x/y): not read as systolic"
    return Measure(
        n.value,
        n.start,
        n.end,
        unit=_unit_after(text[n.end :], "mmHg"),
        approximate=is_approximate(text[: n.start]),
    )


def _unit_after(rest: str, target: str | None = None, molar_mass: float | None = None) -> str | None:
    """The unit written right after a number: the longest of its next 1-3 words that is a unit.

    A word pint happens to parse ("de" in "74 de ani") is taken only if it converts to the
    concept's unit; a spelling from :data:`~kgqa.values.units.ALIASES` is always taken, so a
    wrong unit ("5 %" for glucose) is rejected instead of silently ignored.
    """
    words = re.findall(r"[^\s\d,;()\[\]]+", rest[:40])
    if not words or not re.match(r"^\s*[^\s\d,;()\[\]]", rest):
        return None
    for n in (3, 2, 1):
        if len(words) < n:
            continue
        raw = " ".join(words[:n]).rstrip(".")
        for cand in (raw, raw + "."):
            if to_pint(cand) is None:
                continue
            if is_alias(cand):
                return cand
            if target is not None and convert(1.0, cand, target, molar_mass)[0] is not None:
                return cand
    return None


def read_quantity_with_unit(
    text: str, lang: str, target: str | None = None, molar_mass: float | None = None
) -> Measure | str:
    """The first free number (or range) of the span with the unit written after it, if it is one."""
    nums = _free_numbers(text, lang)
    if not nums:
        return "no number in the span"
    meas = _with_range(text, nums[0], nums)
    unit = _unit_after(text[meas.end :], target, molar_mass)
    return Measure(meas.value, meas.start, meas.end, unit, meas.approximate, meas.low, meas.high)


def to_canonical(meas: Measure, unit: str | None, molar_mass: float | None) -> Measure | str:
    """``meas`` in the concept's unit (a measure without a unit is taken to be in it already)."""
    if unit is None or meas.unit is None:
        return meas
    conv = []
    for v in (meas.value, meas.low, meas.high):
        if v is None:
            conv.append(None)
            continue
        out, reason = convert(v, meas.unit, unit, molar_mass)
        if out is None:
            return f"{reason} (unit written: {meas.unit!r})"
        conv.append(out)
    return Measure(conv[0], meas.start, meas.end, meas.unit, meas.approximate, conv[1], conv[2])


# ------------------------------------------------------------------------------------------ durations

_HMM_RE = re.compile(r"(?<![\d.,:])(\d{1,2}):([0-5]\d)(?![\d:])")
_PAIR_RE = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s*('|′|[^\W\d_][^\s\d,;()]*)?", re.UNICODE)


def read_minutes(text: str, lang: str) -> Measure | str:
    """A duration in minutes: "45 min", "1 h 20 min", "1:20 h", "1,5 hod", "90'" or a bare number."""
    m = _HMM_RE.search(text)
    if m and not re.search(
        r"(?<!\w)(?:at|v|в|o|a las|la|στις|um|godz\.?)\s*$", text[: m.start()], re.IGNORECASE
    ):
        return Measure(int(m.group(1)) * 60 + int(m.group(2)), m.start(), m.end())
    total, start, end, approx, seen = 0.0, None, None, False, False
    for pm in _PAIR_RE.finditer(text):
        value = float(pm.group(1).replace(",", "."))
        unit = pm.group(2)
        minutes: float | None
        if unit in ("'", "′"):
            minutes = value
        elif unit:
            minutes, _ = convert(value, unit.rstrip("."), "minute")
            if minutes is None:
                minutes, _ = convert(value, unit, "minute")
            if minutes is None:
                continue  # a number with some other word after it ("2 boluses")
        else:
            minutes = value if not seen else None
            if minutes is None:
                continue
        total += minutes
        seen = True
        start = pm.start() if start is None else start
        end = pm.end()
    if not seen:
        return "no duration in the span"
    r = read_quantity(text, lang)
    if r is not None and r.is_range:
        return Measure(r.value, r.start, r.end, approximate=True, low=r.low, high=r.high)
    approx = is_approximate(text)
    return Measure(total, start or 0, end or len(text), approximate=approx)
