"""Structure of the generated HTML: every evidence span highlighted at its offsets, hostile text escaped,
the page self-contained."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
from report_htmltree import Element, parse

from kgqa.report import ReportConfig, write_report
from kgqa.report.render import note_text
from kgqa.types import Fact, Note, Value, ValueKind


@pytest.fixture
def report(tmp_path, notes, facts, concepts):
    return write_report(notes, facts, concepts, tmp_path / "out", run={"run_id": "r-1", "model": "tiny"})


def read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as fh:  # no newline translation: CRs count as offsets
        return fh.read()


def page(report, note_id: str) -> Element:
    return parse(read(report.notes[note_id]))


def segments(doc: Element) -> list[Element]:
    return doc.by_id("note-text").by_class("seg", "span")


def key_of(doc: Element, fact: Fact) -> str:
    """The page's key for ``fact``: the detail card naming its concept and offsets."""
    cards = [c for c in doc.by_class("fact-card") if c.attrs["data-concept"] == fact.concept_id
             and c.attrs.get("data-start") == (str(fact.answer.start) if fact.answer else None)]
    assert len(cards) == 1, f"{len(cards)} cards for {fact.concept_id}"
    return cards[0].attrs["data-fact"]


def test_segments_tile_the_note_text(report, notes):
    for note in notes:
        segs = segments(page(report, note.id))
        offsets = [(int(s.attrs["data-start"]), int(s.attrs["data-end"])) for s in segs]
        assert offsets[0][0] == 0 and offsets[-1][1] == len(note.text)
        assert all(a[1] == b[0] for a, b in pairwise(offsets))
        for seg, (start, end) in zip(segs, offsets):
            assert seg.text == note.text[start:end]
        assert "".join(s.text for s in segs) == note.text


def test_every_fact_span_is_highlighted_at_its_offsets(report, notes, facts):
    checked = 0
    for note in notes:
        doc = page(report, note.id)
        segs = segments(doc)
        for fact in (f for f in facts if f.note_id == note.id and f.answer is not None):
            key = key_of(doc, fact)
            covering = [s for s in segs if key in (s.attrs.get("data-facts") or "").split()]
            assert covering, f"{fact.concept_id} in {note.id} is not highlighted"
            assert int(covering[0].attrs["data-start"]) == fact.answer.start
            assert int(covering[-1].attrs["data-end"]) == fact.answer.end
            # contiguous: the covering segments are consecutive on the page
            first = segs.index(covering[0])
            assert segs[first : first + len(covering)] == covering
            assert "".join(s.text for s in covering) == fact.answer.text == note.text[fact.answer.start:fact.answer.end]
            # each covering segment carries one <mark> for this fact, coloured by the concept's group
            for seg in covering:
                marks = [m for m in seg.by_class("ev", "mark") if m.attrs["data-fact"] == key]
                assert len(marks) == 1 and marks[0].text == seg.text
            checked += 1
    assert checked == sum(f.answer is not None for f in facts)


def test_overlapping_spans_are_stacked_outer_first(report, notes, facts, concepts):
    note = notes[0]
    doc = page(report, note.id)
    by_concept = {f.concept_id: key_of(doc, f) for f in facts if f.note_id == note.id and f.answer}
    nested = [s for s in segments(doc) if len((s.attrs.get("data-facts") or "").split()) == 2]
    pairs = {tuple(s.attrs["data-facts"].split()) for s in nested}
    # "Isch" (AF, nested in the stroke span) and "1" (the rejected mRS crossing the NIHSS "14")
    assert pairs == {(by_concept["stroke_type"], by_concept["atrial_fibrillation"]),
                     (by_concept["mrs_discharge"], by_concept["nihss_admission"])}
    for seg in nested:
        outer, inner = seg.by_class("ev", "mark")
        assert inner.parent is outer
        assert [outer.attrs["data-fact"], inner.attrs["data-fact"]] == seg.attrs["data-facts"].split()
    groups = [c.group for c in concepts]
    group_index = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    for mark in doc.by_class("ev", "mark"):
        concept = next(f.concept_id for f in facts if f.note_id == note.id and f.answer
                       and by_concept[f.concept_id] == mark.attrs["data-fact"])
        group = next(c.group for c in concepts if c.id == concept)
        assert f"g{group_index[group]}" in mark.classes


def test_questionnaire_panel_in_catalogue_order(report, notes, facts, concepts):
    doc = page(report, notes[0].id)
    rows = doc.by_class("concept", "tr")
    assert [r.attrs["data-concept"] for r in rows] == [c.id for c in concepts]
    state = {r.attrs["data-concept"]: r for r in rows}
    assert "not found" in state["onset_time"].text
    assert "state-not-found" in state["onset_time"].classes
    assert "14 is above the maximum 6" in state["mrs_discharge"].text
    assert "negated" in state["atrial_fibrillation"].text and "low confidence 0.20" in state["atrial_fibrillation"].text
    assert "historical" in state["discharge_antiplatelet"].text
    assert "derived" in state["door_to_needle"].text


def test_fact_cards_carry_the_details(report, notes, facts):
    note = notes[1]  # Bulgarian
    doc = page(report, note.id)
    fact = next(f for f in facts if f.note_id == note.id and f.concept_id == "discharge_antiplatelet")
    card = doc.by_id(f"card-{key_of(doc, fact)}")
    text = card.text
    for expected in ("discharge_antiplatelet", "aspirin", "historical", "0.750", "Q about discharge_antiplatelet?",
                     "http://purl.bioontology.org/ontology/RXNORM/1191", "http://www.whocc.no/atc_ddd_index/?code=B01AC06",
                     f"[{fact.answer.start}, {fact.answer.end})", fact.answer.text):
        assert expected in text, expected
    assert "hidden" in card.attrs  # shown by the script on click


