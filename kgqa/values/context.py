"""Does a number sit next to its own label or unit, or next to another measurement's?

Issue 21 (item 5) found 27 spurious facts that were unrelated numbers of the right range: an age read
from a pulse ("72/min"), an SpO2 ("97 %") or a BMI, at ~0.99 confidence. Every such number carries
its own label or unit right beside it. :func:`fits_context` reads the few characters around a numeric
span the way a clinician does:

* a unit written right after the number decides: "72/min" is a pulse, "97 %" a saturation,
  "26 kg/m2" a BMI — a number in another family's unit is no answer (one in its own family's is);
* else the nearest label before it on the same line decides ("SpO2 97", "TK 182/96", "NIHSS 8"),
  unless another number stands between the label and the span (the label then belongs to that one);
* a number with neither ("Mrs K., 73, known AF") is not judged: it passes;
* the number a value is read from (a span's first) must not carry another family's unit ("24 h – 5"
  is no NIHSS), and a clock time ("door 08:02", "10:40 h") is no interval.

Families are named after what they measure; a concept's own family comes from its score scale, its
unit or its id (:func:`family_of`). The reader applies it through ``normalise.readable_spans``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from kgqa.types import Concept, Note, ValueKind

#: labels written before a number, per family (matched as whole words; case-insensitive, except labels
#: of at most three characters, which are abbreviations: "TA" is no Czech "ta", "T" no "t")
LABELS: Mapping[str, tuple[str, ...]] = {
    "pulse": (
        "pulse", "HR", "P", "heart rate", "puls", "tep", "TF", "tepová frekvence", "tętno", "пулс", "сърдечна честота",
        "σφύξεις", "σφ", "ΣΦ", "ΚΣ", "FC", "AV", "pulso", "tętno", "frecuencia cardiaca", "frecuencia cardíaca", "alura ventriculară",
    ),
    "saturation": ("SpO2", "SaO2", "SatO2", "Sat", "sat", "saturation", "saturace", "saturacja", "saturație",
                   "сатурация", "κορεσμός", "SpO₂"),
    "bmi": ("BMI", "IMC", "ИТМ", "ΔΜΣ", "body mass index"),
    "temperature": ("temp", "temperature", "teplota", "temperatura", "температура", "θερμοκρασία", "TT", "T",
                    "Tª", "t°"),
    "pressure": ("BP", "TA", "TK", "RR", "АН", "АП", "RR", "ΑΠ", "blood pressure", "tlak", "ciśnienie",
                 "кръвно налягане", "presión arterial", "tensiune arterială", "tensiunea arterială", "TAS", "TAD"),
    "glucose": ("glucose", "glycaemia", "glycemia", "glykémie", "glykemie", "glukóza", "glucemia", "glicemia",
                "glikemia", "glukoza", "glicemie", "glicemia", "кръвна захар", "кр. захар", "захар", "γλυκόζη",
                "σάκχαρο", "Glu", "BG", "BGL"),
    "cholesterol": ("cholesterol", "colesterol", "холестерол", "χοληστερόλη", "LDL", "LDL-C", "HDL"),
    "inr": ("INR",),
    "weight": ("weight", "hmotnost", "peso", "waga", "тегло", "βάρος", "greutate"),
    "nihss": ("NIHSS", "NIH SS", "NIH-SS"),
    "mrs": ("mRS", "Rankin"),
    "gcs": ("GCS", "Glasgow"),
    "aspects": ("ASPECTS",),
    "tici": ("TICI", "mTICI", "eTICI"),
    "age": ("age", "aged", "věk", "edad", "wiek", "vârsta", "vârstă", "възраст", "ηλικία"),
    # the door intervals are durations told apart by their label: "door-to-groin 74 min" is no door-to-needle
    "door_to_needle": ("door-to-needle", "door to needle", "DNT", "DTN", "врата–игла", "врата-игла", "врата игла",
                       "puerta-aguja", "puerta aguja", "ușă-ac", "usa-ac", "πόρτα-βελόνα", "πόρτα βελόνα",
                       "drzwi-igła", "door-to-needle time"),
    "door_to_groin": ("door-to-groin", "door to groin", "DGT", "DTG", "DPT", "door-to-puncture", "врата–слабина",
                      "врата-слабина", "puerta-ingle", "puerta-punción", "ușă-puncție", "πόρτα-βουβωνική",
                      "drzwi-pachwina"),
    "door_to_door": ("door-in-door-out", "door-to-door", "DIDO"),
}
#: families that are a kind of another: a unit of the parent ("74 min": a duration) says no more than
#: that, so the label before the number decides which one it is
PARENT: Mapping[str, str] = {"door_to_needle": "duration", "door_to_groin": "duration", "door_to_door": "duration"}
#: units written right after a number -> the families measured in them
UNITS: Mapping[str, frozenset[str]] = {
    unit: frozenset(families)
    for units, families in (
        (("/min", "/ min", "bpm", "min-1", "/мин", "уд/мин", "уд./мин", "b/min", "p/min", "/λεπτό", "pulsații/min"),
         ("pulse",)),
        (("%",), ("saturation",)),
        (("kg/m2", "kg/m²", "kg/m^2"), ("bmi",)),
        (("°C", "°", "℃", "st. C", "°c"), ("temperature",)),
        (("mmHg", "mm Hg", "torr"), ("pressure",)),
        (("mmol/l", "mmol/L", "mg/dl", "mg/dL", "mmol", "ммол/л", "mg%"), ("glucose", "cholesterol")),
        (("kg",), ("weight",)),
        (("cm",), ("height",)),
        (("mg", "мг", "μg", "µg", "mcg", "g", "ml", "мл", "IU", "UI", "j.", "tbl", "tbl."), ("dose",)),
        (("min", "min.", "mins", "minutes", "minutos", "minut", "minute", "мин", "мин.", "минути", "λεπτά", "λ",
          "h", "hod", "hod.", "hodin", "ч", "ч.", "часа", "godz", "godz.", "hours", "horas", "ore", "ώρες"),
         ("duration",)),
        (("days", "day", "dni", "dní", "dnů", "дни", "ημέρες", "días", "zile", "weeks", "týdnů", "semanas"),
         ("duration",)),
        (("lpm", "l/min", "lat/min", "уд/мин."), ("pulse",)),
        (("U/L", "UI/L", "IU/L", "g/dL", "g/L", "/mm3", "/µL", "mEq/L", "µmol/L", "umol/L"), ("lab",)),
        (("points", "point", "pts", "pt", "puntos", "bodů", "body", "b.", "pkt", "pkt.", "puncte", "точки", "т.",
          "βαθμοί"), ("nihss", "mrs", "gcs", "aspects", "tici")),
        (("cig", "cig.", "cigarettes", "цигари", "țigări", "τσιγάρα", "papierosów", "paq", "paquetes", "pack",
          "packs", "pack-years"), ("count",)),
        (("years", "year", "yrs", "yr", "y/o", "yo", "let", "letý", "letá", "roků", "años", "a.", "lat", "lata",
          "ani", "de ani", "години", "год.", "ετών", "χρονών"), ("age",)),
    )
    for unit in units
}

#: families written in pairs: "182/96", "NIHSS 12/42", "GCS 15/15", "mRS 2-3"
PAIRED = frozenset({"pressure", "nihss", "gcs", "mrs", "aspects", "tici", "duration"})

_NUMBER = re.compile(r"\d")
_WINDOW = 24  # characters looked at before the span: "SpO2 na vzduchu 97" still reads as a saturation


def family_of(concept: Concept) -> str | None:
    """The measurement family of a numeric concept, or None when it has none this module knows."""
    scale = concept.extra.get("score_scale")
    if scale:
        return str(scale).lower()
    if concept.extra.get("blood_pressure"):
        return "pressure"
    for family in ("glucose", "cholesterol"):
        if family in concept.id:
            return family
    if concept.id == "age" or concept.id.endswith("_age"):
        return "age"
    if concept.kind is ValueKind.DURATION:
        return concept.id if concept.id in PARENT else "duration"
    return None


@functools.cache
def _label_regex(family: str) -> re.Pattern[str]:
    parts = []
    for label in sorted(set(LABELS[family]), key=len, reverse=True):
        body = re.escape(label)
        parts.append(body if len(label) <= 3 else f"(?i:{body})")
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def _nearest_label(lead: str) -> tuple[str, int] | None:
    """(family, end) of the label ending nearest the end of ``lead``."""
    best: tuple[str, int] | None = None
    for family in LABELS:
        for m in _label_regex(family).finditer(lead):
            if best is None or m.end() > best[1]:
                best = (family, m.end())
    return best


@functools.cache
def _unit_regex() -> re.Pattern[str]:
    units = sorted(UNITS, key=len, reverse=True)
    return re.compile(r"\s?(" + "|".join(re.escape(u) for u in units) + r")(?![^\W\d_])", re.IGNORECASE)


def _unit_family(after: str) -> frozenset[str] | None:
    m = _unit_regex().match(after)
    if m is None:
        return None
    written = m.group(1)
    for unit, families in UNITS.items():
        if unit.lower() == written.lower():
            return families
    return None


def fits_context(concept: Concept, note: Note, start: int, end: int) -> bool:
    """Whether ``note.text[start:end]`` may be ``concept``'s number: not another measurement's (rules above)."""
    own = family_of(concept)
    if own is None or concept.kind not in (ValueKind.INTEGER, ValueKind.DECIMAL, ValueKind.DURATION):
        return True
    kind_of = PARENT.get(own, own)  # what a unit can say of it
    text = note.text
    span = text[start:end]
    # part of a pair, a date or a time ("182/[96]", "[22]. 4. 2024", "9:[02]"): only what is written in pairs
    before, after = text[max(0, start - 2) : start], text[end : end + 6]
    if own not in PAIRED and (
        re.search(r"\d[/:.-]\s?$", before) or re.match(r"(?:[/:-]\d|\.\s?\d{1,2}\.)", after)
    ):
        return False
    numbers = list(re.finditer(r"\d+(?:[.,]\d+)?", span))
    # a clock time is no interval: "door 08:02" answers no door-to-needle question, nor does "inicio
    # 10:40 h" (the Spanish and Czech "h" follows clock times far more often than an "h:mm" duration)
    if kind_of == "duration" and re.search(r"(?<![\d:])\d{1,2}:\d{2}(?![\d:])", span):
        return False
    # the number a value is read from (the first) measured in another family's unit: "24 h – 5" is no
    # NIHSS (the 24 h score's label ends the span's first number; the score is the 5)
    if len(numbers) > 1:
        families = _unit_family(span[numbers[0].end() :])
        if families is not None and kind_of not in families:
            return False
    # a unit after the span's last number (inside the span: "154 mg/dl"; or right after it: "72/min")
    last = None
    for last in re.finditer(r"\d+(?:[.,]\d+)?", span):
        pass
    if last is not None:
        families = _unit_family(span[last.end() :] + text[end : end + 16])
        if families is not None and (own in families or kind_of not in families):
            return own in families
        # a unit of the parent family ("74 min" of a door interval): the label decides which interval
    # else the nearest label before the span's first number, on its line, with no number between
    first = _NUMBER.search(span)
    lead_end = start + (first.start() if first else 0)
    line_start = text.rfind("\n", 0, lead_end) + 1
    lo = max(line_start, lead_end - _WINDOW)
    lead = text[lo:lead_end]
    nearest = _nearest_label(lead)
    if nearest is None:
        return True
    family, label_end = nearest
    if _NUMBER.search(lead[label_end:]):
        return True  # "BP 182/96, 72": the label belongs to another number
    return family == own
