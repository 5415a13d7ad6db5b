"""Property tests: any Unicode note text and span round-trips through every format, the selectors
slice the note back to the exact quote (with raw, scrubbed or no context), and every IRI minted is a
valid absolute IRI."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import RDF, Literal, URIRef
from rdflib.compare import to_isomorphic
from rdflib.term import _is_valid_uri

from kgqa.rdf import OA, RdfBuilder, RdfConfig, read_dataset, serialise
from kgqa.rdf.iris import is_valid_iri
from kgqa.rdf.scrub import CONTEXT_MODES, PLACEHOLDER
from kgqa.types import Answer, Fact, Link, Note, Value, ValueKind

from .rdf_factories import CONCEPTS, RUN

ids = st.text(min_size=1, max_size=20)
texts = st.text(min_size=1, max_size=200).filter(lambda t: t.strip())


@st.composite
def note_and_facts(draw):
    text = draw(texts)
    note = Note(id=draw(ids), text=text, lang="en", patient_id=draw(st.none() | ids),
                admission_date=draw(st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1))))
    facts = []
    used = set()
    for concept in draw(st.lists(st.sampled_from(["age", "stroke_type", "discharge_antiplatelet"]),
                                 min_size=1, max_size=3)):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        if (concept, start, end) in used:
            continue
        used.add((concept, start, end))
        answer = Answer.from_note(note, concept, start, end, score=draw(st.floats(-50, 50)), null_score=0.0,
                                  confidence=draw(st.floats(0, 1)), question=draw(st.text(min_size=1, max_size=30)))
        if concept == "age":
            # sometimes the value was read from part of the span
            sub = draw(st.none() | st.tuples(st.integers(start, end - 1), st.integers(1, end - start)))
            source = (sub[0], min(end, sub[0] + sub[1])) if sub else (None, None)
            value = Value(ValueKind.INTEGER, draw(st.integers(-10, 10**6)), source_start=source[0],
                          source_end=source[1])
        elif concept == "stroke_type":
            value = Value(ValueKind.ENUM, "tia", member_iri="sct:266257000")
        else:
            value = Value(ValueKind.DRUG, answer.text)
        links = (Link(iri="resq:PrescriptionOfASA", label=draw(st.text(max_size=10)), score=draw(st.floats(0, 1))),)
        facts.append(Fact(note.id, concept, value, answer=answer, links=links if concept != "age" else ()))
    return note, facts


def _builder(pseudonymise: bool, context: str = "scrubbed") -> RdfBuilder:
    return RdfBuilder(RdfConfig(pseudonymise=pseudonymise, quote_context=8, selector_context=context), CONCEPTS,
                      environ={"KGQA_PSEUDONYM_KEY": "k"})


def _is_masked_form(context: str, raw: str, *, anchored_end: bool) -> bool:
    """``context`` is ``raw`` with some pieces replaced by the placeholder: its other pieces appear in
    ``raw`` in order, and the piece next to the span is next to it in ``raw`` too."""
    pieces = context.split(PLACEHOLDER)
    edge = pieces[-1] if anchored_end else pieces[0]
    if not (raw.endswith(edge) if anchored_end else raw.startswith(edge)):
        return False
    pos = 0
    for piece in pieces:
        found = raw.find(piece, pos)
        if found < 0:
            return False
        pos = found + len(piece)
    return len(context) <= len(raw) + len(PLACEHOLDER) * len(pieces)


COMMON = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(note_and_facts(), st.booleans(), st.sampled_from(["trig", "nquads", "json-ld"]))
def test_every_format_round_trips(tmp_path_factory, nf, pseudonymise, fmt):
    note, facts = nf
    builder = _builder(pseudonymise)
    graphs = [builder.note_graph(note, facts, RUN), builder.run_graph(RUN, [note])]
    path = tmp_path_factory.mktemp("rt") / {"trig": "g.trig", "nquads": "g.nq", "json-ld": "g.jsonld"}[fmt]
    path.write_text(serialise(graphs, fmt), encoding="utf-8")
    back = read_dataset(path)
    for g in graphs:
        assert to_isomorphic(back.graph(g.identifier)) == to_isomorphic(g)


@COMMON
@given(note_and_facts(), st.sampled_from(CONTEXT_MODES))
def test_selectors_slice_the_note_back_to_the_quote(nf, context):
    note, facts = nf
    g = _builder(True, context).note_graph(note, facts, RUN)
    # read back from TriG so escaping in the serialisation is covered too
    g = read_dataset_from_text(serialise([g], "trig")).graph(g.identifier)
    targets = list(g.subjects(RDF.type, OA.SpecificResource))
    assert len(targets) == len(facts)
    refined_wanted = sum(
        f.value.source_start is not None and (f.value.source_start, f.value.source_end) != (f.answer.start, f.answer.end)
        for f in facts
    )
    assert len(list(g.subject_objects(OA.refinedBy))) == refined_wanted
    for target in targets:
        selectors = list(g.objects(target, OA.hasSelector))
        position = next(s for s in selectors if (s, RDF.type, OA.TextPositionSelector) in g)
        quote = next(s for s in selectors if (s, RDF.type, OA.TextQuoteSelector) in g)
        start, end = g.value(position, OA.start).toPython(), g.value(position, OA.end).toPython()
        exact = str(g.value(quote, OA.exact))
        prefix = str(g.value(quote, OA.prefix) or "")
        suffix = str(g.value(quote, OA.suffix) or "")
        assert note.text[start:end] == exact
        raw_prefix, raw_suffix = note.text[max(0, start - 8) : start], note.text[end : end + 8]
        if context == "raw":
            assert (prefix, suffix) == (raw_prefix, raw_suffix)
        elif context == "none":
            assert (prefix, suffix) == ("", "")
        else:
            assert _is_masked_form(prefix, raw_prefix, anchored_end=True)
            assert _is_masked_form(suffix, raw_suffix, anchored_end=False)
            assert bool(prefix) == bool(raw_prefix) and bool(suffix) == bool(raw_suffix)
        refined = g.value(position, OA.refinedBy)
        if refined is not None:
            rs, re_ = g.value(refined, OA.start).toPython(), g.value(refined, OA.end).toPython()
            assert 0 <= rs < re_ <= len(exact)
            assert note.text[start + rs : start + re_] == exact[rs:re_]


def read_dataset_from_text(text: str):
    from rdflib import Dataset

    ds = Dataset()
    ds.parse(data=text, format="trig")
    return ds


@COMMON
@given(note_and_facts(), st.booleans())
def test_every_iri_is_valid(nf, pseudonymise):
    note, facts = nf
    builder = _builder(pseudonymise)
    graphs = [builder.note_graph(note, facts, RUN), builder.run_graph(RUN, [note])]
    iris = {g.identifier for g in graphs} | {n for g in graphs for t in g for n in t if isinstance(n, URIRef)}
    bad = [i for i in iris if not (is_valid_iri(str(i)) and _is_valid_uri(str(i)))]
    assert not bad
    literals = [n for g in graphs for t in g for n in t if isinstance(n, Literal)]
    assert literals  # the check above is not vacuous
