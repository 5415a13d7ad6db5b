"""Dates, times and datetimes in the seven languages' conventions.

Numeric dates are read by regex, day first (all seven languages write D.M.Y; ISO Y-M-D is
recognised by its 4-digit year first). Dates with month *names* ("24 декември 2023",
"12 Μαρτίου", "12. března 2024") go to ``dateparser`` restricted to the note's language, with
``REQUIRE_PARTS`` so it never fills a missing part from today's date.

Completion from the admission date (``Note.admission_date``), never from the clock:

* a date without a year ("24.12.") takes the year that puts it closest to admission
  (a 24.12. note for a 3 January admission is the previous December);
* a bare day ("on the 12th", "dne 12.") takes the month that puts it closest to admission;
* a time alone ("at 14:35") for a datetime concept takes the admission date.

Nothing is invented: without an admission date those stay unparsed (with the reason), and a
datetime concept whose span has only a date yields a DATE value, never a made-up midnight.
Two-digit years pivot at the reference year + 1 ("24" -> 2024, "98" -> 1998).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatePart:
    date: dt.date
    start: int
    end: int
    #: how much was completed from the admission date: "" (nothing), "year", "month+year", "date"
    completed: str = ""


@dataclass(frozen=True)
class TimePart:
    time: dt.time
    start: int
    end: int


# ----------------------------------------------------------------------------- times

_AMPM = r"(?P<ampm>a\.?\s?m\.?|p\.?\s?m\.?|π\.?\s?μ\.?|μ\.?\s?μ\.?)"
_TIME_RE = re.compile(
    r"(?<![\d.,:])(?P<h>[01]?\d|2[0-3])\s?(?:[:]|h|ч|\.(?=[0-5]\d(?![\d.,])))\s?(?P<m>[0-5]\d)(?![\d.,]\d)"
    r"(?::(?P<s>[0-5]\d))?(?:\s?" + _AMPM + r")?",
    re.IGNORECASE,
)
# "at 14 h", "в 14 ч.", "o godz. 14", "a las 14 h", "2 pm": an hour without minutes needs an hour word or am/pm
_HOUR_ONLY_RE = re.compile(
    r"(?<![\d.,:])(?P<h>[01]?\d|2[0-3])"
    r"(?:\s?(?:h|hod\.?|ч\.?|hrs?|uhr)(?!\w)|\s?" + _AMPM + r")",
    re.IGNORECASE,
)


# military/continental time without a separator, "0535h", "1202 hrs", "2130 hours": four digits need the
# hour word (a bare "1202" is as likely a year or a count)
_HHMM_RE = re.compile(r"(?<![\d.,:/-])(?P<h>[01]\d|2[0-3])(?P<m>[0-5]\d)\s?(?:h|hrs?|hours)(?!\w)", re.IGNORECASE)


# an hour without minutes or am/pm is a clock time only after a word that introduces one: "2 h" alone is a
# duration ("symptoms for 2 h", "arrived 2 h after onset"), "at 2 h" / "a las 14 h" / "в 14 ч." a time of day;
# a date right before it ("24.12. 14 h") counts as well
_CLOCK_CUE_RE = re.compile(
    r"(?:^|[^\w])(?:at|@|around|about|a\s+las?|hacia|sobre\s+las|v|ve|kolem|okolo|o|godz\.?|o\s+godz\.?|la|la\s+ora|"
    r"ora|в|към|около|στις|στη|περί|um)\s*$|\d[./]\s*$",
    re.IGNORECASE,
)


def _apply_ampm(hour: int, ampm: str | None) -> int | None:
    if not ampm:
        return hour
    pm = ampm.lower().replace(".", "").replace(" ", "") in ("pm", "μμ")
    if hour < 1 or hour > 12:
        return None
    if pm:
        return 12 if hour == 12 else hour + 12
    return 0 if hour == 12 else hour


def find_time(text: str) -> TimePart | None:
    """The first clock time in ``text`` (24-hour, 12-hour with am/pm / π.μ./μ.μ., or "0535h")."""
    m = _TIME_RE.search(text)
    if m:
        hour = _apply_ampm(int(m.group("h")), m.group("ampm"))
        if hour is not None:
            return TimePart(dt.time(hour, int(m.group("m")), int(m.group("s") or 0)), m.start(), m.end())
    m = _HHMM_RE.search(text)
    if m:
        return TimePart(dt.time(int(m.group("h")), int(m.group("m"))), m.start(), m.end())
    for m in _HOUR_ONLY_RE.finditer(text):
        if not m.group("ampm") and not _CLOCK_CUE_RE.search(text[max(0, m.start() - 16) : m.start()]):
            continue  # "2 h": a duration, not two o'clock
        hour = _apply_ampm(int(m.group("h")), m.group("ampm"))
        if hour is not None:
            return TimePart(dt.time(hour, 0), m.start(), m.end())
    return None


# ----------------------------------------------------------------------------- dates

_ISO_RE = re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
_DMY_RE = re.compile(
    r"(?<![\d.,])(?P<d>\d{1,2})\s?(?P<sep>[./-])\s?(?P<m>\d{1,2})\s?(?P=sep)\s?(?P<y>\d{4}|\d{2})(?![\d:])"
)
# "24.12." — a trailing dot marks a day-month date (not a decimal, not a time)
_DM_RE = re.compile(r"(?<![\d.,])(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.(?!\s?\d)")
_WORD_DATE_RE = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})(?:\.|-?(?:го|ти|ви|ри))?\s*(?:de\s+|του\s+)?(?P<mon>[^\W\d_]{3,}\.?)"
    r"(?:,?\s*(?:de\s+|del\s+)?(?P<y>\d{4}|\d{2})(?!\d|:))?"
    r"|(?P<mon2>[^\W\d_]{3,}\.?)\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?(?:,?\s*(?P<y2>\d{4}))?(?![\d:])",
    re.IGNORECASE,
)
# A bare day must end the span (or be followed by a time word): "dne 20.", "on the 12th at 14:35",
# but not "pe 3 zile" (after 3 days) or "the 3 doses".
_DAY_ONLY_RE = re.compile(
    r"(?:(?:on\s+)?the\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?|(?P<d2>\d{1,2})(?:st|nd|rd|th)"
    r"|(?:dne|dnia|el\s+día|el|pe|на|στις)\s+(?P<d3>\d{1,2})\.?)(?![\d.:,]?\d)"
    r"(?=\s*(?:$|[,;)]|\.(?:\s|$)|(?:at|v|ve|в|o|a\s+las|la|ora|στις|um)(?!\w)))",
    re.IGNORECASE,
)
_RELATIVE_DAYS = {
    0: ("today", "днес", "dnes", "σήμερα", "hoy", "dziś", "dzisiaj", "azi", "astăzi"),
    -1: (
        "yesterday", "вчера", "včera", "χθες", "χτες", "ayer", "wczoraj", "ieri",
        # "the night before" a morning admission: onset last seen well in the evening
        "the night before", "the evening before", "the day before", "the previous evening",
        "the previous night", "the previous day", "last night", "the night prior",
        "предната вечер", "предната нощ", "предния ден", "предишния ден", "предишната вечер",
        "večer předtím", "v noci předtím", "den předtím", "předchozí den", "předchozího dne",
        "předchozí večer", "předešlý večer",
        "το προηγούμενο βράδυ", "την προηγούμενη νύχτα", "την προηγούμενη ημέρα", "την προηγούμενη μέρα",
        "del día previo", "del día anterior", "el día previo", "el día anterior", "la noche anterior",
        "la noche previa", "la tarde anterior", "la víspera",
        "poprzedniego dnia", "poprzedniego wieczoru", "poprzedniej nocy", "dzień wcześniej",
        "wieczorem dnia poprzedniego",
        "cu o zi înainte", "seara precedentă", "seara anterioară", "noaptea precedentă",
        "ziua precedentă", "ziua anterioară", "în seara dinainte",
    ),
}


def relative_day(text: str) -> int | None:
    """The day offset from the admission date a relative phrase in ``text`` names ("the night before": -1)."""
    lowered = text.lower()
    for offset, words in _RELATIVE_DAYS.items():
        if any(_find_word(lowered, w) >= 0 for w in words):
            return offset
    return None


def two_digit_year(yy: int, reference_year: int) -> int:
    """A 2-digit year in the century that does not put it after reference_year + 1."""
    year = 2000 + yy
    return year if year <= reference_year + 1 else 1900 + yy


#: how far a completed date may fall on the "wrong" side of admission (a note written the day before)
SLACK_DAYS = 1


def _pick(candidates: list[dt.date], admission: dt.date, direction: str | None) -> dt.date | None:
    """The candidate closest to admission; ``after``/``before`` keep only those on that side (± slack)."""
    if direction == "after":
        candidates = [c for c in candidates if (c - admission).days >= -SLACK_DAYS] or candidates
    elif direction == "before":
        candidates = [c for c in candidates if (admission - c).days >= -SLACK_DAYS] or candidates
    return min(candidates, key=lambda c: abs((c - admission).days), default=None)


def closest_year(day: int, month: int, admission: dt.date, direction: str | None = None) -> dt.date | None:
    """The (day, month) in the year that puts it closest to the admission date (on ``direction``'s side)."""
    candidates = []
    for year in (admission.year - 1, admission.year, admission.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue
    return _pick(candidates, admission, direction)


def closest_month(day: int, admission: dt.date, direction: str | None = None) -> dt.date | None:
    """The day of month in the month (around admission) that puts it closest to the admission date."""
    candidates = []
    for delta in (-1, 0, 1):
        year, month = divmod(admission.year * 12 + admission.month - 1 + delta, 12)
        if day <= calendar.monthrange(year, month + 1)[1]:
            candidates.append(dt.date(year, month + 1, day))
    return _pick(candidates, admission, direction)


class DateError(ValueError):
    """A date that cannot be read or completed; the message is the reason kept in the value."""


def find_date(
    text: str, lang: str, admission: dt.date | None, direction: str | None = None
) -> DatePart | None:
    """The first date in ``text``; raises :class:`DateError` for a date that is invalid or cannot be completed.

    ``direction`` ("after" for discharge or treatment times, "before" for onset) says on which side
    of the admission date a completed date must fall; None takes the closest either way.
    """
    ref_year = admission.year if admission else dt.date.today().year
    m = _ISO_RE.search(text)
    if m:
        return DatePart(_make(int(m["y"]), int(m["m"]), int(m["d"]), m.group(0)), m.start(), m.end())
    m = _DMY_RE.search(text)
    if m:
        y = int(m["y"])
        if len(m["y"]) == 2:
            y = two_digit_year(y, ref_year)
        return DatePart(_make(y, int(m["m"]), int(m["d"]), m.group(0)), m.start(), m.end())
    m = _DM_RE.search(text)
    if m:
        day, month = int(m["d"]), int(m["m"])
        _make(2000, month, day, m.group(0))  # validates day/month (2000 is a leap year: 29.2. passes)
        if admission is None:
            raise DateError(f"date {m.group(0).strip()!r} has no year and the note has no admission date")
        date = closest_year(day, month, admission, direction)
        return DatePart(date, m.start(), m.end(), completed="year")  # type: ignore[arg-type]
    for m in _WORD_DATE_RE.finditer(text):
        part = _word_date(m, lang, admission, ref_year, direction)
        if part is not None:
            return part
    lowered = text.lower()
    for offset, words in _RELATIVE_DAYS.items():
        for w in words:
            i = _find_word(lowered, w)
            if i >= 0:
                if admission is None:
                    raise DateError(f"relative date {w!r} and the note has no admission date")
                return DatePart(admission + dt.timedelta(days=offset), i, i + len(w), completed="date")
    m = _DAY_ONLY_RE.search(text)
    if m:
        day = int(m["d1"] or m["d2"] or m["d3"])
        if admission is None:
            raise DateError(f"day {m.group(0).strip()!r} has no month and the note has no admission date")
        date = closest_month(day, admission, direction)
        if date is None:
            raise DateError(f"day {day} does not exist around the admission date")
        return DatePart(date, m.start(), m.end(), completed="month+year")
    return None


def _find_word(text: str, word: str) -> int:
    m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
    return m.start() if m else -1


def _make(y: int, m: int, d: int, raw: str) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise DateError(f"{raw.strip()!r} is not a valid date (day {d}, month {m}, year {y})") from None


@functools.lru_cache(maxsize=32)
def _parser(lang: str, require_year: bool):
    from dateparser.date import DateDataParser

    parts = ["day", "month", "year"] if require_year else ["day", "month"]
    # absolute dates only: "1 month" or "2 dny" must never become a date relative to some base
    settings = {
        "DATE_ORDER": "DMY",
        "REQUIRE_PARTS": parts,
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_TIME_AS_PERIOD": False,
        "RELATIVE_BASE": dt.datetime(2000, 1, 1),
        "PARSERS": ["absolute-time"],
    }
    return DateDataParser(languages=[lang], settings=settings)


def _word_date(
    m: re.Match, lang: str, admission: dt.date | None, ref_year: int, direction: str | None = None
) -> DatePart | None:
    day = m["d"] or m["d2"]
    mon = m["mon"] or m["mon2"]
    year = m["y"] or m["y2"]
    candidate = f"{day} {mon} {year}" if year else f"{day} {mon}"
    try:
        data = _parser(lang, bool(year)).get_date_data(candidate)
    except Exception:  # dateparser raises assorted errors on odd input; a miss is not a failure here
        log.debug("dateparser failed on a candidate date", exc_info=True)
        return None
    if data is None or data.date_obj is None:
        return None
    parsed = data.date_obj.date()
    if int(day) != parsed.day:  # dateparser read the number as something else
        return None
    if year:
        y = int(year)
        if len(year) == 2:
            y = two_digit_year(y, ref_year)
        return DatePart(_make(y, parsed.month, parsed.day, m.group(0)), m.start(), m.end())
    if admission is None:
        raise DateError(f"date {m.group(0).strip()!r} has no year and the note has no admission date")
    date = closest_year(parsed.day, parsed.month, admission, direction)
    return DatePart(date, m.start(), m.end(), completed="year")  # type: ignore[arg-type]
