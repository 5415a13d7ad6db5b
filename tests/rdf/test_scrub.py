"""Selector context without identifiers: notes built to leak (hospital numbers, birth numbers, dates of
birth, initials, header names, metadata) in the seven languages, through the builder and a TriG /
N-Quads round trip; the identifier patterns as a table; no masking of clinical text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import RDF

from kgqa.errors import ConfigError
from kgqa.rdf import OA, RdfBuilder, RdfConfig, read_dataset, write_dataset
from kgqa.rdf.scrub import PLACEHOLDER, NoteScrubber, identifier_spans
from kgqa.types import Answer, Fact, Note, Value, ValueKind

from .rdf_factories import CONCEPTS, RUN, TEST_ENV

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _fact(note: Note, concept: str, before: str, quote: str, value) -> Fact:
    """A fact whose span is ``quote`` right after ``before`` (authoring only: kgqa never re-finds spans)."""
    start = note.text.index(before + quote) + len(before)
    answer = Answer.from_note(note, concept, start, start + len(quote), score=5.0, null_score=-1.0,
                              confidence=0.9, question="?", question_lang="en")
    return Fact(note.id, concept, Value(ValueKind.INTEGER, value), answer=answer)


# (note, facts (concept, text before the span, span, value), identifiers that must not reach the graph)
LEAKY = [
    (Note(id="leak-cs", lang="cs", patient_id="CZ-778899",
          text="Jméno: Jan NOVÁK, RČ 450312/1234, nar. 12.3.1945\nč. chorobopisu 2024/00123 NIHSS 12\n"
               "Muž, 71 let, TK 170/95. Pan Novák (J. N.) přijat 15.4.2024, Novákovi podána alteplasa."),
     [("nihss_score", "2024/00123 NIHSS ", "12", 12), ("age", "Muž, ", "71", 71),
      ("systolic_pressure", "TK ", "170", 170)],
     ["Jan", "NOVÁK", "Novák", "Novákovi", "J. N.", "450312/1234", "12.3.1945", "2024/00123", "CZ-778899"]),
    (Note(id="leak-en", lang="en", patient_id="pt-4411",
          text="Name: John SMITH\nDOB: 03/06/1951 MRN: 00123456 Hosp. No. H-0098765\n"
               "NIHSS 19 in Mr Smith (J.S.), aged 73, BP 204/112. Tel +44 7700 900123, js@example.org. JS"),
     [("nihss_score", "NIHSS ", "19", 19), ("age", "aged ", "73", 73), ("systolic_pressure", "BP ", "204", 204)],
     ["John", "SMITH", "Smith", "J.S.", "03/06/1951", "00123456", "H-0098765", "7700 900123", "js@example.org",
      " JS"]),
    (Note(id="leak-bg", lang="bg", patient_id="bg-5566",
          text="Име: Иван Петров Иванов, ЕГН 4503121234, роден на 12.03.1945 г.\n"
               "Мъж на 68 г., NIHSS 12, RR 170/95. Г-н Иванов, ИЗ № 5567/24"),
     [("age", "Мъж на ", "68", 68), ("nihss_score", "NIHSS ", "12", 12), ("systolic_pressure", "RR ", "170", 170)],
     ["Иван", "Петров", "Иванов", "4503121234", "12.03.1945", "5567/24"]),
    (Note(id="leak-el", lang="el", patient_id="gr-1212",
          text="Όνομα: Γεώργιος Παπαδόπουλος, ΑΜΚΑ 12034512345, ημ. γέννησης 12/03/1945\n"
               "Άνδρας 73 ετών, NIHSS 10. κ. Παπαδόπουλου"),
     [("age", "Άνδρας ", "73", 73), ("nihss_score", "NIHSS ", "10", 10)],
     ["Γεώργιος", "Παπαδόπουλ", "12034512345", "12/03/1945"]),
    (Note(id="leak-es", lang="es", patient_id="es-3030",
          text="Nombre: María García López. NHC: 7654321. Fecha de nacimiento: 12/03/1945\n"
               "Mujer 81 a. NIHSS 8. Sra. García, DNI 12345678Z."),
     [("age", "Mujer ", "81", 81), ("nihss_score", "NIHSS ", "8", 8)],
     ["María", "García", "López", "7654321", "12/03/1945", "12345678Z"]),
    (Note(id="leak-pl", lang="pl", patient_id="pl-4040",
          text="Pacjent: Jan Kowalski, PESEL 45031212345, ur. 12.03.1945\n"
               "Mężczyzna, 58 lat. NIHSS 7, RR 160/90. pan Kowalskiego"),
     [("age", "Mężczyzna, ", "58", 58), ("nihss_score", "NIHSS ", "7", 7), ("systolic_pressure", "RR ", "160", 160)],
     ["Jan", "Kowalski", "45031212345", "12.03.1945"]),
    (Note(id="leak-ro", lang="ro", patient_id="ro-5050",
          text="Nume: Ion Popescu, CNP 1450312123456, data nașterii 12.03.1945, FO 1234/2024\n"
               "Bărbat 56 ani. NIHSS 5, TA 180/100. Dl. Popescu"),
     [("age", "Bărbat ", "56", 56), ("nihss_score", "NIHSS ", "5", 5), ("systolic_pressure", "TA ", "180", 180)],
     ["Ion", "Popescu", "1450312123456", "12.03.1945", "1234/2024"]),
    # identifiers known only from the note's metadata and patient id: no label, no identifier shape
    (Note(id="leak-meta", lang="en", patient_id="P-77",
          metadata={"patient_name": "Olivia Harper", "mrn": "A5522", "ward": "stroke unit 3"},
          text="Olivia, 66 (OH, A5522), P-77: NIHSS 9, Harper's BP 150/90 on arrival to stroke unit 3."),
     [("age", "Olivia, ", "66", 66), ("nihss_score", "NIHSS ", "9", 9), ("systolic_pressure", "BP ", "150", 150)],
     ["Olivia", "Harper", "OH", "A5522", "P-77"]),
]


def _builder(context: str = "scrubbed", **kw) -> RdfBuilder:
    return RdfBuilder(RdfConfig(selector_context=context, **kw), CONCEPTS, environ=TEST_ENV)


def _graphs(builder: RdfBuilder):
    graphs = [builder.note_graph(note, [_fact(note, *f) for f in facts], RUN) for note, facts, _ in LEAKY]
    return graphs + [builder.run_graph(RUN, [note for note, _, _ in LEAKY])]


def _quotes(ds):
    """(note graph id, exact, prefix, suffix) of every quote selector in a parsed dataset."""
    out = []
    for g in ds.graphs():
        for quote in g.subjects(RDF.type, OA.TextQuoteSelector):
            out.append((str(g.identifier), str(g.value(quote, OA.exact)), str(g.value(quote, OA.prefix) or ""),
                        str(g.value(quote, OA.suffix) or "")))
    return out


def _leaks(context: str, identifiers: list[str]) -> list[str]:
    """Identifiers (or any 4 characters of one: a cut-off birth number is a leak too) in ``context``."""
    found = []
    for ident in identifiers:
        n = min(len(ident), 4)
        if any(ident[i : i + n] in context for i in range(len(ident) - n + 1)):
            found.append(ident)
    return found


@pytest.mark.parametrize("fmt, name", [("trig", "g.trig"), ("nquads", "g.nq")])
def test_no_identifier_reaches_a_selector_context(tmp_path, fmt, name):
    ds = read_dataset(write_dataset(_graphs(_builder()), tmp_path / name, fmt))
    quotes = _quotes(ds)
    assert len(quotes) == sum(len(facts) for _, facts, _ in LEAKY)
    by_graph = {note.id: (note, idents) for note, _, idents in LEAKY}
    for graph_iri, exact, prefix, suffix in quotes:
        note, idents = by_graph[graph_iri.rsplit("/", 1)[-1]]
        assert not _leaks(prefix, idents) and not _leaks(suffix, idents), (note.id, prefix, exact, suffix)
        assert exact in note.text  # the span itself is the evidence: untouched
    assert any(PLACEHOLDER in p + s for _, _, p, s in quotes)


def test_the_notes_do_leak_with_raw_context(tmp_path):
    """The check above can fail: with raw context every leaky note puts an identifier in the graph."""
    ds = read_dataset(write_dataset(_graphs(_builder("raw")), tmp_path / "g.trig", "trig"))
    leaked = {g.rsplit("/", 1)[-1] for g, _, p, s in _quotes(ds)
              if _leaks(p + " " + s, {n.id: i for n, _, i in LEAKY}[g.rsplit("/", 1)[-1]])}  # fmt: skip
    assert leaked == {note.id for note, _, _ in LEAKY}


def test_the_span_and_its_offsets_stay_exact():
    builder = _builder()
    for note, facts, _ in LEAKY:
        g = builder.note_graph(note, [_fact(note, *f) for f in facts], RUN)
        for target in g.subjects(OA.hasSource, None):
            sel = {g.value(s, RDF.type): s for s in g.objects(target, OA.hasSelector)}
            pos, quote = sel[OA.TextPositionSelector], sel[OA.TextQuoteSelector]
            start, end = g.value(pos, OA.start).toPython(), g.value(pos, OA.end).toPython()
            assert str(g.value(quote, OA.exact)) == note.text[start:end]


def test_none_leaves_no_prefix_or_suffix():
    graphs = _graphs(_builder("none"))
    assert sum(len(list(g.triples((None, OA.exact, None)))) for g in graphs) == sum(len(f) for _, f, _ in LEAKY)
    for g in graphs:
        assert not list(g.triples((None, OA.prefix, None))) and not list(g.triples((None, OA.suffix, None)))


def test_pseudonymised_note_ids_are_masked_too():
    note = Note(id="Novak-450312", lang="cs", text="Pacient Novak-450312 přijat, NIHSS 12, TK 170/95.")
    fact = _fact(note, "nihss_score", "NIHSS ", "12", 12)
    shown = _builder(pseudonymise_notes=True).note_graph(note, [fact], RUN)
    kept = _builder(pseudonymise_notes=False).note_graph(note, [fact], RUN)
    assert "Novak-450312" not in str(next(shown.objects(None, OA.prefix)))
    # without pseudonymised note ids the id is in the graph anyway; the context keeps the text
    assert "Novak-450312" in str(next(kept.objects(None, OA.prefix)))


def test_an_unknown_context_mode_is_a_config_error():
    with pytest.raises(ConfigError, match=r"rdf.selector_context='scrub'.*scrubbed, none, raw"):
        _builder("scrub")


# ---------------------------------------------------------------------------- the patterns, as a table

MASKED = [
    # (text, identifier it must mask)
    ("RČ: 7851231234 NIHSS 4", "7851231234"),
    ("rodné číslo 785123/1234", "785123/1234"),
    ("r.č. 7851", "7851"),  # the start of a birth number, labelled
    ("PESEL: 85010112345.", "85010112345"),
    ("CNP 2850101123456", "2850101123456"),
    ("ЕГН 8501011234", "8501011234"),
    ("ΑΜΚΑ 01018512345", "01018512345"),
    ("NHC 445566", "445566"),
    ("MRN 4455", "4455"),
    ("hospital number: 99-1234", "99-1234"),
    ("NHS number 943 476 5919", "943 476 5919"),
    ("č. chorobopisu 12/2024", "12/2024"),
    ("nr historii choroby 5567/2024", "5567/2024"),
    ("historia clínica: 112233", "112233"),
    ("ИЗ № 4455/24", "4455/24"),
    ("FO 1234/2024", "1234/2024"),
    ("DOB 3 March 1945", "3 March 1945"),
    ("D.O.B.: 03/1945", "03/1945"),
    ("nar. 12. 3. 1945", "12. 3. 1945"),
    ("narozena 12.3.", "12.3."),
    ("ur. 5 maja 1950", "5 maja 1950"),
    ("data urodzenia: 05.05.1950", "05.05.1950"),
    ("fecha de nacimiento 5/5/50", "5/5/50"),
    ("nacida el 5 de mayo de 1950", "5 de mayo de 1950"),
    ("born at term", None),  # a date-of-birth label without a date masks nothing
    ("data nașterii: 05.05.1950", "05.05.1950"),
    ("născut la 5.05.1950", "5.05.1950"),
    ("дата на раждане: 05.05.1950", "05.05.1950"),
    ("ημερομηνία γέννησης 05/05/1950", "05/05/1950"),
    ("Mrs K., 73", "K."),
    ("paní Nováková", "Nováková"),
    ("г-жа Петрова", "Петрова"),
    ("seen by J. P. today", "J. P."),
    ("call 0044 20 7946 0958", "0044 20 7946 0958"),
    ("mail j.novak@nemocnice.cz", "j.novak@nemocnice.cz"),
    ("ID H-0012345", "H-0012345"),
    ("code 2024/001234", "2024/001234"),
]


@pytest.mark.parametrize("text, identifier", MASKED)
def test_identifier_patterns(text, identifier):
    spans = [text[s:e] for s, e in identifier_spans(text)]
    if identifier is None:
        assert spans == []
    else:
        assert identifier in spans, spans


KEPT = [
    "admitted 2024-05-06 10:25, BP 170/95 mmHg, NIHSS 12, glucose 7.2 mmol/L, INR 2.9",
    "Přijat 2. 9. 2025 v 17:40, TK 170/100, glykémie 7,3 mmol/l, mRS 0, alteplasa 0,9 mg/kg (63 mg)",
    "door-to-needle 41 min, door-to-groin 74 min, TICI 2b, ASPECTS 9, M1 occlusion",
    "Паціент 75 години, постъпва на 20.11.2023 г. в 16:10 ч., RR 160/85",
    "Pacjent lat 69, SOR 20.02.2024 o godz. 10:12, Nagły ból, tromboliza 90 mg",
    "Paciente de 59 años, varón, 240 kg, IMC 74 kg/m2, ictus 2019",
    "CT 14/9/23 at 15:05, platelets 250 000, LDL 3.1",
]


@pytest.mark.parametrize("text", KEPT)
def test_clinical_text_is_not_masked(text):
    assert identifier_spans(text) == []


def test_independent_notes_lose_nothing_but_initials():
    """47 independently written notes: the only identifier found is one patient's initial ("Mrs K.")."""
    found = []
    for name in ("independent.dev.gold.jsonl", "independent.test.gold.jsonl"):
        for line in (PROJECT_ROOT / "eval" / name).read_text(encoding="utf-8").splitlines():
            note = json.loads(line)["note"]
            found += [(note["id"], note["text"][s:e]) for s, e in identifier_spans(note["text"])]
    assert found == [("indep-en-04", "K.")]


