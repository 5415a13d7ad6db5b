"""Answer span + concept + note -> typed :class:`~kgqa.types.Value` (pure; never raises).

Dispatch is a registry from value kind to reader; each reader returns a Value. Afterwards the
assertion status (``assertion.detect``) is attached, booleans that are negated become False, and
numeric values are checked against the concept's range: out-of-range values are kept as REJECTED
with the reason, never dropped silently and never emitted as OK.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal

from kgqa.linking.normalise import fold
from kgqa.types import Answer, Assertion, Concept, Note, Value, ValueKind, ValueStatus
from kgqa.values import assertion as assertion_mod
from kgqa.values import context, dates, enums, measures, timepoint
from kgqa.values import topic as topic_mod

log = logging.getLogger(__name__)

XSD = "http://www.w3.org/2001/XMLSchema#"


class _Ctx:
    """What a reader needs: the span text, its offset in the note, the concept and the note."""

    def __init__(self, answer: Answer, concept: Concept, note: Note) -> None:
        self.text = answer.text
        self.offset = answer.start
        self.concept = concept
        self.note = note
        self.lang = note.lang

    def unparsed(self, reason: str) -> Value:
        return Value(
            kind=self.concept.kind,
            value=None,
            status=ValueStatus.UNPARSED,
            reason=f"{self.concept.id}: {reason}",
            datatype=self.concept.datatype,
        )

    def number(self, meas: measures.Measure, unit: str | None = None) -> Value:
        c = self.concept
        integral = c.kind in (ValueKind.INTEGER, ValueKind.DURATION)
        value: int | Decimal
        if integral:
            if not float(meas.value).is_integer() and not meas.approximate and c.kind is ValueKind.INTEGER:
                return Value(
                    kind=c.kind,
                    value=Decimal(str(meas.value)),
                    status=ValueStatus.REJECTED,
                    reason=f"{c.id}: {meas.value:g} is not a whole number",
                    datatype=c.datatype,
                    unit=unit,
                    source_start=self.offset + meas.start,
                    source_end=self.offset + meas.end,
                )
            value = round(meas.value)
        else:
            # rounded to 3 decimals: pint conversions leave float noise ("6.66089...")
            value = Decimal(str(round(meas.value, 3))).normalize()
        return Value(
            kind=c.kind,
            value=value,
            unit=unit,
            datatype=c.datatype,
            source_start=self.offset + meas.start,
            source_end=self.offset + meas.end,
            approximate=meas.approximate,
            low=meas.low,
            high=meas.high,
        )


# ----------------------------------------------------------------------------------------- readers


def _numeric(ctx: _Ctx) -> Value:
    c = ctx.concept
    extra = c.extra
    if extra.get("blood_pressure"):
        end = ctx.offset + len(ctx.text)
        meas = measures.read_blood_pressure(
            ctx.text,
            ctx.lang,
            str(extra["blood_pressure"]),
            before=ctx.note.text[max(0, ctx.offset - 8) : ctx.offset],
            after=ctx.note.text[end : end + 8],
        )
    elif extra.get("score_scale") or (c.unit is None and c.kind is ValueKind.INTEGER):
        meas = measures.read_score(ctx.text, ctx.lang, extra.get("score_scale"), c.maximum)
    elif c.kind is ValueKind.DURATION:
        meas = measures.read_minutes(ctx.text, ctx.lang)
        if isinstance(meas, str):
            return ctx.unparsed(meas)
        return ctx.number(meas, c.unit)
    else:
        meas = measures.read_quantity_with_unit(ctx.text, ctx.lang, c.unit, extra.get("molar_mass_g_per_mol"))
    if isinstance(meas, str):
        return ctx.unparsed(meas)
    reason = None
    if c.unit and meas.unit is None and extra.get("molar_mass_g_per_mol"):
        meas, reason = _unitless_concentration(meas, c)
    if c.unit:
        converted = measures.to_canonical(meas, c.unit, extra.get("molar_mass_g_per_mol"))
        if isinstance(converted, str):
            return Value(
                kind=c.kind,
                value=None,
                status=ValueStatus.REJECTED,
                reason=f"{c.id}: {converted}",
                datatype=c.datatype,
                source_start=ctx.offset + meas.start,
                source_end=ctx.offset + meas.end,
            )
        meas = converted
    value = ctx.number(meas, c.unit)
    return replace(value, reason=reason) if reason and value.ok else value


#: the other unit a concentration is written in without its unit ("Glu 169"): mg/dL
_MASS_CONCENTRATION = "mg/dL"


def _unitless_concentration(meas: measures.Measure, c: Concept) -> tuple[measures.Measure, str | None]:
    """A bare number for a molar concentration: in the concept's unit, unless only mg/dL makes it possible.

    "Glu 169" is no glucose of 169 mmol/L (range [0.5, 60]) but is 9.4 mmol/L read as mg/dL, the
    unit half the world writes it in. A number possible in both units ("Glu 12") stays in the
    concept's unit.
    """
    lo = c.minimum if c.minimum is not None else float("-inf")
    hi = c.maximum if c.maximum is not None else float("inf")
    if lo <= meas.value <= hi:
        return meas, None
    as_mass = replace(meas, unit=_MASS_CONCENTRATION)
    converted = measures.to_canonical(as_mass, c.unit, c.extra.get("molar_mass_g_per_mol"))
    if isinstance(converted, str) or not lo <= converted.value <= hi:
        return meas, None
    return as_mass, (
        f"{c.id}: no unit written; {meas.value:g} {c.unit} is impossible, read as {meas.value:g} {_MASS_CONCENTRATION}"
    )


def _date(ctx: _Ctx) -> Value:
    try:
        part = dates.find_date(
            ctx.text, ctx.lang, ctx.note.admission_date, ctx.concept.extra.get("date_direction")
        )
    except dates.DateError as exc:
        return ctx.unparsed(str(exc))
    if part is None:
        return ctx.unparsed("no date in the span")
    return Value(
        kind=ValueKind.DATE,
        value=part.date,
        datatype=XSD + "date",
        source_start=ctx.offset + part.start,
        source_end=ctx.offset + part.end,
        reason=f"completed {part.completed} from the admission date" if part.completed else None,
    )


def _time(ctx: _Ctx) -> Value:
    part = dates.find_time(ctx.text)
    if part is None:
        return ctx.unparsed("no clock time in the span")
    return Value(
        kind=ValueKind.TIME,
        value=part.time,
        datatype=XSD + "time",
        source_start=ctx.offset + part.start,
        source_end=ctx.offset + part.end,
    )


#: how far before a bare time its clause may name the day ("večer předtím ve 22:00")
LEAD_IN_CHARS = 60


def _lead_in(ctx: _Ctx) -> str:
    """The words of the span's clause just before it: back to a comma, semicolon, line or sentence end."""
    before = ctx.note.text[max(0, ctx.offset - LEAD_IN_CHARS) : ctx.offset]
    if ctx.note.text[ctx.offset : ctx.offset + len(ctx.text)] != ctx.text:
        return ""  # an answer that does not slice this note has no context
    cut = max(before.rfind(","), before.rfind(";"), before.rfind("\n"), before.rfind(". "))
    return before[cut + 1 :]


