"""Does an answer span state a yes/no concept, or only sit where the reader looked?

Any span answering "Was mechanical thrombectomy performed?" used to read as *yes* — a patient-name
line included. A boolean concept gets a value only when the span (or its clause just before it:
"Thrombolysis: [given at 14:35]") names the concept's topic, is a yes/no word, holds a negation cue,
or gives a reason for not doing it ("due to late arrival": read as not done). Anything else states
nothing and gets no value (``normalise`` makes it UNPARSED with the reason; the pipeline keeps it as an
unvalued fact, and a reader that checks values — ``reader.value_span_kinds`` with ``boolean`` —
answers with a span that does state it, or not at all).

The topic of a concept is, in every language, the names of its vocabulary term and the terms under it
(``Concept.term_names``: "hypertension", "АХ", "HTA"; "clopidogrel", "Plavix"; a multi-word name's
distinctive words alone: "ictus" of "ictus previo"), the content words of its questions (less the
scaffolding every question shares: "patient", "before the stroke", "prescribed at discharge" —
:data:`GENERIC`), the abbreviations notes use for procedures (:data:`ABBREVIATIONS`: "IVT", "ИВТ",
"rtPA", "MT", "EVT") and the INN stems of a drug class (:data:`INN_STEMS`: "-pril", "-sartan").
Words match whole or by stem ("hipertensa" ~ "hipertensión", "trombolizy" ~ "trombolizę"; "DM2" ~ "DM").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence

from kgqa.types import Concept
from kgqa.values.enums import NO, YES, fold


def _wordset(*blocks: str) -> frozenset[str]:
    return frozenset(word for block in blocks for word in block.split())


#: Question scaffolding: the folded words of 4+ letters that the questions of three or more yes/no
#: concepts of the RES-Q catalogue share (made with ``fold`` over every language's questions), less
#: those that are a topic themselves (drug classes, "carotid", "bleeding"), plus the patient's forms.
GENERIC = _wordset(
    """
    administrat administro alta another antecedentes antes avut before byla bylo discharge does drive
    drug drugs efectuat este externare fost found given have ictus iktem iktus inainte inny jine jsou
    leki medikaci nebo other otro pacient paciente pacientul pacienta pacjent patient pentru performed
    podano pred prescribed prescribieron prescribio prescris previous prodelal propusteni provedena
    przebyl przed przy przyjmowal realizo stroke stwierdzono taking there tiene tomaba udar udarem
    uzival wykonano wypisie zalecono receive received undergo during first hours
    αλλο ασθενησ ασθενουσ βρεθηκε εγινε εγκεφαλικο ειχε εξοδο εχει κατα λαμβανε πριν προηγουμενο
    συνταγογραφηθηκαν συνταγογραφηθηκε φαρμακα χορηγηθηκε
    друг изписването инсулт инсулта лекарства пациентът пациента пациент получил преди прекарвал
    приемал рецепта проведена
    """,
    # ... and what questions say around their topic, which names no topic alone: giving, receiving
    # and undergoing ("recibió", "otrzymał", "podstoupil"), "treatment" itself, and the qualifiers
    # "mechanical", "intravenous" ("mechanical ventilation" is no thrombectomy)
    """
    leczenie leczony otrzymał otrzymal podana primit recibio tratament tratamiento treatment θεραπεια
    υποβληθηκε лечение проведено получи beneficiat lecbu podstoupil ασθενη ειναι przyjmował przyjmowała
    kyselinu mechanical mecanica mechanicka mechaniczna μηχανικη механична intravenous intravenosa
    intravenoasa intravenozni dozylna ενδοφλεβια интравенозна
    """,
    # ... finding, happening, existing, planning and examining; times and places
    """
    encontro evidentiat zjisteny zjisten zjistena установена nalezen identifico identificata ustalono
    открит existat υπηρχε pritomno pritomna habia aparut ocurrio συνεβη настъпи vznikl wystapił occur
    already while durante timpul trakcie behem ciagu докато trata προκειται preciso χρειαστηκε
    proveden provedeno направена направен evaluat изследвана изследвани podan даден приложен powodu
    planned planificat planovana programo zaplanowano προγραμματιστηκε планирана badanie estudio
    vysetreni unknown ασαφεσ neprecizat nejasnym niejasnym неясен filiado pierwszych primele primeras
    prvnich πρωτεσ първите godzin hodin horas hospital ingreso service servicio nemocnice szpital
    spitalul болницата болница νοσοκομειο
    """,
)

#: the verbs notes use for smoking ("Nie pali", "nekouří", "не пуши", "no fuma"), folded: a bare negation
#: before them answers the smoking question, not another one
_SMOKES = (
    "smokes", "smoked", "pali", "palil", "palila", "kouri", "kouril", "kourila", "fuma", "fumaba", "fumeaza",
    "fumeza", "пуши", "пушил", "пушила", "καπνιζε", "καπνιζει",
)

#: names notes give procedures (and smoking) that their questions do not spell out (folded)
ABBREVIATIONS: Mapping[str, tuple[str, ...]] = {
    "thrombolysis": (
        "ivt", "ивт", "rtpa", "rt pa", "tpa", "t pa", "alteplase", "alteplasa", "alteplaza",
        "алтеплаза", "αλτεπλαση", "actilyse", "tenecteplase", "tenecteplasa", "tnk",
        "fibrinolysis", "fibrinolisis", "fibrinolitico", "fibrinolitica", "fibrinolytic", "fibrinoliza",
        "trombolitico", "trombolitica", "trombolityczne", "trombolitic", "trombolyza", "trombolyzovan",
        "trombolyzovana", "тромболитично", "θρομβολυτικη",
    ),
    "thrombectomy": (
        "mt", "мт", "evt", "tici", "mtici", "trombektomie", "trombektomia", "trombectomie", "trombectomia",
        "тромбектомия", "θρομβεκτομη", "stent retriever", "endovascular", "endovaskularni", "wewnatrznaczyniowe",
        "ендоваскуларно", "ενδαγγειακη", "trombolisis mecanica", "mechanical thrombolysis", "tromboliza mecanica",
    ),
    "risk_smoker": _SMOKES,
    "risk_smoker_last_10_years": _SMOKES,
}

#: Words that give a reason for not doing something: a span that is only a reason ("due to late
#: arrival") states the treatment was not done. Unambiguous cues only ("por", "pro" also mean "for").
REASONS: Mapping[str, tuple[str, ...]] = {
    "en": ("due to", "because of", "owing to", "in view of"),
    "bg": ("поради", "заради", "тъй като"),
    "cs": ("kvůli", "vzhledem k", "z důvodu"),
    "el": ("λόγω", "επειδή"),
    "es": ("debido a", "ya que", "dado que", "a causa de"),
    "pl": ("z powodu", "ze względu na"),
    "ro": ("din cauza", "datorită", "deoarece", "întrucât"),
}

_SHORT = 3  # names this short ("AH", "DM", "MT") match as whole words only (a trailing digit aside: "DM2")

#: words of multi-word term names that name no topic on their own ("arterial" of "arterial hypertension")
NAME_QUALIFIERS = _wordset(
    """
    of in de del la el sau or and the use drugs drug oral orales high blood pressure arterial arterialni
    arteriala tetnicze артериална αρτηριακη mellitus leki лекарства φαρμακα
    """
)

#: International Nonproprietary Name stems of a drug class (WHO INN stems, and their Cyrillic and Greek
#: spellings): "ramipril", "βαλσαρτάνη", "бизопролол" are antihypertensives though the catalogue's
#: vocabulary lists only the class names. Keyed by the concept's vocabulary term (``extra.term``'s end).
INN_STEMS: Mapping[str, tuple[str, ...]] = {
    "drug-antihypertensives": (
        "pril", "pryl", "прил", "πριλ", "sartan", "сартан", "σαρταν", "olol", "олол", "ολολ",
        "dilol", "дилол", "διλολ",
        "dipin", "dypin", "дипин", "διπιν", "thiazid", "tiazid", "тиазид", "θειαζιδ", "indapamid",
        "индапамид", "ινδαπαμιδ", "doxazosin", "urapidil", "verapamil", "diltiazem", "clonidin",
        "moxonidin", "spironolact",
    ),
    "drug-antidiabetics": (
        "metformin", "метформин", "μετφορμιν", "gliptin", "глиптин", "γλιπτιν", "gliflozin", "глифлозин",
        "γλιφλοζιν", "glutid", "глутид", "γλουτιδ", "gliclazid", "гликлазид", "glimepirid", "глимепирид",
        "insulin", "inzulin", "инсулин", "ινσουλιν", "hipoglucemiant", "hypoglyk", "hypoglycaem",
    ),
    "drug-statin": ("statin", "statyn", "статин", "στατιν"),
}
_INN_MIN_WORD = 6  # "april" ends in "pril" but is no drug
_QUESTION_WORD = 5  # shorter question words are function words ("στον", "have", "este")


@functools.lru_cache(maxsize=4096)
def _topic(concept_id: str, questions: tuple[str, ...], names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The concept's topic as token tuples; a span mentions it when some tuple's tokens all match its words."""
    phrases = {tuple(fold(n).split()) for n in names if fold(n)}
    phrases |= {tuple(fold(n).split()) for n in ABBREVIATIONS.get(concept_id, ()) if fold(n)}
    # a multi-word name's distinctive words count alone: "ictus" of "ictus previo", "CMP" of "prodělaná CMP"
    phrases |= {(tok,) for n in names for tok in fold(n).split() if len(tok) >= 2 and tok not in NAME_QUALIFIERS}
    for q in questions:
        for word in fold(q).split():
            if len(word) >= _QUESTION_WORD and word not in GENERIC and not word.isdigit():
                phrases.add((word,))
    return tuple(sorted(phrases))


