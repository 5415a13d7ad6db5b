"""Registry of the language modules (language code -> lexicon)."""

from __future__ import annotations

from kgqa.synth.lang import bg, cs, el, en, es, pl, ro
from kgqa.synth.lexicon import Lexicon

LEXICONS: dict[str, Lexicon] = {m.LEXICON.lang: m.LEXICON for m in (bg, cs, el, en, es, pl, ro)}


def lexicon_for(lang: str) -> Lexicon:
    try:
        return LEXICONS[lang]
    except KeyError:
        raise ValueError(
            f"no synthetic-note lexicon for language {lang!r}; valid: {', '.join(sorted(LEXICONS))}"
        ) from None