def _datetime(ctx: _Ctx) -> Value:
    time_part = dates.find_time(ctx.text)
    # read the date from the span with the time blanked out, so "12.3. 14:35" cannot misread 14.35
    blanked = ctx.text
    if time_part is not None:
        blanked = (
            ctx.text[: time_part.start] + " " * (time_part.end - time_part.start) + ctx.text[time_part.end :]
        )
    try:
        date_part = dates.find_date(
            blanked, ctx.lang, ctx.note.admission_date, ctx.concept.extra.get("date_direction")
        )
    except dates.DateError as exc:
        return ctx.unparsed(str(exc))
    if date_part is None and time_part is None:
        return ctx.unparsed("no date or time in the span")
    if time_part is None:
        assert date_part is not None
        # a date without a time: kept as a date, never given an invented midnight
        return Value(
            kind=ValueKind.DATE,
            value=date_part.date,
            datatype=XSD + "date",
            source_start=ctx.offset + date_part.start,
            source_end=ctx.offset + date_part.end,
            reason="no time in the span: kept as a date"
            + (f"; completed {date_part.completed} from the admission date" if date_part.completed else ""),
        )
    completed = date_part.completed if date_part else "date"
    if date_part is None:
        if ctx.note.admission_date is None:
            return ctx.unparsed("a time without a date and the note has no admission date")
        day = ctx.note.admission_date
        # "naposledy viděn v pořádku večer předtím ve [22:00]": the day is named just before the time
        shift = dates.relative_day(_lead_in(ctx))
        if shift:
            day += dt.timedelta(days=shift)
            completed = f"date ({shift:+d} day)"
        start, end = time_part.start, time_part.end
    else:
        day = date_part.date
        start, end = min(date_part.start, time_part.start), max(date_part.end, time_part.end)
    return Value(
        kind=ValueKind.DATETIME,
        value=dt.datetime.combine(day, time_part.time),
        datatype=XSD + "dateTime",
        source_start=ctx.offset + start,
        source_end=ctx.offset + end,
        reason=f"completed {completed} from the admission date" if completed else None,
    )


