"""Is a score written at the time point its concept asks about?

A stroke note writes the same scale several times: NIHSS on admission, after 24 hours, at discharge;
mRS before the stroke and at discharge. The reader's worst single error on the independent dev notes
(issue 21) was the admission NIHSS answered with the 24-hour or discharge score (12 of 23): the span
is a perfectly good NIHSS, at the wrong time. A clinician tells them apart by the words of the
sentence the number stands in — "Propuštěn 12.11.2024 … mRS 3, NIHSS 3", "NIHSS la 24 ore 7",
"escala NIHSS de 6 al alta" — and so does :func:`fits_time_point`:

* a concept's time point is its catalogue entry's ``extra.time_point`` (admission, discharge,
  prestroke); concepts without one are never judged;
* the marker nearest before the span in its sentence decides (a sentence ends at every line break, and at
  ". " before a capital unless the period closes a one- or two-letter abbreviation: "2024 г. NIHSS");
  with none there, a marker written right after the span ("6 al alta", "5 at discharge") does;
* a marker of another time point that rules this one out rejects the span; no marker, or a compatible
  one, passes.

The markers are stems in the seven languages, matched case-insensitively at the start of a word.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Mapping

from kgqa.types import Concept, Note

#: time point -> word stems that mark it (a stem matches any word it starts)
MARKERS: Mapping[str, tuple[str, ...]] = {
    "admission": (
        "admission", "admitted", "on arrival", "arrival", "initial", "baseline", "přijetí", "přijat", "při příjmu",
        "vstupní", "приемане", "постъпване", "постъпил", "при приема", "εισαγωγ", "κατά την άφιξη", "ingreso",
        "al ingreso", "przyjęci", "przy przyjęciu", "przyjęt", "internare", "la internare", "admitere",
        # hospitalised since, and the door ("Hospitalizado desde el 9 de diciembre", "Na UP od 13. 2. 2025
        # 2:28", "Στο ΤΕΠ από 05/12/2024"): a date written there is no discharge date
        "hospitalised on", "hospitalized on", "hospitalised since", "hospitalized since", "hospitalizado desde",
        "hospitalizada desde", "hospitalizován od", "hospitalizována od", "hospitalizowany od", "hospitalizowana od",
        "хоспитализиран от", "хоспитализирана от", "νοσηλεύεται από", "spitalizat din", "spitalizată din",
        "door time", "ed arrival", "hora puerta", "llegada", "příjezd", "na up od", "na sor", "przyjazd",
        "sosire", "prezentare în upu", "пристигане", "άφιξη", "στο τεπ από",
    ),
    "discharge": (
        "discharge", "at discharge", "propuštěn", "propuštění", "při propuštění", "přeložen do", "изпис",
        "превеждане в", "преведен в", "έξοδο", "εξήλθε", "εξιτήρι", "al alta", "de alta", "alta hospitalaria", "wypis", "przy wypisie",
        "externare", "externat", "la externare",
    ),
    # a later examination that is neither: "NIHSS after 24 h", "NIHSS on day 3"
    "later": (
        r"24\s?(?:h|hod|hodin|ч|часа|godz|ore|ώρ|ωρο|horas|hours)", r"day\s?\d", r"den\s?\d", r"ден\s?\d",
        r"ziua\s?\d", r"dzień\s?\d", r"doba\s?\d", r"día\s?\d", r"ημέρα\s?\d", r"follow[- ]up", r"kontrol",
    ),
    "prestroke": (
        "pre-stroke", "prestroke", "premorbid", "before the stroke", "before stroke", "před iktem", "před příhodou",
        "před cmp", "преди събитието", "преди инсулт", "premórbid", "situación basal", "basal previa", "previa al ictus",
        "antes del ictus", "przed udarem", "przed zachorowaniem", "înainte de accident", "înainte de avc",
        "πριν το αεε", "πριν από το αεε", "προ του αεε",
    ),
}
#: a concept's time point -> the marked time points that rule it out
RULED_OUT: Mapping[str, frozenset[str]] = {
    "admission": frozenset({"discharge", "later"}),
    "discharge": frozenset({"admission", "later", "prestroke"}),
    "prestroke": frozenset({"discharge", "later"}),
}
_SENTENCE_END = re.compile(r"\n|[.!?]\s+(?=[^\W\d_])")
#: a period closing a one- or two-letter word is an abbreviation ("2024 г.", "Dr.", "r."), not a sentence end
_ABBREVIATION = re.compile(r"(?<![^\W\d_])[^\W\d_]{1,2}$")
_TRAIL = 16  # characters after the span a trailing marker may start within ("6 al alta")


def time_point_of(concept: Concept) -> str | None:
    point = concept.extra.get("time_point")
    return str(point) if point in RULED_OUT else None


@functools.cache
def _marker_regex() -> re.Pattern[str]:
    parts = []
    for point, stems in MARKERS.items():
        body = "|".join(stem if point == "later" else re.escape(stem) for stem in stems)
        parts.append(f"(?P<{point}>(?<!\\w)(?:{body}))")
    return re.compile("|".join(parts), re.IGNORECASE)


@functools.lru_cache(maxsize=32)
def _sentence_starts(text: str) -> tuple[int, ...]:
    """Every offset a sentence of ``text`` begins at, ascending (see the module docstring for what ends one).

    Computed once per note text: the reader judges every candidate span of every time-pointed
    question against the same note, and rescanning the note from its start for each one was quadratic.
    """
    starts = [0]
    for m in _SENTENCE_END.finditer(text):
        # a line break always ends a sentence, even after an abbreviation-like word ("mmol/l.\nCT")
        if "\n" not in m.group() and _ABBREVIATION.search(text, max(0, m.start() - 3), m.start()):
            continue
        starts.append(m.end())
    return tuple(starts)


def _sentence_start(text: str, start: int) -> int:
    """Where the sentence holding ``start`` begins: the last sentence start at or before it."""
    starts = _sentence_starts(text)
    return starts[bisect.bisect_right(starts, start) - 1]


def marked_time_point(note: Note, start: int, end: int) -> str | None:
    """The time point the span's sentence marks nearest before it, else right after it; None if none."""
    text = note.text
    lead = text[_sentence_start(text, start) : start]
    nearest = None
    for nearest in _marker_regex().finditer(lead):
        pass
    if nearest is not None:
        return nearest.lastgroup
    trail = text[end : end + _TRAIL]
    stop = re.search(r"[\n.;,]", trail)
    m = _marker_regex().search(trail[: stop.start() if stop else len(trail)])
    return m.lastgroup if m else None


