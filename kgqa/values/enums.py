"""Enumeration members and yes/no answers matched against multilingual labels (exact and normalised).

Matching is deliberately conservative — the linker does fuzzy matching later:

* labels written in capitals (abbreviations: "ICH", "AF", "SAK") and capitalised labels of three
  characters ("Mrs") match case-sensitively as whole words of the original span, so "is" never reads
  as "IS" (ischaemic stroke) and "mRS 2" never as "Mrs";
* other labels match after case-folding and stripping accents, as whole words, or token by token
  in any order with inflection-tolerant tokens (a shared prefix of all but 2 characters, for words of
  5+ letters: "ischemické" ~ "ischemická", "θρομβόλυσης" ~ "θρομβόλυση");
* labels of one or two characters ("M", "Ж") must be the whole span;
* the longest matching label wins; the note's language is tried first, then English, then the rest.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from kgqa.types import LANGUAGES, Concept, EnumMember, Link, Value, ValueKind

YES: dict[str, tuple[str, ...]] = {
    "en": ("yes", "y", "positive", "present", "done", "given", "performed", "true", "prescribed"),
    "bg": ("да", "положителен", "налице", "проведена", "направена", "предписан", "назначен"),
    "cs": ("ano", "pozitivní", "přítomen", "provedena", "provedeno", "podána", "předepsán", "předepsána"),
    "el": ("ναι", "θετικό", "παρόν", "έγινε", "χορηγήθηκε", "συνταγογραφήθηκε"),
    "es": ("sí", "si", "positivo", "presente", "realizada", "realizado", "administrada", "prescrito", "pautado"),
    "pl": ("tak", "obecny", "dodatni", "wykonano", "podano", "zalecono"),
    "ro": ("da", "prezent", "pozitiv", "efectuată", "efectuat", "administrată", "prescris"),
}
NO: dict[str, tuple[str, ...]] = {
    "en": ("no", "n", "negative", "absent", "none", "not done", "not given", "false"),
    "bg": ("не", "няма", "отрицателен", "не е проведена"),
    "cs": ("ne", "negativní", "nepřítomen", "neprovedena", "nepodána"),
    "el": ("όχι", "αρνητικό", "δεν έγινε"),
    "es": ("no", "negativo", "ausente", "no realizada"),
    "pl": ("nie", "brak", "ujemny", "nie wykonano", "nie podano"),
    "ro": ("nu", "absent", "negativ", "neefectuată"),
}


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Case-folded, accents stripped, punctuation to spaces, spaces collapsed (Greek ς folds to σ)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w%+<>=]+", " ", stripped).split())


def _tokens(text: str) -> list[str]:
    return fold(text).split()


def _token_match(label_tok: str, span_tok: str) -> bool:
    if label_tok == span_tok:
        return True
    if len(label_tok) >= 5 and len(span_tok) >= 5:
        common = 0
        for a, b in zip(label_tok, span_tok):
            if a != b:
                break
            common += 1
        return common >= max(len(label_tok), len(span_tok)) - 2 and common >= 4
    return False


@functools.cache
def _word_regex(text: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", flags)


def _as_written(label: str) -> bool:
    """Labels matched case-sensitively: abbreviations ("ICH", "iCMP") and short capitalised titles
    ("Mrs", which folded would be every "mRS" of a note)."""
    return (
        label.isupper()
        or (any(c.isupper() for c in label[1:]) and " " not in label)
        or (len(label) <= 3 and label[:1].isupper())
    )


def label_matches(label: str, span: str) -> bool:
    """Does ``label`` occur in ``span`` under the rules above?"""
    return _match_quality(label, span) > 0


def _match_quality(label: str, span: str) -> int:
    """2: ``label``'s words all occur in ``span`` as written (folded, any order); 1: only inflection-tolerant; 0: no."""
    if len(label) <= 2:
        return 2 if fold(label) == fold(span) or label.strip() == span.strip() else 0
    if _as_written(label):
        return 2 if _word_regex(label).search(span) is not None else 0
    fl, fs = fold(label), fold(span)
    if not fl:
        return 0
    if _word_regex(fl).search(fs):
        return 2
    span_toks = fs.split()
    if not all(any(_token_match(lt, st) for st in span_toks) for lt in fl.split()):
        return 0
    return 2 if set(fl.split()) <= set(span_toks) else 1


def _lang_order(lang: str) -> list[str]:
    return [lang] + (["en"] if lang != "en" else []) + [x for x in LANGUAGES if x not in (lang, "en")]


def match_member(span: str, members: Sequence[EnumMember], lang: str) -> tuple[EnumMember, str] | None:
    """The member whose label matches ``span`` best, with that label.

    Best: a label found as written beats one matched only through inflection ("Pacjent" is the
    label "pacjent", not an inflected "pacjentka"), then the longest label; the note's language first.
    """
    for group in _lang_order(lang):
        best: tuple[tuple[int, int], EnumMember, str] | None = None
        for member in members:
            for label in member.labels.get(group, ()):
                quality = _match_quality(label, span)
                if quality and (best is None or (quality, len(label)) > best[0]):
                    best = ((quality, len(label)), member, label)
        if best is not None:
            return best[1], best[2]
    return None


def yes_no(span: str, lang: str) -> bool | None:
    """True/False when the whole span is a yes/no word of the note's language (or English)."""
    f = fold(span)
    for group in dict.fromkeys((lang, "en")):
        if f in {fold(w) for w in NO.get(group, ())}:
            return False
        if f in {fold(w) for w in YES.get(group, ())}:
            return True
    return None