def _boolean(ctx: _Ctx) -> Value:
    said = enums.yes_no(ctx.text, ctx.lang)
    value = True if said is None else said
    return Value(
        kind=ValueKind.BOOLEAN,
        value=value,
        datatype=XSD + "boolean",
        assertion=Assertion.PRESENT if value else Assertion.NEGATED,
        source_start=ctx.offset,
        source_end=ctx.offset + len(ctx.text),
    )


def _members(ctx: _Ctx) -> Value:
    c = ctx.concept
    text = ctx.text.strip()
    hit = enums.match_member(ctx.text, c.members, ctx.lang) if c.members else None
    if hit is None and c.members:
        hit_by_number = _member_by_number(ctx)
        if hit_by_number is not None:
            return hit_by_number
    if hit is None:
        # no exact label: keep the text for the linker (it links fuzzily within the concept's scope)
        return Value(
            kind=c.kind,
            value=" ".join(text.split()),
            datatype=XSD + "string",
            source_start=ctx.offset,
            source_end=ctx.offset + len(ctx.text),
        )
    member, _label = hit
    literal = member.extra.get("literal")
    return Value(
        kind=c.kind,
        value=literal if literal is not None else member.id,
        member_iri=member.iri,
        datatype=XSD + "string",
        source_start=ctx.offset,
        source_end=ctx.offset + len(ctx.text),
    )


def _member_by_number(ctx: _Ctx) -> Value | None:
    """Members defined by a numeric band (stenosis 50-70 %, TIA < 10 min): pick the band the number is in."""
    c = ctx.concept
    bands = [(m, m.extra) for m in c.members if any(k.startswith(("min_", "max_")) for k in m.extra)]
    if not bands:
        return None
    minutes = any(k.endswith("_minutes") for _, e in bands for k in e)
    meas = (
        measures.read_minutes(ctx.text, ctx.lang)
        if minutes
        else measures.read_quantity_with_unit(ctx.text, ctx.lang)
    )
    if isinstance(meas, str):
        return None
    suffix = "_minutes" if minutes else "_percent"
    for member, e in bands:
        lo, hi = e.get("min" + suffix, float("-inf")), e.get("max" + suffix, float("inf"))
        if lo <= meas.value <= hi:
            return Value(
                kind=c.kind,
                value=member.extra.get("literal", member.id),
                member_iri=member.iri,
                datatype=XSD + "string",
                source_start=ctx.offset + meas.start,
                source_end=ctx.offset + meas.end,
                approximate=meas.approximate,
            )
    return Value(
        kind=c.kind,
        value=None,
        status=ValueStatus.REJECTED,
        datatype=XSD + "string",
        reason=f"{c.id}: {meas.value:g} is in none of the member bands",
        source_start=ctx.offset + meas.start,
        source_end=ctx.offset + meas.end,
    )


def _text(ctx: _Ctx) -> Value:
    return Value(
        kind=ValueKind.TEXT,
        value=" ".join(ctx.text.split()),
        datatype=XSD + "string",
        source_start=ctx.offset,
        source_end=ctx.offset + len(ctx.text),
    )


#: value kind -> reader
READERS: Mapping[ValueKind, Callable[[_Ctx], Value]] = {
    ValueKind.INTEGER: _numeric,
    ValueKind.DECIMAL: _numeric,
    ValueKind.DURATION: _numeric,
    ValueKind.DATE: _date,
    ValueKind.TIME: _time,
    ValueKind.DATETIME: _datetime,
    ValueKind.BOOLEAN: _boolean,
    ValueKind.ENUM: _members,
    ValueKind.DRUG: _members,
    ValueKind.TEXT: _text,
}


# ----------------------------------------------------------------------------------------- checks


def check_range(value: Value, concept: Concept) -> Value:
    """REJECTED (with the reason) when a numeric value lies outside the concept's [minimum, maximum]."""
    if not value.ok or concept.kind not in (ValueKind.INTEGER, ValueKind.DECIMAL, ValueKind.DURATION):
        return value
    if not isinstance(value.value, (int, float, Decimal)) or isinstance(value.value, bool):
        return value
    v = float(value.value)
    lo, hi = concept.minimum, concept.maximum
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        rng = f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
        unit = f" {concept.unit}" if concept.unit else ""
        return replace(
            value,
            status=ValueStatus.REJECTED,
            reason=f"{concept.id}: {v:g}{unit} is outside the allowed range {rng}",
        )
    return value


