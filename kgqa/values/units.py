"""Units with pint: parse a unit written in a note, convert to the concept's canonical unit.

Clinical notes write units the way clinicians do ("mmol/l", "mg/dl", "mm Hg", "ml", "min",
"мг", "мл", "мин"); :data:`ALIASES` maps those spellings onto pint names, everything else is
pint's own parser. Mass concentrations (mg/dL) convert to molar ones (mmol/L) with the
analyte's molar mass from the concept (``extra.molar_mass_g_per_mol``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import pint

#: note spellings (lower-cased, spaces removed) -> pint unit expression
ALIASES: Mapping[str, str] = {
    "mmol/l": "mmol/L",
    "mmol/л": "mmol/L",
    "ммол/л": "mmol/L",
    "mmol": "mmol/L",
    "mg/dl": "mg/dL",
    "мг/дл": "mg/dL",
    "mg%": "mg/dL",
    "mg/100ml": "mg/dL",
    "g/l": "g/L",
    "г/л": "g/L",
    "mmhg": "mmHg",
    "mm/hg": "mmHg",
    "ммhg": "mmHg",
    "ммрт.ст.": "mmHg",
    "ммрт.ст": "mmHg",
    "mmrt.st.": "mmHg",
    "torr": "mmHg",
    "mg": "mg",
    "мг": "mg",
    "μg": "µg",
    "mcg": "µg",
    "g": "g",
    "г": "g",
    "ml": "mL",
    "мл": "mL",
    "cm3": "mL",
    "cm³": "mL",
    "cc": "mL",
    "l": "L",
    "л": "L",
    "min": "minute",
    "min.": "minute",
    "mins": "minute",
    "minutes": "minute",
    "minute": "minute",
    "мин": "minute",
    "мин.": "minute",
    "минути": "minute",
    "minut": "minute",
    "minuty": "minute",
    "minuten": "minute",
    "minutos": "minute",
    "minuto": "minute",
    "minute.": "minute",
    "λεπτά": "minute",
    "λ": "minute",
    "λεπτό": "minute",
    "h": "hour",
    "hod": "hour",
    "hod.": "hour",
    "hodin": "hour",
    "hodiny": "hour",
    "hodina": "hour",
    "hr": "hour",
    "hrs": "hour",
    "hours": "hour",
    "hour": "hour",
    "ч": "hour",
    "ч.": "hour",
    "часа": "hour",
    "час": "hour",
    "ώρα": "hour",
    "ώρες": "hour",
    "ω": "hour",
    "horas": "hour",
    "hora": "hour",
    "godz": "hour",
    "godz.": "hour",
    "godzin": "hour",
    "godziny": "hour",
    "godzina": "hour",
    "ore": "hour",
    "oră": "hour",
    "ora": "hour",
    "s": "second",
    "sec": "second",
    "сек": "second",
    "y": "year",
    "yr": "year",
    "years": "year",
    "year": "year",
    "let": "year",
    "roků": "year",
    "lat": "year",
    "años": "year",
    "ani": "year",
    "години": "year",
    "г.": "year",
    "ετών": "year",
    "έτη": "year",
    "%": "percent",
    "kg": "kg",
    "кг": "kg",
    "cm": "cm",
    "см": "cm",
}

_SPACE_RE = re.compile(r"\s+")


@functools.lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """One shared registry (building it takes a moment)."""
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def to_pint(text: str) -> pint.Unit | None:
    """The pint unit for a unit as written in a note, or None when it is not a unit pint knows."""
    key = _SPACE_RE.sub("", text.strip()).lower()
    expr = ALIASES.get(key, text.strip())
    try:
        unit = registry().parse_units(expr)
    except (
        pint.errors.UndefinedUnitError,
        pint.errors.DefinitionSyntaxError,
        AttributeError,
        TypeError,
        ValueError,
        AssertionError,
        KeyError,
    ):
        return None
    return unit


def is_alias(text: str) -> bool:
    """Is ``text`` one of the note spellings kgqa knows as a unit (not just something pint parses)?"""
    return _SPACE_RE.sub("", text.strip()).lower() in ALIASES


def check_unit(text: str) -> str | None:
    """None when ``text`` is a unit pint parses, else the problem (used to validate the catalogue)."""
    if to_pint(text) is None:
        return (
            f"{text!r} is not a unit pint knows (use pint spellings, e.g. mmol/L, mmHg, mg, mL, minute, year)"
        )
    return None


def convert(
    magnitude: float, from_unit: str, to_unit: str, molar_mass: float | None = None
) -> tuple[float | None, str | None]:
    """``magnitude from_unit`` in ``to_unit``: (value, None) or (None, reason)."""
    src, dst = to_pint(from_unit), to_pint(to_unit)
    if src is None:
        return None, f"unknown unit {from_unit!r}"
    if dst is None:
        return None, f"unknown canonical unit {to_unit!r}"
    q = registry().Quantity(magnitude, src)
    try:
        return float(q.to(dst).magnitude), None
    except pint.errors.DimensionalityError:
        pass
    if molar_mass:
        # mass concentration <-> amount concentration: divide/multiply by the molar mass (g/mol)
        mm = registry().Quantity(molar_mass, "g/mol")
        for candidate in (q / mm, q * mm):
            try:
                return float(candidate.to(dst).magnitude), None
            except pint.errors.DimensionalityError:
                continue
    return None, f"cannot convert {from_unit!r} to {to_unit!r}"
