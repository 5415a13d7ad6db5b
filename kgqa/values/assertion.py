"""Assertion status of an answer (negated, historical, hypothetical, family, possible) in the ConText manner.

Cues are looked for in the answer's own sentence of ``note.text``, in the cue lists of the
note's language (plus English, which notes mix in), in two windows:

* before the span, from the sentence start (or the last scope terminator such as "but", "ale",
  "но", "αλλά", "pero", "lecz", "dar") and at most :data:`PRE_WORDS` words back, the span included
  (a span may be "bez trombolýzy");
* after the span, up to the next comma, terminator or sentence end and at most :data:`POST_WORDS`
  words (many languages negate after the noun: "Trombolýza nebyla podána", "tromboliza nie była").

Statuses other than negation do not reach back across a comma. Two checklist habits are honoured:
a colon right after the span opens its answer ("Diabetes: no"), and a cue standing alone after a
colon ("Diabetes: no, hypertension: yes") answers the item before it, not the next one. Negation
cues that follow their noun (:data:`POST_ONLY_NEGATION`: "excluded", "wykluczone", "descartada")
never negate a span written after them.
Pseudo-cues ("no change", "bez změny", "sin cambios") are removed first; a longer cue wins over a
cue inside it ("no se descarta" is *possible*, not negated). Precedence when several statuses
are cued: family > negated > hypothetical > possible > historical.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from kgqa.types import Assertion

PRE_WORDS = 8
POST_WORDS = 6

# ---------------------------------------------------------------------------------------------- cue lists
NEGATION: Mapping[str, tuple[str, ...]] = {
    "en": (
        "no",
        "not",
        "without",
        "denies",
        "denied",
        "negative for",
        "absence of",
        "absent",
        "ruled out",
        "free of",
        "never",
        "neither",
        "nor",
        "none",
        "no evidence of",
        "was not",
        "were not",
        "did not",
        "not given",
        "not performed",
        "not done",
        "withheld",
        "excluded",
        "n't",
        "non-smoker",
        "nonsmoker",
        "non smoker",
    ),
    "bg": (
        "не",
        "няма",
        "без",
        "отрича",
        "липсва",
        "липсват",
        "не е",
        "не са",
        "не се",
        "не бе",
        "нито",
        "отхвърлен",
        "изключен",
        "изключена",
        "изключено",
        "не е проведена",
        "не е приложена",
        "отрицателен",
        "отрицателна",
        "непушач",
        "непушачка",
    ),
    "cs": (
        "ne",
        "bez",
        "nebyl",
        "nebyla",
        "nebylo",
        "nebyly",
        "neprovedena",
        "neproveden",
        "neprovedeno",
        "nepodána",
        "nepodán",
        "nepodáno",
        "neindikována",
        "neindikován",
        "nekouří",
        "neužívá",
        "neužíval",
        "neužívala",
        "nemá",
        "není",
        "nejsou",
        "nezjištěn",
        "nezjištěna",
        "neprokázán",
        "neprokázána",
        "nepřítomen",
        "nepřítomna",
        "vyloučen",
        "vyloučena",
        "vyloučeno",
        "vyloučeny",
        "neguje",
        "žádné",
        "žádná",
        "žádný",
        "negativní",
        "nikdy",
        "nekuřák",
        "nekuřačka",
    ),
    "el": (
        "δεν",
        "όχι",
        "χωρίς",
        "ουδέποτε",
        "ποτέ",
        "αρνείται",
        "απουσία",
        "μη",
        "ούτε",
        "αποκλείστηκε",
        "αρνητικό",
        "αρνητική",
        "δεν χορηγήθηκε",
        "δεν έγινε",
        "δεν διενεργήθηκε",
    ),
    "es": (
        "no",
        "sin",
        "niega",
        "ausencia de",
        "negativo para",
        "negativo",
        "negativa",
        "descartado",
        "descartada",
        "ni",
        "nunca",
        "tampoco",
        "no se",
        "ningún",
        "ninguna",
        "no se realizó",
        "no realizada",
        "no realizado",
        "no fumador",
        "no fumadora",
    ),
    "pl": (
        "nie",
        "bez",
        "brak",
        "nigdy",
        "ani",
        "zaprzecza",
        "wykluczono",
        "wykluczone",
        "wykluczona",
        "wykluczony",
        "neguje",
        "nie stwierdzono",
        "negatywny",
        "ujemny",
        "ujemna",
        "żadnych",
        "nie podano",
        "nie wykonano",
        "niepalący",
        "niepaląca",
    ),
    "ro": (
        "nu",
        "fără",
        "nici",
        "neagă",
        "absența",
        "absent",
        "absentă",
        "niciodată",
        "exclus",
        "exclusă",
        "nu s-a",
        "negativ",
        "negativă",
        "neefectuată",
        "neefectuat",
        "nefumător",
        "nefumătoare",
    ),
}
#: Contraindication words: "IVT kontraindikována", "Θρομβόλυση αντενδείκνυται", "se desestimó". They
#: negate a treatment (a procedure or a drug: ``detect(..., also=("contraindication",))``), never a
#: finding: "AF, anticoagulation contraindicated" still states atrial fibrillation.
CONTRAINDICATION: Mapping[str, tuple[str, ...]] = {
    "en": ("contraindicated", "contraindication", "not indicated"),
    "bg": ("противопоказана", "противопоказан", "противопоказано", "противопоказание", "не е показана",
           "не е показан"),
    "cs": ("kontraindikována", "kontraindikován", "kontraindikováno", "kontraindikace"),
    "el": ("αντενδείκνυται", "αντένδειξη", "αντενδείκνυνται"),
    "es": ("contraindicada", "contraindicado", "contraindicación", "se desestimó", "se desestima",
           "desestimada", "desestimado"),
    "pl": ("przeciwwskazana", "przeciwwskazany", "przeciwwskazane", "przeciwwskazanie"),
    "ro": ("contraindicată", "contraindicat", "contraindicație"),
}
#: Discontinuation words: "klopidogrel odstawiony" — a drug stopped is not taken (medication only:
#: "thrombolysis stopped for angioedema" was given).
DISCONTINUATION: Mapping[str, tuple[str, ...]] = {
    "en": ("discontinued", "stopped", "withdrawn"),
    "bg": ("спрян", "спряна", "спряно", "преустановен", "преустановена"),
    "cs": ("vysazen", "vysazena", "vysazeno", "vysazený"),
    "el": ("διακόπηκε", "διεκόπη"),
    "es": ("suspendido", "suspendida", "retirado", "retirada", "se suspendió", "se retiró"),
    "pl": ("odstawiony", "odstawiona", "odstawione", "odstawiono"),
    "ro": ("oprit", "oprită", "întrerupt", "întreruptă", "sistat", "sistată"),
}
#: Pseudo-cues: a cue inside them negates nothing. "No contraindications" affirms the treatment that
#: follows ("No habiendo contraindicaciones …, se realizó una trombolisis").
PSEUDO: Mapping[str, tuple[str, ...]] = {
    "en": ("no change", "not only", "no increase", "no further", "not certain whether", "no longer",
           "no contraindication", "no contraindications", "without contraindications"),
    "bg": ("без промяна", "без динамика", "не само", "без противопоказания", "няма противопоказания"),
    "cs": ("bez změny", "beze změn", "nejen", "bez dynamiky", "bez kontraindikací", "nejsou kontraindikace"),
    "el": ("χωρίς μεταβολή", "χωρίς αλλαγή", "όχι μόνο", "χωρίς αντενδείξεις", "δεν υπάρχουν αντενδείξεις"),
    "es": ("sin cambios", "no solo", "no sólo", "sin incidencias", "sin contraindicaciones",
           "no habiendo contraindicaciones", "no hay contraindicaciones", "sin contraindicación"),
    "pl": ("bez zmian", "nie tylko", "bez dynamiki", "brak przeciwwskazań", "bez przeciwwskazań"),
    "ro": ("fără modificări", "nu numai", "fără dinamică", "fără contraindicații", "nu există contraindicații"),
}
#: Pseudo-cues for a finding (a risk factor, a diagnosis): its treatment withheld qualifies it, it
#: does not deny it ("paroxysmal AF not anticoagulated", "dyslipidaemia without treatment"). Never
#: used for a treatment, where "sin tratamiento trombolítico" is the negation itself.
FINDING_PSEUDO: Mapping[str, tuple[str, ...]] = {
    "en": ("not anticoagulated", "not on anticoagulation", "not treated", "without treatment", "not on treatment"),
    "bg": ("без лечение", "не се лекува"),
    "cs": ("bez léčby", "bez antikoagulace"),
    "el": ("χωρίς θεραπεία", "χωρίς αγωγή"),
    "es": ("no anticoagulada", "no anticoagulado", "sin tratamiento", "sin anticoagulación"),
    "pl": ("bez leczenia", "nie leczona", "nie leczony", "nie leczone", "bez antykoagulacji"),
    "ro": ("fără tratament", "fără anticoagulare"),
}
#: what the caller's concept is about -> (extra negation tables, extra pseudo tables)
TOPICS: Mapping[str, tuple[tuple[Mapping[str, tuple[str, ...]], ...], tuple[Mapping[str, tuple[str, ...]], ...]]] = {
    "procedure": ((CONTRAINDICATION,), ()),
    "medication": ((CONTRAINDICATION, DISCONTINUATION), ()),
    "finding": ((), (FINDING_PSEUDO,)),
}
HISTORICAL: Mapping[str, tuple[str, ...]] = {
    "en": (
        "history of",
        "previous",
        "prior",
        "past",
        "old",
        "in the past",
        "known",
        "previously",
        "h/o",
        "pmh",
        "status post",
        "s/p",
        "former",
    ),
    "bg": (
        "анамнеза",
        "в анамнезата",
        "прекаран",
        "прекарана",
        "прекарани",
        "преди години",
        "в миналото",
        "стар",
        "стари",
        "предходен",
        "предходна",
        "известна",
        "известен",
        "състояние след",
    ),
    "cs": (
        "v anamnéze",
        "anamnesticky",
        "prodělal",
        "prodělala",
        "prodělaná",
        "prodělaný",
        "dříve",
        "stav po",
        "st. p.",
        "st.p.",
        "v minulosti",
        "předchozí",
        "starý",
        "stará",
        "staré",
        "známá",
        "známý",
    ),
    "el": (
        "ιστορικό",
        "προηγούμενο",
        "προηγούμενη",
        "παλαιό",
        "παλαιά",
        "γνωστή",
        "γνωστό",
        "στο παρελθόν",
        "παλαιότερο",
    ),
    "es": (
        "antecedentes de",
        "antecedente de",
        "previo",
        "previa",
        "antiguo",
        "antigua",
        "conocida",
        "conocido",
        "en el pasado",
        "ap de",
    ),
    "pl": (
        "w wywiadzie",
        "przebyty",
        "przebyta",
        "przebyte",
        "stan po",
        "wcześniej",
        "uprzednio",
        "stary",
        "stare",
        "znane",
        "znany",
    ),
    "ro": (
        "antecedente",
        "în antecedente",
        "anterior",
        "anterioară",
        "vechi",
        "cunoscut",
        "cunoscută",
        "în trecut",
        "sechele",
    ),
}
FAMILY: Mapping[str, tuple[str, ...]] = {
    "en": ("mother", "father", "brother", "sister", "family history", "familial", "parents", "fh", "sibling"),
    "bg": ("майка", "майката", "баща", "бащата", "брат", "сестра", "фамилна анамнеза", "в рода", "родители"),
    "cs": ("matka", "otec", "bratr", "sestra", "rodinná anamnéza", "ra:", "v rodině", "rodiče"),
    "el": ("μητέρα", "πατέρας", "αδελφός", "αδελφή", "οικογενειακό ιστορικό", "γονείς"),
    "es": ("madre", "padre", "hermano", "hermana", "antecedentes familiares", "familiar de primer grado"),
    "pl": ("matka", "ojciec", "brat", "siostra", "wywiad rodzinny", "w rodzinie", "rodzice"),
    "ro": (
        "mama",
        "mamă",
        "tatăl",
        "tata",
        "frate",
        "soră",
        "antecedente heredocolaterale",
        "ahc",
        "în familie",
    ),
}
HYPOTHETICAL: Mapping[str, tuple[str, ...]] = {
    "en": (
        "if",
        "should",
        "in case of",
        "consider",
        "to be considered",
        "planned",
        "plan to",
        "would",
        "pending",
        "scheduled",
    ),
    "bg": ("ако", "при нужда", "при необходимост", "да се обсъди", "планирана", "планиран", "предстои"),
    "cs": ("pokud", "v případě", "zvážit", "zvážena", "plánována", "plánován", "plánované", "v plánu"),
    "el": ("εάν", "αν", "σε περίπτωση", "προγραμματίζεται", "να εξεταστεί", "προγραμματισμένη"),
    "es": ("si", "en caso de", "valorar", "se planea", "programada", "programado", "pendiente de"),
    "pl": ("jeśli", "jeżeli", "w razie", "rozważyć", "planowana", "planowany", "zaplanowano"),
    "ro": ("dacă", "în caz de", "se va", "planificat", "planificată", "programat", "programată"),
}
POSSIBLE: Mapping[str, tuple[str, ...]] = {
    "en": (
        "possible",
        "possibly",
        "probable",
        "probably",
        "suspected",
        "likely",
        "suspicion of",
        "cannot be excluded",
        "can not be ruled out",
        "r/o",
        "questionable",
    ),
    "bg": (
        "възможен",
        "възможна",
        "вероятен",
        "вероятна",
        "вероятно",
        "съмнение за",
        "не може да се изключи",
    ),
    "cs": ("možná", "pravděpodobně", "pravděpodobná", "suspektní", "susp.", "podezření na", "nelze vyloučit"),
    "el": ("πιθανή", "πιθανό", "πιθανώς", "ύποπτο", "υποψία", "δεν αποκλείεται"),
    "es": ("posible", "probable", "probablemente", "sospecha de", "no se descarta", "no se puede descartar"),
    "pl": ("możliwy", "możliwa", "prawdopodobnie", "prawdopodobny", "podejrzenie", "nie można wykluczyć"),
    "ro": ("posibil", "posibilă", "probabil", "probabilă", "suspiciune de", "suspect", "nu se exclude"),
}
TERMINATORS: Mapping[str, tuple[str, ...]] = {
    "en": ("but", "however", "although", "though", "except", "apart from", "yet", "other than"),
    "bg": ("но", "обаче", "въпреки", "освен", "с изключение на"),
    "cs": ("ale", "avšak", "však", "přestože", "kromě", "vyjma"),
    "el": ("αλλά", "όμως", "ωστόσο", "παρότι", "εκτός από", "πλην"),
    "es": ("pero", "sin embargo", "aunque", "excepto", "salvo", "aparte de", "a excepción de"),
    "pl": ("ale", "lecz", "jednak", "chociaż", "oprócz", "poza", "z wyjątkiem"),
    "ro": ("dar", "însă", "totuși", "deși", "cu excepția", "în afara", "în afară de"),
}
#: Negation cues that govern the words after them only (prepositions: "without", "sin", "без"), as
#: ConText's forward-only cues: written after a span they negate their own noun ("ACV previo sin
#: secuelas", "st.p. CMP bez reziduí"), never the span.
PRE_ONLY_NEGATION = frozenset({
    "without", "free of", "absence of", "negative for", "no evidence of",
    "без", "bez", "χωρίς", "απουσία", "sin", "ausencia de", "negativo para", "fără", "absența",
})
#: Coordinating conjunctions: after the span, "and"/"y"/"и" followed by a negation cue opens a new,
#: negated item ("takes amlodipine and no antiplatelet"): the cue does not reach back to the span.
CONJUNCTIONS = frozenset({
    "and", "or", "и", "или", "a", "i", "nebo", "και", "ή", "y", "e", "o", "oraz", "lub", "și", "sau", "iar",
})

#: Negation cues written *after* what they negate ("hyperlipidaemia excluded, diabetes"): they
#: never negate a span that follows them (lower case, all languages).
POST_ONLY_NEGATION = frozenset({
    "excluded", "ruled out", "absent", "not given", "not performed", "not done", "withheld",
    "изключен", "изключена", "изключено",
    "vyloučen", "vyloučena", "vyloučeno", "vyloučeny", "nepodána", "nepodán", "neprovedena",
    "αποκλείστηκε",
    "descartada", "descartado", "no realizado",
    "wykluczone", "wykluczona", "wykluczony", "wykluczono",
    "exclus", "exclusă", "absentă", "neefectuată", "neefectuat",
})

_PRECEDENCE = (
    (Assertion.FAMILY, FAMILY),
    (Assertion.NEGATED, NEGATION),
    (Assertion.HYPOTHETICAL, HYPOTHETICAL),
    (Assertion.POSSIBLE, POSSIBLE),
    (Assertion.HISTORICAL, HISTORICAL),
)
_WORD_RE = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Cue:
    status: Assertion
    text: str
    start: int
    end: int


#: Neither window reaches further than this many characters from the span: ConText windows are a few
#: words, and the cap keeps each span's cost independent of the note's length (a 2 MB note without
#: sentence breaks, or one long run of symbols, would otherwise make every span scan the whole note).
MAX_WINDOW_CHARS = 1000

_START_BREAK_RE = re.compile(r"\n|[.!?;](?=\s+([^\W\d_]))")
_END_BREAK_RE = re.compile(r"\n|[.!?;](?=\s|$)")
_NON_SPACE_RE = re.compile(r"\S")
_WORD_TAIL_RE = re.compile(r"\w*")
_WORD_CHAR_RE = re.compile(r"\w")


@functools.lru_cache(maxsize=8)
def _sentence_breaks(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(sentence starts, sentence ends) of ``text``, each sorted: found once per note text, in one pass.

    A span's sentence is then two bisections (:func:`sentence_bounds`), so the many spans the reader
    checks per note (every candidate of every concept) cost O(log n) each instead of a scan of the note.
    The cache holds a few texts (a note's spans are judged together); a str caches its own hash, so
    the lookup is O(1) after the first.
    """
    starts = tuple(
        m.end() for m in _START_BREAK_RE.finditer(text) if m.group(0) == "\n" or m.group(1).isupper()
    )
    ends = []
    for m in _END_BREAK_RE.finditer(text):
        pos = m.start()
        if m.group(0) != "\n":
            # a period ends a sentence before an upper-case letter or the end of the note; the
            # whitespace run after it is scanned by this break only, so the pass stays linear
            nxt = _NON_SPACE_RE.search(text, pos + 1)
            if nxt is not None and not nxt.group(0).isupper():
                continue
        ends.append(pos)
    return starts, tuple(ends)


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """[s, e) of the sentence containing [start, end): ends at . ! ? ; or a newline followed by text.

    A period ends a sentence only before whitespace and an upper-case letter or a line end, so
    "NIHSS 8 b. v 14:35" and "ca. 5" do not split.
    """
    starts, ends = _sentence_breaks(text)
    i = bisect.bisect_right(starts, start)
    j = bisect.bisect_left(ends, end)
    return (starts[i - 1] if i else 0), (ends[j] if j < len(ends) else len(text))