def check_term(value: Value, text: str, concept: Concept) -> Value:
    """REJECTED when the span names only other terms of the concept's scheme.

    "Was clopidogrel prescribed?" answered with "apixaban 5 mg" is an answer to another question:
    read as a boolean it would state that clopidogrel was prescribed. A span naming the concept's own
    term (or one under it), or naming no term at all ("prescribed", "yes"), passes.
    """
    if not value.ok or not concept.rival_term_names:
        return value
    key = f" {fold(text)} "
    if any(f" {name} " in key for name in concept.term_names):
        return value
    rival = next((name for name in concept.rival_term_names if f" {name} " in key), None)
    if rival is None:
        return value
    return replace(
        value,
        status=ValueStatus.REJECTED,
        reason=f"{concept.id}: the answer names {rival!r}, another term than the concept's <{concept.extra.get('term', '')}>",
    )


#: catalogue groups whose concepts are drugs: a drug stopped ("klopidogrel odstawiony") is not taken
_MEDICATION_GROUPS = frozenset({"prestroke_medication", "discharge_medication"})


def assertion_topic(concept: Concept) -> str | None:
    """What ``concept`` is about, for :func:`kgqa.values.assertion.detect`'s topic-specific cues.

    Drugs ("medication") and procedures ("procedure": the catalogue's ``pattern: procedure``) are
    negated by a contraindication; drugs also by a discontinuation; a finding ("finding": ``pattern:
    situation``, the risk factors) is not denied by its treatment being withheld.
    """
    if concept.group in _MEDICATION_GROUPS:
        return "medication"
    pattern = str(concept.extra.get("pattern", ""))
    if pattern.startswith("procedure"):
        return "procedure"
    if pattern == "situation":
        return "finding"
    return None


def _assertion(answer: Answer, concept: Concept, note: Note) -> tuple[Assertion, bool]:
    """The span's assertion status, and whether a negation cue lies inside the span itself."""
    topic = assertion_topic(concept)
    if note.text[answer.start : answer.end] == answer.text:
        status, _ = assertion_mod.detect(note.text, answer.start, answer.end, note.lang, topic)
    else:  # an answer that does not slice this note: judge the span alone
        status, _ = assertion_mod.detect(answer.text, 0, len(answer.text), note.lang, topic)
    # a negation the span itself holds ("όχι ΔΛ", "IVT nepodána"): the span read on its own is negated
    cue_inside = status is Assertion.NEGATED and (
        assertion_mod.detect(answer.text, 0, len(answer.text), note.lang, topic)[0] is Assertion.NEGATED
    )
    if status is Assertion.HISTORICAL and concept.extra.get("history_expected"):
        # risk factors and pre-stroke medication are history by definition
        return Assertion.PRESENT, cue_inside
    return status, cue_inside


#: where the clause a span opens ends: "Nu are FiA." goes on after "Nu", "Trombektomia: nie." does not
_CLAUSE_END = re.compile(r"[.,;:\n(]")
TAIL_CHARS = 40


def _tail(ctx: _Ctx) -> str:
    """The rest of the span's clause after it (at most TAIL_CHARS characters)."""
    end = ctx.offset + len(ctx.text)
    if ctx.note.text[ctx.offset : end] != ctx.text:
        return ""
    after = ctx.note.text[end : end + TAIL_CHARS]
    stop = _CLAUSE_END.search(after)
    return after[: stop.start()] if stop else after


def _content_words(text: str, ctx: _Ctx) -> bool:
    """Whether ``text`` holds a word of 3+ letters that is neither an assertion cue nor question scaffolding."""
    rest = enums.fold(assertion_mod.without_cues(text, ctx.lang, assertion_topic(ctx.concept))).split()
    return any(len(w) >= 3 and w.isalpha() and w not in topic_mod.GENERIC for w in rest)


