"""Numbers as clinicians write them: decimal commas or points, thousands separators, ranges, "about".

Every number is found by regex with its offsets in the span, so a value can point at the part of
the note it was read from ("180" in "180/95"). The decimal mark is decided per number:

* two kinds of separator ("1.234,5", "1,234.5"): the last one is the decimal mark;
* no-break/thin spaces, or several equal separators each followed by three digits ("1 234", "1.234.567"): thousands;
* one separator followed by exactly three digits: thousands when it is *not* the language's decimal mark
  (English "1,234" = 1234, Spanish "1.234" = 1234), decimal otherwise ("0,234", Czech "1,234");
* anything else is a decimal ("5,6" and "5.6" are both 5.6 in every language: notes mix them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: languages that write the decimal mark as a point (all others use a comma)
DECIMAL_POINT_LANGS = frozenset({"en"})

# Plain spaces never group thousands: "NIHSS 8 120/80" is two values. Only the typographic
# no-break/thin spaces do ("1\u202f234").
# A number may run into a word after it ("72letý", "8b.") but not out of one before it ("B01AC06").
_NUMBER_RE = re.compile(r"(?<![\w.,])\d+(?:[\u00a0\u202f]\d{3}(?!\d))*(?:[.,]\d+)*(?!\d)")

#: markers that make a value approximate, all 7 languages (lower-case)
APPROX_MARKERS = (
    "~",
    "≈",
    "±",
    "ca.",
    "ca",
    "circa",
    "approx.",
    "approx",
    "approximately",
    "about",
    "around",
    "roughly",
    "около",
    "приблизително",
    "към",
    "cca",
    "cca.",
    "asi",
    "přibližně",
    "zhruba",
    "kolem",
    "περίπου",
    "περ.",
    "aprox.",
    "aprox",
    "aproximadamente",
    "alrededor de",
    "unos",
    "unas",
    "około",
    "ok.",
    "mniej więcej",
    "aproximativ",
    "în jur de",
)
_APPROX_RE = re.compile(
    r"(?:(?<!\w)|^)(?:"
    + "|".join(re.escape(m) for m in sorted(APPROX_MARKERS, key=len, reverse=True))
    + r")(?!\w)",
    re.IGNORECASE,
)
_RANGE_SEP_RE = re.compile(r"^\s*(?:-|–|—|to|until|до|až|do|έως|ως|a|hasta|al|la|÷)\s*$", re.IGNORECASE)
_BETWEEN_RE = re.compile(
    r"(?<!\w)(?:between|между|mezi|μεταξύ|entre|między|pomiędzy|între)(?!\w)", re.IGNORECASE
)
_AND_RE = re.compile(r"^\s*(?:and|и|a|και|y|i|și|si)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Number:
    value: float
    start: int  # offsets into the text it was found in
    end: int
    text: str

    @property
    def is_integer(self) -> bool:
        return float(self.value).is_integer()


@dataclass(frozen=True)
class Reading:
    """A number read from a span: a single value, or a range (low, high) with its midpoint as value."""

    value: float
    start: int
    end: int
    approximate: bool = False
    low: float | None = None
    high: float | None = None

    @property
    def is_range(self) -> bool:
        return self.low is not None


def parse_number(text: str, lang: str = "en") -> float | None:
    """One number written with any of the usual separators, or None."""
    t = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    neg = t.startswith(("-", "−"))
    t = t.lstrip("-−").strip()
    if not re.fullmatch(r"\d+(?:[ .,]\d+)*", t):
        return None
    if " " in t:
        parts = t.split(" ")
        if not all(len(p) == 3 for p in parts[1:-1]) or len(re.match(r"\d+", parts[-1]).group(0)) != 3:
            return None
        t = "".join(parts)
    digits = re.split(r"[.,]", t)
    seps = re.findall(r"[.,]", t)
    if not seps:
        val = float(t)
    elif len(set(seps)) == 2:
        dec = seps[-1]
        if seps.count(dec) != 1:
            return None
        val = float(t.replace("." if dec == "," else ",", "").replace(dec, "."))
    elif len(seps) > 1:
        if not all(len(d) == 3 for d in digits[1:]):
            return None
        val = float("".join(digits))
    else:
        decimal_mark = "." if lang in DECIMAL_POINT_LANGS else ","
        if len(digits[1]) == 3 and seps[0] != decimal_mark and digits[0] != "0":
            val = float(digits[0] + digits[1])
        else:
            val = float(f"{digits[0]}.{digits[1]}")
    return -val if neg else val


def find_numbers(text: str, lang: str = "en") -> list[Number]:
    """All numbers in ``text`` with their offsets. A trailing "." or "," is punctuation ("8.", "8, mRS 3")."""
    out = []
    for m in _NUMBER_RE.finditer(text):
        val = parse_number(m.group(0), lang)
        if val is not None:
            out.append(Number(value=val, start=m.start(), end=m.end(), text=m.group(0)))
    return out


def is_approximate(text: str) -> bool:
    return _APPROX_RE.search(text) is not None


def read_quantity(text: str, lang: str = "en", numbers: list[Number] | None = None) -> Reading | None:
    """The value a span states: its first number, or a range "8-10"/"between 8 and 10" as the midpoint."""
    nums = find_numbers(text, lang) if numbers is None else numbers
    if not nums:
        return None
    first = nums[0]
    approx = is_approximate(text[: first.start])
    if len(nums) >= 2:
        second = nums[1]
        between = text[first.end : second.start]
        if _RANGE_SEP_RE.match(between) or (
            _AND_RE.match(between) and _BETWEEN_RE.search(text[: first.start])
        ):
            lo, hi = sorted((first.value, second.value))
            return Reading(
                value=(lo + hi) / 2, start=first.start, end=second.end, approximate=True, low=lo, high=hi
            )
    return Reading(value=first.value, start=first.start, end=first.end, approximate=approx)
