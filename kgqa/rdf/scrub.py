"""Identifiers out of the context that Web Annotation quote selectors keep around a span.

An ``oa:TextQuoteSelector`` stores the answer span (``oa:exact``) and up to ``rdf.quote_context``
characters either side (``oa:prefix`` / ``oa:suffix``). The span is the evidence and is what the
fact states, so it is kept exactly; the context is only there to re-anchor the quote, and on real
notes it picks up whatever stands next to a value: a hospital number, a birth number, a date of
birth, the patient's name or initials. :class:`NoteScrubber` finds those in the *whole* note once
(so an identifier cut in half by the context window is still recognised) and replaces every part
of one that falls inside a context window with :data:`PLACEHOLDER`.

What counts as an identifier (all in the seven note languages bg, cs, el, en, es, pl, ro):

* identifier shapes anywhere: Czech/Slovak birth numbers (``450312/1234``), runs of 7+ digits
  (hospital numbers, PESEL, CNP, EGN, AMKA, NHS numbers), digit groups of 9+ digits in all
  (``943 476 5919``, ``+420 777 123 456``), letters-and-digits codes (``H-0012345``,
  ``2024/001234``), e-mail addresses;
* the value after an identifier label (``RČ``, ``MRN``, ``NHC``, ``PESEL``, ``CNP``, ``ЕГН``,
  ``ΑΜΚΑ``, ``č. chorobopisu``, ``hospital number`` …), however short;
* the date after a date-of-birth label (``DOB``, ``nar.``, ``ur.``, ``fecha de nacimiento``,
  ``data nașterii``, ``дата на раждане``, ``ημερομηνία γέννησης`` …), also a partial one;
* names: the value of a header name line (``Name:``, ``Jméno:``, ``Pacjent:``, ``Име:`` …),
  the name after an honorific (``Mrs K.``, ``pan Novák``, ``г-жа Петрова``), dotted initials
  (``J. N.``), and every later mention of those names (inflected forms up to three letters
  longer) and their initials;
* the note's own identifiers: its ``patient_id``, and metadata values under name- or
  identifier-like keys (``patient_name``, ``mrn``, ``birth_number`` …).

Regular expressions rather than a de-identification library: the libraries on offer (presidio,
scrubadub, philter) need English NER models or cover English only, and what leaks into a
32-character window is shaped and labelled, which a table of patterns handles in linear time.
Over-masking context costs nothing (the span and its offsets stay exact); under-masking leaks.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kgqa.types import Note

#: what replaces (each piece of) an identifier inside a prefix or suffix
PLACEHOLDER = "[…]"

#: rdf.selector_context values: scrub identifiers from prefix/suffix, leave prefix/suffix out, or keep
#: them as they are (only for corpora that are already de-identified)
CONTEXT_MODES = ("scrubbed", "none", "raw")

_LETTER = r"[^\W\d_]"
_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĪĮİĹĽŁŃŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŹŻŽȘȚΆΈΉΊΌΎΏΑ-ΩЀ-Я"
_FLAGS = re.UNICODE

# ---------------------------------------------------------------------------- identifier shapes

_SHAPES = [
    # e-mail
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", _FLAGS),
    # Czech / Slovak birth number: YYMMDD/XXX(X), also without the slash or with spaces round it
    re.compile(r"(?<!\d)\d{6}\s?/\s?\d{3,4}(?!\d)", _FLAGS),
    # long digit runs: hospital numbers, PESEL (11), CNP (13), EGN (10), AMKA (11), NHS numbers (10)
    re.compile(r"(?<!\d)\d{7,}(?!\d)", _FLAGS),
    # codes of letters and 5+ digits (H-0012345, MRN12345) and number/year codes (2024/001234)
    re.compile(r"(?<!\w)[A-Za-z]{1,4}[-/]?\d{5,}(?!\w)", _FLAGS),
    re.compile(r"(?<!\w)\d{2,4}[-/]\d{5,}(?!\w)", _FLAGS),
]
# groups of digits (phone numbers, spaced NHS/hospital numbers); kept only with 9+ digits in all,
# so dates (8 digits at most) and blood pressures are not taken
_DIGIT_GROUPS = re.compile(r"(?<![\w.,/:])\+?\d{1,4}(?:[ -]\d{2,6}){2,4}(?![\w/:])", _FLAGS)

# ---------------------------------------------------------------------------- labelled values

# labels whose value is an identifier, matched case-sensitively (short acronyms are also words)
_ID_ACRONYMS = [
    "RČ", "R.Č.", "RC", "MRN", "NHS", "NHC", "DNI", "NIE", "NUSS", "CIP", "SIP", "PESEL", "CNP", "FO", "ЕГН", "ЛНЧ",
    "ИЗ", "ΑΜΚΑ", "Α.Μ.Κ.Α.", "ΑΜΑ", "ΑΔΤ", "ID", "IČP", "SSN", "UHID",
]
# labels matched case-insensitively
_ID_WORDS = [
    # en
    r"hospital\s+(?:number|no\.?|#|id)", r"hosp\.?\s*(?:no|#)\.?", r"patient\s+(?:id|number|no\.?)",
    r"medical\s+record\s+(?:number|no\.?)", r"record\s+(?:number|no\.?)", r"case\s+(?:number|no\.?)",
    r"nhs\s+(?:number|no\.?)", r"unit\s+(?:number|no\.?)",
    # cs / sk
    r"r\.\s?č\.", r"rodné\s+číslo", r"č\.\s?chorobopisu", r"číslo\s+chorobopisu", r"č\.\s?pojištěnce",
    r"číslo\s+pojištěnce", r"id\s+pacienta", r"č\.\s?pacienta",
    # bg
    r"история\s+на\s+заболяването", r"и\.\s?з\.", r"ист\.\s?№",
    # el
    r"αρ\.?\s*μητρώου", r"αριθμός\s+μητρώου", r"α\.\s?μ\.",
    # es
    r"n\.?\s?h\.?\s?c\.", r"historia\s+clínica", r"n[º°o]\.?\s+(?:de\s+)?historia", r"n[º°o]\.?\s+(?:de\s+)?(?:sip|cip)",
    # pl
    r"nr\.?\s+(?:historii\s+choroby|księgi\s+głównej|hist\.)", r"id\s+pacjenta",
    # ro
    r"nr\.?\s+fo", r"foaie\s+de\s+observa[țţt]ie", r"nr\.?\s+(?:de\s+)?înregistrare",
]
_ID_SEP = r"\s*(?:[:#=]|n[oº°]\.?|nr\.?|č\.|№)?\s*"
# the value: an optional short letter prefix, then digits with single separators (/ . - or a
# space) between them, and an optional check letter (DNI 12345678Z)
_ID_VALUE = r"(?P<v>(?:[A-Za-z]{1,4}[-/ ]?)?\d(?:(?:[/.-]|[ ](?=\d))?\d)*[A-Za-z]?)"
_ID_LABELLED = [
    re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in _ID_ACRONYMS) + r")(?!\w)" + _ID_SEP + _ID_VALUE,
               _FLAGS),
    re.compile(r"(?<!\w)(?:" + "|".join(_ID_WORDS) + r")" + _ID_SEP + _ID_VALUE, _FLAGS | re.IGNORECASE),
]

_DOB_LABELS = [
    # en
    r"dob", r"d\.o\.b\.?", r"date\s+of\s+birth", r"born(?:\s+on)?", r"birth\s*date",
    # cs / sk
    r"datum\s+narození", r"dát(?:um)?\.?\s+narodenia", r"dat\.\s?nar\.", r"r\.\s?nar\.", r"nar\.", r"narozen[áa]?",
    r"narodený", r"narodená",
    # bg
    r"дата\s+на\s+раждане", r"роден[аи]?", r"д\.\s?р\.",
    # el
    r"ημερομηνία\s+γέννησης", r"ημ/νία\s+γέννησης", r"ημ\.\s?γέν(?:νησης|\.)?", r"έτος\s+γέννησης",
    r"γεννηθείσα", r"γεννηθείς", r"γεν\.",
    # es
    r"fecha\s+de\s+nacimiento", r"f\.\s?(?:de\s+)?nac(?:imiento|\.)?", r"fecha\s+nac\.?", r"nacid[oa](?:\s+el)?",
    r"f\.\s?n\.", r"fn",
    # pl
    r"data\s+urodzenia", r"dat\.\s?ur\.", r"ur\.", r"urodzon[ya](?:\s+dnia)?",
    # ro
    r"data\s+na[șş]terii", r"n[ăa]scut[ăa]?", r"d\.\s?n\.",
]
_DOB_SEP = r"\s*[:.,]?\s*(?:(?:on|el|dne|dnia|la|în|in|w|en|на|в|στις|το|am)\s+)?"
_MONTH_WORD = _LETTER + r"{3,12}\.?"
# 12.3.1945, 12. 3. 1945, 03/1945, 1945; 12 March 1945, 12. března 1945, 5 de mayo de 1950; March 12, 1945
_DOB_VALUE = (
    r"(?P<v>\d{1,2}\.?[ ]+(?:de[ ]+)?" + _MONTH_WORD + r"(?:[ ]+(?:de[ ]+)?\d{2,4}(?!\d))?"
    r"|\d{1,4}(?:[ ]?[./-][ ]?\d{1,4}){0,2}(?!\d)\.?"
    r"|" + _MONTH_WORD + r"[ ]+\d{1,2}(?:,?[ ]+\d{2,4})?)"
)
_DOB = re.compile(r"(?<!\w)(?:" + "|".join(_DOB_LABELS) + r")" + _DOB_SEP + _DOB_VALUE, _FLAGS | re.IGNORECASE)

# ---------------------------------------------------------------------------- names

_NAME_LABELS = [
    r"name", r"patient(?:'s)?\s+name", r"full\s+name", r"first\s+name", r"surname", r"patient", r"pt\.?",
    r"jméno(?:\s+a\s+příjmení)?", r"příjmení", r"jméno\s+pacienta", r"pacient(?:ka)?", r"meno(?:\s+a\s+priezvisko)?",
    r"priezvisko",
    r"име(?:на)?", r"име\s+на\s+пациента", r"трите\s+имена", r"фамилия", r"пациент(?:ка)?",
    r"όνομα", r"ονοματεπώνυμο", r"επώνυμο", r"ασθεν[ήη]ς",
    r"nombre(?:\s+y\s+apellidos)?", r"apellidos?", r"paciente",
    r"imi[ęe](?:\s+i\s+nazwisko)?", r"nazwisko", r"pacjent(?:ka)?",
    r"nume(?:\s+(?:și|si)\s+prenume)?", r"numele", r"prenume", r"pacient(?:[ăa])?",
]
# a header name line: the label at the start of a line, a colon, then the name
_NAME_LINE = re.compile(
    r"(?:^|(?<=\n))[ \t]*(?:" + "|".join(_NAME_LABELS) + r")[ \t]*:[ \t]*(?P<v>[^\n;|]*)", _FLAGS | re.IGNORECASE
)
_HONORIFICS = [
    "Mr", "Mrs", "Ms", "Miss", "Mx", "pan", "paní", "pani", "Pan", "Paní", "Pani", "slečna", "Sr", "Sra", "Srta", "Dña",
    "Dl", "Dna",
    "D-na", "D-l", "г-н", "г-жа", "г-ца", "κ", "κα", "κος",
]
# an honorific, then a capitalised name or an initial
_HONORIFIC_NAME = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(h) for h in _HONORIFICS) + r")\.?\s+"
    r"(?P<v>[" + _UPPER + r"](?:" + _LETTER + r"+(?:-[" + _UPPER + r"]" + _LETTER + r"+)?|\.))",
    _FLAGS,
)
# two or three dotted capitals: J. N., J.N., Й.П.
_INITIALS = re.compile(r"(?<!\w)(?:[" + _UPPER + r"]\.\s?){2,3}(?!\w)", _FLAGS)
# a name token: a word starting with a capital (dotted initials allowed)
_NAME_TOKEN = re.compile(r"[" + _UPPER + r"](?:" + _LETTER + r"|['’-]" + r"(?=" + _LETTER + r"))*\.?", _FLAGS)
# capitalised words that end a name: the labels that may follow it on a header line
_LABEL_WORDS = frozenset(_ID_ACRONYMS) | {"DOB", "FN", "DN", "D.O.B", "Tel", "Tel.", "Phone", "Age", "Sex"}
# words that follow a name label without being a name (sex, age, honorifics)
_NOT_NAME_WORDS = (
    "male female man woman mr mrs ms miss dr unknown anonymous n/a",
    "muž žena pan paní pacient pacientka",
    "мъж жена пациент пациентка",
    "άνδρας γυναίκα ασθενής άρρεν θήλυ",
    "varón mujer hombre paciente sr sra",
    "mężczyzna kobieta pan pani pacjent pacjentka",
    "bărbat femeie pacient pacientă",
)
_NOT_NAMES = frozenset(w.casefold() for line in _NOT_NAME_WORDS for w in line.split())

#: metadata keys whose values identify a person (matched against the lowercased key); values of
#: identifier keys count when they hold a digit (so ``record_type: discharge`` masks nothing)
_ID_KEY = re.compile(
    r"patient|person|mrn|hospital|record|birth|dob|ssn|pesel|cnp|egn|amka|nhc|dni|"
    r"rodne|rc\b|insur|phone|email|e-mail|address|(?:^|_)id$|number|(?:^|_)no$",
)
_NAME_KEY = re.compile(r"name|initial|surname|jmeno|nombre|imie|nume|^patient$|^person$")


def _spans_of(pattern: re.Pattern[str], text: str, group: str | None = None) -> Iterable[tuple[int, int]]:
    for m in pattern.finditer(text):
        start, end = m.span(group) if group else m.span()
        if end > start:
            yield start, end


def _name_tokens(value: str) -> tuple[list[str], int]:
    """The capitalised words of a header name value until the first word that is not a name, and
    where the last of them ends in ``value`` (a one-line note goes on after the name)."""
    tokens: list[str] = []
    end = 0
    for m in re.finditer(r"[^\s,;]+", value):
        word = m.group()
        bare = word.rstrip(".,:;")
        if _NAME_TOKEN.fullmatch(bare) is None or bare in _LABEL_WORDS:
            break
        end = m.start() + len(bare)
        if bare.casefold() not in _NOT_NAMES:
            tokens.append(bare)
        if word.endswith((".", ":")) and len(bare) > 1:
            break  # "María García López. NHC: …": the sentence (or a label) ends the name
    return tokens, end


def _name_patterns(names: Iterable[Sequence[str]]) -> list[re.Pattern[str]]:
    """Every mention of these names' words (inflected: up to 3 more letters) and of their initials.

    ``names``: one sequence of words per name ("Jan", "NOVÁK"); the initials of a name of two or
    three words are masked in both orders, dotted or not (J. N., J.N., JN, NJ).
    """
    names = [list(n) for n in names]
    words = sorted({w for n in names for w in n if len(w) >= 2 and w.casefold() not in _NOT_NAMES},
                   key=len, reverse=True)  # fmt: skip
    if not words:
        return []
    alts = [re.escape(w) + (_LETTER + "{0,3}" if len(w) >= 4 else "") for w in words]
    patterns = [re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)", _FLAGS | re.IGNORECASE)]
    forms: set[str] = set()
    for name in names:
        initials = [w[0].upper() for w in name if w[:1].isalpha() and w.casefold() not in _NOT_NAMES]
        if 2 <= len(initials) <= 3:
            for seq in (initials, initials[::-1]):
                forms.add(r"\.\s?".join(re.escape(c) for c in seq) + r"\.")
                forms.add("".join(re.escape(c) for c in seq))
    if forms:
        patterns.append(re.compile(r"(?<!\w)(?:" + "|".join(sorted(forms, key=len, reverse=True)) + r")(?!\w)", _FLAGS))
    return patterns


def _literal_pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    vals = sorted({v for v in values if len(v) >= 3}, key=len, reverse=True)
    if not vals:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(v) for v in vals) + r")(?!\w)", _FLAGS | re.IGNORECASE)


def metadata_identifiers(metadata: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(identifier values, names as word lists) of a note's metadata, from name- or identifier-like keys."""
    values: list[str] = []
    names: list[list[str]] = []

    def visit(key: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                visit(f"{key}.{k}" if key else str(k), v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                visit(key, v)
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            k = key.casefold()
            text = str(value).strip()
            if _NAME_KEY.search(k):
                values.append(text)
                names.append([w.strip(".,") for w in re.split(r"[\s,]+", text) if w.strip(".,")])
            elif (_ID_KEY.search(k) and any(c.isdigit() for c in text)) or "@" in text:
                values.append(text)

    visit("", metadata)
    return values, names


def identifier_spans(
    text: str, *, values: Iterable[str] = (), names: Iterable[Sequence[str]] = ()
) -> list[tuple[int, int]]:
    """Sorted, merged ``[start, end)`` spans of everything identifying in ``text``.

    ``values`` are identifiers known from elsewhere (the patient id, metadata values), masked
    wherever they occur; ``names`` are names known from elsewhere (metadata), each as its words,
    masked with their inflections and initials like the names found in the note's header.
    """
    spans: list[tuple[int, int]] = []
    for pattern in _SHAPES:
        spans.extend(_spans_of(pattern, text))
    for m in _DIGIT_GROUPS.finditer(text):
        if sum(c.isdigit() for c in m.group()) >= 9:
            spans.append(m.span())
    for pattern in _ID_LABELLED:
        spans.extend(_spans_of(pattern, text, "v"))
    spans.extend(_spans_of(_DOB, text, "v"))
    spans.extend(_spans_of(_INITIALS, text))
    name_words = [list(n) for n in names]
    for m in _NAME_LINE.finditer(text):
        tokens, end = _name_tokens(m.group("v"))
        if tokens:
            name_words.append(tokens)
            spans.append((m.start("v"), m.start("v") + end))
    for m in _HONORIFIC_NAME.finditer(text):
        word = m.group("v").rstrip(".")
        if word.casefold() not in _NOT_NAMES:
            spans.append(m.span("v"))
            if len(word) >= 2:
                name_words.append([word])
    for pattern in _name_patterns(name_words):
        spans.extend(_spans_of(pattern, text))
    literal = _literal_pattern(values)
    if literal is not None:
        spans.extend(_spans_of(literal, text))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


class NoteScrubber:
    """The identifiers of one note, found once; context windows around spans with them masked."""

    def __init__(self, note: Note, *, extra_values: Iterable[str] = ()) -> None:
        meta_values, meta_names = metadata_identifiers(note.metadata)
        values = [*meta_values, *extra_values]
        if note.patient_id:
            values.append(note.patient_id)
        self.note = note
        self.text = note.text
        self.spans = identifier_spans(note.text, values=values, names=meta_names)
        self._starts = [s for s, _ in self.spans]

    def mask(self, start: int, end: int) -> str:
        """``text[start:end]`` with every piece of an identifier replaced by :data:`PLACEHOLDER`."""
        out: list[str] = []
        pos = start
        # the last identifier starting at or before `start` may reach into the window
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        while i < len(self.spans) and self.spans[i][0] < end:
            s, e = self.spans[i]
            i += 1
            if e <= pos:
                continue
            s = max(s, pos)
            out.append(self.text[pos:s])
            out.append(PLACEHOLDER)
            pos = min(e, end)
        out.append(self.text[pos:end])
        return "".join(out)

    def prefix(self, start: int, k: int) -> str:
        return self.mask(max(0, start - k), start)

    def suffix(self, end: int, k: int) -> str:
        return self.mask(end, min(len(self.text), end + k))