def _stated(ctx: _Ctx, negation_inside: bool) -> bool | None:
    """Whether a yes/no span states its concept: True, False (a reason for not doing it), None (nothing)."""
    if topic_mod.mentions_topic(ctx.text, ctx.concept) or topic_mod.mentions_topic(_lead_in(ctx), ctx.concept):
        return True
    tail = _tail(ctx)
    if tail and topic_mod.mentions_topic(tail, ctx.concept):
        return True
    # a bare yes/no word or negation answers the question asked ("nepodána", "no"), unless it negates something
    # else ("nie pali" — does not smoke —, "brak LVO" deny nothing about antidiabetics or warfarin) or its clause
    # goes on about something else ("Nu" of "Nu are FiA", "Fără tratament" of "Fără tratament endovascular")
    if (topic_mod.is_yes_no(ctx.text, ctx.lang) or (negation_inside and not _content_words(ctx.text, ctx))) \
            and not _content_words(tail, ctx):
        return True
    if assertion_topic(ctx.concept) in ("procedure", "medication") and topic_mod.gives_reason(ctx.text, ctx.lang):
        return False
    return None


def normalise(answer: Answer, concept: Concept, note: Note) -> Value:
    """The typed value of ``answer`` for ``concept``; UNPARSED/REJECTED values carry the reason. Never raises."""
    try:
        ctx = _Ctx(answer, concept, note)
        value = READERS[concept.kind](ctx)
        status, negation_inside = _assertion(answer, concept, note)
        if concept.kind is ValueKind.BOOLEAN:
            stated = _stated(ctx, negation_inside)
            if stated is None:
                # a span naming only another drug says more than "nothing": it answers another question
                rival = check_term(value, answer.text, concept)
                if not rival.ok:
                    return rival
                return ctx.unparsed(
                    "the span states nothing about it (no mention of its topic, no yes/no word, "
                    "negation or reason)"
                )
            if stated is False:  # only a reason for not doing it: "due to late arrival"
                value = replace(value, value=False)
            if value.value is True and status is Assertion.NEGATED:
                value = replace(value, value=False)
            if value.value is False:
                status = Assertion.NEGATED
        value = replace(value, assertion=status)
        return check_term(check_range(value, concept), answer.text, concept)
    except Exception as exc:  # a batch must survive any one odd span; the reason says what broke
        log.warning(
            "value of %s in note %s could not be normalised: %s",
            concept.id,
            note.id,
            type(exc).__name__,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        return Value(
            kind=concept.kind,
            value=None,
            status=ValueStatus.UNPARSED,
            reason=f"{concept.id}: internal error {type(exc).__name__} while normalising",
        )


_CALENDAR_KINDS = frozenset({ValueKind.DATE, ValueKind.TIME, ValueKind.DATETIME})
_NUMERIC_KINDS = frozenset({ValueKind.INTEGER, ValueKind.DECIMAL, ValueKind.DURATION})
#: stands in for a missing admission date when :func:`readable_spans` judges whether a span holds a date
_ANY_ADMISSION_DATE = dt.date(2000, 6, 15)


def readable_spans(concept: Concept, note: Note) -> Callable[[int, int], bool]:
    """``accept(start, end)``: whether ``note.text[start:end]`` gives ``concept`` a valid value (``reader.value_span_kinds``).

    The reader asks it of its candidate spans so that a numeric concept answers with the best span the
    values stage can read and accept — "13,9" is no age, "205" no age either, "7" no mRS — instead of
    a best span that would only ever become a rejected fact while a valid runner-up is thrown away.
    Dates and times count as readable when they would be read given an admission date: a note
    without one still prefers "at 14:35" to "196/118" for an arrival time. A number must also fit
    its context (``context.fits_context``): "72/min", "SpO2 97", "BMI 31" are no age.
    """

    judged = note
    if concept.kind in _CALENDAR_KINDS and note.admission_date is None:
        # "at 14:35" or "24.12." is a readable time or date; only the note's missing admission date
        # keeps it from being completed, and that is no reason to prefer a span holding no date at all
        judged = replace(note, admission_date=_ANY_ADMISSION_DATE)

    @functools.cache
    def accept(start: int, end: int) -> bool:
        # a number beside another measurement's unit or label ("72/min", "SpO2 97") is not this one
        if concept.kind in _NUMERIC_KINDS and not context.fits_context(concept, note, start, end):
            return False
        # a score of the scale, written at another time point ("Propuštěn … NIHSS 3" is no admission NIHSS)
        if not timepoint.fits_time_point(concept, note, start, end):
            return False
        # a discharge prescription read off the home medication, or a home drug off the discharge list
        if not timepoint.fits_medication_time(concept, note, start, end):
            return False
        answer = Answer(
            note_id=note.id, concept_id=concept.id, start=start, end=end, text=note.text[start:end],
            score=0.0, null_score=0.0, confidence=0.0, question="", question_lang=note.lang, rank=0,
        )
        return normalise(answer, concept, judged).ok

    return accept
