"""Language- and script-aware normalisation of labels and mentions into lookup keys.

One function, :func:`fold`, turns a label or a mention into the key both are indexed and
looked up by: NFKC (full-width and ligature forms), case folding (which also maps Greek final
sigma to sigma), accents removed (Greek tonos and dialytika, Czech háček, Romanian comma/cedilla
s and t, Polish ogonek …), letters that do not decompose mapped by hand (ł, đ, ø …), punctuation
and hyphens to spaces. Keys are accent-insensitive on purpose: clinicians drop diacritics in
notes ("ictus isquemico", "fibrilace sini") and the fuzzy stage should not pay for it.

:func:`strip_dosage` removes strengths, schedules and routes from drug mentions
("Xarelto 20 mg 1-0-0 p.o." → "Xarelto"), and :func:`transliterate` maps Greek and
Cyrillic to Latin so that a brand written in the note's script ("Ксарелто") can reach the
Latin brand name.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters NFD does not decompose into base + combining mark.
_EXTRA_FOLD = str.maketrans(
    {"ł": "l", "đ": "d", "ð": "d", "ø": "o", "ħ": "h", "ı": "i", "ŀ": "l", "þ": "th", "æ": "ae", "œ": "oe"}
)
# Apostrophes vanish ("Parkinson's" → "parkinsons"); every other non-alphanumeric is a separator.
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """The accent-, case- and punctuation-insensitive key of ``text`` (may be empty)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_EXTRA_FOLD)
    text = _APOSTROPHES.sub("", text)
    return _NON_WORD.sub(" ", text).strip()


def casefold(text: str) -> str:
    """Case-folded, NFKC, whitespace-collapsed text with its accents kept (ties between folded keys)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# --------------------------------------------------------------------------- drugs

# Strength units in the seven languages' usual spellings (Latin, Cyrillic and Greek script).
_UNITS = (
    r"mg|mcg|µg|μg|ug|g|kg|ml|mL|l|iu|ie|ui|j\.?|m\.?j\.?|u|units?|jednotek|jednostek|"
    r"мг|мкг|г|мл|ед|ме|mmol|mg/kg|mg/ml|%|"
    r"χιλ\.?|mgr"
)
_NUMBER = r"\d+(?:[.,]\d+)?"
_STRENGTH = re.compile(
    rf"(?<!\w){_NUMBER}(?:\s*[x×]\s*{_NUMBER})?\s*(?:{_UNITS})(?:\s*/\s*(?:d|den|day|dzień|zi|ден|ημέρα|kg|h|hod|ml))?(?!\w)",
    re.IGNORECASE,
)
# Schedules "1-0-1", "1/2-0-0", "0–0–1".
_SCHEDULE = re.compile(r"(?<!\w)(?:\d+(?:/\d+)?\s*[-–]\s*){2,3}\d+(?:/\d+)?(?!\w)")
# Routes, forms and frequencies that travel with drug names in notes.
_DRUG_NOISE = re.compile(
    r"(?<!\w)(?:p\.?\s?o\.?|i\.?\s?v\.?|s\.?\s?c\.?|i\.?\s?m\.?|tbl|tab|tabs|tablets?|caps?|cps|inj|amp|"
    r"sol|susp|gtt|bid|tid|qid|qd|od|mane|nocte|x\s*\d+|\d+\s*x|\d+\s*[x×]\s*(?:denně|daily|dziennie|"
    r"diario|día|dia|zilnic|дневно|ημερησίως)|denně|daily|dziennie|zilnic|дневно|ημερησίως|"
    r"табл|таблетки|δισκία|comprimidos?|comprimate|tabletki)(?!\w)\.?",
    re.IGNORECASE,
)
_LEFTOVER_NUMBER = re.compile(rf"(?<!\w){_NUMBER}(?!\w)")


def strip_dosage(text: str) -> str:
    """``text`` without strengths, schedules, routes and forms; the original if nothing would be left."""
    stripped = _SCHEDULE.sub(" ", text)
    stripped = _STRENGTH.sub(" ", stripped)
    stripped = _DRUG_NOISE.sub(" ", stripped)
    stripped = _LEFTOVER_NUMBER.sub(" ", stripped)
    stripped = " ".join(stripped.replace("(", " ").replace(")", " ").split()).strip(" ,;:/+-")
    return stripped if fold(stripped) else text


# --------------------------------------------------------------------------- scripts

# Bulgarian streamlined system (2009) and ELOT 743-like Greek, applied to already folded keys
# (so Greek has no tonos and no final sigma left to care about).
_TRANSLIT = str.maketrans(
    {
        # Cyrillic (Bulgarian, plus Russian/Ukrainian letters seen in drug names)
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i",
        "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
        "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sht", "ъ": "a", "ь": "y",
        "ю": "yu", "я": "ya", "ы": "y", "э": "e", "ё": "e", "є": "e", "і": "i", "ї": "i",
        # Greek
        "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i",
        "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s",
        "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
    }
)
_NON_LATIN = re.compile(r"[\u0370-\u03ff\u0400-\u04ff]")


def has_non_latin(text: str) -> bool:
    """True when ``text`` contains Greek or Cyrillic letters."""
    return bool(_NON_LATIN.search(text))


def transliterate(key: str) -> str:
    """Latin transliteration of a folded key (Greek and Cyrillic letters; others unchanged)."""
    # Greek digraphs first: "ου" is u, "μπ" at a word start is b, "ντ" is d (Ξαρέλτο, Λιπιτόρ …).
    key = key.replace("ου", "u").replace("αυ", "av").replace("ευ", "ev")
    key = re.sub(r"(?<!\w)μπ", "b", key).replace("μπ", "mb")
    key = re.sub(r"(?<!\w)ντ", "d", key).replace("ντ", "nd").replace("γκ", "g")
    return key.translate(_TRANSLIT)


# --------------------------------------------------------------------------- content words

# Function words of the seven languages (folded: no accents). Dropped from the strings the fuzzy
# scorer compares, so "infarto agudo de miocardio" and "infarto agudo miocardio" score 1.0; never
# dropped from exact-match keys. Measured on CodiEsp dev: +0.5 points acc@1 (docs/linking.md).
STOPWORDS: frozenset[str] = frozenset(
    ["a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with", "without", "al", "con", "de", "del", "el", "en", "la", "las", "lo", "los", "o", "para", "por", "sin", "su", "sus", "u", "un", "una", "unas", "unos", "y", "e", "a", "do", "i", "k", "na", "o", "od", "po", "s", "se", "u", "v", "ve", "z", "ze", "za", "pro", "pri", "bez", "nebo", "jako", "a", "do", "i", "na", "o", "od", "po", "przez", "w", "we", "z", "ze", "za", "bez", "lub", "oraz", "dla", "przy", "a", "al", "ale", "cu", "de", "din", "in", "la", "pe", "pentru", "si", "sau", "fara", "prin", "o", "un", "una", "unei", "unui", "и", "в", "във", "на", "с", "със", "от", "за", "по", "при", "без", "или", "към", "до", "ο", "η", "το", "οι", "τα", "του", "τησ", "των", "τον", "την", "με", "σε", "και", "απο", "για", "χωρισ", "η", "στο", "στη", "στην", "στον", "στα", "στισ", "στουσ"]
)


def content_key(key: str) -> str:
    """A folded key without function words, its tokens sorted (what token_sort_ratio compares)."""
    tokens = key.split()
    content = [t for t in tokens if t not in STOPWORDS]
    return " ".join(sorted(content or tokens))