def _window_start(text: str, s: int, start: int) -> int:
    """``s``, or the first whole word at most :data:`MAX_WINDOW_CHARS` before ``start`` when ``s`` is further."""
    lo = start - MAX_WINDOW_CHARS
    if lo <= s:
        return s
    if _WORD_CHAR_RE.match(text, lo - 1):  # the cut falls inside a word: start after it
        lo = _WORD_TAIL_RE.match(text, lo, start).end()  # type: ignore[union-attr]
    return lo


def _window_end(text: str, end: int, e: int) -> int:
    """``e``, or the end of the last whole word at most :data:`MAX_WINDOW_CHARS` after ``end``."""
    hi = end + MAX_WINDOW_CHARS
    if hi >= e:
        return e
    while hi > end and _WORD_CHAR_RE.match(text, hi - 1) and _WORD_CHAR_RE.match(text, hi):  # inside a word
        hi -= 1
    return hi


@functools.cache
def _cue_regex(cues: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled alternation per cue list, longest first (so "no se descarta" beats "no")."""
    if not cues:
        return None
    alternatives = "|".join(re.escape(c) for c in sorted(set(cues), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _find(table: Mapping[str, tuple[str, ...]], lang: str, low: str) -> Iterator[re.Match[str]]:
    rx = _cue_regex(tuple(table.get(lang, ())))
    return rx.finditer(low) if rx is not None else iter(())


def _cues_in(window: str, offset: int, langs: tuple[str, ...], topic: str | None = None) -> list[Cue]:
    low = window.lower()
    negation_extra, pseudo_extra = TOPICS.get(topic, ((), ())) if topic else ((), ())
    tables = [(status, table) for status, table in _PRECEDENCE]
    tables += [(Assertion.NEGATED, table) for table in negation_extra]
    found: list[Cue] = [
        Cue(status, m.group(0), offset + m.start(), offset + m.end())
        for status, table in tables
        for lang in langs
        for m in _find(table, lang, low)
    ]
    pseudo = [
        (offset + m.start(), offset + m.end())
        for table in (PSEUDO, *pseudo_extra)
        for lang in langs
        for m in _find(table, lang, low)
    ]
    # a cue inside a longer cue or a pseudo-cue does not count on its own
    found.sort(key=lambda c: c.start - c.end)
    kept: list[Cue] = []
    for c in found:
        if any(ps <= c.start and c.end <= pe for ps, pe in pseudo):
            continue
        if any(k.start <= c.start and c.end <= k.end and (k.end - k.start) > (c.end - c.start) for k in kept):
            continue
        kept.append(c)
    return kept


def _clip_pre(text: str, s: int, start: int, langs: tuple[str, ...]) -> int:
    """Start of the pre-window: after the last terminator, at most PRE_WORDS words before ``start``."""
    base = s
    low = text[base:start].lower()
    for lang in langs:
        for m in _find(TERMINATORS, lang, low):
            s = max(s, base + m.end())
    # a semicolon ends a list item and a cue's scope ("без ЗД; тютюнопушене"), as NegEx's terminators do
    semi = text.rfind(";", s, start)
    if semi >= 0:
        s = semi + 1
    words = list(_WORD_RE.finditer(text, s, start))
    if len(words) > PRE_WORDS:
        s = words[-PRE_WORDS].start()
    return s


def _clip_post(text: str, end: int, e: int, langs: tuple[str, ...]) -> int:
    """End of the post-window: the next comma/terminator, at most POST_WORDS words after ``end``."""
    m = re.search(r"[,:(;]", text[end:e])
    if m and m.group() == ":" and not text[end : end + m.start()].strip():
        # "Diabetes: no", "FA: ne" — a checklist's colon right after the span opens its answer
        answer = end + m.end()
        m = re.search(r"[,:(;]", text[answer:e])
        if m:
            e = answer + m.start()
    elif m:
        e = end + m.start()
    low = text[end:e].lower()
    for lang in langs:
        for mt in _find(TERMINATORS, lang, low):
            e = min(e, end + mt.start())
            break
    words = list(_WORD_RE.finditer(text, end, e))
    if len(words) > POST_WORDS:
        e = words[POST_WORDS - 1].end()
    return e


def _per_item_negation(text: str, pre_start: int, start: int, cues: list[Cue]) -> bool:
    """Whether the comma list before the span negates item by item ("Без АХ, без ЗД, пушачка").

    A writer who repeats the cue in two or more items negates each item on its own: an item without
    its own cue is affirmed. A list negated once up front ("No diabetes, hypertension or AF") is not.
    """
    item_starts = [pre_start] + [pre_start + m.end() for m in re.finditer(",", text[pre_start:start])]
    if len(item_starts) < 3:
        return False
    openers = 0
    for item_start in item_starts[:-1]:
        first = _NON_SPACE_RE.search(text, item_start, start)
        if first is not None and any(
            c.status is Assertion.NEGATED and c.start == first.start() for c in cues
        ):
            openers += 1
    return openers >= 2


def without_cues(text: str, lang: str, topic: str | None = None) -> str:
    """``text`` with its assertion cues blanked out: what a negated span says *about* ("brak LVO" → "LVO")."""
    langs = (lang, "en") if lang != "en" else ("en",)
    chars = list(text)
    for c in _cues_in(text, 0, langs, topic):
        chars[c.start : c.end] = " " * (c.end - c.start)
    return "".join(chars)


def detect(
    text: str, start: int, end: int, lang: str, topic: str | None = None
) -> tuple[Assertion, Cue | None]:
    """The assertion status of the span [start, end) of ``text`` and the cue that decided it.

    ``topic`` says what the caller's concept is about (a key of :data:`TOPICS`: "procedure",
    "medication", "finding"), which switches on the cues that only make sense for it.
    """
    langs = (lang, "en") if lang != "en" else ("en",)
    s, e = sentence_bounds(text, start, end)
    s, e = _window_start(text, s, start), _window_end(text, end, e)
    pre_start = _clip_pre(text, s, start, langs)
    post_end = _clip_post(text, end, e, langs)
    # Negation reaches across list commas ("No diabetes, hypertension or AF"); the other statuses
    # qualify the nearest phrase only ("compared to the previous study, infarct ..." is not history).
    found = _cues_in(text[pre_start:end], pre_start, langs, topic)
    per_item = _per_item_negation(text, pre_start, start, found)
    pre = [
        c
        for c in found
        if (c.status is Assertion.NEGATED or c.end > start or not re.search(r"[,:]", text[c.end : start]))
        and not (c.end <= start and c.status is Assertion.NEGATED and c.text.lower() in POST_ONLY_NEGATION)
        # "Diabetes: no, hypertension: yes" — a cue standing alone after a colon answers the item before it
        and not (
            c.end <= start
            and text[pre_start : c.start].rstrip().endswith(":")
            and re.match(r"\s*[,;]", text[c.end : start])
        )
        # "cukrzycy brak, hiperlipidemia", "non-smoker, HTN": a cue closing its list item negates that item
        and not (c.end <= start and c.status is Assertion.NEGATED and re.match(r"[^\w,]*,", text[c.end : start]))
        and not (per_item and c.end <= start and c.status is Assertion.NEGATED and "," in text[c.end : start])
    ]
    post: list[Cue] = []
    for c in sorted(_cues_in(text[start:post_end], start, langs, topic), key=lambda c: c.start):
        if c.start < end:
            continue
        before = text[end : c.start].lower().split()
        if c.status is Assertion.NEGATED and before and before[-1] in CONJUNCTIONS:
            break  # "amlodipine and no antiplatelet": a new, negated item begins
        if c.status is Assertion.NEGATED and c.text.lower() in PRE_ONLY_NEGATION:
            continue  # "ACV previo sin secuelas": "sin" negates "secuelas", not the span
        post.append(c)
    cues = pre + post
    for status, _ in _PRECEDENCE:
        for c in cues:
            if c.status is status:
                return status, c
    return Assertion.PRESENT, None
