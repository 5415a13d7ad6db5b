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
    note states one (arrival "at 10:40" on the admission day).
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
            log.warning("%s: a date without time, written as xsd:date instead of xsd:dateTime", where)
            return Literal(value.isoformat(), datatype=XSD.date)
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
