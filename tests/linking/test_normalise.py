"""Normalisation keys: case, Unicode forms, accents, Greek tonos/final sigma, punctuation, dosage, scripts."""

import pytest

from kgqa.linking.normalise import fold, has_non_latin, strip_dosage, transliterate


@pytest.mark.parametrize(
    "text, key",
    [
        ("Ictus Isquémico", "ictus isquemico"),  # es accents
        ("Fibrilace síní", "fibrilace sini"),  # cs
        ("Łagodne nadciśnienie", "lagodne nadcisnienie"),  # pl ł does not decompose
        ("Hipertensiune arterială", "hipertensiune arteriala"),  # ro
        ("Ș ş Ț ţ", "s s t t"),  # ro comma-below and cedilla forms fold alike
        ("ΚΟΛΠΙΚΉ ΜΑΡΜΑΡΥΓΉ", "κολπικη μαρμαρυγη"),  # el capitals with tonos
        ("κολπικής", "κολπικησ"),  # el final sigma
        ("Мозъчен Инсулт", "мозъчен инсулт"),  # bg Cyrillic keeps its script
        ("Parkinson's disease", "parkinsons disease"),  # apostrophe vanishes
        ("rt-PA", "rt pa"),  # hyphen separates
        ("  diabetes   mellitus,  type 2 ", "diabetes mellitus type 2"),
        ("ﬁbrinogen", "fibrinogen"),  # NFKC ligature
        ("ＣＴ", "ct"),  # full-width
        ("Straße", "strasse"),  # casefold, not lower
        ("---", ""),
    ],
)
def test_fold(text, key):
    assert fold(text) == key


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Xarelto 20 mg", "xarelto"),
        ("Eliquis 5mg 1-0-1", "eliquis"),
        ("Aspirin 100 mg p.o. daily", "aspirin"),
        ("Clopidogrel 75mg/d", "clopidogrel"),
        ("Atorvastatin 40 mg tbl 0-0-1", "atorvastatin"),
        ("Actilyse 0,9 mg/kg", "actilyse"),
        ("Clexane 0,4 ml s.c.", "clexane"),
        ("клопидогрел 75 мг", "клопидогрел"),
        ("Sortis 20 mg 1x denně", "sortis"),
        ("Vitamin K", "vitamin k"),  # a letter after a name is not a dose
        ("100 mg", "100 mg"),  # nothing would be left: keep the text
    ],
)
def test_strip_dosage(text, expected):
    assert fold(strip_dosage(text)) == expected


@pytest.mark.parametrize(
    "text, latin",
    [("Ксарелто", "ksarelto"), ("Ξαρέλτο", "xarelto"), ("Ασπιρίνη", "aspirini"), ("Клопидогрел", "klopidogrel"), ("Μπρίλικ", "brilik")],
)
def test_transliterate(text, latin):
    assert has_non_latin(fold(text))
    assert transliterate(fold(text)) == latin


def test_latin_text_is_not_non_latin():
    assert not has_non_latin("xarelto")