def _word_match(name_tok: str, word: str) -> bool:
    """Whole words, or one stem: a shared prefix of 5+ letters and over half the longer word."""
    if len(name_tok) <= _SHORT:
        return name_tok == word or (name_tok == word.rstrip("0123456789") and word[:1].isalpha())
    if name_tok == word:
        return True
    common = 0
    for a, b in zip(name_tok, word):
        if a != b:
            break
        common += 1
    return common >= 5 and common >= 0.55 * max(len(name_tok), len(word))


def mentions_topic(text: str, concept: Concept) -> bool:
    """Whether ``text`` names the concept's topic (a term name, a question content word, an abbreviation)."""
    return _names_topic(fold(text).split(), concept)


def _names_topic(words: list[str], concept: Concept) -> bool:
    if not words:
        return False
    questions = tuple(q for qs in concept.questions.values() for q in qs)
    for phrase in _topic(concept.id, questions, tuple(concept.term_names)):
        if all(any(_word_match(tok, w) for w in words) for tok in phrase):
            return True
    term = str(concept.extra.get("term", "")).rpartition("#")[2]
    stems = INN_STEMS.get(term, ())
    return any(len(w) >= _INN_MIN_WORD and stem in w for w in words for stem in stems)


class TopicIndex:
    """Which of ``concepts``' topics a text names, memoised per text and folded once: the reader asks it of
    every candidate span of every yes/no question of a note, and those spans repeat from question to question."""

    def __init__(self, concepts: Sequence[Concept]) -> None:
        self.concepts = tuple(concepts)
        self._ids = frozenset(c.id for c in self.concepts)
        self._memo: dict[str, frozenset[str]] = {}

    def named(self, text: str) -> frozenset[str]:
        found = self._memo.get(text)
        if found is None:
            words = fold(text).split()
            found = self._memo[text] = frozenset(c.id for c in self.concepts if _names_topic(words, c))
        return found

    def about_another(self, text: str, concept: Concept) -> bool:
        """:func:`about_another_topic` against this index's concepts."""
        named = self.named(text)
        own = concept.id in named if concept.id in self._ids else mentions_topic(text, concept)
        return not own and any(cid != concept.id for cid in named)