def test_hostile_note_text_is_shown_not_run(report, notes, facts):
    hostile = notes[-1]
    raw = report.notes[hostile.id].read_text(encoding="utf-8")
    doc = parse(raw)
    scripts = doc.find_all(lambda e: e.tag == "script")
    assert len(scripts) == 1 and "window.__pwned" not in scripts[0].text  # only the report's own script
    assert not doc.find_all(lambda e: e.tag in {"img", "textarea"} or "onerror" in e.attrs)
    assert "".join(s.text for s in segments(doc)) == hostile.text
    assert "<script>document.title" not in raw and "document.title=&#34;pwned&#34;" in raw
    # the link IRI with quotes and markup, and the label, stay text
    codes = [c.text for c in doc.by_class("iri")]
    assert 'http://example.org/x"><script>alert(1)</script>' in codes
    assert "<b>bold</b>" in [t.text for t in doc.by_class("term")]
    assert doc.by_class("note-id")[0].text == hostile.id
    index = parse(report.index.read_text(encoding="utf-8"))
    assert hostile.id in [a.text for a in index.find_all(lambda e: e.tag == "a")]


def test_invisible_characters_are_kept_and_badged(report, notes):
    hostile = notes[-1]
    ctl = page(report, hostile.id).by_id("note-text").by_class("ctl", "span")
    assert [c.attrs["data-name"] for c in ctl] == ["RLO", "PDF", "RLM", "RLI", "ZWSP"]
    assert [c.text for c in ctl] == ["\u202e", "\u202c", "\u200f", "\u2067", "\u200b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a<b>&\"'", "a&lt;b&gt;&amp;&#34;&#39;"),
        ("x\u202ey", 'x<span class="ctl" data-name="RLO" title="U+202E RIGHT-TO-LEFT OVERRIDE">\u202e</span>y'),
        ("\x07", '<span class="ctl" data-name="U+0007" title="U+0007 U+0007">\x07</span>'),
        ("tab\tnew\nline\r\nend\r", "tab\tnew\nline&#13;\nend&#13;"),
    ],
)
def test_note_text_filter(text, expected):
    assert str(note_text(text)) == expected


def test_pages_are_self_contained(report, notes):
    for path in [report.index, *report.notes.values()]:
        raw = path.read_text(encoding="utf-8")
        doc = parse(raw)
        for element in doc.iter():
            for attr in ("src", "href"):
                value = element.attrs.get(attr)
                if value is not None:  # data: URIs and relative links between the report's own pages only
                    assert value.startswith("data:") or not re.match(r"^[a-z][a-z0-9+.-]*:|^//", value), value
        assert not doc.find_all(lambda e: e.tag == "link" and e.attrs.get("rel") == "stylesheet")
        csp = doc.find_all(lambda e: e.tag == "meta" and e.attrs.get("http-equiv") == "Content-Security-Policy")
        assert "default-src 'none'" in csp[0].attrs["content"]


def test_links_between_pages_resolve(report, notes):
    index = parse(report.index.read_text(encoding="utf-8"))
    hrefs = [a.attrs["href"] for a in index.find_all(lambda e: e.tag == "a")]
    assert sorted((report.index.parent / h).resolve() for h in hrefs) == sorted(p.resolve() for p in report.notes.values())
    back = page(report, notes[0].id).find_all(lambda e: e.tag == "a")[0].attrs["href"]
    assert (report.notes[notes[0].id].parent / back).resolve() == report.index.resolve()


def test_index_rows_and_summary_figure(report, notes, facts):
    index = parse(report.index.read_text(encoding="utf-8"))
    rows = {r.attrs["data-id"]: r for r in index.by_class("note-row", "tr")}
    assert set(rows) == {n.id for n in notes}
    en = rows["note-en"]
    assert (en.attrs["data-lang"], en.attrs["data-facts"], en.attrs["data-low"], en.attrs["data-rejected"]) == (
        "en", "7", "2", "1")
    img = index.by_id("summary-figure")
    assert img.attrs["src"].startswith("data:image/png;base64,iVBORw0KGgo")  # the PNG signature
    assert "r-1" in index.by_class("run", "dl")[0].text


def test_figure_can_be_left_out(tmp_path, notes, facts, concepts):
    out = write_report(notes, facts, concepts, tmp_path, ReportConfig(figure=False))
    assert "data:image/png" not in out.index.read_text(encoding="utf-8")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_very_long_note(tmp_path, concepts, newline):
    from report_fixtures import answer

    line = "Pacientka s NIHSS 14 po trombolýze, bez komplikací." + newline
    note = Note("long", line * 4000, "cs")  # ~200k characters
    facts = [Fact(note.id, "nihss_admission", Value(ValueKind.INTEGER, 14),
                  answer(note, "nihss_admission", i * len(line) + 18, i * len(line) + 20, rank=i))
             for i in range(0, 4000, 97)]
    out = write_report([note], facts, concepts, tmp_path)
    raw = read(out.notes["long"])
    assert "\r" not in raw  # every CR is a character reference, so parsers keep it
    doc = parse(raw)
    segs = segments(doc)
    assert "".join(s.text for s in segs) == note.text
    highlighted = [s for s in segs if s.attrs.get("data-facts")]
    assert [(int(s.attrs["data-start"]), s.text) for s in highlighted] == [(f.answer.start, "14") for f in facts]
