"""Typed RDF literals from normalised values, written in canonical XSD lexical forms."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from rdflib import XSD, Literal, URIRef

from kgqa.types import Scalar

log = logging.getLogger(__name__)

_INTEGER_TYPES = {
    XSD.integer,
    XSD.int,
    XSD.long,
    XSD.short,
    XSD.nonNegativeInteger,
    XSD.positiveInteger,
}


def _decimal(value: Scalar) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        # repr gives the shortest decimal that round-trips, so 7.2 stays "7.2" not 7.2000000000000002
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _decimal_lexical(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text if "." in text else text + ".0"


def typed_literal(
    value: Scalar, datatype: URIRef, *, admission_date: dt.date | None = None, where: str = ""
) -> Literal | None:
    """``value`` as a literal of ``datatype``; None when it cannot be (the caller records why).

    A value that does not fit its declared datatype (7.2 for an xsd:integer concept — the RES-Q
    mappings type glucose that way) is written with the datatype it does fit, never truncated.
    A time of day for an xsd:dateTime concept is placed on the note's admission date when the
    note states one (arrival "at 10:40" on the admission day; see :func:`anchor_date`).
    A date without a time for an xsd:dateTime concept is written as the start of that day
    (``2026-03-01T00:00:00``): the RES-Q PLUS shapes accept only xsd:dateTime there, and an
    xsd:date would fail them and drop the fact from every query. The day is right and the time
    is not known; the evidence quote next to the fact shows that the note gave only a date.
    """
    if value is None:
        return None
    if datatype in _INTEGER_TYPES or datatype in (XSD.decimal, XSD.double, XSD.float):
        d = _decimal(value)
        if d is None or not d.is_finite():
            return None
        if datatype in _INTEGER_TYPES:
            if d == d.to_integral_value():
                return Literal(str(int(d)), datatype=datatype)
            log.warning("%s: value is not an integer, written as xsd:decimal instead of %s", where, datatype)
            return Literal(_decimal_lexical(d), datatype=XSD.decimal)
        if datatype == XSD.decimal:
            return Literal(_decimal_lexical(d), datatype=XSD.decimal)
        return Literal(repr(float(d)), datatype=datatype)
    if datatype == XSD.dateTime:
        if isinstance(value, dt.datetime):
            return Literal(value.isoformat(), datatype=XSD.dateTime)
        if isinstance(value, dt.time) and admission_date is not None:
            return Literal(dt.datetime.combine(admission_date, value).isoformat(), datatype=XSD.dateTime)
        if isinstance(value, dt.date):
            log.debug("%s: a date without time, written as the start of the day", where)
            return Literal(dt.datetime.combine(value, dt.time()).isoformat(), datatype=XSD.dateTime)
        if isinstance(value, dt.time):
            log.warning("%s: a time without date, written as xsd:time instead of xsd:dateTime", where)
            return Literal(value.isoformat(), datatype=XSD.time)
        return None
    if datatype == XSD.date:
        if isinstance(value, dt.datetime):
            return Literal(value.date().isoformat(), datatype=XSD.date)
        if isinstance(value, dt.date):
            return Literal(value.isoformat(), datatype=XSD.date)
        return None
    if datatype == XSD.time:
        if isinstance(value, dt.datetime):
            return Literal(value.timetz().isoformat(), datatype=XSD.time)
        if isinstance(value, dt.time):
            return Literal(value.isoformat(), datatype=XSD.time)
        return None
    if datatype == XSD.boolean:
        if isinstance(value, bool):
            return Literal("true" if value else "false", datatype=XSD.boolean)
        return None
    if datatype == XSD.string:
        return Literal(str(value))
    return Literal(str(value), datatype=datatype)


#: concepts whose date anchors a note's times of day when the note has no admission date: the day of
#: hospital arrival is the day a stroke note's "bolus at 10:40", "CT at 10:25" refer to; symptom onset
#: (often the same day) only when the arrival has no date
ANCHOR_CONCEPTS = ("hospital_timestamp", "onset_timestamp")


def anchor_date(admission_date: dt.date | None, dated: dict[str, Scalar]) -> dt.date | None:
    """The day a note's bare times of day are on: its admission date, else the date of its own arrival
    (or onset) fact. ``dated`` maps concept id -> the value of the note's asserted fact."""
    if admission_date is not None:
        return admission_date
    for concept_id in ANCHOR_CONCEPTS:
        value = dated.get(concept_id)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
    return None


def natural_literal(value: Scalar) -> Literal | None:
    """A literal in the datatype the Python value itself has (for evidence of unasserted facts)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return typed_literal(value, XSD.boolean)
    if isinstance(value, int):
        return typed_literal(value, XSD.integer)
    if isinstance(value, (float, Decimal)):
        return typed_literal(value, XSD.decimal)
    if isinstance(value, dt.datetime):
        return typed_literal(value, XSD.dateTime)
    if isinstance(value, dt.date):
        return typed_literal(value, XSD.date)
    if isinstance(value, dt.time):
        return typed_literal(value, XSD.time)
    return Literal(str(value))