def chosen_member(concept: Concept, value: Value, links: Sequence[Link]) -> EnumMember | None:
    """The member a fact chose: by member IRI (vocabulary or target), else by best link, else by id.

    One rule for the pipeline (an enum value that resolves to no member is unparsed) and the RDF
    layer (which writes the member's IRI).
    """
    candidates = [value.member_iri] if value.member_iri else []
    candidates += [link.iri for link in links[:1]]
    for iri in candidates:
        for member in concept.members:
            if iri in (member.iri, member.target_iri):
                return member
    if not value.member_iri and isinstance(value.value, str):
        for member in concept.members:
            if member.id == value.value:
                return member
    return None


@dataclass(frozen=True)
class Mention:
    """Where a member label occurs in a text: ``text[start:end]``.

    ``whole``: the label is one or two characters ("M", "Ж"), which ``label_matches`` accepts only as
    the whole span, so a span naming it must be exactly this mention.
    """

    start: int
    end: int
    whole: bool = False

    def named_by(self, start: int, end: int) -> bool:
        """Whether the span ``[start, end)`` names the member through this mention."""
        if self.whole:
            return (start, end) == (self.start, self.end)
        return start <= self.start and self.end <= end


_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class _Words:
    """The words of a text: spans, folded forms, and an index from a folded form (or, for words of 5+
    letters, its first 4 letters — all an inflection-tolerant match can share) to word positions."""

    spans: tuple[tuple[int, int], ...]
    folded: tuple[str, ...]
    index: dict[str, tuple[int, ...]]

    def matching(self, token: str) -> list[int]:
        """Positions of the words ``_token_match(token, word)`` accepts."""
        exact = list(self.index.get(token, ()))
        if len(token) < 5:
            return exact
        return sorted(set(exact) | {i for i in self.index.get(token[:4] + "\0", ()) if _token_match(token, self.folded[i])})


@functools.lru_cache(maxsize=64)
def _words(text: str) -> _Words:
    spans, folded = [], []
    index: dict[str, list[int]] = {}
    for i, m in enumerate(_WORD.finditer(text)):
        f = fold(m.group())  # word by word: character positions stay those of ``text``
        spans.append(m.span())
        folded.append(f)
        index.setdefault(f, []).append(i)
        if len(f) >= 5:
            index.setdefault(f[:4] + "\0", []).append(i)
    return _Words(tuple(spans), tuple(folded), {k: tuple(v) for k, v in index.items()})


def member_mentions(text: str, members: Sequence[EnumMember], lang: str) -> tuple[Mention, ...]:
    """Every place ``text`` names one of ``members`` by a label (any language), under ``label_matches``' rules.

    The reader uses it to keep an enumeration concept's answer to spans that name an allowed value
    (``reader.member_spans``): a span the values stage could not read as a member is no answer. A
    multi-word label is found as a run of as many consecutive words, in any order, each matching
    one label token (inflection-tolerant, as in ``label_matches``), allowing one extra word inside
    ("исхемичен мозъчен инсулт" names "исхемичен инсулт"). Labels of one or two characters count in
    the note's language and English only: the Spanish "V" (varón) is a Czech sentence's first word.
    """
    words = _words(text)
    found: set[Mention] = set()
    for member in members:
        for group, labels in member.labels.items():
            for label in labels:
                if len(label) <= 2 and group not in (lang, "en"):
                    continue
                found.update(_label_mentions(text, label, words))
    return tuple(sorted(found, key=lambda m: (m.start, m.end, m.whole)))


def _label_mentions(text: str, label: str, words: _Words) -> list[Mention]:
    if len(label) <= 2:
        # as written (case and accents): a folded "Ž" would be every Czech/Polish preposition "z"
        return [Mention(*m.span(), whole=True) for m in _word_regex(label.strip()).finditer(text)] if label.strip() else []
    if _as_written(label):
        return [Mention(*m.span()) for m in _word_regex(label).finditer(text)]
    tokens = fold(label).split()
    if not tokens:
        return []
    matches = [set(words.matching(t)) for t in tokens]
    k = len(tokens)
    if k == 1:
        return [Mention(*words.spans[i]) for i in sorted(matches[0])]
    out = []
    # a run of k (or k + 1) consecutive words, first and last matching, in which every label token
    # matches some word
    n = len(words.spans)
    matched = set().union(*matches)
    for s in sorted(matched):
        for length in (k, k + 1):
            last = s + length - 1
            if last < n and last in matched and all(any(s <= i <= last for i in hit) for hit in matches):
                out.append(Mention(words.spans[s][0], words.spans[s + length - 1][1]))
                break
    return out


#: value kinds whose labelled members bound the answer: an enumeration's allowed values, and a drug
#: concept's scheme (the thrombolytic given is alteplase or tenecteplase, never "apixaban" or "cardioembolic")
_MEMBER_KINDS = frozenset({ValueKind.ENUM, ValueKind.DRUG})


def spans_naming_members(concept: Concept, text: str, lang: str) -> tuple[Mention, ...] | None:
    """The mentions an answer of ``concept`` must contain (an enumeration, or a drug concept, with
    labelled members), else None."""
    if concept.kind not in _MEMBER_KINDS or not any(m.labels for m in concept.members):
        return None
    return member_mentions(text, concept.members, lang)
