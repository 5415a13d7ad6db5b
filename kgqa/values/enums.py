"""Enumeration members and yes/no answers matched against multilingual labels (exact and normalised).

Matching is deliberately conservative — the linker does fuzzy matching later:

* labels written in capitals (abbreviations: "ICH", "AF", "SAK") match case-sensitively as whole
  words of the original span, so "is" never reads as "IS" (ischaemic stroke);
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

from kgqa.types import LANGUAGES, Concept, EnumMember, Link, Value

YES: dict[str, tuple[str, ...]] = {
    "en": ("yes", "y", "positive", "present", "done", "given", "performed", "true"),
    "bg": ("да", "положителен", "налице", "проведена", "направена"),
    "cs": ("ano", "pozitivní", "přítomen", "provedena", "provedeno", "podána"),
    "el": ("ναι", "θετικό", "παρόν", "έγινε", "χορηγήθηκε"),
    "es": ("sí", "si", "positivo", "presente", "realizada", "realizado", "administrada"),
    "pl": ("tak", "obecny", "dodatni", "wykonano", "podano"),
    "ro": ("da", "prezent", "pozitiv", "efectuată", "efectuat", "administrată"),
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


def label_matches(label: str, span: str) -> bool:
    """Does ``label`` occur in ``span`` under the rules above?"""
    if len(label) <= 2:
        return fold(label) == fold(span) or label.strip() == span.strip()
    if label.isupper() or (any(c.isupper() for c in label[1:]) and " " not in label):
        return _word_regex(label).search(span) is not None
    fl, fs = fold(label), fold(span)
    if not fl:
        return False
    if _word_regex(fl).search(fs):
        return True
    span_toks = fs.split()
    return all(any(_token_match(lt, st) for st in span_toks) for lt in fl.split())


def _lang_order(lang: str) -> list[str]:
    return [lang] + (["en"] if lang != "en" else []) + [x for x in LANGUAGES if x not in (lang, "en")]


def match_member(span: str, members: Sequence[EnumMember], lang: str) -> tuple[EnumMember, str] | None:
    """The member whose label matches ``span`` best (longest label; note language first), with that label."""
    for group in _lang_order(lang):
        best: tuple[int, EnumMember, str] | None = None
        for member in members:
            for label in member.labels.get(group, ()):
                if label_matches(label, span) and (best is None or len(label) > best[0]):
                    best = (len(label), member, label)
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
