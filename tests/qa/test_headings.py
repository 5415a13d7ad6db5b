"""Section headings and field labels (kgqa.qa.headings): which text names a topic rather than a fact."""

import pytest

from kgqa.qa.headings import heading_spans, outside_headings


def headings(text: str) -> list[str]:
    return [text[s:e] for s, e in heading_spans(text)]


@pytest.mark.parametrize(
    "text,expected",
    [
        # a heading line after a blank line, text below it — in each of the seven languages
        ("Epikriza\n\nHistoria clínica previa\nComorbilidades: HTA.", ["Historia clínica previa", "Comorbilidades:"]),
        ("x.\n\nПредшестващи заболявания\nОтрича прекаран инсулт.", ["Предшестващи заболявания"]),
        ("x.\n\nPředchozí onemocnění\nSt. p. iktu 2017.", ["Předchozí onemocnění"]),
        ("x.\n\nΠροηγούμενα νοσήματα\nΠαλαιό έμφρακτο εγκεφάλου 2013.", ["Προηγούμενα νοσήματα"]),
        ("x.\n\nMedical history\n- Old stroke 2020.", ["Medical history"]),
        ("x.\n\nDotychczasowe choroby\nStary udar 2019.", ["Dotychczasowe choroby"]),
        ("x.\n\nIstoric medical: Nu are fumător.", ["Istoric medical:"]),
        # the note's first line opens it; CRLF line ends; labels after a bullet, chained labels
        ("Discharge report\r\nAge 64.", ["Discharge report"]),
        ("- Придружаващи заболявания: ПМ.", ["Придружаващи заболявания:"]),
        ("Historia clínica previa: Comorbilidades: HTA.", ["Historia clínica previa:", "Comorbilidades:"]),
        ("Dg.: Diagnostic final - AVC ischemic.", ["Dg.:"]),
        ("Δ/γνωση: ισχαιμικό ΑΕΕ.", ["Δ/γνωση:"]),
    ],
)
def test_headings_and_labels_are_found(text: str, expected: list[str]) -> None:
    assert headings(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "x.\n\n- Hypertension\n- Diabetes",  # bullet items are facts, not headings
        "x.\n\nHypertension",  # nothing below: the last line of a list or a note, not a heading
        "x.\nHypertension\nDiabetes.",  # no blank line above: a line of a paragraph
        "x.\n\nNo previous stroke.\nMore.",  # sentence punctuation: a statement
        "x.\n\nNIHSS 4\nMore.",  # a digit: a value
        "Na UP od 11:39.",  # a time's colon is no label end
        "see https://example.org: the guideline",  # nor a URL's
        "Externare - la domiciliu. Tratament recomandat: ASA.",  # a sentence before the colon
        "The patient was admitted with a left-sided weakness: NIHSS 8.",  # too long for a label
    ],
)
def test_statements_are_not_headings(text: str) -> None:
    assert headings(text) == []


def test_outside_headings_rejects_every_overlap_and_nothing_else() -> None:
    text = "Epikriza\nVarón de 64 años.\n\nHistoria clínica previa\nComorbilidades: HTA. Niega ictus previos.\n"
    accept = outside_headings(text)
    spans = heading_spans(text)
    assert [text[s:e] for s, e in spans] == ["Epikriza", "Historia clínica previa", "Comorbilidades:"]
    for start in range(len(text)):
        for end in range(start + 1, len(text) + 1):
            overlaps = any(start < e and s < end for s, e in spans)
            assert accept(start, end) is not overlaps, (start, end, text[start:end])
    i = text.index("Niega")
    assert text[i : i + len("Niega ictus previos")] == "Niega ictus previos" and accept(i, i + 19)


def test_a_note_without_headings_accepts_every_span() -> None:
    accept = outside_headings("Old stroke 2020. NIHSS 4 at admission.")
    assert all(accept(s, s + 3) for s in range(30))
    assert heading_spans("") == ()
