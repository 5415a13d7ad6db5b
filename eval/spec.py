"""Helpers the note files of the independent set write their gold values with.

A fact is ``(concept_id, surface, value)`` or ``(concept_id, surface, value, occurrence)``:

* ``surface`` is the exact text of the span. When the same text occurs elsewhere, write a longer
  context with the span in double brackets, ``"mRS previo [[2]]"``: the context is found in the note
  and the bracketed part becomes the span. ``occurrence`` (1-based) picks among repeated contexts.
* ``value`` is canonical, as kgqa's gold format wants it: int/float, ``True``/``False``, an
  enumeration member id, ``D(...)``/``DT(...)`` for dates and datetimes. Laboratory values written
  in mg/dL are converted here (``glucose_mgdl``, ``cholesterol_mgdl``), never by the values stage.
"""

from __future__ import annotations

import datetime as dt

#: g/mol used to turn mg/dL into the catalogue's mmol/L (glucose C6H12O6; cholesterol C27H46O)
GLUCOSE_G_PER_MOL = 180.156
CHOLESTEROL_G_PER_MOL = 386.65


def D(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


def DT(iso: str) -> dt.datetime:
    """``"2024-03-07 08:02"`` -> datetime (the minute is the resolution notes write)."""
    return dt.datetime.fromisoformat(iso)


def _mmol(mg_dl: float, g_per_mol: float) -> float:
    # mg/dL -> mmol/L: x 10 (dL -> L) / molar mass; 3 decimals, as the values stage rounds conversions
    return round(mg_dl * 10 / g_per_mol, 3)


def glucose_mgdl(mg_dl: float) -> float:
    return _mmol(mg_dl, GLUCOSE_G_PER_MOL)


def cholesterol_mgdl(mg_dl: float) -> float:
    return _mmol(mg_dl, CHOLESTEROL_G_PER_MOL)