def test_a_window_that_cuts_an_identifier_masks_its_visible_part():
    note = Note(id="n", lang="cs", text="RČ 450312/1234 NIHSS 12")
    scrubber = NoteScrubber(note)
    start = note.text.index("NIHSS")
    assert scrubber.prefix(start, 8) == PLACEHOLDER + " "  # raw: "12/1234 " (the birth number's end)
    assert scrubber.suffix(3, 6) == PLACEHOLDER  # raw: "450312" (its start)


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.lists(st.sampled_from(["NIHSS 12, ", "RČ 450312/1234 ", "nar. 12.3.1945 ", "TK 170/95 ",
                                                "Novák ", "J. N. ", "x, ", "\n"]), min_size=1, max_size=12),
       st.data())
def test_no_window_shows_an_identifier(header, pieces, data):
    """Any window over a note of identifiers and clinical text; names count once the header gave them."""
    text = ("Jméno: Jan NOVÁK\n" if header else "") + "".join(pieces) + "."
    note = Note(id="n", lang="cs", text=text)
    scrubber = NoteScrubber(note)
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    k = data.draw(st.integers(0, 40))
    for context in (scrubber.prefix(start, k), scrubber.suffix(end, k)):
        names = ["Jan", "NOVÁK", "Novák"] if header else []
        assert not _leaks(context, ["450312/1234", "12.3.1945", "J. N.", *names]), context
