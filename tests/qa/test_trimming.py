"""Span-edge trimming: a table of (text, raw span text, trimmed text)."""

import pytest

from kgqa.qa.trimming import trim_span

CASES = [
    ("NIHSS 8 points.", "8 points.", "8 points"),
    ("given (alteplase) today", "(alteplase", "alteplase"),
    ("given (alteplase) today", "(alteplase)", "alteplase"),
    ("a (b) or (c) d", "(b) or (c)", "(b) or (c)"),  # brackets that do not enclose the whole span stay
    ("dose 0.9 mg/kg, bolus", " 0.9 mg/kg,", "0.9 mg/kg"),
    ("bolus at 2:30 p.m. today", "2:30 p.m.", "2:30 p.m."),  # abbreviation dot kept
    ("value -2 on scale", "-2", "-2"),  # a sign is meaning, not punctuation
    ("glucose 5% of", "5%", "5%"),
    ("temp 38 °C.", "38 °C.", "38 °C"),
    ("a\u00a08\u00a0b", "\u00a08\u00a0", "8"),  # non-breaking spaces
    ("x\u200b8\u200by", "\u200b8\u200b", "8"),  # zero-width spaces
    ("line\r\n\t9\r\n", "\r\n\t9\r\n", "9"),  # CRLF and tab
    ("«Аспирин» 100 мг", "«Аспирин»", "Аспирин"),
    ("„Θρομβόλυση“ όχι", "„Θρομβόλυση“", "Θρομβόλυση"),
    ("ok 😀 done", " 😀 ", "😀"),  # emoji are content (So), not punctuation
    ("range 3-4 days", "3-4", "3-4"),  # a dash between characters is a range
    ("Comorbilidades:\n- ictus previo", "- ictus previo", "ictus previo"),  # a list bullet goes
    ("Diagnóstico final - ictus isquémico", "- ictus", "ictus"),  # a separator dash goes
    ("ictus isquémico - alta", "isquémico -", "isquémico"),
    ("• ΑΕΕ 2019", "• ΑΕΕ", "ΑΕΕ"),
    ("– udar – 2019", "– udar –", "udar"),
    ("value - -2 on scale", "- -2", "-2"),  # the bullet goes, the sign stays
    ("stop …", " …", None),
    ("(.)", "(.)", None),
]


@pytest.mark.parametrize("text,raw,expected", CASES)
def test_trim_table(text: str, raw: str, expected: str | None) -> None:
    start = text.index(raw)
    result = trim_span(text, start, start + len(raw))
    if expected is None:
        assert result is None
    else:
        assert result is not None
        assert text[result[0] : result[1]] == expected
        assert start <= result[0] < result[1] <= start + len(raw)  # only ever moves inward