def about_another_topic(text: str, concept: Concept, others: Sequence[Concept]) -> bool:
    """Whether ``text`` names the topic of one of ``others`` and not ``concept``'s own: "MT neindikována",
    "No IVT" or "Χωρίς ιστορικό ΑΕΕ" state nothing about hypertension, however negated they are.

    Concepts sharing the topic (a home and a discharge statin) never count against each other: the
    span names the concept's own topic as well.
    """
    return TopicIndex(others).about_another(text, concept)


def is_yes_no(text: str, lang: str) -> bool:
    """Whether ``text`` is, as a whole, a yes/no word of the language or English."""
    f = fold(text)
    return any(f == fold(w) for group in dict.fromkeys((lang, "en")) for w in (*YES.get(group, ()), *NO.get(group, ())))


@functools.cache
def _reason_regex(lang: str) -> re.Pattern[str] | None:
    cues = [*REASONS.get(lang, ()), *REASONS["en"]] if lang != "en" else list(REASONS["en"])
    if not cues:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(c) for c in sorted(set(cues), key=len, reverse=True))})(?!\w)")


def gives_reason(text: str, lang: str) -> bool:
    """Whether ``text`` gives a reason ("due to late arrival", "поради изтекъл прозорец")."""
    rx = _reason_regex(lang)
    return rx is not None and rx.search(text.lower()) is not None