def fits_time_point(concept: Concept, note: Note, start: int, end: int) -> bool:
    """Whether the span is not written at a time point that rules out ``concept``'s own (rules above)."""
    own = time_point_of(concept)
    if own is None:
        return True
    return marked_time_point(note, start, end) not in RULED_OUT[own]


# ----------------------------------------------------------------------------- medication lists

#: words that head the drugs taken *before* the stroke (home, regular, chronic medication; the history).
#: A discharge prescription read there is the reader's error (the independent notes' "От анамнезата: ПМ,
#: лекувано с варфарин" answered "warfarin at discharge"), and list completion growing such a list would file
#: every home drug as prescribed at discharge. Stems, matched case-insensitively at a word's start.
HOME_MEDICATION = (
    "regular med", "home med", "usual med", "medication history", "drug history", "pmh", "past medical",
    "tto domiciliari", "tratamiento domiciliari", "tto habitual", "tratamiento habitual", "domiciliari",
    "antecedentes", "ap:", "domácí medikace", "chronická medikace", "trvalá medikace", "anamnéz", "oa:",
    "dotychczas", "przewlekle", "leki stałe", "w wywiadzie", "анамнез", "домашна терапия", "хронична терапия",
    "ιστορικ", "χρόνια αγωγή", "tratament la domiciliu", "tratament cronic", "tratament de fond", "antecedente",
)
_HOME_OR_DISCHARGE = re.compile(
    "|".join(
        [f"(?P<home>(?<!\\w)(?:{'|'.join(re.escape(s) for s in HOME_MEDICATION)}))",
         f"(?P<discharge>(?<!\\w)(?:{'|'.join(re.escape(s) for s in MARKERS['discharge'])}))"]
    ),
    re.IGNORECASE,
)
#: a lead-in's sentence ends at a line break or at ". " before a capital ("DM 1. typu" goes on)
_LEAD_END = re.compile(r"\n|[.!?]\s+(?=\w)")


def medication_time(text: str, start: int) -> str | None:
    """"home" or "discharge": the last home-medication or discharge word of the sentence before ``start``
    ("Tto domiciliario: AAS 100, …" → home; "Alta el 8-11-2023 a domicilio con AAS 100 mg" → discharge); None."""
    lead_start = 0
    for m in _LEAD_END.finditer(text, max(0, start - 300), start):
        if "\n" in m.group() or text[m.end()].isupper():
            lead_start = m.end()
    last = None
    for last in _HOME_OR_DISCHARGE.finditer(text, lead_start, start):
        pass
    return None if last is None else last.lastgroup


def home_medication_list(text: str, start: int) -> bool:
    """Whether the sentence before ``start`` heads a list of home medication (:func:`medication_time`)."""
    return medication_time(text, start) == "home"


#: medication group -> the medication time that rules its answers out
_MEDICATION_RULED_OUT = {"discharge_medication": "home", "prestroke_medication": "discharge"}


def fits_medication_time(concept: Concept, note: Note, start: int, end: int) -> bool:
    """Whether a drug answer is not written where the note lists the other time's drugs: a discharge
    prescription in the home medication or history, a pre-stroke drug in the discharge medication."""
    ruled_out = _MEDICATION_RULED_OUT.get(concept.group)
    return ruled_out is None or medication_time(note.text, start) != ruled_out
